"""Build inputs: read once (Dockerfile, context, the files a build can copy), then sealed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from imgviz.builders import get_builder
from imgviz.dockerfile.build import (CascadeError, ContextRules, git_commits, load_build,
                                     load_git_revisions)
from imgviz.dockerfile.context import ContextError


def _tree(root, files):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_reads_what_copy_can_select_and_nothing_else(tmp_path):
    root = _tree(tmp_path / "ctx", {
        "Dockerfile": "FROM b\nARG D=src\nCOPY app.txt /app/\nCOPY conf/*.ini /etc/\nCOPY $D/lib /lib\n"
                      "COPY --from=b /x /x\nRUN --mount=type=bind,source=tools,target=/t true\n",
        "app.txt": "a", "conf/a.ini": "i", "conf/b.txt": "t", "src/lib/x.py": "x", "big/blob.bin": "b" * 1000,
        "tools/t.sh": "t",
    })
    b = load_build(root)
    hashed = set(b.context._digests)
    # the variable cuts `$D/lib` to the whole context: everything is read, conservatively
    assert hashed == {r.path for r in b.context.files.values() if r.kind == "file"}
    assert {"app.txt", "conf/a.ini", "src/lib/x.py", "tools/t.sh", "big/blob.bin"} <= hashed
    root2 = _tree(tmp_path / "ctx2", {"Dockerfile": "FROM b\nCOPY app.txt conf/*.ini /app/\n", "app.txt": "a",
                                      "conf/a.ini": "i", "conf/b.txt": "t", "big/blob.bin": "b"})
    assert set(load_build(root2).context._digests) == {"app.txt", "conf/a.ini"}


def test_sealed_context_reads_nothing(tmp_path):
    root = _tree(tmp_path / "ctx", {"Dockerfile": "FROM b\nCOPY a.txt /a\n", "a.txt": "a", "other.txt": "o"})
    b = load_build(root)
    shutil.rmtree(root)
    assert b.context.token(["a.txt"])[2] == []     # hashed at load time
    with pytest.raises(ContextError, match="'other.txt' of the build context .* was not read"):
        b.context.digest("other.txt")
    with pytest.raises(ContextError, match="is sealed"):
        b.context.hash_all()


def test_ignore_file_is_the_builders(tmp_path):
    root = _tree(tmp_path / "ctx", {"Dockerfile": "FROM b\nCOPY . /x\n", "Dockerfile.dockerignore": "secret\n",
                                    ".dockerignore": "other\n", "secret": "s", "other": "o"})
    bk = load_build(root, rules=get_builder("buildkit").context_rules)
    cl = load_build(root, rules=get_builder("classic").context_rules)
    assert "secret" not in bk.context.files and "other" in bk.context.files
    assert "secret" in cl.context.files and "other" not in cl.context.files
    assert load_build(root).rules == ContextRules() == cl.rules
    assert bk.context.ignore_choice_matters and cl.context.ignore_choice_matters
    plain = _tree(tmp_path / "plain", {"Dockerfile": "FROM b\n", ".dockerignore": "x\n"})
    assert not load_build(plain).context.ignore_choice_matters


@pytest.mark.parametrize("files, message", [
    (None, "build directory '.*nope' does not exist"),
    ({"a.txt": "a"}, "no Dockerfile at '.*Dockerfile'"),
])
def test_errors_name_the_thing(tmp_path, files, message):
    root = tmp_path / "nope" if files is None else _tree(tmp_path / "ctx", files)
    with pytest.raises(CascadeError, match=message):
        load_build(root)


@pytest.mark.parametrize("engine, files, line, message", [
    ("20.10", {"Dockerfile": "FROM b\nCOPPY a b\n"}, 2, "unknown instruction: COPPY"),
    ("28.5", {"Dockerfile": "FROM b\nCOPPY a b\n"}, 2, "unknown instruction: COPPY (did you mean COPY?)"),
    ("20.10", {"Dockerfile": ""}, None, "the Dockerfile (Dockerfile) cannot be empty"),
    ("28.5", {"Dockerfile": "FROM b\nCOPY . /x\n", ".dockerignore": "a[\n"}, None, "syntax error in pattern"),
])
def test_refusals_are_carried_not_raised(tmp_path, engine, files, line, message):
    """What the builder refuses while reading is part of the input: the prediction reports it as the
    build's failure."""
    b = load_build(_tree(tmp_path / "ctx", files), rules=ContextRules(engine=engine, builder="classic"))
    assert b.refusal is not None and b.refusal.line == line and message in b.refusal.message
    assert b.context.sealed


def test_git_revisions_are_read_then_removed(tmp_path):
    repo = tmp_path / "repo"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _tree(repo, {"app/Dockerfile": "FROM b\nCOPY a.txt /a\n", "app/a.txt": "one\n", "README": "r"})
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    (repo / "README").write_text("r2")
    subprocess.run([*git, "commit", "-qam", "readme"], check=True)
    (repo / "app" / "a.txt").write_text("two\n")
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    commits = git_commits(repo, "app")
    assert len(commits) == 2 and len(git_commits(repo)) == 3
    builds = load_git_revisions(repo, commits, "app")
    assert [b.context.token(["a.txt"])[0] for b in builds][0] != builds[1].context.token(["a.txt"])[0]
    assert all(not b.context.root.exists() and not b.context.mtimes_known for b in builds)
    with pytest.raises(CascadeError, match="git revision 'nope' of .*repo"):
        load_git_revisions(repo, ["nope"], "app")
    with pytest.raises(CascadeError, match="is not a git repository"):
        git_commits(tmp_path)
