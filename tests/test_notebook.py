"""Notebooks: code cells analysed as one program, findings located by cell, fixes that touch only changed cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from initlint.notebook import NotebookError, display_location, fix_notebook_text, lint_notebook, mask_magics

NOTEBOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "notebooks"


def _findings(name: str):
    text = (NOTEBOOKS / name).read_text(encoding="utf-8")
    return lint_notebook(name, text)[0]


def test_findings_name_their_cell_and_a_model_defined_in_an_earlier_cell_is_understood():
    found = {(f.extra["cell"], f.start.row, f.start.column, f.code) for f in _findings("cnn_tutorial.ipynb")}
    assert found == {(4, 3, 1, "INI001"), (5, 1, 12, "INI999"), (6, 1, 31, "INI015")}
    xavier = next(f for f in _findings("cnn_tutorial.ipynb") if f.code == "INI001")
    assert "cell 3, line 8" in xavier.message
    assert display_location(xavier) == "cell 4:3:1"


def test_magics_and_shell_escapes_are_masked_not_parsed():
    assert mask_magics("%matplotlib inline\n!pip install x\nx = 1\n  %time f()") == "pass\npass\nx = 1\n  pass"
    assert mask_magics("%%bash\nls -l\necho hi") == "\n\n"
    assert mask_magics("%%time\ny = 2") == "pass\ny = 2"


def test_fix_rewrites_only_changed_cells_and_keeps_the_rest_byte_identical():
    text = (NOTEBOOKS / "cnn_tutorial.ipynb").read_text(encoding="utf-8")
    new, fixed, remaining = fix_notebook_text("nb.ipynb", text, unsafe=True)
    assert sorted(f.code for f in fixed) == ["INI001", "INI015"]
    assert [f.code for f in remaining] == ["INI999"]
    old_lines, new_lines = text.splitlines(), new.splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert changed == [
        ('    "nn.init.xavier_uniform_(net.conv1.weight)  # tutorial init\\n",',
         '    "nn.init.kaiming_uniform_(net.conv1.weight, nonlinearity=\\"relu\\")  # tutorial init\\n",'),
        ("    \"gain = nn.init.calculate_gain('ReLU')\\n\",", "    \"gain = nn.init.calculate_gain('relu')\\n\","),
    ]
    assert json.loads(new)["cells"][1]["source"][0] == "%matplotlib inline\n"
    again, fixed_again, _ = fix_notebook_text("nb.ipynb", new, unsafe=True)
    assert again == new and not fixed_again


def test_safe_fixes_only():
    text = (NOTEBOOKS / "cnn_tutorial.ipynb").read_text(encoding="utf-8")
    new, fixed, _ = fix_notebook_text("nb.ipynb", text, unsafe=False)
    assert [f.code for f in fixed] == ["INI015"] and "xavier_uniform_(net.conv1.weight)" in new


def test_not_a_notebook_is_a_clear_error():
    with pytest.raises(NotebookError, match="not valid JSON"):
        lint_notebook("x.ipynb", "{nope")
    with pytest.raises(NotebookError, match="no `cells` list"):
        lint_notebook("x.ipynb", "{}")


def test_keras_notebook_is_understood_and_fixed():
    text = (NOTEBOOKS / "keras_mlp.ipynb").read_text(encoding="utf-8")
    found = lint_notebook("keras_mlp.ipynb", text)[0]
    assert [(f.extra["cell"], f.start.row, f.code) for f in found] == [(3, 3, "INI001")]
    new, fixed, remaining = fix_notebook_text("keras_mlp.ipynb", text, unsafe=True)
    assert [f.code for f in fixed] == ["INI001"] and not remaining
    assert json.loads(new)["cells"][2]["source"][2] == '    layers.Dense(256, activation="relu", kernel_initializer="he_uniform"),\n'
    assert json.loads(new)["cells"][3]["source"][0] == "!nvidia-smi\n"  # the shell escape is kept


def test_per_cell_diffs_and_located_messages():
    from initlint.notebook import cell_diffs
    from initlint.report import located_message

    text = (NOTEBOOKS / "cnn_tutorial.ipynb").read_text(encoding="utf-8")
    new, _, _ = fix_notebook_text("nb.ipynb", text, unsafe=True)
    diff = cell_diffs("nb.ipynb", text, new)
    assert diff.startswith("--- a/nb.ipynb:cell 4\n+++ b/nb.ipynb:cell 4\n") and "--- a/nb.ipynb:cell 6" in diff
    broken = next(f for f in _findings("cnn_tutorial.ipynb") if f.code == "INI999")
    assert located_message(broken) == "cell 5, line 1: SyntaxError: invalid syntax"


def test_the_forum_dcgan_notebook_gets_its_data_writes_fixed():
    from initlint.notebook import cell_diffs

    text = (NOTEBOOKS / "dcgan_data.ipynb").read_text(encoding="utf-8")
    found = [(f.extra["cell"], f.start.row, f.code) for f in lint_notebook("dcgan_data.ipynb", text)[0]]
    assert [item for item in found if item[2] == "INI020"] == [(3, 4, "INI020"), (3, 6, "INI020"), (3, 7, "INI020")]
    new, fixed, _ = fix_notebook_text("dcgan_data.ipynb", text)
    assert [f.code for f in fixed] == ["INI020"] * 3
    diff = cell_diffs("dcgan_data.ipynb", text, new)
    assert "+        nn.init.constant_(m.bias, 0)\n" in diff and "-        m.bias.data.fill_(0)\n" in diff
