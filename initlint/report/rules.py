"""What every format and `initlint rule` say about a rule: code, name, summary, docs, URL, default."""

from __future__ import annotations

from initlint.engine import SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME

SYNTAX_ERROR_INFO = {
    "code": SYNTAX_ERROR_CODE,
    "name": SYNTAX_ERROR_NAME,
    "summary": "The file cannot be parsed as Python.",
    "explanation": (
        "## What it does\nReports a file that Python cannot parse, at the position the parser gives.\n\n"
        "## Why is this bad?\nNo other rule can analyse a file that does not parse."
    ),
    "url": None,
    "default_enabled": True,
}


def rule_infos() -> list[dict]:
    """Every rule, ordered by code, then the syntax-error pseudo-rule."""
    from initlint.rules import all_rules

    infos = [
        {"code": rule.code, "name": rule.name, "summary": rule.summary(), "explanation": rule.doc(),
         "url": rule.url(), "default_enabled": rule.default_enabled}
        for rule in all_rules()
    ]
    return infos + [SYNTAX_ERROR_INFO]


def rule_info_by_code() -> dict[str, dict]:
    return {info["code"]: info for info in rule_infos()}


def markdown_table() -> str:
    """The README's rule table: code, name, summary and whether the rule is on by default."""
    rows = ["| Code | Name | Summary | Default |", "| --- | --- | --- | --- |"]
    for info in rule_infos():
        summary = info["summary"].replace("|", "\\|")
        rows.append(f"| {info['code']} | `{info['name']}` | {summary} | {'on' if info['default_enabled'] else 'off'} |")
    return "\n".join(rows) + "\n"
