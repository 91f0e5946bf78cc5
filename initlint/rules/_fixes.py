"""Fixes the activation-aware rules share: the init call that fits the activation a layer feeds."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from initlint.catalog import torch as catalog
from initlint.fixes import UNSAFE, FixBuilder, gain_call, quote_like
from initlint.findings import Edit, Fix
from initlint.model.entities import F_ACTIVATION, ActivationUse, ModuleNode
from initlint.model.keras_names import canonical, is_keras

if TYPE_CHECKING:
    from initlint.catalog.keras import KerasInitializerSpec


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
    if is_keras(op):
        return keras_swap(builder, op, keras_family_for(activation), message)
    if shared_by_parameter_loop(builder.model, op):
        return None
    quote_node = op.args.get("nonlinearity")
    extra = kaiming_arguments(builder, activation, quote_node)
    if extra is None:
        return None
    text, imports = builder.init_call(op, f"kaiming_{distribution(op)}_", kept(op, *keep), extra)
    return builder.fix(UNSAFE, message, [builder.replace(op.node, text), *imports])


def replace_with_xavier(builder: FixBuilder, op, activation: ActivationUse, message: str) -> Fix | None:
    if is_keras(op):
        return keras_swap(builder, op, "glorot", message)
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
    if is_keras(op):
        family = keras_family_for(activation)
        return keras_swap(builder, op, family, message) if family is not None else None
    if activation.spec.relu_family or activation.spec.name == "selu":
        return replace_with_kaiming(builder, op, activation, message, keep=("generator",))
    if activation.spec.saturating:
        return replace_with_xavier(builder, op, activation, message)
    return None


# ------------------------------------------------------------------------------------------ Keras


def keras_family_for(activation: ActivationUse) -> str | None:
    """The Keras initializer family an activation wants: he_* (ReLU family), lecun_* (SELU), glorot_* (saturating)."""
    from initlint.catalog import keras as keras_catalog  # Keras data only where Keras code is fixed

    if activation.spec.relu_family:
        return keras_catalog.FITTING_FAMILY["relu"]
    if activation.spec.name == "selu":
        return keras_catalog.FITTING_FAMILY["selu"]
    if activation.spec.saturating:
        return keras_catalog.FITTING_FAMILY["saturating"]
    return None


def keras_target(op, family: str) -> "KerasInitializerSpec | None":
    """The named initializer of `family` with the distribution `op` draws from (LeCun: always normal, for SELU)."""
    from initlint.catalog import keras as keras_catalog

    distribution = "normal" if family == "lecun" else keras_catalog.DISTRIBUTION.get(op.class_name, "uniform")
    name = keras_catalog.NAMED.get((family, distribution))
    return keras_catalog.INITIALIZERS.get(name) if name else None


def _keras_spelling(original: str, spec, target) -> str:
    """Keep the identifier style the code uses: `'GlorotUniform'` -> `'HeUniform'`, `'glorot_uniform'` -> `'he_uniform'`."""
    return target.class_name if original == spec.class_name else target.name


def keras_class_name(builder: FixBuilder, func: ast.expr, class_name: str) -> tuple[str, list]:
    """How to spell `keras.initializers.<class_name>` where `func` spells another initializer class."""
    if isinstance(func, ast.Attribute):
        return f"{builder.segment(func.value)}.{class_name}", []
    if not isinstance(func, ast.Name):
        return "", [None]
    aliases = builder.model.names.aliases
    for local, qualname in aliases.items():
        if canonical(qualname) == f"keras.initializers.{class_name}":
            return local, []
    source = aliases.get(func.id)
    if not source or "." not in source:
        return "", [None]
    module = source.rsplit(".", 1)[0]
    return class_name, [builder._add_import(f"from {module} import {class_name}")]


def keras_swap(builder: FixBuilder, op, family: str | None, message: str) -> Fix | None:
    """Replace a Keras initializer by the named one of `family`, in the style written: a string stays a string, a
    class call a class call (keeping its `seed`), a config dict a config dict. VarianceScaling's parameters say
    more than a name, so it gets no fix."""
    if family is None or op.spec is None or op.class_name == "VarianceScaling":
        return None
    target = keras_target(op, family)
    if target is None or target is op.spec:
        return None
    if op.style == "string" and isinstance(op.node, ast.Constant):
        text = _keras_spelling(op.node.value, op.spec, target)
        return builder.fix(UNSAFE, message, [builder.replace(op.node, quote_like(op.node, text, builder))])
    if op.style == "dict":
        name = op.class_expr
        if not isinstance(name, ast.Constant) or set(op.args) - {"seed"}:
            return None
        text = _keras_spelling(name.value, op.spec, target)
        return builder.fix(UNSAFE, message, [builder.replace(name, quote_like(name, text, builder))])
    if op.style == "class-ref":
        spelled, imports = keras_class_name(builder, op.class_expr, target.class_name)
        return builder.fix(UNSAFE, message, [builder.replace(op.class_expr, spelled), *imports]) if spelled else None
    if op.style == "class" and isinstance(op.node, ast.Call):
        call = op.node
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return None
        kept = []
        if "seed" in op.args and "seed" in target.params:
            kept.append(f"seed={builder.segment(op.args['seed'])}")
        spelled, imports = keras_class_name(builder, call.func, target.class_name)
        if not spelled:
            return None
        return builder.fix(UNSAFE, message, [builder.replace(call, f"{spelled}({', '.join(kept)})"), *imports])
    return None


def keras_add_keyword(builder: FixBuilder, call: ast.Call, text: str) -> Edit | None:
    """`Dense(64)` -> `Dense(64, <text>)`, after the call's last argument (None when `**kwargs` may hold it)."""
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    arguments = list(call.args) + list(call.keywords)
    if not arguments:
        inside = builder.source.position(call.end_lineno, call.end_col_offset - 1)
        return Edit(text, inside, inside)
    last = max(arguments, key=lambda a: (a.end_lineno, a.end_col_offset))
    _start, end = builder.source.node_range(last)
    return Edit(f", {text}", end, end)


def keras_default_fix(builder: FixBuilder, layers: list[ModuleNode], family: str, distribution: str,
                      message: str) -> Fix | None:
    """Give layers left at Keras's default an explicit `kernel_initializer=` of `family`: only when every layer their
    constructor builds is among `layers` (a block builder used before ReLU and before tanh gets no fix)."""
    from initlint.catalog import keras as keras_catalog

    keras_model = builder.model.keras
    if keras_model is None:
        return None
    target = keras_catalog.INITIALIZERS[keras_catalog.NAMED[(family, distribution)]]
    edits = []
    wanted = {id(layer) for layer in layers}
    for call_id in dict.fromkeys(id(layer.constructor) for layer in layers):
        built = keras_model.nodes_by_constructor.get(call_id, [])
        if not built or any(id(node) not in wanted for node in built):
            return None
        layer = built[0]
        item = layer.spec.initializer_for("weight") if layer.spec is not None else None
        call = layer.constructor
        if item is None or call is None or any(k.arg == item.arg for k in call.keywords) or item.arg in layer.args:
            return None
        quote = next((a for a in list(call.args) + [k.value for k in call.keywords]
                      if isinstance(a, ast.Constant) and isinstance(a.value, str)), None)
        edits.append(keras_add_keyword(builder, call, f"{item.arg}={quote_like(quote, target.name, builder)}"))
    return builder.fix(UNSAFE, message, edits)


__all__ = ["single_activation", "replace_with_kaiming", "replace_with_xavier", "fitting_init", "gain_argument",
           "kaiming_arguments", "catalog", "keras_swap", "keras_default_fix", "keras_family_for", "keras_add_keyword"]
