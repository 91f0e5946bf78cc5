"""Lint one source text: parse, build the semantic model, run the enabled rules, apply `# noqa`."""

from __future__ import annotations

import ast
import re
import traceback
from typing import TYPE_CHECKING

from initlint.findings import FileError, Finding, Position
from initlint.settings import Settings
from initlint.source import SourceFile

if TYPE_CHECKING:
    from initlint.project import Project

SYNTAX_ERROR_CODE = "INI999"
SYNTAX_ERROR_NAME = "syntax-error"

_FILE_NOQA_RE = re.compile(r"#\s*initlint:\s*noqa\b", re.I)


_FRAMEWORK_WORDS = ("torch", "keras", "tensorflow", "import *")
# Init vocabulary: an `init` name or an in-place `x_(` call other than the `__init__` (and `__call__(`) every
# class has; SELU; `apply(`; lazy layers; `.data` where there may be parameters (every layer parameter's name
# holds `weight` or `bias`; a dataset's `self.data` does not count); and what a tensor assigned to a parameter
# needs (INI027): a registered parameter, `setattr`, or an assignment to a `weight`/`bias` attribute.
_INIT_WORDS = ("selu", "SELU", "apply(", "Lazy", "Parameter", "setattr(", "reset_parameters")
_PARAMETER_WORDS = ("weight", "bias", "parameters")
_PARAMETER_ASSIGNMENT = re.compile(r"\.\w*(?:weight|bias)\w*\s*=(?!=)")


def _has_init_vocabulary(text: str) -> bool:
    # str.count runs at C speed; each `__init__` holds one "init" and each dunder call one "__(".
    return text.count("init") > text.count("__init__") or text.count("_(") > text.count("__(") \
        or any(word in text for word in _INIT_WORDS) \
        or (".data" in text and any(word in text for word in _PARAMETER_WORDS)) \
        or _PARAMETER_ASSIGNMENT.search(text) is not None


# Rules about a framework default need no init vocabulary, only the activation they judge.
_OPT_IN_WORDS = {"INI005": ("relu", "ReLU")}


# With project-wide analysis a script may init a model of another file without naming a framework at all.
_PROJECT_WORDS = (".apply(", "named_apply(", "reset_parameters(", "init_weights(")


def might_matter(text: str, settings: Settings | None = None, project: bool = False) -> bool:
    """Cheap pre-filter: a file needs a framework (or a star import that may bring one) and some init
    vocabulary (an `init` name other than `__init__`, an in-place `x_(` call, SELU, `apply(`) to have findings;
    with project-wide analysis, a call that inits modules built elsewhere (`model.apply(weights_init)`) is
    enough."""
    if not any(word in text for word in _FRAMEWORK_WORDS):
        return project and "import" in text and any(word in text for word in _PROJECT_WORDS)
    if _has_init_vocabulary(text):
        return True
    if settings is not None:
        for code, extra in _OPT_IN_WORDS.items():
            if settings.enabled(code, False) and any(word in text for word in extra):
                return True
    # Keras configures activations and initializers by keyword: `Dense(4, activation="ReLU")`.
    return ("keras" in text or "tensorflow" in text) and "activation" in text


def lint_source(path: str, text: str, settings: Settings | None = None, prefilter: bool = True,
                project: "Project | None" = None, dependencies: dict | None = None,
                ) -> tuple[list[Finding], list[FileError]]:
    """All findings for one file's text. Never raises: an internal error becomes a FileError.

    With a project, classes and functions imported from the project's other files are read there; a finding
    whose fix belongs in another file comes back with that file's path (see `initlint.routing`), and
    `dependencies` (when given) receives the digest of every other file the result depends on."""
    settings = settings or Settings()
    source = SourceFile(path, text)
    try:
        # a file another analysis of this process already read as a dependency is not parsed again
        tree = (project.shared_tree(path, text) if project is not None else None) or ast.parse(text, filename=path)
    except SyntaxError as exc:
        if not settings.enabled(SYNTAX_ERROR_CODE, True):
            return [], []
        return _apply_noqa(source, [_syntax_error_finding(source, exc)]), []
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        return [], [FileError(path, f"cannot parse: {exc}")]
    if prefilter and not might_matter(text, settings, project is not None):
        return [], []
    if project is not None:
        project.offer(path, text, tree)
    try:
        findings = _run_rules(source, tree, settings, project, dependencies)
    except RecursionError:
        return [], [FileError(path, "nesting too deep to analyse", internal=True)]
    except Exception as exc:  # one file's internal error must not stop the others
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return [], [FileError(path, f"internal error: {type(exc).__name__}: {exc} "
                                    f"(at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})", internal=True)]
    own = [f for f in findings if f.path == path]
    return _apply_noqa(source, own) + [f for f in findings if f.path != path], []


def _run_rules(source: SourceFile, tree: ast.Module, settings: Settings, project=None,
               dependencies: dict | None = None) -> list[Finding]:
    from initlint.model.semantic import FileModel
    from initlint.rules import all_rules

    rules = [rule for rule in all_rules() if settings.enabled(rule.code, rule.default_enabled)]
    if not rules:
        return []
    model = FileModel.build(source, tree, project)
    program = model.program
    findings: list[Finding] = []
    for rule_cls in rules:
        for violation in rule_cls().check(model):
            home = program.home_of(violation.node) if program is not None and len(program.homes) > 1 else model
            if home is not model:
                if not rule_cls.reports_across_files:
                    continue
                from initlint.routing import foreign_finding

                finding = foreign_finding(rule_cls, violation, model, home)
                if finding is not None:
                    findings.append(finding)
                continue
            start, end = source.node_range(violation.node)
            findings.append(Finding(
                code=rule_cls.code, name=rule_cls.name, message=violation.message, path=source.path,
                start=start, end=end, noqa_row=start.row, fix=violation.fix, source_line=source.line(start.row),
            ))
    if dependencies is not None and program is not None:
        dependencies.update(program.dependency_digests())
    model.release()
    unique = {(f.path, f.code, f.start, f.message): f for f in findings}
    return sorted(unique.values(), key=Finding.sort_key)


def _syntax_error_finding(source: SourceFile, exc: SyntaxError) -> Finding:
    row = exc.lineno or 1
    # SyntaxError.offset is a 1-based character offset already.
    column = max(exc.offset or 1, 1)
    message = f"SyntaxError: {exc.msg}"
    return Finding(SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME, message, source.path, Position(row, column),
                   Position(row, column), noqa_row=row, source_line=source.line(row))


def is_suppressed(source: SourceFile, row: int, code: str) -> bool:
    """Whether a `# noqa` (on that line, or for the whole file) in `source` silences `code` at `row`."""
    return not _apply_noqa(source, [Finding(code, "", "", source.path, Position(row, 1), Position(row, 1), row)])


def _apply_noqa(source: SourceFile, findings: list[Finding]) -> list[Finding]:
    if not findings:
        return findings
    if any(_FILE_NOQA_RE.search(line) for line in source.lines if "noqa" in line):
        return []
    from initlint.noqa import directives

    by_row = directives(source.text)
    return [f for f in findings if not ((directive := by_row.get(f.noqa_row)) and directive.suppresses(f.code))]
