from __future__ import annotations

import ast
import re

from initlint.catalog import torch as catalog
from initlint.rules._structural import chain, enclosing_function, op_label, target_chain, unparse
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_LAYER0 = re.compile(r"^(weight|bias)_(ih|hh|hr)_l0$")
_DEEPER = re.compile(r"_l([1-9]\d*)(_reverse)?$")
_LOOP_HINTS = ("all_weights", "_flat_weights", "_flat_weights_names", "named_parameters", "parameters")


def _layers_flag(node) -> tuple[bool, str]:
    """(more than one layer possible, how num_layers was given)."""
    if "num_layers" not in node.flags:
        return False, "1"
    value = node.flags["num_layers"]
    if value is None:
        expr = node.args.get("num_layers")
        if expr is None:
            return True, "num_layers not a literal"
        return True, f"num_layers={unparse(expr, 40)}, not a literal"
    if isinstance(value, int) and not isinstance(value, bool) and value > 1:
        return True, f"num_layers={value}"
    return False, str(value)


def _covers_by_loop(model, op) -> bool:
    """The function around the op also reaches this module's parameters through a loop or a computed name
    (`getattr(rnn, f"weight_hh_l{k}")`, `rnn.all_weights`, `rnn.named_parameters()`)."""
    function = enclosing_function(model, op.node)
    target, _sliced = target_chain(op)
    if function is None or not target:
        return False
    module = target[:-1]
    for node in walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2 \
                    and not isinstance(node.args[1], ast.Constant) and chain(node.args[0]) == module:
                return True
            if isinstance(func, ast.Attribute) and func.attr in _LOOP_HINTS and chain(func.value) == module:
                return True
        if isinstance(node, ast.Attribute) and node.attr in ("all_weights", "_flat_weights") \
                and chain(node.value) == module:
            return True
    return False


class PartialRnnInit(Rule):
    """## What it does
    Flags recurrent init that sets layer-0 parameters by name (`weight_hh_l0`, `weight_ih_l0`, `bias_ih_l0`, ...)
    of an `nn.RNN`/`nn.LSTM`/`nn.GRU` built with `num_layers` other than 1 (a literal above 1, or a value that is
    not a literal) or with `bidirectional=True`, when nothing initializes the other layers or the reverse
    direction.

    ## Why is this bad?
    A stacked or bidirectional RNN registers `weight_hh_l1`, ..., and `weight_hh_l0_reverse`, ... as separate
    parameters. Naming only `_l0` initializes the first layer's forward direction; every other layer and the
    backward direction silently keep PyTorch's default U(±1/sqrt(hidden_size)), so the network mixes two
    schemes (an orthogonal first layer over default deeper ones, for instance).

    ## Example
    ```python
    self.gru = nn.GRU(d, h, num_layers=config["num_layers"], batch_first=True)
    ...
    nn.init.xavier_uniform_(module.weight_hh_l0)
    nn.init.xavier_uniform_(module.weight_ih_l0)
    ```

    ## Use instead
    ```python
    for name, param in module.named_parameters():
        if name.startswith("weight_hh"):
            nn.init.orthogonal_(param)
        elif name.startswith("weight_ih"):
            nn.init.xavier_uniform_(param)
    ```

    ## Fix safety
    No fix: the per-layer init has to loop over `num_layers` and directions, a rewrite of the init code.
    """

    code = "INI035"
    name = "partial-rnn-init"
    invalid = (
        """
import torch.nn as nn
from torch.nn.init import xavier_normal_, xavier_uniform_

class GRU4Rec(nn.Module):
    def __init__(self, config, n_items):
        super().__init__()
        self.item_embedding = nn.Embedding(n_items, config["embedding_size"])
        self.gru_layers = nn.GRU(input_size=config["embedding_size"], hidden_size=config["hidden_size"],
                                 num_layers=config["num_layers"], bias=False, batch_first=True)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Embedding):
            xavier_normal_(module.weight)
        elif isinstance(module, nn.GRU):
            xavier_uniform_(module.weight_hh_l0)
            xavier_uniform_(module.weight_ih_l0)
""",
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
        nn.init.orthogonal_(self.lstm.weight_hh_l0)
        nn.init.zeros_(self.lstm.bias_hh_l0)
""",
        """
import torch.nn as nn

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(100, 128, bidirectional=True)
        nn.init.orthogonal_(self.lstm.weight_hh_l0)
""",
    )
    valid = (
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(128, 256, batch_first=True)
        nn.init.orthogonal_(self.lstm.weight_hh_l0)
        nn.init.xavier_uniform_(self.lstm.weight_ih_l0)
""",
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self, num_layers):
        super().__init__()
        self.lstm = nn.LSTM(128, 256, num_layers=num_layers)
        for name, param in self.lstm.named_parameters():
            if "weight_hh" in name:
                nn.init.orthogonal_(param)
""",
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(128, 256, num_layers=2)
        for k in range(2):
            nn.init.orthogonal_(getattr(self.lstm, f"weight_hh_l{k}"))
        nn.init.orthogonal_(self.lstm.weight_hh_l0)
""",
    )

    def check(self, model):
        reported: set[int] = set()
        for node in model.layers():
            if node.spec is None or node.spec.kind != catalog.RECURRENT:
                continue
            multi, layers_text = _layers_flag(node)
            bidirectional = node.flags.get("bidirectional") is True
            if not multi and not bidirectional:
                continue
            named = []
            for event in node.events:
                if event.op is None or event.via == "named-parameters":
                    continue
                target, _sliced = target_chain(event.op)
                if target and _LAYER0.match(target[-1]):
                    named.append(event)
            if not named:
                continue
            written = {e.param for e in node.events}
            if any(e.op is None or e.via == "named-parameters" for e in node.events):
                continue  # reset_parameters() / a named_parameters() loop covers every layer
            deeper = any(_DEEPER.search(p) and not p.endswith("_l0_reverse") for p in written)
            reverse = any(p.endswith("_reverse") for p in written)
            if any(_covers_by_loop(model, e.op) for e in named):
                continue
            missing = []
            stems = sorted({e.param for e in named})
            if multi and not deeper:
                missing.append(f"layers >= 1 ({', '.join(f'`{s[:-1]}1`' for s in stems[:2])}, ...; {layers_text})")
            if bidirectional and not reverse:
                missing.append(f"the reverse direction ({', '.join(f'`{s}_reverse`' for s in stems[:2])}, ...)")
            if not missing:
                continue
            first = min(named, key=lambda e: (e.op.node.lineno, e.op.node.col_offset))
            if id(first.op.node) in reported:
                continue
            reported.add(id(first.op.node))
            params = ", ".join(f"`{p}`" for p in stems)
            yield Violation(first.op.node, f"{op_label(first.op)} initializes only {params} of `{node.display}` "
                                           f"({node.cls}); {' and '.join(missing)} keep PyTorch's default "
                                           "U(±1/sqrt(hidden_size)); initialize every layer and direction (loop "
                                           "over named_parameters())")
