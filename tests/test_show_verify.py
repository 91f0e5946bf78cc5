"""`show` tables from the semantic model, and `verify`'s signal-propagation probe (torch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from initlint.show import render, tables_for_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_show_lists_every_parameterized_layer_with_its_real_init():
    path = FIXTURES / "mlp_xavier_relu.py"
    tables = {t.model: t for t in tables_for_source(str(path), path.read_text())}
    assert set(tables) == {"MLP", "TanhNet", "SeluNet"}
    rows = {row.layer: row for row in tables["MLP"].rows}
    assert list(rows) == ["self.fc1", "self.fc2", "self.fc3", "self.out"]
    assert rows["self.fc1"].feeds == "relu" and rows["self.fc1"].weight_init == "xavier_uniform_()"
    assert rows["self.fc1"].findings == ["INI001"]
    assert rows["self.fc3"].bias_init.startswith("default: uniform_")
    assert rows["self.out"].feeds == "head"
    selu = tables["SeluNet"].rows[0]
    assert selu.weight_init == "default: kaiming_uniform_(a=sqrt(5))" and selu.findings == ["INI004"]


def test_show_formats(tmp_path):
    path = FIXTURES / "resnet.py"
    tables = tables_for_source(str(path), path.read_text(), model_name="BasicBlock")
    assert [t.model for t in tables] == ["BasicBlock"]
    data = json.loads(render(tables, "json"))
    assert data[0]["rows"][0]["feeds"] == "norm → relu"
    markdown = render(tables, "markdown")
    assert markdown.splitlines()[2].startswith("| layer | type | feeds |")
    text = render(tables, "full")
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "kaiming_normal_(mode='fan_out', nonlinearity='relu')" in text


def test_verify_reports_vanishing_signal_and_the_fix_healthy():
    pytest.importorskip("torch")
    from initlint.verify import verify

    verdicts = verify(str(FIXTURES / "fix" / "deep_relu.in.py") + ":build", [(64, 256)])
    assert [v.label for v in verdicts] == ["as written", "with initlint's fixes"]
    assert verdicts[0].activations.startswith("vanishing") and verdicts[0].gradients.startswith("vanishing")
    assert verdicts[1].activations.startswith("healthy") and verdicts[1].gradients.startswith("healthy")


def test_verify_gives_one_line_errors(tmp_path):
    pytest.importorskip("torch")
    from initlint.verify import VerifyError, verify

    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(VerifyError, match=r"broken.py: importing it raised RuntimeError: boom"):
        verify(f"{broken}:Net", [(1, 2)])
    with pytest.raises(VerifyError, match="no such file"):
        verify(f"{tmp_path}/missing.py:Net", [(1, 2)])
    with pytest.raises(VerifyError, match="has no 'Nope'"):
        verify(str(FIXTURES / "fix" / "deep_relu.in.py") + ":Nope", [(1, 2)])


@pytest.mark.parametrize("golden", sorted((FIXTURES / "show").glob("*.md")), ids=lambda p: p.stem)
def test_show_matches_the_golden_tables(golden):
    source = FIXTURES / f"{golden.stem}.py"
    relative = f"fixtures/{source.name}"
    tables = tables_for_source(relative, source.read_text())
    assert render(tables, "markdown") + "\n" == golden.read_text()


def test_verify_runs_keras_models_on_the_torch_backend(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from initlint.verify import verify

    verdicts = verify(str(FIXTURES / "fix" / "keras_deep_relu.in.py") + ":build", [(64, 256)])
    assert verdicts[0].activations.startswith("vanishing") and verdicts[1].activations.startswith("healthy")
    assert [layer.type for layer in verdicts[0].layers][:2] == ["Dense", "Dense"]
