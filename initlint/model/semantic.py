"""The file's semantic model: every rule queries this instead of walking the tree again.

Built once per file from the stdlib `ast`:
  names    -> what each dotted name refers to (from the imports)
  classes  -> module classes defined here, with their submodules (walker.py)
  events   -> every init that reaches a parameter, in execution order (walker.py)
  flow     -> what consumes each layer's output in `forward` (flow.py)
  init_ops -> every call that writes a tensor, anywhere in the file (for the API-misuse rules)
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from initlint.catalog import torch as catalog
from initlint.model.entities import (
    CONTAINER, LAYER, ActivationUse, ClassModel, Dispatch, InitEvent, InitOp, ModuleNode, literal_value,
)
from initlint.model.flow import FlowAnalysis
from initlint.model.initops import parse_init_call
from initlint.model.keras_names import imports_keras, mentions_keras
from initlint.model.names import Names, torch_nn_name
from initlint.model.syntax import CHILD_FIELDS, SKIP, child_fields
from initlint.model.walker import Frame, Walker
from initlint.source import SourceFile

if TYPE_CHECKING:
    from initlint.model.keras import KerasModel
    from initlint.project import Program, Project

_MODULE_BASES = frozenset({"Module"}) | catalog.CONTAINERS


@dataclass(eq=False)
class FileModel:
    source: SourceFile
    tree: ast.Module
    names: Names
    classes: dict[str, ClassModel] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    standalone: list[ModuleNode] = field(default_factory=list)  # Sequential models built in script code
    script_values: dict = field(default_factory=dict)
    events: list[tuple[ModuleNode, InitEvent]] = field(default_factory=list)
    dispatches: list[tuple[Dispatch, list[ModuleNode]]] = field(default_factory=list)
    unguarded: list[tuple[InitOp, Dispatch, ModuleNode, str]] = field(default_factory=list)
    apply_calls: list = field(default_factory=list)
    wrapped_calls: list[tuple[ast.Call, ModuleNode]] = field(default_factory=list)
    param_loops: list = field(default_factory=list)
    init_ops_in_context: list = field(default_factory=list)
    self_nodes: dict[int, ModuleNode] = field(default_factory=dict)
    index: "NodeIndex" = None  # type: ignore[assignment]
    keras: "KerasModel | None" = None  # Keras layers, initializer instances and rejected strings (model/keras.py)
    program: "Program | None" = None  # project-wide analysis: the other files this analysis reads (project.py)
    fix_homes: dict = field(default_factory=dict)  # id(fix) -> the other file its edits are for
    unit: object = None  # another project file's parsed unit (a skeleton's; project.py)
    # What rules compute once per file and share (keyed by the rule helper's name). Kept on the model, not in
    # module-level weak dictionaries, so that a cached value referring back to the model cannot keep it alive.
    rule_cache: dict = field(default_factory=dict)
    hf_initialized: set = field(default_factory=set)  # ids of module nodes an HF `post_init()` has initialized
    _readied: set = field(default_factory=set)  # another file's classes whose imported bases are resolved
    _chained: object = None

    # ------------------------------------------------------------------------------------ build

    @classmethod
    def build(cls, source: SourceFile, tree: ast.Module, project: "Project | None" = None) -> "FileModel":
        """The whole model of one file; with a project, names imported from its other files are read there."""
        index = NodeIndex.of(tree)
        model = cls(source, tree, Names(tree, imports=index.imports))
        model.index = index
        if project is not None:
            from initlint.project import Program

            model.program = Program(project, model)
        model.collect_definitions()
        walker = Walker(model)
        for klass in model.classes.values():
            walker.walk_class(klass)
        model._walk_script(walker)
        flow = FlowAnalysis(model)
        foreign = model.program.foreign_classes if model.program is not None else []
        for klass in [*model.classes.values(), *foreign]:
            flow.analyse_class(klass)
        for node in model.standalone:
            flow.run_standalone(node)
        flow.finish_roots([*model.classes.values(), *foreign])
        flow.mark_heads_behind_activations()
        if mentions_keras(source.text) and imports_keras(model.names):  # not for a URL in a docstring
            from initlint.model.keras import build_keras  # PyTorch-only runs never load the Keras analysis

            model.keras = build_keras(model)
        return model

    @classmethod
    def skeleton(cls, unit, program: "Program") -> "FileModel":
        """Another project file's definitions only (classes, functions, imports): its code runs when the
        analysis of the linted file reaches it, with this file's names."""
        model = cls(unit.source, unit.tree, unit.names)
        model.unit = unit  # its node index is built only if a finding or a fix needs a position there
        model.program = program
        return model

    def node_index(self) -> "NodeIndex":
        return self.index if self.index is not None else self.unit.index

    def collect_definitions(self) -> None:
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(node.name, node)
        class_defs = self.index.classes if self.index is not None else self.unit.class_defs
        for node in class_defs:
            if node.name in self.classes:
                continue
            klass = ClassModel(node.name, node, [self.names.qualname(b) or "?" for b in node.bases])
            klass.methods = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
            klass.home = self
            self.classes[node.name] = klass
        # Another project file's classes resolve their imported bases only when the analysis uses them.
        deferred = self.unit is not None
        for klass in self.classes.values():
            for base in klass.base_names:
                short = torch_nn_name(base)
                if short is not None:
                    klass.catalog_base = klass.catalog_base or short
                elif base.startswith("<local>.") and base[8:] in self.classes and base[8:] != klass.name:
                    klass.local_bases.append(self.classes[base[8:]])
                elif base == "object":
                    continue
                elif deferred and base != "?":
                    klass.pending_bases.append(base)
                else:
                    self._add_base(klass, base)
        for klass in self.classes.values():
            if klass.catalog_base is None:
                inherited = _inherited_catalog_base(klass, set())
                if inherited:
                    klass.catalog_base = inherited
        # Keep only classes that can be modules: a torch base, a local module base, or an unknown base.
        self.classes = {name: k for name, k in self.classes.items() if _may_be_module(k)}

    def _add_base(self, klass: ClassModel, base: str) -> None:
        resolved = self._resolve_base(base)
        if resolved is None:
            klass.has_unknown_base = True
        elif isinstance(resolved, ClassModel) and resolved is not klass:
            klass.local_bases.append(resolved)  # a module class from another project file

    def class_named(self, name: str) -> ClassModel | None:
        """A module class of this file, with its bases resolved (another file's classes resolve them late)."""
        klass = self.classes.get(name)
        if klass is None or self.unit is None or name in self._readied:
            return klass  # the linted file resolved its bases eagerly; another file's class once, on first use
        self._readied.add(name)
        self.ready(klass, set())
        if not _may_be_module(klass):
            del self.classes[name]  # its bases turned out not to be modules
            return None
        return klass

    def ready(self, klass: ClassModel, seen: set) -> None:
        """Resolve the bases a class of another project file imports, and those of its bases, once."""
        if id(klass) in seen:
            return
        seen.add(id(klass))
        pending, klass.pending_bases = klass.pending_bases, []
        for base in pending:
            self._add_base(klass, base)
        for base in klass.local_bases:
            if base.home is not None:
                base.home.ready(base, seen)
        if pending and klass.catalog_base is None:
            klass.catalog_base = _inherited_catalog_base(klass, set())

    def release(self) -> None:
        """Drop the references that make an analysis a cycle (rule caches, the program and its files), so it is
        freed as soon as the findings are out, without waiting for the cycle collector."""
        self.rule_cache.clear()
        self._chained = None
        if self.program is not None:
            self.program.release()
            self.program = None

    def _resolve_base(self, base: str):
        """A base class from another project file (a ClassModel), a known non-module name, or None."""
        if self.program is None or base == "?" or base.startswith("<local>."):
            return None
        return self.program.resolve(base, self)

    def _walk_script(self, walker: Walker) -> None:
        """Script code: `model = Net(); model.apply(init)`, Sequential models, training scripts' `main()`."""
        module_frame = Frame(env={})
        bodies = [s for s in self.tree.body if not isinstance(s, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
        self._exec_script(walker, bodies, module_frame)
        self.script_values.update({k: v for k, v in module_frame.env.items() if v is not None})
        for function in self.functions.values():
            if self._looks_like_script(function):
                frame = Frame(env={})
                self._exec_script(walker, function.body, frame)

    def _looks_like_script(self, function: ast.FunctionDef) -> bool:
        """A top-level function that builds or initializes a model (not one passed to `apply`)."""
        params = function.args.posonlyargs + function.args.args
        for node in self.index.calls_within(function):
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("apply", "modules"):
                return True
            qualname = self.names.qualname(node.func) or ""
            if qualname.startswith("<local>.") and qualname[8:] in self.classes:
                return True
            if torch_nn_name(qualname) == "Sequential":
                return True
        return len(params) == 0

    def _exec_script(self, walker: Walker, body: list[ast.stmt], frame: Frame) -> None:
        for statement in body:
            walker.exec_stmt(statement, frame)
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                value = frame.env.get(statement.targets[0].id)
                if isinstance(value, ModuleNode) and not value.path and value.kind in (CONTAINER, LAYER):
                    walker._set_path(value, "", statement.targets[0].id)
                    value.display_prefix = ""
                    value.path = statement.targets[0].id
                    for index, child in enumerate(value.children):
                        walker._set_path(child, f"{statement.targets[0].id}.{index}", "")
                    if value.kind == CONTAINER and value not in self.standalone:
                        self.standalone.append(value)

    # ---------------------------------------------------------------------------------- queries

    def activation_function(self, qualname: str, node: ast.AST | None) -> ActivationUse | None:
        """An activation called as a function: `F.relu`, `torch.tanh`, `F.leaky_relu(x, 0.2)`."""
        spec = None
        label = qualname
        if qualname.startswith("torch.nn.functional."):
            spec = catalog.ACTIVATION_BY_FUNCTIONAL.get(qualname[len("torch.nn.functional."):])
            label = "F." + qualname.rsplit(".", 1)[1]
        elif qualname.startswith("torch."):
            spec = catalog.ACTIVATION_BY_TORCH_FUNCTION.get(qualname[len("torch."):])
        if spec is None:
            return None
        slope = None
        if isinstance(node, ast.Call) and spec.slope_keyword:
            for keyword in node.keywords:
                if keyword.arg == spec.slope_keyword:
                    slope = literal_value(keyword.value)
            position = spec.slope_functional_position
            if slope is None and position is not None and len(node.args) > position:
                slope = literal_value(node.args[position])
        return ActivationUse(spec, label, slope if isinstance(slope, (int, float)) else None, getattr(node, "lineno", 0))

    @cached_property
    def init_ops(self) -> list[InitOp]:
        """Every call in the file that writes a tensor (nn.init, wrappers, in-place methods), in source order."""
        ops = []
        for node in self.node_index().calls:
            op = parse_init_call(node, self.names)
            if op is not None:
                ops.append(op)
        return ops

    @property
    def calls(self) -> list[ast.Call]:
        """Every call in the file, in source order."""
        return self.node_index().calls

    def nodes_of(self, *kinds: type) -> list[ast.AST]:
        """Every node of these ast types in the file, in source order (from the one shared pass)."""
        return self.node_index().nodes_of(*kinds)

    @property
    def parents(self):
        """Each node's parent; with project-wide analysis, nodes of the other files read are found too."""
        program = self.program
        if program is None or program.model is not self or len(program.homes) < 2:
            return self.node_index().parents
        if self._chained is None:
            self._chained = _ChainedParents(self, program)  # it reads the program's files as they grow
        return self._chained

    def enclosing(self, node: ast.AST, kinds: tuple[type, ...]) -> ast.AST | None:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, kinds):
            parent = self.parents.get(parent)
        return parent

    def all_nodes(self) -> list[ModuleNode]:
        """Every module node in the file's models, each once (the rules ask many times: computed once, since
        the model does not change after it is built)."""
        known = self.rule_cache.get("all_nodes")
        if known is None:
            known = self.rule_cache["all_nodes"] = self._all_nodes()
        return known

    def _all_nodes(self) -> list[ModuleNode]:
        # Depth first, each node before its children, written without a recursive closure: that would be a
        # reference cycle per call, keeping every node alive until the cycle collector runs.
        seen: set[int] = set()
        out: list[ModuleNode] = []
        roots = [child for klass in self.classes.values() for child in klass.children]
        roots += self.standalone
        roots += [node for node, _event in self.events]
        stack = roots[::-1]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            out.append(node)
            stack.extend(reversed(node.children))
        return out

    def layers(self) -> list[ModuleNode]:
        known = self.rule_cache.get("layers")
        if known is None:
            torch_layers = [n for n in self.all_nodes() if n.kind == LAYER and n.spec is not None]
            known = torch_layers + self.keras.layers() if self.keras is not None else torch_layers
            self.rule_cache["layers"] = known
        return known

    def owner_name(self, node: ModuleNode) -> str:
        klass = self.owner_class(node)
        if klass is not None:
            return klass.name
        return node.display_prefix or node.path.split(".", 1)[0]

    def owner_class(self, node: ModuleNode) -> ClassModel | None:
        """The class (of this file, or of another project file the analysis read) whose submodule `node` is."""
        foreign = self.program.foreign_classes if self.program is not None else []
        for klass in [*self.classes.values(), *foreign]:
            if node in klass.children or any(node is n for n in _descendants(klass.children)):
                return klass
        return None

    def foreign_file(self, klass: ClassModel | None) -> str | None:
        """The path of the other project file defining `klass`, or None when it is defined here."""
        home = getattr(klass, "home", None)
        return home.source.path if home is not None and home is not self else None

    @cached_property
    def transformer_style(self) -> bool:
        """A file with attention and LayerNorm: `std=0.02`-style init is that family's convention."""
        text = self.source.text
        has_norm = "LayerNorm" in text or "RMSNorm" in text
        has_attention = "attn" in text.lower() or "attention" in text.lower() or "MultiheadAttention" in text
        return has_norm and has_attention


@dataclass
class NodeIndex:
    """One pass over the tree, shared by the model and every rule: nodes grouped by type, each node's parent."""

    tree: ast.Module
    by_type: dict[type, list[ast.AST]]
    parents: dict[ast.AST, ast.AST]
    _call_lines: list[int] | None = None  # the line of each call, for bisecting (built on first use)

    @classmethod
    def of(cls, tree: ast.Module) -> "NodeIndex":
        # One pre-order pass in field order (close to source order), written out flat: it runs over every node
        # of every file, and only the fields that can hold child nodes are read (per node type, once).
        by_type: dict[type, list[ast.AST]] = {}
        parents: dict[ast.AST, ast.AST] = {}
        AST, known = ast.AST, CHILD_FIELDS
        stack: list[ast.AST] = [tree]
        pop, push = stack.pop, stack.extend
        while stack:
            node = pop()
            kind = type(node)
            bucket = by_type.get(kind)
            if bucket is None:
                by_type[kind] = [node]
            else:
                bucket.append(node)
            fields = known.get(kind)
            if fields is None:
                fields = child_fields(kind)
            if not fields:
                continue
            children = []
            for name in fields:
                value = getattr(node, name)  # a parsed tree has every field
                if type(value) is list:
                    for item in value:
                        if isinstance(item, AST):
                            parents[item] = node
                            children.append(item)
                elif value is not None and isinstance(value, AST):
                    parents[value] = node
                    children.append(value)
            if children:
                children.reverse()
                push(children)
        # Pre-order already gives source order for most types; calls must be exactly ordered (bisect by line).
        for kind in (ast.Call, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Import, ast.ImportFrom):
            nodes = by_type.get(kind)
            if nodes:
                nodes.sort(key=lambda node: (node.lineno, node.col_offset))
        return cls(tree, by_type, parents)

    def nodes_of(self, *kinds: type) -> list[ast.AST]:
        """The file's nodes of these exact types, in source order."""
        if len(kinds) == 1:
            return self.by_type.get(kinds[0], [])
        return sorted((node for kind in kinds for node in self.by_type.get(kind, [])),
                      key=lambda node: (getattr(node, "lineno", 0), getattr(node, "col_offset", 0)))

    @property
    def calls(self) -> list[ast.Call]:
        return self.by_type.get(ast.Call, [])  # type: ignore[return-value]

    @property
    def classes(self) -> list[ast.ClassDef]:
        return self.by_type.get(ast.ClassDef, [])  # type: ignore[return-value]

    @property
    def imports(self) -> list[ast.stmt]:
        return self.nodes_of(ast.Import, ast.ImportFrom)  # type: ignore[return-value]

    def calls_within(self, node: ast.AST) -> list[ast.Call]:
        """The calls whose position lies inside `node` (a function or class), by line span."""
        start, end = node.lineno, getattr(node, "end_lineno", None) or node.lineno
        lines = self._call_lines
        if lines is None:
            lines = self._call_lines = [call.lineno for call in self.calls]
        return self.calls[bisect.bisect_left(lines, start):bisect.bisect_right(lines, end)]


class _ChainedParents:
    """The linted file's parent map, falling back to those of the other files the analysis read (their AST
    nodes are distinct objects); another file's map is built only when one of its nodes is asked about."""

    def __init__(self, model: FileModel, program: "Program") -> None:
        self.own = model.index.parents
        self.tree = model.tree
        self.program = program

    def get(self, node, default=None):
        parent = self.own.get(node)
        if parent is not None or node is self.tree or isinstance(node, SKIP):
            return parent if parent is not None else default  # contexts and operators are shared singletons
        home = self.program.home_of(node)
        if home is not self.program.model:
            parent = home.node_index().parents.get(node)
            if parent is not None:
                self.program.node_homes.setdefault(id(parent), home)  # walking up stays in that file
                return parent
        return default

    def __contains__(self, node) -> bool:
        return self.get(node) is not None

    def __getitem__(self, node):
        parent = self.get(node)
        if parent is None:
            raise KeyError(node)
        return parent




def _descendants(nodes: list[ModuleNode]):
    for node in nodes:
        yield node
        yield from _descendants(node.children)


def _inherited_catalog_base(klass: ClassModel, seen: set) -> str | None:
    if id(klass) in seen:
        return None
    seen.add(id(klass))
    if klass.catalog_base:
        return klass.catalog_base
    for base in klass.local_bases:
        found = _inherited_catalog_base(base, seen)
        if found:
            return found
    return None


def _may_be_module(klass: ClassModel) -> bool:
    """A torch base, a module base (here or in another file), an unknown base, or bases not resolved yet."""
    return klass.catalog_base is not None or klass.has_unknown_base or bool(klass.pending_bases) \
        or _has_module_ancestor(klass, set())


def _has_module_ancestor(klass: ClassModel, seen: set) -> bool:
    if id(klass) in seen:
        return False
    seen.add(id(klass))
    if klass.catalog_base is not None or klass.has_unknown_base:
        return True
    return any(_has_module_ancestor(b, seen) for b in klass.local_bases)
