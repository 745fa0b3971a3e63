"""Pick an image, click a layer: what is inside the layers (issue 13's files explorer)."""

from __future__ import annotations

from ._show import FigureView
from ._show import bundle as _bundle


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
        modified / removed bytes: click a bar to choose that layer), ``wasted`` (files no
        container sees).
    layers_view : FigureView
        The ``changes`` figure as a plotly FigureWidget: a click on a layer's bar chooses it
        (``layers_view.click(trace, row)`` does the same from code).
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
        self.outputs = {name: w.Output() for name in ("tree", "wasted")}
        tabs = w.Tab(children=[self.outputs["tree"], self.table, self.outputs["wasted"]])
        for k, name in enumerate(("Layer tree", "Added / removed", "Not in final")):
            tabs.set_title(k, name)
        self.layers_view = FigureView(on_click=lambda _trace, _row, data: self._click(data))
        self._layers_of = None  # the image the clickable layers figure shows
        self.widget = w.VBox([w.HBox([w.VBox([self.image, self.by]), self.layer]), self.summary, tabs,
                              w.HTML("<i>Click a layer's bar to see its files above.</i>"), self.layers_view.box])
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

    def _click(self, data) -> None:
        if data is not None and int(data[0]) in {v for _, v in self.layer.options}:
            self.layer.value = int(data[0])  # observed: redraws the tree, the table and the summary

    def refresh(self) -> None:
        """Redraw for the current image, layer and box size."""
        import html

        from ..analysis import files as A
        from ..figures import files as F
        from ..units import axis_bytes as bytes_text

        image_id, position = self.image.value, self.layer.value
        fs = self.files
        self.figures = {
            "tree": F.files_tree(fs, image=image_id, by=self.by.value, positions=[position]),
            "changes": F.layer_changes(fs, image=image_id),
            "wasted": F.wasted_files(fs, image=image_id),
        }
        for name in ("tree", "wasted"):
            self.outputs[name].outputs = (_bundle(self.figures[name]),)
        if self._layers_of != image_id:  # the layers figure changes with the image, not the layer
            self.layers_view.show(self.figures["changes"])
            self._layers_of = image_id
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
