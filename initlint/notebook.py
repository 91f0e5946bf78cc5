"""Jupyter notebooks: the code cells analysed as one program in cell order, locations mapped back to cells.

IPython magics and shell escapes are masked (a line `%matplotlib inline` becomes `pass`, a cell magic other than
the Python-running ones masks its whole cell), so they are neither a crash nor a finding. A cell that does not
parse is reported (INI999 at its cell and line) and left out of the program; the others are still analysed.
Fixes rewrite only the `source` of the cells they change, found by position in the raw JSON, so everything
else in the file stays byte-identical: indentation, key order, outputs, execution counts, metadata.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field, replace

from initlint.engine import SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME, lint_source
from initlint.findings import Edit, Finding, Fix, Position
from initlint.settings import Settings

# Cell magics whose body is still Python.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "pypy"}
_MAGIC_LINE = re.compile(r"^(\s*)(%|!|\?)")
_HELP_SUFFIX = re.compile(r"^\s*[\w.]+\?\??\s*$")


class NotebookError(Exception):
    """Not a notebook we can read (bad JSON, not nbformat 4)."""


@dataclass
class Cell:
    number: int  # 1-based among all cells, as Jupyter and Ruff count them
    source: str
    first_row: int = 0  # row of the cell's first line in the program
    rows: int = 0
    included: bool = True


@dataclass
class Program:
    text: str
    cells: list[Cell] = field(default_factory=list)
    broken: list[Finding] = field(default_factory=list)

    def locate(self, row: int) -> tuple[Cell, int] | None:
        for cell in self.cells:
            if cell.included and cell.first_row <= row < cell.first_row + cell.rows:
                return cell, row - cell.first_row + 1
        return None


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def read(text: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NotebookError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("not an nbformat 4 notebook (no `cells` list)")
    if data.get("nbformat", 4) < 4:
        raise NotebookError(f"nbformat {data.get('nbformat')} is not supported (only 4)")
    return data


def mask_magics(source: str) -> str:
    """Replace IPython syntax with `pass` lines of the same count, so rows stay aligned."""
    lines = source.split("\n")
    if lines and lines[0].startswith("%%"):
        magic = lines[0][2:].split(None, 1)[0] if lines[0][2:].strip() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return "\n".join("" for _ in lines)
        lines[0] = "pass"
    out = []
    for line in lines:
        match = _MAGIC_LINE.match(line)
        if match or _HELP_SUFFIX.match(line):
            indent = match.group(1) if match else line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}pass")
        else:
            out.append(line)
    return "\n".join(out)


CELL_END = "# initlint: end of cell"  # a comment line between cells: fixes never touch it, so it splits them back


def build_program(path: str, data: dict) -> Program:
    program_lines: list[str] = []
    program = Program("")
    for number, cell in enumerate(data["cells"], start=1):
        if cell.get("cell_type") != "code":
            continue
        source = _cell_source(cell)
        masked = mask_magics(source)
        entry = Cell(number, source, first_row=len(program_lines) + 1)
        lines = masked.split("\n")
        entry.rows = len(lines)
        try:
            ast.parse(masked)
        except SyntaxError as exc:
            entry.included = False
            row = exc.lineno or 1
            position = Position(row, max(exc.offset or 1, 1))
            source_lines = source.split("\n")
            program.broken.append(Finding(SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME, f"SyntaxError: {exc.msg}", path, position,
                                          position, row, source_line=source_lines[row - 1] if row <= len(source_lines) else "",
                                          extra={"cell": number}))
            lines = [""] * len(lines)  # keep rows aligned; the cell is left out
        program.cells.append(entry)
        program_lines += lines + [CELL_END]
    program.text = "\n".join(program_lines) + "\n"
    return program


def lint_notebook(path: str, text: str, settings: Settings | None = None, project=None):
    """Findings for a notebook, each with `extra['cell']` and its row counted within that cell. With a project,
    what the notebook imports from the project's files is read there; a finding located in such a file is
    reported at the notebook's use site (a notebook's own cell is where its author can act)."""
    settings = settings or Settings()
    data = read(text)
    program = build_program(path, data)
    findings, errors = lint_source(path, program.text, settings, project=project)
    findings = [f for f in (f if f.path == path else _at_use_site(path, f) for f in findings) if f is not None]
    mapped = [m for m in (_to_cell(program, f) for f in findings) if m is not None]
    if settings.enabled(SYNTAX_ERROR_CODE, True):
        mapped += program.broken
    mapped.sort(key=lambda f: (f.extra.get("cell", 0), f.start.row, f.start.column, f.code))
    return mapped, errors


def _at_use_site(path: str, finding: Finding) -> Finding | None:
    from initlint.routing import use_site

    return use_site(finding, path)


def _to_cell(program: Program, finding: Finding) -> Finding | None:
    located = program.locate(finding.start.row)
    if located is None:
        return None
    cell, row = located
    shift = cell.first_row - 1
    end_row = max(finding.end.row - shift, row)
    fix = None
    if finding.fix is not None:
        # fixes stay in program coordinates for fix_notebook_text; cell coordinates are for display
        fix = finding.fix
    message = _LINE_REFERENCE.sub(lambda match: _cell_line(program, int(match.group(1))), finding.message)
    return replace(finding, message=message, start=Position(row, finding.start.column),
                   end=Position(end_row, finding.end.column), noqa_row=row, fix=fix,
                   extra={**finding.extra, "cell": cell.number, "program_row": finding.start.row})


_LINE_REFERENCE = re.compile(r"\bline (\d+)\b")


def _cell_line(program: Program, row: int) -> str:
    """A message's `line N` of the program, as `cell C, line L`."""
    located = program.locate(row)
    return f"cell {located[0].number}, line {located[1]}" if located else f"line {row}"


# ------------------------------------------------------------------------------------------- fixes

def fix_notebook_text(path: str, text: str, settings: Settings | None = None, unsafe: bool = False):
    """Fix the code cells; returns (new_text, fixed_findings, remaining_findings). Only changed cells'
    `source` values are rewritten in the raw JSON text."""
    from initlint.fix import fix_text

    settings = settings or Settings()
    data = read(text)
    program = build_program(path, data)
    outcome = fix_text(path, program.text, settings, unsafe)
    if outcome.text == program.text:
        return text, [], lint_notebook(path, text, settings)[0]
    new_cells = _split_cells(outcome.text)
    old_cells = _split_cells(program.text)
    if len(new_cells) != len(program.cells) or len(old_cells) != len(program.cells):
        return text, [], lint_notebook(path, text, settings)[0]  # a fix crossed a cell boundary: keep the file
    replacements: dict[int, str] = {}
    for cell, old, new in zip(program.cells, old_cells, new_cells):
        if cell.included and old != new:
            replacements[cell.number] = _unmask(cell.source, old, new)
    new_text = _replace_sources(text, data, replacements)
    return new_text, outcome.fixed, lint_notebook(path, new_text, settings)[0]


def _split_cells(program_text: str) -> list[str]:
    cells, current = [], []
    for line in program_text.split("\n"):
        if line == CELL_END:
            cells.append("\n".join(current))
            current = []
        else:
            current.append(line)
    return cells


def _unmask(original: str, masked_old: str, masked_new: str) -> str:
    """Put the masked magic lines back into the fixed cell text."""
    original_lines = original.split("\n")
    old_lines, new_lines = masked_old.split("\n"), masked_new.split("\n")
    restore = {line_no: original_lines[line_no] for line_no, line in enumerate(old_lines)
               if line_no < len(original_lines) and line != original_lines[line_no]}
    if not restore:
        return masked_new
    import difflib

    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    result = list(new_lines)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                if i1 + k in restore:
                    result[j1 + k] = restore[i1 + k]
    return "\n".join(result)


def _replace_sources(text: str, data: dict, replacements: dict[int, str]) -> str:
    if not replacements:
        return text
    spans = _source_spans(text)
    pieces = []
    last = 0
    for number, (start, end, indent) in enumerate(spans, start=1):
        if number not in replacements:
            continue
        pieces.append(text[last:start])
        original_value = json.loads(text[start:end])
        pieces.append(_dump_source(replacements[number], indent, as_list=isinstance(original_value, list)))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _dump_source(source: str, indent: tuple[str, str] | None, as_list: bool) -> str:
    """The cell source as JSON in the file's own style: a string, a one-line list, or one line per item."""
    if not as_list:
        return json.dumps(source, ensure_ascii=False)
    lines = source.splitlines(keepends=True)
    if not lines:
        return "[]"
    if indent is None:
        return json.dumps(lines, ensure_ascii=False)
    item_indent, closing_indent = indent
    inner = ",\n".join(item_indent + json.dumps(line, ensure_ascii=False) for line in lines)
    return "[\n" + inner + "\n" + closing_indent + "]"


def _source_spans(text: str) -> list[tuple[int, int, tuple[str, str] | None]]:
    """For each cell (in order), the character span of its `source` value in the raw JSON and the indentation
    of the list's items. A small scanner that tracks nesting: root { "cells": [ {cell} ] }."""
    spans: list[tuple[int, int, tuple[str, str] | None]] = []
    decoder = json.JSONDecoder()
    depth = 0
    index = 0
    in_cells = False
    cells_depth = None
    length = len(text)
    while index < length:
        char = text[index]
        if char == '"':
            key, end = json.decoder.scanstring(text, index + 1)
            after = end
            while after < length and text[after] in " \t\r\n":
                after += 1
            if after < length and text[after] == ":":
                after += 1
                while after < length and text[after] in " \t\r\n":
                    after += 1
                if depth == 1 and key == "cells":
                    in_cells = True
                    cells_depth = 2
                elif in_cells and depth == (cells_depth or 0) + 1 and key == "source":
                    _value, value_end = decoder.raw_decode(text, after)
                    spans.append((after, value_end, _item_indent(text, after, value_end)))
                    index = value_end
                    continue
            index = end
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if in_cells and cells_depth is not None and depth < cells_depth:
                in_cells = False
        index += 1
    return spans


def _item_indent(text: str, start: int, end: int) -> tuple[str, str] | None:
    """The whitespace before the items of a pretty-printed list, and before its closing bracket."""
    if text[start] != "[":
        return None
    newline = text.find("\n", start, end)
    if newline < 0:
        return None
    cursor = newline + 1
    while cursor < end and text[cursor] in " \t":
        cursor += 1
    closing_line = text.rfind("\n", start, end - 1)
    closing = text[closing_line + 1: end - 1] if closing_line >= 0 else ""
    return text[newline + 1: cursor], closing if not closing.strip() else ""


def display_location(finding: Finding) -> str:
    cell = finding.extra.get("cell")
    if cell is None:
        return f"{finding.start.row}:{finding.start.column}"
    return f"cell {cell}:{finding.start.row}:{finding.start.column}"


__all__ = ["lint_notebook", "fix_notebook_text", "NotebookError", "display_location", "Edit", "Fix"]


def cell_diffs(name: str, old_text: str, new_text: str) -> str:
    """Unified diffs of the code cells that differ, one per cell (`a/nb.ipynb:cell 3`), as Ruff shows them."""
    import difflib

    old_cells, new_cells = read(old_text)["cells"], read(new_text)["cells"]
    out = []
    for number, (old, new) in enumerate(zip(old_cells, new_cells), start=1):
        before, after = _cell_source(old), _cell_source(new)
        if before != after:
            # a cell's last line has no newline: end every diff line with one, so hunks never run together
            out += [line if line.endswith("\n") else line + "\n" for line in difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True),
                fromfile=f"a/{name}:cell {number}", tofile=f"b/{name}:cell {number}")]
    return "".join(out)
