"""Walk constructors and init code in execution order: which modules exist, and which init reaches each parameter.

One interpreter serves `__init__` bodies, `reset_parameters` overrides, functions passed to `apply`, loops over
`modules()` / `named_parameters()`, init helpers and script code (`model = Net(); model.apply(fn)`). It is a
small abstract interpreter over `ast`: it binds names to module nodes, parameters and strings, evaluates the
conditions init code dispatches on (`isinstance`, class names, `hasattr`, `is not None`, `'bias' in name`,
`p.dim() > 1`) for each concrete module, and records an InitEvent per parameter written.
"""

from __future__ import annotations

import ast
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from initlint.catalog import torch as catalog
from initlint.model.entities import (
    ACTIVATION, BLOCK, CONTAINER, LAYER, TRANSPARENT, UNKNOWN, ActivationUse, ClassModel, Dispatch, InitEvent,
    InitOp, ModuleNode, literal_value,
)
from initlint.model.initops import parse_init_call, split_param_target, strip_data
from initlint.model.names import torch_nn_name
from initlint.model.syntax import walk

if TYPE_CHECKING:
    from initlint.model.semantic import FileModel

MAX_DEPTH = 6
# Statements of other project files one analysis may run. Past it, no further call into another file is entered
# (a call not entered counts as an unseen write, so nothing is concluded from it); deterministic, unlike a clock.
FOREIGN_STEP_BUDGET = 20_000
MAX_CHILDREN = 64
WRAPPERS = {
    "torch.nn.utils.weight_norm": "weight_norm",
    "torch.nn.utils.parametrizations.weight_norm": "parametrizations.weight_norm",
    "torch.nn.utils.spectral_norm": "spectral_norm",
    "torch.nn.utils.parametrizations.spectral_norm": "parametrizations.spectral_norm",
}
MODULE_ITERATORS = ("modules", "children", "named_modules", "named_children")
PARAM_ITERATORS = ("parameters", "named_parameters")
SELF_CHAIN_METHODS = ("to", "cuda", "cpu", "double", "float", "half", "train", "eval", "requires_grad_", "bfloat16")


# ------------------------------------------------------------------------------------------- values

@dataclass(eq=False)
class ParamRef:
    node: ModuleNode
    param: str


@dataclass(eq=False)
class StrVal:
    value: str


@dataclass(eq=False)
class ClassRef:
    """A module class as a value (`act_layer=nn.GELU`, `partial(nn.LayerNorm, eps=1e-6)`)."""

    name: str
    local: ClassModel | None = None
    keywords: tuple[ast.keyword, ...] = ()


@dataclass(eq=False)
class FuncRef:
    """A function as a value: an activation (`F.relu`) or a function defined in the file."""

    activation: ActivationUse | None = None
    function: ast.AST | None = None
    bound_self: object = None
    partial_args: tuple = ()
    home_ref: object = None  # a weak reference to the FileModel whose names the body uses (None: the current one)

    def __init__(self, activation=None, function=None, bound_self=None, partial_args=(), home=None) -> None:
        self.activation, self.function, self.bound_self, self.partial_args = activation, function, bound_self, partial_args
        self.home_ref = weakref.ref(home) if home is not None else None

    @property
    def home(self):
        return self.home_ref() if self.home_ref is not None else None


@dataclass(eq=False)
class WrapperRef:
    """A parametrizing wrapper as a value: `weight_norm = nn.utils.parametrizations.weight_norm`."""

    qualname: str


@dataclass(eq=False)
class PyList:
    items: list = field(default_factory=list)
    repeated: bool = False


@dataclass(eq=False)
class NodeInstance:
    """A model instance in script code: `model = Net()` or `net = nn.Sequential(...)`."""

    node: ModuleNode


MAYBE = "maybe"  # a condition that does not depend on the module being dispatched on


@dataclass
class Frame:
    env: dict
    self_value: object = None  # ClassModel (in a class body) or ModuleNode (layer subclass / dispatch)
    owner: ClassModel | None = None
    conditional: bool = False
    via: str = "direct"
    dispatch: Dispatch | None = None
    depth: int = 0
    guarded: bool = False  # a condition on the dispatched module was tested on this path
    branches: tuple = ()  # the (if statement, branch) pairs of config-dependent branches this code runs in
    returned: bool = False
    return_values: list = field(default_factory=list)


class Walker:
    """Runs code in execution order. `model` is the linted file (every result is recorded there); `home` is
    the file whose code is running now, which differs while a class or function from another project file
    runs (its names resolve with that file's imports)."""

    def __init__(self, model: "FileModel") -> None:
        self.model = model
        self.home = model
        self.entry: ast.AST | None = None  # the call in the linted file through which other files' code runs
        self.foreign_steps = 0
        self._walking: set[int] = set()
        self._calling: set[int] = set()  # functions being inlined now (a recursive call is not inlined again)
        self._names_read: dict[int, tuple[str, ...]] = {}  # test expression -> the names it reads
        self._memo: dict[tuple, object] = {}  # helper calls with plain arguments and no effect -> their result

    def may_enter(self, home) -> bool:
        """Whether code of `home` may run: always for the linted file, within the budget for other files."""
        return home is None or home is self.model or self.foreign_steps < FOREIGN_STEP_BUDGET

    @property
    def names(self):
        return self.home.names

    @contextmanager
    def at_home(self, home, site: ast.AST | None = None):
        """Run the enclosed code as code of `home` (a project file's FileModel; None keeps the current one)."""
        if home is None or home is self.home:
            yield
            return
        previous, previous_entry = self.home, self.entry
        if previous is self.model:
            self.entry = site
        if home is not self.model and self.model.program is not None:
            self.model.program.note_entry(home, self.entry)
        self.home = home
        try:
            yield
        finally:
            self.home, self.entry = previous, previous_entry

    def _note_foreign(self, node: ast.AST | None) -> None:
        """Remember through which call of the linted file a node of another file was reached (for reports)."""
        if node is not None and self.home is not self.model:
            self.model.program.node_homes.setdefault(id(node), self.home)
            if self.entry is not None:
                self.model.program.node_entries.setdefault(id(node), self.entry)

    # ------------------------------------------------------------------------------- classes

    def walk_class(self, cls: ClassModel, site: ast.AST | None = None) -> None:
        """Build a class's submodules and init events by walking its `__init__`."""
        if cls.walked or id(cls) in self._walking:
            return
        self._walking.add(id(cls))
        try:
            owner = cls.method_owner("__init__")
            if owner is not None:
                init = owner.methods["__init__"]
                with self.at_home(owner.home, site):
                    self._note_foreign(cls.node)
                    frame = Frame(env=self._bind_defaults(init), self_value=cls, owner=cls)
                    self.exec_body(init.body, frame)
            elif cls.catalog_base is None and cls.local_bases:
                for base in cls.local_bases:
                    self.walk_class(base)
                    cls.children += [c for c in base.children if c not in cls.children]
                    cls.attributes.update({k: v for k, v in base.attributes.items() if k not in cls.attributes})
        finally:
            self._walking.discard(id(cls))
            cls.walked = True

    def _bind_defaults(self, func: ast.FunctionDef, skip_self: bool = True) -> dict:
        """Parameters with defaults bound to what the default means (`act_layer=nn.GELU`)."""
        env: dict = {}
        args = func.args
        positional = args.posonlyargs + args.args
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for arg, default in zip(positional, defaults):
            env[arg.arg] = self.eval(default, Frame(env={})) if default is not None else None
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            env[arg.arg] = self.eval(default, Frame(env={})) if default is not None else None
        if skip_self and positional:
            env.pop(positional[0].arg, None)
        return env

    # ---------------------------------------------------------------------------- statements

    def exec_body(self, body: list[ast.stmt], frame: Frame) -> None:
        for statement in body:
            if frame.returned:
                return
            self.exec_stmt(statement, frame)

    def exec_stmt(self, stmt: ast.stmt, frame: Frame) -> None:
        if self.home is not self.model:
            self.foreign_steps += 1
        if isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, frame)
            for target in stmt.targets:
                self.assign(target, value, frame, stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value, frame), frame, stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            self._aug_assign(stmt, frame)
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value, frame, statement=True)
        elif isinstance(stmt, ast.If):
            self._exec_if(stmt, frame)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._exec_for(stmt, frame)
        elif isinstance(stmt, ast.While):
            self.exec_body(stmt.body, self._child(frame, conditional=True))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            self.exec_body(stmt.body, frame)
        elif isinstance(stmt, ast.Try) or (hasattr(ast, "TryStar") and isinstance(stmt, ast.TryStar)):
            self.exec_body(stmt.body, frame)
            for handler in stmt.handlers:
                self.exec_body(handler.body, self._child(frame, conditional=True))
            self.exec_body(stmt.orelse, frame)
            self.exec_body(stmt.finalbody, frame)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                frame.return_values.append(self.eval(stmt.value, frame))
            if not frame.conditional:
                frame.returned = True
        elif isinstance(stmt, ast.FunctionDef):
            frame.env[stmt.name] = FuncRef(function=stmt)
        elif isinstance(stmt, ast.Continue) and frame.dispatch is not None and not frame.conditional:
            frame.returned = True  # `if not isinstance(m, nn.Linear): continue` in a modules() loop

    def _child(self, frame: Frame, conditional: bool | None = None, guarded: bool | None = None,
               branch: tuple | None = None) -> Frame:
        return Frame(env=frame.env, self_value=frame.self_value, owner=frame.owner,
                     conditional=frame.conditional if conditional is None else (frame.conditional or conditional),
                     via=frame.via, dispatch=frame.dispatch, depth=frame.depth,
                     guarded=frame.guarded if guarded is None else (frame.guarded or guarded),
                     return_values=frame.return_values,
                     branches=frame.branches + (branch,) if branch is not None else frame.branches)

    @staticmethod
    def _is_conditional(frame: Frame, node: ModuleNode) -> bool:
        """A write under a condition is conditional, unless the module itself was built under exactly the same
        conditions (`if use_proj: self.proj = nn.Linear(...); init(self.proj.weight)`)."""
        if not frame.conditional:
            return False
        built_in = getattr(node, "branches", ())
        return not (built_in and frame.branches == built_in)

    def _exec_if(self, stmt: ast.If, frame: Frame) -> None:
        truth = self.truth(stmt.test, frame)
        if truth is True:
            child = self._child(frame, guarded=True)
            self.exec_body(stmt.body, child)
            frame.returned = frame.returned or child.returned
        elif truth is False:
            child = self._child(frame, guarded=True)
            self.exec_body(stmt.orelse, child)
            frame.returned = frame.returned or child.returned
        elif truth == MAYBE:
            self.exec_body(stmt.body, self._child(frame, conditional=True, branch=(id(stmt), "body")))
            self.exec_body(stmt.orelse, self._child(frame, conditional=True, branch=(id(stmt), "else")))
        else:
            # The test depends on the module in a way we cannot evaluate: either branch may run. Its writes are
            # conditional (no rule judges them as the final init, but they do count as "touched").
            self.exec_body(stmt.body, self._child(frame, conditional=True, guarded=True, branch=(id(stmt), "body")))
            self.exec_body(stmt.orelse, self._child(frame, conditional=True, guarded=True, branch=(id(stmt), "else")))

    def _aug_assign(self, stmt: ast.AugAssign, frame: Frame) -> None:
        if isinstance(stmt.target, ast.Name) and isinstance(stmt.op, ast.Add):
            current = frame.env.get(stmt.target.id)
            added = self.eval(stmt.value, frame)
            if isinstance(current, PyList):
                current.items += self._as_items(added)
                return
        elif isinstance(stmt.target, ast.Attribute):
            # `self.fc.weight *= 0.1` style writes are in-place ops on a parameter (INI026 reads these from the AST).
            return

    def assign(self, target: ast.expr, value, frame: Frame, value_node: ast.expr) -> None:
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if isinstance(value, PyList) and len(value.items) == len(target.elts) else None
            for index, element in enumerate(target.elts):
                self.assign(element, items[index] if items else None, frame, value_node)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            self._assign_self(target.attr, value, frame, value_node)
        elif isinstance(target, ast.Attribute):
            self._assign_parameter(target, frame, value_node)

    def _assign_parameter(self, target: ast.Attribute, frame: Frame, value_node: ast.expr) -> None:
        """`conv.bias = nn.Parameter(...)`, `m.weight.data = t`: a write to that parameter."""
        inner, _uses_data = strip_data(target)
        if not isinstance(inner, ast.Attribute):
            return
        base = frame.self_value if isinstance(inner.value, ast.Name) and inner.value.id == "self" \
            else self.eval(inner.value, frame)
        if isinstance(base, NodeInstance):
            base = base.node
        if isinstance(base, ModuleNode) and inner.attr in base.param_names():
            op = InitOp(node=_assignment_call(target, value_node), name="assign", family="assign", args={},
                        target=inner, uses_data=_uses_data, label=f"{ast.unparse(target)} = ...")
            event = InitEvent(op, inner.attr, frame.via, self._is_conditional(frame, base), report_node=target,
                              dispatch=frame.dispatch)
            base.events.append(event)
            self.model.events.append((base, event))

    def _assign_self(self, attr: str, value, frame: Frame, value_node: ast.expr) -> None:
        owner = frame.self_value
        if isinstance(owner, ClassModel):
            if isinstance(value, PyList) and value.items and all(isinstance(i, ModuleNode) for i in value.items):
                # a plain list of modules is not registered by torch, but flows use it the same way
                value = self._container("list", value.items, value_node, repeated=value.repeated)
            if isinstance(value, ModuleNode):
                self._attach(owner, attr, value)
            elif isinstance(value, (FuncRef, ClassRef, StrVal)):
                owner.attributes[attr] = self._value_as_node(value, attr, value_node)
            raw_ndim = self._raw_parameter(value_node)
            if raw_ndim is not False:
                owner.raw_params[attr] = raw_ndim
                owner.raw_param_nodes[attr] = value_node

    def _value_as_node(self, value, attr: str, node: ast.AST) -> ModuleNode:
        """An attribute holding an activation function or class (not an instance), for flows."""
        if isinstance(value, FuncRef) and value.activation is not None:
            return ModuleNode(ACTIVATION, value.activation.spec.name, attr, node, activation=value.activation)
        return ModuleNode(UNKNOWN, "?", attr, node)

    def _raw_parameter(self, expr: ast.expr) -> int | None | bool:
        """ndim of `nn.Parameter(torch.zeros(n))` (None: unknown), or False when this is no parameter."""
        if not isinstance(expr, ast.Call):
            return False
        qualname = self.names.qualname(expr.func)
        if qualname not in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            return False
        if not expr.args or not isinstance(expr.args[0], ast.Call):
            return None
        inner = expr.args[0]
        inner_name = self.names.qualname(inner.func) or ""
        if inner_name in ("torch.zeros", "torch.ones", "torch.empty", "torch.randn", "torch.rand", "torch.Tensor",
                          "torch.FloatTensor"):
            if len(inner.args) == 1 and isinstance(inner.args[0], (ast.Tuple, ast.List)):
                return len(inner.args[0].elts)
            if inner.args and not any(isinstance(a, ast.Starred) for a in inner.args):
                if len(inner.args) == 1 and not isinstance(inner.args[0], (ast.Constant, ast.Name, ast.Attribute, ast.BinOp)):
                    return None
                return len(inner.args)
        return None

    def _attach(self, owner: ClassModel, attr: str, node: ModuleNode) -> None:
        if attr in owner.attributes and owner.attributes[attr] is node:
            return
        self._set_path(node, attr, "self")
        owner.attributes[attr] = node
        if node not in owner.children:
            owner.children.append(node)

    def _set_path(self, node: ModuleNode, path: str, prefix: str) -> None:
        node.path = path
        node.display_prefix = prefix
        for index, child in enumerate(node.children):
            name = getattr(child, "_explicit_name", None) or str(index)  # OrderedDict / ModuleDict keys
            self._set_path(child, f"{path}.{name}" if path else name, prefix)

    # ---------------------------------------------------------------------------------- loops

    def _exec_for(self, stmt: ast.For, frame: Frame) -> None:
        iterable = stmt.iter
        # `for m in self.modules()` / `model.modules()`: a dispatch over every submodule.
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute):
            method = iterable.func.attr
            root = self.eval(iterable.func.value, frame)
            nodes = self._reachable(root)
            if method in MODULE_ITERATORS and nodes is not None:
                if method in ("children", "named_children"):
                    nodes = self._direct_children(root)
                dispatch = Dispatch(stmt, stmt, _target_name(stmt.target, method.startswith("named")) or "")
                for node in nodes:
                    env = dict(frame.env)
                    self._bind_loop_target(stmt.target, node, env, method.startswith("named"))
                    child = Frame(env=env, self_value=frame.self_value, owner=frame.owner, conditional=frame.conditional,
                                  via="modules-loop", dispatch=dispatch, depth=frame.depth, branches=frame.branches)
                    self.exec_body(stmt.body, child)
                self.model.dispatches.append((dispatch, nodes))
                return
            if method in PARAM_ITERATORS and nodes is not None:
                named = method == "named_parameters"
                for node in nodes:
                    for param in node.param_names():
                        env = dict(frame.env)
                        ref = ParamRef(node, param)
                        full_name = f"{node.path}.{param}" if node.path else param
                        self._bind_loop_target(stmt.target, ref, env, named, StrVal(full_name))
                        child = Frame(env=env, self_value=frame.self_value, owner=frame.owner,
                                      conditional=frame.conditional, via="named-parameters", depth=frame.depth,
                                      branches=frame.branches)
                        self.exec_body(stmt.body, child)
                self.model.param_loops.append((stmt, nodes))
                return
        value = self.eval(iterable, frame)
        if isinstance(value, ModuleNode) and value.kind == CONTAINER:
            value = PyList(list(value.children))
        if isinstance(value, PyList) and value.items and len(value.items) <= MAX_CHILDREN \
                and isinstance(stmt.target, ast.Name):
            for item in value.items:
                frame.env[stmt.target.id] = item
                self.exec_body(stmt.body, self._child(frame))
            return
        if isinstance(stmt.target, ast.Name):
            frame.env[stmt.target.id] = None
        self.exec_body(stmt.body, self._child(frame, conditional=False))
        self.exec_body(stmt.orelse, frame)

    def _bind_loop_target(self, target: ast.expr, value, env: dict, named: bool, name_value=None) -> None:
        if named and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            if isinstance(target.elts[0], ast.Name):
                node_name = value.path if isinstance(value, ModuleNode) else None
                env[target.elts[0].id] = name_value or (StrVal(node_name) if node_name is not None else None)
            if isinstance(target.elts[1], ast.Name):
                env[target.elts[1].id] = value
        elif isinstance(target, ast.Name):
            env[target.id] = value

    def _reachable(self, root) -> list[ModuleNode] | None:
        """Every module `root.modules()` yields, children before parents (as `apply` visits them)."""
        if isinstance(root, NodeInstance):
            root = root.node
        if isinstance(root, ClassModel):
            self.walk_class(root)
            return root.all_nodes() + [self._self_node(root)]
        if isinstance(root, ModuleNode):
            if root.block is not None:
                self.walk_class(root.block)
            from initlint.model.entities import _walk_node

            return _walk_node(root, set())
        return None

    def _direct_children(self, root) -> list[ModuleNode]:
        if isinstance(root, NodeInstance):
            root = root.node
        if isinstance(root, ClassModel):
            return list(root.children)
        if isinstance(root, ModuleNode):
            return list(root.children) + (list(root.block.children) if root.block else [])
        return []

    def _self_node(self, cls: ClassModel) -> ModuleNode:
        node = self.model.self_nodes.get(id(cls))
        if node is None:
            node = ModuleNode(BLOCK, cls.name, "", cls.node, display_prefix="self", block=cls)
            self.model.self_nodes[id(cls)] = node
        return node

    # ----------------------------------------------------------------------------- expressions

    def eval(self, expr: ast.expr | None, frame: Frame, statement: bool = False):
        if expr is None:
            return None
        if isinstance(expr, ast.Name):
            if expr.id in frame.env:
                return frame.env[expr.id]
            if expr.id == "self" and frame.self_value is not None:
                return frame.self_value
            return self._global_value(expr)
        if isinstance(expr, ast.Constant):
            return StrVal(expr.value) if isinstance(expr.value, str) else None
        if isinstance(expr, ast.Attribute):
            return self._eval_attribute(expr, frame)
        if isinstance(expr, ast.Subscript):
            return self._eval_subscript(expr, frame)
        if isinstance(expr, ast.Call):
            return self._eval_call(expr, frame, statement)
        if isinstance(expr, (ast.List, ast.Tuple)):
            items = []
            for element in expr.elts:
                if isinstance(element, ast.Starred):
                    items += self._as_items(self.eval(element.value, frame))
                else:
                    items.append(self.eval(element, frame))
            return PyList(items)
        if isinstance(expr, ast.ListComp):
            return PyList([self.eval(expr.elt, Frame(env=dict(frame.env), self_value=frame.self_value,
                                                      owner=frame.owner, depth=frame.depth))], repeated=True)
        if isinstance(expr, ast.IfExp):
            return self._choice([self.eval(expr.body, frame), self.eval(expr.orelse, frame)], expr)
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
            values = [self.eval(v, frame) for v in expr.values]
            known = [v for v in values if v is not None]
            return known[0] if known else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self.eval(expr.left, frame), self.eval(expr.right, frame)
            if isinstance(left, PyList) or isinstance(right, PyList):
                return PyList(self._as_items(left) + self._as_items(right))
            return None
        if isinstance(expr, ast.Lambda):
            return FuncRef(function=expr, home=self.home)
        return None

    def _global_value(self, expr: ast.Name):
        qualname = self.names.qualname(expr)
        if qualname is None:
            return None
        return self._qualified_value(qualname, expr)

    def _qualified_value(self, qualname: str, node: ast.AST):
        short = torch_nn_name(qualname)
        if short is not None:
            return ClassRef(short)
        if qualname in WRAPPERS:
            return WrapperRef(qualname)
        if qualname.startswith("<local>."):
            local = qualname[len("<local>."):]
            cls = self.home.class_named(local)
            if cls is not None:
                return ClassRef(local, cls)
            function = self.home.functions.get(local)
            if function is not None:
                return FuncRef(function=function, home=self.home)
            instance = self.home.script_values.get(local)
            if instance is not None:
                return instance
        activation = self.model.activation_function(qualname, node)
        if activation is not None:
            return FuncRef(activation=activation)
        resolved = self._project_definition(qualname)
        if resolved is not None:
            return resolved
        return self.home.script_values.get(qualname)

    def _project_definition(self, qualname: str):
        """A class or function imported from another file of the project, as a value."""
        program = self.model.program
        if program is None or qualname.startswith("<local>."):
            return None
        found = program.resolve(qualname, self.home)
        if isinstance(found, ClassModel):
            return ClassRef(found.name, found)
        if found is not None and hasattr(found, "node") and hasattr(found, "home"):
            return FuncRef(function=found.node, home=found.home)
        return None

    def _eval_attribute(self, expr: ast.Attribute, frame: Frame):
        base = self.eval(expr.value, frame) if not (isinstance(expr.value, ast.Name) and expr.value.id == "self") \
            else frame.self_value
        if base is None and not (isinstance(expr.value, ast.Name) and expr.value.id == "self"):
            qualname = self.names.qualname(expr)
            if qualname:
                return self._qualified_value(qualname, expr)
            return None
        if isinstance(base, NodeInstance):
            base = base.node
        if isinstance(base, ClassModel):
            if expr.attr in base.attributes:
                return base.attributes[expr.attr]
            if expr.attr in base.raw_params:
                return ParamRef(self._self_node(base), expr.attr)
            owner = base.method_owner(expr.attr)
            if owner is not None:
                return FuncRef(function=owner.methods[expr.attr], bound_self=base, home=owner.home)
            return None
        if isinstance(base, ModuleNode):
            if base.block is not None and expr.attr in base.block.attributes:
                self.walk_class(base.block)
                return base.block.attributes[expr.attr]
            if base.kind == LAYER or base.spec is not None or expr.attr in base.raw_params():
                if base.has_param(expr.attr) is not False or expr.attr in base.param_names():
                    return ParamRef(base, expr.attr)
            if base.block is not None:
                owner = base.block.method_owner(expr.attr)
                if owner is not None:
                    return FuncRef(function=owner.methods[expr.attr], bound_self=base, home=owner.home)
            if expr.attr in ("weight", "bias"):
                return ParamRef(base, expr.attr)
            if expr.attr in ("__class__",):
                return ClassRef(base.cls, base.block)
            return None
        if isinstance(base, ClassRef) and expr.attr == "__name__":
            return StrVal(base.name)
        if isinstance(base, ParamRef) and expr.attr == "data":
            return base
        return None

    def _eval_subscript(self, expr: ast.Subscript, frame: Frame):
        base = self.eval(expr.value, frame)
        if isinstance(base, NodeInstance):
            base = base.node
        index = literal_value(expr.slice)
        if isinstance(base, ModuleNode) and base.kind == CONTAINER:
            return base.child(index)
        if isinstance(base, PyList) and isinstance(index, int) and -len(base.items) <= index < len(base.items):
            return base.items[index]
        if isinstance(base, ParamRef):
            return base  # a slice of a parameter is that parameter, partially
        return None

    def _choice(self, options: list, expr: ast.AST):
        """A conditional module: the set of possible activations, or the one real option."""
        nodes = [o for o in options if isinstance(o, ModuleNode)]
        if nodes and all(n.kind in (ACTIVATION, TRANSPARENT) for n in nodes) and any(n.kind == ACTIVATION for n in nodes):
            acts = tuple(n.activation if n.kind == ACTIVATION else None for n in nodes)
            if len(nodes) < len(options):
                acts += (None,)
            return ModuleNode(ACTIVATION, nodes[0].cls, "", expr, activation=None, activation_options=acts)
        real = [o for o in options if o is not None]
        if len(real) == 1:
            return real[0]
        if real and all(isinstance(o, ClassRef) for o in real):
            return real[0] if len({o.name for o in real}) == 1 else None
        return None

    def _as_items(self, value) -> list:
        if isinstance(value, PyList):
            return list(value.items)
        if isinstance(value, ModuleNode) and value.kind == CONTAINER and value.cls in ("list",):
            return list(value.children)
        return [value] if value is not None else []

    # ---------------------------------------------------------------------------------- calls

    def _eval_call(self, call: ast.Call, frame: Frame, statement: bool):
        func = call.func
        op = parse_init_call(call, self.names)
        if op is not None:
            self._record_init(op, frame)
            return None
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method == "apply" and call.args:
                self._apply(call, frame)
                return self.eval(func.value, frame)
            if method in ("append", "extend", "insert") and isinstance(func.value, ast.Name):
                current = frame.env.get(func.value.id)
                args = [self.eval(a, frame) for a in call.args]
                if isinstance(current, PyList) and args:
                    if method == "append":
                        current.items.append(args[0])
                    elif method == "extend":
                        current.items += self._as_items(args[0])
                    elif len(args) == 2:
                        current.items.append(args[1])
                return None
            if method in ("append", "extend") and isinstance(func.value, ast.Attribute):
                container = self.eval(func.value, frame)
                if isinstance(container, ModuleNode) and container.kind == CONTAINER and call.args:
                    added = self.eval(call.args[0], frame)
                    new = self._as_items(added) if method == "extend" else [added]
                    for item in new:
                        if isinstance(item, ModuleNode) and len(container.children) < MAX_CHILDREN:
                            container.children.append(item)
                            self._set_path(item, f"{container.path}.{len(container.children) - 1}", container.display_prefix)
                return None
            if method == "add_module" and len(call.args) == 2 and isinstance(frame.self_value, ClassModel):
                name = literal_value(call.args[0])
                value = self.eval(call.args[1], frame)
                if isinstance(name, str) and isinstance(value, ModuleNode):
                    self._attach(frame.self_value, name, value)
                return None
            if method in SELF_CHAIN_METHODS:
                return self.eval(func.value, frame)
            if method == "reset_parameters" and not call.args:
                target = self.eval(func.value, frame)
                if isinstance(target, ModuleNode):
                    self._reset(target, call, frame)
                    return None
            if method in ("post_init", "init_weights") and not call.args and isinstance(frame.self_value, ClassModel) \
                    and frame.self_value.method(method) is None and frame.self_value.method("_init_weights") is not None \
                    and isinstance(func.value, ast.Name) and func.value.id == "self":
                # Hugging Face: PreTrainedModel.post_init() applies the class's `_init_weights` to every module.
                self._dispatch_hf_init_weights(call, frame)
                return None
            if method in ("__init__",) and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name) \
                    and func.value.func.id == "super":
                self._super_init(call, frame)
                return None
        qualname = self.names.qualname(func)
        if qualname and qualname.rsplit(".", 1)[-1] in catalog.DESCRIBED_FUNCTIONS and len(call.args) >= 2:
            # timm's `named_apply(fn, module)`, known as data: not read from the body of a project's copy
            self._dispatch_call(call.args[0], call.args[1], call, frame)
            return None
        callee = self.eval(func, frame) if not isinstance(func, ast.Name) or func.id in frame.env \
            else self._global_value(func)
        if isinstance(callee, WrapperRef):
            qualname = callee.qualname
        if isinstance(callee, ClassRef):
            return self._instantiate(callee, call, frame)
        if isinstance(callee, FuncRef) and callee.function is not None:
            return self._call_function(callee, call, frame)
        if qualname and callee is None and isinstance(func, (ast.Name, ast.Attribute)):
            foreign = self._foreign_class(qualname, call)
            if foreign is not None:
                return foreign
        if qualname in WRAPPERS and call.args:
            inner = self.eval(call.args[0], frame)
            if isinstance(inner, ModuleNode):
                inner.wrapped = WRAPPERS[qualname]
                inner.wrapped_at = len(inner.events)  # type: ignore[attr-defined]  # later events write after it
                self.model.wrapped_calls.append((call, inner))
            return inner
        if qualname in ("functools.partial", "partial") and call.args:
            target = self.eval(call.args[0], frame)
            if isinstance(target, ClassRef):
                return ClassRef(target.name, target.local, tuple(call.keywords))
            if isinstance(target, FuncRef):
                return FuncRef(activation=target.activation, function=target.function, bound_self=target.bound_self,
                               partial_args=tuple(call.args[1:]), home=target.home)
            return None
        if qualname in ("copy.deepcopy", "deepcopy") and call.args:
            return self.eval(call.args[0], frame)
        self._unseen_writes(call, frame, qualname)
        return None

    def _unseen_writes(self, call: ast.Call, frame: Frame, qualname: str | None) -> None:
        """A module or parameter handed to a function we cannot read (`super()._init_weights(module)`, a helper
        from another file) may be initialized there: record a conditional write of unknown kind, so no rule
        concludes the parameter was left alone, and none judges the unseen init."""
        if qualname in _PURE_BUILTINS or (qualname or "").startswith(("torch.", "math.", "numpy.", "logging.")):
            return
        for arg in call.args:
            value = self.eval(arg, frame) if isinstance(arg, (ast.Name, ast.Attribute, ast.Subscript)) else None
            if isinstance(value, NodeInstance):
                value = value.node
            refs: list[ParamRef] = []
            if isinstance(value, ModuleNode) and value.kind != BLOCK:
                refs = [ParamRef(value, param) for param in value.param_names()]
            elif isinstance(value, ParamRef):
                refs = [value]
            for ref in refs:
                op = InitOp(node=call, name="unknown", family="unknown", args={}, target=None,
                            label=ast.unparse(call.func) if hasattr(ast, "unparse") else "call")
                event = InitEvent(op, ref.param, "unseen", True, dispatch=frame.dispatch)
                ref.node.events.append(event)
                self.model.events.append((ref.node, event))

    def _instantiate(self, ref: ClassRef, call: ast.Call, frame: Frame) -> ModuleNode | None:
        keywords = list(ref.keywords) + list(call.keywords)
        if ref.local is not None and not ref.local.walked and not self.may_enter(ref.local.home):
            return ModuleNode(UNKNOWN, ref.name, "", call)
        if ref.local is not None:
            cls = ref.local
            self.walk_class(cls, call)
            cls.used_as_block = True
            if cls.home is not None and cls.home is not self.model and cls not in self.model.program.foreign_classes:
                self.model.program.foreign_classes.append(cls)
            if cls.catalog_base in catalog.LAYERS:
                spec = catalog.LAYERS[cls.catalog_base]
                node = self._layer_node(spec, cls.name, call, call.args, keywords, frame)
                node.block = None
                node.layer_class = cls  # type: ignore[attr-defined]
                self._walk_layer_subclass(cls, node, frame)
                return node
            if cls.catalog_base in catalog.ACTIVATION_BY_MODULE:
                return self._activation_node(cls.catalog_base, call, call.args, keywords, frame)
            node = ModuleNode(BLOCK, cls.name, "", call, block=cls)
            if cls.catalog_base == "Sequential":
                node.children = list(cls.children)
            return node
        name = ref.name
        if name in catalog.LAYERS and name != "PReLU":
            return self._layer_node(catalog.LAYERS[name], name, call, call.args, keywords, frame)
        if name in catalog.ACTIVATION_BY_MODULE:
            return self._activation_node(name, call, call.args, keywords, frame)
        if name in ("Sequential", "ModuleList", "ModuleDict"):
            return self._container_call(name, call, frame)
        if name in catalog.TRANSPARENT_MODULES or name in catalog.PARAMETER_FREE_NORMS:
            return ModuleNode(TRANSPARENT, name, "", call)
        return ModuleNode(UNKNOWN, name, "", call)

    def _foreign_class(self, name: str, call: ast.Call) -> ModuleNode | None:
        """A module class from another file: a reshape if its name says so, otherwise unknown."""
        short = name.rsplit(".", 1)[-1]
        if short in catalog.RESHAPE_CLASS_NAMES:
            return ModuleNode(TRANSPARENT, short, "", call)
        return None

    def _layer_node(self, spec: catalog.LayerSpec, cls_name: str, call: ast.Call, args, keywords, frame: Frame) -> ModuleNode:
        bound: dict[str, ast.expr] = {}
        for name, value in zip(spec.signature, args):
            if isinstance(value, ast.Starred):
                break
            bound[name] = value
        for keyword in keywords:
            if keyword.arg:
                bound[keyword.arg] = keyword.value
        flags: dict[str, object] = {}
        for name, value in bound.items():
            literal = literal_value(value)
            if literal is None and isinstance(value, ast.Name) and isinstance(frame.env.get(value.id), StrVal):
                literal = frame.env[value.id].value
            flags[name] = literal if literal is not None or not isinstance(value, ast.Constant) else None
            if literal is None:
                flags[name] = _Unknown
        flags = {k: (None if v is _Unknown else v) for k, v in flags.items()}
        node = ModuleNode(LAYER, cls_name, "", call, spec=spec, flags=flags, args=bound)
        node.branches = frame.branches  # type: ignore[attr-defined]
        self._note_foreign(call)
        return node

    def _activation_node(self, name: str, call: ast.Call, args, keywords, frame: Frame) -> ModuleNode:
        spec = catalog.ACTIVATION_BY_MODULE[name]
        slope = None
        if spec.slope_keyword:
            for keyword in keywords:
                if keyword.arg == spec.slope_keyword:
                    slope = literal_value(keyword.value)
            if slope is None and spec.slope_module_position is not None and len(args) > spec.slope_module_position:
                slope = literal_value(args[spec.slope_module_position])
        use = ActivationUse(spec, f"nn.{name}", slope if isinstance(slope, (int, float)) else None, call.lineno)
        node = ModuleNode(ACTIVATION, name, "", call, activation=use)
        if name == "PReLU":
            node.spec = catalog.LAYERS["PReLU"]
        return node

    def _container_call(self, name: str, call: ast.Call, frame: Frame) -> ModuleNode:
        items: list = []
        names: list[str | None] = []
        repeated = False
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                value = self.eval(arg.value, frame)
                items += self._as_items(value)
                repeated = repeated or (isinstance(value, PyList) and value.repeated)
            elif isinstance(arg, ast.Call) and (self.names.qualname(arg.func) or "").endswith("OrderedDict") and arg.args:
                pairs = arg.args[0]
                if isinstance(pairs, (ast.List, ast.Tuple)):
                    for pair in pairs.elts:
                        if isinstance(pair, ast.Tuple) and len(pair.elts) == 2:
                            items.append(self.eval(pair.elts[1], frame))
                            key = literal_value(pair.elts[0])
                            names.append(key if isinstance(key, str) else None)
            elif isinstance(arg, ast.Dict):
                for key, value in zip(arg.keys, arg.values):
                    items.append(self.eval(value, frame))
                    key_value = literal_value(key) if key is not None else None
                    names.append(key_value if isinstance(key_value, str) else None)
            else:
                value = self.eval(arg, frame)
                if name in ("ModuleList", "ModuleDict") or (isinstance(value, PyList) and name != "Sequential"):
                    items += self._as_items(value)
                    repeated = repeated or (isinstance(value, PyList) and value.repeated)
                else:
                    items.append(value)
        node = self._container(name, items, call, repeated)
        for child, child_name in zip(node.children, names):
            if child_name:
                child._explicit_name = child_name  # type: ignore[attr-defined]
        return node

    def _container(self, name: str, items: list, call: ast.AST, repeated: bool = False) -> ModuleNode:
        children = []
        for item in items[:MAX_CHILDREN]:
            if isinstance(item, ModuleNode):
                children.append(item)
            elif isinstance(item, FuncRef) and item.activation is not None:
                children.append(ModuleNode(ACTIVATION, item.activation.spec.name, "", call, activation=item.activation))
            else:
                children.append(ModuleNode(UNKNOWN, "?", "", call))
        node = ModuleNode(CONTAINER, name, "", call, children=children)
        node.repeated = repeated  # type: ignore[attr-defined]
        return node

    def _call_function(self, callee: FuncRef, call: ast.Call, frame: Frame):
        """Inline a function defined in the file: a layer builder, an init helper, a method of self."""
        function = callee.function
        if frame.depth >= MAX_DEPTH or not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        if not self.may_enter(callee.home) or id(function) in self._calling:
            # past the budget, or a recursive call (`unwrap_model(model.module)`): its effects are unseen, since
            # running both arms of each undecidable `if` at every level would multiply the work
            self._unseen_writes(call, frame, None)
            return None
        bound: dict = {}
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        self_value = frame.self_value
        if callee.bound_self is not None and params:
            bound[params[0]] = callee.bound_self
            self_value = callee.bound_self
            params = params[1:]
        elif params and params[0] == "self" and isinstance(frame.self_value, (ClassModel, ModuleNode)):
            params = params[1:]
        args = list(callee.partial_args) + list(call.args)
        for name, arg in zip(params, args):
            if isinstance(arg, ast.Starred):
                break
            bound[name] = self.eval(arg, frame)
        for keyword in call.keywords:
            if keyword.arg:
                bound[keyword.arg] = self.eval(keyword.value, frame)
        # A helper called again with the same plain arguments (a layer-factory lookup such as
        # `get_norm_act_layer("batchnorm", "relu")`) that touched nothing the first time gives the same answer.
        key = _memo_key(function, bound, frame) if callee.bound_self is None and self_value is frame.self_value \
            and "self" not in bound else None
        if key is not None and key in self._memo:
            return self._memo[key]
        before = self._effects()
        with self.at_home(callee.home, call):
            self._note_foreign(function)
            env = self._bind_defaults(function, skip_self=False)
            env.update(bound)
            child = Frame(env=env, self_value=self_value, owner=frame.owner, conditional=frame.conditional,
                          via="helper" if frame.via == "direct" else frame.via, dispatch=frame.dispatch,
                          depth=frame.depth + 1, guarded=frame.guarded, branches=frame.branches)
            self._calling.add(id(function))
            try:
                self.exec_body(function.body, child)
            finally:
                self._calling.discard(id(function))
        result = None
        if child.return_values:
            values = [v for v in child.return_values if v is not None]
            if len(values) == 1:
                result = values[0]
            elif values:
                result = self._choice(values, call)
        if key is not None and self._effects() == before and _plain(result):
            self._memo[key] = result
        return result

    def _effects(self) -> tuple:
        """How much the analysis has recorded: a call that changes none of it had no effect we model."""
        model = self.model
        return (len(model.events), len(model.wrapped_calls), len(model.init_ops_in_context), len(model.unguarded),
                len(model.apply_calls), len(model.dispatches), len(model.param_loops))

    def _super_init(self, call: ast.Call, frame: Frame) -> None:
        owner = frame.self_value
        if not isinstance(owner, ClassModel):
            return
        if owner.catalog_base == "Sequential":
            node = self._container_call("Sequential", call, frame)
            for index, child in enumerate(node.children):
                self._attach(owner, getattr(child, "_explicit_name", None) or str(index), child)
            return
        for base in owner.local_bases:
            defining = base.method_owner("__init__")
            if defining is not None and frame.depth < MAX_DEPTH:
                init = defining.methods["__init__"]
                bound: dict = {}
                params = [a.arg for a in init.args.posonlyargs + init.args.args][1:]
                for name, arg in zip(params, call.args):
                    if not isinstance(arg, ast.Starred):
                        bound[name] = self.eval(arg, frame)
                for keyword in call.keywords:
                    if keyword.arg:
                        bound[keyword.arg] = self.eval(keyword.value, frame)
                with self.at_home(defining.home, call):
                    env = self._bind_defaults(init)
                    env.update(bound)
                    self.exec_body(init.body, Frame(env=env, self_value=owner, owner=owner, depth=frame.depth + 1))
            return

    def _walk_layer_subclass(self, cls: ClassModel, node: ModuleNode, frame: Frame) -> None:
        """A local subclass of a torch layer: its `reset_parameters` override runs at construction."""
        for klass in [cls] + cls.local_bases:
            method = klass.methods.get("reset_parameters")
            if method is not None and frame.depth < MAX_DEPTH:
                with self.at_home(klass.home, node.node):
                    self.exec_body(method.body, Frame(env={}, self_value=node, owner=frame.owner, via="reset",
                                                      depth=frame.depth + 1))
                return

    def _reset(self, target: ModuleNode, call: ast.Call, frame: Frame) -> None:
        for param in target.param_names():
            target.events.append(InitEvent(None, param, "reset", self._is_conditional(frame, target), call))

    # -------------------------------------------------------------------------------- dispatch

    def _dispatch_hf_init_weights(self, call: ast.Call, frame: Frame) -> None:
        owner = frame.self_value
        defining = owner.method_owner("_init_weights")
        # HF marks every module it initializes (`_is_hf_initialized`) and skips marked ones later: a backbone
        # built by an outer model keeps the init of its own `post_init()`, the first one, not the last.
        done = self.model.hf_initialized
        self._dispatch_with(FuncRef(function=defining.methods["_init_weights"], bound_self=owner, home=defining.home),
                            owner, call, frame, skip=done)

    def _apply(self, call: ast.Call, frame: Frame) -> None:
        root_expr = call.func.value  # type: ignore[union-attr]
        self._dispatch_call(call.args[0], root_expr, call, frame)

    def _dispatch_call(self, fn_expr: ast.expr, root_expr: ast.expr, call: ast.Call, frame: Frame) -> None:
        root = frame.self_value if isinstance(root_expr, ast.Name) and root_expr.id == "self" else self.eval(root_expr, frame)
        if isinstance(root, (ModuleNode, NodeInstance)) and isinstance(frame.self_value, ClassModel) \
                and isinstance(root_expr, ast.Name) and root_expr.id == "self":
            root = frame.self_value
        fn = self.eval(fn_expr, frame)
        self.model.apply_calls.append((call, fn_expr, fn, root))
        self._dispatch_with(fn, root, call, frame)

    def _dispatch_with(self, fn, root, call: ast.Call, frame: Frame, skip: set | None = None) -> None:
        """Run `fn` once per module `root.apply(fn)` visits, binding its first parameter to each (but those
        in `skip`, to which the visited ones are added)."""
        nodes = self._reachable(root)
        if nodes is not None and skip is not None:
            nodes = [node for node in nodes if id(node) not in skip]
            skip.update(id(node) for node in nodes)
        if nodes is None or not isinstance(fn, FuncRef) or fn.function is None or not self.may_enter(fn.home):
            return
        function = fn.function
        args = function.args
        params = [a.arg for a in args.posonlyargs + args.args]
        if fn.bound_self is not None and params:
            params = params[1:]
        if not params:
            return
        dispatch = Dispatch(function, call, params[0])
        partial_values = [self.eval(value, frame) for value in fn.partial_args]
        for node in nodes:
            with self.at_home(fn.home, call):
                self._note_foreign(function)
                env = self._bind_defaults(function, skip_self=False) if isinstance(function, ast.FunctionDef) else {}
                if fn.bound_self is not None:
                    all_params = [a.arg for a in args.posonlyargs + args.args]
                    env[all_params[0]] = fn.bound_self
                env[params[0]] = node
                for name, value in zip(params[1:], partial_values):
                    env[name] = value
                child = Frame(env=env, self_value=fn.bound_self or frame.self_value, owner=frame.owner,
                              conditional=frame.conditional, via="apply", dispatch=dispatch, depth=frame.depth + 1,
                              branches=frame.branches)
                if isinstance(function, ast.Lambda):
                    self.eval(function.body, child, statement=True)
                else:
                    self.exec_body(function.body, child)
        self.model.dispatches.append((dispatch, nodes))

    # ------------------------------------------------------------------------------ init events

    def _record_init(self, op: InitOp, frame: Frame) -> None:
        self._note_foreign(op.node)
        self.model.init_ops_in_context.append((op, frame.dispatch, frame.guarded))
        if op.target is None:
            return
        target_value = self.eval(op.target, frame)
        if isinstance(target_value, ParamRef):
            refs = [target_value]
        else:
            base_expr, param, _whole = split_param_target(op.target)
            refs = []
            if param is not None:
                base = frame.self_value if isinstance(base_expr, ast.Name) and base_expr.id == "self" \
                    else self.eval(base_expr, frame)
                if isinstance(base, NodeInstance):
                    base = base.node
                if isinstance(base, ModuleNode):
                    refs = [ParamRef(base, param)]
                elif isinstance(base, ClassModel) and param in base.raw_params:
                    refs = [ParamRef(self._self_node(base), param)]
        for ref in refs:
            present = ref.node.has_param(ref.param)
            if frame.dispatch is not None and present is False and not frame.guarded:
                self.model.unguarded.append((op, frame.dispatch, ref.node, ref.param))
            if present is False and ref.param not in ref.node.param_names():
                continue
            event = InitEvent(op, ref.param, frame.via, self._is_conditional(frame, ref.node), dispatch=frame.dispatch)
            ref.node.events.append(event)
            self.model.events.append((ref.node, event))

    # ------------------------------------------------------------------------------ conditions

    def truth(self, test: ast.expr, frame: Frame):
        """True / False for a test we can evaluate for this module, MAYBE when it does not depend on the
        dispatched module (a config option), None when it does but we cannot tell."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self.truth(test.operand, frame)
            return (not inner) if isinstance(inner, bool) else inner
        if isinstance(test, ast.BoolOp):
            values = [self.truth(v, frame) for v in test.values]
            if isinstance(test.op, ast.And):
                if any(v is False for v in values):
                    return False
                if all(v is True for v in values):
                    return True
                return None if any(v is None for v in values) else MAYBE
            if any(v is True for v in values):
                return True
            if all(v is False for v in values):
                return False
            return None if any(v is None for v in values) else MAYBE
        if isinstance(test, ast.Call):
            result = self._truth_call(test, frame)
            if result is not _NotHandled:
                return result
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            result = self._truth_compare(test, frame)
            if result is not _NotHandled:
                return result
        if isinstance(test, (ast.Attribute, ast.Name)):
            value = self.eval(test, frame)
            if isinstance(value, ParamRef):
                return value.node.has_param(value.param)
        return None if self._mentions_bound(test, frame) else MAYBE

    def _mentions_bound(self, expr: ast.AST, frame: Frame) -> bool:
        """Whether the expression reads a name bound to a dispatched module, a parameter or its name."""
        names = self._names_read.get(id(expr))
        if names is None:  # the same test is evaluated once per dispatched module: its names are read once
            names = self._names_read[id(expr)] = tuple({node.id: None for node in walk(expr)
                                                        if isinstance(node, ast.Name)})
        for name in names:
            if name in frame.env:
                value = frame.env[name]
                if isinstance(value, (ModuleNode, ParamRef, StrVal)) or (frame.dispatch and name == frame.dispatch.param):
                    return True
        return False

    def _truth_call(self, call: ast.Call, frame: Frame):
        name = call.func.id if isinstance(call.func, ast.Name) else None
        if name == "isinstance" and len(call.args) == 2:
            value = self.eval(call.args[0], frame)
            if isinstance(value, NodeInstance):
                value = value.node
            if isinstance(value, ParamRef):
                return MAYBE if self.names.qualname(call.args[1]) in ("torch.nn.Parameter",) else None
            if not isinstance(value, ModuleNode):
                if isinstance(value, ClassModel):
                    return self._isinstance_class(value, call.args[1])
                return _NotHandled if value is None and not self._mentions_bound(call, frame) else None
            return self._isinstance(value, call.args[1])
        if name == "hasattr" and len(call.args) == 2:
            value = self.eval(call.args[0], frame)
            attr = literal_value(call.args[1])
            if isinstance(value, ModuleNode) and isinstance(attr, str):
                if value.spec is not None and any(p.name == attr for p in value.spec.params):
                    return True  # torch registers it even when absent (`bias=False` sets `bias = None`)
                return self._node_has_attr(value, attr)
            return _NotHandled
        if isinstance(call.func, ast.Attribute) and call.func.attr in ("startswith", "endswith", "find", "__contains__"):
            base = self.eval(call.func.value, frame)
            arg = literal_value(call.args[0]) if call.args else None
            if isinstance(base, StrVal) and isinstance(base.value, str):
                if isinstance(arg, str):
                    return base.value.startswith(arg) if call.func.attr == "startswith" else base.value.endswith(arg) \
                        if call.func.attr == "endswith" else arg in base.value
                if isinstance(call.args[0], ast.Tuple) if call.args else False:
                    options = [literal_value(e) for e in call.args[0].elts]
                    if all(isinstance(o, str) for o in options):
                        method = str.startswith if call.func.attr == "startswith" else str.endswith
                        return any(method(base.value, o) for o in options)
        return _NotHandled

    def _truth_compare(self, test: ast.Compare, frame: Frame):
        op = test.ops[0]
        left, right = test.left, test.comparators[0]
        # `m.bias is not None`, `getattr(m, "bias", None) is not None`
        if isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)) and isinstance(right, ast.Constant) and right.value is None:
            present = self._param_presence(left, frame)
            if present is not _NotHandled:
                if present is None:
                    return None
                return present if isinstance(op, (ast.IsNot, ast.NotEq)) else not present
        # `x.find("Conv") != -1`
        if isinstance(left, ast.Call) and isinstance(left.func, ast.Attribute) and left.func.attr == "find" and left.args:
            base = self.eval(left.func.value, frame)
            needle = literal_value(left.args[0])
            bound = literal_value(right)
            if isinstance(base, StrVal) and isinstance(needle, str) and isinstance(bound, int):
                found = base.value.find(needle)
                return _compare(op, found, bound)
        left_value = self._comparable(left, frame)
        right_value = self._comparable(right, frame)
        if left_value is not _NotHandled and right_value is not _NotHandled:
            if isinstance(op, (ast.In, ast.NotIn)):
                if isinstance(right_value, str) and isinstance(left_value, str) or isinstance(right_value, (tuple, list)):
                    result = left_value in right_value
                    return result if isinstance(op, ast.In) else not result
                return _NotHandled
            result = _compare(op, left_value, right_value)
            if result is not None:
                return result
        return _NotHandled

    def _comparable(self, expr: ast.expr, frame: Frame):
        """A Python value to compare: strings (class names, parameter names), numbers, dims, class identities."""
        literal = literal_value(expr)
        if literal is not None:
            return literal
        if isinstance(expr, (ast.Tuple, ast.List)):
            values = [self._comparable(e, frame) for e in expr.elts]
            if any(v is _NotHandled for v in values):
                return _NotHandled
            return tuple(values)
        # p.dim(), p.ndim, len(p.shape)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in ("dim", "ndimension"):
            value = self.eval(expr.func.value, frame)
            if isinstance(value, ParamRef):
                return value.node.param_ndim(value.param) if value.node.param_ndim(value.param) is not None else _NotHandled
        if isinstance(expr, ast.Attribute) and expr.attr == "ndim":
            value = self.eval(expr.value, frame)
            if isinstance(value, ParamRef):
                ndim = value.node.param_ndim(value.param)
                return ndim if ndim is not None else _NotHandled
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "len" and expr.args:
            inner = expr.args[0]
            if isinstance(inner, ast.Attribute) and inner.attr == "shape" or \
                    isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "size":
                value = self.eval(inner.value if isinstance(inner, ast.Attribute) else inner.func.value, frame)
                if isinstance(value, ParamRef):
                    ndim = value.node.param_ndim(value.param)
                    return ndim if ndim is not None else _NotHandled
        # type(m), m.__class__: compare by class identity
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "type" and expr.args:
            value = self.eval(expr.args[0], frame)
            if isinstance(value, ModuleNode):
                return ("class", value.cls)
        if isinstance(expr, ast.Attribute) and expr.attr == "__class__":
            value = self.eval(expr.value, frame)
            if isinstance(value, ModuleNode):
                return ("class", value.cls)
        qualname = self.names.qualname(expr)
        short = torch_nn_name(qualname)
        if short is not None:
            return ("class", short)
        if qualname and qualname.startswith("<local>.") and qualname[8:] in self.home.classes:
            return ("class", qualname[8:])
        if qualname and isinstance(found := self._project_class(qualname), ClassModel):
            return ("class", found.name)
        value = self.eval(expr, frame)
        if isinstance(value, StrVal):
            return value.value
        if isinstance(value, ClassRef) and isinstance(expr, ast.Attribute) and expr.attr == "__class__":
            return ("class", value.name)
        return _NotHandled

    def _param_presence(self, expr: ast.expr, frame: Frame):
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "getattr" and len(expr.args) >= 2:
            value = self.eval(expr.args[0], frame)
            attr = literal_value(expr.args[1])
            if isinstance(value, ModuleNode) and isinstance(attr, str):
                return self._node_has_attr(value, attr)
            return _NotHandled
        value = self.eval(expr, frame)
        if isinstance(value, ParamRef):
            return value.node.has_param(value.param)
        if isinstance(value, (ModuleNode, ClassModel)):
            return True  # a module the dispatch is running on is never None
        return _NotHandled

    def _node_has_attr(self, node: ModuleNode, attr: str):
        present = node.has_param(attr)
        if present is False and node.block is not None and (attr in node.block.attributes
                                                            or node.block.method_owner(attr) is not None):
            return True
        if present is False and node.kind == BLOCK and node.block is not None and node.block.has_unknown_base:
            return None
        return present

    def _isinstance(self, node: ModuleNode, classes_expr: ast.expr):
        classes = classes_expr.elts if isinstance(classes_expr, (ast.Tuple, ast.List)) else [classes_expr]
        unknown = False
        for klass in classes:
            qualname = self.names.qualname(klass)
            if qualname is None:
                unknown = True
                continue
            short = torch_nn_name(qualname)
            if short is not None:
                if short == "Module":
                    return True
                if self._node_is(node, short):
                    return True
                continue
            local = self.home.class_named(qualname[8:]) if qualname.startswith("<local>.") \
                else self._project_class(qualname)
            if qualname.startswith("<local>.") or local is not None:
                name = local.name if local is not None else qualname[8:]
                if local is not None and node.block is not None and node.block.is_subclass_of(local.name):
                    return True
                layer_class = getattr(node, "layer_class", None)
                if node.cls == name or (layer_class is not None and layer_class.is_subclass_of(name)):
                    return True
                continue
            if node.kind == BLOCK and node.block is not None and node.block.has_unknown_base:
                unknown = True
            # A class from elsewhere: a torch layer built here is never an instance of it.
        return None if unknown else False

    def _project_class(self, qualname: str) -> ClassModel | None:
        found = self.model.program.resolve(qualname, self.home) if self.model.program is not None else None
        return found if isinstance(found, ClassModel) else None

    def _isinstance_class(self, cls: ClassModel, classes_expr: ast.expr):
        node = ModuleNode(BLOCK, cls.name, "", cls.node, block=cls)
        return self._isinstance(node, classes_expr)

    def _node_is(self, node: ModuleNode, short: str) -> bool:
        if catalog.is_subclass(node.cls, short):
            return True
        if node.block is not None:
            klass = node.block
            return klass.catalog_base is not None and catalog.is_subclass(klass.catalog_base, short)
        local = getattr(node, "layer_class", None) or self.home.class_named(node.cls)
        if local is not None and local.catalog_base is not None:
            return catalog.is_subclass(local.catalog_base, short)
        if node.kind == CONTAINER:
            return node.cls == short
        if node.kind in (ACTIVATION, TRANSPARENT, UNKNOWN):
            return node.cls == short
        return False


def _plain(value) -> bool:
    """A value that is the same whoever asks: nothing, a string, a class, an activation function."""
    return value is None or isinstance(value, (StrVal, ClassRef)) or \
        (isinstance(value, FuncRef) and value.function is None and value.activation is not None)


def _memo_key(function: ast.AST, bound: dict, frame: Frame) -> tuple | None:
    """A key for a call whose arguments are all plain values; None when one is not (a module, a list...)."""
    if frame.dispatch is not None:
        return None
    parts: list = [id(function), frame.depth]
    for name, value in sorted(bound.items()):
        if value is None:
            parts.append((name, None))
        elif isinstance(value, StrVal):
            parts.append((name, "s", value.value))
        elif isinstance(value, ClassRef):
            parts.append((name, "c", value.name, id(value.local), tuple(id(k) for k in value.keywords)))
        elif isinstance(value, FuncRef) and value.function is None and value.activation is not None:
            use = value.activation
            parts.append((name, "a", use.spec.name, use.slope, use.label))
        else:
            return None
    return tuple(parts)


def _assignment_call(target: ast.AST, value: ast.expr) -> ast.Call:
    """A stand-in call node located at the assignment, so findings about it have a position."""
    call = ast.Call(func=target, args=[value], keywords=[])
    return ast.copy_location(call, target)


_PURE_BUILTINS = frozenset({"print", "isinstance", "issubclass", "hasattr", "getattr", "len", "type", "str", "repr",
                            "id", "hash", "iter", "next", "list", "tuple", "dict", "set", "sorted", "enumerate",
                            "zip", "super", "callable", "vars", "dir", "format", "logger.info", "logger.warning"})


class _UnknownType:
    pass


_Unknown = _UnknownType()
_NotHandled = object()


def _compare(op: ast.cmpop, left, right):
    try:
        if isinstance(op, (ast.Eq, ast.Is)):
            return left == right
        if isinstance(op, (ast.NotEq, ast.IsNot)):
            return left != right
        if isinstance(op, ast.Gt):
            return left > right
        if isinstance(op, ast.GtE):
            return left >= right
        if isinstance(op, ast.Lt):
            return left < right
        if isinstance(op, ast.LtE):
            return left <= right
        if isinstance(op, ast.In):
            return left in right
        if isinstance(op, ast.NotIn):
            return left not in right
    except TypeError:
        return None
    return None


def _target_name(target: ast.expr, named: bool) -> str | None:
    if named and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name):
        return target.elts[1].id
    if isinstance(target, ast.Name):
        return target.id
    return None


def iter_calls(body: Iterable[ast.AST]) -> Iterable[ast.Call]:
    for statement in body:
        for node in walk(statement):
            if isinstance(node, ast.Call):
                yield node
