from __future__ import annotations

from initlint.catalog import torch as catalog
from initlint.rules._shared import describe_feeds, describe_layers, framework_default, is_keras, layers_feeding
from initlint.fixes import UNSAFE, FixBuilder, quote_like
from initlint.rules._fixes import keras_default_fix, keras_swap, kept, shared_by_parameter_loop
from initlint.rules.base import Rule, Violation


def _selu(activation) -> bool:
    return activation.spec.name == "selu"


def is_lecun_normal(op) -> bool:
    """LeCun normal: Var 1/fan_in from a normal distribution (torch spells it `kaiming_normal_(w, nonlinearity='linear')`)."""
    if op.family == catalog.FAM_LECUN:
        return True
    if op.family == catalog.FAM_KAIMING:
        nonlinearity = op.literal("nonlinearity") if "nonlinearity" in op.args else "leaky_relu"
        mode = op.literal("mode") if "mode" in op.args else "fan_in"
        return nonlinearity in catalog.CALCULATE_GAIN and catalog.calculate_gain(nonlinearity) == 1.0 \
            and isinstance(mode, str) and mode.lower() == "fan_in" and nonlinearity != "sigmoid"
    if op.family == catalog.FAM_VARIANCE_SCALING:
        scale = op.literal("scale")
        mode = op.literal("mode")
        return scale == 1.0 and mode == "fan_in"
    return False


class SeluWithoutLecun(Rule):
    """## What it does
    Flags a layer feeding SELU whose weights are not LeCun-normal initialized, PyTorch's default included.

    ## Why is this bad?
    SELU's self-normalizing property (activations converge to mean 0, variance 1) is derived for weights
    with variance 1/fan_in. PyTorch's default gives 1/3 of that, and `nonlinearity='selu'` (gain 3/4) gives
    9/16 of it: thirty SELU layers then shrink the signal to RMS 0.21 instead of 1.0. torch has no `lecun_normal_`:
    `kaiming_normal_(w, nonlinearity='linear')` is LeCun normal, as torch's docstring says.

    Keras: a layer feeding SELU (`activation="selu"` included) whose kernel is not `lecun_normal`/
    `lecun_uniform`, Keras's default `glorot_uniform` included.

    Exempt: a normalization layer in between, output layers, unknown consumers.

    ## Example
    ```python
    net = nn.Sequential(nn.Linear(64, 64), nn.SELU(), nn.Linear(64, 10))
    ```

    ## Use instead
    ```python
    nn.init.kaiming_normal_(net[0].weight, nonlinearity="linear")
    ```

    ## Fix safety
    Unsafe: an explicit init is replaced by `kaiming_normal_(w, nonlinearity='linear')`, which changes the
    initial weights. A layer left at PyTorch's default gets no fix (it would need a new statement whose place
    depends on the code's structure). In Keras an explicit initializer becomes `lecun_normal` in the style
    written (a `VarianceScaling` gets no fix), and a layer left at the default gets
    `kernel_initializer="lecun_normal"` (or its own kernel argument, e.g. `depthwise_initializer=`) added to
    its constructor, unless that constructor also builds layers that do not feed SELU or takes `**kwargs`.
    """

    code = "INI004"
    name = "selu-without-lecun"
    invalid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(64, 64), nn.SELU(), nn.Linear(64, 10))
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(64, 64), nn.SELU(), nn.Linear(64, 10))
nn.init.kaiming_normal_(net[0].weight, nonlinearity="selu")
""",
    )
    valid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(64, 64), nn.SELU(), nn.Linear(64, 10))
for m in net.modules():
    if isinstance(m, nn.Linear):
        nn.init.kaiming_normal_(m.weight, nonlinearity="linear")
""",
        """
import keras

model = keras.Sequential([
    keras.layers.Dense(64, activation="selu", kernel_initializer="lecun_normal"),
    keras.layers.Dense(10, activation="softmax"),
])
""",
    )
    invalid = invalid + (
        """
import keras

model = keras.Sequential([
    keras.layers.Dense(64, activation="selu"),
    keras.layers.Dense(10, activation="softmax"),
])
""",
    )

    def check(self, model):
        groups: dict[int, tuple] = {}
        for layer in model.layers():
            if layer.spec.kind not in catalog.FEEDFORWARD_KINDS or not layers_feeding([layer], _selu):
                continue
            weight_events = [e for e in layer.events if e.param == "weight"]
            event = layer.final_event("weight")
            if weight_events and event is None:
                continue  # conditional or unknown: not ours to judge
            if event is not None and event.op is not None and is_lecun_normal(event.op):
                continue
            node = event.op.node if event is not None and event.op is not None else layer.node
            groups.setdefault(id(node), (node, event, []))[2].append(layer)
        for node, event, layers in groups.values():
            if is_keras(layers[0]):
                yield self._keras_violation(model, node, event, layers)
                continue
            how = "PyTorch's default init" if event is None or event.op is None else f"`{event.op.label}`"
            fix = None
            if event is not None and event.op is not None and event.op.target is not None \
                    and not shared_by_parameter_loop(model, event.op):
                builder = FixBuilder(model)
                op = event.op
                text, imports = builder.init_call(op, "kaiming_normal_", kept(op, "generator"),
                                                  [f"nonlinearity={quote_like(op.args.get('nonlinearity'), 'linear', builder)}"])
                fix = builder.fix(UNSAFE, "Use LeCun normal init", [builder.replace(op.node, text), *imports])
            yield Violation(node, f"{describe_layers(model, layers)} feed {describe_feeds(layers)} but use {how}; "
                                  "SELU needs LeCun normal: nn.init.kaiming_normal_(w, nonlinearity='linear')", fix)

    @staticmethod
    def _keras_violation(model, node, event, layers) -> Violation:
        builder = FixBuilder(model)
        if event is None or event.op is None:
            how = framework_default(layers[0])
            fix = keras_default_fix(builder, layers, "lecun", "normal", "Use LeCun normal init")
        else:
            how = f"{event.op.label}"
            fix = keras_swap(builder, event.op, "lecun", "Use LeCun normal init")
        item = layers[0].spec.initializer_for("weight")
        argument = item.arg if item is not None else "kernel_initializer"
        return Violation(node, f"{describe_layers(model, layers)} feed {describe_feeds(layers)} but use {how}; "
                               f"SELU needs LeCun normal: {argument}='lecun_normal'", fix)
