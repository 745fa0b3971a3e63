"""The pull planner against real pulls.

Images built on the session's engine are pushed to a real registry (Debian's docker-registry on
127.0.0.1, access log on, so the bytes it served can be counted). A SECOND private engine then
holds some of the layers in two ways: loaded from ``docker save`` (the layers exist, but the
engine has never seen their compressed blobs) and pulled (layers and blobs known). Before each
``docker pull`` the planner predicts, per layer, ``exists`` or ``download``; the pull's own lines
(``<blob>: Already exists`` / ``<blob>: Pull complete``) and the bytes the registry served for
layer blobs must agree, layer by layer and in total.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
import time

import pytest

from imgviz.cli import main

from .._ivreg import build_images
from .._registry import push, start_registry

pytestmark = [pytest.mark.engine, pytest.mark.registry]

LINE = re.compile(r"^([0-9a-f]{12}): (Already exists|Pull complete)$")
#: every status an engine ends a layer's lines with (podman's compat pull: "Download complete")
STATUS = re.compile(r"^([0-9a-f]{12}): (Already exists|Pull complete|Download complete)$")
ACCESS = re.compile(r'"GET /v2/[^ ]+/blobs/(sha256:[0-9a-f]{64}) HTTP/[0-9.]+" (\d{3}) (\d+)')


@pytest.fixture(scope="module")
def logged_registry():
    reg = start_registry(access_log=True)
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="module")
def setup(engine, logged_registry, tmp_path_factory):
    work = tmp_path_factory.mktemp("pull")
    ids = build_images(engine, work)
    refs = {tag: push(engine, tag, logged_registry, tag.replace("ivreg/", "pull/"))
            for tag in ("ivreg/base:1", "ivreg/app:1", "ivreg/app:2", "ivreg/other:1")}
    engine.docker("save", "-o", str(work / "app1.tar"), "ivreg/app:1")
    second = engine.sibling()
    try:
        yield second, refs, ids, work
    finally:
        second.stop()


def _plan(second, ref):
    """The plan against the live engine (collect(scope="pull"): no history, containers or df unless
    the rule reads them), held equal to the plan against a whole snapshot of the same state."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["pull-plan", ref, "--json", "--host", second.host]) == 0
    targeted = json.loads(out.getvalue())
    with tempfile.TemporaryDirectory() as tmp:
        saved = f"{tmp}/whole.json.gz"
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["snapshot", "--host", second.host, "-o", saved]) == 0
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["pull-plan", ref, "--json", "--snapshot", saved]) == 0
    assert targeted == json.loads(out.getvalue()), ref
    return targeted


def _pull(second, reg, ref):
    before = len(reg.log_lines())
    text = second.docker("pull", ref).stdout
    statuses = {}
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if m:
            # One verdict per layer. Docker 28's containerd store may say a layer's verdict twice
            # (seen in CI: "Pull complete" for two layers, again, after its progress ticked once
            # more); a second line that says something else is a contradiction.
            said = statuses.setdefault(m.group(1), m.group(2))
            assert said == m.group(2), f"two verdicts for {m.group(1)}:\n{text}"
    time.sleep(0.3)  # the access log is written after the response
    served: dict[str, int] = {}
    for line in reg.log_lines()[before:]:
        m = ACCESS.search(line)
        if m and m.group(2) == "200":
            served[m.group(1)] = served.get(m.group(1), 0) + int(m.group(3))
    return text, statuses, served


GRAPH_DRIVER = ("docker20", "docker28")


def _actions(plan, kind, want):
    """The plan's actions; on a graph-driver engine they must be ``want`` (moby's rule, exactly).

    Elsewhere the rule is the engine's own (containerd fetches each missing blob; podman's compat
    pull is its own): the registry's log judges the plan there (:func:`_compare`)."""
    got = [layer["action"] for layer in plan["layers"]]
    if kind in GRAPH_DRIVER:
        assert got == want
    return got


def _compare(plan, statuses, served, config_digest, kind="docker20"):
    layer_bytes = {d: n for d, n in served.items() if d != config_digest}
    if kind not in GRAPH_DRIVER:
        # no wrong certainty: an existing blob is not fetched, a download is, an uncertain one either way
        digests = {layer["digest"] for layer in plan["layers"]}
        for layer in plan["layers"]:
            if layer["action"] == "exists":
                assert layer["digest"] not in served, layer
            elif layer["action"] == "download":
                assert served.get(layer["digest"]) == layer["size_compressed"], layer
        got = sum(n for d, n in layer_bytes.items() if d in digests)
        assert plan["download_bytes"] <= got <= plan["download_bytes_max"], (plan, served)
        return
    for layer in plan["layers"]:
        short = layer["digest"].split(":", 1)[1][:12]
        want = "Already exists" if layer["action"] == "exists" else "Pull complete"
        assert statuses.get(short) == want, f"{short}: planned {layer['action']}, docker pull said {statuses.get(short)}"
    assert len(statuses) == len(plan["layers"])
    downloaded = {layer["digest"]: layer["size_compressed"] for layer in plan["layers"] if layer["action"] == "download"}
    assert layer_bytes == downloaded, "the registry served exactly the planned blobs, at their compressed sizes"
    assert plan["download_bytes"] == sum(downloaded.values()) == sum(layer_bytes.values())


def test_plan_matches_real_pulls(setup, logged_registry):
    second, refs, ids, work = setup
    # 1. the layers of ivreg/app:1 exist, loaded from a docker save: no blob was ever pulled
    second.docker("load", "-i", str(work / "app1.tar"))
    assert second.docker("image", "inspect", "--format", "{{.Id}}", "ivreg/app:1").stdout.strip() == ids["ivreg/app:1"]

    # other:1 = base + one layer. The base's chain exists locally, but the engine cannot match the
    # base's blob to it (never pulled): 20.10 downloads it again.
    kind = second.kind
    plan = _plan(second, refs["ivreg/other:1"])
    _actions(plan, kind, ["download", "download"])
    _text, statuses, served = _pull(second, logged_registry, refs["ivreg/other:1"])
    _compare(plan, statuses, served, ids["ivreg/other:1"], kind)

    # 2. app:2 = base + 3 layers. The base blob is known now (pulled with other:1); layers 1 and 2
    # exist (loaded with app:1) but their blobs are unknown, so from layer 1 up all is downloaded
    plan = _plan(second, refs["ivreg/app:2"])
    _actions(plan, kind, ["exists", "download", "download", "download"])
    _text, statuses, served = _pull(second, logged_registry, refs["ivreg/app:2"])
    _compare(plan, statuses, served, ids["ivreg/app:2"], kind)
    assert plan["download_bytes_max"] > 300_000  # the random 300 KB layer does not compress

    # 3. app:1 from the registry: its image ID is already in the engine (loaded): nothing to do
    plan = _plan(second, refs["ivreg/app:1"])
    if kind in GRAPH_DRIVER:
        assert plan["download_bytes"] == 0 and {layer["action"] for layer in plan["layers"]} == {"exists"}
    text, statuses, served = _pull(second, logged_registry, refs["ivreg/app:1"])
    if kind in GRAPH_DRIVER:
        assert statuses == {} and not [d for d in served if d != ids["ivreg/app:1"]], text
    else:
        _compare(plan, statuses, served, ids["ivreg/app:1"], kind)
    # 4. pulled now: the image is in the engine under the ID the engine gives it (on the containerd
    # store its manifest or index digest, not the config digest), and the plan says so for every layer
    plan = _plan(second, refs["ivreg/app:1"])
    assert plan["download_bytes"] == 0 and {layer["action"] for layer in plan["layers"]} == {"exists"}
    assert {layer["reason"] for layer in plan["layers"]} == {"the image is already in the engine"}, plan
    _text, statuses, served = _pull(second, logged_registry, refs["ivreg/app:1"])
    assert not {layer["digest"] for layer in plan["layers"]} & set(served), served  # no layer blob fetched


def test_everything_known_after_pulls_in_a_fresh_engine(setup, logged_registry):
    """A fresh engine that pulls other:1 first: base known, so app:1 downloads only its own layers."""
    _second, refs, ids, _work = setup
    fresh = _second.sibling()
    kind = fresh.kind
    try:
        plan = _plan(fresh, refs["ivreg/base:1"])
        assert [layer["action"] for layer in plan["layers"]] == ["download"]  # nothing held: certain everywhere
        _text, statuses, served = _pull(fresh, logged_registry, refs["ivreg/base:1"])
        _compare(plan, statuses, served, ids["ivreg/base:1"], kind)
        plan = _plan(fresh, refs["ivreg/app:2"])
        _actions(plan, kind, ["exists", "download", "download", "download"])
        _text, statuses, served = _pull(fresh, logged_registry, refs["ivreg/app:2"])
        _compare(plan, statuses, served, ids["ivreg/app:2"], kind)
        # app:1's three layers are all inside app:2, and their blobs are known now
        plan = _plan(fresh, refs["ivreg/app:1"])
        _actions(plan, kind, ["exists"] * 3)
        assert plan["download_bytes"] == 0
        _text, statuses, served = _pull(fresh, logged_registry, refs["ivreg/app:1"])
        _compare(plan, statuses, served, ids["ivreg/app:1"], kind)
    finally:
        fresh.stop()


def test_plan_table_output(setup, logged_registry, capsys):
    second, refs, _ids, _work = setup
    second.docker("pull", refs["ivreg/other:1"])  # (test_plan_matches_real_pulls pulled it, where it got so far)
    assert main(["pull-plan", refs["ivreg/other:1"], "--host", second.host]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["LAYER", "BLOB", "ACTION", "DOWNLOAD", "WHY"]
    assert f"{refs['ivreg/other:1']}: 0 of 2 layers to download, 0B compressed" in out
    assert main(["pull-plan", logged_registry.ref("pull/nothing:1"), "--host", second.host]) == 1
    assert "pull/nothing:1: manifest not found" in capsys.readouterr().err


def test_plan_matches_a_real_pull_from_an_htpasswd_registry(engine, auth_registry, setup, tmp_path, monkeypatch):
    """The same proof against a registry with htpasswd (bcrypt) auth: `docker login` writes the
    config both the engine's client and imgviz (DOCKER_CONFIG, via docker.auth) read."""
    _second, _refs, _ids, _work = setup
    cfg = tmp_path / "docker-config"
    refs = {tag: push(engine, tag, auth_registry, tag.replace("ivreg/", "authpull/"), config_dir=cfg)
            for tag in ("ivreg/other:1", "ivreg/app:2")}
    monkeypatch.setenv("DOCKER_CONFIG", str(cfg))
    fresh = engine.sibling()
    try:
        fresh.docker("--config", str(cfg), "pull", refs["ivreg/other:1"])
        plan = _plan(fresh, refs["ivreg/app:2"])
        assert [layer["action"] for layer in plan["layers"]] == ["exists", "download", "download", "download"]
        text = fresh.docker("--config", str(cfg), "pull", refs["ivreg/app:2"]).stdout
        statuses = dict(m.groups() for m in (STATUS.match(x.strip()) for x in text.splitlines()) if m)
        # each engine's last word on a layer (docs/engines.md): the containerd store prints nothing for a
        # blob its content store holds; podman's compat pull ends a fetched blob with "Download complete"
        said = {"docker28-containerd": {"exists": None, "download": "Pull complete"},
                "podman": {"exists": "Already exists", "download": "Download complete"}}.get(
            engine.kind, {"exists": "Already exists", "download": "Pull complete"})
        for layer in plan["layers"]:
            assert statuses.get(layer["digest"][7:19]) == said[layer["action"]], (layer, text)
        assert plan["download_bytes"] == sum(layer["size_compressed"] for layer in plan["layers"][1:])
        # without the login the plan fails with one line naming the reference
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "empty"))
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            assert main(["pull-plan", refs["ivreg/app:2"], "--host", fresh.host]) == 1
        assert "authpull/app:2: the registry needs a login (401)" in err.getvalue()
        assert auth_registry.password not in err.getvalue()
    finally:
        fresh.stop()
