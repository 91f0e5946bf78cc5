"""initlint as a flake8 plugin, run through the real flake8 in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest.importorskip("flake8")

REPO = Path(__file__).resolve().parents[1]
# INI012 at 6:1; INI001 at 8:14, after a non-ASCII character (character column 14, byte column 15).
MODEL = """import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
nn.init.zeros_(net[0].bias)
nn.init.normal_(net[2].weight, 0, 0.0001)
nn.init.zeros_(net[2].bias)
label = "é"; nn.init.xavier_normal_(net[4].weight); nn.init.zeros_(net[4].bias)
"""
# INI005 (opt-in) at 3:21.
DEFAULT_INIT = """import torch.nn as nn

net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""


@pytest.fixture(autouse=True)
def plugin_installed():
    registered = {ep.name: ep.value for ep in entry_points(group="flake8.extension")}
    assert registered.get("INI") == "initlint.flake8_plugin:Plugin", (
        "initlint's flake8 entry point is not installed: run `pip install -e .` again")


def flake8(cwd: Path, *args: str) -> list[str]:
    completed = subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True,
                               encoding="utf-8", timeout=300)
    assert completed.returncode in (0, 1), completed.stderr
    assert "Traceback" not in completed.stderr
    return completed.stdout.splitlines()


def initlint(cwd: Path, *args: str) -> list[str]:
    command = [sys.executable, "-m", "initlint", "check", "--output-format", "concise", "--quiet", *args]
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=300)
    return completed.stdout.splitlines()


def codes(lines: list[str]) -> list[str]:
    return [line.split(": ", 1)[1].split()[0] for line in lines]


@pytest.fixture
def project(tmp_path):
    (tmp_path / "model.py").write_text(MODEL, encoding="utf-8")
    (tmp_path / "default_init.py").write_text(DEFAULT_INIT, encoding="utf-8")
    return tmp_path


def test_pyproject_declares_the_entry_point():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["flake8.extension"] == {"INI": "initlint.flake8_plugin:Plugin"}


def test_select_ini_reports_what_initlint_check_reports_at_the_same_columns(project):
    reported = flake8(project, "--isolated", "--select", "INI", "model.py")
    assert [line.split(": ", 1)[0] for line in reported] == ["model.py:6:1", "model.py:8:14"]
    assert codes(reported) == ["INI012", "INI001"]
    assert reported == initlint(project, "--isolated", "model.py")


def test_extend_ignore(project):
    reported = flake8(project, "--isolated", "--select", "INI", "--extend-ignore", "INI012", "model.py")
    assert codes(reported) == ["INI001"]


def test_noqa_comment(project):
    (project / "model.py").write_text(MODEL.replace("zeros_(net[4].bias)\n", "zeros_(net[4].bias)  # noqa: INI001\n"),
                                      encoding="utf-8")
    assert codes(flake8(project, "--isolated", "--select", "INI", "model.py")) == ["INI012"]


def test_opt_in_rules_stay_off_unless_named_by_full_code(project):
    assert codes(flake8(project, "--isolated", "--select", "INI", "default_init.py")) == []
    assert codes(flake8(project, "--isolated", "--select", "INI,INI005", "default_init.py")) == ["INI005"]
    assert codes(flake8(project, "--isolated", "--select", "INI0", "--extend-select", "INI005",
                        "default_init.py")) == ["INI005"]


def test_config_file_with_ignore_set_keeps_opt_in_rules_off(project):
    (project / ".flake8").write_text("[flake8]\nignore = E501\n")
    reported = flake8(project, "model.py", "default_init.py")
    assert "INI005" not in codes(reported)
    assert {"INI001", "INI012"} <= set(codes(reported))
    (project / ".flake8").write_text("[flake8]\nignore = E501\nextend-select = INI005\n")
    assert "INI005" in codes(flake8(project, "default_init.py"))
