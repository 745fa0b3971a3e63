"""Pick any tag, see its history and layers: the image explorer."""

from __future__ import annotations

import html

from ._show import FigureView, frames_of


def tag_options(frames) -> list[tuple[str, str]]:
    """Drop-down choices: one per row of ``docker image ls`` (every tag; ``<none>`` as its ID)."""
    from ..analysis.listing import image_list

    rows = image_list(frames.images)
    out = []
    for r in rows.itertuples(index=False):
        ref = r.image_id if r.repository == "<none>" else f"{r.repository}:{r.tag}"
        out.append((f"{r.repository}:{r.tag}  ({r.short_id})", ref))
    return sorted(out)


class ImageExplorer:
    """Every tag of every image, its history entries and their layers; log or linear bytes.

    Click a bar (or call :meth:`select`) to read that entry in full: the instruction, the layer's
    size, diff ID and chain ID. The figure is :func:`imgviz.figures.image_history`.

    Attributes
    ----------
    image : ipywidgets.Dropdown
        Every ``repository:tag`` (``docker image ls`` rows), dangling images by ID.
    scale : ipywidgets.ToggleButtons
        ``log`` or ``linear``.
    figure : plotly.graph_objects.Figure
        What is drawn now.
    entry : ipywidgets.HTML
        The selected history entry.
    """

    def __init__(self, frames, *, image: str | None = None, scale: str = "log"):
        import ipywidgets as w

        self.frames = frames
        options = tag_options(frames)
        values = [v for _, v in options]
        first = image if image in values else self._default(values)
        self.image = w.Dropdown(options=options, value=first, description="Image", layout=w.Layout(width="460px"))
        self.scale = w.ToggleButtons(options=["log", "linear"], value=scale, description="Bytes")
        self.scale.style.button_width = "70px"
        self.entry = w.HTML()
        self.view = FigureView(on_click=lambda _trace, point, _data: self.select(point))
        self.figure = None
        self.widget = w.VBox([w.HBox([self.image, self.scale]), self.view.box, self.entry])
        self.image.observe(lambda _c: self.refresh(), names="value")
        self.scale.observe(lambda _c: self.refresh(), names="value")
        self.refresh()

    @staticmethod
    def _default(values):
        for ref in ("workshop/web-ping:v1", "web-ping:latest"):
            if ref in values:
                return ref
        return values[0] if values else None

    def refresh(self) -> None:
        """Redraw for the chosen tag and scale."""
        from ..figures import image_history

        self.figure = image_history(self.frames, self.image.value, scale=self.scale.value)
        self.view.show(self.figure)
        self.entry.value = "<i>Click a bar to read that history entry in full.</i>"

    def select(self, row: int) -> None:
        """Show history entry ``row`` of the figure (0 = the top row, the newest entry)."""
        from ..analysis.listing import history_table
        from ..selection import find_image, short_id
        from ..units import axis_bytes

        image_id = find_image(self.frames.images, self.image.value)
        h = history_table(self.frames.history, image_id).iloc[row]
        lines = [f"<b>{html.escape(str(h['instruction'] or 'base'))}</b>: "
                 f"<code>{html.escape(str(h['created_by'] or ''))}</code>"]
        if h["empty_layer"]:
            lines.append("no layer: this entry only changed the image's settings")
        else:
            pos = h["layer_position"]
            lay = self.frames.layers[(self.frames.layers["image_id"] == image_id) & (self.frames.layers["position"] == pos)]
            lines.append(f"layer #{int(pos)}, {axis_bytes(h['size'])}")
            if len(lay):
                lines.append(f"diff ID {html.escape(short_id(lay['diff_id'].iloc[0]))}, chain ID "
                             f"{html.escape(short_id(lay['chain_id'].iloc[0]))}")
        self.entry.value = "<div>" + "<br>".join(lines) + "</div>"

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"<ImageExplorer: {self.image.value}, {self.scale.value} axis; display it in a notebook, or read .figure>"


def image_explorer(frames=None, *, image: str | None = None, scale: str = "log") -> ImageExplorer:
    """An explorer of one image at a time (see :class:`ImageExplorer`).

    Parameters
    ----------
    frames : Frames, or a source :func:`imgviz.open` accepts, optional
        Default: the embedded demo snapshot.
    image : str, optional
        The tag shown first (``repository:tag`` as ``docker image ls`` prints it).
    scale : {'log', 'linear'}
    """
    return ImageExplorer(frames_of(frames), image=image, scale=scale)
