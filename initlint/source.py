"""Reading source files: decoding as Python does, and mapping ast byte offsets to character columns."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass
from functools import cached_property

from initlint.findings import Position

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class DecodeError(Exception):
    """The bytes are not valid text in the encoding the file declares."""


def decode_source(data: bytes) -> tuple[str, str, bool]:
    """Decode Python source bytes; return (text, encoding, had_bom).

    Follows PEP 263 (a coding cookie on one of the first two lines) and PEP 3120 (UTF-8 default),
    and keeps line endings untouched so fixes can write them back.
    """
    had_bom = data.startswith(codecs.BOM_UTF8)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise DecodeError(str(exc)) from None
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    body = data[len(codecs.BOM_UTF8):] if had_bom else data
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            line = body[: exc.start].count(b"\n") + 1
            raise DecodeError(f"invalid {encoding} bytes at line {line} (byte offset {exc.start})") from None
        raise DecodeError(f"unknown encoding {encoding!r}") from None
    return text, encoding, had_bom


@dataclass
class SourceFile:
    """One file's text, with the line table positions are computed from (split on first use: most files
    analysed have no finding)."""

    path: str
    text: str

    @cached_property
    def lines(self) -> list[str]:
        # Only the line breaks Python itself knows: str.splitlines() would also split at form feeds.
        text = self.text
        lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)
        if lines and lines[-1] == "":
            lines.pop()
        return lines

    def line(self, row: int) -> str:
        return self.lines[row - 1] if 0 < row <= len(self.lines) else ""

    def position(self, lineno: int, byte_col: int) -> Position:
        """Convert ast's 1-based line and 0-based UTF-8 byte column to a 1-based character position."""
        text = self.line(lineno)
        if text.isascii():
            return Position(lineno, byte_col + 1)
        prefix = text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")
        return Position(lineno, len(prefix) + 1)

    def node_range(self, node) -> tuple[Position, Position]:
        start = self.position(node.lineno, node.col_offset)
        end_line = getattr(node, "end_lineno", None) or node.lineno
        end_col = getattr(node, "end_col_offset", None)
        end = self.position(end_line, end_col) if end_col is not None else start
        return start, end
