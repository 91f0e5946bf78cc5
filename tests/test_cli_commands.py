"""The `fix`, `show` and `verify` commands, notebooks and the runner options, through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


def initlint(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "INITLINT_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "initlint", *args], cwd=cwd, input=stdin, capture_output=True, env=env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(FIXTURES / "fix" / "activation_inits.in.py", tmp_path / "model.py")
    shutil.copy(FIXTURES / "notebooks" / "cnn_tutorial.ipynb", tmp_path / "tutorial.ipynb")
    return tmp_path


def test_fix_diff_and_fix_agree_byte_for_byte(project):
    before = (project / "model.py").read_bytes()
    diff = initlint(project, "fix", "--unsafe-fixes", "--diff", "model.py")
    assert diff.returncode == 1 and diff.stdout.startswith(b"--- a/model.py")
    assert (project / "model.py").read_bytes() == before  # --diff writes nothing
    patched = project / "patched"
    patched.mkdir()
    shutil.copy(project / "model.py", patched / "model.py")
    subprocess.run(["patch", "-s", "-p1", "-d", str(patched)], input=diff.stdout, check=True)
    fixed = initlint(project, "fix", "--unsafe-fixes", "model.py")
    assert fixed.returncode == 1  # an INI004 and an INI010 without a fix remain
    assert (project / "model.py").read_bytes() == (patched / "model.py").read_bytes()
    assert (project / "model.py").read_text() == (FIXTURES / "fix" / "activation_inits.out.py").read_text()
    again = initlint(project, "fix", "--unsafe-fixes", "--diff", "model.py")
    assert again.returncode == 0 and again.stdout == b""


def test_check_marks_fixable_findings_and_check_fix_is_fix(project):
    report = initlint(project, "check", "--output-format", "concise", "model.py").stdout.decode()
    assert "INI015" not in report and " [*] " not in report  # only unsafe fixes here
    assert "hidden fixes can be enabled with the `--unsafe-fixes` option." in report
    unsafe = initlint(project, "check", "--unsafe-fixes", "--output-format", "concise", "model.py").stdout.decode()
    assert "model.py:14:9: INI001 [*] Xavier init" in unsafe and "[*] 9 fixable with `initlint fix`." in unsafe
    assert initlint(project, "check", "--fix", "--unsafe-fixes", "--show-fixes", "model.py").stdout.decode().startswith("Fixed:\n")
    assert (project / "model.py").read_text() == (FIXTURES / "fix" / "activation_inits.out.py").read_text()


def test_fix_reads_stdin_and_writes_the_fixed_source(project):
    source = b'import torch.nn as nn\ngain = nn.init.calculate_gain("ReLU")\n'
    result = initlint(project, "fix", "-", stdin=source)
    assert result.stdout == source.replace(b'"ReLU"', b'"relu"')


def test_json_fix_objects(project):
    records = json.loads(initlint(project, "check", "--output-format", "json", "model.py").stdout)
    fix = next(r["fix"] for r in records if r["code"] == "INI001")
    assert fix["applicability"] == "unsafe" and fix["edits"][0]["location"] == {"row": 14, "column": 9}
    assert fix["edits"][0]["content"].startswith("nn.init.kaiming_uniform_(self.fc1.weight")


def test_notebooks_are_checked_with_cell_locations(project):
    report = initlint(project, "check", "--output-format", "concise", "tutorial.ipynb").stdout.decode()
    assert "tutorial.ipynb:cell 4:3:1: INI001" in report and "tutorial.ipynb:cell 5:1:12: INI999" in report
    records = json.loads(initlint(project, "check", "--output-format", "json", ".").stdout)
    assert {r["cell"] for r in records if r["filename"].endswith(".ipynb")} == {4, 5, 6}
    excluded = initlint(project, "check", "--extend-exclude", "*.ipynb", "--output-format", "json", ".").stdout
    assert not any(r["filename"].endswith(".ipynb") for r in json.loads(excluded))
    initlint(project, "fix", "--unsafe-fixes", "tutorial.ipynb")
    assert "kaiming_uniform_(net.conv1.weight" in (project / "tutorial.ipynb").read_text()


def test_parallel_jobs_give_the_same_report(tmp_path):
    for index in range(12):
        shutil.copy(FIXTURES / "mlp_xavier_relu.py", tmp_path / f"m{index}.py")
    serial = initlint(tmp_path, "check", "--jobs", "1", "--output-format", "json", ".").stdout
    parallel = initlint(tmp_path, "check", "--jobs", "2", "--output-format", "json", ".").stdout
    assert serial == parallel and len(json.loads(serial)) == 12 * 6


def test_show_prints_a_table_per_model(project):
    result = initlint(project, "show", "model.py", "--model", "MLP", "--output-format", "markdown")
    assert result.returncode == 0
    assert "| self.fc1 | Linear(784, 512) | relu | xavier_uniform_() | zeros_() |" in result.stdout.decode()


def test_verify_errors_are_one_line(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "broken.py").write_text("raise ImportError('no such thing')\n")
    result = initlint(tmp_path, "verify", "broken.py:Net", "--input-shape", "1,4")
    assert result.returncode == 2
    assert result.stderr.decode().strip() == "error: broken.py: importing it raised ImportError: no such thing"


def test_the_command_writes_all_its_output_before_its_fast_exit(tmp_path):
    # `initlint` exits with os._exit (no interpreter teardown): a report larger than a pipe's buffer must still
    # arrive whole, with the exit status of the findings.
    layers = "".join(f"        self.fc{i} = nn.Linear(8, 8)\n        nn.init.xavier_uniform_(self.fc{i}.weight)\n"
                     for i in range(300))
    calls = "".join(f"        x = torch.relu(self.fc{i}(x))\n" for i in range(300))
    (tmp_path / "big.py").write_text(
        "import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
        f"        super().__init__()\n{layers}\n    def forward(self, x):\n{calls}        return x\n")
    result = initlint(tmp_path, "check", "--output-format", "json", "big.py")
    assert result.returncode == 1
    assert len(result.stdout) > 65536
    from initlint.engine import lint_source

    findings, _errors = lint_source("big.py", (tmp_path / "big.py").read_text())
    assert len(json.loads(result.stdout)) == len(findings) > 500
