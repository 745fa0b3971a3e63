"""One image, entry by entry: what each instruction of its history added, on a linear or log axis.

The rows are ``docker image history``'s (newest on top); the bars are the layers. An entry that
only changed settings (ENV, CMD, LABEL...) has no layer and says so; an empty layer (WORKDIR of an
existing folder) shows ``0 B``. On the log axis a 0 B layer sits at the axis' left edge with its
label, so it never disappears, and every bar carries its size as text, so a 1.3 kB COPY does not
read as big.
"""

from __future__ import annotations

import math

from ..analysis.listing import history_table
from ..selection import find_image, labels
from ..units import axis_bytes
from . import _style as st

__all__ = ["image_history", "SCALES"]

SCALES = ("linear", "log")
_LAYER, _EMPTY, _NONE = "#4C78A8", "#9ecae9", "#BAB0AC"


def image_history(frames, image: str, *, scale: str = "log", title: str | None = None, height: int | None = None):
    """Bars of one image's layers, one row per history entry (``docker image history``).

    Parameters
    ----------
    frames : Frames
    image : str
        Tag, name pattern-free reference or ID (:func:`imgviz.selection.find_image`).
    scale : {'log', 'linear'}
        The byte axis. Log keeps a 1 kB layer visible beside a 100 MB one; linear shows what
        the bytes really weigh.
    title, height
        As in every figure.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace; ``customdata`` per row: the entry's index in the history (0 = oldest), its
        size text and its full instruction.
    """
    import plotly.graph_objects as go

    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, not {scale!r}")
    image_id = find_image(frames.images, image)
    h = history_table(frames.history, image_id)  # newest first, as docker prints it
    has_layer = ~h["empty_layer"].astype(bool)
    sizes = [int(s) if has and s == s else 0 for s, has in zip(h["size"], has_layer)]
    biggest = max(sizes + [1])
    floor = 1.0  # 1 B: the left edge of the log axis
    xs, texts, colors, hovers, rows = [], [], [], [], []
    for k, (r, has, size) in enumerate(zip(h.itertuples(index=False), has_layer, sizes)):
        ins = r.instruction or "base"
        rows.append(f"{len(h) - 1 - k:>2} {st.short(r.created_by or ins, 46)}")
        if has:
            xs.append(max(size, floor) if scale == "log" else size)
            texts.append(axis_bytes(size))
            colors.append(_LAYER if size else _EMPTY)
            what = f"layer #{int(r.layer_position)}" if r.layer_position == r.layer_position else "layer"
        else:
            xs.append(floor if scale == "log" else 0)
            texts.append("no layer (settings only)")
            colors.append(_NONE)
            what = "no layer: changes the image's settings only"
        hovers.append(f"{st.layer_text(ins, r.created_by, 90)}<br>{texts[-1]} · {what}")
    fig = go.Figure(go.Bar(
        x=xs, y=rows, orientation="h", text=texts, textposition="outside", cliponaxis=False,
        marker={"color": colors}, hovertext=hovers, hoverinfo="text",
        customdata=[[len(h) - 1 - k, t, c] for k, (t, c) in enumerate(zip(texts, h["created_by"].fillna("")))]))
    name = labels(frames.images)[image_id]
    if scale == "log":
        top = math.log10(max(biggest, 10)) + 0.9  # room for the labels
        fig.update_xaxes(type="log", range=[0, top], title={"text": "layer size (bytes, log scale)"})
    else:
        st.byte_axis(fig, "x", biggest * 1.25, title="Layer size")
        fig.update_xaxes(type="linear", range=[0, biggest * 1.3])  # room for the labels
    fig.update_yaxes(autorange="reversed", tickfont={"family": "monospace", "size": 11})
    n_layers = int(has_layer.sum())
    return st.finish(fig, title=title or f"Layers of {name}",
                     subtitle=f"{len(h)} history entries, {n_layers} made a layer; {scale} axis",
                     height=height, default_height=120 + 26 * len(h))
