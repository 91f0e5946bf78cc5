from __future__ import annotations

import math

from initlint.catalog import torch as catalog
from initlint.rules._shared import (
    describe_feeds, describe_layers, fan_in, fan_out, final_weight_inits, init_arg, is_keras, layers_feeding,
)
from initlint.fixes import FixBuilder
from initlint.rules._fixes import fitting_init, single_activation
from initlint.rules.base import Rule, Violation

RATIO = 4.0
# Literal stds that are conventions of whole model families, not fan-in mistakes:
# 0.02 is DCGAN's (Radford et al.) and GPT/BERT/ViT's.
CONVENTIONAL_STDS = (0.02,)


def literal_std(op) -> float | None:
    """The std a normal/uniform init with literal arguments draws with."""
    if op.family in (catalog.FAM_NORMAL, catalog.FAM_TRUNC_NORMAL):
        std = op.literal("std")
        if std is None and "std" not in op.args:
            std = 1.0
        return float(std) if isinstance(std, (int, float)) and not isinstance(std, bool) else None
    if op.family == catalog.FAM_UNIFORM:
        a = init_arg(op, "a", 0.0)
        b = init_arg(op, "b", 1.0)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return abs(b - a) / math.sqrt(12)
    return None


def needed_std(activation, fan_in_value: int, fan_out_value: int | None) -> float | None:
    name = activation.spec.name
    if activation.spec.relu_family:
        slope = activation.effective_slope() or 0.0
        return math.sqrt(2.0 / ((1 + slope**2) * fan_in_value))
    if name in ("tanh", "sigmoid", "softsign"):
        gain = 5.0 / 3 if name == "tanh" else 1.0
        if fan_out_value:
            return gain * math.sqrt(2.0 / (fan_in_value + fan_out_value))
        return gain / math.sqrt(fan_in_value)
    if name == "selu":
        return 1 / math.sqrt(fan_in_value)
    return None


class FixedScaleInit(Rule):
    """## What it does
    Flags a literal std or bound (`normal_(w, 0, 0.01)`, `uniform_(w, -0.05, 0.05)`) on the weight of a
    Linear/Conv layer feeding an activation, when the layer's fan-in is known and the literal differs by more
    than 4x from the std that activation needs at that fan-in (He for the ReLU family, Xavier for tanh/sigmoid).

    ## Why is this bad?
    A fixed std ignores the layer's width: 0.01 is He-scale for a 20,000-input layer but 40x too small for a
    3x3 conv over 64 channels. Stacked, the signal vanishes (or explodes) geometrically with depth.

    Keras: `RandomNormal(stddev=...)`, `TruncatedNormal`, `RandomUniform(minval, maxval)` (and TensorFlow's
    `tf.random_normal_initializer(mean, stddev)`) and their strings
    (`"random_normal"` is stddev 0.05, `"uniform"` ±0.05) on a Dense/Conv kernel whose input width is known
    (`keras.Input(shape=...)`, `input_shape=`, or the previous layer's `units`/`filters`).

    Exempt: unknown fan-in, output layers, embeddings, a normalization layer in between, unknown consumers,
    and std 0.02, the documented convention of DCGAN and of transformer families (GPT, BERT, ViT).

    ## Example
    ```python
    self.conv = nn.Conv2d(64, 64, 3)
    nn.init.normal_(self.conv.weight, 0, 0.01)
    ...
    x = F.relu(self.conv(x))
    ```

    ## Use instead
    ```python
    nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
    ```

    ## Fix safety
    Unsafe: the fixed-std draw becomes Kaiming (ReLU family) or Xavier (tanh, sigmoid) of the same
    distribution, which changes the initial weights. In Keras it becomes `he_*`, `glorot_*` or (SELU)
    `lecun_normal` of the same distribution, in the style written (string, class call keeping its `seed`, or
    config dict without other parameters); TensorFlow's own `tf.random_normal_initializer(...)` gets no fix.
    """

    code = "INI012"
    name = "fixed-scale-init"
    invalid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Conv2d(64, 10, 1))
nn.init.normal_(net[0].weight, 0, 0.001)
""",
        """
import keras
from keras import layers, initializers

inputs = keras.Input(shape=(32, 32, 64))
x = layers.Conv2D(64, 3, activation="relu", kernel_initializer=initializers.RandomNormal(stddev=0.001))(inputs)
model = keras.Model(inputs, layers.Conv2D(10, 1)(x))
""",
    )
    valid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(), nn.Linear(4096, 10))
for m in net.modules():
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0, 0.01)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 4))
nn.init.normal_(net[0].weight, 0.0, 0.02)
""",
        """
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(512, activation="relu", kernel_initializer="random_normal"),
    layers.Dense(10, activation="softmax"),
])
""",
    )

    def check(self, model):
        for group in final_weight_inits(model, kinds=(catalog.LINEAR, catalog.CONV, catalog.CONV_TRANSPOSE)):
            op = group.op
            std = literal_std(op)
            if std is None or std <= 0 or any(abs(std - c) < 1e-9 for c in CONVENTIONAL_STDS):
                continue
            bad, wanted = [], []
            for layer in layers_feeding(group.layers, lambda activation: True):
                fan = fan_in(layer)
                if not fan:
                    continue
                needs = {needed_std(a, fan, fan_out(layer)) for a in layer.feeds().activations}
                if None in needs:
                    continue
                if all(std > need * RATIO or std < need / RATIO for need in needs):
                    bad.append(layer)
                    wanted.append(min(needs))
            if bad:
                activation = single_activation(bad, group.layers)
                fix = fitting_init(FixBuilder(model), op, activation, "Use the init that fits the activation") \
                    if activation is not None and (op.target is not None or is_keras(op)) else None
                advice = "use he_*/glorot_* init" if is_keras(op) else "use Kaiming/Xavier init"
                yield Violation(op.node, f"fixed std {std:.3g} ignores fan-in: {describe_layers(model, bad)} feed "
                                         f"{describe_feeds(bad)} and need std ≈ {wanted[0]:.3g} (fan_in "
                                         f"{fan_in(bad[0])}); {advice}", fix)
