"""`[tool.initlint]` in pyproject.toml: discovery, keys, paths relative to the config, command-line overrides."""

from __future__ import annotations

import os

import pytest
from test_cli import in_tmp, run, write  # noqa: F401 - in_tmp is a fixture

from initlint.config import ConfigError, Resolver
from initlint.files import GlobSet
from initlint.settings import PerFileIgnore, RuleSelection, Settings

# INI001 and INI010 at 4:1 (Xavier before ReLU, and the bias left at its default).
XAVIER = """import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
nn.init.xavier_uniform_(net[0].weight)
"""
# INI005 (opt-in) at 3:21.
DEFAULT_INIT = """import torch.nn as nn

net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
"""


def config(root, body: str, name: str = "pyproject.toml"):
    return write(root, name, "[project]\nname = 'x'\n\n[tool.initlint]\n" + body if name == "pyproject.toml" else body)


def codes(result) -> list[tuple[str, str]]:
    """(path, code) of every concise-format line."""
    pairs = []
    for line in result.out.splitlines():
        if ": INI" in line:
            location, rest = line.split(": ", 1)
            pairs.append((location.split(":")[0], rest.split()[0]))
    return pairs


def check(capsys, *argv):
    return run(capsys, "check", "--output-format", "concise", *argv)


# -- discovery of the config file ---------------------------------------------------------------------------


def test_nearest_pyproject_above_the_linted_path_applies(tmp_path, monkeypatch, capsys):
    config(tmp_path / "project", 'ignore = ["INI010"]\n')
    write(tmp_path, "project/pkg/model.py", XAVIER)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = check(capsys, str(tmp_path / "project" / "pkg" / "model.py"))
    assert [code for _, code in codes(result)] == ["INI001"]


def test_pyproject_without_an_initlint_table_is_skipped(in_tmp, capsys):
    config(in_tmp, 'ignore = ["INI010"]\n')
    write(in_tmp, "sub/pyproject.toml", "[project]\nname = 'sub'\n")
    write(in_tmp, "sub/model.py", XAVIER)
    assert [code for _, code in codes(check(capsys, "sub/model.py"))] == ["INI001"]


def test_each_file_gets_its_nearest_config(in_tmp, capsys):
    config(in_tmp, 'ignore = ["INI010"]\n')
    config(in_tmp / "sub", 'ignore = ["INI001"]\n')
    write(in_tmp, "top.py", XAVIER)
    write(in_tmp, "sub/inner.py", XAVIER)
    assert codes(check(capsys)) == [(os.path.join("sub", "inner.py"), "INI010"), ("top.py", "INI001")]


def test_config_of_the_working_directory_governs_files_outside_any_project(tmp_path, monkeypatch, capsys):
    config(tmp_path / "cwd", 'ignore = ["INI010"]\n')
    write(tmp_path, "outside/model.py", XAVIER)
    monkeypatch.chdir(tmp_path / "cwd")
    assert [code for _, code in codes(check(capsys, "../outside/model.py"))] == ["INI001"]


def test_config_option_replaces_discovery(in_tmp, capsys):
    config(in_tmp, 'ignore = ["INI010"]\n')
    write(in_tmp, "other/initlint.toml", 'ignore = ["INI001"]\n')
    write(in_tmp, "model.py", XAVIER)
    assert [code for _, code in codes(check(capsys, "--config", "other/initlint.toml", "model.py"))] == ["INI010"]


def test_config_option_with_a_pyproject_reads_its_table(in_tmp, capsys):
    write(in_tmp, "model.py", XAVIER)
    config(in_tmp / "conf", 'select = ["INI010"]\n')
    assert [c for _, c in codes(check(capsys, "--config", "conf/pyproject.toml", "model.py"))] == ["INI010"]
    write(in_tmp, "conf/other.toml", '[tool.initlint]\nselect = ["INI001"]\n')
    assert [c for _, c in codes(check(capsys, "--config", "conf/other.toml", "model.py"))] == ["INI001"]


def test_missing_config_file_is_an_error(in_tmp, capsys):
    result = check(capsys, "--config", "nope.toml", ".")
    assert result.code == 2
    assert result.err == "error: --config: nope.toml: No such file\n"


def test_isolated_ignores_config(in_tmp, capsys):
    config(in_tmp, 'ignore = ["INI001", "INI010"]\n')
    write(in_tmp, "model.py", XAVIER)
    assert [c for _, c in codes(check(capsys, "--isolated", "model.py"))] == ["INI001", "INI010"]


def test_config_and_isolated_together_is_a_usage_error(in_tmp, capsys):
    assert check(capsys, "--isolated", "--config", "x.toml").code == 2


# -- bad configuration: one line, exit 2 ---------------------------------------------------------------------


@pytest.mark.parametrize("body,message", [
    ('selct = ["INI001"]\n', "unknown key 'selct' in [tool.initlint]; did you mean 'select'?"),
    ('frobnicate = 1\n', "unknown key 'frobnicate' in [tool.initlint] (known keys: select, "),
    ('select = ["XYZ1"]\n', "[tool.initlint] select: unknown rule code or prefix 'XYZ1'"),
    ('select = "INI001"\n', "[tool.initlint] select: expected a list of strings, got \"INI001\""),
    ('force-exclude = "yes"\n', "[tool.initlint] force-exclude: expected true or false"),
    ('output-format = "xml"\n', "[tool.initlint] output-format: expected one of full, concise, json"),
    ('per-file-ignores = { "tests/*" = ["NOPE1"] }\n',
     "[tool.initlint] per-file-ignores.\"tests/*\": unknown rule code or prefix 'NOPE1'"),
    ("select = [\n", "invalid TOML"),
])
def test_bad_config_is_one_error_line_naming_file_and_key(in_tmp, capsys, body, message):
    path = config(in_tmp, body)
    write(in_tmp, "model.py", XAVIER)
    result = check(capsys, "model.py")
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"error: {path}: ")
    assert message in result.err


def test_bad_nested_config_found_while_walking_is_an_error(in_tmp, capsys):
    write(in_tmp, "model.py", XAVIER)
    config(in_tmp / "sub", "nonsense = true\n")
    write(in_tmp, "sub/m.py", XAVIER)
    result = check(capsys)
    assert result.code == 2
    assert "unknown key 'nonsense'" in result.err


# -- paths relative to the config file ----------------------------------------------------------------------


def test_per_file_ignores_are_relative_to_the_config_file(in_tmp, monkeypatch, capsys):
    config(in_tmp, 'per-file-ignores = { "tests/**" = ["INI001"], "legacy_*.py" = ["INI0"] }\n')
    write(in_tmp, "tests/unit/test_model.py", XAVIER)
    write(in_tmp, "pkg/legacy_net.py", XAVIER)
    write(in_tmp, "pkg/model.py", XAVIER)
    monkeypatch.chdir(in_tmp / "pkg")  # the globs stay anchored at the config's directory
    result = check(capsys, "..")
    assert codes(result) == [("model.py", "INI001"), ("model.py", "INI010"),
                             (os.path.join("..", "tests", "unit", "test_model.py"), "INI010")]


def test_per_file_ignores_beat_a_more_specific_select(in_tmp, capsys):
    config(in_tmp, 'select = ["INI001"]\nper-file-ignores = { "model.py" = ["INI"] }\n')
    write(in_tmp, "model.py", XAVIER)
    assert check(capsys, "model.py").code == 0


def test_exclude_and_extend_exclude_are_relative_to_the_config_file(in_tmp, monkeypatch, capsys):
    config(in_tmp, 'extend-exclude = ["pkg/generated", "*_pb2.py"]\n')
    for name in ("pkg/generated/a.py", "pkg/model_pb2.py", "pkg/model.py", "build/out.py", "sub/pkg/generated/b.py"):
        write(in_tmp, name, XAVIER)
    monkeypatch.chdir(in_tmp / "sub")
    result = run(capsys, "check", "--show-files", "..")
    assert result.out.splitlines() == [os.path.join("..", "pkg", "model.py"), os.path.join("pkg", "generated", "b.py")]


def test_exclude_replaces_the_defaults(in_tmp, capsys):
    config(in_tmp, 'exclude = ["vendor"]\n')
    for name in ("build/out.py", "vendor/v.py", "model.py"):
        write(in_tmp, name, XAVIER)
    assert run(capsys, "check", "--show-files").out.splitlines() == [os.path.join("build", "out.py"), "model.py"]


def test_include_and_extend_include(in_tmp, capsys):
    config(in_tmp, 'extend-include = ["*.pyw"]\n')
    for name in ("a.py", "b.pyi", "c.pyw", "d.txt"):
        write(in_tmp, name, XAVIER)
    assert run(capsys, "check", "--show-files").out.splitlines() == ["a.py", "b.pyi", "c.pyw"]
    config(in_tmp, 'include = ["*.pyw"]\n')
    assert run(capsys, "check", "--show-files").out.splitlines() == ["c.pyw"]


def test_excluded_files_named_explicitly_are_linted_unless_force_exclude(in_tmp, capsys):
    config(in_tmp, 'extend-exclude = ["generated"]\n')
    write(in_tmp, "generated/model.py", XAVIER)
    write(in_tmp, "build/model.py", XAVIER)
    assert check(capsys, "generated/model.py", "build/model.py").code == 1
    forced = check(capsys, "--force-exclude", "generated/model.py", "build/model.py")  # an ancestor matches
    assert (forced.code, forced.out, forced.err) == (0, "All checks passed!\n", "")
    config(in_tmp, 'extend-exclude = ["generated"]\nforce-exclude = true\n')
    assert check(capsys, "generated/model.py").code == 0
    assert check(capsys, "--no-force-exclude", "generated/model.py").code == 1
    assert check(capsys, "--force-exclude").code == 0  # no path (pre-commit's always_run): walks "."


def test_cli_exclude_is_relative_to_the_working_directory(in_tmp, monkeypatch, capsys):
    write(in_tmp, "pkg/gen/a.py", XAVIER)
    write(in_tmp, "pkg/b.py", XAVIER)
    monkeypatch.chdir(in_tmp / "pkg")
    assert run(capsys, "check", "--show-files", "--extend-exclude", "gen", ".").out.splitlines() == ["b.py"]


# -- command line over config -------------------------------------------------------------------------------


def test_cli_select_starts_afresh(in_tmp, capsys):
    config(in_tmp, 'select = ["INI010"]\nignore = ["INI001"]\n')
    write(in_tmp, "model.py", XAVIER)
    assert [c for _, c in codes(check(capsys, "--select", "INI001", "model.py"))] == ["INI001"]


def test_cli_extend_select_and_ignore_refine_the_config(in_tmp, capsys):
    config(in_tmp, 'ignore = ["INI0"]\n')
    write(in_tmp, "model.py", XAVIER)
    write(in_tmp, "default.py", DEFAULT_INIT)
    assert check(capsys, ".").code == 0
    # the command line's layer comes after the file's: its less specific prefix still wins
    assert [c for _, c in codes(check(capsys, "--extend-select", "INI", "model.py"))] == ["INI001", "INI010"]
    config(in_tmp, 'extend-select = ["INI005"]\n')
    assert codes(check(capsys, "--ignore", "INI010")) == [("default.py", "INI005"), ("model.py", "INI001")]


def test_output_format_from_config_and_cli(in_tmp, capsys):
    config(in_tmp, 'output-format = "pylint"\n')
    write(in_tmp, "model.py", XAVIER)
    assert run(capsys, "check", "model.py").out.splitlines()[0].startswith("model.py:4: [INI001] ")
    assert run(capsys, "check", "--output-format", "concise", "model.py").out.startswith("model.py:4:1: INI001 ")


def test_show_settings_names_where_each_value_came_from(in_tmp, capsys):
    path = config(in_tmp, 'ignore = ["INI010"]\nper-file-ignores = { "tests/*" = ["INI001"] }\n')
    write(in_tmp, "tests/t.py", XAVIER)
    result = run(capsys, "check", "--show-settings", "--ignore", "INI002", "--cache-dir", "cache", "tests/t.py")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[:2] == [f"Settings for: {os.path.join('tests', 't.py')}", f"Config file: {path}"]
    settings = {line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip() for line in lines if " = " in line}
    assert settings["ignore"] == f'["INI002", "INI010"]  # {path}, --ignore'
    assert settings["per-file-ignores"] == f'{{"tests/*" = ["INI001"]}}  # {path}'
    assert settings["select"] == "(the default rules)  # default"
    assert settings["cache-dir"] == f'"{in_tmp / "cache"}"  # --cache-dir'
    assert "(INI001 ignored in this file by per-file-ignores)" in result.out
    enabled = lines[-1].removeprefix("Enabled rules: ").split(", ")
    assert "INI001" not in enabled and "INI010" not in enabled and "INI002" not in enabled
    assert "INI003" in enabled and "INI005" not in enabled


def test_resolver_paths_are_relative_to_the_config(tmp_path):
    config(tmp_path, 'src = ["lib"]\ncache-dir = "var/cache"\nunsafe-fixes = true\n')
    project = Resolver(cwd=str(tmp_path / "elsewhere")).for_directory(str(tmp_path / "pkg"))
    assert project["src"] == (str(tmp_path / "lib"),)
    assert project["cache-dir"] == str(tmp_path / "var" / "cache")
    assert project.settings.unsafe_fixes is True
    assert project.settings.src == (str(tmp_path / "lib"),)


def test_resolver_reads_each_config_once(tmp_path, monkeypatch):
    config(tmp_path, 'ignore = ["INI010"]\n')
    import initlint.config

    reads = []
    real = initlint.config.read_table
    monkeypatch.setattr(initlint.config, "read_table", lambda path, **kw: (reads.append(path), real(path, **kw))[1])
    resolver = Resolver(cwd=str(tmp_path))
    for sub in ("a", "a/b", "c"):
        assert resolver.for_directory(str(tmp_path / sub)).config_path == str(tmp_path / "pyproject.toml")
    assert len(reads) == 1


def test_cli_override_errors_name_the_option(tmp_path):
    with pytest.raises(ConfigError, match=r"^--ignore: unknown rule code or prefix 'BAD9'"):
        Resolver({"ignore": ["BAD9"]}, cwd=str(tmp_path))


# -- settings and globs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("layers,code,default,expected", [
    ([RuleSelection(select=frozenset({"INI0"}), ignore=frozenset({"INI001"}))], "INI001", True, False),
    ([RuleSelection(select=frozenset({"INI001"}), ignore=frozenset({"INI0"}))], "INI001", True, True),  # more specific
    ([RuleSelection(select=frozenset({"INI00"}), ignore=frozenset({"INI00"}))], "INI002", True, False),  # tie: ignore
    ([RuleSelection(select=frozenset({"INI"}))], "INI005", False, False),  # opt-in needs its full code
    ([RuleSelection(extend_select=frozenset({"INI005"}))], "INI005", False, True),
    ([RuleSelection(ignore=frozenset({"INI0"})), RuleSelection(extend_select=frozenset({"INI"}))],
     "INI001", True, True),
    ([RuleSelection(select=frozenset({"INI001"})), RuleSelection(ignore=frozenset({"INI0"}))], "INI001", True, False),
    ([RuleSelection(select=frozenset({"INI002"})), RuleSelection()], "INI001", True, False),
    ([RuleSelection(ignore=frozenset({"INI001"})), RuleSelection(select=frozenset({"INI"}))], "INI001", True, True),
])
def test_rule_selection_layers(layers, code, default, expected):
    *inherited, cli = layers
    settings = Settings(cli.select, cli.extend_select, cli.ignore, tuple(inherited))
    assert settings.enabled(code, default) is expected


def test_for_path_applies_matching_per_file_ignores(tmp_path):
    settings = Settings(select=frozenset({"INI001"}), per_file_ignores=(
        PerFileIgnore("tests/**", GlobSet.of(["tests/**"], str(tmp_path)), frozenset({"INI0"})),))
    assert settings.for_path(str(tmp_path / "tests" / "a" / "t.py")).enabled("INI001", True) is False
    assert settings.for_path(str(tmp_path / "src" / "t.py")) is settings


@pytest.mark.parametrize("pattern,path,expected", [
    ("build", "/r/build", True),
    ("build", "/r/a/b/build", True),  # a base name matches at any depth
    ("build", "/r/build/x.py", False),  # but only the path itself, not what is below it
    ("*_pb2.py", "/r/deep/x_pb2.py", True),
    ("pkg/*.py", "/r/pkg/a.py", True),
    ("pkg/*.py", "/r/pkg/sub/a.py", True),  # `*` crosses separators, as in Ruff
    ("pkg/*.py", "/r/other/pkg/a.py", False),  # anchored at the base
    ("**/migrations/*", "/r/migrations/0001.py", True),
    ("**/migrations/*", "/r/app/migrations/0001.py", True),
    ("{tests,docs}/*", "/r/docs/conf.py", True),
    ("t[!e]st.py", "/r/tast.py", True),
    ("t[!e]st.py", "/r/test.py", False),
    ("/abs/x.py", "/abs/x.py", True),
    ("a+b(c).py", "/r/a+b(c).py", True),
])
def test_glob_semantics(pattern, path, expected):
    assert GlobSet.of([pattern], "/r").matches(path) is expected
