"""Every rule's own examples (as Fixit does): each invalid one is flagged by the rule, no valid one is."""

from __future__ import annotations

import textwrap

import pytest

from initlint.engine import lint_source
from initlint.rules import all_rules
from initlint.settings import Settings

RULES = all_rules()


def _codes(source: str, code: str) -> list:
    findings, errors = lint_source("example.py", textwrap.dedent(source), Settings(select=frozenset({code})))
    assert not errors, errors
    return [f for f in findings if f.code == code]


@pytest.mark.parametrize(
    "rule,source", [(rule, example) for rule in RULES for example in rule.invalid],
    ids=lambda value: value.code if isinstance(value, type) else "")
def test_invalid_example_is_flagged(rule, source):
    assert _codes(source, rule.code), f"{rule.code} did not flag:\n{source}"


@pytest.mark.parametrize(
    "rule,source", [(rule, example) for rule in RULES for example in rule.valid],
    ids=lambda value: value.code if isinstance(value, type) else "")
def test_valid_example_is_not_flagged(rule, source):
    assert not _codes(source, rule.code), f"{rule.code} flagged valid code:\n{source}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_has_ruff_shaped_doc_and_examples(rule):
    doc = rule.doc()
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert section in doc, f"{rule.code} doc lacks {section}"
    assert rule.invalid and rule.valid, f"{rule.code} needs invalid and valid examples"
    assert rule.name == rule.name.lower() and " " not in rule.name


def test_codes_and_names_are_unique():
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)
