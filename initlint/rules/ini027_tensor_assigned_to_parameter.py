from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.model.names import torch_nn_name
from initlint.rules.base import Rule, Violation
from initlint.rules.ini026_inplace_on_leaf_parameter import (
    NEW_TENSOR_METHODS, TENSOR_FACTORIES, ParamIndex, nodes_of, param_index, is_param_name, is_parameter_call, short,
)
from initlint.model.syntax import walk

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_MODULE_ITERATORS = ("modules", "children", "named_modules", "named_children")


class TensorAssignedToParameter(Rule):
    """## What it does
    Flags a plain tensor assigned to a registered parameter attribute: `self.fc.weight = torch.randn(...)`,
    `m.bias = torch.zeros(n)`, `layer.weight = other.weight.clone()`, `self.weight = torch.ones(d)` in a class
    that registered `self.weight` as an `nn.Parameter` (or extends a torch layer that has a `weight`).

    The value is a tensor when it comes from a torch factory (`torch.randn`, `zeros`, `ones`, `empty`, `full`,
    `tensor`, `eye`, `arange`, `linspace`, `from_numpy`, `*_like`, `cat`, ...), `.clone()`/`.detach()`, or
    arithmetic on one; wrapping it in `nn.Parameter(...)` is the fix. `self.weight = torch.randn(...)` in a class
    that never registers `weight` as a parameter only creates a plain attribute and is not flagged.

    ## Why is this bad?
    `nn.Module.__setattr__` refuses it: `TypeError: cannot assign 'torch.FloatTensor' as parameter 'weight'
    (torch.nn.Parameter or None expected)`. Even when it is done through a path that does not raise (`del` then
    assign), the tensor would not be a parameter: the optimizer would never see it.

    ## Example
    ```python
    def init_weights(m):
        if isinstance(m, nn.Linear):
            m.weight = torch.randn(m.out_features, m.in_features) * 0.01
    ```

    ## Use instead
    ```python
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
    ```
    or `m.weight = nn.Parameter(torch.randn(m.out_features, m.in_features) * 0.01)`.
    ## Fix safety
    No fix: wrapping the tensor in `nn.Parameter` or copying into the parameter under `torch.no_grad()` mean different things (a new parameter the optimizer may not hold, or the same one).
    """

    code = "INI027"
    name = "tensor-assigned-to-parameter"
    invalid = (
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 10)
        self.fc.weight = torch.randn(10, 128) * 0.01
        self.fc.bias = torch.zeros(10)
""",
        """
import torch
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Linear):
        m.weight = torch.empty(m.out_features, m.in_features).uniform_(-0.1, 0.1)

model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
model.apply(init_weights)
""",
        """
import torch
import torch.nn as nn

class Scale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def reset_parameters(self):
        self.gamma = torch.ones_like(self.gamma)
""",
    )
    valid = (
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 10)
        self.fc.weight = nn.Parameter(torch.randn(10, 128) * 0.01)
        self.fc.bias = None
        self.weight = torch.ones(10)
        self.register_buffer("mask", torch.ones(10))
        self.mask = torch.zeros(10)
""",
        """
import torch
import torch.nn as nn

class Loss(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.ce = nn.CrossEntropyLoss()
        self.ce.weight = torch.ones(n)

def tie(decoder, encoder):
    decoder.weight = encoder.weight
""",
    )

    def check(self, model):
        index = param_index(model)
        assigned = {id(event.report_node): event for _node, event in model.events
                    if event.op is not None and event.op.family == "assign" and not event.op.uses_data}
        for node in nodes_of(model, ast.Assign, ast.AnnAssign):
            if node.value is None:
                continue
            if not _plain_tensor(model, node.value):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not isinstance(target, ast.Attribute) or target.attr == "data":
                    continue
                evidence = self._registered(model, index, target, node, assigned)
                if evidence is None:
                    continue
                yield Violation(target, f"`{short(target)} = {short(node.value, 40)}` assigns a plain tensor to "
                                        f"{evidence}: TypeError: cannot assign 'torch.FloatTensor' as parameter "
                                        f"'{target.attr}' (torch.nn.Parameter or None expected); wrap it in "
                                        f"`nn.Parameter(...)` or copy it in with `nn.init`/`torch.no_grad()`")

    def _registered(self, model, index: ParamIndex, target: ast.Attribute, stmt: ast.AST, assigned) -> str | None:
        """Why `target` is a registered parameter, or None."""
        name = target.attr
        base = target.value
        if isinstance(base, ast.Name) and base.id == "self":
            klass = index.enclosing_class(stmt)
            if klass is None:
                return None
            facts = index.facts(klass)
            function = model.enclosing(stmt, _FUNCTIONS)
            if function is not None and _deleted_before(function, name, stmt):
                return None
            line = facts.params.get(name)
            if line is not None:
                in_init = function is not None and function.name == "__init__"
                if not in_init or line < stmt.lineno:
                    return f"`self.{name}`, registered as an `nn.Parameter`" + (f" at line {line}" if line else "")
                return None
            if name in facts.layer_params and name not in facts.buffers \
                    and model.classes.get(klass.name) is not None and not model.classes[klass.name].has_unknown_base:
                return f"`self.{name}`, a parameter of the `{model.classes[klass.name].catalog_base}` the class extends"
            return None
        event = assigned.get(id(target))
        if event is not None:
            return f"the parameter `{name}` of {_layer_of(model, event)}"
        if not is_param_name(name):
            return None
        layer = self._module_evidence(model, base, stmt)
        if layer is not None:
            return f"the parameter `{name}` of {layer}"
        return None

    def _module_evidence(self, model, base: ast.expr, stmt: ast.AST) -> str | None:
        """Evidence that `base` is a torch layer: an `isinstance` test, a `modules()` loop, a layer constructor."""
        text = ast.unparse(base)
        function = model.enclosing(stmt, _FUNCTIONS) or model.tree
        # `if isinstance(m, nn.Linear): m.weight = ...`
        parent = model.parents.get(stmt)
        while parent is not None and parent is not function:
            if isinstance(parent, ast.If):
                for call in walk(parent.test):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "isinstance" \
                            and len(call.args) == 2 and ast.unparse(call.args[0]) == text:
                        classes = call.args[1].elts if isinstance(call.args[1], ast.Tuple) else [call.args[1]]
                        layers = [torch_nn_name(model.names.qualname(c)) for c in classes]
                        if layers and all(l in catalog.LAYERS for l in layers):
                            return f"`{text}` (`{'`/`'.join(layers)}`, by the `isinstance` test)"
            parent = model.parents.get(parent)
        # `x = nn.Linear(...)` in the same function, or `self.x = nn.Linear(...)` in the class
        for node in walk(function):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                    and any(ast.unparse(t) == text for t in node.targets):
                layer = torch_nn_name(model.names.qualname(node.value.func))
                if layer in catalog.LAYERS:
                    return f"`{text}` (an `nn.{layer}`, line {node.lineno})"
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "self":
            klass = model.enclosing(stmt, (ast.ClassDef,))
            model_class = model.classes.get(klass.name) if klass is not None else None
            node = model_class.attributes.get(base.attr) if model_class is not None else None
            if node is not None and node.spec is not None:
                return f"`{text}` (an `nn.{node.cls}`)"
        return None


def _plain_tensor(model, expr: ast.expr) -> bool:
    """A tensor that is not a Parameter: a factory's result, `.clone()`, arithmetic on a tensor."""
    if isinstance(expr, ast.Call):
        if is_parameter_call(model, expr):
            return False
        qualname = model.names.qualname(expr.func) or ""
        if qualname in TENSOR_FACTORIES:
            return True
        if qualname.startswith("torch.nn.init.") and expr.args:
            return _plain_tensor(model, expr.args[0])
        if isinstance(expr.func, ast.Attribute):
            if expr.func.attr in NEW_TENSOR_METHODS:
                return True
            return _plain_tensor(model, expr.func.value)  # torch.empty(...).uniform_(...), torch.randn(...).cuda()
        return False
    if isinstance(expr, ast.BinOp):
        return _plain_tensor(model, expr.left) or _plain_tensor(model, expr.right)
    return False


def _deleted_before(function: ast.AST, name: str, stmt: ast.AST) -> bool:
    for node in walk(function):
        if isinstance(node, ast.Delete) and node.lineno < stmt.lineno:
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == name and isinstance(target.value, ast.Name) \
                        and target.value.id == "self":
                    return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "delattr" \
                and node.lineno < stmt.lineno and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value == name:
            return True
    return False


def _layer_of(model, event) -> str:
    for node, candidate in model.events:
        if candidate is event:
            return f"`{node.display}` ({node.cls})"
    return "a layer"
