"""The semantic model's nouns: module nodes, consumers of their output, and init events on their parameters."""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass, field

from initlint.catalog import torch as catalog

# ModuleNode kinds
LAYER = "layer"  # has parameters the catalog knows (Linear, Conv2d, BatchNorm2d, LSTM, ...)
ACTIVATION = "activation"
TRANSPARENT = "transparent"  # dropout, pooling, flatten, identity
CONTAINER = "container"  # Sequential, ModuleList, ModuleDict
BLOCK = "block"  # an instance of a module class defined in this file
UNKNOWN = "unknown"

# Consumer kinds
C_ACTIVATION = "activation"
C_OUTPUT = "output"  # the value leaves the model: the layer is a head
C_UNKNOWN = "unknown"
C_LAYER = "layer"  # another layer, with no activation in between
C_GATE = "gate"  # multiplied by another tensor


@dataclass(frozen=True)
class ActivationUse:
    """An activation as written: which catalog activation, its slope, and the spelling for messages."""

    spec: catalog.ActivationSpec
    label: str
    slope: float | None = None
    line: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    def effective_slope(self) -> float | None:
        return self.slope if self.slope is not None else self.spec.default_slope


@dataclass(frozen=True)
class Consumer:
    kind: str
    activation: ActivationUse | None = None
    via_norm: bool = False
    line: int = 0
    label: str = ""


@dataclass(eq=False)
class InitOp:
    """One call that writes a tensor: `nn.init.X(t, ...)`, a wrapper, or an in-place tensor method."""

    node: ast.Call
    name: str  # canonical function name: `xavier_uniform_`, or the tensor method (`normal_`)
    family: str
    args: dict[str, ast.expr]  # bound by parameter name, the tensor excluded
    target: ast.expr | None  # the tensor expression, `.data` stripped
    tensor_method: bool = False
    uses_data: bool = False  # the target was reached through `.data`
    spec: catalog.InitFunctionSpec | None = None
    wrapper: catalog.WrapperSpec | None = None
    label: str = ""  # as written, for messages: `nn.init.xavier_uniform_`

    def literal(self, name: str, default=None):
        """A numeric or string literal argument, the function's default when absent, or None when not literal."""
        if name in self.args:
            return literal_value(self.args[name])
        if self.spec is not None:
            return self.spec.default(name) if default is None else default
        if self.wrapper is not None:
            for key, value in self.wrapper.defaults:
                if key == name:
                    return value
        return default


@dataclass(eq=False)
class InitEvent:
    """An init op reaching one parameter of one module node, in execution order."""

    op: InitOp | None  # None: `reset_parameters()` back to the catalog default
    param: str
    via: str  # "direct", "apply", "modules-loop", "named-parameters", "helper", "init-weights", "reset"
    conditional: bool = False  # under a condition that does not test the module (a config option)
    report_node: ast.AST | None = None  # where a finding about it is reported (defaults to the op's call)
    dispatch: "Dispatch | None" = None

    @property
    def node(self) -> ast.AST | None:
        return self.report_node or (self.op.node if self.op else None)


@dataclass(eq=False)
class Dispatch:
    """A function that `apply`/a modules() loop runs over every submodule."""

    function: ast.AST  # FunctionDef or Lambda, or the For loop
    call: ast.AST  # the apply(...) call or the loop
    param: str  # the module parameter's name


@dataclass(eq=False)
class ModuleNode:
    kind: str
    cls: str  # runtime class name: `Linear`, a local class name, `Sequential`
    path: str  # dotted path inside its owner: `fc1`, `features.0`
    node: ast.AST
    display_prefix: str = "self"
    spec: catalog.LayerSpec | None = None
    flags: dict[str, object] = field(default_factory=dict)
    args: dict[str, ast.expr] = field(default_factory=dict)
    activation: ActivationUse | None = None
    activation_options: tuple[ActivationUse | None, ...] = ()  # a choice of activations
    children: list["ModuleNode"] = field(default_factory=list)
    block: "ClassModel | None" = None
    wrapped: str | None = None  # "weight_norm" / "spectral_norm" / "parametrizations.weight_norm"
    consumers: list[Consumer] = field(default_factory=list)
    events: list[InitEvent] = field(default_factory=list)
    in_residual: bool = False  # its output is summed with another branch (e.g. the identity)
    head_via_activation: bool = False  # layer -> activation -> the model's output
    feeds_gate: bool = False  # layer -> activation -> multiplied into another branch

    @property
    def display(self) -> str:
        return f"{self.display_prefix}.{self.path}" if self.display_prefix else self.path

    def param_names(self) -> list[str]:
        """Every parameter this module registers (RNN layers and directions expanded)."""
        if self.spec is None:
            return list(self.raw_params())
        names = []
        for param in self.spec.params:
            if catalog.param_present(self.spec, param, self.flags) is False:
                continue
            if self.spec.kind == catalog.RECURRENT and param.name.endswith("_l0"):
                layers = self.flags.get("num_layers", 1)
                layers = layers if isinstance(layers, int) and 0 < layers < 64 else 1
                directions = ["", "_reverse"] if self.flags.get("bidirectional") is True else [""]
                stem = param.name[:-1]
                names += [f"{stem}{k}{d}" for k in range(layers) for d in directions]
            else:
                names.append(param.name)
        return names

    def has_param(self, name: str) -> bool | None:
        """True, False, or None when it depends on a constructor argument that is not a literal."""
        if self.spec is None:
            if self.kind == BLOCK and self.block is not None:
                if name in self.block.raw_params:
                    return True
                return None if self.block.has_unknown_base else False
            return False
        for param in self.spec.params:
            if param.name == name or (self.spec.kind == catalog.RECURRENT and name.startswith(param.name[:-1])):
                return catalog.param_present(self.spec, param, self.flags)
        return False

    def raw_params(self) -> dict[str, int | None]:
        """Parameters a local class registers itself (`self.weight = nn.Parameter(...)`), with their ndim."""
        return self.block.raw_params if self.kind == BLOCK and self.block is not None else {}

    def param_ndim(self, name: str) -> int | None:
        if self.spec is None:
            return self.raw_params().get(name)
        for param in self.spec.params:
            if param.name == name or (self.spec.kind == catalog.RECURRENT and name.startswith(param.name[:-1])):
                if param.ndim is not None:
                    return param.ndim
                if self.spec.kind in (catalog.CONV, catalog.CONV_TRANSPOSE):
                    return 2 + (self.spec.spatial_dims or 0) if self.spec.spatial_dims else None
                if self.spec.kind == catalog.LINEAR:
                    return 2
        return None

    def last_events(self, param: str) -> list[InitEvent]:
        """The writes that decide the parameter's final value: the last unconditional one and any conditional after it."""
        events = [e for e in self.events if e.param == param]
        out: list[InitEvent] = []
        for event in reversed(events):
            out.append(event)
            if not event.conditional:
                break
        return list(reversed(out))

    def final_event(self, param: str) -> InitEvent | None:
        """The last unconditional write, if no conditional one follows it; None means the default or unknown."""
        events = self.last_events(param)
        if len(events) == 1 and not events[0].conditional:
            return events[0]
        return None

    def child(self, key) -> "ModuleNode | None":
        """A container's child by literal index (`seq[0]`, `seq[-1]`) or key (`blocks["a"]`)."""
        if isinstance(key, int) and not isinstance(key, bool) and -len(self.children) <= key < len(self.children):
            return self.children[key]
        if isinstance(key, str):
            return next((child for child in self.children if child.path.endswith("." + key)), None)
        return None

    def direct_activation_consumers(self) -> list[Consumer]:
        return [c for c in self.consumers if c.kind == C_ACTIVATION]

    def feeds(self) -> "Feeds":
        """What this layer's output feeds, summarised for the activation-aware rules."""
        consumers = self.consumers
        if not consumers:
            return Feeds(F_NOTHING)
        kinds = {c.kind for c in consumers}
        if kinds & {C_UNKNOWN, C_GATE} or self.feeds_gate:
            return Feeds(F_UNKNOWN)
        if kinds == {C_OUTPUT}:
            return Feeds(F_HEAD)
        if kinds == {C_ACTIVATION} and self.head_via_activation:
            return Feeds(F_HEAD, tuple(consumers))
        if kinds == {C_ACTIVATION}:
            return Feeds(F_ACTIVATION, tuple(c for c in consumers), any(c.via_norm for c in consumers))
        if kinds == {C_LAYER}:
            return Feeds(F_LINEAR, (), any(c.via_norm for c in consumers))
        return Feeds(F_UNKNOWN)


# What a layer feeds, as the rules see it.
F_ACTIVATION = "activation"
F_HEAD = "head"
F_UNKNOWN = "unknown"
F_LINEAR = "linear"
F_NOTHING = "nothing"


@dataclass(frozen=True)
class Feeds:
    kind: str
    consumers: tuple[Consumer, ...] = ()
    via_norm: bool = False

    @property
    def activations(self) -> list[ActivationUse]:
        return [c.activation for c in self.consumers if c.activation is not None]

    def all_activations(self, predicate) -> bool:
        acts = self.activations
        return self.kind == F_ACTIVATION and bool(acts) and all(predicate(a) for a in acts)

    def describe(self) -> str:
        seen: list[str] = []
        for consumer in self.consumers:
            if consumer.activation is None:
                continue
            text = f"`{consumer.label or consumer.activation.label}`"
            if consumer.line:
                text += f", line {consumer.line}"
            if text not in seen:
                seen.append(text)
        return "; ".join(seen)


@dataclass(eq=False)
class ClassModel:
    """A module class defined in this file (an nn.Module subclass, directly or through local classes)."""

    name: str
    node: ast.ClassDef
    base_names: list[str]
    catalog_base: str | None = None  # the torch class it extends: `Module`, `Linear`, `Sequential`, ...
    local_bases: list["ClassModel"] = field(default_factory=list)
    methods: dict[str, ast.FunctionDef] = field(default_factory=dict)
    children: list[ModuleNode] = field(default_factory=list)  # direct submodules in construction order
    attributes: dict[str, ModuleNode] = field(default_factory=dict)
    returns: list[tuple[ModuleNode, bool]] = field(default_factory=list)  # producers of forward's output
    raw_params: dict[str, int | None] = field(default_factory=dict)
    raw_param_nodes: dict[str, ast.AST] = field(default_factory=dict)
    has_unknown_base: bool = False
    used_as_block: bool = False
    walked: bool = False
    analysed: bool = False
    uses_attention: bool = False
    pending_bases: list = field(default_factory=list)  # imported bases not resolved yet (another file's class)
    _home: object = field(default=None, repr=False, compare=False)

    # The FileModel of the file defining the class, held weakly: rules cache values per model in weak-keyed
    # dictionaries, and a strong reference back from a cached class to its model would keep both alive forever.
    @property
    def home(self):
        return self._home() if self._home is not None else None

    @home.setter
    def home(self, model) -> None:
        self._home = weakref.ref(model) if model is not None else None

    def method(self, name: str) -> ast.FunctionDef | None:
        owner = self.method_owner(name)
        return owner.methods[name] if owner is not None else None

    def method_owner(self, name: str, seen: set | None = None) -> "ClassModel | None":
        """The class (this one or a base, possibly in another file) whose body defines method `name`."""
        if name in self.methods:
            return self
        seen = set() if seen is None else seen
        seen.add(id(self))
        for base in self.local_bases:
            if id(base) not in seen:
                found = base.method_owner(name, seen)
                if found is not None:
                    return found
        return None

    def is_subclass_of(self, name: str, seen: set | None = None) -> bool:
        if self.name == name:
            return True
        seen = set() if seen is None else seen
        seen.add(id(self))
        return any(base.is_subclass_of(name, seen) for base in self.local_bases if id(base) not in seen)

    def all_nodes(self, seen: set | None = None) -> list[ModuleNode]:
        """Every module node reachable from this class, children before parents as `apply` visits them."""
        seen = set() if seen is None else seen
        if id(self) in seen:
            return []
        seen.add(id(self))
        out: list[ModuleNode] = []
        for child in self.children:
            out += _walk_node(child, seen)
        return out


def _walk_node(node: ModuleNode, seen: set) -> list[ModuleNode]:
    out: list[ModuleNode] = []
    for child in node.children:
        out += _walk_node(child, seen)
    if node.block is not None:
        out += node.block.all_nodes(seen)
    out.append(node)
    return out


def literal_value(expr: ast.AST | None):
    """A number, string, bool or None literal (with unary minus, `math.sqrt(5)`, `np.sqrt(2)`, simple arithmetic)."""
    import math

    if expr is None:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, float, str, bool)):
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        value = literal_value(expr.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(expr.op, ast.USub) else value
        return None
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "sqrt" \
            and isinstance(expr.func.value, ast.Name) and expr.func.value.id in ("math", "np", "numpy") and len(expr.args) == 1:
        value = literal_value(expr.args[0])
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return math.sqrt(value)
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Mult, ast.Div, ast.Add, ast.Sub, ast.Pow)):
        left, right = literal_value(expr.left), literal_value(expr.right)
        if isinstance(left, (int, float)) and isinstance(right, (int, float)) and not isinstance(left, bool) \
                and not isinstance(right, bool):
            try:
                if isinstance(expr.op, ast.Mult):
                    return left * right
                if isinstance(expr.op, ast.Div):
                    return left / right
                if isinstance(expr.op, ast.Add):
                    return left + right
                if isinstance(expr.op, ast.Sub):
                    return left - right
                if abs(right) <= 8:
                    return left ** right
            except (ZeroDivisionError, OverflowError):
                return None
    return None
