from __future__ import annotations

from initlint.rules._shared import default_initialized, describe_feeds, describe_layers, layers_feeding, relu_like
from initlint.rules.base import Rule, Violation


class DefaultInitBeforeRelu(Rule):
    """## What it does
    Flags (opt-in) a Linear/Conv layer feeding a ReLU-family activation that keeps PyTorch's default init.

    ## Why is this bad?
    The default is `kaiming_uniform_(w, a=sqrt(5))`: U(±1/sqrt(fan_in)), variance 1/(3 fan_in), which is 1/6
    of what He init gives a ReLU layer. Deep plain stacks shrink the signal (30 layers: RMS 3.5e-12). Networks
    with normalization layers do not care, which is why this rule is off by default.

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
    No fix: adding an init statement needs a place in the code that depends on how the model is built.
    """

    code = "INI005"
    name = "default-init-before-relu"
    default_enabled = False
    invalid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
""",
    )
    valid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
""",
    )

    def check(self, model):
        for layer in default_initialized(model):
            if layers_feeding([layer], relu_like):
                yield Violation(layer.node, f"{describe_layers(model, [layer])} feeds {describe_feeds([layer])} with "
                                            "PyTorch's default init (1/6 of He's variance); use "
                                            "nn.init.kaiming_uniform_(w, nonlinearity='relu')")
