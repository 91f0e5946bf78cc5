"""Where a finding found through another file is reported.

Analysing `train.py` may show that `weights_init` in `utils/init.py` puts Xavier before ReLU. The fix belongs
in `utils/init.py`, so the finding is reported there when that file is being linted too (once, however many
files reach it), naming the file and line it was reached from. When it is not (pre-commit passes only the
changed files), the finding is reported at the use site in the linted file (the `apply` call), naming the
other file and line, and carries no fix: a file nobody asked to lint is never edited.
"""

from __future__ import annotations

import os
from dataclasses import replace

from initlint.findings import Finding, Position

REACHED_FROM = "reached_from"
_FALLBACK = "fallback"
_SUPPRESSED = "suppressed_there"


def display(path: str) -> str:
    """A path as messages name it: relative to the working directory when it lies below it."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.getcwd())
    return absolute if relative.startswith("..") else relative


def foreign_finding(rule_cls, violation, model, home) -> Finding | None:
    """The finding for a violation located in another project file, with its use-site fallback attached."""
    program = model.program
    node = violation.node
    where = home.source
    start, end = where.node_range(node)
    entry = program.entry_for(node, home)
    linted = model.source
    reached = f"{display(linted.path)}:{entry.lineno}" if entry is not None else display(linted.path)
    fix = violation.fix if violation.fix is not None and model.fix_homes.get(id(violation.fix)) == where.path else None
    fallback = None
    if entry is not None:
        entry_start, entry_end = linted.node_range(entry)
        if not _suppressed(linted, entry_start.row, rule_cls.code):
            fallback = {"start": [entry_start.row, entry_start.column], "end": [entry_end.row, entry_end.column],
                        "message": f"{violation.message} (in {display(where.path)}:{start.row})",
                        "source_line": linted.line(entry_start.row)}
    return Finding(rule_cls.code, rule_cls.name, f"{violation.message} (reached from {reached})", where.path,
                   start, end, noqa_row=start.row, fix=fix, source_line=where.line(start.row),
                   extra={REACHED_FROM: linted.path, _FALLBACK: fallback,
                          _SUPPRESSED: _suppressed(where, start.row, rule_cls.code)})


def _suppressed(source, row: int, code: str) -> bool:
    from initlint.engine import is_suppressed

    return is_suppressed(source, row, code)


def use_site(finding: Finding, path: str) -> Finding | None:
    """The finding at the use site in the linted file `path` (None when it has none, or a noqa there)."""
    fallback = finding.extra.get(_FALLBACK)
    if not fallback:
        return None
    start, end = Position(*fallback["start"]), Position(*fallback["end"])
    return Finding(finding.code, finding.name, fallback["message"], path, start, end, noqa_row=start.row,
                   source_line=fallback["source_line"])


def route(results: list, enabled=None) -> list:
    """Give each linted file the findings that belong to it. `results` are (path, findings, errors) in the
    order files were passed; `enabled(index, code)` says whether that file's settings select the rule."""
    index_of = {os.path.abspath(path): index for index, (path, _findings, _errors) in enumerate(results)}
    routed: list[list[Finding]] = [[] for _ in results]
    foreign: list[tuple[int, Finding]] = []
    for index, (_path, findings, _errors) in enumerate(results):
        for finding in findings:
            if REACHED_FROM in finding.extra:
                foreign.append((index, finding))
            else:
                routed[index].append(finding)
    if not foreign:
        return results
    seen = {(index, f.code, f.start) for index, findings in enumerate(routed) for f in findings}
    for source_index, finding in foreign:
        target = index_of.get(os.path.abspath(finding.path))
        if target is not None:
            if finding.extra.get(_SUPPRESSED) or (enabled is not None and not enabled(target, finding.code)):
                continue
            key = (target, finding.code, finding.start)
            if key not in seen:
                seen.add(key)
                routed[target].append(replace(finding, path=results[target][0],
                                              extra={REACHED_FROM: finding.extra[REACHED_FROM]}))
            continue
        local = use_site(finding, results[source_index][0])
        if local is None:
            continue
        key = (source_index, finding.code, local.start, local.message)
        if key in seen:
            continue
        seen.add(key)
        routed[source_index].append(local)
    return [(path, sorted(findings, key=Finding.sort_key), errors)
            for (path, _old, errors), findings in zip(results, routed)]
