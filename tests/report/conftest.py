from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def hostile_snapshot():
    """Images with HTML, scripts and secrets in labels, ENV and RUN, recorded from a real engine."""
    from imgviz import load

    return load(DATA / "hostile" / "snapshot.json.gz")


@pytest.fixture(scope="session")
def hostile_frames(hostile_snapshot):
    from imgviz import frames

    return frames(hostile_snapshot)
