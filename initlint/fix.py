"""Applying fixes: ordered, non-overlapping edits over repeated passes, each pass re-parsed before it is kept.

A fix never loses code: edits replace exact ranges, a pass whose result does not parse (stdlib `ast` and
libcst) is retried fix by fix and the fixes that break parsing are dropped and reported, and files are
written atomically with their encoding, BOM and line endings kept.
"""

from __future__ import annotations

import ast
import os
import tempfile
from dataclasses import dataclass, field

from initlint.engine import lint_source
from initlint.findings import Edit, Finding, Fix
from initlint.settings import Settings

MAX_PASSES = 10


@dataclass
class FixOutcome:
    text: str
    fixed: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # fixes dropped, or a file that kept changing
    errors: list = field(default_factory=list)  # FileErrors from linting

    def changed(self, original: str) -> bool:
        return self.text != original


def applicable(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and (fix.applicability == "safe" or unsafe)


def fix_text(path: str, text: str, settings: Settings | None = None, unsafe: bool = False,
             incoming: list[Finding] | tuple = (), project=None) -> FixOutcome:
    """Lint and fix `text` until nothing fixable is left (at most MAX_PASSES passes). `incoming` are findings
    for this file found through other files (project-wide analysis), located in `text` as it is now."""
    settings = settings or Settings()
    outcome = FixOutcome(text)
    current = text
    seen_texts = {current}
    pending = list(incoming)
    for _ in range(MAX_PASSES):
        findings, errors = _own_findings(path, current, settings, project)
        findings = sorted(findings + pending, key=Finding.sort_key)
        pending = []  # their positions hold for the original text only: offered in the first pass
        outcome.errors = errors
        fixable = [f for f in findings if applicable(f.fix, unsafe)]
        if not fixable:
            outcome.remaining = findings
            outcome.text = current
            return outcome
        chosen = _non_overlapping(fixable)
        new_text = apply_edits(current, [edit for finding in chosen for edit in finding.fix.edits])
        if not parses(new_text):
            new_text, chosen, dropped = _apply_one_by_one(current, chosen)
            outcome.problems += [f"{f.code} fix at {f.start.row}:{f.start.column} dropped: its result would not parse"
                                 for f in dropped]
            if not chosen:
                outcome.remaining = findings
                outcome.text = current
                return outcome
        outcome.fixed += chosen
        if new_text in seen_texts:
            break
        seen_texts.add(new_text)
        current = new_text
    else:
        outcome.problems.append(f"fixes still changing the file after {MAX_PASSES} passes; kept the last parseable result")
    outcome.text = current
    outcome.remaining, outcome.errors = _own_findings(path, current, settings, project)
    outcome.remaining += [f for f in incoming if not any(f is done for done in outcome.fixed)]
    return outcome


def _own_findings(path: str, text: str, settings: Settings, project) -> tuple[list[Finding], list]:
    """This file's findings (those found here but belonging to another file are that file's to fix)."""
    findings, errors = lint_source(path, text, settings, project=project)
    return [f for f in findings if f.path == path], errors


def _non_overlapping(findings: list[Finding]) -> list[Finding]:
    """Fixes in source order, skipping any whose edits touch a range an earlier one already edits."""
    taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
    chosen = []
    for finding in sorted(findings, key=lambda f: (f.fix.edits[0].start, f.code)):
        ranges = [((e.start.row, e.start.column), (e.end.row, e.end.column)) for e in finding.fix.edits]
        clash = False
        for start, end in ranges:
            for other_start, other_end in taken:
                if (start, end) == (other_start, other_end) and start == end:
                    continue  # the same insertion point (an import two fixes add): deduplicated when applied
                if start < other_end and other_start < end or start == other_start:
                    clash = True
        if not clash:
            taken += ranges
            chosen.append(finding)
    return chosen


def _apply_one_by_one(text: str, findings: list[Finding]) -> tuple[str, list[Finding], list[Finding]]:
    kept, dropped = [], []
    for finding in findings:
        candidate = apply_edits(text, [e for f in kept + [finding] for e in f.fix.edits])
        if parses(candidate):
            kept.append(finding)
        else:
            dropped.append(finding)
    return apply_edits(text, [e for f in kept for e in f.fix.edits]), kept, dropped


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply edits (character positions) from the end backwards; identical edits are applied once."""
    from initlint.noqa import split_lines

    starts = [0]
    for line in split_lines(text):
        starts.append(starts[-1] + len(line))

    def offset(row: int, column: int) -> int:
        base = starts[min(row - 1, len(starts) - 1)]
        return min(base + column - 1, len(text))

    unique = list(dict.fromkeys(edits))
    spans = sorted(((offset(e.start.row, e.start.column), offset(e.end.row, e.end.column), e.content) for e in unique),
                   key=lambda span: (span[0], span[1]), reverse=True)
    out = text
    for start, end, content in spans:
        out = out[:start] + content + out[end:]
    return out


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return False
    try:
        import libcst

        libcst.parse_module(text)
    except Exception:  # libcst raises its own ParserSyntaxError and friends
        return False
    return True


def encode_like(text: str, encoding: str, had_bom: bool) -> bytes:
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if had_bom else data


def write_atomic(path: str, data: bytes, expected_original: bytes | None = None) -> str | None:
    """Write through a temporary file in the same directory and rename it over `path`, keeping the mode.
    Returns a reason when nothing was written (the file changed on disk since it was read, or an OS error)."""
    try:
        if expected_original is not None:
            with open(path, "rb") as handle:
                if handle.read() != expected_original:
                    return "the file changed on disk while initlint ran; not overwritten"
        mode = os.stat(path).st_mode & 0o7777
        directory = os.path.dirname(os.path.abspath(path))
        fd, temp = tempfile.mkstemp(prefix=".initlint-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temp, mode)
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}"
    return None


@dataclass
class FileFix:
    path: str
    original: str
    outcome: FixOutcome
    write_error: str | None = None

    @property
    def changed(self) -> bool:
        return self.outcome.text != self.original

    def diff(self, display_path: str | None = None) -> str:
        return unified_diff(display_path or self.path, self.original, self.outcome.text)


def unified_diff(name: str, old: str, new: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))


def fix_file(path: str, settings: Settings | None = None, unsafe: bool = False, write: bool = True) -> FileFix | str:
    """Fix one file on disk. Returns the FileFix, or a one-line reason when the file cannot be read."""
    from initlint.source import DecodeError, decode_source

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return exc.strerror or str(exc)
    try:
        text, encoding, had_bom = decode_source(data)
    except DecodeError as exc:
        return str(exc)
    outcome = fix_text(path, text, settings, unsafe)
    result = FileFix(path, text, outcome)
    if write and result.changed:
        try:
            new_data = encode_like(outcome.text, encoding, had_bom)
        except UnicodeEncodeError:
            result.write_error = f"the fixed text cannot be encoded as {encoding}; not written"
            return result
        result.write_error = write_atomic(path, new_data, expected_original=data)
    return result
