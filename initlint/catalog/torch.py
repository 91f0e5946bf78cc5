"""What torch 2.13 really does, as data: layers, their parameters and defaults, activations, `nn.init`.

Every entry is checked against the installed torch by `tests/test_catalog_torch.py`, so it cannot drift.
Sources: `../shared/reference/torch_defaults.md`, `torch_init_api.md`, `activation_catalog.md`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------- layers

# Layer kinds the rules reason about.
LINEAR = "linear"
CONV = "conv"
CONV_TRANSPOSE = "conv_transpose"
BILINEAR = "bilinear"
RECURRENT = "recurrent"
RECURRENT_CELL = "recurrent_cell"
NORM = "norm"
EMBEDDING = "embedding"
ATTENTION = "attention"
TRANSFORMER = "transformer"
PARAM_ACTIVATION = "param_activation"  # PReLU: has a weight, but is an activation
OUTPUT_HEAD = "output_head"  # loss modules that own Linear layers (AdaptiveLogSoftmaxWithLoss, LinearCrossEntropyLoss)

FEEDFORWARD_KINDS = frozenset({LINEAR, CONV, CONV_TRANSPOSE, BILINEAR})

DEFAULT_FAN_INIT = "kaiming_uniform_(a=sqrt(5))"


@dataclass(frozen=True)
class ParamSpec:
    """One parameter a layer registers.

    `present_if` lists the constructor flags that must all be true for the parameter to exist, each with
    its default value (`bias=False` removes Linear's bias; InstanceNorm has `affine=False` by default).
    """

    name: str
    default_init: str
    present_if: tuple[tuple[str, bool], ...] = ()
    ndim: int | None = None  # None: depends on the layer (e.g. conv weight: 2 + spatial dims)


@dataclass(frozen=True)
class LayerSpec:
    name: str
    kind: str
    bases: tuple[str, ...]  # catalog names of direct torch parents (for isinstance dispatch)
    signature: tuple[str, ...]  # constructor parameter names, in positional order
    params: tuple[ParamSpec, ...]
    lazy: bool = False
    spatial_dims: int = 0  # conv: 1, 2 or 3
    flags: tuple[tuple[str, object], ...] = ()  # other constructor defaults the catalog cares about

    def flag_default(self, name: str, fallback=None):
        for key, value in self.flags:
            if key == name:
                return value
        return fallback


def _ff_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("weight", DEFAULT_FAN_INIT),
        ParamSpec("bias", "uniform_(-1/sqrt(fan_in), 1/sqrt(fan_in))", (("bias", True),), ndim=1),
    )


def _norm_params(affine_flag: str, affine_default: bool, has_bias: bool = True) -> tuple[ParamSpec, ...]:
    weight = ParamSpec("weight", "ones_", ((affine_flag, affine_default),), ndim=1)
    if not has_bias:
        return (weight,)
    return (weight, ParamSpec("bias", "zeros_", ((affine_flag, affine_default), ("bias", True)), ndim=1))


_RNN_INIT = "uniform_(-1/sqrt(hidden_size), 1/sqrt(hidden_size))"


def _rnn_params(projection: bool = False) -> tuple[ParamSpec, ...]:
    params = (
        ParamSpec("weight_ih_l0", _RNN_INIT, ndim=2),
        ParamSpec("weight_hh_l0", _RNN_INIT, ndim=2),
        ParamSpec("bias_ih_l0", _RNN_INIT, (("bias", True),), ndim=1),
        ParamSpec("bias_hh_l0", _RNN_INIT, (("bias", True),), ndim=1),
    )
    if projection:
        # LSTM(proj_size=p > 0) only; `proj_size` is an int (default 0), present when it is truthy.
        params += (ParamSpec("weight_hr_l0", _RNN_INIT, (("proj_size", False),), ndim=2),)
    return params


def _cell_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("weight_ih", _RNN_INIT, ndim=2),
        ParamSpec("weight_hh", _RNN_INIT, ndim=2),
        ParamSpec("bias_ih", _RNN_INIT, (("bias", True),), ndim=1),
        ParamSpec("bias_hh", _RNN_INIT, (("bias", True),), ndim=1),
    )


_CONV_SIG = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode")
_CONVT_SIG = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias", "dilation", "padding_mode")
# The private bases take `transposed` and `output_padding` in the middle (subclasses pass them through).
_CONV_BASE_SIG = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "transposed", "output_padding",
                  "groups", "bias", "padding_mode")
_LAZY_CONV_SIG = _CONV_SIG[1:]
_LAZY_CONVT_SIG = _CONVT_SIG[1:]
_BN_SIG = ("num_features", "eps", "momentum", "affine", "track_running_stats")
_LAZY_BN_SIG = _BN_SIG[1:]
_RNN_SIG = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional")
# nn.RNN takes `nonlinearity` 4th (before `bias`); LSTM takes `proj_size` last; RNNBase takes `mode` first.
_ELMAN_RNN_SIG = _RNN_SIG[:3] + ("nonlinearity",) + _RNN_SIG[3:]
_LSTM_SIG = _RNN_SIG + ("proj_size",)
_RNN_BASE_SIG = ("mode",) + _LSTM_SIG
_CELL_SIG = ("input_size", "hidden_size", "bias")


def _layers() -> dict[str, LayerSpec]:
    specs: list[LayerSpec] = [
        LayerSpec("Linear", LINEAR, (), ("in_features", "out_features", "bias"), _ff_params()),
        LayerSpec("NonDynamicallyQuantizableLinear", LINEAR, ("Linear",), ("in_features", "out_features", "bias"), _ff_params()),
        LayerSpec("LazyLinear", LINEAR, ("Linear",), ("out_features", "bias"), _ff_params(), lazy=True),
        LayerSpec("Bilinear", BILINEAR, (), ("in1_features", "in2_features", "out_features", "bias"),
                  (ParamSpec("weight", "uniform_(-1/sqrt(in1), 1/sqrt(in1))", ndim=3),
                   ParamSpec("bias", "uniform_(-1/sqrt(in1), 1/sqrt(in1))", (("bias", True),), ndim=1))),
        LayerSpec("_ConvNd", CONV, (), _CONV_BASE_SIG, _ff_params()),
        LayerSpec("_ConvTransposeNd", CONV_TRANSPOSE, ("_ConvNd",), _CONV_BASE_SIG, _ff_params()),
        LayerSpec("_BatchNorm", NORM, ("_NormBase",), _BN_SIG, _norm_params("affine", True)),
        LayerSpec("_NormBase", NORM, (), _BN_SIG, _norm_params("affine", True)),
        LayerSpec("_InstanceNorm", NORM, ("_NormBase",), _BN_SIG, _norm_params("affine", False),
                  flags=(("affine", False),)),
        LayerSpec("RNNBase", RECURRENT, (), _RNN_BASE_SIG, _rnn_params(projection=True)),
        LayerSpec("RNNCellBase", RECURRENT_CELL, (), _CELL_SIG, _cell_params()),
        LayerSpec("Embedding", EMBEDDING, (), ("num_embeddings", "embedding_dim", "padding_idx"),
                  (ParamSpec("weight", "normal_(0, 1), padding row zeroed", ndim=2),)),
        LayerSpec("EmbeddingBag", EMBEDDING, (), ("num_embeddings", "embedding_dim"),
                  (ParamSpec("weight", "normal_(0, 1), padding row zeroed", ndim=2),)),
        LayerSpec("LayerNorm", NORM, (), ("normalized_shape", "eps", "elementwise_affine", "bias"),
                  _norm_params("elementwise_affine", True)),
        LayerSpec("GroupNorm", NORM, (), ("num_groups", "num_channels", "eps", "affine"), _norm_params("affine", True)),
        LayerSpec("RMSNorm", NORM, (), ("normalized_shape", "eps", "elementwise_affine"),
                  _norm_params("elementwise_affine", True, has_bias=False)),
        # in_proj_weight is replaced by q_proj_weight / k_proj_weight / v_proj_weight (xavier_uniform_) when kdim or vdim
        # differs from embed_dim; out_proj is a NonDynamicallyQuantizableLinear submodule whose bias is zeroed.
        LayerSpec("MultiheadAttention", ATTENTION, (),
                  ("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim", "batch_first"),
                  (ParamSpec("in_proj_weight", "xavier_uniform_", ndim=2),
                   ParamSpec("in_proj_bias", "constant_(0)", (("bias", True),), ndim=1),
                   ParamSpec("bias_k", "xavier_normal_", (("add_bias_kv", False),), ndim=3),
                   ParamSpec("bias_v", "xavier_normal_", (("add_bias_kv", False),), ndim=3))),
        LayerSpec("Transformer", TRANSFORMER, (), ("d_model", "nhead"), ()),
        LayerSpec("TransformerEncoderLayer", TRANSFORMER, (), ("d_model", "nhead", "dim_feedforward"), ()),
        LayerSpec("TransformerDecoderLayer", TRANSFORMER, (), ("d_model", "nhead", "dim_feedforward"), ()),
        LayerSpec("TransformerEncoder", TRANSFORMER, (), ("encoder_layer", "num_layers"), ()),
        LayerSpec("TransformerDecoder", TRANSFORMER, (), ("decoder_layer", "num_layers"), ()),
        LayerSpec("PReLU", PARAM_ACTIVATION, (), ("num_parameters", "init"),
                  (ParamSpec("weight", "constant_(0.25)", ndim=1),)),
        # Own no parameters: they hold Linear submodules (`head`, `tail.i.j` / `linear`) with Linear's default init,
        # and their bias is off by default.
        LayerSpec("AdaptiveLogSoftmaxWithLoss", OUTPUT_HEAD, (),
                  ("in_features", "n_classes", "cutoffs", "div_value", "head_bias"), (), flags=(("head_bias", False),)),
        LayerSpec("LinearCrossEntropyLoss", OUTPUT_HEAD, (), ("in_features", "num_classes"), (), flags=(("bias", False),)),
    ]
    for dims in (1, 2, 3):
        specs += [
            LayerSpec(f"Conv{dims}d", CONV, ("_ConvNd",), _CONV_SIG, _ff_params(), spatial_dims=dims),
            LayerSpec(f"ConvTranspose{dims}d", CONV_TRANSPOSE, ("_ConvTransposeNd",), _CONVT_SIG, _ff_params(), spatial_dims=dims),
            LayerSpec(f"LazyConv{dims}d", CONV, (f"Conv{dims}d",), _LAZY_CONV_SIG, _ff_params(), lazy=True, spatial_dims=dims),
            LayerSpec(f"LazyConvTranspose{dims}d", CONV_TRANSPOSE, (f"ConvTranspose{dims}d",), _LAZY_CONVT_SIG, _ff_params(),
                      lazy=True, spatial_dims=dims),
            LayerSpec(f"BatchNorm{dims}d", NORM, ("_BatchNorm",), _BN_SIG, _norm_params("affine", True)),
            LayerSpec(f"LazyBatchNorm{dims}d", NORM, ("_BatchNorm",), _LAZY_BN_SIG, _norm_params("affine", True), lazy=True),
            LayerSpec(f"InstanceNorm{dims}d", NORM, ("_InstanceNorm",), _BN_SIG, _norm_params("affine", False),
                      flags=(("affine", False),)),
            # LazyInstanceNorm inherits _LazyNormBase's signature: affine=True, unlike the eager class.
            LayerSpec(f"LazyInstanceNorm{dims}d", NORM, ("_InstanceNorm",), _LAZY_BN_SIG, _norm_params("affine", True),
                      lazy=True),
        ]
    specs.append(LayerSpec("SyncBatchNorm", NORM, ("_BatchNorm",), _BN_SIG, _norm_params("affine", True)))
    rnn_flags = (("num_layers", 1), ("bidirectional", False))
    specs += [
        LayerSpec("RNN", RECURRENT, ("RNNBase",), _ELMAN_RNN_SIG, _rnn_params(),
                  flags=rnn_flags + (("nonlinearity", "tanh"),)),
        LayerSpec("LSTM", RECURRENT, ("RNNBase",), _LSTM_SIG, _rnn_params(projection=True), flags=rnn_flags),
        LayerSpec("GRU", RECURRENT, ("RNNBase",), _RNN_SIG, _rnn_params(), flags=rnn_flags),
        LayerSpec("RNNCell", RECURRENT_CELL, ("RNNCellBase",), _CELL_SIG + ("nonlinearity",), _cell_params(),
                  flags=(("nonlinearity", "tanh"),)),
        LayerSpec("LSTMCell", RECURRENT_CELL, ("RNNCellBase",), _CELL_SIG, _cell_params()),
        LayerSpec("GRUCell", RECURRENT_CELL, ("RNNCellBase",), _CELL_SIG, _cell_params()),
    ]
    return {spec.name: spec for spec in specs}


LAYERS: dict[str, LayerSpec] = _layers()

# Containers: hold layers, have no parameters of their own.
CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"})

# Modules that pass their input's scale on unchanged for our purposes (between a layer and its activation).
TRANSPARENT_MODULES = frozenset({
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d", "Flatten",
    "Unflatten", "Identity",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "PixelShuffle", "PixelUnshuffle",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "ChannelShuffle",
})
# Module classes from other files whose name says they only reshape (tsai's `Transpose`, fastai's `View`):
# the flow passes through them. Matched by exact class name, for classes the file does not define.
RESHAPE_CLASS_NAMES = frozenset({"Transpose", "Permute", "Reshape", "View", "Squeeze", "Unsqueeze", "Flatten",
                                 "Lambda_Transpose", "SwapAxes"})
# Normalization without parameters still rescales the signal.
PARAMETER_FREE_NORMS = frozenset({"LocalResponseNorm", "CrossMapLRN2d"})

# Functions (torch.*, F.*, tensor methods) that are transparent between a layer and its activation.
TRANSPARENT_FUNCTIONS = frozenset({
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "flatten", "unflatten", "pad", "interpolate", "upsample",
    "pixel_shuffle", "pixel_unshuffle", "squeeze", "unsqueeze", "reshape", "view", "permute", "transpose",
    "contiguous", "narrow", "chunk", "float", "half", "bfloat16", "to", "type_as", "clone",
    "view_as", "reshape_as", "expand", "expand_as", "repeat", "movedim", "swapaxes", "t", "mT",
})
NORM_FUNCTIONS = frozenset({"batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm",
                            "normalize"})

# ----------------------------------------------------------------------------------------- activations

HE = "he"
XAVIER = "xavier"
LECUN = "lecun"
HE_OR_XAVIER = "he_or_xavier"
OUTPUT = "output"


@dataclass(frozen=True)
class ActivationSpec:
    """An activation and all its spellings.

    `relu_family` activations want He init (INI001); `saturating` ones want Xavier (INI002).
    `slope` names where the negative slope is given: (module ctor position, functional position, keyword).
    """

    name: str
    modules: tuple[str, ...] = ()
    functional: tuple[str, ...] = ()  # torch.nn.functional.*
    torch_functions: tuple[str, ...] = ()  # torch.*
    tensor_methods: tuple[str, ...] = ()
    family: str = HE_OR_XAVIER
    gain_name: str | None = None  # the calculate_gain name that fits
    relu_family: bool = False
    saturating: bool = False
    default_slope: float | None = None
    slope_keyword: str | None = None
    slope_module_position: int | None = None
    slope_functional_position: int | None = None


ACTIVATIONS: tuple[ActivationSpec, ...] = (
    ActivationSpec("relu", ("ReLU",), ("relu", "relu_"), ("relu", "relu_"), ("relu", "relu_"), HE, "relu", relu_family=True,
                   default_slope=0.0),
    ActivationSpec("leaky_relu", ("LeakyReLU",), ("leaky_relu", "leaky_relu_"), (), (), HE, "leaky_relu", relu_family=True,
                   default_slope=0.01, slope_keyword="negative_slope", slope_module_position=0, slope_functional_position=1),
    ActivationSpec("prelu", ("PReLU",), ("prelu",), ("prelu",), ("prelu",), HE, "leaky_relu", relu_family=True,
                   default_slope=0.25, slope_keyword="init", slope_module_position=1),
    ActivationSpec("rrelu", ("RReLU",), ("rrelu", "rrelu_"), ("rrelu", "rrelu_"), (), HE, "leaky_relu", relu_family=True,
                   default_slope=(0.125 + 1 / 3) / 2),
    ActivationSpec("relu6", ("ReLU6",), ("relu6",), (), (), HE, "relu", relu_family=True, default_slope=0.0),
    # Threshold(threshold, value) is ReLU-like only when value == 0: He family, but no ReLU-family claim.
    ActivationSpec("threshold", ("Threshold",), ("threshold", "threshold_"), ("threshold", "threshold_"), (), HE),
    ActivationSpec("elu", ("ELU",), ("elu", "elu_"), (), (), HE),
    ActivationSpec("celu", ("CELU",), ("celu", "celu_"), ("celu", "celu_"), (), HE),
    ActivationSpec("selu", ("SELU",), ("selu", "selu_"), ("selu", "selu_"), (), LECUN, "linear"),
    ActivationSpec("gelu", ("GELU",), ("gelu",), (), (), HE_OR_XAVIER),
    ActivationSpec("silu", ("SiLU",), ("silu",), (), (), HE_OR_XAVIER),
    ActivationSpec("mish", ("Mish",), ("mish",), (), (), HE_OR_XAVIER),
    ActivationSpec("hardswish", ("Hardswish",), ("hardswish",), (), (), HE_OR_XAVIER),
    ActivationSpec("softplus", ("Softplus",), ("softplus",), (), (), HE),
    ActivationSpec("tanh", ("Tanh",), ("tanh",), ("tanh", "tanh_"), ("tanh", "tanh_"), XAVIER, "tanh", saturating=True),
    ActivationSpec("sigmoid", ("Sigmoid",), ("sigmoid",), ("sigmoid", "sigmoid_", "special.expit"), ("sigmoid", "sigmoid_"),
                   XAVIER, "sigmoid", saturating=True),
    ActivationSpec("softsign", ("Softsign",), ("softsign",), (), (), XAVIER, saturating=True),
    ActivationSpec("hardsigmoid", ("Hardsigmoid",), ("hardsigmoid",), (), (), XAVIER),
    ActivationSpec("hardtanh", ("Hardtanh",), ("hardtanh", "hardtanh_"), (), (), XAVIER),
    ActivationSpec("tanhshrink", ("Tanhshrink",), ("tanhshrink",), (), (), XAVIER),
    ActivationSpec("hardshrink", ("Hardshrink",), ("hardshrink",), ("hardshrink",), ("hardshrink",), XAVIER),
    ActivationSpec("softshrink", ("Softshrink",), ("softshrink",), (), (), XAVIER),
    ActivationSpec("logsigmoid", ("LogSigmoid",), ("logsigmoid",), (), (), XAVIER),
    ActivationSpec("glu", ("GLU",), ("glu",), (), (), XAVIER),
    ActivationSpec("softmax", ("Softmax", "LogSoftmax", "Softmin", "Softmax2d"),
                   ("softmax", "log_softmax", "softmin", "gumbel_softmax"), ("softmax", "log_softmax", "special.softmax", "special.log_softmax"),
                   ("softmax", "log_softmax"), OUTPUT),
)

ACTIVATIONS_BY_NAME = {spec.name: spec for spec in ACTIVATIONS}
ACTIVATION_BY_MODULE = {module: spec for spec in ACTIVATIONS for module in spec.modules}
ACTIVATION_BY_FUNCTIONAL = {fn: spec for spec in ACTIVATIONS for fn in spec.functional}
ACTIVATION_BY_TORCH_FUNCTION = {fn: spec for spec in ACTIVATIONS for fn in spec.torch_functions}
ACTIVATION_BY_TENSOR_METHOD = {fn: spec for spec in ACTIVATIONS for fn in spec.tensor_methods}
# String names accepted by TransformerEncoderLayer(activation=...) and common config strings.
ACTIVATION_BY_STRING = {spec.name: spec for spec in ACTIVATIONS}

# ------------------------------------------------------------------------------------------ nn.init

# Families of initializers.
FAM_XAVIER = "xavier"
FAM_KAIMING = "kaiming"
FAM_ORTHOGONAL = "orthogonal"
FAM_NORMAL = "normal"
FAM_UNIFORM = "uniform"
FAM_TRUNC_NORMAL = "trunc_normal"
FAM_CONSTANT = "constant"
FAM_EYE = "eye"
FAM_DIRAC = "dirac"
FAM_SPARSE = "sparse"
FAM_LECUN = "lecun"  # wrappers only: torch has none
FAM_VARIANCE_SCALING = "variance_scaling"  # wrappers only


@dataclass(frozen=True)
class InitFunctionSpec:
    """A `torch.nn.init` function: its family, its parameters after the tensor, and its shape needs."""

    name: str
    family: str
    params: tuple[str, ...]  # after `tensor`, in positional order
    defaults: tuple[tuple[str, object], ...] = ()
    required: tuple[str, ...] = ()
    min_dims: int = 0
    exact_dims: tuple[int, ...] = ()
    constant_value: float | None = None  # zeros_/ones_

    def default(self, name: str):
        for key, value in self.defaults:
            if key == name:
                return value
        return None

    @property
    def fan_based(self) -> bool:
        return self.family in (FAM_XAVIER, FAM_KAIMING, FAM_ORTHOGONAL)


INIT_FUNCTIONS: dict[str, InitFunctionSpec] = {
    spec.name: spec
    for spec in (
        InitFunctionSpec("uniform_", FAM_UNIFORM, ("a", "b", "generator"), (("a", 0.0), ("b", 1.0))),
        InitFunctionSpec("normal_", FAM_NORMAL, ("mean", "std", "generator"), (("mean", 0.0), ("std", 1.0))),
        InitFunctionSpec("trunc_normal_", FAM_TRUNC_NORMAL, ("mean", "std", "a", "b", "generator"),
                         (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0))),
        InitFunctionSpec("constant_", FAM_CONSTANT, ("val",), required=("val",)),
        InitFunctionSpec("ones_", FAM_CONSTANT, (), constant_value=1.0),
        InitFunctionSpec("zeros_", FAM_CONSTANT, (), constant_value=0.0),
        InitFunctionSpec("eye_", FAM_EYE, (), exact_dims=(2,)),
        InitFunctionSpec("dirac_", FAM_DIRAC, ("groups",), (("groups", 1),), exact_dims=(3, 4, 5)),
        InitFunctionSpec("xavier_uniform_", FAM_XAVIER, ("gain", "generator"), (("gain", 1.0),), min_dims=2),
        InitFunctionSpec("xavier_normal_", FAM_XAVIER, ("gain", "generator"), (("gain", 1.0),), min_dims=2),
        InitFunctionSpec("kaiming_uniform_", FAM_KAIMING, ("a", "mode", "nonlinearity", "generator"),
                         (("a", 0), ("mode", "fan_in"), ("nonlinearity", "leaky_relu")), min_dims=2),
        InitFunctionSpec("kaiming_normal_", FAM_KAIMING, ("a", "mode", "nonlinearity", "generator"),
                         (("a", 0), ("mode", "fan_in"), ("nonlinearity", "leaky_relu")), min_dims=2),
        InitFunctionSpec("orthogonal_", FAM_ORTHOGONAL, ("gain", "generator"), (("gain", 1),), min_dims=2),
        InitFunctionSpec("sparse_", FAM_SPARSE, ("sparsity", "std", "generator"), (("std", 0.01),), required=("sparsity",),
                         exact_dims=(2,)),
    )
}

# Deprecated aliases: still work in 2.13, with a FutureWarning.
DEPRECATED_INIT_ALIASES: dict[str, str] = {
    name: name + "_"
    for name in ("uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
                 "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse")
}

# Names people write that torch.nn.init does not have, with the intended function where it is unambiguous.
NONEXISTENT_INIT_NAMES: dict[str, str | None] = {
    "zero_": "zeros_", "zero": "zeros_", "zeros": "zeros_", "ones": "ones_", "trunc_normal": "trunc_normal_",
    "xavier": None, "xavier_": None, "kaiming": None, "kaiming_": None, "he_normal_": "kaiming_normal_",
    "he_uniform_": "kaiming_uniform_", "glorot_uniform_": "xavier_uniform_", "glorot_normal_": "xavier_normal_",
    "lecun_normal_": None, "lecun_uniform_": None, "he_normal": "kaiming_normal_", "he_uniform": "kaiming_uniform_",
    "glorot_uniform": "xavier_uniform_", "glorot_normal": "xavier_normal_", "orthogonal__": "orthogonal_",
}

CALCULATE_GAIN: dict[str, float] = {
    "linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0, "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "leaky_relu": None, "selu": 0.75,
}  # type: ignore[dict-item]
LEAKY_RELU_DEFAULT_SLOPE = 0.01
KAIMING_MODES = ("fan_in", "fan_out")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float | None:
    """The gain torch's `calculate_gain` returns, or None for a name it rejects."""
    if nonlinearity not in CALCULATE_GAIN:
        return None
    if nonlinearity == "leaky_relu":
        # torch accepts only an int (not a bool) or a float subclass: np.float32, '0.2', a tensor raise ValueError.
        if param is not None and (isinstance(param, bool) or not isinstance(param, (int, float))):
            return None
        slope = LEAKY_RELU_DEFAULT_SLOPE if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    return CALCULATE_GAIN[nonlinearity]


def leaky_gain(slope: float) -> float:
    return math.sqrt(2.0 / (1 + slope**2))


# In-place tensor methods that (re)initialize, and the nn.init call each one means (INI020/INI026 fixes).
# A value equal to its key means torch.nn.init has no equivalent: the tensor method itself is the spelling to keep.
# (There is no `Tensor.trunc_normal_`: only `nn.init.trunc_normal_` exists.)
INPLACE_TENSOR_INITS: dict[str, str] = {
    "normal_": "normal_", "uniform_": "uniform_", "fill_": "constant_", "zero_": "zeros_", "copy_": "copy_",
    "fill_diagonal_": "fill_diagonal_", "exponential_": "exponential_",
    "random_": "random_", "bernoulli_": "bernoulli_", "cauchy_": "cauchy_", "log_normal_": "log_normal_",
    "geometric_": "geometric_",
}
# Out-of-place tensor methods whose result, discarded, means a no-op (INI032).
OUT_OF_PLACE_TENSOR_METHODS = frozenset({
    "mul", "div", "add", "sub", "clamp", "clip", "abs", "neg", "sqrt",
    "pow", "exp", "log", "sign", "round", "floor", "ceil", "t", "transpose", "masked_fill",
})
# Tensor method names people write that torch.Tensor does not have (AttributeError at run time, not a no-op), with the
# in-place method meant; None where only the `torch.nn.init` function of that name exists.
NONEXISTENT_TENSOR_METHODS: dict[str, str | None] = {
    "normal": "normal_", "uniform": "uniform_", "fill": "fill_", "zero": "zero_", "fill_diagonal": "fill_diagonal_",
    "trunc_normal_": None, "trunc_normal": None, "zeros_": "zero_", "constant_": "fill_",
}

# ------------------------------------------------------------------------------ third-party wrappers

@dataclass(frozen=True)
class WrapperSpec:
    """A library's init function that behaves like a torch one (or a family torch lacks)."""

    qualname: str
    family: str
    params: tuple[str, ...]
    defaults: tuple[tuple[str, object], ...] = ()
    torch_equivalent: str | None = None  # the nn.init function it mirrors


def _hf_wrappers() -> list[WrapperSpec]:
    out = []
    for name, spec in INIT_FUNCTIONS.items():
        out.append(WrapperSpec(f"transformers.initialization.{name}", spec.family, spec.params, spec.defaults, name))
    # Meant as LeCun normal, but it calls torch's trunc_normal_ (absolute cut-offs -2, 2: no truncation) with std
    # 1/(0.8796*sqrt(fan_in)), so the variance is 1.29/fan_in. timm's lecun_normal_ really is LeCun (1/fan_in).
    out.append(WrapperSpec("transformers.initialization.lecun_normal_", FAM_LECUN, ()))
    # normal_(std=1/sqrt(fan_in)), untruncated: LeCun normal (Flax's nn.Embed default).
    out.append(WrapperSpec("transformers.initialization.default_flax_embed_init_", FAM_LECUN, ()))
    out.append(WrapperSpec("transformers.initialization.copy_", "copy", ("other",)))
    return out


# Base classes of wrapper libraries whose behaviour the model knows as data (Hugging Face's `post_init()` applies
# the class's `_init_weights` to every module): never read from a copy inside the linted project (transformers
# linted as a package), where their bodies would be run for every model class instead.
DESCRIBED_BASE_CLASSES = frozenset({"PreTrainedModel"})
# Whole modules of those libraries known as data: the file defining PreTrainedModel and its variants
# (`PreTrainedAudioTokenizerBase`), whose methods run HF's loading machinery, not a model's init.
DESCRIBED_MODULE_FILES = ("transformers/modeling_utils.py",)

# Functions of wrapper libraries known as data: `named_apply(fn, module)` dispatches `fn` over the submodules.
DESCRIBED_FUNCTIONS = frozenset({"named_apply"})

WRAPPERS: dict[str, WrapperSpec] = {
    spec.qualname: spec
    for spec in [
        *_hf_wrappers(),
        WrapperSpec("timm.layers.trunc_normal_", FAM_TRUNC_NORMAL, ("mean", "std", "a", "b"),
                    (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0)), "trunc_normal_"),
        # Not torch's trunc_normal_: a and b cut N(0, 1) *before* scaling by std (so the cut is at a*std, b*std).
        WrapperSpec("timm.layers.trunc_normal_tf_", FAM_TRUNC_NORMAL, ("mean", "std", "a", "b"),
                    (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0))),
        WrapperSpec("timm.layers.variance_scaling_", FAM_VARIANCE_SCALING, ("scale", "mode", "distribution"),
                    (("scale", 1.0), ("mode", "fan_in"), ("distribution", "normal"))),
        WrapperSpec("timm.layers.lecun_normal_", FAM_LECUN, ()),
    ]
}
# Where the same wrappers are also importable from.
WRAPPER_MODULE_ALIASES = {
    "timm.layers.weight_init": "timm.layers",
    "timm.models.layers": "timm.layers",
    "timm.layers": "timm.layers",
}


def is_subclass(name: str, ancestor: str) -> bool:
    """Catalog-level issubclass on layer names (`LazyLinear` is a `Linear`, `ConvTranspose2d` a `_ConvNd`)."""
    seen = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current == ancestor:
            return True
        if current in seen:
            continue
        seen.add(current)
        spec = LAYERS.get(current)
        if spec is not None:
            stack.extend(spec.bases)
    return False


def layer_mro(name: str) -> list[str]:
    out = []
    stack = [name]
    while stack:
        current = stack.pop(0)
        if current in out:
            continue
        out.append(current)
        spec = LAYERS.get(current)
        if spec:
            stack.extend(spec.bases)
    return out


def param_present(spec: LayerSpec, param: ParamSpec, flags: dict[str, object]) -> bool | None:
    """Whether the layer built with these constructor flags has the parameter: True, False, or None (unknown)."""
    result: bool | None = True
    for flag, default in param.present_if:
        value = flags.get(flag, default)
        if value is None or not isinstance(value, bool):
            result = None
        elif not value:
            return False
    return result
