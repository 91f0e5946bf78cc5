"""Data flow in `forward`: what consumes each layer's output (an activation, a norm then an activation, the
model's output, another layer, or something unknown).

A value is the set of layers whose output it carries, each with whether a normalization sat in between.
Blocks (module classes of this file) are summarised once: what consumes their input, and which of their layers
produce their output, so a parent's flow continues through them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from initlint.catalog import torch as catalog
from initlint.model.entities import (
    ACTIVATION, BLOCK, C_ACTIVATION, C_GATE, C_LAYER, C_OUTPUT, C_UNKNOWN, CONTAINER, LAYER, TRANSPARENT,
    ActivationUse, ClassModel, Consumer, ModuleNode, literal_value,
)
from initlint.model.walker import FuncRef

if TYPE_CHECKING:
    from initlint.model.semantic import FileModel

MAX_DEPTH = 5

Producer = tuple  # (ModuleNode, via_norm: bool)

_PASS_THROUGH_METHODS = frozenset({
    "view", "reshape", "permute", "transpose", "contiguous", "flatten", "squeeze", "unsqueeze", "float", "half",
    "to", "type_as", "clone", "view_as", "reshape_as", "expand", "expand_as", "repeat", "movedim", "swapaxes",
    "chunk", "split", "unbind", "narrow", "mean", "sum", "amax", "max", "unflatten", "detach", "flip", "roll",
    "index_select", "gather", "masked_fill", "cuda", "cpu", "bfloat16", "double", "permute", "t",
})
_UNION_FUNCTIONS = frozenset({"torch.cat", "torch.stack", "torch.concat", "torch.concatenate", "torch.add", "torch.hstack",
                              "torch.vstack", "torch.sum"})
_GATE_FUNCTIONS = frozenset({"torch.mul", "torch.matmul", "torch.bmm", "torch.einsum", "torch.mm"})


@dataclass(frozen=True)
class Flow:
    producers: frozenset = frozenset()

    def __or__(self, other: "Flow") -> "Flow":
        return Flow(self.producers | other.producers)

    def normed(self) -> "Flow":
        return Flow(frozenset((node, True) for node, _ in self.producers))


EMPTY = Flow()


class FlowAnalysis:
    def __init__(self, model: "FileModel") -> None:
        self.model = model
        self.home = model  # the file whose code runs now: a block from another project file uses its own names
        self._in_progress: set[int] = set()
        self.input_nodes: dict[int, ModuleNode] = {}
        self.activation_outputs: list[ModuleNode] = []

    @property
    def names(self):
        return self.home.names

    # --------------------------------------------------------------------------------- classes

    def analyse_class(self, cls: ClassModel) -> None:
        if cls.analysed or id(cls) in self._in_progress:
            return
        self._in_progress.add(id(cls))
        previous_home = self.home
        try:
            input_node = self._input_node(cls)
            start = Flow(frozenset({(input_node, False)}))
            owner = cls.method_owner("forward")
            forward = owner.methods["forward"] if owner is not None else None
            self.home = (owner.home if owner is not None else None) or previous_home
            if forward is not None:
                env: dict = {}
                params = [a.arg for a in forward.args.posonlyargs + forward.args.args][1:]
                for index, name in enumerate(params):
                    env[name] = start if index == 0 else EMPTY
                if forward.args.vararg:
                    env[forward.args.vararg.arg] = start
                returns: list[Flow] = []
                self.exec_body(forward.body, env, cls, returns, 0)
                result = EMPTY
                for value in returns:
                    result = result | value
                cls.returns = list(result.producers)
            elif cls.catalog_base == "Sequential":
                result = self.chain(cls.children, start, cls, 0)
                cls.returns = list(result.producers)
            else:
                cls.returns = []
                cls.opaque = True  # type: ignore[attr-defined]
        finally:
            self.home = previous_home
            self._in_progress.discard(id(cls))
            cls.analysed = True

    def _input_node(self, cls: ClassModel) -> ModuleNode:
        node = self.input_nodes.get(id(cls))
        if node is None:
            node = ModuleNode("input", cls.name, "<input>", cls.node)
            self.input_nodes[id(cls)] = node
        return node

    def finish_roots(self, classes: list[ClassModel]) -> None:
        """Classes no parent in this file calls are models: what their forward returns leaves the model."""
        for cls in classes:
            if not getattr(cls, "called_by_parent", False):
                self.consume(Flow(frozenset(cls.returns)), Consumer(C_OUTPUT, label="model output"))

    def run_standalone(self, node: ModuleNode) -> None:
        """A Sequential built in script code: its chain ends at the model's output."""
        result = self.chain(node.children, EMPTY, None, 0)
        self.consume(result, Consumer(C_OUTPUT, label="model output"))

    # ------------------------------------------------------------------------------ statements

    def exec_body(self, body: list[ast.stmt], env: dict, cls: ClassModel | None, returns: list, depth: int) -> None:
        for stmt in body:
            self.exec_stmt(stmt, env, cls, returns, depth)

    def exec_stmt(self, stmt: ast.stmt, env: dict, cls, returns: list, depth: int) -> None:
        if isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, env, cls, depth)
            for target in stmt.targets:
                self.assign(target, value, env)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value, env, cls, depth), env)
        elif isinstance(stmt, ast.AugAssign):
            value = self.eval(stmt.value, env, cls, depth)
            if isinstance(stmt.target, ast.Name):
                current = env.get(stmt.target.id, EMPTY)
                current = current if isinstance(current, Flow) else EMPTY
                if isinstance(stmt.op, (ast.Add, ast.Sub)):
                    _mark_residual(current, value)
                    env[stmt.target.id] = current | value
                elif isinstance(stmt.op, (ast.Mult, ast.Div)) and not value.producers:
                    env[stmt.target.id] = current
                else:
                    self.consume(current | value, Consumer(C_GATE, line=stmt.lineno))
                    env[stmt.target.id] = EMPTY
            else:
                self.consume(value, Consumer(C_UNKNOWN, line=stmt.lineno))
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value, env, cls, depth)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                returns.append(self.eval(stmt.value, env, cls, depth))
        elif isinstance(stmt, ast.If):
            self.eval(stmt.test, env, cls, depth)
            left, right = dict(env), dict(env)
            self.exec_body(stmt.body, left, cls, returns, depth)
            self.exec_body(stmt.orelse, right, cls, returns, depth)
            for key in set(left) | set(right):
                a, b = left.get(key), right.get(key)
                if isinstance(a, Flow) and isinstance(b, Flow):
                    env[key] = a | b
                else:
                    env[key] = a if a is not None else b
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._exec_for(stmt, env, cls, returns, depth)
        elif isinstance(stmt, ast.While):
            for _ in range(2):
                self.exec_body(stmt.body, env, cls, returns, depth)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            self.exec_body(stmt.body, env, cls, returns, depth)
        elif isinstance(stmt, ast.Try) or (hasattr(ast, "TryStar") and isinstance(stmt, ast.TryStar)):
            self.exec_body(stmt.body, env, cls, returns, depth)
            for handler in stmt.handlers:
                self.exec_body(handler.body, env, cls, returns, depth)
            self.exec_body(stmt.orelse, env, cls, returns, depth)
            self.exec_body(stmt.finalbody, env, cls, returns, depth)

    def assign(self, target: ast.expr, value, env: dict) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                self.assign(inner, value if isinstance(value, Flow) else EMPTY, env)
        elif isinstance(value, Flow):
            # stored on self or in a container: whatever reads it is out of sight
            self.consume(value, Consumer(C_UNKNOWN, line=getattr(target, "lineno", 0)))

    def _exec_for(self, stmt: ast.For, env: dict, cls, returns: list, depth: int) -> None:
        iterable = stmt.iter
        target = stmt.target
        # `for layer in self.blocks.values()`, `for name, layer in self.blocks.items()`, `enumerate(self.blocks)`
        if isinstance(iterable, ast.Call) and not iterable.keywords:
            method = iterable.func.attr if isinstance(iterable.func, ast.Attribute) else None
            if method in ("values", "items") and not iterable.args:
                iterable = iterable.func.value  # type: ignore[union-attr]
                if method == "items" and isinstance(target, ast.Tuple) and len(target.elts) == 2:
                    target = target.elts[1]
            elif isinstance(iterable.func, ast.Name) and iterable.func.id == "enumerate" and len(iterable.args) == 1 \
                    and isinstance(target, ast.Tuple) and len(target.elts) == 2:
                iterable, target = iterable.args[0], target.elts[1]
        modules = self._module_sequence(iterable, env, cls)
        if modules is not None and isinstance(target, ast.Name):
            stmt = ast.For(target=target, iter=iterable, body=stmt.body, orelse=stmt.orelse)
            rounds = 2 if getattr(modules, "repeated", False) or len(modules) == 1 else 1
            for _ in range(rounds):
                for module in modules:
                    env[stmt.target.id] = module
                    self.exec_body(stmt.body, env, cls, returns, depth)
            return
        if isinstance(stmt.target, ast.Name):
            env[stmt.target.id] = EMPTY
        for _ in range(2):
            self.exec_body(stmt.body, env, cls, returns, depth)

    def _module_sequence(self, iterable: ast.expr, env: dict, cls) -> list | None:
        node = self.module_of(iterable, env, cls)
        if isinstance(node, ModuleNode) and node.kind == CONTAINER and node.children:
            children = _Seq(node.children)
            children.repeated = getattr(node, "repeated", False)
            return children
        return None

    # ----------------------------------------------------------------------------- expressions

    def module_of(self, expr: ast.expr, env: dict, cls: ClassModel | None):
        """The module node an expression names (`self.fc`, `self.blocks[0]`, a loop variable), if any."""
        if isinstance(expr, ast.Name):
            value = env.get(expr.id)
            return value if isinstance(value, (ModuleNode, FuncRef)) else None
        if isinstance(expr, ast.Attribute):
            if isinstance(expr.value, ast.Name) and expr.value.id == "self" and cls is not None:
                return cls.attributes.get(expr.attr)
            base = self.module_of(expr.value, env, cls)
            if isinstance(base, ModuleNode) and base.block is not None:
                return base.block.attributes.get(expr.attr)
            return None
        if isinstance(expr, ast.Subscript):
            base = self.module_of(expr.value, env, cls)
            if isinstance(base, ModuleNode) and base.kind == CONTAINER and base.children:
                child = base.child(literal_value(expr.slice))
                if child is not None:
                    return child
                if isinstance(expr.slice, ast.Slice):
                    return None
                kinds = {(c.kind, c.cls) for c in base.children}
                return base.children[0] if len(kinds) == 1 else None
        return None

    def eval(self, expr: ast.expr | None, env: dict, cls, depth: int) -> Flow:
        if expr is None:
            return EMPTY
        if isinstance(expr, ast.Name):
            value = env.get(expr.id)
            return value if isinstance(value, Flow) else EMPTY
        if isinstance(expr, ast.Call):
            return self._eval_call(expr, env, cls, depth)
        if isinstance(expr, ast.BinOp):
            left = self.eval(expr.left, env, cls, depth)
            right = self.eval(expr.right, env, cls, depth)
            if isinstance(expr.op, (ast.Add, ast.Sub)):
                _mark_residual(left, right)
                return left | right
            if isinstance(expr.op, (ast.Mult, ast.Div)):
                if not left.producers or not right.producers:
                    if _is_scalar(expr.right if left.producers else expr.left):
                        return left | right  # scaling by a number passes the signal on
                self.consume(left | right, Consumer(C_GATE, line=expr.lineno))
                return EMPTY
            self.consume(left | right, Consumer(C_UNKNOWN, line=expr.lineno))
            return EMPTY
        if isinstance(expr, ast.Subscript):
            return self.eval(expr.value, env, cls, depth)
        if isinstance(expr, ast.IfExp):
            self.eval(expr.test, env, cls, depth)
            return self.eval(expr.body, env, cls, depth) | self.eval(expr.orelse, env, cls, depth)
        if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
            result = EMPTY
            for element in expr.elts:
                result = result | self.eval(element, env, cls, depth)
            return result
        if isinstance(expr, ast.Starred):
            return self.eval(expr.value, env, cls, depth)
        if isinstance(expr, ast.Attribute):
            if expr.attr in ("T", "mT", "real"):
                return self.eval(expr.value, env, cls, depth)
            return EMPTY
        if isinstance(expr, ast.Dict):
            result = EMPTY
            for value in expr.values:
                result = result | self.eval(value, env, cls, depth)
            return result
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
            value = self.eval(expr.elt, dict(env), cls, depth)
            self.consume(value, Consumer(C_UNKNOWN, line=expr.lineno))
            return EMPTY
        if isinstance(expr, ast.UnaryOp):
            return self.eval(expr.operand, env, cls, depth)
        return EMPTY

    def _eval_call(self, call: ast.Call, env: dict, cls, depth: int) -> Flow:
        func = call.func
        first = self.eval(call.args[0], env, cls, depth) if call.args else EMPTY
        rest = EMPTY
        for arg in call.args[1:]:
            rest = rest | self.eval(arg, env, cls, depth)
        for keyword in call.keywords:
            rest = rest | self.eval(keyword.value, env, cls, depth)
        module = self.module_of(func, env, cls)
        if isinstance(module, ModuleNode):
            self.consume(rest, Consumer(C_UNKNOWN, line=call.lineno))
            return self.apply_module(module, first, cls, depth, call)
        if isinstance(module, FuncRef) and module.activation is not None:
            self.consume(rest, Consumer(C_UNKNOWN, line=call.lineno))
            self.consume(first, Consumer(C_ACTIVATION, module.activation, line=call.lineno, label=module.activation.label))
            return self.activated(first, call)
        qualname = self.names.qualname(func)
        if qualname:
            activation = self.model.activation_function(qualname, call)
            if activation is not None:
                self.consume(rest, Consumer(C_UNKNOWN, line=call.lineno))
                self.consume(first, Consumer(C_ACTIVATION, activation, line=call.lineno, label=activation.label))
                return self.activated(first, call)
            short = qualname.rsplit(".", 1)[-1]
            if qualname.startswith(("torch.nn.functional.", "torch.")) and short in catalog.TRANSPARENT_FUNCTIONS:
                self.consume(rest, Consumer(C_UNKNOWN, line=call.lineno))
                return first
            if qualname.startswith(("torch.nn.functional.", "torch.")) and short in catalog.NORM_FUNCTIONS:
                return first.normed()
            if qualname in _UNION_FUNCTIONS:
                if qualname == "torch.add":
                    _mark_residual(first, rest)
                return first | rest
            if qualname in _GATE_FUNCTIONS:
                self.consume(first | rest, Consumer(C_GATE, line=call.lineno))
                return EMPTY
            if short.endswith(("Output", "Outputs")) or qualname in ("dict", "tuple", "list"):
                return first | rest  # a container of results (`ModelOutput(logits=...)`): what reads it reads them
        if isinstance(func, ast.Attribute):
            method = func.attr
            base_module = self.module_of(func.value, env, cls)
            if base_module is None:
                receiver = self.eval(func.value, env, cls, depth)
                spec = catalog.ACTIVATION_BY_TENSOR_METHOD.get(method)
                if spec is not None and receiver.producers:
                    use = ActivationUse(spec, f".{method}()", None, call.lineno)
                    self.consume(receiver, Consumer(C_ACTIVATION, use, line=call.lineno, label=use.label))
                    return self.activated(receiver, call)
                if method in _PASS_THROUGH_METHODS:
                    return receiver | first
                if method in ("add", "add_", "sub"):
                    _mark_residual(receiver, first)
                    return receiver | first
                if method in ("mul", "mul_", "div", "div_"):
                    if first.producers and receiver.producers:
                        self.consume(receiver | first, Consumer(C_GATE, line=call.lineno))
                        return EMPTY
                    return receiver | first
                # `self.helper(x)`: a method of this class, inlined
                if isinstance(func.value, ast.Name) and func.value.id == "self" and cls is not None and depth < MAX_DEPTH:
                    owner = cls.method_owner(method)
                    if owner is not None and method not in ("forward",):
                        previous_home, self.home = self.home, owner.home or self.home
                        try:
                            return self._inline(owner.methods[method], call, env, cls, depth)
                        finally:
                            self.home = previous_home
                self.consume(receiver | first | rest, Consumer(C_UNKNOWN, line=call.lineno))
                return EMPTY
        self.consume(first | rest, Consumer(C_UNKNOWN, line=call.lineno))
        return EMPTY

    def _inline(self, method: ast.FunctionDef, call: ast.Call, env: dict, cls, depth: int) -> Flow:
        inner: dict = {}
        params = [a.arg for a in method.args.posonlyargs + method.args.args][1:]
        for name, arg in zip(params, call.args):
            inner[name] = self.eval(arg, env, cls, depth)
        for keyword in call.keywords:
            if keyword.arg:
                inner[keyword.arg] = self.eval(keyword.value, env, cls, depth)
        returns: list[Flow] = []
        self.exec_body(method.body, inner, cls, returns, depth + 1)
        result = EMPTY
        for value in returns:
            result = result | value
        return result

    # --------------------------------------------------------------------------------- modules

    def apply_module(self, module: ModuleNode, value: Flow, cls, depth: int, site: ast.AST | None = None) -> Flow:
        line = getattr(site, "lineno", 0)
        if module.kind == LAYER and module.spec is not None:
            kind = module.spec.kind
            if kind == catalog.NORM:
                # the norm passes its input's layers on (marked as normalized) and produces its own output
                return value.normed() | Flow(frozenset({(module, False)}))
            if kind == catalog.EMBEDDING:
                return Flow(frozenset({(module, False)}))
            if kind in (catalog.ATTENTION, catalog.TRANSFORMER):
                self.consume(value, Consumer(C_UNKNOWN, line=line))
                return EMPTY
            self.consume(value, Consumer(C_LAYER, line=line, label=module.display))
            return Flow(frozenset({(module, False)}))
        if module.kind == ACTIVATION:
            options = module.activation_options or (module.activation,)
            for option in options:
                if option is None:
                    self.consume(value, Consumer(C_UNKNOWN, line=line))
                else:
                    self.consume(value, Consumer(C_ACTIVATION, option, line=line or option.line,
                                                 label=f"{module.display}" if module.path else option.label))
            return self.activated(value, site or module.node)
        if module.kind == TRANSPARENT:
            return value.normed() if module.cls in catalog.PARAMETER_FREE_NORMS else value
        if module.kind == CONTAINER:
            if module.cls in ("Sequential",) or (module.cls == "list" and False):
                return self.chain(module.children, value, cls, depth)
            self.consume(value, Consumer(C_UNKNOWN, line=line))
            return EMPTY
        if module.kind == BLOCK and module.block is not None and depth < MAX_DEPTH:
            block = module.block
            self.analyse_class(block)
            if getattr(block, "opaque", False) or id(block) in self._in_progress:
                self.consume(value, Consumer(C_UNKNOWN, line=line))
                return EMPTY
            block.called_by_parent = True  # type: ignore[attr-defined]
            input_node = self._input_node(block)
            for consumer in input_node.consumers:
                self.consume(value, consumer)
            result = EMPTY
            produced = set()
            for node, via_norm in block.returns:
                if node is input_node:
                    result = result | (value.normed() if via_norm else value)
                else:
                    produced.add((node, via_norm))
            return result | Flow(frozenset(produced))
        self.consume(value, Consumer(C_UNKNOWN, line=line))
        return EMPTY

    def activated(self, value: Flow, site: ast.AST) -> Flow:
        """An activation's output: remembered, so a layer whose activation feeds the model's output is a head."""
        if not value.producers:
            return EMPTY
        node = ModuleNode("activation-output", "", "", site)
        node.sources = [producer for producer, _ in value.producers]  # type: ignore[attr-defined]
        self.activation_outputs.append(node)
        return Flow(frozenset({(node, False)}))

    def mark_heads_behind_activations(self) -> None:
        """Layer -> activation -> model output: the layer is an output layer (a tanh-squashed policy head)."""
        for node in self.activation_outputs:
            if any(c.kind == C_GATE for c in node.consumers):
                # layer -> sigmoid -> multiplied in: a gate (squeeze-excitation, GLU); no depth to propagate through
                for source in node.sources:  # type: ignore[attr-defined]
                    if source.kind != "activation-output":
                        source.feeds_gate = True
                continue
            if node.consumers and all(c.kind == C_OUTPUT for c in node.consumers):
                stack = list(node.sources)  # type: ignore[attr-defined]
                while stack:
                    source = stack.pop()
                    if source.kind == "activation-output":
                        stack.extend(source.sources)  # type: ignore[attr-defined]
                    else:
                        source.head_via_activation = True

    def chain(self, children: list[ModuleNode], value: Flow, cls, depth: int) -> Flow:
        repeated = False
        for child in children:
            value = self.apply_module(child, value, cls, depth + 1, child.node)
        return value if not repeated else value

    def consume(self, value: Flow, consumer: Consumer) -> None:
        for node, via_norm in value.producers:
            if via_norm and not consumer.via_norm:
                consumer_here = Consumer(consumer.kind, consumer.activation, True, consumer.line, consumer.label)
            else:
                consumer_here = consumer
            if consumer_here not in node.consumers:
                node.consumers.append(consumer_here)


def _mark_residual(left: Flow, right: Flow) -> None:
    """Both operands carry layer outputs: a residual sum. Its branches' last layers may start at zero."""
    if left.producers and right.producers:
        for node, _ in left.producers | right.producers:
            node.in_residual = True


class _Seq(list):
    repeated = False


def _is_scalar(expr: ast.expr) -> bool:
    if literal_value(expr) is not None:
        return True
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        return True  # self.scale
    if isinstance(expr, ast.Name):
        return expr.id.lower() in ("scale", "alpha", "beta", "gamma", "factor", "temperature", "tau") or expr.id.isupper()
    return False
