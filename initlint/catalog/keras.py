"""What Keras 3.15.1 really does, as data: layers, their initializer arguments and defaults, initializers and their
string aliases, activations and their spellings (plus where tf-keras 2.x differs).

Keras layers are described with the torch catalog's `LayerSpec`/`ParamSpec` (the rules filter on `kind`), Keras
initializers with its `InitFunctionSpec` (the rules read `family`, `defaults`, `constant_value`), and Keras activations
reuse the torch `ActivationSpec` of the same function, so every activation-aware rule works unchanged.

Parameter names in the semantic model are *roles*, the same for both frameworks: a Dense `kernel` is the layer's
`weight`, BatchNormalization's `gamma` its `weight` and `beta` its `bias`. `InitializerArg.weight` keeps the Keras
name for messages.

Every entry is checked against the installed keras by `tests/test_catalog_keras.py`.
Sources: `../shared/reference/keras_defaults.md`, `activation_catalog.md` (Keras part).
"""

from __future__ import annotations

from dataclasses import dataclass

from initlint.catalog import torch as tc
from initlint.catalog.torch import (
    ATTENTION, CONV, CONV_TRANSPOSE, EMBEDDING, FAM_CONSTANT, FAM_EYE, FAM_KAIMING, FAM_LECUN, FAM_NORMAL,
    FAM_ORTHOGONAL, FAM_TRUNC_NORMAL, FAM_UNIFORM, FAM_VARIANCE_SCALING, FAM_XAVIER, HE, LINEAR, NORM,
    OUTPUT, PARAM_ACTIVATION, RECURRENT, RECURRENT_CELL, XAVIER, ActivationSpec, InitFunctionSpec, LayerSpec, ParamSpec,
)
from initlint.model.keras_names import FRAMEWORK

KERAS_VERSION = "3.15.1"

# ---------------------------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class InitializerArg:
    """One `*_initializer` constructor argument: the parameter role it decides, its default, the Keras weight name."""

    arg: str  # kernel_initializer
    param: str  # role in the semantic model: weight, bias, weight_hh, depthwise_weight
    default: str  # the identifier Keras passes to initializers.get() when the argument is absent
    weight: str  # Keras's weight name: kernel, recurrent_kernel, gamma


@dataclass(frozen=True)
class KerasLayerSpec(LayerSpec):
    """A Keras layer with weights. `signature` is the positional order of the constructor, up to the initializers."""

    framework: str = FRAMEWORK
    initializer_args: tuple[InitializerArg, ...] = ()
    activation_default: str | None = None  # None: linear (no activation)
    has_activation_arg: bool = False
    channels_arg: str | None = None  # the argument giving the output width: units / filters / output_dim
    depthwise: bool = False  # depthwise kernel: each output sees kernel_size inputs of one channel

    def initializer_arg(self, arg: str) -> InitializerArg | None:
        for item in self.initializer_args:
            if item.arg == arg:
                return item
        return None

    def initializer_for(self, param: str) -> InitializerArg | None:
        for item in self.initializer_args:
            if item.param == param:
                return item
        return None


_BIAS = (("use_bias", True),)


def _kernel_bias(kernel_arg: str = "kernel_initializer", weight: str = "kernel") -> tuple:
    args = (InitializerArg(kernel_arg, "weight", "glorot_uniform", weight),
            InitializerArg("bias_initializer", "bias", "zeros", "bias"))
    params = (ParamSpec("weight", "glorot_uniform"), ParamSpec("bias", "zeros", _BIAS, ndim=1))
    return args, params


def _rnn() -> tuple:
    args = (InitializerArg("kernel_initializer", "weight_ih", "glorot_uniform", "kernel"),
            InitializerArg("recurrent_initializer", "weight_hh", "orthogonal", "recurrent_kernel"),
            InitializerArg("bias_initializer", "bias", "zeros", "bias"))
    params = (ParamSpec("weight_ih", "glorot_uniform"), ParamSpec("weight_hh", "orthogonal"),
              ParamSpec("bias", "zeros", _BIAS))
    return args, params


def _norm() -> tuple:
    args = (InitializerArg("beta_initializer", "bias", "zeros", "beta"),
            InitializerArg("gamma_initializer", "weight", "ones", "gamma"))
    params = (ParamSpec("weight", "ones", (("scale", True),), ndim=1),
              ParamSpec("bias", "zeros", (("center", True),), ndim=1))
    return args, params


_DENSE_SIG = ("units", "activation", "use_bias", "kernel_initializer", "bias_initializer")
_EINSUM_SIG = ("equation", "output_shape", "activation", "bias_axes", "kernel_initializer", "bias_initializer")
_CONV_SIG = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation",
             "use_bias", "kernel_initializer", "bias_initializer")
_CONVT_SIG = ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format", "dilation_rate",
              "activation", "use_bias", "kernel_initializer", "bias_initializer")
# Conv3DTranspose takes data_format before output_padding.
_CONV3DT_SIG = _CONVT_SIG[:4] + ("data_format", "output_padding") + _CONVT_SIG[6:]
_DEPTHWISE_SIG = ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate", "activation",
                  "use_bias", "depthwise_initializer", "bias_initializer")
_SEPARABLE_SIG = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier",
                  "activation", "use_bias", "depthwise_initializer", "pointwise_initializer", "bias_initializer")
_SIMPLE_RNN_SIG = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer")
_GATED_RNN_SIG = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                  "recurrent_initializer", "bias_initializer")
_LSTM_SIG = _GATED_RNN_SIG + ("unit_forget_bias",)
_CONV_LSTM_SIG = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                  "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
                  "unit_forget_bias")
_BN_SIG = ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
           "moving_mean_initializer", "moving_variance_initializer")
_LN_SIG = ("axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer")
_GN_SIG = ("groups", "axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer")
_EMBEDDING_SIG = ("input_dim", "output_dim", "embeddings_initializer")
_REVERSIBLE_EMBEDDING_SIG = ("input_dim", "output_dim", "tie_weights", "embeddings_initializer")
_MHA_SIG = ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape", "attention_axes",
            "sliding_window", "flash_attention", "kernel_initializer", "bias_initializer")
_GQA_SIG = ("head_dim", "num_query_heads", "num_key_value_heads", "dropout", "use_bias", "sliding_window",
            "flash_attention", "kernel_initializer", "bias_initializer")
_PRELU_SIG = ("alpha_initializer",)


def _layers() -> dict[str, KerasLayerSpec]:
    kb_args, kb_params = _kernel_bias()
    specs: list[KerasLayerSpec] = [
        KerasLayerSpec("Dense", LINEAR, (), _DENSE_SIG, kb_params, initializer_args=kb_args, has_activation_arg=True,
                       channels_arg="units"),
        # No use_bias argument: a bias exists only when bias_axes is given.
        KerasLayerSpec("EinsumDense", LINEAR, (), _EINSUM_SIG,
                       (ParamSpec("weight", "glorot_uniform"), ParamSpec("bias", "zeros", (("bias_axes", False),), ndim=1)),
                       initializer_args=kb_args, has_activation_arg=True),
    ]
    for dims in (1, 2, 3):
        specs += [
            KerasLayerSpec(f"Conv{dims}D", CONV, (), _CONV_SIG, kb_params, spatial_dims=dims, initializer_args=kb_args,
                           has_activation_arg=True, channels_arg="filters"),
            KerasLayerSpec(f"Conv{dims}DTranspose", CONV_TRANSPOSE, (), _CONV3DT_SIG if dims == 3 else _CONVT_SIG,
                           kb_params, spatial_dims=dims,
                           initializer_args=kb_args, has_activation_arg=True, channels_arg="filters"),
        ]
    for dims in (1, 2):
        dw_args, dw_params = _kernel_bias("depthwise_initializer", "depthwise_kernel")
        specs.append(KerasLayerSpec(f"DepthwiseConv{dims}D", CONV, (), _DEPTHWISE_SIG, dw_params, spatial_dims=dims,
                                    initializer_args=dw_args, has_activation_arg=True, depthwise=True))
        # The pointwise kernel is the one whose output reaches the activation: it is the layer's `weight`.
        sep_args = (InitializerArg("depthwise_initializer", "depthwise_weight", "glorot_uniform", "depthwise_kernel"),
                    InitializerArg("pointwise_initializer", "weight", "glorot_uniform", "pointwise_kernel"),
                    InitializerArg("bias_initializer", "bias", "zeros", "bias"))
        sep_params = (ParamSpec("depthwise_weight", "glorot_uniform"), ParamSpec("weight", "glorot_uniform", ndim=2 + dims),
                      ParamSpec("bias", "zeros", _BIAS, ndim=1))
        specs.append(KerasLayerSpec(f"SeparableConv{dims}D", CONV, (), _SEPARABLE_SIG, sep_params, spatial_dims=dims,
                                    initializer_args=sep_args, has_activation_arg=True, channels_arg="filters"))
    rnn_args, rnn_params = _rnn()
    specs += [
        KerasLayerSpec("SimpleRNN", RECURRENT, (), _SIMPLE_RNN_SIG, rnn_params, initializer_args=rnn_args,
                       activation_default="tanh", has_activation_arg=True, channels_arg="units"),
        KerasLayerSpec("SimpleRNNCell", RECURRENT_CELL, (), _SIMPLE_RNN_SIG, rnn_params, initializer_args=rnn_args,
                       activation_default="tanh", has_activation_arg=True, channels_arg="units"),
        # unit_forget_bias=True *sets* the forget-gate slice of the bias to 1 (whatever bias_initializer says).
        KerasLayerSpec("LSTM", RECURRENT, (), _LSTM_SIG, rnn_params, initializer_args=rnn_args,
                       activation_default="tanh", has_activation_arg=True, channels_arg="units",
                       flags=(("unit_forget_bias", True),)),
        KerasLayerSpec("LSTMCell", RECURRENT_CELL, (), _LSTM_SIG, rnn_params, initializer_args=rnn_args,
                       activation_default="tanh", has_activation_arg=True, channels_arg="units",
                       flags=(("unit_forget_bias", True),)),
        KerasLayerSpec("GRU", RECURRENT, (), _GATED_RNN_SIG, rnn_params, initializer_args=rnn_args,
                       activation_default="tanh", has_activation_arg=True, channels_arg="units"),
        KerasLayerSpec("GRUCell", RECURRENT_CELL, (), _GATED_RNN_SIG, rnn_params, initializer_args=rnn_args,
                       activation_default="tanh", has_activation_arg=True, channels_arg="units"),
    ]
    for dims in (1, 2, 3):
        specs.append(KerasLayerSpec(f"ConvLSTM{dims}D", RECURRENT, (), _CONV_LSTM_SIG, rnn_params, spatial_dims=dims,
                                    initializer_args=rnn_args, activation_default="tanh", has_activation_arg=True,
                                    channels_arg="filters", flags=(("unit_forget_bias", True),)))
    bn_args, bn_params = _norm()
    specs += [
        KerasLayerSpec("BatchNormalization", NORM, (), _BN_SIG, bn_params, initializer_args=bn_args),
        KerasLayerSpec("LayerNormalization", NORM, (), _LN_SIG, bn_params, initializer_args=bn_args),
        KerasLayerSpec("GroupNormalization", NORM, (), _GN_SIG, bn_params, initializer_args=bn_args),
        KerasLayerSpec("Embedding", EMBEDDING, (), _EMBEDDING_SIG, (ParamSpec("weight", "uniform", ndim=2),),
                       initializer_args=(InitializerArg("embeddings_initializer", "weight", "uniform", "embeddings"),),
                       channels_arg="output_dim"),
        KerasLayerSpec("ReversibleEmbedding", EMBEDDING, ("Embedding",), _REVERSIBLE_EMBEDDING_SIG,
                       (ParamSpec("weight", "uniform", ndim=2),),
                       initializer_args=(InitializerArg("embeddings_initializer", "weight", "uniform", "embeddings"),),
                       channels_arg="output_dim"),
        KerasLayerSpec("MultiHeadAttention", ATTENTION, (), _MHA_SIG, kb_params, initializer_args=kb_args),
        KerasLayerSpec("GroupQueryAttention", ATTENTION, (), _GQA_SIG, kb_params, initializer_args=kb_args),
        # alpha starts at zero: a PReLU starts as a ReLU (torch's starts at 0.25).
        KerasLayerSpec("PReLU", PARAM_ACTIVATION, (), _PRELU_SIG, (ParamSpec("weight", "Zeros"),),
                       initializer_args=(InitializerArg("alpha_initializer", "weight", "Zeros", "alpha"),)),
    ]
    return {spec.name: spec for spec in specs}


LAYERS: dict[str, KerasLayerSpec] = _layers()
# Other public names of the same classes.
LAYER_ALIASES: dict[str, str] = {
    **{f"Convolution{d}D": f"Conv{d}D" for d in (1, 2, 3)},
    **{f"Convolution{d}DTranspose": f"Conv{d}DTranspose" for d in (1, 2, 3)},
    **{f"SeparableConvolution{d}D": f"SeparableConv{d}D" for d in (1, 2)},
}


def layer_spec(name: str) -> KerasLayerSpec | None:
    return LAYERS.get(LAYER_ALIASES.get(name, name))


# Layers that pass their input's scale on unchanged for our purposes (between a layer and its activation).
TRANSPARENT_LAYERS = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout", "GaussianDropout",
    "GaussianNoise", "ActivityRegularization", "Masking", "Identity", "InputLayer",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D",
    "GlobalAvgPool3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "GlobalMaxPool3D", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
    "Flatten", "Reshape", "Permute", "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
})
# Layers that keep the channel count (shape tracking for the fixed-std rule); Flatten/Reshape/pooling to a vector don't.
CHANNEL_PRESERVING = TRANSPARENT_LAYERS - {"Flatten", "Reshape", "Permute", "RepeatVector"}
# Normalization without an initializer argument still rescales the signal.
PARAMETER_FREE_NORMS = frozenset({"UnitNormalization", "RMSNormalization", "Normalization"})
# Merge layers (class) and their functional forms: union of branches, with Add/Subtract/Average a residual sum.
UNION_LAYERS = frozenset({"Add", "Subtract", "Average", "Maximum", "Minimum", "Concatenate"})
RESIDUAL_LAYERS = frozenset({"Add", "Subtract", "Average"})
GATE_LAYERS = frozenset({"Multiply", "Dot"})
MERGE_FUNCTIONS = {"add": "Add", "subtract": "Subtract", "average": "Average", "maximum": "Maximum",
                   "minimum": "Minimum", "concatenate": "Concatenate", "multiply": "Multiply", "dot": "Dot"}
# Wrappers whose first argument is the layer that does the work.
WRAPPERS = frozenset({"TimeDistributed", "Bidirectional"})
# Reparametrizes the wrapped layer's kernel by its spectral norm: the kernel's initial scale does not matter.
SCALE_FREE_WRAPPERS = frozenset({"SpectralNormalization"})
MODEL_CLASSES = frozenset({"Model", "Functional"})
SEQUENTIAL_CLASSES = frozenset({"Sequential"})
LAYER_BASES = frozenset({"Layer", "Model", "Functional", "Sequential"})
INPUT_FUNCTIONS = frozenset({"Input"})

# ----------------------------------------------------------------------------------------- activations


@dataclass(frozen=True)
class KerasActivation:
    """A Keras activation: which catalog ActivationSpec it is, its slope, and for tf-keras whether it exists."""

    name: str  # the Keras identifier
    spec: ActivationSpec | None  # None: linear (no activation)
    slope: float | None = None
    slope_keyword: str | None = None  # `negative_slope` (Keras 3) for the function/ops form
    slope_position: int | None = None  # positional index after `x`
    in_tf_keras: bool = True


def _torch(name: str) -> ActivationSpec:
    return tc.ACTIVATIONS_BY_NAME[name]


# Activations Keras has and torch's catalog does not (same ActivationSpec shape, Keras-only names).
KERAS_ONLY_ACTIVATIONS: dict[str, ActivationSpec] = {
    spec.name: spec for spec in (
        ActivationSpec("exponential", family=XAVIER),
        ActivationSpec("sparse_sigmoid", family=XAVIER),
        ActivationSpec("sparse_plus", family=HE),
        ActivationSpec("squareplus", family=HE),
        ActivationSpec("sparsemax", family=OUTPUT),
    )
}

_A = KerasActivation
# Every string `keras.activations.get` accepts (32), with its catalog activation. `in_tf_keras=False`: new in Keras 3.
ACTIVATIONS: dict[str, KerasActivation] = {a.name: a for a in (
    _A("relu", _torch("relu"), 0.0, "negative_slope", 0),
    _A("leaky_relu", _torch("leaky_relu"), 0.2, "negative_slope", 0),
    _A("relu6", _torch("relu6"), 0.0),
    _A("elu", _torch("elu")),
    _A("celu", _torch("celu"), in_tf_keras=False),
    _A("selu", _torch("selu")),
    _A("gelu", _torch("gelu")),
    _A("silu", _torch("silu")),
    _A("swish", _torch("silu")),
    _A("mish", _torch("mish")),
    _A("hard_silu", _torch("hardswish"), in_tf_keras=False),
    _A("hard_swish", _torch("hardswish"), in_tf_keras=False),
    _A("softplus", _torch("softplus")),
    _A("squareplus", KERAS_ONLY_ACTIVATIONS["squareplus"], in_tf_keras=False),
    _A("sparse_plus", KERAS_ONLY_ACTIVATIONS["sparse_plus"], in_tf_keras=False),
    _A("sigmoid", _torch("sigmoid")),
    _A("hard_sigmoid", _torch("hardsigmoid")),
    _A("sparse_sigmoid", KERAS_ONLY_ACTIVATIONS["sparse_sigmoid"], in_tf_keras=False),
    _A("log_sigmoid", _torch("logsigmoid"), in_tf_keras=False),
    _A("tanh", _torch("tanh")),
    _A("hard_tanh", _torch("hardtanh"), in_tf_keras=False),
    _A("softsign", _torch("softsign")),
    _A("tanh_shrink", _torch("tanhshrink"), in_tf_keras=False),
    _A("hard_shrink", _torch("hardshrink"), in_tf_keras=False),
    _A("soft_shrink", _torch("softshrink"), in_tf_keras=False),
    _A("threshold", _torch("threshold"), in_tf_keras=False),
    _A("glu", _torch("glu"), in_tf_keras=False),
    _A("softmax", _torch("softmax")),
    _A("log_softmax", _torch("softmax")),
    _A("sparsemax", KERAS_ONLY_ACTIVATIONS["sparsemax"], in_tf_keras=False),
    _A("exponential", KERAS_ONLY_ACTIVATIONS["exponential"]),
    _A("linear", None),
)}
# tf-keras: `activations.relu(x, alpha=0.0, ...)`, and the `leaky_relu` string is tf.nn.leaky_relu (alpha=0.2).
TF_KERAS_SLOPE_KEYWORD = "alpha"

# `keras.ops.X` functions that are activations: the strings' names, except linear, exponential (ops.exp) and mish.
OPS_ACTIVATIONS = frozenset(ACTIVATIONS) - {"linear", "exponential", "mish"}

# TensorFlow functions: `tf.nn.X`, `tf.math.X`, `tf.X`, with their slope keyword (tf.nn.leaky_relu(features, alpha=0.2)).
TF_ACTIVATIONS: dict[str, KerasActivation] = {a.name: a for a in (
    _A("relu", _torch("relu"), 0.0),
    _A("leaky_relu", _torch("leaky_relu"), 0.2, "alpha", 0),
    _A("relu6", _torch("relu6"), 0.0),
    _A("crelu", _torch("relu"), 0.0),
    _A("elu", _torch("elu")),
    _A("selu", _torch("selu")),
    _A("gelu", _torch("gelu")),
    _A("silu", _torch("silu")),
    _A("swish", _torch("silu")),
    _A("softplus", _torch("softplus")),
    _A("softsign", _torch("softsign")),
    _A("sigmoid", _torch("sigmoid")),
    _A("tanh", _torch("tanh")),
    _A("softmax", _torch("softmax")),
    _A("log_softmax", _torch("softmax")),
)}
TF_ACTIVATION_MODULES = ("tensorflow.nn.", "tensorflow.math.", "tensorflow.")


@dataclass(frozen=True)
class ActivationLayer:
    """An activation layer class: the activation it applies and where its slope argument is."""

    activation: str  # the torch catalog's ActivationSpec name
    slope_keyword: str | None = None
    slope_position: int | None = None
    default_slope: float | None = None
    legacy_slope_keyword: str | None = None  # Keras 3 still accepts `alpha=` (deprecated) on LeakyReLU
    slope_initializer: str | None = None  # PReLU: the slope is the alpha initializer's constant


ACTIVATION_LAYERS: dict[str, ActivationLayer] = {
    # ReLU(max_value=None, negative_slope=0.0, threshold=0.0): the slope is the 2nd positional argument.
    "ReLU": ActivationLayer("relu", "negative_slope", 1, 0.0),
    # The layer's default slope is 0.3, the function's 0.2, torch's 0.01.
    "LeakyReLU": ActivationLayer("leaky_relu", "negative_slope", 0, 0.3, legacy_slope_keyword="alpha"),
    "PReLU": ActivationLayer("prelu", default_slope=0.0, slope_initializer="alpha_initializer"),
    "ELU": ActivationLayer("elu"),
    "Softmax": ActivationLayer("softmax"),
}
# tf-keras: LeakyReLU(alpha=0.3).
TF_KERAS_ACTIVATION_LAYER_SLOPE = {"LeakyReLU": "alpha"}

# ---------------------------------------------------------------------------------------- initializers


@dataclass(frozen=True)
class KerasInitializerSpec(InitFunctionSpec):
    """A `keras.initializers` class. `name` is its snake_case alias, `params` its constructor's positional order.

    `defaults` holds the Keras parameter defaults and, for the rules that read torch names, the same values under
    `std`, `a`, `b`, `val` (see `TORCH_ARGUMENT_NAMES`).
    """

    class_name: str = ""
    aliases: tuple[str, ...] = ()  # further strings `initializers.get` accepts
    variance_scaling: tuple[float, str, str] | None = None  # (scale, mode, distribution) when it is one
    random: bool = True  # draws random values (sharing an instance then repeats them: INI038)
    seedable: bool = True
    get_error: str | None = None  # what `initializers.get(<string>)` raises for the string aliases


_VS_PARAMS = ("seed", "input_axes", "output_axes")
_I = KerasInitializerSpec
INITIALIZERS: dict[str, KerasInitializerSpec] = {spec.class_name: spec for spec in (
    _I("glorot_uniform", FAM_XAVIER, _VS_PARAMS, class_name="GlorotUniform", variance_scaling=(1.0, "fan_avg", "uniform")),
    _I("glorot_normal", FAM_XAVIER, _VS_PARAMS, class_name="GlorotNormal",
       variance_scaling=(1.0, "fan_avg", "truncated_normal")),
    _I("he_uniform", FAM_KAIMING, _VS_PARAMS, class_name="HeUniform", variance_scaling=(2.0, "fan_in", "uniform")),
    _I("he_normal", FAM_KAIMING, _VS_PARAMS, class_name="HeNormal", variance_scaling=(2.0, "fan_in", "truncated_normal")),
    _I("lecun_uniform", FAM_LECUN, _VS_PARAMS, class_name="LecunUniform", variance_scaling=(1.0, "fan_in", "uniform")),
    _I("lecun_normal", FAM_LECUN, _VS_PARAMS, class_name="LecunNormal",
       variance_scaling=(1.0, "fan_in", "truncated_normal")),
    _I("variance_scaling", FAM_VARIANCE_SCALING, ("scale", "mode", "distribution") + _VS_PARAMS,
       (("scale", 1.0), ("mode", "fan_in"), ("distribution", "truncated_normal")), class_name="VarianceScaling",
       variance_scaling=(1.0, "fan_in", "truncated_normal")),
    _I("random_normal", FAM_NORMAL, ("mean", "stddev", "seed"), (("mean", 0.0), ("stddev", 0.05), ("std", 0.05)),
       class_name="RandomNormal", aliases=("normal",)),
    # Cut at ±2 stddev and not rescaled: the realised std is 0.88 stddev.
    _I("truncated_normal", FAM_TRUNC_NORMAL, ("mean", "stddev", "seed"), (("mean", 0.0), ("stddev", 0.05), ("std", 0.05)),
       class_name="TruncatedNormal"),
    _I("random_uniform", FAM_UNIFORM, ("minval", "maxval", "seed"),
       (("minval", -0.05), ("maxval", 0.05), ("a", -0.05), ("b", 0.05)), class_name="RandomUniform",
       aliases=("uniform",)),
    _I("orthogonal", FAM_ORTHOGONAL, ("gain", "seed"), (("gain", 1.0),), min_dims=2, class_name="Orthogonal",
       aliases=("OrthogonalInitializer",)),
    _I("identity", FAM_EYE, ("gain",), (("gain", 1.0),), exact_dims=(2,), class_name="Identity",
       aliases=("IdentityInitializer",), random=False, seedable=False),
    _I("zeros", FAM_CONSTANT, (), constant_value=0.0, class_name="Zeros", aliases=("zero",), random=False,
       seedable=False),
    _I("ones", FAM_CONSTANT, (), constant_value=1.0, class_name="Ones", aliases=("one",), random=False, seedable=False),
    # `initializers.get("constant")` passes an empty config and Constant.from_config reads config["value"].
    _I("constant", FAM_CONSTANT, ("value",), (("value", 0.0), ("val", 0.0)), class_name="Constant", random=False,
       seedable=False, get_error="KeyError: 'value'"),
    # Needs scipy when constructed; deterministic (a Fourier basis).
    _I("stft", "stft", ("side", "window", "scaling", "periodic"), class_name="STFT", aliases=("STFTInitializer",),
       random=False, seedable=False),
    # The abstract base: get() accepts it, building a weight with it raises.
    _I("initializer", "abstract", (), class_name="Initializer", random=False, seedable=False,
       get_error="NotImplementedError: Initializer subclasses must implement the `__call__()` method."),
)}

# TensorFlow's own initializers (`tf.random_normal_initializer(0.0, 0.02)` in TF tutorials): the Keras class with
# the same parameters. They draw from TF's stateful RNG, so a shared unseeded one does not repeat itself: no INI038.
# (Source-read: tensorflow/python/ops/init_ops_v2.py; TensorFlow is not installed.)
TF_INITIALIZERS = {
    "random_normal_initializer": "RandomNormal", "random_uniform_initializer": "RandomUniform",
    "truncated_normal_initializer": "TruncatedNormal", "zeros_initializer": "Zeros", "ones_initializer": "Ones",
    "constant_initializer": "Constant", "orthogonal_initializer": "Orthogonal",
    "glorot_uniform_initializer": "GlorotUniform", "glorot_normal_initializer": "GlorotNormal",
    "variance_scaling_initializer": "VarianceScaling",
}

# Keras argument names and the torch names the shared rules read (`op.literal("std")`).
TORCH_ARGUMENT_NAMES = {"stddev": "std", "minval": "a", "maxval": "b", "value": "val"}

# VarianceScaling parameters that make it one of the named families.
VARIANCE_SCALING_FAMILIES: dict[tuple[float, str], str] = {
    (1.0, "fan_avg"): FAM_XAVIER,
    (2.0, "fan_in"): FAM_KAIMING,
    (2.0, "fan_out"): FAM_KAIMING,
    (1.0, "fan_in"): FAM_LECUN,
}
VARIANCE_SCALING_MODES = ("fan_in", "fan_out", "fan_avg")
# `distribution` is lower-cased; 'normal' means 'truncated_normal'.
VARIANCE_SCALING_DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal", "normal")

# tf-keras also accepts the legacy V2 names (source-read: tf_keras/initializers/__init__.py; not executed).
TF_KERAS_V2_CLASSES = ("Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "LecunNormal",
                       "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
                       "VarianceScaling", "Zeros")
TF_KERAS_V2_SNAKE = ("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform")


def _aliases(tf_keras: bool) -> dict[str, KerasInitializerSpec]:
    out: dict[str, KerasInitializerSpec] = {}
    for spec in INITIALIZERS.values():
        for alias in (spec.class_name, spec.name, *spec.aliases):
            out[alias] = spec
    if tf_keras:
        for name in TF_KERAS_V2_CLASSES:
            out[f"{name}V2"] = INITIALIZERS[name]
        for name in TF_KERAS_V2_SNAKE:
            out[f"{INITIALIZERS[name].name}V2"] = INITIALIZERS[name]
    return out


INITIALIZER_ALIASES: dict[str, KerasInitializerSpec] = _aliases(False)
TF_KERAS_INITIALIZER_ALIASES: dict[str, KerasInitializerSpec] = _aliases(True)
# tf-keras builds Constant() from an empty config (value=0), so its "constant" string works (source-read).
TF_KERAS_GET_OK = frozenset({"constant"})

# What each activation family wants, as a Keras initializer family (for messages and fixes).
FITTING_FAMILY = {"relu": "he", "saturating": "glorot", "selu": "lecun"}
# Named initializers by (family, distribution).
NAMED: dict[tuple[str, str], str] = {
    ("he", "uniform"): "HeUniform", ("he", "normal"): "HeNormal",
    ("glorot", "uniform"): "GlorotUniform", ("glorot", "normal"): "GlorotNormal",
    ("lecun", "uniform"): "LecunUniform", ("lecun", "normal"): "LecunNormal",
}
# The distribution each initializer draws from, for keeping it when swapping the family.
DISTRIBUTION = {"GlorotUniform": "uniform", "GlorotNormal": "normal", "HeUniform": "uniform", "HeNormal": "normal",
                "LecunUniform": "uniform", "LecunNormal": "normal", "RandomNormal": "normal",
                "TruncatedNormal": "normal", "RandomUniform": "uniform", "Orthogonal": "normal",
                "VarianceScaling": "normal"}

# Layers' `add_weight(initializer=None)`: glorot_uniform for float weights.
ADD_WEIGHT_DEFAULT = "glorot_uniform"
SEED_GENERATOR = "keras.random.SeedGenerator"


def variance_scaling_family(scale, mode) -> str:
    if isinstance(scale, (int, float)) and not isinstance(scale, bool) and isinstance(mode, str):
        return VARIANCE_SCALING_FAMILIES.get((float(scale), mode.lower()), FAM_VARIANCE_SCALING)
    return FAM_VARIANCE_SCALING


# ------------------------------------------------------------------------------------- ops and names

# Calls on tensors (`keras.ops.X`, `tf.X`, builtins) as the data flow sees them: inspection (no effect on the
# signal), pass-through, union of branches (residual for sums), gates (products), normalizations.
INSPECTION_FUNCTIONS = frozenset({
    "shape", "int_shape", "is_keras_tensor", "image_data_format", "ndim", "dtype", "len", "print", "isinstance",
    "hasattr", "getattr", "standardize_dtype", "get_source_inputs", "range", "validate_activation",
    "obtain_input_shape", "correct_pad", "make_divisible", "str", "int", "float", "round", "max", "min", "list", "tuple",
    "enumerate", "zip", "sorted",
})
OPS_PASS_THROUGH = frozenset({
    "reshape", "transpose", "squeeze", "expand_dims", "cast", "flatten", "identity", "pad", "permute", "tile", "repeat",
    "stop_gradient", "convert_to_tensor", "clip", "clip_by_value", "resize", "image.resize", "depth_to_space",
    "space_to_depth", "moveaxis", "swapaxes", "split", "unstack", "slice", "gather", "dropout", "max_pool",
    "average_pool", "avg_pool", "mean", "reduce_mean", "sum", "reduce_sum", "max", "reduce_max",
})
OPS_UNION = frozenset({"add", "subtract", "concatenate", "concat", "stack", "add_n", "maximum", "minimum", "average"})
OPS_RESIDUAL = frozenset({"add", "subtract", "add_n", "average"})
OPS_GATE = frozenset({"multiply", "matmul", "einsum", "dot", "tensordot", "divide", "batch_dot"})
OPS_NORM = frozenset({"normalize", "batch_normalization", "layer_normalization", "rms_normalization", "l2_normalize",
                      "moments"})

# A file that registers custom objects may use their names as identifiers.
CUSTOM_OBJECT_WORDS = ("custom_object", "register_keras_serializable", "CustomObjectScope", "get_custom_objects")
# Common names from other libraries, and what Keras calls them.
INITIALIZER_HINTS = {
    "xavier": "glorot_uniform", "xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
    "glorot": "glorot_uniform", "kaiming": "he_normal", "kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal",
    "he": "he_normal", "lecun": "lecun_normal", "trunc_normal": "truncated_normal", "gaussian": "random_normal",
    "orthogonal_initializer": "orthogonal",
}
ACTIVATION_HINTS = {
    "leakyrelu": "leaky_relu", "hardswish": "hard_swish", "hardsigmoid": "hard_sigmoid", "identity": "linear",
    "none": "linear", "prelu": "layers.PReLU()", "logsoftmax": "log_softmax", "logsigmoid": "log_sigmoid",
    "hardtanh": "hard_tanh",
}


__all__ = ["LAYERS", "INITIALIZERS", "ACTIVATIONS", "ACTIVATION_LAYERS", "KerasLayerSpec", "KerasInitializerSpec",
           "KerasActivation", "InitializerArg", "layer_spec", "FRAMEWORK", "DEFAULT_KINDS"]
DEFAULT_KINDS = (LINEAR, CONV, CONV_TRANSPOSE)
