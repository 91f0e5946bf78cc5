from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.model.initops import split_param_target
from initlint.model.names import torch_nn_name
from initlint.rules._shared import describe_layers, final_weight_inits, init_arg, is_keras
from initlint.fixes import UNSAFE, FixBuilder
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk


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

    Exempt: a draw centred away from 0 (timm's RepVGG blocks use N(0.1, 0.1) on purpose), the last norm of a
    residual branch (zero-init-residual is deliberate and uses a constant, not a draw).

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

def weights_init(m):  # the models live in another file: the branch says what it reaches
    if isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
""",
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
        reported = set()
        for op, bad, center, spread in self._model_findings(model):
            reported.add(id(op.node))
            yield self._violation(model, op, describe_layers(model, bad), center, spread)
        # A dispatch branch that says what it reaches (`if isinstance(m, nn.BatchNorm2d):`), even when the model
        # is built in another file.
        for op in model.init_ops:
            if id(op.node) in reported:
                continue
            norm = _norm_branch(model, op)
            scale = _center_and_spread(op)
            if norm and scale and _around_zero(*scale):
                yield self._violation(model, op, f"`{ast.unparse(op.target)}` ({norm})", *scale)

    def _violation(self, model, op, what: str, center: float, spread: float) -> Violation:
        fix = None
        if op.family != catalog.FAM_UNIFORM and "mean" in op.args:
            builder = FixBuilder(model)
            fix = builder.fix(UNSAFE, "Draw gamma around 1", [builder.replace(op.args["mean"], "1.0")])
        advice = "RandomNormal(mean=1.0, stddev=0.02)) or use 'ones'" if is_keras(op) else \
            "normal_(w, 1.0, 0.02)) or use ones_"
        return Violation(op.node, f"norm weight (gamma) of {what} drawn around {center:g}: every channel is scaled by "
                                  f"~{spread:g} with a random sign; draw it around 1 ({advice}", fix)

    @staticmethod
    def _model_findings(model):
        for group in final_weight_inits(model, kinds=(catalog.NORM,)):
            scale = _center_and_spread(group.op)
            if scale is None or not _around_zero(*scale):
                continue
            bad = [layer for layer in group.layers if not layer.in_residual]
            if bad:
                yield group.op, bad, *scale


def _around_zero(center: float, spread: float) -> bool:
    """Drawn around 0, not merely small: timm's RepVGG blocks draw gamma from N(0.1, 0.1) on purpose (several
    branches are summed), which is a choice, not the DCGAN slip of a 0.0 mean."""
    return abs(center) < 0.05


def _center_and_spread(op) -> tuple[float, float] | None:
    """Where a normal/uniform draw is centred, and how wide it is."""
    if op.family == catalog.FAM_UNIFORM:
        a, b = init_arg(op, "a", 0.0), init_arg(op, "b", 1.0)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return (a + b) / 2, abs(b - a) / 2
        return None
    if op.family not in (catalog.FAM_NORMAL, catalog.FAM_TRUNC_NORMAL):
        return None
    center, spread = init_arg(op, "mean", 0.0), init_arg(op, "std", 1.0)
    if isinstance(center, (int, float)) and isinstance(spread, (int, float)):
        return float(center), float(spread)
    return None


def _norm_branch(model, op) -> str | None:
    """The norm class(es) an enclosing `if isinstance(m, ...)` or class-name test restricts `m.weight` to."""
    base, param, _whole = split_param_target(op.target)
    if param != "weight" or not isinstance(base, ast.Name):
        return None
    child, parent = op.node, model.parents.get(op.node)
    while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(parent, ast.If) and _contains(parent.body, child):
            found = _norm_test(model, parent.test, base.id)
            if found:
                return found
        child, parent = parent, model.parents.get(parent)
    return None


def _contains(body: list, node) -> bool:
    return any(statement is node for statement in body)


def _norm_test(model, test, name: str) -> str | None:
    for node in walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" \
                and len(node.args) == 2 and isinstance(node.args[0], ast.Name) and node.args[0].id == name:
            classes = node.args[1].elts if isinstance(node.args[1], (ast.Tuple, ast.List)) else [node.args[1]]
            names = [torch_nn_name(model.names.qualname(c)) for c in classes]
            if names and all(n in catalog.LAYERS and catalog.LAYERS[n].kind == catalog.NORM for n in names):
                return ", ".join(names)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ("BatchNorm", "GroupNorm",
                                                                                           "InstanceNorm", "LayerNorm"):
            return node.value
    return None
