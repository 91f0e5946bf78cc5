#!/usr/bin/env python3
"""Prove the cheap pre-filter never skips a file that has findings: lint every file with and without it.

    python scripts/prefilter_check.py ../corpus [--select ALL]

Prints how many files the pre-filter skips, and every file it skips that has findings (there must be none);
exits 1 if there is one.
"""

from __future__ import annotations

import argparse
import os
import sys

from initlint.engine import lint_source, might_matter
from initlint.files import read_source
from initlint.project import project_for
from initlint.settings import Settings


def skipped_with_findings(paths: list[str], settings: Settings) -> tuple[int, list[tuple[str, list[str]]]]:
    """Project-wide, as `initlint check` runs: a skipped file's analysis may not reach other files either."""
    skipped, missed = 0, []
    for path in paths:
        text, error = read_source(path)
        if error is not None or text is None or might_matter(text, settings, project=True):
            continue
        skipped += 1
        project = project_for(package_root(path))
        findings, _ = lint_source(path, text, settings, prefilter=False, project=project)
        # one found here but located in another file is lost only if that file's own analysis lacks it
        findings = [f for f in findings if f.path == path or not _found_by_its_file(f, settings, project)]
        codes = sorted({f.code for f in findings if f.code != "INI999"})
        if codes:
            missed.append((path, codes))
    return skipped, missed


def _found_by_its_file(finding, settings: Settings, project) -> bool:
    text, error = read_source(finding.path)
    if error is not None or text is None:
        return False
    own, _ = lint_source(finding.path, text, settings, project=project)
    return any((f.code, f.start) == (finding.code, finding.start) for f in own)


def package_root(path: str) -> tuple[str, ...]:
    """The directory above the file's top-level package: the root its absolute imports resolve from."""
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory = os.path.dirname(directory)
    return (directory,)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roots", nargs="+")
    parser.add_argument("--select", default="ALL", help="rules to enable (default: ALL, opt-in ones included)")
    args = parser.parse_args()
    from initlint.rules import all_rules

    codes = {rule.code for rule in all_rules()} if args.select == "ALL" else set(args.select.split(","))
    settings = Settings(select=frozenset(codes))
    paths = sorted(os.path.join(d, f) for root in args.roots for d, _, fs in os.walk(root) for f in fs if f.endswith(".py"))
    skipped, missed = skipped_with_findings(paths, settings)
    print(f"{len(paths)} files, {skipped} skipped by the pre-filter, {len(missed)} of those with findings")
    for path, found in missed:
        print(f"  {path}: {', '.join(found)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
