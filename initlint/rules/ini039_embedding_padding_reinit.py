from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.rules._structural import (
    RANDOM_FAMILIES, chain, enclosing_class, enclosing_function, line_of, op_label, unparse, unsubscript,
)
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk


def padding_arg(node) -> ast.expr | None:
    """The padding_idx an Embedding was built with, None when it has none (absent or a literal None)."""
    expr = node.args.get("padding_idx")
    if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
        return None
    return expr


def _rezeroes(model, scope: ast.AST, weight: list[str] | None, after_line: int) -> bool:
    """Whether `scope` writes a row of an embedding weight (the padding row) or refills it, after `after_line`.

    Any subscripted write of a `.weight` counts (`m.weight[m.padding_idx].zero_()`,
    `init.zeros_(module.weight[module.padding_idx])`, `emb.weight.data[0] = 0`), as does
    `_fill_padding_idx_with_zero()` or `reset_parameters()`.
    """
    for node in walk(scope):
        if getattr(node, "lineno", 0) < after_line:
            continue
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("_fill_padding_idx_with_zero", "reset_parameters"):
                return True
        targets: list[ast.AST] = []
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript) and _is_weight(unsubscript(target)[0], weight):
                return True
    for op in model.init_ops:
        if op.node.lineno < after_line or not _inside(op.node, scope):
            continue
        target = op.target
        if isinstance(target, ast.Subscript) and _is_weight(unsubscript(target)[0], weight):
            return True
    return False


def _is_weight(expr: ast.AST | None, weight: list[str] | None) -> bool:
    found = chain(expr)
    if not found or found[-1] != "weight":
        return False
    return weight is None or found == weight or found[1:] == weight[1:]


def _inside(node: ast.AST, scope: ast.AST) -> bool:
    return getattr(scope, "lineno", 0) <= node.lineno <= getattr(scope, "end_lineno", 10 ** 9)


class EmbeddingPaddingReinit(Rule):
    """## What it does
    Flags a re-initialization of an `nn.Embedding` (or `EmbeddingBag`) built with `padding_idx` that draws the
    whole weight again (`normal_`, `uniform_`, `trunc_normal_`, `xavier_*`, ...) without zeroing the padding
    row afterwards.

    ## Why is this bad?
    `nn.Embedding.reset_parameters` draws N(0, 1) and then zeroes the `padding_idx` row; the row gets no
    gradient, so it stays zero for the whole training. A custom re-init overwrites that row with random
    values, and because it never receives a gradient, the padding token keeps a random, non-zero vector
    forever: every padded position adds noise to sums, means and attention inputs.

    ## Example
    ```python
    self.item_embedding = nn.Embedding(n_items, d, padding_idx=0)
    ...
    if isinstance(module, (nn.Linear, nn.Embedding)):
        module.weight.data.normal_(mean=0.0, std=self.initializer_range)
    ```

    ## Use instead
    ```python
    if isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, std=self.initializer_range)
        if module.padding_idx is not None:
            nn.init.zeros_(module.weight[module.padding_idx])
    ```

    ## Fix safety
    No fix: re-zeroing the padding row needs a statement after the init whose place depends on the code.
    """

    code = "INI039"
    name = "embedding-padding-reinit"
    invalid = (
        """
import torch.nn as nn

class SASRec(nn.Module):
    def __init__(self, n_items, hidden_size, initializer_range=0.02):
        super().__init__()
        self.initializer_range = initializer_range
        self.item_embedding = nn.Embedding(n_items, hidden_size, padding_idx=0)
        self.position_embedding = nn.Embedding(50, hidden_size)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=self.initializer_range)
""",
        """
import torch.nn as nn

class TextEncoder(nn.Module):
    def __init__(self, vocab_size, dim, pad_id):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=pad_id)
        nn.init.xavier_uniform_(self.embed.weight)
""",
    )
    valid = (
        """
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, vocab_size, dim):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
            if module.padding_idx is not None:
                nn.init.zeros_(module.weight[module.padding_idx])
""",
        """
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, vocab_size, dim):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=None)
        self.pos = nn.Embedding(512, dim)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos.weight, std=0.02)
""",
        """
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, vocab_size, dim, pad):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=pad)
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        self.embed.weight.data[pad].zero_()
""",
    )

    def check(self, model):
        groups: dict[int, tuple] = {}
        for node in model.layers():
            if node.spec is None or node.spec.kind != catalog.EMBEDDING or node.spec.lazy:
                continue
            padding = padding_arg(node)
            if padding is None:
                continue
            events = [e for e in node.events if e.param == "weight"]
            redraw = None
            for index, event in enumerate(events):
                if event.op is None:
                    redraw = None  # reset_parameters(): zeroes the row again
                    continue
                target = event.op.target
                if isinstance(target, ast.Subscript):
                    redraw = None  # a row written (the padding row, as a rule)
                    continue
                if event.op.family in RANDOM_FAMILIES:
                    redraw = event
            if redraw is None:
                continue
            op = redraw.op
            function = enclosing_function(model, op.node)
            weight = chain(unsubscript(op.target)[0])
            scopes = [s for s in (function,) if s is not None]
            if weight and weight[0] == "self":
                klass = enclosing_class(model, op.node)
                if klass is not None:
                    scopes.append(klass)
            if redraw.dispatch is not None and not isinstance(redraw.dispatch.call, ast.Call):
                scopes.append(redraw.dispatch.call)
            if any(_rezeroes(model, scope, None if scope is function else weight,
                             line_of(op.node) if scope is function else 0) for scope in scopes):
                continue
            groups.setdefault(id(op.node), (op, []))[1].append((node, padding))
        for op, nodes in groups.values():
            names = ", ".join(f"`{n.display}` (padding_idx={unparse(p, 30)}, line {line_of(n.node)})"
                              for n, p in nodes[:3])
            more = f" and {len(nodes) - 3} more" if len(nodes) > 3 else ""
            yield Violation(op.node, f"{op_label(op)} re-draws the whole weight of {names}{more} without zeroing "
                                     "the padding row again: the padding token gets a random vector that never "
                                     "receives a gradient; zero `weight[padding_idx]` after the init")
