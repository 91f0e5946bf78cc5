"""Output formats for findings; the helpers every format shares live here."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable

from initlint.findings import Finding

DEFAULT_OUTPUT_FORMAT = "full"
HUMAN_FORMATS = ("full", "concise")  # followed by a summary line
OUTPUT_FORMATS = ("full", "concise", "json", "json-lines", "github", "sarif", "junit", "pylint")

BOLD, RED, CYAN, RESET = "\x1b[1m", "\x1b[31m", "\x1b[36m", "\x1b[0m"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered by (absolute filename, row, column, code), the order every format prints."""
    return sorted(findings, key=lambda f: (os.path.abspath(f.path), f.start.row, f.start.column, f.code, f.message))


def display_path(path: str, cwd: str | None = None) -> str:
    """`path` relative to the working directory when it lies under it, otherwise as given."""
    cwd = cwd or os.getcwd()
    absolute = os.path.abspath(path)
    if absolute == cwd or absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return printable(os.path.relpath(absolute, cwd))
    return printable(path)


def printable(text: str) -> str:
    """`text` with control characters (a newline in a file name, say) escaped, so it stays on one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{RESET}" if color else text


def use_color(stream) -> bool:
    """Colour on a terminal only; NO_COLOR turns it off and FORCE_COLOR on (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


# Each format's module and function: only the one asked for is imported (start-up time).
_FORMATTERS = {
    "full": ("text", "render_full"), "concise": ("text", "render_concise"), "pylint": ("text", "render_pylint"),
    "json": ("json", "render_json"), "json-lines": ("json", "render_json_lines"),
    "github": ("github", "render_github"), "sarif": ("sarif", "render_sarif"), "junit": ("junit", "render_junit"),
}


def _formatter(output_format: str) -> Callable[..., str] | None:
    import importlib

    known = _FORMATTERS.get(output_format)
    if known is None:
        return None
    module, function = known
    return getattr(importlib.import_module(f"initlint.report.{module}"), function)


def render(findings: list[Finding], output_format: str, *, unchecked: int = 0, quiet: bool = False,
           color: bool = False, unsafe_fixes: bool = False) -> str:
    """The whole report as text. `unchecked` counts the paths that could not be checked."""
    from initlint.report import text

    formatter = _formatter(output_format)
    if formatter is None:
        raise ValueError(f"unknown output format {output_format!r}")
    if output_format in HUMAN_FORMATS:
        body = formatter(findings, color=color, unsafe_fixes=unsafe_fixes)
    else:
        body = formatter(findings)
    if output_format not in HUMAN_FORMATS or quiet:
        return body
    return body + text.summary(findings, unchecked, unsafe_fixes) + "\n"


def located_message(finding: Finding) -> str:
    """The message, prefixed with the notebook cell and line for formats that point at the file only."""
    cell = finding.extra.get("cell")
    return f"cell {cell}, line {finding.start.row}: {finding.message}" if cell is not None else finding.message


def fix_applies(finding: Finding, unsafe_fixes: bool) -> bool:
    return finding.fix is not None and (finding.fix.applicability == "safe" or unsafe_fixes)


def statistics(findings: list[Finding], unsafe_fixes: bool = False) -> list[dict]:
    """One record per code: how many findings, and whether any of them has a fix that would be applied."""
    counts = Counter(finding.code for finding in findings)
    names = {finding.code: finding.name for finding in findings}
    fixable = {finding.code for finding in findings
               if finding.fix is not None and (finding.fix.applicability == "safe" or unsafe_fixes)}
    return [{"code": code, "name": names[code], "count": count, "fixable": code in fixable}
            for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def render_statistics(findings: list[Finding], output_format: str, *, unchecked: int = 0, quiet: bool = False,
                      unsafe_fixes: bool = False) -> str:
    """`--statistics`: a count per rule (as JSON for the JSON formats), then the summary line."""
    import json

    from initlint.report import text

    records = statistics(findings, unsafe_fixes)
    if output_format in ("json", "json-lines"):
        return json.dumps(records, indent=2) + "\n"
    count_width = max((len(str(r["count"])) for r in records), default=1)
    code_width = max((len(r["code"]) for r in records), default=1)
    body = "".join(f"{r['count']:>{count_width}}\t{r['code']:<{code_width}}\t[{'*' if r['fixable'] else ' '}] "
                   f"{r['name']}\n" for r in records)
    return body if quiet else body + text.summary(findings, unchecked) + "\n"


class Progress:
    """`[####      ] 120/400 files` on stderr, only for a person watching: a terminal, many files, not CI.
    Redrawn when the shown fraction changes (never by time), erased when done."""

    MIN_FILES = 100
    WIDTH = 30

    def __init__(self, total: int, stream=None, enabled: bool = True) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = (enabled and total >= self.MIN_FILES and bool(isatty and isatty())
                        and not os.environ.get("CI"))
        self._shown = -1

    def advance(self, done: int) -> None:
        filled = done * self.WIDTH // self.total if self.total else self.WIDTH
        if not self.enabled or filled == self._shown:
            return
        self._shown = filled
        self.stream.write(f"\r[{'#' * filled}{' ' * (self.WIDTH - filled)}] {done}/{self.total} files")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._shown >= 0:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
