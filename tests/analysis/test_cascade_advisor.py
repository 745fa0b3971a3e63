"""Advisor on the chapter's web-ping case, replayed on the real engine with both builders.

The project has four commits that each edit app.js.  The Dockerfile as first written has CMD last;
the advisor proposes moving it above the COPY (the chapter's optimised form, without merging the
ENV lines).  On the engine we build every commit in turn, with the written and with the proposed
Dockerfile, and check: the advisor's rebuilt-step counts equal the engine's, the proposal
rebuilds less with the classic builder, and both orders give the same image (config and files).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from imgviz._commands.cascade import main
from imgviz.analysis.cascade_advisor import advise
from imgviz.builders import get_builder
from imgviz.dockerfile.build import load_build
from imgviz.sources.engine import engine_version

from ..cascade_scenarios import runner

pytestmark = pytest.mark.engine

WEB_PING = """FROM {BASE}

ENV TARGET="blog.sixeyed.com"
ENV METHOD="HEAD"
ENV INTERVAL="3000"

WORKDIR /web-ping
COPY app.js .

CMD ["sh", "/web-ping/app.js"]
"""
VERSIONS = ["echo ping v1\n", "echo ping v2 with more\n", "echo ping v3 and even more\n",
            "echo ping v4 with the most text of all\n"]


def _repo(path, base):
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "Dockerfile").write_text(WEB_PING.replace("{BASE}", base))
    for i, text in enumerate(VERSIONS, 1):
        (path / "app.js").write_text(text)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", f"v{i}"], check=True)
    revs = subprocess.run([*git, "rev-list", "--reverse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.split()
    return revs


def _export(repo, rev, dest):
    dest.mkdir(parents=True)
    subprocess.run(f"git -C {repo} archive {rev} | tar -x -C {dest}", shell=True, check=True)


def _replay(engine, builder, trees, dockerfile_text, ws, tag, verdicts):
    """Build each tree in turn in one directory; engine's rebuilt-step count per change, read from
    the log by *verdicts* (the parser of the builder that ran: podman's /build runs buildah)."""
    counts = []
    for i, tree in enumerate(trees):
        if ws.exists():
            runner.clear(ws)
        else:
            ws.mkdir(parents=True)
        for p in tree.iterdir():
            subprocess.run(["cp", "-a", str(p), str(ws)], check=True)
        (ws / "Dockerfile").write_text(dockerfile_text)
        log = runner.build(engine, ws, f"{tag}:{i}", builder)
        if i == 0:
            continue
        v = verdicts(log)
        counts.append(sum(1 for c in v.values() if not c))
    return counts


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_web_ping_advice_matches_engine(engine, tmp_path, builder):
    tag = f"imgviz-cascade/advisor-{builder}"
    runner.import_base(engine, runner.busybox_tar(tag), f"{tag}:base")
    # the replay of the proposal gets its own base layers: BuildKit keys do not see the moved CMD,
    # so with one base the second replay would hit the first replay's cache
    runner.import_base(engine, runner.busybox_tar(tag + "-after"), f"{tag}:base-after")
    repo = tmp_path / "repo"
    repo.mkdir()
    revs = _repo(repo, f"{tag}:base")
    trees = []
    for r in revs:
        _export(repo, r, tmp_path / "trees" / r)
        trees.append(tmp_path / "trees" / r)
    rules = get_builder(builder, engine_version(engine.host))   # the engine's own rules (podman: buildah's)
    verdicts = {"buildkit": runner.buildkit_verdicts, "classic": runner.classic_verdicts,
                "buildah": runner.buildah_verdicts}[rules.name]
    result = advise([load_build(t, rules=rules.context_rules) for t in trees], rules)
    proposed = result["dockerfile"]
    # the proposal keeps the image's meaning: CMD moves above COPY, nothing else crosses a step
    assert proposed.index("CMD") < proposed.index("COPY app.js")
    written = WEB_PING.replace("{BASE}", f"{tag}:base")
    before = _replay(engine, builder, trees, written, tmp_path / "ws-before", f"{tag}-before", verdicts)
    after = _replay(engine, builder, trees, proposed.replace(f"{tag}:base", f"{tag}:base-after"),
                    tmp_path / "ws-after", f"{tag}-after", verdicts)
    assert result["before"]["rebuilt"].tolist() == before
    assert result["after"]["rebuilt"].tolist() == after
    if rules.name in ("classic", "buildah"):   # every instruction a step, each on its parent
        assert before == [2, 2, 2] and after == [1, 1, 1]   # COPY + CMD, then COPY only
    else:
        assert before == after == [1, 1, 1]                  # CMD is no step for BuildKit
    # same image either way: config and the file
    a = json.loads(engine.docker("image", "inspect", f"{tag}-before:3").stdout)[0]["Config"]
    b = json.loads(engine.docker("image", "inspect", f"{tag}-after:3").stdout)[0]["Config"]
    for key in ("Env", "Cmd", "WorkingDir", "Entrypoint", "User", "ExposedPorts"):  # Labels: the bases differ
        assert a.get(key) == b.get(key), key
    out_a = engine.docker("run", "--rm", "--network", "none", f"{tag}-before:3").stdout
    out_b = engine.docker("run", "--rm", "--network", "none", f"{tag}-after:3").stdout
    assert out_a == out_b == "ping v4 with the most text of all\n"


def test_advise_cli(tmp_path, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    _repo(repo, "base:1")
    assert main(["--advise", str(repo), "--builder", "classic"]) == 0
    out = capsys.readouterr().out
    assert "total                    6         3" in out
    assert out.rstrip().endswith("COPY app.js .")
