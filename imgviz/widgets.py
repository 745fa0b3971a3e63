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


class FilesExplorer:
    """Pick an image, click a layer: its files as a tree, and what it added, changed and removed.

    Built on :func:`imgviz.files` (the layers' contents) and drawn only with
    :mod:`imgviz.figures.files` and :mod:`imgviz.analysis.files`.

    Parameters
    ----------
    files : Files
        What :func:`imgviz.files` returns (one or more images).
    image : str, optional
        The image shown first (tag or ID; default: the first read).

    Attributes
    ----------
    widget : ipywidgets.VBox
    figures : dict of str to plotly.graph_objects.Figure
        ``tree`` (the chosen layer's directories and files), ``changes`` (every layer's added /
        modified / removed bytes), ``wasted`` (files no container sees).
    changes : DataFrame
        The chosen layer's entries and what each changed (:func:`imgviz.analysis.files.changes`).
    """

    def __init__(self, files, *, image: str | None = None):
        import ipywidgets as w

        self.files = files
        options = [(str(r.label), r.image_id) for r in files.images.itertuples(index=False)]
        first = files.image_id(image) if image is not None else options[0][1]
        self.image = w.Dropdown(options=options, value=first, description="Image", layout=w.Layout(width="520px"))
        self.layer = w.Select(options=[], rows=8, description="Layer", layout=w.Layout(width="520px"))
        self.by = w.ToggleButtons(options=[("bytes", "bytes"), ("count", "count"), ("log size", "log")],
                                  value="log", description="Box size")
        self.summary = w.HTML()
        self.table = w.HTML()
        self.outputs = {name: w.Output() for name in ("tree", "changes", "wasted")}
        tabs = w.Tab(children=[self.outputs["tree"], self.table, self.outputs["changes"], self.outputs["wasted"]])
        for k, name in enumerate(("Layer tree", "Added / removed", "All layers", "Not in final")):
            tabs.set_title(k, name)
        self.widget = w.VBox([w.HBox([w.VBox([self.image, self.by]), self.layer]), self.summary, tabs])
        self.figures: dict = {}
        self.changes = None
        self._busy = False
        self._fill_layers()
        self.image.observe(self._on_image, names="value")
        self.layer.observe(self._on_layer, names="value")
        self.by.observe(self._on_layer, names="value")
        self.refresh()

    def _fill_layers(self) -> None:
        lay = self.files.layers
        rows = lay[lay["image_id"] == self.image.value].sort_values("position")
        self._busy = True
        try:
            self.layer.options = [(f"{r.position}: {_short_cmd(r.created_by)}", int(r.position))
                                  for r in rows.itertuples(index=False)]
            self.layer.value = int(rows["position"].max()) if len(rows) else None
        finally:
            self._busy = False

    def _on_image(self, _change) -> None:
        self._fill_layers()
        self.refresh()

    def _on_layer(self, _change) -> None:
        if not self._busy:
            self.refresh()

    def refresh(self) -> None:
        """Redraw for the current image, layer and box size."""
        import html

        from .analysis import files as A
        from .figures import files as F
        from .units import axis_bytes as bytes_text

        image_id, position = self.image.value, self.layer.value
        fs = self.files
        self.figures = {
            "tree": F.files_tree(fs, image=image_id, by=self.by.value, positions=[position]),
            "changes": F.layer_changes(fs, image=image_id),
            "wasted": F.wasted_files(fs, image=image_id),
        }
        for name, fig in self.figures.items():
            self.outputs[name].outputs = (_bundle(fig),)
        ch = A.changes(fs.files, fs.layers, image_id)
        self.changes = ch[ch["position"] == position].reset_index(drop=True)
        counts = self.changes["change"].value_counts()
        parts = [f"layer <b>{position}</b>"]
        for kind in ("added", "modified", "metadata", "removed"):
            if counts.get(kind):
                parts.append(f"{kind} <b>{int(counts[kind])}</b>")
        hidden = int(self.changes["hidden_bytes"].sum())
        if hidden:
            parts.append(f"hides <b>{bytes_text(hidden)}</b> of the layers below")
        self.summary.value = "<div>" + " · ".join(parts) + "</div>"
        shown = self.changes[self.changes["change"] != "unchanged"].sort_values(
            ["hidden_bytes", "size"], ascending=False).head(60)
        rows = "".join(f"<tr><td>{html.escape(str(r.change))}</td><td>{html.escape(str(r.type))}</td>"
                       f"<td style='text-align:right'>{bytes_text(r.size)}</td>"
                       f"<td style='text-align:right'>{bytes_text(r.hidden_bytes) if r.hidden_bytes else ''}</td>"
                       f"<td>{html.escape(str(r.path))}</td></tr>" for r in shown.itertuples(index=False))
        more = len(self.changes) - len(shown)
        self.table.value = ("<table><tr><th>change</th><th>type</th><th>size</th><th>hides</th><th>path</th></tr>"
                            f"{rows}</table>" + (f"<p>{more} more entries (unchanged or smaller); "
                                                 f".changes has them all</p>" if more > 0 else ""))

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"<FilesExplorer: {len(self.files.images)} images, image={self.image.label!r}, "
                f"layer={self.layer.value}; display it in a notebook, or read .figures and .changes>")


def _short_cmd(cmd, width: int = 70) -> str:
    text = str(cmd).replace("/bin/sh -c ", "").replace("#(nop) ", "").strip() if isinstance(cmd, str) else \
        "(no instruction recorded)"
    return text if len(text) <= width else text[: width - 1] + "…"


def files_explorer(files, *, image: str | None = None) -> FilesExplorer:
    """An explorer of what is inside the layers (see :class:`FilesExplorer`).

    Parameters
    ----------
    files : Files
        From :func:`imgviz.files`, e.g. ``imgviz.files(["web-ping:v1", "web-ping:v2"])``.
    image : str, optional
        The image shown first.
    """
    return FilesExplorer(files, image=image)
