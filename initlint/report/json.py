"""The `json` format: an array of objects shaped like Ruff's JSON output."""

from __future__ import annotations

import json
import os
from functools import lru_cache

from initlint.findings import Finding, Fix, Position
from initlint.report import sort_findings


def render_json(findings: list[Finding]) -> str:
    return json.dumps([finding_to_json(finding) for finding in sort_findings(findings)], indent=2, ensure_ascii=False) + "\n"


def finding_to_json(finding: Finding) -> dict:
    return {
        "code": finding.code,
        "name": finding.name,
        "message": finding.message,
        "filename": os.path.abspath(finding.path),
        "location": _location(finding.start),
        "end_location": _location(finding.end),
        "fix": None if finding.fix is None else fix_to_json(finding.fix),
        "url": _rule_urls().get(finding.code),
        "noqa_row": finding.noqa_row,
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


@lru_cache(maxsize=None)
def _rule_urls() -> dict[str, str]:
    from initlint.rules import all_rules

    return {rule.code: rule.url() for rule in all_rules()}
