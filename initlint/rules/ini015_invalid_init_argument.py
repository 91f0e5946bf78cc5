from __future__ import annotations

import difflib

from initlint.catalog import torch as catalog
from initlint.model.entities import literal_value
from initlint.fixes import SAFE, FixBuilder, quote_like
from initlint.rules.base import Rule, Violation


class InvalidInitArgument(Rule):
    """## What it does
    Flags init arguments that raise at runtime: a `nonlinearity` (or `calculate_gain` name) torch does not
    accept (`'gelu'`, `'silu'`, `'identity'`, `'ReLU'`: names are case-sensitive), a `mode` other than
    `fan_in`/`fan_out` (in any case), a string passed as a gain, and keyword arguments the function does not take.

    Keras: an initializer or activation string Keras does not accept (`kernel_initializer="xavier_uniform"`,
    `activation="ReLU"`, `"LeakyReLU"`: identifiers are case-sensitive), `"constant"` (which raises
    `KeyError: 'value'`: use `Constant(v)`), and a `VarianceScaling` mode, distribution or scale that raises.
    With `import tf_keras`, tf-keras's smaller activation list and its extra `*V2` initializer names apply.

    ## Why is this bad?
    `calculate_gain` knows exactly twelve names; anything else raises `ValueError: Unsupported nonlinearity`,
    typically only when the model is first built on the training machine.

    ## Example
    ```python
    nn.init.kaiming_normal_(m.weight, nonlinearity="gelu")
    ```

    ## Use instead
    ```python
    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    ```

    ## Fix safety
    Safe, and only for spelling: `'ReLU'` -> `'relu'` (a change of case or of `-` to `_`), where the call
    raises today and the intended name is certain; for Keras also stray spaces (`'relu '`). Other invalid
    arguments get no fix.
    """

    code = "INI015"
    name = "invalid-init-argument"
    invalid = (
        """
import torch.nn as nn

w = nn.Linear(4, 4).weight
nn.init.kaiming_normal_(w, nonlinearity="gelu")
""",
        """
import torch.nn as nn

gain = nn.init.calculate_gain("ReLU")
""",
        """
import torch.nn as nn

w = nn.Linear(4, 4).weight
nn.init.kaiming_uniform_(w, mode="fan_avg")
""",
        """
import torch.nn as nn

w = nn.Linear(4, 4).weight
nn.init.normal_(w, stddev=0.02)
""",
        """
import keras

layer = keras.layers.Dense(64, activation="ReLU", kernel_initializer="xavier_uniform")
""",
        """
from tensorflow.keras import layers

layer = layers.Conv2D(8, 3, kernel_initializer="constant")
""",
    )
    valid = (
        """
import torch.nn as nn

w = nn.Linear(4, 4).weight
nn.init.kaiming_normal_(w, mode="FAN_OUT", nonlinearity="leaky_relu")
nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh"))
""",
        """
import keras

layer = keras.layers.Dense(64, activation="swish", kernel_initializer="HeNormal", bias_initializer="zero")
act = keras.layers.Activation("hard_silu")
""",
    )

    def check(self, model):
        if model.keras is not None:
            for issue in model.keras.issues:
                fix = None
                if issue.fixed is not None:
                    builder = FixBuilder(model)
                    fix = builder.fix(SAFE, f"Spell it {issue.fixed!r}",
                                      [builder.replace(issue.node, quote_like(issue.node, issue.fixed, builder))])
                yield Violation(issue.node, issue.message, fix)
        for op in model.init_ops:
            if op.spec is None or op.tensor_method or op.wrapper is not None and op.wrapper.torch_equivalent is None:
                continue
            nonlinearity = op.args.get("nonlinearity")
            if nonlinearity is not None:
                problem = _bad_gain_name(literal_value(nonlinearity))
                if problem:
                    yield Violation(nonlinearity, f"`{op.label}` {problem}", _case_fix(model, nonlinearity))
            mode = op.literal("mode") if "mode" in op.args else None
            if isinstance(mode, str) and mode.lower() not in catalog.KAIMING_MODES:
                yield Violation(op.args["mode"], f"`{op.label}` mode={mode!r} raises ValueError: use 'fan_in' or 'fan_out'")
            gain = op.args.get("gain")
            if gain is not None and isinstance(literal_value(gain), str):
                yield Violation(gain, f"`{op.label}` takes a number as gain, not {literal_value(gain)!r} (TypeError); "
                                      f"use gain=nn.init.calculate_gain({literal_value(gain)!r})")
            allowed = set(op.spec.params) | {"tensor"}
            for keyword in op.node.keywords:
                if keyword.arg and keyword.arg not in allowed:
                    hint = difflib.get_close_matches(keyword.arg, sorted(allowed), n=1)
                    suggestion = f"; did you mean `{hint[0]}`?" if hint else ""
                    yield Violation(keyword.value, f"`{op.label}` has no parameter `{keyword.arg}` (TypeError){suggestion}")
        for node in model.calls:
            if (model.names.qualname(node.func) or "").endswith("init.calculate_gain"):
                name_expr = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "nonlinearity"), None)
                problem = _bad_gain_name(literal_value(name_expr))
                if problem and name_expr is not None:
                    yield Violation(name_expr, f"`calculate_gain` {problem}", _case_fix(model, name_expr))


def _case_fix(model, node):
    """`'ReLU'` -> `'relu'`: only a change of case or separators, so the intent is certain."""
    name = literal_value(node)
    fixed = name.lower().replace("-", "_").strip() if isinstance(name, str) else None
    if fixed is None or fixed not in catalog.CALCULATE_GAIN:
        return None
    builder = FixBuilder(model)
    return builder.fix(SAFE, f"Spell it {fixed!r}", [builder.replace(node, quote_like(node, fixed, builder))])


def _bad_gain_name(name) -> str | None:
    if not isinstance(name, str) or name in catalog.CALCULATE_GAIN:
        return None
    close = name.lower().replace("-", "_").strip()
    if close in catalog.CALCULATE_GAIN:
        return f"does not accept {name!r}: names are case-sensitive; use {close!r}"
    hint = difflib.get_close_matches(close, list(catalog.CALCULATE_GAIN), n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    return (f"does not accept {name!r} (ValueError: Unsupported nonlinearity); it knows "
            f"{', '.join(sorted(set(catalog.CALCULATE_GAIN) - {'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d'}))}{suggestion}")
