"""Fixes the activation-aware rules share: the init call that fits the activation a layer feeds."""

from __future__ import annotations

from initlint.catalog import torch as catalog
from initlint.fixes import UNSAFE, FixBuilder, gain_call, quote_like
from initlint.findings import Fix
from initlint.model.entities import F_ACTIVATION, ActivationUse, ModuleNode


def shared_by_parameter_loop(model, op) -> bool:
    """An init inside a `parameters()`/`named_parameters()` loop writes every tensor it visits: rewriting it for
    one layer's activation would change the others too."""
    return any(event.op is op and event.via == "named-parameters" for _node, event in model.events)


def single_activation(layers: list[ModuleNode], reached: list[ModuleNode]) -> ActivationUse | None:
    """The one activation (by name and slope) every reached layer that feeds an activation feeds.
    Heads and layers with unknown consumers accept either init; two different activations mean no fix."""
    seen: dict[tuple, ActivationUse] = {}
    for layer in reached:
        feeds = layer.feeds()
        if feeds.kind != F_ACTIVATION:
            continue
        for activation in feeds.activations:
            key = (_init_key(activation), round(activation.effective_slope() or 0.0, 6))
            seen.setdefault(key, activation)
    if not layers or len(seen) != 1:
        return None
    return next(iter(seen.values()))


def _init_key(activation: ActivationUse) -> str:
    name = activation.spec.name
    if activation.spec.relu_family:
        return "leaky_relu" if (activation.effective_slope() or 0.0) else "relu"
    return name


def distribution(op) -> str:
    spec_name = op.spec.name if op.spec is not None else op.name
    return "uniform" if "uniform" in spec_name else "normal"


def kaiming_arguments(builder: FixBuilder, activation: ActivationUse, quote_node=None) -> list[str] | None:
    """`nonlinearity=...` (and `a=` for a leaky slope) that fit the activation, or None."""
    slope = activation.effective_slope() or 0.0
    if activation.spec.relu_family:
        if slope:
            return [f"a={slope:g}", f"nonlinearity={quote_like(quote_node, 'leaky_relu', builder)}"]
        return [f"nonlinearity={quote_like(quote_node, 'relu', builder)}"]
    if activation.spec.name in ("tanh", "sigmoid"):
        return [f"nonlinearity={quote_like(quote_node, activation.spec.name, builder)}"]
    if activation.spec.name == "selu":
        return [f"nonlinearity={quote_like(quote_node, 'linear', builder)}"]
    return None


def gain_argument(builder: FixBuilder, op, activation: ActivationUse, quote_node=None) -> tuple[str, list] | None:
    """`gain=nn.init.calculate_gain(...)` for the activation, or None when torch has no gain for it."""
    slope = activation.effective_slope() or 0.0
    if activation.spec.relu_family:
        text, imports = gain_call(builder, op, "leaky_relu" if slope else "relu", quote_node)
        if slope:
            text = text[:-1] + f", {slope:g})"
        return f"gain={text}", imports
    if activation.spec.name in ("tanh", "sigmoid"):
        text, imports = gain_call(builder, op, activation.spec.name, quote_node)
        return f"gain={text}", imports
    return None


def kept(op, *names: str) -> dict:
    return {key: value for key, value in op.args.items() if key in names}


def replace_with_kaiming(builder: FixBuilder, op, activation: ActivationUse, message: str,
                         keep: tuple[str, ...] = ("mode", "generator")) -> Fix | None:
    if shared_by_parameter_loop(builder.model, op):
        return None
    quote_node = op.args.get("nonlinearity")
    extra = kaiming_arguments(builder, activation, quote_node)
    if extra is None:
        return None
    text, imports = builder.init_call(op, f"kaiming_{distribution(op)}_", kept(op, *keep), extra)
    return builder.fix(UNSAFE, message, [builder.replace(op.node, text), *imports])


def replace_with_xavier(builder: FixBuilder, op, activation: ActivationUse, message: str) -> Fix | None:
    if shared_by_parameter_loop(builder.model, op):
        return None
    gain = gain_argument(builder, op, activation) if activation.spec.name == "tanh" else ("", [])
    if gain is None:
        return None
    gain_text, gain_imports = gain
    text, imports = builder.init_call(op, f"xavier_{distribution(op)}_", kept(op, "generator"),
                                      [gain_text] if gain_text else [])
    return builder.fix(UNSAFE, message, [builder.replace(op.node, text), *imports, *gain_imports])


def fitting_init(builder: FixBuilder, op, activation: ActivationUse, message: str) -> Fix | None:
    """He init for the ReLU family and SELU's LeCun, Xavier for saturating activations."""
    if activation.spec.relu_family or activation.spec.name == "selu":
        return replace_with_kaiming(builder, op, activation, message, keep=("generator",))
    if activation.spec.saturating:
        return replace_with_xavier(builder, op, activation, message)
    return None


__all__ = ["single_activation", "replace_with_kaiming", "replace_with_xavier", "fitting_init", "gain_argument",
           "kaiming_arguments", "catalog"]
