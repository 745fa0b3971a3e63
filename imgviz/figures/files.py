"""Figures of what is inside the layers: the layer -> directory -> file tree, wasted bytes, duplicates.

Every function takes the ``files`` frame and the ``layers`` frame first (or an
:class:`imgviz._files.Files`, as :func:`imgviz.files` returns, in place of both) and returns a
``go.Figure``; the numbers come from :mod:`imgviz.analysis.files`.
"""

from __future__ import annotations

import math
import posixpath
from typing import Iterable

import pandas as pd

from ..analysis import files as A
from ..selection import image_label, rest_label, top_and_rest
from ..units import axis_bytes
from . import _style as st
from ._doc import document

#: how a tree's boxes are sized: bytes hide small files, count and log size keep them readable
SIZE_BY = {"bytes": "bytes", "count": "entries", "log": "log10(1 + bytes) per file: small files stay visible"}
CHANGE_COLORS = {"added": "#54A24B", "modified": "#F58518", "metadata": "#EECA3B", "unchanged": "#BAB0AC",
                 "removed": "#E45756"}
REASON_COLORS = {"removed": "#E45756", "overwritten": "#F58518", "metadata": "#EECA3B", "replaced": "#B279A2"}


def _go():
    import plotly.graph_objects as go

    return go


def _frames(files, layers):
    if layers is None and hasattr(files, "files") and hasattr(files, "layers"):
        return files.files, files.layers, getattr(files, "images", None)
    if layers is None:
        from ..errors import ImgvizError

        raise ImgvizError("pass the layers frame too (or the Files object imgviz.files returns)")
    return files, layers, None


def _image_id(files, image, images) -> str:
    if image is not None and image.startswith("sha256:") and len(image) == 71:
        return image
    if hasattr(files, "image_id"):
        return files.image_id(image)
    if image is None:
        from ..errors import ImgvizError

        raise ImgvizError("name the image (its full ID)")
    return image


def _label(images, image_id: str) -> str:
    if images is not None and len(images):
        hit = images[images["image_id"] == image_id]
        if len(hit):
            return str(hit["label"].iloc[0])
    return image_label(None, image_id)


def _s(value) -> str:
    """Text, or "" for None / NA (a base layer has no instruction)."""
    return value if isinstance(value, str) else ""


def _layer_name(row) -> str:
    cmd = row.get("created_by") if hasattr(row, "get") else None
    return st.short(str(cmd).replace("/bin/sh -c ", "").replace("#(nop) ", ""), 40) if isinstance(cmd, str) and cmd \
        else f"layer {row['position']}"


@document
def files_tree(files, layers=None, image: str | None = None, *, by: str = "bytes", kind: str = "icicle",
               positions: Iterable[int] | None = None, depth: int = 4, top_n: int | None = 12,
               title: str | None = None, height: int | None = None):
    """An image's layers, each as the directory tree it ships: layer -> directory -> file.

    A box is a layer, a directory or a file of what that layer's tar holds (whiteouts and opaque
    directories included, in red). By bytes, a 2 MB layer of small config files is a sliver
    beside a 100 MB one; ``by="count"`` sizes by entries and ``by="log"`` by log10(1 + bytes) per
    file, so the small things that carry the story stay readable. Hover text always gives bytes and
    entries.

    Parameters
    ----------
    files : DataFrame or Files
        The ``files`` frame (or what :func:`imgviz.files` returns, then ``layers`` is not needed).
    layers : DataFrame, optional
        The ``layers`` frame of the same images.
    image : str, optional
        Image ID (or tag, with a ``Files``); default: the only image read.
    by : {'bytes', 'count', 'log'}
        What a box's size means.
    kind : {'icicle', 'treemap'}
        Chart type.
    positions : list of int, optional
        Only these layers (0 = base).
    depth : int, default 4
        Directory levels drawn under each layer; deeper entries are summed into their directory.
    {top_n}
        Here: children per directory.
    {title}
    {height}

    {returns}
    """
    go = _go()
    from ..errors import ImgvizError

    if by not in SIZE_BY:
        raise ImgvizError(f"by={by!r}: one of {', '.join(SIZE_BY)}")
    if kind not in ("icicle", "treemap"):
        raise ImgvizError(f"kind={kind!r}: files_tree draws 'icicle' or 'treemap'")
    f, lay, images = _frames(files, layers)
    image_id = _image_id(files, image, images)
    info = lay[lay["image_id"] == image_id].sort_values("position")
    if positions is not None:
        info = info[info["position"].isin(list(positions))]
    nodes: dict[str, dict] = {}  # id -> {label, parent, value, bytes, entries, color, hover}
    root = "image"
    nodes[root] = {"label": _label(images, image_id), "parent": "", "bytes": 0, "entries": 0, "value": 0.0,
                   "color": "#FFFFFF", "hover": "the image"}

    def weight(size: int, typ: str) -> float:
        if by == "bytes":
            return float(size)
        if by == "count":
            return 1.0
        return math.log10(1 + size) if typ == "file" else 0.3

    for row in info.to_dict("records"):
        lid = f"L{row['position']}"
        rows = f[f["diff_id"] == row["diff_id"]]
        nodes[lid] = {"label": f"{row['position']}: {_layer_name(row)}", "parent": root, "bytes": 0, "entries": 0,
                      "value": 0.0, "color": st.PALETTE[row["position"] % len(st.PALETTE)],
                      "hover": st.esc(st.short(_s(row.get("created_by")) or row["diff_id"], 90))}
        for path, typ, size, opaque in rows[["path", "type", "size", "opaque"]].itertuples(index=False, name=None):
            parts = path.strip("/").split("/")
            keep = parts[: depth + 1]
            parent = lid
            for k, name in enumerate(keep):
                nid = f"{lid}:/{'/'.join(keep[: k + 1])}"
                last = k == len(keep) - 1
                node = nodes.get(nid)
                if node is None:
                    node = nodes[nid] = {"label": name + ("/" if not last or typ == "dir" else ""), "parent": parent,
                                         "bytes": 0, "entries": 0, "value": 0.0, "color": None, "hover": ""}
                parent = nid
            w = weight(int(size), typ)
            color = CHANGE_COLORS["removed"] if typ == "whiteout" or opaque else None
            if color and len(keep) == len(parts):
                nodes[parent]["color"] = color
                nodes[parent]["hover"] = "whiteout: hides this path below" if typ == "whiteout" else \
                    "opaque: hides what the layers below hold here"
            # add the entry to every ancestor up to the layer
            nid = parent
            while nid and nid != root:
                nodes[nid]["bytes"] += int(size)
                nodes[nid]["entries"] += 1
                nodes[nid]["value"] += w
                nid = nodes[nid]["parent"]
            nodes[root]["bytes"] += int(size)
            nodes[root]["entries"] += 1
            nodes[root]["value"] += w
    nodes = _prune(nodes, top_n)
    ids = list(nodes)
    fig = go.Figure((go.Icicle if kind == "icicle" else go.Treemap)(
        ids=ids, labels=[st.esc(nodes[i]["label"]) for i in ids], parents=[nodes[i]["parent"] for i in ids],
        values=[max(nodes[i]["value"], 1e-9) for i in ids], branchvalues="total",
        marker={"colors": [nodes[i]["color"] or "#DDE5EE" for i in ids]},
        customdata=[[axis_bytes(nodes[i]["bytes"]), nodes[i]["entries"], nodes[i]["hover"]] for i in ids],
        hovertemplate="<b>%{label}</b><br>%{customdata[0]} in %{customdata[1]} entries<br>%{customdata[2]}"
                      "<extra></extra>",
        maxdepth=4))
    n_layers = len(info)
    return st.finish(fig, title=title or f"What the layers of {_label(images, image_id)} hold",
                     subtitle=f"{n_layers} layers, {nodes[root]['entries']} entries, "
                              f"{axis_bytes(nodes[root]['bytes'])}; box size: {SIZE_BY[by]}; "
                              f"red: whiteouts and opaque directories",
                     height=height, default_height=620)


def _prune(nodes: dict, top_n: int | None) -> dict:
    """Keep the ``top_n`` largest children of each node; merge the rest into one "other" box."""
    if top_n is None:
        return nodes
    kids: dict[str, list[str]] = {}
    for nid, n in nodes.items():
        kids.setdefault(n["parent"], []).append(nid)
    keep: dict[str, dict] = {}
    stack = [""]
    while stack:
        parent = stack.pop()
        children = sorted(kids.get(parent, []), key=lambda i: (-nodes[i]["value"], i))
        shown = children if parent in ("", "image") else children[:top_n]
        for nid in shown:
            keep[nid] = nodes[nid]
            stack.append(nid)
        rest = children[len(shown):]
        if rest:
            oid = f"{parent}:other"
            keep[oid] = {"label": rest_label(len(rest), "entries"), "parent": parent,
                         "bytes": sum(nodes[i]["bytes"] for i in rest),
                         "entries": sum(nodes[i]["entries"] for i in rest),
                         "value": sum(nodes[i]["value"] for i in rest), "color": st.COLORS["other"],
                         "hover": "smaller entries, merged"}
    return keep


@document
def wasted_files(files, layers=None, image: str | None = None, *, top_n: int | None = 25,
                 title: str | None = None, height: int | None = None):
    """Files shipped in the image's layers that its final filesystem does not show, largest first.

    One bar per (layer, file), coloured by why no container sees it: removed later, overwritten by
    other content, shipped again with only a new mode/owner/mtime (``metadata``), or replaced by a
    file above it. Hover names the layer that shipped it and the one that hid it.

    Parameters
    ----------
    files : DataFrame or Files
    layers : DataFrame, optional
    image : str, optional
    {top_n}
    {title}
    {height}

    {returns}
    """
    go = _go()
    f, lay, images = _frames(files, layers)
    image_id = _image_id(files, image, images)
    w = A.wasted(f, lay, image_id)
    total = int(w["wasted_bytes"].sum())
    shown, rest = top_and_rest(w, top_n, "wasted_bytes")
    info = lay[lay["image_id"] == image_id].set_index("position")
    fig = go.Figure()
    for reason, color in REASON_COLORS.items():
        part = shown[shown["reason"] == reason]
        if part.empty:
            continue
        hover = [f"<b>{st.esc(r.path)}</b><br>{axis_bytes(r.wasted_bytes)} {reason}<br>shipped by layer "
                 f"{r.position}: {st.esc(st.short(_s(r.created_by), 60))}<br>hidden by layer "
                 f"{'' if r.by_position is None or r.by_position is pd.NA else int(r.by_position)}: "
                 f"{st.esc(st.short(_cmd(info, r.by_position), 60))}" for r in part.itertuples(index=False)]
        fig.add_bar(y=[f"{st.esc(r.path)} (layer {r.position})" for r in part.itertuples(index=False)],
                    x=part["wasted_bytes"].astype("int64").tolist(), orientation="h", name=reason,
                    marker_color=color, hovertext=hover, hoverinfo="text")
    if len(rest):
        fig.add_bar(y=[rest_label(len(rest), "files")], x=[int(rest["wasted_bytes"].sum())], orientation="h",
                    name="other", marker_color=st.COLORS["other"], hoverinfo="text",
                    hovertext=[f"{len(rest)} smaller files: {axis_bytes(rest['wasted_bytes'].sum())}"])
    fig.update_yaxes(autorange="reversed")
    st.byte_axis(fig, "x", max_bytes=float(w["wasted_bytes"].max()) if len(w) else 0, title="Bytes not in the final "
                                                                                          "filesystem")
    n = min(len(w), top_n or len(w)) + (1 if len(rest) else 0)
    return st.finish(fig, title=title or f"{_label(images, image_id)}: {axis_bytes(total)} shipped that no "
                                         f"container sees",
                     subtitle=f"{len(w)} files in layers that a later layer removed, overwrote or hid",
                     height=height, default_height=max(260, 120 + 24 * max(n, 1)))


def _cmd(info, position) -> str:
    try:
        return _s(info.loc[int(position), "created_by"])
    except (KeyError, TypeError, ValueError):
        return ""


@document
def layer_changes(files, layers=None, image: str | None = None, *, by: str = "bytes", title: str | None = None,
                  height: int | None = None):
    """Per layer, what it added, modified, changed only in metadata, and removed.

    Parameters
    ----------
    files : DataFrame or Files
    layers : DataFrame, optional
    image : str, optional
    by : {'bytes', 'count'}
        Bar length: bytes (removed: the lower bytes hidden) or entries.
    {title}
    {height}

    {returns}
    """
    go = _go()
    f, lay, images = _frames(files, layers)
    image_id = _image_id(files, image, images)
    s = A.layer_summary(f, lay, image_id)
    labels = [f"{r['position']}: {_layer_name(r)}" for r in s.to_dict("records")]
    fig = go.Figure()
    for kind in ("added", "modified", "metadata", "removed"):
        values = s[f"{kind}_bytes"] if by == "bytes" else s[kind]
        fig.add_bar(y=labels, x=values.astype("int64").tolist(), orientation="h", name=kind,
                    marker_color=CHANGE_COLORS[kind], customdata=[[int(p)] for p in s["position"]],
                    hovertext=[f"{kind}: {int(r[kind])} entries, {axis_bytes(r[f'{kind}_bytes'])}<br>"
                               f"{A.CHANGES[kind]}" for r in s.to_dict("records")], hoverinfo="text+y")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    if by == "bytes":
        top = float(s[["added_bytes", "modified_bytes", "metadata_bytes", "removed_bytes"]].sum(axis=1).max() or 0)
        st.byte_axis(fig, "x", max_bytes=top, title="Bytes")
    else:
        fig.update_xaxes(title="Entries")
    return st.finish(fig, title=title or f"What each layer of {_label(images, image_id)} changed",
                     subtitle="removed: bytes of the layers below that whiteouts and opaque directories hide",
                     height=height, default_height=max(260, 120 + 28 * len(s)))


@document
def duplicate_matrix(files, layers=None, *, images: Iterable[str] | None = None, min_size: int = 1,
                     title: str | None = None, height: int | None = None):
    """Bytes of identical files (by content) that two images each carry in layers of their own.

    Off the diagonal: content both images hold, each in a layer the other does not have (stored
    twice although the bytes are the same). On the diagonal: content an image holds more than once.
    Needs content digests (``imgviz.files(..., digests=True)``).

    Parameters
    ----------
    files : DataFrame or Files
    layers : DataFrame, optional
    {images}
        Here: full image IDs.
    min_size : int, default 1
        Ignore files smaller than this.
    {title}
    {height}

    {returns}
    """
    go = _go()
    f, lay, imgs = _frames(files, layers)
    m = A.duplicate_matrix(f, lay, images=images, min_size=min_size)
    labels = [_label(imgs, i) for i in m.index]
    z = m.to_numpy()
    text = [[axis_bytes(v) for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, text=text, texttemplate="%{text}", colorscale="Reds",
                               hovertemplate="%{y} and %{x}: %{text} of the same file contents<extra></extra>",
                               colorbar={"title": "bytes"}))
    fig.update_yaxes(autorange="reversed")
    return st.finish(fig, title=title or "Duplicate files across images (same content, separate layers)",
                     subtitle="diagonal: content an image holds more than once", height=height,
                     default_height=max(360, 160 + 36 * len(labels)))


def tree_paths(fig) -> list[str]:
    """The paths a :func:`files_tree` figure shows (its box ids without the layer prefix), for tests."""
    ids = fig.data[0].ids
    return sorted({posixpath.normpath(i.split(":", 1)[1]) for i in ids if ":/" in i})
