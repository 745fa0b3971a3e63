"""Build inputs that cannot be read, and revisions that must never reach git as options."""

from __future__ import annotations

import os
import subprocess

import pytest

from imgviz.dockerfile import build
from imgviz.dockerfile.build import CascadeError, check_revision, check_subdir, load_build, load_git_revisions
from imgviz.errors import UsageError


def test_an_unreadable_context_file_is_one_line_naming_it(tmp_path, monkeypatch):
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /\n")
    (tmp_path / "a.txt").write_text("x")

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("imgviz.dockerfile.context.sha256_file", refuse)
    with pytest.raises(CascadeError, match=r"a.txt: cannot read a file of the build context \(Permission denied\)"):
        load_build(tmp_path)


@pytest.mark.parametrize("rev", ["--output=/tmp/x", "-n", "", "HEAD..main", "a b", "HEAD\x1b[2J", "x" * 300,
                                 "--upload-pack=touch /tmp/x", "main.lock"])
def test_revisions_that_are_not_revisions(rev):
    with pytest.raises(UsageError, match="not a revision"):
        check_revision(rev)


@pytest.mark.parametrize("rev", ["HEAD", "HEAD~1", "main^2", "v1.2.3", "origin/main", "abc1234", "HEAD@{1}"])
def test_revisions(rev):
    assert check_revision(rev) == rev


@pytest.mark.parametrize("path", ["../..", "/etc", "a/../../b", "", "-x"])
def test_build_directories_stay_inside_the_repository(path):
    with pytest.raises(UsageError, match="inside the repository"):
        check_subdir(path)


def test_git_never_sees_an_option_as_a_revision(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@x")
    subprocess.run(["git", "-C", str(repo), "init", "-q"], check=True, env=env)
    (repo / "Dockerfile").write_text("FROM scratch\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "one"], check=True, env=env)
    owned = tmp_path / "owned"
    with pytest.raises(UsageError):
        load_git_revisions(repo, [f"--output={owned}", "HEAD"])
    assert not owned.exists()
    # a name git would resolve is resolved to a commit ID first, and that ID is what git archive gets
    assert len(build.resolve_revision(repo, "HEAD")) == 40
    with pytest.raises(CascadeError, match="no such commit"):
        build.resolve_revision(repo, "nope")
