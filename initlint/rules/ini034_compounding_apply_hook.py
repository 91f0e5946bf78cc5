from __future__ import annotations

import ast

from initlint.model.walker import FuncRef
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_ITERATORS = ("modules", "parameters", "named_parameters", "children", "named_modules", "named_children", "buffers")
_RESCALES = ("mul_", "div_", "add_", "sub_", "clamp_", "pow_")


class CompoundingApplyHook(Rule):
    """## What it does
    Flags a hook passed to `Module.apply` that changes state beyond the module it receives: it iterates or
    rescales the whole model (`self.modules()`, `self.parameters()`), rescales every parameter of its module's
    subtree (`for p in m.parameters(): p.mul_(s)`), or mutates a global.

    ## Why is this bad?
    `apply` calls the hook once per submodule, children first. Whatever the hook does to more than its own
    module is done again for every submodule: a rescale by 0.5 of the whole model becomes 0.5**N, a loop over
    `m.parameters()` (which recurses) rescales a deep layer once per ancestor, a global counter counts
    modules, not models.

    ## Example
    ```python
    def init(m):
        for p in m.parameters():
            p.data.mul_(0.1)

    model.apply(init)
    ```

    ## Use instead
    ```python
    def init(m):
        for p in m.parameters(recurse=False):
            p.data.mul_(0.1)
    ```

    ## Fix safety
    No fix: whether the hook should touch only its module or should run once outside `apply` is a design choice.
    """

    code = "INI034"
    name = "compounding-apply-hook"
    invalid = (
        """
import torch.nn as nn

def init(m):
    for p in m.parameters():
        p.data.mul_(0.1)

net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
net.apply(init)
""",
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.apply(self._rescale)

    def _rescale(self, module):
        with torch.no_grad():
            for p in self.parameters():
                p.mul_(0.5)
""",
        """
import torch.nn as nn

COUNT = 0

def init(m):
    global COUNT
    COUNT += 1
    if isinstance(m, nn.Linear):
        nn.init.zeros_(m.bias)

nn.Sequential(nn.Linear(2, 2)).apply(init)
""",
    )
    valid = (
        """
import torch.nn as nn

def init(m):
    for p in m.parameters(recurse=False):
        p.data.mul_(0.1)

net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
net.apply(init)
""",
        """
import torch.nn as nn

def init(m):
    if isinstance(m, nn.Linear):
        for name, p in m.named_parameters():
            if "weight" in name:
                nn.init.xavier_uniform_(p)

nn.Sequential(nn.Linear(2, 2), nn.Tanh()).apply(init)
""",
    )

    def check(self, model):
        seen: set[int] = set()
        for call, _fn_expr, fn, _root in model.apply_calls:
            if not isinstance(fn, FuncRef) or not isinstance(fn.function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            function = fn.function
            if id(function) in seen:
                continue
            seen.add(id(function))
            params = [a.arg for a in function.args.posonlyargs + function.args.args]
            self_name = params[0] if fn.bound_self is not None and params else None
            module_param = params[1] if self_name and len(params) > 1 else (params[0] if params else None)
            if module_param is None:
                continue
            for node, reason in _compounding(function, module_param, self_name):
                yield Violation(node, f"`{function.name}` runs once per submodule through `apply` (line {call.lineno}) "
                                      f"but {reason}: the effect compounds")
                break


def _compounding(function: ast.AST, module_param: str, self_name: str | None):
    for node in walk(function):
        if isinstance(node, ast.Global):
            yield node, f"mutates the global `{', '.join(node.names)}`"
        elif isinstance(node, (ast.For, ast.AsyncFor)) and _is_iteration(node.iter):
            receiver = node.iter.func.value  # type: ignore[union-attr]
            method = node.iter.func.attr  # type: ignore[union-attr]
            on_module = isinstance(receiver, ast.Name) and receiver.id == module_param
            recurses = not any(k.arg == "recurse" and isinstance(k.value, ast.Constant) and k.value.value is False
                               for k in node.iter.keywords)  # type: ignore[union-attr]
            what = ast.unparse(node.iter)
            if not on_module and _writes(node.body):
                yield node, f"writes to every tensor of `{what}`, not just to `{module_param}`"
            elif on_module and recurses and method in ("parameters", "named_parameters", "modules", "named_modules") \
                    and _rescales(node.body):
                yield node, (f"rescales every tensor of `{what}`, which recurses into submodules that `apply` "
                             "also visits (use recurse=False)")
        elif self_name and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _RESCALES and _rooted_at(node.func.value, self_name):
            yield node, f"rescales `{ast.unparse(node.func.value)}` of `{self_name}`, the whole model"


def _is_iteration(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in _ITERATORS


def _writes(body: list[ast.stmt]) -> bool:
    for statement in body:
        for node in walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.endswith("_") \
                    and not node.func.attr.startswith("_"):
                return True
            if isinstance(node, ast.AugAssign):
                return True
    return False


def _rescales(body: list[ast.stmt]) -> bool:
    for statement in body:
        for node in walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RESCALES:
                return True
            if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Mult, ast.Div, ast.Add, ast.Sub)):
                return True
    return False


def _rooted_at(expr: ast.expr, name: str) -> bool:
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return isinstance(expr, ast.Name) and expr.id == name
