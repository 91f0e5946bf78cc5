"""Project-wide analysis: classes, init functions and wrappers imported from other files of the project are
read there; findings go to the file of the fix, or to the use site when that file is not linted."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

import initlint.runner
from initlint.cli import main
from initlint.engine import lint_source, might_matter
from initlint.project import Function, Project
from initlint.rules import all_rules
from initlint.settings import Settings

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
EVERY_RULE = Settings(select=frozenset(rule.code for rule in all_rules()))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of a fixture project as the working directory (fixes and caches write into it)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(PROJECTS / name, target)
        monkeypatch.chdir(target)
        return target

    return copy


def check(capsys, *args: str) -> tuple[int, list[dict]]:
    code = main(["check", "--no-cache", "--output-format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def located(findings: list[dict]) -> list[str]:
    return sorted(f"{os.path.relpath(f['filename'])}:{f['location']['row']}:{f['location']['column']} {f['code']}"
                  for f in findings)


# ------------------------------------------------------------------------------------------ fixtures

EXPECTED = {
    # (fixture, paths passed) -> findings, each reported once in the file where the fix belongs
    ("package", "."): ["mlpkg/utils/init.py:7:9 INI001"],
    # pre-commit passes only the changed file: reported at the use site, naming the other file
    ("package", "train.py"): ["train.py:9:5 INI001"],
    ("package", "mlpkg"): [],  # nothing there applies `weights_init`: no use site, no finding
    ("src_layout", "."): ["src/netlib/initializers.py:11:5 INI001", "src/netlib/initializers.py:6:5 INI002"],
    ("src_layout", "src/netlib/policy.py"): ["src/netlib/policy.py:12:23 INI001", "src/netlib/policy.py:14:9 INI002"],
    ("src_layout", "src/netlib/layers.py"): [],
    ("edge_cases", "."): [],  # cycles, a missing module, an unknown name, an ambiguous module: no guess
}


@pytest.mark.parametrize("fixture,path", list(EXPECTED), ids=[f"{f}-{p}" for f, p in EXPECTED])
def test_fixture_projects(project, capsys, fixture, path):
    project(fixture)
    code, findings = check(capsys, path)
    assert located(findings) == EXPECTED[fixture, path]
    assert code == (1 if EXPECTED[fixture, path] else 0)


@pytest.mark.parametrize("fixture", ["package", "src_layout"])
def test_single_file_mode_sees_none_of_it(project, capsys, fixture):
    project(fixture)
    assert check(capsys, "--single-file", ".") == (0, [])


def test_the_message_names_the_model_file_and_where_it_was_reached(project, capsys):
    project("package")
    _code, [finding] = check(capsys, ".")
    assert "`self.fc` (Linear) of `Block` (mlpkg/models/blocks.py)" in finding["message"]
    assert finding["message"].endswith("(reached from train.py:9)")
    assert finding["fix"] is not None  # the fix is for the file it is reported in
    _code, [finding] = check(capsys, "train.py")
    assert finding["message"].endswith("(in mlpkg/utils/init.py:7)")
    assert finding["fix"] is None  # a file that was not passed is never edited


def test_fix_edits_the_init_function_file_only(project, capsys):
    root = project("package")
    train_before = (root / "train.py").read_text()
    assert main(["fix", "--no-cache", "--unsafe-fixes", "."]) == 0
    capsys.readouterr()
    expected = (PROJECTS / "package/mlpkg/utils/init.py").read_text().replace(
        "nn.init.xavier_uniform_(m.weight)", 'nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")')
    assert (root / "mlpkg/utils/init.py").read_text() == expected
    assert (root / "train.py").read_text() == train_before
    assert check(capsys, ".") == (0, [])


def test_noqa_at_the_fix_site_silences_the_routed_finding(project, capsys):
    root = project("package")
    init = root / "mlpkg/utils/init.py"
    init.write_text(init.read_text().replace("xavier_uniform_(m.weight)", "xavier_uniform_(m.weight)  # noqa: INI001"))
    assert check(capsys, ".") == (0, [])


def test_per_file_ignores_of_the_fix_site_apply(project, capsys):
    root = project("package")
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text()
                                         + '\n[tool.initlint.per-file-ignores]\n"mlpkg/utils/*" = ["INI001"]\n')
    assert check(capsys, ".") == (0, [])


# ---------------------------------------------------------------------------------------- the cache

def test_the_cache_entry_follows_the_files_it_depends_on(project, capsys, monkeypatch):
    root = project("package")
    args = ["check", "--output-format", "json", "--cache-dir", str(root / ".cache"), "train.py"]
    assert main(args) == 1
    assert len(json.loads(capsys.readouterr().out)) == 1

    def no_linting(*_args, **_kwargs):
        raise AssertionError("served from the cache, nothing is linted")

    monkeypatch.setattr(initlint.runner, "lint_text", no_linting)
    assert main(args) == 1  # unchanged: a cache hit
    assert len(json.loads(capsys.readouterr().out)) == 1
    monkeypatch.undo()
    monkeypatch.chdir(root)
    init = root / "mlpkg/utils/init.py"
    init.write_text(init.read_text().replace("xavier_uniform_(m.weight)", "kaiming_uniform_(m.weight, nonlinearity='relu')"))
    assert main(args) == 0  # a dependency changed: the entry is not served
    assert json.loads(capsys.readouterr().out) == []


# ------------------------------------------------------------------------------------------ resolver

def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def resolve(root: Path, path: str, qualname: str, roots=None):
    from initlint.model.semantic import FileModel
    from initlint.source import SourceFile
    import ast

    text = (root / path).read_text()
    model = FileModel.build(SourceFile(str(root / path), text), ast.parse(text), Project(roots or (str(root),)))
    return model.program.resolve(qualname, model)


def test_relative_imports_and_package_reexports_resolve(tmp_path):
    write(tmp_path, {
        "pkg/__init__.py": "from .models import Net\n",
        "pkg/models/__init__.py": "from .net import *\n",
        "pkg/models/net.py": "import torch.nn as nn\nclass Net(nn.Module):\n    pass\n",
        "pkg/util.py": "import torch\ndef weights_init(m):\n    torch.nn.init.zeros_(m.weight)\n",
        "main.py": "from pkg import Net\nfrom . import x\n",
        "pkg/sub/user.py": "from .. import util\nfrom ..util import weights_init\n",
    })
    assert resolve(tmp_path, "main.py", "pkg.Net").name == "Net"
    assert resolve(tmp_path, "main.py", "pkg.models.net.Net").name == "Net"
    assert isinstance(resolve(tmp_path, "pkg/sub/user.py", "..util.weights_init"), Function)
    assert resolve(tmp_path, "main.py", "pkg.Missing") is None
    assert resolve(tmp_path, "main.py", "nowhere.Net") is None


def test_from_dot_import_names_the_sibling_module():
    import ast

    from initlint.model.names import Names

    names = Names(ast.parse("from . import blocks\nfrom .. import utils\nfrom .x import y\n"))
    assert names.aliases == {"blocks": ".blocks", "utils": "..utils", "y": ".x.y"}


def test_cycles_and_missing_modules_resolve_to_nothing(tmp_path):
    write(tmp_path, {
        "a.py": "from b import *\nfrom c import Thing\n",
        "b.py": "from a import *\n",
        "c.py": "from a import Thing\n",
    })
    assert resolve(tmp_path, "a.py", "a.Missing") is None
    assert resolve(tmp_path, "a.py", "c.Thing") is None


def test_a_module_two_roots_provide_is_ambiguous(tmp_path):
    write(tmp_path, {
        "one/utils.py": "import torch\ndef f(m):\n    torch.nn.init.zeros_(m)\n",
        "two/utils.py": "import torch\ndef f(m):\n    torch.nn.init.ones_(m)\n",
        "one/main.py": "from utils import f\n",
    })
    assert resolve(tmp_path, "one/main.py", "utils.f", roots=(str(tmp_path / "two"),)) is None
    assert isinstance(resolve(tmp_path, "one/main.py", "utils.f", roots=()), Function)


def test_site_packages_is_never_read(tmp_path):
    write(tmp_path, {"site-packages/lib.py": "import torch\ndef f(m):\n    torch.nn.init.zeros_(m)\n",
                     "main.py": "from lib import f\n"})
    assert Project((str(tmp_path / "site-packages"),)).module_file((str(tmp_path / "site-packages"),), ("lib",)) is None


def test_catalogued_wrappers_are_never_read_from_a_project_copy(tmp_path):
    write(tmp_path, {
        "timm/__init__.py": "",
        "timm/models/_manipulate.py": "def named_apply(fn, module):\n    pass\n",
        "transformers/modeling_utils.py": "import torch\nclass PreTrainedModel(torch.nn.Module):\n    pass\n",
        "main.py": "",
    })
    assert resolve(tmp_path, "main.py", "timm.models._manipulate.named_apply") is None
    assert resolve(tmp_path, "main.py", "transformers.modeling_utils.PreTrainedModel") is None


def test_an_unparseable_dependency_concludes_nothing(tmp_path, capsys, monkeypatch):
    weights_init = ("import torch.nn as nn\ndef weights_init(m):\n    if isinstance(m, nn.Linear):\n"
                    "        nn.init.xavier_uniform_(m.weight)\n        nn.init.zeros_(m.bias)\n")
    script = ("import torch.nn as nn\nfrom {} import weights_init\n"
              "model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))\nmodel.apply(weights_init)\n")
    write(tmp_path, {"pyproject.toml": "", "good.py": weights_init, "broken.py": weights_init + "def (:\n",
                     "train_good.py": script.format("good"), "train_broken.py": script.format("broken")})
    monkeypatch.chdir(tmp_path)
    assert [f["code"] for f in check(capsys, "train_good.py")[1]] == ["INI001"]
    assert check(capsys, "train_broken.py") == (0, [])


# ------------------------------------------------------------------------------------------ pre-filter

@pytest.mark.parametrize("fixture", sorted(p.name for p in PROJECTS.iterdir() if p.is_dir()))
def test_the_prefilter_keeps_every_project_file_with_findings(fixture):
    from initlint.runner import project_of_roots

    root = PROJECTS / fixture
    project = project_of_roots((str(root), str(root / "src")))
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        findings, _ = lint_source(str(path), text, EVERY_RULE, prefilter=False, project=project)
        if findings:
            assert might_matter(text, EVERY_RULE, project=True), path


def test_a_script_without_a_framework_import_is_still_analysed_in_a_project():
    script = "from mlpkg import Net, weights_init\nmodel = Net()\nmodel.apply(weights_init)\n"
    assert might_matter(script, EVERY_RULE, project=True)
    assert not might_matter(script, EVERY_RULE, project=False)


# ------------------------------------------------------------------------------- semantics across files

def lint_project(tmp_path: Path, files: dict[str, str], entry: str, select: str) -> list:
    write(tmp_path, files)
    text = (tmp_path / entry).read_text()
    settings = Settings(select=frozenset({select}))
    findings, errors = lint_source(str(tmp_path / entry), text, settings, project=Project((str(tmp_path),)))
    assert errors == []
    return findings


def test_a_dead_code_verdict_is_not_given_for_another_files_init(tmp_path):
    """`blocks.Block` inits its layer, and this model re-draws it: dead for this model, maybe not for the
    others that use `Block`, so INI040 stays with each file's own analysis."""
    files = {
        "blocks.py": """\
            import torch.nn as nn
            class Block(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    nn.init.orthogonal_(self.fc.weight)
        """,
        "net.py": """\
            import torch.nn as nn
            from blocks import Block
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.block = Block()
                    for m in self.modules():
                        if isinstance(m, nn.Linear):
                            nn.init.xavier_uniform_(m.weight)
        """,
        "local.py": """\
            import torch.nn as nn
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    nn.init.orthogonal_(self.fc.weight)
                    for m in self.modules():
                        if isinstance(m, nn.Linear):
                            nn.init.xavier_uniform_(m.weight)
        """,
    }
    assert lint_project(tmp_path, files, "net.py", "INI040") == []
    assert [f.code for f in lint_project(tmp_path, files, "local.py", "INI040")] == ["INI040"]


def test_a_weight_norm_alias_in_another_file_is_understood(tmp_path):
    files = {
        "conv.py": """\
            import torch.nn as nn
            class PositionalConv(nn.Module):
                def __init__(self):
                    super().__init__()
                    weight_norm = nn.utils.parametrizations.weight_norm
                    self.conv = weight_norm(nn.Conv1d(8, 8, 3), name="weight", dim=2)
        """,
        "model.py": """\
            import torch.nn as nn
            from conv import PositionalConv
            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.pos = PositionalConv()
                    nn.init.normal_(self.pos.conv.weight, std=0.02)
        """,
    }
    import ast

    from initlint.model.semantic import FileModel
    from initlint.source import SourceFile

    write(tmp_path, files)
    text = (tmp_path / "model.py").read_text()
    model = FileModel.build(SourceFile(str(tmp_path / "model.py"), text), ast.parse(text), Project((str(tmp_path),)))
    assert [(node.cls, node.wrapped) for node in model.all_nodes() if getattr(node, "wrapped", None)] == \
        [("Conv1d", "parametrizations.weight_norm")]
    # and the init written after the wrap is reported where it is written, naming the file that wraps
    [finding] = lint_project(tmp_path, files, "model.py", "INI030")
    assert (finding.path.endswith("model.py"), finding.start.row) == (True, 7)
    assert "conv.py:6)" in finding.message
    # a call we cannot read (`unknown_helper`) may not write the weight at all: nothing is concluded from it
    files["model.py"] = files["model.py"].replace("nn.init.normal_(self.pos.conv.weight, std=0.02)",
                                                  "unknown_helper(self.pos.conv)")
    assert lint_project(tmp_path, files, "model.py", "INI030") == []


def test_hf_post_init_initializes_a_backbone_once(tmp_path):
    """HF marks what a `post_init()` initialized: the outer model's `_init_weights` does not redo a backbone
    built (and initialized) by its own `post_init()`, so the backbone's init is the one that holds."""
    files = {
        "backbone.py": """\
            import torch.nn as nn
            from transformers import PreTrainedModel
            class Backbone(PreTrainedModel):
                def __init__(self, config):
                    super().__init__(config)
                    self.fc = nn.Linear(4, 4)
                    self.act = nn.ReLU()
                    self.post_init()
                def _init_weights(self, module):
                    if isinstance(module, nn.Linear):
                        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                        nn.init.zeros_(module.bias)
                def forward(self, x):
                    return self.act(self.fc(x))
        """,
        "head.py": """\
            import torch.nn as nn
            from transformers import PreTrainedModel
            from backbone import Backbone
            class Classifier(PreTrainedModel):
                def __init__(self, config):
                    super().__init__(config)
                    self.backbone = Backbone(config)
                    self.out = nn.Linear(4, 2)
                    self.post_init()
                def _init_weights(self, module):
                    if isinstance(module, nn.Linear):
                        nn.init.xavier_uniform_(module.weight)
                        nn.init.zeros_(module.bias)
                def forward(self, x):
                    return self.out(self.backbone(x))
        """,
    }
    # Xavier reaches only `out` (a head): the backbone's ReLU layer keeps its Kaiming init.
    assert lint_project(tmp_path, files, "head.py", "INI001") == []


def test_no_crash_claim_for_a_layer_behind_a_config_option(tmp_path):
    files = {
        "layers.py": """\
            import torch.nn as nn
            class MLP(nn.Module):
                def __init__(self, sizes, bn=False):
                    super().__init__()
                    layers = []
                    for a, b in zip(sizes[:-1], sizes[1:]):
                        layers.append(nn.Linear(a, b))
                        if bn:
                            layers.append(nn.BatchNorm1d(b))
                    self.mlp = nn.Sequential(*layers)
        """,
        "model.py": """\
            import torch.nn as nn
            from layers import MLP
            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.mlp = MLP([4, 8])
                    for name, p in self.mlp.named_parameters():
                        if name.endswith("weight"):
                            nn.init.xavier_normal_(p)
        """,
    }
    assert lint_project(tmp_path, files, "model.py", "INI014") == []


def test_the_nearest_pyproject_and_its_src_are_roots(tmp_path):
    write(tmp_path, {
        "pyproject.toml": "",
        "src/lib/__init__.py": "",
        "src/lib/init.py": "import torch\ndef weights_init(m):\n    torch.nn.init.zeros_(m.weight)\n",
        "scripts/train.py": "from lib.init import weights_init\n",
    })
    assert isinstance(resolve(tmp_path, "scripts/train.py", "lib.init.weights_init", roots=()), Function)


def test_a_notebook_reads_the_project_and_reports_at_its_cell(project, capsys):
    root = project("package")
    cells = [["import torch\n", "from mlpkg import Net\n", "from mlpkg.utils.init import weights_init"],
             ["model = Net()\n", "model.apply(weights_init)"]]
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                           "outputs": [], "source": source} for i, source in enumerate(cells)],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "explore.ipynb").write_text(json.dumps(notebook))
    code, [finding] = check(capsys, "explore.ipynb")
    assert (code, finding["code"], finding["cell"], finding["location"]["row"]) == (1, "INI001", 2, 2)
    assert finding["message"].endswith("(in mlpkg/utils/init.py:7)")


def test_a_module_created_later_invalidates_the_cache_entry(tmp_path, capsys, monkeypatch):
    write(tmp_path, {
        "pyproject.toml": "",
        "train.py": """\
            import torch.nn as nn
            from helpers import weights_init
            model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
            model.apply(weights_init)
        """,
    })
    monkeypatch.chdir(tmp_path)
    args = ["check", "--output-format", "json", "--cache-dir", str(tmp_path / ".cache"), "train.py"]
    assert main(args) == 0  # `helpers` does not exist: nothing is concluded
    capsys.readouterr()
    write(tmp_path, {"helpers.py": """\
        import torch.nn as nn
        def weights_init(m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    """})
    assert main(args) == 1
    assert [f["code"] for f in json.loads(capsys.readouterr().out)] == ["INI001"]


def test_an_init_helper_with_a_scheme_argument_is_followed_per_call(tmp_path):
    """`init_layer(m, scheme)` in another file: the branch the call's scheme selects is the init that happens."""
    files = {
        "initutils.py": """\
            import torch.nn as nn
            def init_layer(module, scheme):
                if scheme == "kaiming":
                    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                elif scheme == "xavier":
                    nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        """,
        "good.py": """\
            import torch.nn as nn
            from initutils import init_layer
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    self.out = nn.Linear(4, 2)
                    init_layer(self.fc, "kaiming")
                def forward(self, x):
                    return self.out(nn.functional.relu(self.fc(x)))
        """,
    }
    files["bad.py"] = files["good.py"].replace('"kaiming"', '"xavier"')
    assert lint_project(tmp_path, files, "good.py", "INI001") == []
    [finding] = lint_project(tmp_path, files, "bad.py", "INI001")
    assert (finding.path.endswith("initutils.py"), finding.start.row) == (True, 6)
