"""Engine answers are bounded in time and checked in shape, and a slow engine is not a missing one.

Against engines of our own on unix sockets (tests/fuzz/_servers.py) that answer what a real engine
recorded (tests/data/fleet), slowly, never, one byte at a time, malformed, or until they die.
"""

from __future__ import annotations

import time
import warnings

import pytest

from imgviz import open as open_source
from imgviz.errors import EngineError, EngineUnavailable
from imgviz.sources import engine

from ..fuzz._servers import HostileEngine, fleet_records

N_IMAGES = len(fleet_records()["images"])


@pytest.fixture
def hostile(tmp_path):
    servers = []

    def start(mode, **kw):
        eng = HostileEngine(mode, tmp_path, **kw)
        servers.append(eng)
        return eng
    yield start
    for s in servers:
        s.stop()


def test_a_slow_engine_is_not_a_missing_one(hostile):
    # /images/json takes 3 s (a containerd-store engine with 400 images takes 6-7 s); the probe's
    # short timeout only covers /version, the collection waits request_timeout per call
    eng = hostile("imagesslow")
    snap, where = open_source("auto", host=eng.host, limits={"connect_timeout": 1, "request_timeout": 10},
                              progress=False)
    assert where == f"live engine at {eng.host}" and snap.complete and len(snap.images) == N_IMAGES


def test_an_engine_that_never_answers_the_probe(hostile):
    eng = hostile("versionhang")
    start = time.monotonic()
    with pytest.raises(EngineUnavailable, match=r"no Docker engine answered at .* in time \(timed out after 1 s"):
        engine.connect(eng.host, limits={"connect_timeout": 1})
    assert time.monotonic() - start < 5
    # its socket accepts: "auto" waits request_timeout for /version, then says so; never the demo
    start = time.monotonic()
    with pytest.raises(EngineUnavailable, match=r"accepts connections at .* did not answer /version within 2 s"):
        open_source("auto", host=eng.host, limits={"connect_timeout": 1, "request_timeout": 2}, progress=False)
    assert 1.5 < time.monotonic() - start < 6
    # nothing accepts at an address: the demo, saying why
    eng.stop()
    _snap, where = open_source("auto", host=eng.host, limits={"connect_timeout": 1}, progress=False)
    assert where.startswith("embedded demo snapshot (no Docker engine answered at") and eng.host in where


@pytest.mark.parametrize("mode", ["imagesdrip", "imageshang", "inspecthang"])
def test_a_request_that_does_not_finish_ends_the_collection_in_time(hostile, mode):
    eng = hostile(mode)
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        snap = engine.collect(host=eng.host, progress=False, limits={"request_timeout": 1, "connect_timeout": 2})
    assert time.monotonic() - start < 8
    assert not snap.complete and any("stopped answering" in str(w.message) for w in seen)
    assert "within 1 s" in snap.skipped[-1]["detail"]


def test_the_deadline_ends_a_collection(hostile):
    eng = hostile("imagesslow")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        snap = engine.collect(host=eng.host, progress=False, limits={"deadline": 1.5, "request_timeout": 60})
    assert not snap.complete and "deadline" in snap.skipped[-1]["detail"] and seen


def test_a_malformed_answer_is_an_error_that_keeps_what_was_collected(hostile):
    eng = hostile("containersdict")
    with pytest.raises(EngineError, match=r"malformed answer: /containers/json: expected a list, got an object") as err:
        engine.collect(host=eng.host, progress=False)
    partial = err.value.partial
    assert partial is not None and not partial.complete and len(partial.images) == N_IMAGES


def test_an_engine_that_dies_midway_leaves_an_incomplete_snapshot(hostile):
    # requests that are not detail calls: /version (the probe; the collection keeps its answer),
    # /images/json, and beside the rest /system/df, /info and /images/json?manifests=1; 10 detail
    # calls then end at least one image (8 run at once)
    eng = hostile("diesmidway", die_after=15)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        snap = engine.collect(host=eng.host, progress=False, limits={"request_timeout": 5})
    assert not snap.complete and 0 < len(snap.images) < N_IMAGES


def test_an_answer_past_its_size_limit(hostile):
    eng = hostile("imagesendless")
    with pytest.raises(EngineError, match="more than 1000000 bytes"):
        engine.collect(host=eng.host, progress=False, limits={"max_engine_answer_bytes": 1_000_000})


@pytest.mark.parametrize("host", ["", "unix://", "tcp://", "ftp://x", "tcp://h:99999", "/var/run/docker.sock"])
def test_engine_addresses_are_checked(host):
    from imgviz.errors import UsageError

    with pytest.raises(UsageError, match="not an engine address"):
        engine.docker_host(host)


@pytest.mark.parametrize("ref", ["../../containers/json", "-x", "a/../b", "a b", "", "x" * 600])
def test_image_references_are_checked_before_they_reach_a_url(ref):
    from imgviz.errors import UsageError

    with pytest.raises(UsageError, match="not an image reference"):
        engine.check_reference(ref)
    assert engine.check_reference("127.0.0.1:5000/iv/app:v1@sha256:" + "a" * 64)
