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


def plain(fig) -> dict:
    """The figure as plain JSON lists. A FigureWidget sends numpy arrays as binary buffers, and a
    view drawn from an initial state holding them came up empty in JupyterLab (empty axes)."""
    import base64

    import numpy as np

    def walk(value):
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, dict) and "bdata" in value and "dtype" in value:  # plotly's typed-array form
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape")
            if shape:
                array = array.reshape([int(n) for n in str(shape).split(",")])
            return array.tolist()
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    return walk(fig.to_plotly_json())


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

            # The first figure is the widget's initial state: updates sent before a view exists
            # are not kept by plotly's JS model (a view that renders later would miss them).
            self.widget = go.FigureWidget(plain(fig))
            self.box.children = (self.widget,)
        else:
            # every trace and every layout key but the template (the same for all our figures)
            # replaced in one message; rebuilding the template would cost seconds per change
            layout = fig.layout.to_plotly_json()
            layout.pop("template", None)
            w = self.widget
            with w.batch_update():
                w.data = ()
                w.add_traces(plain(fig)["data"])
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
