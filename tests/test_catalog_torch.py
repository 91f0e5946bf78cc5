"""Every fact in `initlint.catalog.torch`, checked against the installed torch, so the catalog cannot drift.

The checks build real modules and call real functions: a wrong default, a missing parameter, a renamed argument or a
new torch layer the catalog does not know makes a test fail. Statistical checks use a fixed seed, so they are
deterministic.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import inspect
import math
import os
import pkgutil
import re
import textwrap
import typing
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional
init = torch.nn.init

from initlint.catalog import torch as cat  # noqa: E402

# ---------------------------------------------------------------------------------------------- helpers

_NN_SUBMODULES = [importlib.import_module(f"torch.nn.modules.{info.name}") for info in pkgutil.iter_modules(nn.modules.__path__)]


def torch_class(name: str):
    """The torch.nn class a catalog name means: public `torch.nn.X`, else `torch.nn.modules.*.X` (private bases)."""
    cls = getattr(nn, name, None)
    if inspect.isclass(cls):
        return cls
    for module in _NN_SUBMODULES:
        cls = getattr(module, name, None)
        if inspect.isclass(cls) and issubclass(cls, nn.Module):
            return cls
    return None


def ctor_params(cls) -> list[inspect.Parameter]:
    """Constructor parameters after `self`; for `__init__(*args, **kwargs)` (nn.RNN, LSTM, GRU) the typed overload."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    if params and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        for overload in typing.get_overloads(cls.__init__):
            candidate = list(inspect.signature(overload).parameters.values())[1:]
            if any(p.kind is p.POSITIONAL_OR_KEYWORD for p in candidate):
                return candidate
    return params


def positional_names(cls) -> list[str]:
    return [p.name for p in ctor_params(cls) if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def ctor_default(cls, name: str):
    for p in ctor_params(cls):
        if p.name == name:
            return p.default
    raise KeyError(f"{cls.__name__} takes no `{name}`")


def resolve_torch_attr(dotted: str):
    """`special.expit` -> torch.special.expit, or None."""
    obj = torch
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def seeded(fn, *args, seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    return fn(*args, **kwargs)


ALL_LAYER_NAMES = sorted(cat.LAYERS)
RESOLVED = {name: torch_class(name) for name in ALL_LAYER_NAMES}

# ------------------------------------------------------------------------------ how to build each layer

# name -> (positional args, keyword args, dry-run input shape for lazy modules or None). Sizes are large enough for
# the statistical checks of the default init and small enough to be fast.
BUILD: dict[str, tuple[tuple, dict, tuple | None]] = {
    "Linear": ((64, 32), {}, None),
    "NonDynamicallyQuantizableLinear": ((64, 32), {}, None),
    "LazyLinear": ((32,), {}, (2, 64)),
    "Bilinear": ((48, 5, 16), {}, None),
    "_ConvNd": ((4, 8, (5,), (1,), (0,), (1,), False, (0,), 1, True, "zeros"), {}, None),
    "_ConvTransposeNd": ((8, 4, (5,), (1,), (0,), (1,), True, (0,), 1, True, "zeros"), {}, None),
    "_NormBase": ((16,), {}, None),
    "_BatchNorm": ((16,), {}, None),
    "_InstanceNorm": ((16,), {}, None),
    "RNNBase": (("LSTM", 8, 32), {}, None),
    "RNNCellBase": ((8, 32, True, 4), {}, None),
    "Embedding": ((500, 16), {"padding_idx": 3}, None),
    "EmbeddingBag": ((500, 16), {"padding_idx": 3}, None),
    "LayerNorm": ((16,), {}, None),
    "GroupNorm": ((4, 16), {}, None),
    "RMSNorm": ((16,), {}, None),
    "MultiheadAttention": ((64, 4), {}, None),
    "Transformer": ((), {"d_model": 16, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
                         "dim_feedforward": 32}, None),
    "TransformerEncoderLayer": ((16, 2, 32), {}, None),
    "TransformerDecoderLayer": ((16, 2, 32), {}, None),
    "TransformerEncoder": ((nn.TransformerEncoderLayer(16, 2, 32), 1), {"enable_nested_tensor": False}, None),
    "TransformerDecoder": ((nn.TransformerDecoderLayer(16, 2, 32), 1), {}, None),
    "PReLU": ((8,), {}, None),
    "AdaptiveLogSoftmaxWithLoss": ((16, 10, [4]), {}, None),
    "LinearCrossEntropyLoss": ((16, 5), {}, None),
    "SyncBatchNorm": ((16,), {}, None),
    "RNN": ((8, 64), {}, None),
    "LSTM": ((8, 32), {}, None),
    "GRU": ((8, 32), {}, None),
    "RNNCell": ((8, 64), {}, None),
    "LSTMCell": ((8, 32), {}, None),
    "GRUCell": ((8, 32), {}, None),
}
for _d in (1, 2, 3):
    _spatial = {1: (9,), 2: (6, 6), 3: (5, 5, 5)}[_d]
    _k = {1: 5, 2: 3, 3: 3}[_d]
    BUILD.update({
        # groups=2 makes fan_in (in/groups)*k^d, and for ConvTranspose (out/groups)*k^d: both are checked below.
        f"Conv{_d}d": ((8, 16, _k), {"groups": 2}, None),
        f"ConvTranspose{_d}d": ((16, 8, _k), {"groups": 2}, None),
        f"LazyConv{_d}d": ((16, _k), {"groups": 2}, (1, 8) + _spatial),
        f"LazyConvTranspose{_d}d": ((8, _k), {"groups": 2}, (1, 16) + _spatial),
        f"BatchNorm{_d}d": ((16,), {}, None),
        f"LazyBatchNorm{_d}d": ((), {}, (2, 16) + _spatial),
        f"InstanceNorm{_d}d": ((16,), {}, None),
        f"LazyInstanceNorm{_d}d": ((), {}, (2, 16) + _spatial),
    })

# Values that switch a present_if flag away from its default when the flag is not a plain bool.
TOGGLE_VALUES = {"proj_size": 4}


def build(name: str, **overrides):
    """Build catalog layer `name` with the BUILD arguments; overrides go where torch's signature puts them."""
    args, kwargs, dry_run = BUILD[name]
    args, kwargs = list(copy.deepcopy(args)), dict(copy.deepcopy(kwargs))
    cls = RESOLVED[name]
    positional = positional_names(cls)
    for key, value in overrides.items():
        if key in positional and positional.index(key) < len(args):
            args[positional.index(key)] = value
        else:
            kwargs[key] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        module = cls(*args, **kwargs)
        if dry_run is not None:
            module(torch.randn(*dry_run))
    return module


def own_params(module) -> dict[str, torch.Tensor]:
    return dict(module.named_parameters(recurse=False))


def present_if_flags(spec) -> dict[str, bool]:
    flags: dict[str, bool] = {}
    for param in spec.params:
        for flag, default in param.present_if:
            flags.setdefault(flag, default)
    return flags


def expected_params(spec, flags: dict[str, object]) -> set[str]:
    return {p.name for p in spec.params if all(bool(flags.get(f, d)) for f, d in p.present_if)}


BUILDABLE = [name for name in ALL_LAYER_NAMES if name in BUILD]

# ------------------------------------------------------------------------------- default-init checkers


def _fan_in(module, spec) -> int:
    if spec.kind == cat.LINEAR:
        return module.in_features
    if spec.kind in (cat.CONV, cat.CONV_TRANSPOSE):
        channels = module.out_channels if module.transposed else module.in_channels
        return channels // module.groups * math.prod(module.kernel_size)
    raise AssertionError(f"no fan_in formula for kind {spec.kind}")


def _check_uniform(t, bound: float):
    n = t.numel()
    top = t.detach().abs().max().item()
    assert top <= bound * (1 + 1e-6), f"max |w| {top} exceeds bound {bound}"
    assert top >= bound * (0.95 if n >= 500 else 0.5), f"max |w| {top} far below bound {bound}: wrong scale"
    if n >= 500:
        assert t.detach().std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def _check_normal(t, std: float):
    n = t.numel()
    values = t.detach().flatten()
    assert values.std().item() == pytest.approx(std, rel=0.1 if n >= 500 else 0.4)
    assert abs(values.mean().item()) <= 5 * std / math.sqrt(n)
    if n >= 500:  # a uniform of the same std never exceeds sqrt(3)*std
        assert values.abs().max().item() > 2 * std


def _check_constant(t, value: float):
    assert torch.equal(t.detach(), torch.full_like(t, value)), f"expected all {value}"


def _check_embedding(t, module, spec):
    weight = t.detach()
    if module.padding_idx is not None:
        assert torch.equal(weight[module.padding_idx], torch.zeros_like(weight[0])), "padding row not zeroed"
        weight = torch.cat([weight[: module.padding_idx], weight[module.padding_idx + 1:]])
    _check_normal(weight, 1.0)


def _xavier_fans(t):
    return init._calculate_fan_in_and_fan_out(t)


INIT_CHECKS = {
    # kaiming_uniform_(a=sqrt(5)): bound = gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + 5)), i.e. 1/sqrt(fan_in).
    cat.DEFAULT_FAN_INIT: lambda t, m, s: _check_uniform(
        t, init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3 / _fan_in(m, s))),
    "uniform_(-1/sqrt(fan_in), 1/sqrt(fan_in))": lambda t, m, s: _check_uniform(t, 1 / math.sqrt(_fan_in(m, s))),
    "uniform_(-1/sqrt(in1), 1/sqrt(in1))": lambda t, m, s: _check_uniform(t, 1 / math.sqrt(m.in1_features)),
    "uniform_(-1/sqrt(hidden_size), 1/sqrt(hidden_size))": lambda t, m, s: _check_uniform(t, 1 / math.sqrt(m.hidden_size)),
    "ones_": lambda t, m, s: _check_constant(t, 1.0),
    "zeros_": lambda t, m, s: _check_constant(t, 0.0),
    "normal_(0, 1), padding row zeroed": _check_embedding,
    "xavier_uniform_": lambda t, m, s: _check_uniform(t, math.sqrt(6 / sum(_xavier_fans(t)))),
    "xavier_normal_": lambda t, m, s: _check_normal(t, math.sqrt(2 / sum(_xavier_fans(t)))),
}


def init_check(description: str):
    if description in INIT_CHECKS:
        return INIT_CHECKS[description]
    match = re.fullmatch(r"constant_\(([-0-9.e]+)\)", description)
    if match:
        return lambda t, m, s: _check_constant(t, float(match.group(1)))
    return None


# =============================================================================================== layers


@pytest.mark.parametrize("name", ALL_LAYER_NAMES)
def test_layer_resolves_to_torch_class(name):
    cls = RESOLVED[name]
    assert cls is not None, f"{name} is neither torch.nn.{name} nor in torch.nn.modules.*"
    assert issubclass(cls, nn.Module)
    assert cls.__name__ == name


@pytest.mark.parametrize("name", ALL_LAYER_NAMES)
def test_layer_bases_are_the_nearest_catalog_ancestors(name):
    cls, spec = RESOLVED[name], cat.LAYERS[name]
    ancestors = {other for other, other_cls in RESOLVED.items() if other != name and issubclass(cls, other_cls)}
    for base in spec.bases:
        assert base in ancestors, f"{base} is not an ancestor of {name}"
    nearest = {a for a in ancestors if not any(b != a and issubclass(RESOLVED[b], RESOLVED[a]) for b in ancestors)}
    assert set(spec.bases) == nearest


@pytest.mark.parametrize("name", ALL_LAYER_NAMES)
def test_is_subclass_and_layer_mro_agree_with_python(name):
    cls = RESOLVED[name]
    for other in ALL_LAYER_NAMES:
        assert cat.is_subclass(name, other) == issubclass(cls, RESOLVED[other]), (name, other)
    mro = [c.__name__ for c in cls.__mro__ if c.__name__ in cat.LAYERS]
    assert cat.layer_mro(name) == mro


@pytest.mark.parametrize("name", ALL_LAYER_NAMES)
def test_layer_signature_is_a_prefix_of_torch_positional_parameters(name):
    spec = cat.LAYERS[name]
    real = positional_names(RESOLVED[name])
    assert tuple(real[: len(spec.signature)]) == spec.signature, f"torch: {real}"


@pytest.mark.parametrize("name", ALL_LAYER_NAMES)
def test_layer_flags_are_constructor_parameters_with_those_defaults(name):
    spec, cls = cat.LAYERS[name], RESOLVED[name]
    all_params = {p.name for p in ctor_params(cls)}
    positional = positional_names(cls)
    for flag, default in [*present_if_flags(spec).items(), *spec.flags]:
        assert flag in all_params, f"{name}() takes no `{flag}`"
        real_default = ctor_default(cls, flag)
        if real_default is not inspect.Parameter.empty:  # RNNCellBase requires `bias`; its subclasses default it
            assert real_default == default, f"{name}({flag}=...) defaults to {real_default!r}"
        if flag in positional:  # so a positional call such as nn.LSTM(8, 32, 1, False) is understood
            assert flag in spec.signature, f"`{flag}` is positional in {name} but missing from its signature"


@pytest.mark.parametrize("name", ALL_LAYER_NAMES)
def test_layer_kind_lazy_and_spatial_dims(name):
    spec, cls = cat.LAYERS[name], RESOLVED[name]
    from torch.nn.modules.lazy import LazyModuleMixin

    assert spec.lazy == issubclass(cls, LazyModuleMixin)
    expect_kind = {
        cat.CONV_TRANSPOSE: issubclass(cls, nn.modules.conv._ConvTransposeNd),
        cat.CONV: issubclass(cls, nn.modules.conv._ConvNd) and not issubclass(cls, nn.modules.conv._ConvTransposeNd),
        cat.LINEAR: issubclass(cls, nn.Linear),
        cat.RECURRENT: issubclass(cls, nn.RNNBase),
        cat.RECURRENT_CELL: issubclass(cls, nn.RNNCellBase),
        cat.ATTENTION: issubclass(cls, nn.MultiheadAttention),
        cat.EMBEDDING: issubclass(cls, (nn.Embedding, nn.EmbeddingBag)),
        cat.PARAM_ACTIVATION: issubclass(cls, nn.PReLU),
    }
    if spec.kind in expect_kind:
        assert expect_kind[spec.kind], f"{name} is not a {spec.kind}"
    assert [k for k, holds in expect_kind.items() if holds] in ([], [spec.kind])
    if issubclass(cls, nn.modules.batchnorm._NormBase):
        assert spec.kind == cat.NORM
    if spec.kind == cat.NORM:
        assert cls.__module__ in ("torch.nn.modules.batchnorm", "torch.nn.modules.instancenorm",
                                  "torch.nn.modules.normalization")
    if spec.kind == cat.TRANSFORMER:
        assert cls.__module__ == "torch.nn.modules.transformer"
    digits = re.search(r"(\d)d$", name)
    if spec.kind in (cat.CONV, cat.CONV_TRANSPOSE) and digits:
        assert spec.spatial_dims == int(digits.group(1))
    elif spec.kind not in (cat.CONV, cat.CONV_TRANSPOSE):
        assert spec.spatial_dims == 0


def test_every_concrete_layer_has_build_arguments():
    # Private bases are built too (their __init__ is concrete); only the test table must know every entry.
    assert set(ALL_LAYER_NAMES) <= set(BUILD), sorted(set(ALL_LAYER_NAMES) - set(BUILD))


def _presence_cases():
    for name in BUILDABLE:
        spec = cat.LAYERS[name]
        yield pytest.param(name, {}, id=f"{name}-defaults")
        for flag, default in present_if_flags(spec).items():
            value = TOGGLE_VALUES.get(flag, not default)
            yield pytest.param(name, {flag: value}, id=f"{name}-{flag}={value}")


@pytest.mark.parametrize(("name", "overrides"), list(_presence_cases()))
def test_layer_registers_exactly_the_params_present_if_says(name, overrides):
    spec = cat.LAYERS[name]
    module = build(name, **overrides)
    params = own_params(module)
    assert set(params) == expected_params(spec, overrides)
    if all(isinstance(v, bool) for v in overrides.values()):
        for param in spec.params:
            assert cat.param_present(spec, param, overrides) is (param.name in params), param.name
    for param in spec.params:
        if param.name not in params:
            continue
        tensor = params[param.name]
        if param.ndim is not None:
            assert tensor.ndim == param.ndim, param.name
        elif spec.spatial_dims and param.name == "weight":
            assert tensor.ndim == 2 + spec.spatial_dims
        check = init_check(param.default_init)
        assert check is not None, f"no checker for default_init {param.default_init!r}"
        check(tensor, module, spec)


def _positional_flag_cases():
    for name in BUILDABLE:
        spec = cat.LAYERS[name]
        for flag, default in present_if_flags(spec).items():
            if flag in spec.signature:
                yield pytest.param(name, flag, TOGGLE_VALUES.get(flag, not default), id=f"{name}-{flag}")


@pytest.mark.parametrize(("name", "flag", "value"), list(_positional_flag_cases()))
def test_present_if_flag_works_at_its_catalog_position(name, flag, value):
    """Passing the flag positionally, at the index the catalog signature gives, has the keyword's effect."""
    spec, cls = cat.LAYERS[name], RESOLVED[name]
    args, kwargs, dry_run = BUILD[name]
    index = spec.signature.index(flag)
    positional = list(copy.deepcopy(args))
    for position in range(len(positional), index + 1):
        positional.append(ctor_default(cls, spec.signature[position]))
    positional[index] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = cls(*positional, **{k: v for k, v in kwargs.items() if k not in spec.signature[: len(positional)]})
        if dry_run is not None:
            module(torch.randn(*dry_run))
    assert set(own_params(module)) == expected_params(spec, {flag: value})


@pytest.mark.parametrize("name", BUILDABLE)
def test_layer_flags_match_built_module(name):
    module = build(name)
    for flag, value in cat.LAYERS[name].flags:
        if hasattr(module, flag):
            assert getattr(module, flag) == value, flag


def test_layer_default_facts_from_the_reference():
    """The headline facts, spelled out (the parametrized checks above cover them generally)."""
    torch.manual_seed(0)
    linear = nn.Linear(256, 128)
    assert linear.weight.abs().max() <= 1 / math.sqrt(256) + 1e-7
    assert linear.weight.abs().max() > 0.99 / math.sqrt(256)
    assert linear.bias.abs().max() > 0  # the bias is not zero
    assert nn.PReLU().weight.item() == pytest.approx(0.25)
    assert list(nn.InstanceNorm2d(4).parameters()) == []
    assert nn.LazyInstanceNorm2d().affine is True
    assert cat.LAYERS["InstanceNorm2d"].flag_default("affine") is False
    assert nn.Embedding(1000, 64).weight.std().item() == pytest.approx(1.0, rel=0.05)
    mha = nn.MultiheadAttention(8, 2)
    assert isinstance(mha.out_proj, nn.modules.linear.NonDynamicallyQuantizableLinear)
    assert torch.equal(mha.out_proj.bias, torch.zeros(8))


def test_layers_cover_every_parameterized_torch_module():
    # From shared/reference/torch_defaults.md: every torch.nn module that registers parameters (torch 2.13).
    reference = {
        "Linear", "NonDynamicallyQuantizableLinear", "LazyLinear", "Bilinear", "Embedding", "EmbeddingBag",
        "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "SyncBatchNorm", "LayerNorm", "GroupNorm", "RMSNorm",
        "PReLU", "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
        "TransformerDecoder", "Transformer", "AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss",
    }
    prefixes = ("Conv", "LazyConv", "ConvTranspose", "LazyConvTranspose", "BatchNorm", "LazyBatchNorm", "InstanceNorm",
                "LazyInstanceNorm")
    reference |= {f"{prefix}{d}d" for prefix in prefixes for d in (1, 2, 3)}
    assert reference <= set(cat.LAYERS), sorted(reference - set(cat.LAYERS))


def test_every_torch_class_that_creates_parameters_is_covered():
    """Any torch.nn.modules class whose source creates a Parameter is a catalog layer, or inherits from one."""
    exempt = {"Module", "ParameterList", "ParameterDict"}  # the base class and containers of user parameters
    uncovered = []
    for module in _NN_SUBMODULES:
        for cls_name, cls in vars(module).items():
            if not (inspect.isclass(cls) and issubclass(cls, nn.Module) and cls.__module__ == module.__name__):
                continue
            if cls_name in exempt:
                continue
            try:
                source = inspect.getsource(cls)
            except (OSError, TypeError):
                continue
            if re.search(r"(?<![\w.])(nn\.)?Parameter\(|\.register_parameter\(", source):
                if not any(c.__name__ in cat.LAYERS for c in cls.__mro__):
                    uncovered.append(f"{module.__name__}.{cls_name}")
    assert not uncovered


# ============================================================================== containers and transparency


@pytest.mark.parametrize("name", sorted(cat.CONTAINERS))
def test_container_exists_and_has_no_parameters_of_its_own(name):
    cls = getattr(nn, name)
    assert issubclass(cls, nn.Module)
    assert list(cls().parameters()) == []


TRANSPARENT_ARGS: dict[str, tuple[tuple, dict]] = {
    "LPPool1d": ((2, 2), {}), "LPPool2d": ((2, 2), {}), "LPPool3d": ((2, 2), {}),
    "FractionalMaxPool2d": ((2,), {"output_size": 4}), "FractionalMaxPool3d": ((2,), {"output_size": 4}),
    "Unflatten": ((1, (2, 2)), {}),
    "Upsample": ((), {"scale_factor": 2}), "UpsamplingNearest2d": ((), {"scale_factor": 2}),
    "UpsamplingBilinear2d": ((), {"scale_factor": 2}),
    "LocalResponseNorm": ((2,), {}), "CrossMapLRN2d": ((3,), {}),
}
for _prefix, _args in (("MaxPool", (2,)), ("AvgPool", (2,)), ("AdaptiveAvgPool", (2,)), ("AdaptiveMaxPool", (2,)),
                       ("ZeroPad", (1,)), ("ConstantPad", (1, 0.0)), ("ReflectionPad", (1,)), ("ReplicationPad", (1,)),
                       ("CircularPad", (1,))):
    for _d in (1, 2, 3):
        TRANSPARENT_ARGS[f"{_prefix}{_d}d"] = (_args, {})
for _name in ("PixelShuffle", "PixelUnshuffle", "ChannelShuffle"):
    TRANSPARENT_ARGS[_name] = ((2,), {})


def _build_parameter_free(name: str):
    args, kwargs = TRANSPARENT_ARGS.get(name, ((), {}))
    return getattr(nn, name)(*args, **kwargs).eval()


def _sample_input(name: str, scale: float = 1.0):
    digits = re.search(r"(\d)d$", name)
    spatial = {"1": (8,), "2": (8, 8), "3": (8, 8, 8)}[digits.group(1)] if digits else (8, 8)
    torch.manual_seed(1)
    return torch.randn(2, 4, *spatial) * scale


def _apply(module, x):
    torch.manual_seed(2)  # FractionalMaxPool draws its pooling regions
    with torch.no_grad():
        return module(x)


@pytest.mark.parametrize("name", sorted(cat.TRANSPARENT_MODULES))
def test_transparent_module_is_parameter_free_and_keeps_scale(name):
    module = _build_parameter_free(name)
    assert list(module.parameters()) == []
    x = _sample_input(name)
    # "passes the input's scale on": positively homogeneous, f(3x) == 3 f(x).
    torch.testing.assert_close(_apply(module, 3 * x), 3 * _apply(module, x))


@pytest.mark.parametrize("name", sorted(cat.PARAMETER_FREE_NORMS))
def test_parameter_free_norm_has_no_parameters_but_rescales(name):
    module = _build_parameter_free(name)
    assert list(module.parameters()) == []
    x = _sample_input(name, scale=10.0)
    scaled, reference = _apply(module, 3 * x), 3 * _apply(module, x)
    assert not torch.allclose(scaled, reference, rtol=1e-3)


def test_transparent_modules_cover_torch_pooling_padding_dropout_and_reshaping():
    families = ("pooling", "padding", "dropout", "pixelshuffle", "flatten", "upsampling", "channelshuffle")
    not_transparent = {"MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"}  # need the pooling indices
    public = {
        name for name in dir(nn)
        if inspect.isclass(getattr(nn, name)) and getattr(nn, name).__module__.rsplit(".", 1)[-1] in families
    }
    assert public - not_transparent <= cat.TRANSPARENT_MODULES, sorted(public - not_transparent - cat.TRANSPARENT_MODULES)


def test_module_categories_are_disjoint():
    categories = {
        "LAYERS": set(cat.LAYERS), "CONTAINERS": set(cat.CONTAINERS), "TRANSPARENT_MODULES": set(cat.TRANSPARENT_MODULES),
        "PARAMETER_FREE_NORMS": set(cat.PARAMETER_FREE_NORMS),
        "activation modules": set(cat.ACTIVATION_BY_MODULE) - {"PReLU"},  # PReLU is both a layer and an activation
    }
    names = sorted(categories)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            assert not categories[first] & categories[second], (first, second)
    for name in cat.TRANSPARENT_MODULES:
        assert getattr(nn, name).__module__ != "torch.nn.modules.activation", name


@pytest.mark.parametrize("name", sorted(cat.TRANSPARENT_FUNCTIONS))
def test_transparent_function_exists(name):
    assert hasattr(F, name) or hasattr(torch, name) or hasattr(torch.Tensor, name)


@pytest.mark.parametrize("name", sorted(cat.NORM_FUNCTIONS))
def test_norm_function_exists_in_functional(name):
    assert callable(getattr(F, name, None))


# ============================================================================================ activations

ACTIVATION_NAMES = [spec.name for spec in cat.ACTIVATIONS]
ACTIVATION_MODULE_ARGS = {"Threshold": (0.0, 0.0)}


def _activation(spec):
    return pytest.param(spec, id=spec.name)


ACTIVATION_PARAMS = [_activation(spec) for spec in cat.ACTIVATIONS]


def _activation_module(name, *args, **kwargs):
    args = args or ACTIVATION_MODULE_ARGS.get(name, ())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(nn, name)(*args, **kwargs).eval()


@pytest.mark.parametrize("spec", ACTIVATION_PARAMS)
def test_activation_spellings_exist(spec):
    for module in spec.modules:
        assert inspect.isclass(getattr(nn, module, None)) and issubclass(getattr(nn, module), nn.Module), module
    for fn in spec.functional:
        assert callable(getattr(F, fn, None)), f"torch.nn.functional.{fn}"
    for fn in spec.torch_functions:
        assert callable(resolve_torch_attr(fn)), f"torch.{fn}"
    for method in spec.tensor_methods:
        assert callable(getattr(torch.Tensor, method, None)), f"Tensor.{method}"


@pytest.mark.parametrize("spec", ACTIVATION_PARAMS)
def test_activation_spellings_are_complete(spec):
    """Where torch.* or Tensor has the functional's name, the catalog lists it too."""
    for fn in spec.functional:
        if callable(getattr(torch, fn, None)):
            assert fn in spec.torch_functions, f"torch.{fn} exists"
        if callable(getattr(torch.Tensor, fn, None)):
            assert fn in spec.tensor_methods, f"Tensor.{fn} exists"


def test_activation_lookup_tables_are_lossless():
    assert len(cat.ACTIVATIONS_BY_NAME) == len(cat.ACTIVATIONS)
    assert len(cat.ACTIVATION_BY_MODULE) == sum(len(s.modules) for s in cat.ACTIVATIONS)
    assert len(cat.ACTIVATION_BY_FUNCTIONAL) == sum(len(s.functional) for s in cat.ACTIVATIONS)
    assert len(cat.ACTIVATION_BY_TORCH_FUNCTION) == sum(len(s.torch_functions) for s in cat.ACTIVATIONS)
    assert len(cat.ACTIVATION_BY_TENSOR_METHOD) == sum(len(s.tensor_methods) for s in cat.ACTIVATIONS)


def test_every_torch_activation_module_is_cataloged():
    activation_module = nn.modules.activation
    classes = {n for n, c in vars(activation_module).items()
               if inspect.isclass(c) and issubclass(c, nn.Module) and c.__module__ == activation_module.__name__}
    missing = classes - set(cat.ACTIVATION_BY_MODULE) - {"MultiheadAttention"}  # MHA is a LAYERS entry
    assert not missing, sorted(missing)
    assert "MultiheadAttention" in cat.LAYERS


@pytest.mark.parametrize("spec", ACTIVATION_PARAMS)
def test_activation_modules_have_no_parameters_except_prelu(spec):
    for name in spec.modules:
        params = list(_activation_module(name).parameters())
        if name in cat.LAYERS:
            assert params, f"{name} is a LAYERS entry but has no parameters"
        else:
            assert params == [], f"{name} has parameters but no LAYERS entry"


@pytest.mark.parametrize("spec", [s for s in ACTIVATION_PARAMS if s.values[0].default_slope is not None])
def test_activation_default_slope_matches_module_default(spec):
    x = torch.tensor([-2.0, 3.0])
    for name in spec.modules:
        out = _activation_module(name)(x)  # eval mode: RReLU uses (lower + upper) / 2
        assert out[0].item() == pytest.approx(-2.0 * spec.default_slope, rel=1e-6, abs=1e-7), name
        assert out[1].item() == pytest.approx(3.0), name


@pytest.mark.parametrize("spec", [s for s in ACTIVATION_PARAMS if s.values[0].slope_keyword is not None])
def test_activation_slope_keyword_and_positions(spec):
    x = torch.tensor([-2.0, 3.0])
    slope = 0.2
    if spec.slope_module_position is not None:
        for name in spec.modules:
            assert positional_names(getattr(nn, name))[spec.slope_module_position] == spec.slope_keyword
            args = [ctor_default(getattr(nn, name), p) for p in positional_names(getattr(nn, name))[: spec.slope_module_position]]
            by_position = _activation_module(name, *args, slope)(x)
            by_keyword = _activation_module(name, **{spec.slope_keyword: slope})(x)
            assert by_position[0].item() == pytest.approx(-2 * slope) and by_keyword[0].item() == pytest.approx(-2 * slope)
    if spec.slope_functional_position is not None:
        for fn_name in spec.functional:
            fn = getattr(F, fn_name)
            args = [x.clone()] + [None] * (spec.slope_functional_position - 1) + [slope]
            assert fn(*args)[0].item() == pytest.approx(-2 * slope), fn_name
            assert fn(x.clone(), **{spec.slope_keyword: slope})[0].item() == pytest.approx(-2 * slope), fn_name


@pytest.mark.parametrize("spec", ACTIVATION_PARAMS)
def test_activation_family_and_gain(spec):
    assert spec.family in (cat.HE, cat.XAVIER, cat.LECUN, cat.HE_OR_XAVIER, cat.OUTPUT)
    if spec.gain_name is not None:
        assert init.calculate_gain(spec.gain_name) == pytest.approx(cat.calculate_gain(spec.gain_name))
    if spec.relu_family:
        assert spec.family == cat.HE
        assert spec.default_slope is not None and spec.gain_name in ("relu", "leaky_relu")
        for name in spec.modules:  # identity on positives
            x = torch.linspace(0.1, 5.0, 50)
            torch.testing.assert_close(_activation_module(name)(x), x)
    if spec.saturating:
        assert spec.family == cat.XAVIER
        for name in spec.modules:  # bounded output
            assert _activation_module(name)(torch.tensor([-1e4, 1e4])).abs().max().item() <= 1.0 + 1e-6


def test_leaky_relu_and_prelu_defaults():
    assert cat.ACTIVATIONS_BY_NAME["leaky_relu"].default_slope == ctor_default(nn.LeakyReLU, "negative_slope") == 0.01
    assert inspect.signature(F.leaky_relu).parameters["negative_slope"].default == cat.LEAKY_RELU_DEFAULT_SLOPE
    assert cat.ACTIVATIONS_BY_NAME["prelu"].default_slope == ctor_default(nn.PReLU, "init") == 0.25
    rrelu = cat.ACTIVATIONS_BY_NAME["rrelu"].default_slope
    assert rrelu == pytest.approx((ctor_default(nn.RReLU, "lower") + ctor_default(nn.RReLU, "upper")) / 2)


# ================================================================================================ nn.init

INIT_NAMES = sorted(cat.INIT_FUNCTIONS)


def test_init_functions_are_exactly_torch_inplace_initializers():
    assert set(cat.INIT_FUNCTIONS) == {n for n in init.__all__ if n.endswith("_")}


@pytest.mark.parametrize("name", INIT_NAMES)
def test_init_function_signature(name):
    spec = cat.INIT_FUNCTIONS[name]
    params = list(inspect.signature(getattr(init, name)).parameters.values())
    assert params[0].name == "tensor"
    after = params[1:]
    assert tuple(p.name for p in after) == spec.params
    defaults = {p.name: p.default for p in after if p.default is not p.empty and p.default is not None}
    assert dict(spec.defaults) == defaults
    for key, value in spec.defaults:
        assert type(value) is type(defaults[key]), f"{key}: {value!r} vs torch {defaults[key]!r}"
    assert {p.name for p in after if p.default is None} <= {"generator"}
    assert set(spec.required) == {p.name for p in after if p.default is p.empty}


INIT_REQUIRED_ARGS = {"constant_": {"val": 0.5}, "sparse_": {"sparsity": 0.25}}


@pytest.mark.parametrize("name", INIT_NAMES)
def test_init_function_dimension_requirements(name):
    spec = cat.INIT_FUNCTIONS[name]
    assert set(spec.required) <= set(INIT_REQUIRED_ARGS.get(name, {}))
    for ndim in range(0, 6):
        expect_error = ndim < spec.min_dims or (bool(spec.exact_dims) and ndim not in spec.exact_dims)
        tensor = torch.empty((4,) * ndim)
        if expect_error:
            with pytest.raises(ValueError):
                getattr(init, name)(tensor, **INIT_REQUIRED_ARGS.get(name, {}))
        else:
            getattr(init, name)(tensor, **INIT_REQUIRED_ARGS.get(name, {}))


@pytest.mark.parametrize("name", [n for n in INIT_NAMES if cat.INIT_FUNCTIONS[n].constant_value is not None])
def test_init_constant_value(name):
    tensor = torch.randn(3, 4)
    getattr(init, name)(tensor)
    assert torch.equal(tensor, torch.full((3, 4), cat.INIT_FUNCTIONS[name].constant_value))


def test_init_fan_based_families_need_two_dims():
    for name, spec in cat.INIT_FUNCTIONS.items():
        if spec.fan_based:
            assert spec.min_dims >= 2, name
            with pytest.raises(ValueError):
                getattr(init, name)(torch.empty(5))


def test_deprecated_aliases_are_exactly_torch_non_underscore_names():
    assert set(cat.DEPRECATED_INIT_ALIASES) == {n for n in init.__all__ if not n.endswith("_")} - {"calculate_gain"}


def _shape_for(spec) -> tuple[int, ...]:
    ndim = spec.exact_dims[0] if spec.exact_dims else max(spec.min_dims, 2)
    return (4,) * ndim


@pytest.mark.parametrize("alias", sorted(cat.DEPRECATED_INIT_ALIASES))
def test_deprecated_alias_warns_and_does_the_same(alias):
    target = cat.DEPRECATED_INIT_ALIASES[alias]
    spec = cat.INIT_FUNCTIONS[target]
    kwargs = INIT_REQUIRED_ARGS.get(target, {})
    expected = seeded(getattr(init, target), torch.empty(_shape_for(spec)), **kwargs)
    message = f"`nn.init.{alias}` is now deprecated in favor of `nn.init.{target}`"
    with pytest.warns(FutureWarning, match=re.escape(message)):
        got = seeded(getattr(init, alias), torch.empty(_shape_for(spec)), **kwargs)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("name", sorted(cat.NONEXISTENT_INIT_NAMES))
def test_nonexistent_init_name(name):
    assert not hasattr(init, name)
    replacement = cat.NONEXISTENT_INIT_NAMES[name]
    if replacement is not None:
        assert replacement in cat.INIT_FUNCTIONS and callable(getattr(init, replacement))


# ----------------------------------------------------------------------------------------- calculate_gain


def _gain_names_in_torch_source() -> set[str]:
    """Every string literal that `calculate_gain` accepts, found from its source (so a new name is noticed)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(init.calculate_gain)))
    in_fstrings = {id(node) for joined in ast.walk(tree) if isinstance(joined, ast.JoinedStr) for node in ast.walk(joined)}
    candidates = {node.value for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings
                  and "\n" not in node.value}
    accepted = set()
    for candidate in candidates:
        try:
            init.calculate_gain(candidate)
        except ValueError:
            continue
        accepted.add(candidate)
    return accepted


def test_calculate_gain_names_are_exactly_torch_accepted_names():
    accepted = _gain_names_in_torch_source()
    assert "relu" in accepted
    assert set(cat.CALCULATE_GAIN) == accepted


@pytest.mark.parametrize("name", sorted(cat.CALCULATE_GAIN))
def test_calculate_gain_value(name):
    assert cat.calculate_gain(name) == pytest.approx(init.calculate_gain(name), abs=1e-12)
    # `param` is ignored except for leaky_relu
    assert cat.calculate_gain(name, 0.3) == pytest.approx(init.calculate_gain(name, 0.3), abs=1e-12)


@pytest.mark.parametrize("slope", [0, 0.01, 0.2, 1, math.sqrt(5)])
def test_calculate_gain_leaky_relu_slopes(slope):
    assert cat.calculate_gain("leaky_relu", slope) == pytest.approx(init.calculate_gain("leaky_relu", slope), abs=1e-12)
    assert cat.leaky_gain(slope) == pytest.approx(init.calculate_gain("leaky_relu", slope), abs=1e-12)


@pytest.mark.parametrize("name", ["gelu", "silu", "swish", "elu", "relu6", "prelu", "softmax", "identity", "ReLU",
                                  "Tanh", "RELU", "leakyrelu", "leaky-relu", "linear ", "conv4d"])
def test_calculate_gain_rejected_names(name):
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain(name)
    assert cat.calculate_gain(name) is None


def test_calculate_gain_invalid_leaky_relu_params():
    invalid = [True, "0.2", torch.tensor(0.2)]
    np = pytest.importorskip("numpy")
    invalid.append(np.float32(0.2))
    for param in invalid:
        with pytest.raises(ValueError, match="not a valid number"):
            init.calculate_gain("leaky_relu", param)
        assert cat.calculate_gain("leaky_relu", param) is None, repr(param)
    assert cat.calculate_gain("leaky_relu", np.float64(0.2)) == pytest.approx(init.calculate_gain("leaky_relu", np.float64(0.2)))
    assert cat.calculate_gain("leaky_relu") == pytest.approx(init.calculate_gain("leaky_relu"))


def test_kaiming_modes():
    with pytest.raises(ValueError) as excinfo:
        init.kaiming_uniform_(torch.empty(3, 4), mode="fan_avg")
    listed = re.search(r"\[(.*)\]", str(excinfo.value)).group(1)
    assert tuple(ast.literal_eval(f"[{listed}]")) == cat.KAIMING_MODES
    for mode in cat.KAIMING_MODES:
        init.kaiming_uniform_(torch.empty(3, 4), mode=mode)


# ------------------------------------------------------------------------------- tensor methods

# positional arguments for the tensor methods that map to an nn.init function (same arguments, same order)
INPLACE_ARGS = {"normal_": (0.5, 2.0), "uniform_": (-0.3, 0.7), "fill_": (0.25,), "zero_": ()}


@pytest.mark.parametrize("method", sorted(cat.INPLACE_TENSOR_INITS))
def test_inplace_tensor_init(method):
    assert method.endswith("_") and callable(getattr(torch.Tensor, method, None)), f"Tensor.{method}"
    target = cat.INPLACE_TENSOR_INITS[method]
    if target not in cat.INIT_FUNCTIONS:
        # no nn.init equivalent: the value repeats the tensor method, the spelling to keep
        assert target == method and not hasattr(init, method)
        return
    args = INPLACE_ARGS[method]
    via_method = seeded(lambda t: getattr(t, method)(*args), torch.empty(64, 8))
    via_init = seeded(getattr(init, target), torch.empty(64, 8), *args)
    torch.testing.assert_close(via_method, via_init)


@pytest.mark.parametrize("name", sorted(cat.NONEXISTENT_TENSOR_METHODS))
def test_nonexistent_tensor_method(name):
    assert not hasattr(torch.Tensor, name)
    meant = cat.NONEXISTENT_TENSOR_METHODS[name]
    if meant is None:
        assert callable(getattr(init, name.rstrip("_") + "_", None))
    else:
        assert meant in cat.INPLACE_TENSOR_INITS and hasattr(torch.Tensor, meant)


OUT_OF_PLACE_ARGS = {"mul": (2.0,), "div": (2.0,), "add": (1.0,), "sub": (1.0,), "clamp": (-0.1, 0.1), "clip": (-0.1, 0.1),
                     "pow": (2,), "transpose": (0, 1), "masked_fill": (torch.ones(3, 4, dtype=torch.bool), 0.0)}


@pytest.mark.parametrize("method", sorted(cat.OUT_OF_PLACE_TENSOR_METHODS))
def test_out_of_place_tensor_method_leaves_tensor_unchanged(method):
    assert callable(getattr(torch.Tensor, method, None)), f"Tensor.{method}"
    assert callable(getattr(torch.Tensor, method + "_", None)), f"Tensor.{method}_ (the in-place spelling meant)"
    tensor = torch.rand(3, 4) + 0.5  # positive, for sqrt and log
    before = tensor.clone()
    result = getattr(tensor, method)(*OUT_OF_PLACE_ARGS.get(method, ()))
    assert result is not tensor
    assert torch.equal(tensor, before)


# ======================================================================================= third-party wrappers


def _wrapper_cases(prefix: str):
    return [pytest.param(q, id=q) for q in sorted(cat.WRAPPERS) if q.startswith(prefix)]


@pytest.mark.parametrize("qualname", _wrapper_cases(""))
def test_wrapper_torch_equivalent(qualname):
    spec = cat.WRAPPERS[qualname]
    if spec.torch_equivalent is None:
        return
    torch_spec = cat.INIT_FUNCTIONS[spec.torch_equivalent]
    assert spec.family == torch_spec.family
    torch_params = tuple(inspect.signature(getattr(init, spec.torch_equivalent)).parameters)[1:]
    # a wrapper may drop trailing parameters (timm has no `generator`), never rename or reorder them
    assert torch_params[: len(spec.params)] == spec.params
    for key, value in spec.defaults:
        assert torch_spec.default(key) == value, key


@pytest.mark.parametrize("qualname", _wrapper_cases("transformers.initialization."))
def test_transformers_wrappers_mirror_torch_exactly(qualname):
    spec = cat.WRAPPERS[qualname]
    name = qualname.rsplit(".", 1)[1]
    if name in cat.INIT_FUNCTIONS:
        assert spec.torch_equivalent == name
        assert spec.params == cat.INIT_FUNCTIONS[name].params
        assert dict(spec.defaults) == dict(cat.INIT_FUNCTIONS[name].defaults)
    else:
        assert spec.torch_equivalent is None


# The wrappers' sources, read with `ast` (timm / transformers are optional): an installed copy, or the pinned corpus.
WRAPPER_SOURCES = {
    "transformers.initialization": ("transformers", "transformers/initialization.py"),
    "timm.layers": ("timm", "timm/layers/weight_init.py"),
}
ALIAS_SOURCES = {
    "timm.layers": "timm/layers/__init__.py",
    "timm.models.layers": "timm/models/layers/__init__.py",
    "timm.layers.weight_init": "timm/layers/weight_init.py",
}


def _library_roots(package: str) -> list[Path]:
    roots = []
    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        found = None
    if found is not None and found.submodule_search_locations:
        roots += [Path(p).parent for p in found.submodule_search_locations]
    # $INITLINT_CORPUS, else a `corpus/` directory beside the repository (the pinned releases of shared/corpus/fetch.sh)
    corpus_dirs = [os.environ.get("INITLINT_CORPUS")] + [p / "corpus" for p in Path(__file__).resolve().parents[2:3]]
    for corpus in corpus_dirs:
        if corpus and Path(corpus).is_dir():
            roots += sorted(Path(corpus).glob(f"{package}-*"))
    return roots


def _library_file(package: str, relpath: str) -> Path | None:
    for root in _library_roots(package):
        if (root / relpath).is_file():
            return root / relpath
    return None


def _top_level_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _params_and_defaults(fn: ast.FunctionDef) -> tuple[tuple[str, ...], dict[str, object]]:
    positional = fn.args.posonlyargs + fn.args.args
    names = tuple(a.arg for a in positional[1:])  # after the tensor
    with_defaults = positional[len(positional) - len(fn.args.defaults):]
    defaults = {a.arg: ast.literal_eval(d) for a, d in zip(with_defaults, fn.args.defaults)}
    return names, defaults


@pytest.mark.parametrize("module_name", sorted(WRAPPER_SOURCES))
def test_wrappers_match_library_source(module_name):
    package, relpath = WRAPPER_SOURCES[module_name]
    path = _library_file(package, relpath)
    if path is None:
        pytest.skip(f"{package} source not available")
    functions = _top_level_functions(path)
    specs = {q.rsplit(".", 1)[1]: s for q, s in cat.WRAPPERS.items() if q.rsplit(".", 1)[0] == module_name}
    assert specs
    for name, spec in specs.items():
        assert name in functions, f"{module_name}.{name} not defined in {path}"
        params, defaults = _params_and_defaults(functions[name])
        assert params == spec.params, name
        assert dict(spec.defaults) == {k: v for k, v in defaults.items() if v is not None}, name
    # every public initializer of the file (a `*_` function taking the tensor first) is cataloged
    initializers = {n for n, fn in functions.items()
                    if n.endswith("_") and not n.startswith("_") and fn.args.args and fn.args.args[0].arg == "tensor"}
    assert initializers <= set(specs), sorted(initializers - set(specs))


@pytest.mark.parametrize("alias", sorted(cat.WRAPPER_MODULE_ALIASES))
def test_wrapper_module_aliases_export_the_wrappers(alias):
    path = _library_file("timm", ALIAS_SOURCES[alias])
    if path is None:
        pytest.skip("timm source not available")
    target = cat.WRAPPER_MODULE_ALIASES[alias]
    wanted = {q.rsplit(".", 1)[1] for q in cat.WRAPPERS if q.rsplit(".", 1)[0] == target}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    exported = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            exported |= {a.asname or a.name for a in node.names}
    assert wanted <= exported, sorted(wanted - exported)


def _load_wrapper_module(module_name: str):
    """Execute the wrapper file on its own: both files import only the standard library and torch at top level."""
    package, relpath = WRAPPER_SOURCES[module_name]
    path = _library_file(package, relpath)
    if path is None:
        pytest.skip(f"{package} source not available")
    loader_spec = importlib.util.spec_from_file_location(f"_initlint_test_{package}_weight_init", path)
    module = importlib.util.module_from_spec(loader_spec)
    loader_spec.loader.exec_module(module)
    return module


# transformers' lecun_normal_ divides the std by 0.8796 (the std of N(0, 1) cut at +-2) but then calls torch's
# trunc_normal_ with the absolute cut-offs a=-2, b=2, which do not truncate: its std is 1/(0.8796 sqrt(fan_in)), 13.7%
# above LeCun's. (timm's lecun_normal_ cuts in std units, so its std is LeCun's.)
LECUN_STD_FACTOR = {"transformers.initialization.lecun_normal_": 1 / 0.87962566103423978}


def _wrapper_behaviour_cases():
    for qualname in sorted(cat.WRAPPERS):
        module_name = qualname.rsplit(".", 1)[0]
        if module_name in WRAPPER_SOURCES:
            yield pytest.param(module_name, qualname, id=qualname)


@pytest.mark.parametrize(("module_name", "qualname"), list(_wrapper_behaviour_cases()))
def test_wrapper_behaviour(module_name, qualname):
    spec = cat.WRAPPERS[qualname]
    fn = getattr(_load_wrapper_module(module_name), qualname.rsplit(".", 1)[1])
    fan_in = 256
    if spec.family in (cat.FAM_LECUN, cat.FAM_VARIANCE_SCALING):
        # LeCun: Var = 1/fan_in (VarianceScaling with its defaults: scale 1, fan_in, normal)
        tensor = torch.empty(128, fan_in)
        seeded(fn, tensor)
        expected_std = LECUN_STD_FACTOR.get(qualname, 1.0) / math.sqrt(fan_in)
        assert tensor.std().item() == pytest.approx(expected_std, rel=0.03)
    elif spec.family == cat.FAM_TRUNC_NORMAL:
        # torch's a, b are absolute: std=0.02 with the default a=-2, b=2 does not truncate at 2 std.
        tensor = torch.empty(20000)
        seeded(fn, tensor, std=0.02)
        truncated_at_2_std = tensor.abs().max().item() <= 0.04 + 1e-6
        reference = seeded(init.trunc_normal_, torch.empty(20000), std=0.02)
        assert reference.abs().max().item() > 0.04
        assert truncated_at_2_std == (spec.torch_equivalent is None), "torch_equivalent must share torch's semantics"
    if spec.torch_equivalent is not None and module_name == "transformers.initialization":
        torch_spec = cat.INIT_FUNCTIONS[spec.torch_equivalent]
        kwargs = INIT_REQUIRED_ARGS.get(spec.torch_equivalent, {})
        got = seeded(fn, torch.empty(_shape_for(torch_spec)), **kwargs)
        expected = seeded(getattr(init, spec.torch_equivalent), torch.empty(_shape_for(torch_spec)), **kwargs)
        torch.testing.assert_close(got, expected)
    if spec.family == "copy":
        source = torch.randn(3, 4)
        assert torch.equal(fn(torch.empty(3, 4), source), source)
