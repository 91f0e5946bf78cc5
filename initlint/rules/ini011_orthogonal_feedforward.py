from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.rules._shared import (
    activation_gain, describe_feeds, describe_layers, final_weight_inits, is_keras, layers_feeding,
)
from initlint.fixes import UNSAFE, FixBuilder
from initlint.rules._fixes import gain_argument, keras_add_keyword, kept, shared_by_parameter_loop, single_activation
from initlint.rules.base import Rule, Violation


class OrthogonalFeedforward(Rule):
    """## What it does
    Flags `orthogonal_` without an explicit gain on the weight of a Linear/Conv layer that feeds an activation.

    ## Why is this bad?
    An orthogonal matrix has unit-norm rows: element variance about 1/max(rows, cols), LeCun-like, which is
    too small before a ReLU (He wants 2/fan_in). Orthogonality pays off under repeated multiplication by the
    same matrix, in recurrent hidden-to-hidden weights; a feed-forward layer gets nothing from it.

    Keras: `kernel_initializer="orthogonal"` / `Orthogonal()` without `gain=` on a Dense/Conv kernel feeding an
    activation. Keras's own default `recurrent_initializer="orthogonal"` is the recurrent case, not this one.

    Exempt: recurrent weights, an explicit `gain=` (the RL convention `orthogonal_(w, gain=np.sqrt(2))` is a
    deliberate choice), output layers, a normalization layer in between, unknown consumers.

    ## Example
    ```python
    nn.init.orthogonal_(self.fc1.weight)
    ...
    x = F.relu(self.fc1(x))
    ```

    ## Use instead
    ```python
    nn.init.orthogonal_(self.fc1.weight, gain=nn.init.calculate_gain("relu"))
    ```

    ## Fix safety
    Unsafe: the fix adds `gain=calculate_gain(<activation>)`, scaling the initial weights. In Keras an
    `Orthogonal(...)` call gets `gain=` the activation's gain as a number; the string `"orthogonal"` and config
    dicts get no fix.
    """

    code = "INI011"
    name = "orthogonal-feedforward"
    invalid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
nn.init.orthogonal_(net[0].weight)
""",
    )
    valid = (
        """
import numpy as np
import torch.nn as nn

net = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
nn.init.orthogonal_(net[0].weight, gain=np.sqrt(2))
nn.init.orthogonal_(net[2].weight)
""",
        """
import torch.nn as nn

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(32, 64)
        nn.init.orthogonal_(self.lstm.weight_hh_l0)
""",
        """
import keras

model = keras.Sequential([
    keras.layers.LSTM(64, kernel_initializer="orthogonal", recurrent_initializer="orthogonal"),
    keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.Orthogonal(gain=2 ** 0.5)),
    keras.layers.Dense(10, kernel_initializer="orthogonal"),
])
""",
    )
    invalid = invalid + (
        """
import keras

model = keras.Sequential([
    keras.layers.Dense(64, activation="relu", kernel_initializer="orthogonal"),
    keras.layers.Dense(10),
])
""",
    )

    def check(self, model):
        for group in final_weight_inits(model):
            op = group.op
            if op.family != catalog.FAM_ORTHOGONAL or "gain" in op.args:
                continue
            bad = layers_feeding(group.layers, lambda activation: True)
            if bad and is_keras(op):
                yield self._keras_violation(model, op, bad, group.layers)
                continue
            if bad:
                fix = None
                activation = single_activation(bad, group.layers)
                if activation is not None and not shared_by_parameter_loop(model, op):
                    builder = FixBuilder(model)
                    gain = gain_argument(builder, op, activation)
                    if gain is not None:
                        text, imports = builder.init_call(op, op.spec.name, kept(op, "generator"), [gain[0]])
                        fix = builder.fix(UNSAFE, "Give orthogonal init the activation's gain",
                                          [builder.replace(op.node, text), *imports, *gain[1]])
                yield Violation(op.node, f"orthogonal init without a gain on feed-forward {describe_layers(model, bad)}, "
                                         f"which feed {describe_feeds(bad)}; use the activation's gain "
                                         "(gain=calculate_gain(...)) or Kaiming/Xavier init", fix)

    @staticmethod
    def _keras_violation(model, op, bad, reached) -> Violation:
        fix = None
        activation = single_activation(bad, reached)
        gain = activation_gain(activation) if activation is not None else None
        if gain is not None and op.style == "class" and isinstance(op.node, ast.Call):
            builder = FixBuilder(model)
            fix = builder.fix(UNSAFE, "Give orthogonal init the activation's gain",
                              [keras_add_keyword(builder, op.node, f"gain={gain:.6g}")])
        return Violation(op.node, f"orthogonal init {op.label} without a gain on feed-forward "
                                  f"{describe_layers(model, bad)}, which feed {describe_feeds(bad)}; use "
                                  "Orthogonal(gain=<the activation's gain>) or he_*/glorot_* init", fix)
