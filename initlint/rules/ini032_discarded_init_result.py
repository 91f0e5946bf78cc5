from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.model.initops import strip_data
from initlint.rules import _dispatch as d
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

# torch functions that build a new tensor (never write their argument)
_TORCH_NEW_TENSOR = frozenset({
    "full", "zeros", "ones", "empty", "rand", "randn", "randint", "normal", "full_like", "zeros_like", "ones_like",
    "empty_like", "rand_like", "randn_like", "randint_like", "eye", "tensor", "as_tensor", "clone",
})
_TORCH_OUT_OF_PLACE = frozenset({"clamp", "clip", "mul", "div", "add", "sub", "abs", "neg", "sqrt", "pow", "exp", "log",
                                 "sign", "round", "floor", "ceil", "t", "transpose", "masked_fill", "where"})
_PARAM_SUFFIXES = ("_weight", "_bias")
_PARAM_ITERATORS = ("parameters", "named_parameters")


class DiscardedInitResult(Rule):
    """## What it does
    Flags an out-of-place tensor operation in init code whose result is thrown away: a bare statement such as
    `m.weight.data.mul(0.1)`, `p.clamp(-1, 1)`, `torch.full(p.size(), 0.5)`, `torch.zeros_like(m.bias)` or
    `nn.init.calculate_gain("relu")`.

    ## Why is this bad?
    `Tensor.mul`, `clamp`, `add` and the other methods without a trailing underscore return a new tensor and
    leave the parameter as it was; `torch.full(...)`/`torch.zeros_like(...)` build a new tensor; and
    `calculate_gain` only returns a number. As a statement on its own, each one is a no-op: the init the line
    was written for never happens. Use the in-place form (`mul_`, `clamp_`, `fill_`, `zero_`), assign the
    result (`with torch.no_grad(): p.copy_(...)`), or pass the gain to the init function.

    ## Example
    ```python
    for m in self.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            m.weight.data.mul(0.1)
    ```

    ## Use instead
    ```python
            m.weight.data.mul_(0.1)
    ```

    ## Fix safety
    No fix: whether the result should be assigned, copied in place or dropped is unclear from the code.
    """

    code = "INI032"
    name = "discarded-init-result"
    invalid = (
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.xavier_uniform_(self.fc.weight)
        self.fc.weight.data.mul(0.1)
""",
        """
import torch
import torch.nn as nn

def init_bias(model, value):
    for name, p in model.named_parameters():
        if "bias" in name:
            torch.full(p.size(), value)
""",
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.calculate_gain("relu")
        nn.init.xavier_uniform_(m.weight)
""",
    )
    valid = (
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.xavier_uniform_(self.fc.weight)
        self.fc.weight.data.mul_(0.1)
""",
        """
import torch
import torch.nn as nn

def init_bias(model, value):
    for name, p in model.named_parameters():
        if "bias" in name:
            with torch.no_grad():
                p.copy_(torch.full(p.size(), value))
""",
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Conv2d):
        gain = nn.init.calculate_gain("relu")
        nn.init.xavier_uniform_(m.weight, gain=gain)
""",
    )

    def check(self, model):
        for statement in d.nodes_of(model, ast.Expr):
            if not isinstance(statement.value, ast.Call):
                continue
            call = statement.value
            message = self._gain(model, call) or self._discarded(model, call)
            if message:
                yield Violation(call, message)

    @staticmethod
    def _gain(model, call) -> str | None:
        qualname = model.names.qualname(call.func) or ""
        if qualname in ("torch.nn.init.calculate_gain",):
            return (f"`{d.unparse(call)}` only returns the gain, and the result is discarded: no tensor is changed; "
                    f"pass it to the init (`gain=nn.init.calculate_gain(...)`) or drop the line")
        return None

    def _discarded(self, model, call) -> str | None:
        if not _init_context(model, call):
            return None
        func = call.func
        qualname = model.names.qualname(func) or ""
        if qualname.startswith("torch.") and qualname.count(".") == 1:
            name = qualname[6:]
            if name in _TORCH_NEW_TENSOR or name in _TORCH_OUT_OF_PLACE:
                mentioned = next((p for a in call.args[:1] + [k.value for k in call.keywords if k.arg == "input"]
                                  if (p := self._param_mention(model, a, call)) is not None), None)
                if mentioned is None:
                    return None
                fix = {"full": "fill_(...)", "full_like": "fill_(...)", "zeros": "zero_()", "zeros_like": "zero_()",
                       "ones": "fill_(1)", "ones_like": "fill_(1)", "randn_like": "normal_()",
                       "rand_like": "uniform_()", "clamp": "clamp_(...)", "clip": "clamp_(...)"}.get(name, "copy_(...)")
                hint = f"`{mentioned}.{fix}`"
                return (f"`{d.unparse(call)[:70]}` builds a new tensor and the result is discarded: `{mentioned}` is "
                        f"never changed; write it in place ({hint})")
            return None
        if not isinstance(func, ast.Attribute) or func.attr not in catalog.OUT_OF_PLACE_TENSOR_METHODS:
            return None
        if qualname.startswith(("torch.", "numpy.", "math.")):
            return None
        receiver = self._param_mention(model, func.value, call, whole=True)
        if receiver is None:
            return None
        return (f"`{d.unparse(call)[:70]}` returns a new tensor and the result is discarded: `{receiver}` is never "
                f"changed; use the in-place `{func.attr}_` (under `torch.no_grad()` for a parameter)")

    @staticmethod
    def _param_mention(model, expr, context, whole: bool = False) -> str | None:
        """The parameter-like tensor an expression is (`m.weight`, `p` of a parameters() loop), as written."""
        if expr is None:
            return None
        candidates = [expr] if whole else [n for n in walk(expr) if isinstance(n, (ast.Attribute, ast.Name))]
        for node in candidates:
            base, _ = strip_data(node)
            while isinstance(base, ast.Subscript):
                base, _ = strip_data(base.value)
            if isinstance(base, ast.Attribute):
                if base.attr in d.PARAM_NAMES or base.attr.endswith(_PARAM_SUFFIXES):
                    return d.unparse(base)
                if base is not node:  # `.data` stripped from something parameter-like
                    pass
            if isinstance(base, ast.Name) and _parameter_loop_variable(model, base.id, context):
                return base.id
            if whole and isinstance(node, ast.Attribute) and node.attr == "data":
                return d.unparse(node.value)
        return None


def _init_context(model, call) -> bool:
    """Init code, a loop over parameters(), or a function whose name says it initializes (`__init__`,
    `_init_weights`, `reset_parameters`)."""
    if d.in_init_code(model, call):
        return True
    function = d.enclosing_function(model, call)
    name = getattr(function, "name", "").lower()
    if "init" in name or "reset" in name:
        return True
    loop = model.enclosing(call, (ast.For, ast.AsyncFor))
    while loop is not None:
        if isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Attribute) \
                and loop.iter.func.attr in _PARAM_ITERATORS:
            return True
        loop = model.enclosing(loop, (ast.For, ast.AsyncFor))
    return False


def _parameter_loop_variable(model, name: str, context) -> bool:
    """`p` in `for p in model.parameters()` / `for n, p in model.named_parameters()` around the context."""
    loop = model.enclosing(context, (ast.For, ast.AsyncFor))
    while loop is not None:
        if isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Attribute) \
                and loop.iter.func.attr in _PARAM_ITERATORS:
            target = loop.target
            if isinstance(target, ast.Name) and target.id == name:
                return True
            if isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name) \
                    and target.elts[1].id == name:
                return True
        loop = model.enclosing(loop, (ast.For, ast.AsyncFor))
    return False
