#!/usr/bin/env python3
"""Check `initlint fix --unsafe-fixes` on a real corpus: every fix leaves valid, stable and confined code.

    python scripts/corpus_fix_check.py CORPUS_DIR [--keep DIR] [--jobs N]

The corpus's .py files are copied to a work directory (a temporary one, or DIR with --keep) and the real
command line runs on the copy: `check --unsafe-fixes --output-format json` on the original files (to learn
every fix's edits), `fix --unsafe-fixes` on a second copy, then `fix --unsafe-fixes` again on the files it
changed. Every run passes `--isolated --no-cache`, so no configuration or cache in the corpus interferes.
For every changed file it checks:

  parse       the fixed file passes `ast.parse` and `compile()` (unless the original did not compile either);
  names       it uses no undefined name (pyflakes) the original did not: a fix's missing import compiles;
  idempotent  the second fix changes no byte;
  confined    every line the diff changes lies in (or is inserted right after) a statement some fix edits,
              or is an import inserted in the module's leading import block;
  format      BOM, encoding, shebang, coding cookie and line-ending style are kept.

A command line that crashes (an internal error, output that is not JSON) fails the `cli` check. It prints the
figures and every failure as Markdown, and exits 1 if any check failed (2 on a usage error).
"""

from __future__ import annotations

import argparse
import ast
import codecs
import difflib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMON_OPTIONS = ["--unsafe-fixes", "--isolated", "--no-cache"]
CHECKS = ("parse", "names", "idempotent", "confined", "format", "cli")
DECODE_ERRORS = (SyntaxError, UnicodeDecodeError, LookupError)  # what tokenize.detect_encoding and decode raise
IN_STATEMENT, AFTER_STATEMENT, IMPORT = ("lines of fixed statements replaced",
                                       "lines inserted in or right after a fixed statement",
                                       "imports inserted in the leading import block")
MAX_BATCH_CHARS = 100_000  # file names per command line, well under ARG_MAX

LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # the line breaks Python knows (not \f, \v)
LINE_BREAK = re.compile(r"\r\n|\r|\n")
COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")
IMPORT_LINE = re.compile(r"(?:import|from)\s")


@dataclass(frozen=True)
class Problem:
    check: str  # one of CHECKS
    path: str
    line: int | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{self.check}: {where}: {self.detail}"


@dataclass
class Report:
    files_copied: int = 0
    files_scanned: int = 0
    files_changed: int = 0
    fixable: Counter = field(default_factory=Counter)  # rule code -> findings with a fix before fixing
    applied: Counter = field(default_factory=Counter)  # rule code -> those gone after fixing
    hunks: Counter = field(default_factory=Counter)  # why each diff hunk of a changed file is allowed
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # odd files and warnings: reported, not failures
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> Counter:
        return Counter(problem.check for problem in self.problems)


# --------------------------------------------------------------------------------------------- running initlint


@dataclass
class CliResult:
    findings: dict[str, list[dict]] = field(default_factory=dict)  # relative path -> JSON findings (check only)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_initlint(command: str, root: Path, files: list[str], jobs: int, extra: Iterable[str] = (),
                 source: Path = REPO) -> CliResult:
    """Run `initlint COMMAND` (the package under `source`) over `files` (relative to `root`) in parallel
    batches; collect what it reports."""
    result = CliResult()
    args = [command, *COMMON_OPTIONS, "--exit-zero", *extra]
    groups = batches(files, jobs)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for batch, done in zip(groups, pool.map(lambda batch: _invoke([*args, "--", *batch], root, source), groups)):
            _collect(result, command, root, batch, done)
    return result


def _invoke(args: list[str], cwd: Path, source: Path = REPO) -> subprocess.CompletedProcess:
    path = os.pathsep.join(filter(None, [str(source), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "initlint", *args], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", errors="backslashreplace", env={**os.environ, "PYTHONPATH": path})


def _collect(result: CliResult, command: str, root: Path, batch: list[str], done: subprocess.CompletedProcess) -> None:
    label = f"initlint {command} on {len(batch)} files from {batch[0]}"
    for line in done.stderr.splitlines():
        if "internal error" in line or "bug in initlint" in line or line.startswith("Traceback"):
            result.problems.append(Problem("cli", label, None, line))
        elif line.startswith(("error:", "warning:")):
            result.notes.append(f"{command}: {line}")
    if done.returncode not in (0, 1, 2):
        result.problems.append(Problem("cli", label, None, f"exit status {done.returncode}"))
    if command != "check":
        return
    try:
        findings = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as exc:
        result.problems.append(Problem("cli", label, None, f"output is not JSON: {exc}"))
        return
    for finding in findings:
        rel = os.path.relpath(finding["filename"], root)
        result.findings.setdefault(rel, []).append(finding)


def batches(files: list[str], jobs: int) -> list[list[str]]:
    """`files` in `jobs` contiguous batches of about equal size, each short enough for one command line."""
    size = max(1, -(-len(files) // max(1, jobs)))
    out: list[list[str]] = []
    for start in range(0, len(files), size):
        batch: list[str] = []
        for name in files[start:start + size]:
            if batch and sum(map(len, batch)) + len(name) > MAX_BATCH_CHARS:
                out.append(batch)
                batch = []
            batch.append(name)
        out.append(batch)
    return out


def discovered_files(root: Path, source: Path = REPO) -> tuple[list[str], CliResult]:
    """The files `initlint check` would lint under `root` (relative paths), and what listing them reported."""
    done = _invoke(["check", "--isolated", "--show-files", "."], root, source)
    result = CliResult()
    _collect(result, "check --show-files", root, ["."], done)
    files = []
    for name in done.stdout.splitlines():
        if name.endswith(".py") and (root / name).is_file():
            files.append(name)
        elif name.endswith(".py"):
            result.notes.append(f"listed by --show-files but not found (an escaped name?): {name}")
    return files, result


# ----------------------------------------------------------------------------------------------- copying files


def copy_python_files(source: Path, destination: Path,
                      names: Iterable[str] | None = None) -> tuple[list[str], list[str]]:
    """Copy the .py files under `source` (or just `names`) to `destination`; return the copied and notes."""
    if names is None:
        names = sorted(str(Path(folder, name).relative_to(source))
                       for folder, _dirs, files in os.walk(source) for name in files if name.endswith(".py"))
    copied, notes = [], []
    for name in names:
        target = destination / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, target)
        except OSError as exc:
            notes.append(f"not copied: {name}: {exc.strerror or exc}")
            continue
        copied.append(name)
    return copied, notes


def snapshot_initlint(work: Path) -> Path:
    """A copy of the `initlint` package every run uses, so edits to the repository mid-run cannot mix versions."""
    snapshot = work / "initlint-snapshot"
    shutil.copytree(REPO / "initlint", snapshot / "initlint", ignore=shutil.ignore_patterns("__pycache__"))
    return snapshot


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# ----------------------------------------------------------------------------------------------- the checks


def check_tree(original_root: Path, fixed_root: Path, refixed_root: Path, files: Iterable[str],
               findings: dict[str, list[dict]], hunks: Counter | None = None) -> list[Problem]:
    """Every check on every file of `files` that differs between `original_root` and `fixed_root`.
    `refixed_root` holds the second fix of the changed files; `findings` the JSON findings of the originals;
    `hunks` counts the allowed diff hunks by reason."""
    hunks = Counter() if hunks is None else hunks
    problems = []
    for name in files:
        original, fixed = read_bytes(original_root / name), read_bytes(fixed_root / name)
        if original is None or fixed is None or original == fixed:
            continue
        refixed = read_bytes(refixed_root / name)
        problems += check_file(name, original, fixed, refixed, fix_rows(findings.get(name, [])), hunks)
    return problems


def check_file(name: str, original: bytes, fixed: bytes, refixed: bytes | None,
               edits: list[tuple[int, int]], hunks: Counter) -> list[Problem]:
    problems = check_parse(name, original, fixed) + check_idempotent(name, fixed, refixed)
    try:
        old_text = decode(original)[0]
    except DECODE_ERRORS:
        return problems  # initlint cannot have read it either
    format_problems = check_format(name, original, old_text, fixed)
    if format_problems:  # the texts cannot be compared line by line
        return problems + format_problems
    new_text = decode(fixed)[0]
    return problems + check_names(name, old_text, new_text) + check_confined(name, old_text, new_text, edits, hunks)


def check_parse(name: str, original: bytes, fixed: bytes) -> list[Problem]:
    error = compile_error(name, fixed)
    if error is None or compile_error(name, original) is not None:
        return []
    return [Problem("parse", name, error[0], f"the fixed file does not compile: {error[1]}")]


def compile_error(name: str, data: bytes) -> tuple[int | None, str] | None:
    """Why `python FILE` would not compile `data`, or None. The bytes are decoded first, strictly, as the
    interpreter reads a file: compile(bytes) lets undecodable bytes in a comment through."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes and the like
        try:
            text = decode(data)[0]
            ast.parse(text, name)
            compile(text, name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return exc.lineno, f"{type(exc).__name__}: {exc.msg}"
        except (ValueError, LookupError, RecursionError, MemoryError, OverflowError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
    return None


def check_idempotent(name: str, fixed: bytes, refixed: bytes | None) -> list[Problem]:
    if refixed is None:
        return [Problem("idempotent", name, None, "the second fix left no file")]
    if refixed == fixed:
        return []
    once, twice = split_lines(fixed), split_lines(refixed)
    row = next((row for row, (a, b) in enumerate(zip(once, twice), 1) if a != b), min(len(once), len(twice)) + 1)
    return [Problem("idempotent", name, row, "a second `fix --unsafe-fixes` changes the fixed file")]


def check_format(name: str, original: bytes, old_text: str, fixed: bytes) -> list[Problem]:
    def problem(detail: str, line: int | None = None) -> list[Problem]:
        return [Problem("format", name, line, detail)]

    if original.startswith(codecs.BOM_UTF8) != fixed.startswith(codecs.BOM_UTF8):
        return problem("the UTF-8 BOM was " + ("removed" if original.startswith(codecs.BOM_UTF8) else "added"))
    old_encoding = decode(original)[1]
    try:
        new_text, new_encoding = decode(fixed)
    except DECODE_ERRORS as exc:
        return problem(f"the fixed file cannot be decoded: {exc}")
    if new_encoding != old_encoding:
        return problem(f"the encoding changed from {old_encoding} to {new_encoding}")
    header = header_lines(old_text)
    if split_lines(new_text)[:len(header)] != header:
        return problem("the shebang or coding-cookie line moved or changed", 1)
    old_breaks, new_breaks = line_breaks(old_text), line_breaks(new_text)
    foreign = set(new_breaks) - set(old_breaks) if old_breaks else set()
    if foreign:
        row = next(row for row, kind in enumerate(new_breaks, 1) if kind in foreign)
        return problem(f"line ending {sorted(foreign)!r} added to a file that uses only {sorted(set(old_breaks))!r}",
                       row)
    return []


def check_names(name: str, original: str, fixed: str) -> list[Problem]:
    """Names the fixed file uses that nothing defines (pyflakes' undefined names), and the original did not:
    a fix that spells `torch.nn.init` or `init` without the import it needs compiles, but raises NameError."""
    known = Counter(undefined for undefined, _row in undefined_names(original))
    problems = []
    for undefined, row in undefined_names(fixed):
        if known[undefined]:
            known[undefined] -= 1
        else:
            problems.append(Problem("names", name, row, f"undefined name {undefined!r}"))
    return problems


def undefined_names(text: str) -> list[tuple[str, int]]:
    try:
        from pyflakes import checker, messages
        tree = ast.parse(text)
    except (ImportError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # no pyflakes (the run notes it), or nothing to check
    return [(message.message_args[0], message.lineno) for message in checker.Checker(tree).messages
            if isinstance(message, messages.UndefinedName)]


def check_confined(name: str, original: str, fixed: str, edits: list[tuple[int, int]],
                   hunks: Counter) -> list[Problem]:
    """Every diff hunk must lie within the statements the fixes edit, or be an import added at the top."""
    old, new = split_lines(original), split_lines(fixed)
    try:
        tree = ast.parse(original)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = ast.Module(body=[], type_ignores=[])
    regions = allowed_regions(tree, edits)
    import_end = leading_imports_end(tree)
    problems = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        reason = hunk_allowed(tag, old, new, (i1, i2, j1, j2), regions, import_end)
        if reason:
            hunks[reason] += 1
            continue
        shown = (new[j1:j2] or old[i1:i2])[0].rstrip("\r\n")
        what = {"insert": f"{j2 - j1} line(s) inserted after line {i1}",
                "delete": f"line(s) {i1 + 1}-{i2} deleted",
                "replace": f"line(s) {i1 + 1}-{i2} replaced"}[tag]
        problems.append(Problem("confined", name, max(i1, 1) if tag == "insert" else i1 + 1,
                                f"{what} outside any fixed statement: {shown.strip()[:80]!r}"))
    return problems


def hunk_allowed(tag: str, old: list[str], new: list[str], span: tuple[int, int, int, int],
                 regions: list[tuple[int, int]], import_end: int) -> str | None:
    """Why the hunk is allowed (a figure of the report), or None."""
    i1, i2, j1, j2 = span
    if tag == "insert":
        low, high = insertion_range(old, new, i1, j1, j2)
        if any(low <= last and first <= high for first, last in regions):
            return AFTER_STATEMENT
        if low <= import_end and all(IMPORT_LINE.match(line) for line in new[j1:j2]):
            return IMPORT
        return None
    if all(any(first <= row <= last for first, last in regions) for row in range(i1 + 1, i2 + 1)):
        return IN_STATEMENT
    return None


def insertion_range(old: list[str], new: list[str], at: int, j1: int, j2: int) -> tuple[int, int]:
    """The positions an inserted block could equally be shown at: a diff slides a block of lines that
    repeats its neighbours (a second `nn.init.zeros_(m.bias)` next to the first) up or down freely."""
    up = 0
    while at - up > 0 and j1 - up > 0 and old[at - up - 1] == new[j2 - up - 1]:
        up += 1
    down = 0
    while at + down < len(old) and j2 + down < len(new) and old[at + down] == new[j1 + down] == new[j2 + down]:
        down += 1
    return at - up, at + down


def allowed_regions(tree: ast.Module, edits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """For each edit's rows, the rows of the statement it edits: the whole statement for a simple one,
    the header for a compound one (the edit's rows always count)."""
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    regions = []
    for first, last in edits:
        around = [s for s in statements if s.lineno <= first and (s.end_lineno or s.lineno) >= last]
        if around:
            inner = max(around, key=lambda s: (s.lineno, -(s.end_lineno or s.lineno)))
            body = getattr(inner, "body", None)
            end = body[0].lineno - 1 if isinstance(body, list) and body else (inner.end_lineno or inner.lineno)
            first, last = min(first, inner.lineno), max(last, end)
        regions.append((first, last))
    return regions


def leading_imports_end(tree: ast.Module) -> int:
    """The last row of the module's first run of top-level imports (or of its docstring); 0 if neither."""
    end = 0
    for index, stmt in enumerate(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            end = stmt.end_lineno or stmt.lineno
        elif index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            end = stmt.end_lineno or stmt.lineno
        else:
            break
    return end


def fix_rows(findings: list[dict]) -> list[tuple[int, int]]:
    """The (first, last) rows of every edit of every fix in the JSON findings."""
    return [(edit["location"]["row"], edit["end_location"]["row"])
            for finding in findings if finding.get("fix") for edit in finding["fix"]["edits"]]


# --------------------------------------------------------------------------------------------- text helpers


def decode(data: bytes) -> tuple[str, str]:
    """Decode like Python: BOM, then a PEP 263 cookie, then UTF-8. Returns (text, encoding)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), "utf-8" if encoding == "utf-8-sig" else encoding


def split_lines(text: str | bytes) -> list:
    if isinstance(text, bytes):
        return text.splitlines(keepends=True)
    return LINE.findall(text)


def line_breaks(text: str) -> list[str]:
    return LINE_BREAK.findall(text)


def header_lines(text: str) -> list[str]:
    """The shebang and coding-cookie lines a file starts with (they must stay where they are)."""
    lines = split_lines(text)[:2]
    header = []
    for index, line in enumerate(lines):
        if (index == 0 and line.startswith("#!")) or COOKIE.match(line):
            header = lines[:index + 1]
    return header


# ----------------------------------------------------------------------------------------------- the figures


def count_fixes(report: Report, before: dict[str, list[dict]], after: dict[str, list[dict]],
                changed: set[str]) -> None:
    """Per rule: findings with a fix before fixing, and those no longer reported after it."""
    for name, findings in before.items():
        left = Counter(finding_key(f) for f in after.get(name, [])) if name in changed else None
        for finding in findings:
            if not finding.get("fix"):
                continue
            report.fixable[finding["code"]] += 1
            key = finding_key(finding)
            if left is None or left[key]:
                if left is not None:
                    left[key] -= 1
                continue
            report.applied[finding["code"]] += 1


def finding_key(finding: dict) -> tuple[str, str]:
    return finding["code"], re.sub(r"\d+", "N", finding["message"])  # line numbers shift when lines are added


def render(report: Report, command: str) -> str:
    total_fixable, total_applied = sum(report.fixable.values()), sum(report.applied.values())
    lines = [f"Command: `{command}`", "", "| Figure | Value |", "| --- | ---: |",
             f"| .py files copied | {report.files_copied} |",
             f"| files scanned (`initlint check --show-files`) | {report.files_scanned} |",
             f"| files changed by `fix --unsafe-fixes` | {report.files_changed} |",
             f"| findings with a fix | {total_fixable} |",
             f"| fixes applied (findings with a fix gone after fixing) | {total_applied} |"]
    lines += [f"| diff hunks: {reason} | {report.hunks[reason]} |"
              for reason in (IN_STATEMENT, AFTER_STATEMENT, IMPORT)]
    lines += [f"| failures: {check} | {report.failures[check]} |" for check in CHECKS]
    lines += [f"| time: {step} | {seconds:.1f} s |" for step, seconds in report.timings.items()]
    lines += ["", "| Rule | Findings with a fix | Fixes applied | Left |", "| --- | ---: | ---: | ---: |"]
    for code in sorted(report.fixable):
        fixable, applied = report.fixable[code], report.applied[code]
        lines.append(f"| {code} | {fixable} | {applied} | {fixable - applied} |")
    if report.problems:
        lines += ["", "Failures:", ""] + [f"- {problem}" for problem in report.problems]
    if report.notes:
        lines += ["", "Notes (not failures):", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- the pipeline


def run(corpus: Path, work: Path, jobs: int) -> Report:
    """Copy `corpus` into `work`, fix the copy twice with the real CLI, and check every changed file."""
    report = Report()
    started = time.perf_counter()
    original, fixed, refixed = work / "original", work / "fixed", work / "refixed"
    source = snapshot_initlint(work)
    timed = _timer(report)

    def initlint(step: str, command: str, root: Path, names: list[str], *extra: str) -> dict[str, list[dict]]:
        result = timed(step, lambda: run_initlint(command, root, names, jobs, extra, source))
        report.problems.extend(result.problems)
        report.notes.extend(result.notes)
        return result.findings

    copied, copy_notes = timed("copy", lambda: copy_python_files(corpus, original))
    files, listing = discovered_files(original, source)
    report.files_copied, report.files_scanned = len(copied), len(files)
    report.notes += copy_notes + listing.notes
    report.problems += listing.problems
    before = initlint("check (original)", "check", original, files, "--output-format", "json", "-j", "1")
    copy_python_files(original, fixed, files)
    initlint("fix", "fix", fixed, files, "-q")

    changed = [name for name in files if read_bytes(original / name) != read_bytes(fixed / name)]
    report.files_changed = len(changed)
    after: dict[str, list[dict]] = {}
    if changed:
        copy_python_files(fixed, refixed, changed)
        initlint("fix (second pass)", "fix", refixed, changed, "-q")
        after = initlint("check (fixed)", "check", fixed, changed, "--output-format", "json", "-j", "1")
    count_fixes(report, before, after, set(changed))
    report.problems += timed("checks", lambda: check_tree(original, fixed, refixed, changed, before, report.hunks))
    if importlib.util.find_spec("pyflakes") is None:
        report.notes.append("the `names` check was skipped: pyflakes is not installed")
    report.timings["total"] = time.perf_counter() - started
    return report


def _timer(report: Report) -> Callable:
    def timed(step: str, action: Callable):
        start = time.perf_counter()
        value = action()
        report.timings[step] = time.perf_counter() - start
        return value

    return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, metavar="CORPUS_DIR")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="Work in DIR (new or empty) and keep it: DIR/original, DIR/fixed, DIR/refixed.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="initlint processes to run at once (default: the cores).")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"not a directory: {args.corpus}")
    if args.keep is not None and args.keep.exists() and (not args.keep.is_dir() or any(args.keep.iterdir())):
        parser.error(f"--keep: {args.keep} is not an empty directory")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    command = " ".join(["python", "scripts/corpus_fix_check.py", *(argv if argv is not None else sys.argv[1:])])
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        report = run(args.corpus.resolve(), args.keep.resolve(), args.jobs)
    else:
        with tempfile.TemporaryDirectory(prefix="initlint-corpus-") as work:
            report = run(args.corpus.resolve(), Path(work), args.jobs)
    sys.stdout.write(render(report, command))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
