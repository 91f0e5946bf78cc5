"""`initlint show`: how every layer of every model in a file is really initialized, as a table.

The rows come from the same semantic model the rules query: the layer, its constructor arguments, what its
output feeds, the init its weight and bias finally get (or the framework default), where that is set, and the
findings on that layer.
"""

from __future__ import annotations

import ast
import json
from dataclasses import asdict, dataclass, field

from initlint.catalog import torch as catalog
from initlint.engine import lint_source
from initlint.model.entities import (
    BLOCK, CONTAINER, F_ACTIVATION, F_HEAD, F_LINEAR, F_NOTHING, LAYER, ClassModel, InitEvent, ModuleNode,
)
from initlint.model.semantic import FileModel
from initlint.settings import Settings
from initlint.source import SourceFile


@dataclass
class Row:
    layer: str
    type: str
    feeds: str
    weight_init: str
    bias_init: str
    lines: str
    findings: list[str] = field(default_factory=list)


@dataclass
class ModelTable:
    model: str
    path: str
    line: int
    rows: list[Row]


def tables_for_source(path: str, text: str, model_name: str | None = None) -> list[ModelTable]:
    tree = ast.parse(text, filename=path)
    model = FileModel.build(SourceFile(path, text), tree)
    findings, _errors = lint_source(path, text, Settings())
    by_line: dict[int, list[str]] = {}
    for finding in findings:
        by_line.setdefault(finding.start.row, []).append(finding.code)
    tables = []
    for klass in model.classes.values():
        if model_name and klass.name != model_name:
            continue
        rows = [_row(node, model, by_line) for node in _layers_of(klass.children)]
        if rows:
            tables.append(ModelTable(klass.name, path, klass.node.lineno, rows))
    for node in model.standalone:
        if model_name and node.path != model_name:
            continue
        rows = [_row(child, model, by_line) for child in _layers_of(node.children)]
        if rows:
            tables.append(ModelTable(node.path, path, node.node.lineno, rows))
    return tables


def _layers_of(nodes: list[ModuleNode]) -> list[ModuleNode]:
    out = []
    for node in nodes:
        if node.kind == LAYER and node.spec is not None:
            out.append(node)
        elif node.kind == CONTAINER:
            out += _layers_of(node.children)
    return out


def _row(node: ModuleNode, model: FileModel, by_line: dict[int, list[str]]) -> Row:
    weight_param = "weight" if "weight" in node.param_names() else (node.param_names() or ["weight"])[0]
    weight_text, weight_lines = _init_text(node, weight_param)
    bias_param = "bias" if node.has_param("bias") else None
    bias_text, bias_lines = _init_text(node, bias_param) if bias_param else ("—", [])
    lines = sorted({node.node.lineno, *weight_lines, *bias_lines})
    codes = sorted({code for line in lines for code in by_line.get(line, [])})
    return Row(node.display, _type_text(node, model), _feeds_text(node), weight_text, bias_text,
               ", ".join(str(line) for line in lines), codes)


def _type_text(node: ModuleNode, model: FileModel) -> str:
    args = []
    if isinstance(node.node, ast.Call):
        for arg in node.node.args[:4]:
            args.append(_short(model, arg))
        for keyword in node.node.keywords:
            if keyword.arg in ("bias", "affine", "padding_idx", "num_layers", "bidirectional", "groups"):
                args.append(f"{keyword.arg}={_short(model, keyword.value)}")
    return f"{node.cls}({', '.join(args)})"


def _short(model: FileModel, expr: ast.expr) -> str:
    text = ast.unparse(expr)
    return text if len(text) <= 16 else text[:15] + "…"


def _feeds_text(node: ModuleNode) -> str:
    feeds = node.feeds()
    if feeds.kind == F_ACTIVATION:
        names = sorted({a.spec.name for a in feeds.activations})
        text = " | ".join(names)
        return f"norm → {text}" if feeds.via_norm else text
    if feeds.kind == F_HEAD:
        return "head"
    if feeds.kind == F_LINEAR:
        return "layer (no activation)"
    if feeds.kind == F_NOTHING:
        return "—"
    return "unknown"


def _init_text(node: ModuleNode, param: str | None) -> tuple[str, list[int]]:
    if param is None:
        return "—", []
    events = node.last_events(param)
    if not events:
        default = next((p.default_init for p in node.spec.params if p.name == param or param.startswith(p.name[:-1])), "?") \
            if node.spec is not None else "?"
        return f"default: {default}", []
    parts, lines = [], []
    for event in events:
        parts.append(_event_text(event) + (" (conditional)" if event.conditional else ""))
        if event.node is not None:
            lines.append(event.node.lineno)
    return " or ".join(parts), lines


def _event_text(event: InitEvent) -> str:
    op = event.op
    if op is None:
        return "reset_parameters()"
    if op.family == "assign":
        return "assigned"
    args = ", ".join(f"{key}={ast.unparse(value)}" for key, value in op.args.items() if key != "generator")
    name = op.name if not op.tensor_method else f".{op.name}"
    return f"{name}({args})"


# ----------------------------------------------------------------------------------------- render

COLUMNS = ("layer", "type", "feeds", "weight_init", "bias_init", "lines", "findings")
HEADERS = ("layer", "type", "feeds", "weight init", "bias init", "line", "findings")


def render(tables: list[ModelTable], output_format: str = "full", width: int = 80) -> str:
    if output_format == "json":
        return json.dumps([asdict(t) for t in tables], indent=2)
    if output_format == "markdown":
        return "\n\n".join(_markdown(t) for t in tables)
    return "\n\n".join(_text(t, width) for t in tables)


def _cells(row: Row) -> list[str]:
    return [row.layer, row.type, row.feeds, row.weight_init, row.bias_init, row.lines, ", ".join(row.findings)]


def _markdown(table: ModelTable) -> str:
    lines = [f"### `{table.model}` ({table.path}:{table.line})", "", "| " + " | ".join(HEADERS) + " |",
             "|" + "---|" * len(HEADERS)]
    for row in table.rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") or " " for c in _cells(row)) + " |")
    return "\n".join(lines)


def _text(table: ModelTable, width: int) -> str:
    """One block per layer: readable on an 80-column terminal whatever the init expressions' length."""
    out = [f"{table.model}  ({table.path}:{table.line})", "=" * min(width, len(table.model) + len(table.path) + 10)]
    for row in table.rows:
        flag = f"  [{', '.join(row.findings)}]" if row.findings else ""
        out.append(_clip(f"{row.layer}  {row.type}  → {row.feeds}{flag}", width))
        out.append(_clip(f"    weight: {row.weight_init}", width))
        if row.bias_init != "—":
            out.append(_clip(f"    bias:   {row.bias_init}", width))
        out.append(_clip(f"    line:   {row.lines}", width))
    return "\n".join(out)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


__all__ = ["tables_for_source", "render", "ModelTable", "Row", "catalog", "BLOCK", "ClassModel"]
