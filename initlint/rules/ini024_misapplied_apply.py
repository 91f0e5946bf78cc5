from __future__ import annotations

import ast

from initlint.fixes import SAFE, FixBuilder
from initlint.model.entities import UNKNOWN, ModuleNode
from initlint.rules import _dispatch as d
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

# torch functions whose result is a tensor
_TENSOR_FACTORIES = frozenset({
    "zeros", "ones", "empty", "full", "rand", "randn", "randint", "randperm", "arange", "linspace", "logspace", "eye",
    "tensor", "as_tensor", "from_numpy", "zeros_like", "ones_like", "empty_like", "full_like", "rand_like",
    "randn_like", "normal", "cat", "stack", "matmul", "mm", "bmm", "einsum",
})
_TENSOR_ATTRIBUTES = ("data", "grad")


class MisappliedApply(Rule):
    """## What it does
    Flags `Module.apply` used in a way that cannot work: the init function *called* instead of passed
    (`model.apply(init_weights())`), `apply` on a tensor (`self.fc(x).apply(fn)`, `layer.weight.apply(fn)`),
    or a function whose signature does not take exactly one module (`def init(m, std)` or `def init()`).

    ## Why is this bad?
    `Module.apply(fn)` calls `fn(module)` for every submodule. `apply(init_weights())` runs `init_weights`
    once with no module (TypeError for a missing argument) and passes its return value, None, to `apply`
    (`TypeError: 'NoneType' object is not callable`). A function needing two positional arguments, or none,
    fails on the first module. Tensors and parameters have no `apply` method (AttributeError).

    A factory that returns the init function (`model.apply(make_init(std=0.02))`) is correct and is not flagged;
    neither is `functools.partial(init, std=0.02)`.

    ## Example
    ```python
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)

    model.apply(init_weights())
    ```

    ## Use instead
    ```python
    model.apply(init_weights)
    ```

    ## Fix safety
    Safe: `apply(init_weights())` becomes `apply(init_weights)` when the call passes no argument and
    `init_weights` is an undecorated function of this file taking exactly one positional parameter (the module;
    `self` aside for a method) and no required keyword. The original line always raises TypeError (the call
    lacks the module, or `apply` is handed None), so nothing that worked changes. No fix when the call passes
    arguments (`functools.partial` may be what was meant), nor for the other misuses.
    """

    code = "INI024"
    name = "misapplied-apply"
    invalid = (
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)

model = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
model.apply(init_weights())
""",
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.apply(self._init_weights)

    def _init_weights(self, m, std):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
""",
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def reset(self):
        self.fc.weight.apply(lambda t: nn.init.zeros_(t))
""",
        """
import torch.nn as nn

def zero_init():
    for p in model.parameters():
        nn.init.zeros_(p)

model = nn.Sequential(nn.Linear(4, 4))
model.apply(zero_init)
""",
    )
    valid = (
        """
import torch.nn as nn

def make_init(std):
    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
    return init

model = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
model.apply(make_init(0.02))
""",
        """
import functools
import torch.nn as nn

def init(m, std=0.02):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=std)

model = nn.Sequential(nn.Linear(4, 4))
model.apply(init)
model.apply(functools.partial(init, std=0.01))
""",
        """
import torch

class Clamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clamp(0, 1)

def run(x):
    return Clamp.apply(x)
""",
    )

    def check(self, model):
        for call in d.nodes_of(model, ast.Call):
            if not (isinstance(call.func, ast.Attribute) and call.func.attr == "apply"):
                continue
            found = d.apply_argument(call)
            if found is None or d._call_name(call) != "apply":
                continue
            argument, receiver = found
            fix = None
            message = self._tensor_receiver(model, call, receiver)
            if not message:
                message = self._called_not_passed(model, call, argument, receiver)
                fix = _pass_function_fix(model, call, argument) if message else None
            if not message:
                message = self._arity(model, call, argument, receiver)
            if message:
                yield Violation(call, message, fix)

    # -------------------------------------------------------------------------- called, not passed

    def _called_not_passed(self, model, call, argument, receiver) -> str | None:
        if not isinstance(argument, ast.Call) or _class_like(model, receiver):
            return None
        qualname = model.names.qualname(argument.func) or ""
        if qualname.endswith("partial"):
            return None
        function, skip = d.resolve_function(model, argument.func, call)
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        name = function.name
        given = len([a for a in argument.args if not isinstance(a, ast.Starred)])
        if any(isinstance(a, ast.Starred) for a in argument.args) or any(k.arg is None for k in argument.keywords):
            return None
        required = _required_positional(function)[skip:]
        keywords = {k.arg for k in argument.keywords}
        missing = [p for p in required[given:] if p not in keywords]
        returns = _return_values(function)
        if _is_generator(function):
            return None
        if missing:
            return (f"`{d.unparse(argument)}` calls `{name}` instead of passing it: the call itself raises "
                    f"TypeError (missing argument `{missing[0]}`), and `apply` needs the function; "
                    f"write `{d.unparse(receiver)}.apply({d.unparse(argument.func)})`")
        if not returns:
            return (f"`{d.unparse(argument)}` calls `{name}` instead of passing it: `{name}` returns None, so "
                    f"`apply(None)` raises TypeError: 'NoneType' object is not callable; "
                    f"write `{d.unparse(receiver)}.apply({d.unparse(argument.func)})`")
        return None

    # ------------------------------------------------------------------------------------- arity

    def _arity(self, model, call, argument, receiver) -> str | None:
        if isinstance(argument, ast.Call) and not (model.names.qualname(argument.func) or "").endswith("partial"):
            return None
        function, skip = d.resolve_function(model, argument, call)
        if function is None or function.args.vararg is not None:
            return None
        if not (_module_receiver(model, call, receiver) or _init_like(model, function)):
            return None
        if isinstance(argument, ast.Call):  # partial(f, ...): keywords it binds are satisfied
            bound_keywords = {k.arg for k in argument.keywords}
        else:
            bound_keywords = set()
        positional = d.positional_params(function)[skip:]
        required = [p for p in _required_positional(function)[skip:] if p not in bound_keywords]
        kwonly = [a.arg for a, default in zip(function.args.kwonlyargs, function.args.kw_defaults)
                  if default is None and a.arg not in bound_keywords]
        label = "a lambda" if isinstance(function, ast.Lambda) else f"`{function.name}`"
        if not positional:
            return (f"{label} takes no positional argument, but `{d.unparse(receiver)}.apply` calls it with each "
                    f"submodule: TypeError: takes 0 positional arguments but 1 was given; give it a module parameter")
        if len(required) >= 2:
            return (f"{label} needs {len(required)} positional arguments ({', '.join(required)}), but "
                    f"`{d.unparse(receiver)}.apply` passes only the module: TypeError: missing argument "
                    f"`{required[1]}`; give it a default or bind it with `functools.partial`")
        if kwonly:
            return (f"{label} needs keyword argument `{kwonly[0]}`, which `{d.unparse(receiver)}.apply` never passes: "
                    f"TypeError; give it a default or bind it with `functools.partial`")
        return None

    # -------------------------------------------------------------------------------- tensor receiver

    def _tensor_receiver(self, model, call, receiver) -> str | None:
        evidence = _tensor_evidence(model, receiver, call, depth=0)
        if evidence is None:
            return None
        return (f"`{d.unparse(receiver)}` is {evidence}, and tensors have no `apply` method (AttributeError); "
                f"call `apply` on the module, or initialize the tensor with `nn.init` directly")


def _pass_function_fix(model, call: ast.Call, argument: ast.expr):
    """`apply(init_weights())` -> `apply(init_weights)`, when the call passes nothing and `init_weights` is a plain
    def (no decorator that could change what it is) taking exactly the one module argument `apply` gives it."""
    if not isinstance(argument, ast.Call) or argument.args or argument.keywords:
        return None
    function, skip = d.resolve_function(model, argument.func, call)
    if not isinstance(function, ast.FunctionDef):
        return None
    decorators = [dec for dec in function.decorator_list
                  if not (isinstance(dec, ast.Name) and dec.id in ("staticmethod", "classmethod"))]
    arguments = function.args
    if decorators or arguments.vararg is not None or len(d.positional_params(function)[skip:]) != 1 \
            or any(default is None for default in arguments.kw_defaults) or _is_generator(function):
        return None
    builder = FixBuilder(model)
    return builder.fix(SAFE, f"Pass `{builder.segment(argument.func)}` itself",
                       [builder.replace(argument, builder.segment(argument.func))])


def _required_positional(function) -> list[str]:
    args = function.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    return positional[:len(positional) - len(args.defaults)]


def _is_generator(function) -> bool:
    for node in walk(function):
        if isinstance(node, (ast.Yield, ast.YieldFrom)) and not _nested(function, node):
            return True
    return False


def _nested(function, node) -> bool:
    """Whether `node` sits inside a def/lambda nested in `function` (found by a second walk, no parent map)."""
    for inner in walk(function):
        if inner is not function and isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if any(n is node for n in walk(inner)):
                return True
    return False


def _return_values(function) -> list[ast.expr]:
    out = []
    for node in walk(function):
        if isinstance(node, ast.Return) and node.value is not None and not _nested(function, node):
            if isinstance(node.value, ast.Constant) and node.value.value is None:
                continue
            out.append(node.value)
    return out


def _class_like(model, receiver) -> bool:
    """`MyFunction.apply(...)`: an autograd Function, not a module instance."""
    if isinstance(receiver, ast.Name):
        if receiver.id[:1].isupper():
            return True
    if isinstance(receiver, ast.Attribute) and receiver.attr[:1].isupper():
        return True
    return False


def _module_receiver(model, call, receiver) -> bool:
    for apply_call, _fn_expr, _fn, root in model.apply_calls:
        if apply_call is call and root is not None:
            return True
    if isinstance(receiver, ast.Name) and receiver.id == "self":
        klass_node = model.enclosing(call, (ast.ClassDef,))
        return klass_node is not None and klass_node.name in model.classes
    return False


def _init_like(model, function) -> bool:
    """The function does init work: an nn.init call, an in-place init, or a `.weight`/`.bias` access."""
    for op in model.init_ops:
        if any(n is op.node for n in walk(function)):
            return True
    return False


def _tensor_evidence(model, expr, context, depth: int) -> str | None:
    """Why `expr` is a tensor (a phrase for the message), or None when it may not be."""
    if depth > 3 or expr is None:
        return None
    if isinstance(expr, ast.Attribute) and expr.attr in _TENSOR_ATTRIBUTES:
        return f"a tensor (its `.{expr.attr}`)"
    if isinstance(expr, ast.Attribute) and expr.attr in d.PARAM_NAMES:
        layer = _self_module(model, expr.value, context)
        if layer is not None and layer.kind != UNKNOWN and layer.spec is not None:
            return f"a Parameter of `{d.unparse(expr.value)}` ({layer.cls}), a tensor"
        return None
    if isinstance(expr, ast.Call):
        qualname = model.names.qualname(expr.func) or ""
        if qualname.startswith("torch.") and qualname.count(".") == 1 and qualname[6:] in _TENSOR_FACTORIES:
            return f"a tensor (what `{qualname}` returns)"
        layer = _self_module(model, expr.func, context)
        if layer is not None and layer.kind != UNKNOWN:
            return f"a tensor (the output of `{d.unparse(expr.func)}`, a {layer.cls})"
        return None
    if isinstance(expr, ast.Name):
        function = d.enclosing_function(model, context)
        if function is None or isinstance(function, ast.Lambda):
            return None
        values = [n.value for n in walk(function) if isinstance(n, ast.Assign) and len(n.targets) == 1
                  and isinstance(n.targets[0], ast.Name) and n.targets[0].id == expr.id]
        if any(isinstance(n, (ast.AugAssign, ast.AnnAssign, ast.For, ast.With)) and _binds(n, expr.id)
               for n in walk(function)):
            return None
        if len(values) != 1:
            return None
        inner = _tensor_evidence(model, values[0], context, depth + 1)
        if inner is not None:
            return f"{inner[:-1]}, assigned at line {values[0].lineno})" if inner.endswith(")") else inner
    return None


def _binds(node, name: str) -> bool:
    targets = []
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    elif isinstance(node, ast.For):
        targets = [node.target]
    elif isinstance(node, ast.With):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    return any(isinstance(t, ast.Name) and t.id == name for target in targets for t in walk(target))


def _self_module(model, expr, context) -> ModuleNode | None:
    """`self.fc` inside a module class: the submodule the class assigned there."""
    if not (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self"):
        return None
    klass_node = model.enclosing(context, (ast.ClassDef,))
    klass = model.classes.get(klass_node.name) if klass_node is not None else None
    if klass is None or klass.node is not klass_node:
        return None
    node = klass.attributes.get(expr.attr)
    return node if isinstance(node, ModuleNode) else None
