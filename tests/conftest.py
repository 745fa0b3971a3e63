"""Shared fixtures: a real engine (``engine``), the recorded fleet snapshot (``recorded``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ._browser import chromium  # noqa: F401  (fixture: one headless chromium per session)
from ._engine import Engine, EngineUnavailableForTests, ping, start_private_engine
from ._registry import auth_registry, registry  # noqa: F401  (session fixtures: real registries on 127.0.0.1)

DATA = Path(__file__).parent / "data"


def _no_engine(reason: str):
    # CI has an engine: there, a missing engine is a failure, never a quiet skip.
    if os.environ.get("CI") or os.environ.get("IMGVIZ_REQUIRE_ENGINE"):
        pytest.fail(f"a real Docker engine is required here: {reason}")
    pytest.skip(f"no Docker engine: {reason}")


@pytest.fixture(scope="session")
def engine():
    """A running Docker engine: private dockerd, or IMGVIZ_TEST_DOCKER_HOST when set."""
    host = os.environ.get("IMGVIZ_TEST_DOCKER_HOST")
    if host:
        if not ping(host):
            _no_engine(f"IMGVIZ_TEST_DOCKER_HOST={host} does not answer")
        yield Engine(host)
        return
    yield from _private()


def _private():
    """Start a private dockerd for the fixture's scope; skip (fail under CI) when we cannot."""
    try:
        eng = start_private_engine()
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

    return build_fleet(engine, tmp_path_factory.mktemp("fleet"))


@pytest.fixture
def private_engine():
    """A dockerd of the test's own (for whole-engine numbers no other test can disturb)."""
    yield from _private()
