"""Golden fixtures: every `fixtures/NAME.py` with a `NAME.expected` gives exactly the findings listed there.

`NAME.expected` holds one `LINE:COL CODE` a line. The codes compared are those listed, plus any named on a
`# select: CODE,CODE` line, so a fixture also asserts that nothing else of those rules fires.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from initlint.engine import lint_source
from initlint.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p for p in FIXTURES.glob("*.py") if p.with_suffix(".expected").exists())


def _expected(path: Path) -> tuple[set[str], set[tuple[int, int, str]]]:
    codes: set[str] = set()
    expected: set[tuple[int, int, str]] = set()
    for line in path.with_suffix(".expected").read_text().splitlines():
        line = line.strip()
        select = re.match(r"#\s*select:\s*(.*)", line)
        if select:
            codes |= {c.strip() for c in select.group(1).split(",") if c.strip()}
            continue
        if not line or line.startswith("#"):
            continue
        position, code = line.split()
        row, column = position.split(":")
        expected.add((int(row), int(column), code))
        codes.add(code)
    return codes, expected


def test_there_are_fixtures():
    assert len(CASES) >= 3


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_fixture_findings(path: Path):
    codes, expected = _expected(path)
    findings, errors = lint_source(str(path), path.read_text(encoding="utf-8"), Settings(select=frozenset(codes)))
    assert not errors, errors
    actual = {(f.start.row, f.start.column, f.code) for f in findings if f.code in codes}
    messages = "\n".join(f"{f.start.row}:{f.start.column} {f.code} {f.message}" for f in findings)
    assert actual == expected, f"missing {sorted(expected - actual)}, unexpected {sorted(actual - expected)}\n{messages}"
