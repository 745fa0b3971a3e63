"""The embedded demo snapshot as frames: a real engine's fleet, recorded, so everything runs without Docker.

The snapshot itself (and where it lives) belongs to the sources: :func:`imgviz.sources.demo_snapshot`.
"""

from __future__ import annotations

from functools import lru_cache

from .sources import DEMO_SNAPSHOT, demo_snapshot

__all__ = ["DEMO_SNAPSHOT", "demo", "demo_snapshot"]


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
