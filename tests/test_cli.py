"""The `initlint` command line: exit statuses, error lines, and the full/concise/json reports."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

import initlint.cli
import initlint.runner
import initlint.files
import initlint.rules
from initlint import __version__
from initlint.cli import main
from initlint.findings import Edit, FileError, Finding, Fix, Position
from initlint.report import display_path, sort_findings
from initlint.report.json import finding_to_json
from initlint.report.text import caret_line, summary
from initlint.rules.base import Rule

# Every sample mentions torch: the engine skips files that cannot concern weight initialization.
UNCLOSED = "import torch\nx = (\n"  # INI999 at 2:5


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("error:")]


def run(capsys, *argv: str) -> Run:
    """Run the CLI in-process; no invocation may ever print a traceback."""
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "Traceback" not in captured.out
    return Run(code, captured.out, captured.err)


def write(root, relative: str, content: str | bytes):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def fake_rules(monkeypatch):
    """Two registered rules, whatever the rules package holds right now."""

    class WeightInit(Rule):
        """## What it does
        Flags a weight left at its default initialization.

        ## Why is this bad?
        Because.
        """

        code = "INI001"
        name = "default-weight-init"

        def check(self, model):
            return iter(())

    class OptIn(Rule):
        """## What it does
        An opt-in check.
        """

        code = "INI102"
        name = "opt-in-check"
        default_enabled = False

        def check(self, model):
            return iter(())

    monkeypatch.setattr(initlint.rules, "all_rules", lambda: (WeightInit, OptIn))
    return WeightInit, OptIn


def finding(path="a.py", row=1, column=1, code="INI001", message="m", end=None, line="x = 1", fix=None) -> Finding:
    start = Position(row, column)
    return Finding(code, "name", message, path, start, end or start, noqa_row=row, fix=fix, source_line=line)


# -- syntax errors, positions, encodings ------------------------------------------------------------------


def test_syntax_error_is_ini999_at_its_row_and_column(in_tmp, capsys):
    write(in_tmp, "bad.py", UNCLOSED)
    result = run(capsys, "check", "bad.py")
    assert result.code == 1
    assert result.out.splitlines()[0] == "bad.py:2:5: INI999 SyntaxError: '(' was never closed"
    assert result.err == ""


def test_columns_count_characters_not_bytes(in_tmp, capsys):
    write(in_tmp, "bad.py", 'import torch\ns = "ééé" + )\n')  # ")" is character 13, byte 16
    result = run(capsys, "check", "--output-format", "concise", "bad.py")
    assert result.out.splitlines()[0] == "bad.py:2:13: INI999 SyntaxError: unmatched ')'"


def test_latin1_cookie_file_decodes(in_tmp, capsys):
    write(in_tmp, "legacy.py", b'# -*- coding: latin-1 -*-\nimport torch\ns = "\xe9" + )\n')
    result = run(capsys, "check", "--output-format", "concise", "legacy.py")
    assert result.code == 1
    assert result.out.splitlines()[0] == "legacy.py:3:11: INI999 SyntaxError: unmatched ')'"
    assert result.err == ""


@pytest.mark.parametrize("content", [b"\xff\xfe\x00bad\nimport torch\n", b"import torch\nx = 1\n\xff\xfe\x00bad\n"])
def test_undecodable_bytes_are_one_error_line_and_exit_2(in_tmp, capsys, content):
    write(in_tmp, "binary.py", content)
    write(in_tmp, "good.py", UNCLOSED)
    result = run(capsys, "check", "--output-format", "concise", ".")
    assert result.code == 2
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith("error: binary.py: cannot decode")
    assert result.err.count("\n") == 1
    assert "good.py:2:5: INI999" in result.out  # the other file is still linted


def test_bom_does_not_shift_columns(in_tmp, capsys):
    write(in_tmp, "bom.py", b"\xef\xbb\xbfx = )  # torch\n")
    result = run(capsys, "check", "--output-format", "concise", "bom.py")
    assert result.out.splitlines()[0] == "bom.py:1:5: INI999 SyntaxError: unmatched ')'"


def test_empty_file_passes(in_tmp, capsys):
    write(in_tmp, "empty.py", b"")
    result = run(capsys, "check", "empty.py")
    assert (result.code, result.out, result.err) == (0, "All checks passed!\n", "")


def test_fifty_thousand_line_file_with_late_syntax_error(in_tmp, capsys):
    lines = ["import torch"] + [f"w{i} = torch.zeros({i % 7 + 1})" for i in range(49_999)] + ["x = ("]
    write(in_tmp, "big.py", "\n".join(lines) + "\n")
    result = run(capsys, "check", "--output-format", "concise", "big.py")
    assert result.code == 1
    assert result.out.splitlines()[0] == "big.py:50001:5: INI999 SyntaxError: '(' was never closed"
    assert result.err == ""


@pytest.mark.skipif(importlib.util.find_spec("initlint.model.semantic") is None,
                    reason="the semantic model (initlint.model.semantic) is not written yet")
def test_fifty_thousand_line_valid_file_is_linted_without_error(in_tmp, capsys):
    body = "\n".join(f"    layer{i} = torch.nn.Linear({i % 9 + 1}, 4)" for i in range(49_998))
    write(in_tmp, "big.py", f"import torch\nclass Big(torch.nn.Module):\n{body}\n")
    result = run(capsys, "check", "--output-format", "concise", "big.py")
    assert result.code in (0, 1)
    assert result.err == ""


# -- paths and errors -------------------------------------------------------------------------------------


def test_missing_path_exits_2_but_other_paths_are_linted(in_tmp, capsys):
    write(in_tmp, "bad.py", UNCLOSED)
    result = run(capsys, "check", "nope.py", "bad.py")
    assert result.code == 2
    assert result.error_lines == ["error: nope.py: No such file or directory"]
    assert result.err.count("\n") == 1
    assert "bad.py:2:5: INI999" in result.out


def test_directory_without_python_files_warns_and_exits_0(in_tmp, capsys):
    write(in_tmp, "docs/index.md", "# docs\n")
    result = run(capsys, "check", "docs")
    assert result.code == 0
    assert result.err == "warning: No Python files found under docs\n"
    assert result.out == "All checks passed!\n"


def test_quiet_drops_warnings_and_summary(in_tmp, capsys):
    write(in_tmp, "docs/index.md", "# docs\n")
    write(in_tmp, "bad.py", UNCLOSED)
    result = run(capsys, "check", "--quiet", "--output-format", "concise", "docs", "bad.py")
    assert result.code == 1
    assert result.err == ""
    assert result.out == "bad.py:2:5: INI999 SyntaxError: '(' was never closed\n"


def test_directory_named_like_a_module_is_walked_not_read(in_tmp, capsys):
    write(in_tmp, "pkg.py/inner.py", UNCLOSED)
    result = run(capsys, "check", "--output-format", "concise", "pkg.py")
    assert result.code == 1
    assert result.out.splitlines()[0].startswith(os.path.join("pkg.py", "inner.py") + ":2:5: INI999")
    assert result.err == ""


def test_permission_denied_is_one_error_line(in_tmp, capsys, monkeypatch):
    write(in_tmp, "locked.py", UNCLOSED)
    write(in_tmp, "bad.py", UNCLOSED)
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if os.path.basename(path) == "locked.py":
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(initlint.files, "open", guarded_open, raising=False)
    result = run(capsys, "check", "--output-format", "concise", ".")
    assert result.code == 2
    assert result.error_lines == ["error: locked.py: Permission denied"]
    assert "bad.py:2:5: INI999" in result.out


def test_internal_file_error_from_the_engine_exits_2(in_tmp, capsys, monkeypatch):
    write(in_tmp, "a.py", "import torch\n")
    monkeypatch.setattr(initlint.runner, "lint_text",
                        lambda path, text, settings, *rest: ([], [FileError(path, "internal error: boom", internal=True)]))
    result = run(capsys, "check", "a.py")
    assert result.code == 2
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith("error: a.py: internal error: boom")
    assert "bug in initlint" in result.error_lines[0]


def test_unexpected_exception_is_one_line_not_a_traceback(in_tmp, capsys, monkeypatch):
    def explode(*args):
        raise RuntimeError("walker broke\nbadly")

    monkeypatch.setattr(initlint.cli, "discover", explode)
    result = run(capsys, "check", ".")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert result.err.startswith("error: internal error: RuntimeError: walker broke badly")


def test_skipped_directories_and_explicitly_named_ignored_file(in_tmp, capsys):
    write(in_tmp, ".gitignore", "ignored.py\n")
    for relative in ("ignored.py", ".hidden/h.py", "pkg/__pycache__/c.py", "venv/lib/v.py", "linted.py"):
        write(in_tmp, relative, UNCLOSED)
    write(in_tmp, "venv/pyvenv.cfg", "home = /usr\n")
    result = run(capsys, "check", "--output-format", "concise")
    assert [line.split(":")[0] for line in result.out.splitlines()[:-1]] == ["linted.py"]
    result = run(capsys, "check", "--output-format", "concise", ".", "ignored.py")
    assert [line.split(":")[0] for line in result.out.splitlines()[:-1]] == ["ignored.py", "linted.py"]


def test_same_file_named_twice_is_linted_once(in_tmp, capsys):
    write(in_tmp, "a.py", UNCLOSED)
    result = run(capsys, "check", "a.py", "./a.py", ".")
    assert result.out.count("INI999") == 1


def test_file_outside_the_working_directory_is_printed_as_given(tmp_path, monkeypatch, capsys):
    write(tmp_path, "outside/bad.py", UNCLOSED)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    result = run(capsys, "check", "--output-format", "concise", "../outside/bad.py", str(tmp_path / "cwd"))
    assert result.out.splitlines()[0].startswith("../outside/bad.py:2:5: INI999")


def test_absolute_path_under_the_working_directory_is_printed_relative(in_tmp, capsys):
    write(in_tmp, "pkg/bad.py", UNCLOSED)
    result = run(capsys, "check", "--output-format", "concise", str(in_tmp / "pkg"))
    assert result.out.splitlines()[0].startswith(os.path.join("pkg", "bad.py") + ":2:5:")


# -- report formats ---------------------------------------------------------------------------------------


def test_full_format_shows_source_line_and_carets(in_tmp, capsys):
    write(in_tmp, "bad.py", UNCLOSED)
    result = run(capsys, "check", "bad.py")
    assert result.out == (
        "bad.py:2:5: INI999 SyntaxError: '(' was never closed\n"
        "x = (\n"
        "    ^\n"
        "\n"
        "Found 1 finding in 1 file.\n"
    )


def test_concise_format_is_one_line_per_finding(in_tmp, capsys):
    write(in_tmp, "b.py", UNCLOSED)
    write(in_tmp, "a.py", "import torch\ndef f(:\n    pass\n")
    result = run(capsys, "check", "--output-format", "concise")
    assert result.out == (
        "a.py:2:7: INI999 SyntaxError: invalid syntax\n"
        "b.py:2:5: INI999 SyntaxError: '(' was never closed\n"
        "Found 2 findings in 2 files.\n"
    )


def test_json_format_shape(in_tmp, capsys):
    write(in_tmp, "b.py", UNCLOSED)
    write(in_tmp, "a.py", "import torch\ndef f(:\n    pass\n")
    result = run(capsys, "check", "--output-format", "json")
    assert result.code == 1
    records = json.loads(result.out)
    assert [os.path.basename(r["filename"]) for r in records] == ["a.py", "b.py"]
    first = records[0]
    assert set(first) == {"code", "name", "message", "filename", "location", "end_location", "fix", "url", "noqa_row"}
    assert first["code"] == "INI999"
    assert first["name"] == "syntax-error"
    assert first["filename"] == str(in_tmp / "a.py")
    assert first["location"] == {"row": 2, "column": 7}
    assert set(first["end_location"]) == {"row", "column"}
    assert (first["fix"], first["url"], first["noqa_row"]) == (None, None, 2)


def test_json_format_with_no_findings_is_an_empty_array(in_tmp, capsys):
    write(in_tmp, "ok.py", "import torch\n")
    write(in_tmp, "docs/x.md", "")
    result = run(capsys, "check", "--output-format", "json", "docs")
    assert json.loads(result.out) == []
    assert result.err.startswith("warning:")  # diagnostics never go to stdout


def test_json_fix_and_rule_url(fake_rules):
    fix = Fix("safe", "Use kaiming_normal_", (Edit("kaiming_normal_", Position(3, 5), Position(3, 12)),))
    record = finding_to_json(finding(path="m.py", row=3, column=5, end=Position(3, 12), fix=fix))
    assert record["fix"] == {
        "applicability": "safe",
        "message": "Use kaiming_normal_",
        "edits": [{"content": "kaiming_normal_", "location": {"row": 3, "column": 5},
                   "end_location": {"row": 3, "column": 12}}],
    }
    assert record["url"] == fake_rules[0].url()
    assert record["filename"] == os.path.abspath("m.py")


def test_findings_sort_by_file_row_column_code():
    findings = [finding("b.py", 1, 1), finding("a.py", 2, 1, "INI002"), finding("a.py", 2, 1, "INI001"), finding("a.py", 1, 9)]
    ordered = [(f.path, f.start.row, f.start.column, f.code) for f in sort_findings(findings)]
    assert ordered == [("a.py", 1, 9, "INI001"), ("a.py", 2, 1, "INI001"), ("a.py", 2, 1, "INI002"), ("b.py", 1, 1, "INI001")]


def test_carets_cover_the_range():
    assert caret_line(finding(column=5, end=Position(1, 9), line="x = init(w)")) == "    ^^^^"


def test_carets_keep_tabs_so_they_align():
    assert caret_line(finding(column=3, end=Position(1, 6), line="\t\tfoo(x)")) == "\t\t^^^"


def test_carets_are_clipped_to_the_line_for_multiline_ranges():
    assert caret_line(finding(column=5, end=Position(4, 2), line="x = call(")) == "    ^^^^^"


def test_carets_count_wide_characters_twice():
    assert caret_line(finding(column=6, end=Position(1, 8), line='s = "漢字" + )')) == "     ^^^^"


def test_empty_range_gets_one_caret():
    assert caret_line(finding(column=4, line="abc")) == "   ^"


def test_summary_wording():
    assert summary([]) == "All checks passed!"
    assert summary([finding()]) == "Found 1 finding in 1 file."
    assert summary([finding("a.py"), finding("a.py", 2), finding("b.py")]) == "Found 3 findings in 2 files."
    assert summary([], unchecked=1) == "No findings. 1 path could not be checked."


def test_display_path(tmp_path):
    assert display_path(str(tmp_path / "pkg" / "a.py"), str(tmp_path)) == os.path.join("pkg", "a.py")
    assert display_path("/elsewhere/a.py", str(tmp_path)) == "/elsewhere/a.py"


# -- options ----------------------------------------------------------------------------------------------


def test_exit_zero_with_findings(in_tmp, capsys):
    write(in_tmp, "bad.py", UNCLOSED)
    result = run(capsys, "check", "--exit-zero", "bad.py")
    assert result.code == 0
    assert "INI999" in result.out


def test_exit_zero_does_not_hide_errors(in_tmp, capsys):
    result = run(capsys, "check", "--exit-zero", "missing.py")
    assert result.code == 2


@pytest.mark.parametrize("option", ["--select", "--extend-select", "--ignore"])
def test_unknown_code_is_a_usage_error(in_tmp, capsys, option):
    write(in_tmp, "bad.py", UNCLOSED)
    result = run(capsys, "check", option, "INI999,XYZ123", "bad.py")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"error: {option}: unknown rule code or prefix 'XYZ123'")
    assert result.out == ""


@pytest.mark.parametrize("selectors", ["INI", "INI9", "ini999", "ALL", "INI001,INI102", " INI00 , "])
def test_known_codes_and_prefixes_are_accepted(in_tmp, capsys, fake_rules, selectors):
    write(in_tmp, "ok.py", "x = 1\n")
    assert run(capsys, "check", "--select", selectors, "ok.py").code == 0


def test_selected_codes_reach_the_engine(in_tmp, capsys, fake_rules, monkeypatch):
    write(in_tmp, "ok.py", "x = 1\n")
    seen = []
    monkeypatch.setattr(initlint.runner, "lint_text", lambda path, text, settings, *rest: (seen.append(settings), ([], []))[1])
    run(capsys, "check", "--select", "ini0", "--extend-select", "INI102", "--ignore", "INI001", "ok.py")
    assert seen[0].select == frozenset({"INI0"})
    assert seen[0].extend_select == frozenset({"INI102"})
    assert seen[0].ignore == frozenset({"INI001"})
    run(capsys, "check", "ok.py")
    assert seen[1].select is None


def test_bad_output_format_is_a_usage_error(in_tmp, capsys):
    result = run(capsys, "check", "--output-format", "xml")
    assert result.code == 2
    assert "invalid choice" in result.err


def test_no_command_is_a_usage_error(capsys):
    result = run(capsys)
    assert result.code == 2
    assert "error:" in result.err


def test_version(capsys):
    result = run(capsys, "--version")
    assert (result.code, result.out) == (0, f"initlint {__version__}\n")


# -- initlint rule ----------------------------------------------------------------------------------------


def test_rule_all_lists_code_name_and_summary(capsys, fake_rules):
    result = run(capsys, "rule", "--all")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split(None, 2) == ["INI001", "default-weight-init", "Flags a weight left at its default initialization."]
    assert lines[-1].split(None, 1)[0] == "INI999"


def test_rule_all_json(capsys, fake_rules):
    records = json.loads(run(capsys, "rule", "--all", "--output-format", "json").out)
    assert [r["code"] for r in records] == ["INI001", "INI102", "INI999"]
    assert {"code", "name", "summary", "explanation", "url", "default_enabled"} <= set(records[0])
    assert records[1]["default_enabled"] is False


@pytest.mark.parametrize("query", ["INI001", "ini001", "default-weight-init"])
def test_rule_prints_its_documentation(capsys, fake_rules, query):
    result = run(capsys, "rule", query)
    assert result.code == 0
    assert result.out.startswith("# default-weight-init (INI001)\n\n## What it does\nFlags a weight")


def test_rule_syntax_error_is_documented(capsys):
    assert run(capsys, "rule", "INI999").out.startswith("# syntax-error (INI999)")


def test_unknown_rule_exits_2(capsys):
    result = run(capsys, "rule", "NOPE42")
    assert result.code == 2
    assert result.err == "error: unknown rule 'NOPE42' (see 'initlint rule --all')\n"


def test_rule_without_argument_exits_2(capsys):
    assert run(capsys, "rule").code == 2


# -- as a separate process --------------------------------------------------------------------------------


def test_subprocess_end_to_end(tmp_path):
    write(tmp_path, "bad.py", 'import torch\ns = "ééé" + )\n')
    write(tmp_path, "binary.py", b"import torch\n\xff\xfe\x00bad\n")
    write(tmp_path, ".venv/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, ".venv/lib/skip.py", UNCLOSED)
    completed = subprocess.run(
        [sys.executable, "-m", "initlint", "check", "--output-format", "concise", ".", "missing.py"],
        cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", timeout=120,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stdout.splitlines()[0] == "bad.py:2:13: INI999 SyntaxError: unmatched ')'"
    errors = sorted(completed.stderr.splitlines())
    assert len(errors) == 2
    assert errors[0].startswith("error: binary.py: cannot decode: ")
    assert errors[1] == "error: missing.py: No such file or directory"
