from __future__ import annotations

from initlint.fixes import FixBuilder
from initlint.rules._fixes import keras_default_fix
from initlint.rules._shared import (
    default_initialized, describe_feeds, describe_layers, framework_default, is_keras, layers_feeding, relu_like,
)
from initlint.rules.base import Rule, Violation


class DefaultInitBeforeRelu(Rule):
    """## What it does
    Flags (opt-in) a Linear/Conv layer feeding a ReLU-family activation that keeps PyTorch's default init.

    ## Why is this bad?
    The default is `kaiming_uniform_(w, a=sqrt(5))`: U(±1/sqrt(fan_in)), variance 1/(3 fan_in), which is 1/6
    of what He init gives a ReLU layer. Deep plain stacks shrink the signal (30 layers: RMS 3.5e-12). Networks
    with normalization layers do not care, which is why this rule is off by default.

    Keras: a Dense/Conv layer feeding ReLU (its own `activation="relu"` included) on Keras's default
    `glorot_uniform`, whose variance fan_in/(fan_in+fan_out) of He's is half of it for a square layer and less
    for an expanding one. The last layer of a residual branch (its output is added to the identity before the
    ReLU, often scaled down on purpose, as in Inception-ResNet) is exempt.

    Exempt: a normalization layer in between, output layers, unknown consumers.

    ## Example
    ```python
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    ```

    ## Use instead
    ```python
    nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
    ```

    ## Fix safety
    No fix for PyTorch: adding an init statement needs a place in the code that depends on how the model is
    built. Keras: unsafe, `kernel_initializer="he_uniform"` (or the layer's own kernel argument, e.g.
    `depthwise_initializer=`) is added to the layer's constructor (the initial weights change), unless that
    constructor also builds layers that do not feed ReLU or takes `**kwargs`.
    """

    code = "INI005"
    name = "default-init-before-relu"
    default_enabled = False
    invalid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
""",
        """
import keras
from keras import layers

inputs = keras.Input(shape=(784,))
x = layers.Dense(256, activation="relu")(inputs)
model = keras.Model(inputs, layers.Dense(10)(x))
""",
    )
    valid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
""",
        """
import keras
from keras import layers

inputs = keras.Input(shape=(784,))
x = layers.Dense(256, use_bias=False)(inputs)
x = layers.BatchNormalization()(x)
x = layers.Activation("relu")(x)
x = layers.Dense(256, activation="relu", kernel_initializer="he_uniform")(x)
model = keras.Model(inputs, layers.Dense(10)(x))
""",
    )

    def check(self, model):
        keras_layers = []
        for layer in default_initialized(model):
            if layers_feeding([layer], relu_like) and is_keras(layer):
                if not layer.in_residual:  # a residual branch's last layer: the identity path dominates the sum
                    keras_layers.append(layer)
            elif layers_feeding([layer], relu_like):
                yield Violation(layer.node, f"{describe_layers(model, [layer])} feeds {describe_feeds([layer])} with "
                                            "PyTorch's default init (1/6 of He's variance); use "
                                            "nn.init.kaiming_uniform_(w, nonlinearity='relu')")
        builder = FixBuilder(model)
        by_constructor: dict[int, list] = {}
        for layer in keras_layers:
            by_constructor.setdefault(id(layer.constructor), []).append(layer)
        for layers in by_constructor.values():
            fix = keras_default_fix(builder, layers, "he", "uniform", "Use He init")
            item = layers[0].spec.initializer_for("weight")
            argument = item.arg if item is not None else "kernel_initializer"
            yield Violation(layers[0].node, f"{describe_layers(model, layers)} feeds {describe_feeds(layers)} with "
                                            f"{framework_default(layers[0])} (He's variance for a square layer is "
                                            f"twice that); use {argument}='he_uniform'", fix)
