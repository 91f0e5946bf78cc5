"""initlint as a flake8 plugin: `flake8 --select INI` reports what `initlint check` reports, at the same columns.

The findings come from `initlint.engine.lint_source`, the one implementation. flake8 decides which codes to
show from its own select/ignore; the plugin only keeps opt-in rules (INI005, INI100, ...) off unless their
full code is named in `--select` or `--extend-select`, as `initlint check` does. (flake8's
`extend_default_ignore` cannot do that: a user's `ignore =` drops it, and `--select INI` would turn them on.)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from initlint import __version__
from initlint.engine import SYNTAX_ERROR_CODE, lint_source
from initlint.settings import Settings


class Plugin:
    name = "initlint"
    version = __version__
    opt_in_selected: frozenset[str] = frozenset()

    def __init__(self, tree: ast.AST, lines: list[str], filename: str) -> None:
        # flake8 needs `tree` to run an AST plugin; the engine parses the text itself.
        self.lines = lines
        self.filename = filename

    @classmethod
    def parse_options(cls, options) -> None:
        from initlint.rules import all_rules

        named = {code.strip().upper() for option in ("select", "extend_select")
                 for code in (getattr(options, option, None) or ())}
        cls.opt_in_selected = frozenset(rule.code for rule in all_rules()
                                        if not rule.default_enabled and rule.code in named)

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        findings, errors = lint_source(self.filename, "".join(self.lines), Settings(extend_select=self.opt_in_selected))
        for finding in findings:
            if finding.code != SYNTAX_ERROR_CODE:  # flake8 reports E999 itself
                # flake8 adds 1 to the 0-based column a plugin returns; initlint's columns are 1-based.
                yield finding.start.row, finding.start.column - 1, f"{finding.code} {finding.message}", type(self)
        for error in errors:
            yield 1, 0, f"{SYNTAX_ERROR_CODE} initlint could not analyse this file: {error.reason}", type(self)
