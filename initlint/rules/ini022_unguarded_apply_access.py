from __future__ import annotations

import ast

from initlint.rules import _dispatch as d
from initlint.rules.base import Rule, Violation


class UnguardedApplyAccess(Rule):
    """## What it does
    Flags an init call on `m.weight` or `m.bias` inside a function passed to `Module.apply` (or the body of a
    `for m in model.modules()` loop) that can reach a module without that parameter: no `isinstance`,
    class-name, `hasattr` or `is not None` guard excludes it.

    ## Why is this bad?
    `apply` and `modules()` visit *every* module: the containers (`Sequential`, `ModuleList`), activations,
    dropout and pooling layers, and the model itself. None of these has a `weight`, so `m.weight` raises
    `AttributeError: 'ReLU' object has no attribute 'weight'`. Layers built with `bias=False` and norms with
    `affine=False` (the default of `InstanceNorm2d`) have the attribute, but it is `None`, and every
    `nn.init` function raises `AttributeError: 'NoneType' object has no attribute ...` on it.

    A guard counts when it provably keeps such modules out: `isinstance`, a class-name check, `hasattr`,
    `getattr(m, "bias", None) is not None`, `m.bias is not None`, an early `return`, or a `try`. Where the
    file shows which modules are reached, the message names those that lack the parameter.

    ## Example
    ```python
    def init_weights(m):
        nn.init.kaiming_normal_(m.weight)
        nn.init.zeros_(m.bias)

    model.apply(init_weights)
    ```

    ## Use instead
    ```python
    def init_weights(m):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    ```

    ## Fix safety
    No fix: the right guard (`isinstance`, `hasattr`, `is not None`) depends on which modules the hook is meant for.
    """

    code = "INI022"
    name = "unguarded-apply-access"
    invalid = (
        """
import torch.nn as nn

def init_weights(m):
    nn.init.kaiming_normal_(m.weight)
    nn.init.zeros_(m.bias)

def build(model):
    model.apply(init_weights)
    return model
""",
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, bias=False)
        self.norm = nn.BatchNorm2d(16)
        self.act = nn.ReLU()
        self.apply(self._init)

    def _init(self, m):
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
""",
        """
import torch.nn as nn

net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.InstanceNorm2d(8), nn.ReLU())
for m in net.modules():
    if hasattr(m, "weight"):
        nn.init.normal_(m.weight, 0.0, 0.02)
""",
        """
import torch.nn as nn

def reset(model):
    for m in model.modules():
        m.weight.data.normal_(0, 0.01)
""",
    )
    valid = (
        """
import torch.nn as nn

def init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)

def build(model):
    model.apply(init_weights)
    return model
""",
        """
import torch.nn as nn

def init_weights(m):
    if getattr(m, "weight", None) is None:
        return
    nn.init.xavier_uniform_(m.weight)

net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
net.apply(init_weights)
""",
        """
import torch.nn as nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        self.fc.apply(self._init)

    def _init(self, m):
        nn.init.normal_(m.weight, std=0.01)
        nn.init.zeros_(m.bias)
""",
        """
import torch.nn as nn

def init_weights(m):
    try:
        nn.init.zeros_(m.bias)
    except AttributeError:
        pass
""",
    )

    def check(self, model):
        reported: set[int] = set()
        for site in d.sites(model):
            ops = [(op, d.param_of(op.target, site.param)) for op in d.site_ops(model, site)]
            ops = [(op, p) for op, p in ops if p is not None]
            if not ops:
                continue
            names = d.classname_names(model, site.holder, site.param)
            for op, param in ops:
                if id(op.node) in reported:
                    continue
                conditions = d.path_conditions(model, op.node, site.holder)
                if conditions is None or conditions == d.GUARD_TRY:
                    continue
                if site.nodes is not None:
                    message = self._resolved(model, site, op, param, conditions, names)
                else:
                    message = self._syntactic(site, op, param, conditions)
                if message:
                    reported.add(id(op.node))
                    yield Violation(op.node, message)
        yield from self._model_unguarded(model, reported)

    @staticmethod
    def _model_unguarded(model, reported):
        """What the semantic model saw a dispatch write without a guard: `module.proj.bias` where `proj` is
        an Embedding, and other targets below the dispatched module."""
        by_op: dict[int, list] = {}
        order = []
        for op, dispatch, node, param in model.unguarded:
            if id(op.node) in reported or param not in d.PARAM_NAMES:
                continue
            reason = d.lacks(node, param)
            if reason is None:
                continue
            conditions = d.path_conditions(model, op.node, dispatch.function)
            if conditions is None or conditions == d.GUARD_TRY:
                continue
            # the semantic model does not follow early exits (`if not isinstance(m, X): continue`)
            if len(conditions) != len(d.path_conditions(model, op.node, dispatch.function, early_exits=False)):
                continue
            if d.param_of(op.target, dispatch.param) is not None and any(
                    (id(s.holder), id(s.call)) == (id(dispatch.function), id(dispatch.call)) for s in d.sites(model)):
                continue  # a direct `m.weight` write of a known site: judged above
            names = d.classname_names(model, dispatch.function, dispatch.param)
            if any(d.name_checks_in(test, dispatch.param, names) for test, _ in conditions):
                continue
            if id(op.node) not in by_op:
                by_op[id(op.node)] = []
                order.append((op, dispatch, conditions))
            if all(node is not n for n, _, _ in by_op[id(op.node)]):
                by_op[id(op.node)].append((node, param, reason))
        sites = {(id(s.holder), id(s.call)): s for s in d.sites(model)}
        for op, dispatch, conditions in order:
            bad = by_op[id(op.node)]
            site = sites.get((id(dispatch.function), id(dispatch.call)))
            if site is not None:
                where = site.describe()
            elif isinstance(dispatch.function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                where = f"`{dispatch.function.name}` (run for every submodule)"
            else:
                where = "code run for every submodule"
            described = [d.describe_lack(model, n, p, r, site) for n, p, r in bad[:3]]
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            target = d.unparse(op.target) if op.target is not None else bad[0][1]
            reported.add(id(op.node))
            under = ""
            if conditions:
                test, wanted = conditions[0]
                under = f" (when `{d.unparse(test)[:80]}` is {'true' if wanted else 'false'})"
            yield Violation(op.node, f"`{d.unparse(op.node)[:60]}` in {where} reaches {'; '.join(described)}{more}"
                                     f"{under}: "
                                     f"AttributeError; check the parameter exists before writing `{target}`")

    @staticmethod
    def _resolved(model, site, op, param, conditions, names) -> str | None:
        # A class-name check that lets a parameter-free module through is INI023's finding.
        if any(d.name_checks_in(test, site.param, names) for test, _ in conditions):
            return None
        bad: list[tuple[object, str]] = []
        for node in site.nodes:
            reason = d.lacks(node, param)
            if reason is None:
                continue
            if d.evaluate(model, site, node, conditions, op.node) is True:
                bad.append((node, reason))
        if not bad:
            return None
        missing = [n for n, r in bad if r == "missing"]
        bad.sort(key=lambda item: item[1] != "missing")
        described = [d.describe_lack(model, n, param, r, site) for n, r in bad[:3]]
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        guard = (f'`if getattr({site.param}, "{param}", None) is not None:`' if missing
                 else f"`if {site.param}.{param} is not None:`")
        return (f"`{d.unparse(op.node)[:60]}` in {site.describe()} reaches {'; '.join(described)}{more}: "
                f"AttributeError; guard it with {guard}")

    @staticmethod
    def _syntactic(site, op, param, conditions) -> str | None:
        # Only a whole model is sure to hold containers: `model.apply(fn)`, `for m in net.modules()`. A
        # submodule from elsewhere (`self.head.apply(fn)`) may be a single layer that has the parameter.
        if conditions or not isinstance(site.receiver, ast.Name):
            return None
        if site.kind == "apply":
            visits = (f"`{d.unparse(site.receiver)}.apply` calls it on every submodule (containers, activations) "
                      f"and on `{d.unparse(site.receiver)}` itself") if site.receiver is not None else \
                "`apply` calls it on every submodule, containers and activations included"
        else:
            visits = f"`{d.unparse(site.call.iter)}` yields every submodule (containers, activations) and the root"
        holder = f"`{site.function_name}`" if site.kind == "apply" and not isinstance(site.holder, ast.Lambda) \
            else ("a lambda passed to `apply`" if site.kind == "apply" else "the loop body")
        none = "layers built with `bias=False`" if param == "bias" else "norms built with `affine=False`"
        return (f"{holder} initializes `{site.param}.{param}` with no guard, but {visits}: those have no `{param}` "
                f"(AttributeError), and {none} have it set to None; "
                f"guard it with `isinstance` or `getattr({site.param}, \"{param}\", None) is not None`")
