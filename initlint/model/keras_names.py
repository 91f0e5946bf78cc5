"""Keras names without the Keras analysis: which nodes and ops are Keras ones, and the one spelling of a Keras
qualified name. Kept apart from `model/keras.py` so that PyTorch-only runs never import that module."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from initlint.model.entities import ModuleNode

FRAMEWORK = "keras"  # the `framework` of Keras catalog entries, nodes and init ops


def mentions_keras(text: str) -> bool:
    """The cheap pre-check: only files that name keras or tensorflow get the Keras analysis."""
    return "keras" in text or "tensorflow" in text


_FRAMEWORK_MODULES = frozenset({"keras", "tensorflow", "tf_keras"})


def imports_keras(names) -> bool:
    """The file imports keras, tensorflow or tf_keras (a file that only names them in a comment has no Keras model)."""
    modules = [*names.aliases.values(), *names.star_modules]
    return any(module.split(".", 1)[0] in _FRAMEWORK_MODULES for module in modules)


def is_keras(thing) -> bool:
    """A Keras node or init op (as opposed to a PyTorch one)."""
    return getattr(thing, "framework", None) == FRAMEWORK


def layer_key(node: ModuleNode) -> str:
    """What a C_LAYER consumer calls the layer it enters (unique for Keras nodes, whose displays may repeat)."""
    return f"keras-node:{id(node)}" if is_keras(node) else node.display


_PREFIXES = (
    ("tensorflow.python.keras.", "keras."), ("tensorflow.compat.v1.keras.", "keras."),
    ("tensorflow.compat.v2.keras.", "keras."), ("tensorflow.keras.", "keras."), ("tf_keras.src.", "keras."),
    ("tf_keras.", "keras."), ("keras.src.", "keras."), ("keras.api._v2.keras.", "keras."), ("keras.api.", "keras."),
    ("keras._tf_keras.keras.", "keras."), ("tensorflow.initializers.", "keras.initializers."),
)
_EXACT = {"tensorflow.keras": "keras", "tf_keras": "keras", "keras.src": "keras", "tensorflow.python.keras": "keras",
          "keras.api": "keras"}
# keras's subpackages, and the names keras exports at its top level, with their one spelling
PACKAGES = ("layers", "initializers", "activations", "ops", "models", "random", "utils", "backend", "regularizers")
TOP_LEVEL = {"keras.Sequential": "keras.models.Sequential", "keras.Model": "keras.models.Model",
             "keras.Input": "keras.layers.Input", "keras.models.Functional": "keras.models.Functional",
             "keras.engine.Model": "keras.models.Model", "keras.engine.Layer": "keras.layers.Layer"}


def canonical(qualname: str | None) -> str | None:
    """`tensorflow.keras.layers.Dense`, `keras.src.layers.core.dense.Dense`, `tf_keras.layers.Dense` -> `keras.layers.Dense`."""
    if not qualname:
        return qualname
    q = _EXACT.get(qualname, qualname)
    for prefix, replacement in _PREFIXES:
        if q.startswith(prefix):
            q = replacement + q[len(prefix):]
            break
    if q.startswith("keras.engine."):
        last = q.rsplit(".", 1)[1]
        from initlint.catalog import keras as kc

        if last in kc.MODEL_CLASSES or last in kc.SEQUENTIAL_CLASSES:
            return "keras.models." + last
        return "keras.layers." + last
    for package in PACKAGES:
        stem = f"keras.{package}."
        if q.startswith(stem) and q.count(".") > 2:
            q = stem + q.rsplit(".", 1)[1]
            break
    return TOP_LEVEL.get(q, q)
