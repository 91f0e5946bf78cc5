"""The human formats: `full` (message, source line and carets) and `concise` (one line per finding)."""

from __future__ import annotations

import os
import unicodedata

from initlint.findings import Finding
from initlint.report import display_path, sort_findings


def render_concise(findings: list[Finding]) -> str:
    cwd = os.getcwd()
    return "".join(header(finding, cwd) + "\n" for finding in sort_findings(findings))


def render_full(findings: list[Finding]) -> str:
    cwd = os.getcwd()
    blocks = []
    for finding in sort_findings(findings):
        lines = [header(finding, cwd)]
        if finding.source_line:
            lines += [finding.source_line, caret_line(finding)]
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks)


def header(finding: Finding, cwd: str) -> str:
    """`path:row:col: CODE message`."""
    location = f"{display_path(finding.path, cwd)}:{finding.start.row}:{finding.start.column}"
    return f"{location}: {finding.code} {finding.message}"


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


def summary(findings: list[Finding], unchecked: int = 0) -> str:
    """`Found N findings in M files.`, or `All checks passed!`; says how many paths were not checked."""
    if findings:
        files = len({os.path.abspath(finding.path) for finding in findings})
        text = f"Found {_count(len(findings), 'finding')} in {_count(files, 'file')}."
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
