"""The one output rule (imgviz._output): regular files only, atomic, symlinks followed to an
existing regular file, incomplete content beside an existing file."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from imgviz._output import beside_name, write_file
from imgviz.errors import OutputError


def test_new_and_replaced_files_are_whole_and_keep_their_mode(tmp_path):
    path = tmp_path / "out.bin"
    w = write_file(path, b"one")
    assert path.read_bytes() == b"one" and not w.replaced and not w.beside and w.path == path
    os.chmod(path, 0o640)
    w = write_file(path, b"two")
    assert path.read_bytes() == b"two" and w.replaced and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_nothing_else(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")

    def half(fh):
        fh.write(b"half of it")
        raise RuntimeError("the producer failed")

    with pytest.raises(RuntimeError):
        write_file(path, half)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def _fifo(p):
    os.mkfifo(p)


def _device(p):
    os.mknod(p, stat.S_IFCHR | 0o600, os.makedev(1, 3))


def _socket(p):
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(p))
    s.close()


@pytest.mark.parametrize("make, word", [(lambda p: p.mkdir(), "a directory"), (_fifo, "a FIFO"),
                                        (_device, "a character device"), (_socket, "a socket")])
def test_only_regular_files_are_replaced(tmp_path, make, word):
    if make is _device and os.geteuid() != 0:
        pytest.skip("mknod needs root")
    target = tmp_path / "target"
    make(target)
    before = os.lstat(target)
    with pytest.raises(OutputError, match=f"target: is {word}; imgviz only replaces regular files"):
        write_file(target, b"x", force=True)
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(OutputError, match=word):
        write_file(link, b"x", force=True)


def test_symlinks_are_followed_to_an_existing_regular_file(tmp_path):
    real = tmp_path / "real.html"
    real.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    w = write_file(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new" and w.path == real and w.replaced
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="does not exist"):
        write_file(dangling, b"x")
    assert not (tmp_path / "nowhere").exists()


def test_paths_that_cannot_be_written(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="the directory .* does not exist"):
        write_file(tmp_path / "no" / "dir" / "x", b"x")
    with pytest.raises(OutputError, match="not a directory"):
        write_file(tmp_path / "file" / "x", b"x")
    with pytest.raises(OutputError, match="empty output path"):
        write_file("", b"x")


def test_incomplete_content_goes_beside_an_existing_file(tmp_path):
    path = tmp_path / "engine.json.gz"
    path.write_bytes(b"complete")
    w = write_file(path, b"partial", complete=False)
    assert path.read_bytes() == b"complete" and w.beside and w.path != path
    assert w.path.name.startswith("engine.incomplete-") and w.path.name.endswith(".json.gz")
    assert w.path.read_bytes() == b"partial"
    again = write_file(path, b"partial 2", complete=False)  # a second one never replaces the first
    assert again.path != w.path and w.path.read_bytes() == b"partial"
    forced = write_file(path, b"partial 3", complete=False, force=True)
    assert forced.path == path and path.read_bytes() == b"partial 3"
    fresh = write_file(tmp_path / "new.json.gz", b"partial", complete=False)
    assert fresh.path == tmp_path / "new.json.gz" and not fresh.beside


def test_replace_false_keeps_an_existing_file_unless_forced(tmp_path):
    path = tmp_path / "s.json.gz"
    path.write_bytes(b"kept")
    with pytest.raises(OutputError, match="exists; .*--force"):
        write_file(path, b"x", replace=False, what="snapshot")
    assert path.read_bytes() == b"kept"
    assert write_file(path, b"x", replace=False, force=True).replaced and path.read_bytes() == b"x"


def test_beside_name_keeps_the_extensions(tmp_path):
    from datetime import datetime, timezone

    when = datetime(2026, 12, 1, 10, 15, tzinfo=timezone.utc)
    assert beside_name(tmp_path / "a.json.gz", when).name == "a.incomplete-20261201T101500Z.json.gz"
    assert beside_name(tmp_path / "report", when).name == "report.incomplete-20261201T101500Z"


def test_snapshot_cli_refuses_an_unwritable_path_before_reading_the_engine(tmp_path, capsys):
    from imgviz.cli import main

    (tmp_path / "adir").mkdir()
    code = main(["snapshot", "-o", str(tmp_path / "adir"), "--host", f"unix://{tmp_path}/none.sock"])
    err = capsys.readouterr().err
    assert code == 1 and "is a directory" in err and "no Docker engine" not in err
