"""imgviz: see what Docker images are made of.

Sources (engine, registry, archive) -> :class:`Snapshot` (raw records) -> :class:`Frames` (pandas)
-> analyses -> figures -> widgets / report / CLI.

>>> import imgviz
>>> f = imgviz.demo()            # frames of the embedded demo snapshot, no engine needed
>>> f.images[["repository", "tag", "size"]].head()   # doctest: +SKIP
"""

from __future__ import annotations

from ._demo import demo, demo_snapshot
from .errors import EngineUnavailable, ImgvizError, SnapshotError, SourceError
from .frames import Frames, frames
from .report import Report, open_source
from .snapshot import Snapshot, load
from .sources.engine import collect

__version__ = "0.1.0"


def schema(name: str) -> str:
    """The columns of frame ``name`` ('images', 'layers', 'history', 'containers') with meanings."""
    from ._schema import describe

    return describe(name)


__all__ = [
    "EngineUnavailable", "Frames", "ImgvizError", "Snapshot", "SnapshotError", "SourceError",
    "Report", "collect", "demo", "demo_snapshot", "frames", "load", "open_source", "schema", "__version__",
]
