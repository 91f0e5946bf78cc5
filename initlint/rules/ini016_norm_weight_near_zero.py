from __future__ import annotations

from initlint.catalog import torch as catalog
from initlint.rules._shared import describe_layers, final_weight_inits, init_arg, is_keras
from initlint.fixes import UNSAFE, FixBuilder
from initlint.rules.base import Rule, Violation


class NormWeightNearZero(Rule):
    """## What it does
    Flags a normalization layer's weight (gamma) drawn around 0 (`normal_(bn.weight, 0.0, 0.02)`) instead of
    around 1.

    ## Why is this bad?
    The norm's output is `gamma * x_hat + beta`; with gamma ~ N(0, 0.02) every channel is scaled by about
    0.02 with a random sign, so each normalized block shrinks the signal fifty-fold. The DCGAN/pix2pix
    reference init is `normal_(bn.weight, 1.0, 0.02)`.

    Keras: `gamma_initializer=RandomNormal(...)` / `"random_normal"` / `"uniform"` on BatchNormalization,
    LayerNormalization or GroupNormalization.

    Exempt: the last norm of a residual branch (zero-init-residual is deliberate and uses a constant, not a draw).

    ## Example
    ```python
    if isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    ```

    ## Use instead
    ```python
    if isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
    ```

    ## Fix safety
    Unsafe: the mean becomes 1.0 (the DCGAN reference), which changes the initial values.
    """

    code = "INI016"
    name = "norm-weight-near-zero"
    invalid = (
        """
import torch.nn as nn

def weights_init(m):
    if isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)

net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
net.apply(weights_init)
""",
    )
    valid = (
        """
import torch.nn as nn

def weights_init(m):
    if isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)

net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
net.apply(weights_init)
""",
    )

    def check(self, model):
        for group in final_weight_inits(model, kinds=(catalog.NORM,)):
            op = group.op
            if op.family not in (catalog.FAM_NORMAL, catalog.FAM_TRUNC_NORMAL, catalog.FAM_UNIFORM):
                continue
            if op.family == catalog.FAM_UNIFORM:
                a = init_arg(op, "a", 0.0)
                b = init_arg(op, "b", 1.0)
                if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
                    continue
                center, spread = (a + b) / 2, abs(b - a) / 2
            else:
                center = init_arg(op, "mean", 0.0)
                spread = init_arg(op, "std", 1.0)
            if not isinstance(center, (int, float)) or not isinstance(spread, (int, float)):
                continue
            if abs(center) >= 0.5:
                continue
            bad = [layer for layer in group.layers if not layer.in_residual]
            if bad:
                fix = None
                if op.family != catalog.FAM_UNIFORM and "mean" in op.args:
                    builder = FixBuilder(model)
                    fix = builder.fix(UNSAFE, "Draw gamma around 1", [builder.replace(op.args["mean"], "1.0")])
                advice = "RandomNormal(mean=1.0, stddev=0.02)) or use 'ones'" if is_keras(op) else \
                    "normal_(w, 1.0, 0.02)) or use ones_"
                yield Violation(op.node, f"norm weight (gamma) of {describe_layers(model, bad)} drawn around "
                                         f"{center:g}: every channel is scaled by ~{spread:g} with a random sign; "
                                         f"draw it around 1 ({advice}", fix)
