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
from initlint.config import ConfigError, Resolver, show_settings
from initlint.engine import SYNTAX_ERROR_CODE
from initlint.runner import DEFAULT_CACHE_DIR, lint_files, lint_text, project_of, route_results
from initlint.files import SourceText, decode_bytes, discover, read_source_text
from initlint.findings import FileError, Finding
from initlint.noqa import UNUSED_NOQA_CODE, add_noqa
from initlint.report import (
    HUMAN_FORMATS, OUTPUT_FORMATS, Progress, display_path, printable, render, render_statistics, use_color,
)
from initlint.report.rules import markdown_table, rule_infos

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

STDIN = "-"
# Options that also exist as `[tool.initlint]` keys; the command line's win (or, for extend-*, add).
CONFIG_OPTIONS = ("select", "extend-select", "ignore", "exclude", "extend-exclude", "force-exclude", "unsafe-fixes",
                  "output-format", "cache-dir")
LIST_OPTIONS = ("select", "extend-select", "ignore", "exclude", "extend-exclude")


class UsageError(Exception):
    """A command line that cannot be acted on; reported in one line, exit status 2."""


def run() -> None:
    """The `initlint` command: `main()`, then exit without tearing the interpreter down. Freeing every parsed
    tree and module one object at a time took a quarter of a one-file run; the OS takes the memory back at
    once (mypy exits the same way). The cycle collector is off for the same reason (see `tune_gc`)."""
    from initlint.runner import tune_gc

    tune_gc()
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # the reader went away or the stream is closed: nothing left to say
        pass
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default `sys.argv[1:]`) and return the exit status. Never raises."""
    _escape_unencodable_output()
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (EXIT_CLEAN if exc.code is None else EXIT_ERROR)
    except (UsageError, ConfigError) as exc:
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

    check = commands.add_parser("check", help="Lint Python files, notebooks and directories.",
                                description="Lint Python files, notebooks and directories.")
    _add_lint_arguments(check)
    check.add_argument("--fix", action="store_true", help="Apply fixes (an alias of `initlint fix`).")
    fix = commands.add_parser("fix", help="Apply fixes (safe ones; --unsafe-fixes for all), then report what is left.",
                              description="Apply fixes, then report the findings that are left.")
    _add_lint_arguments(fix)

    show = commands.add_parser("show", help="Show how every layer of every model is initialized.",
                               description="Show how every layer of every model is initialized.")
    show.add_argument("paths", nargs="+", metavar="PATH")
    show.add_argument("--model", metavar="NAME", help="Only this model (class or variable name).")
    show.add_argument("--output-format", choices=("full", "json", "markdown"), default="full")

    verify = commands.add_parser(
        "verify", help="Build the model with torch and measure signal propagation (runs your code).",
        description="Import and build the model (this executes your code), run one forward and backward pass on "
                    "random input, and report per-layer activation and gradient std, as written and with "
                    "initlint's unsafe fixes.")
    verify.add_argument("target", metavar="FILE.py:NAME | package.module:NAME")
    verify.add_argument("--input-shape", action="append", required=True, metavar="N,C,...",
                        help="Shape of an input (repeat for several inputs).")
    verify.add_argument("--input-dtype", choices=("float32", "float64", "int64"), default="float32")
    verify.add_argument("--vocab-size", type=int, help="Upper bound of random int64 inputs (token ids).")
    verify.add_argument("--kwargs", default="{}", help="Constructor arguments as JSON.")
    verify.add_argument("--init", metavar="module:function", help="An init function to `apply` after building.")
    verify.add_argument("--no-fixed", action="store_true", help="Do not measure the model with initlint's fixes.")
    verify.add_argument("--plot", metavar="OUT.png", help="Draw activation std per depth (needs matplotlib).")
    verify.add_argument("--output-format", choices=("full", "json"), default="full")

    rule = commands.add_parser("rule", help="Explain a rule, or list every rule.",
                               description="Explain a rule, or list every rule.")
    rule.add_argument("rule", nargs="?", metavar="CODE_OR_NAME", help="A rule code (INI001) or name.")
    rule.add_argument("--all", action="store_true", help="List every rule.")
    rule.add_argument("--output-format", choices=("text", "json", "markdown"), default="text", metavar="{text,json}",
                      help="(default: %(default)s)")  # markdown: the README's rule table
    return parser


def _add_lint_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="Files or directories to check (default: the current directory; '-' reads stdin).")
    rules = check.add_argument_group("rule selection")
    rules.add_argument("--select", metavar="CODES", help="Comma-separated rule codes or prefixes to enable "
                                                         "instead of the defaults (ALL for every rule).")
    rules.add_argument("--extend-select", metavar="CODES",
                       help="Comma-separated rule codes or prefixes to enable in addition.")
    rules.add_argument("--ignore", metavar="CODES", help="Comma-separated rule codes or prefixes to disable.")
    config = check.add_argument_group("configuration")
    where = config.add_mutually_exclusive_group()
    where.add_argument("--config", metavar="PATH",
                       help="Use this TOML file (a pyproject.toml's [tool.initlint], or a file of initlint's keys) "
                            "for every file, instead of finding the nearest pyproject.toml.")
    where.add_argument("--isolated", action="store_true", help="Ignore all configuration files.")
    config.add_argument("--exclude", metavar="GLOBS", help="Comma-separated globs to exclude, instead of the defaults.")
    config.add_argument("--extend-exclude", metavar="GLOBS", help="Comma-separated globs to exclude in addition.")
    config.add_argument("--force-exclude", action=argparse.BooleanOptionalAction, default=None,
                        help="Apply the excludes to paths named on the command line too (pre-commit names files).")
    config.add_argument("--unsafe-fixes", action=argparse.BooleanOptionalAction, default=None,
                        help="Count fixes that may change behaviour as available.")
    config.add_argument("--cache-dir", metavar="PATH", help="Where to keep the cache (default: .initlint_cache).")
    config.add_argument("--show-settings", action="store_true",
                        help="Print the settings for the first PATH, and where each came from; then exit.")
    config.add_argument("--show-files", action="store_true", help="Print the files that would be checked; then exit.")
    output = check.add_argument_group("output")
    output.add_argument("--output-format", choices=OUTPUT_FORMATS, default=None,
                        help="How to print findings (default: full).")
    output.add_argument("--statistics", action="store_true", help="Print the number of findings of each rule instead.")
    output.add_argument("--stdin-filename", metavar="PATH",
                        help="The name of the file read from stdin (for messages, configuration and excludes).")
    output.add_argument("-q", "--quiet", action="store_true",
                        help="Print findings and errors only: no summary, no warnings, no progress.")
    output.add_argument("--exit-zero", action="store_true", help="Exit with status 0 even when there are findings.")
    output.add_argument("--exit-non-zero-on-fix", action="store_true",
                        help="Exit with status 1 when fixes were applied, even if nothing is left to report.")
    output.add_argument("--add-noqa", action="store_true",
                        help="Add '# noqa: CODE' comments to every line with a finding (merging with existing ones).")
    fixing = check.add_argument_group("fixes")
    fixing.add_argument("--diff", action="store_true",
                        help="With fixes: print a unified diff of what would change and write nothing "
                             "(exit 1 if there would be changes).")
    fixing.add_argument("--show-fixes", action="store_true", help="With fixes: list what was fixed.")
    performance = check.add_argument_group("performance")
    performance.add_argument("-j", "--jobs", type=int, metavar="N", help="Worker processes (default: the cores).")
    performance.add_argument("--no-cache", action="store_true", help="Neither read nor write the cache.")
    performance.add_argument("--single-file", action="store_true",
                             help="Analyse each file alone: do not read the project's other files it imports.")


def _dispatch(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        return run_fix(args) if args.fix else run_check(args)
    if args.command == "fix":
        return run_fix(args)
    if args.command == "show":
        return run_show(args)
    if args.command == "verify":
        return run_verify(args)
    if args.command == "rule":
        return run_rule(args)
    parser.print_usage(sys.stderr)
    _print_error("a command is required: check or rule (see 'initlint --help')")
    return EXIT_ERROR


def run_check(args: argparse.Namespace) -> int:
    resolver = Resolver(cli_overrides(args), config=args.config, isolated=args.isolated)
    if args.show_settings:
        return _show_settings(args, resolver)
    stdin = _reads_stdin(args)
    if stdin:
        if args.add_noqa:
            raise UsageError("--add-noqa cannot be used with stdin")
        name = args.stdin_filename or STDIN
        excluded = resolver.file_filter(os.path.dirname(os.path.abspath(name))).force_excluded(os.path.abspath(name))
        files, errors, warnings = ([] if excluded else [name]), [], []
    else:
        files, errors, warnings = discover(args.paths, resolver.file_filter)
    if args.show_files:
        cwd = os.getcwd()
        sys.stdout.write("".join(display_path(path, cwd) + "\n" for path in files))
        return EXIT_ERROR if errors else EXIT_CLEAN

    findings: list[Finding] = []
    noqa_added = noqa_skipped = 0
    progress = Progress(len(files), enabled=not args.quiet)
    if stdin or args.add_noqa:
        for done, path in enumerate(files, 1):
            source, read_error = decode_bytes(path, sys.stdin.buffer.read()) if stdin else read_source_text(path)
            if read_error is not None:
                errors.append(read_error)
                continue
            file_settings = resolver.for_file(path).settings.for_path(path)
            file_findings, file_errors = lint_text(path, source.text, file_settings, not args.single_file)
            [(_path, file_findings, file_errors)] = route_results([(path, file_findings, file_errors)], [file_settings])
            findings += file_findings
            errors += file_errors
            if args.add_noqa and not file_errors:
                added, skipped = _add_noqa(path, source, file_findings, errors)
                noqa_added, noqa_skipped = noqa_added + added, noqa_skipped + skipped
            progress.advance(done)
    else:
        settings = [resolver.for_file(path).settings.for_path(path) for path in files]
        for _path, file_findings, file_errors in lint_files(files, settings, jobs=args.jobs,
                                                            cache_dir=_cache_dir(args, resolver),
                                                            project=not args.single_file,
                                                            progress=lambda done, _total: progress.advance(done)):
            findings += file_findings
            errors += file_errors
    progress.close()

    if not args.quiet:
        for warning in warnings:
            print(f"warning: {printable(warning)}", file=sys.stderr)
    for error in errors:
        _print_file_error(error)
    if args.add_noqa:
        return _report_noqa(noqa_added, noqa_skipped, errors)

    output_format = args.output_format or resolver.root_project["output-format"]
    if args.statistics:
        report = render_statistics(findings, output_format, unchecked=len(errors), quiet=args.quiet,
                                   unsafe_fixes=resolver.root_project.settings.unsafe_fixes)
    else:
        color = output_format in HUMAN_FORMATS and use_color(sys.stdout)
        report = render(findings, output_format, unchecked=len(errors), quiet=args.quiet, color=color,
                        unsafe_fixes=bool(resolver.root_project.settings.unsafe_fixes))
    sys.stdout.write(report)
    sys.stdout.flush()

    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN


def _cache_dir(args: argparse.Namespace, resolver: Resolver) -> str | None:
    """The cache directory (beside the nearest config, like Ruff's), or None with --no-cache."""
    if getattr(args, "no_cache", False) or os.environ.get("INITLINT_NO_CACHE"):
        return None
    configured = args.cache_dir or resolver.root_project["cache-dir"]
    if configured:
        return configured
    return os.path.join(resolver.root_project.root or os.getcwd(), DEFAULT_CACHE_DIR)


def _found_through_other_files(files: list[str], resolver: Resolver) -> dict[str, list[Finding]]:
    """Per file, the findings whose fix belongs there but which only another file's analysis shows (an init
    function in `utils/init.py` applied to a ReLU model in `train.py`), located in the file as it is now."""
    from initlint.routing import REACHED_FROM

    settings = [resolver.for_file(path).settings.for_path(path) for path in files if not path.endswith(".ipynb")]
    python_files = [path for path in files if not path.endswith(".ipynb")]
    found: dict[str, list[Finding]] = {}
    for path, findings, _errors in lint_files(python_files, settings):
        routed = [f for f in findings if REACHED_FROM in f.extra and f.extra[REACHED_FROM] != path]
        if routed:
            found[path] = routed
    return found


def run_fix(args: argparse.Namespace) -> int:
    """Apply fixes file by file (safe ones, or all with --unsafe-fixes); `--diff` writes nothing."""
    from initlint.fix import fix_text, unified_diff

    resolver = Resolver(cli_overrides(args), config=args.config, isolated=args.isolated)
    if args.add_noqa:
        raise UsageError("--add-noqa cannot be combined with fixing")
    stdin = _reads_stdin(args)
    files, errors, warnings = ([args.stdin_filename or STDIN], [], []) if stdin else discover(args.paths, resolver.file_filter)
    remaining: list[Finding] = []
    fixed: list[Finding] = []
    diffs: list[str] = []
    single = getattr(args, "single_file", False)
    incoming = {} if stdin or single or len(files) < 2 else _found_through_other_files(files, resolver)
    for path in files:
        settings = resolver.for_file(path).settings.for_path(path)
        unsafe = bool(settings.unsafe_fixes)
        source, read_error = decode_bytes(path, sys.stdin.buffer.read()) if stdin else read_source_text(path)
        if read_error is not None:
            errors.append(read_error)
            continue
        if path.endswith(".ipynb"):
            from initlint.notebook import NotebookError, fix_notebook_text

            try:
                new_text, file_fixed, file_remaining = fix_notebook_text(path, source.text, settings, unsafe)
            except NotebookError as exc:
                errors.append(FileError(path, str(exc)))
                continue
            problems: list[str] = []
        else:
            outcome = fix_text(path, source.text, settings, unsafe, incoming.get(path, ()),
                               project=None if stdin or single else project_of(settings))
            new_text, file_fixed, file_remaining, problems = outcome.text, outcome.fixed, outcome.remaining, outcome.problems
            errors += outcome.errors
        for problem in problems:
            print(f"warning: {display_path(path)}: {problem}", file=sys.stderr)
        fixed += file_fixed
        remaining += file_remaining
        if new_text == source.text:
            if stdin:
                sys.stdout.write(new_text)
            continue
        if args.diff:
            if path.endswith(".ipynb"):
                from initlint.notebook import cell_diffs

                diffs.append(cell_diffs(display_path(path), source.text, new_text))
            else:
                diffs.append(unified_diff(display_path(path), source.text, new_text))
        elif stdin:
            sys.stdout.write(new_text)
        else:
            from initlint.fix import encode_like, write_atomic

            try:
                data = encode_like(new_text, source.encoding, source.had_bom)
            except UnicodeEncodeError:
                errors.append(FileError(path, f"the fixed text cannot be encoded as {source.encoding}; not written"))
                continue
            reason = write_atomic(path, data, expected_original=source.data)
            if reason is not None:
                errors.append(FileError(path, reason))
    if not args.quiet:
        for warning in warnings:
            print(f"warning: {printable(warning)}", file=sys.stderr)
    for error in errors:
        _print_file_error(error)
    if args.diff:
        sys.stdout.write("".join(diffs))
        if not args.quiet:
            print(f"Would fix {len(fixed)} finding{'' if len(fixed) == 1 else 's'}.", file=sys.stderr)
        return EXIT_ERROR if errors else (EXIT_FINDINGS if diffs else EXIT_CLEAN)
    if args.show_fixes and fixed and not stdin:
        cwd = os.getcwd()
        sys.stdout.write("Fixed:\n" + "".join(f"  {display_path(f.path, cwd)}:{f.start.row}:{f.start.column}: "
                                             f"{f.code} {f.fix.message}\n" for f in fixed))
    if not stdin:
        output_format = args.output_format or resolver.root_project["output-format"]
        report = render(remaining, output_format, unchecked=len(errors), quiet=args.quiet,
                        color=output_format in HUMAN_FORMATS and use_color(sys.stdout),
                        unsafe_fixes=bool(resolver.root_project.settings.unsafe_fixes))
        if fixed and output_format in HUMAN_FORMATS and not args.quiet:
            report = report.rstrip("\n") + f" Fixed {len(fixed)} finding{'' if len(fixed) == 1 else 's'}.\n"
        sys.stdout.write(report)
    if errors:
        return EXIT_ERROR
    if fixed and args.exit_non_zero_on_fix:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if remaining and not args.exit_zero else EXIT_CLEAN


def run_show(args: argparse.Namespace) -> int:
    from initlint.show import render as render_tables
    from initlint.show import tables_for_source

    files, errors, warnings = discover(args.paths, Resolver({}, isolated=True).file_filter)
    tables = []
    for path in files:
        source, read_error = read_source_text(path)
        if read_error is not None:
            errors.append(read_error)
            continue
        try:
            tables += tables_for_source(path, source.text, args.model)
        except SyntaxError as exc:
            errors.append(FileError(path, f"cannot parse: {exc.msg} at line {exc.lineno}"))
    for error in errors:
        _print_file_error(error)
    if tables:
        print(render_tables(tables, args.output_format))
    elif not errors:
        print("[]" if args.output_format == "json" else "No models found.")
    return EXIT_ERROR if errors else EXIT_CLEAN


def run_verify(args: argparse.Namespace) -> int:
    from initlint import verify

    try:
        shapes = [tuple(int(part) for part in shape.split(",") if part.strip()) for shape in args.input_shape]
        kwargs = json.loads(args.kwargs)
    except ValueError as exc:
        raise UsageError(f"--input-shape takes comma-separated integers and --kwargs JSON: {exc}") from None
    try:
        verdicts = verify.verify(args.target, shapes, kwargs, args.input_dtype, args.vocab_size, args.init,
                                 compare_fixed=not args.no_fixed)
        if args.plot:
            verify.plot(verdicts, args.plot)
    except verify.VerifyError as exc:
        _print_error(str(exc))
        return EXIT_ERROR
    print(verify.render(verdicts, args.output_format))
    return EXIT_CLEAN


def cli_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The configuration options given on the command line, comma-separated lists split."""
    overrides: dict[str, object] = {}
    for key in CONFIG_OPTIONS:
        value = getattr(args, key.replace("-", "_"))
        if value is not None and key in LIST_OPTIONS:
            overrides[key] = [item.strip() for item in value.split(",") if item.strip()]
        elif value is not None:
            overrides[key] = value
    return overrides


def _reads_stdin(args: argparse.Namespace) -> bool:
    if STDIN in args.paths and len(args.paths) > 1:
        raise UsageError("'-' (stdin) cannot be combined with other paths")
    if args.stdin_filename and args.paths and args.paths != [STDIN]:
        raise UsageError("--stdin-filename names stdin: give '-' (or no path) to read it")
    return args.paths == [STDIN] or bool(args.stdin_filename and not args.paths)


def _show_settings(args: argparse.Namespace, resolver: Resolver) -> int:
    path = args.stdin_filename if _reads_stdin(args) else (args.paths or ["."])[0]
    absolute = os.path.abspath(path)
    project = resolver.for_directory(absolute) if os.path.isdir(absolute) else resolver.for_file(absolute)
    settings = project.settings.for_path(absolute)
    enabled = [info["code"] for info in rule_infos() if settings.enabled(info["code"], info["default_enabled"])]
    sys.stdout.write(show_settings(project, path, enabled))
    return EXIT_CLEAN


def _add_noqa(path: str, source: SourceText, findings: list[Finding], errors: list[FileError]) -> tuple[int, int]:
    from initlint.fix import encode_like, write_atomic

    wanted = [f for f in findings if f.code not in (SYNTAX_ERROR_CODE, UNUSED_NOQA_CODE)]
    text, added, skipped = add_noqa(source.text, wanted)
    if added:
        reason = write_atomic(path, encode_like(text, source.encoding, source.had_bom), expected_original=source.data)
        if reason is not None:
            errors.append(FileError(path, reason))
            return 0, skipped
    return added, skipped


def _report_noqa(added: int, skipped: int, errors: list[FileError]) -> int:
    print(f"Added {added} noqa directive{'' if added == 1 else 's'}.", file=sys.stderr)
    if skipped:
        print(f"warning: {skipped} line{'' if skipped == 1 else 's'} with findings could not take a noqa comment "
              "(the line ends inside a multi-line string or a backslash continuation)", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_CLEAN


def run_rule(args: argparse.Namespace) -> int:
    if args.all:
        if args.rule:
            raise UsageError("give either a rule or --all, not both")
        infos = rule_infos()
        if args.output_format == "json":
            print(json.dumps(infos, indent=2, ensure_ascii=False))
        elif args.output_format == "markdown":
            sys.stdout.write(markdown_table())
        else:
            code_width = max(len(info["code"]) for info in infos)
            name_width = max(len(info["name"]) for info in infos)
            for info in infos:
                print(f"{info['code']:<{code_width}}  {info['name']:<{name_width}}  {info['summary']}".rstrip())
        return EXIT_CLEAN
    if not args.rule:
        raise UsageError("name a rule (a code such as INI001, or its name), or pass --all")
    info = next((info for info in rule_infos() if args.rule.upper() == info["code"] or args.rule == info["name"]), None)
    if info is None:
        raise UsageError(f"unknown rule {printable(args.rule)!r} (see 'initlint rule --all')")
    if args.output_format == "json":
        print(json.dumps(info, indent=2, ensure_ascii=False))
    else:
        print(f"# {info['name']} ({info['code']})\n\n{info['explanation']}")
        if info["url"]:
            print(f"\nMore: {info['url']}")
    return EXIT_CLEAN


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
