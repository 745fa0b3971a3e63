"""Filter images, pick what to remove, see what it frees: the sharing dashboard."""

from __future__ import annotations

import html
from typing import Iterable

from ._show import FigureView, bundle, frames_of

FIGURES = ("image_sizes", "what_if", "reported_vs_physical", "sharing_matrix", "layer_tree")
_TITLES = {"image_sizes": "Shared vs unique", "what_if": "What if removed", "reported_vs_physical":
           "Reported vs on disk", "sharing_matrix": "Sharing heatmap", "layer_tree": "Layer tree"}
_FILTERED = ("image_sizes", "sharing_matrix", "layer_tree")  # the figures the filter narrows


def example_pattern(frames) -> str:
    """A ``docker image ls`` pattern that matches images of this source, for the placeholder:
    the first tagged repository's namespace and first letter (``workshop/w*``), else ``*``."""
    for tags in frames.images["tags"]:
        for tag in tags or ():
            repo = tag.rsplit(":", 1)[0]
            head, _, last = repo.rpartition("/")
            return f"{head}/{last[:1]}*" if head else f"{last[:1]}*"
    return "*"


class SharingDashboard:
    """Filter images, pick images to remove, and see what that frees; the figures follow.

    The controls: ``pattern`` (a ``docker image ls`` name pattern), ``search`` (text in a tag or
    ID), ``top_n`` (how many images the bars and heatmap show), ``remove`` (the images to remove;
    picks stay picked when the filter changes, listed first), ``remove_containers``. A click on a
    bar of the shared-vs-unique figure picks or unpicks that image. Every change redraws
    :attr:`figures` by calling :mod:`imgviz.figures`; the summary comes from
    :func:`imgviz.analysis.what_if.headline` (the bytes by the engine's own model, as the what-if figure
    says them) and :func:`imgviz.analysis.sizes.totals`. A filter
    that matches nothing says so instead of drawing empty axes.

    Attributes
    ----------
    widget : ipywidgets.VBox
    figures : dict of str to plotly.graph_objects.Figure
        ``image_sizes``, ``what_if``, ``reported_vs_physical``, ``sharing_matrix``, ``layer_tree``
        (the filtered three are absent while the filter matches nothing).
    """

    def __init__(self, frames, *, pattern: str = "", remove: Iterable[str] = (), top_n: int = 20):
        import ipywidgets as w

        from ..selection import labels, resolve_images

        self.frames = frames
        self._labels = labels(frames.images)
        self._by_label = {label: i for i, label in self._labels.items()}
        example = example_pattern(frames)
        self.pattern = w.Text(value=pattern, description="Images", placeholder=f"docker image ls pattern, e.g. {example}",
                              continuous_update=False)
        self.search = w.Text(value="", description="Search", placeholder="text in a tag or ID",
                             continuous_update=False)
        self.top_n = w.IntSlider(value=top_n, min=3, max=100, description="Top N", continuous_update=False)
        self.remove = w.SelectMultiple(options=[], rows=8, description="Remove", layout=w.Layout(width="420px"))
        self.remove_containers = w.Checkbox(value=False, description="remove their containers too", indent=False)
        self.summary = w.HTML()
        self.sizes_view = FigureView(on_click=self._clicked)
        self.outputs = {name: w.Output() for name in FIGURES if name != "image_sizes"}
        self.empty = w.HTML()
        pages = [w.VBox([self.empty, self.sizes_view.box])] + [self.outputs[n] for n in FIGURES[1:]]
        self.tabs = w.Tab(children=pages, titles=[_TITLES[n] for n in FIGURES])
        controls = w.HBox([w.VBox([self.pattern, self.search, self.top_n, self.remove_containers]), self.remove])
        self.widget = w.VBox([controls, self.summary, self.tabs])
        self.figures: dict = {}
        self._busy = False
        self._update_options(keep=resolve_images(frames.images, list(remove)))
        for control in (self.pattern, self.search):
            control.observe(self._on_filter, names="value")
        for control in (self.top_n, self.remove, self.remove_containers):
            control.observe(self._on_change, names="value")
        self.refresh()

    # -- wiring ---------------------------------------------------------------------------------
    def _filter_kwargs(self) -> dict:
        return {"pattern": self.pattern.value.strip() or None, "search": self.search.value.strip() or None}

    def _matched(self) -> list[str]:
        from ..selection import select

        mask = select(self.frames.images, **self._filter_kwargs())
        return self.frames.images.loc[mask, "image_id"].tolist()

    def _update_options(self, keep=None) -> None:
        """The list shows the picked images first, then what the filter matches; both change in one
        message to the browser (two would leave it an index past the new options)."""
        keep = list(self.remove.value) if keep is None else list(keep)
        shown = [i for i in self._matched() if i not in keep]
        by_label = sorted(shown, key=lambda i: self._labels[i])
        options = [(self._labels[i], i) for i in keep] + [(self._labels[i], i) for i in by_label]
        self._busy = True
        try:
            with self.remove.hold_sync():
                self.remove.options = options
                self.remove.value = tuple(keep)
        finally:
            self._busy = False

    def _on_filter(self, _change) -> None:
        self._update_options()
        self.refresh()

    def _on_change(self, _change) -> None:
        if not self._busy:
            self.refresh()

    def _clicked(self, _trace, _point, data) -> None:
        image_id = data[0] if data is not None and len(data) else None
        if image_id is None:
            return
        self.toggle(image_id)

    def toggle(self, image: str) -> None:
        """Pick ``image`` for removal, or unpick it (what a click on its bar does)."""
        from ..selection import find_image

        image_id = find_image(self.frames.images, image) if image not in self._labels else image
        picked = list(self.remove.value)
        picked = [i for i in picked if i != image_id] if image_id in picked else picked + [image_id]
        self._update_options(keep=picked)
        self.refresh()

    # -- drawing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw every figure and the summary from the current control values."""
        import pandas as pd

        from .. import figures as F
        from ..analysis.sizes import totals
        from ..analysis.what_if import headline
        from ..units import axis_bytes

        f = self.frames
        filt = self._filter_kwargs()
        remove = list(self.remove.value)
        top_n = int(self.top_n.value)
        matched = self._matched()
        figs = {
            "what_if": F.what_if(f, remove, remove_containers=self.remove_containers.value),
            "reported_vs_physical": F.reported_vs_physical(f),
        }
        if matched:
            figs["image_sizes"] = F.image_sizes(f, top_n=top_n, remove=remove, **filt)
            figs["sharing_matrix"] = F.sharing_matrix(f, top_n=top_n, **filt)
            figs["layer_tree"] = F.layer_tree(f, remove=remove, remove_containers=self.remove_containers.value, **filt)
        self.figures = {name: figs[name] for name in FIGURES if name in figs}
        words = " and ".join(f"{k} {html.escape(v)!s}" for k, v in filt.items() if v)
        nothing = (f"<div style='padding:1em;color:#a33'>No image matches {words}. A pattern is matched "
                   f"against <code>repository:tag</code> and the repository, and <code>*</code> does not "
                   f"cross a <code>/</code>: try <code>{html.escape(example_pattern(f))}</code>.</div>")
        if "image_sizes" in self.figures:
            self.empty.value = ""
            self.sizes_view.show(self._with_ids(self.figures["image_sizes"]))
            self.sizes_view.hide(False)
        else:
            self.empty.value = nothing
            self.sizes_view.hide()
        for name, out in self.outputs.items():
            if name in self.figures:
                out.outputs = (bundle(self.figures[name]),)
            else:
                out.outputs = ({"output_type": "display_data", "metadata": {},
                                "data": {"text/html": nothing, "text/plain": "no image matches"}},)
        t = totals(f)["value"]
        parts = [f"<b>{len(matched)}</b> of {len(f.images)} images match",
                 f"reported <b>{axis_bytes(t['reported'])}</b> vs <b>{axis_bytes(t['physical'])}</b> on disk"]
        if remove:
            # the engine's model, as the what-if figure and `imgviz what-if` say it (never the layer
            # rule's bytes on an engine that frees more, or cannot say)
            head = headline(f, remove, remove_containers=self.remove_containers.value)
            w = head["totals"]
            if head["unknown"]:
                parts.append(f"removing <b>{len(remove)}</b> frees <b>an unknown number of bytes</b> on this "
                             f"engine (see the what-if figure)")
            else:
                parts.append(f"removing <b>{len(remove)}</b> frees <b>{axis_bytes(head['freed'])}</b> "
                             f"(on disk after: {axis_bytes(head['after'])})")
            if w["held_by_containers"] is not pd.NA and int(w["held_by_containers"]):
                parts.append(f"{axis_bytes(w['held_by_containers'])} stay under containers")
        else:
            parts.append("pick images under Remove, or click a bar, to see what they free")
        # only numbers and fixed words go into this HTML; nothing the user typed
        self.summary.value = "<div>" + " · ".join(parts) + "</div>"

    def _with_ids(self, fig):
        """The same figure, each bar carrying its image ID (``customdata``) so a click can name it."""
        for trace in fig.data:
            trace.customdata = [[self._by_label.get(str(y))] for y in trace.y]
        return fig

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
    """
    return SharingDashboard(frames_of(frames), pattern=pattern, remove=remove, top_n=top_n)
