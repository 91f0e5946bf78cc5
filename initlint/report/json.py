"""The `json` format (an array of objects shaped like Ruff's JSON output) and `json-lines` (one per line)."""

from __future__ import annotations

import json
import os

from initlint.findings import Finding, Fix, Position
from initlint.report import sort_findings
from initlint.report.rules import rule_info_by_code


def render_json(findings: list[Finding]) -> str:
    return json.dumps(_records(findings), indent=2, ensure_ascii=False) + "\n"


def render_json_lines(findings: list[Finding]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in _records(findings))


def _records(findings: list[Finding]) -> list[dict]:
    infos = rule_info_by_code()
    return [finding_to_json(finding, infos) for finding in sort_findings(findings)]


def finding_to_json(finding: Finding, infos: dict[str, dict] | None = None) -> dict:
    info = (infos if infos is not None else rule_info_by_code()).get(finding.code, {})
    return {
        "code": finding.code,
        "name": finding.name,
        "message": finding.message,
        "filename": os.path.abspath(finding.path),
        "location": _location(finding.start),
        "end_location": _location(finding.end),
        "fix": None if finding.fix is None else fix_to_json(finding.fix),
        "url": info.get("url"),
        "noqa_row": finding.noqa_row,
        **({"cell": finding.extra["cell"]} if finding.extra.get("cell") is not None else {}),
    }


def fix_to_json(fix: Fix) -> dict:
    return {
        "applicability": fix.applicability,
        "message": fix.message,
        "edits": [
            {"content": edit.content, "location": _location(edit.start), "end_location": _location(edit.end)}
            for edit in fix.edits
        ],
    }


def _location(position: Position) -> dict:
    return {"row": position.row, "column": position.column}
