"""scripts/corpus_fix_check.py on a small tree made from the fixtures: clean fixes pass, broken ones are caught."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "corpus_fix_check.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("corpus_fix_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


cfc = _load_script()

DEEP_RELU = (ROOT / "fixtures" / "fix" / "deep_relu.in.py").read_text()


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """A small corpus (the fixtures, plus CRLF, BOM and shebang/cookie variants) run through the whole script."""
    corpus = tmp_path_factory.mktemp("corpus")
    for source in [*ROOT.glob("fixtures/fix/*.in.py"), *ROOT.glob("fixtures/*.py")]:
        shutil.copyfile(source, corpus / source.name)
    odd = corpus / "odd"
    odd.mkdir()
    (odd / "crlf.py").write_bytes(DEEP_RELU.replace("\n", "\r\n").encode())
    (odd / "bom.py").write_bytes(b"\xef\xbb\xbf" + DEEP_RELU.encode())
    (odd / "header.py").write_bytes(b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\n# caf\xe9\n"
                                    b"import torch.nn as nn\nfor p in nn.Linear(2, 2).parameters():\n"
                                    b"    nn.init.xavier_uniform_(p)\n")
    (odd / "undecodable.py").write_bytes(b"\xff\xfe\x00not python")
    work = tmp_path_factory.mktemp("work")
    return cfc.run(corpus, work, jobs=2), work


def test_fixing_the_fixtures_passes_every_check(checked):
    report, _work = checked
    assert report.files_scanned == report.files_copied > 10
    assert report.files_changed >= 10
    assert sum(report.applied.values()) > 0 and report.applied["INI001"] > 0
    assert report.problems == []
    assert any("undecodable.py" in note for note in report.notes)  # an odd file is reported, not a crash
    assert "| failures: confined | 0 |" in cfc.render(report, "cmd")


def test_odd_formats_are_fixed_and_kept(checked):
    _report, work = checked
    for name in ("crlf.py", "bom.py", "header.py"):
        assert (work / "fixed" / "odd" / name).read_bytes() != (work / "original" / "odd" / name).read_bytes()
    assert b"\r\n" in (work / "fixed" / "odd" / "crlf.py").read_bytes()
    assert (work / "fixed" / "odd" / "bom.py").read_bytes().startswith(b"\xef\xbb\xbf")


def _tree(tmp_path: Path, original: str | bytes, fixed: str | bytes, refixed: str | bytes | None = None):
    """original/, fixed/ and refixed/ holding one file, m.py; refixed defaults to fixed (idempotent)."""
    roots = [tmp_path / "original", tmp_path / "fixed", tmp_path / "refixed"]
    for root, content in zip(roots, [original, fixed, fixed if refixed is None else refixed]):
        root.mkdir(parents=True)
        (root / "m.py").write_bytes(content.encode() if isinstance(content, str) else content)
    return roots


def _findings(root: Path) -> dict:
    return cfc.run_initlint("check", root, ["m.py"], 1, ["--output-format", "json"]).findings


def _problems(tmp_path: Path, fixed: str | bytes, refixed: str | bytes | None = None, original: str = DEEP_RELU):
    roots = _tree(tmp_path, original, fixed, refixed)
    return cfc.check_tree(*roots, ["m.py"], _findings(roots[0]))


GOOD = DEEP_RELU.replace("nn.init.xavier_normal_(m.weight)", 'nn.init.kaiming_normal_(m.weight, nonlinearity="relu")')


def test_a_correct_fix_passes(tmp_path):
    assert _problems(tmp_path, GOOD) == []


def test_a_change_outside_the_fixed_statement_is_reported(tmp_path):
    fixed = GOOD.replace("layers = []", "layers = []  # touched")
    problems = _problems(tmp_path, fixed)
    assert [(p.check, p.line) for p in problems] == [("confined", 6)]


def test_a_line_added_far_from_any_fix_is_reported(tmp_path):
    fixed = GOOD.replace("    return model\n", "    return model\n\nprint('added')\n")
    assert [p.check for p in _problems(tmp_path, fixed)] == ["confined"]


def test_an_import_added_at_the_top_and_a_line_after_the_fix_are_allowed(tmp_path):
    fixed = GOOD.replace("import torch.nn as nn\n", "import torch.nn as nn\nfrom torch.nn import init\n")
    fixed = fixed.replace('nonlinearity="relu")\n', 'nonlinearity="relu")\n        nn.init.zeros_(m.bias)\n')
    assert _problems(tmp_path, fixed) == []


def test_a_fix_that_does_not_compile_is_reported(tmp_path):
    fixed = DEEP_RELU.replace("nn.init.xavier_normal_(m.weight)", "nn.init.kaiming_normal_(m.weight,")
    assert "parse" in [p.check for p in _problems(tmp_path, fixed)]


def test_a_fix_that_changes_again_is_reported(tmp_path):
    refixed = GOOD.replace('nonlinearity="relu"', 'nonlinearity="leaky_relu"')
    assert [(p.check, p.line) for p in _problems(tmp_path, GOOD, refixed)] == [("idempotent", 16)]


def test_lost_line_endings_bom_and_cookie_are_reported(tmp_path):
    crlf = _tree(tmp_path / "crlf", DEEP_RELU.replace("\n", "\r\n"), GOOD.replace("\n", "\r\n").replace(
        'nonlinearity="relu")\r\n', 'nonlinearity="relu")\n'))
    problems = cfc.check_tree(*crlf, ["m.py"], {})
    assert [(p.check, p.line) for p in problems] == [("format", 16)]

    bom = _tree(tmp_path / "bom", b"\xef\xbb\xbf" + DEEP_RELU.encode(), GOOD.encode())
    assert [p.check for p in cfc.check_tree(*bom, ["m.py"], {})] == ["format"]

    header = "# -*- coding: latin-1 -*-\n"
    moved = _tree(tmp_path / "cookie", header + DEEP_RELU, "from torch.nn import init\n" + header + GOOD)
    assert [p.check for p in cfc.check_tree(*moved, ["m.py"], {})] == ["format"]


def test_unchanged_and_missing_files_are_skipped(tmp_path):
    roots = _tree(tmp_path, DEEP_RELU, DEEP_RELU)
    assert cfc.check_tree(*roots, ["m.py", "missing.py"], {}) == []


def test_batches_cover_every_file_once():
    files = [f"dir/file{i}.py" for i in range(10)]
    for jobs in (1, 3, 20):
        groups = cfc.batches(files, jobs)
        assert [name for group in groups for name in group] == files and len(groups) <= max(jobs, 1)


def test_a_fix_using_a_name_nothing_defines_is_reported(tmp_path):
    fixed = DEEP_RELU.replace("nn.init.xavier_normal_(m.weight)", 'init.kaiming_normal_(m.weight, nonlinearity="relu")')
    assert [(p.check, p.line) for p in _problems(tmp_path, fixed)] == [("names", 16)]


def test_a_crashing_command_line_is_reported(tmp_path):
    import subprocess

    result = cfc.CliResult()
    crashed = subprocess.CompletedProcess([], 2, stdout="[", stderr="error: internal error: KeyError: 'x' (this is a "
                                                                   "bug in initlint; please report it)\n")
    cfc._collect(result, "check", tmp_path, ["m.py"], crashed)
    assert [p.check for p in result.problems] == ["cli", "cli"]  # the crash, and output that is not JSON


def test_a_coding_cookie_pushed_past_line_two_is_reported(tmp_path):
    """compile() of the bytes accepts latin-1 in a comment once the cookie is lost; `python FILE` does not."""
    original = b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\n# caf\xe9\nimport torch.nn as nn\n"
    roots = _tree(tmp_path, original, b"from torch.nn import init\n" + original)
    assert sorted(p.check for p in cfc.check_tree(*roots, ["m.py"], {})) == ["format", "parse"]
