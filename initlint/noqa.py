"""`# noqa` comments: finding them (in comments only, as Ruff does) and writing them (`--add-noqa`).

`# noqa` silences every finding on its line, `# noqa: INI001,INI010` (commas and/or spaces) only those
codes. (The engine applies them; `# initlint: noqa` anywhere silences the whole file.)
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

from initlint.findings import Finding

CODE_PREFIX = "INI"  # codes of other tools (E501, F401) in a noqa comment are left to them
UNUSED_NOQA_CODE = "INI100"
DIRECTIVE_RE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(frozen=True)
class Directive:
    """One `# noqa` comment; columns are 0-based character offsets in its line."""

    row: int
    start: int  # its "#"
    end: int  # just after its last code
    codes: tuple[str, ...] | None  # None: a blanket `# noqa`
    comment_start: int  # the "#" of the comment it is part of

    def suppresses(self, code: str) -> bool:
        return self.codes is None or code in self.codes


def directives(text: str) -> dict[int, Directive]:
    """The first noqa directive of each row that has one."""
    if "noqa" not in text and "NOQA" not in text.upper():
        return {}
    found: dict[int, Directive] = {}
    for row, column, comment in _comments(text):
        match = DIRECTIVE_RE.search(comment)
        if match and row not in found:
            codes = match.group("codes")
            parsed = None if codes is None else tuple(code.upper() for code in re.split(r"[\s,]+", codes))
            found[row] = Directive(row, column + match.start(), column + match.end(), parsed, column)
    return found


def render_directive(codes: Iterable[str]) -> str:
    return "# noqa: " + ", ".join(codes)


def add_noqa(text: str, findings: Iterable[Finding]) -> tuple[str, int, int]:
    """`text` with `# noqa: CODE` on the line of every finding, merged into the line's noqa comment if it has one.

    Returns the new text, the number of lines changed, and the number of lines that could not take a comment
    (their end lies inside a multi-line string or a backslash continuation). Line endings are kept.
    """
    wanted: dict[int, set[str]] = {}
    for finding in findings:
        wanted.setdefault(finding.noqa_row, set()).add(finding.code)
    if not wanted:
        return text, 0, 0
    lines = split_lines(text)
    existing = directives(text)
    room = _rows_with_room(text)
    added = skipped = 0
    for row, codes in sorted(wanted.items()):
        if row not in room or row > len(lines):
            skipped += 1
            continue
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        directive = existing.get(row)
        if directive is not None and all(directive.suppresses(code) for code in codes):
            continue
        if directive is None:
            body = body.rstrip(" \t") + "  " + render_directive(sorted(codes))
        else:
            merged = [*directive.codes, *sorted(codes - set(directive.codes))]
            body = body[:directive.start] + render_directive(merged) + body[directive.end:]
        lines[row - 1] = body + ending
        added += 1
    return "".join(lines), added, skipped


def split_lines(text: str) -> list[str]:
    """The lines as Python counts them (ended by LF, CRLF or CR), each with its ending."""
    return _LINE_RE.findall(text)


def _comments(text: str) -> list[tuple[int, int, str]]:
    """(row, column, text) of every comment; a file that does not tokenize is searched line by line."""
    try:
        return [(token.start[0], token.start[1], token.string) for token in _tokens(text)
                if token.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return [(row, line.index("#"), line[line.index("#"):].rstrip("\r\n"))
                for row, line in enumerate(split_lines(text), 1) if "#" in line]


def _rows_with_room(text: str) -> set[int]:
    """Rows whose end a comment can follow: those ending a statement, a bracketed line, or a comment."""
    try:
        return {token.start[0] for token in _tokens(text)
                if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT)}
    except (tokenize.TokenError, SyntaxError):
        return set()


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(text, newline=None).readline))
