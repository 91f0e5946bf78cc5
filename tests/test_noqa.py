"""`# noqa` comments: suppression, INI100 (unused-noqa) and `--add-noqa`."""

from __future__ import annotations

import textwrap

import pytest
from test_cli import in_tmp, run, write  # noqa: F401 - in_tmp is a fixture

from initlint.engine import lint_source
from initlint.findings import Finding, Position
from initlint.fix import apply_edits
from initlint.noqa import add_noqa, directives, split_lines
from initlint.settings import Settings

HEAD = "import torch.nn as nn\n\nnet = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))\n"
XAVIER_CALL = "nn.init.xavier_uniform_(net[0].weight)"  # INI001 and INI010 at 4:1 after HEAD
TANH_HEAD = HEAD.replace("nn.ReLU()", "nn.Tanh()")  # INI010 only: Xavier fits tanh


def lint(text: str, **settings) -> list[tuple[int, str]]:
    findings, errors = lint_source("m.py", text, Settings(**{k: frozenset(v) for k, v in settings.items()}))
    assert not errors
    return [(f.start.row, f.code) for f in findings]


def finding(row: int, code: str) -> Finding:
    return Finding(code, "name", "m", "m.py", Position(row, 1), Position(row, 1), noqa_row=row)


# -- parsing ------------------------------------------------------------------------------------------------


def test_directives_are_read_from_comments_only():
    text = textwrap.dedent('''\
        a = 1  # noqa
        b = 2  # noqa: INI001,INI010
        c = 3  # NOQA:ini001 INI010, E501  trailing words
        d = "# noqa: INI001"
        e = 4  # type: ignore  # noqa:INI002
        f = """
        # noqa: INI003
        """
        ''')
    found = directives(text)
    assert sorted(found) == [1, 2, 3, 5]
    assert found[1].codes is None
    assert found[2].codes == ("INI001", "INI010")
    assert found[3].codes == ("INI001", "INI010", "E501")
    assert found[5].codes == ("INI002",)
    assert (found[5].start, found[5].comment_start) == (23, 7)
    assert found[2].suppresses("INI010") and not found[2].suppresses("INI002") and found[1].suppresses("INI002")


def test_split_lines_counts_as_python_does():
    assert split_lines("a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"]
    assert split_lines("a\x0cb\n") == ["a\x0cb\n"]  # a form feed is not a line break


# -- suppression (the engine) -------------------------------------------------------------------------------


def test_noqa_with_codes_suppresses_only_those():
    assert lint(HEAD + XAVIER_CALL + "\n") == [(4, "INI001"), (4, "INI010")]
    assert lint(HEAD + XAVIER_CALL + "  # noqa: INI001\n") == [(4, "INI010")]
    assert lint(HEAD + XAVIER_CALL + "  # noqa\n") == []
    assert lint("# initlint: noqa\n" + HEAD + XAVIER_CALL + "\n") == []


# -- INI100 -------------------------------------------------------------------------------------------------


def test_unused_noqa_is_opt_in():
    text = TANH_HEAD + XAVIER_CALL + "  # noqa: INI001\n"
    assert lint(text) == [(4, "INI010")]
    assert lint(text, extend_select={"INI100"}) == [(4, "INI010"), (4, "INI100")]


def test_a_code_is_used_when_its_rule_reports_on_the_line_even_if_not_selected():
    text = HEAD + XAVIER_CALL + "  # noqa: INI001\n"
    assert lint(text, select={"INI100"}) == []


@pytest.mark.parametrize("comment,message,fixed", [
    ("# noqa: INI001", "Unused `noqa` directive (unused: `INI001`)", ""),
    ("# noqa: INI001, INI010", "Unused `noqa` directive (unused: `INI001`)", "  # noqa: INI010"),
    ("# noqa: INI010 INI777", "Unused `noqa` directive (unknown: `INI777`)", "  # noqa: INI010"),
    ("# noqa: INI001,E501", "Unused `noqa` directive (unused: `INI001`)", "  # noqa: E501"),
    ("# noqa: INI001 because legacy", "Unused `noqa` directive (unused: `INI001`)", "  # because legacy"),
    ("# noqa: INI999", "Unused `noqa` directive (unused: `INI999`)", ""),
])
def test_unused_noqa_message_and_fix(comment, message, fixed):
    text = TANH_HEAD + XAVIER_CALL + "  " + comment + "\n"
    findings, _ = lint_source("m.py", text, Settings(select=frozenset({"INI100"})))
    assert [(f.code, f.message) for f in findings] == [("INI100", message)]
    unused = findings[0]
    column = len(XAVIER_CALL) + 3
    assert (unused.start, unused.end) == (Position(4, column), Position(4, column + len(comment.split(" because")[0])))
    assert unused.fix.applicability == "safe"
    assert apply_edits(text, list(unused.fix.edits)) == TANH_HEAD + XAVIER_CALL + fixed + "\n"


def test_unused_noqa_leaves_other_tools_codes_and_blanket_noqa_alone():
    text = TANH_HEAD + XAVIER_CALL + "  # noqa: E501\n" + "x = 1  # noqa\n" + "y = 2  # noqa: INI100\n"
    assert lint(text, select={"INI100"}) == []


def test_unused_noqa_columns_count_characters():
    text = TANH_HEAD + 's = "é"  # noqa: INI001\n' + XAVIER_CALL + "\n"
    findings, _ = lint_source("m.py", text, Settings(select=frozenset({"INI100"})))
    assert [(f.start, f.end) for f in findings] == [(Position(4, 10), Position(4, 24))]


def test_rule_command_documents_ini100(capsys):
    result = run(capsys, "rule", "INI100")
    assert result.out.startswith("# unused-noqa (INI100)\n\n## What it does\n")


def test_unused_noqa_through_the_cli(in_tmp, capsys):
    write(in_tmp, "m.py", TANH_HEAD + XAVIER_CALL + "  # noqa: INI001, INI010\n")
    assert run(capsys, "check", "m.py").code == 0
    result = run(capsys, "check", "--output-format", "concise", "--extend-select", "INI100", "m.py")
    column = len(XAVIER_CALL) + 3
    assert result.out.splitlines()[0] == f"m.py:4:{column}: INI100 [*] Unused `noqa` directive (unused: `INI001`)"


# -- --add-noqa ---------------------------------------------------------------------------------------------


def test_add_noqa_appends_and_merges():
    text = "a = 1\nb = 2  # noqa: E501\nc = 3  # a comment\nd = 4   \n"
    new, added, skipped = add_noqa(text, [finding(1, "INI010"), finding(1, "INI001"), finding(2, "INI001"),
                                          finding(3, "INI002"), finding(4, "INI003")])
    assert new == ("a = 1  # noqa: INI001, INI010\nb = 2  # noqa: E501, INI001\n"
                   "c = 3  # a comment  # noqa: INI002\nd = 4  # noqa: INI003\n")
    assert (added, skipped) == (4, 0)
    assert add_noqa(new, [finding(1, "INI001"), finding(2, "INI001")]) == (new, 0, 0)  # already there


def test_add_noqa_keeps_line_endings():
    new, added, _ = add_noqa("a = 1\r\nb = 2\r\nc = 3", [finding(2, "INI001"), finding(3, "INI002")])
    assert new == "a = 1\r\nb = 2  # noqa: INI001\r\nc = 3  # noqa: INI002"
    assert added == 2


def test_add_noqa_skips_lines_that_cannot_take_a_comment():
    text = 'x = f("""a\nb""")\ny = 1 + \\\n    2\nz = [\n    1,\n]\n'
    new, added, skipped = add_noqa(text, [finding(1, "INI001"), finding(3, "INI001"), finding(5, "INI001")])
    assert new == 'x = f("""a\nb""")\ny = 1 + \\\n    2\nz = [  # noqa: INI001\n    1,\n]\n'
    assert (added, skipped) == (1, 2)


def test_add_noqa_cli_writes_atomically_keeping_encoding_bom_and_crlf(in_tmp, capsys):
    latin = ("# -*- coding: latin-1 -*-\r\n" + HEAD.replace("\n", "\r\n") + 's = "\xe9"; ' + XAVIER_CALL + "\r\n")
    write(in_tmp, "latin.py", latin.encode("latin-1"))
    write(in_tmp, "bom.py", b"\xef\xbb\xbf" + (HEAD + XAVIER_CALL + "\n").encode())
    write(in_tmp, "clean.py", (TANH_HEAD + XAVIER_CALL + "\nnn.init.zeros_(net[0].bias)\n").encode())
    result = run(capsys, "check", "--add-noqa", ".")
    assert (result.code, result.out, result.err) == (0, "", "Added 2 noqa directives.\n")
    assert (in_tmp / "latin.py").read_bytes() == (latin[:-2] + "  # noqa: INI001, INI010\r\n").encode("latin-1")
    bom_text = HEAD + XAVIER_CALL + "  # noqa: INI001, INI010\n"
    assert (in_tmp / "bom.py").read_bytes() == b"\xef\xbb\xbf" + bom_text.encode()
    assert run(capsys, "check", ".").code == 0
    assert run(capsys, "check", "--add-noqa", ".").err == "Added 0 noqa directives.\n"
    assert sorted(p.name for p in in_tmp.iterdir() if p.name != ".initlint_cache") == ["bom.py", "clean.py", "latin.py"]  # no temporary files


def test_add_noqa_does_not_silence_syntax_errors(in_tmp, capsys):
    write(in_tmp, "bad.py", "import torch\nx = (\n")
    result = run(capsys, "check", "--add-noqa", "bad.py")
    assert result.err == "Added 0 noqa directives.\n"
    assert (in_tmp / "bad.py").read_text() == "import torch\nx = (\n"


def test_add_noqa_with_stdin_is_a_usage_error(in_tmp, capsys):
    assert run(capsys, "check", "--add-noqa", "-").code == 2
