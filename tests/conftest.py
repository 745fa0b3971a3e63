"""Shared fixtures: real engines (``engine``, ``fleet``, ``private_engine``), the recorded fleet.

Engine-facing fixtures are parametrized over the engine kinds of tests/_engine.py (test IDs
``[docker20]``, ``[docker28]``, ``[docker28-containerd]``, ``[podman]``), so every test that asks
for an engine runs on each. ``IMGVIZ_TEST_ENGINES=docker20,podman`` narrows the run. One engine
of each kind serves the whole session (pytest groups the tests by kind and stops an engine
before it starts the next); ``private_engine`` and ``start_private_engine(engine_kind)`` start
more of the same kind.

Where an engine cannot do what a test needs (podman has no BuildKit), the test is skipped with
that reason (tests/_engine_gaps.py CANNOT, or the engine's missing builder); where imgviz does not
yet hold on an engine, tests/_engine_gaps.py GAPS names the test and why, and the test runs as an
xfail (strict: it must fail, and fails the run once it holds). Under CI (``CI`` set) a missing
engine is a failure, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ._browser import chromium  # noqa: F401  (fixture: one headless chromium per session)
from ._engine import (ENGINE_CLASSES, EngineUnavailableForTests, attach, handed_hosts, ping, selected_kinds,
                      start_private_engine)
from ._registry import auth_registry, registry  # noqa: F401  (session fixtures: real registries on 127.0.0.1)

DATA = Path(__file__).parent / "data"
KINDS = selected_kinds()


def pytest_configure(config):
    """The engine cache (imgviz.sources.cache) is on by default for users. Here it is off unless a
    test turns it on (tests/sources/test_engine_cache.py): the other tests count requests, cut
    engines off at the Nth one and compare collections with the CLI, all of a fresh collection.
    And no test ever reads or writes the user's own cache folder: a private one for the session,
    inherited by the CLI subprocesses the tests start."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="imgviz-test-cache-")
    config._imgviz_cache_dir = folder
    os.environ["IMGVIZ_CACHE_DIR"] = folder
    os.environ["IMGVIZ_CACHE"] = "0"


def pytest_unconfigure(config):
    import shutil

    folder = getattr(config, "_imgviz_cache_dir", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def _no_engine(reason: str):
    # CI has every engine: there, a missing engine is a failure, never a quiet skip.
    if os.environ.get("CI") or os.environ.get("IMGVIZ_REQUIRE_ENGINE"):
        pytest.fail(f"a real engine is required here: {reason}")
    pytest.skip(f"no engine: {reason}")


def start_or_skip(kind: str):
    """A private engine of ``kind`` started for one test module; without one, ``_no_engine``'s
    rule (a skip that says why; under CI, where every engine is present, a failure)."""
    try:
        return start_private_engine(kind)
    except EngineUnavailableForTests as exc:
        _no_engine(f"no private {kind} engine: {exc}")


@pytest.fixture(scope="session", params=KINDS)
def engine_kind(request) -> str:
    """The engine kind the test runs on (one of tests/_engine.py's KINDS)."""
    return request.param


@pytest.fixture(scope="session")
def engine(engine_kind):
    """A running engine of ``engine_kind``: private, or handed over (IMGVIZ_TEST_ENGINE_HOSTS,
    IMGVIZ_TEST_DOCKER_HOST for docker20)."""
    host = handed_hosts().get(engine_kind)
    if host:
        if not ping(host):
            _no_engine(f"{engine_kind} at {host} does not answer")
        yield attach(engine_kind, host)
        return
    yield from _private(engine_kind)


def _private(kind: str):
    """Start a private engine for the fixture's scope; skip (fail under CI) when we cannot."""
    try:
        eng = start_private_engine(kind)
    except EngineUnavailableForTests as exc:
        _no_engine(str(exc))
        return
    try:
        yield eng
    finally:
        eng.stop()


@pytest.fixture(scope="session")
def recorded():
    """The snapshot recorded from the test fleet on a real engine (tests/data/fleet/)."""
    from ._fleet import load_recording

    return load_recording(DATA / "fleet")


@pytest.fixture(scope="session")
def fleet(engine, tmp_path_factory):
    """The test fleet (tests/_fleet.py) built once on the session's engine."""
    from ._fleet import build_fleet

    return build_fleet(engine, tmp_path_factory.mktemp(f"fleet-{engine.kind}"))


@pytest.fixture
def private_engine(engine_kind):
    """An engine of the test's own, of ``engine_kind`` (whole-engine numbers nobody can disturb)."""
    yield from _private(engine_kind)


def pytest_collection_modifyitems(config, items):
    """Per (test, engine kind): skip with the engine's reason where it lacks the builder the test
    is parametrized with; mark the known gaps of tests/_engine_gaps.py as strict xfail."""
    from ._engine_gaps import cannot, gap_for

    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        kind = params.get("engine_kind")
        if kind is None:
            continue
        builder = params.get("builder")
        missing = ENGINE_CLASSES[kind].builders.get(builder) if builder in ("buildkit", "classic") else None
        missing = missing or cannot(item.originalname, kind)
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"{kind}: {missing}"))
            continue
        gap = gap_for(item.originalname, kind, params)
        if gap:
            reason, strict = gap
            item.add_marker(pytest.mark.xfail(reason=f"{kind}: {reason}", strict=strict))
