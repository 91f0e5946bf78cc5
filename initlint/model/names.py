"""Qualified names: what `nn.Linear`, `init.xu` or `F.relu` really refer to, from the file's imports alone.

Nothing is imported or inferred from torch's source: `import torch.nn as nn` makes `nn.Linear` mean
`torch.nn.Linear` by reading the import statement. Conventional aliases (`nn`, `F`, `init`, `torch`) that
arrive through a star import are taken as torch's.
"""

from __future__ import annotations

import ast

from initlint.catalog import torch as catalog
from initlint.model.syntax import walk

# What the conventional short names mean when a star import may have brought them.
CONVENTIONAL_ALIASES = {
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "init": "torch.nn.init",
    "torch": "torch",
    "np": "numpy",
    "math": "math",
}

# Submodules of torch.nn whose public names are re-exported as torch.nn.X.
_TORCH_NN_INTERNAL_PREFIXES = ("torch.nn.modules.", "torch.nn.modules")


def _canonical(qualname: str) -> str:
    """Fold internal module paths onto the public ones (`torch.nn.modules.conv.Conv2d` -> `torch.nn.Conv2d`)."""
    if qualname.startswith("torch.nn.modules."):
        return "torch.nn." + qualname.rsplit(".", 1)[-1]
    if qualname.startswith(("timm.layers.weight_init.", "timm.models.layers.")):
        return "timm.layers." + qualname.rsplit(".", 1)[-1]
    if qualname.startswith("."):
        # Relative imports inside the wrapper libraries themselves (transformers' models, timm's layers).
        bare = qualname.lstrip(".")
        if bare.startswith("initialization."):
            return "transformers." + bare
        head, _, leaf = bare.rpartition(".")
        if head.split(".")[-1:] in (["weight_init"], ["layers"]) and f"timm.layers.{leaf}" in catalog.WRAPPERS:
            return "timm.layers." + leaf
    return qualname


_UNKNOWN = object()


class Names:
    """Maps local names to qualified names using the file's import statements."""

    def __init__(self, tree: ast.Module, imports: list[ast.stmt] | None = None) -> None:
        self.aliases: dict[str, str] = {}
        self._memo: dict[ast.AST, str | None] = {}
        self.star_modules: list[str] = []
        self.local_definitions: set[str] = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.local_definitions.add(node.name)
        for node in imports if imports is not None else walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases.setdefault(alias.asname, alias.name)
                    else:
                        top = alias.name.split(".", 1)[0]
                        self.aliases.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        self.star_modules.append(module)
                        continue
                    # `from . import blocks` is `.blocks`: the dots alone say the level, never one more.
                    qualified = f"{module}{alias.name}" if node.module is None else f"{module}.{alias.name}"
                    self.aliases.setdefault(alias.asname or alias.name, qualified)
        self._star_torch_nn = any(m in ("torch.nn", "torch.nn.modules") for m in self.star_modules)
        self._star_unknown = any(not m.startswith(("torch", "keras", "tensorflow")) for m in self.star_modules)

    def qualname(self, expr: ast.AST | None) -> str | None:
        """The dotted qualified name an expression refers to, or None when it is not a plain dotted name.
        Remembered per expression: the walker and the rules ask about the same nodes many times."""
        result = self._memo.get(expr, _UNKNOWN)  # AST nodes hash by identity
        if result is _UNKNOWN:
            result = self._memo[expr] = self._qualname(expr)
        return result

    def _qualname(self, expr: ast.AST | None) -> str | None:
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        head = self.resolve_name(expr.id)
        if head is None:
            return None
        parts.append(head)
        return _canonical(".".join(reversed(parts)))

    def resolve_name(self, name: str) -> str | None:
        if name in self.aliases:
            return self.aliases[name]
        if name in self.local_definitions:
            return f"<local>.{name}"
        if self._star_torch_nn and (name in catalog.LAYERS or name in catalog.ACTIVATION_BY_MODULE
                                    or name in catalog.CONTAINERS or name in catalog.TRANSPARENT_MODULES):
            return f"torch.nn.{name}"
        if name in CONVENTIONAL_ALIASES and (self._star_unknown or name in ("torch",)):
            return CONVENTIONAL_ALIASES[name]
        return name  # a builtin or a plain local name


def torch_nn_name(qualname: str | None) -> str | None:
    """`torch.nn.Linear` -> `Linear`; None for anything outside torch.nn's module classes."""
    if qualname and qualname.startswith("torch.nn.") and qualname.count(".") == 2:
        return qualname.rsplit(".", 1)[1]
    return None


INIT_MODULES = ("torch.nn.init",)
HF_INIT_MODULE = "transformers.initialization"


def init_function_name(qualname: str | None) -> str | None:
    """The name within `torch.nn.init` (or a catalogued wrapper module) a call refers to."""
    if not qualname:
        return None
    for prefix in (*INIT_MODULES, HF_INIT_MODULE):
        if qualname.startswith(prefix + ".") and qualname.count(".") == prefix.count(".") + 1:
            return qualname.rsplit(".", 1)[1]
    return None
