"""What else the disk holds besides image layers: BuildKit's build cache (``docker system df``'s
Build Cache line), by record type."""

from __future__ import annotations

from ..units import axis_bytes
from . import _style as st
from ._doc import document

#: what each record type is, in a learner's words
TYPES = {
    "regular": "layer snapshots of RUN/COPY steps",
    "source.local": "build contexts and Dockerfiles the client sent",
    "exec.cachemount": "RUN --mount=type=cache folders",
    "internal": "BuildKit's own records",
    "frontend": "Dockerfile frontends",
    "source.git.checkout": "git contexts",
}


@document
def build_cache(frames, *, title: str | None = None, height: int | None = None):
    """BuildKit's build cache by record type: the bytes ``docker system df`` counts, and the
    bytes it leaves out because they are shared (an image's layer or another record holds them).

    Bars per type: *counted* (not shared: ``docker system df`` Build Cache SIZE, what ``docker
    builder prune`` frees unless in use) and *shared* (already counted as image layers). Hover
    gives the number of records, how many are in use, and the largest record's description.

    Parameters
    ----------
    {frames}
    {title}
    {height}

    {returns}

    See Also
    --------
    imgviz.analysis.sizes.build_cache_usage : the numbers.
    """
    import plotly.graph_objects as go

    from ..analysis.sizes import build_cache_usage

    cache = frames.build_cache
    usage = build_cache_usage(frames)
    kinds = list(cache.groupby("type", sort=False)["size"].sum().sort_values(ascending=False).index) if len(cache) else []
    traces = []
    for name, shared, color in (("counted by docker system df", False, st.COLORS["unique"]),
                                ("shared with image layers (not counted)", True, st.COLORS["base"])):
        xs, hover, text = [], [], []
        for kind in kinds:
            part = cache[(cache["type"] == kind) & (cache["shared"].astype(bool) == shared)]
            total = int(part["size"].fillna(0).sum())
            xs.append(total)
            text.append(axis_bytes(total) if total else "")
            big = part.sort_values("size", ascending=False).head(1)
            line = (f"<br>Largest: {st.esc(st.short(big['description'].iloc[0], 70))} "
                    f"({axis_bytes(big['size'].iloc[0])})" if len(big) and big["size"].iloc[0] else "")
            hover.append(f"<b>{st.esc(kind)}</b>: {st.esc(TYPES.get(kind, ''))}<br>{name}: {axis_bytes(total)} "
                         f"in {len(part)} record(s), {int(part['in_use'].sum())} in use{line}")
        traces.append(go.Bar(y=kinds, x=xs, orientation="h", name=name, marker={"color": color}, text=text,
                             textposition="inside", textangle=0, insidetextanchor="middle",
                             hovertext=hover, hoverinfo="text"))
    fig = go.Figure(traces)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed", automargin=True, title={"text": "record type"})
    top = max((int(cache.loc[cache["type"] == k, "size"].fillna(0).sum()) for k in kinds), default=0)
    st.byte_axis(fig, "x", top * 1.05, title="Bytes")
    default = (f"Build cache: {axis_bytes(usage['size'])} as `docker system df` counts it "
               f"({int(usage['total'])} records), {axis_bytes(usage['shared'])} more shared with image layers")
    sub = ("docker system df leaves shared records out: their bytes are image layers (or other records), "
           "on disk once; docker builder prune frees the counted part")
    fig = st.finish(fig, title=title or default, subtitle=sub, height=height,
                    default_height=max(300, 200 + 40 * len(kinds)))
    st.legend_below(fig)
    return fig
