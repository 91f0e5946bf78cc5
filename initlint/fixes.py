"""Building fixes: text edits located with the AST's exact positions, so everything outside an edit stays
byte-identical (comments, formatting, line endings). Rules describe *what* to change through FixBuilder;
`initlint.fix` applies the edits, re-parses the result (with both `ast` and libcst) and writes atomically.
"""

from __future__ import annotations

import ast

from initlint.findings import Edit, Fix, Position
from initlint.model.semantic import FileModel
from initlint.model.syntax import walk

_FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)

SAFE = "safe"
UNSAFE = "unsafe"


class FixBuilder:
    """Edits for one file, addressed by AST nodes. With project-wide analysis the nodes may belong to another
    project file (an init function in `utils/init.py`): the builder then spells and places its edits in that
    file, and a fix whose edits would span two files is not offered."""

    def __init__(self, model: FileModel) -> None:
        self.root = model
        self.model = model
        self.source = model.source
        self._bound = False
        self._conflict = False

    def _bind(self, node: ast.AST | None) -> None:
        program = self.root.program
        if node is None or program is None or len(program.homes) < 2:
            return
        home = program.home_of(node)
        if home is not self.model:
            self._conflict = self._conflict or self._bound
            self.model, self.source = home, home.source
        self._bound = True

    # ---------------------------------------------------------------------------------- text

    def segment(self, node: ast.AST) -> str:
        self._bind(node)
        start, end = self.source.node_range(node)
        lines = self.source.lines
        if start.row == end.row:
            return lines[start.row - 1][start.column - 1:end.column - 1]
        parts = [lines[start.row - 1][start.column - 1:]]
        parts += lines[start.row:end.row - 1]
        parts.append(lines[end.row - 1][:end.column - 1])
        return "\n".join(parts)

    def replace(self, node: ast.AST, text: str) -> Edit:
        self._bind(node)
        start, end = self.source.node_range(node)
        return Edit(text, start, end)

    def newline(self) -> str:
        text = self.source.text
        index = text.find("\n")
        return "\r\n" if index > 0 and text[index - 1] == "\r" else "\n"

    def indentation(self, stmt: ast.stmt) -> str | None:
        """The statement's indentation, or None when it does not start its own line (`if x: f()`)."""
        self._bind(stmt)
        line = self.source.line(stmt.lineno)
        indent = line[: len(line) - len(line.lstrip())]
        start = self.source.position(stmt.lineno, stmt.col_offset)
        return indent if start.column - 1 == len(indent) else None

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        self._bind(node)
        current = node
        while current is not None and not isinstance(current, ast.stmt):
            current = self.model.parents.get(current)
        return current

    def insert_after(self, stmt: ast.stmt, line: str) -> Edit | None:
        """A new line after `stmt`, at the same indentation."""
        indent = self.indentation(stmt)
        if indent is None or self._ends_mid_line(stmt):
            return None
        end_row = stmt.end_lineno or stmt.lineno
        end_column = len(self.source.line(end_row)) + 1
        position = Position(end_row, end_column)
        return Edit(self.newline() + indent + line, position, position)

    def wrap_in_if(self, stmt: ast.stmt, condition: str) -> Edit | None:
        """`stmt` -> `if condition:` + `stmt` indented one level (its own lines only)."""
        indent = self.indentation(stmt)
        if indent is None or self._ends_mid_line(stmt):
            return None
        step = "\t" if indent.startswith("\t") else "    "
        first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
        body = [self.source.line(row) for row in range(first, last + 1)]
        newline = self.newline()
        text = f"{indent}if {condition}:" + newline + newline.join(step + line if line.strip() else line for line in body)
        return Edit(text, Position(first, 1), Position(last, len(self.source.line(last)) + 1))

    def _ends_mid_line(self, stmt: ast.stmt) -> bool:
        end_row = stmt.end_lineno or stmt.lineno
        rest = self.source.line(end_row)[self.source.position(end_row, stmt.end_col_offset or 0).column - 1:]
        return bool(rest.strip()) and not rest.strip().startswith("#")

    # ------------------------------------------------------------------------------ nn.init

    def init_function(self, name: str, like: ast.expr | None = None) -> tuple[str, list[Edit]]:
        """How to spell `torch.nn.init.<name>` here: the prefix the call `like` uses, an existing alias of
        `nn.init`/`nn`/`torch`, or a new `from torch.nn import init` import."""
        self._bind(like)
        if isinstance(like, ast.Attribute):
            qualname = self.model.names.qualname(like.value)
            if qualname in ("torch.nn.init", "transformers.initialization"):
                return f"{self.segment(like.value)}.{name}", []
        aliases = self.model.names.aliases
        for local, qualname in aliases.items():
            if qualname == "torch.nn.init":
                return f"{local}.{name}", []
        for local, qualname in aliases.items():
            if qualname == "torch.nn":
                return f"{local}.init.{name}", []
        for local, qualname in aliases.items():
            if qualname == "torch":
                return f"{local}.nn.init.{name}", []
        if isinstance(like, ast.Name) and (self.model.names.qualname(like) or "").startswith("torch.nn.init."):
            return self._import_name(name)
        return self._import_module(name)

    def _import_name(self, name: str) -> tuple[str, list[Edit]]:
        edit = self._add_import(f"from torch.nn.init import {name}")
        return name, [edit] if edit else []

    def _import_module(self, name: str) -> tuple[str, list[Edit]]:
        taken = set(self.model.names.aliases) | self.model.names.local_definitions
        local = "init" if "init" not in taken else "nn_init"
        line = "from torch.nn import init" if local == "init" else "import torch.nn.init as nn_init"
        edit = self._add_import(line)
        return f"{local}.{name}", [edit] if edit else []

    def _add_import(self, line: str) -> Edit | None:
        """Insert an import after the module's last top-level import (or its docstring)."""
        body = self.model.tree.body
        anchor = None
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                anchor = stmt
            elif anchor is not None:
                break
        if anchor is None and body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
            anchor = body[0]
        if anchor is None:
            # Before the first statement (or its decorators): after any shebang, coding cookie or header comments.
            first = body[0] if body else None
            row = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", [])]) if first else \
                len(self.source.lines) + 1
            return Edit(line + self.newline(), Position(row, 1), Position(row, 1))
        return self.insert_after(anchor, line)

    def init_call(self, op, name: str, keep_args: dict[str, ast.expr] | None = None,
                  extra: list[str] | None = None, target_text: str | None = None) -> tuple[str, list[Edit]]:
        """`<prefix>.<name>(<target>, <kept args>, <extra>)` for an InitOp's call."""
        self._bind(op.node)
        func = op.node.func if not op.tensor_method else None
        spelled, imports = self.init_function(name, func)
        if not isinstance(func, ast.Attribute) or self.model.names.qualname(func.value) not in (
                "torch.nn.init", "transformers.initialization"):
            # no prefix to copy from the call: pick a spelling that is not shadowed where the call is
            spelling = init_spelling(self, name, op.node)
            if spelling is not None:
                spelled, imports = spelling
        target = target_text if target_text is not None else self.segment(op.target)
        args = [target]
        for key, value in (keep_args or {}).items():
            args.append(f"{key}={self.segment(value)}")
        args += extra or []
        return f"{spelled}({', '.join(args)})", imports

    def fix(self, applicability: str, message: str, edits: list[Edit | None]) -> Fix | None:
        if not edits or any(edit is None for edit in edits) or self._conflict:
            return None
        fix = Fix(applicability, message, tuple(edits))  # type: ignore[arg-type]
        if self.model is not self.root:
            self.root.fix_homes[id(fix)] = self.model.source.path
        return fix


def quote_like(node: ast.AST | None, text: str, builder: FixBuilder) -> str:
    """A string literal in the quote style the file already uses at `node` (double quotes by default)."""
    quote = '"'
    if node is not None:
        original = builder.segment(node)
        if original.startswith("'"):
            quote = "'"
    return f"{quote}{text}{quote}"


def gain_call(builder: FixBuilder, op, activation_name: str, quote_node: ast.AST | None = None) -> tuple[str, list[Edit]]:
    spelled, imports = builder.init_function("calculate_gain", op.node.func if not op.tensor_method else None)
    if op.tensor_method:
        spelling = init_spelling(builder, "calculate_gain", op.node)
        if spelling is not None:
            spelled, imports = spelling
    return f"{spelled}({quote_like(quote_node, activation_name, builder)})", imports


_SPELLINGS = (("torch.nn.init", "{}.{}"), ("torch.nn", "{}.init.{}"), ("torch", "{}.nn.init.{}"))
_CONVENTIONAL = {"torch.nn.init": "init", "torch.nn": "nn", "torch": "torch"}


def init_spelling(builder: FixBuilder, name: str, at: ast.AST) -> tuple[str, list[Edit]] | None:
    """How to write `torch.nn.init.<name>` at `at`: through the file's first alias of `torch.nn.init`, `torch.nn`
    or `torch` not bound to something else there (a parameter `init`, a nested `def init(m)`). A file that takes
    torch from a star import uses the conventional name it already relies on (`nn.init.<name>`), since an added
    `from torch.nn import init` could shadow a name the star import brings; other files get that import when
    they have no alias at all. None when no spelling fits."""
    model = builder.model
    names = model.names
    candidates = [template.format(local, name) for qualname, template in _SPELLINGS
                  for local, aliased in names.aliases.items() if aliased == qualname]
    for spelled in candidates:
        if not bound_locally(model, at, spelled.split(".", 1)[0]):
            return spelled, []
    if candidates:
        return None
    if names.star_modules:
        for qualname, template in _SPELLINGS:
            head = _CONVENTIONAL[qualname]
            if names.resolve_name(head) != qualname or bound_locally(model, at, head):
                continue
            if any(node.id == head and isinstance(node.ctx, ast.Load) and not bound_locally(model, node, head)
                   for node in model.nodes_of(ast.Name)):
                return template.format(head, name), []
        return None
    spelled, imports = builder.init_function(name)
    return None if bound_locally(model, at, spelled.split(".", 1)[0]) else (spelled, imports)


def bound_locally(model: FileModel, node: ast.AST, name: str) -> bool:
    """`name` is bound in a function enclosing `node` (a parameter, an assignment, a nested def or import), so a
    module-level alias of that name is not what it means there."""
    if name in model.names.local_definitions:
        return True
    function = model.enclosing(node, (*_FUNCTION_TYPES, ast.Lambda))
    while function is not None:
        arguments = function.args
        every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs + \
            [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        if any(a.arg == name for a in every):
            return True
        for inner in walk(function):
            if isinstance(inner, ast.Name) and inner.id == name and isinstance(inner.ctx, ast.Store) \
                    or isinstance(inner, (*_FUNCTION_TYPES, ast.ClassDef)) and inner.name == name and inner is not function \
                    or isinstance(inner, (ast.Import, ast.ImportFrom)) \
                    and any((alias.asname or alias.name.split(".")[0]) == name for alias in inner.names):
                return True
        function = model.enclosing(function, (*_FUNCTION_TYPES, ast.Lambda))
    return False
