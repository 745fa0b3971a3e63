"""The embedded demo snapshot: a real engine's fleet, recorded, so everything runs without Docker."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .errors import SnapshotError

#: where the recorded demo fleet lives: data/ of the source tree (see data/fleet/README.md)
DEMO_SNAPSHOT = Path(__file__).resolve().parent.parent / "data" / "demo-snapshot.json.gz"


def demo_snapshot():
    """The embedded demo snapshot (recorded from the demo fleet built by data/build_fleet.sh)."""
    from .snapshot import load

    if not DEMO_SNAPSHOT.exists():
        raise SnapshotError(f"{DEMO_SNAPSHOT}: the embedded demo snapshot is missing from this install "
                            f"(run imgviz from a source checkout, or pass --snapshot FILE)")
    return load(DEMO_SNAPSHOT)


@lru_cache(maxsize=1)
def _demo_frames():
    from .frames import frames

    return frames(demo_snapshot())


def demo():
    """Frames of the embedded demo snapshot, the way ``px.data.gapminder()`` serves examples.

    Returns
    -------
    Frames

    Examples
    --------
    >>> f = demo()
    >>> int(f.images["size"].gt(0).sum()) > 0
    True
    """
    return _demo_frames()
