"""imgviz: see what Docker images are made of.

Sources (engine, registry, archive) -> :class:`Snapshot` (raw records) -> :class:`Frames` (pandas)
-> analyses -> figures -> widgets / report / CLI.

>>> import imgviz
>>> snap, where = imgviz.open("demo")   # any source: "auto", "engine", "registry:REF", a file...
>>> f = imgviz.frames(snap)             # or imgviz.demo(): frames of the embedded demo snapshot
>>> f.images[["repository", "tag", "size"]].head()   # doctest: +SKIP
"""

from __future__ import annotations

import sys
import types

from ._demo import demo
from .errors import EngineUnavailable, ImgvizError, SnapshotError, SourceError
from .report import Report, open_source
from .snapshot import Snapshot
from .sources import demo_snapshot, load, open  # noqa: A004  (imgviz.open: one way to open a source)
from .sources.engine import collect

__version__ = "0.1.0"


def schema(name: str) -> str:
    """The columns of frame ``name`` ('images', 'layers', 'history', 'containers') with meanings."""
    from ._schema import describe

    return describe(name)


def __getattr__(name: str):
    # heavy parts on first use only: `import imgviz` stays free of pandas, plotly and ipywidgets
    if name == "Frames":
        from .frames import Frames

        return Frames
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


class _Package(types.ModuleType):
    """``imgviz.frames`` is the function :func:`imgviz.frames.frames`, imported on first use.

    The package and its submodule share the name ``frames``; importing the submodule sets the
    package attribute to the module, which this property keeps from hiding the function.
    """

    @property
    def frames(self):
        from .frames import frames

        return frames

    @frames.setter
    def frames(self, _module) -> None:
        pass


sys.modules[__name__].__class__ = _Package

__all__ = [
    "EngineUnavailable", "Frames", "ImgvizError", "Snapshot", "SnapshotError", "SourceError",
    "Report", "cascade", "collect", "demo", "demo_snapshot", "frames", "load", "open", "open_source", "schema",
    "sharing_dashboard", "__version__",
]
