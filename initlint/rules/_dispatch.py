"""What the dispatch rules (INI022-INI025, INI031, INI032) share: where init code runs over every submodule.

A *dispatch site* is code that torch runs once per submodule: a function passed to `Module.apply` (or timm's
`named_apply`), or the body of a `for m in X.modules()` loop. For each site this module knows the variable that
holds the module, which module nodes the semantic model resolved it to reach (when it did), the conditions that
lead to each init call inside it, and whether those conditions hold for a given module node (evaluated with the
semantic model's own condition interpreter, on a private Walker so the model is never changed).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from typing import Callable

from initlint.catalog import torch as catalog
from initlint.model import walker as _walker_module
from initlint.model.entities import ACTIVATION, BLOCK, CONTAINER, LAYER, TRANSPARENT, UNKNOWN, ClassModel, ModuleNode
from initlint.model.initops import parse_init_call, strip_data
from initlint.model.names import torch_nn_name
from initlint.model.walker import MAYBE, Frame, Walker
from initlint.model.syntax import walk

# The walker's marker for "this test is not one I evaluate" (private to it; absent, nothing compares equal).
_NotHandled = getattr(_walker_module, "_NotHandled", object())

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
TRY_TYPES = (ast.Try,) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
MODULE_LOOP_METHODS = ("modules", "named_modules")
PARAM_NAMES = ("weight", "bias")


# ------------------------------------------------------------------------------------------- sites

@dataclass(eq=False)
class Site:
    """One place where code runs per submodule."""

    kind: str  # "apply" (Module.apply / named_apply) or "loop" (for m in X.modules())
    holder: ast.AST  # the FunctionDef / Lambda / For whose body runs per module
    param: str  # the name bound to the module
    call: ast.AST  # the apply call or the For loop
    receiver: ast.expr | None  # what `apply`/`modules()` was called on
    nodes: list[ModuleNode] | None = None  # module nodes it reaches, when the semantic model resolved it

    @property
    def function_name(self) -> str:
        if isinstance(self.holder, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return self.holder.name
        if isinstance(self.holder, ast.Lambda):
            return "lambda"
        return "loop"

    def describe(self) -> str:
        """`init_weights` (passed to `net.apply`, line 30) / the `for m in self.modules()` loop (line 12)."""
        line = getattr(self.call, "lineno", 0)
        if self.kind == "loop":
            return f"the `for {self.param} in {_unparse(self.call.iter)}` loop (line {line})"
        receiver = _unparse(self.receiver) if self.receiver is not None else "?"
        named = isinstance(self.call, ast.Call) and _call_name(self.call) == "named_apply"
        how = "named_apply" if named else f"{receiver}.apply"
        name = "a lambda" if isinstance(self.holder, ast.Lambda) else f"`{self.function_name}`"
        return f"{name} (passed to `{how}`, line {line})"


@dataclass(eq=False)
class _Cache:
    sites: list[Site] = field(default_factory=list)
    walker: Walker | None = None
    by_type: dict = field(default_factory=dict)
    init_functions: set | None = None




def _cache(model) -> _Cache:
    cache = model.rule_cache.get("dispatch")
    if cache is None:
        cache = _Cache()
        model.rule_cache["dispatch"] = cache
        wanted = (ast.For, ast.AsyncFor, ast.FunctionDef, ast.AsyncFunctionDef, ast.Expr)
        by_type: dict = {kind: sorted(model.nodes_of(kind), key=lambda n: (n.lineno, n.col_offset))
                         for kind in wanted}
        by_type[ast.Call] = list(model.calls)
        cache.by_type = by_type
        cache.sites = _collect_sites(model)
    return cache


def nodes_of(model, *types: type) -> list[ast.AST]:
    """Every node of these exact AST types in the file, in source order (calls, loops, defs, expression
    statements)."""
    by_type = _cache(model).by_type
    out: list[ast.AST] = []
    for kind in types:
        out += by_type[kind]
    if len(types) > 1:
        out.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    return out


def source_of(model, node: ast.AST) -> str:
    """The source lines a node spans (for cheap text pre-filters)."""
    start, end = getattr(node, "lineno", 1), getattr(node, "end_lineno", None) or getattr(node, "lineno", 1)
    return "\n".join(model.source.lines[start - 1:end])


def sites(model) -> list[Site]:
    """Every apply function and modules() loop in the file, each (holder, call) once."""
    return _cache(model).sites


def _collect_sites(model) -> list[Site]:
    out: list[Site] = []
    seen: dict[tuple[int, int], Site] = {}
    for node in nodes_of(model, ast.Call, ast.For, ast.AsyncFor):
        if isinstance(node, ast.Call):
            resolved = resolve_apply_function(model, node)
            if resolved is None:
                continue
            holder, param, receiver = resolved
            if param is None:
                continue
            key = (id(holder), id(node))
            if key not in seen:
                seen[key] = Site("apply", holder, param, node, receiver)
                out.append(seen[key])
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            loop = module_loop(node)
            if loop is not None:
                param, receiver = loop
                key = (id(node), id(node))
                if key not in seen:
                    seen[key] = Site("loop", node, param, node, receiver)
                    out.append(seen[key])
    # what the semantic model resolved: the module nodes each site reaches
    for dispatch, nodes in model.dispatches:
        site = seen.get((id(dispatch.function), id(dispatch.call)))
        if site is None:
            continue
        site.nodes = (site.nodes or []) + [n for n in nodes if all(n is not m for m in site.nodes or [])]
    for site in out:
        if site.nodes is None:
            site.nodes = _receiver_nodes(model, site)
    return out


def _receiver_nodes(model, site: Site) -> list[ModuleNode] | None:
    """`self.apply(fn)` / `self.modules()` in a method the semantic model did not run: the class's modules."""
    receiver = site.receiver
    klass_node = model.enclosing(site.call, (ast.ClassDef,))
    klass = model.classes.get(klass_node.name) if klass_node is not None else None
    if klass is None or klass.node is not klass_node or not klass.walked:
        return None
    if isinstance(receiver, ast.Name) and receiver.id == "self":
        root = model.self_nodes.get(id(klass)) or ModuleNode(BLOCK, klass.name, "", klass.node, block=klass)
        return klass.all_nodes() + [root]
    if isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Name) and receiver.value.id == "self":
        node = klass.attributes.get(receiver.attr)
        if isinstance(node, ModuleNode) and node.kind != UNKNOWN:
            return _subtree(node, set())
    return None


def _subtree(node: ModuleNode, seen: set) -> list[ModuleNode]:
    """A module node and everything below it, children first (as `apply` visits them)."""
    if id(node) in seen:
        return []
    seen.add(id(node))
    out: list[ModuleNode] = []
    for child in node.children:
        out += _subtree(child, seen)
    if node.block is not None:
        out += node.block.all_nodes()
    out.append(node)
    return out


def module_loop(loop: ast.AST) -> tuple[str, ast.expr] | None:
    """`for m in X.modules()` / `for name, m in X.named_modules()`: (the module variable, X)."""
    if not isinstance(loop, (ast.For, ast.AsyncFor)) or not isinstance(loop.iter, ast.Call):
        return None
    func = loop.iter.func
    if not (isinstance(func, ast.Attribute) and func.attr in MODULE_LOOP_METHODS):
        return None
    target = loop.target
    if func.attr == "named_modules":
        if isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name):
            return target.elts[1].id, func.value
        return None
    if isinstance(target, ast.Name):
        return target.id, func.value
    return None


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def apply_argument(call: ast.Call) -> tuple[ast.expr, ast.expr | None] | None:
    """(the function argument, the receiver) of `X.apply(fn)` / `named_apply(fn, X)`; None for other calls."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "apply" and len(call.args) == 1 and not call.keywords:
        return call.args[0], func.value
    if _call_name(call) == "named_apply" and call.args:
        receiver = call.args[1] if len(call.args) > 1 else None
        for keyword in call.keywords:
            if keyword.arg == "module":
                receiver = keyword.value
        return call.args[0], receiver
    return None


def resolve_apply_function(model, call: ast.Call):
    """For `X.apply(fn)`: (the def/lambda, its module parameter, X), or None when fn is not defined in this file."""
    found = apply_argument(call)
    if found is None:
        return None
    arg, receiver = found
    function, skip = resolve_function(model, arg, call)
    if function is None:
        return None
    params = positional_params(function)[skip:]
    return function, (params[0] if params else None), receiver


def positional_params(function: ast.AST) -> list[str]:
    args = function.args
    return [a.arg for a in args.posonlyargs + args.args]


def resolve_function(model, expr: ast.expr, context: ast.AST) -> tuple[ast.AST | None, int]:
    """The def or lambda an expression names, and how many leading positional parameters are already bound
    (`self` of a bound method, `partial`'s arguments)."""
    if isinstance(expr, ast.Lambda):
        return expr, 0
    if isinstance(expr, ast.Call) and (model.names.qualname(expr.func) or "").endswith("partial") and expr.args:
        inner, skip = resolve_function(model, expr.args[0], context)
        if inner is None:
            return None, 0
        return inner, skip + len([a for a in expr.args[1:] if not isinstance(a, ast.Starred)])
    if isinstance(expr, ast.Name):
        function = local_def(model, expr.id, context)
        return function, 0
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        owner = expr.value.id
        klass_node = None
        if owner in ("self", "cls"):
            klass_node = model.enclosing(context, (ast.ClassDef,))
        else:
            klass = model.classes.get(owner)
            klass_node = klass.node if klass is not None else _class_def(model, owner)
        if klass_node is None:
            return None, 0
        method = class_method(model, klass_node, expr.attr)
        if method is None:
            return None, 0
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in method.decorator_list)
        classmethod_ = any(isinstance(d, ast.Name) and d.id == "classmethod" for d in method.decorator_list)
        if static:
            return method, 0
        if owner in ("self", "cls") or classmethod_:
            return method, 1
        return method, 0  # `Class.method` unbound: the module is passed as `self`
    return None, 0


def _class_def(model, name: str) -> ast.ClassDef | None:
    for statement in model.tree.body:
        if isinstance(statement, ast.ClassDef) and statement.name == name:
            return statement
    return None


def class_method(model, klass_node: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for statement in klass_node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
            return statement
    klass = model.classes.get(klass_node.name)
    if klass is not None and klass.node is klass_node:
        method = klass.method(name)
        if method is not None:
            return method
    return None


def local_def(model, name: str, context: ast.AST) -> ast.AST | None:
    """A function named `name` visible from `context`: nested in an enclosing function, or at module level."""
    scope = model.enclosing(context, (ast.FunctionDef, ast.AsyncFunctionDef))
    while scope is not None:
        for node in walk(scope):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name and node is not scope \
                    and model.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)) is scope:
                return node
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id == name and isinstance(node.value, ast.Lambda) \
                    and model.enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)) is scope:
                return node.value
        scope = model.enclosing(scope, (ast.FunctionDef, ast.AsyncFunctionDef))
    function = model.functions.get(name)
    if function is not None:
        return function
    for statement in model.tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == name \
                and isinstance(statement.value, ast.Lambda):
            return statement.value
    return None


def enclosing_function(model, node: ast.AST) -> ast.AST | None:
    return model.enclosing(node, FUNCTIONS)


def inside(model, node: ast.AST, holder: ast.AST) -> bool:
    """Whether `node` runs as part of `holder`'s body (not in a nested def or lambda)."""
    parent = model.parents.get(node)
    while parent is not None:
        if parent is holder:
            return True
        if isinstance(parent, FUNCTIONS):
            return False
        parent = model.parents.get(parent)
    return False


def site_ops(model, site: Site) -> list:
    """Init ops that run as part of a site's body."""
    return [op for op in model.init_ops if inside(model, op.node, site.holder)]


def param_of(target: ast.expr | None, variable: str) -> str | None:
    """`m.weight` / `m.bias.data` / `m.weight[0]` -> "weight" / "bias" when rooted at `variable`."""
    if target is None:
        return None
    target, _ = strip_data(target)
    while isinstance(target, ast.Subscript):
        target = target.value
        target, _ = strip_data(target)
    if isinstance(target, ast.Attribute) and target.attr in PARAM_NAMES and isinstance(target.value, ast.Name) \
            and target.value.id == variable:
        return target.attr
    return None


def init_code_functions(model) -> set[int]:
    """ids of functions that are init code: passed to apply, or calling nn.init / an in-place init."""
    cache = _cache(model)
    if cache.init_functions is None:
        cache.init_functions = _init_code_functions(model)
    return cache.init_functions


def _init_code_functions(model) -> set[int]:
    out: set[int] = set()
    for site in sites(model):
        if not isinstance(site.holder, (ast.For, ast.AsyncFor)):
            out.add(id(site.holder))
    for op in model.init_ops:
        function = enclosing_function(model, op.node)
        if function is not None:
            out.add(id(function))
    return out


def in_init_code(model, node: ast.AST) -> bool:
    """Inside a site's body, or inside a function that is init code."""
    for site in sites(model):
        if inside(model, node, site.holder):
            return True
    function = enclosing_function(model, node)
    return function is not None and id(function) in init_code_functions(model)


# --------------------------------------------------------------------------------------- conditions

GUARD_TRY = "try"


def path_conditions(model, node: ast.AST, holder: ast.AST, early_exits: bool = True):
    """The conditions under which `node` runs inside `holder`, as (test, wanted truth) pairs, outermost last.

    Early exits count: `if not isinstance(m, nn.Linear): return` before the node adds (that test, False).
    Returns GUARD_TRY inside a `try` with handlers, None where the path is not followed (nested function,
    while loop, match statement)."""
    conditions: list[tuple[ast.expr, bool]] = []
    child = node
    parent = model.parents.get(child)
    while parent is not None and child is not holder:
        if isinstance(parent, ast.If):
            if child is not parent.test:
                conditions.append((parent.test, _in_list(child, parent.body)))
        elif isinstance(parent, ast.IfExp):
            if child is parent.body:
                conditions.append((parent.test, True))
            elif child is parent.orelse:
                conditions.append((parent.test, False))
        elif isinstance(parent, ast.BoolOp):
            index = next((i for i, v in enumerate(parent.values) if v is child), 0)
            wanted = isinstance(parent.op, ast.And)
            conditions += [(value, wanted) for value in parent.values[:index]]
        elif isinstance(parent, ast.comprehension):
            pass
        elif isinstance(parent, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for generator in parent.generators:
                conditions += [(test, True) for test in generator.ifs]
        elif isinstance(parent, TRY_TYPES):
            if _in_list(child, parent.body) and parent.handlers:
                return GUARD_TRY
        elif isinstance(parent, FUNCTIONS) and parent is not holder:
            return None
        elif isinstance(parent, ast.While) or type(parent).__name__ == "Match":
            return None
        if isinstance(child, ast.stmt) and early_exits:
            for name in ("body", "orelse", "finalbody"):
                statements = getattr(parent, name, None)
                if isinstance(statements, list) and _in_list(child, statements):
                    for previous in statements[:_index(child, statements)]:
                        conditions += _early_exit(previous)
        child, parent = parent, model.parents.get(parent)
    return conditions


def _in_list(node: ast.AST, statements: list) -> bool:
    return any(s is node for s in statements)


def _index(node: ast.AST, statements: list) -> int:
    return next(i for i, s in enumerate(statements) if s is node)


def _terminates(statements: list[ast.stmt]) -> bool:
    return bool(statements) and isinstance(statements[-1], (ast.Return, ast.Continue, ast.Raise, ast.Break))


def _early_exit(statement: ast.stmt) -> list[tuple[ast.expr, bool]]:
    if isinstance(statement, ast.If):
        if _terminates(statement.body):
            return [(statement.test, False)]
        if statement.orelse and _terminates(statement.orelse):
            return [(statement.test, True)]
    if isinstance(statement, ast.Assert):
        return [(statement.test, True)]
    return []


class _DispatchWalker(Walker):
    """The model's condition interpreter, with `hasattr` on weight/bias answered as Python does: a layer built
    with `bias=False` still has a `bias` attribute (it is None)."""

    def _truth_call(self, call: ast.Call, frame: Frame):
        name = call.func.id if isinstance(call.func, ast.Name) else None
        if name == "hasattr" and len(call.args) == 2 and isinstance(call.args[1], ast.Constant) \
                and call.args[1].value in PARAM_NAMES:
            value = self.eval(call.args[0], frame)
            if isinstance(value, ModuleNode):
                declared = declares_attribute(value, call.args[1].value)
                if declared is not None:
                    return declared
                return None
        return super()._truth_call(call, frame)


def _walker(model) -> Walker:
    cache = _cache(model)
    if cache.walker is None:
        cache.walker = _DispatchWalker(model)
    return cache.walker


@functools.lru_cache(maxsize=1024)
def _assignments(holder: ast.AST) -> tuple[ast.Assign, ...]:
    return tuple(sorted((n for n in walk(holder) if isinstance(n, ast.Assign)), key=lambda n: n.lineno))


def _has_init_call(model, expr: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and parse_init_call(n, model.names) is not None for n in walk(expr))


def site_frame(model, site: Site, node: ModuleNode, upto: ast.AST) -> Frame:
    """A frame binding the site's module variable to `node`, `self` to the enclosing class, and the simple local
    names assigned before `upto` (`classname = m.__class__.__name__`, `t = type(m)`)."""
    walker = _walker(model)
    klass_node = model.enclosing(site.holder, (ast.ClassDef,))
    self_value = model.classes.get(klass_node.name) if klass_node is not None else None
    if self_value is not None and self_value.node is not klass_node:
        self_value = None
    frame = Frame(env={site.param: node}, self_value=self_value)
    if isinstance(site.holder, ast.Lambda):
        return frame
    for statement in _assignments(site.holder):
        if len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        if not isinstance(target, ast.Name) or target.id == site.param:
            continue
        if statement.lineno >= getattr(upto, "lineno", 0) or not inside(model, statement, site.holder):
            continue
        if _has_init_call(model, statement.value) or _has_other_calls(statement.value):
            continue
        try:
            frame.env[target.id] = walker.eval(statement.value, frame)
        except Exception:  # a value the interpreter cannot take: leave the name unbound
            frame.env[target.id] = None
    return frame


_SAFE_CALLS = ("type", "getattr", "str", "len", "hasattr", "isinstance")


def _has_other_calls(expr: ast.AST) -> bool:
    for node in walk(expr):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in _SAFE_CALLS:
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("lower", "upper", "_get_name"):
                continue
            return True
    return False


def evaluate(model, site: Site, node: ModuleNode, conditions: list[tuple[ast.expr, bool]], upto: ast.AST):
    """True when every condition holds for `node` (conditions that do not depend on it count as holding),
    False when one provably does not, None when one cannot be told."""
    walker = _walker(model)
    frame = site_frame(model, site, node, upto)
    unknown = False
    for test, wanted in conditions:
        if _has_init_call(model, test):
            return None
        truth = truth_of(walker, test, frame)
        if truth == MAYBE:
            continue
        if truth is None:
            unknown = True
            continue
        if bool(truth) != wanted:
            return False
    return None if unknown else True


def truth_of(walker: Walker, test: ast.expr, frame: Frame):
    try:
        result = walker.truth(test, frame)
    except Exception:  # a test the interpreter cannot take (or too deep): it cannot be told
        return None
    return None if result is _NotHandled else result


# ------------------------------------------------------------------------------------------ modules

def declares_attribute(node: ModuleNode, attr: str) -> bool | None:
    """Whether the module has an attribute `attr` at all (it may be None): False for activations, containers
    and local classes that never set it; None when it cannot be told."""
    if node.kind in (ACTIVATION,) and node.spec is None:
        return False
    if node.kind in (TRANSPARENT, CONTAINER):
        return False
    if node.spec is not None:
        return any(p.name == attr for p in node.spec.params)
    if node.kind == BLOCK and node.block is not None:
        return class_declares(node.block, attr, set())
    return None


def class_declares(klass: ClassModel, attr: str, seen: set) -> bool | None:
    if id(klass) in seen:
        return False
    seen.add(id(klass))
    if attr in klass.raw_params or attr in klass.attributes or attr in klass.methods:
        return True
    if _class_body_sets(klass, attr):
        return True
    base = klass.catalog_base
    if base is not None and base in catalog.LAYERS:
        return any(p.name == attr for p in catalog.LAYERS[base].params) or None
    if base is not None and base not in ("Module",) and base not in catalog.CONTAINERS:
        return None
    if klass.has_unknown_base:
        return None
    results = [class_declares(b, attr, seen) for b in klass.local_bases]
    if any(r is True for r in results):
        return True
    if any(r is None for r in results):
        return None
    return False


def _class_body_sets(klass: ClassModel, attr: str) -> bool:
    names, anything = class_stores(klass)
    return anything or attr in names


_REGISTERING = ("register_parameter", "register_buffer", "register_module", "add_module")


def class_stores(klass: ClassModel) -> tuple[frozenset, bool]:
    """What `_class_stores` says of the class: for a class of the linted file, read off its node index for all
    of the file's classes at once (a class of another file is walked, once per process)."""
    home = klass.home
    index = getattr(home, "index", None)
    if index is None:
        return _class_stores(klass.node)
    table = home.rule_cache.get("class_stores")
    if table is None:
        table = home.rule_cache["class_stores"] = _stores_by_class(index)
    return table.get(id(klass.node), (frozenset(), False))


def _stores_by_class(index) -> dict[int, tuple[frozenset, bool]]:
    """`_class_stores` of every class of a file, from its index: each store is credited to every class
    around it, as a walk of each class would find it."""
    names: dict[int, set[str]] = {id(node): set() for node in index.classes}
    anything: set[int] = set()
    parents = index.parents

    def around(node: ast.AST):
        parent = parents.get(node)
        while parent is not None:
            if type(parent) is ast.ClassDef:
                yield id(parent)
            parent = parents.get(parent)

    for node in index.by_type.get(ast.Attribute, ()):
        if type(node.ctx) is ast.Store:
            for klass in around(node):
                names[klass].add(node.attr)
    for call in index.calls:
        func = call.func
        if type(func) is ast.Attribute and func.attr in _REGISTERING and call.args:
            name = call.args[0]
        elif type(func) is ast.Name and func.id == "setattr" and len(call.args) >= 2:
            name = call.args[1]
        else:
            continue
        literal = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else None
        for klass in around(call):
            if literal is None:
                anything.add(klass)
            else:
                names[klass].add(literal)
    for node in index.classes:  # class attributes and properties: `weight = property(...)`
        for statement in node.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else \
                [statement.target] if isinstance(statement, ast.AnnAssign) else []
            names[id(node)].update(t.id for t in targets if type(t) is ast.Name)
    return {klass: (frozenset(found), klass in anything) for klass, found in names.items()}


@functools.lru_cache(maxsize=2048)
def _class_stores(node: ast.ClassDef) -> tuple[frozenset, bool]:
    """The attribute names a class body sets (`self.x = ...`, `register_*("x", ...)`, class attributes and
    properties, `setattr(self, "x", ...)`), and whether it sets names we cannot read (a computed name)."""
    names: set[str] = set()
    anything = False
    class_targets = {id(t) for statement in node.body if isinstance(statement, (ast.Assign, ast.AnnAssign))
                     for t in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])}
    for sub in walk(node):
        kind = type(sub)
        if kind is ast.Attribute:
            if type(sub.ctx) is ast.Store:
                names.add(sub.attr)
        elif kind is ast.Name:
            if id(sub) in class_targets and type(sub.ctx) is ast.Store:
                names.add(sub.id)  # a class attribute or property: `weight = property(...)`
        elif kind is not ast.Call:
            continue
        elif isinstance(sub.func, ast.Attribute) and sub.func.attr in _REGISTERING and sub.args:
            if isinstance(sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str):
                names.add(sub.args[0].value)
            else:
                anything = True
        elif isinstance(sub.func, ast.Name) and sub.func.id == "setattr" and len(sub.args) >= 2:
            if isinstance(sub.args[1], ast.Constant) and isinstance(sub.args[1].value, str):
                names.add(sub.args[1].value)
            else:
                anything = True
    return frozenset(names), anything


def lacks(node: ModuleNode, param: str) -> str | None:
    """Why `node.<param>` is unusable as a tensor: "missing" (no such attribute: AttributeError), "none" (the
    attribute is None: bias=False, affine=False), or None when it has it or that cannot be told."""
    declared = declares_attribute(node, param)
    if declared is False:
        return "missing"
    if declared is None:
        return None
    if node.kind == LAYER and node.spec is not None:
        present = node.has_param(param)
        if present is False and node.cls == node.spec.name:
            return "none"
        # a local subclass of a torch layer may take other constructor arguments than the catalog's signature
        return None
    if node.kind == ACTIVATION and node.spec is not None:  # PReLU
        return None if param == "weight" else "missing"
    return None


def why_none(node: ModuleNode, param: str) -> str:
    """"bias=False" / "affine=False, the default" for a layer whose parameter is None."""
    spec = node.spec
    if spec is None:
        return ""
    for pspec in spec.params:
        if pspec.name != param:
            continue
        for flag, default in pspec.present_if:
            value = node.flags.get(flag, spec.flag_default(flag, default))
            if not value:
                given = flag in node.flags
                return f"{flag}={value!r}" + ("" if given else ", the default")
    return ""


def describe_node(model, node: ModuleNode, site: Site | None = None) -> str:
    """"`self.fc` (Linear)", "the model itself (`Net`)"."""
    if not node.path:
        return f"the root module (`{node.cls}`)"
    owner = model.owner_name(node)
    here = model.enclosing(site.call, (ast.ClassDef,)) if site is not None else None
    if node.display_prefix == "self" and owner and owner in model.classes and (here is None or here.name != owner):
        return f"`{node.path}` of `{owner}` ({node.cls})"
    return f"`{node.display}` ({node.cls})"


def describe_lack(model, node: ModuleNode, param: str, reason: str, site: Site | None = None) -> str:
    if reason == "none":
        why = why_none(node, param)
        return f"{describe_node(model, node, site)}, whose `{param}` is None" + (f" ({why})" if why else "")
    return f"{describe_node(model, node, site)}, which has no `{param}`"


def class_line(model, name: str) -> int | None:
    klass = model.classes.get(name)
    return klass.node.lineno if klass is not None else None


def torch_class(model, expr: ast.expr) -> str | None:
    """`nn.Linear` -> "Linear" (a torch.nn class the catalog knows, or any torch.nn name)."""
    return torch_nn_name(model.names.qualname(expr))


def _unparse(node: ast.AST | None) -> str:
    if node is None:
        return ""
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover
        return "?"


unparse = _unparse


# ------------------------------------------------------------------------------ class-name and type tests

def classname_names(model, holder: ast.AST, param: str) -> set[str]:
    """Local names holding the module's class name: `classname = m.__class__.__name__` (and names copied from
    one of those, in line order)."""
    out: set[str] = set()
    return _names_assigned(holder, lambda value: is_classname_expr(value, param, out), out)


def type_names(model, holder: ast.AST, param: str) -> set[str]:
    """Local names holding the module's class: `t = type(m)`, `cls = m.__class__`."""
    return _names_assigned(holder, lambda value: is_type_expr(value, param, set()), set())


def _names_assigned(holder: ast.AST, holds: Callable[[ast.expr], bool], out: set[str]) -> set[str]:
    """The simple names that `holder`'s assignments bind to a value `holds` accepts, added to `out`."""
    if isinstance(holder, ast.Lambda):
        return out
    for node in _assignments(holder):
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and holds(node.value):
            out.add(node.targets[0].id)
    return out


def is_type_expr(expr: ast.expr, param: str, names: set[str]) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id in names
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "type" \
            and len(expr.args) == 1:
        return isinstance(expr.args[0], ast.Name) and expr.args[0].id == param
    if isinstance(expr, ast.Attribute) and expr.attr == "__class__":
        return isinstance(expr.value, ast.Name) and expr.value.id == param
    return False


def is_classname_expr(expr: ast.expr, param: str, names: set[str]) -> bool:
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in ("lower", "upper") \
            and not expr.args:
        return is_classname_expr(expr.func.value, param, names)
    if isinstance(expr, ast.Name):
        return expr.id in names
    if isinstance(expr, ast.Attribute) and expr.attr in ("__name__", "__qualname__"):
        return is_type_expr(expr.value, param, set())
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "_get_name" \
            and isinstance(expr.func.value, ast.Name) and expr.func.value.id == param:
        return True
    return False


@dataclass
class NameCheck:
    """A test on the module's class name: which names it accepts, as written."""

    node: ast.expr
    kind: str  # "find", "in", "startswith", "endswith", "eq"
    needles: tuple[str, ...]
    negated: bool
    lowered: bool = False

    def matches(self, name: str) -> bool:
        subject = name.lower() if self.lowered else name
        if self.kind in ("find", "in"):
            hit = any(n in subject for n in self.needles)
        elif self.kind == "startswith":
            hit = any(subject.startswith(n) for n in self.needles)
        elif self.kind == "endswith":
            hit = any(subject.endswith(n) for n in self.needles)
        else:
            hit = subject in self.needles
        return hit != self.negated

    def spelled(self) -> str:
        return unparse(self.node)


def _str_literals(expr: ast.expr) -> tuple[str, ...] | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return (expr.value,)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        values = [e.value for e in expr.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return tuple(values) if len(values) == len(expr.elts) and values else None
    return None


def _lowered(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "lower"


def name_check(test: ast.expr, param: str, names: set[str]) -> NameCheck | None:
    """`classname.find('Conv') != -1`, `'Conv' in classname`, `classname.startswith('Conv')`,
    `type(m).__name__ == 'Linear'`; None for anything else."""
    negated = False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = name_check(test.operand, param, names)
        if inner is not None:
            inner.negated = not inner.negated
            inner.node = test
        return inner
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) \
            and test.func.attr in ("startswith", "endswith", "__contains__") and test.args \
            and is_classname_expr(test.func.value, param, names):
        needles = _str_literals(test.args[0])
        if needles:
            kind = "in" if test.func.attr == "__contains__" else test.func.attr
            return NameCheck(test, kind, needles, negated, _lowered(test.func.value))
        return None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    op, left, right = test.ops[0], test.left, test.comparators[0]
    # x.find('Conv') != -1  /  >= 0  /  > -1  /  == -1
    if isinstance(left, ast.Call) and isinstance(left.func, ast.Attribute) \
            and left.func.attr in ("find", "index", "rfind") and left.args \
            and is_classname_expr(left.func.value, param, names):
        needles = _str_literals(left.args[0])
        bound = right.value if isinstance(right, ast.Constant) else \
            (-right.operand.value if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub)
             and isinstance(right.operand, ast.Constant) else None)
        if not needles or not isinstance(bound, int):
            return None
        if isinstance(op, ast.NotEq) and bound == -1 or isinstance(op, ast.GtE) and bound == 0 \
                or isinstance(op, ast.Gt) and bound == -1:
            return NameCheck(test, "find", needles, False, _lowered(left.func.value))
        if isinstance(op, ast.Eq) and bound == -1 or isinstance(op, ast.Lt) and bound == 0:
            return NameCheck(test, "find", needles, True, _lowered(left.func.value))
        if isinstance(op, ast.Eq) and bound == 0:
            return NameCheck(test, "startswith", needles, False, _lowered(left.func.value))
        return None
    # 'Conv' in classname
    if isinstance(op, (ast.In, ast.NotIn)) and is_classname_expr(right, param, names):
        needles = _str_literals(left)
        if needles and len(needles) == 1:
            return NameCheck(test, "in", needles, isinstance(op, ast.NotIn), _lowered(right))
        return None
    # classname in ('Linear', 'Conv2d') / classname == 'Linear'
    if is_classname_expr(left, param, names):
        needles = _str_literals(right)
        if not needles:
            return None
        if isinstance(op, (ast.Eq, ast.In)):
            return NameCheck(test, "eq", needles, False, _lowered(left))
        if isinstance(op, (ast.NotEq, ast.NotIn)):
            return NameCheck(test, "eq", needles, True, _lowered(left))
    if isinstance(op, (ast.Eq, ast.NotEq)) and is_classname_expr(right, param, names):
        needles = _str_literals(left)
        if needles and len(needles) == 1:
            return NameCheck(test, "eq", needles, isinstance(op, ast.NotEq), _lowered(right))
    return None


def name_checks_in(test: ast.expr, param: str, names: set[str]) -> list[NameCheck]:
    """Every class-name check inside a test (through `and`/`or`/`not`)."""
    out = []
    for node in walk(test):
        check = name_check(node, param, names) if isinstance(node, (ast.Compare, ast.Call)) else None
        if check is not None and not any(c.node is node for c in out):
            out.append(check)
    return out
