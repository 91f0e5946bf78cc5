from __future__ import annotations

import ast
import re

from initlint.model.entities import literal_value
from initlint.rules._structural import INIT_OPTION_RE, nodes_of, ops_in, terminal_name
from initlint.rules.base import Rule, Violation
from initlint.model.syntax import walk

_FAMILY_WORDS = {
    "kaiming": "kaiming", "he": "kaiming", "msra": "kaiming",
    "xavier": "xavier", "glorot": "xavier",
    "orthogonal": "orthogonal", "ortho": "orthogonal", "orth": "orthogonal",
    "lecun": "lecun",
    "zeros": "zeros", "zero": "zeros",
    "ones": "ones",
}
_DIST_WORDS = {"uniform": "uniform", "normal": "normal", "gaussian": "normal", "trunc": "normal",
               "truncated": "normal", "truncnormal": "normal"}
_NEUTRAL = {"default", "none", "torch", "pytorch", "auto", "standard", "identity"}

# What each op amounts to: (family, distribution).
_OPS = {
    "kaiming_normal_": ("kaiming", "normal"), "kaiming_uniform_": ("kaiming", "uniform"),
    "xavier_normal_": ("xavier", "normal"), "xavier_uniform_": ("xavier", "uniform"),
    "orthogonal_": ("orthogonal", None), "normal_": (None, "normal"), "uniform_": (None, "uniform"),
    "trunc_normal_": (None, "normal"), "trunc_normal_tf_": (None, "normal"), "lecun_normal_": ("lecun", "normal"),
    "zeros_": ("zeros", None), "zero_": ("zeros", None), "ones_": ("ones", None), "constant_": ("constant", None),
    "fill_": ("constant", None), "sparse_": (None, "normal"), "eye_": ("eye", None), "dirac_": ("dirac", None),
}
_NAMED_FAMILIES = {"kaiming", "xavier", "orthogonal", "lecun"}
_CONSTANT_FAMILIES = {"zeros", "ones", "constant"}


def parse_option(text: str) -> tuple[str | None, str | None]:
    """'kaiming_uniform' -> ('kaiming', 'uniform'); 'he_normal' -> ('kaiming', 'normal');
    'xavier' -> ('xavier', None)."""
    words = [w for w in re.split(r"[^a-z]+", text.lower()) if w]
    family = next((_FAMILY_WORDS[w] for w in words if w in _FAMILY_WORDS), None)
    dist = next((_DIST_WORDS[w] for w in words if w in _DIST_WORDS), None)
    if family is None and dist is None and len(words) == 1:
        # glued spellings: `kaiminguniform`, `xaviernormal`
        for key, value in _FAMILY_WORDS.items():
            if len(key) > 3 and words[0].startswith(key):
                family = value
                rest = words[0][len(key):]
                dist = _DIST_WORDS.get(rest)
                break
    return family, dist


def option_compare(test: ast.expr) -> tuple[ast.expr, str] | None:
    """`init == "kaiming_uniform"` (either side) -> (the option expression, the string)."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], (ast.Eq, ast.Is)):
        return None
    left, right = test.left, test.comparators[0]
    for option, value in ((left, right), (right, left)):
        text = literal_value(value)
        if isinstance(text, str) and not isinstance(option, ast.Constant):
            name = terminal_name(option)
            if name and INIT_OPTION_RE.search(name):
                return option, text
    return None


def _branch_ops(model, body: list[ast.stmt], option: ast.expr):
    """Init ops of a branch, leaving out nested branches on the same option."""
    dump = ast.dump(option)
    nested: list[ast.AST] = []
    for statement in body:
        for node in walk(statement):
            if isinstance(node, ast.If):
                found = option_compare(node.test)
                if found and ast.dump(found[0]) == dump:
                    nested.append(node)
    skip = {id(n) for branch in nested for n in walk(branch)}
    out = []
    for statement in body:
        out += [op for op in ops_in(model, statement) if id(op.node) not in skip]
    return out


def _only_pass(body: list[ast.stmt]) -> bool:
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in body)


def _pass_contradicts(family: str | None, dist: str | None) -> bool:
    """Whether leaving PyTorch's defaults in place cannot be what the option names. The defaults are
    kaiming_uniform_(a=sqrt(5)) for Linear/Conv, normal_(0, 1) for Embedding, ones/zeros for norms, so `pass` may
    honestly mean "normal", "uniform", "kaiming", "zeros" or "ones"; it cannot mean Xavier, orthogonal, LeCun or
    He-normal."""
    if family in ("xavier", "orthogonal", "lecun"):
        return True
    return family == "kaiming" and dist == "normal"


def mismatch(family: str | None, dist: str | None, ops) -> str | None:
    """Why the ops disagree with the option's name, or None."""
    kinds = [(op, _OPS.get(op.name, (None, None))) for op in ops]
    named = {f for _, (f, _d) in kinds if f in _NAMED_FAMILIES}
    dists = {d for _, (_f, d) in kinds if d is not None}
    constants = {f for _, (f, _d) in kinds if f in _CONSTANT_FAMILIES}
    calls = ", ".join(sorted({f"`{op.label}`" for op, _ in kinds}))
    if family in _NAMED_FAMILIES and family != "lecun" and named and family not in named:
        return f"the branch calls {calls}, not a {family} init"
    if dist is not None and dists and dist not in dists:
        drawn = next(iter(sorted(dists)))
        return f"the branch calls {calls}, which draws from a {drawn} distribution, not a {dist} one"
    if family in ("zeros", "ones") and not constants and dists:
        return f"the branch calls {calls}, a random init, not {family}"
    return None


class InitOptionMismatch(Rule):
    """## What it does
    Flags an init option whose name disagrees with the code its branch runs: a branch on
    `init == "kaiming_uniform"` (or `initializer`, `init_type`, `weight_init`, ...) that calls
    `kaiming_normal_`, an `"xavier"` branch that calls `orthogonal_`, a `"zeros"` branch that draws random
    values, or a named scheme whose branch is only `pass`.

    ## Why is this bad?
    The option is the interface users choose from and experiments are logged by. When the name says uniform
    but the code draws from a normal distribution (same variance, different tails), or when a named scheme
    silently does nothing, results are attributed to the wrong init and comparisons between options are
    meaningless.

    ## Example
    ```python
    if initializer == "kaiming_uniform":
        nn.init.kaiming_normal_(m.weight)
    ```

    ## Use instead
    ```python
    if initializer == "kaiming_uniform":
        nn.init.kaiming_uniform_(m.weight)
    ```

    ## Fix safety
    No fix: either the option's name or the function it calls is wrong, and only the author knows which.
    """

    code = "INI037"
    name = "init-option-mismatch"
    invalid = (
        """
import torch
import torch.nn as nn

def get_conv_block(in_channels, out_channels, initializer="kaiming_uniform"):
    conv_block = nn.Sequential(nn.Conv3d(in_channels, out_channels, 3, padding=1), nn.ReLU())
    for m in conv_block.modules():
        if isinstance(m, nn.Conv3d):
            if initializer == "kaiming_uniform":
                nn.init.kaiming_normal_(torch.as_tensor(m.weight))
            elif initializer == "zeros":
                nn.init.zeros_(torch.as_tensor(m.weight))
            else:
                raise ValueError(f"initializer {initializer} is not supported")
    return conv_block
""",
        """
import torch.nn as nn

def init_weights(net, init_type="normal", gain=0.02):
    def init_func(m):
        if isinstance(m, nn.Conv2d):
            if init_type == "normal":
                nn.init.normal_(m.weight, 0.0, gain)
            elif init_type == "xavier":
                pass
            elif init_type == "orthogonal":
                nn.init.orthogonal_(m.weight, gain=gain)
    net.apply(init_func)
""",
    )
    valid = (
        """
import torch.nn as nn

class Quantizer(nn.Module):
    def __init__(self, num_embeddings, dim, embedding_init="normal"):
        super().__init__()
        self.embedding = nn.Embedding(num_embeddings, dim)
        if embedding_init == "normal":
            pass  # nn.Embedding's default is already N(0, 1)
        elif embedding_init == "kaiming_uniform":
            nn.init.kaiming_uniform_(self.embedding.weight, mode="fan_in", nonlinearity="linear")
""",
        """
import torch.nn as nn

def init_weights(net, init_type="normal", gain=0.02):
    def init_func(m):
        if isinstance(m, nn.Conv2d):
            if init_type == "normal":
                nn.init.normal_(m.weight, 0.0, gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(m.weight, gain=gain)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            elif init_type == "orthogonal":
                nn.init.orthogonal_(m.weight, gain=gain)
            elif init_type == "default":
                pass
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)
    net.apply(init_func)
""",
        """
import math
import torch.nn as nn

def layer_init(layer, weights_init="lecun_normal"):
    if weights_init == "lecun_normal":
        nn.init.trunc_normal_(layer.weight, std=math.sqrt(1.0 / layer.in_features))
    elif weights_init == "he_normal":
        nn.init.normal_(layer.weight, 0, math.sqrt(2.0 / layer.in_features))
    return layer
""",
    )

    def check(self, model):
        for node in nodes_of(model, ast.If):
            found = option_compare(node.test)
            if found is None:
                continue
            option, text = found
            if text.lower() in _NEUTRAL:
                continue
            family, dist = parse_option(text)
            if family is None and dist is None:
                continue
            label = f"`{_name(option)} == {text!r}`"
            if _only_pass(node.body):
                if not _pass_contradicts(family, dist):
                    continue
                yield Violation(node.test, f"the branch for {label} is only `pass`: choosing the {text!r} "
                                           "scheme silently leaves the layers at PyTorch's default init")
                continue
            ops = _branch_ops(model, node.body, option)
            if not ops:
                continue
            reason = mismatch(family, dist, ops)
            if reason:
                yield Violation(node.test, f"the init option {label} does not match what runs: {reason}")
        for node in nodes_of(model, ast.Dict):
            yield from self._check_table(model, node)

    def _check_table(self, model, table: ast.Dict):
        """`{"kaiming_uniform": nn.init.kaiming_normal_, ...}`: keys naming schemes, values init functions."""
        for key, value in zip(table.keys, table.values):
            text = literal_value(key) if key is not None else None
            if not isinstance(text, str) or value is None:
                continue
            qualname = model.names.qualname(value) or ""
            if not qualname.startswith("torch.nn.init."):
                continue
            op_name = qualname.rsplit(".", 1)[1]
            if op_name not in _OPS:
                continue
            family, dist = parse_option(text)
            if family is None and dist is None:
                continue
            op_family, op_dist = _OPS[op_name]
            wrong_family = family in _NAMED_FAMILIES and family != "lecun" and op_family in _NAMED_FAMILIES \
                and family != op_family
            if wrong_family or dist is not None and op_dist is not None and dist != op_dist:
                yield Violation(value, f"the init table maps {text!r} to `{op_name}`, whose "
                                       f"{'family' if family != op_family else 'distribution'} differs from the "
                                       "option's name")


def _name(option: ast.expr) -> str:
    try:
        return ast.unparse(option)
    except Exception:  # pragma: no cover
        return "init"
