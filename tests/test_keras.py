"""The Keras side of the semantic model (names, models, activations, initializers) and the rules' Keras findings and
fixes, on small realistic sources. No keras import is needed: this is all static."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from initlint.catalog import torch as tc
from initlint.engine import lint_source
from initlint.fix import fix_text
from initlint.model import keras as km
from initlint.model.entities import C_ACTIVATION, C_OUTPUT, F_ACTIVATION, F_HEAD, F_UNKNOWN
from initlint.model.semantic import FileModel
from initlint.settings import Settings
from initlint.source import SourceFile

CORPUS_APPLICATIONS = Path("/work/corpus/keras-3.15.1/keras/src/applications")


def build(source: str) -> FileModel:
    text = textwrap.dedent(source)
    return FileModel.build(SourceFile("m.py", text), ast.parse(text))


def layer(model: FileModel, display: str):
    matches = [n for n in model.layers() if n.display == display]
    assert matches, f"no {display}; have {[n.display for n in model.layers()]}"
    return matches[0]


def acts(node) -> list[tuple[str, float | None]]:
    return [(c.activation.name, c.activation.effective_slope()) for c in node.consumers if c.kind == C_ACTIVATION]


def weight_op(node, param="weight"):
    event = node.final_event(param)
    return event.op if event is not None else None


def findings(source: str, *codes: str) -> list:
    found, errors = lint_source("m.py", textwrap.dedent(source), Settings(select=frozenset(codes)))
    assert not errors, errors
    return [f for f in found if f.code in codes]


def fixed(source: str) -> str:
    text = textwrap.dedent(source)
    outcome = fix_text("m.py", text, Settings(), unsafe=True)
    assert not outcome.problems, outcome.problems
    again = fix_text("m.py", outcome.text, Settings(), unsafe=True)
    assert again.text == outcome.text, "fixing twice changed the file again"
    return outcome.text


# ------------------------------------------------------------------------------------------- names

@pytest.mark.parametrize("written,meant", [
    ("tensorflow.keras.layers.Dense", "keras.layers.Dense"),
    ("keras.src.layers.core.dense.Dense", "keras.layers.Dense"),
    ("tf_keras.layers.LeakyReLU", "keras.layers.LeakyReLU"),
    ("keras.src.initializers.random_initializers.HeNormal", "keras.initializers.HeNormal"),
    ("keras.Sequential", "keras.models.Sequential"),
    ("tensorflow.keras.Model", "keras.models.Model"),
    ("keras.src.models.Functional", "keras.models.Functional"),
    ("keras.Input", "keras.layers.Input"),
    ("tensorflow.nn.relu", "tensorflow.nn.relu"),
])
def test_canonical_names(written, meant):
    assert km.canonical(written) == meant


def test_import_spellings_resolve_to_keras():
    model = build("""
        import keras
        import tensorflow as tf
        from tensorflow import keras as tfk
        from keras import layers, initializers
        from keras.src import layers as src_layers
        from tensorflow.keras.layers import Dense
    """)
    names = km.KerasNames(model.names)
    q = lambda src: names.of(ast.parse(src, mode="eval").body)
    assert q("tf.keras.layers.Dense") == q("tfk.layers.Dense") == q("layers.Dense") == q("Dense") == "keras.layers.Dense"
    assert q("src_layers.Conv2D") == "keras.layers.Conv2D"
    assert q("initializers.HeNormal") == "keras.initializers.HeNormal"
    assert q("keras.Sequential") == "keras.models.Sequential"
    assert not names.tf_keras


def test_star_import_and_tf_keras_flag():
    model = build("""
        from keras.layers import *
        import tf_keras

        model = tf_keras.Sequential([Dense(8, activation="relu", kernel_initializer="glorot_uniform"), Dense(1)])
    """)
    assert model.keras.tf_keras
    assert [n.cls for n in model.layers()] == ["Dense", "Dense"]
    assert acts(model.layers()[0]) == [("relu", 0.0)]


def test_pytorch_files_never_build_the_keras_model(monkeypatch):
    def boom(model):
        raise AssertionError("the Keras builder ran on a PyTorch file")

    monkeypatch.setattr("initlint.model.keras.build_keras", boom)
    model = build("""
        import torch.nn as nn
        net = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        nn.init.xavier_uniform_(net[0].weight)
    """)
    assert model.keras is None


def test_a_star_import_of_keras_resolves_its_subpackages():
    model = build("""
        from keras import *
        model = Sequential([layers.Dense(4, activation="relu")])
    """)
    assert [n.cls for n in model.layers()] == ["Dense"]
    assert acts(model.layers()[0]) == [("relu", 0.0)]


def test_keras_named_only_in_a_comment_builds_nothing():
    model = build("""
        # ported from the tensorflow / keras reference implementation
        import torch.nn as nn
        net = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    """)
    assert model.keras is None and len(model.layers()) == 1


# ------------------------------------------------------------------------------------------ models

def test_sequential_list_and_add():
    model = build("""
        import keras
        from keras import layers

        a = keras.Sequential([layers.Dense(64, activation="relu", name="h1"), layers.Dense(10, name="out")])
        b = keras.Sequential()
        b.add(layers.Dense(32, name="h2"))
        b.add(layers.Dropout(0.5))
        b.add(layers.LeakyReLU())
        b.add(layers.Dense(1, name="head"))
    """)
    assert acts(layer(model, "h1")) == [("relu", 0.0)]
    assert layer(model, "out").feeds().kind == F_HEAD
    assert acts(layer(model, "h2")) == [("leaky_relu", 0.3)]  # the layer's default slope, not torch's 0.01
    assert layer(model, "head").feeds().kind == F_HEAD


def test_functional_chain_norm_and_shapes():
    model = build("""
        import keras
        from keras import layers

        inputs = keras.Input(shape=(784,))
        h = layers.Dense(256, name="fc1")(inputs)
        h = layers.BatchNormalization()(h)
        h = layers.Activation("relu")(h)
        h = layers.Dense(128, name="fc2")(h)
        h = layers.Dropout(0.1)(h)
        h = keras.activations.tanh(h)
        out = layers.Dense(10, activation="softmax", name="out")(h)
        model = keras.Model(inputs, out)
    """)
    fc1, fc2, out = layer(model, "fc1"), layer(model, "fc2"), layer(model, "out")
    assert fc1.feeds().via_norm and acts(fc1) == [("relu", 0.0)]
    assert fc2.feeds().kind == F_ACTIVATION and not fc2.feeds().via_norm and acts(fc2) == [("tanh", None)]
    assert out.feeds().kind == F_HEAD
    assert (fc1.flags["in_features"], fc1.flags["out_features"], fc2.flags["in_features"]) == (784, 256, 256)


def test_block_builders_are_inlined_per_call():
    model = build("""
        import keras
        from keras import layers

        def block(x, filters, activation="relu"):
            x = layers.Conv2D(filters, 3, padding="same")(x)
            return layers.Activation(activation)(x)

        def build():
            inputs = keras.Input(shape=(32, 32, 3))
            x = block(inputs, 16)
            x = block(x, 32, activation="tanh")
            return keras.Model(inputs, x)
    """)
    convs = [n for n in model.layers() if n.cls == "Conv2D"]
    assert len(convs) == 2
    assert [acts(c) for c in convs] == [[("relu", 0.0)], [("tanh", None)]]
    assert convs[0].flags["in_channels"] == 3 and convs[1].flags["in_channels"] == 16
    assert {c.owner for c in convs} == {"block"}


def test_subclassed_model_with_build_and_call():
    model = build("""
        import keras
        from keras import layers

        class Block(layers.Layer):
            def build(self, input_shape):
                self.proj = layers.Dense(64)

            def call(self, x):
                return keras.ops.relu(self.proj(x))

        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.block = Block()
                self.head = layers.Dense(1)

            def call(self, inputs):
                return self.head(self.block(inputs))
    """)
    proj = layer(model, "self.proj")
    assert acts(proj) == [("relu", 0.0)] and proj.owner == "Block"
    assert layer(model, "self.head").feeds().kind == F_HEAD


def test_residual_sum_and_gates():
    model = build("""
        import keras
        from keras import layers

        def res(x):
            y = layers.Conv2D(8, 3, padding="same", name="branch")(x)
            return layers.Add()([x, y])

        def se(x):
            s = layers.Conv2D(8, 1, activation="sigmoid", name="excite")(x)
            return layers.multiply([x, s])
    """)
    assert layer(model, "branch").in_residual
    assert layer(model, "excite").feeds().kind == F_UNKNOWN


def test_unknown_activation_is_unknown_consumer():
    model = build("""
        import keras

        def head(x, act):
            return keras.layers.Dense(8, activation=act, name="d")(x)
    """)
    assert layer(model, "d").feeds().kind == F_UNKNOWN


# ------------------------------------------------------------------------------------- activations

@pytest.mark.parametrize("spelling,expected", [
    ('activation="relu"', ("relu", 0.0)),
    ('activation="leaky_relu"', ("leaky_relu", 0.2)),
    ("activation=keras.activations.relu", ("relu", 0.0)),
    ("activation=tf.nn.leaky_relu", ("leaky_relu", 0.2)),
    ('activation="selu"', ("selu", None)),
    ('activation="swish"', ("silu", None)),
    ("activation=keras.layers.LeakyReLU(0.1)", ("leaky_relu", 0.1)),
])
def test_activation_argument(spelling, expected):
    model = build(f"""
        import keras
        import tensorflow as tf

        m = keras.Sequential([keras.layers.Dense(8, {spelling}, name="d"), keras.layers.Dense(1)])
    """)
    assert acts(layer(model, "d")) == [expected]


@pytest.mark.parametrize("spelling,expected", [
    ("keras.layers.ReLU()(x)", ("relu", 0.0)),
    ("keras.layers.ReLU(negative_slope=0.1)(x)", ("leaky_relu", 0.1)),
    ("keras.layers.LeakyReLU()(x)", ("leaky_relu", 0.3)),
    ("keras.layers.LeakyReLU(negative_slope=0.2)(x)", ("leaky_relu", 0.2)),
    ("keras.layers.LeakyReLU(alpha=0.05)(x)", ("leaky_relu", 0.05)),
    ("keras.layers.PReLU()(x)", ("prelu", 0.0)),
    ("keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))(x)", ("prelu", 0.25)),
    ("keras.layers.ELU()(x)", ("elu", None)),
    ('keras.layers.Activation("hard_swish")(x)', ("hardswish", None)),
    ("keras.activations.leaky_relu(x)", ("leaky_relu", 0.2)),
    ("keras.ops.leaky_relu(x, negative_slope=0.1)", ("leaky_relu", 0.1)),
    ("tf.nn.relu(x)", ("relu", 0.0)),
    ("tf.nn.leaky_relu(x, alpha=0.3)", ("leaky_relu", 0.3)),
    ("tf.math.sigmoid(x)", ("sigmoid", None)),
])
def test_activation_layers_and_functions(spelling, expected):
    model = build(f"""
        import keras
        import tensorflow as tf

        def f(inputs):
            x = keras.layers.Dense(8, name="d")(inputs)
            x = {spelling}
            return keras.layers.Dense(1)(x)
    """)
    assert acts(layer(model, "d")) == [expected]


def test_tf_keras_slopes():
    model = build("""
        import tf_keras as keras

        m = keras.Sequential([keras.layers.Dense(8, name="a"), keras.layers.LeakyReLU(alpha=0.2),
                              keras.layers.Dense(8, name="b"), keras.layers.LeakyReLU(), keras.layers.Dense(1)])
    """)
    assert acts(layer(model, "a")) == [("leaky_relu", 0.2)] and acts(layer(model, "b")) == [("leaky_relu", 0.3)]


def test_keras_activations_reuse_torch_specs():
    model = build("""
        import keras
        m = keras.Sequential([keras.layers.Dense(8, activation="tanh", name="d"), keras.layers.Dense(1)])
    """)
    use = layer(model, "d").consumers[0].activation
    assert use.spec is tc.ACTIVATIONS_BY_NAME["tanh"] and use.spec.saturating


# ------------------------------------------------------------------------------------ initializers

@pytest.mark.parametrize("written,name,family", [
    ('"glorot_uniform"', "glorot_uniform", tc.FAM_XAVIER),
    ('"GlorotNormal"', "glorot_normal", tc.FAM_XAVIER),
    ("initializers.HeNormal(seed=1)", "he_normal", tc.FAM_KAIMING),
    ("initializers.HeUniform", "he_uniform", tc.FAM_KAIMING),
    ('"lecun_normal"', "lecun_normal", tc.FAM_LECUN),
    ('"orthogonal"', "orthogonal", tc.FAM_ORTHOGONAL),
    ('"normal"', "random_normal", tc.FAM_NORMAL),
    ("initializers.TruncatedNormal(stddev=0.02)", "truncated_normal", tc.FAM_TRUNC_NORMAL),
    ('"uniform"', "random_uniform", tc.FAM_UNIFORM),
    ('"zeros"', "zeros", tc.FAM_CONSTANT),
    ("initializers.Constant(0.5)", "constant", tc.FAM_CONSTANT),
    ('initializers.VarianceScaling(2.0, "fan_out")', "variance_scaling", tc.FAM_KAIMING),
    ('initializers.VarianceScaling(scale=1.0, mode="fan_avg", distribution="uniform")', "variance_scaling",
     tc.FAM_XAVIER),
    ("initializers.VarianceScaling()", "variance_scaling", tc.FAM_LECUN),
    ('initializers.VarianceScaling(scale=1 / 3, mode="fan_out", distribution="uniform")', "variance_scaling",
     tc.FAM_VARIANCE_SCALING),
    ('{"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}}', "variance_scaling",
     tc.FAM_KAIMING),
    ('initializers.get("he_uniform")', "he_uniform", tc.FAM_KAIMING),
])
def test_initializer_spellings(written, name, family):
    model = build(f"""
        import keras
        from keras import initializers

        m = keras.Sequential([keras.layers.Dense(8, kernel_initializer={written}, name="d")])
    """)
    op = weight_op(layer(model, "d"))
    assert (op.name, op.family) == (name, family)


def test_literal_arguments_read_through_torch_names():
    model = build("""
        import keras
        from keras import initializers

        m = keras.Sequential([
            keras.layers.Dense(8, kernel_initializer=initializers.RandomNormal(stddev=0.01), name="a"),
            keras.layers.Dense(8, kernel_initializer="random_normal", name="b"),
            keras.layers.Dense(8, kernel_initializer=initializers.RandomUniform(-0.1, 0.1), name="c"),
            keras.layers.Dense(8, kernel_initializer="uniform", name="d"),
            keras.layers.Dense(8, kernel_initializer=initializers.Constant(value=2.0), name="e"),
        ])
    """)
    assert weight_op(layer(model, "a")).literal("std") == 0.01
    assert weight_op(layer(model, "b")).literal("std") == 0.05
    assert (weight_op(layer(model, "c")).literal("a"), weight_op(layer(model, "c")).literal("b")) == (-0.1, 0.1)
    assert (weight_op(layer(model, "d")).literal("a"), weight_op(layer(model, "d")).literal("b")) == (-0.05, 0.05)
    assert weight_op(layer(model, "e")).literal("val") == 2.0


def test_explicit_initializers_are_events_and_defaults_are_not():
    model = build("""
        import keras

        def f(x, init):
            x = keras.layers.Dense(8, name="default")(x)
            x = keras.layers.Dense(8, kernel_initializer=None, name="none")(x)
            x = keras.layers.Dense(8, kernel_initializer=init, name="unknown")(x)
            x = keras.layers.LSTM(8, kernel_initializer="he_normal", recurrent_initializer="orthogonal", name="rnn")(x)
            x = keras.layers.SeparableConv2D(8, 3, pointwise_initializer="he_uniform", name="sep")(x)
            return keras.layers.BatchNormalization(gamma_initializer="zeros", name="bn")(x)
    """)
    assert not layer(model, "default").events and not layer(model, "none").events
    unknown = layer(model, "unknown")
    assert unknown.events and unknown.final_event("weight") is None  # not ours to judge
    rnn = layer(model, "rnn")
    assert weight_op(rnn, "weight_ih").name == "he_normal" and weight_op(rnn, "weight_hh").name == "orthogonal"
    assert rnn.spec.kind == tc.RECURRENT
    assert weight_op(layer(model, "sep")).name == "he_uniform"
    assert weight_op(layer(model, "bn")).name == "zeros" and layer(model, "bn").spec.kind == tc.NORM


# ------------------------------------------------------------------------------------------- rules

def test_ini001_explicit_glorot_only_and_keras_message():
    source = """
        import keras
        from keras import layers

        m = keras.Sequential([
            layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform"),
            layers.Dense(64, activation="relu"),
            layers.Dense(1),
        ])
    """
    found = findings(source, "INI001")
    assert [f.start.row for f in found] == [6]
    assert "he_uniform/he_normal" in found[0].message and "nn.init" not in found[0].message


def test_ini005_says_keras_default_is_glorot():
    found = findings("""
        import keras
        m = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    """, "INI005")
    assert len(found) == 1
    assert "Keras' default glorot_uniform" in found[0].message and "PyTorch" not in found[0].message


def test_ini010_never_fires_on_keras_bias():
    assert not findings("""
        import keras
        m = keras.Sequential([keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
                              keras.layers.Dense(1)])
    """, "INI010")


def test_ini012_needs_a_known_fan_in():
    source = """
        import keras
        from keras import initializers

        def f(x):
            x = keras.layers.Dense(64, activation="relu", kernel_initializer=initializers.RandomNormal(stddev=1e-4))(x)
            return keras.layers.Dense(1)(x)

        inputs = keras.Input(shape=(256,))
        x = keras.layers.Dense(64, activation="relu", kernel_initializer=initializers.RandomNormal(stddev=1e-4))(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(x))
    """
    assert [f.start.row for f in findings(source, "INI012")] == [10]


def rule_violations(source: str, code: str) -> list:
    """A rule's violations on the model, without the engine's text pre-filter."""
    from initlint.rules import rule_by_code

    return list(rule_by_code()[code]().check(build(source)))


def test_ini015_respects_custom_objects_and_expected_errors():
    assert not rule_violations("""
        import keras
        with keras.utils.custom_object_scope({"swishy": lambda x: x}):
            layer = keras.layers.Dense(4, activation="swishy")
    """, "INI015")
    found = rule_violations("""
        import keras
        with keras.utils.custom_object_scope({"swishy": lambda x: x}):
            layer = keras.layers.Dense(4, activation="Relu", kernel_initializer="Foo")
    """, "INI015")
    assert len(found) == 1 and found[0].fix is not None and found[0].fix.applicability == "safe"
    assert not rule_violations("""
        import keras
        layer = keras.layers.Dense(4, activation="my_registered_activation")

        def test(self):
            with self.assertRaises(ValueError):
                keras.layers.Dense(4, activation="Relu")
    """, "INI015")


def test_engine_prefilter_lets_keras_activation_strings_through():
    assert findings("""
        import keras
        layer = keras.layers.Dense(4, activation="ReLU")
    """, "INI015")


def test_ini038_loop_and_exclusive_branches():
    source = """
        import keras
        from keras import layers

        init = keras.initializers.HeUniform()
        model = keras.Sequential()
        for _ in range(3):
            model.add(layers.Dense(64, activation="relu", kernel_initializer=init))

        def pick(x, wide):
            other = keras.initializers.HeUniform()
            if wide:
                return layers.Dense(256, kernel_initializer=other)(x)
            return layers.Dense(64, kernel_initializer=other)(x)
    """
    assert [f.start.row for f in findings(source, "INI038")] == [5]


def test_ini038_ignores_deterministic_and_generator_seeded_instances():
    assert not findings("""
        import keras
        from keras import layers

        ones = keras.initializers.Ones()
        gen = keras.initializers.GlorotUniform(seed=keras.random.SeedGenerator(3))
        unknown = keras.initializers.GlorotUniform(seed=make_seed())
        m = keras.Sequential([layers.Dense(8, kernel_initializer=gen, bias_initializer=ones),
                              layers.Dense(8, kernel_initializer=gen, bias_initializer=ones),
                              layers.Dense(8, kernel_initializer=unknown),
                              layers.Dense(8, kernel_initializer=unknown)])
    """, "INI038")


# -------------------------------------------------------------------------------------------- fixes

def test_fix_swaps_strings_keeping_their_style():
    out = fixed("""
        import keras
        m = keras.Sequential([
            keras.layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform"),
            keras.layers.Dense(64, activation="relu", kernel_initializer='GlorotNormal'),
            keras.layers.Dense(64, activation="tanh", kernel_initializer="he_normal"),
            keras.layers.Dense(64, activation="selu", kernel_initializer="he_uniform"),
            keras.layers.Dense(1),
        ])
    """)
    assert 'kernel_initializer="he_uniform"),' in out.splitlines()[3]
    assert "kernel_initializer='HeNormal')" in out
    assert 'activation="tanh", kernel_initializer="glorot_normal"' in out
    assert 'activation="selu", kernel_initializer="lecun_normal"' in out


def test_fix_swaps_classes_keeping_the_seed_and_imports_the_new_name():
    out = fixed("""
        import keras
        from keras.initializers import GlorotUniform

        m = keras.Sequential([
            keras.layers.Dense(64, activation="relu", kernel_initializer=GlorotUniform(seed=3)),
            keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.GlorotNormal()),
            keras.layers.Dense(1),
        ])
    """)
    assert "kernel_initializer=HeUniform(seed=3)" in out
    assert "from keras.initializers import HeUniform" in out
    assert "kernel_initializer=keras.initializers.HeNormal()" in out
    compile(out, "m.py", "exec")


def test_fix_swaps_a_config_dict_class_name_but_not_variance_scaling():
    out = fixed("""
        import keras
        GLOROT = {"class_name": "GlorotUniform", "config": {}}
        VS = {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg"}}
        m = keras.Sequential([
            keras.layers.Dense(64, activation="relu", kernel_initializer=GLOROT),
            keras.layers.Dense(64, activation="relu", kernel_initializer=VS),
            keras.layers.Dense(1),
        ])
    """)
    assert '{"class_name": "HeUniform", "config": {}}' in out
    assert '"VarianceScaling"' in out


def test_fix_adds_an_initializer_to_default_layers():
    source = """
        import keras
        def f(x):
            x = keras.layers.Dense(64, activation="selu")(x)
            x = keras.layers.Dense(64, name="relu_layer")(x)
            x = keras.layers.ReLU()(x)
            return keras.layers.Dense(1)(x)
    """
    found, _ = lint_source("m.py", textwrap.dedent(source), Settings(select=frozenset({"INI004", "INI005"})))
    assert {f.code for f in found} == {"INI004", "INI005"}
    text = textwrap.dedent(source)
    from initlint.fix import apply_edits
    for finding in found:
        changed = apply_edits(text, list(finding.fix.edits))
        if finding.code == "INI004":
            assert 'Dense(64, activation="selu", kernel_initializer="lecun_normal")' in changed
        else:
            assert 'Dense(64, name="relu_layer", kernel_initializer="he_uniform")' in changed


def test_no_default_fix_when_the_constructor_also_builds_other_layers():
    found = findings("""
        import keras
        def block(x, act):
            return keras.layers.Dense(64, activation=act)(x)
        def f(x):
            x = block(x, "selu")
            x = block(x, "tanh")
            return keras.layers.Dense(1)(x)
    """, "INI004")
    assert len(found) == 1 and found[0].fix is None


def test_fix_gives_orthogonal_a_gain():
    out = fixed("""
        import keras
        m = keras.Sequential([
            keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.Orthogonal()),
            keras.layers.Dense(1),
        ])
    """)
    assert "keras.initializers.Orthogonal(gain=1.41421)" in out


def test_ini038_fixes():
    out = fixed("""
        import keras
        from keras import layers

        init = keras.initializers.GlorotUniform()
        seeded = keras.initializers.HeNormal(seed=1)
        m = keras.Sequential([layers.Dense(8, kernel_initializer=init), layers.Dense(8, kernel_initializer=init),
                              layers.Dense(8, kernel_initializer=seeded), layers.Dense(8, kernel_initializer=seeded)])
    """)
    assert out.count("kernel_initializer=keras.initializers.GlorotUniform()") == 2
    assert "HeNormal(seed=keras.random.SeedGenerator(1))" in out


def test_ini015_safe_fix():
    source = 'import keras\nd = keras.layers.Dense(4, activation="ReLU", kernel_initializer="he_normal")\n'
    out = fix_text("m.py", source, Settings(), unsafe=False).text
    assert out == source.replace('"ReLU"', '"relu"')


# ------------------------------------------------------------------------------------------ corpus

@pytest.mark.skipif(not CORPUS_APPLICATIONS.exists(), reason="corpus not fetched")
def test_keras_applications_lint_clean():
    for path in sorted(CORPUS_APPLICATIONS.glob("*.py")):
        found, errors = lint_source(str(path), path.read_text(), Settings())
        assert not errors, errors
        assert not found, [(f.code, f.start.row, f.message) for f in found]


@pytest.mark.skipif(not CORPUS_APPLICATIONS.exists(), reason="corpus not fetched")
def test_keras_applications_models_are_understood():
    path = CORPUS_APPLICATIONS / "resnet.py"
    text = path.read_text()
    model = FileModel.build(SourceFile(str(path), text), ast.parse(text))
    convs = {n.display: n for n in model.layers() if n.cls == "Conv2D"}
    assert convs["conv1_conv"].feeds().via_norm  # IL-103: conv -> BatchNormalization -> relu
    path = CORPUS_APPLICATIONS / "vgg16.py"
    text = path.read_text()
    model = FileModel.build(SourceFile(str(path), text), ast.parse(text))
    first = next(n for n in model.layers() if n.display == "block1_conv1")
    assert acts(first) == [("relu", 0.0)] and not first.events  # IL-047: relu on the Glorot default
    predictions = next(n for n in model.layers() if n.display == "predictions")
    assert predictions.feeds().kind == F_HEAD
    assert any(c.kind == C_OUTPUT for c in model.layers()[-1].consumers) or predictions.head_via_activation


def test_tensorflow_native_initializers():
    source = """
        import tensorflow as tf

        init = tf.random_normal_initializer(0.0, 0.001)
        inputs = tf.keras.Input(shape=(512,))
        x = tf.keras.layers.Dense(512, activation="relu", kernel_initializer=init, name="a")(inputs)
        x = tf.keras.layers.Dense(512, activation="relu", kernel_initializer=init, name="b")(x)
        model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(x))
    """
    model = build(source)
    op = weight_op(layer(model, "a"))
    assert (op.name, op.family, op.literal("std")) == ("random_normal", tc.FAM_NORMAL, 0.001)
    assert not findings(source, "INI038")  # TF's stateful RNG: the shared instance draws fresh values
    assert [f.start.row for f in findings(source, "INI012")] == [4]
