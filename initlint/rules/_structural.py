"""Helpers shared by the structural rules (INI029-INI041): AST positions, dispatch tests, wrapper sites.

These rules ask questions the semantic model does not answer directly (which `isinstance` tests a dispatch
makes, where a module was wrapped by weight_norm, whether an init runs before or after a statement), so they
compute them here from the model's public data and the AST.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from initlint.catalog import torch as catalog
from initlint.model.entities import Dispatch, InitOp, ModuleNode, literal_value
from initlint.model.names import torch_nn_name
from initlint.model.semantic import FileModel
from initlint.model.syntax import walk

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


# ------------------------------------------------------------------------------------------- AST basics

def chain(expr: ast.AST | None) -> list[str] | None:
    """`self.conv.weight.data` -> ["self", "conv", "weight"] (`.data` dropped anywhere); None for other shapes."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        if expr.attr != "data":
            parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return list(reversed(parts))


def unsubscript(expr: ast.AST | None) -> tuple[ast.AST | None, bool]:
    """Strip subscripts (and `.data`) from a write target: returns (the tensor expression, whether it was sliced)."""
    sliced = False
    while True:
        if isinstance(expr, ast.Subscript):
            expr, sliced = expr.value, True
        elif isinstance(expr, ast.Attribute) and expr.attr == "data":
            expr = expr.value
        else:
            return expr, sliced


def target_chain(op: InitOp) -> tuple[list[str] | None, bool]:
    """The chain an init op writes (`["m", "weight"]`) and whether it writes only a slice of it."""
    target = op.target
    if isinstance(target, ast.Call) and not target.keywords and len(target.args) == 1:
        # `torch.as_tensor(m.weight)` / `torch.nn.Parameter(...)`-style pass-throughs
        target = target.args[0]
    expr, sliced = unsubscript(target)
    return chain(expr), sliced


def enclosing_function(model: FileModel, node: ast.AST) -> ast.AST | None:
    return model.enclosing(node, FUNCTIONS)


def enclosing_class(model: FileModel, node: ast.AST) -> ast.ClassDef | None:
    return model.enclosing(node, (ast.ClassDef,))  # type: ignore[return-value]


def method_owner(model: FileModel, function: ast.AST | None) -> ast.ClassDef | None:
    """The class whose body defines `function` directly (None for a nested or top-level function)."""
    if function is None:
        return None
    parent = model.parents.get(function)
    return parent if isinstance(parent, ast.ClassDef) else None


def line_of(node: ast.AST) -> int:
    return getattr(node, "lineno", 0)


def positive_branch_tests(model: FileModel, node: ast.AST, stop: ast.AST | None = None) -> list[ast.expr]:
    """Tests of the `if`s (and conditional expressions) whose *true* branch contains `node`, innermost first."""
    tests: list[ast.expr] = []
    child = node
    parent = model.parents.get(child)
    while parent is not None and parent is not stop:
        if isinstance(parent, ast.If) and child in parent.body:
            tests.append(parent.test)
        elif isinstance(parent, ast.IfExp) and child is parent.body:
            tests.append(parent.test)
        elif isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.And):
            index = parent.values.index(child) if child in parent.values else 0
            tests.extend(parent.values[:index])
        if isinstance(parent, FUNCTIONS):
            break
        child, parent = parent, model.parents.get(parent)
    return tests


def isinstance_classes(model: FileModel, test: ast.AST, subject: str) -> list[tuple[ast.Call, list[str]]]:
    """`isinstance(subject, X)` calls in an expression, each with the qualified names it tests."""
    out = []
    for node in walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" \
                and len(node.args) == 2 and isinstance(node.args[0], ast.Name) and node.args[0].id == subject:
            classes = node.args[1].elts if isinstance(node.args[1], (ast.Tuple, ast.List)) else [node.args[1]]
            out.append((node, [model.names.qualname(c) or "?" for c in classes]))
    return out


def short_name(model: FileModel, qualname: str) -> str | None:
    """The catalog layer name a qualified name refers to (`torch.nn.GRU` -> `GRU`), None for others."""
    short = torch_nn_name(qualname)
    if short is not None and short in catalog.LAYERS:
        return short
    return None


def layer_class(node: ModuleNode) -> str:
    """The torch class a layer node is an instance of (a local subclass of Linear counts as Linear)."""
    if node.spec is not None:
        return node.spec.name if node.cls not in catalog.LAYERS else node.cls
    return node.cls


def node_label(node: ModuleNode) -> str:
    return f"`{node.display}` ({node.cls})" if node.display else f"`{node.cls}`"


def describe_nodes(nodes: list[ModuleNode], limit: int = 4) -> str:
    seen: list[str] = []
    for node in nodes:
        label = node_label(node)
        if label not in seen:
            seen.append(label)
    text = ", ".join(seen[:limit])
    if len(seen) > limit:
        text += f" and {len(seen) - limit} more"
    return text


def op_label(op: InitOp | None) -> str:
    if op is None:
        return "`reset_parameters()`"
    return f"`{op.label}`"


def unparse(node: ast.AST, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover
        return "..."
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def self_method_calls(function: ast.AST, method: str) -> list[int]:
    """Lines where `function` calls `self.<method>(...)`."""
    lines = []
    for node in walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
            lines.append(node.lineno)
    return lines


def super_init_line(function: ast.AST) -> int | None:
    for node in walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__" \
                and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name) \
                and node.func.value.func.id == "super":
            return node.lineno
    return None


def class_by_name(model: FileModel, name: str) -> ast.ClassDef | None:
    klass = model.classes.get(name)
    if klass is not None:
        return klass.node
    for node in model.nodes_of(ast.ClassDef):
        if node.name == name:
            return node
    return None


def subclasses_in_file(model: FileModel, base: ast.ClassDef) -> list[ast.ClassDef]:
    """`base` and every class of the file deriving from it (by name, transitively)."""
    out = [base]
    names = {base.name}
    changed = True
    classes = model.nodes_of(ast.ClassDef)
    while changed:
        changed = False
        for klass in classes:
            if klass in out:
                continue
            for b in klass.bases:
                qualname = model.names.qualname(b) or ""
                if qualname.split(".")[-1] in names:
                    out.append(klass)
                    names.add(klass.name)
                    changed = True
                    break
    return out


def is_subclass_name(model: FileModel, klass: ast.ClassDef, ancestor: str, seen: set | None = None) -> bool:
    seen = set() if seen is None else seen
    if klass.name == ancestor:
        return True
    if klass.name in seen:
        return False
    seen.add(klass.name)
    for b in klass.bases:
        qualname = model.names.qualname(b) or ""
        name = qualname.split(".")[-1]
        if name == ancestor:
            return True
        parent = class_by_name(model, name) if qualname.startswith("<local>.") or name in model.classes else None
        if parent is not None and parent is not klass and is_subclass_name(model, parent, ancestor, seen):
            return True
    return False


def nodes_of(model: FileModel, kind: type) -> list[ast.AST]:
    """Every node of one ast type in the file, from the model's shared index."""
    return model.nodes_of(kind)


# ------------------------------------------------------------------------------------- local constants

def local_assignments(function: ast.AST, name: str) -> list[ast.expr]:
    """Values assigned to a plain name in a function (tuple unpacking of tuple literals included)."""
    out: list[ast.expr] = []
    for node in walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    out.append(node.value)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) \
                        and len(target.elts) == len(node.value.elts):
                    for element, value in zip(target.elts, node.value.elts):
                        if isinstance(element, ast.Name) and element.id == name:
                            out.append(value)
        elif isinstance(node, (ast.AnnAssign,)) and isinstance(node.target, ast.Name) and node.target.id == name \
                and node.value is not None:
            out.append(node.value)
    return out


def resolve_local(function: ast.AST | None, expr: ast.expr | None) -> ast.expr | None:
    """A name bound once in the function to a single expression: that expression; otherwise `expr` itself."""
    if function is None or not isinstance(expr, ast.Name):
        return expr
    values = local_assignments(function, expr.id)
    if len(values) == 1:
        return values[0]
    return expr


# ----------------------------------------------------------------------------------------- init ops

def ops_in(model: FileModel, root: ast.AST) -> list[InitOp]:
    """The file's init ops that lie inside `root`, in source order."""
    lo, hi = getattr(root, "lineno", 0), getattr(root, "end_lineno", 10 ** 9)
    inside = {id(n) for n in walk(root)}
    return [op for op in model.init_ops if lo <= op.node.lineno <= hi and id(op.node) in inside]


RANDOM_FAMILIES = frozenset({catalog.FAM_XAVIER, catalog.FAM_KAIMING, catalog.FAM_ORTHOGONAL, catalog.FAM_NORMAL,
                             catalog.FAM_UNIFORM, catalog.FAM_TRUNC_NORMAL, catalog.FAM_SPARSE, catalog.FAM_LECUN,
                             catalog.FAM_VARIANCE_SCALING})


def constant_written(op: InitOp) -> float | None:
    """The value a constant init writes (zeros_/ones_/constant_/fill_/zero_), None when not constant or unknown."""
    if op.family != catalog.FAM_CONSTANT:
        return None
    if op.spec is not None and getattr(op.spec, "constant_value", None) is not None:
        return op.spec.constant_value
    if op.name in ("zero_", "zeros_"):
        return 0.0
    if op.name == "ones_":
        return 1.0
    value = op.literal("val") if "val" in op.args else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# ------------------------------------------------------------------------------------------ dispatch

@dataclass
class DispatchInfo:
    """One dispatch function/loop with every node any of its runs reached."""

    dispatches: list[Dispatch] = field(default_factory=list)
    nodes: list[ModuleNode] = field(default_factory=list)

    @property
    def first(self) -> Dispatch:
        return self.dispatches[0]

    def body(self) -> list[ast.AST]:
        function = self.first.function
        if isinstance(function, ast.Lambda):
            return [function.body]
        return list(getattr(function, "body", []))

    def reached_by_me(self, node: ModuleNode) -> bool:
        return any(e.dispatch in self.dispatches for e in node.events)


def grouped_dispatches(model: FileModel, by_call: bool = False) -> list[DispatchInfo]:
    """model.dispatches grouped by function (or by apply call), nodes de-duplicated."""
    groups: dict[int, DispatchInfo] = {}
    for dispatch, nodes in model.dispatches:
        key = id(dispatch.call) if by_call else id(dispatch.function)
        info = groups.setdefault(key, DispatchInfo())
        info.dispatches.append(dispatch)
        for node in nodes:
            if all(node is not n for n in info.nodes):
                info.nodes.append(node)
    return list(groups.values())


def dispatch_name(dispatch: Dispatch) -> str:
    function = dispatch.function
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"`{function.name}`"
    if isinstance(function, ast.Lambda):
        return "the lambda"
    return f"the loop at line {line_of(function)}"


# ------------------------------------------------------------------------------------------ wrappers

WRAPPER_KINDS = {
    "torch.nn.utils.weight_norm": "weight_norm",
    "torch.nn.utils.weight_norm.weight_norm": "weight_norm",
    "torch.nn.utils.parametrizations.weight_norm": "parametrizations.weight_norm",
    "torch.nn.utils.spectral_norm": "spectral_norm",
    "torch.nn.utils.spectral_norm.spectral_norm": "spectral_norm",
    "torch.nn.utils.parametrizations.spectral_norm": "parametrizations.spectral_norm",
}
# Wrappers after which writing `module.<name>` in place changes nothing the next forward uses. The old-style
# spectral_norm is not one: until the first forward `module.weight` is `weight_orig.data` (same storage), so an
# init written then does reach the parameter (verified with torch 2.13).
NOOP_KINDS = frozenset({"weight_norm", "parametrizations.weight_norm", "parametrizations.spectral_norm"})


def wrapper_kinds(model: FileModel, func: ast.expr, scope: ast.AST | None) -> set[str]:
    """Which weight/spectral-norm wrappers a called expression may be (a local alias resolves to all its values)."""
    qualname = model.names.qualname(func)
    if qualname in WRAPPER_KINDS:
        return {WRAPPER_KINDS[qualname]}
    if not isinstance(func, ast.Name):
        return set()
    values: list[ast.expr] = []
    if scope is not None:
        values = local_assignments(scope, func.id)
    if not values:
        for statement in model.tree.body:
            if isinstance(statement, ast.Assign) \
                    and any(isinstance(t, ast.Name) and t.id == func.id for t in statement.targets):
                values.append(statement.value)
    kinds = set()
    for value in values:
        name = model.names.qualname(value)
        if name not in WRAPPER_KINDS:
            return set()
        kinds.add(WRAPPER_KINDS[name])
    return kinds


@dataclass
class WrapSite:
    call: ast.Call
    kinds: set[str]
    param: str
    function: ast.AST | None
    klass: ast.ClassDef | None
    target: ast.expr | None
    refs: list[list[str]]  # chains that name the wrapped module after the call (`["self", "conv"]`)

    @property
    def inline(self) -> bool:
        return isinstance(self.target, ast.Call)

    @property
    def kind_label(self) -> str:
        if len(self.kinds) == 1:
            return next(iter(self.kinds))
        return " / ".join(sorted(self.kinds))

    @property
    def noop(self) -> bool:
        return bool(self.kinds) and self.kinds <= NOOP_KINDS




def wrap_sites(model: FileModel) -> list[WrapSite]:
    """Every call to weight_norm / spectral_norm (direct or through a local alias) in the file."""
    cached = model.rule_cache.get("wrap_sites")
    if cached is not None:
        return cached
    sites: list[WrapSite] = []
    aliases = set()  # names some statement binds to a wrapper (`weight_norm = nn.utils.weight_norm`)
    for node in nodes_of(model, ast.Assign):
        if model.names.qualname(node.value) in WRAPPER_KINDS:
            aliases.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in nodes_of(model, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in aliases:
            function = enclosing_function(model, node)
            kinds = wrapper_kinds(model, node.func, function)
        elif model.names.qualname(node.func) in WRAPPER_KINDS:
            function = enclosing_function(model, node)
            kinds = {WRAPPER_KINDS[model.names.qualname(node.func)]}
        else:
            continue
        if not kinds:
            continue
        target = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "module"), None)
        param_expr = node.args[1] if len(node.args) > 1 else \
            next((k.value for k in node.keywords if k.arg == "name"), None)
        param = "weight" if param_expr is None else literal_value(param_expr)
        if not isinstance(param, str):
            continue
        refs: list[list[str]] = []
        target_ref = chain(target) if isinstance(target, (ast.Name, ast.Attribute)) else None
        if target_ref:
            refs.append(target_ref)
        parent = model.parents.get(node)
        if isinstance(parent, ast.Assign):
            for t in parent.targets:
                ref = chain(t)
                if ref and ref not in refs:
                    refs.append(ref)
        klass = method_owner(model, function)
        sites.append(WrapSite(node, kinds, param, function, klass, target, refs))
    model.rule_cache["wrap_sites"] = sites
    return sites


def wrapped_layer_class(model: FileModel, site: WrapSite) -> str | None:
    """The torch layer class a wrap site wraps (`nn.Conv1d`), from the constructor call it wraps or the
    attribute / local name that holds it."""
    target = site.target
    if isinstance(target, ast.Name) and site.function is not None:
        values = local_assignments(site.function, target.id)
        built = {short_name(model, model.names.qualname(v.func) or "") for v in values
                 if isinstance(v, ast.Call) and not wrapper_kinds(model, v.func, site.function)}
        return built.pop() if len(built) == 1 and None not in built else None
    if isinstance(target, ast.Call):
        return short_name(model, model.names.qualname(target.func) or "")
    ref = chain(target)
    if ref and ref[0] == "self" and len(ref) == 2 and site.klass is not None:
        klass = model.classes.get(site.klass.name)
        node = klass.attributes.get(ref[1]) if klass is not None else None
        if node is not None and node.spec is not None:
            return layer_class(node)
    return None


def effective_position(model: FileModel, function: ast.AST | None, line: int) -> tuple[ast.AST | None, int] | None:
    """Where a statement in a method runs, as a position in the class's `__init__` when the method is called
    from there (`self.apply_weight_norm()`); the method itself when it is `__init__`; None when unknown."""
    klass = method_owner(model, function)
    if function is None or klass is None:
        return function, line
    if getattr(function, "name", "") == "__init__":
        return function, line
    init = next((s for s in klass.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
    if init is None:
        return None
    calls = self_method_calls(init, getattr(function, "name", ""))
    if not calls:
        return None
    return init, min(calls)


def runs_after(model: FileModel, site_function: ast.AST | None, site_line: int, site_class: ast.ClassDef | None,
               node: ast.AST) -> bool | None:
    """Whether `node` (an init call, or an apply call) runs after a statement at (site_function, site_line):
    True, False, or None when the order cannot be told."""
    function = enclosing_function(model, node)
    if function is site_function and function is not None:
        return line_of(node) > site_line
    if site_function is None or site_class is None:
        return None
    klass = method_owner(model, function)
    if klass is None:
        return None
    if klass is not site_class and not is_subclass_name(model, klass, site_class.name):
        return None
    name = getattr(function, "name", "")
    if name == "__init__":
        if klass is site_class:
            return None
        # a subclass's __init__: after its super().__init__() call
        line = super_init_line(function)
        return line is not None and line_of(node) > line
    calls = self_method_calls(site_function, name)
    if calls:
        if any(c > site_line for c in calls):
            return True
        return False
    # A method the constructor does not call runs after construction, when the site is in __init__.
    if getattr(site_function, "name", "") == "__init__":
        # unless __init__ calls it indirectly before the site; only direct calls are considered
        return True
    return None


# ------------------------------------------------------------------------------------------ options

INIT_OPTION_RE = re.compile(r"init", re.I)


def terminal_name(expr: ast.AST) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript):
        key = literal_value(expr.slice)
        return key if isinstance(key, str) else None
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "get" and expr.args:
        key = literal_value(expr.args[0])
        return key if isinstance(key, str) else None
    return None
