"""Effective settings for a run (the CLI and, later, `pyproject.toml` fill them)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Settings:
    select: frozenset[str] | None = None  # None: every rule enabled by default
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()

    def enabled(self, code: str, default_enabled: bool) -> bool:
        if any(code.startswith(prefix) for prefix in self.ignore if _specific(prefix, code, self.select, self.extend_select)):
            return False
        chosen = self.extend_select | (self.select or frozenset())
        if any(code == prefix for prefix in chosen):
            return True  # an opt-in rule named by its full code
        if self.select is None:
            return default_enabled and not any(code.startswith(p) for p in self.ignore)
        if not default_enabled:
            return False  # opt-in rules are switched on only by their full code
        return any(code.startswith(prefix) for prefix in chosen)


def _specific(ignore_prefix: str, code: str, select, extend_select) -> bool:
    """Ruff's precedence: the more specific of a select and an ignore prefix wins."""
    chosen = [p for p in (select or frozenset()) | extend_select if code.startswith(p)]
    return not chosen or len(ignore_prefix) >= max(len(p) for p in chosen)
