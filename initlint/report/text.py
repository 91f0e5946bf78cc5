"""The line formats: `full` (message, source line and carets), `concise` (one line per finding) and `pylint`."""

from __future__ import annotations

import os
import unicodedata

from initlint.findings import Finding
from initlint.report import BOLD, CYAN, RED, display_path, fix_applies, paint, sort_findings


def render_concise(findings: list[Finding], color: bool = False, unsafe_fixes: bool = False) -> str:
    cwd = os.getcwd()
    return "".join(header(finding, cwd, color, unsafe_fixes) + "\n" for finding in sort_findings(findings))


def render_full(findings: list[Finding], color: bool = False, unsafe_fixes: bool = False) -> str:
    cwd = os.getcwd()
    blocks = []
    for finding in sort_findings(findings):
        lines = [header(finding, cwd, color, unsafe_fixes)]
        if finding.source_line:
            lines += [finding.source_line, paint(caret_line(finding), RED, color)]
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks)


def render_pylint(findings: list[Finding]) -> str:
    """`path:row: [CODE] message`, the format pylint's parsers (and Ruff's `pylint` format) expect."""
    cwd = os.getcwd()
    return "".join(f"{display_path(f.path, cwd)}:{f.start.row}: [{f.code}] {f.message}\n"
                   for f in sort_findings(findings))


def header(finding: Finding, cwd: str, color: bool = False, unsafe_fixes: bool = False) -> str:
    """`path:row:col: CODE [*] message` (`path:cell N:row:col: ...` in a notebook); `[*]` marks a fix that
    `initlint fix` would apply."""
    colon = paint(":", CYAN, color)
    parts = [paint(display_path(finding.path, cwd), BOLD, color)]
    if finding.extra.get("cell") is not None:
        parts.append(f"cell {finding.extra['cell']}")
    location = colon.join((*parts, str(finding.start.row), str(finding.start.column)))
    marker = " [*]" if fix_applies(finding, unsafe_fixes) else ""
    return f"{location}{colon} {paint(finding.code, BOLD + RED, color)}{marker} {finding.message}"


def caret_line(finding: Finding) -> str:
    """Carets under the finding's range on its first line; a multi-line range is clipped to the line end."""
    line = finding.source_line
    start = finding.start.column - 1
    end = finding.end.column - 1 if finding.end.row == finding.start.row else len(line)
    before = line[:start]
    # Whitespace is copied (a tab stays a tab) and wide characters count double, so the carets align.
    padding = "".join(char if char.isspace() else " " * _display_width(char) for char in before)
    padding += " " * (start - len(before))  # a column just past the end of the line
    width = sum(_display_width(char) for char in line[start:end])
    return padding + "^" * max(width, 1)


def summary(findings: list[Finding], unchecked: int = 0, unsafe_fixes: bool = False) -> str:
    """`Found N findings in M files.`, or `All checks passed!`; says how many paths were not checked and,
    as Ruff does, how many findings `initlint fix` can fix."""
    if findings:
        files = len({os.path.abspath(finding.path) for finding in findings})
        text = f"Found {_count(len(findings), 'finding')} in {_count(files, 'file')}."
        fixable = sum(1 for f in findings if fix_applies(f, unsafe_fixes))
        hidden = sum(1 for f in findings if fix_applies(f, True)) - fixable
        if fixable:
            text += f"\n[*] {fixable} fixable with `initlint fix`."
        if hidden:
            text += (f"\n{_count(hidden, 'hidden fix').replace('fixs', 'fixes')} can be enabled with the "
                     "`--unsafe-fixes` option.")
    elif not unchecked:
        return "All checks passed!"
    else:
        text = "No findings."
    if unchecked:
        text += f" {_count(unchecked, 'path')} could not be checked."
    return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _display_width(char: str) -> int:
    """Terminal columns a character occupies: 2 for wide East Asian characters, 0 for combining marks."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
