"""The layers of one image: its base image's layers and its own app layers, each on its own axis."""

from __future__ import annotations

import math

from ..selection import resolve_images
from ..units import axis_bytes
from . import _style as st
from ._doc import document
from ._roles import image_layer_table, roles

SCALES = ("split", "bytes", "log")


def _hover(label: str, r, role_text: str) -> str:
    return (f"<b>{st.esc(label)}</b><br>#{int(r.position)} {st.layer_text(r.instruction, r.created_by)}"
            f"<br>Layer: {axis_bytes(r.size)} ({int(st.int0(r.size)):,} bytes)<br>{role_text}"
            f"<br>Used by {int(r.n_images)} image{'s' if r.n_images != 1 else ''}")


@document
def image_layers(frames, image: str, *, scale: str = "split", title: str | None = None,
                 height: int | None = None):
    """The layers of one image, base first: what its base image brought and what it added.

    With ``scale='split'`` (default) the base image's layers and the image's own app layers are
    drawn side by side, each on a linear byte axis of its own: the 100 MB runtime on one, the
    1.3 kB ``COPY app.js`` and the 0 B ``WORKDIR`` on the other, where they are as wide as their
    bytes say. Every bar is labelled with its bytes; a 0 B layer is a marked row, not a gap.

    Parameters
    ----------
    {frames}
    image : str
        Tag or ID of the image.
    scale : {'split', 'bytes', 'log'}
        ``'split'``: base and app layers on two axes; ``'bytes'``: one linear axis (the truth about
        proportions: kB layers are invisible next to the base, their labels still say their bytes);
        ``'log'``: one log axis (every byte count visible, 0 B drawn at the axis start and labelled;
        a log axis makes a kB layer look nearly as long as a MB one, so its title says log).
    {title}
    {height}

    {returns}

    See Also
    --------
    imgviz.analysis.listing.history_table : the same image's history, with the empty entries.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from ..errors import ImgvizError

    if scale not in SCALES:
        raise ImgvizError(f"scale={scale!r}: choose 'split', 'bytes' or 'log'")
    (image_id,) = resolve_images(frames.images, [image])
    r = roles(frames)
    label = r.label[image_id]
    table = image_layer_table(frames, image_id)
    n_base, base = r.split(image_id)
    base_label = r.label[base] if base else None
    table["name"] = [f"#{int(p)} {st.step(i, c, 28)}" for p, i, c in
                     zip(table["position"], table["instruction"], table["created_by"])]
    table["bytes"] = [st.int0(v) for v in table["size"]]
    parts = [("base", table[table["role"] == "base"]), ("app", table[table["role"] == "app"])]
    base_bytes, app_bytes = (int(p["bytes"].sum()) for _, p in parts)
    role_text = {"base": f"From the base image {st.esc(base_label)}" if base else "",
                 "app": (f"Added by {st.esc(label)} on top of {st.esc(base_label)}" if base
                         else "No base image in this snapshot: all layers drawn as the image's own")}

    def bars(part, color, name):
        text = [axis_bytes(v) if v else "" for v in part["bytes"]]  # 0 B: the row's marker says it
        return go.Bar(y=list(part["name"]), x=list(part["bytes"]), orientation="h", name=name,
                      marker={"color": color}, text=text, textposition="auto", cliponaxis=False,
                      hovertext=[_hover(label, row, role_text[row.role]) for row in part.itertuples(index=False)],
                      hoverinfo="text")

    def zero_marks(part, x0, name):
        zero = part[part["bytes"] == 0]
        return go.Scatter(y=list(zero["name"]), x=[x0] * len(zero), mode="markers+text", name=name,
                          marker={"symbol": "line-ns-open", "size": 14, "line": {"width": 3}, "color": "#52606d"},
                          text=["0 B"] * len(zero), textposition="middle right", showlegend=False,
                          hovertext=[_hover(label, row, role_text[row.role]) for row in zero.itertuples(index=False)],
                          hoverinfo="text")

    order = list(table["name"])  # the first category is drawn lowest: the base at the bottom, as layers stack
    if scale == "split" and base and len(parts[1][1]):
        n_rows = len(table) + 2
        fig = make_subplots(rows=2, cols=1, shared_xaxes=False, vertical_spacing=min(0.45, 110 / (34 * n_rows + 60)),
                            row_heights=[max(len(parts[1][1]), 1), max(len(parts[0][1]), 1)],
                            subplot_titles=[f"added by {label}: {axis_bytes(app_bytes)} "
                                            f"(its own axis)",
                                            f"from the base image {base_label}: {axis_bytes(base_bytes)}"])
        for row, (role, part) in ((2, parts[0]), (1, parts[1])):
            color = st.COLORS["base"] if role == "base" else st.COLORS["app"]
            fig.add_trace(bars(part, color, f"{role} layers"), row=row, col=1)
            if (part["bytes"] == 0).any():
                fig.add_trace(zero_marks(part, 0, f"{role} 0 B layers"), row=row, col=1)
            top = max(int(part["bytes"].max()), 1)
            st.byte_axis_on(fig, row, top * 1.3, title="Bytes")
            fig.update_yaxes(categoryorder="array", categoryarray=[n for n in order if n in set(part["name"])],
                             automargin=True, row=row, col=1)
        sub = (f"two axes: the base's layers on one, the layers {label} adds on its own, so a layer of "
               f"a few kB is drawn as wide as its bytes say there")
    else:
        fig = go.Figure()
        for role, part in parts:
            color = st.COLORS["base"] if role == "base" else st.COLORS["app"]
            if len(part):
                fig.add_trace(bars(part, color, f"{role} layers"))
        top = max(int(table["bytes"].max()) if len(table) else 0, 1)
        if scale == "log":
            positive = table.loc[table["bytes"] > 0, "bytes"]
            low = 10 ** math.floor(math.log10(int(positive.min()))) if len(positive) else 1
            floor = max(low / 10, 1)
            if (table["bytes"] == 0).any():
                fig.add_trace(zero_marks(table, floor, "0 B layers"))
            vals = [10 ** k for k in range(int(math.log10(floor)), int(math.log10(top)) + 2)]
            fig.update_xaxes(type="log", tickvals=vals, ticktext=[axis_bytes(v) for v in vals],
                             title={"text": "Bytes (log scale: each step is 10 times more)"},
                             range=[math.log10(floor), math.log10(top) + 0.6])
            sub = "log axis: a 1 kB layer looks nearly as long as a 100 MB one; the labels give the bytes"
        else:
            if (table["bytes"] == 0).any():
                fig.add_trace(zero_marks(table, 0, "0 B layers"))
            st.byte_axis(fig, "x", top * 1.2, title="Bytes")
            sub = "one linear axis: layers of a few kB are too thin to see next to the base; their labels give the bytes"
        fig.update_yaxes(categoryorder="array", categoryarray=order, automargin=True)
    fig.update_layout(showlegend=False, barmode="overlay", bargap=0.3)
    default = (f"Layers of {label}: {axis_bytes(base_bytes)} from {base_label}, {axis_bytes(app_bytes)} its own"
               if base else f"Layers of {label}: {len(table)} layers, {axis_bytes(base_bytes + app_bytes)}")
    rows = len(table) + (2 if scale == "split" and base else 0)
    return st.finish(fig, title=title or default, subtitle=sub, height=height,
                     default_height=max(300, 150 + 34 * rows))
