from __future__ import annotations

import ast

from initlint.model.entities import ModuleNode
from initlint.model.initops import split_param_target, strip_data
from initlint.rules import _dispatch as d
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_FORWARD_METHODS = ("forward",)
_KERAS_CALL = "call"
# `copy_` writes a computed value (EMA updates, codebook refreshes, data-dependent state): not a re-init.
_NOT_REINIT = ("copy",)


class InitInForward(Rule):
    """## What it does
    Flags an `nn.init` call or an in-place init (`.normal_()`, `.uniform_()`, `.fill_()`, `.zero_()`) of the
    module's own parameter (`self.fc.weight`, `self.weight`) inside `forward`, and a Keras layer's `call` that
    assigns its weight a freshly drawn value (`self.kernel.assign(initializer(shape))`).

    ## Why is this bad?
    `forward` runs on every batch: the parameter is re-randomized (or reset to a constant) on every step, so
    whatever the optimizer learned is thrown away and the layer never trains. Initialize in `__init__` or
    `reset_parameters`.

    Writes to local tensors created in `forward` (a hidden state `h = torch.zeros(...)` initialized with
    `nn.init.xavier_uniform_(h)`) are not parameters and are not flagged, nor is a data-dependent init behind a
    flag (`if not self.initialized:`), the ActNorm pattern.

    ## Example
    ```python
    def forward(self, x):
        nn.init.xavier_uniform_(self.fc.weight)
        return self.fc(x)
    ```

    ## Use instead
    ```python
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)
    ```

    ## Fix safety
    No fix: the init belongs in `__init__` or `reset_parameters`, and moving code between methods is a design change.
    """

    code = "INI025"
    name = "init-in-forward"
    invalid = (
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x):
        nn.init.xavier_uniform_(self.fc.weight)
        return self.fc(x)
""",
        """
import torch
import torch.nn as nn

class Scale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.empty(dim))

    def forward(self, x):
        self.gamma.data.fill_(1.0)
        return x * self.gamma
""",
        """
import torch.nn as nn

class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(32, 64)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        self.out.bias.data.zero_()
        h, _ = self.rnn(x)
        return self.out(h)
""",
        """
import keras

class NoisyDense(keras.layers.Layer):
    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 8), initializer="glorot_uniform")

    def call(self, x):
        self.kernel.assign(keras.initializers.GlorotUniform()(self.kernel.shape))
        return x @ self.kernel
""",
    )
    valid = (
        """
import torch
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(32, 64)

    def forward(self, x):
        h = torch.zeros(1, x.size(1), 64)
        nn.init.xavier_uniform_(h)
        return self.rnn(x, (h, torch.zeros_like(h)))
""",
        """
import torch
import torch.nn as nn

class ActNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(dim))
        self.initialized = False

    def forward(self, x):
        if not self.initialized:
            self.bias.data.copy_(-x.mean(0))
            self.bias.data.fill_(0.0)
            self.initialized = True
        return x + self.bias
""",
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)
""",
    )

    def check(self, model):
        for op in model.init_ops:
            if op.target is None or op.family in _NOT_REINIT:
                continue
            method = d.enclosing_function(model, op.node)
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            klass_node = model.parents.get(method)
            if not isinstance(klass_node, ast.ClassDef):
                continue
            if not self._is_forward(model, method, klass_node):
                continue
            if self._behind_state_flag(model, op.node, method):
                continue
            what = self._parameter(model, op, klass_node)
            if what is None:
                continue
            yield Violation(op.node, f"`{d.unparse(op.node)[:70]}` in `{klass_node.name}.{method.name}` re-initializes "
                                     f"{what} on every forward pass, undoing each training step; initialize it once "
                                     f"in `__init__` or `reset_parameters`")
        yield from self._keras_assign(model)

    def _keras_assign(self, model):
        """Keras: `self.kernel.assign(initializer(shape))` in `call` redraws the weight on every call."""
        for call in d.nodes_of(model, ast.Call):
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr == "assign" and call.args):
                continue
            target = func.value
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id == "self"):
                continue
            method = d.enclosing_function(model, call)
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or method.name != _KERAS_CALL:
                continue
            klass_node = model.parents.get(method)
            if not isinstance(klass_node, ast.ClassDef) or not self._is_forward(model, method, klass_node):
                continue
            if self._behind_state_flag(model, call, method):
                continue
            source = next((n for n in walk(call.args[0]) if isinstance(n, ast.Call) and _draws(model, n)), None)
            if source is None:
                continue
            yield Violation(call, f"`{d.unparse(call)[:70]}` in `{klass_node.name}.call` redraws "
                                  f"`self.{target.attr}` from `{d.unparse(source.func)}` on every call, undoing each "
                                  f"training step; create it once with `add_weight(initializer=...)` in `build`")

    @staticmethod
    def _is_forward(model, method, klass_node) -> bool:
        if method.name in _FORWARD_METHODS:
            return klass_node.name in model.classes
        if method.name == _KERAS_CALL:
            bases = [model.names.qualname(b) or "" for b in klass_node.bases]
            return any(b.startswith(("keras.", "tensorflow.keras.", "tf.keras.")) for b in bases)
        return False

    @staticmethod
    def _behind_state_flag(model, node, method) -> bool:
        """Under a test of the module's own state (`if not self.initialized:`, `if self.training and ...`)."""
        conditions = d.path_conditions(model, node, method)
        if conditions is None or conditions == d.GUARD_TRY:
            return True
        for test, _ in conditions:
            for sub in walk(test):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self":
                    return True
                if isinstance(sub, ast.Name) and "init" in sub.id.lower():
                    return True
        return False

    @staticmethod
    def _parameter(model, op, klass_node) -> str | None:
        """`the weight of self.fc (Linear)` when the target is a parameter of the module; None otherwise."""
        target, _ = strip_data(op.target)
        base, param, _whole = split_param_target(target)
        base, _ = strip_data(base) if base is not None else (None, False)
        if param is None or base is None:
            return None
        klass = model.classes.get(klass_node.name)
        if klass is None or klass.node is not klass_node:
            return None
        if isinstance(base, ast.Name) and base.id == "self":
            if param in klass.raw_params and not _frozen(klass.raw_param_nodes.get(param)):
                return f"the parameter `self.{param}`"
            return None
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == "self":
            layer = klass.attributes.get(base.attr)
            if isinstance(layer, ModuleNode) and layer.spec is not None and param in layer.param_names():
                return f"`self.{base.attr}.{param}` ({layer.cls})"
            if isinstance(layer, ModuleNode) and not op.tensor_method and param in d.PARAM_NAMES:
                return f"`self.{base.attr}.{param}`"
        return None


def _frozen(value) -> bool:
    """`nn.Parameter(..., requires_grad=False)`: resampled noise or a fixed buffer kept as a parameter."""
    if not isinstance(value, ast.Call):
        return False
    for keyword in value.keywords:
        if keyword.arg == "requires_grad" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False:
            return True
    return len(value.args) > 1 and isinstance(value.args[1], ast.Constant) and value.args[1].value is False


_KERAS_DRAW_PREFIXES = ("keras.initializers.", "tensorflow.keras.initializers.", "keras.random.", "tensorflow.random.",
                        "tf.random.", "tf.keras.initializers.")


def _draws(model, call) -> bool:
    """A call that draws fresh values: a Keras initializer (called, or built and called) or a random op."""
    qualname = model.names.qualname(call.func) or ""
    if qualname.startswith(_KERAS_DRAW_PREFIXES):
        return True
    inner = call.func
    if isinstance(inner, ast.Call):  # GlorotUniform()(shape)
        return (model.names.qualname(inner.func) or "").startswith(_KERAS_DRAW_PREFIXES)
    return isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) and inner.value.id == "self" \
        and inner.attr.endswith("initializer")
