from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.findings import Edit, Position
from initlint.fixes import SAFE, FixBuilder
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_PREFIX = "torch.nn.init."


def init_references(model, prefix: str = _PREFIX) -> list:
    """Every name expression (`nn.init.normal`, `init.normal`, `normal` from `from torch.nn.init import normal`)
    that resolves to `torch.nn.init.<name>`, with the name (computed once per file and prefix)."""
    key = ("init_references", prefix)
    found = model.rule_cache.get(key)
    if found is None:
        found = model.rule_cache[key] = list(_init_references(model, prefix))
    return found


def _init_references(model, prefix: str):
    from initlint.rules.ini026_inplace_on_leaf_parameter import nodes_of

    names = model.names
    # local names bound to something under the prefix by an import: `normal` (from-import), `init`, `nn`, `torch`
    imported = {local for local, qualname in names.aliases.items()
                if qualname.startswith(prefix) or prefix.startswith(qualname + ".")}
    heads = {"torch", "nn", "init"} | imported
    for node in nodes_of(model, ast.Name):
        if node.id in imported and isinstance(node.ctx, ast.Load):
            qualname = names.qualname(node) or ""
            if qualname.startswith(prefix) and "." not in qualname[len(prefix):] and not _shadowed(model, node):
                yield node, qualname[len(prefix):]
    last = prefix.rstrip(".").rsplit(".", 1)[1]
    for node in nodes_of(model, ast.Attribute):
        parent = node.value  # only `<...>.init.<name>` or `<alias of torch.nn.init>.<name>` can be under the prefix
        if type(parent) is ast.Attribute:
            if parent.attr != last:
                continue
        elif type(parent) is not ast.Name or parent.id not in heads \
                or (names.resolve_name(parent.id) or "") + "." != prefix:
            continue
        if not isinstance(node.ctx, ast.Load):
            continue
        head = node.value
        while isinstance(head, ast.Attribute):
            head = head.value
        if not isinstance(head, ast.Name) or head.id not in heads:
            continue
        qualname = names.qualname(node) or ""
        if qualname.startswith(prefix) and "." not in qualname[len(prefix):] and not _shadowed(model, head):
            yield node, qualname[len(prefix):]


def _shadowed(model, name: ast.Name) -> bool:
    """The name is a parameter or a local variable of an enclosing function, not the imported module."""
    parent = model.parents.get(name)
    while parent is not None:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = parent.args
            every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
            if arguments.vararg:
                every.append(arguments.vararg)
            if arguments.kwarg:
                every.append(arguments.kwarg)
            if any(a.arg == name.id for a in every):
                return True
            if not isinstance(parent, ast.Lambda) and name.id in _stored_names(model, parent):
                return True
        parent = model.parents.get(parent)
    return False


def _stored_names(model, function: ast.AST) -> frozenset:
    """The names a function assigns anywhere in its body (one walk per function and file)."""
    cache = model.rule_cache.setdefault("stored_names", {})
    names = cache.get(id(function))
    if names is None:
        names = cache[id(function)] = frozenset(node.id for node in walk(function)
                                                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store))
    return names


def rename_attribute_fix(model, node: ast.AST, new_name: str, message: str):
    """`nn.init.normal` -> `nn.init.normal_`: only the name after the last dot changes. A bare name (imported
    with `from torch.nn.init import normal`) gets no fix: the import and every use would have to change."""
    if not isinstance(node, ast.Attribute):
        return None
    builder = FixBuilder(model)
    _start, end = builder.source.node_range(node)
    line = builder.source.line(end.row)
    start = Position(end.row, end.column - len(node.attr))
    if line[start.column - 1:end.column - 1] != node.attr:
        return None
    return builder.fix(SAFE, message, [Edit(new_name, start, end)])


def replaced_label(node: ast.AST, new_name: str) -> str:
    """`nn.init.normal` -> `nn.init.normal_`; `normal` -> `normal_`."""
    if isinstance(node, ast.Attribute):
        return f"{ast.unparse(node.value)}.{new_name}"
    return new_name


class DeprecatedInitAlias(Rule):
    """## What it does
    Flags the deprecated `nn.init` names without the trailing underscore: `xavier_uniform`, `xavier_normal`,
    `kaiming_uniform`, `kaiming_normal`, `normal`, `uniform`, `constant`, `eye`, `dirac`, `orthogonal` and
    `sparse`, however they are reached (`nn.init.xavier_uniform`, `init.normal`, `torch.nn.init.constant`, or a
    name imported with `from torch.nn.init import xavier_uniform`).

    ## Why is this bad?
    These aliases are kept only for backward compatibility. Every call emits `FutureWarning: nn.init.X is now
    deprecated in favor of nn.init.X_.`, which floods logs once per layer, and the names are due to be removed.
    The underscore versions do exactly the same in-place initialization.

    ## Example
    ```python
    nn.init.xavier_uniform(self.fc.weight)
    nn.init.constant(self.fc.bias, 0.0)
    ```

    ## Use instead
    ```python
    nn.init.xavier_uniform_(self.fc.weight)
    nn.init.constant_(self.fc.bias, 0.0)
    ```

    ## Fix safety
    Safe: the trailing underscore is added (`nn.init.xavier_uniform` -> `nn.init.xavier_uniform_`). Each
    deprecated name is a wrapper that warns and then calls its underscore version with the same arguments, so
    only the warning goes away. A name imported by itself (`from torch.nn.init import xavier_uniform`) gets no
    fix: the import and every use of the name would have to change together.
    """

    code = "INI021"
    name = "deprecated-init-alias"
    invalid = (
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32, 10)
        nn.init.xavier_uniform(self.fc.weight)
        nn.init.constant(self.fc.bias, 0.0)
""",
        """
import torch.nn as nn
from torch.nn import init
from torch.nn.init import kaiming_normal

def weights_init(m):
    if isinstance(m, nn.Conv2d):
        kaiming_normal(m.weight, mode="fan_out")
    elif isinstance(m, nn.Linear):
        init.normal(m.weight, std=0.01)
""",
        """
import torch

def make_rnn():
    rnn = torch.nn.LSTM(16, 32)
    for name, p in rnn.named_parameters():
        if "weight_hh" in name:
            torch.nn.init.orthogonal(p)
    return rnn
""",
    )
    valid = (
        """
import torch.nn as nn
from torch.nn import init

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32, 10)
        nn.init.xavier_uniform_(self.fc.weight)
        init.normal_(self.fc.bias, std=1e-3)
""",
        """
import numpy as np
import torch

noise = np.random.normal(0.0, 1.0, size=(4, 4))
t = torch.normal(0.0, 1.0, size=(4, 4))
u = np.random.uniform(-1, 1, 10)
""",
    )

    def check(self, model):
        for node, name in init_references(model):
            replacement = catalog.DEPRECATED_INIT_ALIASES.get(name)
            if replacement is None:
                continue
            label = ast.unparse(node)
            use = f"`{replaced_label(node, replacement)}`"
            if isinstance(node, ast.Name):
                use += " (imported from `torch.nn.init`)"
            fix = rename_attribute_fix(model, node, replacement, f"Use `{replaced_label(node, replacement)}`")
            yield Violation(node, f"`{label}` is a deprecated alias: every call emits FutureWarning \"`nn.init.{name}` "
                                  f"is now deprecated in favor of `nn.init.{replacement}`.\"; use {use}", fix)
