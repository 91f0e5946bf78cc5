"""The pre-commit hooks in `.pre-commit-hooks.yaml`, run by the real pre-commit against a snapshot of this
repository. pre-commit builds its own virtualenv and installs initlint there from PyPI's dependencies, so this
needs the network and takes a minute or two."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install pre-commit)")

REPO = Path(__file__).resolve().parents[1]
BAD = """import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
nn.init.xavier_uniform_(net[0].weight)
"""
GOOD = """import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
nn.init.kaiming_uniform_(net[0].weight, nonlinearity="relu")
nn.init.zeros_(net[0].bias)
"""
GIT_IDENTITY = ("-c", "user.name=initlint tests", "-c", "user.email=tests@initlint.invalid",
                "-c", "commit.gpgsign=false")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def snapshot(destination: Path) -> str:
    """A one-commit git repository of this working tree as it is now (committed or not): pre-commit installs
    hooks from a commit. Returns the commit's sha."""
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for relative in filter(None, listed):
        source = REPO / relative
        if source.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "snapshot")
    return git(destination, "rev-parse", "HEAD").strip()


def has_subcommand(name: str) -> bool:
    from initlint.cli import build_parser

    parser = build_parser()
    return any(name in getattr(action, "choices", None) or () for action in parser._subparsers._group_actions)


@pytest.fixture(scope="module")
def hook_project(tmp_path_factory):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of initlint")
    root = tmp_path_factory.mktemp("precommit")
    (root / "hooks").mkdir()
    sha = snapshot(root / "hooks")
    project = root / "project"
    project.mkdir()
    git(project, "init", "-q")
    hook_ids = ["initlint", "initlint-fix"] if has_subcommand("fix") else ["initlint"]
    hooks = "".join(f"      - id: {hook}\n" for hook in hook_ids)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {root / 'hooks'}\n    rev: {sha}\n    hooks:\n{hooks}")
    (project / "bad.py").write_text(BAD)
    (project / "good.py").write_text(GOOD)
    (project / "pyproject.toml").write_text('[tool.initlint]\nextend-exclude = ["generated"]\n')
    (project / "generated").mkdir()
    (project / "generated" / "bad_too.py").write_text(BAD)
    git(project, "add", "-A")
    return project, {**os.environ, "PRE_COMMIT_HOME": str(root / "cache"), "NO_COLOR": "1"}


def pre_commit(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args, "--color", "never"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900)


def test_hook_fails_on_a_bad_file(hook_project):
    project, env = hook_project
    result = pre_commit(project, env, "run", "initlint", "--files", "bad.py")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "bad.py:4:1: INI001" in result.stdout


def test_hook_passes_on_a_good_file_and_on_force_excluded_files(hook_project):
    project, env = hook_project
    result = pre_commit(project, env, "run", "initlint", "--files", "good.py", "generated/bad_too.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_fix_hook(hook_project):
    if not has_subcommand("fix"):
        pytest.skip("`initlint fix` does not exist yet")
    project, env = hook_project
    result = pre_commit(project, env, "run", "initlint-fix", "--files", "good.py")
    assert result.returncode == 0, result.stdout + result.stderr
