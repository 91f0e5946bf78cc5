from __future__ import annotations

from initlint.catalog import torch as catalog
from initlint.model.entities import F_ACTIVATION
from initlint.rules._shared import (
    GAIN_TOLERANCE, activation_gain, activation_title, describe_feeds, describe_layers, explicit_gain,
    final_weight_inits, implied_gain,
)
from initlint.fixes import UNSAFE, FixBuilder
from initlint.rules._fixes import gain_argument, kaiming_arguments, kept, shared_by_parameter_loop, single_activation
from initlint.rules.base import Rule, Violation


class GainMismatch(Rule):
    """## What it does
    Flags an explicit gain (Kaiming's `a`/`nonlinearity`, or Xavier's `gain=calculate_gain(...)`) that differs
    by more than 10% from the gain of the activation the layer feeds.

    ## Why is this bad?
    The gain is the whole point of choosing it: `nonlinearity='linear'` before a ReLU gives half the variance
    He init would, `calculate_gain('tanh')` before a ReLU gives 5/3 instead of sqrt(2), and
    `kaiming_uniform_(w, a=math.sqrt(5))` (PyTorch's default, copied by hand) gives 1/6 of He's variance.
    Small slope differences (`a=0` for `LeakyReLU(0.01)`) are within tolerance and not reported.

    Exempt: a normalization layer in between, output layers, unknown consumers, activations torch has no gain
    for (GELU, SiLU, ...), SELU (INI004), and the Kaiming-before-tanh case INI002 reports.

    ## Example
    ```python
    nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="linear")
    ...
    x = F.relu(self.fc1(x))
    ```

    ## Use instead
    ```python
    nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")
    ```

    ## Fix safety
    Unsafe: the fix sets the `nonlinearity`/`a` (Kaiming) or the `calculate_gain` name (Xavier) of the
    activation that follows, which rescales the initial weights.
    """

    code = "INI003"
    name = "gain-mismatch"
    invalid = (
        """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 32)
        self.fc2 = nn.Linear(32, 1)
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="linear")

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
nn.init.xavier_uniform_(net[0].weight, gain=nn.init.calculate_gain("tanh"))
""",
    )
    valid = (
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(8, 8), nn.LeakyReLU(0.01), nn.Linear(8, 1))
nn.init.kaiming_normal_(net[0].weight, a=0, mode="fan_out", nonlinearity="leaky_relu")
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Linear(8, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
nn.init.kaiming_normal_(net[0].weight, a=0.2)
""",
    )

    def check(self, model):
        for group in final_weight_inits(model):
            op = group.op
            if op.family not in (catalog.FAM_KAIMING, catalog.FAM_XAVIER) or not explicit_gain(op):
                continue
            gain = implied_gain(op, model)
            if gain is None:
                continue
            bad = []
            needed_titles = set()
            for layer in group.layers:
                feeds = layer.feeds()
                if feeds.kind != F_ACTIVATION or feeds.via_norm:
                    continue
                needs = {activation_gain(a) for a in feeds.activations}
                if None in needs or len(needs) != 1:
                    continue
                needed = needs.pop()
                if op.family == catalog.FAM_KAIMING and gain > 1.3 and all(a.spec.saturating for a in feeds.activations):
                    continue  # INI002
                if abs(gain - needed) > GAIN_TOLERANCE * needed:
                    bad.append(layer)
                    needed_titles.add(f"{needed:.3g} for {activation_title(feeds.activations[0])}")
            if bad:
                yield Violation(op.node, f"init gain {gain:.3g} does not fit the activation: it reaches "
                                         f"{describe_layers(model, bad)}, which feed {describe_feeds(bad)} "
                                         f"(gain {', '.join(sorted(needed_titles))})", self._fix(model, op, bad, group.layers))

    @staticmethod
    def _fix(model, op, bad, reached):
        activation = single_activation(bad, reached)
        if activation is None or shared_by_parameter_loop(model, op):
            return None
        builder = FixBuilder(model)
        if op.family == catalog.FAM_KAIMING:
            extra = kaiming_arguments(builder, activation, op.args.get("nonlinearity"))
            if extra is None:
                return None
            text, imports = builder.init_call(op, op.spec.name, kept(op, "mode", "generator"), extra)
        else:
            gain = gain_argument(builder, op, activation)
            if gain is None:
                return None
            text, imports = builder.init_call(op, op.spec.name, kept(op, "generator"), [gain[0]])
            imports += gain[1]
        return builder.fix(UNSAFE, "Use the gain of the activation that follows", [builder.replace(op.node, text), *imports])
