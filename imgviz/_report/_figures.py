"""Figures the report draws itself until imgviz.figures provides them.

Each takes the report :class:`~imgviz._report._summarize.Context` and returns a ``go.Figure``.
They aggregate: at most ``ctx.top`` bars, however many images the engine has.
"""

from __future__ import annotations

from ..units import axis_bytes

MB = 1e6


def reported_vs_disk(ctx):
    """Three bars: sum of `docker image ls` sizes, bytes of distinct layers, the engine's own total."""
    import plotly.graph_objects as go

    t = ctx.totals
    names = ["sum of image sizes (docker image ls)", "distinct layers (on disk)"]
    values = [t["reported_bytes"], t["physical_bytes"]]
    if t["engine_layers_size"] is not None:
        names.append("engine total (docker system df)")
        values.append(int(t["engine_layers_size"]))
    fig = go.Figure(go.Bar(
        x=names, y=[v / MB for v in values], text=[axis_bytes(v) for v in values], textposition="outside",
        marker_color=["#9aa5b1", "#2f6fb0", "#5a9bd4"][: len(values)],
        hovertemplate="%{x}: %{text}<extra></extra>"))
    saved = t["reported_bytes"] - t["physical_bytes"]
    fig.update_layout(title=f"Sharing saves {axis_bytes(saved)} of {axis_bytes(t['reported_bytes'])}",
                      yaxis_title="MB", height=360, margin=dict(t=60, b=40),
                      template="plotly_white", showlegend=False)
    return fig


def shared_unique_bars(ctx):
    """Horizontal stacked bars per image: bytes shared with other images and bytes only it holds."""
    import plotly.graph_objects as go

    shown = ctx.ranked_images.head(ctx.top).iloc[::-1]
    names = list(shown["name"])
    fig = go.Figure()
    for col, label, color in (("unique_size", "unique (only this image)", "#d9822b"),
                              ("shared_size", "shared with other images", "#2f6fb0")):
        values = shown[col].fillna(0).astype("int64")
        fig.add_bar(y=names, x=values / MB, orientation="h", name=label, marker_color=color,
                    customdata=[axis_bytes(v) for v in values],
                    hovertemplate="%{y}<br>" + label + ": %{customdata}<extra></extra>")
    fig.update_layout(barmode="stack", title="Shared and unique bytes per image",
                      xaxis_title="MB", height=max(260, 28 * len(names) + 120),
                      template="plotly_white", legend=dict(orientation="h", y=-0.15), margin=dict(l=10, t=50))
    fig.update_yaxes(automargin=True)
    return fig
