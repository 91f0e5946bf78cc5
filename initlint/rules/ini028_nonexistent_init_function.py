from __future__ import annotations

import ast
import difflib

from initlint.catalog import torch as catalog
from initlint.rules.base import Rule, Violation
from initlint.rules.ini021_deprecated_init_alias import (
    init_references,
    rename_attribute_fix,
    replaced_label,
)
from initlint.model.syntax import walk

# Everything `torch.nn.init` has besides its functions: the names it imports for itself.
_MODULE_ATTRIBUTES = frozenset({"math", "warnings", "torch", "Tensor", "Optional", "Callable", "Literal", "ParamSpec",
                                "TypeVar", "Union"})
_REAL = frozenset(catalog.INIT_FUNCTIONS) | frozenset(catalog.DEPRECATED_INIT_ALIASES) | {"calculate_gain"}
# Where NONEXISTENT_INIT_NAMES has no single replacement.
_AMBIGUOUS = {
    "xavier": "`xavier_uniform_` or `xavier_normal_`", "xavier_": "`xavier_uniform_` or `xavier_normal_`",
    "kaiming": "`kaiming_uniform_` or `kaiming_normal_`", "kaiming_": "`kaiming_uniform_` or `kaiming_normal_`",
    "lecun_normal_": "torch has no LeCun init: `kaiming_normal_(w, nonlinearity='linear')` is LeCun normal",
    "lecun_uniform_": "torch has no LeCun init: `kaiming_uniform_(w, nonlinearity='linear')` is LeCun uniform",
}
_CAUGHT = frozenset({"AttributeError", "ImportError", "Exception", "BaseException"})


def exists(name: str) -> bool:
    return name in _REAL or name in _MODULE_ATTRIBUTES or name.startswith("_")


def replacement_hint(name: str) -> str:
    known = catalog.NONEXISTENT_INIT_NAMES.get(name)
    if known is not None:
        return f"use `{known}`"
    if name in _AMBIGUOUS:
        text = _AMBIGUOUS[name]
        return text if text.startswith("torch") else f"use {text}"
    if name + "_" in catalog.INIT_FUNCTIONS:
        return f"use `{name}_`"
    close = difflib.get_close_matches(name, sorted(catalog.INIT_FUNCTIONS), n=2, cutoff=0.8)
    if len(close) == 1:
        return f"did you mean `{close[0]}`?"
    return "see `torch.nn.init.__all__` for the functions that exist"


class NonexistentInitFunction(Rule):
    """## What it does
    Flags names under `torch.nn.init` that do not exist: `zero_`, `zeros`, `ones`, `trunc_normal`,
    `xavier_`, `he_normal_`, `glorot_uniform_`, `lecun_normal_` and other framework-style or misspelled
    names, whether called (`nn.init.zero_(m.bias)`), referenced (`init_fn = nn.init.he_normal_`) or imported
    (`from torch.nn.init import zero_`).

    Libraries with their own init module are not `torch.nn.init`: `transformers.initialization.lecun_normal_`
    and timm's `lecun_normal_` exist and are not flagged.

    ## Why is this bad?
    The line raises `AttributeError: module 'torch.nn.init' has no attribute 'zero_'` (or `ImportError:
    cannot import name 'zero_' from 'torch.nn.init'`) the first time it runs, often only inside a rarely taken
    branch (a config option, one layer type of an `apply` function). torch has no LeCun initializer at all.

    ## Example
    ```python
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    nn.init.zero_(m.bias)
    ```

    ## Use instead
    ```python
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    nn.init.zeros_(m.bias)
    ```

    ## Fix safety
    Safe where the name means one function (`zero_`, `zeros`, `ones`, `trunc_normal`, `he_normal_`,
    `glorot_uniform_`, ...): the attribute is renamed (`nn.init.zero_` -> `nn.init.zeros_`), and for a call only
    when its arguments are ones that function takes. The line could only raise AttributeError before, so there
    is no working behaviour to preserve, and the replacement is the function the name stands for in other
    frameworks (Keras's `he_normal` draws from a truncated normal, torch's `kaiming_normal_` from a plain one).
    No fix for ambiguous names (`xavier_`, `kaiming`, `lecun_normal_`: torch has no LeCun init), for guesses from
    spelling alone, and for imports (`from torch.nn.init import zero_`: the import and every use would change).
    """

    code = "INI028"
    name = "nonexistent-init-function"
    invalid = (
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zero_(m.bias)
""",
        """
import torch.nn as nn
from torch.nn.init import he_normal_

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        he_normal_(self.conv.weight)
""",
        """
from torch.nn import init

INITIALIZERS = {"trunc_normal": init.trunc_normal, "xavier": init.xavier_uniform_}
""",
    )
    valid = (
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        nn.init.zeros_(m.bias)
        gain = nn.init.calculate_gain("relu")
        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
""",
        """
import torch.nn as nn
from transformers import initialization as init
from timm.layers import lecun_normal_

def _init_weights(module):
    if isinstance(module, nn.Linear):
        init.lecun_normal_(module.weight)
        lecun_normal_(module.weight)
""",
    )

    def check(self, model):
        # `from torch.nn.init import zero_`: the import itself raises
        for node in model.index.imports:
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "torch.nn.init":
                for alias in node.names:
                    if alias.name != "*" and not exists(alias.name) and not _guarded(model, node):
                        yield Violation(alias, f"`from torch.nn.init import {alias.name}` raises ImportError: cannot "
                                               f"import name '{alias.name}' from 'torch.nn.init'; "
                                               f"{replacement_hint(alias.name)}")
        for node, name in init_references(model):
            if exists(name) or isinstance(node, ast.Name) or _guarded(model, node):
                continue  # a bare name came from an import, reported there
            hint = replacement_hint(name)
            known = catalog.NONEXISTENT_INIT_NAMES.get(name) or (name + "_" if name + "_" in catalog.INIT_FUNCTIONS else None)
            fix = None
            if known:
                hint = f"use `{replaced_label(node, known)}`"
                if _arguments_fit(model, node, known):
                    fix = rename_attribute_fix(model, node, known, f"Use `{replaced_label(node, known)}`")
            yield Violation(node, f"`{ast.unparse(node)}` does not exist: AttributeError: module 'torch.nn.init' "
                                  f"has no attribute '{name}'; {hint}", fix)


def _arguments_fit(model, node: ast.AST, name: str) -> bool:
    """When `node` is called, the call's arguments are ones the replacement takes (a tensor, then its parameters by
    position or name): `nn.init.zeros(3, 4)` meant `torch.zeros`, not `nn.init.zeros_`."""
    call = model.parents.get(node)
    if not (isinstance(call, ast.Call) and call.func is node):
        return True
    spec = catalog.INIT_FUNCTIONS.get(name)
    if spec is None:
        return False
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return False
    names = ("tensor", *spec.params)
    if len(call.args) > len(names):
        return False
    given = set(names[:len(call.args)])
    for keyword in call.keywords:
        if keyword.arg not in names or keyword.arg in given:
            return False
        given.add(keyword.arg)
    return "tensor" in given and all(p in given for p in spec.required)


def _guarded(model, node: ast.AST) -> bool:
    """Inside `try: ... except AttributeError/ImportError`, or under `if hasattr(...)`."""
    child, parent = node, model.parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                caught = handler.type
                names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
                if caught is None or any(isinstance(n, ast.Name) and n.id in _CAUGHT for n in names):
                    return True
        if isinstance(parent, (ast.If, ast.IfExp)) and any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "hasattr"
                for n in walk(parent.test)):
            return True
        child, parent = parent, model.parents.get(parent)
    return False
