"""`imgviz pull-plan --snapshot/--demo`: the local side read from a recording, as the README says
every command can, equal to the plan against the live engine it was recorded from."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from imgviz.cli import main
from imgviz.sources.engine import collect

from .._ivreg import build_images
from .._registry import push

pytestmark = [pytest.mark.engine, pytest.mark.registry]


def _plan(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["pull-plan", *argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def pushed(engine, registry, tmp_path_factory):
    work = tmp_path_factory.mktemp("pullsrc")
    build_images(engine, work)
    ref = push(engine, "ivreg/app:2", registry, "pullsrc/app")
    snap = collect(host=engine.host, progress=False)
    path = work / "engine.json.gz"
    snap.save(path)
    return ref, path


def test_snapshot_plans_like_the_engine(engine, pushed):
    ref, path = pushed
    code, live, _ = _plan(ref, "--json", "--host", engine.host)
    assert code == 0
    code, recorded, _ = _plan(ref, "--json", "--snapshot", str(path))
    assert code == 0
    # the same plan, layer by layer (whether it is right for the engine is test_pull_live's question)
    assert json.loads(recorded) == json.loads(live) and json.loads(live)["layers"]


def test_demo_needs_no_engine(pushed, monkeypatch):
    ref, _ = pushed
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code, out, err = _plan(ref, "--json", "--demo")
    assert code == 0, err
    plan = json.loads(out)
    # the demo fleet lists none of these busybox layers, but its engine has build-cache records, and the
    # recording has none of the engine's distribution records: whether a cache record keeps a layer the
    # engine pushed is not known, so the layers are uncertain, with both totals (never a wrong "download")
    assert plan["layers"] and all(layer["action"] == "uncertain" for layer in plan["layers"])
    assert "build cache" in plan["layers"][0]["reason"]
    assert plan["download_bytes"] == 0
    assert plan["download_bytes_max"] == plan["uncertain_bytes"] == \
        sum(layer["size_compressed"] for layer in plan["layers"])


def test_a_registry_snapshot_is_not_a_local_engine(pushed, tmp_path):
    from imgviz.sources import registry as registry_source

    ref, _ = pushed
    snap = registry_source.collect([ref], progress=False)
    path = tmp_path / "reg.json.gz"
    snap.save(path)
    code, out, err = _plan(ref, "--snapshot", str(path))
    assert code != 0 and out == "" and len(err.strip().splitlines()) == 1 and "needs an engine's snapshot" in err
