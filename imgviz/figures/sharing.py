"""Figures of layer sharing: the layer tree (icicle or sunburst) and the sharing heatmap."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ..analysis import sharing as _sharing
from ..selection import image_labels, rest_label, select, top_and_rest
from ..units import axis_bytes
from . import _style as st
from ._doc import document
from ._roles import roles


def _go():
    import plotly.graph_objects as go

    return go


#: how a layer tree box is sized; the words every figure uses in its subtitle
TREE_SIZES = {
    "count": "box size = number of layers in the branch (every layer counts 1, a 0 B WORKDIR too); "
             "the bytes are in each box's label",
    "log": "box size grows with log10 of the bytes (1 + log10 bytes per layer, so a 0 B layer stays "
           "visible); the bytes are in each box's label",
    "bytes": "box size = bytes on disk (layers of a few kB are too thin to see)",
}


def _own_value(size: int, mode: str) -> float:
    if mode == "count":
        return 1.0
    if mode == "log":
        return 1.0 + (math.log10(size) if size > 0 else 0.0)
    return float(size)


@document
def layer_tree(frames, *, kind: str = "icicle", by: str = "count", top_n: int | None = 300,
               pattern: str | None = None, search: str | None = None, images: Iterable[str] | None = None,
               remove: Iterable[str] | None = None, remove_containers: bool = False,
               title: str | None = None, height: int | None = None):
    """The layers of all images as one tree of chain IDs: base images' layers, then each app's.

    Each box is a distinct layer (chain ID); its children are the layers built on it; an image
    is a path from a base to its top layer. Base images' layers (those of an image others are
    built on) are grey-blue; an app's own layers above its base are orange (one image) or yellow
    (several images share them, e.g. the same WORKDIR); red boxes are the same diff stored again on
    another parent (not shared). Every box is labelled with its step and its bytes.

    Parameters
    ----------
    {frames}
    kind : {'icicle', 'sunburst'}
        Chart type.
    by : {'count', 'log', 'bytes'}
        What a box's size stands for (the words of :func:`files_tree` too). ``'count'`` (default): every layer the same, so the app
        layers of a few kB are as visible as the 100 MB runtime; ``'log'``: grows with the log of
        the bytes; ``'bytes'``: bytes on disk (the whole is what the disk holds, and kB layers
        vanish). The labels and the hover always give the bytes.
    {top_n}
        Here: layers, ranked by the bytes of their branch.
    {pattern}
    {search}
    {images}
    {mark_remove}
        Here: the layers removing them would free turn green.
    {remove_containers}
    {title}
    {height}

    {returns}

    See Also
    --------
    imgviz.analysis.sharing.layer_tree : the data.
    """
    go = _go()
    from ..errors import ImgvizError

    if kind not in ("icicle", "sunburst"):
        raise ImgvizError(f"kind={kind!r}: layer_tree draws 'icicle' or 'sunburst'")
    if by not in TREE_SIZES:
        raise ImgvizError(f"by={by!r}: choose 'count', 'log' or 'bytes'")
    tree = _sharing.layer_tree(frames)
    base_chains = roles(frames).base_chains
    freed: set = set()
    if remove:
        from ..analysis.sizes import what_if

        detail = what_if(frames, list(remove), remove_containers=remove_containers)
        freed = set(detail.loc[detail["freed"], "chain_id"])
    mask = select(frames.images, pattern=pattern, search=search, refs=images)
    n_all = len(frames.images)
    chosen = set(frames.images.loc[mask, "image_id"])
    filtered = len(chosen) < n_all
    if filtered:
        tree = tree[tree["image_ids"].map(lambda ids: any(i in chosen for i in ids))].reset_index(drop=True)

    # branch bytes within what is shown
    nbytes = tree["size"].fillna(0).astype("int64").to_numpy()
    own = np.array([_own_value(int(b), by) for b in nbytes], dtype="float64")
    ids = tree["chain_id"].astype(str).tolist()
    index = {c: k for k, c in enumerate(ids)}
    parent_idx = np.array([index.get(p, -1) if isinstance(p, str) else -1
                           for p in tree["parent_chain_id"].astype(object).where(tree["parent_chain_id"].notna(), None)],
                          dtype=np.int64)
    branch = nbytes.copy()
    count = np.ones(len(tree), dtype=np.int64)  # layers in the branch, itself included
    depth = tree["position"].astype("int64").to_numpy()
    for d in range(int(depth.max()) if len(depth) else 0, 0, -1):
        at = np.nonzero((depth == d) & (parent_idx >= 0))[0]
        np.add.at(branch, parent_idx[at], branch[at])
        np.add.at(count, parent_idx[at], count[at])

    keep = np.ones(len(tree), dtype=bool)
    if top_n is not None and len(tree) > top_n:
        # ranks by branch bytes; a parent's branch is never smaller than a child's, so the kept set
        # includes every kept layer's parents (ties: the lower layer first)
        order = np.lexsort((depth, -branch))
        keep[:] = False
        keep[order[:top_n]] = True
        for k in order[:top_n]:  # make sure: walk up
            p = parent_idx[k]
            while p >= 0 and not keep[p]:
                keep[p] = True
                p = parent_idx[p]

    rows_ids, rows_parent, rows_label, rows_value, rows_hover, rows_color = [], [], [], [], [], []
    kept_idx = np.nonzero(keep)[0]
    for k, r in zip(kept_idx, tree.iloc[kept_idx].to_dict("records")):
        n_img = int(r["n_images"])
        is_base = r["chain_id"] in base_chains
        if r["chain_id"] in freed:
            color = st.COLORS["freed"]
        elif st.int0(r["same_diff_elsewhere"]) > 0 and n_img and st.int0(r["size"]) > 0:
            color = st.COLORS["same_diff"]  # (an empty diff again costs nothing: not flagged)
        elif is_base:
            color = st.COLORS["base"]
        else:
            color = st.COLORS["app_shared"] if r["shared"] else st.COLORS["app"]
        ends = list(r["ends"] or [])
        label = f"{st.esc(st.step(r['instruction'], r['created_by'], 26))}<br>{axis_bytes(r['size'])}"
        if ends:
            label += "<br>▸ " + st.names_text(ends, 1)
        hover = [f"<b>{st.layer_text(r['instruction'], r['created_by'])}</b>",
                 f"Layer: {axis_bytes(r['size'])} (with the layers below: {axis_bytes(r['chain_size'])})",
                 f"Branch on disk: {axis_bytes(branch[k])} in {int(count[k])} layer{'s' if count[k] != 1 else ''}",
                 ("A base image's layer" if is_base else "An app layer (above its images' base)"),
                 f"Used by {n_img} image{'s' if n_img != 1 else ''}: {st.names_text(r['images'])}"]
        if ends:
            hover.append(f"Top layer of: {st.names_text(ends)}")
        if st.int0(r["same_diff_elsewhere"]) > 0:
            hover.append(f"Same diff on {int(r['same_diff_elsewhere'])} other parent(s): stored again, not shared")
        if r["chain_id"] in freed:
            hover.append("<i>freed if the marked images are removed</i>")
        hover.append(f"chain {st.esc(str(r['chain_id'])[7:19])}")
        rows_ids.append(ids[k])
        p = parent_idx[k]
        rows_parent.append(ids[p] if p >= 0 else "")
        rows_label.append(label)
        rows_value.append(float(own[k]) if by != "bytes" else int(nbytes[k]))
        rows_hover.append("<br>".join(hover))
        rows_color.append(color)

    dropped = np.nonzero(~keep)[0]
    if len(dropped):
        # merge dropped layers under their nearest kept ancestor ("" for dropped bases)
        groups: dict[int, list[int]] = {}
        for k in dropped:
            p = parent_idx[k]
            if p >= 0 and not keep[p]:
                continue  # counted in its dropped ancestor's branch
            groups.setdefault(int(p), []).append(int(k))
        image_col = tree["images"].tolist()
        # the own value of every dropped layer, summed into its merged box
        dropped_own = own.copy()
        for d in range(int(depth.max()) if len(depth) else 0, 0, -1):
            at = np.nonzero((depth == d) & (parent_idx >= 0) & ~keep)[0]
            np.add.at(dropped_own, parent_idx[at], np.where(keep[parent_idx[at]], 0.0, dropped_own[at]))
        for p, members in groups.items():
            total = int(branch[members].sum())
            imgs = sorted({i for m in members for i in image_col[m]})
            rows_ids.append(f"other:{ids[p] if p >= 0 else 'bases'}")
            rows_parent.append(ids[p] if p >= 0 else "")
            n_layers = int(count[members].sum())
            rows_label.append(f"{rest_label(n_layers, 'layers')}<br>{axis_bytes(total)}")
            rows_value.append(float(dropped_own[members].sum()) if by != "bytes" else total)
            rows_hover.append(f"<b>{n_layers} more layers</b> (branches merged to keep the chart readable)"
                              f"<br>Bytes: {axis_bytes(total)}<br>Images: {st.names_text(imgs)}")
            rows_color.append(st.COLORS["other"])

    trace_cls = go.Icicle if kind == "icicle" else go.Sunburst
    trace = trace_cls(ids=rows_ids, parents=rows_parent, labels=rows_label, values=rows_value,
                      branchvalues="remainder", hovertext=rows_hover, hoverinfo="text",
                      marker={"colors": rows_color}, textinfo="label", name="layers",
                      leaf={"opacity": 1.0},
                      **({"tiling": {"orientation": "h"}, "pathbar": {"visible": True}} if kind == "icicle" else {}))
    fig = go.Figure(trace)
    shown = int(keep.sum())
    physical = int(nbytes.sum())
    what = f"{len(chosen)} of {n_all} images" if filtered else f"{n_all} images"
    default = f"Layer tree: {what}, {len(tree)} distinct layers, {axis_bytes(physical)} on disk"
    sub = (TREE_SIZES[by] + ". Grey-blue: base images' layers; orange: an app's own layer; yellow: an app "
           "layer several images share; red: the same diff stored again on another parent"
           + (f"; green: freed by removing {len(list(remove))} image(s)" if remove else "")
           + (f"; {shown} largest layers shown, the rest merged" if len(dropped) else ""))
    fig.update_layout(meta={"by": by})
    # icicle: the base on the left, each layer built on it to its right; a row per leaf keeps labels legible
    # in count mode every box is one unit of the root's height: give each about 46 px
    rows = len(rows_ids) if by == "count" else max(len(set(rows_ids) - set(rows_parent)), 8)
    return st.finish(fig, title=title or default, subtitle=sub, height=height,
                     default_height=max(420, min(2400, 110 + 46 * rows)))


def _rest_text(layers: list[tuple[str, int]], limit: int = 2) -> str:
    """``COPY app.js . (1.3 KB)`` for the layers one image has beyond a shared beginning."""
    if not layers:
        return "nothing"
    shown = ", ".join(f"{st.esc(name)} ({axis_bytes(size)})" for name, size in layers[:limit])
    return shown + (f" and {len(layers) - limit} more layer(s)" if len(layers) > limit else "")


@document
def sharing_matrix(frames, *, value: str = "difference", top_n: int | None = 30, pattern: str | None = None,
                   search: str | None = None, images: Iterable[str] | None = None, title: str | None = None,
                   height: int | None = None):
    """Heatmap of how much each pair of images shares, or how much tells them apart.

    ``value='difference'`` (default): a cell is the bytes of the layers only one of the two images
    has, coloured on a log scale, so ``web-ping:v1`` and ``v2`` (2.7 kB apart: one COPY each) look
    nothing like ``web-ping`` and ``debian`` (99 MB apart); 0 B means the same layers. The hover
    says it in words: "share 172.0 MB: everything but COPY app.js . (1.3 KB) / (1.4 KB)".
    ``value='shared'``: a cell is the bytes both images use (their common beginning) on a linear
    scale; the diagonal is the bytes of each image's own layers (its size on a graph driver; on the
    containerd store, where an image's size also counts its content blobs, the layers part only).

    Parameters
    ----------
    {frames}
    value : {'difference', 'shared'}
        What a cell's colour stands for (see above). Hover always gives both.
    {top_n}
        Here: images, ranked by shared size (bytes they share with any other image).
    {pattern}
    {search}
    {images}
    {title}
    {height}

    {returns}

    See Also
    --------
    imgviz.analysis.sharing.sharing_matrix, imgviz.analysis.sharing.sharing_pairs : the data.
    """
    go = _go()
    from ..errors import ImgvizError

    if value not in ("difference", "shared"):
        raise ImgvizError(f"value={value!r}: choose 'difference' or 'shared'")
    imgs = frames.images
    mask = select(imgs, pattern=pattern, search=search, refs=images)
    chosen = imgs[mask]
    ranked = chosen.assign(_s=chosen["shared_size"].fillna(0).astype("int64"),
                           _z=chosen["size"].fillna(0).astype("int64"),
                           _l=image_labels(imgs)[mask]).sort_values(["_s", "_z", "_l"],
                                                                     ascending=[False, False, True], kind="stable")
    ranked, _rest = top_and_rest(ranked, top_n)  # ranked above: most shared bytes first
    ids = list(ranked["image_id"])
    labels = list(ranked["_l"].astype(str))
    m = _sharing.sharing_matrix(frames, ids)
    shared = m.to_numpy(dtype="int64") if len(ids) else np.zeros((0, 0), dtype="int64")
    sizes = np.diag(shared).copy() if len(ids) else np.zeros(0, dtype="int64")
    diff = (sizes[:, None] + sizes[None, :] - 2 * shared).astype("float64") if len(ids) else np.zeros((0, 0))
    np.fill_diagonal(diff, 0)
    # an image of unknown size (a registry without unpacked sizes): how far apart is unknown, not a number
    unknown = ranked["size"].isna().to_numpy() if len(ids) else np.zeros(0, dtype=bool)
    diff[unknown, :] = np.nan
    diff[:, unknown] = np.nan
    # each image's layers, base first, to say what a pair does not share
    layers = frames.layers[frames.layers["image_id"].isin(set(ids))].sort_values(["image_id", "position"],
                                                                                  kind="stable")
    paths: dict[str, list[tuple[str, str, int]]] = {}
    for r in layers.itertuples(index=False):
        paths.setdefault(r.image_id, []).append((r.chain_id, st.step(r.instruction, r.created_by, 30),
                                                 st.int0(r.size)))
    hover = []
    for a, la in zip(ids, labels):
        row = []
        pa = paths.get(a, [])
        for b, lb in zip(ids, labels):
            if a == b:
                row.append(f"<b>{st.esc(la)}</b><br>Size: {axis_bytes(m.at[a, b])}")
                continue
            pb = paths.get(b, [])
            k = 0
            while k < len(pa) and k < len(pb) and pa[k][0] == pb[k][0]:
                k += 1
            a_rest = [(n, z) for _, n, z in pa[k:]]
            b_rest = [(n, z) for _, n, z in pb[k:]]
            both = f"<b>{st.esc(la)}</b> and <b>{st.esc(lb)}</b>"
            if not k:
                words = f"{both} share nothing (different bases)"
            elif not a_rest and not b_rest:
                words = f"{both} have the same layers: all {axis_bytes(m.at[a, b])} shared (0 B apart)"
            else:
                words = (f"{both} share {axis_bytes(m.at[a, b])} in {k} layer{'s' if k != 1 else ''}: "
                         f"everything but<br>{_rest_text(a_rest)} in {st.esc(la)}"
                         f"<br>{_rest_text(b_rest)} in {st.esc(lb)}")
            last = pa[k - 1][1] if k else None
            words += (f"<br>Deepest shared layer: {st.esc(last)}" if last else "")
            apart = diff[labels.index(la), labels.index(lb)]
            words += f"<br>Apart: {axis_bytes(None if np.isnan(apart) else apart)}"
            row.append(words)
        hover.append(row)
    n = len(ids)
    if value == "difference":
        z = np.log10(1 + diff) if n else np.zeros((0, 0))
        top = float(np.nanmax(z)) if z.size and np.isfinite(z).any() and np.nanmax(z) > 0 else 1.0
        ticks = [0] + [10 ** k for k in range(3, 13, 3) if math.log10(1 + 10 ** k) <= top + 0.01]
        colorbar = {"title": {"text": "apart (log)"}, "tickvals": [math.log10(1 + t) for t in ticks],
                    "ticktext": [axis_bytes(t) for t in ticks]}
        colorscale, zmax = "YlOrRd", top
        cells = diff
    else:
        z = shared.astype("float64")
        vals, ticktext, unit = st.byte_ticks(float(z.max()) if z.size else 0)
        colorbar = {"title": {"text": f"shared ({unit})"}, "tickvals": vals, "ticktext": ticktext}
        colorscale, zmax = "Blues", float(z.max()) if z.size and z.max() > 0 else 1.0
        cells = shared
    def num(v):
        return None if v != v else v  # NaN (unknown) -> null: an empty cell, not a colour

    text = [["?" if v != v else axis_bytes(v) for v in row] for row in cells] if n <= 14 else None
    trace = go.Heatmap(z=[[num(float(v)) for v in row] for row in z], x=labels, y=labels, hovertext=hover,
                       hoverinfo="text", colorscale=colorscale, zauto=False, zmin=0, zmax=zmax,
                       customdata=[[None if v != v else int(v) for v in row] for row in cells], colorbar=colorbar,
                       xgap=1, ygap=1, name=value,
                       **({"text": text, "texttemplate": "%{text}", "textfont": {"size": 10}} if text else {}))
    fig = go.Figure(trace)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(tickangle=-45, automargin=True)
    n_all = len(imgs)
    of = f"{len(ids)} of {n_all} images" + (" (most shared first)" if len(ids) < n_all else "")
    if value == "difference":
        default = f"How far apart each pair of images is: {of}"
        sub = ("cell = bytes of the layers only one of the two has (same chain ID = same layer); 0 B = the same "
               "layers; colour on a log scale, so kB apart and MB apart look different")
    else:
        default = f"Bytes shared by each pair of images: {of}"
        sub = "cell = bytes of layers both images use (same chain ID); diagonal = the bytes of the image's own layers"
    side = max(450, min(1400, 190 + 34 * len(ids)))
    fig.update_layout(meta={"value": value})
    return st.finish(fig, title=title or default, subtitle=sub, height=height, default_height=side)
