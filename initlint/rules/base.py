"""The rule interface: a rule queries the file's semantic model and yields violations."""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterator

if TYPE_CHECKING:
    from initlint.model.semantic import FileModel

DOCS_URL = "https://github.com/initlint/initlint/blob/main/docs/rules.md#"


@dataclass
class Violation:
    """What a rule reports: the node to point at, the message, and optionally a fix."""

    node: ast.AST
    message: str
    fix: object | None = None  # filled by the autofix machinery


class Rule:
    """Base of every rule. Subclasses set the class attributes and implement `check`.

    `invalid` and `valid` are example sources (as Fixit's are): every invalid one must produce a finding of
    this rule and no valid one may; the tests run them, and the docs show them.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    default_enabled: ClassVar[bool] = True
    # Whether a finding located in another project file (reached through the linted one) is reported. A rule
    # whose verdict depends on every user of the code (dead code) reports only from that file's own analysis.
    reports_across_files: ClassVar[bool] = True
    invalid: ClassVar[tuple[str, ...]] = ()
    valid: ClassVar[tuple[str, ...]] = ()

    def check(self, model: "FileModel") -> Iterator[Violation]:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        doc = cls.doc()
        match = re.search(r"## What it does\s*\n(.+?)(?:\n\n|\n##|$)", doc, re.S)
        text = match.group(1) if match else doc.split("\n\n", 1)[0]
        return " ".join(text.split())

    @classmethod
    def url(cls) -> str:
        return DOCS_URL + f"{cls.code.lower()}-{cls.name}"
