"""Figure for the build-cache cascade: a timeline of NEW's instructions coloured hit / miss / unknown."""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["cascade", "cascade_history", "COLORS"]

COLORS = {"hit": "#2ca02c", "miss": "#d62728", "unknown": "#7f7f7f", "metadata": "#b5dfb5", "fails": "#000000"}


def _mb(n) -> str:
    if n is None or pd.isna(n):
        return "unknown"
    n = int(n)
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB"
    if n >= 1000:
        return f"{n / 1e3:.1f} KB"
    return f"{n} B"


def _status(row) -> str:
    if row.get("kind") == "error":
        return "fails"
    c = row["cached"]
    if c is None or (not isinstance(c, bool) and pd.isna(c)):
        return "unknown"
    if c and row.get("kind") in ("metadata", "global"):
        return "metadata"
    return "hit" if c else "miss"


def cascade(steps: pd.DataFrame, *, title: str | None = None, height: int | None = None,
            image: str | None = None):
    """Timeline of a cascade prediction: one box per instruction, in Dockerfile order.

    Parameters
    ----------
    steps : the frame :func:`imgviz.analysis.cascade.cascade` returns
    title : figure title (default names the builder and counts)
    height : pixels
    image : name of the old image, shown in hover text when ``bytes`` is known

    Returns
    -------
    plotly.graph_objects.Figure.  Boxes: green hit, red miss, grey unknown, light green
    metadata-only (BuildKit runs no step), black where the build fails (the builder's reason in
    the hover text and the title).  When ``bytes`` is known a bar chart below shows the bytes each
    missed step rewrites (MB).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    df = steps.reset_index(drop=True).copy()
    df["status"] = [_status(r) for _, r in df.iterrows()]
    df["x"] = range(len(df))
    df["label"] = [f"L{r.line} {r.instruction}" for r in df.itertuples()]
    has_bytes = "bytes" in df.columns and df["bytes"].notna().any()
    builder = df["builder"].iloc[0] if len(df) else "buildkit"
    n_miss = int((df["status"] == "miss").sum())
    n_unknown = int((df["status"] == "unknown").sum())
    error = steps.attrs.get("error")
    if title is None:
        title = f"Build-cache cascade ({builder}): {n_miss} of {len(df)} instructions rebuilt" + \
                (f", {n_unknown} unknown" if n_unknown else "")
        if error:
            msg = error["message"] if len(error["message"]) <= 80 else error["message"][:77] + "..."
            where = f"line {error['line']}" if error["line"] is not None else "the start"
            title = (f"Build-cache cascade ({builder}): the build fails at {where} ({html.escape(msg)}); "
                     f"{n_miss} of {int((df['status'] != 'fails').sum())} instructions before it rebuilt")
    rows = 2 if has_bytes else 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, row_heights=[0.45, 0.55] if has_bytes else [1],
                        vertical_spacing=0.06)

    def hover(r):
        text = html.escape(str(r["text"]).splitlines()[0][:100])
        parts = [f"<b>line {r['line']}</b> ({r['stage'] or 'global'}): {text}",
                 f"{r['status'].upper()}: {html.escape(str(r['reason']))}"]
        if r.get("warning"):
            parts.append(f"warning: {html.escape(str(r['warning']))}")
        if has_bytes and r["status"] == "miss":
            parts.append(f"rewrites {_mb(r['bytes'])}" + (f" (layer of {html.escape(image)})" if image else ""))
        return "<br>".join(parts)

    for status in ("hit", "metadata", "miss", "unknown", "fails"):
        part = df[df["status"] == status]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["x"], y=[str(s) if s else "global" for s in part["stage"]], mode="markers",
            marker=dict(symbol="square", size=22, color=COLORS[status],
                        line=dict(width=2, color=["#ff7f0e" if w else "white" for w in part["warning"]])),
            name={"metadata": "metadata only", "fails": "build fails here"}.get(status, status),
            hovertext=[hover(r) for _, r in part.iterrows()], hoverinfo="text",
        ), row=1, col=1)
    if has_bytes:
        miss = df[df["status"] == "miss"]
        fig.add_trace(go.Bar(
            x=miss["x"], y=miss["bytes"].astype("float") / 1e6, marker_color=COLORS["miss"],
            name="bytes rewritten", hovertext=[hover(r) for _, r in miss.iterrows()], hoverinfo="text",
            showlegend=False,
        ), row=2, col=1)
        fig.update_yaxes(title_text="rewritten (MB)", row=2, col=1)
    fig.update_xaxes(tickmode="array", tickvals=df["x"].tolist(), ticktext=df["label"].tolist(),
                     tickangle=-45, row=rows, col=1)
    fig.update_yaxes(title_text="stage", row=1, col=1)
    fig.update_layout(title=title, height=height or (520 if has_bytes else 320),
                      legend=dict(orientation="h", y=1.12), plot_bgcolor="white")
    return fig


def cascade_history(before: pd.DataFrame, after: pd.DataFrame | None = None, *, title: str | None = None,
                    height: int | None = None):
    """Steps each change of a history rebuilt, as written (and with the advisor's order).

    Parameters
    ----------
    before : :func:`imgviz.analysis.cascade_advisor.history_cost` of the history as written
    after : the same for the proposed order (``advise(...)["after"]``,
        :func:`imgviz.analysis.cascade_advisor.advise`), optional
    title, height : as usual

    Returns
    -------
    plotly.graph_objects.Figure: grouped bars per change (commit), hover naming the commit, the
    steps rebuilt and the bytes of context files copied again.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    series = [("as written", before, COLORS["miss"])]
    if after is not None:
        series.append(("proposed order", after, COLORS["hit"]))
    for name, df, color in series:
        fig.add_trace(go.Bar(
            x=df["change"].astype(str), y=df["rebuilt"], name=f"{name} ({int(df['rebuilt'].sum())} steps)",
            marker_color=color,
            hovertext=[f"change {html.escape(str(r.change))}<br>{name}: {r.rebuilt} of {r.steps} instructions "
                       f"rebuilt<br>context bytes copied again: {_mb(r.copied_bytes)}" for r in df.itertuples()],
            hoverinfo="text",
        ))
    if title is None:
        title = "Steps rebuilt per change" + (": as written vs proposed order" if after is not None else "")
    fig.update_layout(title=title, barmode="group", height=height or 360, xaxis_title="change (commit)",
                      yaxis_title="steps rebuilt", plot_bgcolor="white")
    return fig
