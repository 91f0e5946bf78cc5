"""Autofix: golden before/after files, and the safety properties every fix must keep."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from initlint import fix as fixmod
from initlint.findings import Edit, Finding, Fix, Position
from initlint.fix import apply_edits, fix_file, fix_text, parses, write_atomic
from initlint.settings import Settings

FIX_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fix"
GOLDEN = sorted(FIX_FIXTURES.glob("*.in.py"))


@pytest.mark.parametrize("source", GOLDEN, ids=lambda p: p.name)
def test_unsafe_fixes_give_the_expected_file(source: Path):
    expected = source.with_name(source.name.replace(".in.py", ".out.py")).read_text()
    outcome = fix_text(str(source), source.read_text(), Settings(), unsafe=True)
    assert outcome.text == expected
    assert outcome.fixed and not outcome.problems


@pytest.mark.parametrize("source", GOLDEN, ids=lambda p: p.name)
def test_fixing_twice_changes_nothing(source: Path):
    once = fix_text(str(source), source.read_text(), Settings(), unsafe=True).text
    twice = fix_text(str(source), once, Settings(), unsafe=True)
    assert twice.text == once and not twice.fixed


def test_safe_mode_applies_only_safe_fixes():
    source = 'import torch.nn as nn\n\ngain = nn.init.calculate_gain("ReLU")\nw = nn.Linear(2, 2)\nnn.init.xavier_uniform_(w.bias)\n'
    outcome = fix_text("x.py", source, Settings(), unsafe=False)
    assert outcome.text == source.replace('"ReLU"', '"relu"')
    assert {f.code for f in outcome.remaining} == {"INI014"}


def test_comments_and_formatting_outside_the_edit_are_byte_identical():
    source = (FIX_FIXTURES / "activation_inits.in.py").read_text()
    fixed = fix_text("x.py", source, Settings(), unsafe=True).text
    assert "# keep this comment" in fixed and "# the input layer" in fixed
    untouched = [line for line in source.splitlines() if "init" not in line]
    assert all(line in fixed.splitlines() for line in untouched)


def test_crlf_line_endings_are_kept():
    source = "import torch.nn as nn\r\n\r\nfor p in nn.Linear(2, 2).parameters():\r\n    nn.init.xavier_uniform_(p)\r\n"
    fixed = fix_text("x.py", source, Settings(), unsafe=True).text
    assert fixed == ("import torch.nn as nn\r\n\r\nfor p in nn.Linear(2, 2).parameters():\r\n"
                     "    if p.dim() > 1:\r\n        nn.init.xavier_uniform_(p)\r\n")
    assert "\n" not in fixed.replace("\r\n", "")


def test_fix_file_keeps_bom_encoding_and_mode(tmp_path):
    path = tmp_path / "model.py"
    body = '# -*- coding: latin-1 -*-\nimport torch.nn as nn\n# caf\xe9\nnn.init.calculate_gain("Tanh")\n'
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("latin-1")) if False else path.write_bytes(body.encode("latin-1"))
    os.chmod(path, 0o640)
    result = fix_file(str(path), Settings(), unsafe=False)
    assert result.changed and result.write_error is None
    assert path.read_bytes() == body.replace('"Tanh"', '"tanh"').encode("latin-1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640

    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + b'import torch.nn as nn\nnn.init.calculate_gain("ReLU")\n')
    fix_file(str(bom), Settings())
    assert bom.read_bytes() == b"\xef\xbb\xbf" + b'import torch.nn as nn\nnn.init.calculate_gain("relu")\n'


def test_file_changed_on_disk_is_not_overwritten(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("a = 1\n")
    reason = write_atomic(str(path), b"a = 2\n", expected_original=b"a = 0\n")
    assert reason and "changed on disk" in reason
    assert path.read_text() == "a = 1\n"
    assert write_atomic(str(path), b"a = 2\n", expected_original=b"a = 1\n") is None
    assert path.read_text() == "a = 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]  # no temporary file left behind


def test_a_fix_that_would_not_parse_is_dropped(monkeypatch):
    source = "x = 1\ny = 2\n"
    good = Finding("INI001", "n", "m", "x.py", Position(1, 5), Position(1, 6),
                   fix=Fix("safe", "ok", (Edit("3", Position(1, 5), Position(1, 6)),)))
    bad = Finding("INI002", "n", "m", "x.py", Position(2, 1), Position(2, 2),
                  fix=Fix("safe", "broken", (Edit("(((", Position(2, 1), Position(2, 2)),)))
    calls = []

    def fake_lint(path, text, settings, **options):
        calls.append(text)
        return ([good, bad] if text == source else []), []

    monkeypatch.setattr(fixmod, "lint_source", fake_lint)
    outcome = fixmod.fix_text("x.py", source, Settings())
    assert outcome.text == "x = 3\ny = 2\n"
    assert len(outcome.problems) == 1 and "INI002" in outcome.problems[0]


def test_overlapping_fixes_are_applied_over_passes():
    source = ('import torch.nn as nn\nimport torch.nn.functional as F\n\nclass M(nn.Module):\n    def __init__(self):\n'
              '        super().__init__()\n        self.a = nn.Linear(4, 4)\n        self.b = nn.Linear(4, 1)\n'
              '        nn.init.kaiming_normal_(self.a.weight, nonlinearity="Linear")\n        nn.init.zeros_(self.a.bias)\n\n'
              '    def forward(self, x):\n        return self.b(F.relu(self.a(x)))\n')
    outcome = fix_text("x.py", source, Settings(), unsafe=True)
    assert 'nn.init.kaiming_normal_(self.a.weight, nonlinearity="relu")' in outcome.text
    assert parses(outcome.text) and not outcome.problems


def test_apply_edits_works_backwards_and_deduplicates():
    text = "ab\ncd\n"
    edits = [Edit("X", Position(1, 1), Position(1, 2)), Edit("Y", Position(2, 2), Position(2, 3)),
             Edit("Y", Position(2, 2), Position(2, 3))]
    assert apply_edits(text, edits) == "Xb\ncY\n"


def test_unsafe_fix_keeps_a_deep_relu_stack_healthy():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    before = (FIX_FIXTURES / "deep_relu.in.py").read_text()
    after = (FIX_FIXTURES / "deep_relu.out.py").read_text()
    assert before != after

    def output_std(source: str) -> float:
        namespace: dict = {}
        exec(compile(source, "fixture", "exec"), namespace)  # the test builds the fixture model; check never runs code
        model = namespace["build"]()
        x = torch.randn(512, 256)
        with torch.no_grad():
            body = model[:-1](x)
        return float(body.pow(2).mean().sqrt())

    assert output_std(before) < 0.01  # 20 Xavier+ReLU layers: about 2**-10 of the input's RMS
    assert 0.5 < output_std(after) < 2.0  # Kaiming keeps it near 1


def test_an_added_import_goes_below_the_shebang_and_coding_cookie():
    source = ("#!/usr/bin/env python\n# -*- coding: latin-1 -*-\n# header\ntry:\n"
              "    from torch.nn.init import xavier_uniform_\n    from torch.nn import Linear, ReLU, Sequential\n"
              "except ImportError:\n    raise\nmodel = Sequential(Linear(4, 4), ReLU(), Linear(4, 1))\n"
              "xavier_uniform_(model[0].weight)\n")
    fixed = fix_text("x.py", source, Settings(), unsafe=True).text
    head = fixed.split("try:\n")[0].splitlines()
    assert head[:3] == ["#!/usr/bin/env python", "# -*- coding: latin-1 -*-", "# header"]
    assert all(line.startswith(("from torch.nn", "import torch")) for line in head[3:]) and len(head) > 3
    assert parses(fixed)
