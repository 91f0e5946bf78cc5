from __future__ import annotations

import ast

from initlint.model.entities import ModuleNode
from initlint.model.walker import NodeInstance
from initlint.rules._structural import describe_nodes, enclosing_function, line_of, op_label
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_GUARDS = ("has_uninitialized_params", "UninitializedParameter", "UninitializedBuffer", "is_lazy",
           "initialize_parameters")


def _forward_before(model, anchor: ast.AST) -> bool:
    """Whether the function around `anchor` calls a module (a dry-run forward) before it: `model(x)`, `self(x)`,
    `net.forward(x)`."""
    function = enclosing_function(model, anchor)
    scope = function if function is not None else model.tree
    limit = line_of(anchor)
    for node in walk(scope):
        if not isinstance(node, ast.Call) or line_of(node) >= limit:
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "forward":
            return True
        if isinstance(func, ast.Name) and func.id == "self":
            return True
        if isinstance(func, ast.Name) and isinstance(model.script_values.get(func.id), (NodeInstance, ModuleNode)):
            return True
        if isinstance(func, ast.Name) and _bound_to_model(model, scope, func.id):
            return True
    return False


def _has_guard(model) -> bool:
    """The file checks for uninitialized parameters somewhere (`has_uninitialized_params()`,
    `isinstance(p, UninitializedParameter)`): it knows about lazy modules; trust it."""
    for node in walk(model.tree):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name in _GUARDS:
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name).split(".")[-1] in _GUARDS:
            return True
    return False


def _bound_to_model(model, scope: ast.AST, name: str) -> bool:
    """A local name assigned from a model class of the file (`model = Net()`) or a Sequential."""
    for node in walk(scope):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            qualname = model.names.qualname(node.value.func) or ""
            if qualname.startswith("<local>.") and qualname[8:] in model.classes:
                return True
            if qualname in ("torch.nn.Sequential",):
                return True
    return False


class InitOnLazyModule(Rule):
    """## What it does
    Flags `nn.init` (or an in-place tensor init) applied to a parameter of a lazy module (`LazyLinear`,
    `LazyConv2d`, `LazyBatchNorm1d`, ...) before its first forward pass, directly or through `apply` / a
    `modules()` loop (`isinstance(m, nn.Linear)` is true for a `LazyLinear`).

    ## Why is this bad?
    Until the first forward, a lazy module's parameters are `UninitializedParameter`s with no shape. `nn.init`
    functions raise (`ValueError: Attempted to use an uninitialized parameter`, or a `RuntimeError` for the fan
    based ones). Writing through `.data` is worse: `.data` is an empty placeholder, the write succeeds and is
    lost, and the first forward materializes the weight with `reset_parameters()` defaults.

    ## Example
    ```python
    self.fc = nn.LazyLinear(256)
    nn.init.kaiming_normal_(self.fc.weight)
    ```

    ## Use instead
    ```python
    self.fc = nn.LazyLinear(256)
    ...
    model(torch.zeros(1, *input_shape))  # dry run: materializes the parameters
    nn.init.kaiming_normal_(model.fc.weight)
    ```

    ## Fix safety
    No fix: the init has to move after the first forward (a dry run), which restructures the code.
    """

    code = "INI041"
    name = "init-on-lazy-module"
    invalid = (
        """
import torch.nn as nn

class Head(nn.Module):
    def __init__(self, n_out):
        super().__init__()
        self.fc = nn.LazyLinear(n_out)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
""",
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        m.weight.data.normal_(0.0, 0.02)

net = nn.Sequential(nn.LazyConv2d(32, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
net.apply(init_weights)
""",
    )
    valid = (
        """
import torch
import torch.nn as nn

def init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)

net = nn.Sequential(nn.LazyConv2d(32, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
net(torch.zeros(1, 3, 32, 32))
net.apply(init_weights)
""",
        """
import torch.nn as nn
from torch.nn.parameter import UninitializedParameter

def init_weights(m):
    if isinstance(m, nn.Linear) and not isinstance(m.weight, UninitializedParameter):
        nn.init.xavier_uniform_(m.weight)

net = nn.Sequential(nn.LazyLinear(64), nn.ReLU(), nn.Linear(64, 10))
net.apply(init_weights)
""",
    )

    def check(self, model):
        lazy = [n for n in model.layers() if n.spec is not None and n.spec.lazy and any(e.op for e in n.events)]
        if not lazy or _has_guard(model):
            return
        groups: dict[int, tuple] = {}
        for node in lazy:
            for event in node.events:
                if event.op is None:
                    continue
                anchor = event.dispatch.call if event.dispatch is not None else event.op.node
                if _forward_before(model, anchor) or _forward_before(model, event.op.node):
                    continue
                entry = groups.setdefault(id(event.op.node), (event.op, []))
                if all(n is not node for n in entry[1]):
                    entry[1].append(node)
        for op, nodes in groups.values():
            if op.uses_data:
                effect = ("`.data` of an uninitialized parameter is an empty placeholder: the write is lost (or a "
                          "fan-based init raises), and the first forward materializes the weight with the default "
                          "init")
            else:
                effect = (f"{'its' if len(nodes) == 1 else 'their'} parameters are UninitializedParameter until the "
                          "first forward, so this raises (`ValueError: Attempted to use an uninitialized parameter`)")
            yield Violation(op.node, f"{op_label(op)} reaches the lazy {describe_nodes(nodes)} before any forward: "
                                     f"{effect}; run a dry forward first, or initialize in a hook after it")
