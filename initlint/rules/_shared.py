"""Queries several rules share: explicit weight inits grouped by call, gains, layer descriptions."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator

from initlint.catalog import torch as catalog
from initlint.model.entities import (
    F_ACTIVATION, F_HEAD, ActivationUse, InitEvent, InitOp, ModuleNode, literal_value,
)
from initlint.model.keras_names import is_keras, layer_key  # noqa: F401 (layer_key: for the rules)
from initlint.model.semantic import FileModel

GAIN_TOLERANCE = 0.10


@dataclass
class CallGroup:
    """One init call and the layers whose weight it finally decides."""

    op: InitOp
    layers: list[ModuleNode] = field(default_factory=list)
    events: list[InitEvent] = field(default_factory=list)


def final_weight_inits(model: FileModel, kinds=catalog.FEEDFORWARD_KINDS, param: str = "weight") -> list[CallGroup]:
    """Explicit, unconditional inits that decide a feed-forward layer's weight, grouped by the call."""
    groups: dict[int, CallGroup] = {}
    for layer in model.layers():
        if layer.spec is None or layer.spec.kind not in kinds:
            continue
        event = layer.final_event(param)
        if event is None or event.op is None:
            continue
        group = groups.setdefault(id(event.op.node), CallGroup(event.op))
        if layer not in group.layers:
            group.layers.append(layer)
            group.events.append(event)
    return sorted(groups.values(), key=lambda g: (g.op.node.lineno, g.op.node.col_offset))


def layers_feeding(layers: list[ModuleNode], predicate: Callable[[ActivationUse], bool],
                   allow_norm: bool = False) -> list[ModuleNode]:
    """Layers whose every consumer is an activation satisfying `predicate` (and no norm in between)."""
    out = []
    for layer in layers:
        feeds = layer.feeds()
        if feeds.kind != F_ACTIVATION or (feeds.via_norm and not allow_norm):
            continue
        if feeds.all_activations(predicate):
            out.append(layer)
    return out


def default_initialized(model: FileModel, kinds=catalog.FEEDFORWARD_KINDS) -> Iterator[ModuleNode]:
    for layer in model.layers():
        if layer.spec is not None and layer.spec.kind in kinds and not layer.spec.lazy:
            if not [e for e in layer.events if e.param == "weight"] and layer.wrapped is None:
                yield layer


def activation_gain(activation: ActivationUse) -> float | None:
    """The gain an activation needs in front of it (He-style for the ReLU family)."""
    spec = activation.spec
    if spec.name in ("relu", "relu6"):
        return math.sqrt(2.0)
    if spec.name in ("leaky_relu", "prelu", "rrelu"):
        slope = activation.effective_slope()
        return catalog.leaky_gain(slope) if slope is not None else None
    if spec.name == "tanh":
        return 5.0 / 3
    if spec.name == "sigmoid":
        return 1.0
    return None


def evaluate_gain_expr(expr: ast.expr | None, model: FileModel, default: float | None = 1.0) -> float | None:
    """A literal gain, or `nn.init.calculate_gain('relu')` evaluated; None when not static."""
    if expr is None:
        return default
    value = literal_value(expr)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(expr, ast.Call):
        qualname = model.names.qualname(expr.func) or ""
        if qualname.endswith("calculate_gain") and expr.args:
            name = literal_value(expr.args[0])
            param = literal_value(expr.args[1]) if len(expr.args) > 1 else None
            for keyword in expr.keywords:
                if keyword.arg == "nonlinearity":
                    name = literal_value(keyword.value)
                if keyword.arg == "param":
                    param = literal_value(keyword.value)
            if isinstance(name, str) and (param is None or isinstance(param, (int, float))):
                return catalog.calculate_gain(name, param)
    return None


def implied_gain(op: InitOp, model: FileModel) -> float | None:
    """The gain an init call implies: Kaiming's from `a`/`nonlinearity`, Xavier's/orthogonal's `gain`."""
    if op.family == catalog.FAM_KAIMING:
        nonlinearity = op.literal("nonlinearity") if "nonlinearity" in op.args else "leaky_relu"
        a = op.literal("a") if "a" in op.args else 0
        if not isinstance(nonlinearity, str) or not isinstance(a, (int, float)):
            return None
        if nonlinearity == "leaky_relu":
            return catalog.leaky_gain(a)
        return catalog.calculate_gain(nonlinearity, a)
    if op.family in (catalog.FAM_XAVIER, catalog.FAM_ORTHOGONAL):
        return evaluate_gain_expr(op.args.get("gain"), model)
    return None


def explicit_gain(op: InitOp) -> bool:
    """Whether the call chooses its gain (Kaiming `a`/`nonlinearity`, Xavier/orthogonal `gain`)."""
    if op.family == catalog.FAM_KAIMING:
        return "a" in op.args or "nonlinearity" in op.args
    return "gain" in op.args


def relu_like(activation: ActivationUse) -> bool:
    return activation.spec.relu_family


def saturating(activation: ActivationUse) -> bool:
    return activation.spec.saturating


def activation_title(activation: ActivationUse) -> str:
    titles = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "prelu": "PReLU", "rrelu": "RReLU", "relu6": "ReLU6",
              "tanh": "tanh", "sigmoid": "sigmoid", "softsign": "softsign", "selu": "SELU"}
    return titles.get(activation.spec.name, activation.spec.name)


def init_arg(op: InitOp, name: str, torch_default):
    """An init argument's literal value: as written, else the function's default. Keras initializers' defaults
    come from the catalog (RandomUniform is ±0.05, not torch's U(0, 1)); torch's from `torch_default`."""
    if name in op.args or is_keras(op):
        return op.literal(name)
    return torch_default


def framework_default(layer: ModuleNode, param: str = "weight") -> str:
    """How a layer left at its default init is described: `Keras' default glorot_uniform`, `PyTorch's default init`."""
    if is_keras(layer):
        item = layer.spec.initializer_for(param) if layer.spec is not None else None
        return f"Keras' default {item.default}" if item is not None else "Keras' default init"
    return "PyTorch's default init"


def keras_initializer_names(family: str) -> str:
    """`he_normal/he_uniform`: how the rules' messages name a Keras initializer family."""
    return f"{family}_normal/{family}_uniform"


def describe_layers(model: FileModel, layers: list[ModuleNode]) -> str:
    """"`self.fc1`, `self.fc2` (Linear) of `MLP`"."""
    if layers and all(is_keras(layer) for layer in layers):
        return _describe_keras_layers(layers)
    owners = {id(layer): model.owner_name(layer) for layer in layers}
    several_owners = len(set(owners.values())) > 1

    def name(layer: ModuleNode) -> str:
        if several_owners and layer.display.startswith("self."):
            return f"`{owners[id(layer)]}.{layer.path}`"
        return f"`{layer.display}`"

    names = ", ".join(name(layer) for layer in layers[:4])
    if len(layers) > 4:
        names += f" and {len(layers) - 4} more"
    classes = sorted({layer.cls for layer in layers})
    text = f"{names} ({', '.join(classes)})"
    owner_names = sorted(set(owners.values()) - {""})
    if len(owner_names) == 1 and any(layer.display.startswith("self.") for layer in layers):
        text += f" of `{owner_names[0]}`"
        elsewhere = model.foreign_file(model.owner_class(layers[0]))
        if elsewhere is not None:
            from initlint.routing import display

            text += f" ({display(elsewhere)})"
    return text


def _describe_keras_layers(layers: list[ModuleNode]) -> str:
    """Keras layers by name (a block builder called N times builds N nodes of one name: listed once); two
    constructors of the same name (`Dense(64)` twice) are told apart by their line."""
    lines: dict[str, set] = {}
    for layer in layers:
        lines.setdefault(layer.display, set()).add(getattr(layer.node, "lineno", 0))
    names: list[str] = []
    for layer in layers:
        text = f"`{layer.display}`"
        if len(lines[layer.display]) > 1:
            text += f" (line {getattr(layer.node, 'lineno', 0)})"
        if text not in names:
            names.append(text)
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    text = f"{shown} ({', '.join(sorted({layer.cls for layer in layers}))})"
    owners = sorted({getattr(layer, "owner", "") for layer in layers} - {""})
    if len(owners) == 1:
        text += f" in `{owners[0]}`"
    return text


def describe_feeds(layers: list[ModuleNode]) -> str:
    """"ReLU (`F.relu`, line 30)"."""
    titles: list[str] = []
    details: list[str] = []
    for layer in layers:
        feeds = layer.feeds()
        for activation in feeds.activations:
            title = activation_title(activation)
            if title not in titles:
                titles.append(title)
        described = feeds.describe()
        if described and described not in details:
            details.append(described)
    text = " / ".join(titles)
    if details:
        text += f" ({'; '.join(details[:2])})"
    return text


def fan_in(layer: ModuleNode) -> int | None:
    """torch's fan_in of the layer's weight when its shape arguments are literals."""
    spec = layer.spec
    if spec is None:
        return None
    flags = layer.flags
    if spec.kind == catalog.LINEAR:
        value = flags.get("in_features")
        return value if isinstance(value, int) and value > 0 else None
    if spec.kind in (catalog.CONV, catalog.CONV_TRANSPOSE):
        channels = flags.get("out_channels" if spec.kind == catalog.CONV_TRANSPOSE else "in_channels")
        groups = flags.get("groups", 1)
        kernel = flags.get("kernel_size")
        if not isinstance(channels, int) or not isinstance(groups, int) or groups <= 0:
            return None
        if isinstance(kernel, int):
            size = kernel ** (spec.spatial_dims or 1)
        else:
            arg = layer.args.get("kernel_size")
            if isinstance(arg, ast.Tuple) and all(isinstance(literal_value(e), int) for e in arg.elts):
                size = math.prod(literal_value(e) for e in arg.elts)
            else:
                return None
        return channels // groups * size
    return None


def fan_out(layer: ModuleNode) -> int | None:
    spec = layer.spec
    if spec is None:
        return None
    if spec.kind == catalog.LINEAR:
        value = layer.flags.get("out_features")
        return value if isinstance(value, int) and value > 0 else None
    return None


def is_head(layer: ModuleNode) -> bool:
    return layer.feeds().kind == F_HEAD
