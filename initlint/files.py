"""Finding the files to lint and reading them, turning every failure into a one-line FileError."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from initlint.findings import FileError
from initlint.source import DecodeError, decode_source

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

GITIGNORE = ".gitignore"
VENV_MARKER = "pyvenv.cfg"
SKIPPED_DIR_NAMES = frozenset({"__pycache__"})
DEFAULT_PATHS = (".",)
DEFAULT_INCLUDE = ("*.py", "*.pyi", "*.ipynb")
# Ruff's default excludes, less the hidden directories (never walked into) and virtualenvs (found by pyvenv.cfg).
DEFAULT_EXCLUDE = ("__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "site-packages", "venv")


@dataclass(frozen=True)
class GlobSet:
    """Ruff's file patterns: a glob matches a path's absolute form or its base name (`build`, `*_pb2.py`).

    Relative globs are anchored at the directory they were given for (a config file's, or the working
    directory on the command line). `*` and `?` cross directory separators, `**/` matches zero or more
    directories, `[abc]` and `{a,b}` work as usual.
    """

    patterns: tuple[str, ...] = ()  # as written, for --show-settings
    absolute: tuple[str, ...] = ()

    @classmethod
    def of(cls, patterns: Iterable[str], base: str) -> "GlobSet":
        patterns = tuple(patterns)
        absolute = tuple(os.path.normpath(os.path.join(base, os.path.expanduser(p))) for p in patterns)
        return cls(patterns, tuple(p for pair in zip(patterns, absolute) for p in pair))

    def __or__(self, other: "GlobSet") -> "GlobSet":
        return GlobSet(self.patterns + other.patterns, self.absolute + other.absolute)

    @cached_property
    def _regex(self) -> re.Pattern | None:
        if not self.absolute:
            return None
        return re.compile("|".join(f"(?:{_glob_regex(p.replace(os.sep, '/'))})" for p in self.absolute), re.S)

    def matches(self, absolute_path: str) -> bool:
        if self._regex is None:
            return False
        path = absolute_path.replace(os.sep, "/")
        return bool(self._regex.fullmatch(path) or self._regex.fullmatch(path.rsplit("/", 1)[-1]))


def _glob_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        end = pattern.find("]" if char == "[" else "}", i + 2) if char in "[{" else -1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and end != -1:
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = end
        elif char == "{" and end != -1:
            out.append("(?:" + "|".join(_glob_regex(alt) for alt in pattern[i + 1:end].split(",")) + ")")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class FileFilter:
    """Which files discovery picks in a directory: `include` and `exclude` globs of the governing project.

    Excludes apply to what is found by walking a directory; with `force_exclude` also to paths named
    explicitly (pre-commit names every file), checking the path and its ancestors up to the project's `root`.
    """

    root: str
    include: GlobSet
    exclude: GlobSet
    force_exclude: bool = False

    @classmethod
    @lru_cache(maxsize=8)
    def default(cls, root: str) -> "FileFilter":
        return cls(root, GlobSet.of(DEFAULT_INCLUDE, root), GlobSet.of(DEFAULT_EXCLUDE, root))

    def force_excluded(self, absolute_path: str) -> bool:
        if not self.force_exclude:
            return False
        current = absolute_path
        while current != self.root and os.path.dirname(current) != current:
            if self.exclude.matches(current):
                return True
            current = os.path.dirname(current)
        return False


FilterFor = Callable[[str], FileFilter]  # the filter governing an absolute directory


@dataclass(frozen=True)
class IgnoreFile:
    """The patterns of one `.gitignore`, which apply to paths below `base` (an absolute directory)."""

    base: str
    spec: "GitIgnoreSpec"

    def decision(self, absolute_path: str, is_dir: bool) -> bool | None:
        """True if ignored, False if re-included by a `!` pattern, None if no pattern matches."""
        relative = absolute_path[len(self.base):].lstrip(os.sep).replace(os.sep, "/")
        if is_dir:
            relative += "/"
        for pattern in reversed(self.spec.patterns):  # the last matching pattern wins, as in git
            if pattern.include is not None and pattern.match_file(relative) is not None:
                return pattern.include
        return None


def default_filter(directory: str) -> FileFilter:
    return FileFilter.default(os.getcwd())


def discover(paths: list[str] | None = None, filter_for: FilterFor = default_filter
             ) -> tuple[list[str], list[FileError], list[str]]:
    """The Python files to lint under `paths`, sorted and without duplicates, plus errors and warnings.

    Directories are walked recursively for files the `include` globs match, skipping hidden directories,
    `__pycache__`, virtualenvs, the `exclude` globs and anything a `.gitignore` excludes. A path named
    explicitly is always included, unless `force_exclude` is set and an exclude glob matches it.
    """
    by_identity: dict[str, str] = {}
    errors: list[FileError] = []
    warnings: list[str] = []
    for given in paths or DEFAULT_PATHS:
        path = os.path.normpath(given)
        status, reason = _stat(path)
        if status is None:
            errors.append(FileError(given, reason))
            continue
        absolute = os.path.abspath(path)
        if filter_for(os.path.dirname(absolute)).force_excluded(absolute):
            continue
        if stat.S_ISDIR(status.st_mode):
            found = _walk(path, errors, filter_for)
            if not found:
                warnings.append(f"No Python files found under {given}")
        else:
            found = [path]
        for file in found:
            by_identity.setdefault(os.path.normcase(os.path.abspath(file)), file)
    return sorted(by_identity.values()), errors, warnings


@dataclass(frozen=True)
class SourceText:
    """A file's decoded text and what is needed to write it back the same way."""

    text: str
    encoding: str = "utf-8"
    had_bom: bool = False
    data: bytes = b""  # the bytes read, to refuse overwriting a file that changed meanwhile


def read_source(path: str) -> tuple[str | None, FileError | None]:
    """The decoded text of `path`, or a FileError saying why it cannot be read."""
    source, error = read_source_text(path)
    return (None if source is None else source.text), error


def read_source_text(path: str) -> tuple[SourceText | None, FileError | None]:
    """The decoded text of `path` with its encoding, or a FileError saying why it cannot be read."""
    status, reason = _stat(path)
    if status is None:
        return None, FileError(path, reason)
    if not stat.S_ISREG(status.st_mode) and not stat.S_ISDIR(status.st_mode):
        return None, FileError(path, "not a regular file")  # reading a FIFO or a device could block forever
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        return None, FileError(path, os_error_reason(exc))
    return decode_bytes(path, data)


def decode_bytes(path: str, data: bytes) -> tuple[SourceText | None, FileError | None]:
    try:
        text, encoding, had_bom = decode_source(data)
    except DecodeError as exc:
        return None, FileError(path, f"cannot decode: {exc}")
    return SourceText(text, encoding, had_bom, data), None


def os_error_reason(exc: OSError) -> str:
    """The human part of an OSError ("Permission denied"), without errno or path."""
    return exc.strerror or type(exc).__name__


def _stat(path: str) -> tuple[os.stat_result | None, str]:
    """The status of `path` (following symbolic links), or None and why it cannot be used."""
    try:
        return os.stat(path), ""
    except FileNotFoundError:
        broken_link = os.path.islink(path)
        return None, "No such file or directory" + (" (broken symbolic link)" if broken_link else "")
    except OSError as exc:
        return None, os_error_reason(exc)
    except ValueError:  # an embedded NUL character
        return None, "invalid path"


def _walk(root: str, errors: list[FileError], filter_for: FilterFor) -> list[str]:
    """Every included file below the directory `root`; unreadable subdirectories become errors."""
    found: list[str] = []
    root_absolute = os.path.abspath(root)
    pending = [(root, root_absolute, _ancestor_ignore_files(root_absolute))]
    while pending:
        directory, directory_absolute, ignore_files = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = list(scan)
        except OSError as exc:
            errors.append(FileError(directory, os_error_reason(exc)))
            continue
        if any(entry.name == GITIGNORE for entry in entries):
            ignore_files = ignore_files + _load_ignore_file(directory_absolute)
        files = filter_for(directory_absolute)
        for entry in entries:
            entry_path = entry.name if directory == os.curdir else entry.path  # "a.py", not "./a.py"
            entry_absolute = os.path.join(directory_absolute, entry.name)
            if _is_directory(entry):
                if (not _skipped_directory(entry) and not files.exclude.matches(entry_absolute)
                        and not _ignored(ignore_files, entry_absolute, is_dir=True)):
                    pending.append((entry_path, entry_absolute, ignore_files))
            elif files.include.matches(entry_absolute) and not files.exclude.matches(entry_absolute):
                if _is_file(entry) and not _ignored(ignore_files, entry_absolute, is_dir=False):
                    found.append(entry_path)
    return found


def _is_directory(entry: os.DirEntry) -> bool:
    """A real directory; symbolic links to directories are not followed (no cycles)."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _skipped_directory(entry: os.DirEntry) -> bool:
    """Hidden directories, `__pycache__` and virtualenvs are never walked into."""
    if entry.name.startswith(".") or entry.name in SKIPPED_DIR_NAMES:
        return True
    return os.path.exists(os.path.join(entry.path, VENV_MARKER))


def _ignored(ignore_files: tuple[IgnoreFile, ...], absolute_path: str, is_dir: bool) -> bool:
    """The deepest `.gitignore` with a matching pattern decides, as in git."""
    for ignore_file in reversed(ignore_files):
        decision = ignore_file.decision(absolute_path, is_dir)
        if decision is not None:
            return decision
    return False


def _load_ignore_file(directory_absolute: str) -> tuple[IgnoreFile, ...]:
    """The `.gitignore` in this directory, or nothing if it cannot be read."""
    try:
        with open(os.path.join(directory_absolute, GITIGNORE), encoding="utf-8", errors="replace") as stream:
            lines = stream.read().splitlines()
        from pathspec import GitIgnoreSpec  # imported only where there is a .gitignore (start-up time)

        spec = GitIgnoreSpec.from_lines(lines)
    except (OSError, ValueError):  # unreadable, or a pattern pathspec rejects
        return ()
    return (IgnoreFile(directory_absolute, spec),) if spec.patterns else ()


def _ancestor_ignore_files(directory_absolute: str) -> tuple[IgnoreFile, ...]:
    """The `.gitignore` files above `directory_absolute` up to its git root (none outside a repository)."""
    ancestors: list[str] = []
    current = directory_absolute
    while not os.path.exists(os.path.join(current, ".git")):
        parent = os.path.dirname(current)
        if parent == current:
            return ()  # not inside a git repository
        current = parent
        ancestors.append(current)
    ignore_files: tuple[IgnoreFile, ...] = ()
    for ancestor in reversed(ancestors):  # outermost first, so deeper files take precedence
        if os.path.isfile(os.path.join(ancestor, GITIGNORE)):
            ignore_files += _load_ignore_file(ancestor)
    if _ignored(ignore_files, directory_absolute, is_dir=True):
        return ()  # the directory was named explicitly: its ignored ancestors must not hide all of it
    return ignore_files
