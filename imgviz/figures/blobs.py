"""Compressed (download) bytes against uncompressed (disk) bytes, per layer and per image.

Figures for :func:`imgviz.analysis.pull.compressed_sizes` and
:func:`imgviz.analysis.pull.compressed_totals`. Each takes frames first, keyword-only options,
and returns a ``go.Figure`` (never shown here).
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from ..selection import labels, resolve_images
from ..units import axis_bytes, byte_unit

COLORS = {"size_compressed": "#1f77b4", "size": "#ff7f0e"}
NAMES = {"size_compressed": "compressed (download)", "size": "uncompressed (engine)"}


def _scale(values: pd.Series) -> tuple[float, str]:
    unit, scale = byte_unit(float(values.dropna().max()) if values.notna().any() else 0.0, smallest="KB")
    return scale, unit


def _select(frames, images: Sequence[str] | None) -> pd.DataFrame:
    layers = frames.layers
    if images is None:
        return layers
    return layers[layers.image_id.isin(resolve_images(frames.images, list(images)))]


def compressed_sizes(frames, *, uncompressed_from=None, images: Sequence[str] | None = None,
                     title: str | None = None, height: int | None = None):
    """Grouped bars per layer: blob (compressed) bytes next to uncompressed bytes.

    Parameters
    ----------
    frames : Frames
        From a registry or archive source (they know compressed sizes).
    uncompressed_from : Frames, optional
        An engine's frames: uncompressed sizes by diff ID (a registry does not know them; without an
        engine those bars are missing, not guessed).
    images : list of str, optional
        Tags or IDs to show (default: all).
    title, height : optional
        Figure title and height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    from ..analysis.pull import compressed_sizes as analyse

    sizes = analyse(_select(frames, images),
                    uncompressed_from=None if uncompressed_from is None else uncompressed_from.layers)
    names = labels(frames.images)
    sizes = sizes.assign(image=sizes.image_id.map(names))
    div, unit = _scale(pd.concat([sizes.size_compressed, sizes["size"]]).astype("Float64"))
    x = [f"{img} #{int(p)}" for img, p in zip(sizes.image, sizes.position)]
    fig = go.Figure()
    for col in ("size_compressed", "size"):
        vals = sizes[col]
        hover = [f"{img}<br>layer {int(p)}: {(cb or '')[:80]}<br>{NAMES[col]}: {axis_bytes(v)}"
                 for img, p, cb, v in zip(sizes.image, sizes.position, sizes.created_by, vals)]
        fig.add_trace(go.Bar(name=NAMES[col], x=x, y=[None if pd.isna(v) else float(v) / div for v in vals],
                             marker_color=COLORS[col], hovertext=hover, hoverinfo="text"))
    fig.update_layout(barmode="group", title=title or "Compressed vs uncompressed bytes per layer",
                      xaxis_title="image #layer", yaxis_title=f"size ({unit})", height=height,
                      legend_title_text="bytes")
    return fig


def compressed_totals(frames, *, uncompressed_from=None, images: Sequence[str] | None = None,
                      title: str | None = None, height: int | None = None):
    """Grouped bars per image: bytes a full pull downloads next to bytes the layers take unpacked.

    Parameters are those of :func:`compressed_sizes`. An image whose uncompressed size is not known
    for every layer has no uncompressed bar.
    """
    import plotly.graph_objects as go

    from ..analysis.pull import compressed_sizes as analyse, compressed_totals as totals

    sizes = analyse(_select(frames, images),
                    uncompressed_from=None if uncompressed_from is None else uncompressed_from.layers)
    tot = totals(sizes)
    names = labels(frames.images)
    tot = tot.assign(image=tot.image_id.map(names))
    div, unit = _scale(pd.concat([tot.size_compressed, tot["size"]]).astype("Float64"))
    fig = go.Figure()
    for col in ("size_compressed", "size"):
        vals = tot[col]
        hover = [f"{img} ({n} layers)<br>{NAMES[col]}: {axis_bytes(v)}"
                 for img, n, v in zip(tot.image, tot.n_layers, vals)]
        fig.add_trace(go.Bar(name=NAMES[col], x=list(tot.image), y=[None if pd.isna(v) else float(v) / div for v in vals],
                             marker_color=COLORS[col], hovertext=hover, hoverinfo="text"))
    fig.update_layout(barmode="group", title=title or "Download size vs unpacked size per image",
                      xaxis_title="image", yaxis_title=f"size ({unit})", height=height, legend_title_text="bytes")
    return fig
