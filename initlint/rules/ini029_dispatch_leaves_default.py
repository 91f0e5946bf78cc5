from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.rules._structural import describe_nodes, dispatch_name, grouped_dispatches
from initlint.rules.base import Rule, Violation

# Layers whose default init is a real choice a custom scheme usually means to replace.
PARAMETERIZED_KINDS = frozenset({catalog.LINEAR, catalog.CONV, catalog.CONV_TRANSPOSE, catalog.BILINEAR,
                                 catalog.EMBEDDING, catalog.RECURRENT, catalog.RECURRENT_CELL})


class DispatchLeavesDefault(Rule):
    """## What it does
    Lists, for each init dispatch (a function passed to `apply`, a `modules()` loop), every parameterized layer
    of the model (Linear, Conv, ConvTranspose, Bilinear, Embedding, RNN) that the dispatch leaves at PyTorch's
    default while it initializes other layers of the same model, and no other init reaches.

    Opt-in (`--select INI029`): leaving a layer type at its default is often deliberate; this is an audit.

    ## Why is this bad?
    A custom scheme that covers `nn.Linear` and `nn.Embedding` but not the model's `nn.Conv2d` mixes two
    scales: the convolutions keep `kaiming_uniform_(a=sqrt(5))` (std 1/sqrt(3 fan_in)) while the rest follows the
    paper. Usually the dispatch was copied from a model without convolutions.

    ## Example
    ```python
    def _init_weights(self, module):
        if isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0, 1.0 / module.embedding_dim)
        elif isinstance(module, nn.Linear):
            nn.init.xavier_normal_(module.weight)
    # the model also has nn.Conv2d layers
    ```

    ## Use instead
    ```python
        elif isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    ```

    ## Fix safety
    No fix: which init the left-out layers should get is the author's choice.
    """

    code = "INI029"
    name = "dispatch-leaves-default"
    default_enabled = False
    invalid = (
        """
import torch.nn as nn

class Caser(nn.Module):
    def __init__(self, n_items, d, L):
        super().__init__()
        self.item_embedding = nn.Embedding(n_items, d)
        self.conv_v = nn.Conv2d(1, 4, (L, 1))
        self.fc1 = nn.Linear(4 * d, d)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0, 1.0 / module.embedding_dim)
        elif isinstance(module, nn.Linear):
            nn.init.xavier_normal_(module.weight)
            nn.init.zeros_(module.bias)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 30 * 30, 10))
for m in net.modules():
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
""",
    )
    valid = (
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(m.weight)
        nn.init.zeros_(m.bias)

net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 30 * 30, 10))
net.apply(init_weights)
""",
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.fc = nn.Linear(16, 10)
        nn.init.kaiming_normal_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)
        self.apply(self._init)

    def _init(self, m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
""",
    )

    def check(self, model):
        for info in grouped_dispatches(model, by_call=True):
            initialized = [n for n in info.nodes if info.reached_by_me(n)]
            if not any(n.spec is not None and n.spec.kind in PARAMETERIZED_KINDS for n in initialized):
                continue
            left = [n for n in info.nodes if n.spec is not None and n.spec.kind in PARAMETERIZED_KINDS
                    and not n.spec.lazy and not n.wrapped and n.param_names() and not n.events]
            if not left:
                continue
            call = info.first.call
            where = call.iter if isinstance(call, (ast.For, ast.AsyncFor)) else call
            done = sorted({n.cls for n in initialized if n.spec is not None and n.spec.kind in PARAMETERIZED_KINDS})
            yield Violation(where, f"{dispatch_name(info.first)} initializes {', '.join(done)} layers but leaves "
                                   f"{describe_nodes(left, 6)} at PyTorch's default init")
