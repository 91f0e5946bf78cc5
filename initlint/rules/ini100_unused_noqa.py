from __future__ import annotations

import ast

from initlint.engine import SYNTAX_ERROR_CODE
from initlint.findings import Edit, Fix, Position
from initlint.noqa import CODE_PREFIX, UNUSED_NOQA_CODE, Directive, directives, render_directive
from initlint.rules.base import Rule, Violation


class UnusedNoqa(Rule):
    """## What it does
    Flags (opt-in) a `# noqa: INI...` comment naming a code that reports nothing on that line, or a code
    that does not exist.

    ## Why is this bad?
    The finding the comment once silenced has been fixed or has moved; the stale comment now only hides the
    next real finding of that code on the line, and tells readers the line has a problem it no longer has.

    A code counts as used when its rule would report on the line, whether or not the rule is enabled in
    this run, so selecting rules never makes `noqa` comments flip. Codes of other tools (`E501`, `F401`)
    and a blanket `# noqa` are left alone.

    ## Example
    ```python
    net = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 1))
    nn.init.xavier_uniform_(net[0].weight)  # noqa: INI001
    ```

    ## Use instead
    ```python
    net = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 1))
    nn.init.xavier_uniform_(net[0].weight)
    ```

    ## Fix safety
    Safe: the fix removes the unused codes, and the comment when none is left.
    """

    code = UNUSED_NOQA_CODE
    name = "unused-noqa"
    default_enabled = False
    invalid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 1))
nn.init.xavier_uniform_(net[0].weight)  # noqa: INI001
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")  # noqa: INI777
""",
    )
    valid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
nn.init.xavier_uniform_(net[0].weight)  # noqa: INI001
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 1))
nn.init.xavier_uniform_(net[0].weight)  # noqa: E501
""",
    )

    def check(self, model):
        from initlint.rules import rule_by_code

        coded = [d for d in directives(model.source.text).values() if d.codes]
        named = {code for d in coded for code in d.codes if code.startswith(CODE_PREFIX) and code != self.code}
        if not named:
            return
        rules = rule_by_code()
        reported = {(code, model.source.node_range(violation.node)[0].row)
                    for code in named & rules.keys() for violation in rules[code]().check(model)}
        for directive in coded:
            unused = [code for code in directive.codes if code.startswith(CODE_PREFIX) and code != self.code
                      and (code, directive.row) not in reported]
            if not unused:
                continue
            unknown = [code for code in unused if code not in rules and code != SYNTAX_ERROR_CODE]
            parts = [f"{label}: {', '.join(f'`{c}`' for c in codes)}" for label, codes in
                     (("unused", [c for c in unused if c not in unknown]), ("unknown", unknown)) if codes]
            line = model.source.line(directive.row)
            yield Violation(_node(line, directive), f"Unused `noqa` directive ({'; '.join(parts)})",
                            fix=_removal(line, directive, unused))


def _node(line: str, directive: Directive) -> ast.AST:
    """An AST-shaped location for the directive (byte columns, as the AST's are)."""
    def byte_column(column: int) -> int:
        return len(line[:column].encode("utf-8"))

    return ast.Constant(value=None, lineno=directive.row, col_offset=byte_column(directive.start),
                        end_lineno=directive.row, end_col_offset=byte_column(directive.end))


def _removal(line: str, directive: Directive, unused: list[str]) -> Fix:
    kept = [code for code in directive.codes if code not in unused]
    start, end = directive.start, directive.end
    if kept:
        content = render_directive(kept)
    elif not line[end:].strip():  # nothing after it: drop it with the spaces before it
        content, start, end = "", len(line[:start].rstrip()), len(line)
    else:
        content = "#" if start == directive.comment_start else ""  # keep the rest of the comment a comment
    message = "Remove unused codes from `noqa` directive" if kept else "Remove unused `noqa` directive"
    return Fix("safe", message, (Edit(content, Position(directive.row, start + 1), Position(directive.row, end + 1)),))
