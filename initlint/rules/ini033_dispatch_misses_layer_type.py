from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.rules._structural import (
    DispatchInfo, constant_written, describe_nodes, dispatch_name, enclosing_function, grouped_dispatches,
    isinstance_classes, layer_class, method_owner, ops_in, short_name,
)
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk


def _siblings() -> dict[str, tuple[str, ...]]:
    pairs: dict[str, set[str]] = {}

    def link(a: str, b: str) -> None:
        pairs.setdefault(a, set()).add(b)
        pairs.setdefault(b, set()).add(a)

    for rnn in ("GRU", "LSTM", "RNN"):
        link(rnn, rnn + "Cell")
    for d in (1, 2, 3):
        link(f"Conv{d}d", f"ConvTranspose{d}d")
        for e in (1, 2, 3):
            if d < e:
                link(f"Conv{d}d", f"Conv{e}d")
                link(f"ConvTranspose{d}d", f"ConvTranspose{e}d")
                link(f"BatchNorm{d}d", f"BatchNorm{e}d")
    link("Embedding", "EmbeddingBag")
    return {k: tuple(sorted(v)) for k, v in pairs.items()}


# Which layer a dispatch most likely meant when it names one the model does not have. InstanceNorm is not paired
# with BatchNorm: it has no parameters by default, and the two are chosen deliberately, not confused.
SIBLINGS = _siblings()
_NORM_DEFAULTS = {"weight": 1.0, "bias": 0.0}


def isinstance_tests(model, info: DispatchInfo) -> list[tuple[ast.Call, ast.expr, str]]:
    """(isinstance call, class expression, catalog name) for each torch layer class the dispatch tests."""
    out = []
    function = info.first.function
    subject = info.first.param
    if not subject:
        return out
    for node in walk(function):
        if not isinstance(node, ast.If) and not isinstance(node, ast.IfExp) and not isinstance(node, ast.BoolOp):
            continue
        test = node.test if isinstance(node, (ast.If, ast.IfExp)) else node
        for call, _names in isinstance_classes(model, test, subject):
            classes = call.args[1].elts if isinstance(call.args[1], (ast.Tuple, ast.List)) else [call.args[1]]
            for expr in classes:
                short = short_name(model, model.names.qualname(expr) or "")
                if short and all(c is not call or e is not expr for c, e, _ in out):
                    out.append((call, expr, short))
    return out


def referenced_outside_isinstance(model, short: str, scopes: list[ast.AST]) -> bool:
    """Whether the scopes name torch.nn.<short> anywhere but in an isinstance test (so they may build one)."""
    return any(short in _referenced(model, scope) for scope in scopes)


def _referenced(model, scope: ast.AST) -> frozenset:
    """The torch.nn short names a scope refers to outside isinstance tests, and its string constants
    (`getattr(nn, "GRU")`, `{"gru": "GRU"}`), read once per scope and file."""
    cache = model.rule_cache.setdefault("ini033_referenced", {})
    found = cache.get(id(scope))
    if found is None:
        inside: set[int] = set()
        nodes = list(walk(scope))
        for node in nodes:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("isinstance", "issubclass") and len(node.args) == 2:
                inside.update(id(n) for n in walk(node.args[1]))
        names: set = set()
        for node in nodes:
            if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in inside:
                names.add(short_name(model, model.names.qualname(node) or ""))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
        found = cache[id(scope)] = frozenset(names)
    return found


def model_scopes(model, info: DispatchInfo) -> list[ast.AST]:
    """The code that builds the modules a dispatch reaches: the dispatching class (with its local bases) and the
    classes of its blocks; the whole file when the dispatch is not a method."""
    owner = method_owner(model, enclosing_function(model, info.first.call) or info.first.function)
    if owner is None:
        owner = method_owner(model, info.first.function)
    if owner is None:
        return [model.tree]
    scopes: list[ast.AST] = []
    _add_class_scopes(scopes, model.classes.get(owner.name))
    if not scopes:
        scopes.append(owner)
    for node in info.nodes:
        if node.block is not None:
            _add_class_scopes(scopes, node.block)
    return scopes


def _add_class_scopes(scopes: list[ast.AST], klass) -> None:
    """The class and its local bases, each once, depth first."""
    pending = [klass]
    while pending:
        klass = pending.pop()
        if klass is None or any(klass.node is s for s in scopes):
            continue
        scopes.append(klass.node)
        pending.extend(reversed(klass.local_bases))


def builds_dynamically(model) -> bool:
    """`getattr(nn, name)(...)`: layers whose class the file computes at run time."""
    for node in model.calls:
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and node.args:
            if (model.names.qualname(node.args[0]) or "") in ("torch.nn", "torch.nn.modules"):
                return True
    return False


class DispatchMissesLayerType(Rule):
    """## What it does
    Flags an init dispatch (a function passed to `apply`, a `modules()` loop, an `_init_weights`) that tests for
    a layer class the model never contains while the model does contain a sibling class the dispatch does not
    handle: `isinstance(m, nn.GRU)` for a model built from `nn.GRUCell`, `nn.ConvTranspose2d` for a model of
    `Conv2d`, `nn.Conv2d` for a model of `Conv1d`.

    ## Why is this bad?
    `isinstance` does not relate siblings: a `GRUCell` is not a `GRU` (and its parameters are `weight_ih`, not
    `weight_ih_l0`), a `Conv1d` is not a `Conv2d`. The branch never runs, and the layers it was written for
    silently keep PyTorch's default init.

    ## Example
    ```python
    self.gru_cell = nn.GRUCell(d, d)
    ...
    def _init_weights(self, module):
        if isinstance(module, nn.GRU):
            nn.init.xavier_uniform_(module.weight_hh_l0)
    ```

    ## Use instead
    ```python
    def _init_weights(self, module):
        if isinstance(module, nn.GRUCell):
            nn.init.xavier_uniform_(module.weight_hh)
    ```

    ## Fix safety
    No fix: adding the sibling class to the dispatch changes which layers get the init.
    """

    code = "INI033"
    name = "dispatch-misses-layer-type"
    invalid = (
        """
import torch.nn as nn
from torch.nn.init import xavier_normal_, xavier_uniform_, constant_

class FiGNN(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.att_embedding = nn.Linear(d, d)
        self.gru_cell = nn.GRUCell(d, d)
        self.mlp = nn.Linear(d, 1)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            xavier_normal_(module.weight.data)
            if module.bias is not None:
                constant_(module.bias.data, 0)
        elif isinstance(module, nn.GRU):
            xavier_uniform_(module.weight_hh_l0)
            xavier_uniform_(module.weight_ih_l0)
""",
        """
import torch.nn as nn

def weights_init(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)

net = nn.Sequential(nn.Conv1d(12, 64, 7), nn.BatchNorm1d(64), nn.ReLU(), nn.Conv1d(64, 64, 5))
net.apply(weights_init)
""",
    )
    valid = (
        """
import torch.nn as nn

def weights_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

net = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3))
net.apply(weights_init)
""",
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self, d, cell="gru"):
        super().__init__()
        self.rnn = nn.GRU(d, d) if cell == "gru" else nn.LSTM(d, d)
        for m in self.modules():
            if isinstance(m, nn.GRU):
                nn.init.orthogonal_(m.weight_hh_l0)
            elif isinstance(m, nn.LSTM):
                nn.init.orthogonal_(m.weight_hh_l0)
""",
        """
import torch.nn as nn

def weights_init(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)

net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm1d(16))
net.apply(weights_init)
""",
    )

    def check(self, model):
        dynamic = None
        for info in grouped_dispatches(model):
            tests = isinstance_tests(model, info)
            if not tests:
                continue
            tested = {short for _, _, short in tests}
            layers = [n for n in info.nodes if n.spec is not None and n.param_names()]
            present = {layer_class(n) for n in layers}
            scopes = None
            for call, expr, short in tests:
                if short not in SIBLINGS:
                    continue
                if any(catalog.is_subclass(cls, short) for cls in present):
                    continue
                if scopes is None:
                    scopes = model_scopes(model, info)
                if referenced_outside_isinstance(model, short, scopes):
                    continue
                if dynamic is None:
                    dynamic = builds_dynamically(model)
                if dynamic:
                    break
                missed = [n for n in layers if layer_class(n) in SIBLINGS[short]
                          and not any(catalog.is_subclass(layer_class(n), t) for t in tested)
                          and not n.events and not n.wrapped]
                if not missed:
                    continue
                if missed[0].spec.kind == catalog.NORM and self._sets_defaults(model, call):
                    continue
                kinds = sorted({layer_class(n) for n in missed})
                verbs = "matches no branch and keeps" if len(missed) == 1 else "match no branch and keep"
                yield Violation(expr, f"{dispatch_name(info.first)} handles `nn.{short}`, which this model never "
                                      f"contains, but not its sibling {', '.join(f'`nn.{k}`' for k in kinds)}: "
                                      f"{describe_nodes(missed)} {verbs} PyTorch's default init "
                                      f"(`{kinds[0]}` is not a subclass of `{short}`)")

    @staticmethod
    def _sets_defaults(model, call: ast.Call) -> bool:
        """A norm branch that only writes the defaults (weight 1, bias 0): missing it changes nothing."""
        branch = model.parents.get(call)
        while branch is not None and not isinstance(branch, ast.If):
            branch = model.parents.get(branch)
        if branch is None:
            return False
        ops = [op for statement in branch.body for op in ops_in(model, statement)]
        if not ops:
            return True
        for op in ops:
            value = constant_written(op)
            param = op.target.attr if isinstance(op.target, ast.Attribute) else None
            if value is None or param not in _NORM_DEFAULTS or _NORM_DEFAULTS[param] != value:
                return False
        return True
