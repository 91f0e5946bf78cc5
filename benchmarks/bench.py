#!/usr/bin/env python3
"""Benchmark initlint against a baseline measured in the same run, on corpus paths you pass.

    python benchmarks/bench.py ../corpus/timm-1.0.31 ../corpus/torchvision-0.29.1 --runs 5 \
        --single ../corpus/timm-1.0.31/timm/models/resnet.py

It fetches nothing. It times, as medians over --runs runs:
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
    rows = []
    baseline, _ = timed([python, "-c", PARSE_ALL, *args.paths], args.runs)
    rows.append(("ast.parse baseline (1 process)", baseline))
    cold, peak = timed([*initlint, "--no-cache", *args.paths], args.runs)
    rows.append(("initlint check, cold", cold))
    rows.append(("initlint check --single-file, cold", timed([*initlint, "--no-cache", "--single-file", *args.paths],
                                                             args.runs)[0]))
    subprocess.run([*initlint, "--cache-dir", cache, *args.paths], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=CHILD_ENV)
    warm, _ = timed([*initlint, "--cache-dir", cache, *args.paths], args.runs)
    rows.append(("initlint check, warm cache", warm))
    if shutil.which("ruff"):
        rows.append(("ruff check --select ALL", timed(["ruff", "check", "--select", "ALL", "--exit-zero", "--no-cache",
                                                        *args.paths], args.runs)[0]))
    if shutil.which("torchfix"):
        rows.append(("torchfix (-j2)", timed(["torchfix", "--select", "ALL", "-j", "2", *args.paths], 1)[0]))
    shutil.rmtree(cache, ignore_errors=True)
    files = sum(1 for root in args.paths for _d, _s, fs in os.walk(root) for f in fs if f.endswith(".py"))
    print(f"{files} files, median of {args.runs} runs, {os.cpu_count()} cores\n")
    print("| command | seconds | x baseline |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / baseline:.2f} |")
    print(f"\ninitlint peak RSS of a process: {peak / 1024:.0f} MB")
    if args.single:
        single_base, _ = timed([python, "-c", PARSE_ALL, args.single], args.runs)
        single, _ = timed([*initlint, "--no-cache", args.single], args.runs)
        alone, _ = timed([*initlint, "--no-cache", "--single-file", args.single], args.runs)
        print(f"\nsingle file {args.single}: initlint {single:.3f}s (--single-file {alone:.3f}s), read+parse "
              f"process {single_base:.3f}s, ratio {single / single_base:.2f} ({alone / single_base:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
