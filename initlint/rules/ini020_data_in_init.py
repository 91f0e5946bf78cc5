from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.findings import Edit, Position
from initlint.fixes import SAFE, UNSAFE, FixBuilder
from initlint.model.names import init_function_name
from initlint.rules.base import Rule, Violation
from initlint.rules.ini026_inplace_on_leaf_parameter import (
    TENSOR_FACTORIES,
    ParamIndex,
    data_node,
    init_context,
    method_to_init_fix,
    nodes_of,
    param_index,
    short,
    strip_subscripts,
)
from initlint.model.syntax import walk

# Tensor methods that are an initialization wherever they appear (random or constant fills).
_FILL_METHODS = frozenset(catalog.INPLACE_TENSOR_INITS) - {"copy_"}
# In-place methods that are an initialization only in init code (elsewhere: EMA, weight clipping, SGD steps).
_UPDATE_METHODS = frozenset({
    "copy_", "mul_", "div_", "add_", "sub_", "clamp_", "clamp_min_", "clamp_max_", "clip_", "masked_fill_",
    "index_fill_", "index_copy_", "scatter_", "renorm_", "addcmul_", "addcdiv_", "lerp_", "set_",
})
_INIT_MODULES = ("torch.nn.init.", "transformers.initialization.", "timm.layers.")
_KEYWORD_ALIASES = {"value": "val"}
_WHY = "bypasses autograd's version counter and hides in-place errors"


class DataInInit(Rule):
    """## What it does
    Flags `.data` in initialization code: `m.weight.data.normal_(0, 0.02)`, `m.bias.data.fill_(0)`,
    `.data.zero_()`, `nn.init.xavier_uniform_(m.weight.data)`, and, in init code (`__init__`, `*init*` and
    `reset*` functions, functions passed to `apply`), `.data.copy_(t)`, `.data.mul_(s)`, `p.data = t` and
    `p.data[i] = v` on a parameter.

    Reading `.data` (`w = m.weight.data.clone()`) and `.data` on buffers or local tensors are not flagged,
    nor are updates outside init code (EMA, weight clipping).

    ## Why is this bad?
    `.data` is legacy. The `nn.init` functions already write under `torch.no_grad()`, so `.data` adds nothing
    there. Elsewhere it silently skips autograd's version counter: if a tensor is changed through `.data`
    between a forward and its backward, the backward uses the new values and returns wrong gradients without
    any error, where `with torch.no_grad():` would raise `one of the variables needed for gradient computation
    has been modified by an inplace operation`. `p.data = t` can even change the parameter's shape unnoticed.

    ## Example
    ```python
    def weights_init(m):
        if isinstance(m, nn.Conv2d):
            m.weight.data.normal_(0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            m.bias.data.fill_(0)
    ```

    ## Use instead
    ```python
    def weights_init(m):
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    ```

    ## Fix safety
    Safe: `X.data.normal_(...)`, `.uniform_(...)`, `.fill_(v)` and `.zero_()` become `nn.init.normal_(X, ...)`,
    `nn.init.uniform_`, `nn.init.constant_` and `nn.init.zeros_` with the arguments as written, and
    `nn.init.xavier_uniform_(X.data)` loses its `.data`. `nn.init` does the same write under `torch.no_grad()`;
    the only difference is that the write now bumps the tensor's version counter, which matters only to a
    backward pass still pending over the old values, and init code has none (if one exists, it now raises
    instead of returning wrong gradients). Only whole expression statements are fixed: `w = X.data.normal_()`
    binds the detached `.data` tensor, where `nn.init.normal_` returns the parameter itself (which requires
    grad), so a used result would change meaning. The file's own spelling of `nn.init` is used; an import is
    added only when there is none.

    Unsafe: a `X.data.copy_(t)` statement becomes `with torch.no_grad():` + `X.copy_(t)` (only when the file
    imports torch; just `.data` dropped where grad is already off). The copy then bumps the parameter's version
    counter too, and `copy_` is the write that also shows up where weights move between live models (loading,
    EMA, weight surgery inside `reset*`/`*init*` functions), where a graph may still need the old values: its
    backward would then raise instead of silently using the new ones. The statement also moves into a new block.

    No fix for `p.data = t` (it rebinds the parameter's storage: `b.weight.data = a.weight.data` ties two
    layers, and `copy_` would not), for `.data` inside larger expressions or with a used result, for updates
    without an `nn.init` equivalent (`.data.mul_(s)`), for third-party init functions given `.data` (they may not
    write under no-grad), and for calls with `*args`, `**kwargs` or `generator=`.
    """

    code = "INI020"
    name = "data-in-init"
    invalid = (
        """
import torch.nn as nn

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)
""",
        """
import torch.nn as nn
from torch.nn.init import xavier_normal_

class Encoder(nn.Module):
    def __init__(self, n_items, dim):
        super().__init__()
        self.embedding = nn.Embedding(n_items, dim)
        self.proj = nn.Linear(dim, dim)
        xavier_normal_(self.embedding.weight.data)
        self.proj.bias.data.zero_()
""",
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        for p in self.parameters():
            p.data = torch.randn_like(p) * 0.01
""",
    )
    valid = (
        """
import torch.nn as nn

def weights_init(m):
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
""",
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        self.register_buffer("mask", torch.ones(4, 16))
        self.mask.data.fill_(1.0)
        self.snapshot = self.fc.weight.data.clone()

def soft_update(target, source, tau):
    for t, s in zip(target.parameters(), source.parameters()):
        t.data.copy_(tau * s.data + (1 - tau) * t.data)
""",
    )

    def check(self, model):
        index = param_index(model)
        reported: set[int] = set()

        def report(node: ast.AST, message: str, fix=None):
            if id(node) in reported:
                return None
            reported.add(id(node))
            return Violation(node, message, fix)

        # 1. init calls: nn.init / wrappers given `.data`, tensor methods on `.data`
        for op in model.init_ops:
            if not op.uses_data or op.target is None:
                continue
            tensor, _viewed = strip_subscripts(op.target)
            if op.tensor_method:
                node = data_node(op.node.func.value)
                if node is None or not index.is_param(tensor, op.node):
                    continue
                if op.name == "copy_" and not init_context(model, op.node):
                    continue
                violation = report(node, _method_message(op.node, op.target), _method_fix(model, op.node, index))
            else:
                node = _data_argument(op.node)
                if node is None or _local_plain_tensor(model, tensor, op.node):
                    continue
                violation = report(node, f"`{short(op.node)}` passes `.data`: {op.label} already writes under "
                                         f"`torch.no_grad()`, and `.data` {_WHY}; pass `{short(op.target)}`",
                                   _argument_fix(model, op, node))
            if violation:
                yield violation

        for node in model.calls:
            # 2. in-place methods the model does not count as init ops
            if isinstance(node.func, ast.Attribute):
                method = node.func.attr
                data = data_node(node.func.value)
                if data is None or id(data) in reported or not (method in _FILL_METHODS or method in _UPDATE_METHODS):
                    continue
                if not index.is_param(strip_subscripts(data.value)[0], node):
                    continue
                if method in _UPDATE_METHODS and not init_context(model, node):
                    continue
                violation = report(data, _method_message(node, _without_data(node.func.value)))
            # an init function taken as an argument: `def normal_init(m, normal_func=nn.init.normal_)`
            elif node.args and (data := data_node(node.args[0])) is not None and _init_function_parameter(model, node):
                if not index.is_param(strip_subscripts(data.value)[0], node):
                    continue
                violation = report(data, f"`{short(node)}` passes `.data` to an `nn.init` function (the default of "
                                         f"`{node.func.id}`), which already writes under `torch.no_grad()`; `.data` "
                                         f"{_WHY}; pass `{short(_without_data(node.args[0]))}`")
            else:
                continue
            if violation:
                yield violation
        # 3. `p.data = t`, `p.data[i] = v`, `p.data *= s`
        for node in nodes_of(model, ast.Assign, ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                data = data_node(target)
                if data is None or id(data) in reported:
                    continue
                tensor, _ = strip_subscripts(data.value)
                if not index.is_param(tensor, node):
                    continue
                if not init_context(model, node) and not (isinstance(node, ast.Assign) and _makes_tensor(model, node.value)):
                    continue
                violation = report(data, _assign_message(node, target, tensor))
                if violation:
                    yield violation


# ------------------------------------------------------------------------------------------------- fixes

def _whole_statement(model, call: ast.Call) -> ast.Expr | None:
    """The expression statement `call` is, or None when its value is used (assigned, returned, chained)."""
    statement = model.parents.get(call)
    return statement if isinstance(statement, ast.Expr) and statement.value is call else None


def _drop_data(builder: FixBuilder, data: ast.Attribute) -> Edit | None:
    """Delete the `.data` of `m.weight.data` (None when it is split over lines)."""
    _start, cut_start = builder.source.node_range(data.value)
    _start, cut_end = builder.source.node_range(data)
    if cut_start.row != cut_end.row:
        return None
    return Edit("", cut_start, cut_end)


def _method_fix(model, call: ast.Call, index: ParamIndex):
    """`m.weight.data.normal_(0, 0.02)` -> `nn.init.normal_(m.weight, 0, 0.02)`; `p.data.copy_(t)` ->
    `with torch.no_grad():` + `p.copy_(t)`. Only for a whole expression statement: `.data.normal_()` returns the
    detached `.data` tensor where `nn.init.normal_` returns the parameter itself, so a used result would change."""
    if _whole_statement(model, call) is None:
        return None
    builder = FixBuilder(model)
    if call.func.attr == "copy_":
        return _copy_fix(builder, call, index)
    return method_to_init_fix(builder, call, SAFE)


def _copy_fix(builder: FixBuilder, call: ast.Call, index: ParamIndex):
    data = data_node(call.func.value)
    removal = _drop_data(builder, data) if data is not None else None
    if removal is None:
        return None
    if index.no_grad(call):
        return builder.fix(UNSAFE, "Drop `.data` (the copy already runs under no-grad)", [removal])
    no_grad = _no_grad_spelling(builder.model)
    statement = _whole_statement(builder.model, call)
    indent = builder.indentation(statement)
    if no_grad is None or indent is None or builder._ends_mid_line(statement) or _multiline_string(statement):
        return None
    first, last = statement.lineno, statement.end_lineno or statement.lineno
    lines = [builder.source.line(row) for row in range(first, last + 1)]
    row = removal.start.row - first
    lines[row] = lines[row][:removal.start.column - 1] + lines[row][removal.end.column - 1:]
    step = "\t" if indent.startswith("\t") else "    "
    newline = builder.newline()
    text = f"{indent}with {no_grad}:" + newline + newline.join(step + line if line.strip() else line for line in lines)
    edit = Edit(text, Position(first, 1), Position(last, len(builder.source.line(last)) + 1))
    return builder.fix(UNSAFE, f"Copy under `with {no_grad}:` instead of through `.data`", [edit])


def _no_grad_spelling(model) -> str | None:
    """`torch.no_grad()` with the file's alias of torch (or an imported `no_grad`); None when there is neither."""
    for local, qualname in model.names.aliases.items():
        if qualname == "torch":
            return f"{local}.no_grad()"
    for local, qualname in model.names.aliases.items():
        if qualname == "torch.no_grad":
            return f"{local}()"
    return None


def _multiline_string(statement: ast.stmt) -> bool:
    """A string literal over several lines, whose text re-indenting would change."""
    return any(isinstance(node, (ast.Constant, ast.JoinedStr)) and (node.end_lineno or node.lineno) != node.lineno
               for node in walk(statement))


def _argument_fix(model, op, data: ast.Attribute):
    """`nn.init.xavier_uniform_(m.weight.data)` -> `nn.init.xavier_uniform_(m.weight)`, for torch's own init
    functions (they write under `torch.no_grad()`; a third-party wrapper may not), as a whole statement (the
    function returns the tensor it is given: `.data` or the parameter)."""
    qualname = model.names.qualname(op.node.func) or ""
    if op.spec is None or op.wrapper is not None or not qualname.startswith("torch.nn.init.") \
            or _whole_statement(model, op.node) is None:
        return None
    builder = FixBuilder(model)
    return builder.fix(SAFE, f"Pass `{short(_without_data(op.node.args[0] if op.node.args else data))}` itself",
                       [_drop_data(builder, data)])


def _method_message(call: ast.Call, tensor: ast.expr) -> str:
    method = call.func.attr
    replacement = catalog.INPLACE_TENSOR_INITS.get(method) or ("trunc_normal_" if method == "trunc_normal_" else None)
    if replacement and replacement != method or method in ("normal_", "uniform_", "trunc_normal_"):
        args = ", ".join([ast.unparse(tensor), *(ast.unparse(a) for a in call.args),
                          *(f"{_KEYWORD_ALIASES.get(k.arg, k.arg)}={ast.unparse(k.value)}" for k in call.keywords if k.arg)])
        suggestion = f"nn.init.{replacement}({args})"
        if len(suggestion) > 70:
            suggestion = f"nn.init.{replacement}({short(tensor)}, ...)"
    else:
        suggestion = f"with torch.no_grad(): {short(tensor)}.{method}(...)"
    return f"`{short(call)}` writes through `.data`, which {_WHY}; use `{suggestion}`"


def _assign_message(node: ast.AST, target: ast.expr, tensor: ast.expr) -> str:
    if isinstance(node, ast.AugAssign):
        return (f"`{short(target)} ...= ...` writes through `.data`, which {_WHY}; use `with torch.no_grad():` "
                f"and write to `{short(tensor)}` itself")
    if isinstance(target, ast.Subscript):
        return (f"`{short(target)} = ...` writes through `.data`, which {_WHY}; use `with torch.no_grad():` "
                f"and write to `{short(_without_data(target))}`")
    shared = data_node(node.value) if isinstance(node, ast.Assign) else None
    if shared is not None:
        return (f"`{short(target)} = {short(node.value, 40)}` swaps the parameter's tensor behind autograd's back "
                f"(no version-counter bump; a changed shape goes unnoticed); to share it assign the parameter itself "
                f"(`{short(tensor)} = {short(shared.value, 40)}`), to copy it use `with torch.no_grad(): "
                f"{short(tensor)}.copy_(...)`")
    return (f"`{short(target)} = ...` swaps the parameter's tensor behind autograd's back (no version-counter bump; a "
            f"changed shape goes unnoticed); use `with torch.no_grad(): {short(tensor)}.copy_(...)`")


def _data_argument(call: ast.Call) -> ast.Attribute | None:
    if call.args:
        return data_node(call.args[0])
    for keyword in call.keywords:
        if keyword.arg == "tensor":
            return data_node(keyword.value)
    return None


def _without_data(expr: ast.expr) -> ast.expr:
    if isinstance(expr, ast.Attribute) and expr.attr == "data":
        return expr.value
    if isinstance(expr, ast.Subscript):
        return ast.Subscript(value=_without_data(expr.value), slice=expr.slice, ctx=expr.ctx)
    return expr


def _init_function_parameter(model, call: ast.Call) -> bool:
    """`normal_func(...)` where `normal_func` is a parameter whose default is an `nn.init` function."""
    if not isinstance(call.func, ast.Name):
        return False
    function = model.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef))
    while function is not None:
        arguments = function.args
        positional = arguments.posonlyargs + arguments.args
        defaults = dict(zip([a.arg for a in positional[len(positional) - len(arguments.defaults):]], arguments.defaults))
        defaults.update({a.arg: d for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None})
        if call.func.id in defaults:
            qualname = model.names.qualname(defaults[call.func.id]) or ""
            return qualname.startswith(_INIT_MODULES) and init_function_name(qualname) is not None
        if any(a.arg == call.func.id for a in positional + arguments.kwonlyargs):
            return False
        function = model.enclosing(function, (ast.FunctionDef, ast.AsyncFunctionDef))
    return False


def _makes_tensor(model, expr: ast.expr) -> bool:
    """The value is a new tensor from a torch factory: `torch.randn(...) * 0.01`, `torch.zeros_like(p)`,
    `torch.empty(n).uniform_(-a, a)` (a factory merely used as an argument, `f(torch.eye(n))`, does not count)."""
    if isinstance(expr, ast.Call):
        if (model.names.qualname(expr.func) or "") in TENSOR_FACTORIES:
            return True
        return isinstance(expr.func, ast.Attribute) and _makes_tensor(model, expr.func.value)
    if isinstance(expr, ast.BinOp):
        return _makes_tensor(model, expr.left) or _makes_tensor(model, expr.right)
    return False


def _local_plain_tensor(model, tensor: ast.expr, at: ast.AST) -> bool:
    """A local variable assigned a torch factory's result in the same function: not a parameter."""
    if not isinstance(tensor, ast.Name):
        return False
    function = model.enclosing(at, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or model.tree
    for node in walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == tensor.id for t in node.targets):
            if isinstance(node.value, ast.Call) and (model.names.qualname(node.value.func) or "") in TENSOR_FACTORIES:
                return True
    return False
