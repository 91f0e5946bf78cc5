"""Running over many files: deterministic order in parallel, and a cache that is never wrong."""

from __future__ import annotations

from pathlib import Path

import initlint.engine
from initlint.runner import Cache, lint_files
from initlint.settings import Settings

BAD = "import torch.nn as nn\nw = nn.Linear(2, 2)\nnn.init.xavier_uniform_(w.bias)\n"


def _tree(tmp_path: Path, count: int) -> list[str]:
    paths = []
    for index in range(count):
        path = tmp_path / f"m{index:02d}.py"
        path.write_text(BAD if index % 3 == 0 else "x = 1\n")
        paths.append(str(path))
    return paths


def _summary(results):
    return [(path, [(f.code, f.start.row) for f in findings], errors) for path, findings, errors in results]


def test_parallel_results_equal_serial_results_in_the_same_order(tmp_path):
    paths = _tree(tmp_path, 20)
    serial = lint_files(paths, Settings(), jobs=1)
    parallel = lint_files(paths, Settings(), jobs=2)
    assert [r[0] for r in parallel] == paths
    assert _summary(parallel) == _summary(serial)
    assert sum(len(r[1]) for r in serial) == 7


def test_a_cache_hit_does_not_lint_again(tmp_path, monkeypatch):
    paths = _tree(tmp_path, 3)
    cache = tmp_path / "cache"
    first = lint_files(paths, Settings(), jobs=1, cache_dir=str(cache))

    def fail(*args, **kwargs):
        raise AssertionError("linted although cached")

    monkeypatch.setattr(initlint.engine, "lint_source", fail)
    second = lint_files(paths, Settings(), jobs=1, cache_dir=str(cache))
    assert _summary(second) == _summary(first)
    assert second[0][1][0].fix is not None and second[0][1][0].fix == first[0][1][0].fix


def test_changed_content_or_settings_miss_the_cache(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(BAD)
    cache = tmp_path / "cache"
    assert lint_files([str(path)], Settings(), cache_dir=str(cache))[0][1]
    path.write_text("x = 1\n")
    assert not lint_files([str(path)], Settings(), cache_dir=str(cache))[0][1]
    path.write_text(BAD)
    ignoring = Settings(ignore=frozenset({"INI014"}))
    assert not lint_files([str(path)], ignoring, cache_dir=str(cache))[0][1]


def test_corrupted_cache_entries_are_ignored(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(BAD)
    cache_dir = tmp_path / "cache"
    expected = _summary(lint_files([str(path)], Settings(), cache_dir=str(cache_dir)))
    entries = [p for p in cache_dir.rglob("*.json")]
    assert len(entries) == 1
    entries[0].write_text('{"findings": [{"code": "INI0')  # truncated
    assert _summary(lint_files([str(path)], Settings(), cache_dir=str(cache_dir))) == expected
    key = Cache(cache_dir, Settings()).key(str(path), path.read_bytes())
    assert Cache(cache_dir, Settings()).get(key) is not None  # rewritten


def test_an_unwritable_cache_directory_is_not_an_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    path = tmp_path / "m.py"
    path.write_text(BAD)
    results = lint_files([str(path)], Settings(), cache_dir=str(blocker / "cache"))
    assert results[0][1] and not results[0][2]
