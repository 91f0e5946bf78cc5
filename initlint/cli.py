"""The `initlint` command: `check` lints paths, `rule` explains rules. Modelled on Ruff's CLI.

Exit status: 0 no findings, 1 findings, 2 usage error, a path that cannot be checked, or an internal error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from initlint import __version__
from initlint.engine import SYNTAX_ERROR_CODE, SYNTAX_ERROR_NAME, lint_source
from initlint.files import discover, read_source
from initlint.findings import FileError, Finding
from initlint.report import DEFAULT_OUTPUT_FORMAT, OUTPUT_FORMATS, display_path, printable, render
from initlint.settings import Settings

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

SELECT_EVERYTHING = "ALL"
SYNTAX_ERROR_INFO = {
    "code": SYNTAX_ERROR_CODE,
    "name": SYNTAX_ERROR_NAME,
    "summary": "The file cannot be parsed as Python.",
    "explanation": (
        "## What it does\nReports a file that Python cannot parse, at the position the parser gives.\n\n"
        "## Why is this bad?\nNo other rule can analyse a file that does not parse."
    ),
    "url": None,
    "default_enabled": True,
}


class UsageError(Exception):
    """A command line that cannot be acted on; reported in one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default `sys.argv[1:]`) and return the exit status. Never raises."""
    _escape_unencodable_output()
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (EXIT_CLEAN if exc.code is None else EXIT_ERROR)
    except UsageError as exc:
        _print_error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _print_error("interrupted")
        return 130
    except BrokenPipeError:  # `initlint check | head`: the reader went away
        _silence_stdout()
        return EXIT_FINDINGS
    except Exception as exc:  # noqa: BLE001 - a bug in initlint must still end in one line, not a traceback
        _print_error(f"internal error: {type(exc).__name__}: {exc} (this is a bug in initlint; please report it)")
        return EXIT_ERROR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="initlint", description="Static analysis of neural-network weight initialization in PyTorch and Keras code."
    )
    parser.add_argument("--version", action="version", version=f"initlint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="Lint Python files and directories.",
                                description="Lint Python files and directories.")
    check.add_argument("paths", nargs="*", metavar="PATH", help="Files or directories to check (default: the current directory).")
    check.add_argument("--output-format", choices=OUTPUT_FORMATS, default=DEFAULT_OUTPUT_FORMAT,
                       help="How to print findings (default: %(default)s).")
    check.add_argument("--select", metavar="CODES",
                       help="Comma-separated rule codes or prefixes to enable instead of the defaults (ALL for every rule).")
    check.add_argument("--extend-select", metavar="CODES", help="Comma-separated rule codes or prefixes to enable in addition.")
    check.add_argument("--ignore", metavar="CODES", help="Comma-separated rule codes or prefixes to disable.")
    check.add_argument("--exit-zero", action="store_true", help="Exit with status 0 even when there are findings.")
    check.add_argument("-q", "--quiet", action="store_true", help="Print findings and errors only: no summary, no warnings.")

    rule = commands.add_parser("rule", help="Explain a rule, or list every rule.",
                               description="Explain a rule, or list every rule.")
    rule.add_argument("rule", nargs="?", metavar="CODE_OR_NAME", help="A rule code (INI001) or name.")
    rule.add_argument("--all", action="store_true", help="List every rule.")
    rule.add_argument("--output-format", choices=("text", "json"), default="text", help="(default: %(default)s)")
    return parser


def _dispatch(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        return run_check(args)
    if args.command == "rule":
        return run_rule(args)
    parser.print_usage(sys.stderr)
    _print_error("a command is required: check or rule (see 'initlint --help')")
    return EXIT_ERROR


def run_check(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    files, errors, warnings = discover(args.paths)
    findings: list[Finding] = []
    for path in files:
        text, read_error = read_source(path)
        if read_error is not None:
            errors.append(read_error)
            continue
        file_findings, file_errors = lint_source(path, text, settings)
        findings += file_findings
        errors += file_errors

    if not args.quiet:
        for warning in warnings:
            print(f"warning: {printable(warning)}", file=sys.stderr)
    for error in errors:
        _print_file_error(error)
    sys.stdout.write(render(findings, args.output_format, unchecked=len(errors), quiet=args.quiet))
    sys.stdout.flush()

    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from --select/--extend-select/--ignore; an unknown code is a UsageError."""
    known_codes = _known_codes()
    select = parse_selectors(args.select, "--select", known_codes)
    return Settings(
        select=None if select is None else frozenset(select),
        extend_select=frozenset(parse_selectors(args.extend_select, "--extend-select", known_codes) or ()),
        ignore=frozenset(parse_selectors(args.ignore, "--ignore", known_codes) or ()),
    )


def parse_selectors(value: str | None, option: str, known_codes: Sequence[str]) -> list[str] | None:
    """Split a comma-separated list of codes or code prefixes; ALL becomes the empty prefix."""
    if value is None:
        return None
    selectors = []
    for item in value.split(","):
        selector = item.strip().upper()
        if not selector:
            continue
        if selector == SELECT_EVERYTHING:
            selector = ""
        elif not any(code.startswith(selector) for code in known_codes):
            raise UsageError(f"{option}: unknown rule code or prefix {printable(item.strip())!r} "
                             f"(see 'initlint rule --all')")
        selectors.append(selector)
    return selectors


def run_rule(args: argparse.Namespace) -> int:
    if args.all:
        if args.rule:
            raise UsageError("give either a rule or --all, not both")
        infos = _all_rule_infos()
        if args.output_format == "json":
            print(json.dumps(infos, indent=2, ensure_ascii=False))
        else:
            code_width = max(len(info["code"]) for info in infos)
            name_width = max(len(info["name"]) for info in infos)
            for info in infos:
                print(f"{info['code']:<{code_width}}  {info['name']:<{name_width}}  {info['summary']}".rstrip())
        return EXIT_CLEAN
    if not args.rule:
        raise UsageError("name a rule (a code such as INI001, or its name), or pass --all")
    info = next((info for info in _all_rule_infos()
                 if args.rule.upper() == info["code"] or args.rule == info["name"]), None)
    if info is None:
        raise UsageError(f"unknown rule {printable(args.rule)!r} (see 'initlint rule --all')")
    if args.output_format == "json":
        print(json.dumps(info, indent=2, ensure_ascii=False))
    else:
        print(f"# {info['name']} ({info['code']})\n\n{info['explanation']}")
        if info["url"]:
            print(f"\nMore: {info['url']}")
    return EXIT_CLEAN


def _all_rule_infos() -> list[dict]:
    from initlint.rules import all_rules

    infos = [
        {"code": rule.code, "name": rule.name, "summary": rule.summary(), "explanation": rule.doc(),
         "url": rule.url(), "default_enabled": rule.default_enabled}
        for rule in all_rules()
    ]
    return infos + [SYNTAX_ERROR_INFO]


def _known_codes() -> list[str]:
    from initlint.rules import all_rules

    return [rule.code for rule in all_rules()] + [SYNTAX_ERROR_CODE]


def _print_file_error(error: FileError) -> None:
    reason = error.reason + (" (this is a bug in initlint; please report it)" if error.internal else "")
    _print_error(f"{display_path(error.path)}: {reason}")


def _print_error(message: str) -> None:
    print(f"error: {_one_line(message)}", file=sys.stderr)


def _one_line(message: str) -> str:
    return printable(" ".join(message.split("\n")))


def _escape_unencodable_output() -> None:
    """Print characters the terminal's encoding lacks (or undecodable file names) as escapes, not crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or detached stream
                pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
