"""Figures of sizes: shared vs unique per image, reported vs physical, and what removing images frees."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from ..analysis import sharing as _sharing
from ..analysis import sizes as _sizes
from ..selection import image_labels, rest_label, resolve_images, select, top_and_rest
from ..units import axis_bytes
from . import _style as st
from ._doc import document
from ._roles import roles


def _go():
    import plotly.graph_objects as go

    return go


def _segments(go, name: str, row: str, values, hover, colors, *, offset: float = 0.0, legend: bool = False):
    """One horizontal stacked bar made of many segments, as a single trace (bases add up)."""
    values = [int(v) for v in values]
    bases = [int(b + offset) for b in np.cumsum([0] + values[:-1])] if values else []
    return go.Bar(y=[row] * len(values), x=values, base=bases, orientation="h", name=name,
                  hovertext=hover, hoverinfo="text", marker={"color": colors, "line": {"color": "white", "width": 0.5}},
                  showlegend=legend)


def _unique_axis(values, scale: str) -> str:
    """'linear' or 'log' for the unique-bytes axis: log when the nonzero values span more than
    three powers of ten (then a kB next to a MB would vanish on a linear axis)."""
    if scale != "auto":
        return scale
    nonzero = [v for v in values if v > 0]
    return "log" if nonzero and max(nonzero) / min(nonzero) > 1000 else "linear"


@document
def image_sizes(frames, *, top_n: int | None = 30, pattern: str | None = None, search: str | None = None,
                images: Iterable[str] | None = None, sort: str = "size", remove: Iterable[str] | None = None,
                unique_scale: str = "auto", title: str | None = None, height: int | None = None):
    """Per image, shared and unique bytes (``docker system df -v``), the unique ones on their own axis.

    Left: the whole bar is the image's size (what ``docker image ls`` shows); blue is bytes other
    images use too, orange bytes only this image holds, which removing it frees. Right: those
    unique bytes again on an axis of their own, labelled, because next to a 172 MB image the 1.3 kB
    that tells v1 from v2 is thinner than a pixel.

    Parameters
    ----------
    {frames}
    {top_n}
        Here: images ranked by ``sort``; the rest become one "other" bar (their sums).
    {pattern}
    {search}
    {images}
    sort : {'size', 'unique_size', 'shared_size'}
        Which bytes rank the images.
    {mark_remove}
        Here: their bars are hatched and their hover says so.
    unique_scale : {'auto', 'linear', 'log'}
        The unique-bytes axis: ``'auto'`` is linear unless the nonzero values span more than three
        powers of ten, then log (its title says so).
    {title}
    {height}

    {returns}

    See Also
    --------
    imgviz.analysis.sizes.image_sizes : the data.
    """
    go = _go()
    from plotly.subplots import make_subplots

    from ..errors import ImgvizError

    if sort not in ("size", "unique_size", "shared_size"):
        raise ImgvizError(f"sort={sort!r}: choose 'size', 'unique_size' or 'shared_size'")
    if unique_scale not in ("auto", "linear", "log"):
        raise ImgvizError(f"unique_scale={unique_scale!r}: choose 'auto', 'linear' or 'log'")
    table = _sizes.image_sizes(frames)
    mask = select(frames.images, pattern=pattern, search=search, refs=images)
    table = table[table["image_id"].isin(set(frames.images.loc[mask, "image_id"]))]
    n_shown_from = len(table)
    table = table.sort_values([sort, "size", "label"], ascending=[False, False, True], kind="stable")
    top, rest = top_and_rest(table, top_n)  # the table is ranked already
    big = _sharing.largest_layers(frames)
    marked = set(resolve_images(frames.images, list(remove))) if remove else set()
    r_ = roles(frames)

    labels, shared, unique, hs, hu, hatch = [], [], [], [], [], []
    for r in top.itertuples(index=False):
        name = r.label
        tags = ", ".join(r.tags) if len(r.tags) else "<none> (dangling)"
        info = big.loc[r.image_id] if r.image_id in big.index else None
        head = f"<b>{st.esc(name)}</b> ({st.esc(r.short_id)})<br>Tags: {st.esc(tags)}<br>Size: {axis_bytes(r.size)}"
        base = r_.base_of.get(r.image_id)
        if base:
            head += f"<br>Built on {st.esc(r_.label[base])}"
        sh = head + f"<br>Shared: {axis_bytes(r.shared_size)}"
        un = head + f"<br>Unique: {axis_bytes(r.unique_size)}"
        if info is not None and not pd.isna(info["shared_chain"]):
            sh += (f"<br>Largest shared layer: {st.layer_text(info['shared_instruction'], info['shared_created_by'])}"
                   f" ({axis_bytes(info['shared_size'])})")
        if info is not None and not pd.isna(info["unique_chain"]):
            un += (f"<br>Largest own layer: {st.layer_text(info['unique_instruction'], info['unique_created_by'])}"
                   f" ({axis_bytes(info['unique_size'])})")
        elif info is not None:
            un += "<br>No layer of its own: every layer is another image's too (e.g. an ENV-only image)"
        un += f"<br>Containers: {r.containers}; size from the {r.size_source}"
        if r.image_id in marked:
            sh += "<br><i>marked for removal</i>"
            un += "<br><i>marked for removal</i>"
        hatch.append("/" if r.image_id in marked else "")
        labels.append(name)
        shared.append(st.int0(r.shared_size))
        unique.append(st.int0(r.unique_size))
        hs.append(sh)
        hu.append(un)
    if len(rest):
        name = rest_label(len(rest), "images")
        s_sum, u_sum = int(rest["shared_size"].fillna(0).sum()), int(rest["unique_size"].fillna(0).sum())
        few = st.names_text(list(rest["label"].astype(str)))
        labels.append(name)
        shared.append(s_sum)
        unique.append(u_sum)
        hs.append(f"<b>{name}</b>: {few}<br>Shared bytes, summed: {axis_bytes(s_sum)}")
        hu.append(f"<b>{name}</b>: {few}<br>Unique bytes, summed: {axis_bytes(u_sum)}")
        hatch.append("")
    pattern_ = {"shape": hatch} if any(hatch) else None
    extra = {"pattern": pattern_} if pattern_ else {}
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.56, 0.44], horizontal_spacing=0.04,
                        subplot_titles=["size = shared + unique", "unique bytes, on their own axis"])
    fig.add_trace(go.Bar(y=labels, x=shared, orientation="h", name="shared with other images", hovertext=hs,
                         hoverinfo="text", marker={"color": st.COLORS["shared"], **extra}), row=1, col=1)
    fig.add_trace(go.Bar(y=labels, x=unique, orientation="h", name="unique to the image", hovertext=hu,
                         hoverinfo="text", marker={"color": st.COLORS["unique"], **extra}), row=1, col=1)
    axis = _unique_axis(unique, unique_scale)
    fig.add_trace(go.Bar(y=labels, x=[u if (u or axis == "linear") else None for u in unique], orientation="h",
                         name="unique bytes (own axis)", hovertext=hu, hoverinfo="text", showlegend=False,
                         marker={"color": st.COLORS["unique"], **extra}, text=[axis_bytes(u) for u in unique],
                         textposition=["auto" if u else "outside" for u in unique], cliponaxis=False), row=1, col=2)
    fig.update_layout(barmode="stack", legend={"traceorder": "normal"})
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_yaxes(title={"text": "image"}, row=1, col=1)
    st.byte_axis_on(fig, 1, max((a + b for a, b in zip(shared, unique)), default=0), title="Size", col=1)
    top_u = max(unique, default=0)
    if axis == "log":
        nonzero = [u for u in unique if u > 0]
        lo = 10 ** math.floor(math.log10(min(nonzero)))
        vals = [10 ** k for k in range(int(math.log10(lo)), int(math.log10(top_u)) + 2)]
        fig.update_xaxes(type="log", tickvals=vals, ticktext=[axis_bytes(v) for v in vals],
                         range=[math.log10(lo), math.log10(top_u) + 0.5],
                         title={"text": "Unique bytes (log scale)"}, row=1, col=2)
    else:
        st.byte_axis_on(fig, 1, top_u * 1.3 if top_u else 0, title="Unique", col=2)
    n_all = len(frames.images)
    what = f"{len(top)} of {n_all} images" if len(top) < n_all else f"{n_all} images"
    default = f"Shared vs unique bytes per image ({what}, by {sort.replace('_', ' ')})"
    sub = ("bar = the image's size as `docker image ls` shows it; unique = what removing it alone frees"
           + (f"; {len(rest)} more in 'other'" if len(rest) else "")
           + (f"; {n_shown_from} match the filter" if n_shown_from < n_all else ""))
    fig = st.finish(fig, title=title or default, subtitle=sub, height=height,
                    default_height=max(320, 170 + 28 * len(labels)))
    st.legend_below(fig)
    return fig


@document
def reported_vs_physical(frames, *, top_n: int | None = 20, title: str | None = None, height: int | None = None):
    """What ``docker image ls`` adds up to against what the disk holds.

    The upper bar stacks the SIZE of every ``docker image ls`` row (one per tag): each image
    again in full. The lower bar stacks the distinct layers (by chain ID), each once: the
    bytes on disk (``docker system df`` Images SIZE). The middle bar splits the upper one into
    bytes on disk, shared layers counted again (what sharing saves) and extra tags counted again.

    Parameters
    ----------
    {frames}
    {top_n}
        Here: segments of each bar (rows, layers).
    {title}
    {height}

    {returns}

    See Also
    --------
    imgviz.analysis.sizes.totals : the numbers.
    """
    go = _go()
    from ..analysis.listing import image_list

    t = _sizes.totals(frames)["value"]
    rows = image_list(frames.images)
    rows = rows.assign(label=rows["repository"] + ":" + rows["tag"], size=rows["size"].fillna(0).astype("int64"))
    labels = dict(zip(frames.images["image_id"], image_labels(frames.images)))
    rows.loc[rows["repository"] == "<none>", "label"] = rows["image_id"].map(labels)
    big = _sharing.largest_layers(frames)
    top, rest = top_and_rest(rows, top_n, "size")
    vals, hover, colors = [], [], []
    for k, r in enumerate(top.itertuples(index=False)):
        info = big.loc[r.image_id]
        lay = ""
        if not pd.isna(info["shared_chain"]) or not pd.isna(info["unique_chain"]):
            which = "unique" if not pd.isna(info["unique_chain"]) and (pd.isna(info["shared_size"]) or
                                                                       info["unique_size"] >= info["shared_size"]) else "shared"
            lay = (f"<br>Largest layer: {st.layer_text(info[which + '_instruction'], info[which + '_created_by'])}"
                   f" ({axis_bytes(info[which + '_size'])}, {which})")
        vals.append(int(r.size))
        hover.append(f"<b>{st.esc(r.label)}</b> ({st.esc(r.short_id)})<br>`docker image ls` SIZE: "
                     f"{axis_bytes(r.size)}{lay}")
        colors.append(st.PALETTE[k % len(st.PALETTE)])
    if len(rest):
        vals.append(int(rest["size"].sum()))
        hover.append(f"<b>{rest_label(len(rest), 'rows')}</b>: {st.names_text(list(rest['label']))}<br>Sum: "
                     f"{axis_bytes(rest['size'].sum())}")
        colors.append(st.COLORS["other"])

    tree = _sharing.layer_tree(frames)
    layers = tree.assign(size=tree["size"].fillna(0).astype("int64"))
    ltop, lrest = top_and_rest(layers, top_n, "size")
    pvals, phover, pcolors = [], [], []
    for r in ltop.itertuples(index=False):
        pvals.append(int(r.size))
        phover.append(f"<b>{st.layer_text(r.instruction, r.created_by)}</b><br>Layer: {axis_bytes(r.size)}, "
                      f"stored once<br>Used by {int(r.n_images)}: {st.names_text(r.images)}")
        pcolors.append(st.COLORS["shared"] if r.shared else st.COLORS["unique"])
    if len(lrest):
        pvals.append(int(lrest["size"].sum()))
        phover.append(f"<b>{rest_label(len(lrest), 'layers')}</b><br>Sum: {axis_bytes(lrest['size'].sum())}")
        pcolors.append(st.COLORS["other"])

    rep_name = f"docker image ls ({int(t['tags'])} rows)"
    why_name = "the same bytes, explained"
    phys_name = "on disk (distinct layers)"
    reported, physical = st.int0(t["reported"]), st.int0(t["physical"])
    saved, again = st.int0(t["saved_by_sharing"]), st.int0(t["counted_again_for_tags"])
    why = _segments(go, "explained", why_name, [physical, saved, again],
                    [f"<b>on disk</b>: every distinct layer once<br>{axis_bytes(physical)}",
                     f"<b>shared layers counted again</b>: each image's size includes its shared layers"
                     f"<br>{axis_bytes(saved)} (what sharing saves)",
                     f"<b>extra tags counted again</b>: one row per tag, the same image<br>{axis_bytes(again)}"],
                    [st.COLORS["physical"], st.COLORS["shared"], st.COLORS["other"]])
    fig = go.Figure([
        _segments(go, "reported", rep_name, vals, hover, colors),
        why,
        _segments(go, "physical", phys_name, pvals, phover, pcolors),
    ])
    fig.update_yaxes(categoryorder="array", categoryarray=[phys_name, why_name, rep_name], title={"text": ""},
                     automargin=True)
    fig.update_layout(barmode="overlay", bargap=0.35)
    for row, total in ((rep_name, reported), (why_name, reported), (phys_name, physical)):
        fig.add_annotation(x=total, y=row, text=f"<b>{axis_bytes(total)}</b>", showarrow=False,
                           xanchor="left", xshift=6)
    st.byte_axis(fig, "x", max(reported, physical) * 1.12, title="Bytes")
    default = (f"Reported {axis_bytes(t['reported'])} vs {axis_bytes(t['physical'])} on disk: "
               f"sharing saves {axis_bytes(t['saved_by_sharing'])}")
    sub = (f"{int(t['images'])} images; reported counts every image (and every extra tag) in full, "
           f"the disk keeps each layer once")
    unknown = int(frames.images["size"].isna().sum())
    if unknown:
        sub += f"; {unknown} image(s) of unknown size drawn as 0"
    return st.finish(fig, title=title or default, subtitle=sub, height=height, default_height=380)


@document
def what_if(frames, remove, *, remove_containers: bool = False, top_n: int | None = 20,
            title: str | None = None, height: int | None = None):
    """What removing some images changes on disk: the freed layers, drawn as the change, and the
    layers that stay, each on an axis of its own.

    Upper panel, *the change*: the layers that would be deleted (no other image or container needs
    them) and, with ``remove_containers``, the containers' writable layers; its axis fits those
    bytes, so freeing a 1.3 kB COPY is a full bar, not a sliver of 216 MB. Lower panel, *what
    stays*: the removed images' layers that other images use (*kept*) or containers sit on (*held*).
    The title and subtitle give the bytes on disk before and after (``docker system df`` Images
    SIZE). Hover names the layer's instruction, the removed image(s) and who keeps it.

    Parameters
    ----------
    {frames}
    {remove}
    {remove_containers}
    {top_n}
        Here: layers per bar.
    {title}
    {height}

    {returns}

    See Also
    --------
    imgviz.analysis.sizes.what_if, imgviz.analysis.sizes.what_if_totals : the data.
    """
    go = _go()
    from plotly.subplots import make_subplots

    from ..analysis.what_if import headline

    detail = _sizes.what_if(frames, remove, remove_containers=remove_containers)
    head = headline(frames, remove, remove_containers=remove_containers)
    tot, per_engine = head["totals"], head["removal"]
    detail = detail.assign(size=detail["size"].fillna(0).astype("int64"))
    by_ctr = detail["kept_by"].fillna("").str.startswith("container ")
    names = resolve_images(frames.images, remove)
    label_of = dict(zip(frames.images["image_id"], image_labels(frames.images)))

    def layer_rows(part, color, kind):
        top, rest = top_and_rest(part.sort_values("size", ascending=False, kind="stable"), top_n, "size")
        ys, xs, hover, colors = [], [], [], []
        for r in top.itertuples(index=False):
            h = (f"<b>{st.layer_text(r.instruction, r.created_by)}</b><br>Layer: {axis_bytes(r.size)} "
                 f"({int(r.size):,} bytes)<br>Removed image(s) using it: {st.names_text(r.removed_by)}")
            if not r.freed:
                verb = "sits on" if str(r.kept_by).startswith("container") else "uses"
                h += f"<br>Stays: {st.esc(r.kept_by)} {verb} it"
            ys.append(f"{st.esc(st.step(r.instruction, r.created_by, 30))} · {str(r.chain_id)[7:13]}")
            xs.append(int(r.size))
            hover.append(h)
            colors.append(color)
        if len(rest):
            ys.append(f"{rest_label(len(rest), 'layers')} ({kind})")
            xs.append(int(rest["size"].sum()))
            hover.append(f"<b>{rest_label(len(rest), 'layers')}</b><br>Sum: {axis_bytes(rest['size'].sum())}")
            colors.append(st.COLORS["other"])
        return ys, xs, hover, colors

    freed = detail[detail["freed"]]
    kept = detail[~detail["freed"] & ~by_ctr]
    held = detail[by_ctr]
    # the change in `docker system df`: layers deleted, and layers df stops counting though a
    # container keeps them on disk; then what stays counted because other images use it
    change = [("freed", *layer_rows(freed, st.COLORS["freed"], "freed"))] if len(freed) else []
    if len(held):
        change.append(("held by containers", *layer_rows(held, st.COLORS["held"], "held")))
    if st.int0(tot["freed_writable"]):
        w = int(tot["freed_writable"])
        change.append(("writable", ["containers' writable layers"], [w],
                       [f"<b>containers' writable layers</b> (removed with their images)<br>Bytes: {axis_bytes(w)}"],
                       [st.COLORS["freed"]]))
    # per engine model (imgviz.analysis.what_if): the containerd store also frees content blobs; podman
    # and the containerd store in some cases cannot say how many bytes go
    blobs = per_engine.blobs[per_engine.blobs["freed"]] if len(per_engine.blobs) else per_engine.blobs
    if len(blobs):
        nb = int(blobs["size"].sum())
        roles = ", ".join(sorted(set(blobs["role"].astype(str))))
        change.append(("content blobs", [f"content blobs ({len(blobs)}: {roles})"], [nb],
                       [f"<b>content blobs no other image references</b> ({st.esc(roles)})<br>"
                        f"Bytes: {axis_bytes(nb)} ({nb:,} bytes), deleted with the images (containerd image store)"],
                       [st.COLORS["freed"]]))
    if not change:
        change.append(("freed", ["nothing is freed"], [0],
                       ["<b>Nothing is freed</b>: other images use every layer of it (below)"],
                       [st.COLORS["freed"]]))
    stays = [("kept: other images use them", *layer_rows(kept, st.COLORS["kept"], "kept"))] if len(kept) else []
    n_change = sum(len(p[1]) for p in change)
    n_stays = sum(len(p[1]) for p in stays)
    # the engines whose own numbers cannot prove the layer rule's bytes (a recording without /info keeps it)
    before, after, freed_bytes, unknown = head["before"], head["after"], head["freed"], head["unknown"]
    rows = 2 if stays else 1
    drop = int(freed["size"].sum()) + int(held["size"].sum()) + (int(blobs["size"].sum()) if len(blobs) else 0)
    titles = [f"the change, on its own axis: {axis_bytes(freed_bytes)} freed"
              + (f", `docker system df` drops by {axis_bytes(drop)}" if drop != st.int0(freed_bytes) else "")
              if not unknown else
              f"the change, on its own axis: bytes freed unknown on this engine (the bars: {axis_bytes(drop)} known)"]
    if stays:
        titles.append(f"what stays, other images use it: {axis_bytes(int(kept['size'].sum()))}")
    fig = make_subplots(rows=rows, cols=1, subplot_titles=titles,
                        row_heights=[max(n_change, 1), max(n_stays, 1)] if rows == 2 else None,
                        vertical_spacing=min(0.4, 110 / (36 * (n_change + n_stays + 2) + 60)) if rows == 2 else 0.1)
    for row, group in ((1, change), (2, stays)):
        biggest = 0
        for name, ys, xs, hover, colors in group:
            fig.add_trace(go.Bar(y=ys, x=xs, orientation="h", name=name, hovertext=hover, hoverinfo="text",
                                 marker={"color": colors}, text=[axis_bytes(x) for x in xs],
                                 textposition=["auto" if x else "outside" for x in xs], cliponaxis=False),
                          row=row, col=1)
            biggest = max([biggest, *xs])
        if row <= rows:
            st.byte_axis_on(fig, row, biggest * 1.3 if biggest else 0,
                            title="Bytes that change" if row == 1 else "Bytes that stay")
            fig.update_yaxes(autorange="reversed", automargin=True, row=row, col=1)
    fig.update_layout(showlegend=False, barmode="overlay")
    who = st.plain_names([label_of[i] for i in names], 3) if names else "nothing"
    default = f"Removing {who} frees {axis_bytes(freed_bytes)}" if not unknown else \
        f"Removing {who} frees an unknown number of bytes on this engine"
    sub = f"{int(tot['images_removed'])} image(s), {int(tot['layers_freed'])} layer(s) freed"
    if before is not None and after is not None:
        sub += (f"; on disk (`docker system df` Images SIZE): {int(before):,} → {int(after):,} bytes "
                f"({axis_bytes(before)} → {axis_bytes(after)})" + (", no change" if int(before) == int(after) else ""))
    if st.int0(tot["held_by_containers"]):
        sub += (f"; {axis_bytes(tot['held_by_containers'])} stay on disk under containers (df stops counting "
                f"them; remove the containers to free them)")
    if remove_containers:
        sub += " (containers removed too)"
    if unknown:
        sub += f"; {st.esc(per_engine.reason)}"
    return st.finish(fig, title=title or default, subtitle=sub, height=height,
                     default_height=max(300, 150 + 36 * (n_change + n_stays) + (70 if rows == 2 else 0)))
