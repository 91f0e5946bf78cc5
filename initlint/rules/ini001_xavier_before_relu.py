from __future__ import annotations

from initlint.catalog import torch as catalog
from initlint.rules._shared import (
    GAIN_TOLERANCE, describe_feeds, describe_layers, explicit_gain, final_weight_inits, implied_gain, is_keras,
    layers_feeding, relu_like,
)
from initlint.fixes import FixBuilder
from initlint.rules._fixes import replace_with_kaiming, single_activation
from initlint.rules.base import Rule, Violation


class XavierBeforeRelu(Rule):
    """## What it does
    Flags Xavier/Glorot initialization (with its default gain) on a layer whose output feeds a ReLU-family
    activation (ReLU, ReLU6, LeakyReLU, PReLU, RReLU).

    ## Why is this bad?
    Xavier keeps the variance of a *linear* layer's output. ReLU zeroes half of it, so each Xavier layer
    before a ReLU halves the signal's variance (for a square layer; an expansion layer loses more): thirty such
    layers shrink it by 2^-15. Kaiming (He) init with `nonlinearity='relu'` compensates exactly.

    Keras: an explicit `glorot_uniform`/`glorot_normal` (string, class, config dict, or
    `VarianceScaling(1.0, 'fan_avg')`) on a layer feeding ReLU, including a layer's own `activation="relu"`.
    Keras's *default* is Glorot too, but a default is INI005's business (opt-in).

    Exempt: a normalization layer between the layer and its activation (it rescales the signal), output
    layers, layers whose consumer cannot be resolved, and Xavier with an explicit gain (see INI003).

    ## Example
    ```python
    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 256)
            nn.init.xavier_uniform_(self.fc1.weight)
            self.fc2 = nn.Linear(256, 10)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))
    ```

    ## Use instead
    ```python
    nn.init.kaiming_uniform_(self.fc1.weight, nonlinearity="relu")
    ```

    ## Fix safety
    Unsafe: the fix swaps Xavier for Kaiming of the same distribution (`nonlinearity='relu'`, or
    `'leaky_relu'` with `a=` the actual slope), which changes the numbers the model starts from. In Keras it
    swaps the initializer for He of the same distribution in the style written (`"glorot_uniform"` ->
    `"he_uniform"`, `GlorotNormal(seed=1)` -> `HeNormal(seed=1)`, a config dict's `class_name`); a
    `VarianceScaling` and TensorFlow's own `tf.*_initializer` functions get no fix. No fix is offered when one call (or one Keras initializer) reaches layers
    that want different inits (ReLU and tanh layers of a shared `weights_init`).
    """

    code = "INI001"
    name = "xavier-before-relu"
    invalid = (
        """
import torch.nn as nn
import torch.nn.functional as F

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)
        nn.init.xavier_uniform_(self.fc1.weight)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
""",
        """
import keras
from keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform"),
    layers.Dense(10, activation="softmax"),
])
""",
        """
import torch.nn as nn

def weights_init(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_normal_(m.weight)

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
net.apply(weights_init)
""",
    )
    valid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 1))
for m in net.modules():
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 1))
net.apply(lambda m: nn.init.xavier_uniform_(m.weight) if isinstance(m, nn.Linear) else None)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
nn.init.xavier_uniform_(net[0].weight, gain=nn.init.calculate_gain("relu"))
""",
        """
import keras
from keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(64, kernel_initializer="glorot_uniform"),
    layers.BatchNormalization(),
    layers.ReLU(),
    layers.Dense(10, kernel_initializer="glorot_uniform", activation="softmax"),
])
""",
    )

    def check(self, model):
        for group in final_weight_inits(model):
            op = group.op
            if op.family != catalog.FAM_XAVIER or explicit_gain(op):
                continue
            gain = implied_gain(op, model)
            if gain is not None and gain >= 2 ** 0.5 * (1 - GAIN_TOLERANCE):
                continue
            bad = layers_feeding(group.layers, relu_like)
            if bad:
                activation = single_activation(bad, group.layers)
                fix = None
                if activation is not None:
                    fix = replace_with_kaiming(FixBuilder(model), op, activation,
                                               "Use Kaiming init of the same distribution", keep=("generator",))
                reason = "" if fix else "; no autofix: the same call reaches layers that want different inits"
                if is_keras(op):
                    reason = "" if fix or activation is not None else \
                        "; no autofix: the same initializer reaches layers that want different inits"
                    yield Violation(op.node, f"Glorot (Xavier) init {op.label} reaches {describe_layers(model, bad)}, "
                                             f"which feed {describe_feeds(bad)}; use he_uniform/he_normal{reason}", fix)
                    continue
                yield Violation(op.node, f"Xavier init reaches {describe_layers(model, bad)}, which feed "
                                         f"{describe_feeds(bad)}; use Kaiming (He) init with nonlinearity='relu'"
                                         f"{reason}", fix)
