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


def __getattr__(name: str):
    # heavy parts on first use only: `import imgviz` stays free of plotly and ipywidgets
    if name in ("analysis", "figures", "widgets"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "cascade":
        from .analysis.cascade import cascade

        return cascade
    if name == "sharing_dashboard":
        from .widgets import sharing_dashboard

        return sharing_dashboard
    raise AttributeError(f"module 'imgviz' has no attribute {name!r}")


__all__ = [
    "EngineUnavailable", "Frames", "ImgvizError", "Snapshot", "SnapshotError", "SourceError",
    "Report", "cascade", "collect", "demo", "demo_snapshot", "frames", "load", "open_source", "schema",
    "sharing_dashboard", "__version__",
]
