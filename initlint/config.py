"""`[tool.initlint]` in pyproject.toml: finding it, checking it, and merging it with the command line.

As in Ruff, a file is governed by the nearest pyproject.toml with a `[tool.initlint]` table in its directory or
above it (failing that, the one governing the working directory); `--config FILE` names one file for
everything and `--isolated` ignores them all. Paths and globs in a config file are relative to its directory,
on the command line to the working directory. Command-line options override the file's; `extend-*` options
add to it.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from initlint.files import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, FileFilter, GlobSet, os_error_reason
from initlint.report import OUTPUT_FORMATS, printable
from initlint.settings import PerFileIgnore, RuleSelection, Settings

CONFIG_FILE = "pyproject.toml"
DEFAULT_CACHE_DIR = ".initlint_cache"
SELECT_EVERYTHING = "ALL"
RULE_KEYS = ("select", "extend-select", "ignore")


class ConfigError(Exception):
    """A config file or option that cannot be used: one line naming the file and key, exit status 2."""


@dataclass(frozen=True)
class Value:
    value: object
    origin: str  # "default", a config file's path, or a command-line option


# -- converters: (raw value, where it was given, the directory it is relative to) -> value -------------------


def _strings(raw: object, where: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f"{where}: expected a list of strings, got {_toml(raw)}")
    return raw


def _codes(raw: object, where: str, base: str) -> frozenset[str]:
    return frozenset(parse_selectors(_strings(raw, where), where))


def _globs(raw: object, where: str, base: str) -> GlobSet:
    return GlobSet.of(_strings(raw, where), base)


def _paths(raw: object, where: str, base: str) -> tuple[str, ...]:
    return tuple(os.path.normpath(os.path.join(base, os.path.expanduser(item))) for item in _strings(raw, where))


def _path(raw: object, where: str, base: str) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: expected a string, got {_toml(raw)}")
    return os.path.normpath(os.path.join(base, os.path.expanduser(raw)))


def _bool(raw: object, where: str, base: str) -> bool:
    if not isinstance(raw, bool):
        raise ConfigError(f"{where}: expected true or false, got {_toml(raw)}")
    return raw


def _output_format(raw: object, where: str, base: str) -> str:
    if raw not in OUTPUT_FORMATS:
        raise ConfigError(f"{where}: expected one of {', '.join(OUTPUT_FORMATS)}, got {_toml(raw)}")
    return raw


def _per_file_ignores(raw: object, where: str, base: str) -> tuple[PerFileIgnore, ...]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of glob = [codes], got {_toml(raw)}")
    return tuple(PerFileIgnore(pattern, GlobSet.of([pattern], base), _codes(codes, f"{where}.{_toml(pattern)}", base))
                 for pattern, codes in raw.items())


Converter = Callable[[object, str, str], object]
OPTIONS: dict[str, tuple[Converter, Callable[[str], object]]] = {  # key: (converter, default for a root)
    "select": (_codes, lambda root: None),
    "extend-select": (_codes, lambda root: frozenset()),
    "ignore": (_codes, lambda root: frozenset()),
    "per-file-ignores": (_per_file_ignores, lambda root: ()),
    "include": (_globs, lambda root: GlobSet.of(DEFAULT_INCLUDE, root)),
    "extend-include": (_globs, lambda root: GlobSet()),
    "exclude": (_globs, lambda root: GlobSet.of(DEFAULT_EXCLUDE, root)),
    "extend-exclude": (_globs, lambda root: GlobSet()),
    "force-exclude": (_bool, lambda root: False),
    "src": (_paths, lambda root: (root, os.path.join(root, "src"))),
    "unsafe-fixes": (_bool, lambda root: False),
    "output-format": (_output_format, lambda root: "full"),
    "cache-dir": (_path, lambda root: os.path.join(root, DEFAULT_CACHE_DIR)),
}
EXTENDING = ("extend-select", "ignore", "extend-include", "extend-exclude")  # the command line adds to these
DEFAULT, RESET = "default", "reset by --select"


def parse_selectors(items: Iterable[str], where: str) -> list[str]:
    """Rule codes or code prefixes, upper-cased; ALL becomes the empty prefix. Unknown ones are an error."""
    known = _known_codes()
    selectors = []
    for item in items:
        selector = item.strip().upper()
        if not selector:
            continue
        if selector == SELECT_EVERYTHING:
            selector = ""
        elif not any(code.startswith(selector) for code in known):
            raise ConfigError(f"{where}: unknown rule code or prefix {printable(item.strip())!r} "
                              "(see 'initlint rule --all')")
        selectors.append(selector)
    return selectors


def _known_codes() -> list[str]:
    from initlint.report.rules import rule_infos

    return [info["code"] for info in rule_infos()]


# -- projects ------------------------------------------------------------------------------------------------


@dataclass
class Project:
    """The options of one config file (or the defaults) with the command line's applied."""

    root: str  # the directory its paths are relative to
    config_path: str | None
    options: dict[str, Value]
    rule_layers: tuple[RuleSelection, ...]  # the config file's, then the command line's

    def __getitem__(self, key: str) -> object:
        return self.options[key].value

    @cached_property
    def settings(self) -> Settings:
        *inherited, cli = self.rule_layers
        return Settings(cli.select, cli.extend_select, cli.ignore, tuple(inherited),
                        per_file_ignores=self["per-file-ignores"], unsafe_fixes=self["unsafe-fixes"], src=self["src"])

    @cached_property
    def files(self) -> FileFilter:
        return FileFilter(self.root, self["include"] | self["extend-include"], self["exclude"] | self["extend-exclude"],
                          self["force-exclude"])


def build_project(root: str, config_path: str | None, table: dict, overrides: dict[str, Value]) -> Project:
    options = {key: Value(default(root), DEFAULT) for key, (_, default) in OPTIONS.items()}
    for key, raw in table.items():
        if key not in OPTIONS:
            guess = difflib.get_close_matches(key, OPTIONS, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else f" (known keys: {', '.join(OPTIONS)})"
            raise ConfigError(f"{config_path}: unknown key {printable(key)!r} in [tool.initlint]{hint}")
        options[key] = Value(OPTIONS[key][0](raw, f"{config_path}: [tool.initlint] {key}", root), config_path)

    def layer(values: dict[str, Value]) -> RuleSelection:
        return RuleSelection(*(values[key].value if key in values else (None if key == "select" else frozenset())
                               for key in RULE_KEYS))

    from_file = {key: options[key] for key in RULE_KEYS if key in table}
    cli = {key: overrides[key] for key in RULE_KEYS if key in overrides}
    restart = "select" in cli  # a command-line select starts afresh, as in Ruff
    layers = (layer(from_file), layer(cli)) if from_file and not restart else (layer(cli),)
    if restart:
        for key in RULE_KEYS:
            options[key] = Value(None if key == "select" else frozenset(), RESET)
    for key, override in overrides.items():
        current = options[key]
        if key in EXTENDING and current.origin not in (DEFAULT, RESET):
            options[key] = Value(current.value | override.value, f"{current.origin}, {override.origin}")
        else:
            options[key] = override
    return Project(root, config_path, options, layers)


def convert_overrides(raw: dict[str, object], cwd: str) -> dict[str, Value]:
    """Command-line values (lists already split at commas) converted like a config file's, relative to `cwd`."""
    return {key: Value(OPTIONS[key][0](value, f"--{key}", cwd), f"--{key}") for key, value in raw.items()}


def read_table(path: str, *, required: bool = False) -> dict | None:
    """The `[tool.initlint]` table of a TOML file; a file other than pyproject.toml without one (an
    `initlint.toml`) holds the keys at its top level. None when a pyproject.toml has no such table."""
    try:
        with open(path, "rb") as stream:
            data = tomllib.load(stream)
    except OSError as exc:
        raise ConfigError(f"{path}: {os_error_reason(exc)}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    tool = data.get("tool")
    table = tool.get("initlint") if isinstance(tool, dict) else None
    if table is None:
        return data if os.path.basename(path) != CONFIG_FILE else ({} if required else None)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.initlint] must be a table")
    return table


class Resolver:
    """Which project governs each directory, with the config files read once each."""

    def __init__(self, overrides: dict[str, object] | None = None, *, config: str | None = None,
                 isolated: bool = False, cwd: str | None = None) -> None:
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self._overrides = convert_overrides(overrides or {}, self.cwd)
        self._nearest: dict[str, str | None] = {}
        self._projects: dict[str | None, Project] = {}
        self._tables: dict[str, dict | None] = {}
        self._fixed: Project | None = None
        if config is not None:
            path = os.path.abspath(config)
            if not os.path.isfile(path):
                raise ConfigError(f"--config: {printable(config)}: No such file")
            self._fixed = self._project(path, read_table(path, required=True))
        elif isolated:
            self._fixed = self._project(None, {})

    @property
    def root_project(self) -> Project:
        """The project of the working directory: global options (output format, cache) come from it."""
        return self.for_directory(self.cwd)

    def for_file(self, path: str) -> Project:
        return self.for_directory(os.path.dirname(os.path.abspath(path)))

    def for_directory(self, directory: str) -> Project:
        if self._fixed is not None:
            return self._fixed
        config = self._nearest_config(directory) or self._nearest_config(self.cwd)
        return self._project(config, self._tables[config] if config else {})

    def file_filter(self, directory: str) -> FileFilter:
        return self.for_directory(directory).files

    def _nearest_config(self, directory: str) -> str | None:
        if directory not in self._nearest:
            candidate = os.path.join(directory, CONFIG_FILE)
            if os.path.isfile(candidate) and self._table(candidate) is not None:
                self._nearest[directory] = candidate
            else:
                parent = os.path.dirname(directory)
                self._nearest[directory] = None if parent == directory else self._nearest_config(parent)
        return self._nearest[directory]

    def _table(self, path: str) -> dict | None:
        if path not in self._tables:
            self._tables[path] = read_table(path)
        return self._tables[path]

    def _project(self, config: str | None, table: dict) -> Project:
        if config not in self._projects:
            root = os.path.dirname(config) if config else self.cwd
            self._projects[config] = build_project(root, config, table, self._overrides)
        return self._projects[config]


# -- --show-settings -----------------------------------------------------------------------------------------


def show_settings(project: Project, path: str, enabled_codes: list[str]) -> str:
    """The effective settings for `path`, one `key = value  # origin` line each."""
    lines = [f"Settings for: {printable(path)}",
             f"Config file: {printable(project.config_path) if project.config_path else 'none (defaults)'}", ""]
    width = max(len(key) for key in OPTIONS)
    for key in OPTIONS:
        option = project.options[key]
        lines.append(f"{key:<{width}} = {_toml(_plain(option.value))}  # {printable(option.origin)}")
    ignored_here = sorted(project.settings.for_path(path).file_ignore)
    if ignored_here:
        lines.append(f"{'':<{width}}   ({', '.join(ignored_here)} ignored in this file by per-file-ignores)")
    lines += ["", f"Enabled rules: {', '.join(enabled_codes) or 'none'}"]
    return "\n".join(lines) + "\n"


def _plain(value: object) -> object:
    if isinstance(value, GlobSet):
        return list(value.patterns)
    if isinstance(value, frozenset):
        return sorted(code or SELECT_EVERYTHING for code in value)
    if isinstance(value, tuple) and all(isinstance(item, PerFileIgnore) for item in value):
        return {entry.pattern: _plain(entry.codes) for entry in value}
    return list(value) if isinstance(value, tuple) else value


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(the default rules)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else printable(repr(value))
