#!/usr/bin/env python3
"""Benchmark initlint against a baseline measured in the same run, on corpus paths you pass.

    python benchmarks/bench.py ../corpus/timm-1.0.31 ../corpus/torchvision-0.29.1 --runs 5 \
        --single ../corpus/timm-1.0.31/timm/models/resnet.py

It fetches nothing. It times, as medians over --runs rounds (every command once per round, so that the
machine's noise falls on all of them alike):
  - baseline: one process that reads and `ast.parse`s every file (the issue's yardstick)
  - initlint check, cold (--no-cache), cold analysing each file alone (--single-file), and warm (cache filled
    by a first run)
  - ruff (every rule) and TorchFix, when they are installed, on the same paths
  - with --single FILE: the whole `initlint check FILE` process against a `python -c` process that only reads
    and parses that file (the pre-commit case)
and prints a Markdown table of seconds and ratios to the baseline, plus initlint's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PARSE_ALL = """
import ast, os, sys
for root in sys.argv[1:]:
    paths = [root] if root.endswith('.py') else [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith('.py')]
    for path in paths:
        try:
            ast.parse(open(path, 'rb').read())
        except (SyntaxError, ValueError):
            pass
"""


# Measure as users run it: with bytecode caching (some sandboxes set PYTHONDONTWRITEBYTECODE, which makes every
# run recompile initlint's own modules).
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], runs: int, env=None, before=None) -> tuple[float, int]:
    """Median wall time of `command` over `runs` runs, and the largest peak RSS (KiB) of a child seen."""
    times = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or CHILD_ENV)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return statistics.median(times), peak


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time of each command, run in rounds (each command once per round), so that the machine's
    slow and fast moments fall on every command alike and the ratios between them hold."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=CHILD_ENV)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--single", help="one model file for the pre-commit case")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    python = sys.executable
    initlint = [python, "-m", "initlint", "check", "--exit-zero", "--output-format", "concise"]
    if args.jobs:
        initlint += ["--jobs", str(args.jobs)]
    cache = tempfile.mkdtemp(prefix="initlint-bench-")
    subprocess.run([*initlint, "--cache-dir", cache, *args.paths], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=CHILD_ENV)  # fills the cache for the warm runs
    commands = {
        "ast.parse baseline (1 process)": [python, "-c", PARSE_ALL, *args.paths],
        "initlint check, cold": [*initlint, "--no-cache", *args.paths],
        "initlint check --single-file, cold": [*initlint, "--no-cache", "--single-file", *args.paths],
        "initlint check, warm cache": [*initlint, "--cache-dir", cache, *args.paths],
    }
    if shutil.which("ruff"):
        commands["ruff check --select ALL"] = ["ruff", "check", "--select", "ALL", "--exit-zero", "--no-cache",
                                              *args.paths]
    medians = interleaved(commands, args.runs)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if shutil.which("torchfix"):
        medians["torchfix (-j2)"] = timed(["torchfix", "--select", "ALL", "-j", "2", *args.paths], 1)[0]
    shutil.rmtree(cache, ignore_errors=True)
    baseline = medians["ast.parse baseline (1 process)"]
    files = sum(1 for root in args.paths for _d, _s, fs in os.walk(root) for f in fs if f.endswith(".py"))
    print(f"{files} files, median of {args.runs} interleaved runs, {os.cpu_count()} cores\n")
    print("| command | seconds | x baseline |\n|---|---|---|")
    for name, seconds in medians.items():
        print(f"| {name} | {seconds:.2f} | {seconds / baseline:.2f} |")
    print(f"\ninitlint peak RSS of a process: {peak / 1024:.0f} MB")
    if args.single:
        single = interleaved({"parse": [python, "-c", PARSE_ALL, args.single],
                              "project": [*initlint, "--no-cache", args.single],
                              "alone": [*initlint, "--no-cache", "--single-file", args.single]}, args.runs)
        print(f"\nsingle file {args.single}: initlint {single['project']:.3f}s (--single-file "
              f"{single['alone']:.3f}s), read+parse process {single['parse']:.3f}s, ratio "
              f"{single['project'] / single['parse']:.2f} ({single['alone'] / single['parse']:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
