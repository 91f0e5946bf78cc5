"""Keras models in the semantic model: the same ModuleNodes, consumers and init events the PyTorch walker builds,
from Keras 3 / tf.keras code (Sequential, functional, subclassed models and the block builders between them).

The file is executed abstractly: values are literals, Keras layer objects, symbolic tensors (the set of layers whose
output they carry, as in `flow.py`), initializer instances, functions and classes of this file. Calling a layer on a
tensor records what consumes the producing layers' output; building a layer records an init event for every explicit
`*_initializer=` argument (a default records none: the rules read the default from the catalog).

Only files that mention keras or tensorflow are analysed (`mentions_keras`), so PyTorch files pay nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from initlint.catalog import keras as kc
from initlint.catalog import torch as tc
from initlint.model.entities import (
    C_ACTIVATION, C_GATE, C_LAYER, C_OUTPUT, C_UNKNOWN, LAYER, ActivationUse, Consumer, InitEvent, InitOp,
    ModuleNode, literal_value,
)
from initlint.model.flow import EMPTY, Flow
from initlint.model.keras_names import (  # noqa: F401 (is_keras, layer_key, mentions_keras: also read from here)
    FRAMEWORK, PACKAGES, TOP_LEVEL, canonical, imports_keras, is_keras, layer_key, mentions_keras,
)

if TYPE_CHECKING:
    from initlint.model.semantic import FileModel

MAX_DEPTH = 8
MAX_STEPS = 60_000  # statements executed per file: a budget against pathological nesting
MAX_UNROLL = 8  # literal lists iterated element by element up to this length


# --------------------------------------------------------------------------------------- model data


@dataclass(eq=False)
class KerasNode(ModuleNode):
    """A Keras layer in the semantic model. `constructor` is the call that built it (one call may build several
    nodes: a block builder called twice)."""

    framework: str = FRAMEWORK
    owner: str = ""
    constructor: ast.Call | None = None


@dataclass(eq=False)
class KerasInitOp(InitOp):
    """A Keras initializer as written: a string alias, a class (called or not), a config dict, `initializers.get(...)`.

    `args` holds the Keras arguments and, for the shared rules, the same expressions under torch's names
    (`stddev` also as `std`, `minval`/`maxval` as `a`/`b`, `value` as `val`).
    """

    framework: str = FRAMEWORK
    style: str = "string"  # string / class / class-ref / dict / tf-function (`tf.random_normal_initializer`)
    class_expr: ast.expr | None = None  # class: the callee; dict: the class_name string
    tf_keras: bool = False

    @property
    def class_name(self) -> str:
        return self.spec.class_name if self.spec is not None else ""


@dataclass(eq=False)
class InitInstance:
    """An initializer object at run time: several layers given the same one draw the same values (INI038)."""

    op: KerasInitOp | None
    seed: str  # none / int / generator / unknown / tensorflow (a TF-native initializer)
    node: ast.AST
    uses: list = field(default_factory=list)  # (KerasNode | None, param, use expression, path)


@dataclass(frozen=True)
class StringIssue:
    """A string Keras rejects at run time, found by reading every Keras call (INI015)."""

    node: ast.expr
    message: str
    fixed: str | None = None  # the certain spelling (a change of case, separators, or stray spaces)


@dataclass(eq=False)
class KerasModel:
    tf_keras: bool
    nodes: list[KerasNode] = field(default_factory=list)  # layers with weights, in creation order
    instances: list[InitInstance] = field(default_factory=list)
    issues: list[StringIssue] = field(default_factory=list)
    nodes_by_constructor: dict[int, list[KerasNode]] = field(default_factory=dict)
    resolver: "KerasNames | None" = None

    def layers(self) -> list[KerasNode]:
        return [n for n in self.nodes if n.kind == LAYER and n.spec is not None]


# ------------------------------------------------------------------------------------------- names

# Constructor arguments kept as node flags besides those the catalog's parameters depend on (fan-in, presence).
_SHAPE_FLAGS = frozenset({"kernel_size", "groups", "depth_multiplier"})
_BUILDING = ("keras.layers.", "keras.models.", "keras.initializers.")


class KerasNames:
    """Keras qualified names for expressions, on top of the file's `Names`, with star imports from keras modules."""

    def __init__(self, names) -> None:
        self.names = names
        modules = list(names.aliases.values()) + list(names.star_modules)
        self.tf_keras = any(m == "tf_keras" or m.startswith("tf_keras.") for m in modules)
        self.imports_keras = imports_keras(names)
        self.star = [canonical(m) for m in names.star_modules if (canonical(m) or "").startswith("keras")]

    def of(self, expr: ast.AST | None) -> str | None:
        q = self.names.qualname(expr)
        if q is None:
            return None
        if "." not in q and self.star and q not in self.names.aliases and q not in self.names.local_definitions:
            for module in self.star:
                candidate = canonical(f"{module}.{q}")
                if _known(candidate):
                    return candidate
            return q
        return canonical(q)


def _known(q: str | None) -> bool:
    if not q:
        return False
    head, _, last = q.rpartition(".")
    if head == "keras.layers":
        return kc.layer_spec(last) is not None or last in kc.ACTIVATION_LAYERS or last in kc.TRANSPARENT_LAYERS \
            or last in kc.MERGE_FUNCTIONS or last in kc.UNION_LAYERS or last in kc.GATE_LAYERS \
            or last in ("Activation", "Input", "Layer", "Lambda") or last in kc.WRAPPERS
    if head == "keras.initializers":
        return last in kc.INITIALIZERS or last in ("get", "deserialize")
    if head == "keras.activations":
        return last in kc.ACTIVATIONS or last in ("get", "deserialize")
    if head == "keras.models":
        return last in kc.MODEL_CLASSES or last in kc.SEQUENTIAL_CLASSES
    if head == "keras":
        return last in PACKAGES or f"keras.{last}" in TOP_LEVEL
    return False


# -------------------------------------------------------------------------------------------- values


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Lit:
    value: object
    node: ast.AST | None = None
    assumed: bool = False  # an entry point's default: callers elsewhere may pass something else


@dataclass(frozen=True)
class Tensor:
    flow: Flow = EMPTY
    channels: int | None = None


@dataclass(frozen=True)
class KName:
    """A Keras module, class or function named in the code (`layers`, `layers.Dense`, `keras.initializers.HeNormal`)."""

    qualname: str
    node: ast.AST | None = None


@dataclass(eq=False)
class ListVal:
    items: list


@dataclass(eq=False)
class DictVal:
    entries: dict  # literal key -> (value, expression)
    node: ast.AST | None = None


@dataclass(frozen=True)
class Options:
    """One of several values (an `if` / conditional expression)."""

    values: tuple


@dataclass(eq=False)
class SeedGen:
    node: ast.AST


@dataclass(eq=False)
class ActFn:
    """An activation function as a value (`tf.nn.relu`, `keras.activations.relu`, `activations.get('relu')`)."""

    uses: tuple  # of ActivationUse | None


@dataclass(eq=False)
class FuncVal:
    node: ast.AST  # FunctionDef or Lambda
    scope: "Scope"
    bound: object = None  # `self` for methods
    klass: "KClass | None" = None


@dataclass(eq=False)
class KClass:
    name: str
    node: ast.ClassDef
    bases: list  # KClass or keras qualname strings
    is_model: bool = False
    instances: list = field(default_factory=list)

    def method(self, name: str, skip_self: bool = False):
        if not skip_self:
            for stmt in self.node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                    return stmt, self
        for base in self.bases:
            if isinstance(base, KClass):
                found = base.method(name)
                if found is not None:
                    return found
        return None


@dataclass(eq=False)
class Instance:
    klass: KClass
    attrs: dict = field(default_factory=dict)
    called: bool = False
    display: str = ""
    children: list = field(default_factory=list)  # Sequential subclasses: layers passed up / added
    built: bool = False


@dataclass(eq=False)
class SuperVal:
    instance: Instance
    klass: KClass


@dataclass(eq=False)
class LayerObj:
    """A Keras layer object (built, maybe not yet called)."""

    kind: str  # weighted / activation / transparent / norm / union / gate / sequential / model / wrapper / unknown
    cls: str
    node: KerasNode | None = None
    activations: tuple = ()  # in-layer activation options; () is linear
    children: list = field(default_factory=list)
    inner: object = None
    residual: bool = False
    keeps_channels: bool = True
    output: Tensor | None = None  # functional model: what it returns
    called: bool = False
    nested: bool = False
    input_channels: int | None = None  # `input_shape=` / `input_dim=` on the first layer


class Scope:
    def __init__(self, parent: "Scope | None" = None, owner: str = "") -> None:
        self.vars: dict = {}
        self.parent = parent
        self.owner = owner

    def lookup(self, name: str):
        scope = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return None

    def has(self, name: str) -> bool:
        scope = self
        while scope is not None:
            if name in scope.vars:
                return True
            scope = scope.parent
        return False


class _Return(Exception):
    pass


# ------------------------------------------------------------------------------------------- builder

_INSPECTION = kc.INSPECTION_FUNCTIONS
_PASS_THROUGH = kc.OPS_PASS_THROUGH
_UNION = kc.OPS_UNION
_RESIDUAL = kc.OPS_RESIDUAL
_GATE = kc.OPS_GATE
_NORM_FUNCTIONS = kc.OPS_NORM


class KerasBuilder:
    def __init__(self, model: "FileModel") -> None:
        self.model = model
        self.names = KerasNames(model.names)
        self.result = KerasModel(self.names.tf_keras, resolver=self.names)
        self.module = Scope(owner="")
        self.scopes: list[Scope] = [self.module]  # cleared after the build: functions and scopes refer to each other
        self.steps = 0
        self.depth = 0
        self.stack: list[ast.AST] = []
        self.path: list[tuple] = []
        self.activation_outputs: list[ModuleNode] = []
        self.sequentials: list[LayerObj] = []
        self.ops: dict[int, KerasInitOp | None] = {}
        self.called_functions: set[int] = set()
        self.classes: dict[str, KClass] = {}
        self.function_defs: dict[str, ast.FunctionDef] = {}
        self.referenced: set[str] = set()
        self.seen_classes: set[str] = set()
        self.dead = False  # the rest of the current block is unreachable (after a `return`)

    def _scope(self, parent: Scope, owner: str) -> Scope:
        scope = Scope(parent, owner=owner)
        self.scopes.append(scope)
        return scope

    def release(self) -> None:
        """Break the reference cycles between scopes and the functions and classes defined in them, so the
        build is freed without the cycle collector (off in the `initlint` command)."""
        classes = [*self.classes.values(), *(value for scope in self.scopes for value in scope.vars.values()
                                             if isinstance(value, KClass))]
        for klass in classes:
            for instance in klass.instances:
                instance.attrs.clear()
                instance.children.clear()
            klass.instances.clear()
        for scope in self.scopes:
            scope.vars.clear()
        self.scopes.clear()
        self.classes.clear()

    # ---------------------------------------------------------------------------------- entry

    def build(self) -> KerasModel:
        if not self.names.imports_keras:
            return self.result  # keras named in a comment or a string only
        tree = self.model.tree
        self._collect(tree)
        if not self.classes and not self._builds_layers():
            self._check_strings()
            return self.result
        for name, function in self.function_defs.items():
            self.module.vars[name] = FuncVal(function, self.module)
        for name, klass in self.classes.items():
            self.module.vars[name] = klass
        body = [s for s in tree.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        self._run_body(body, self.module)
        # Functions nothing in this file calls are entry points (`def VGG16(...)`, `def build_model()`); then those
        # whose only callers were never analysed.
        for pass_ in (0, 1):
            for name, function in self.function_defs.items():
                if id(function) in self.called_functions or (pass_ == 0 and name in self.referenced):
                    continue
                self._run_root_function(function)
        # Model/layer classes: an instance nobody called (or the class itself, never instantiated) is a root.
        bases = {id(base) for klass in self.classes.values() for base in klass.bases if isinstance(base, KClass)}
        for klass in self.classes.values():
            if not klass.instances and id(klass) not in bases:
                instance = self._instantiate(klass, [], {}, None, assumed=True)
                klass.instances.append(instance)
            for instance in list(klass.instances):
                if not instance.called:
                    out = self._call_instance(instance, [self.input_tensor(klass.node)], {}, klass.node, assumed=True)
                    self.consume(_flow(out), Consumer(C_OUTPUT if klass.is_model else C_UNKNOWN, label="model output"))
        for sequential in self.sequentials:
            if not sequential.called and not sequential.nested:
                out = self._apply(sequential, [Tensor(EMPTY, sequential.input_channels)], {}, None)  # no residual here
                self.consume(_flow(out), Consumer(C_OUTPUT, label="model output"))
        self._mark_heads()
        self._check_strings()
        return self.result

    def _builds_layers(self) -> bool:
        """Whether any call builds a Keras layer, model or initializer (else there is no model to interpret)."""
        for call in self.model.calls:
            q = self.names.of(call.func)
            if q and q.startswith(_BUILDING):
                return True
        return False

    def _collect(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.function_defs.setdefault(stmt.name, stmt)
        defs = [n for n in self.model.index.classes]
        for node in defs:
            if node.name not in self.classes:
                self.classes[node.name] = KClass(node.name, node, [])
        for klass in self.classes.values():
            for base in klass.node.bases:
                q = self.names.of(base)
                if q and q.startswith("<local>.") and q[8:] in self.classes:
                    klass.bases.append(self.classes[q[8:]])
                elif isinstance(base, ast.Name) and base.id in self.classes:
                    klass.bases.append(self.classes[base.id])
                elif q:
                    klass.bases.append(q)
        keras_classes = {}
        for klass in self.classes.values():
            kind = self._keras_base(klass, set())
            if kind is not None:
                klass.is_model = kind == "model"
                keras_classes[klass.name] = klass
        self.classes = keras_classes
        # Names read anywhere other than their own definition: those functions/classes have callers here.
        wanted = set(self.function_defs) | set(self.classes)
        if wanted:
            shared_pass = getattr(self.model, "nodes_of", None)
            names = shared_pass(ast.Name) if shared_pass is not None else _names(tree)
            self.referenced = {node.id for node in names if node.id in wanted and type(node.ctx) is ast.Load}

    def _keras_base(self, klass: KClass, seen: set) -> str | None:
        if id(klass) in seen:
            return None
        seen.add(id(klass))
        found = None
        for base in klass.bases:
            if isinstance(base, KClass):
                kind = self._keras_base(base, seen)
            else:
                last = base.rsplit(".", 1)[-1]
                kind = None
                if base.startswith("keras.") and last in kc.LAYER_BASES:
                    kind = "layer" if last == "Layer" else "model"
            if kind == "model":
                return "model"
            found = found or kind
        return found

    def _run_root_function(self, function: ast.FunctionDef) -> None:
        self.called_functions.add(id(function))
        scope = self._scope(self.module, function.name)
        self._bind_defaults(function.args, scope, site=function)
        out = self._run_function_body(function, scope, function)
        flow = _flow(out)
        if flow.producers:
            self.consume(flow, Consumer(C_UNKNOWN, line=function.lineno))

    def _bind_defaults(self, args: ast.arguments, scope: Scope, site: ast.AST) -> None:
        """An entry point's parameters: their defaults (assumed: a caller elsewhere may pass another value, so they
        do not decide an `if`); a required one may be a tensor (`def block(x, filters)`)."""
        positional = args.posonlyargs + args.args
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for arg, default in zip(positional, defaults):
            scope.vars[arg.arg] = _assumed(self.eval(default, self.module)) if default is not None \
                else self.input_tensor(site)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            scope.vars[arg.arg] = _assumed(self.eval(default, self.module)) if default is not None else UNKNOWN
        if args.vararg:
            scope.vars[args.vararg.arg] = UNKNOWN
        if args.kwarg:
            scope.vars[args.kwarg.arg] = UNKNOWN

    # ----------------------------------------------------------------------------- statements

    def _run_body(self, body: list[ast.stmt], scope: Scope) -> list:
        returns: list = []
        self._run_into(body, scope, returns)
        return returns

    def exec(self, stmt: ast.stmt, scope: Scope, returns: list) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            return
        if isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, scope)
            for target in stmt.targets:
                self.assign(target, value, scope)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.eval(stmt.value, scope), scope)
        elif isinstance(stmt, ast.AugAssign):
            current = self.eval(stmt.target, scope) if isinstance(stmt.target, ast.Name) else UNKNOWN
            value = self.eval(stmt.value, scope)
            self.assign(stmt.target, self._binop(stmt.op, current, value, stmt), scope)
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value, scope)
        elif isinstance(stmt, ast.Return):
            returns.append(self.eval(stmt.value, scope) if stmt.value is not None else Lit(None))
            self.dead = True
        elif isinstance(stmt, ast.Raise):
            self.dead = True
        elif isinstance(stmt, ast.If):
            known = _truth(self.eval(stmt.test, scope))
            if known is not None:  # `if not preact:` with preact=False passed by the caller: one branch runs
                self._run_into(stmt.body if known else stmt.orelse, scope, returns)
                return
            before = dict(scope.vars)
            self.path.append(("if", id(stmt), 0))
            self._run_into(stmt.body, scope, returns)
            body_dead, self.dead = self.dead, False
            left = scope.vars
            self.path[-1] = ("if", id(stmt), 1)
            scope.vars = dict(before)
            self._run_into(stmt.orelse, scope, returns)
            self.path.pop()
            else_dead = self.dead
            self.dead = body_dead and else_dead
            right = scope.vars
            if body_dead != else_dead:
                # one branch left the function: after the `if`, the names are the other branch's
                scope.vars = left if else_dead else right
            else:
                scope.vars = {key: _merge(left.get(key), right.get(key)) for key in set(left) | set(right)}
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._exec_for(stmt, scope, returns)
        elif isinstance(stmt, ast.While):
            self.path.append(("loop", id(stmt)))
            for _ in range(2):
                self._run_into(stmt.body, scope, returns)
                self.dead = False
            self.path.pop()
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            self._run_into(stmt.body, scope, returns)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self._run_into(stmt.body, scope, returns)
            for handler in stmt.handlers:
                self.dead = False
                self._run_into(handler.body, scope, returns)
            self.dead = False
            self._run_into(stmt.orelse, scope, returns)
            self._run_into(stmt.finalbody, scope, returns)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope.vars[stmt.name] = FuncVal(stmt, scope)
        elif isinstance(stmt, ast.ClassDef):
            if stmt.name in self.classes:
                scope.vars[stmt.name] = self.classes[stmt.name]
        elif isinstance(stmt, ast.Match) if hasattr(ast, "Match") else False:
            for case in stmt.cases:
                self._run_into(case.body, scope, returns)

    def _run_into(self, body: list[ast.stmt], scope: Scope, returns: list) -> None:
        """A block. After `if c: ... return`, the rest of the block runs only when that branch did not: it is
        recorded as the `if`'s other branch (so `if wide: return A(x)` / `return B(x)` are exclusive)."""
        depth = len(self.path)
        for stmt in body:
            self.exec(stmt, scope, returns)
            if self.dead:
                break  # after a `return`/`raise` (or an `if` all of whose branches return)
            if isinstance(stmt, ast.If):
                body_exits, else_exits = _exits(stmt.body), _exits(stmt.orelse)
                if body_exits != else_exits:
                    self.path.append(("if", id(stmt), 1 if body_exits else 0))
        del self.path[depth:]

    def _exec_for(self, stmt: ast.For, scope: Scope, returns: list) -> None:
        iterable = self.eval(stmt.iter, scope)
        self.path.append(("loop", id(stmt)))
        if isinstance(iterable, ListVal) and 0 < len(iterable.items) <= MAX_UNROLL:
            for item in iterable.items:
                self.assign(stmt.target, item, scope)
                self._run_into(stmt.body, scope, returns)
        else:
            element = _element(iterable)
            for _ in range(2):
                self.assign(stmt.target, element, scope)
                self._run_into(stmt.body, scope, returns)
        self.path.pop()
        self.dead = False  # a `return` inside a loop body is not reached on every path
        self._run_into(stmt.orelse, scope, returns)

    def assign(self, target: ast.expr, value, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.vars[target.id] = value
            self._name_layer(value, target.id, scope, attribute=False)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if isinstance(value, ListVal) and len(value.items) == len(target.elts) else None
            for index, element in enumerate(target.elts):
                inner = element.value if isinstance(element, ast.Starred) else element
                self.assign(inner, items[index] if items is not None else _element(value), scope)
        elif isinstance(target, ast.Attribute):
            base = self.eval(target.value, scope)
            if isinstance(base, Instance):
                base.attrs[target.attr] = value
                if isinstance(target.value, ast.Name) and target.value.id == "self":
                    self._name_layer(value, target.attr, scope, attribute=True, owner=base.klass.name)
        elif isinstance(target, ast.Subscript):
            base = self.eval(target.value, scope)
            key = literal_value(target.slice)
            if isinstance(base, DictVal) and key is not None:
                base.entries[key] = (value, None)
            elif isinstance(base, ListVal):
                base.items.append(value)

    def _name_layer(self, value, name: str, scope: Scope, attribute: bool, owner: str = "") -> None:
        """`self.fc1 = Dense(...)` names the layer `self.fc1` (owned by the class); `fc1 = Dense(...)` names it `fc1`."""
        items = value.items if isinstance(value, ListVal) else [value]
        for index, item in enumerate(items):
            if isinstance(item, LayerObj) and item.node is not None:
                node = item.node
                if getattr(node, "_named", False):
                    continue
                suffix = f"[{index}]" if isinstance(value, ListVal) else ""
                node.path = name + suffix
                node.display_prefix = "self" if attribute else ""
                node.owner = owner or scope.owner
                node._named = True  # type: ignore[attr-defined]

    # ---------------------------------------------------------------------------- expressions

    def eval(self, expr: ast.AST | None, scope: Scope):
        if expr is None:
            return Lit(None)
        kind = type(expr)
        if kind is ast.Constant:
            return Lit(expr.value, expr)
        if kind is ast.Name:
            if scope.has(expr.id):
                return scope.lookup(expr.id)
            q = self.names.of(expr)
            if q and (q.startswith("keras") or q.startswith("tensorflow")):
                return KName(q, expr)
            if expr.id in self.classes:
                return self.classes[expr.id]
            if expr.id in self.function_defs:
                return FuncVal(self.function_defs[expr.id], self.module)
            return UNKNOWN
        if kind is ast.Attribute:
            return self._attribute(expr, scope)
        if kind is ast.Call:
            return self.call(expr, scope)
        if kind in (ast.List, ast.Tuple, ast.Set):
            items = []
            for element in expr.elts:
                if isinstance(element, ast.Starred):
                    inner = self.eval(element.value, scope)
                    items += inner.items if isinstance(inner, ListVal) else [UNKNOWN]
                else:
                    items.append(self.eval(element, scope))
            return ListVal(items)
        if kind is ast.Dict:
            entries = {}
            for key, value in zip(expr.keys, expr.values):
                evaluated = self.eval(value, scope)
                literal = literal_value(key) if key is not None else None
                if literal is not None:
                    entries[literal] = (evaluated, value)
            return DictVal(entries, expr)
        if kind is ast.BinOp:
            return self._binop(expr.op, self.eval(expr.left, scope), self.eval(expr.right, scope), expr)
        if kind is ast.UnaryOp:
            operand = self.eval(expr.operand, scope)
            if isinstance(operand, Lit) and isinstance(operand.value, (int, float)) and isinstance(expr.op, ast.USub):
                return Lit(-operand.value, expr)
            if isinstance(expr.op, ast.Not):
                known = _truth(operand, assumed_ok=True)
                return Lit(not known, None, getattr(operand, "assumed", False)) if known is not None else UNKNOWN
            return operand if isinstance(operand, Tensor) else UNKNOWN
        if kind is ast.IfExp:
            known = _truth(self.eval(expr.test, scope))
            if known is not None:
                return self.eval(expr.body if known else expr.orelse, scope)
            return _merge(self.eval(expr.body, scope), self.eval(expr.orelse, scope))
        if kind is ast.Compare and len(expr.ops) == 1:
            return _compare(expr.ops[0], self.eval(expr.left, scope), self.eval(expr.comparators[0], scope))
        if kind is ast.BoolOp:
            operands = [self.eval(value, scope) for value in expr.values]
            truths = [_truth(value, assumed_ok=True) for value in operands]
            assumed = any(getattr(value, "assumed", False) for value in operands)
            if isinstance(expr.op, ast.And) and (False in truths or None not in truths):
                return Lit(False not in truths, None, assumed)
            if isinstance(expr.op, ast.Or) and (True in truths or None not in truths):
                return Lit(True in truths, None, assumed)
            return UNKNOWN
        if kind is ast.Subscript:
            base = self.eval(expr.value, scope)
            if isinstance(base, Tensor):
                return Tensor(base.flow)
            key = literal_value(expr.slice)
            if isinstance(base, ListVal):
                if isinstance(key, int) and -len(base.items) <= key < len(base.items):
                    return base.items[key]
                if isinstance(expr.slice, ast.Slice):
                    return ListVal(list(base.items))
                return _element(base)
            if isinstance(base, DictVal) and key in base.entries:
                return base.entries[key][0]
            return UNKNOWN
        if kind in (ast.ListComp, ast.GeneratorExp, ast.SetComp):
            return self._comprehension(expr, scope)
        if kind is ast.Lambda:
            return FuncVal(expr, scope)
        if kind is ast.NamedExpr:
            value = self.eval(expr.value, scope)
            self.assign(expr.target, value, scope)
            return value
        if kind is ast.Starred:
            return self.eval(expr.value, scope)
        return UNKNOWN

    def _attribute(self, expr: ast.Attribute, scope: Scope):
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and not scope.has(root.id):
            q = self.names.of(expr)
            if q and (q.startswith("keras") or q.startswith("tensorflow")):
                return KName(q, expr)
        base = self.eval(expr.value, scope)
        if isinstance(base, Instance):
            if expr.attr in base.attrs:
                return base.attrs[expr.attr]
            found = base.klass.method(expr.attr)
            if found is not None:
                return FuncVal(found[0], self.module, bound=base, klass=found[1])
            return UNKNOWN
        if isinstance(base, SuperVal):
            found = base.klass.method(expr.attr, skip_self=True)
            if found is not None:
                return FuncVal(found[0], self.module, bound=base.instance, klass=found[1])
            return UNKNOWN
        if isinstance(base, KName):
            return KName(canonical(f"{base.qualname}.{expr.attr}") or "", expr)
        if isinstance(base, (ListVal, LayerObj, DictVal)):
            return _Method(base, expr.attr)
        return UNKNOWN

    def _binop(self, op: ast.operator, left, right, node: ast.AST):
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            lf, rf = _flow(left), _flow(right)
            if isinstance(op, (ast.Add, ast.Sub)):
                _mark_residual(lf, rf)
                channels = left.channels if isinstance(left, Tensor) else None
                return Tensor(lf | rf, channels)
            if isinstance(op, (ast.Mult, ast.Div)) and (not lf.producers or not rf.producers):
                keep = left if isinstance(left, Tensor) and lf.producers else right
                return Tensor(lf | rf, keep.channels if isinstance(keep, Tensor) else None)
            self.consume(lf | rf, Consumer(C_GATE if isinstance(op, (ast.Mult, ast.Div, ast.MatMult)) else C_UNKNOWN,
                                           line=getattr(node, "lineno", 0)))
            return self.opaque(node)
        if isinstance(left, ListVal) and isinstance(right, ListVal) and isinstance(op, ast.Add):
            return ListVal(left.items + right.items)
        if isinstance(left, Lit) and isinstance(right, Lit):
            a, b = left.value, right.value
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
                    and not isinstance(b, bool):
                try:
                    if isinstance(op, ast.Add):
                        return Lit(a + b)
                    if isinstance(op, ast.Sub):
                        return Lit(a - b)
                    if isinstance(op, ast.Mult):
                        return Lit(a * b)
                    if isinstance(op, ast.Div):
                        return Lit(a / b)
                    if isinstance(op, ast.FloorDiv):
                        return Lit(a // b)
                    if isinstance(op, ast.Pow) and abs(b) <= 8:
                        return Lit(a ** b)
                except (ZeroDivisionError, OverflowError):
                    return UNKNOWN
        return UNKNOWN

    def _comprehension(self, expr, scope: Scope):
        inner = self._scope(scope, scope.owner)
        inner.vars = {}
        items = []
        generator = expr.generators[0]
        iterable = self.eval(generator.iter, scope)
        self.path.append(("loop", id(expr)))
        if isinstance(iterable, ListVal) and 0 < len(iterable.items) <= MAX_UNROLL:
            values = list(iterable.items)
        else:
            values = [_element(iterable)] * 2
        for value in values:
            self.assign(generator.target, value, inner)
            items.append(self.eval(expr.elt, inner))
        self.path.pop()
        return ListVal(items)

    # ---------------------------------------------------------------------------------- calls

    def call(self, node: ast.Call, scope: Scope):
        func = self.eval(node.func, scope)
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                inner = self.eval(arg.value, scope)
                args += inner.items if isinstance(inner, ListVal) else [UNKNOWN]
            else:
                args.append(self.eval(arg, scope))
        kwargs = {}
        for keyword in node.keywords:
            value = self.eval(keyword.value, scope)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
            elif isinstance(value, DictVal):
                for key, (item, _expr) in value.entries.items():
                    if isinstance(key, str):
                        kwargs[key] = item
        return self._invoke(func, args, kwargs, node, scope)

    def _invoke(self, func, args: list, kwargs: dict, node: ast.Call, scope: Scope):
        if isinstance(func, KName):
            return self._call_keras(func.qualname, args, kwargs, node, scope)
        if isinstance(func, FuncVal):
            return self._call_function(func, args, kwargs, node)
        if isinstance(func, KClass):
            instance = self._instantiate(func, args, kwargs, node)
            func.instances.append(instance)
            return instance
        if isinstance(func, (LayerObj, Instance)):
            return self._apply(func, args, kwargs, node)
        if isinstance(func, ActFn):
            flow = _flow(args[0]) if args else EMPTY
            self._consume_activations(flow, func.uses, node.lineno, None)
            return Tensor(self.activated(flow, node), _channels(args[0]) if args else None)
        if isinstance(func, Options):
            results = [self._invoke(option, args, kwargs, node, scope) for option in func.values]
            tensors = [r for r in results if isinstance(r, Tensor)]
            if tensors:
                flow = EMPTY
                for tensor in tensors:
                    flow = flow | tensor.flow
                return Tensor(flow)
            return UNKNOWN
        if isinstance(func, _Method):
            return self._call_method(func, args, kwargs, node)
        if isinstance(func, SuperVal):
            return UNKNOWN
        name = node.func.id if isinstance(node.func, ast.Name) else (
            node.func.attr if isinstance(node.func, ast.Attribute) else "")
        if name == "super":
            instance = scope.lookup("self")
            owner = scope.lookup("__class__")
            if isinstance(instance, Instance) and isinstance(owner, KClass):
                return SuperVal(instance, owner)
            return UNKNOWN
        if name in ("setattr",) and len(args) >= 3 and isinstance(args[0], Instance) and isinstance(args[1], Lit):
            args[0].attrs[str(args[1].value)] = args[2]
            return Lit(None)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "add_weight":
            self._add_weight(kwargs, node)
            return UNKNOWN
        if name in _INSPECTION or (isinstance(node.func, ast.Attribute) and node.func.attr in _INSPECTION):
            return UNKNOWN
        self._consume_unknown(args, kwargs, node)
        return UNKNOWN

    def _consume_unknown(self, args: list, kwargs: dict, node: ast.AST) -> None:
        flow = EMPTY
        for value in list(args) + list(kwargs.values()):
            flow = flow | _flow(value)
        if flow.producers:
            self.consume(flow, Consumer(C_UNKNOWN, line=getattr(node, "lineno", 0)))

    def _default(self, default: ast.expr | None, scope: Scope, assumed: bool):
        if default is None:
            return UNKNOWN
        value = self.eval(default, scope)
        return _assumed(value) if assumed else value

    def _call_function(self, func: FuncVal, args: list, kwargs: dict, node: ast.AST, assumed: bool = False):
        """Inline a call. `assumed`: nobody in this file makes the call (a root), so the defaults are a guess."""
        definition = func.node
        if self.depth >= MAX_DEPTH or definition in self.stack or self.steps > MAX_STEPS:
            self._consume_unknown(args, kwargs, node)
            return UNKNOWN
        self.called_functions.add(id(definition))
        owner = getattr(definition, "name", "") or func.scope.owner
        if owner == "build" and isinstance(func.bound, Instance):
            if func.bound.built:
                return Lit(None)
            func.bound.built = True
        scope = self._scope(func.scope, func.klass.name if func.klass is not None else owner)
        params = definition.args
        positional = params.posonlyargs + params.args
        if func.bound is not None:
            args = [func.bound] + list(args)
            if func.klass is not None:
                scope.vars["__class__"] = func.klass
        defaults = [None] * (len(positional) - len(params.defaults)) + list(params.defaults)
        for index, (arg, default) in enumerate(zip(positional, defaults)):
            if index < len(args):
                scope.vars[arg.arg] = args[index]
            elif arg.arg in kwargs:
                scope.vars[arg.arg] = kwargs[arg.arg]
            else:
                scope.vars[arg.arg] = self._default(default, func.scope, assumed)
        for arg, default in zip(params.kwonlyargs, params.kw_defaults):
            if arg.arg in kwargs:
                scope.vars[arg.arg] = kwargs[arg.arg]
            else:
                scope.vars[arg.arg] = self._default(default, func.scope, assumed)
        if params.vararg:
            scope.vars[params.vararg.arg] = ListVal(list(args[len(positional):]))
        if params.kwarg:
            named = {a.arg for a in positional + params.kwonlyargs}
            scope.vars[params.kwarg.arg] = DictVal({k: (v, None) for k, v in kwargs.items() if k not in named})
        self.path.append(("call", id(node)))
        result = self._run_function_body(definition, scope, node)
        self.path.pop()
        return result

    def _run_function_body(self, definition: ast.AST, scope: Scope, site: ast.AST):
        self.depth += 1
        self.stack.append(definition)
        try:
            if isinstance(definition, ast.Lambda):
                return self.eval(definition.body, scope)
            returns = self._run_body(definition.body, scope)
        finally:
            self.stack.pop()
            self.depth -= 1
            self.dead = False
        if not returns:
            return Lit(None)
        tensors = [r for r in returns if isinstance(r, Tensor)]
        if tensors and len(tensors) == len([r for r in returns if not (isinstance(r, Lit) and r.value is None)]):
            flow = EMPTY
            for tensor in tensors:
                flow = flow | tensor.flow
            channels = {t.channels for t in tensors}
            return Tensor(flow, channels.pop() if len(channels) == 1 else None)
        for value in reversed(returns):
            if not (isinstance(value, Lit) and value.value is None) and value is not UNKNOWN:
                return value
        return returns[-1]

    # ----------------------------------------------------------------------------- subclasses

    def _instantiate(self, klass: KClass, args: list, kwargs: dict, node: ast.AST | None,
                     assumed: bool = False) -> Instance:
        instance = Instance(klass, display=klass.name)
        self.seen_classes.add(klass.name)
        site = node if node is not None else klass.node
        for method_name in ("__init__", "build"):
            found = klass.method(method_name)
            if found is None or (method_name == "build" and instance.built):
                continue  # `build` runs once (Keras guards it with `self.built`), maybe from `__init__` already
            definition, owner = found
            call_args = list(args) if method_name == "__init__" else [UNKNOWN]
            call_kwargs = dict(kwargs) if method_name == "__init__" else {}
            self._call_function(FuncVal(definition, self.module, bound=instance, klass=owner), call_args, call_kwargs,
                                site, assumed)
        return instance

    def _call_instance(self, instance: Instance, args: list, kwargs: dict, node: ast.AST, assumed: bool = False):
        instance.called = True
        found = instance.klass.method("call")
        if found is None:
            if instance.children:
                value = args[0] if args else Tensor()
                for child in instance.children:
                    value = self._apply(child, [value], {}, node)
                return value
            self._consume_unknown(args, kwargs, node)
            return self.opaque(node)
        definition, owner = found
        return self._call_function(FuncVal(definition, self.module, bound=instance, klass=owner), args, kwargs, node,
                                   assumed)

    # --------------------------------------------------------------------------- keras calls

    def _call_keras(self, q: str, args: list, kwargs: dict, node: ast.Call, scope: Scope):
        head, _, last = q.rpartition(".")
        if head == "keras.layers":
            if last in kc.MERGE_FUNCTIONS:
                return self._apply(LayerObj("union" if kc.MERGE_FUNCTIONS[last] in kc.UNION_LAYERS else "gate",
                                            kc.MERGE_FUNCTIONS[last], residual=kc.MERGE_FUNCTIONS[last] in kc.RESIDUAL_LAYERS),
                                   args, kwargs, node)
            if last in kc.INPUT_FUNCTIONS:
                return self.input_tensor(node, _shape_channels(kwargs.get("shape", args[0] if args else None)))
            return self._construct(last, args, kwargs, node)
        if head == "keras.models" and last in kc.SEQUENTIAL_CLASSES:
            return self._sequential(args, kwargs, node)
        if head == "keras.models" and last in kc.MODEL_CLASSES:
            outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
            flow = _flow(outputs)
            self.consume(flow, Consumer(C_OUTPUT, label="model output"))
            return LayerObj("model", last, output=Tensor(flow))
        if head == "keras.initializers":
            if last in ("get", "deserialize"):
                identifier = args[0] if args else kwargs.get("identifier", kwargs.get("config"))
                return self._instance_from(identifier, node)
            spec = kc.INITIALIZERS.get(last)
            if spec is not None:
                return self._initializer_instance(spec, args, kwargs, node, "class")
            return UNKNOWN
        if head == "keras.activations":
            if last in ("get", "deserialize"):
                identifier = args[0] if args else None
                return ActFn(self.activation_uses(identifier, node))
            activation = kc.ACTIVATIONS.get(last)
            if activation is not None:
                use = self._function_use(activation, node, f"activations.{last}", keras_function=True)
                if not args:
                    return ActFn((use,))
                flow = _flow(args[0])
                self._consume_activations(flow, (use,), node.lineno, None)
                return Tensor(self.activated(flow, node), _channels(args[0]))
            return UNKNOWN
        if head == "keras.random" and last == "SeedGenerator":
            return SeedGen(node)
        if head in ("tensorflow", "tensorflow.compat.v1") and last in kc.TF_INITIALIZERS:
            instance = self._initializer_instance(kc.INITIALIZERS[kc.TF_INITIALIZERS[last]], args, kwargs, node,
                                                  "tf-function")
            instance.seed = "tensorflow"  # TF's stateful RNG: a shared instance does not repeat its values
            return instance
        if head in ("keras.ops", "keras.backend") or q.startswith("tensorflow."):
            return self._call_op(q, last, args, kwargs, node)
        self._consume_unknown(args, kwargs, node)
        return UNKNOWN

    def _call_op(self, q: str, last: str, args: list, kwargs: dict, node: ast.Call):
        tf = q.startswith("tensorflow.")
        activation = None
        if tf:
            for prefix in kc.TF_ACTIVATION_MODULES:
                rest = q[len(prefix):] if q.startswith(prefix) else None
                if rest is not None and rest in kc.TF_ACTIVATIONS:
                    activation = kc.TF_ACTIVATIONS[rest]
                    break
        elif last in kc.OPS_ACTIVATIONS:
            activation = kc.ACTIVATIONS[last]
        if activation is not None:
            label = q.replace("tensorflow.", "tf.", 1) if tf else "ops." + last
            use = self._function_use(activation, node, label, keras_function=not tf)
            if not args and not kwargs:
                return ActFn((use,))
            first = args[0] if args else next(iter(kwargs.values()), UNKNOWN)
            flow = _flow(first)
            self._consume_activations(flow, (use,), node.lineno, None)
            return Tensor(self.activated(flow, node), _channels(first))
        if last in _INSPECTION:
            return UNKNOWN
        tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, (Tensor, ListVal))]
        if last in _UNION:
            flows = [_flow(a) for a in tensors]
            if last in _RESIDUAL:
                if len(flows) >= 2:
                    _mark_residual(flows[0], _union(flows[1:]))
                if len(flows) == 1 and isinstance(tensors[0], ListVal):
                    items = [_flow(i) for i in tensors[0].items]
                    if len(items) >= 2:
                        _mark_residual(items[0], _union(items[1:]))
            return Tensor(_union(flows))
        if last in _PASS_THROUGH:
            first = args[0] if args else UNKNOWN
            rest = list(args[1:]) + list(kwargs.values())
            self._consume_unknown(rest, {}, node)
            return Tensor(_flow(first), _channels(first) if last not in ("reshape", "flatten") else None)
        if last in _NORM_FUNCTIONS:
            return Tensor(_flow(args[0] if args else UNKNOWN).normed())
        if last in _GATE:
            flow = _union([_flow(a) for a in tensors])
            if flow.producers:
                self.consume(flow, Consumer(C_GATE, line=node.lineno))
            return self.opaque(node)
        self._consume_unknown(args, kwargs, node)
        return UNKNOWN if not tensors else self.opaque(node)

    def _function_use(self, activation: kc.KerasActivation, node: ast.Call, label: str,
                      keras_function: bool) -> ActivationUse | None:
        if activation.spec is None:
            return None
        slope = activation.slope
        keyword = activation.slope_keyword
        if keras_function and self.names.tf_keras and keyword:
            keyword = kc.TF_KERAS_SLOPE_KEYWORD
        if keyword:
            explicit = None
            for kw in node.keywords:
                if kw.arg == keyword:
                    explicit = kw.value
            if explicit is None and activation.slope_position is not None and len(node.args) > activation.slope_position + 1:
                explicit = node.args[activation.slope_position + 1]
            if explicit is not None:
                value = literal_value(explicit)
                slope = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        return ActivationUse(activation.spec, label, slope, node.lineno)

    # ---------------------------------------------------------------------------- construction

    def _construct(self, cls: str, args: list, kwargs: dict, node: ast.Call):
        spec = kc.layer_spec(cls)
        if spec is not None and spec.kind != tc.PARAM_ACTIVATION:
            return self._weighted(spec, cls, args, kwargs, node)
        if cls == "Activation":
            value = args[0] if args else kwargs.get("activation", UNKNOWN)
            expr = node.args[0] if node.args else _keyword(node, "activation")
            return LayerObj("activation", cls, activations=self.activation_uses(value, expr, layer=True))
        if cls in kc.ACTIVATION_LAYERS:
            return LayerObj("activation", cls, activations=(self._activation_layer(cls, args, kwargs, node),))
        if cls in kc.TRANSPARENT_LAYERS:
            obj = LayerObj("transparent", cls, keeps_channels=cls in kc.CHANNEL_PRESERVING)
            if cls == "Reshape":  # Reshape((7, 7, 256)): the last dimension is the new width
                obj.input_channels = _shape_channels(args[0] if args else kwargs.get("target_shape"))
            return obj
        if cls in kc.PARAMETER_FREE_NORMS:
            return LayerObj("norm", cls)
        if cls in kc.UNION_LAYERS:
            return LayerObj("union", cls, residual=cls in kc.RESIDUAL_LAYERS)
        if cls in kc.GATE_LAYERS:
            return LayerObj("gate", cls)
        if cls in kc.WRAPPERS or cls in kc.SCALE_FREE_WRAPPERS:
            inner = args[0] if args else kwargs.get("layer", UNKNOWN)
            if isinstance(inner, LayerObj):
                inner.nested = True
                if cls in kc.SCALE_FREE_WRAPPERS and inner.node is not None:
                    inner.node.wrapped = "spectral_normalization"
                    if inner.node in self.result.nodes:
                        self.result.nodes.remove(inner.node)
            return LayerObj("wrapper", cls, inner=inner)
        if cls == "Lambda":
            function = args[0] if args else kwargs.get("function", UNKNOWN)
            if isinstance(function, ActFn):
                return LayerObj("activation", cls, activations=function.uses)
            return LayerObj("lambda", cls, inner=function)
        if cls == "InputLayer":
            return LayerObj("transparent", cls)
        self._consume_unknown(args, kwargs, node)
        return LayerObj("unknown", cls)

    def _bind(self, spec: kc.KerasLayerSpec, args: list, kwargs: dict, node: ast.Call) -> tuple[dict, dict]:
        """Constructor arguments by name: their values and their expressions."""
        values, exprs = dict(kwargs), {}
        for index, value in enumerate(args):
            if index < len(spec.signature):
                values.setdefault(spec.signature[index], value)
        for index, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                break
            if index < len(spec.signature):
                exprs[spec.signature[index]] = arg
        for keyword in node.keywords:
            if keyword.arg is not None:
                exprs[keyword.arg] = keyword.value
        return values, exprs

    def _weighted(self, spec: kc.KerasLayerSpec, cls: str, args: list, kwargs: dict, node: ast.Call) -> LayerObj:
        values, exprs = self._bind(spec, args, kwargs, node)
        flags: dict[str, object] = {}
        wanted = {flag for param in spec.params for flag, _ in param.present_if} | {k for k, _ in spec.flags} \
            | _SHAPE_FLAGS
        for name, value in values.items():
            if name in wanted and isinstance(value, Lit) and isinstance(value.value, (bool, int, float, str)):
                flags[name] = value.value
        if "bias_axes" in spec.signature:
            bias_axes = values.get("bias_axes")
            flags["bias_axes"] = None if bias_axes is not None and not isinstance(bias_axes, Lit) else bool(
                bias_axes is not None and bias_axes.value)
        for flag in ("use_bias", "center", "scale"):
            if flag in values and not (isinstance(values[flag], Lit) and isinstance(values[flag].value, bool)):
                flags[flag] = None  # depends on a variable
        channels = values.get(spec.channels_arg) if spec.channels_arg else None
        if isinstance(channels, Lit) and isinstance(channels.value, int):
            flags["out_features" if spec.kind == tc.LINEAR else "out_channels"] = channels.value
        if spec.spatial_dims:
            kernel = values.get("kernel_size")
            if isinstance(kernel, Lit) and isinstance(kernel.value, int):
                flags["kernel_size"] = kernel.value
            groups = values.get("groups")
            flags["groups"] = groups.value if isinstance(groups, Lit) and isinstance(groups.value, int) else (
                1 if groups is None else None)
        keras_node = KerasNode(LAYER, cls, _describe_constructor(node, values), node, display_prefix="", spec=spec,
                               flags=flags, args=exprs, constructor=node)
        keras_node.owner = self._owner()
        activations: tuple = ()
        if spec.has_activation_arg and spec.kind not in (tc.RECURRENT, tc.RECURRENT_CELL):
            if "activation" in values:
                activations = self.activation_uses(values["activation"], exprs.get("activation"))
            elif spec.activation_default is not None:
                activations = self.activation_uses(Lit(spec.activation_default), None)
        for item in spec.initializer_args:
            if item.arg not in values:
                continue
            value = values[item.arg]
            if isinstance(value, Lit) and value.value is None:
                continue  # None: the layer's default
            self._init_event(keras_node, item.param, value, exprs.get(item.arg))
        input_channels = None
        for key in ("input_shape", "batch_input_shape"):
            if key in values:
                input_channels = _shape_channels(values[key])
        if "input_dim" in values and isinstance(values["input_dim"], Lit) and isinstance(values["input_dim"].value, int):
            input_channels = values["input_dim"].value
        self.result.nodes.append(keras_node)
        self.result.nodes_by_constructor.setdefault(id(node), []).append(keras_node)
        return LayerObj("weighted", cls, node=keras_node, activations=activations, input_channels=input_channels)

    def _owner(self) -> str:
        for definition in reversed(self.stack):
            name = getattr(definition, "name", None)
            if name:
                return name
        return ""

    def _activation_layer(self, cls: str, args: list, kwargs: dict, node: ast.Call) -> ActivationUse | None:
        layer = kc.ACTIVATION_LAYERS[cls]
        spec = tc.ACTIVATIONS_BY_NAME[layer.activation]
        slope = layer.default_slope
        keyword = kc.TF_KERAS_ACTIVATION_LAYER_SLOPE.get(cls) if self.names.tf_keras else layer.slope_keyword
        value = None
        if keyword and keyword in kwargs:
            value = kwargs[keyword]
        elif layer.legacy_slope_keyword and layer.legacy_slope_keyword in kwargs:
            value = kwargs[layer.legacy_slope_keyword]
        elif layer.slope_position is not None and len(args) > layer.slope_position:
            value = args[layer.slope_position]
        if layer.slope_initializer:
            init = kwargs.get(layer.slope_initializer, args[0] if args else None)
            if init is not None:
                value = self._constant_of(init)
        if value is not None:
            slope = float(value.value) if isinstance(value, Lit) and isinstance(value.value, (int, float)) \
                and not isinstance(value.value, bool) else None
        if layer.activation == "relu" and slope:
            spec = tc.ACTIVATIONS_BY_NAME["leaky_relu"]
        return ActivationUse(spec, f"{cls}()" if not node.args and not node.keywords else f"{cls}(...)", slope,
                             node.lineno)

    def _constant_of(self, value):
        """The value a Constant/Zeros/Ones initializer (or its string) writes, as a Lit, or None."""
        if isinstance(value, Lit) and isinstance(value.value, str):
            spec = self._alias(value.value)
            if spec is not None and spec.constant_value is not None:
                return Lit(spec.constant_value)
            return Lit(None)
        if isinstance(value, InitInstance) and value.op is not None:
            spec = value.op.spec
            if spec is not None and spec.constant_value is not None:
                return Lit(spec.constant_value)
            if spec is not None and spec.class_name == "Constant":
                literal = value.op.literal("value")
                return Lit(literal)
        return Lit(None)

    def _sequential(self, args: list, kwargs: dict, node: ast.Call) -> LayerObj:
        items = args[0] if args else kwargs.get("layers")
        children = []
        input_channels = None
        if isinstance(items, ListVal):
            for item in items.items:
                if isinstance(item, Tensor) and not children:
                    input_channels = item.channels
                    continue
                children.append(item)
                if isinstance(item, (LayerObj,)):
                    item.nested = True
        sequential = LayerObj("sequential", "Sequential", children=children)
        sequential.input_channels = input_channels
        self.sequentials.append(sequential)
        return sequential

    def _call_method(self, method: "_Method", args: list, kwargs: dict, node: ast.Call):
        base, name = method.base, method.name
        if isinstance(base, ListVal):
            if name in ("append", "insert") and args:
                base.items.append(args[-1])
            elif name == "extend" and args and isinstance(args[0], ListVal):
                base.items.extend(args[0].items)
            return Lit(None)
        if isinstance(base, LayerObj):
            if base.kind == "sequential" and name == "add" and args:
                base.children.append(args[0])
                if isinstance(args[0], LayerObj):
                    args[0].nested = True
                return Lit(None)
            if name in ("__call__", "call") and args:
                return self._apply(base, args, kwargs, node)
            return UNKNOWN
        if isinstance(base, DictVal):
            if name == "get" and args and isinstance(args[0], Lit) and args[0].value in base.entries:
                return base.entries[args[0].value][0]
            return UNKNOWN
        return UNKNOWN

    # ------------------------------------------------------------------------------ applying

    def _apply(self, obj, args: list, kwargs: dict, node: ast.AST | None):
        line = getattr(node, "lineno", 0)
        value = args[0] if args else kwargs.get("inputs", UNKNOWN)
        if isinstance(obj, Instance):
            return self._call_instance(obj, args, kwargs, node)
        if not isinstance(obj, LayerObj):
            self._consume_unknown(args, kwargs, node)
            return self.opaque(node)
        obj.called = True
        flow = _flow(value)
        channels = _channels(value)
        kind = obj.kind
        if kind == "weighted":
            layer = obj.node
            spec = layer.spec
            if channels is None and obj.input_channels is not None:
                channels = obj.input_channels
            self._set_input_channels(layer, channels)
            if spec.kind == tc.NORM:
                return Tensor(flow.normed() | Flow(frozenset({(layer, False)})), channels)
            if spec.kind == tc.EMBEDDING:
                return Tensor(Flow(frozenset({(layer, False)})), layer.flags.get("out_channels"))
            if spec.kind == tc.ATTENTION:
                self._consume_unknown(args, kwargs, node)
                return self.opaque(node)
            if flow.producers:
                self.consume(flow, Consumer(C_LAYER, line=line, label=layer_key(layer)))
            self._consume_unknown(args[1:], {k: v for k, v in kwargs.items() if k != "inputs"}, node)
            out_channels = layer.flags.get("out_features" if spec.kind == tc.LINEAR else "out_channels")
            produced = Flow(frozenset({(layer, False)}))
            if obj.activations:
                self._consume_activations(produced, obj.activations, line, None)
                return Tensor(self.activated(produced, node or layer.node), out_channels)
            return Tensor(produced, out_channels)
        if kind == "activation":
            self._consume_activations(flow, obj.activations, line, None)
            return Tensor(self.activated(flow, node), channels)
        if kind == "transparent":
            return Tensor(flow, channels if obj.keeps_channels else obj.input_channels)
        if kind == "norm":
            return Tensor(flow.normed(), channels)
        if kind in ("union", "gate"):
            items = value.items if isinstance(value, ListVal) else list(args)
            flows = [_flow(item) for item in items]
            if kind == "gate":
                union = _union(flows)
                if union.producers:
                    self.consume(union, Consumer(C_GATE, line=line))
                return self.opaque(node)
            if obj.residual and len(flows) >= 2:
                _mark_residual(flows[0], _union(flows[1:]))
            widths = [_channels(item) for item in items]
            width = None
            if widths and all(isinstance(w, int) for w in widths):
                width = sum(widths) if obj.cls == "Concatenate" else (widths[0] if len(set(widths)) == 1 else None)
            return Tensor(_union(flows), width)
        if kind == "sequential":
            current = value if isinstance(value, Tensor) else Tensor(flow, channels)
            if current.channels is None and obj.input_channels is not None:
                current = Tensor(current.flow, obj.input_channels)
            for child in obj.children:
                current = self._apply(child, [current], {}, getattr(child, "node", None) and child.node.node or node)
                if not isinstance(current, Tensor):
                    current = Tensor()
            return current
        if kind == "model":
            if flow.producers:
                self.consume(flow, Consumer(C_UNKNOWN, line=line))
            return obj.output or Tensor()
        if kind == "wrapper":
            return self._apply(obj.inner, args, kwargs, node)
        if kind == "lambda":
            if isinstance(obj.inner, (FuncVal, ActFn)):
                return self._invoke(obj.inner, args, kwargs, node, self.module) if node is not None else Tensor()
        self._consume_unknown(args, kwargs, node)
        return self.opaque(node)

    def _set_input_channels(self, layer: KerasNode, channels: int | None) -> None:
        spec = layer.spec
        if not isinstance(channels, int):
            return
        if spec.kind == tc.LINEAR and "in_features" not in layer.flags:
            layer.flags["in_features"] = channels
        elif spec.kind in (tc.CONV, tc.CONV_TRANSPOSE) and "in_channels" not in layer.flags:
            layer.flags["in_channels"] = channels
            if spec.depthwise:
                layer.flags["groups"] = channels
                multiplier = layer.flags.get("depth_multiplier", 1)
                if isinstance(multiplier, int):
                    layer.flags["out_channels"] = channels * multiplier

    # --------------------------------------------------------------------------- activations

    def activation_uses(self, value, expr: ast.AST | None, layer: bool = False) -> tuple:
        """What an `activation=` value means: () for linear, (None,) when unknown, else the ActivationUses."""
        if isinstance(value, Options):
            out: tuple = ()
            for option in value.values:
                uses = self.activation_uses(option, expr, layer)
                out += uses if uses else (None,)  # a linear option: the output also flows on unchanged
            return out
        if isinstance(value, Lit):
            if value.value is None:
                return ()
            if isinstance(value.value, str):
                activation = self._activation_string(value.value)
                if activation is None:
                    return (None,)
                if activation.spec is None:
                    return ()
                label = f"activation={value.value!r}" if not layer else f"Activation({value.value!r})"
                return (ActivationUse(activation.spec, label, activation.slope, getattr(expr or value.node, "lineno", 0)),)
            return (None,)
        if isinstance(value, ActFn):
            return tuple(value.uses)
        if isinstance(value, KName):
            q = value.qualname
            head, _, last = q.rpartition(".")
            activation = None
            label = q.replace("keras.", "", 1)
            if head == "keras.activations" or head == "keras.ops":
                activation = kc.ACTIVATIONS.get(last)
            elif q.startswith("tensorflow."):
                for prefix in kc.TF_ACTIVATION_MODULES:
                    rest = q[len(prefix):] if q.startswith(prefix) else None
                    if rest is not None and rest in kc.TF_ACTIVATIONS:
                        activation = kc.TF_ACTIVATIONS[rest]
                        label = "tf." + q[len("tensorflow."):]
                        break
            if activation is None:
                return (None,)
            if activation.spec is None:
                return ()
            return (ActivationUse(activation.spec, label, activation.slope, getattr(value.node, "lineno", 0)),)
        if isinstance(value, LayerObj) and value.kind == "activation":
            return tuple(value.activations)
        return (None,)

    def _activation_string(self, name: str) -> kc.KerasActivation | None:
        activation = kc.ACTIVATIONS.get(name)
        if activation is None or (self.names.tf_keras and not activation.in_tf_keras):
            return None
        return activation

    def _consume_activations(self, flow: Flow, uses: tuple, line: int, label: str | None) -> None:
        if not flow.producers:
            return
        if not uses:
            return
        for use in uses:
            if use is None:
                self.consume(flow, Consumer(C_UNKNOWN, line=line))
            else:
                self.consume(flow, Consumer(C_ACTIVATION, use, line=use.line or line, label=label or use.label))

    def opaque(self, site: ast.AST | None) -> Tensor:
        """The result of something not followed (a gate, an unknown op or layer): a tensor all the same, so a later
        `x + branch(x)` on it is still seen as a residual sum."""
        return Tensor(Flow(frozenset({(ModuleNode("opaque", "", "<opaque>", site), False)})))

    def input_tensor(self, site: ast.AST, channels: int | None = None) -> Tensor:
        """A model input: a producer of its own, so `x + branch(x)` is seen as a residual sum."""
        return Tensor(Flow(frozenset({(ModuleNode("input", "Input", "<input>", site), False)})), channels)

    def activated(self, flow: Flow, site: ast.AST | None) -> Flow:
        if not flow.producers:
            return EMPTY
        node = ModuleNode("activation-output", "", "", site)
        node.sources = [producer for producer, _ in flow.producers]  # type: ignore[attr-defined]
        self.activation_outputs.append(node)
        return Flow(frozenset({(node, False)}))

    def _mark_heads(self) -> None:
        for node in self.activation_outputs:
            if any(c.kind == C_GATE for c in node.consumers):
                stack = list(node.sources)  # type: ignore[attr-defined]
                while stack:
                    source = stack.pop()
                    if source.kind == "activation-output":
                        continue
                    source.feeds_gate = True
                continue
            if node.consumers and all(c.kind == C_OUTPUT for c in node.consumers):
                stack = list(node.sources)  # type: ignore[attr-defined]
                seen: set[int] = set()
                while stack:
                    source = stack.pop()
                    if id(source) in seen:
                        continue
                    seen.add(id(source))
                    if source.kind == "activation-output":
                        stack.extend(source.sources)  # type: ignore[attr-defined]
                    else:
                        source.head_via_activation = True

    def consume(self, flow: Flow, consumer: Consumer) -> None:
        for node, via_norm in flow.producers:
            here = consumer
            if via_norm and not consumer.via_norm:
                here = Consumer(consumer.kind, consumer.activation, True, consumer.line, consumer.label)
            if here not in node.consumers:
                node.consumers.append(here)

    # --------------------------------------------------------------------------- initializers

    def _alias(self, name: str) -> kc.KerasInitializerSpec | None:
        table = kc.TF_KERAS_INITIALIZER_ALIASES if self.names.tf_keras else kc.INITIALIZER_ALIASES
        spec = table.get(name)
        if spec is None or (spec.get_error and not (self.names.tf_keras and name in kc.TF_KERAS_GET_OK)):
            return None
        return spec

    def _op(self, key: ast.AST, build) -> KerasInitOp | None:
        if id(key) not in self.ops:
            self.ops[id(key)] = build()
        return self.ops[id(key)]

    def _string_op(self, value: Lit, spec: kc.KerasInitializerSpec) -> KerasInitOp | None:
        node = value.node
        if node is None:
            return None
        return self._op(node, lambda: KerasInitOp(node, spec.name, spec.family, {}, None, spec=spec,
                                                  label=repr(value.value), style="string",
                                                  tf_keras=self.names.tf_keras))

    def _class_op(self, spec: kc.KerasInitializerSpec, node: ast.AST, style: str, args: dict) -> KerasInitOp:
        def build() -> KerasInitOp:
            family = spec.family
            if spec.variance_scaling is not None and spec.class_name == "VarianceScaling":
                scale = literal_value(args["scale"]) if "scale" in args else spec.default("scale")
                mode = literal_value(args["mode"]) if "mode" in args else spec.default("mode")
                family = kc.variance_scaling_family(scale, mode)
            full = dict(args)
            for keras_name, torch_name in kc.TORCH_ARGUMENT_NAMES.items():
                if keras_name in args:
                    full[torch_name] = args[keras_name]
            if style == "dict":
                label = f"{{'class_name': {spec.class_name!r}, ...}}"
                class_expr = getattr(node, "_class_name_expr", None)
            else:
                label = _segment(self.model, node)
                class_expr = node.func if isinstance(node, ast.Call) else node
            return KerasInitOp(node, spec.name, family, full, None, spec=spec, label=label, style=style,
                               class_expr=class_expr, tf_keras=self.names.tf_keras)
        return self._op(node, build)

    def _initializer_instance(self, spec: kc.KerasInitializerSpec, args: list, kwargs: dict, node: ast.Call,
                              style: str) -> InitInstance:
        exprs: dict[str, ast.expr] = {}
        for index, arg in enumerate(node.args):
            if index < len(spec.params) and not isinstance(arg, ast.Starred):
                exprs[spec.params[index]] = arg
        for keyword in node.keywords:
            if keyword.arg is not None:
                exprs[keyword.arg] = keyword.value
        seed_value = kwargs.get("seed")
        if seed_value is None and "seed" in spec.params and spec.params.index("seed") < len(args):
            seed_value = args[spec.params.index("seed")]
        op = self._class_op(spec, node, style, exprs)
        instance = InitInstance(op, _seed_kind(seed_value), node)
        self.result.instances.append(instance)
        return instance

    def _instance_from(self, identifier, node: ast.Call):
        """`initializers.get(x)`: a new instance for a string or a config dict, `x` itself for an instance."""
        if isinstance(identifier, InitInstance):
            return identifier
        op = self._op_for(identifier)
        if op is None:
            return UNKNOWN
        instance = InitInstance(op, "none", node)
        self.result.instances.append(instance)
        return instance

    def _op_for(self, value) -> KerasInitOp | None:
        """The init op an `*_initializer=` value means, or None when it cannot be resolved statically."""
        if isinstance(value, Lit) and isinstance(value.value, str):
            spec = self._alias(value.value)
            return self._string_op(value, spec) if spec is not None else None
        if isinstance(value, InitInstance):
            return value.op
        if isinstance(value, KName):
            head, _, last = value.qualname.rpartition(".")
            spec = kc.INITIALIZERS.get(last) if head == "keras.initializers" else None
            if spec is not None and value.node is not None:
                return self._class_op(spec, value.node, "class-ref", {})
            return None
        if isinstance(value, DictVal):
            name = value.entries.get("class_name")
            config = value.entries.get("config")
            if name is None or not isinstance(name[0], Lit) or not isinstance(name[0].value, str):
                return None
            spec = self._alias(name[0].value)
            if spec is None or value.node is None:
                return None
            args = {}
            if config is not None and isinstance(config[0], DictVal):
                for key, (_item, expr) in config[0].entries.items():
                    if isinstance(key, str) and expr is not None:
                        args[key] = expr
            elif config is not None:
                return None
            value.node._class_name_expr = name[0].node  # type: ignore[attr-defined]
            return self._class_op(spec, value.node, "dict", args)
        return None

    def _init_event(self, layer: KerasNode, param: str, value, expr: ast.AST | None) -> None:
        op = self._op_for(value)
        if op is None:
            layer.events.append(InitEvent(None, param, "keras-unknown", conditional=True, report_node=expr))
            return
        layer.events.append(InitEvent(op, param, "keras", report_node=expr))
        if isinstance(value, InitInstance):
            value.uses.append((layer, param, expr, tuple(self.path)))

    def _add_weight(self, kwargs: dict, node: ast.Call) -> None:
        value = kwargs.get("initializer")
        if isinstance(value, InitInstance):
            value.uses.append((None, "add_weight", _keyword(node, "initializer"), tuple(self.path)))

    # ------------------------------------------------------------------------------ strings

    def _check_strings(self) -> None:
        """Every string Keras would reject, in every Keras call of the file (whether or not it builds a model).

        A string may name a custom object registered elsewhere: one that is not a near miss of a Keras name is
        left alone, and in a file that registers custom objects only certain respellings are reported. Calls
        inside `assertRaises`/`pytest.raises` are meant to fail."""
        text = self.model.source.text
        self.custom_objects = any(word in text for word in _CUSTOM_OBJECT_WORDS)
        for call in self.model.calls:
            before = len(self.result.issues)
            self._check_call(call)
            if len(self.result.issues) > before and self._expects_error(call):
                del self.result.issues[before:]

    def _check_call(self, call: ast.Call) -> None:
        q = self.names.of(call.func)
        method = call.func.attr if isinstance(call.func, ast.Attribute) else None
        if q is None and method != "add_weight":
            return
        head, _, last = (q or "").rpartition(".")
        if method == "add_weight" and not (q or "").startswith("keras"):
            self._check_initializer(_keyword(call, "initializer"))
            return
        if head == "keras.layers":
            spec = kc.layer_spec(last)
            signature = spec.signature if spec is not None else ()
            for index, arg in enumerate(call.args):
                if isinstance(arg, ast.Starred) or index >= len(signature):
                    break
                self._check_argument(signature[index], arg)
            for keyword in call.keywords:
                if keyword.arg is not None:
                    self._check_argument(keyword.arg, keyword.value)
            if last == "Activation" and call.args:
                self._check_activation(call.args[0])
        elif head == "keras.initializers":
            if last in ("get", "deserialize") and call.args:
                self._check_initializer(call.args[0])
            elif last == "VarianceScaling":
                self._check_variance_scaling(call)
        elif head == "keras.activations" and last in ("get", "deserialize") and call.args:
            self._check_activation(call.args[0])

    def _expects_error(self, node: ast.AST) -> bool:
        current = self.model.parents.get(node)
        while current is not None:
            if isinstance(current, (ast.With, ast.AsyncWith)):
                for item in current.items:
                    call = item.context_expr
                    func = call.func if isinstance(call, ast.Call) else None
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name in ("assertRaises", "assertRaisesRegex", "raises"):
                        return True
            current = self.model.parents.get(current)
        return False

    def _report_unknown(self, expr: ast.expr, message: str, fixed: str | None, suggestion: str) -> None:
        if fixed is None and (not suggestion or self.custom_objects):
            return  # maybe a registered custom object
        self.result.issues.append(StringIssue(expr, message + (f"; use {fixed!r}" if fixed else suggestion), fixed))

    def _check_argument(self, name: str, expr: ast.expr) -> None:
        if name.endswith("_initializer"):
            self._check_initializer(expr)
        elif name in ("activation", "recurrent_activation"):
            self._check_activation(expr)

    def _check_initializer(self, expr: ast.expr | None) -> None:
        if isinstance(expr, ast.Dict):
            for key, value in zip(expr.keys, expr.values):
                if literal_value(key) == "class_name":
                    self._check_initializer(value)
            return
        if not isinstance(expr, ast.Constant) or not isinstance(expr.value, str):
            return
        name = expr.value
        table = kc.TF_KERAS_INITIALIZER_ALIASES if self.names.tf_keras else kc.INITIALIZER_ALIASES
        spec = table.get(name)
        if spec is not None:
            if spec.get_error and not (self.names.tf_keras and name in kc.TF_KERAS_GET_OK):
                hint = (f"; use `initializers.{spec.class_name}(value)`" if spec.class_name == "Constant" else "")
                self.result.issues.append(StringIssue(expr, f"initializer {name!r} raises {spec.get_error} when the "
                                                            f"layer is built{hint}"))
            return
        fixed = _respelled(name, table)
        self._report_unknown(expr, f"initializer {name!r} is not a Keras identifier (ValueError: Could not interpret "
                                   f"initializer identifier: {name})", fixed, _suggest(name, table, _INITIALIZER_HINTS))

    def _check_activation(self, expr: ast.expr | None) -> None:
        if not isinstance(expr, ast.Constant) or not isinstance(expr.value, str):
            return
        name = expr.value
        if self._activation_string(name) is not None:
            return
        accepted = {a for a, spec in kc.ACTIVATIONS.items() if spec.in_tf_keras or not self.names.tf_keras}
        fixed = _respelled(name, accepted)
        where = "tf-keras" if self.names.tf_keras and name in kc.ACTIVATIONS else "Keras"
        suggestion = " (new in Keras 3)" if where == "tf-keras" else _suggest(name, accepted, _ACTIVATION_HINTS)
        self._report_unknown(expr, f"activation {name!r} is not a {where} activation (ValueError: Could not interpret "
                                   f"activation function identifier: {name})", fixed, suggestion)

    def _check_variance_scaling(self, call: ast.Call) -> None:
        params = kc.INITIALIZERS["VarianceScaling"].params
        bound = {params[i]: a for i, a in enumerate(call.args) if i < len(params) and not isinstance(a, ast.Starred)}
        bound.update({k.arg: k.value for k in call.keywords if k.arg})
        scale = literal_value(bound.get("scale"))
        if isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale <= 0:
            self.result.issues.append(StringIssue(bound["scale"], f"VarianceScaling scale={scale!r} raises ValueError: "
                                                                  "Argument `scale` must be positive float"))
        mode = literal_value(bound.get("mode"))
        if isinstance(mode, str) and mode.lower() not in kc.VARIANCE_SCALING_MODES:
            fixed = mode.lower().strip() if mode.lower().strip() in kc.VARIANCE_SCALING_MODES else None
            self.result.issues.append(StringIssue(bound["mode"], f"VarianceScaling mode={mode!r} raises ValueError: use "
                                                                 "'fan_in', 'fan_out' or 'fan_avg'", fixed))
        distribution = literal_value(bound.get("distribution"))
        if isinstance(distribution, str) and distribution.lower() not in kc.VARIANCE_SCALING_DISTRIBUTIONS:
            self.result.issues.append(StringIssue(bound["distribution"], f"VarianceScaling distribution="
                                                                         f"{distribution!r} raises ValueError: use "
                                                                         "'truncated_normal', 'untruncated_normal' or "
                                                                         "'uniform'"))


@dataclass(eq=False)
class _Method:
    base: object
    name: str


_CUSTOM_OBJECT_WORDS = kc.CUSTOM_OBJECT_WORDS
_INITIALIZER_HINTS = kc.INITIALIZER_HINTS
_ACTIVATION_HINTS = kc.ACTIVATION_HINTS


def _respelled(name: str, accepted) -> str | None:
    """The accepted identifier `name` means when it differs only by case, `-`/space for `_`, or stray spaces."""
    candidate = name.strip().lower().replace("-", "_").replace(" ", "_")
    if candidate != name and candidate in accepted:
        return candidate
    return None


def _suggest(name: str, accepted, hints: dict) -> str:
    import difflib

    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    hint = hints.get(key) or hints.get(key.replace("_", ""))
    if hint is None:
        close = difflib.get_close_matches(key, sorted(a for a in accepted if a.islower()), n=1)
        hint = close[0] if close else None
    return f" (did you mean {hint!r}?)" if hint else ""


def _assumed(value):
    return Lit(value.value, value.node, True) if isinstance(value, Lit) else value


def _truth(value, assumed_ok: bool = False) -> bool | None:
    """Whether a condition is statically true or false (a literal the code passed, not an assumed default)."""
    if isinstance(value, Lit) and (assumed_ok or not value.assumed):
        try:
            return bool(value.value)
        except Exception:  # pragma: no cover - literals always have a truth value
            return None
    if isinstance(value, (Tensor, LayerObj, InitInstance, Instance)) and not assumed_ok:
        return None  # a tensor's truth is an error or data-dependent: no branch is decided by it
    return None


def _compare(op: ast.cmpop, left, right):
    if isinstance(op, (ast.Is, ast.IsNot)) and (isinstance(right, Lit) and right.value is None):
        if isinstance(left, Lit):
            same = left.value is None
            return Lit(same if isinstance(op, ast.Is) else not same, None, left.assumed)
        if isinstance(left, (Tensor, LayerObj, InitInstance, Instance, ListVal, DictVal, FuncVal, KClass)):
            return Lit(not isinstance(op, ast.Is))
        return UNKNOWN
    if isinstance(left, Lit) and isinstance(right, Lit) and isinstance(op, (ast.Eq, ast.NotEq)):
        equal = left.value == right.value
        return Lit(equal if isinstance(op, ast.Eq) else not equal, None, left.assumed or right.assumed)
    return UNKNOWN


def _exits(body: list[ast.stmt]) -> bool:
    """The block always leaves the function (or raises) at its end."""
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise))


def _names(tree: ast.AST):
    """Every `Name` read in the tree (a faster walk than `ast.walk`)."""
    stack = [tree]
    AST = ast.AST
    while stack:
        node = stack.pop()
        if type(node) is ast.Name:
            if type(node.ctx) is ast.Load:
                yield node
            continue
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(item for item in value if isinstance(item, AST))
            elif isinstance(value, AST):
                stack.append(value)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _seed_kind(value) -> str:
    if value is None or (isinstance(value, Lit) and value.value is None):
        return "none"
    if isinstance(value, Lit) and isinstance(value.value, int):
        return "int"
    if isinstance(value, SeedGen):
        return "generator"
    return "unknown"


def _segment(model, node: ast.AST) -> str:
    try:
        text = ast.get_source_segment(model.source.text, node) or ast.unparse(node)
    except Exception:  # pragma: no cover - positions always exist for parsed code
        text = ast.unparse(node)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _describe_constructor(node: ast.Call, values: dict) -> str:
    """A layer's display name: its `name=` when it is a literal, else `Dense(64)` from the call."""
    name = values.get("name")
    if isinstance(name, Lit) and isinstance(name.value, str):
        return name.value
    func = node.func
    callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "layer")
    first = ast.unparse(node.args[0]) if node.args else ""
    if len(first) > 20:
        first = "..."
    return f"{callee}({first})"


def _flow(value) -> Flow:
    if isinstance(value, Tensor):
        return value.flow
    if isinstance(value, ListVal):
        return _union([_flow(item) for item in value.items])
    if isinstance(value, DictVal):
        return _union([_flow(item) for item, _ in value.entries.values()])
    if isinstance(value, Options):
        return _union([_flow(item) for item in value.values])
    return EMPTY


def _channels(value) -> int | None:
    return value.channels if isinstance(value, Tensor) else None


def _union(flows: list) -> Flow:
    out = EMPTY
    for flow in flows:
        out = out | flow
    return out


def _mark_residual(left: Flow, right: Flow) -> None:
    if left.producers and right.producers:
        for node, _ in left.producers | right.producers:
            node.in_residual = True


def _element(value):
    """One element of an iterable value (a loop variable)."""
    if isinstance(value, ListVal) and value.items:
        merged = value.items[0]
        for item in value.items[1:]:
            merged = _merge(merged, item)
        return merged
    if isinstance(value, Tensor):
        return value
    return UNKNOWN


def _merge(a, b):
    """The value of a name after two branches."""
    if a is None:
        return b
    if b is None or a is b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return Tensor(a.flow | b.flow, a.channels if a.channels == b.channels else None)
    if isinstance(a, Lit) and isinstance(b, Lit) and a.value == b.value:
        return a
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    values = (a.values if isinstance(a, Options) else (a,)) + (b.values if isinstance(b, Options) else (b,))
    return Options(values[:8])


def _shape_channels(value) -> int | None:
    if isinstance(value, ListVal) and value.items:
        last = value.items[-1]
        if isinstance(last, Lit) and isinstance(last.value, int) and not isinstance(last.value, bool):
            return last.value
    return None


def build_keras(model: "FileModel") -> KerasModel:
    builder = KerasBuilder(model)
    try:
        return builder.build()
    finally:
        builder.release()
