"""Project-wide analysis: a class, init function or helper imported from another file of the project is read
from that file, with that file's own imports, as if it were defined where it is used.

Two levels, so that each file is parsed once per process and every analysis still starts clean:

  Project  (one per process and set of roots) maps dotted module names to files under the project roots and
           keeps each file parsed: its text, tree, node index and import table never change.
  Program  (one per linted file) holds the definitions of the files that one analysis reached (a skeleton
           FileModel each, created on first use) and records what the result depends on: the digest of every
           file read, and where the analysis entered each other file, for reporting.

Only files under the roots are read; nothing is imported and site-packages is never searched. Torch, Keras
and the catalogued wrappers (timm, transformers) are described by the catalog instead. A module two roots
both provide, an import cycle, a missing module or an unknown name resolves to nothing, never to a guess.
"""

from __future__ import annotations

import ast
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from initlint.catalog import torch as catalog
from initlint.model.names import Names

if TYPE_CHECKING:
    from initlint.model.entities import ClassModel
    from initlint.model.semantic import FileModel, NodeIndex
    from initlint.source import SourceFile

# Names the catalog describes: never looked up in the project's files, even when a root holds a copy.
_CATALOGUED_PREFIXES = ("torch", "keras", "tensorflow", "numpy", "math", "functools", "copy", "collections",
                        "typing", "builtins", "<local>")
_NEVER_READ = ("site-packages", "dist-packages")
_AMBIGUOUS = "<ambiguous>"
# Parsed files kept per process, bounded by their total source size (an AST takes ~30x its source in memory).
MAX_UNIT_CHARS = 3_000_000
MAX_FILES_PER_ANALYSIS = 64  # other files one linted file's analysis may read, and their total source size
MAX_CHARS_PER_ANALYSIS = 1_500_000


@dataclass(eq=False)
class Unit:
    """One project file, parsed: shared by every analysis in the process (nothing here is ever mutated).

    Only the module level is scanned up front (imports and classes, inside `if`/`try` too); the full node
    index is built the first time a position in this file is needed."""

    path: str
    data: bytes  # the bytes parsed, hashed only when a cache asks what the result depends on
    source: "SourceFile"
    tree: ast.Module
    names: Names
    class_defs: list[ast.ClassDef]

    @cached_property
    def digest(self) -> str:
        return _sha256(self.data)

    @cached_property
    def index(self) -> "NodeIndex":
        from initlint.model.semantic import NodeIndex

        return NodeIndex.of(self.tree)


@dataclass(frozen=True)
class Function:
    """A function defined in some file of the project, with the file whose names its body uses."""

    node: ast.FunctionDef
    home: "FileModel"


@dataclass(frozen=True)
class Opaque:
    """A name that is defined in the project but is neither a module class nor a function (a config class)."""

    name: str


class Project:
    """The project's files as modules: which file `pkg.models.blocks` is, each file parsed once."""

    def __init__(self, roots: tuple[str, ...] | list[str] = ()) -> None:
        self.roots = tuple(dict.fromkeys(os.path.abspath(root) for root in roots if os.path.isdir(root)))
        self._units: OrderedDict[str, tuple[tuple, Unit | None]] = OrderedDict()  # path -> (stat signature, unit)
        self._digests: dict[str, tuple[tuple, str | None]] = {}
        self._modules: dict[tuple[tuple[str, ...], tuple[str, ...]], str | None] = {}
        self._search: dict[str, tuple[str, ...]] = {}
        self._exists: dict[str, bool] = {}
        self._outlines: dict[str, tuple[tuple, tuple | None]] = {}
        self._unit_chars = 0

    # ------------------------------------------------------------------------------- files

    def unit(self, path: str) -> Unit | None:
        """The parsed file, or None when it cannot be read, decoded or parsed (then nothing is resolved in it)."""
        path = os.path.abspath(path)
        signature = _signature(path)
        known = self._units.get(path)
        if known is not None and known[0] == signature:
            self._units.move_to_end(path)
            return known[1]
        if known is not None:  # changed on disk since it was parsed
            self._forget(path)
        unit = None
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            data = None
        if data is not None:
            unit = self._parse(path, data)
            if unit is None:
                self._digests[path] = (signature, _sha256(data))
        else:
            self._digests[path] = (signature, None)
        self._remember(path, signature, unit)
        return unit

    def _forget(self, path: str) -> None:
        _signature_, unit = self._units.pop(path)
        self._unit_chars -= len(unit.source.text) if unit is not None else 0

    def _remember(self, path: str, signature: tuple, unit: Unit | None) -> None:
        self._units[path] = (signature, unit)
        self._unit_chars += len(unit.source.text) if unit is not None else 0
        while self._unit_chars > MAX_UNIT_CHARS and len(self._units) > 1:
            self._forget(next(iter(self._units)))  # least recently used first

    def offer(self, path: str, text: str, tree: ast.Module) -> None:
        """The linted file's tree, kept for analyses that will read this file as a dependency, if `text` is
        what the disk holds (not stdin, not a fix pass)."""
        from initlint.source import DecodeError, decode_source

        path = os.path.abspath(path)
        signature = _signature(path)
        known = self._units.get(path)
        if known is not None and known[0] == signature:
            return
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            if decode_source(data)[0] != text:
                return
        except (OSError, DecodeError):
            return
        if known is not None:
            self._forget(path)
        self._remember(path, signature, _unit(path, data, text, tree))

    def outline(self, path: str) -> tuple | None:
        """The file read without parsing (see `_outline`), kept while its stat signature holds."""
        path = os.path.abspath(path)
        signature = _signature(path)
        known = self._outlines.get(path)
        if known is None or known[0] != signature:
            known = (signature, _outline(path))
            self._outlines[path] = known
        return known[1]

    def shared_tree(self, path: str, text: str) -> ast.Module | None:
        """The tree of `path` if it was parsed as a dependency from this very text (None: parse it). The linted
        file and the dependency share it: nothing in an analysis writes to the tree."""
        known = self._units.get(os.path.abspath(path))
        if known is None or known[1] is None or known[0] != _signature(path) or known[1].source.text != text:
            return None
        return known[1].tree

    def refresh(self) -> None:
        """A new run: files may have appeared or gone since the last one (parsed files are checked by stat)."""
        self._modules.clear()
        self._search.clear()
        self._exists.clear()

    def digest(self, path: str) -> str | None:
        """The sha256 of the file's bytes now (None when it cannot be read), as the cache compares them."""
        path = os.path.abspath(path)
        signature = _signature(path)
        parsed = self._units.get(path)
        if parsed is not None and parsed[0] == signature and parsed[1] is not None:
            return parsed[1].digest
        known = self._digests.get(path)
        if known is not None and known[0] == signature:
            return known[1]
        try:
            with open(path, "rb") as handle:
                digest = _sha256(handle.read())
        except OSError:
            digest = None
        self._digests[path] = (signature, digest)
        return digest

    @staticmethod
    def _parse(path: str, data: bytes) -> Unit | None:
        from initlint.source import DecodeError, decode_source

        try:
            text, _encoding, _bom = decode_source(data)
            tree = ast.parse(text, filename=path)
        except (DecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return _unit(path, data, text, tree)

    # ----------------------------------------------------------------------------- modules

    def search_dirs(self, from_path: str) -> tuple[str, ...]:
        """Where an absolute import in `from_path` is looked up: the configured roots, the nearest
        `pyproject.toml`'s directory (and its `src/`), then the directory above the file's top-level package
        (or, for a script outside any package, its own directory, as `python script.py` does)."""
        directory = os.path.dirname(os.path.abspath(from_path))
        found = self._search.get(directory)
        if found is None:
            top = directory
            while self._is_file(os.path.join(top, "__init__.py")) and os.path.dirname(top) != top:
                top = os.path.dirname(top)
            found = tuple(dict.fromkeys((*self.roots, *self._pyproject_roots(directory), top)))
            self._search[directory] = found
        return found

    def _pyproject_roots(self, directory: str) -> tuple[str, ...]:
        """The directory of the nearest `pyproject.toml` above `directory`, and its `src/` if there is one."""
        current = directory
        while True:
            if self._is_file(os.path.join(current, "pyproject.toml")):
                source = os.path.join(current, "src")
                return (current, source) if os.path.isdir(source) else (current,)
            parent = os.path.dirname(current)
            if parent == current:
                return ()
            current = parent

    def module_file(self, directories: tuple[str, ...], parts: tuple[str, ...]) -> str | None:
        """The file of module `parts` under one of `directories`; None when none has it or several do."""
        key = (directories, parts)
        if key in self._modules:
            return self._modules[key]
        matches: list[str] = []
        for directory in directories:
            base = os.path.join(directory, *parts)
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if self._is_file(candidate) and not any(part in _NEVER_READ for part in candidate.split(os.sep)):
                    matches.append(os.path.realpath(candidate))
        distinct = list(dict.fromkeys(matches))
        result = distinct[0] if len(distinct) == 1 else (_AMBIGUOUS if distinct else None)
        self._modules[key] = result
        return result

    def _is_file(self, path: str) -> bool:
        known = self._exists.get(path)
        if known is None:
            known = self._exists[path] = os.path.isfile(path)
        return known


@dataclass(eq=False)
class Program:
    """What one analysis reached across files: their definitions, and what the result therefore depends on."""

    project: Project
    model: "FileModel"
    homes: dict[str, "FileModel | None"] = field(default_factory=dict)
    dependencies: dict[str, "Unit | str | None"] = field(default_factory=dict)  # path -> its unit (or digest)
    entries: dict[str, ast.AST] = field(default_factory=dict)  # other file -> the call here that first reached it
    node_entries: dict[int, ast.AST] = field(default_factory=dict)  # a node of another file -> the call here
    foreign_classes: list["ClassModel"] = field(default_factory=list)
    node_homes: dict[int, "FileModel"] = field(default_factory=dict)  # a node of another file -> its file
    _resolved: dict[tuple[str, str], object] = field(default_factory=dict)
    _may: dict[tuple[str, str], bool] = field(default_factory=dict)
    _chars: int = 0

    def __post_init__(self) -> None:
        self.homes[os.path.realpath(self.model.source.path)] = self.model

    # ------------------------------------------------------------------------------- homes

    def home(self, path: str) -> "FileModel | None":
        """The definitions of another project file, read on first use (None when it cannot be parsed)."""
        if path in self.homes:
            return self.homes[path]
        if len(self.homes) > MAX_FILES_PER_ANALYSIS or self._chars > MAX_CHARS_PER_ANALYSIS:
            return None  # deterministic bounds: an unresolved name concludes nothing
        if path.replace(os.sep, "/").endswith(catalog.DESCRIBED_MODULE_FILES):
            return None  # known as data (catalog), as when the library is outside the project
        from initlint.model.semantic import FileModel

        self.homes[path] = None  # a cycle back here resolves to nothing
        unit = self.project.unit(path)
        self.dependencies[path] = unit if unit is not None else self.project.digest(path)
        if unit is None:
            return None
        home = FileModel.skeleton(unit, self)
        self._chars += len(unit.source.text)
        self.homes[path] = home
        home.collect_definitions()
        return home

    def dependency_digests(self) -> dict[str, str | None]:
        """The digest of every other file the result depends on (None: missing), for the cache."""
        return {path: value.digest if isinstance(value, Unit) else value for path, value in self.dependencies.items()}

    def release(self) -> None:
        """Forget what this analysis reached (its files refer back to this program: a cycle otherwise)."""
        for container in (self.homes, self.entries, self.node_entries, self.foreign_classes, self.node_homes,
                          self._resolved, self._may):
            container.clear()

    def is_foreign(self, home: "FileModel | None") -> bool:
        return home is not None and home is not self.model

    def home_of(self, node: ast.AST) -> "FileModel":
        """The file an AST node belongs to (the linted file unless it was read from another one)."""
        if node in self.model.index.parents or node is self.model.tree:
            return self.model
        home = self.node_homes.get(id(node))
        if home is not None:
            return home
        for home in self.homes.values():
            if home is not None and home is not self.model and (node in home.node_index().parents or node is home.tree):
                return home
        return self.model

    # -------------------------------------------------------------------------- resolution

    def resolve(self, qualname: str, home: "FileModel"):
        """What a dotted name used in `home` is: a ClassModel, a Function, an Opaque name, or None (unknown)."""
        if qualname.startswith(_CATALOGUED_PREFIXES) and not qualname.startswith("."):
            head = qualname.split(".", 1)[0]
            if head in _CATALOGUED_PREFIXES:
                return None
        key = (home.source.path, qualname)
        if key in self._resolved:
            return self._resolved[key]
        self._resolved[key] = None  # a re-export cycle resolves to nothing
        found = self._lookup(qualname, home.source.path, depth=0)
        self._resolved[key] = found
        return found

    def _lookup(self, qualname: str, from_path: str, depth: int):
        if depth > 8:
            return None
        directories, parts, first_module = self._search(qualname, from_path)
        for split in range(len(parts) - 1, first_module - 1, -1):
            path = self._module_path(directories, parts[:split])
            if path == _AMBIGUOUS:
                return None
            if path is not None:
                return self._member(path, parts[split], depth)
            for directory in directories if parts[:split] else ():
                # a module that is missing now: the result depends on it staying missing (for the cache)
                base = os.path.join(directory, *parts[:split])
                self.dependencies.setdefault(base + ".py", None)
                self.dependencies.setdefault(os.path.join(base, "__init__.py"), None)
        return None

    def _search(self, dotted: str, from_path: str) -> tuple[tuple[str, ...], tuple[str, ...], int]:
        """Where a dotted name written in `from_path` is looked up: (directories, its parts, how many parts the
        module takes at least). `.name` may be a name of the package's own `__init__.py`."""
        if dotted.startswith("."):
            stripped = dotted.lstrip(".")
            directory = os.path.dirname(os.path.abspath(from_path))
            for _ in range(len(dotted) - len(stripped) - 1):
                directory = os.path.dirname(directory)
            return (directory,), (tuple(stripped.split(".")) if stripped else ()), 0
        return self.project.search_dirs(from_path), tuple(dotted.split(".")), 1

    def _module_path(self, directories: tuple[str, ...], module: tuple[str, ...]) -> str | None:
        return self.project.module_file(directories, module) if module else self._package_init(directories[0])

    def _may_define(self, path: str, name: str, seen: frozenset = frozenset()) -> bool:
        """From the files' text alone (no parsing): whether `name` may be found in `path`, directly, through an
        import that mentions it, or through its star imports (followed the same way)."""
        key = (path, name)
        known = self._may.get(key)
        if known is not None:
            return known
        outline = self.project.outline(path)
        found = False
        if outline is not None:
            defined, imported, stars = outline
            found = name in defined or name in imported
            for star in stars if not found else ():
                if star.split(".", 1)[0] in _CATALOGUED_PREFIXES:
                    continue
                directories, parts, _first = self._search(star, path)
                target = self._module_path(directories, parts)
                if target not in (None, _AMBIGUOUS) and target not in seen and len(seen) < 8 \
                        and self._may_define(target, name, seen | {path}):
                    found = True
                    break
        self._may[key] = found
        return found

    def _package_init(self, directory: str) -> str | None:
        path = os.path.join(directory, "__init__.py")
        return os.path.realpath(path) if self.project._is_file(path) else None

    def _member(self, path: str, name: str, depth: int):
        if name in catalog.DESCRIBED_BASE_CLASSES or name in catalog.DESCRIBED_FUNCTIONS:
            return None  # known as data, as when the library is outside the project
        if not self._may_define(path, name):
            return None  # read without parsing: neither defined nor imported there
        home = self.home(path)
        if home is None:
            return None
        if name in home.classes:
            klass = home.class_named(name)
            return klass if klass is not None else Opaque(name)
        if name in home.functions:
            return Function(home.functions[name], home)
        if name in home.names.local_definitions:
            return Opaque(name)
        alias = home.names.aliases.get(name)
        if alias is not None:
            if alias.split(".", 1)[0] in _CATALOGUED_PREFIXES:
                return None
            return self._lookup(alias, path, depth + 1)  # a re-export: `from .blocks import Block`
        for star in home.names.star_modules:
            if star.split(".", 1)[0] in _CATALOGUED_PREFIXES:
                continue
            found = self._lookup(f"{star}.{name}" if not star.endswith(".") else f"{star}{name}", path, depth + 1)
            if found is not None:
                return found
        return None

    # ----------------------------------------------------------------------------- entries

    def note_entry(self, home: "FileModel", site: ast.AST | None) -> None:
        if site is not None and home is not self.model:
            self.entries.setdefault(home.source.path, site)  # another file's path is already a real path

    def entry_for(self, node: ast.AST, home: "FileModel") -> ast.AST | None:
        """The call in the linted file through which the analysis reached `node` of another file."""
        return self.node_entries.get(id(node)) or self.entries.get(home.source.path)


_TOP_LEVEL_DEFINITION = re.compile(r"^(?:async[ \t]+def|def|class)[ \t]+(\w+)", re.M)
_IMPORT_STATEMENT = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_WORD = re.compile(r"\w+")
_STAR_IMPORT = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+\*", re.M)


def _outline(path: str) -> tuple | None:
    """A file read without parsing: (its top-level def/class names, the words of its import statements, the
    modules it star-imports)."""
    from initlint.source import DecodeError, decode_source

    try:
        with open(path, "rb") as handle:
            text = decode_source(handle.read())[0]
    except (OSError, DecodeError):
        return None
    imported = frozenset(word for names in _IMPORT_STATEMENT.findall(text) for word in _WORD.findall(names))
    stars = tuple(_STAR_IMPORT.findall(text))
    return frozenset(_TOP_LEVEL_DEFINITION.findall(text)), imported, stars


def _unit(path: str, data: bytes, text: str, tree: ast.Module) -> Unit:
    from initlint.source import SourceFile

    imports, classes = _module_level(tree)
    return Unit(path, data, SourceFile(path, text), tree, Names(tree, imports=imports), classes)


def _module_level(tree: ast.Module) -> tuple[list[ast.stmt], list[ast.ClassDef]]:
    """The imports and classes of a module's top level, including those under `if`/`try`/`with` blocks."""
    imports: list[ast.stmt] = []
    classes: list[ast.ClassDef] = []
    stack = list(reversed(tree.body))
    while stack:
        statement = stack.pop()
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.append(statement)
        elif isinstance(statement, ast.ClassDef):
            classes.append(statement)
        elif isinstance(statement, (ast.If, ast.Try, ast.With)) or type(statement).__name__ == "TryStar":
            for block in ("body", "orelse", "finalbody"):
                stack.extend(reversed(getattr(statement, block, [])))
            for handler in getattr(statement, "handlers", []):
                stack.extend(reversed(handler.body))
    return imports, classes


def _sha256(data: bytes) -> str:
    import hashlib  # only runs that cache ask for digests (start-up time)

    return hashlib.sha256(data).hexdigest()


def _signature(path: str) -> tuple:
    try:
        status = os.stat(path)
    except OSError:
        return (None,)
    return (status.st_mtime_ns, status.st_size, status.st_ino)


# One Project per process and set of roots: the parsed files are shared by every file linted in this process.
_PROJECTS: dict[tuple[str, ...], Project] = {}


def project_for(roots: tuple[str, ...]) -> Project:
    project = _PROJECTS.get(roots)
    if project is None:
        if len(_PROJECTS) > 8:
            _PROJECTS.clear()
        project = _PROJECTS[roots] = Project(roots)
    return project
