"""imgviz: see what Docker images are made of.

Sources (engine, registry, archive) -> :class:`Snapshot` (raw records) -> :class:`Frames` (pandas)
-> analyses -> figures -> widgets / report / CLI.

>>> import imgviz
>>> snap, where = imgviz.open("demo")   # any source: "auto", "engine", "registry:REF", a file...
>>> f = imgviz.frames(snap)             # or imgviz.demo(): frames of the embedded demo snapshot
>>> f.images[["repository", "tag", "size"]].head()   # doctest: +SKIP

``import imgviz`` is light: every public name is imported on first use (pandas with the first
frame, plotly with the first figure, the docker SDK with the first engine call), so the command
line starts fast and ``imgviz snapshot`` never loads pandas.
"""

from __future__ import annotations

import sys
import types

from . import _lazy
from .errors import EngineUnavailable, ImageNotFound, ImgvizError, SnapshotError, SourceError

__version__ = "0.1.0"

#: public name -> (module, attribute); attribute None means the module itself
_LAZY = {
    "Frames": (".frames", "Frames"),
    "frames": (".frames", "frames"),
    "Report": (".report", "Report"),
    "open_source": (".report", "open_source"),
    "Snapshot": (".snapshot", "Snapshot"),
    "open": (".sources", "open"),
    "load": (".sources", "load"),
    "collect": (".sources.engine", "collect"),
    "demo": ("._demo", "demo"),
    "demo_cascade": ("._demo", "demo_cascade"),
    "demo_snapshot": (".sources", "demo_snapshot"),
    "cascade": (".analysis.cascade", "cascade"),
    "files": ("._files", "files"),
    "sharing_dashboard": (".widgets", "sharing_dashboard"),
    "analysis": (".analysis", None),
    "figures": (".figures", None),
    "widgets": (".widgets", None),
    "selection": (".selection", None),
    "units": (".units", None),
    "limits": (".limits", None),
    "missing": ("._partial", "missing"),
    "incomplete": ("._partial", "headline"),
}


def schema(name: str) -> str:
    """The columns of frame ``name`` ('images', 'layers', 'history', 'containers', 'files') with meanings."""
    from ._schema import describe

    return describe(name)


__getattr__ = _lazy.exports(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """``imgviz.frames`` is the function; importing the submodule of the same name must not hide it.

    (Python sets a package's attribute to each submodule it imports; the eager ``from .frames
    import frames`` that used to undo this would import pandas.)
    """

    def __setattr__(self, name: str, value) -> None:
        if name in _LAZY and _LAZY[name][1] is not None and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

from . import _kernel  # noqa: E402  (light: imports only sys and importlib)

if _kernel.in_kernel():  # a notebook's first figure must not wait 4-15 s for rfc3987_syntax
    _kernel.defer_rfc3987_syntax()


__all__ = [
    "EngineUnavailable", "Frames", "ImageNotFound", "ImgvizError", "Snapshot", "SnapshotError", "SourceError",
    "Report", "cascade", "collect", "demo", "demo_cascade", "demo_snapshot", "files", "frames", "limits", "load",
    "incomplete", "missing", "open", "open_source", "schema",
    "sharing_dashboard", "__version__",
]
