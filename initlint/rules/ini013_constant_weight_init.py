from __future__ import annotations

from initlint.catalog import torch as catalog
from initlint.model.entities import C_LAYER, F_ACTIVATION
from initlint.rules._shared import describe_feeds, describe_layers, final_weight_inits, init_arg, layer_key
from initlint.rules.base import Rule, Violation


def constant_value(op) -> float | None:
    """The value a constant init writes, or None when it is not a constant init (or not a literal)."""
    if op.family != catalog.FAM_CONSTANT:
        return None
    if op.spec is not None and op.spec.constant_value is not None:
        return op.spec.constant_value
    if op.name == "zero_":
        return 0.0
    value = init_arg(op, "val", None)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class ConstantWeightInit(Rule):
    """## What it does
    Flags constant, ones or zeros initialization of the weight matrix of a layer that feeds an activation,
    or that feeds another layer whose weight is zero-initialized too.

    ## Why is this bad?
    All units of the layer start identical. With zeros before a ReLU-family activation the gradient is exactly
    zero and the layer never learns; with any other constant the units separate only through the randomness of
    other layers, never when those are constant too. Two stacked zero-initialized layers give the first one a
    zero gradient.

    Keras: `kernel_initializer="zeros"`/`"ones"`, `Zeros()`, `Ones()`, `Constant(v)` on such a layer.

    Exempt: output layers (zero-init heads are a convention), layers feeding softmax (zero logits give the
    uniform distribution, as deformable attention's offsets and weights intend), the last layer of a residual branch (its output is
    added to the identity: Fixup, zero-init-residual, ControlNet zero-convs, LoRA's B), and unknown consumers.

    ## Example
    ```python
    nn.init.zeros_(self.hidden.weight)
    ...
    x = F.relu(self.hidden(x))
    ```

    ## Use instead
    ```python
    nn.init.kaiming_uniform_(self.hidden.weight, nonlinearity="relu")
    ```

    ## Fix safety
    No fix: whether the constant was meant (a gate, an identity start) or a placeholder is a design question.
    """

    code = "INI013"
    name = "constant-weight-init"
    invalid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))
nn.init.zeros_(net[0].weight)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.Tanh(), nn.Linear(32, 1))
nn.init.constant_(net[0].weight, 0.5)
""",
        """
import keras
from keras import layers

model = keras.Sequential([layers.Dense(32, activation="relu", kernel_initializer="zeros"), layers.Dense(1)])
""",
    )
    valid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1))
nn.init.zeros_(net[2].weight)
""",
        """
import torch.nn as nn
import torch.nn.functional as F

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))
""",
        """
import keras
from keras import layers

inputs = keras.Input(shape=(16,))
hidden = layers.Dense(16, activation="relu")(inputs)
branch = layers.Dense(16, kernel_initializer="zeros")(hidden)
outputs = layers.Dense(1, kernel_initializer="zeros")(layers.Add()([inputs, branch]))
model = keras.Model(inputs, outputs)
""",
    )

    def check(self, model):
        for group in final_weight_inits(model):
            value = constant_value(group.op)
            if value is None:
                continue
            bad = []
            for layer in group.layers:
                if layer.in_residual:
                    continue
                feeds = layer.feeds()
                if feeds.kind == F_ACTIVATION and not any(a.spec.family == catalog.OUTPUT for a in feeds.activations):
                    bad.append(layer)
                elif value == 0 and layer.consumers and all(c.kind == C_LAYER for c in layer.consumers) \
                        and self._feeds_zero_layer(model, layer):
                    bad.append(layer)
            if bad:
                what = "zeros" if value == 0 else f"constant {value:g}"
                feeds_text = describe_feeds(bad) or "a zero-initialized layer"
                yield Violation(group.op.node, f"{what} init of the weight of {describe_layers(model, bad)}, which feed "
                                               f"{feeds_text}: all units start identical and "
                                               f"{'get no gradient' if value == 0 else 'cannot separate'}; use a random init")

    @staticmethod
    def _feeds_zero_layer(model, layer) -> bool:
        """Whether a layer consuming this one's output is zero-initialized too (neither can then learn)."""
        for other in model.layers():
            if other is layer:
                continue
            event = other.final_event("weight")
            if event is None or event.op is None or constant_value(event.op) != 0:
                continue
            if any(c.kind == C_LAYER and c.label == layer_key(other) for c in layer.consumers):
                return True
        return False
