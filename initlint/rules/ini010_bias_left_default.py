from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.rules._shared import describe_layers, is_keras
from initlint.fixes import UNSAFE, FixBuilder
from initlint.model.initops import split_param_target
from initlint.rules.base import Rule, Violation


class BiasLeftDefault(Rule):
    """## What it does
    Flags a layer whose weight initialization is overridden while its bias (which it has) keeps PyTorch's
    default, U(±1/sqrt(fan_in)). Reported at the weight's init call.

    ## Why is this bad?
    Overriding the weight says the default was not wanted, yet the bias keeps a default scaled to the old
    scheme: with a carefully scaled weight the random bias becomes a sizeable, arbitrary offset per unit.
    The reference implementations of most inits (He, Xavier, DCGAN, Detectron) zero the bias.

    Exempt: layers built with `bias=False`, biases set anywhere (including conditionally), lazy layers, and
    layers followed directly by a normalization layer, which subtracts the bias's mean again.

    ## Example
    ```python
    nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
    ```

    ## Use instead
    ```python
    nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
    nn.init.zeros_(self.conv.bias)
    ```

    ## Fix safety
    Unsafe: the fix adds `nn.init.zeros_(<layer>.bias)` right after the weight's init (guarded by
    `if m.bias is not None:` inside a dispatch that may reach layers without a bias), changing initial values.
    """

    code = "INI010"
    name = "bias-left-default"
    invalid = (
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3))
net.apply(init_weights)
""",
    )
    valid = (
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)

net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3))
net.apply(init_weights)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Conv2d(3, 16, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU())
nn.init.kaiming_normal_(net[0].weight, nonlinearity="relu")
""",
    )

    def check(self, model):
        groups: dict[int, tuple] = {}
        for layer in model.layers():
            if layer.spec.kind not in catalog.FEEDFORWARD_KINDS or layer.spec.lazy or layer.wrapped:
                continue
            if is_keras(layer):
                continue  # a Keras bias starts at zero unless bias_initializer says otherwise
            if layer.has_param("bias") is not True:
                continue
            event = layer.final_event("weight")
            if event is None or event.op is None or event.op.family in ("assign", "copy"):
                continue
            if any(e.param == "bias" for e in layer.events):
                continue
            if layer.feeds().via_norm:
                continue  # a normalization right after removes the bias's mean: its init hardly matters
            groups.setdefault(id(event.op.node), (event.op, [], []))[1].append(layer)
            groups[id(event.op.node)][2].append(event)
        for op, layers, events in groups.values():
            yield Violation(op.node, f"`{op.label}` sets the weight of {describe_layers(model, layers)} but the bias "
                                     "keeps PyTorch's default U(±1/sqrt(fan_in)); initialize it too (usually "
                                     "nn.init.zeros_)", self._fix(model, op, events))

    @staticmethod
    def _fix(model, op, events):
        """Zero the bias right after the weight's init, guarded when the call may reach a layer without one."""
        base, param, whole = split_param_target(op.target)
        if base is None or param != "weight" or not whole:
            return None
        builder = FixBuilder(model)
        statement = builder.statement_of(op.node)
        if statement is None or not isinstance(statement, ast.Expr):
            return None
        base_text = builder.segment(base)
        zeros, imports = builder.init_function("zeros_", op.node.func if not op.tensor_method else None)
        guard = any(event.dispatch is not None for event in events)
        if guard:
            step = "\t" if (builder.indentation(statement) or "").startswith("\t") else "    "
            indent = builder.indentation(statement) or ""
            line = f"if {base_text}.bias is not None:{builder.newline()}{indent}{step}{zeros}({base_text}.bias)"
        else:
            line = f"{zeros}({base_text}.bias)"
        return builder.fix(UNSAFE, "Zero the bias after the weight's init", [builder.insert_after(statement, line), *imports])
