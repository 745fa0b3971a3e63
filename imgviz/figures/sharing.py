"""Figures of layer sharing: the layer tree (icicle or sunburst) and the sharing heatmap."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..analysis import sharing as _sharing
from ..selection import image_labels, rest_label, select, top_and_rest
from ..units import axis_bytes
from . import _style as st
from ._doc import document


def _go():
    import plotly.graph_objects as go

    return go


@document
def layer_tree(frames, *, kind: str = "icicle", top_n: int | None = 300, pattern: str | None = None,
               search: str | None = None, images: Iterable[str] | None = None,
               remove: Iterable[str] | None = None, remove_containers: bool = False,
               title: str | None = None, height: int | None = None):
    """The layers of all images as one tree of chain IDs, sized by bytes on disk.

    Each box is a distinct layer (chain ID); its children are the layers built on it; an image
    is a path from a base to its top layer. Box area is bytes stored once, so the whole is what
    the disk holds. Blue boxes are shared by several images, orange ones belong to one image, red
    ones are the same diff stored again on another parent (not shared).

    Parameters
    ----------
    {frames}
    kind : {'icicle', 'sunburst'}
        Chart type.
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
    if kind not in ("icicle", "sunburst"):
        from ..errors import ImgvizError

        raise ImgvizError(f"kind={kind!r}: layer_tree draws 'icicle' or 'sunburst'")
    tree = _sharing.layer_tree(frames)
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
    size = tree["size"].fillna(0).astype("int64").to_numpy()
    ids = tree["chain_id"].astype(str).tolist()
    index = {c: k for k, c in enumerate(ids)}
    parent_idx = np.array([index.get(p, -1) if isinstance(p, str) else -1
                           for p in tree["parent_chain_id"].astype(object).where(tree["parent_chain_id"].notna(), None)])
    branch = size.copy()
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
        if r["chain_id"] in freed:
            color = st.COLORS["freed"]
        elif st.int0(r["same_diff_elsewhere"]) > 0 and n_img:
            color = st.COLORS["same_diff"]
        elif r["shared"]:
            color = st.COLORS["shared"]
        else:
            color = st.COLORS["unique"]
        ends = list(r["ends"] or [])
        label = f"{st.esc(r['instruction'] or 'layer')} {axis_bytes(r['size'])}"
        if ends:
            label += "<br>▸ " + st.names_text(ends, 2)
        hover = [f"<b>{st.layer_text(r['instruction'], r['created_by'])}</b>",
                 f"Layer: {axis_bytes(r['size'])} (with the layers below: {axis_bytes(r['chain_size'])})",
                 f"Branch on disk: {axis_bytes(branch[k])}",
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
        rows_value.append(int(size[k]))
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
        for p, members in groups.items():
            total = int(branch[members].sum())
            imgs = sorted({i for m in members for i in image_col[m]})
            rows_ids.append(f"other:{ids[p] if p >= 0 else 'bases'}")
            rows_parent.append(ids[p] if p >= 0 else "")
            n_layers = int(count[members].sum())
            rows_label.append(f"{rest_label(n_layers, 'layers')} {axis_bytes(total)}")
            rows_value.append(total)
            rows_hover.append(f"<b>{n_layers} more layers</b> (branches merged to keep the chart readable)"
                              f"<br>Bytes: {axis_bytes(total)}<br>Images: {st.names_text(imgs)}")
            rows_color.append(st.COLORS["other"])

    trace_cls = go.Icicle if kind == "icicle" else go.Sunburst
    trace = trace_cls(ids=rows_ids, parents=rows_parent, labels=rows_label, values=rows_value,
                      branchvalues="remainder", hovertext=rows_hover, hoverinfo="text",
                      marker={"colors": rows_color}, textinfo="label", name="layers",
                      **({"tiling": {"orientation": "v"}, "pathbar": {"visible": True}} if kind == "icicle" else {}))
    fig = go.Figure(trace)
    shown = int(keep.sum())
    physical = int(size.sum())
    what = f"{len(chosen)} of {n_all} images" if filtered else f"{n_all} images"
    default = f"Layer tree: {what}, {len(tree)} distinct layers, {axis_bytes(physical)} on disk"
    sub = ("box size = bytes stored once; blue shared, orange one image only, red same diff on another "
           "parent (stored again)" + (f", green freed by removing {len(list(remove))} image(s)" if remove else "")) + (f"; {shown} largest layers shown, the rest merged" if len(dropped) else "")
    return st.finish(fig, title=title or default, subtitle=sub, height=height, default_height=650)


@document
def sharing_matrix(frames, *, top_n: int | None = 30, pattern: str | None = None, search: str | None = None,
                   images: Iterable[str] | None = None, title: str | None = None, height: int | None = None):
    """Heatmap of the bytes each pair of images shares.

    A cell is the bytes of the layers two images both use (their common beginning); the diagonal
    is each image's own size. The hover names both images, the deepest layer they share and its
    instruction.

    Parameters
    ----------
    {frames}
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
    z = m.to_numpy(dtype="float64") if len(ids) else np.zeros((0, 0))
    pairs = _sharing.sharing_pairs(frames, ids)
    last = {}
    for r in pairs.itertuples(index=False):
        text = st.layer_text(r.instruction, r.created_by, 50) if r.last_common_chain else "nothing (different bases)"
        last[(r.image_a, r.image_b)] = last[(r.image_b, r.image_a)] = (text, int(r.common_layers))
    hover = []
    for a, la in zip(ids, labels):
        row = []
        for b, lb in zip(ids, labels):
            val = m.at[a, b]
            if a == b:
                row.append(f"<b>{st.esc(la)}</b><br>Size: {axis_bytes(val)}")
            else:
                text, n = last.get((a, b), ("", 0))
                row.append(f"<b>{st.esc(la)}</b> and <b>{st.esc(lb)}</b><br>Share {axis_bytes(val)} "
                           f"in {n} layer{'s' if n != 1 else ''}<br>Deepest shared layer: {text}")
        hover.append(row)
    vals, ticktext, unit = st.byte_ticks(float(z.max()) if z.size else 0)
    trace = go.Heatmap(z=[[int(v) for v in row] for row in z], x=labels, y=labels, hovertext=hover, hoverinfo="text", colorscale="Blues",
                       zauto=False, zmin=0, zmax=float(z.max()) if z.size else 1.0, colorbar={"title": {"text": f"shared ({unit})"}, "tickvals": vals,
                                         "ticktext": ticktext})
    fig = go.Figure(trace)
    fig.update_yaxes(autorange="reversed", title={"text": "image"}, automargin=True)
    fig.update_xaxes(title={"text": "image"}, tickangle=-45, automargin=True)
    n_all = len(imgs)
    default = (f"Bytes shared by each pair of images: {len(ids)} of {n_all} images"
               + (" (most shared first)" if len(ids) < n_all else ""))
    sub = "cell = bytes of layers both images use (same chain ID); diagonal = the image's size"
    side = max(450, min(1400, 160 + 22 * len(ids)))
    return st.finish(fig, title=title or default, subtitle=sub, height=height, default_height=side)
