"""Every fact in `initlint.catalog.keras`, checked against the installed keras (3.15.1, torch backend).

The checks read real signatures, call `initializers.get`/`activations.get` and build real layers: a wrong default, a
renamed argument, a new initializer alias or activation string, or a changed behaviour makes a test fail.
TensorFlow is not installed; the tf-keras facts in the catalog are source-read and not checked here.
"""

from __future__ import annotations

import inspect
import math
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")

from keras import activations, initializers, layers  # noqa: E402

from initlint.catalog import keras as kc  # noqa: E402
from initlint.catalog import torch as tc  # noqa: E402


def params_of(cls) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(cls).parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]


def values(tensor) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def test_version_is_the_one_the_catalog_describes():
    assert keras.__version__ == kc.KERAS_VERSION
    assert keras.backend.backend() == "torch"


# ---------------------------------------------------------------------------------------------- layers

LAYER_NAMES = sorted(kc.LAYERS) + sorted(kc.LAYER_ALIASES)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_signature_starts_with_the_catalog_order(name):
    spec = kc.layer_spec(name)
    cls = getattr(layers, name)
    names = [p.name for p in params_of(cls)]
    assert tuple(names[:len(spec.signature)]) == spec.signature


@pytest.mark.parametrize("name", sorted(kc.LAYERS))
def test_layer_initializer_defaults(name):
    spec = kc.LAYERS[name]
    signature = inspect.signature(getattr(layers, name)).parameters
    for item in spec.initializer_args:
        assert signature[item.arg].default == item.default, (name, item.arg)
        param = next(p for p in spec.params if p.name == item.param)
        assert param.default_init == item.default
    # every `*_initializer` argument that decides a trainable weight is catalogued (moving stats are buffers)
    declared = {p for p in signature if p.endswith("_initializer") and not p.startswith("moving_")}
    assert declared == {item.arg for item in spec.initializer_args}, name


@pytest.mark.parametrize("name", sorted(kc.LAYERS))
def test_layer_activation_and_bias_defaults(name):
    spec = kc.LAYERS[name]
    signature = inspect.signature(getattr(layers, name)).parameters
    assert ("activation" in signature) == spec.has_activation_arg
    if spec.has_activation_arg:
        assert signature["activation"].default == spec.activation_default
    for param in spec.params:
        for flag, default in param.present_if:
            if flag == "bias_axes":  # EinsumDense: no use_bias; a bias only when bias_axes is given
                assert signature[flag].default is None and default is False and "use_bias" not in signature
            else:
                assert signature[flag].default == default, (name, flag)
    for flag, default in spec.flags:
        assert signature[flag].default == default
    if spec.channels_arg:
        assert spec.channels_arg in signature


def test_every_keras_layer_with_an_initializer_argument_is_catalogued():
    with_initializers = set()
    for name in dir(layers):
        cls = getattr(layers, name)
        if inspect.isclass(cls) and issubclass(cls, layers.Layer):
            if any(p.endswith("_initializer") for p in inspect.signature(cls).parameters):
                with_initializers.add(name)
    assert with_initializers == set(kc.LAYERS) | set(kc.LAYER_ALIASES)


def test_dense_default_kernel_is_glorot_uniform_and_none_means_default():
    for initializer in ("glorot_uniform", None):
        layer = layers.Dense(512, kernel_initializer=initializer)
        layer.build((None, 256))
        kernel = values(layer.kernel)
        limit = math.sqrt(6 / (256 + 512))
        assert np.abs(kernel).max() <= limit + 1e-6 and np.abs(kernel).max() > 0.95 * limit
        assert not values(layer.bias).any()


def test_embedding_default_is_uniform_005():
    layer = layers.Embedding(1000, 64)
    layer.build((None,))
    weights = values(layer.embeddings)
    assert 0.049 < np.abs(weights).max() <= 0.05


def test_lstm_unit_forget_bias_sets_the_forget_slice_to_one():
    assert dict(kc.LAYERS["LSTM"].flags)["unit_forget_bias"] is True
    lstm = layers.LSTM(4)
    lstm.build((None, 3, 2))
    bias = values(lstm.cell.bias)
    assert (bias[4:8] == 1).all() and not bias[:4].any() and not bias[8:].any()
    lstm = layers.LSTM(3, bias_initializer=initializers.Constant(0.5))
    lstm.build((None, 3, 2))
    bias = values(lstm.cell.bias)
    assert (bias[3:6] == 1).all() and np.allclose(bias[:3], 0.5) and np.allclose(bias[6:], 0.5)
    assert "unit_forget_bias" not in inspect.signature(layers.GRU).parameters


def test_layer_classes_the_model_knows_exist():
    for group in (kc.TRANSPARENT_LAYERS, kc.PARAMETER_FREE_NORMS, kc.UNION_LAYERS, kc.GATE_LAYERS, kc.WRAPPERS,
                  kc.SCALE_FREE_WRAPPERS, set(kc.ACTIVATION_LAYERS)):
        for name in group:
            assert inspect.isclass(getattr(layers, name)), name
    for function, cls in kc.MERGE_FUNCTIONS.items():
        assert callable(getattr(layers, function)) and inspect.isclass(getattr(layers, cls))
    assert keras.Sequential is keras.models.Sequential and keras.Model is keras.models.Model
    assert callable(layers.Input) and keras.Input is layers.Input


# ----------------------------------------------------------------------------------------- activations

def test_activation_strings_are_exactly_keras_ones():
    from keras.src.activations import ALL_OBJECTS_DICT

    assert set(kc.ACTIVATIONS) == set(ALL_OBJECTS_DICT)
    for name in kc.ACTIVATIONS:
        assert callable(activations.get(name))
    assert activations.get(None) is activations.linear


@pytest.mark.parametrize("name", ["ReLU", "Relu", "LeakyReLU", "leakyrelu", "hardswish", "identity", "none", "None",
                                  "prelu", "gelu_approximate"])
def test_rejected_activation_strings_raise(name):
    assert name not in kc.ACTIVATIONS
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        activations.get(name)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_activation_function_default_slopes(name):
    activation = kc.ACTIVATIONS[name]
    parameter = inspect.signature(getattr(activations, name)).parameters[activation.slope_keyword]
    assert parameter.default == activation.slope
    assert list(inspect.signature(getattr(activations, name)).parameters).index(activation.slope_keyword) \
        == activation.slope_position + 1
    out = values(getattr(activations, name)(keras.ops.convert_to_tensor(np.array([-1.0], dtype="float32"))))
    assert out[0] == pytest.approx(-activation.slope)


def test_ops_activations_exist():
    for name in kc.OPS_ACTIVATIONS:
        assert callable(getattr(keras.ops, name)), name


# Keras functions and the torch function of the catalog activation they are mapped to: same numbers.
TORCH_FUNCTIONS = {
    "relu": torch.relu, "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.2), "relu6": torch.nn.functional.relu6,
    "elu": torch.nn.functional.elu, "celu": torch.nn.functional.celu, "selu": torch.selu, "gelu": torch.nn.functional.gelu,
    "silu": torch.nn.functional.silu, "swish": torch.nn.functional.silu, "mish": torch.nn.functional.mish,
    "hard_silu": torch.nn.functional.hardswish, "hard_swish": torch.nn.functional.hardswish,
    "softplus": torch.nn.functional.softplus, "sigmoid": torch.sigmoid, "hard_sigmoid": torch.nn.functional.hardsigmoid,
    "log_sigmoid": torch.nn.functional.logsigmoid, "tanh": torch.tanh, "hard_tanh": torch.nn.functional.hardtanh,
    "softsign": torch.nn.functional.softsign, "tanh_shrink": torch.nn.functional.tanhshrink,
    "hard_shrink": torch.nn.functional.hardshrink, "soft_shrink": torch.nn.functional.softshrink,
    "softmax": lambda x: torch.softmax(x, -1), "log_softmax": lambda x: torch.log_softmax(x, -1),
    "glu": lambda x: torch.nn.functional.glu(x, -1),
}


@pytest.mark.parametrize("name", sorted(TORCH_FUNCTIONS))
def test_keras_activation_computes_what_its_torch_spec_computes(name):
    activation = kc.ACTIVATIONS[name]
    torch_names = {spec.name: spec for spec in tc.ACTIVATIONS}
    assert torch_names[activation.spec.name] is activation.spec  # reused, not copied
    x = np.linspace(-4, 4, 64, dtype="float32").reshape(2, 32)
    keras_out = values(getattr(activations, name)(keras.ops.convert_to_tensor(x)))
    torch_out = TORCH_FUNCTIONS[name](torch.tensor(x)).numpy()
    assert np.allclose(keras_out, torch_out, atol=1e-5), name


def test_keras_only_activations_are_not_torch_ones():
    for name, spec in kc.KERAS_ONLY_ACTIVATIONS.items():
        assert name not in tc.ACTIVATIONS_BY_NAME
        assert callable(activations.get(name))


def test_activation_layers():
    assert inspect.signature(layers.LeakyReLU).parameters["negative_slope"].default == \
        kc.ACTIVATION_LAYERS["LeakyReLU"].default_slope == 0.3
    out = values(layers.LeakyReLU()(keras.ops.convert_to_tensor(np.array([-1.0], dtype="float32"))))
    assert out[0] == pytest.approx(-0.3)
    relu = kc.ACTIVATION_LAYERS["ReLU"]
    names = [p.name for p in params_of(layers.ReLU)]
    assert names.index(relu.slope_keyword) == relu.slope_position
    assert inspect.signature(layers.PReLU).parameters["alpha_initializer"].default == "Zeros"
    prelu = layers.PReLU()
    prelu.build((None, 4))
    assert not values(prelu.alpha).any() and kc.ACTIVATION_LAYERS["PReLU"].default_slope == 0.0
    with pytest.warns(UserWarning, match="alpha.*deprecated"):
        legacy = layers.LeakyReLU(alpha=0.1)
    assert legacy.negative_slope == pytest.approx(0.1)
    assert kc.ACTIVATION_LAYERS["LeakyReLU"].legacy_slope_keyword == "alpha"


# ---------------------------------------------------------------------------------------- initializers

def test_initializer_aliases_are_exactly_keras_ones():
    from keras.src.initializers import ALL_OBJECTS_DICT

    assert set(kc.INITIALIZER_ALIASES) == set(ALL_OBJECTS_DICT)
    for alias, spec in kc.INITIALIZER_ALIASES.items():
        assert ALL_OBJECTS_DICT[alias].__name__ == spec.class_name, alias


@pytest.mark.parametrize("alias", sorted(kc.INITIALIZER_ALIASES))
def test_initializers_get(alias):
    spec = kc.INITIALIZER_ALIASES[alias]
    if spec.class_name == "STFT":
        pytest.importorskip("scipy")
    if spec.get_error:
        error, _, message = spec.get_error.partition(": ")
        exception = {"KeyError": KeyError, "NotImplementedError": NotImplementedError}[error]
        with pytest.raises(exception, match=message.strip("'")[:30].replace("(", r"\(").replace("`", ".")):
            instance = initializers.get(alias)
            instance((2, 2))  # the abstract base is accepted by get() and fails when used
        return
    instance = initializers.get(alias)
    assert type(instance).__name__ == spec.class_name
    config = instance.get_config()
    for key, value in spec.defaults:
        if key in kc.TORCH_ARGUMENT_NAMES.values():
            keras_name = next(k for k, v in kc.TORCH_ARGUMENT_NAMES.items() if v == key)
            assert spec.default(keras_name) == value
            continue
        # Identity's get_config() omits gain: read the attribute.
        assert getattr(instance, key, config.get(key)) == value, (alias, key)
    if spec.variance_scaling is not None:
        assert (instance.scale, instance.mode, instance.distribution) == spec.variance_scaling
        named = kc.VARIANCE_SCALING_FAMILIES.get(spec.variance_scaling[:2])
        if spec.class_name != "VarianceScaling":
            assert named == spec.family


@pytest.mark.parametrize("name", sorted(kc.INITIALIZERS))
def test_initializer_constructor_order(name):
    spec = kc.INITIALIZERS[name]
    names = [p.name for p in params_of(getattr(initializers, name))]
    assert tuple(names[:len(spec.params)]) == spec.params
    for keras_name in kc.TORCH_ARGUMENT_NAMES:
        if spec.default(keras_name) is not None:
            assert keras_name in names


@pytest.mark.parametrize("name", ["glorot", "xavier", "xavier_uniform", "kaiming_normal", "he", "lecun",
                                  "Glorot_Uniform", "GLOROT_UNIFORM", "glorotuniform", "random_normal ", "truncated",
                                  "ones_", "default", "None", "orthogonal_initializer"])
def test_rejected_initializer_strings_raise(name):
    assert name not in kc.INITIALIZER_ALIASES
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        initializers.get(name)


def test_variance_scaling_arguments():
    for mode in kc.VARIANCE_SCALING_MODES:
        initializers.VarianceScaling(mode=mode)
    for distribution in kc.VARIANCE_SCALING_DISTRIBUTIONS:
        initializers.VarianceScaling(distribution=distribution)
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    with pytest.raises(ValueError, match="Invalid `mode` argument"):
        initializers.VarianceScaling(mode="fan_max")
    with pytest.raises(ValueError):
        initializers.VarianceScaling(distribution="gaussian")
    with pytest.raises(ValueError, match="must be positive"):
        initializers.VarianceScaling(scale=0)


@pytest.mark.parametrize("name", sorted(kc.INITIALIZERS))
def test_fitting_names_and_distributions(name):
    spec = kc.INITIALIZERS[name]
    if name in kc.DISTRIBUTION and spec.variance_scaling is not None and name != "VarianceScaling":
        distribution = spec.variance_scaling[2]
        assert kc.DISTRIBUTION[name] == ("uniform" if distribution == "uniform" else "normal")
    for (family, distribution), target in kc.NAMED.items():
        assert kc.INITIALIZERS[target].name.startswith(family) and kc.INITIALIZERS[target].name.endswith(distribution)


def test_stddev_defaults_are_measured():
    for name, expected in (("random_normal", 0.05), ("random_uniform", 0.05 / math.sqrt(3)),
                           ("truncated_normal", 0.05 * 0.8796)):
        sample = values(initializers.get(name)((400, 600)))
        assert sample.std() == pytest.approx(expected, rel=0.03), name


# ---------------------------------------------------------------------------------- INI038's premise

def _kernels(first, second, shapes=((8, 16), (8, 16))):
    a = layers.Dense(shapes[0][1], kernel_initializer=first)
    b = layers.Dense(shapes[1][1], kernel_initializer=second)
    a.build((None, shapes[0][0]))
    b.build((None, shapes[1][0]))
    return values(a.kernel), values(b.kernel)


@pytest.mark.parametrize("name", sorted(n for n, s in kc.INITIALIZERS.items() if s.random))
def test_a_shared_instance_repeats_its_values(name):
    cls = getattr(initializers, name)
    for instance in (cls(), cls(seed=1)):
        a, b = _kernels(instance, instance)
        assert np.array_equal(a, b) and a.std() > 0, name
    shared = cls(seed=keras.random.SeedGenerator(1))
    a, b = _kernels(shared, shared)
    assert not np.array_equal(a, b), name


def test_strings_and_defaults_draw_fresh_values():
    a, b = _kernels("glorot_uniform", "glorot_uniform")
    assert not np.array_equal(a, b)
    a, b = _kernels(None, None)
    assert not np.array_equal(a, b)
    config = {"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}}
    a, b = _kernels(config, config)
    assert not np.array_equal(a, b)


def test_a_shared_instance_gives_a_larger_kernel_the_same_leading_draws():
    instance = initializers.RandomNormal(stddev=1.0)
    a, b = _kernels(instance, instance, shapes=((4, 8), (8, 16)))
    assert np.array_equal(a.ravel(), b.ravel()[:a.size])


@pytest.mark.parametrize("name", sorted(n for n, s in kc.INITIALIZERS.items() if not s.random))
def test_non_random_initializers_are_deterministic(name):
    spec = kc.INITIALIZERS[name]
    if name in ("STFT", "Initializer"):
        assert not spec.seedable
        return
    cls = getattr(initializers, name)
    assert "seed" not in inspect.signature(cls).parameters
    a, b = values(cls()((3, 3))), values(cls()((3, 3)))
    assert np.array_equal(a, b)
