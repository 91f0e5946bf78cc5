"""Output formats for findings; the helpers every format shares live here."""

from __future__ import annotations

import os
from collections.abc import Iterable

from initlint.findings import Finding

OUTPUT_FORMATS = ("full", "concise", "json")
DEFAULT_OUTPUT_FORMAT = "full"


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


def render(findings: list[Finding], output_format: str, *, unchecked: int = 0, quiet: bool = False) -> str:
    """The whole report as text. `unchecked` counts the paths that could not be checked."""
    from initlint.report import json, text

    if output_format == "json":
        return json.render_json(findings)
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}")
    body = text.render_full(findings) if output_format == "full" else text.render_concise(findings)
    return body if quiet else body + text.summary(findings, unchecked) + "\n"
