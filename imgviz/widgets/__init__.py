"""Notebook widgets (ipywidgets), composed from analyses and figures only: they compute nothing.

==============================  =================================================================
``image_explorer(frames)``      pick any tag, see its history and layers (log or linear); click a
                                bar for the entry
``sharing_dashboard(frames)``   filter images, pick what to remove (or click its bar), see what
                                that frees
``reorder_dockerfile(case)``    move Dockerfile lines, pick the builder, see what rebuilds
``env_playground(frames)``      pick an image, set ``-e`` values, see the container's environment
``files_explorer(files)``       pick an image, click a layer: its files, what it added and removed
==============================  =================================================================

>>> import imgviz
>>> from imgviz.widgets import image_explorer
>>> image_explorer(imgviz.demo())          # doctest: +SKIP

ipywidgets and plotly are imported when a widget is made, not when this package is imported.
Figures a click selects from are plotly ``FigureWidget`` objects (anywidget under plotly 6+).
"""

from __future__ import annotations

from .. import _lazy

_LAZY = {
    "ImageExplorer": ".explorer", "image_explorer": ".explorer",
    "SharingDashboard": ".sharing", "sharing_dashboard": ".sharing", "FIGURES": ".sharing",
    "ReorderDockerfile": ".cascade", "reorder_dockerfile": ".cascade",
    "EnvPlayground": ".env", "env_playground": ".env",
    "FilesExplorer": ".files", "files_explorer": ".files",
}

__all__ = sorted(_LAZY)


__getattr__ = _lazy.exports(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
