"""The `sarif` format: SARIF 2.1.0 for code-scanning services, with each rule's metadata and documentation."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from initlint import __version__
from initlint.findings import Finding
from initlint.report import located_message, sort_findings
from initlint.report.rules import rule_info_by_code

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"
INFORMATION_URI = "https://github.com/initlint/initlint"


def render_sarif(findings: list[Finding]) -> str:
    ordered = sort_findings(findings)
    infos = rule_info_by_code()
    codes = sorted({f.code for f in ordered})
    index = {code: position for position, code in enumerate(codes)}
    cwd = os.getcwd()
    run = {
        "tool": {"driver": {"name": "initlint", "version": __version__, "informationUri": INFORMATION_URI,
                            "rules": [_rule(code, infos.get(code)) for code in codes]}},
        "originalUriBaseIds": {SOURCE_ROOT: {"uri": Path(cwd).as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code], cwd) for f in ordered],
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False) + "\n"


def _rule(code: str, info: dict | None) -> dict:
    if info is None:  # a code no rule defines (a test's fake finding): still a valid descriptor
        return {"id": code}
    rule = {
        "id": code,
        "name": info["name"],
        "shortDescription": {"text": info["summary"]},
        "fullDescription": {"text": info["summary"]},
        "help": {"text": info["explanation"], "markdown": info["explanation"]},
        "defaultConfiguration": {"level": "warning", "enabled": info["default_enabled"]},
        "properties": {"tags": ["initialization"]},
    }
    if info["url"]:
        rule["helpUri"] = info["url"]
    return rule


def _result(f: Finding, rule_index: int, cwd: str) -> dict:
    return {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": "warning",
        "message": {"text": located_message(f)},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(f.path, cwd),
            "region": {"startLine": f.start.row, "startColumn": f.start.column,
                       "endLine": f.end.row, "endColumn": max(f.end.column, 1)},
        }}],
    }


def _artifact(path: str, cwd: str) -> dict:
    """A URI relative to the working directory (the repository root in CI) when the file lies under it."""
    absolute = os.path.abspath(path)
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        relative = os.path.relpath(absolute, cwd).replace(os.sep, "/")
        return {"uri": quote(relative), "uriBaseId": SOURCE_ROOT}
    return {"uri": Path(absolute).as_uri()}
