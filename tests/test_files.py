"""File discovery (`initlint.files.discover`) and reading (`initlint.files.read_source`)."""

from __future__ import annotations

import os

import pytest

import initlint.files
from initlint.files import discover, read_source


def make(root, relative: str, content: str | bytes = "x = 1\n"):
    """Create `root/relative` (and its directories) holding `content`."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- discover ---------------------------------------------------------------------------------------------


def test_default_path_is_the_current_directory_and_order_is_sorted(in_tmp):
    for name in ("b.py", "a.py", "pkg/z.py", "pkg/c.py", "notes.txt"):
        make(in_tmp, name)
    files, errors, warnings = discover([])
    assert files == ["a.py", "b.py", os.path.join("pkg", "c.py"), os.path.join("pkg", "z.py")]
    assert (errors, warnings) == ([], [])


def test_skips_hidden_pycache_and_virtualenv_directories(in_tmp):
    make(in_tmp, "kept.py")
    make(in_tmp, ".hidden/secret.py")
    make(in_tmp, "pkg/__pycache__/cached.py")
    make(in_tmp, "env/pyvenv.cfg", "home = /usr/bin\n")
    make(in_tmp, "env/lib/site.py")
    make(in_tmp, "notenv/mod.py")  # a directory without pyvenv.cfg is walked
    files, _, _ = discover(["."])
    assert files == ["kept.py", os.path.join("notenv", "mod.py")]


def test_gitignore_at_the_root_and_nested(in_tmp):
    make(in_tmp, ".gitignore", "build/\ngenerated_*.py\n")
    make(in_tmp, "build/out.py")
    make(in_tmp, "generated_model.py")
    make(in_tmp, "model.py")
    make(in_tmp, "sub/.gitignore", "local.py\n!generated_keep.py\n")
    make(in_tmp, "sub/local.py")
    make(in_tmp, "sub/generated_keep.py")  # re-included by the deeper .gitignore
    make(in_tmp, "sub/other.py")
    make(in_tmp, "local.py")  # sub/.gitignore does not reach its parent
    files, _, _ = discover(["."])
    assert files == ["local.py", "model.py", os.path.join("sub", "generated_keep.py"), os.path.join("sub", "other.py")]


def test_gitignore_of_ancestor_directories_inside_a_git_repository(in_tmp):
    (in_tmp / ".git").mkdir()
    make(in_tmp, ".gitignore", "*_pb2.py\n")
    make(in_tmp, "src/proto_pb2.py")
    make(in_tmp, "src/model.py")
    files, _, _ = discover(["src"])
    assert files == [os.path.join("src", "model.py")]


def test_gitignore_of_ancestor_directories_outside_a_git_repository_is_not_read(tmp_path, monkeypatch):
    make(tmp_path, ".gitignore", "*_pb2.py\n")
    make(tmp_path, "src/proto_pb2.py")
    monkeypatch.chdir(tmp_path / "src")
    files, _, _ = discover(["."])
    assert files == ["proto_pb2.py"]


def test_explicitly_named_files_are_always_included(in_tmp):
    make(in_tmp, ".gitignore", "ignored.py\n")
    make(in_tmp, "ignored.py")
    make(in_tmp, ".hidden/secret.py")
    make(in_tmp, "script", "print(1)\n")  # not .py
    files, errors, _ = discover(["ignored.py", ".hidden/secret.py", "script"])
    assert files == [os.path.join(".hidden", "secret.py"), "ignored.py", "script"]
    assert errors == []


def test_explicitly_named_ignored_directory_is_walked(in_tmp):
    (in_tmp / ".git").mkdir()
    make(in_tmp, ".gitignore", "build/\n")
    make(in_tmp, "build/out.py")
    files, _, warnings = discover(["build"])
    assert files == [os.path.join("build", "out.py")]
    assert warnings == []


def test_missing_path_is_an_error_and_the_other_paths_are_still_found(in_tmp):
    make(in_tmp, "a.py")
    files, errors, _ = discover(["missing.py", "a.py"])
    assert files == ["a.py"]
    assert [(e.path, e.reason) for e in errors] == [("missing.py", "No such file or directory")]


def test_directory_without_python_files_is_a_warning(in_tmp):
    make(in_tmp, "docs/readme.md", "# hi\n")
    files, errors, warnings = discover(["docs"])
    assert (files, errors) == ([], [])
    assert warnings == ["No Python files found under docs"]


def test_duplicates_are_removed(in_tmp):
    make(in_tmp, "a.py")
    files, _, _ = discover(["a.py", "./a.py", ".", str(in_tmp / "a.py")])
    assert files == ["a.py"]


def test_directory_symlinks_are_not_followed(in_tmp):
    make(in_tmp, "pkg/a.py")
    try:
        os.symlink(in_tmp, in_tmp / "pkg" / "loop", target_is_directory=True)
    except OSError:
        pytest.skip("symbolic links are not available")
    files, errors, _ = discover(["."])
    assert files == [os.path.join("pkg", "a.py")]
    assert errors == []


def test_unreadable_subdirectory_is_an_error(in_tmp, monkeypatch):
    make(in_tmp, "a.py")
    make(in_tmp, "locked/b.py")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(initlint.files.os, "scandir", scandir)
    files, errors, _ = discover(["."])
    assert files == ["a.py"]
    assert [(e.path, e.reason) for e in errors] == [("locked", "Permission denied")]


# -- read_source ------------------------------------------------------------------------------------------


def test_read_utf8(tmp_path):
    text, error = read_source(str(make(tmp_path, "a.py", "s = 'é'\n")))
    assert (text, error) == ("s = 'é'\n", None)


def test_read_latin1_cookie(tmp_path):
    path = make(tmp_path, "a.py", b"# -*- coding: latin-1 -*-\ns = '\xe9'\n")
    text, error = read_source(str(path))
    assert error is None
    assert text.splitlines()[1] == "s = 'é'"


def test_read_strips_the_bom(tmp_path):
    text, error = read_source(str(make(tmp_path, "a.py", b"\xef\xbb\xbfx = 1\n")))
    assert (text, error) == ("x = 1\n", None)


def test_read_empty_file(tmp_path):
    assert read_source(str(make(tmp_path, "a.py", b""))) == ("", None)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00bad\n", b"x = 1\ny = 2\nz = '\xff\xfe\x00bad'\n"])
def test_read_undecodable_bytes_is_an_error(tmp_path, content):
    path = str(make(tmp_path, "a.py", content))
    text, error = read_source(path)
    assert text is None
    assert error.path == path
    assert error.reason.startswith("cannot decode: ")
    assert "\n" not in error.reason
    assert not error.internal


def test_read_directory_is_an_error(tmp_path):
    (tmp_path / "x.py").mkdir()
    text, error = read_source(str(tmp_path / "x.py"))
    assert text is None
    assert error.reason == "Is a directory"


def test_read_fifo_is_an_error_not_a_hang(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    os.mkfifo(tmp_path / "pipe.py")
    text, error = read_source(str(tmp_path / "pipe.py"))
    assert text is None
    assert error.reason == "not a regular file"


def test_read_missing_file_is_an_error(tmp_path):
    text, error = read_source(str(tmp_path / "gone.py"))
    assert text is None
    assert error.reason == "No such file or directory"


def test_read_permission_error_simulated(tmp_path, monkeypatch):
    path = make(tmp_path, "a.py")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(initlint.files, "open", denied, raising=False)
    text, error = read_source(str(path))
    assert text is None
    assert error.reason == "Permission denied"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_read_permission_error_real(tmp_path):
    path = make(tmp_path, "a.py")
    path.chmod(0)
    try:
        text, error = read_source(str(path))
    finally:
        path.chmod(0o644)
    assert text is None
    assert error.reason == "Permission denied"
