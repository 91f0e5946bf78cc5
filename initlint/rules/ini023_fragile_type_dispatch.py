from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.fixes import UNSAFE, FixBuilder
from initlint.model.entities import BLOCK, LAYER, UNKNOWN, ModuleNode
from initlint.rules import _dispatch as d
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_HOLDS_LINEAR = ("MultiheadAttention", "Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer",
                 "TransformerEncoder", "TransformerDecoder")


_TEST_WORDS = ("type(", "__class__", "__name__", "_get_name")


class FragileTypeDispatch(Rule):
    """## What it does
    Flags init code that picks modules by exact type (`type(m) == nn.Linear`, `type(m) is nn.Conv2d`,
    `m.__class__ in (...)`) or by class *name* (`classname.find('Conv') != -1`, `'Conv' in classname`,
    `classname.startswith('Conv')`) when the file shows a module the test gets wrong: a subclass the exact test
    misses, or a class whose name matches but that is not the layer meant.

    ## Why is this bad?
    An exact type test skips subclasses: `nn.MultiheadAttention.out_proj` is a `NonDynamicallyQuantizableLinear`,
    `nn.LazyLinear` and every user subclass (`class LoRALinear(nn.Linear)`) fail `type(m) == nn.Linear`, so they
    silently keep PyTorch's default init. A class-name test matches text, not types: `'Conv' in classname` is
    also true for a `ConvBlock` container, which has no `weight` (AttributeError), and `'Norm' in classname`
    for `InstanceNorm2d`, whose `weight` is None by default (`affine=False`). Like Ruff's E721, use
    `isinstance`.

    The DCGAN idiom (`classname.find('Conv') != -1`) is only flagged where this file defines or builds a module
    it gets wrong.

    ## Example
    ```python
    class ConvBlock(nn.Module):  # a container: no weight of its own
        ...

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight, 0.0, 0.02)
    ```

    ## Use instead
    ```python
    def weights_init(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
    ```

    ## Fix safety
    Unsafe: `isinstance` also accepts subclasses, which is the point but changes which modules get initialized
    (an attention block's `out_proj`, a user's `class LoRALinear(nn.Linear)` now take the branch, and code in it
    written for the exact class may not fit them). Exact type tests (`type(m) == nn.Linear`, `type(m) is ...`,
    `m.__class__ in (A, B)`, and their negations) become `isinstance(m, nn.Linear)` / `isinstance(m, (A, B))` /
    `not isinstance(...)`. A class-name test becomes `isinstance(m, (...))` over the torch layers the dispatch
    was seen to reach whose names it matches, minus the modules it matches by mistake; it gets no fix when the
    dispatch's modules are not all known (the function is applied to a model from elsewhere, or to a module
    this file cannot resolve), or when it also matches a class that none of those layers covers. A type held in
    a variable (`t = type(m)`; `t is nn.Conv2d`) gets no fix either.
    """

    code = "INI023"
    name = "fragile-type-dispatch"
    invalid = (
        """
import torch.nn as nn

class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
""",
        """
import torch.nn as nn

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(64, 4)
        self.fc = nn.Linear(64, 64)
        self.apply(self._init)

    def _init(self, m):
        if type(m) == nn.Linear:
            nn.init.trunc_normal_(m.weight, std=0.02)
""",
        """
import torch.nn as nn

class ScaledLinear(nn.Linear):
    pass

def init_weights(model):
    for m in model.modules():
        if m.__class__ in (nn.Linear, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
""",
    )
    valid = (
        """
import torch.nn as nn

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
""",
        """
import torch.nn as nn

def initialize_weights(model):
    for m in model.modules():
        t = type(m)
        if t is nn.Conv2d:
            pass
        elif t is nn.BatchNorm2d:
            m.eps = 1e-3
""",
        """
import torch.nn as nn

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(64, 4)
        self.fc = nn.Linear(64, 64)
        self.apply(self._init)

    def _init(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
""",
    )

    def check(self, model):
        done: set[int] = set()
        for holder, variable, nodes in _holders(model):
            text = d.source_of(model, holder)
            if not any(word in text for word in _TEST_WORDS):
                continue
            names = d.classname_names(model, holder, variable)
            types = d.type_names(model, holder, variable)
            site = d.Site("apply", holder, variable, holder, None, nodes)
            for test in _tests(model, holder):
                if id(test) in done:
                    continue
                for check in d.name_checks_in(test, variable, names):
                    if id(check.node) in done:
                        continue
                    found = self._name_check(model, site, check, test)
                    if found:
                        message, wrong = found
                        done.add(id(check.node))
                        yield Violation(check.node, message, _name_fix(model, site, check, wrong))
                for compare in walk(test):
                    if id(compare) in done or not isinstance(compare, ast.Compare):
                        continue
                    classes = _type_test(model, compare, variable, types)
                    if classes is None:
                        continue
                    message = self._type_check(model, site, compare, classes, test)
                    if message:
                        done.add(id(compare))
                        yield Violation(compare, message, _type_fix(model, compare, variable))

    # ------------------------------------------------------------------------------ class names

    def _name_check(self, model, site, check, test) -> tuple[str, set[int]] | None:
        """The message, and the ids of the modules the test matches by name but should not."""
        governed = _governed_ops(model, site, test)
        if not governed:
            return None
        candidates = _candidates(model, site)
        wrong: list[str] = []
        wrong_ids: set[int] = set()
        for node, origin in candidates:
            if not _hit(check, node.cls):
                continue
            for op, param in governed:
                reason = d.lacks(node, param)
                if reason is None:
                    continue
                conditions = d.path_conditions(model, op.node, site.holder)
                if conditions is None or conditions == d.GUARD_TRY:
                    continue
                if d.evaluate(model, site, node, conditions, op.node) is not True:
                    continue
                wrong_ids.add(id(node))
                wrong.append(f"{_describe(model, node, origin, site)}, which "
                             + ("has no" if reason == "missing" else "has")
                             + f" `{param}`" + ("" if reason == "missing" else f" = None ({d.why_none(node, param)})")
                             + f", so `{d.unparse(op.node)[:50]}` (line {op.node.lineno}) raises AttributeError")
                break
        missed: list[str] = []
        for node, origin in candidates:
            if _hit(check, node.cls):
                continue
            meant = [t for t in _torch_mro(model, node) if not t.startswith("_") and _hit(check, t) and t != node.cls]
            if meant:
                missed.append(f"{_describe(model, node, origin, site)}, a subclass of `{meant[0]}`")
        if not wrong and not missed:
            return None
        parts = []
        if wrong:
            parts.append("also matches " + "; ".join(_unique(wrong)[:2]))
        if missed:
            parts.append("misses " + "; ".join(_unique(missed)[:2]))
        return (f"`{check.spelled()}` dispatches on the class name, not the type: it {' and '.join(parts)}; "
                f"use `isinstance({site.param}, ...)` with the layer classes meant"), wrong_ids

    # ------------------------------------------------------------------------------ exact types

    def _type_check(self, model, site, compare, classes, test) -> str | None:
        if not _governed_ops(model, site, test, any_target=True):
            return None
        missed: list[str] = []
        for node, origin in _candidates(model, site):
            mro = _torch_mro(model, node)
            own = node.cls
            for wanted in classes:
                if own == wanted or own in classes:
                    continue
                if wanted in mro or (node.block is not None and node.block.is_subclass_of(wanted)
                                     and node.block.name != wanted):
                    missed.append(f"{_describe(model, node, origin, site)}, a subclass of `{wanted}`")
                    break
                if wanted == "Linear" and (node.spec is not None and node.spec.name in _HOLDS_LINEAR):
                    missed.append(f"the `out_proj` of {_describe(model, node, origin, site)} "
                                  f"(`NonDynamicallyQuantizableLinear`, a subclass of `Linear`)")
                    break
        if not missed:
            return None
        spelled = ", ".join(f"nn.{c}" if c in catalog.LAYERS else c for c in classes)
        spelled = spelled if len(classes) == 1 else f"({spelled})"
        return (f"`{d.unparse(compare)}` is an exact type test: it misses {'; '.join(_unique(missed)[:2])}, "
                f"so they keep PyTorch's default init; use `isinstance({site.param}, {spelled})`")


# ------------------------------------------------------------------------------------------- fixes

# torch layer classes the catalog knows under names `torch.nn` does not export.
_NOT_EXPORTED = frozenset({"NonDynamicallyQuantizableLinear", "LinearCrossEntropyLoss"})


def _type_fix(model, compare: ast.Compare, variable: str):
    """`type(m) == nn.Linear` / `type(m) is nn.Linear` -> `isinstance(m, nn.Linear)`; `type(m) in (A, B)` ->
    `isinstance(m, (A, B))`; `!=`, `is not`, `not in` -> `not isinstance(...)`. Only for `type(m)` and
    `m.__class__` themselves (a `t = type(m)` variable may be rebound), the classes spelled as written."""
    op = compare.ops[0]
    left, right = compare.left, compare.comparators[0]
    if not d.is_type_expr(left, variable, set()):
        if not isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) or not d.is_type_expr(right, variable, set()):
            return None
        left, right = right, left
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(right, (ast.Tuple, ast.List, ast.Set)) or not right.elts \
                or any(isinstance(e, ast.Starred) for e in right.elts):
            return None
        elements = list(right.elts)
    else:
        elements = [right]
    builder = FixBuilder(model)
    subject = left.args[0] if isinstance(left, ast.Call) else left.value
    classes = [builder.segment(e) for e in elements]
    spelled = classes[0] if len(classes) == 1 else f"({', '.join(classes)})"
    text = f"isinstance({builder.segment(subject)}, {spelled})"
    if isinstance(op, (ast.NotEq, ast.IsNot, ast.NotIn)):
        text = f"not {text}"
    return builder.fix(UNSAFE, f"Use `{text}`", [builder.replace(compare, text)])


def _name_fix(model, site, check, wrong: set[int]):
    """`classname.find('Conv') != -1` -> `isinstance(m, (nn.ConvTranspose2d, nn.Conv2d))`: the torch layers this
    file's dispatch reaches whose names the test matches, minus those it should not (no `weight`). Only when
    every module the dispatch reaches is known, and every other module the test matches is a subclass of one of
    those layers (a local class of its own, or a module torch does not export, would be lost)."""
    nodes = site.nodes
    if not nodes or any(n.kind == UNKNOWN for n in nodes):
        return None
    meant: list[str] = []
    others: list[ModuleNode] = []
    for node in nodes:
        if id(node) in wrong or not _hit(check, node.cls):
            continue
        exported = node.kind == LAYER and node.block is None and node.cls in catalog.LAYERS \
            and not node.cls.startswith("_") and node.cls not in _NOT_EXPORTED
        if exported:
            if node.cls not in meant:
                meant.append(node.cls)
        else:
            others.append(node)
    if not meant or any(not set(_torch_mro(model, node)) & set(meant) for node in others):
        return None
    spelled = [_torch_nn_class(model, name) for name in meant]
    if any(name is None for name in spelled):
        return None
    classes = spelled[0] if len(spelled) == 1 else f"({', '.join(spelled)})"
    text = f"isinstance({site.param}, {classes})"
    if check.negated:
        text = f"not {text}"
    builder = FixBuilder(model)
    return builder.fix(UNSAFE, f"Use `{text}`", [builder.replace(check.node, text)])


def _torch_nn_class(model, name: str) -> str | None:
    """`nn.Conv2d` with the file's alias of `torch.nn` (or `torch`, or the class imported by name)."""
    aliases = model.names.aliases
    for local, qualname in aliases.items():
        if qualname == "torch.nn":
            return f"{local}.{name}"
    for local, qualname in aliases.items():
        if qualname == f"torch.nn.{name}":
            return local
    for local, qualname in aliases.items():
        if qualname == "torch":
            return f"{local}.nn.{name}"
    return None


# ----------------------------------------------------------------------------------------- helpers

def _holders(model):
    """(body holder, module variable, resolved nodes or None) for every piece of init code."""
    out = []
    seen: dict[tuple[int, str], int] = {}
    for site in d.sites(model):
        key = (id(site.holder), site.param)
        if key in seen:
            index = seen[key]
            holder, variable, nodes = out[index]
            if nodes is not None and site.nodes is not None:
                out[index] = (holder, variable, nodes + [n for n in site.nodes if all(n is not m for m in nodes)])
            else:
                out[index] = (holder, variable, None)
            continue
        seen[key] = len(out)
        out.append((site.holder, site.param, site.nodes))
    init_functions = d.init_code_functions(model)
    for node in d.nodes_of(model, ast.FunctionDef, ast.AsyncFunctionDef):
        if id(node) in init_functions:
            for variable in d.positional_params(node):
                if variable not in ("self", "cls") and (id(node), variable) not in seen:
                    seen[(id(node), variable)] = len(out)
                    out.append((node, variable, None))
    return out


def _tests(model, holder):
    """`if` / `elif` / conditional-expression tests that run as part of the holder's body."""
    for node in walk(holder):
        if isinstance(node, (ast.If, ast.IfExp, ast.While)) and d.inside(model, node, holder):
            yield node.test


def _governed_ops(model, site, test, any_target: bool = False):
    """Init ops whose running depends on `test`: (op, the parameter of the module variable it writes)."""
    out = []
    for op in model.init_ops:
        if not d.inside(model, op.node, site.holder):
            continue
        conditions = d.path_conditions(model, op.node, site.holder)
        if conditions is None or conditions == d.GUARD_TRY:
            continue
        if not any(t is test for t, _ in conditions):
            continue
        param = d.param_of(op.target, site.param)
        if param is not None or any_target:
            out.append((op, param))
    return out


def _candidates(model, site) -> list[tuple[ModuleNode, str]]:
    """Modules the test meets: those the dispatch reaches when resolved, else every module this file builds
    and every module class it defines."""
    if site.nodes is not None:
        return [(n, "reached") for n in site.nodes if n.kind != "unknown"]
    out: list[tuple[ModuleNode, str]] = []
    seen: set[str] = set()
    for node in model.all_nodes():
        if node.kind == "unknown":
            continue
        key = f"{node.cls}:{id(node)}"
        if key not in seen:
            seen.add(key)
            out.append((node, "built"))
    for klass in model.classes.values():
        if klass.catalog_base in catalog.LAYERS:
            spec = catalog.LAYERS[klass.catalog_base]
            out.append((ModuleNode(LAYER, klass.name, "", klass.node, spec=spec), "defined"))
        else:
            out.append((ModuleNode(BLOCK, klass.name, "", klass.node, block=klass), "defined"))
    return out


def _torch_mro(model, node: ModuleNode) -> list[str]:
    if node.spec is not None:
        return catalog.layer_mro(node.spec.name)
    if node.block is not None and node.block.catalog_base in catalog.LAYERS:
        return catalog.layer_mro(node.block.catalog_base)
    return []


def _hit(check, name: str) -> bool:
    """Whether the name test's text matches (whichever branch that selects)."""
    return check.matches(name) != check.negated


def _describe(model, node: ModuleNode, origin: str, site) -> str:
    if origin == "defined":
        return f"`{node.cls}` (defined at line {node.node.lineno})"
    if node.kind == BLOCK and node.block is not None:
        line = d.class_line(model, node.cls)
        return f"`{node.cls}`" + (f" (defined at line {line})" if line else "")
    return d.describe_node(model, node, site)


def _type_test(model, compare: ast.Compare, variable: str, types: set[str]) -> list[str] | None:
    """`type(m) == nn.Linear`, `m.__class__ in (nn.Linear, nn.Conv2d)`, `t is nn.Conv2d`: the class names."""
    if len(compare.ops) != 1:
        return None
    op = compare.ops[0]
    if not isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)):
        return None
    left, right = compare.left, compare.comparators[0]
    if not d.is_type_expr(left, variable, types):
        if isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) and d.is_type_expr(right, variable, types):
            left, right = right, left
        else:
            return None
    elements = right.elts if isinstance(right, (ast.Tuple, ast.List, ast.Set)) and isinstance(op, (ast.In, ast.NotIn)) \
        else [right]
    classes = []
    for element in elements:
        short = d.torch_class(model, element)
        if short is not None and short in catalog.LAYERS:
            classes.append(short)
            continue
        qualname = model.names.qualname(element) or ""
        if qualname.startswith("<local>.") and qualname[8:] in model.classes:
            classes.append(qualname[8:])
            continue
        return None
    return classes or None


def _unique(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
