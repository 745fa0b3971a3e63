"""Notebook dashboards made of ipywidgets, composed from figures and analyses only.

>>> import imgviz
>>> from imgviz.widgets import sharing_dashboard
>>> sharing_dashboard(imgviz.demo())          # doctest: +SKIP

ipywidgets and plotly are imported when a dashboard is made, not when imgviz is imported.
"""

from __future__ import annotations

import json
from typing import Iterable

FIGURES = ("image_sizes", "what_if", "reported_vs_physical", "sharing_matrix", "layer_tree")
_TITLES = {"image_sizes": "Shared vs unique", "what_if": "What if removed", "reported_vs_physical":
           "Reported vs on disk", "sharing_matrix": "Sharing heatmap", "layer_tree": "Layer tree"}


def _bundle(fig) -> dict:
    """A display_data output a notebook renders with plotly's own renderer."""
    spec = json.loads(fig.to_json())
    spec.setdefault("config", {"responsive": True})
    title = (fig.layout.title.text or "figure").split("<br>")[0]
    return {"output_type": "display_data", "metadata": {},
            "data": {"application/vnd.plotly.v1+json": spec, "text/plain": f"<plotly figure: {title}>"}}


class SharingDashboard:
    """Filter images, pick images to remove, and see what that frees; the figures follow.

    The controls: ``pattern`` (a ``docker image ls`` name pattern such as ``w*``), ``search``
    (text in a tag or ID), ``top_n`` (how many images the bar and heatmap show), ``remove`` (the
    images to remove, among those the filter shows), ``remove_containers``. Every change redraws
    the figures in :attr:`figures` (plotly ``go.Figure`` objects, also shown in the tabs) by
    calling :mod:`imgviz.figures`; the summary line comes from
    :func:`imgviz.analysis.sizes.what_if_totals` and :func:`imgviz.analysis.sizes.totals`.

    Parameters
    ----------
    frames : Frames
    pattern : str, optional
        Initial name pattern.
    remove : list of str, optional
        Initial images to remove (tags or IDs).
    top_n : int, default 20
        Initial number of images in the bars and the heatmap.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What the notebook shows (the dashboard displays itself, too).
    figures : dict of str to plotly.graph_objects.Figure
        The current figures: ``image_sizes``, ``what_if``, ``reported_vs_physical``,
        ``sharing_matrix``, ``layer_tree``.
    """

    def __init__(self, frames, *, pattern: str = "", remove: Iterable[str] = (), top_n: int = 20):
        import ipywidgets as w

        from .selection import labels, resolve_images

        self.frames = frames
        self._labels = labels(frames.images)
        self.pattern = w.Text(value=pattern, description="Images", placeholder="docker image ls pattern, e.g. w*",
                              continuous_update=False)
        self.search = w.Text(value="", description="Search", placeholder="text in a tag or ID",
                             continuous_update=False)
        self.top_n = w.IntSlider(value=top_n, min=3, max=100, description="Top N", continuous_update=False)
        self.remove = w.SelectMultiple(options=[], rows=8, description="Remove",
                                       layout=w.Layout(width="420px"))
        self.remove_containers = w.Checkbox(value=False, description="remove their containers too",
                                            indent=False)
        self.summary = w.HTML()
        self.outputs = {name: w.Output() for name in FIGURES}
        self.figures: dict = {}
        tabs = w.Tab(children=[self.outputs[n] for n in FIGURES])
        for k, name in enumerate(FIGURES):
            tabs.set_title(k, _TITLES[name])
        self.tabs = tabs
        controls = w.HBox([w.VBox([self.pattern, self.search, self.top_n, self.remove_containers]), self.remove])
        self.widget = w.VBox([controls, self.summary, tabs])

        self._busy = False
        self._update_options(keep=resolve_images(frames.images, list(remove)))
        for control in (self.pattern, self.search):
            control.observe(self._on_filter, names="value")
        self.top_n.observe(self._on_change, names="value")
        self.remove.observe(self._on_change, names="value")
        self.remove_containers.observe(self._on_change, names="value")
        self.refresh()

    # -- wiring ---------------------------------------------------------------------------------
    def _filter_kwargs(self) -> dict:
        return {"pattern": self.pattern.value.strip() or None, "search": self.search.value.strip() or None}

    def _update_options(self, keep=None) -> None:
        from .selection import select

        keep = list(self.remove.value) if keep is None else list(keep)
        mask = select(self.frames.images, **self._filter_kwargs())
        shown = self.frames.images.loc[mask, "image_id"].tolist()
        self._busy = True
        try:
            self.remove.options = [(self._labels[i], i) for i in sorted(shown, key=lambda i: self._labels[i])]
            self.remove.value = tuple(i for i in keep if i in set(shown))
        finally:
            self._busy = False

    def _on_filter(self, _change) -> None:
        self._update_options()
        self.refresh()

    def _on_change(self, _change) -> None:
        if not self._busy:
            self.refresh()

    # -- drawing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw every figure and the summary from the current control values."""
        import pandas as pd

        from . import figures as F
        from .analysis.sizes import totals, what_if_totals
        from .units import axis_bytes

        f = self.frames
        filt = self._filter_kwargs()
        remove = list(self.remove.value)
        top_n = int(self.top_n.value)
        self.figures = {
            "image_sizes": F.image_sizes(f, top_n=top_n, remove=remove, **filt),
            "what_if": F.what_if(f, remove, remove_containers=self.remove_containers.value),
            "reported_vs_physical": F.reported_vs_physical(f),
            "sharing_matrix": F.sharing_matrix(f, top_n=top_n, **filt),
            "layer_tree": F.layer_tree(f, remove=remove, remove_containers=self.remove_containers.value, **filt),
        }
        for name, fig in self.figures.items():
            self.outputs[name].outputs = (_bundle(fig),)
        w = what_if_totals(f, remove, remove_containers=self.remove_containers.value)
        t = totals(f)["value"]
        n_shown = len(self.remove.options)
        parts = [f"<b>{n_shown}</b> of {len(f.images)} images match",
                 f"reported <b>{axis_bytes(t['reported'])}</b> vs <b>{axis_bytes(t['physical'])}</b> on disk"]
        if remove:
            parts.append(f"removing <b>{len(remove)}</b> frees <b>{axis_bytes(w['freed'])}</b> "
                         f"(on disk after: {axis_bytes(w['physical_after'])})")
            if w["held_by_containers"] is not pd.NA and int(w["held_by_containers"]):
                parts.append(f"{axis_bytes(w['held_by_containers'])} stay under containers")
        else:
            parts.append("pick images under Remove to see what they free")
        # only numbers and fixed words go into this HTML; nothing the user typed
        self.summary.value = "<div>" + " · ".join(parts) + "</div>"

    # -- display --------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"<SharingDashboard: {len(self.frames.images)} images, pattern={self.pattern.value!r}, "
                f"remove={len(self.remove.value)} images; display it in a notebook, or read .figures>")


def sharing_dashboard(frames=None, *, pattern: str = "", remove: Iterable[str] = (), top_n: int = 20) -> SharingDashboard:
    """A dashboard of layer sharing and sizes for a notebook (see :class:`SharingDashboard`).

    Parameters
    ----------
    frames : Frames, or a source :func:`imgviz.open` accepts, optional
        Default: the embedded demo snapshot (``"demo"``).
    pattern, remove, top_n
        Initial control values.

    Returns
    -------
    SharingDashboard
        Displays itself in a notebook; its controls are attributes you can also set from code.
    """
    from .frames import Frames, frames as frames_of

    if not isinstance(frames, Frames):
        from .sources import open as open_source

        frames = frames_of(open_source("demo" if frames is None else frames, progress=False).snapshot)
    return SharingDashboard(frames, pattern=pattern, remove=remove, top_n=top_n)
