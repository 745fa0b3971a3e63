"""How widgets show figures: plotly's mime bundle in an Output, or a FigureWidget a click can use."""

from __future__ import annotations

import json
from typing import Callable


def frames_of(source):
    """Frames from frames, or from anything :func:`imgviz.open` accepts (default: the demo)."""
    from ..frames import Frames, frames as frames_from

    if isinstance(source, Frames):
        return source
    from ..sources import open as open_source

    return frames_from(open_source("demo" if source is None else source, progress=False).snapshot)


def bundle(fig) -> dict:
    """A display_data output that JupyterLab draws with plotly's renderer (no plotly.io import)."""
    spec = json.loads(fig.to_json())
    spec.setdefault("config", {"responsive": True})
    title = (fig.layout.title.text or "figure").split("<br>")[0]
    return {"output_type": "display_data", "metadata": {},
            "data": {"application/vnd.plotly.v1+json": spec, "text/plain": f"<plotly figure: {title}>"}}


class FigureView:
    """A plotly ``FigureWidget`` whose whole figure is replaced by :meth:`show`; ``on_click``
    callbacks get ``(trace, point_index, customdata)`` (the FigureWidget's trace) and survive
    every replacement."""

    def __init__(self, on_click: Callable | None = None):
        import ipywidgets as w

        self.widget = None  # made from the first figure, with its template (the costly part), once
        self.box = w.Box([])  # what a page shows: its layout can hide the figure
        self._on_click = on_click
        self.figure = None

    def show(self, fig) -> None:
        self.figure = fig
        if self.widget is None:
            import plotly.graph_objects as go

            # Made with the template only; the figure itself follows as update messages. In
            # JupyterLab a FigureWidget's view sometimes draws before its initial state has
            # arrived (empty axes, seen in about one run in three) and listens only to updates.
            self.widget = go.FigureWidget(layout={"template": fig.layout.template})
            self.box.children = (self.widget,)
        # every trace and every layout key but the template (the same for all our figures)
        # replaced in one message; rebuilding the template would cost seconds per change
        layout = fig.layout.to_plotly_json()
        layout.pop("template", None)
        w = self.widget
        with w.batch_update():
            w.data = ()
            w.add_traces(list(fig.data))
            w.layout.update(layout, overwrite=True)
        w = self.widget
        if self._on_click is not None:
            for k, trace in enumerate(w.data):
                trace.on_click(self._handler(k))

    def _handler(self, k: int):
        def handle(trace, points, _state):
            for i in points.point_inds:
                data = trace.customdata[i] if trace.customdata is not None else None
                self._on_click(trace, i, data)
        return handle

    def hide(self, hidden: bool = True) -> None:
        self.box.layout.display = "none" if hidden else None

    def click(self, trace: int, point: int) -> None:
        """What a click on point ``point`` of trace ``trace`` does (tests and keyboards use it)."""
        tr = self.widget.data[trace]
        self._on_click(tr, point, tr.customdata[point] if tr.customdata is not None else None)
