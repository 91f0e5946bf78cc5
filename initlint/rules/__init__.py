"""The rule registry: every module in this package named `iniNNN_*` defines one rule."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from initlint.rules.base import Rule, Violation

__all__ = ["Rule", "Violation", "all_rules", "rule_by_code", "resolve_rule"]


@lru_cache(maxsize=None)
def all_rules() -> tuple[type[Rule], ...]:
    rules: list[type[Rule]] = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("ini"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                rules.append(value)
    rules.sort(key=lambda rule: rule.code)
    return tuple(rules)


def rule_by_code() -> dict[str, type[Rule]]:
    return {rule.code: rule for rule in all_rules()}


def resolve_rule(code_or_name: str) -> type[Rule] | None:
    for rule in all_rules():
        if code_or_name.upper() == rule.code or code_or_name == rule.name:
            return rule
    return None
