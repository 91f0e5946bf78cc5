"""`initlint verify`: build the model with torch, run it once forward and backward on random input, and measure
how the signal's scale changes with depth. This executes the user's code, so it is explicit and never part of
`check`; it needs torch (the `verify` extra).

Verdict thresholds: the activation std of the deepest parameterized layer below 10% of the first one's is
"vanishing", above 10x is "exploding", otherwise "healthy"; the same for the weight gradients' std.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass, field

VANISHING = 0.1
EXPLODING = 10.0


class VerifyError(Exception):
    """A one-line reason the model could not be built or run."""


@dataclass
class LayerStats:
    name: str
    type: str
    activation_std: float  # std of the layer's output
    gradient_std: float | None  # std of the loss gradient with respect to that output (the backward signal)


@dataclass
class Verdict:
    label: str  # "as written" / "with initlint's fixes"
    layers: list[LayerStats] = field(default_factory=list)
    activations: str = ""
    gradients: str = ""


def _load(target: str, source_override: str | None = None):
    """`path/to/file.py:Name` or `package.module:name` -> the object named."""
    if ":" not in target:
        raise VerifyError(f"{target}: expected FILE.py:NAME or package.module:NAME")
    location, _, name = target.rpartition(":")
    try:
        if location.endswith(".py") or os.sep in location:
            path = os.path.abspath(location)
            if not os.path.exists(path):
                raise VerifyError(f"{location}: no such file")
            if source_override is not None:
                handle, temp = tempfile.mkstemp(suffix=".py", dir=os.path.dirname(path), prefix=".initlint-verify-")
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(source_override)
                path_to_load = temp
            else:
                path_to_load, temp = path, None
            try:
                module_name = f"_initlint_verify_{uuid.uuid4().hex}"
                spec = importlib.util.spec_from_file_location(module_name, path_to_load)
                module = importlib.util.module_from_spec(spec)
                sys.path.insert(0, os.path.dirname(path))
                try:
                    spec.loader.exec_module(module)  # type: ignore[union-attr]
                finally:
                    sys.path.remove(os.path.dirname(path))
            finally:
                if temp is not None:
                    os.unlink(temp)
        else:
            module = importlib.import_module(location)
    except VerifyError:
        raise
    except BaseException as exc:  # the user's module failed to import: one line, not a traceback
        raise VerifyError(f"{location}: importing it raised {type(exc).__name__}: {exc}") from None
    if not hasattr(module, name):
        raise VerifyError(f"{location}: has no {name!r}")
    return module, getattr(module, name)


def measure(factory, input_shapes, kwargs=None, input_dtype="float32", vocab_size=None, init_fn=None, seed=0,
            label="as written") -> Verdict:
    import torch

    torch.manual_seed(seed)
    try:
        model = factory(**(kwargs or {}))
    except Exception as exc:
        raise VerifyError(f"building the model raised {type(exc).__name__}: {exc}") from None
    if _is_keras_model(model):
        return _measure_keras(model, input_shapes, input_dtype, vocab_size, label)
    if not isinstance(model, torch.nn.Module):
        raise VerifyError(f"the target returned {type(model).__name__}, not a torch.nn.Module or a Keras model")
    if init_fn is not None:
        model.apply(init_fn)
    leaves = [(name, module) for name, module in model.named_modules()
              if not list(module.children()) and any(p.dim() > 1 for p in module.parameters(recurse=False))]
    outputs: dict[str, float] = {}
    gradients: dict[str, float] = {}

    def hook(name):
        def record(_module, _inputs, output):
            tensor = output[0] if isinstance(output, (tuple, list)) else output
            if torch.is_tensor(tensor) and tensor.is_floating_point():
                outputs[name] = float(tensor.detach().float().std())
                if tensor.requires_grad:
                    tensor.register_hook(lambda grad: gradients.__setitem__(name, float(grad.float().std())))
        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in leaves]
    inputs = _random_inputs(input_shapes, input_dtype, vocab_size)
    try:
        result = model(*inputs)
        tensor = result[0] if isinstance(result, (tuple, list)) else result
        tensor.float().pow(2).mean().backward()
    except Exception as exc:
        raise VerifyError(f"forward/backward raised {type(exc).__name__}: {exc}") from None
    finally:
        for handle in handles:
            handle.remove()
    verdict = Verdict(label)
    for name, module in leaves:
        if name not in outputs:
            continue
        verdict.layers.append(LayerStats(name, type(module).__name__, outputs[name], gradients.get(name)))
    verdict.activations = _judge([layer.activation_std for layer in verdict.layers])
    verdict.gradients = _judge([layer.gradient_std for layer in verdict.layers if layer.gradient_std is not None],
                               reverse=True)
    return verdict


def _random_inputs(input_shapes, input_dtype: str, vocab_size: int | None) -> list:
    """Standard-normal floats, or token ids below `vocab_size` for int64 inputs."""
    import torch

    if input_dtype == "int64":
        return [torch.randint(0, vocab_size or 2, shape) for shape in input_shapes]
    return [torch.randn(*shape, dtype=getattr(torch, input_dtype)) for shape in input_shapes]


def _is_keras_model(model) -> bool:
    return type(model).__module__.startswith(("keras", "tf_keras", "tensorflow")) and hasattr(model, "layers")


def _measure_keras(model, input_shapes, input_dtype, vocab_size, label) -> Verdict:
    """A Keras 3 model on the torch backend: per-layer outputs through a functional view of the model, and the
    backward signal from torch's autograd on those outputs."""
    import torch

    if os.environ.get("KERAS_BACKEND", "torch") != "torch":
        raise VerifyError("verify runs Keras models on the torch backend: set KERAS_BACKEND=torch")
    import keras

    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise VerifyError("this Keras model has no defined inputs (build it from keras.Input, or as a Sequential "
                          "starting with keras.Input) so its layers' outputs cannot be read")
    layers = [layer for layer in model.layers if any(len(w.shape) > 1 for w in layer.weights)]
    probe = keras.Model(inputs=inputs, outputs=[layer.output for layer in layers])
    tensors = _random_inputs(input_shapes, input_dtype, vocab_size)
    try:
        outputs = probe(tensors if len(tensors) > 1 else tensors[0])
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        loss = outputs[-1].float().pow(2).mean()
        gradients = torch.autograd.grad(loss, outputs, allow_unused=True)
    except Exception as exc:
        raise VerifyError(f"forward/backward raised {type(exc).__name__}: {exc}") from None
    verdict = Verdict(label)
    for layer, output, gradient in zip(layers, outputs, gradients):
        verdict.layers.append(LayerStats(layer.name, type(layer).__name__, float(output.detach().float().std()),
                                         float(gradient.float().std()) if gradient is not None else None))
    verdict.activations = _judge([layer.activation_std for layer in verdict.layers])
    verdict.gradients = _judge([layer.gradient_std for layer in verdict.layers if layer.gradient_std is not None],
                               reverse=True)
    return verdict


def _judge(values: list[float], reverse: bool = False) -> str:
    """Compare the deepest layer with the first (for gradients, the first layer with the deepest)."""
    if len(values) < 2:
        return "too shallow to judge"
    first, last = (values[-1], values[0]) if reverse else (values[0], values[-1])
    if first <= 0 or not math.isfinite(first) or not math.isfinite(last):
        return "degenerate"
    ratio = last / first
    if ratio < VANISHING:
        return f"vanishing ({ratio:.2g}x)"
    if ratio > EXPLODING:
        return f"exploding ({ratio:.2g}x)"
    return f"healthy ({ratio:.2g}x)"


def verify(target: str, input_shapes, kwargs=None, input_dtype="float32", vocab_size=None, init=None,
           compare_fixed=True) -> list[Verdict]:
    """Measure the model as written and, when initlint has unsafe fixes for its file, as fixed."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise VerifyError("verify needs torch: pip install 'initlint[verify]'") from None
    module, factory = _load(target)
    init_fn = _load(init)[1] if init else _found_init(module, target)
    verdicts = [measure(factory, input_shapes, kwargs, input_dtype, vocab_size, init_fn, label="as written")]
    location = target.rpartition(":")[0]
    if compare_fixed and location.endswith(".py"):
        from initlint.fix import fix_text

        with open(location, encoding="utf-8") as handle:
            original = handle.read()
        fixed = fix_text(location, original, unsafe=True)
        if fixed.text != original:
            fixed_module, fixed_factory = _load(target, source_override=fixed.text)
            fixed_init = _found_init(fixed_module, target) if not init else init_fn
            verdicts.append(measure(fixed_factory, input_shapes, kwargs, input_dtype, vocab_size, fixed_init,
                                    label="with initlint's fixes"))
    return verdicts


def _found_init(module, target: str):
    """An `apply(fn)` the semantic model found for the target class in its file (script code such as
    `model = Net(); model.apply(weights_init)`), so the model is measured as the code initializes it."""
    location, _, name = target.rpartition(":")
    if not location.endswith(".py"):
        return None
    import ast

    from initlint.model.semantic import FileModel
    from initlint.model.walker import FuncRef
    from initlint.source import SourceFile

    with open(location, encoding="utf-8") as handle:
        text = handle.read()
    model = FileModel.build(SourceFile(location, text), ast.parse(text))
    for _call, fn_expr, fn, root in model.apply_calls:
        root_cls = getattr(getattr(root, "block", None), "name", None) or getattr(root, "name", None)
        if root_cls == name and isinstance(fn, FuncRef) and isinstance(fn_expr, ast.Name) and hasattr(module, fn_expr.id):
            if fn.bound_self is None:
                return getattr(module, fn_expr.id)
    return None


def render(verdicts: list[Verdict], output_format: str = "full") -> str:
    if output_format == "json":
        return json.dumps([asdict(v) for v in verdicts], indent=2)
    out = []
    for verdict in verdicts:
        out.append(f"{verdict.label}: activations {verdict.activations}; gradients {verdict.gradients}")
        for layer in verdict.layers:
            gradient = f"{layer.gradient_std:.3g}" if layer.gradient_std is not None else "-"
            out.append(f"  {layer.name:<24} {layer.type:<14} act std {layer.activation_std:<10.3g} grad std {gradient}")
    return "\n".join(out)


def plot(verdicts: list[Verdict], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise VerifyError("--plot needs matplotlib: pip install matplotlib") from None
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for verdict in verdicts:
        axis.plot(range(1, len(verdict.layers) + 1), [layer.activation_std for layer in verdict.layers], marker="o",
                  label=f"{verdict.label} ({verdict.activations})")
    axis.set_yscale("log")
    axis.set_xlabel("parameterized layer (depth)")
    axis.set_ylabel("activation std")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
