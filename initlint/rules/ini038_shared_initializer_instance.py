from __future__ import annotations

import ast

from initlint.fixes import UNSAFE, FixBuilder
from initlint.model.entities import literal_value
from initlint.model.keras_names import canonical
from initlint.rules.base import Rule, Violation


def _exclusive(a: tuple, b: tuple) -> bool:
    """Two uses on opposite branches of one `if` (outside any loop): at most one of them runs."""
    for index, (left, right) in enumerate(zip(a, b)):
        if left == right:
            continue
        if left[0] == "if" and right[0] == "if" and left[1] == right[1]:
            return not any(frame[0] == "loop" for frame in a[:index])
        return False
    return False


class SharedInitializerInstance(Rule):
    """## What it does
    Flags one Keras initializer *instance* given to several layers (or several `add_weight` calls):
    `init = GlorotUniform()` passed as `kernel_initializer=init` to two Dense layers, or a module-level instance
    used inside a block builder that is called many times.

    ## Why is this bad?
    A Keras 3 initializer fixes its seed when it is constructed, so every call of the same instance draws the
    same numbers: layers of the same shape start with identical kernels (a larger kernel starts with the
    smaller one's values as its first elements). It happens whether the instance is unseeded or seeded with an
    int, and Keras 3 says nothing (tf-keras warns, for unseeded ones). Identical layers receive identical
    gradients in symmetric positions, and ensembles or twin branches built this way are not independent.
    Only a `seed=keras.random.SeedGenerator(...)` draws fresh values per call. A string (`"glorot_uniform"`),
    a config dict or a class reference builds a new instance per layer and is fine.

    Exempt: `Zeros`, `Ones`, `Constant`, `Identity` and `STFT` (deterministic by design), uses on opposite
    branches of an `if`, and seeds that are not literals.

    ## Example
    ```python
    init = keras.initializers.GlorotUniform()
    x = layers.Dense(64, kernel_initializer=init)(x)
    x = layers.Dense(64, kernel_initializer=init)(x)
    ```

    ## Use instead
    ```python
    x = layers.Dense(64, kernel_initializer=keras.initializers.GlorotUniform())(x)
    x = layers.Dense(64, kernel_initializer=keras.initializers.GlorotUniform())(x)
    ```

    ## Fix safety
    Unsafe (the layers' initial weights change). An unseeded instance: each use gets its own copy of the
    constructor call, when its arguments are literals and its class is named through a module-level import.
    An int seed: the seed becomes `keras.random.SeedGenerator(<seed>)`, so the layers draw different values that
    are still reproducible, when the file imports `keras` (not tf-keras, which has no SeedGenerator). Otherwise
    no fix.
    """

    code = "INI038"
    name = "shared-initializer-instance"
    invalid = (
        """
import keras
from keras import layers

init = keras.initializers.GlorotUniform()
inputs = keras.Input(shape=(32,))
x = layers.Dense(64, activation="tanh", kernel_initializer=init)(inputs)
x = layers.Dense(64, activation="tanh", kernel_initializer=init)(x)
model = keras.Model(inputs, layers.Dense(1)(x))
""",
        """
import keras
from keras import layers, initializers

INIT = initializers.HeNormal(seed=42)

def conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", kernel_initializer=INIT)(x)
    return layers.Activation("relu")(x)

def build():
    inputs = keras.Input(shape=(32, 32, 3))
    x = conv_block(inputs, 32)
    x = conv_block(x, 32)
    return keras.Model(inputs, x)
""",
    )
    valid = (
        """
import keras
from keras import layers

inputs = keras.Input(shape=(32,))
x = layers.Dense(64, kernel_initializer="glorot_uniform")(inputs)
x = layers.Dense(64, kernel_initializer="glorot_uniform")(x)
zeros = keras.initializers.Zeros()
x = layers.Dense(64, bias_initializer=zeros)(x)
x = layers.Dense(64, bias_initializer=zeros)(x)
model = keras.Model(inputs, x)
""",
        """
import keras
from keras import layers

init = keras.initializers.HeNormal(seed=keras.random.SeedGenerator(0))
model = keras.Sequential([layers.Dense(64, kernel_initializer=init), layers.Dense(64, kernel_initializer=init)])
""",
        """
import keras
from keras import layers

def block(x, wide):
    init = keras.initializers.HeUniform()
    if wide:
        return layers.Dense(256, kernel_initializer=init)(x)
    else:
        return layers.Dense(64, kernel_initializer=init)(x)
""",
    )

    def check(self, model):
        if model.keras is None:
            return
        for instance in model.keras.instances:
            op = instance.op
            spec = op.spec if op is not None else None
            if spec is None or not spec.random or instance.seed not in ("none", "int"):
                continue
            uses = []
            seen: set = set()
            for layer, param, expr, path in instance.uses:
                if layer is not None and id(layer) in seen:
                    continue  # one layer: its kernel and bias given the same instance are not two layers
                if layer is not None:
                    seen.add(id(layer))
                uses.append((layer, param, expr, path))  # every add_weight run is a weight of its own
            shared = any(not _exclusive(a[3], b[3]) for i, a in enumerate(uses) for b in uses[i + 1:])
            if not shared:
                continue
            what = _describe_uses(uses)
            seeded = "seeded with an int, " if instance.seed == "int" else ""
            yield Violation(instance.node, f"one initializer instance `{op.label}` ({seeded}reused) initializes "
                                           f"{what}: Keras gives every weight it initializes the same random draws "
                                           "(identical kernels for equal shapes); give each layer its own initializer "
                                           "or seed it with keras.random.SeedGenerator", self._fix(model, instance))

    @staticmethod
    def _fix(model, instance):
        builder = FixBuilder(model)
        call = instance.node
        if not isinstance(call, ast.Call) or instance.op is None or instance.op.style != "class":
            return None
        if instance.seed == "int":
            seed = instance.op.args.get("seed")
            keras_alias = next((local for local, q in model.names.aliases.items() if canonical(q) == "keras"
                                and not q.startswith("tf_keras")), None)
            if seed is None or keras_alias is None or model.keras.tf_keras:
                return None
            return builder.fix(UNSAFE, "Seed it with a SeedGenerator",
                               [builder.replace(seed, f"{keras_alias}.random.SeedGenerator({builder.segment(seed)})")])
        arguments = list(call.args) + [k.value for k in call.keywords]
        if any(k.arg is None for k in call.keywords) or any(literal_value(a) is None and not _none(a)
                                                            for a in arguments):
            return None
        root = call.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in model.names.aliases:
            return None
        text = builder.segment(call)
        edits = []
        seen: set[int] = set()
        for _layer, _param, expr, _path in instance.uses:
            if expr is None or expr is call or id(expr) in seen:
                if expr is None:
                    return None
                continue
            if not isinstance(expr, (ast.Name, ast.Attribute)):
                return None
            seen.add(id(expr))
            edits.append(builder.replace(expr, text))
        return builder.fix(UNSAFE, "Give each layer its own initializer", edits)


def _describe_uses(uses: list) -> str:
    """"`Dense(64)` (line 12), `Dense(64)` (line 13)", "`Dense(64)` (line 8, built 2 times, in `block`)"."""
    by_site: dict[int, list] = {}
    for use in uses:
        layer, _param, expr, _path = use
        site = layer.constructor if layer is not None else expr
        by_site.setdefault(id(site), []).append(use)
    parts = []
    for group in by_site.values():
        layer, _param, expr, _path = group[0]
        name = f"`{layer.display}`" if layer is not None else "`add_weight(...)`"
        line = getattr(layer.constructor if layer is not None else expr, "lineno", 0)
        detail = f"line {line}"
        if len(group) > 1:
            detail += f", built {len(group)} times"
        owner = getattr(layer, "owner", "") if layer is not None else ""
        if owner:
            detail += f", in `{owner}`"
        parts.append(f"{name} ({detail})")
    shown = ", ".join(parts[:4]) + (f" and {len(parts) - 4} more" if len(parts) > 4 else "")
    return shown


def _none(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None
