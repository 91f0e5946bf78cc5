"""The `github` format: GitHub Actions workflow commands, which annotate the lines in a pull request."""

from __future__ import annotations

import os

from initlint.findings import Finding
from initlint.report import located_message, display_path, sort_findings


def render_github(findings: list[Finding]) -> str:
    cwd = os.getcwd()
    lines = []
    for f in sort_findings(findings):
        properties = {"file": display_path(f.path, cwd), "line": f.start.row, "col": f.start.column,
                      "endLine": f.end.row, "endColumn": f.end.column, "title": f"{f.code} ({f.name})"}
        joined = ",".join(f"{key}={_escape(str(value), property=True)}" for key, value in properties.items())
        lines.append(f"::warning {joined}::{_escape(located_message(f))}\n")
    return "".join(lines)


def _escape(text: str, property: bool = False) -> str:
    """The escaping GitHub's workflow commands define (`%`, CR, LF; in properties also `:` and `,`)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text
