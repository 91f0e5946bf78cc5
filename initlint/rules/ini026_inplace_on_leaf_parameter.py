from __future__ import annotations

import ast
import re
import weakref
from collections import defaultdict
from dataclasses import dataclass, field

from initlint.catalog import torch as catalog
from initlint.findings import Edit, Position
from initlint.fixes import SAFE, FixBuilder, init_spelling
from initlint.model.semantic import FileModel
from initlint.rules.base import Rule, Violation

# ------------------------------------------------------------------------------------------------------------------
# Queries the API-misuse rules (INI020, INI026, INI027) share: what is a parameter, and where grad is disabled.
# They live here (not in the model) because only these rules need them; the other two import them.

# Attribute names torch's layers register as parameters (plus weight-norm/spectral-norm's re-registrations).
PARAM_NAMES = frozenset(p.name for spec in catalog.LAYERS.values() for p in spec.params) | {
    "weight_g", "weight_v", "weight_orig", "in_proj_weight", "in_proj_bias", "q_proj_weight", "k_proj_weight",
    "v_proj_weight",
}
_RNN_PARAM = re.compile(r"^(weight|bias)_(ih|hh|hr)(_l\d+(_reverse)?)?$")
_PARAMETER_CLASSES = ("torch.nn.Parameter", "torch.nn.parameter.Parameter", "Parameter")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_NO_GRAD_NAMES = ("no_grad", "inference_mode")
# Methods HF's PreTrainedModel runs under `@torch.no_grad()` (initialize_weights -> _initialize_weights -> _init_weights).
_HF_NO_GRAD_METHODS = ("_init_weights", "_initialize_weights", "initialize_weights", "init_weights")

# Torch factories whose result is a plain tensor (not a Parameter).
TENSOR_FACTORIES = frozenset(f"torch.{name}" for name in (
    "randn", "rand", "randint", "randperm", "zeros", "ones", "empty", "full", "tensor", "Tensor", "FloatTensor",
    "DoubleTensor", "HalfTensor", "LongTensor", "eye", "arange", "linspace", "logspace", "from_numpy", "as_tensor",
    "randn_like", "rand_like", "zeros_like", "ones_like", "empty_like", "full_like", "normal", "cat", "stack",
    "empty_strided",
))
# Tensor methods that return a new plain tensor, whatever they are called on.
NEW_TENSOR_METHODS = frozenset({"clone", "detach", "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"})
_RANDOM_FILL_METHODS = frozenset({"normal_", "uniform_", "fill_", "zero_"})




def nodes_of(model: FileModel, *kinds: type) -> list[ast.AST]:
    """The file's nodes of these exact types, from the model's shared index."""
    return model.nodes_of(*kinds)


def param_index(model: FileModel) -> "ParamIndex":
    index = model.rule_cache.get("param_index")
    if index is None:
        index = model.rule_cache["param_index"] = ParamIndex(model)
    return index


def is_param_name(name: str) -> bool:
    return name in PARAM_NAMES or bool(_RNN_PARAM.match(name))


def short(node: ast.AST, limit: int = 60) -> str:
    """Source text of a node for a message, with long call arguments elided."""
    text = ast.unparse(node)
    if len(text) <= limit:
        return text
    if isinstance(node, ast.Call):
        return f"{ast.unparse(node.func)}(...)"
    return text[: limit - 3] + "..."


def strip_subscripts(expr: ast.expr) -> tuple[ast.expr, bool]:
    viewed = False
    while isinstance(expr, ast.Subscript):
        expr = expr.value
        viewed = True
    return expr, viewed


def data_node(expr: ast.AST | None) -> ast.Attribute | None:
    """The `.data` attribute in `m.weight.data` or `m.weight.data[0]`, or None."""
    while isinstance(expr, ast.Subscript):
        expr = expr.value
    if isinstance(expr, ast.Attribute) and expr.attr == "data":
        return expr
    return None


def is_parameter_call(model: FileModel, expr: ast.AST) -> bool:
    return isinstance(expr, ast.Call) and (model.names.qualname(expr.func) or "") in _PARAMETER_CLASSES


def last_name(expr: ast.AST) -> str | None:
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    return None


def _false(expr: ast.AST | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is False


def _true(expr: ast.AST | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


@dataclass
class ClassFacts:
    """What a module class does with `self.<name>`: parameters, buffers, plain attributes."""

    is_module: bool = False
    params: dict[str, int] = field(default_factory=dict)  # name -> line of the first registration
    frozen: set[str] = field(default_factory=set)  # nn.Parameter(..., requires_grad=False) or toggled off
    thawed: set[str] = field(default_factory=set)
    buffers: set[str] = field(default_factory=set)
    plain: set[str] = field(default_factory=set)  # assigned something that is not a Parameter (module, tensor...)
    layer_params: set[str] = field(default_factory=set)  # registered by the torch layer the class extends


class ParamIndex:
    """Answers "is this expression a parameter that requires grad?" from the file alone."""

    def __init__(self, model: FileModel) -> None:
        self._model = weakref.ref(model)  # kept in model.rule_cache: no strong cycle needed
        self._facts: dict[int, ClassFacts] = {}
        self._class_models = {klass.node: klass for klass in model.classes.values()}
        self._own: dict[int, ClassFacts] = defaultdict(ClassFacts)  # per ClassDef, before inheritance
        self._toggles: list[tuple[ast.AST, ast.expr, ast.expr]] = []  # (statement, subject, flag)
        self._collect()
        self._all_params: set[str] = set()
        self._all_buffers: set[str] = set()
        for klass in nodes_of(model, ast.ClassDef):
            facts = self.facts(klass)
            self._all_params |= set(facts.params) - facts.frozen
            self._all_buffers |= facts.buffers | facts.plain
        self._frozen_texts = self._file_frozen_texts()
        self._refs: dict[str, list[ast.AST]] | None = None

    def _collect(self) -> None:
        """One pass over calls and assignments: registrations, `self.x = ...`, `requires_grad` toggles."""
        for node in self.model.calls:
            func = node.func
            if not isinstance(func, ast.Attribute):
                continue
            if func.attr in ("register_buffer", "register_parameter") and _is_self(func.value):
                key = _string_arg(node, 0, "name")
                klass = self.enclosing_class(node)
                if key is None or klass is None:
                    continue
                own = self._own[id(klass)]
                if func.attr == "register_buffer":
                    own.buffers.add(key)
                else:
                    value = node.args[1] if len(node.args) > 1 else None
                    own.params.setdefault(key, node.lineno)
                    if isinstance(value, ast.Call) and is_parameter_call(self.model, value) and _frozen_parameter(value):
                        own.frozen.add(key)
            elif func.attr == "requires_grad_":
                flag = node.args[0] if node.args else next(
                    (k.value for k in node.keywords if k.arg == "requires_grad"), ast.Constant(True))
                self._toggles.append((node, func.value, flag))
        for node in nodes_of(self.model, ast.Assign, ast.AnnAssign):
            if node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not isinstance(target, ast.Attribute):
                    continue
                if _is_self(target.value):
                    klass = self.enclosing_class(node)
                    if klass is not None:
                        self._record_self_assign(self._own[id(klass)], target.attr, node.value, node.lineno)
                elif target.attr == "requires_grad":
                    self._toggles.append((node, target.value, node.value))
        for node, subject, flag in self._toggles:
            if isinstance(subject, ast.Attribute) and _is_self(subject.value):
                klass = self.enclosing_class(node)
                if klass is not None:
                    own = self._own[id(klass)]
                    (own.frozen if _false(flag) else own.thawed).add(subject.attr)

    @property
    def model(self) -> FileModel:
        return self._model()  # type: ignore[return-value]

    # ---------------------------------------------------------------------------------------------- class facts

    def facts(self, klass: ast.ClassDef) -> ClassFacts:
        cached = self._facts.get(id(klass))
        if cached is not None:
            return cached
        facts = ClassFacts()
        self._facts[id(klass)] = facts  # (cycles through local bases)
        own = self._own.get(id(klass)) or ClassFacts()
        facts.params = dict(own.params)
        facts.frozen = set(own.frozen) - own.thawed
        facts.thawed = set(own.thawed)
        facts.buffers = set(own.buffers)
        facts.plain = set(own.plain)
        model_class = self._class_models.get(klass)
        facts.is_module = model_class is not None
        if model_class is not None:
            spec = catalog.LAYERS.get(model_class.catalog_base or "")
            if spec is not None:
                facts.layer_params = {p.name for p in spec.params}
            if model_class.has_unknown_base:
                facts.layer_params |= {"weight", "bias"}
            for base in model_class.local_bases:
                inherited = self.facts(base.node)
                for name in inherited.params:
                    facts.params.setdefault(name, 0)
                facts.frozen |= inherited.frozen
                facts.buffers |= inherited.buffers
                facts.plain |= inherited.plain
                facts.layer_params |= inherited.layer_params
        facts.plain -= set(facts.params)
        return facts

    def _record_self_assign(self, facts: ClassFacts, name: str, value: ast.expr, line: int) -> None:
        if isinstance(value, ast.Constant) and value.value is None:
            return
        if is_parameter_call(self.model, value):
            facts.params.setdefault(name, line)
            if _frozen_parameter(value):
                facts.frozen.add(name)
            return
        facts.plain.add(name)

    def enclosing_class(self, node: ast.AST) -> ast.ClassDef | None:
        return self.model.enclosing(node, (ast.ClassDef,))  # type: ignore[return-value]

    # ------------------------------------------------------------------------------------------- parameters

    def is_param(self, expr: ast.AST, at: ast.AST) -> bool:
        """A parameter (that requires grad) as far as the file shows: `m.weight`, a `parameters()` loop
        variable, `self.<name>` registered with `nn.Parameter`. Buffers and plain tensors are not."""
        if isinstance(expr, ast.Name):
            iterable = self.loop_parameters(expr.id, at)
            return iterable is not None and not self._frozen_iterable(iterable)
        if not isinstance(expr, ast.Attribute):
            return False
        name = expr.attr
        if _is_self(expr.value):
            klass = self.enclosing_class(at)
            if klass is None:
                return False
            facts = self.facts(klass)
            if name in facts.buffers:
                return False
            if name in facts.params:
                return name not in facts.frozen
            if name in facts.plain or not facts.is_module:
                return False
            return name in facts.layer_params or (is_param_name(name) and not facts.layer_params)
        if self._frozen_texts:
            chain: ast.expr = expr
            while isinstance(chain, (ast.Attribute, ast.Subscript)):
                if ast.unparse(chain) in self._frozen_texts:
                    return False  # the tensor or a module holding it had requires_grad switched off
                chain = chain.value
        if is_param_name(name):
            return True
        return name in self._all_params and name not in self._all_buffers

    def loop_parameters(self, name: str, at: ast.AST) -> ast.expr | None:
        """The `X.parameters()` iterable a loop (or comprehension) binds `name` from, for the code at `at`."""
        child, parent = at, self.model.parents.get(at)
        while parent is not None and not isinstance(parent, (ast.ClassDef, ast.Module)):
            if isinstance(parent, (ast.For, ast.AsyncFor)) and child is not parent.iter and child is not parent.target:
                if _binds(parent.target, name):
                    return _parameter_source(parent.target, parent.iter, name)
            elif isinstance(parent, _COMPREHENSIONS):
                for generator in parent.generators:
                    if _binds(generator.target, name):
                        return _parameter_source(generator.target, generator.iter, name)
            elif isinstance(parent, (*_FUNCTIONS, ast.Lambda)):
                arguments = parent.args
                if any(a.arg == name for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs):
                    return None
            child, parent = parent, self.model.parents.get(parent)
        return None

    def _frozen_iterable(self, iterable: ast.expr) -> bool:
        owner = _parameters_owner(iterable)
        return owner is not None and owner in self._frozen_texts

    def _file_frozen_texts(self) -> set[str]:
        """Expressions the file freezes (`ema.requires_grad_(False)`, `for p in ema.parameters(): p.requires_grad = False`)
        and never unfreezes: in-place updates on them are legal."""
        frozen: set[str] = set()
        thawed: set[str] = set()
        for node, subject, flag in self._toggles:
            texts = {ast.unparse(subject)}
            if isinstance(subject, ast.Name):
                iterable = self.loop_parameters(subject.id, node)
                owner = _parameters_owner(iterable) if iterable is not None else None
                if owner is not None:
                    texts = {owner}
            (frozen if _false(flag) else thawed).update(texts)
        return frozen - thawed

    # --------------------------------------------------------------------------------------------- no-grad

    def no_grad(self, node: ast.AST, seen: frozenset = frozenset()) -> bool:
        """True when the code at `node` runs with grad disabled (or the tensor's grad is switched off there)."""
        child, parent = node, self.model.parents.get(node)
        while parent is not None:
            if isinstance(parent, (ast.With, ast.AsyncWith)) and child in parent.body:
                if any(self._disables_grad(item.context_expr) for item in parent.items):
                    return True
            elif isinstance(parent, _FUNCTIONS):
                if any(self._disables_grad(d, decorator=True) for d in parent.decorator_list):
                    return True
                if self._grad_disabled_before(parent, node):
                    return True
                if self._called_without_grad(parent, seen):
                    return True
            child, parent = parent, self.model.parents.get(parent)
        return False

    def _disables_grad(self, expr: ast.expr, decorator: bool = False) -> bool:
        name = last_name(expr)
        if name in _NO_GRAD_NAMES:
            if isinstance(expr, ast.Call) and (_false(expr.args[0] if expr.args else None)
                                               or any(k.arg == "mode" and _false(k.value) for k in expr.keywords)):
                return False
            return True
        if name == "set_grad_enabled" and isinstance(expr, ast.Call):
            return _false(expr.args[0] if expr.args else None)
        return False

    def _grad_disabled_before(self, function: ast.AST, node: ast.AST) -> bool:
        """`torch.set_grad_enabled(False)` earlier in the same function, not re-enabled before `node`."""
        state = None
        line = getattr(node, "lineno", 0)
        for stmt in sorted(_own_calls(function), key=lambda n: n.lineno):
            if stmt.lineno >= line:
                break
            if last_name(stmt) == "set_grad_enabled" and stmt.args:
                state = _false(stmt.args[0])
        return bool(state)

    def _called_without_grad(self, function: ast.FunctionDef, seen: frozenset) -> bool:
        """Every reference to the function in this file runs with grad disabled (e.g. `with torch.no_grad():
        self.apply(self._init_weights)`), or HF's PreTrainedModel runs it under `@torch.no_grad()`."""
        if id(function) in seen:
            return False
        seen = seen | {id(function)}
        klass = self.model.parents.get(function)
        if isinstance(klass, ast.ClassDef) and function.name in _HF_NO_GRAD_METHODS and self._hf_model(klass, set()):
            return True
        references = [ref for ref in self._references().get(function.name, ())
                      if not _inside(self.model, ref, function)]
        if isinstance(klass, ast.ClassDef):
            references = [ref for ref in references if isinstance(ref, ast.Attribute)]
        else:
            references = [ref for ref in references if isinstance(ref, ast.Name)]
        return bool(references) and all(self.no_grad(ref, seen) for ref in references)

    def _hf_model(self, klass: ast.ClassDef, seen: set) -> bool:
        if id(klass) in seen:
            return False
        seen.add(id(klass))
        for base in klass.bases:
            qualname = self.model.names.qualname(base) or ""
            if qualname.endswith("PreTrainedModel") and not qualname.startswith("<local>."):
                return True
            if qualname.startswith("<local>.") and qualname[8:] in self.model.classes:
                if self._hf_model(self.model.classes[qualname[8:]].node, seen):
                    return True
        return False

    def _references(self) -> dict[str, list[ast.AST]]:
        if self._refs is None:
            refs: dict[str, list[ast.AST]] = defaultdict(list)
            for node in nodes_of(self.model, ast.Name):
                refs[node.id].append(node)
            for node in nodes_of(self.model, ast.Attribute):
                refs[node.attr].append(node)
            self._refs = refs
        return self._refs

    def frozen_in_function(self, target: ast.expr, node: ast.AST) -> bool:
        """`p.requires_grad_(False)` / `p.requires_grad = False` on the tensor (or its module) earlier in the same
        function, with no restore before `node`."""
        function = self.model.enclosing(node, _FUNCTIONS) or self.model.tree
        texts = {ast.unparse(target)}
        base = target
        while isinstance(base, ast.Attribute):
            base = base.value
            texts.add(ast.unparse(base))
        if isinstance(target, ast.Name):
            iterable = self.loop_parameters(target.id, node)
            owner = _parameters_owner(iterable) if iterable is not None else None
            if owner:
                texts.add(owner)
        line = getattr(node, "lineno", 0)
        state = None
        toggles = []
        for item, subject, flag in self._toggles:
            if item.lineno >= line or not _inside(self.model, item, function):
                continue
            subject_texts = {ast.unparse(subject)}
            if isinstance(subject, ast.Name):
                iterable = self.loop_parameters(subject.id, item)
                owner = _parameters_owner(iterable) if iterable is not None else None
                if owner:
                    subject_texts.add(owner)
            if subject_texts & texts:
                toggles.append((item.lineno, _false(flag)))
        for _line, off in sorted(toggles):
            state = off
        return bool(state)


def _is_self(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Name) and expr.id == "self"


def _string_arg(call: ast.Call, index: int, keyword: str) -> str | None:
    value = call.args[index] if len(call.args) > index else next((k.value for k in call.keywords if k.arg == keyword), None)
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None


def _frozen_parameter(call: ast.Call) -> bool:
    if any(k.arg == "requires_grad" and _false(k.value) for k in call.keywords):
        return True
    return len(call.args) > 1 and _false(call.args[1])


def _binds(target: ast.expr, name: str) -> bool:
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_binds(e, name) for e in target.elts)
    return False


def _parameter_source(target: ast.expr, iterable: ast.expr, name: str) -> ast.expr | None:
    """The `X.parameters()` call `name` comes from in `for <target> in <iterable>`, or None."""
    while isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) \
            and iterable.func.id in ("list", "tuple", "reversed", "sorted", "iter") and iterable.args:
        iterable = iterable.args[0]
    if not isinstance(iterable, ast.Call):
        return None
    func = iterable.func
    method = last_name(func)
    if isinstance(func, ast.Attribute) and method == "parameters":
        return iterable if isinstance(target, ast.Name) and target.id == name else None
    if isinstance(func, ast.Attribute) and method == "named_parameters":
        if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name) \
                and target.elts[1].id == name:
            return iterable
        return None
    if method == "enumerate" and iterable.args and isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 2:
        return _parameter_source(target.elts[1], iterable.args[0], name)
    if method == "filter" and len(iterable.args) == 2:
        return _parameter_source(target, iterable.args[1], name)
    if method == "zip" and isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == len(iterable.args):
        for element, source in zip(target.elts, iterable.args):
            if _binds(element, name):
                return _parameter_source(element, source, name)
        return None
    if method == "chain" and iterable.args and isinstance(target, ast.Name) and target.id == name:
        sources = [_parameter_source(target, a, name) for a in iterable.args]
        return sources[0] if all(s is not None for s in sources) else None
    return None


def _parameters_owner(iterable: ast.expr | None) -> str | None:
    """`ema.parameters()` -> "ema"."""
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute):
        return ast.unparse(iterable.func.value)
    return None


def _own_calls(function: ast.AST):
    """Calls in a function's own body (not in nested functions)."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (*_FUNCTIONS, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _inside(model: FileModel, node: ast.AST, ancestor: ast.AST) -> bool:
    parent = model.parents.get(node)
    while parent is not None:
        if parent is ancestor:
            return True
        parent = model.parents.get(parent)
    return False


def init_context(model: FileModel, node: ast.AST) -> bool:
    """Initialization code: inside `__init__`, an `*init*`/`reset*` function, or a function `apply` dispatches."""
    dispatched = model.rule_cache.get("dispatched_functions")
    if dispatched is None:
        dispatched = model.rule_cache["dispatched_functions"] = {id(d.function) for d, _nodes in model.dispatches}
    parent = model.parents.get(node)
    while parent is not None:
        if isinstance(parent, (*_FUNCTIONS, ast.Lambda)):
            if id(parent) in dispatched:
                return True
            if isinstance(parent, _FUNCTIONS):
                name = parent.name.lower()
                return "init" in name or name.startswith(("reset", "_reset"))
        parent = model.parents.get(parent)
    return False


# ------------------------------------------------------------------------------------------------------------ fixes
# Shared with INI020: a tensor fill method rewritten as the `nn.init` function that does the same write under
# `torch.no_grad()`.

# method -> (nn.init function, the method's positional parameters, its keywords mapped onto the function's).
# `Tensor.uniform_(from=0, to=1)`: `from` is a Python keyword, so it can only be passed positionally.
# `generator=` is left alone: `nn.init` accepts it only from torch 2.2, the tensor methods much longer.
INIT_EQUIVALENTS: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "normal_": ("normal_", ("mean", "std"), {"mean": "mean", "std": "std"}),
    "uniform_": ("uniform_", ("from", "to"), {"to": "b"}),
    "fill_": ("constant_", ("value",), {"value": "val"}),
    "zero_": ("zeros_", (), {}),
}


def source_text(builder: FixBuilder, start: Position, end: Position) -> str:
    """The source between two character positions."""
    lines = builder.source.lines
    if start.row == end.row:
        return lines[start.row - 1][start.column - 1:end.column - 1]
    parts = [lines[start.row - 1][start.column - 1:], *lines[start.row:end.row - 1], lines[end.row - 1][:end.column - 1]]
    return "\n".join(parts)


def text_without_data(builder: FixBuilder, expr: ast.expr) -> str | None:
    """`m.weight.data[0]` as written, minus its `.data`: `m.weight[0]` (None when `.data` spans lines)."""
    data = data_node(expr)
    start, end = builder.source.node_range(expr)
    if data is None:
        return builder.segment(expr)
    _inner_start, cut_start = builder.source.node_range(data.value)
    _data_start, cut_end = builder.source.node_range(data)
    if cut_start.row != cut_end.row:
        return None
    return source_text(builder, start, cut_start) + source_text(builder, cut_end, end)


def method_to_init_fix(builder: FixBuilder, call: ast.Call, applicability: str = SAFE):
    """`<tensor>.normal_(0, 0.01)` -> `nn.init.normal_(<tensor>, 0, 0.01)` (`.data` dropped from the tensor):
    the method's receiver and name become the function, the tensor goes in front of the arguments, and the
    arguments stay as written (comments included). None when the call has no `nn.init` equivalent or its
    arguments do not map (`*args`, `**kwargs`, `generator=`, more arguments than the method takes)."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in INIT_EQUIVALENTS:
        return None
    function, positional, keywords = INIT_EQUIVALENTS[func.attr]
    if any(isinstance(a, ast.Starred) for a in call.args) or len(call.args) > len(positional):
        return None
    given = set(positional[:len(call.args)])
    for keyword in call.keywords:
        if keyword.arg is None or keyword.arg not in keywords or keyword.arg in given:
            return None
        given.add(keyword.arg)
    if (func.end_lineno or func.lineno) != func.lineno:
        return None  # a receiver written over several lines may hold comments the rewrite would drop
    tensor = text_without_data(builder, func.value)
    if tensor is None:
        return None
    arguments = sorted([*call.args, *call.keywords], key=lambda a: (a.lineno, a.col_offset))
    found = _first_argument_position(builder, call, arguments)
    if found is None:
        return None
    where, separator = found
    spelling = init_spelling(builder, function, call)
    if spelling is None:
        return None
    spelled, imports = spelling
    edits: list[Edit | None] = [builder.replace(func, spelled),
                                Edit(f"{tensor}{separator}" if arguments else tensor, where, where)]
    for keyword in call.keywords:
        renamed = keywords[keyword.arg]
        if renamed != keyword.arg:
            start, _end = builder.source.node_range(keyword)
            edits.append(Edit(renamed, start, Position(start.row, start.column + len(keyword.arg))))
    label = f"{spelled}({tensor}, ...)" if arguments else f"{spelled}({tensor})"
    return builder.fix(applicability, f"Use `{label}`", [*edits, *imports])


def _first_argument_position(builder: FixBuilder, call: ast.Call, arguments: list) -> tuple[Position, str] | None:
    """Where the tensor goes, and what follows it: right after the call's `(` (past spaces) then `, `, or on a
    line of its own before the first argument when the arguments start on the next line. A parenthesized first
    argument keeps its parentheses after the tensor."""
    _start, func_end = builder.source.node_range(call.func)
    line = builder.source.line(func_end.row)
    index = func_end.column - 1
    while index < len(line) and line[index] in " \t":
        index += 1
    if index >= len(line) or line[index] != "(":
        return None
    index += 1
    rest = line[index:]
    if not arguments:
        return Position(func_end.row, index + 1), ""
    if rest.strip() and not rest.lstrip().startswith("#"):
        return Position(func_end.row, index + 1 + len(rest) - len(rest.lstrip())), ", "
    first, _end = builder.source.node_range(arguments[0])
    before = builder.source.line(first.row)[:first.column - 1]
    if first.row <= func_end.row or before.strip():
        return None
    return first, "," + builder.newline() + before


# ------------------------------------------------------------------------------------------------------------ rule

# In-place tensor methods that raise on a leaf that requires grad (trunc_normal_ is no Tensor method at all).
INPLACE_METHODS = (frozenset(catalog.INPLACE_TENSOR_INITS) | {
    "mul_", "div_", "add_", "sub_", "clamp_", "clamp_min_", "clamp_max_", "clip_", "masked_fill_", "index_fill_",
    "index_copy_", "scatter_", "renorm_", "addcmul_", "addcdiv_", "lerp_", "abs_", "neg_", "sqrt_", "exp_", "pow_",
}) - {"trunc_normal_"}
_KEYWORD_ALIASES = {"from": "a", "to": "b", "value": "val"}
_LEAF_ERROR = "RuntimeError: a leaf Variable that requires grad is being used in an in-place operation"
_VIEW_ERROR = "RuntimeError: a view of a leaf Variable that requires grad is being used in an in-place operation"


class InplaceOnLeafParameter(Rule):
    """## What it does
    Flags in-place writes to a parameter outside any no-grad context: tensor methods such as
    `m.weight.normal_(0, 0.01)`, `.uniform_()`, `.fill_()`, `.zero_()`, `.copy_()`, `.mul_()`, augmented
    assignments such as `m.weight *= 0.1`, and item assignments such as `m.weight[0] = 1`.

    A parameter is `<module>.weight`/`.bias` (and the other parameter names torch layers register), a loop
    variable over `parameters()`/`named_parameters()`, or `self.<name>` registered with `nn.Parameter`.
    Buffers and local tensors are not. No-grad contexts: `with torch.no_grad()` / `torch.inference_mode()`,
    `@torch.no_grad()` on the function (or an enclosing one, or on every caller in the file),
    `torch.set_grad_enabled(False)` earlier in the function, and `requires_grad` switched off on the tensor.
    HF `_init_weights` methods are exempt: `PreTrainedModel` calls them under `@torch.no_grad()`.

    ## Why is this bad?
    A parameter is a leaf tensor that requires grad; autograd forbids writing into it in place and raises
    `RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.` (for a slice:
    `a view of a leaf Variable ...`) as soon as the line runs, typically when the model is first built.
    The `nn.init` functions do the same writes under `torch.no_grad()` themselves.

    ## Example
    ```python
    def init_weights(m):
        if isinstance(m, nn.Linear):
            m.weight.normal_(0, 0.01)
            m.bias.zero_()
    ```

    ## Use instead
    ```python
    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    ```
    or wrap the writes in `with torch.no_grad():`.

    ## Fix safety
    Safe: `.normal_(...)`, `.uniform_(...)`, `.fill_(v)` and `.zero_()` become `nn.init.normal_`,
    `nn.init.uniform_`, `nn.init.constant_` and `nn.init.zeros_` on the same tensor with the same arguments
    (`uniform_`'s `to=` becomes `b=`, `fill_`'s `value=` becomes `val=`). The function does the same write
    under `torch.no_grad()` and returns the same tensor, so the line does what it meant to instead of raising;
    the file's own spelling of `nn.init` is used (an import is added only when there is none). No fix for
    `.copy_()`, `.mul_()` and the other updates, augmented or item assignments (no `nn.init` equivalent:
    wrap them in `with torch.no_grad():`), nor for calls with `*args`, `**kwargs` or `generator=` (`nn.init`
    accepts it only from torch 2.2).
    """

    code = "INI026"
    name = "inplace-on-leaf-parameter"
    invalid = (
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, nn.Linear):
        m.weight.normal_(0, 0.01)
        m.bias.zero_()

net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
net.apply(init_weights)
""",
        """
import torch
import torch.nn as nn

class Head(nn.Module):
    def __init__(self, dim, classes):
        super().__init__()
        self.fc = nn.Linear(dim, classes)
        self.fc.weight *= 0.1
        self.scale = nn.Parameter(torch.ones(classes))
        self.scale.fill_(0.5)
""",
        """
import torch.nn as nn

def reinit(model):
    for name, p in model.named_parameters():
        if "bias" in name:
            p.zero_()
        else:
            p.uniform_(-0.05, 0.05)
""",
    )
    valid = (
        """
import torch
import torch.nn as nn

class Head(nn.Module):
    def __init__(self, dim, classes):
        super().__init__()
        self.fc = nn.Linear(dim, classes)
        self.register_buffer("running", torch.zeros(classes))
        with torch.no_grad():
            self.fc.weight.normal_(0, 0.01)
            self.fc.bias.zero_()
        self.running.zero_()
""",
        """
import torch
import torch.nn as nn

@torch.no_grad()
def init_weights(m):
    if isinstance(m, nn.Linear):
        m.weight.uniform_(-0.1, 0.1)
        m.bias.fill_(0.0)

def build():
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
    net.apply(init_weights)
    buf = torch.zeros(16)
    buf.normal_()
    return net
""",
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        with torch.no_grad():
            self.apply(self._init)

    def _init(self, m):
        if isinstance(m, nn.Linear):
            m.weight.normal_(0, 0.02)
""",
        """
import torch.nn as nn

def freeze_and_fill(model):
    for p in model.parameters():
        p.requires_grad_(False)
        p.fill_(1.0)
""",
    )

    def check(self, model):
        index = param_index(model)
        candidates: list[tuple[ast.AST, ast.AST, ast.expr]] = []  # (statement or call, report node, receiver)
        for node in model.calls:
            if isinstance(node.func, ast.Attribute) and node.func.attr in INPLACE_METHODS:
                candidates.append((node, node, node.func.value))
        for node in nodes_of(model, ast.AugAssign):
            candidates.append((node, node, node.target))
        for node in nodes_of(model, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    candidates.append((node, target, target))
                    break
        for node, report, receiver in candidates:
            tensor, viewed = strip_subscripts(receiver)
            if data_node(receiver) is not None or not index.is_param(tensor, node):
                continue
            if index.no_grad(node) or index.frozen_in_function(tensor, node):
                continue
            if isinstance(node, ast.Call):
                description = f"`{short(node)}`"
            elif isinstance(node, ast.AugAssign):
                description = f"`{short(node.target)} {_op_symbol(node.op)}= ...`"
            else:
                description = f"`{short(report)} = ...`"
            error = _VIEW_ERROR if viewed else _LEAF_ERROR
            fix = method_to_init_fix(FixBuilder(model), node) if isinstance(node, ast.Call) else None
            yield Violation(report, f"{description} writes in place to the parameter `{short(tensor)}` outside "
                                    f"`torch.no_grad()`: {error}; {_advice(node, tensor)}", fix)


def _op_symbol(op: ast.operator) -> str:
    return {ast.Mult: "*", ast.Div: "/", ast.Add: "+", ast.Sub: "-", ast.Pow: "**", ast.MatMult: "@",
            ast.FloorDiv: "//", ast.Mod: "%"}.get(type(op), "?")


def _advice(node: ast.AST, tensor: ast.expr) -> str:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RANDOM_FILL_METHODS:
        replacement = catalog.INPLACE_TENSOR_INITS[node.func.attr]
        keywords = [f"{_KEYWORD_ALIASES.get(k.arg, k.arg)}={ast.unparse(k.value)}" for k in node.keywords if k.arg]
        args = ", ".join([ast.unparse(tensor), *(ast.unparse(a) for a in node.args), *keywords])
        call = f"nn.init.{replacement}({args})"
        if len(call) > 70:
            call = f"nn.init.{replacement}({ast.unparse(tensor)}, ...)"
        return f"use `{call}` or wrap it in `with torch.no_grad():`"
    return "wrap it in `with torch.no_grad():`"
