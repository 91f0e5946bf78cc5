"""Output formats, statistics, colour, progress, stdin, and the README's rule table."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_cli import finding, in_tmp, run, write  # noqa: F401 - in_tmp is a fixture

import initlint.report
from initlint.findings import Edit, Fix, Position
from initlint.report import OUTPUT_FORMATS, Progress, render, use_color
from initlint.report.rules import markdown_table

REPO = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
XAVIER = """import torch.nn as nn

net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
nn.init.xavier_uniform_(net[0].weight)
"""  # INI001 and INI010 at 4:1-4:39


def two_files(root):
    write(root, "pkg/model.py", XAVIER)
    write(root, "bad.py", "import torch\nx = (\n")  # INI999 at 2:5


def test_every_format_renders_no_findings():
    for output_format in OUTPUT_FORMATS:
        assert isinstance(render([], output_format), str)
    with pytest.raises(ValueError):
        render([], "xml")


# -- json-lines, pylint, github -----------------------------------------------------------------------------


def test_json_lines_is_the_json_records_one_per_line(in_tmp, capsys):
    two_files(in_tmp)
    records = json.loads(run(capsys, "check", "--output-format", "json").out)
    lines = run(capsys, "check", "--output-format", "json-lines").out.splitlines()
    assert [json.loads(line) for line in lines] == records
    assert [r["code"] for r in records] == ["INI999", "INI001", "INI010"]


def test_pylint_format(in_tmp, capsys):
    two_files(in_tmp)
    result = run(capsys, "check", "--output-format", "pylint")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "bad.py:2: [INI999] SyntaxError: '(' was never closed"
    assert lines[1].startswith(f"{os.path.join('pkg', 'model.py')}:4: [INI001] Xavier init reaches")
    assert lines[2].startswith(f"{os.path.join('pkg', 'model.py')}:4: [INI010] ")
    assert len(lines) == 3  # no summary line in a machine format


def test_github_format(in_tmp, capsys):
    two_files(in_tmp)
    lines = run(capsys, "check", "--output-format", "github").out.splitlines()
    assert lines[0] == ("::warning file=bad.py,line=2,col=5,endLine=2,endColumn=5,"
                        "title=INI999 (syntax-error)::SyntaxError: '(' was never closed")
    assert lines[1].startswith(f"::warning file={os.path.join('pkg', 'model.py')},line=4,col=1,endLine=4,endColumn=39,"
                               "title=INI001 (xavier-before-relu)::Xavier init")
    assert len(lines) == 3


def test_github_format_escapes_workflow_command_syntax(in_tmp):
    rendered = render([finding(path="a,b:c.py", message="50% done\nnext: line", end=Position(2, 3))], "github")
    assert rendered == ("::warning file=a%2Cb%3Ac.py,line=1,col=1,endLine=2,endColumn=3,title=INI001 (name)"
                        "::50%25 done%0Anext: line\n")


# -- sarif --------------------------------------------------------------------------------------------------


def test_sarif_is_valid_and_carries_rule_metadata(in_tmp, capsys):
    two_files(in_tmp)
    document = json.loads(run(capsys, "check", "--output-format", "sarif").out)
    if SARIF_SCHEMA.exists():
        import jsonschema

        schema = json.loads(SARIF_SCHEMA.read_text())
        validator = jsonschema.validators.validator_for(schema)
        validator(schema, format_checker=validator.FORMAT_CHECKER).validate(document)
    assert document["version"] == "2.1.0"
    (sarif_run,) = document["runs"]
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["INI001", "INI010", "INI999"]
    ini001 = rules[0]
    assert ini001["name"] == "xavier-before-relu"
    assert ini001["help"]["markdown"].startswith("## What it does")
    assert ini001["helpUri"].endswith("ini001-xavier-before-relu")
    assert ini001["shortDescription"]["text"].startswith("Flags Xavier")
    results = sarif_run["results"]
    assert [(r["ruleId"], rules[r["ruleIndex"]]["id"]) for r in results] == [
        ("INI999", "INI999"), ("INI001", "INI001"), ("INI010", "INI010")]
    location = results[1]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pkg/model.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 1, "endLine": 4, "endColumn": 39}
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == in_tmp.as_uri() + "/"


def test_sarif_schema_is_read_from_the_shared_directory_not_copied():
    assert not list(REPO.rglob("sarif-schema*.json"))
    if not SARIF_SCHEMA.exists():
        pytest.skip(f"{SARIF_SCHEMA} is absent: the SARIF output is not validated")


def test_sarif_file_outside_the_working_directory_gets_an_absolute_uri(tmp_path, monkeypatch):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    document = json.loads(render([finding(path=str(tmp_path / "other dir" / "a.py"))], "sarif"))
    location = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": (tmp_path / "other dir" / "a.py").as_uri()}


# -- junit --------------------------------------------------------------------------------------------------


def test_junit_format(in_tmp, capsys):
    two_files(in_tmp)
    root = ET.fromstring(run(capsys, "check", "--output-format", "junit").out)
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "3", "3")
    suites = root.findall("testsuite")
    names = [(s.get("name"), s.get("tests")) for s in suites]
    assert names == [("bad.py", "1"), (os.path.join("pkg", "model.py"), "2")]
    case = suites[1].find("testcase")
    assert (case.get("name"), case.get("line"), case.get("column")) == ("org.initlint.INI001", "4", "1")
    assert case.find("failure").text.startswith("line 4, col 1, Xavier init")


def test_junit_without_findings_and_with_control_characters():
    assert ET.fromstring(render([], "junit")).find("testsuite/testcase").get("name") == "No findings"
    document = ET.fromstring(render([finding(message="bell\x07 here")], "junit"))
    assert document.find("testsuite/testcase/failure").get("message") == "bell\\x07 here"


# -- statistics ---------------------------------------------------------------------------------------------


def test_statistics(in_tmp, capsys):
    two_files(in_tmp)
    write(in_tmp, "second.py", XAVIER)
    result = run(capsys, "check", "--statistics")
    assert result.code == 1
    lines = result.out.splitlines()
    assert [line.split("\t")[:2] for line in lines[:3]] == [["2", "INI001"], ["2", "INI010"], ["1", "INI999"]]
    assert lines[0].split("\t")[2] in ("[*] xavier-before-relu", "[ ] xavier-before-relu")
    assert lines[3] == "Found 5 findings in 3 files."
    records = json.loads(run(capsys, "check", "--statistics", "--output-format", "json").out)
    assert records[2] == {"code": "INI999", "name": "syntax-error", "count": 1, "fixable": False}


def test_statistics_fixable_marker_follows_unsafe_fixes():
    findings = [finding(code="INI001", fix=Fix("unsafe", "m", (Edit("x", Position(1, 1), Position(1, 2)),)))]
    assert initlint.report.statistics(findings) == [{"code": "INI001", "name": "name", "count": 1, "fixable": False}]
    assert initlint.report.statistics(findings, unsafe_fixes=True)[0]["fixable"] is True


# -- colour and progress ------------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("env,tty,expected", [
    ({}, False, False), ({}, True, True), ({"NO_COLOR": "1"}, True, False), ({"FORCE_COLOR": "1"}, False, True),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, False), ({"TERM": "dumb"}, True, False),
])
def test_color_decision(monkeypatch, env, tty, expected):
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert use_color(FakeTerminal() if tty else io.StringIO()) is expected


def test_color_only_for_human_formats(in_tmp, capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    two_files(in_tmp)
    assert "\x1b[31m" in run(capsys, "check").out
    assert "\x1b[" in run(capsys, "check", "--output-format", "concise").out
    assert "\x1b[" not in run(capsys, "check", "--output-format", "json").out
    monkeypatch.delenv("FORCE_COLOR")
    assert "\x1b[" not in run(capsys, "check").out  # captured output is not a terminal


def test_progress_bar_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    terminal = FakeTerminal()
    progress = Progress(200, terminal)
    for done in range(1, 201):
        progress.advance(done)
    progress.close()
    frames = terminal.getvalue().split("\r")[1:]
    assert frames[-1] == "\x1b[K"
    assert frames[0] == f"[{' ' * Progress.WIDTH}] 1/200 files"
    assert frames[1].endswith("] 7/200 files")  # redrawn when the bar grows, not for every file
    assert frames[-2] == f"[{'#' * Progress.WIDTH}] 200/200 files"
    assert len(frames) == Progress.WIDTH + 2
    assert not Progress(Progress.MIN_FILES - 1, FakeTerminal()).enabled
    assert not Progress(200, io.StringIO()).enabled
    monkeypatch.setenv("CI", "true")
    assert not Progress(200, FakeTerminal()).enabled


def test_progress_bar_in_the_cli(in_tmp, capsys, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    for index in range(Progress.MIN_FILES):
        write(in_tmp, f"m{index}.py", "x = 1\n")
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert run(capsys, "check").code == 0
    assert f"] {Progress.MIN_FILES}/{Progress.MIN_FILES} files" in terminal.getvalue()
    terminal.truncate(0)
    run(capsys, "check", "--quiet")
    assert terminal.getvalue().strip("\x00") == ""


# -- stdin --------------------------------------------------------------------------------------------------


def feed_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_stdin_is_linted_under_its_given_name(in_tmp, capsys, monkeypatch):
    write(in_tmp, "pyproject.toml", '[tool.initlint]\nper-file-ignores = { "pkg/*" = ["INI010"] }\n')
    feed_stdin(monkeypatch, XAVIER.encode())
    result = run(capsys, "check", "--output-format", "concise", "--stdin-filename", "pkg/model.py", "-")
    assert result.out.splitlines() == [result.out.splitlines()[0], "Found 1 finding in 1 file.",
                                       "1 hidden fix can be enabled with the `--unsafe-fixes` option."]
    assert result.out.startswith(f"{os.path.join('pkg', 'model.py')}:4:1: INI001 ")
    feed_stdin(monkeypatch, XAVIER.encode())
    assert run(capsys, "check", "--output-format", "concise", "-").out.startswith("-:4:1: INI001 ")
    feed_stdin(monkeypatch, b"import torch\nx = (\n")
    assert run(capsys, "check", "--stdin-filename", "x.py").out.startswith("x.py:2:5: INI999")


def test_stdin_filename_respects_force_exclude(in_tmp, capsys, monkeypatch):
    feed_stdin(monkeypatch, XAVIER.encode())
    result = run(capsys, "check", "--force-exclude", "--stdin-filename", "build/model.py", "-")
    assert (result.code, result.out) == (0, "All checks passed!\n")


def test_stdin_cannot_be_mixed_with_paths(in_tmp, capsys):
    assert run(capsys, "check", "-", "a.py").code == 2
    assert run(capsys, "check", "--stdin-filename", "x.py", "a.py").code == 2


def test_exit_non_zero_on_fix_is_accepted(in_tmp, capsys):
    write(in_tmp, "ok.py", "x = 1\n")
    assert run(capsys, "check", "--exit-non-zero-on-fix", "ok.py").code == 0


# -- the README's rule table ---------------------------------------------------------------------------------


def test_readme_rule_table_matches_the_rules():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- rules:start -->\n(.*?)<!-- rules:end -->", readme, re.S)
    assert match, "README.md lacks the <!-- rules:start --> / <!-- rules:end --> markers"
    assert match.group(1) == markdown_table(), (
        "README.md's rule table is out of date: replace the lines between the markers with the output of "
        "'initlint rule --all --output-format markdown'")


def test_rule_all_markdown_prints_the_table(capsys):
    result = run(capsys, "rule", "--all", "--output-format", "markdown")
    assert result.out == markdown_table()
    assert result.out.splitlines()[0] == "| Code | Name | Summary | Default |"
    assert "| INI005 | `default-init-before-relu` |" in result.out and result.out.count("| off |") >= 2


def test_markdown_table_escapes_pipes(fake_rules_with_pipe):
    assert "a \\| b" in markdown_table()


@pytest.fixture
def fake_rules_with_pipe(monkeypatch):
    import initlint.rules
    from initlint.rules.base import Rule

    class Piped(Rule):
        """## What it does
        Checks a | b.
        """

        code = "INI001"
        name = "piped"

    monkeypatch.setattr(initlint.rules, "all_rules", lambda: (Piped,))
