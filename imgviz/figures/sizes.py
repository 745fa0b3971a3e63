"""Figures of sizes: shared vs unique per image, reported vs physical, and what removing images frees."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..analysis import sharing as _sharing
from ..analysis import sizes as _sizes
from ..selection import image_labels, rest_label, resolve_images, select, top_and_rest
from ..units import axis_bytes
from . import _style as st
from ._doc import document


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


@document
def image_sizes(frames, *, top_n: int | None = 30, pattern: str | None = None, search: str | None = None,
                images: Iterable[str] | None = None, sort: str = "size", remove: Iterable[str] | None = None,
                title: str | None = None, height: int | None = None):
    """Per image, stacked bars of shared and unique bytes (``docker system df -v``).

    The whole bar is the image's size (what ``docker image ls`` shows); the blue part is bytes
    other images use too, the orange part bytes only this image holds, which removing it frees.

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
    {title}
    {height}

    {returns}

    See Also
    --------
    imgviz.analysis.sizes.image_sizes : the data.
    """
    go = _go()
    if sort not in ("size", "unique_size", "shared_size"):
        from ..errors import ImgvizError

        raise ImgvizError(f"sort={sort!r}: choose 'size', 'unique_size' or 'shared_size'")
    table = _sizes.image_sizes(frames)
    mask = select(frames.images, pattern=pattern, search=search, refs=images)
    table = table[table["image_id"].isin(set(frames.images.loc[mask, "image_id"]))]
    n_shown_from = len(table)
    table = table.sort_values([sort, "size", "label"], ascending=[False, False, True], kind="stable")
    top, rest = top_and_rest(table, top_n)  # the table is ranked already
    big = _sharing.largest_layers(frames)
    marked = set(resolve_images(frames.images, list(remove))) if remove else set()

    labels, shared, unique, hs, hu, hatch = [], [], [], [], [], []
    for r in top.itertuples(index=False):
        name = r.label
        tags = ", ".join(r.tags) if len(r.tags) else "<none> (dangling)"
        info = big.loc[r.image_id] if r.image_id in big.index else None
        head = f"<b>{st.esc(name)}</b> ({st.esc(r.short_id)})<br>Tags: {st.esc(tags)}<br>Size: {axis_bytes(r.size)}"
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
    fig = go.Figure([
        go.Bar(y=labels, x=shared, orientation="h", name="shared with other images", hovertext=hs,
               hoverinfo="text", marker={"color": st.COLORS["shared"], **({"pattern": pattern_} if pattern_ else {})}),
        go.Bar(y=labels, x=unique, orientation="h", name="unique to the image", hovertext=hu,
               hoverinfo="text", marker={"color": st.COLORS["unique"], **({"pattern": pattern_} if pattern_ else {})}),
    ])
    fig.update_layout(barmode="stack", legend={"traceorder": "normal"})
    fig.update_yaxes(autorange="reversed", title={"text": "image"}, automargin=True)
    st.byte_axis(fig, "x", max((a + b for a, b in zip(shared, unique)), default=0), title="Size")
    n_all = len(frames.images)
    what = f"{len(top)} of {n_all} images" if len(top) < n_all else f"{n_all} images"
    default = f"Shared vs unique bytes per image ({what}, by {sort.replace('_', ' ')})"
    sub = ("bar = the image's size as `docker image ls` shows it; unique = what removing it alone frees"
           + (f"; {len(rest)} more in 'other'" if len(rest) else "")
           + (f"; {n_shown_from} match the filter" if n_shown_from < n_all else ""))
    return st.finish(fig, title=title or default, subtitle=sub, height=height,
                     default_height=max(300, 140 + 26 * len(labels)))


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
    """What removing some images frees: freed layers against the layers that stay, and why.

    Bars: the layers the removed images use, split into *freed* (no other image or container
    needs them), *kept* (a remaining image uses them) and *held by containers*; plus the
    physical bytes before and after. Hover names the layer's instruction, the removed image(s)
    and who keeps it.

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
    detail = _sizes.what_if(frames, remove, remove_containers=remove_containers)
    tot = _sizes.what_if_totals(frames, remove, remove_containers=remove_containers)
    detail = detail.assign(size=detail["size"].fillna(0).astype("int64"))
    by_ctr = detail["kept_by"].fillna("").str.startswith("container ")
    parts = [("freed", detail[detail["freed"]], st.COLORS["freed"]),
             ("kept: other images use them", detail[~detail["freed"] & ~by_ctr], st.COLORS["kept"]),
             ("held by containers", detail[by_ctr], st.COLORS["held"])]
    traces, rows_order = [], []
    for name, part, color in parts:
        if part.empty:
            continue
        top, rest = top_and_rest(part, top_n, "size")
        vals, hover = [], []
        for r in top.itertuples(index=False):
            h = (f"<b>{st.layer_text(r.instruction, r.created_by)}</b><br>Layer: {axis_bytes(r.size)}"
                 f"<br>Removed image(s) using it: {st.names_text(r.removed_by)}")
            if not r.freed:
                h += f"<br>Stays: {st.esc(r.kept_by)} {'uses' if not str(r.kept_by).startswith('container') else 'sits on'} it"
            vals.append(int(r.size))
            hover.append(h)
        if len(rest):
            vals.append(int(rest["size"].sum()))
            hover.append(f"<b>{rest_label(len(rest), 'layers')}</b><br>Sum: {axis_bytes(rest['size'].sum())}")
        row = f"{name} ({axis_bytes(sum(vals))})"
        rows_order.append(row)
        traces.append(_segments(go, name, row, vals, hover, [color] * len(vals)))
    if st.int0(tot["freed_writable"]):
        row = f"writable layers freed ({axis_bytes(tot['freed_writable'])})"
        rows_order.append(row)
        traces.append(_segments(go, "writable", row, [int(tot["freed_writable"])],
                                ["<b>containers' writable layers</b> (removed with their images)<br>"
                                 f"Bytes: {axis_bytes(tot['freed_writable'])}"], [st.COLORS["freed"]]))
    before, after = tot["physical_before"], tot["physical_after"]
    for name, value, color in (("on disk now", before, st.COLORS["physical"]),
                               ("on disk after (docker system df)", after, st.COLORS["physical"])):
        if value is pd.NA:
            continue
        row = f"{name} ({axis_bytes(value)})"
        rows_order.append(row)
        traces.append(go.Bar(y=[row], x=[int(value)], orientation="h", name=name, showlegend=False,
                             hovertext=[f"<b>{name}</b><br>Images SIZE: {axis_bytes(value)}"],
                             hoverinfo="text", marker={"color": color}))
    fig = go.Figure(traces)
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(rows_order)), automargin=True)
    fig.update_layout(showlegend=False, barmode="overlay")
    st.byte_axis(fig, "x", int(before) if before is not pd.NA else int(detail["size"].sum()), title="Bytes")
    names = resolve_images(frames.images, remove)
    label_of = dict(zip(frames.images["image_id"], image_labels(frames.images)))
    who = st.names_text([label_of[i] for i in names], 3) if names else "nothing"
    default = f"Removing {who} frees {axis_bytes(tot['freed'])}"
    sub = (f"{int(tot['images_removed'])} image(s), {int(tot['layers_freed'])} layer(s) freed"
           + (f"; {axis_bytes(tot['held_by_containers'])} stay on disk under containers"
              if st.int0(tot["held_by_containers"]) else "")
           + (" (containers removed too)" if remove_containers else ""))
    return st.finish(fig, title=title or default, subtitle=sub, height=height,
                     default_height=max(280, 120 + 45 * len(rows_order)))
