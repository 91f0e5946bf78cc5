"""The data every stage passes on: a finding, its location, its optional fix."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based row and a 1-based column counted in characters (code points), as Ruff reports them."""

    row: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace the text between `start` and `end` with `content`."""

    content: str
    start: Position
    end: Position


@dataclass(frozen=True)
class Fix:
    applicability: str  # "safe" or "unsafe"
    message: str
    edits: tuple[Edit, ...] = ()


@dataclass
class Finding:
    code: str
    name: str
    message: str
    path: str
    start: Position
    end: Position
    noqa_row: int = 0
    fix: Fix | None = None
    source_line: str = ""
    extra: dict = field(default_factory=dict)

    def sort_key(self) -> tuple:
        return (self.path, self.start.row, self.start.column, self.code, self.message)


@dataclass(frozen=True)
class FileError:
    """A file that could not be analysed: one line naming it and the reason."""

    path: str
    reason: str
    internal: bool = False  # a bug in initlint rather than in the input
