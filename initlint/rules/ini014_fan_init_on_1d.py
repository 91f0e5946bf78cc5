from __future__ import annotations

import ast

from initlint.model.initops import split_param_target
from initlint.fixes import UNSAFE, FixBuilder
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

BIAS_NAMES = ("bias",)


def _is_bias_name(name: str | None) -> bool:
    return bool(name) and (name == "bias" or name.endswith("_bias") or name.startswith("bias_"))


class FanInitOn1d(Rule):
    """## What it does
    Flags Xavier, Kaiming or orthogonal init on a 1-D tensor (a bias, a norm layer's weight, every tensor of
    a `parameters()` loop without a `dim() > 1` guard), and `eye_`/`dirac_` on a tensor of the wrong rank.

    ## Why is this bad?
    Fan-in and fan-out are undefined for a vector: torch raises `ValueError: Fan in and fan out can not be
    computed for tensor with fewer than 2 dimensions` (`orthogonal_`: `Only tensors with 2 or more dimensions
    are supported`). A bias kept 2-D (`nn.Parameter(torch.zeros(n, 1))`) does not crash, but a fan-based init
    on it is still meaningless, so tensors named or registered as a bias are flagged too.

    ## Example
    ```python
    for p in model.parameters():
        nn.init.xavier_uniform_(p)
    ```

    ## Use instead
    ```python
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    ```

    ## Fix safety
    Unsafe: a `parameters()` loop gets an `if p.dim() > 1:` guard (1-D tensors then keep their previous
    values), and a fan-based init on a bias becomes `zeros_`.
    """

    code = "INI014"
    name = "fan-init-on-1d"
    invalid = (
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        nn.init.xavier_uniform_(self.fc.bias)
""",
        """
import torch.nn as nn

def init_all(model):
    for p in model.parameters():
        nn.init.kaiming_normal_(p)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.ReLU())
for name, p in net.named_parameters():
    if "weight" in name:
        nn.init.xavier_normal_(p)
""",
    )
    valid = (
        """
import torch.nn as nn

def init_all(model):
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
for name, p in net.named_parameters():
    if "weight" in name:
        nn.init.xavier_normal_(p)
    else:
        nn.init.zeros_(p)
""",
    )

    def check(self, model):
        reported: set[int] = set()
        # 1. what the semantic model resolved: a 1-D parameter reached by a fan-based init
        for node, event in model.events:
            op = event.op
            if op is None or id(op.node) in reported or not _needs_rank(op):
                continue
            if getattr(node, "branches", ()):
                continue  # a layer built only under a config option (`if use_bn:`): no crash claimed for it
            ndim = node.param_ndim(event.param)
            if ndim is not None and not _rank_ok(op, ndim):
                reported.add(id(op.node))
                fix = self._loop_guard_fix(model, op) or (self._zeros_fix(model, op) if _is_bias_name(event.param) else None)
                yield Violation(op.node, f"`{op.label}` on `{node.display}.{event.param}`, a {ndim}-D tensor "
                                         f"({node.cls}): {_error(op)}", fix)
        # 2. what the call says by itself: the target is a bias, or a loop variable over parameters()
        for op in model.init_ops:
            if id(op.node) in reported or not _needs_rank(op) or op.target is None:
                continue
            _base, param, _whole = split_param_target(op.target)
            if param is not None and _is_bias_name(param) and op.spec is not None and op.spec.min_dims >= 2:
                reported.add(id(op.node))
                yield Violation(op.node, f"`{op.label}` on a bias (`{ast.unparse(op.target)}`): {_error(op)}",
                                self._zeros_fix(model, op))
                continue
            if isinstance(op.target, ast.Name) and self._unguarded_parameter_loop(model, op):
                reported.add(id(op.node))
                yield Violation(op.node, f"`{op.label}` on every tensor of a `parameters()` loop, biases and norm "
                                         f"weights included: {_error(op)}; guard it with `if "
                                         f"{op.target.id}.dim() > 1:`", self._loop_guard_fix(model, op))

    @staticmethod
    def _zeros_fix(model, op):
        builder = FixBuilder(model)
        text, imports = builder.init_call(op, "zeros_")
        return builder.fix(UNSAFE, "Zero the bias instead", [builder.replace(op.node, text), *imports])

    @staticmethod
    def _loop_guard_fix(model, op):
        """`for p in m.parameters(): init(p)` -> guard the call with `if p.dim() > 1:`."""
        if not isinstance(op.target, ast.Name) or op.spec is None or op.spec.exact_dims:
            return None
        loop = model.enclosing(op.node, (ast.For,))
        if not isinstance(loop, ast.For) or not isinstance(loop.iter, ast.Call) \
                or not isinstance(loop.iter.func, ast.Attribute) \
                or loop.iter.func.attr not in ("parameters", "named_parameters"):
            return None
        loop_names = {n.id for n in walk(loop.target) if isinstance(n, ast.Name)}
        if op.target.id not in loop_names:
            return None
        builder = FixBuilder(model)
        statement = builder.statement_of(op.node)
        if statement is None:
            return None
        return builder.fix(UNSAFE, "Skip tensors with fewer than 2 dimensions",
                           [builder.wrap_in_if(statement, f"{op.target.id}.dim() > 1")])

    @staticmethod
    def _unguarded_parameter_loop(model, op) -> bool:
        loop = model.enclosing(op.node, (ast.For,))
        if not isinstance(loop, ast.For) or not isinstance(loop.iter, ast.Call):
            return False
        func = loop.iter.func
        if not (isinstance(func, ast.Attribute) and func.attr == "parameters" and not loop.iter.args):
            return False
        if not (isinstance(loop.target, ast.Name) and loop.target.id == op.target.id):
            return False
        # any condition between the loop and the call counts as a guard
        node = model.parents.get(op.node)
        while node is not None and node is not loop:
            if isinstance(node, (ast.If, ast.IfExp, ast.Try, ast.With)):
                return False
            node = model.parents.get(node)
        return True


def _needs_rank(op) -> bool:
    return op.spec is not None and (op.spec.min_dims >= 2 or bool(op.spec.exact_dims))


def _rank_ok(op, ndim: int) -> bool:
    if op.spec.exact_dims:
        return ndim in op.spec.exact_dims
    return ndim >= op.spec.min_dims


def _error(op) -> str:
    if op.spec.name.startswith("orthogonal"):
        return "ValueError: Only tensors with 2 or more dimensions are supported"
    if op.spec.exact_dims:
        dims = ", ".join(str(d) for d in op.spec.exact_dims)
        return f"ValueError: `{op.spec.name}` only supports tensors with {dims} dimensions"
    return "ValueError: Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
