from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.model.entities import literal_value
from initlint.routing import display
from initlint.rules._structural import (
    NOOP_KINDS, WrapSite, chain, effective_position, enclosing_function, is_subclass_name, isinstance_classes, line_of,
    method_owner, op_label, positive_branch_tests, runs_after, short_name, target_chain, unparse, wrap_sites,
    wrapped_layer_class,
)
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk


class InitAfterWeightNorm(Rule):
    """## What it does
    Flags an init written to the `.weight` of a module after `torch.nn.utils.weight_norm`,
    `nn.utils.parametrizations.weight_norm` or `nn.utils.parametrizations.spectral_norm` wrapped it, including an
    `_init_weights`/`apply` function that reaches the wrapped module after construction.

    ## Why is this bad?
    After wrapping, `.weight` is no longer the parameter. The old-style `weight_norm` recomputes it from
    `weight_g` and `weight_v` before every forward; the parametrizations compute a fresh tensor on every access.
    Either way the init writes a tensor nothing reads, and the layer silently keeps the values it had when it
    was wrapped. Initializing *before* wrapping is right: `weight_g`/`weight_v` are computed from the weight then.

    The old-style `torch.nn.utils.spectral_norm` is not flagged: until the first forward its `.weight` shares
    storage with `weight_orig`, so an init written at construction does reach the parameter.

    ## Example
    ```python
    self.conv1 = weight_norm(nn.Conv1d(ni, nf, ks, dilation=dilation, padding=padding))
    ...
    self.conv1.weight.data.normal_(0, 0.01)
    ```

    ## Use instead
    ```python
    conv1 = nn.Conv1d(ni, nf, ks, dilation=dilation, padding=padding)
    conv1.weight.data.normal_(0, 0.01)
    self.conv1 = weight_norm(conv1)
    ```

    ## Fix safety
    No fix: the init has to move before the wrapping, or be written to the parametrization's original tensor; both restructure the code.
    """

    code = "INI030"
    name = "init-after-weight-norm"
    invalid = (
        """
import torch.nn as nn
from torch.nn.utils import weight_norm

class TemporalBlock(nn.Module):
    def __init__(self, ni, nf, ks, dilation, padding):
        super().__init__()
        self.conv1 = weight_norm(nn.Conv1d(ni, nf, ks, padding=padding, dilation=dilation))
        self.relu = nn.ReLU()
        self.init_weights()

    def init_weights(self):
        self.conv1.weight.data.normal_(0, 0.01)

    def forward(self, x):
        return self.relu(self.conv1(x))
""",
        """
import math
import torch.nn as nn

class PositionalConvEmbedding(nn.Module):
    def __init__(self, hidden, kernel, groups):
        super().__init__()
        self.conv = nn.Conv1d(hidden, hidden, kernel_size=kernel, padding=kernel // 2, groups=groups)
        weight_norm = nn.utils.weight_norm
        if hasattr(nn.utils.parametrizations, "weight_norm"):
            weight_norm = nn.utils.parametrizations.weight_norm
        self.conv = weight_norm(self.conv, name="weight", dim=2)

class PreTrainedModel(nn.Module):
    def _init_weights(self, module):
        if isinstance(module, PositionalConvEmbedding):
            nn.init.normal_(module.conv.weight, mean=0,
                            std=2 * math.sqrt(1 / (module.conv.kernel_size[0] * module.conv.in_channels)))
            nn.init.constant_(module.conv.bias, 0)
""",
        """
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm

def init_fn(m):
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)

disc = nn.Sequential(spectral_norm(nn.Conv2d(3, 64, 4, 2, 1)), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 4))
disc.apply(init_fn)
""",
    )
    valid = (
        """
import math
import torch

class GatedCnnEncoder(torch.nn.Module):
    def __init__(self, input_dim, layers):
        super().__init__()
        self._convolutions = torch.nn.ModuleList()
        for width, out in layers:
            conv = torch.nn.Conv1d(input_dim, out * 2, width, padding=width - 1)
            conv.weight.data.normal_(0, std=math.sqrt(4.0 / (width * input_dim)))
            conv.bias.data.zero_()
            conv = torch.nn.utils.weight_norm(conv, name="weight", dim=0)
            self._convolutions.append(conv)
""",
        """
import torch.nn as nn
from torch.nn.utils import spectral_norm

def init_fn(m):
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)

disc = nn.Sequential(spectral_norm(nn.Conv2d(3, 64, 4, 2, 1)), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 4))
disc.apply(init_fn)
""",
        """
import torch.nn as nn
from torch.nn.utils import weight_norm

class Block(nn.Module):
    def __init__(self, ni, nf):
        super().__init__()
        self.conv = weight_norm(nn.Conv1d(ni, nf, 3, padding=1))
        nn.init.normal_(self.conv.weight_v, 0, 0.01)
        nn.init.ones_(self.conv.weight_g)
""",
    )

    def check(self, model):
        sites = [s for s in wrap_sites(model) if s.noop]
        reported: set[int] = set()
        if not sites:
            yield from self._wrapped_in_other_files(model, {}, reported)
            return
        self._specific: set[str] = set()
        for op in model.init_ops:
            target, _sliced = target_chain(op)
            if not target or len(target) < 2:
                continue
            for site in sites:
                if target[-1] != site.param:
                    continue
                ref = self._match(model, site, op, target[:-1])
                if ref and id(op.node) not in reported:
                    reported.add(id(op.node))
                    yield Violation(op.node, _message(op, unparse(op.target), site, ref))
                    break
        # A transformers-style `_init_weights(module)` whose `isinstance(module, nn.Conv1d)` branch also reaches
        # the convolutions some block of the file wraps in its constructor.
        yield from self._generic_dispatch(model, sites, reported)
        # Layers the model saw wrapped inline (`nn.Sequential(weight_norm(nn.Conv1d(...)), ...)`) and initialized
        # by a dispatch (`apply`, a modules() loop) that the AST matching above cannot tie to them.
        by_call = {id(s.call): s for s in sites}
        yield from self._wrapped_in_other_files(model, by_call, reported)
        for call, node in model.wrapped_calls:
            site = by_call.get(id(call))
            if site is None:
                continue
            for event in node.events:
                if event.op is None or event.param != site.param or event.via == "named-parameters":
                    continue
                if id(event.op.node) in reported:
                    continue
                if not self._event_after(model, site, event):
                    continue
                reported.add(id(event.op.node))
                yield Violation(event.op.node, _message(event.op, f"`{node.display}.{site.param}`", site,
                                                        node.display or node.cls, quoted=True))

    @staticmethod
    def _wrapped_in_other_files(model, by_call: dict, reported: set):
        """A module another project file wraps (`self.conv = weight_norm(nn.Conv1d(...))` in a block class) and
        this analysis initializes afterwards: every event the walker recorded on it after the wrap."""
        program = model.program
        if program is None:
            return
        for call, node in model.wrapped_calls:
            if id(call) in by_call or program.home_of(call) is model:
                continue
            kinds = {node.wrapped} & NOOP_KINDS
            name = next((k.value for k in call.keywords if k.arg == "name"), call.args[1] if len(call.args) > 1 else None)
            param = "weight" if name is None else literal_value(name)
            if not kinds or not isinstance(param, str):
                continue
            site = WrapSite(call, kinds, param, None, None, call.args[0] if call.args else None, [])
            where = f"({display(program.home_of(call).source.path)}:{line_of(call)})"
            for event in node.events[getattr(node, "wrapped_at", 0):]:
                if event.op is None or event.param != param or id(event.op.node) in reported \
                        or event.via == "unseen":  # a call we could not read may not write it at all
                    continue
                reported.add(id(event.op.node))
                message = _message(event.op, f"`{node.display}.{param}`", site, node.display or node.cls, quoted=True)
                yield Violation(event.op.node, message.replace(f"(line {line_of(call)})", where, 1))

    # ------------------------------------------------------------------------------------------------

    def _match(self, model, site: WrapSite, op, base: list[str]) -> str | None:
        """The wrapped module's name when the op writes it after the wrap, else None."""
        if base in site.refs:
            if base[0] == "self":
                if site.klass is None:
                    return None
                position = effective_position(model, site.function, line_of(site.call))
                if position is None:
                    return None
                function, line = position
                after = runs_after(model, function, line, site.klass, op.node)
                return ".".join(base) if after else None
            if enclosing_function(model, op.node) is site.function and line_of(op.node) > line_of(site.call) \
                    and not _rebound(site, base, line_of(op.node)):
                return ".".join(base)
            return None
        # `isinstance(module, Block)` dispatch writing `module.conv.weight` where Block wraps `self.conv`.
        if site.klass is None or len(base) < 2:
            return None
        if ["self", *base[1:]] not in site.refs:
            return None
        position = effective_position(model, site.function, line_of(site.call))
        if position is None or getattr(position[0], "name", "") != "__init__":
            return None
        guard = None
        for test in positive_branch_tests(model, op.node):
            for _call, names in isinstance_classes(model, test, base[0]):
                for name in names:
                    if name.startswith("<local>.") and is_subclass_name(model, site.klass, name[8:]):
                        guard = name[8:]
        if guard is None:
            return None
        self._specific.add(site.klass.name)
        function = enclosing_function(model, op.node)
        if method_owner(model, function) is site.klass and runs_after(model, position[0], position[1], site.klass,
                                                                       op.node) is False:
            return None
        return f"{site.klass.name}.{'.'.join(base[1:])}"

    def _generic_dispatch(self, model, sites: list[WrapSite], reported: set[int]):
        wrapped = []
        for site in sites:
            if site.klass is None or site.klass.name in self._specific:
                continue
            position = effective_position(model, site.function, line_of(site.call))
            if position is None or getattr(position[0], "name", "") != "__init__":
                continue
            cls = wrapped_layer_class(model, site)
            if cls is not None:
                wrapped.append((site, cls))
        if not wrapped:
            return
        done: set[tuple] = set()
        for op in model.init_ops:
            if id(op.node) in reported:
                continue
            target, _sliced = target_chain(op)
            if not target or len(target) != 2:
                continue
            function = enclosing_function(model, op.node)
            if getattr(function, "name", "") != "_init_weights":
                continue
            tested = set()
            for test in positive_branch_tests(model, op.node):
                for _call, names in isinstance_classes(model, test, target[0]):
                    tested.update(n for n in (short_name(model, q) for q in names) if n)
            hits = [(site, cls) for site, cls in wrapped if site.param == target[1]
                    and method_owner(model, function) is not site.klass
                    and any(catalog.is_subclass(cls, t) for t in tested)]
            if not hits:
                continue
            names: list[str] = []
            for hit, cls in hits:
                ref = hit.refs[-1] if hit.refs else None
                if ref and ref[0] == "self":
                    label = f"`{hit.klass.name}.{'.'.join(ref[1:])}` ({cls})"
                else:
                    label = f"`{ref[0] if ref else unparse(hit.target, 30)}` ({cls}) in `{hit.klass.name}`"
                if label not in names:
                    names.append(label)
            key = (id(function), tuple(names))
            if key in done:
                continue
            done.add(key)
            reported.add(id(op.node))
            site = hits[0][0]
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            reached = f"{', '.join(names[:3])}{more}"
            yield Violation(op.node, f"{op_label(op)} on `{unparse(op.target)}` also reaches {reached}, "
                                     f"which its constructor wraps with {_wrapper(site)} (line {line_of(site.call)}): "
                                     f"{_why(site)} for that layer; initialize it before wrapping, or write the "
                                     "underlying parameters")

    def _event_after(self, model, site: WrapSite, event) -> bool:
        anchor = event.dispatch.call if event.dispatch is not None else event.op.node
        if site.inline:
            # Only code run while building the wrapped module (its class, a builder helper) precedes the wrap.
            function = enclosing_function(model, event.op.node)
            if function is not None and _within_construction(model, site.target, function):
                return False
            return True
        if site.function is None:
            return False
        position = effective_position(model, site.function, line_of(site.call)) if site.klass else \
            (site.function, line_of(site.call))
        if position is None:
            return False
        return bool(runs_after(model, position[0], position[1], site.klass, anchor))


def _rebound(site: WrapSite, ref: list[str], before: int) -> bool:
    """Whether `ref` is assigned something else between the wrap and `before` (a new, unwrapped module)."""
    if site.function is None:
        return False
    start = line_of(site.call)
    wrap_statement_end = getattr(site.call, "end_lineno", start)
    for node in walk(site.function):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.For)) and wrap_statement_end < line_of(node) < before:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for element in walk(target):
                    if isinstance(element, (ast.Name, ast.Attribute)) and chain(element) == ref:
                        return True
    return False


def _within_construction(model, target: ast.Call, function: ast.AST) -> bool:
    """Whether `function` runs while `target` (a constructor or builder call) is evaluated."""
    qualname = model.names.qualname(target.func) or ""
    if not qualname.startswith("<local>."):
        return False  # a torch layer: no code of this file runs while it is built
    name = qualname[8:]
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and function.name == name:
        return True
    owner = method_owner(model, function)
    if owner is not None and owner.name == name:
        return True
    klass = model.classes.get(name)
    if klass is not None and owner is not None:
        return any(base.name == owner.name for base in klass.local_bases)
    return False


def _message(op, written: str, site: WrapSite, wrapped: str, quoted: bool = False) -> str:
    module = wrapped if quoted else f"`{wrapped}`"
    if not written.startswith("`"):
        written = f"`{written}`"
    return (f"{op_label(op)} writes {written} after {_wrapper(site)} wrapped {module} (line {line_of(site.call)}): "
            f"{_why(site)}; initialize before wrapping, or write the underlying parameters")


def _wrapper(site: WrapSite) -> str:
    if len(site.kinds) == 1:
        return f"`{site.kind_label}`"
    return "`" + "` or `".join(f"nn.utils.{k}" for k in sorted(site.kinds)) + "` (chosen at run time)"


def _why(site: WrapSite) -> str:
    param = site.param
    if site.kinds == {"weight_norm"}:
        return (f"weight_norm recomputes `.{param}` from `{param}_g`/`{param}_v` before every forward, so this init "
                "is a silent no-op")
    if site.kinds <= {"parametrizations.weight_norm", "parametrizations.spectral_norm"}:
        return (f"the parametrization computes `.{param}` afresh on every access, so the init writes a temporary "
                "tensor and is lost")
    return (f"with either, `.{param}` is recomputed from the magnitude/direction parameters, so this init is a "
            "silent no-op")
