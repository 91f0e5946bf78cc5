"""The shared fast AST walk visits what `ast.walk` visits, in the same order, minus contexts and operators."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from initlint.model.syntax import SKIP, walk

SOURCES = sorted((Path(__file__).resolve().parent.parent / "initlint").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES[:12], ids=lambda path: path.name)
def test_walk_matches_ast_walk_without_contexts_and_operators(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    expected = [node for node in ast.walk(tree) if not isinstance(node, SKIP)]
    visited = walk(tree)
    assert len(visited) == len(expected)
    assert all(a is b for a, b in zip(visited, expected))


def test_walk_starts_at_the_given_node():
    call = ast.parse("f(x, y=-1)").body[0].value
    assert [type(node).__name__ for node in walk(call)] == ["Call", "Name", "Name", "keyword", "UnaryOp", "Constant"]


FIXTURE_SOURCES = sorted((Path(__file__).resolve().parent.parent / "fixtures").rglob("*.py"))


@pytest.mark.parametrize("path", FIXTURE_SOURCES, ids=lambda path: str(path.name))
def test_the_index_scan_of_class_stores_matches_a_walk_of_each_class(path):
    from initlint.model.semantic import NodeIndex
    from initlint.rules._dispatch import _class_stores, _stores_by_class

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        pytest.skip("a fixture that does not parse on purpose")
    index = NodeIndex.of(tree)
    table = _stores_by_class(index)
    assert {id(node): _class_stores.__wrapped__(node) for node in index.classes} == table
