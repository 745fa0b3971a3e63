"""File identity: content, mode, type and symlink target matter; mtime and owner do not."""

import os

import pytest

from imgviz.dockerfile.context import BuildContext, ContextError


def _ctx(tmp_path, files, ignore=None):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    if ignore is not None:
        (tmp_path / ".dockerignore").write_text(ignore)
    return tmp_path


def _token(path, sources):
    return BuildContext(path).token(sources)[0]


def test_mtime_and_owner_do_not_matter(tmp_path):
    root = _ctx(tmp_path, {"a.txt": "x\n"})
    before = _token(root, ["a.txt"])
    os.utime(root / "a.txt", ns=(1, 1))
    os.chown(root / "a.txt", 1234, 5678)
    assert _token(root, ["a.txt"]) == before


@pytest.mark.parametrize("change", ["content", "mode", "symlink", "type"])
def test_identity_changes(tmp_path, change):
    root = _ctx(tmp_path, {"d/a.txt": "x\n", "d/b.txt": "y\n"})
    (root / "d" / "l").symlink_to("a.txt")
    before = _token(root, ["d"])
    if change == "content":
        (root / "d" / "a.txt").write_text("X\n")
    elif change == "mode":
        os.chmod(root / "d" / "a.txt", 0o755)
    elif change == "symlink":
        (root / "d" / "l").unlink()
        (root / "d" / "l").symlink_to("b.txt")
    else:
        (root / "d" / "l").unlink()
        (root / "d" / "l").write_text("a.txt")
    assert _token(root, ["d"]) != before


def test_dockerignore_and_selection(tmp_path):
    root = _ctx(tmp_path, {"a.txt": "a", "b.log": "b", "keep.log": "k", "sub/c.txt": "c", "sub/d.log": "d"},
                ignore="*.log\n!keep.log\n")
    ctx = BuildContext(root)
    assert "b.log" not in ctx.files and "keep.log" in ctx.files and "sub/d.log" in ctx.files
    assert ctx.select("*.txt") == ["a.txt"]
    assert ctx.select("sub/*.txt") == ["sub/c.txt"]
    assert ctx.select("./sub/../a.txt") == ["a.txt"]
    assert ctx.select("missing") == []
    token, recs, missing = ctx.token(["a.txt", "nope"])
    assert missing == ["nope"] and [r.path for r in recs] == ["a.txt"]


def test_dockerfile_specific_ignore(tmp_path):
    root = _ctx(tmp_path, {"Dockerfile": "FROM x\n", "Dockerfile.dockerignore": "secret\n", "secret": "s",
                           ".dockerignore": "other\n", "other": "o"})
    assert "secret" in BuildContext(root).files and "other" not in BuildContext(root).files
    ctx = BuildContext(root, "Dockerfile", prefer_dockerfile_ignore=True)
    assert "secret" not in ctx.files and "other" in ctx.files


def test_symlinked_source_is_followed(tmp_path):
    root = _ctx(tmp_path, {"real.txt": "r"})
    (root / "alias.txt").symlink_to("real.txt")
    assert BuildContext(root).select("alias.txt") == ["real.txt"]


def test_not_a_directory(tmp_path):
    with pytest.raises(ContextError, match="is not a directory"):
        BuildContext(tmp_path / "nope")
