"""Linting many files: a content-addressed cache, parallel workers, and output in a deterministic order.

The cache key covers the file's bytes, its path (findings name it), the effective settings and a fingerprint
of initlint's own code; an entry also lists the digest of every other project file its findings depend on
(project-wide analysis), and is served only while each of those is unchanged, so a stale entry is never used.
Entries are written through a temporary file and renamed, so concurrent runs are safe; a corrupted or truncated
entry is ignored and rewritten; an unwritable cache directory just means no caching.
"""

from __future__ import annotations

import gc
import json
import os
from dataclasses import asdict
from functools import lru_cache
from typing import Callable

from initlint.findings import Edit, FileError, Finding, Fix, Position
from initlint.settings import Settings

DEFAULT_CACHE_DIR = ".initlint_cache"
PARALLEL_THRESHOLD = 8  # below this many files, worker start-up costs more than it saves
CACHE_FORMAT = 2

Result = tuple[str, list[Finding], list[FileError]]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of initlint's own source: any change to the linter invalidates every cache entry."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256(str(CACHE_FORMAT).encode())
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def settings_fingerprint(settings: Settings) -> str:
    return json.dumps({key: sorted(value) if isinstance(value, (set, frozenset)) else value
                       for key, value in vars(settings).items()}, sort_keys=True, default=str)


class Cache:
    def __init__(self, directory: str | os.PathLike, settings: Settings) -> None:
        import hashlib  # imported by the runs that cache only (start-up time)

        self.directory = os.fspath(directory)
        self.prefix = hashlib.sha256((code_fingerprint() + settings_fingerprint(settings)).encode()).hexdigest()
        self.writable = True

    def key(self, path: str, data: bytes) -> str:
        import hashlib

        digest = hashlib.sha256(self.prefix.encode())
        digest.update(os.path.abspath(path).encode())
        digest.update(b"\0")
        digest.update(data)
        return digest.hexdigest()

    def get(self, key: str, digest: Callable[[str], str | None] | None = None
            ) -> tuple[list[Finding], list[FileError]] | None:
        """The entry for `key`, if every dependency it lists still has the digest it had (`digest(path)`)."""
        entry = os.path.join(self.directory, key[:2], f"{key}.json")
        try:
            with open(entry, encoding="utf-8") as stream:
                payload = json.loads(stream.read())
            dependencies = payload.get("dependencies") or {}
            if dependencies and (digest is None or any(digest(path) != value for path, value in dependencies.items())):
                return None  # a file it depends on changed
            return ([_finding_from_json(item) for item in payload["findings"]],
                    [FileError(**item) for item in payload["errors"]])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, truncated or corrupted: lint again

    def put(self, key: str, findings: list[Finding], errors: list[FileError],
            dependencies: dict[str, str | None] | None = None) -> None:
        if not self.writable or any(error.internal for error in errors):
            return
        import tempfile

        folder = os.path.join(self.directory, key[:2])
        try:
            os.makedirs(folder, exist_ok=True)
            gitignore = os.path.join(self.directory, ".gitignore")
            if not os.path.exists(gitignore):
                with open(gitignore, "w", encoding="utf-8") as stream:
                    stream.write("*\n")
            payload = json.dumps({"findings": [asdict(f) for f in findings], "errors": [asdict(e) for e in errors],
                                  "dependencies": dependencies or {}})
            handle, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(payload)
            os.replace(temp, os.path.join(folder, f"{key}.json"))
        except OSError:
            self.writable = False  # read-only or full: run on without caching


def _finding_from_json(item: dict) -> Finding:
    fix = item.get("fix")
    if fix is not None:
        fix = Fix(fix["applicability"], fix["message"],
                  tuple(Edit(e["content"], Position(**e["start"]), Position(**e["end"])) for e in fix["edits"]))
    return Finding(item["code"], item["name"], item["message"], item["path"], Position(**item["start"]),
                   Position(**item["end"]), item["noqa_row"], fix, item["source_line"], item.get("extra") or {})


def lint_text(path: str, text: str, settings: Settings, project: bool = True,
              dependencies: dict | None = None) -> tuple[list[Finding], list[FileError]]:
    """A Python file or a notebook's findings; with `project`, read the project's other files it imports."""
    from initlint.engine import lint_source

    if path.endswith(".ipynb"):
        from initlint.notebook import NotebookError, lint_notebook

        try:
            return lint_notebook(path, text, settings, project_of(settings) if project else None)
        except NotebookError as exc:
            return [], [FileError(path, str(exc))]
    return lint_source(path, text, settings, project=project_of(settings) if project else None,
                       dependencies=dependencies)


def project_of(settings: Settings):
    """The process's Project for these settings' source roots (parsed files are shared across files)."""
    return project_of_roots(tuple(settings.src))


def lint_one(path: str, settings: Settings, cache_dir: str | None, project: bool = True) -> Result:
    """Read, (cache-)lint one file. Runs in worker processes too, so it takes only picklable arguments."""
    from initlint.files import read_source_text

    source, error = read_source_text(path)  # read once: the bytes key the cache, the text is linted
    if error is not None:
        return path, [], [error]
    cache = Cache(cache_dir, settings) if cache_dir else None
    key = cache.key(path + ("" if project else "\0single"), source.data) if cache else ""
    if cache:
        hit = cache.get(key, project_of(settings).digest if project else None)
        if hit is not None:
            return path, hit[0], hit[1]
    text = source.text
    dependencies: dict | None = {} if cache else None  # what the cache entry must check, when there is one
    findings, errors = lint_text(path, text, settings, project, dependencies)
    if cache:
        cache.put(key, findings, errors, dependencies)
    _collect_if_grown()
    return path, findings, errors


def lint_files(paths: list[str], settings: Settings | list[Settings], jobs: int | None = None,
               cache_dir: str | None = None, progress: Callable[[int, int], None] | None = None,
               project: bool = True) -> list[Result]:
    """Lint files (with one Settings, or one per path), in parallel when there are enough of them; results
    come back in the order of `paths`, each with the findings that belong to it (see `initlint.routing`)."""
    jobs = jobs or os.cpu_count() or 1
    per_path = settings if isinstance(settings, list) else [settings] * len(paths)
    results: list[Result] = []
    if gc.isenabled():  # a library caller's process: collect less often (the `initlint` command turns it off)
        gc.set_threshold(100_000, 50, 50)
    if project:
        for roots in {tuple(s.src) for s in per_path}:
            project_of_roots(roots).refresh()
    if jobs <= 1 or len(paths) < PARALLEL_THRESHOLD:
        for index, (path, path_settings) in enumerate(zip(paths, per_path)):
            results.append(lint_one(path, path_settings, cache_dir, project))
            if progress:
                progress(index + 1, len(paths))
    else:
        from concurrent.futures import ProcessPoolExecutor  # only large runs pay for importing multiprocessing

        chunk = max(1, min(32, len(paths) // (jobs * 8)))
        with ProcessPoolExecutor(max_workers=jobs, initializer=tune_gc) as pool:
            for index, result in enumerate(pool.map(lint_one, paths, per_path, [cache_dir] * len(paths),
                                                    [project] * len(paths), chunksize=chunk)):
                results.append(result)
                if progress:
                    progress(index + 1, len(paths))
    return route_results(results, per_path)


# Tracked objects a run may gain before the cycle collector runs (see `tune_gc`).
GC_VALVE = 1_500_000  # a normal run stays under a million (the parsed files kept, the analysis at hand)


def tune_gc() -> None:
    """Turn the automatic cycle collector off in a process that only lints (the `initlint` command and its
    workers). Each analysis breaks its own reference cycles (`FileModel.release`), so there is little for the
    collector to find, but it kept re-scanning the files parsed for project-wide analysis: a sixth of a run.
    `lint_one` still collects once the tracked objects have grown by GC_VALVE since the last collection."""
    gc.disable()


def _collect_if_grown() -> None:
    if not gc.isenabled() and gc.get_count()[0] > GC_VALVE:
        gc.collect()


def project_of_roots(roots: tuple[str, ...]):
    from initlint.project import project_for

    return project_for(roots)


def route_results(results: list[Result], per_path: list[Settings]) -> list[Result]:
    """Findings found through another file go to that file when it is linted too, else to the use site."""
    if not any(finding.path != path for path, findings, _errors in results for finding in findings):
        return results
    from initlint.routing import route
    from initlint.rules import all_rules

    defaults = {rule.code: rule.default_enabled for rule in all_rules()}
    return route(results, lambda index, code: per_path[index].enabled(code, defaults.get(code, True)))
