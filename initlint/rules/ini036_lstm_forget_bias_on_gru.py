from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.model.entities import literal_value
from initlint.rules._structural import (
    constant_written, enclosing_function, layer_class, line_of, method_owner, positive_branch_tests, resolve_local,
    nodes_of, short_name, subclasses_in_file, unparse,
)
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_RECURRENT = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")
# Gate layout of each bias: what the LSTM forget-gate slice hits there.
_LAYOUT = {
    "GRU": "3H: reset | update | new", "GRUCell": "3H: reset | update | new",
    "RNN": "H: a single gate", "RNNCell": "H: a single gate",
}


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


def _divided(expr: ast.AST, by: int) -> ast.AST | None:
    """`x // by`, `x / by`, `int(x / by)` -> x."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "int" and len(expr.args) == 1:
        expr = expr.args[0]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.FloorDiv, ast.Div)) and literal_value(expr.right) == by:
        return expr.left
    return None


def _doubled(expr: ast.AST) -> ast.AST | None:
    """`2 * x`, `x * 2`, `x + x` -> x."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        if literal_value(expr.left) == 2:
            return expr.right
        if literal_value(expr.right) == 2:
            return expr.left
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add) and _same(expr.left, expr.right):
        return expr.left
    return None


def forget_slice(function: ast.AST | None, index: ast.AST) -> str | None:
    """'quarter' for `[n//4 : n//2]`, 'second' for `[h : 2*h]` (the forget gate of an LSTM bias), else None."""
    if not isinstance(index, ast.Slice) or index.lower is None or index.upper is None or index.step is not None:
        return None
    lower, upper = resolve_local(function, index.lower), resolve_local(function, index.upper)
    a, b = _divided(lower, 4), _divided(upper, 2)
    if a is not None and b is not None and _same(a, b):
        return "quarter"
    c = _doubled(upper)
    if c is not None and (_same(c, lower) or _same(c, index.lower)):
        return "second"
    return None


def _written_value(node: ast.AST, op) -> float | None | str:
    """The constant a fill writes (1.0, ...), 'unknown' when not a literal, None when it is no constant fill."""
    if op is not None:
        if op.family != catalog.FAM_CONSTANT:
            return None
        value = constant_written(op)
        return "unknown" if value is None else value
    value = literal_value(node)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return "unknown"


def _generic_loop(model, node: ast.AST, function: ast.AST | None) -> bool:
    """The write sits in a loop over every parameter of the dispatched module or of `self`."""
    if function is None or isinstance(function, ast.Lambda):
        return False
    args = {a.arg for a in function.args.posonlyargs + function.args.args}
    parent = model.parents.get(node)
    while parent is not None and parent is not function:
        if isinstance(parent, ast.For) and isinstance(parent.iter, ast.Call) \
                and isinstance(parent.iter.func, ast.Attribute) \
                and parent.iter.func.attr in ("named_parameters", "parameters") \
                and isinstance(parent.iter.func.value, ast.Name) and parent.iter.func.value.id in args:
            return True
        parent = model.parents.get(parent)
    return False


class LstmForgetBiasOnGru(Rule):
    """## What it does
    Flags the LSTM forget-gate bias trick (setting the second quarter `[n//4:n//2]` of a bias to 1) when it
    runs on a GRU or a plain RNN, for instance through a base class that builds `nn.LSTM`, `nn.GRU` or `nn.RNN`
    from a class attribute and initializes them all the same way.

    ## Why is this bad?
    The trick relies on the LSTM's gate layout: its biases are 4H long, ordered input | forget | cell | output,
    so `[H:2H]` is the forget gate. A GRU's biases are 3H (reset | update | new): the second quarter straddles the
    reset and update gates. A plain RNN's bias is H long: the slice sets an arbitrary band of units to 1.

    ## Example
    ```python
    class _RNN_Base(nn.Module):
        def _weights_init(self, m):
            for name, params in m.named_parameters():
                if "bias_ih" in name:
                    params.data.fill_(0)
                    n = params.size(0)
                    params.data[(n // 4):(n // 2)].fill_(1)

    class GRU(_RNN_Base):
        _cell = nn.GRU
    ```

    ## Use instead
    ```python
                if "bias_ih" in name:
                    params.data.fill_(0)
                    if isinstance(m, nn.LSTM):
                        n = params.size(0)
                        params.data[(n // 4):(n // 2)].fill_(1)
    ```

    ## Fix safety
    No fix: GRU and RNN have no forget gate; what, if anything, to set instead is a modelling decision.
    """

    code = "INI036"
    name = "lstm-forget-bias-on-gru"
    invalid = (
        """
import torch.nn as nn

class _RNN_Base(nn.Module):
    def __init__(self, c_in, c_out, hidden_size=100, n_layers=1):
        super().__init__()
        self.rnn = self._cell(c_in, hidden_size, num_layers=n_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, c_out)
        self.apply(self._weights_init)

    def _weights_init(self, m):
        for name, params in m.named_parameters():
            if "weight_ih" in name:
                nn.init.xavier_normal_(params)
            elif "weight_hh" in name:
                nn.init.orthogonal_(params)
            elif "bias_ih" in name:
                params.data.fill_(0)
                n = params.size(0)
                params.data[(n // 4):(n // 2)].fill_(1)

class RNN(_RNN_Base):
    _cell = nn.RNN

class LSTM(_RNN_Base):
    _cell = nn.LSTM

class GRU(_RNN_Base):
    _cell = nn.GRU
""",
        """
import torch.nn as nn

class Decoder(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.gru = nn.GRU(d, h)
        for name, p in self.gru.named_parameters():
            if "bias" in name:
                n = p.size(0)
                start, end = n // 4, n // 2
                p.data[start:end].fill_(1.0)
""",
    )
    valid = (
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.lstm = nn.LSTM(d, h)
        for name, p in self.lstm.named_parameters():
            if "bias" in name:
                n = p.size(0)
                p.data[n // 4:n // 2].fill_(1.0)
""",
        """
import torch.nn as nn

class _Base(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.rnn = self._cell(d, h)
        self.apply(self._init)

    def _init(self, m):
        if isinstance(m, nn.LSTM):
            for name, p in m.named_parameters():
                if "bias" in name:
                    n = p.size(0)
                    p.data[n // 4:n // 2].fill_(1.0)

class GRUModel(_Base):
    _cell = nn.GRU

class LSTMModel(_Base):
    _cell = nn.LSTM
""",
    )

    def check(self, model):
        for node, target, op, value_node in self._slice_writes(model):
            index = target.slice
            if not isinstance(index, ast.Slice) or index.lower is None or index.upper is None:
                continue
            function = enclosing_function(model, node)
            kind = forget_slice(function, target.slice)
            if kind is None:
                continue
            value = _written_value(value_node, op)
            if value is None or value == 0.0:
                continue
            if any("lstm" in unparse(t, 400).lower() for t in positive_branch_tests(model, node)):
                continue
            hit = self._model_targets(model, op)
            if not hit and _generic_loop(model, node, function):
                hit = self._class_targets(model, function)
            if kind == "second":
                hit = [(cls, where) for cls, where in hit if cls in ("RNN", "RNNCell")]
            hit = [(cls, where) for cls, where in hit if cls in _LAYOUT]
            if not hit:
                continue
            classes = []
            for cls, where in hit:
                text = f"`nn.{cls}` ({where}; bias {_LAYOUT[cls]})"
                if text not in classes:
                    classes.append(text)
            yield Violation(node, f"the LSTM forget-gate trick `{unparse(node, 70)}` (second quarter of a 4H bias "
                                  f"set to 1) also runs on {', '.join(classes[:3])}: there the slice is no forget "
                                  "gate but an arbitrary band of units; apply it to LSTMs only")

    @staticmethod
    def _slice_writes(model):
        for op in model.init_ops:
            if isinstance(op.target, ast.Subscript):
                yield op.node, op.target, op, None
        for node in nodes_of(model, ast.Assign):
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
                yield node, node.targets[0], None, node.value

    @staticmethod
    def _model_targets(model, op) -> list[tuple[str, str]]:
        if op is None:
            return []
        out = []
        for node, event in model.events:
            if event.op is not None and event.op.node is op.node and node.spec is not None \
                    and layer_class(node) in _RECURRENT:
                out.append((layer_class(node), f"`{node.display}`"))
        return out

    @staticmethod
    def _class_targets(model, function: ast.AST | None) -> list[tuple[str, str]]:
        """Recurrent classes a method's class (or its subclasses in the file) build: `_cell = nn.GRU`."""
        owner = method_owner(model, function)
        if owner is None:
            return []
        out = []
        for klass in subclasses_in_file(model, owner):
            for statement in klass.body:
                if isinstance(statement, ast.Assign):
                    short = short_name(model, model.names.qualname(statement.value) or "")
                    if short in _RECURRENT:
                        out.append((short, f"`{klass.name}.{unparse(statement.targets[0], 30)}`, line "
                                           f"{line_of(statement)}"))
            for node in walk(klass):
                if isinstance(node, ast.Call):
                    short = short_name(model, model.names.qualname(node.func) or "")
                    if short in _RECURRENT:
                        out.append((short, f"built in `{klass.name}`, line {line_of(node)}"))
        return out
