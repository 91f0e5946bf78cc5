from __future__ import annotations

from initlint.catalog import torch as catalog
from initlint.rules._shared import (
    describe_feeds, describe_layers, final_weight_inits, implied_gain, is_keras, layers_feeding, saturating,
)
from initlint.fixes import FixBuilder
from initlint.rules._fixes import replace_with_xavier, single_activation
from initlint.rules.base import Rule, Violation


class KaimingBeforeSaturating(Rule):
    """## What it does
    Flags Kaiming (He) initialization with a ReLU gain on a layer whose output feeds tanh, sigmoid or softsign.

    ## Why is this bad?
    He init doubles the variance to make up for ReLU discarding half the signal. A saturating activation
    discards nothing, so the doubled pre-activations push tanh and sigmoid into their flat tails, where
    gradients vanish. Xavier init (with `gain=calculate_gain('tanh')` for tanh) is derived for them.

    Keras: `he_normal`/`he_uniform` (or `VarianceScaling(2.0, 'fan_in'|'fan_out')`) on a layer feeding
    tanh, sigmoid or softsign, which want `glorot_*`.

    Exempt: a normalization layer in between, output layers, unknown consumers (a sigmoid gate multiplied into
    another branch, as in squeeze-and-excitation, is not followed).

    ## Example
    ```python
    self.fc = nn.Linear(128, 128)
    nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")
    ...
    return torch.tanh(self.fc(x))
    ```

    ## Use instead
    ```python
    nn.init.xavier_normal_(self.fc.weight, gain=nn.init.calculate_gain("tanh"))
    ```

    ## Fix safety
    Unsafe: Kaiming becomes Xavier of the same distribution (with `gain=calculate_gain('tanh')` before tanh),
    changing the initial weights; in Keras `he_*` becomes `glorot_*` of the same distribution, in the style
    written (a `VarianceScaling` or a TensorFlow `tf.*_initializer` gets no fix). No fix when one call reaches layers feeding different activations.
    """

    code = "INI002"
    name = "kaiming-before-saturating"
    invalid = (
        """
import torch
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 128)
        self.out = nn.Linear(128, 2)
        nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")

    def forward(self, x):
        return self.out(torch.tanh(self.fc(x)))
""",
    )
    valid = (
        """
import torch
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 128)
        self.out = nn.Linear(128, 2)
        nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")

    def forward(self, x):
        return self.out(torch.relu(self.fc(x)))
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid())
nn.init.kaiming_uniform_(net[0].weight, mode="fan_out", nonlinearity="sigmoid")
""",
        """
from tensorflow import keras

inputs = keras.Input(shape=(16,))
x = keras.layers.Dense(32, activation="tanh", kernel_initializer="glorot_normal")(inputs)
x = keras.layers.Dense(32, activation="relu", kernel_initializer="he_normal")(x)
model = keras.Model(inputs, keras.layers.Dense(1)(x))
""",
    )

    invalid = invalid + (
        """
from tensorflow import keras

inputs = keras.Input(shape=(16,))
x = keras.layers.Dense(32, kernel_initializer="he_normal")(inputs)
x = keras.layers.Activation("tanh")(x)
model = keras.Model(inputs, keras.layers.Dense(1)(x))
""",
    )

    def check(self, model):
        for group in final_weight_inits(model):
            op = group.op
            if op.family != catalog.FAM_KAIMING:
                continue
            gain = implied_gain(op, model)
            if gain is None or gain < 1.3:
                continue  # a linear/sigmoid gain is INI003's business
            bad = layers_feeding(group.layers, saturating)
            if bad:
                activation = single_activation(bad, group.layers)
                fix = replace_with_xavier(FixBuilder(model), op, activation, "Use Xavier init with the activation's gain") \
                    if activation is not None else None
                if is_keras(op):
                    yield Violation(op.node, f"He init {op.label} reaches {describe_layers(model, bad)}, which feed "
                                             f"{describe_feeds(bad)}; use glorot_uniform/glorot_normal", fix)
                    continue
                yield Violation(op.node, f"Kaiming (He) init with a ReLU gain reaches {describe_layers(model, bad)}, "
                                         f"which feed {describe_feeds(bad)}; use Xavier init (gain=calculate_gain('tanh') "
                                         "before tanh)", fix)
