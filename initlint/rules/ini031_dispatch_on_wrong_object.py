from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.model.initops import split_param_target, strip_data
from initlint.rules import _dispatch as d
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_RECURSE_METHODS = ("children", "modules", "named_children", "named_modules")


class DispatchOnWrongObject(Rule):
    """## What it does
    Flags an init function that receives a module (`def _init_cnn(self, m)`, a function passed to `apply`,
    the body of a `for m in model.modules()` loop) but tests or initializes another object: `isinstance(self,
    nn.Conv2d)` instead of `isinstance(m, nn.Conv2d)`, `getattr(self, "bias", None)`, `nn.init.zeros_(self.bias)`.

    ## Why is this bad?
    The module variable is what changes from call to call; `self` (or the model the loop walks) does not. A
    test on `self` gives the same answer for every submodule, usually False (a block is not a `Conv2d`), so the
    init under it is dead code and every layer silently keeps PyTorch's default init. When it is True, the same
    parameter is re-initialized once per submodule while the submodules are never touched.

    ## Example
    ```python
    def _init_cnn(self, m):
        if getattr(self, "bias", None) is not None:
            nn.init.constant_(self.bias, 0)
        if isinstance(self, (nn.Conv1d, nn.Linear)):
            nn.init.kaiming_normal_(self.weight)
        for child in m.children():
            self._init_cnn(child)
    ```

    ## Use instead
    ```python
    def _init_cnn(self, m):
        if getattr(m, "bias", None) is not None:
            nn.init.constant_(m.bias, 0)
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)
        for child in m.children():
            self._init_cnn(child)
    ```

    ## Fix safety
    No fix: replacing the tested object turns dead code into running code, which changes the model's initial weights in ways nobody has checked.
    """

    code = "INI031"
    name = "dispatch-on-wrong-object"
    invalid = (
        """
import torch.nn as nn

class ResBlock(nn.Module):
    def __init__(self, ni, nf):
        super().__init__()
        self.conv1 = nn.Conv1d(ni, nf, 3, padding=1)
        self.bn = nn.BatchNorm1d(nf)
        self._init_cnn(self)

    def _init_cnn(self, m):
        if getattr(self, "bias", None) is not None:
            nn.init.constant_(self.bias, 0)
        if isinstance(self, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(self.weight)
        for l in m.children():
            self._init_cnn(l)
""",
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 2)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(self, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
""",
        """
import torch.nn as nn

def init_model(model):
    for m in model.modules():
        if isinstance(model, nn.Conv2d):
            nn.init.kaiming_normal_(model.weight)
""",
        """
import torch.nn as nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.apply(self._init)

    def _init(self, m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(self.bias)
""",
    )
    valid = (
        """
import torch.nn as nn

def init_cnn(m):
    if getattr(m, "bias", None) is not None:
        nn.init.constant_(m.bias, 0)
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
        nn.init.kaiming_normal_(m.weight)
    for l in m.children():
        init_cnn(l)
""",
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.fc = nn.Linear(8, 8)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=self.cfg.init_std)
            if self.cfg.zero_bias and module.bias is not None:
                nn.init.zeros_(module.bias)
""",
        """
import torch
import torch.nn as nn

class Scaled(nn.Linear):
    def reset_parameters(self):
        for m in self.modules():
            if isinstance(self, nn.Linear):
                nn.init.xavier_uniform_(self.weight)
""",
    )

    def check(self, model):
        reported: set[int] = set()
        for holder, variable, how in _module_functions(model):
            if id(holder) in reported or not any(d.inside(model, op.node, holder) for op in model.init_ops):
                continue
            message_node = self._wrong_subject(model, holder, variable, how)
            if message_node is not None:
                node, message = message_node
                reported.add(id(holder))
                yield Violation(node, message)
                continue
            for node, message in self._wrong_target(model, holder, variable, how):
                reported.add(id(holder))
                yield Violation(node, message)

    # ------------------------------------------------------------- the tests never look at the module

    def _wrong_subject(self, model, holder, variable, how):
        tests = [(node, subject) for node, subject in _dispatch_tests(model, holder)]
        targets = [(op, _root_name(op.target)) for op in model.init_ops if d.inside(model, op.node, holder)]
        if not tests or variable in {s for _, s in tests}:
            return None
        wrong = [(node, s) for node, s in tests if s != variable]
        if not wrong:
            return None
        subject = wrong[0][1]
        if subject == "self":
            klass_node = model.enclosing(holder, (ast.ClassDef,))
            if klass_node is None or not _dead_on_self(model, klass_node, [n for n, s in wrong if s == "self"]):
                return None
            what = f"`self`, the `{klass_node.name}` module itself"
        else:
            if not _bound_outside(model, holder, subject):
                return None
            what = f"`{subject}`"
        lines = sorted({n.lineno for n, _ in wrong})
        written = sorted({_root_target(op.target) for op, s in targets if s == subject and _root_target(op.target)})
        init_part = f" and initializes {', '.join(f'`{w}`' for w in written[:3])}" if written else ""
        return (wrong[0][0],
                f"{how} receives each module as `{variable}` but tests {what} (line{'s' if len(lines) > 1 else ''} "
                f"{', '.join(map(str, lines))}){init_part}: the test gives the same answer for every module, so the "
                f"init under it never reaches `{variable}` (dead code, layers keep their default init); test and "
                f"initialize `{variable}` instead of `{subject}`")

    # ------------------------------------------------------ the test looks at the module, the write does not

    def _wrong_target(self, model, holder, variable, how):
        klass_node = model.enclosing(holder, (ast.ClassDef,))
        if klass_node is None:
            return
        klass = model.classes.get(klass_node.name)
        for op in model.init_ops:
            if not d.inside(model, op.node, holder) or op.target is None:
                continue
            target, _ = strip_data(op.target)
            base, param, _ = split_param_target(target)
            if not (isinstance(base, ast.Name) and base.id == "self" and param in d.PARAM_NAMES):
                continue
            conditions = d.path_conditions(model, op.node, holder)
            if not conditions or conditions == d.GUARD_TRY:
                continue
            if not any(_test_subject(sub) == variable for test, _ in conditions for sub in walk(test)):
                continue
            if klass is None or klass.node is not klass_node or d.class_declares(klass, param, set()) is not False:
                continue
            yield (op.node, f"{how} tests `{variable}` but initializes `self.{param}`, which `{klass_node.name}` does "
                            f"not have (AttributeError): the module tested is `{variable}`; write "
                            f"`{variable}.{param}`")


# ----------------------------------------------------------------------------------------- helpers

def _module_functions(model):
    """(holder, the module variable, how to name it) for apply functions, modules() loops and recursive inits."""
    out = []
    seen: set[tuple[int, str]] = set()
    for site in d.sites(model):
        key = (id(site.holder), site.param)
        if key in seen or isinstance(site.holder, ast.Lambda):
            continue
        seen.add(key)
        out.append((site.holder, site.param, _how(site)))
    for function in d.nodes_of(model, ast.FunctionDef, ast.AsyncFunctionDef):
        params = d.positional_params(function)
        if len(params) < 2 or params[0] != "self":
            continue
        variable = params[1]
        if (id(function), variable) in seen:
            continue
        text = d.source_of(model, function)
        if not any(f"{variable}.{method}(" in text for method in _RECURSE_METHODS):
            continue
        if _recurses_over(model, function, variable):
            seen.add((id(function), variable))
            out.append((function, variable, f"`{function.name}`"))
    return out


def _how(site) -> str:
    if site.kind == "loop":
        return f"the `for {site.param} in {d.unparse(site.call.iter)}` loop"
    return f"`{site.function_name}` (passed to `apply`, line {site.call.lineno})"


def _recurses_over(model, function, variable) -> bool:
    """`for child in m.children(): self._init(child)`: the function walks the module tree through `variable`."""
    for node in walk(function):
        if isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.iter, ast.Call) \
                and isinstance(node.iter.func, ast.Attribute) and node.iter.func.attr in _RECURSE_METHODS \
                and isinstance(node.iter.func.value, ast.Name) and node.iter.func.value.id == variable:
            return True
    return False


def _dispatch_tests(model, holder):
    """Tests that pick modules, with the name they test: isinstance, type(), class names, hasattr/getattr on a
    parameter, `x.bias is not None`."""
    out = []
    for node in walk(holder):
        if not d.inside(model, node, holder) and node is not holder:
            continue
        subject = _test_subject(node)
        if subject is not None:
            out.append((node, subject))
    out.sort(key=lambda item: (item[0].lineno, item[0].col_offset))
    return out


def _test_subject(node) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "isinstance" and len(node.args) == 2 and isinstance(node.args[0], ast.Name):
            return node.args[0].id
        if node.func.id in ("hasattr", "getattr") and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in d.PARAM_NAMES:
            return node.args[0].id
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left = node.left
        if isinstance(left, ast.Call) and isinstance(left.func, ast.Name) and left.func.id == "type" and left.args \
                and isinstance(left.args[0], ast.Name):
            return left.args[0].id
        if isinstance(left, ast.Attribute) and left.attr == "__class__" and isinstance(left.value, ast.Name):
            return left.value.id
        if isinstance(left, ast.Attribute) and left.attr in d.PARAM_NAMES and isinstance(left.value, ast.Name) \
                and isinstance(node.ops[0], (ast.Is, ast.IsNot)) and isinstance(node.comparators[0], ast.Constant) \
                and node.comparators[0].value is None:
            return left.value.id
    return None


def _root_name(target) -> str | None:
    node = target
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _root_target(target) -> str | None:
    target, _ = strip_data(target) if target is not None else (None, False)
    return d.unparse(target) if target is not None else None


def _dead_on_self(model, klass_node, tests) -> bool:
    """Whether `isinstance(self, <layer>)` is False for this class (it is a block, not that layer)."""
    klass = model.classes.get(klass_node.name)
    if klass is None or klass.node is not klass_node:
        return False
    for test in tests:
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance":
            classes = test.args[1].elts if isinstance(test.args[1], (ast.Tuple, ast.List)) else [test.args[1]]
            for expr in classes:
                short = d.torch_class(model, expr)
                if short is None or short not in catalog.LAYERS:
                    return False
                base = klass.catalog_base
                if base is not None and (base in catalog.LAYERS and catalog.is_subclass(base, short)):
                    return False
                if klass.catalog_base is None and not _builds_submodules(klass):
                    return False
            continue
        if isinstance(test, ast.Call) or isinstance(test, ast.Compare):
            # getattr(self, "bias", None) / self.bias is not None: dead when the class never sets that attribute
            attr = None
            if isinstance(test, ast.Call) and len(test.args) >= 2 and isinstance(test.args[1], ast.Constant):
                attr = test.args[1].value
            elif isinstance(test, ast.Compare) and isinstance(test.left, ast.Attribute):
                attr = test.left.attr
            if attr is None:
                return False
            if d.class_declares(klass, attr, set()) is True:
                return False
            if d.class_declares(klass, attr, set()) is None and not _builds_submodules(klass):
                return False
            continue
        return False
    return True


def _builds_submodules(klass) -> bool:
    """A class whose constructor builds submodules: a block or a model, never a single layer."""
    return bool(klass.children)


def _bound_outside(model, holder, name: str) -> bool:
    """`name` is not bound inside the holder's body (it is the loop's model, a parameter of the function)."""
    for node in walk(holder):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store) \
                and d.inside(model, node, holder):
            return False
    if isinstance(holder, (ast.For, ast.AsyncFor)):
        return True
    return False
