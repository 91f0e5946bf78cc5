"""The `initlint` command runs with the cycle collector off (runner.tune_gc): an analysis must free what it
built by reference counting alone, leaving no reference cycle of model objects behind."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from initlint.engine import lint_source
from initlint.project import Project
from initlint.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MODEL_TYPES = ("ModuleNode", "ClassModel", "FileModel", "Program", "InitEvent", "InitOp", "Consumer", "Walker")
FIXTURES_PY = sorted(FIXTURES.glob("*.py"))


@pytest.mark.parametrize("path", FIXTURES_PY, ids=lambda path: path.name)
def test_an_analysis_leaves_no_reference_cycles(path):
    project = Project((str(path.parent),))
    text = path.read_text(encoding="utf-8")
    lint_source(str(path), text, Settings(), project=project)  # warm up: imports, caches
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        lint_source(str(path), text, Settings(), project=project)
        gc.collect()
        left = sorted({type(obj).__name__ for obj in gc.garbage} & set(MODEL_TYPES))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert left == []


def test_the_valve_collects_once_tracked_objects_have_grown(monkeypatch):
    import weakref

    from initlint import runner

    class Node:
        pass

    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        monkeypatch.setattr(runner, "GC_VALVE", 1000)
        cycle = Node()
        cycle.self = cycle
        alive = weakref.ref(cycle)
        del cycle
        runner._collect_if_grown()  # too little growth yet: nothing collected
        assert alive() is not None
        ballast = [[] for _ in range(2000)]
        runner._collect_if_grown()
        assert alive() is None
        del ballast
    finally:
        if was_enabled:
            gc.enable()
