"""Effective settings for one file: which rules run, and the options the engine and the fixes read.

Rule selection follows Ruff. Each layer (a config file's, then the command line's) is a RuleSelection: a layer
with `select` starts afresh, one without refines the layer below it. Within a layer the most specific matching
selector wins and an ignore wins a tie. Opt-in rules are switched on only by their full code. Per-file ignores
have the last word.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from initlint.files import GlobSet


@dataclass(frozen=True)
class RuleSelection:
    select: frozenset[str] | None = None  # None: keep what the layer below enabled
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()

    def decide(self, code: str, default_enabled: bool, below: bool) -> bool:
        best: tuple[int, bool] | None = None  # (specificity, is an ignore)
        for prefix in (self.select or frozenset()) | self.extend_select:
            if code.startswith(prefix) and (default_enabled or prefix == code):
                best = max(best or (-1, False), (len(prefix), False))
        for prefix in self.ignore:
            if code.startswith(prefix):
                best = max(best or (-1, False), (len(prefix), True))
        if best is None:
            return below if self.select is None else False
        return not best[1]


@dataclass(frozen=True)
class PerFileIgnore:
    pattern: str  # as written
    globs: GlobSet
    codes: frozenset[str]


@dataclass
class Settings:
    select: frozenset[str] | None = None  # the command line's layer; None: every rule enabled by default
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    inherited: tuple[RuleSelection, ...] = ()  # the layers below, e.g. from pyproject.toml
    per_file_ignores: tuple[PerFileIgnore, ...] = ()
    file_ignore: frozenset[str] = frozenset()  # the per-file ignores of one path, set by `for_path`
    unsafe_fixes: bool = False
    src: tuple[str, ...] = field(default=())  # absolute source roots

    def enabled(self, code: str, default_enabled: bool) -> bool:
        if any(code.startswith(prefix) for prefix in self.file_ignore):
            return False
        enabled = default_enabled
        for layer in (*self.inherited, RuleSelection(self.select, self.extend_select, self.ignore)):
            enabled = layer.decide(code, default_enabled, enabled)
        return enabled

    def for_path(self, path: str) -> "Settings":
        """These settings with the per-file ignores whose globs match `path` applied."""
        absolute = os.path.abspath(path)
        codes = frozenset(code for entry in self.per_file_ignores if entry.globs.matches(absolute)
                          for code in entry.codes)
        return replace(self, file_ignore=self.file_ignore | codes) if codes else self
