from __future__ import annotations

import ast

from initlint.model.entities import ModuleNode
from initlint.rules._structural import (
    chain, constant_written, enclosing_function, line_of, method_owner, op_label, unparse,
)
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

# Ops that do not replace every value of the tensor they write.
_NOT_OVERWRITING = frozenset({"copy_"})
_NOT_OVERWRITING_FAMILIES = frozenset({"copy", "nonexistent", "assign", "unknown"})


def _overwrites(event) -> bool:
    """An unconditional write that replaces the whole tensor whatever it held (a re-draw, not a rescale)."""
    if event.conditional:
        return False
    op = event.op
    if op is None:
        return True  # reset_parameters()
    if op.name in _NOT_OVERWRITING or op.family in _NOT_OVERWRITING_FAMILIES:
        return False
    if isinstance(op.target, ast.Subscript):
        return False
    return True


class _RedundantType:
    """An overwrite that writes the very constant the first init wrote: redundant, not a lost init."""


_Redundant = _RedundantType()


def _default_constant(node: ModuleNode, param: str) -> float | None:
    if node.spec is None:
        return None
    for spec in node.spec.params:
        if spec.name == param:
            text = spec.default_init.replace(" ", "")
            if text == "ones_":
                return 1.0
            if text == "zeros_":
                return 0.0
            if text.startswith("constant_(") and text.endswith(")"):
                try:
                    return float(text[len("constant_("):-1])
                except ValueError:
                    return None
    return None


def _same_values(node: ModuleNode, param: str, first, later) -> bool:
    """Both writes put the same constant in (e.g. `constant_(bn.weight, 1)` then `reset_parameters()`)."""
    value = constant_written(first.op)
    if value is None:
        return False
    other = _default_constant(node, param) if later.op is None else constant_written(later.op)
    return other is not None and abs(other - value) < 1e-12


def _where(event) -> str:
    if event.op is None:
        node = event.report_node
        return f"`reset_parameters()` (line {line_of(node)})" if node is not None else "`reset_parameters()`"
    text = f"{op_label(event.op)} (line {line_of(event.op.node)}"
    if event.dispatch is not None:
        call = event.dispatch.call
        if isinstance(call, ast.Call):
            text += f", via `{unparse(call.func, 40)}` at line {line_of(call)}"
        else:
            text += f", via the loop at line {line_of(call)}"
    return text + ")"


class OverwrittenInit(Rule):
    """## What it does
    Flags an explicit init that a later init overwrites completely on every parameter it reaches, in execution
    order: a custom init followed by `reset_parameters()`, a second `apply(...)` over the same layers, a direct
    init followed by a `modules()` loop that re-draws the same parameter, or a `custom_encoder`/`custom_decoder`
    initialized before `nn.Transformer(...)` re-draws all its matrices.

    Only unconditional, whole-tensor later writes count; an in-place rescale (`mul_`) or a `copy_` is not an
    overwrite, and an init that survives on at least one parameter it reaches is not reported.

    ## Why is this bad?
    The first init is dead code. The model trains with the second scheme while the code (and often the paper
    or the config) claims the first, and whoever tunes the first init sees no effect.
    `nn.Transformer.__init__` ends with `_reset_parameters()`, which applies `xavier_uniform_` to every
    parameter with more than one dimension, including those of a `custom_encoder`/`custom_decoder`.

    ## Example
    ```python
    self.fc = nn.Linear(256, 256)
    nn.init.orthogonal_(self.fc.weight)
    self.fc.reset_parameters()
    ```

    ## Use instead
    ```python
    self.fc = nn.Linear(256, 256)
    nn.init.orthogonal_(self.fc.weight)
    ```

    ## Fix safety
    No fix: which of the two inits is the intended one cannot be told from the code.
    """

    code = "INI040"
    name = "overwritten-init"
    reports_across_files = False  # another file's init may be dead for this model and live for its others
    invalid = (
        """
import torch.nn as nn

class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(256, 256)
        nn.init.orthogonal_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        self.fc.reset_parameters()
""",
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.fc = nn.Linear(16, 10)
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
""",
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.input_proj = nn.Linear(d_model, d_model)
        nn.init.normal_(self.input_proj.weight, std=0.02)
        nn.init.zeros_(self.input_proj.bias)

class Seq2Seq(nn.Module):
    def __init__(self, d_model=512):
        super().__init__()
        self.transformer = nn.Transformer(d_model, 8, custom_encoder=Encoder(d_model))
""",
    )
    valid = (
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.head = nn.Linear(16, 10)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
        nn.init.zeros_(self.head.weight)
""",
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, zero_init=False):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        nn.init.xavier_uniform_(self.fc.weight)
        if zero_init:
            nn.init.zeros_(self.fc.weight)
        self.fc.weight.data.mul_(0.1)
""",
    )

    def check(self, model):
        # op node -> [(node, param, event, the event that overwrites it or None)]
        fates: dict[int, list] = {}
        for node in model.all_nodes():
            by_param: dict[str, list] = {}
            for event in node.events:
                by_param.setdefault(event.param, []).append(event)
            for param, events in by_param.items():
                for index, event in enumerate(events):
                    if event.op is None or event.op.family in _NOT_OVERWRITING_FAMILIES:
                        continue
                    later = next((e for e in events[index + 1:] if _overwrites(e)
                                  and (e.op is None or e.op.node is not event.op.node)), None)
                    if later is not None and _same_values(node, param, event, later):
                        later = _Redundant
                    fates.setdefault(id(event.op.node), []).append((node, param, event, later))
        # Dead ops, grouped by the function they sit in and what overwrites them: one finding per group.
        groups: dict[tuple, list] = {}
        for entries in fates.values():
            laters = [later for *_rest, later in entries]
            if any(later is None for later in laters) or all(later is _Redundant for later in laters):
                continue
            real = [e for e in entries if e[3] is not _Redundant]
            node, param, event, later = real[0]
            anchor = later.op.node if later.op is not None else later.report_node
            key = (id(enclosing_function(model, event.op.node)), id(anchor))
            groups.setdefault(key, []).append(real)
        for group in groups.values():
            group.sort(key=lambda entries: (entries[0][2].op.node.lineno, entries[0][2].op.node.col_offset))
            first = group[0][0]
            targets: list[str] = []
            for entries in group:
                for n, p, _e, _l in entries:
                    text = f"`{n.display}.{p}`"
                    if text not in targets:
                        targets.append(text)
            more = f" and {len(targets) - 4} more" if len(targets) > 4 else ""
            ops = [entries[0][2].op for entries in group]
            if len(ops) == 1:
                what = f"{op_label(ops[0])} on {', '.join(targets[:4])}{more} is"
            else:
                calls = ", ".join(f"{op_label(op)} (line {line_of(op.node)})" for op in ops[:4])
                what = f"{calls}{' and more' if len(ops) > 4 else ''} on {', '.join(targets[:4])}{more} are"
            context = ""
            mine = method_owner(model, enclosing_function(model, first[2].op.node))
            later = first[3]
            theirs_anchor = later.dispatch.call if later.dispatch is not None else \
                (later.op.node if later.op is not None else later.report_node)
            theirs = None
            if theirs_anchor is not None:
                theirs = method_owner(model, enclosing_function(model, theirs_anchor))
            if mine is not None and theirs is not None and mine is not theirs:
                context = f" (`{theirs.name}` re-initializes the `{mine.name}` it builds)"
            yield Violation(first[2].op.node, f"{what} dead code: {_where(later)} overwrites "
                                              f"{'it' if len(ops) == 1 else 'them'} later in construction{context}; "
                                              "remove one of the two inits")
        yield from self._transformer_custom_parts(model)

    # ---------------------------------------------------------------------------------------- Transformer

    def _transformer_custom_parts(self, model):
        reported: set[int] = set()
        for transformer in model.layers():
            if transformer.cls != "Transformer" or not isinstance(transformer.node, ast.Call):
                continue
            call = transformer.node
            function = enclosing_function(model, call)
            for keyword in ("custom_encoder", "custom_decoder"):
                expr = transformer.args.get(keyword)
                if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
                    continue
                nodes, classes = _resolve(model, expr, function)
                for node in nodes:
                    for event in node.events:
                        if event.op is None or id(event.op.node) in reported:
                            continue
                        ndim = node.param_ndim(event.param)
                        if ndim is None or ndim < 2:
                            continue
                        if not _before(model, event.op.node, call, function, classes):
                            continue
                        reported.add(id(event.op.node))
                        yield Violation(event.op.node, f"{op_label(event.op)} on `{node.display}.{event.param}` is "
                                                       f"dead code: `nn.Transformer(..., {keyword}=...)` (line "
                                                       f"{line_of(call)}) re-initializes every parameter of its "
                                                       f"{keyword} with more than one dimension with xavier_uniform_ "
                                                       "(Transformer._reset_parameters); initialize after building "
                                                       "the Transformer")


def _resolve(model, expr: ast.expr, function) -> tuple[list[ModuleNode], set[str]]:
    """The module nodes of a custom encoder/decoder expression, and the local classes whose construction
    builds them."""
    if isinstance(expr, ast.Call):
        qualname = model.names.qualname(expr.func) or ""
        klass = model.classes.get(qualname[8:]) if qualname.startswith("<local>.") else None
        if klass is not None:
            return klass.all_nodes(), _class_names(klass)
        node = next((n for n in model.all_nodes() if n.node is expr), None)
        return (_subtree(node), _block_names(node)) if node is not None else ([], set())
    ref = chain(expr)
    node = None
    if ref and ref[0] == "self" and len(ref) == 2:
        owner = method_owner(model, function)
        klass = model.classes.get(owner.name) if owner is not None else None
        node = klass.attributes.get(ref[1]) if klass is not None else None
    elif ref and len(ref) == 1 and function is not None:
        for statement in walk(function):
            if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == ref[0]
                                                         for t in statement.targets):
                if isinstance(statement.value, ast.Call):
                    return _resolve(model, statement.value, function)
    if node is None:
        return [], set()
    return _subtree(node), _block_names(node)


def _class_names(klass) -> set[str]:
    names = {klass.name}
    for base in klass.local_bases:
        names |= _class_names(base)
    return names


def _block_names(node: ModuleNode | None) -> set[str]:
    if node is None or node.block is None:
        return set()
    return _class_names(node.block)


def _before(model, op_node: ast.AST, call: ast.Call, function, classes: set[str]) -> bool:
    """The init runs before the Transformer is built: earlier in the same function, or while the custom part
    itself was being constructed."""
    op_function = enclosing_function(model, op_node)
    if op_function is function:
        return line_of(op_node) < line_of(call)
    owner = method_owner(model, op_function)
    return owner is not None and owner.name in classes and getattr(op_function, "name", "") in (
        "__init__", "reset_parameters", "_reset_parameters", "init_weights", "_init_weights")


def _subtree(node: ModuleNode, seen: set | None = None) -> list[ModuleNode]:
    seen = set() if seen is None else seen
    if id(node) in seen:
        return []
    seen.add(id(node))
    out = [node]
    for child in node.children:
        out += _subtree(child, seen)
    if node.block is not None:
        for child in node.block.all_nodes():
            out += _subtree(child, seen)
    return out
