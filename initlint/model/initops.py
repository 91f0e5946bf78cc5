"""Recognise calls that write a tensor's values: `nn.init.*`, catalogued wrappers, in-place tensor methods."""

from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.model.entities import InitOp
from initlint.model.names import HF_INIT_MODULE, Names

# Tensor methods that (re)initialize in place, with the family each one amounts to.
_TENSOR_METHOD_FAMILY = {
    "normal_": catalog.FAM_NORMAL, "uniform_": catalog.FAM_UNIFORM, "fill_": catalog.FAM_CONSTANT,
    "zero_": catalog.FAM_CONSTANT, "copy_": "copy", "trunc_normal_": catalog.FAM_TRUNC_NORMAL,
}
_TENSOR_METHOD_PARAMS = {
    "normal_": ("mean", "std"), "uniform_": ("a", "b"), "fill_": ("val",), "zero_": (), "copy_": ("other",),
    "trunc_normal_": ("mean", "std", "a", "b"),
}
# Parameter names of torch's Tensor.uniform_ differ (`from`, `to`); keywords people write map onto ours.
_TENSOR_KEYWORD_ALIASES = {"from": "a", "to": "b", "value": "val", "src": "other"}


def strip_data(expr: ast.expr) -> tuple[ast.expr, bool]:
    """`m.weight.data` -> (`m.weight`, True); `m.weight.data[0]` keeps the subscript."""
    if isinstance(expr, ast.Attribute) and expr.attr == "data":
        return expr.value, True
    if isinstance(expr, ast.Subscript):
        inner, data = strip_data(expr.value)
        if data:
            return ast.Subscript(value=inner, slice=expr.slice, ctx=expr.ctx), True
    return expr, False


def bind_arguments(call: ast.Call, params: tuple[str, ...], skip_first: bool) -> tuple[ast.expr | None, dict[str, ast.expr]]:
    """Map a call's arguments onto parameter names; returns (first positional/`tensor`, the rest by name)."""
    args = list(call.args)
    first: ast.expr | None = None
    bound: dict[str, ast.expr] = {}
    if skip_first:
        if args and not isinstance(args[0], ast.Starred):
            first = args.pop(0)
    for name, value in zip(params, args):
        if isinstance(value, ast.Starred):
            break
        bound[name] = value
    for keyword in call.keywords:
        if keyword.arg is None:
            continue
        if skip_first and keyword.arg == "tensor":
            first = keyword.value
            continue
        bound[_TENSOR_KEYWORD_ALIASES.get(keyword.arg, keyword.arg)] = keyword.value
    return first, bound


def parse_init_call(call: ast.Call, names: Names) -> InitOp | None:
    """An InitOp for `call`, or None when the call does not write a tensor."""
    func = call.func
    qualname = names.qualname(func)
    if qualname:
        op = _parse_library_call(call, qualname)
        if op is not None:
            return op
    if isinstance(func, ast.Attribute) and func.attr in _TENSOR_METHOD_FAMILY:
        target, uses_data = strip_data(func.value)
        if qualname and qualname.startswith(("torch.", "math.", "numpy.")):
            return None  # torch.zero_(...) etc. are not tensor methods on a parameter
        _, bound = bind_arguments(call, _TENSOR_METHOD_PARAMS[func.attr], skip_first=False)
        return InitOp(call, func.attr, _TENSOR_METHOD_FAMILY[func.attr], bound, target, tensor_method=True,
                      uses_data=uses_data, label=f".{func.attr}()")
    return None


def _parse_library_call(call: ast.Call, qualname: str) -> InitOp | None:
    module, _, name = qualname.rpartition(".")
    if module not in ("torch.nn.init", HF_INIT_MODULE) and qualname not in catalog.WRAPPERS:
        return None  # most calls: decided before the label is spelled out
    label = _label(call.func)
    if module in ("torch.nn.init", HF_INIT_MODULE):
        real = catalog.DEPRECATED_INIT_ALIASES.get(name, name)
        spec = catalog.INIT_FUNCTIONS.get(real)
        if spec is None:
            wrapper = catalog.WRAPPERS.get(qualname)
            if wrapper is not None:
                return _wrapper_op(call, wrapper, label)
            if name == "calculate_gain" or name.startswith("_"):
                return None
            # A name torch.nn.init does not have: INI028 reads it from here.
            target, bound = bind_arguments(call, (), skip_first=True)
            target, uses_data = strip_data(target) if target is not None else (None, False)
            return InitOp(call, name, "nonexistent", bound, target, uses_data=uses_data, label=label)
        target, bound = bind_arguments(call, spec.params, skip_first=True)
        uses_data = False
        if target is not None:
            target, uses_data = strip_data(target)
        return InitOp(call, name, spec.family, bound, target, uses_data=uses_data, spec=spec, label=label)
    wrapper = catalog.WRAPPERS.get(qualname)
    if wrapper is not None:
        return _wrapper_op(call, wrapper, label)
    return None


def _wrapper_op(call: ast.Call, wrapper: catalog.WrapperSpec, label: str) -> InitOp:
    target, bound = bind_arguments(call, wrapper.params, skip_first=True)
    uses_data = False
    if target is not None:
        target, uses_data = strip_data(target)
    spec = catalog.INIT_FUNCTIONS.get(wrapper.torch_equivalent or "")
    return InitOp(call, wrapper.torch_equivalent or wrapper.qualname.rsplit(".", 1)[1], wrapper.family, bound, target,
                  uses_data=uses_data, spec=spec, wrapper=wrapper, label=label)


def _label(func: ast.expr) -> str:
    try:
        return ast.unparse(func)
    except Exception:  # pragma: no cover - unparse handles every expression ast produces
        return "init"


def split_param_target(target: ast.expr | None) -> tuple[ast.expr | None, str | None, bool]:
    """`m.weight` -> (`m`, "weight", whole); `m.weight[:, 0]` -> (`m`, "weight", partial); a bare name -> (name, None)."""
    partial = False
    while isinstance(target, ast.Subscript):
        target = target.value
        partial = True
    if isinstance(target, ast.Attribute):
        return target.value, target.attr, not partial
    return target, None, not partial
