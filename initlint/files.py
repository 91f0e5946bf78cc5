"""Finding the files to lint and reading them, turning every failure into a one-line FileError."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from pathspec import GitIgnoreSpec

from initlint.findings import FileError
from initlint.source import DecodeError, decode_source

PYTHON_SUFFIX = ".py"
GITIGNORE = ".gitignore"
VENV_MARKER = "pyvenv.cfg"
SKIPPED_DIR_NAMES = frozenset({"__pycache__"})
DEFAULT_PATHS = (".",)


@dataclass(frozen=True)
class IgnoreFile:
    """The patterns of one `.gitignore`, which apply to paths below `base` (an absolute directory)."""

    base: str
    spec: GitIgnoreSpec

    def decision(self, absolute_path: str, is_dir: bool) -> bool | None:
        """True if ignored, False if re-included by a `!` pattern, None if no pattern matches."""
        relative = absolute_path[len(self.base):].lstrip(os.sep).replace(os.sep, "/")
        if is_dir:
            relative += "/"
        for pattern in reversed(self.spec.patterns):  # the last matching pattern wins, as in git
            if pattern.include is not None and pattern.match_file(relative) is not None:
                return pattern.include
        return None


def discover(paths: list[str] | None = None) -> tuple[list[str], list[FileError], list[str]]:
    """The Python files to lint under `paths`, sorted and without duplicates, plus errors and warnings.

    Directories are walked recursively, skipping hidden directories, `__pycache__`, virtualenvs and
    anything a `.gitignore` excludes. A file named explicitly is always included.
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
        if stat.S_ISDIR(status.st_mode):
            found = _walk(path, errors)
            if not found:
                warnings.append(f"No Python files found under {given}")
        else:
            found = [path]
        for file in found:
            by_identity.setdefault(os.path.normcase(os.path.abspath(file)), file)
    return sorted(by_identity.values()), errors, warnings


def read_source(path: str) -> tuple[str | None, FileError | None]:
    """The decoded text of `path`, or a FileError saying why it cannot be read."""
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
    try:
        text, _encoding, _had_bom = decode_source(data)
    except DecodeError as exc:
        return None, FileError(path, f"cannot decode: {exc}")
    return text, None


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


def _walk(root: str, errors: list[FileError]) -> list[str]:
    """Every Python file below the directory `root`; unreadable subdirectories become errors."""
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
        for entry in entries:
            entry_path = entry.name if directory == os.curdir else entry.path  # "a.py", not "./a.py"
            entry_absolute = os.path.join(directory_absolute, entry.name)
            if _is_directory(entry):
                if not _skipped_directory(entry) and not _ignored(ignore_files, entry_absolute, is_dir=True):
                    pending.append((entry_path, entry_absolute, ignore_files))
            elif entry.name.endswith(PYTHON_SUFFIX) and _is_file(entry):
                if not _ignored(ignore_files, entry_absolute, is_dir=False):
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
            spec = GitIgnoreSpec.from_lines(stream.read().splitlines())
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
