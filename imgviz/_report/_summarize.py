"""The report's data: sections of (title, explanation, tables / figures / facts), from frames.

Nothing here renders HTML. A section is built by a small function from a :class:`Context` that
holds the (masked) frames and the options; :data:`SECTIONS` lists them in report order, so adding a
figure to the report is one line there.

The report only arranges: every number it shows comes from an analysis a notebook can call too
(:mod:`imgviz.analysis.sizes`, :mod:`~imgviz.analysis.sharing`, :mod:`~imgviz.analysis.env`,
:mod:`~imgviz.analysis.listing`), names and "the top N and the rest" from :mod:`imgviz.selection`,
and byte formats from :mod:`imgviz.units`. An unknown number is shown as unknown, never as 0.

Large engines are aggregated rather than drawn in full: tables and figures show the top ``top``
images (by bytes only they hold) and repositories, and say how many were left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import pandas as pd

from ..selection import short_id, with_rest_row
from ..units import human_size


# ------------------------------------------------------------------------------------ content types

#: a table longer than this is folded (its caption and row count stay visible)
COLLAPSE_ROWS = 12
#: history rows the report holds in all: every image's history while they fit, then a note
HISTORY_ROWS = 6000

@dataclass
class Table:
    """A table for the report. ``formats`` maps a column to how it is shown:
    ``bytes``, ``int``, ``text``, ``code`` (monospace, wrapped), ``time``, ``id`` (short hex)."""

    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    caption: str | None = None
    rest_row: bool = False  #: the last row sums the rows left out (the top N and the rest)
    #: shown folded (an HTML <details>): True, False, or None for "when longer than COLLAPSE_ROWS rows"
    collapse: bool | None = None
    grid: bool = False  #: a matrix (rows x named columns), e.g. ENV: image x variable

    @property
    def collapsed(self) -> bool:
        return bool(self.collapse) if self.collapse is not None else len(self.frame) > COLLAPSE_ROWS

    def records(self) -> list[dict[str, Any]]:
        out = []
        for row in self.frame.itertuples(index=False):
            rec = {}
            for col, value in zip(self.frame.columns, row):
                if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
                    rec[col] = None
                elif isinstance(value, pd.Timestamp):
                    rec[col] = value.isoformat()
                elif hasattr(value, "item"):
                    rec[col] = value.item()
                else:
                    rec[col] = value
            out.append(rec)
        return out


@dataclass
class Facts:
    """Label/value pairs, already formatted as text."""

    items: list[tuple[str, str]]


@dataclass
class Figure:
    """A plotly figure and a note (e.g. what was aggregated)."""

    figure: Any
    note: str | None = None


@dataclass
class Section:
    key: str
    title: str
    explanation: str
    parts: list[Table | Facts | Figure]


# ----------------------------------------------------------------------------------------- context

@dataclass
class Context:
    """What the section builders read: the frames (already masked unless asked otherwise), options,
    and the analyses' results (each computed once, by the analysis a notebook calls too)."""

    frames: Any
    description: str
    top: int = 25
    history_images: int = 8
    masked: bool = True
    #: the frames before masking (their snapshot's raw records): read for engine numbers only
    unmasked: Any = None

    @property
    def raw_frames(self):
        return self.unmasked if self.unmasked is not None else self.frames

    @property
    def images(self) -> pd.DataFrame:
        return self.frames.images

    @property
    def many(self) -> bool:
        """More images than one table shows."""
        return len(self.images) > self.top

    @cached_property
    def totals_table(self) -> pd.DataFrame:
        """:func:`imgviz.analysis.sizes.totals`: value, unit, source and meaning of each total."""
        from ..analysis.sizes import totals

        return totals(self.frames)

    @property
    def totals(self) -> pd.Series:
        """The totals' values (NA where the source does not say)."""
        return self.totals_table["value"]

    @cached_property
    def ranked_images(self) -> pd.DataFrame:
        """:func:`imgviz.analysis.sizes.image_sizes`: the images holding the most bytes of their own first."""
        from ..analysis.sizes import image_sizes

        return image_sizes(self.frames)

    @cached_property
    def names(self) -> dict[str, str]:
        """``{image_id: label}`` (:func:`imgviz.selection.labels`)."""
        from ..selection import labels

        return labels(self.images)


def _bytes(value) -> str:
    """Bytes as the docker CLI prints them; an unknown number says so (never 0B)."""
    return "unknown" if _unknown(value) else human_size(value)


def _unknown(value) -> bool:
    return value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value))


def _others_note(shown: int, total: int, what: str, order: str) -> str | None:
    if total <= shown:
        return None
    return f"Showing {shown} of {total:,} {what} ({order}); the rest are summed in the last row."


# ---------------------------------------------------------------------------------------- sections

def overview(ctx: Context) -> list:
    t, src_of = ctx.totals, ctx.totals_table["source"]
    src = ctx.frames.source or {}
    items = [("Source", ctx.description)]
    if src.get("collected_at"):
        items.append(("Collected at", str(src["collected_at"])))
    from ..sources.cache import note

    if note(src):  # what came from imgviz's engine cache rather than from the engine just now
        items.append(("Cache", note(src)))
    store = _podman_store_note(ctx.raw_frames)
    if store:  # where podman's image records came from
        items.append(("Read from", store))
    model = _engine_model_of(ctx.raw_frames)
    if model is not None:
        # the header names the engine, its API version and its storage (the size model follows it)
        items.append(("Engine", f"{model.describe()}, {src.get('os', '?')}/{src.get('arch', '?')}"))
    elif src.get("engine_version"):
        items.append(("Engine", f"Docker {src['engine_version']} (API {src.get('api_version', '?')}, "
                                f"{src.get('os', '?')}/{src.get('arch', '?')})"))
    disk = ("(what the disk holds for images: `docker system df` Images SIZE, the engine's own number)"
            if src_of["physical"] == "engine" else "(what the disk holds for images, each layer once)")
    if model is not None and model.storage == "podman":
        # podman's `system df` Images SIZE is a sum of image sizes: the bytes stored are its layer records'
        disk = ("(what podman's layer store holds: its own layer records; `podman system df` Images SIZE is "
                "a sum of image sizes, not this)" if src_of["physical"] == "engine" else
                "(podman does not say: its layer store's records were not readable)")
    items += [
        ("Images", f"{t['images']:,} ({t['tag_names']:,} tags in {t['repositories']:,} repositories, "
                   f"{t['dangling_images']:,} dangling)"),
        ("Layers", f"{t['distinct_layers']:,} distinct, {t['shared_layers']:,} of them used by more than one "
                   f"image; {t['layer_references']:,} layer references in all"),
        ("Containers", f"{t['containers']:,}, writable layers {_bytes(t['writable_layers'])}"),
        ("`docker image ls` adds up to", f"{_bytes(t['reported'])} ({t['tags']:,} rows: one per tag, each with "
                                         f"the image's full size)"),
        ("Sum of image sizes", f"{_bytes(t['logical'])} (each image once, shared layers counted in "
                               f"every image that uses them)"),
        ("Bytes of distinct layers", f"{_bytes(t['physical'])} {disk}"),
    ]
    if "physical_of_listed_images" in t.index:
        items.append(("Of them, layers of the listed images", f"{_bytes(t['physical_of_listed_images'])} (the "
                                                              f"engine also counts layers of images it does not list)"))
    if not _unknown(t["saved_by_sharing"]):
        items.append(("Saved by sharing layers", _bytes(t["saved_by_sharing"])))
    if any(_unknown(t[k]) for k in ("reported", "logical", "physical")):
        items.append(("Unknown sizes", "this source does not give the unpacked size of every layer (a registry "
                                       "keeps layers compressed), so sums that need them stay unknown"))
    if ctx.masked:
        items.append(("Secrets", "values of secret-looking names (TOKEN, SECRET, PASSWORD, API_KEY, ...) are "
                                 "masked as ******** (imgviz report --show-secrets keeps them)"))
    else:
        items.append(("Secrets", "NOT masked: this report was made with --show-secrets"))
    return [Facts(items)]


def _podman_store_note(frames) -> str | None:
    """The line saying podman's image records were read from its storage (None when they were not)."""
    snap = getattr(frames, "snapshot", None)
    store = snap.records.get("podman_store") if snap is not None else None
    if not isinstance(store, dict):
        return None
    return (f"podman's image list, inspect and history of {store.get('images', '?')} images read from its "
            f"storage at {store.get('root')} ({store.get('driver')}), by the rules of its compat API "
            f"(the same records; IMGVIZ_PODMAN_STORE=0 asks the API instead)")


def _engine_model_of(frames):
    from ..sources.engine_model import model_of_frames

    return model_of_frames(frames)


def size_model_part(ctx: Context) -> list:
    """Why `docker image ls`, `docker image inspect` and `docker system df` differ, by the engine's model."""
    from ..analysis.size_views import size_views

    views = size_views(ctx.raw_frames)
    if views.empty or views["storage"].iloc[0] == "derived":
        return []
    storage = views["storage"].iloc[0]
    if storage == "containerd":
        cols = {"label": "image", "image_ls_size": "image ls / df", "inspect_size": "inspect",
                "content_size": "content (blobs)", "unpacked_size": "unpacked (snapshots)",
                "attestation_size": "attestation", "df_shared_size": "df shared"}
        frame = views[list(cols)].rename(columns=cols)
        return [Facts([("Size model", "containerd image store: `docker image ls` and `docker system df` count the "
                                      "content blobs (manifest, config, compressed layers) plus the unpacked "
                                      "snapshots; `docker image inspect` counts the content only; df SHARED counts "
                                      "snapshots only, never blobs; removing an image frees its snapshots and the "
                                      "blobs no other image references")]),
                Table(frame, {c: "bytes" for c in list(cols.values())[1:]} | {"image": "text"},
                      caption="One image, three sizes (from /images/json?manifests=1)")]
    text = views["explanation"].iloc[0] if storage == "podman" else (
        "graph driver: `docker image ls`, `docker image inspect` and `docker system df` agree: an image's size "
        "is the bytes of its layers' files; df SHARED is the part other images use too")
    return [Facts([("Size model", text)])]


def images_table(ctx: Context) -> list:
    ranked = ctx.ranked_images
    extra = ctx.images.set_index("image_id")
    frame = pd.DataFrame({
        "image": ranked["label"].astype(object),
        "other tags": [", ".join(list(t or [])[1:]) for t in ranked["tags"]],
        "id": ranked["short_id"].astype(object),
        # reindex, not map: an empty collection (an engine whose list never came) maps nothing
        "created": pd.Series(extra["created"].reindex(ranked["image_id"]).to_numpy(), index=ranked.index),
        "size": ranked["size"],
        "shared": ranked["shared_size"],
        "unique": ranked["unique_size"],
        "layers": ranked["n_layers"],
        "containers": ranked["containers"],
    })
    shown, total = with_rest_row(frame, ctx.top, label="image", noun="images",
                                 sums=["size", "shared", "unique", "layers", "containers"])
    return [Table(shown, {"image": "text", "other tags": "text", "id": "id", "created": "time", "size": "bytes",
                          "shared": "bytes", "unique": "bytes", "layers": "int", "containers": "int"},
                  note=_others_note(min(total, ctx.top), total, "images", "most bytes of their own first"),
                  rest_row=total > ctx.top)]


def repositories_table(ctx: Context) -> list:
    """Images grouped by repository: how much each repository costs on its own."""
    from ..analysis.sizes import repository_sizes

    repos = repository_sizes(ctx.frames)
    if repos.empty:
        return []
    frame = repos.rename(columns={"images_size": "sum of image sizes", "layers_size": "bytes",
                                  "unique_size": "only in this repository"})
    frame["repository"] = frame["repository"].astype(object)
    shown, total = with_rest_row(frame, ctx.top, label="repository", noun="repositories",
                                 sums=["images", "tags", "layers", "sum of image sizes", "bytes",
                                       "only in this repository"])
    return [Table(shown, {"repository": "text", "images": "int", "tags": "int", "layers": "int",
                          "sum of image sizes": "bytes", "bytes": "bytes", "only in this repository": "bytes"},
                  note=_others_note(min(total, ctx.top), total, "repositories", "most bytes of their own first"),
                  rest_row=total > ctx.top)]


def shared_layers_table(ctx: Context) -> list:
    from ..analysis.sharing import shared_layers

    if ctx.frames.layers.empty:
        return []
    shared = shared_layers(ctx.frames)
    if shared.empty:
        return [Facts([("Shared layers", "no layer is used by more than one image")])]
    rows = []
    for r in shared.head(ctx.top).itertuples(index=False):
        who = sorted(r.images)
        rows.append({"layer": short_id(r.chain_id), "size": r.size, "images": r.n_images,
                     "saved by sharing": r.saved_by_sharing, "made by": r.created_by or (r.comment or ""),
                     "used by": ", ".join(who[:6]) + (f" and {len(who) - 6} more" if len(who) > 6 else "")})
    return [Table(pd.DataFrame(rows), {"layer": "id", "size": "bytes", "images": "int", "saved by sharing": "bytes",
                                       "made by": "code", "used by": "text"},
                  note=_others_note(min(len(shared), ctx.top), len(shared), "shared layers", "most bytes saved first"))]


def history_tables(ctx: Context) -> list:
    """Every image's history (newest first, as `docker image history`), each folded, within
    :data:`HISTORY_ROWS` rows; first the layers of the first image that is built on another one."""
    from ..analysis.listing import history_table

    parts: list = []
    ranked = ctx.ranked_images
    # tagged images first (largest own bytes first), then the dangling ones
    order = pd.concat([ranked[~ranked["dangling"]], ranked[ranked["dangling"]]])
    from ..figures._roles import roles

    r = roles(ctx.frames)
    built = [i for i in order["image_id"] if i in r.base_of and r.split(i)[0] < len(r.paths[i])]
    if built:
        parts += figure(lambda: _figures().image_layers(ctx.frames, built[0]),
                        note="One image's layers: what its base image brought and what it added, each on its "
                             "own axis (imgviz.figures.image_layers draws any image).")
    n_rows, shown, empty = 0, 0, 0
    counts = ctx.frames.history.groupby("image_id").size() if len(ctx.frames.history) else pd.Series(dtype="int64")
    for rec in order.itertuples(index=False):
        n = int(counts.get(rec.image_id, 0))
        if not n:
            empty += 1  # the source recorded no history for it
            continue
        if shown and n_rows + n > HISTORY_ROWS:
            break
        rows = history_table(ctx.frames.history, rec.image_id)
        frame = pd.DataFrame({
            "step": rows["index"], "instruction": rows["instruction"].fillna(""),
            "created by": [cb or (c or "") for cb, c in zip(rows["created_by"], rows["comment"])],
            "layer": ["-" if e else f"#{int(p)}" for e, p in zip(rows["empty_layer"], rows["layer_position"].fillna(-1))],
            "size": rows["size"]})
        base = r.base_of.get(rec.image_id)
        built_on = f"; built on {r.label[base]}" if base else ""
        parts.append(Table(frame, {"step": "int", "instruction": "text", "created by": "code", "layer": "text",
                                   "size": "bytes"}, collapse=True,
                           caption=f"{rec.label} ({rec.short_id}): {len(frame)} entr{'ies' if len(frame) != 1 else 'y'}, "
                                   f"{int(rec.n_layers)} layer{'s' if rec.n_layers != 1 else ''}"
                                   f"{built_on}"))
        n_rows += n
        shown += 1
    left = len(order) - shown - empty
    if left > 0:
        parts.append(Facts([("Not shown", f"{left:,} more images (the report keeps at most {HISTORY_ROWS:,} history "
                                          f"rows); `imgviz history IMAGE` prints any of them")]))
    if empty:
        parts.append(Facts([("No history", f"{empty:,} image(s): the source recorded none for them")]))
    return parts


def env_table(ctx: Context) -> list:
    """ENV defaults as an image x variable grid, labels, and what containers run with instead (-e)."""
    from ..analysis.env import config_labels, env_defaults, env_overrides

    parts = []
    top = list(ctx.ranked_images["image_id"].head(ctx.top))
    defaults = env_defaults(ctx.frames, images=top)
    if len(defaults):
        # variables most images set first; at most `top` columns
        counts = defaults["name"].value_counts()
        first_seen = {n: k for k, n in enumerate(dict.fromkeys(defaults["name"]))}
        names = sorted(first_seen, key=lambda n: (-int(counts[n]), first_seen[n]))
        cols, more = names[: ctx.top], names[ctx.top:]
        grid = defaults.drop_duplicates(["image_id", "name"]).pivot(index="image_id", columns="name", values="default")
        grid = grid.reindex(index=[i for i in top if i in set(defaults["image_id"])], columns=cols)
        frame = pd.DataFrame({"image": [ctx.names[i] for i in grid.index]})
        for name in cols:
            frame[name] = [None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in grid[name]]
        note = ("Empty: the image does not set it (a container then gets it only from -e). PATH, which every "
                "image sets, is left out.")
        if more:
            note += f" {len(more)} more variable(s) set by fewer images are not shown."
        if ctx.many:
            note += f" For the {ctx.top} images listed first above."
        parts.append(Table(frame, {"image": "text", **{n: "code" for n in cols}}, note=note, grid=True,
                           caption=f"ENV defaults: {len(frame)} images x {len(cols)} variables"))
    labels = config_labels(ctx.frames, images=top)
    if len(labels):
        parts.append(Table(labels.rename(columns={"label": "image", "key": "label"})[["image", "label", "value"]],
                           {"image": "text", "label": "text", "value": "code"},
                           caption="Labels (LABEL instructions: notes about the image, no effect on containers)"))
    over = env_overrides(ctx.frames)
    if len(over):
        run_from = dict(zip(ctx.frames.containers["container_id"], ctx.frames.containers["image"]))
        frame = pd.DataFrame({"container": over["container"],
                              "image": [run_from.get(c) or label for c, label in zip(over["container_id"], over["label"])],
                              "name": over["name"],
                              "image default": over["image_default"].map(lambda v: "(not set)" if v is None else v),
                              "container runs with": over["value"]})
        parts.append(Table(frame.head(ctx.top * 4), {"container": "text", "image": "text", "name": "text",
                                                    "image default": "code", "container runs with": "code"},
                           caption="Containers that run with other values (docker run -e NAME=value)",
                           note=_others_note(min(len(frame), ctx.top * 4), len(frame), "overrides", "in container order")))
    return parts


def status_text(state, exit_code, started, finished, engine_status, collected_at) -> str:
    """A container's status stated from its times, not the engine's "2 minutes ago" (which was
    relative to when the snapshot was taken): ``Exited (0) 2026-11-28 07:09 UTC, 2 minutes before
    the snapshot``."""
    from ..units import human_duration

    def when(ts) -> str:
        text = f"{pd.Timestamp(ts):%Y-%m-%d %H:%M} UTC"
        if collected_at is not None:
            gap = (collected_at - pd.Timestamp(ts)).total_seconds()
            if gap >= 0:
                text += f", {human_duration(gap).lower()} before the snapshot"
        return text

    state = str(state or "")
    if state == "exited" and not _unknown(finished):
        code = "" if _unknown(exit_code) else f" ({int(exit_code)})"
        return f"Exited{code} {when(finished)}"
    if state == "running" and not _unknown(started):
        return f"Up since {when(started)}"
    if state == "created":
        return "Created, never started"
    return f"{engine_status or state} (as the engine said at the snapshot)"


def containers_table(ctx: Context) -> list:
    cons = ctx.frames.containers
    if cons.empty:
        return [Facts([("Containers", "none")])]
    names = ctx.names
    at = (ctx.frames.source or {}).get("collected_at")
    at = pd.Timestamp(at) if at else None
    frame = pd.DataFrame({
        "container": [", ".join(n or []) for n in cons["names"]],
        # what the container was run from, as the engine recorded it (`docker ps` IMAGE), not the
        # image's first tag: web-ping:optimized stays web-ping:optimized
        "image": [im if im else names.get(i, i) for i, im in zip(cons["image_id"], cons["image"])],
        "state": cons["state"],
        "status": [status_text(*v, at) for v in zip(cons["state"], cons["exit_code"], cons["started"],
                                                    cons["finished"], cons["status"])],
        "command": cons["command"], "writable layer": cons["size_rw"], "created": cons["created"]})
    frame = frame.sort_values("writable layer", ascending=False, kind="stable").reset_index(drop=True)
    return [Table(frame.head(ctx.top), {"container": "text", "image": "text", "state": "text", "status": "text",
                                        "command": "code", "writable layer": "bytes", "created": "time"},
                  note=_others_note(min(len(frame), ctx.top), len(frame), "containers", "largest writable layer first"))]


def disk_beyond_images(ctx: Context) -> list:
    """The rest of `docker system df -v`: the four df lines, build cache, volumes; and image ls -a's extras."""
    from ..analysis.sizes import disk_usage

    du = disk_usage(ctx.frames)
    if (du.loc[["Local Volumes", "Build Cache"], "source"] == "unknown").all():
        return [Facts([("Not known", "this source has no engine: volumes and build cache are an engine's "
                                     "(`docker system df`); unknown here, not 0")])]
    lines = pd.DataFrame({"type": list(du.index), "total": du["total"], "active": du["active"], "size": du["size"],
                          "reclaimable": du["reclaimable"],
                          "%": [None if _unknown(p) else f"{int(p)}%" for p in du["reclaimable_percent"]]})
    notes = du.attrs.get("notes") or {}  # podman: its own lines, whose meaning is not Docker's
    parts: list = [Table(lines.reset_index(drop=True), {"type": "text", "total": "int", "active": "int", "size": "bytes",
                                                       "reclaimable": "bytes", "%": "text"},
                         caption="podman system df" if notes else "docker system df", collapse=False,
                         **({"note": "; ".join(f"{k}: {v}" for k, v in notes.items())} if notes else {}))]
    cache = ctx.frames.build_cache
    if len(cache):
        parts += figure(lambda: _figures().build_cache(ctx.frames))
        desc = cache["description"]  # masked with the rest of the frames (Report._context)
        frame = pd.DataFrame({"cache id": cache["cache_id"].str.slice(0, 12) + cache["in_use"].map({True: "*", False: ""}),
                              "type": cache["type"], "size": cache["size"], "shared": cache["shared"].map(
                                  {True: "yes (not counted)", False: "no"}),
                              "usage": cache["usage_count"], "last used": cache["last_used"], "made by": desc})
        shown, total = with_rest_row(frame, ctx.top * 2, by="size", label="cache id", noun="records",
                                     sums=["size", "usage"])
        parts.append(Table(shown, {"cache id": "id", "type": "text", "size": "bytes", "shared": "text",
                                   "usage": "int", "last used": "time", "made by": "code"},
                           caption=f"Build cache records ({total:,})", rest_row=total > ctx.top * 2,
                           note=_others_note(min(total, ctx.top * 2), total, "records", "largest first")))
    vols = ctx.frames.volumes
    if len(vols):
        labels = vols["labels"]
        frame = pd.DataFrame({"volume": vols["name"], "links": vols["links"], "size": vols["size"],
                              "driver": vols["driver"], "created": vols["created"],
                              "labels": [", ".join(f"{k}={v}" for k, v in sorted((d or {}).items())) for d in labels]})
        frame = frame.sort_values("size", ascending=False, na_position="last", kind="stable")
        shown, total = with_rest_row(frame, ctx.top, label="volume", noun="volumes", sums=["size"])
        parts.append(Table(shown, {"volume": "text", "links": "int", "size": "bytes", "driver": "text",
                                   "created": "time", "labels": "code"},
                           caption=f"Local volumes ({total:,}): links = containers using it; a volume with none "
                                   f"is reclaimable", rest_row=total > ctx.top,
                           note=_others_note(min(total, ctx.top), total, "volumes", "largest first")))
    else:
        parts.append(Facts([("Local volumes", "none")]))
    inter = ctx.frames.intermediates
    if len(inter):
        frame = pd.DataFrame({"image id": inter["short_id"], "size": inter["size"], "layers": inter["n_layers"],
                              "made by": inter["created_by"],
                              "under": [", ".join(c) for c in inter["children"]]})
        shown, total = with_rest_row(frame, ctx.top, label="image id", noun="images", sums=[])
        parts.append(Table(shown, {"image id": "id", "size": "bytes", "layers": "int", "made by": "code",
                                   "under": "text"}, rest_row=total > ctx.top,
                           caption=f"Intermediate images ({total:,}): `docker image ls -a` lists them, "
                                   f"`docker image ls` does not"))
    return parts


def _figures():
    from .. import figures

    return figures


class SectionWarning(UserWarning):
    """A figure or section of the report could not be built; the report says so in its place."""


def _not_drawn(what: str, exc: Exception) -> Facts:
    import warnings

    line = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    warnings.warn(f"report {what} not drawn ({line})", SectionWarning, stacklevel=3)
    return Facts([("Not drawn", f"this {what} could not be made from this source ({line})")])


def figure(make: Callable[[], Any], note: str | None = None) -> list:
    """``[Figure(make())]``, or one line saying why the figure is missing (the rest of the report stays)."""
    try:
        return [Figure(make(), note=note)]
    except Exception as exc:  # a figure that cannot handle this source must not cost the whole report
        return [_not_drawn("figure", exc)]


def dangling_what_if(ctx: Context) -> list:
    """What removing the dangling images would free (only when there are some)."""
    dangling = list(ctx.images.loc[ctx.images["dangling"], "image_id"])
    if not dangling:
        return []
    parts = figure(lambda: _figures().what_if(ctx.frames, dangling, top_n=ctx.top))
    from ..analysis.what_if import removal

    r = removal(ctx.raw_frames, dangling)
    if r.freed_bytes is None:
        parts.append(Facts([("On this engine", f"the bytes freed are unknown: {r.reason}")]))
    elif r.blobs_freed_bytes is not None:
        parts.append(Facts([("On this engine", f"removing them frees {_bytes(r.freed_bytes)}: "
                                               f"{_bytes(r.layers_freed_bytes)} of snapshots (the figure) and "
                                               f"{_bytes(r.blobs_freed_bytes)} of content blobs no other image "
                                               f"references (containerd image store)")]))
    return parts


def compressed_figure(ctx: Context) -> list:
    """Download vs unpacked bytes, when the source knows compressed blob sizes (registry, archive)."""
    layers = ctx.frames.layers
    if layers.empty or not layers["size_compressed"].notna().any():
        return []
    known = set(layers.loc[layers["size_compressed"].notna(), "image_id"])
    chosen = [i for i in ctx.ranked_images["image_id"] if i in known][: ctx.top]
    note = None if len(known) <= ctx.top else f"The first {ctx.top} of {len(known):,} images with blob sizes."
    from ..figures import blobs

    return figure(lambda: blobs.compressed_totals(ctx.frames, images=chosen), note)


#: the files section reads at most this many images' layers, and stops adding images past this many rows
FILES_IMAGES = 5
FILES_ROWS = 300_000


def _files_source(ctx: Context):
    """Where this report's images' layer contents can be read: (source, refs of the top images), or a note."""
    where = ctx.description or ""
    ranked = [r for r in ctx.ranked_images.itertuples(index=False) if not r.dangling]
    top = ranked[: min(ctx.top, FILES_IMAGES)]
    if where.startswith("live engine at "):
        return ("engine", ctx.frames.source.get("host")), [r.image_id for r in top]
    if where.startswith("archive "):
        return (f"archive:{ctx.frames.source.get('host')}", None), [r.image_id for r in top]
    if where.startswith("registry "):
        return ("registry", None), [r.tags[0] for r in top if r.tags]
    if where.startswith("embedded demo snapshot"):
        from .._files import DEMO_FILES

        import gzip
        import json

        with gzip.open(DEMO_FILES, "rt") as fh:
            recorded = {t for img in json.load(fh)["images"] for t in img["tags"]}
        return ("demo", None), [t for r in ranked for t in r.tags[:1] if t in recorded][: min(ctx.top, FILES_IMAGES)]
    return None, []


def files_section(ctx: Context) -> list:
    """What is inside the top images' layers: dive's figures, bytes no container sees, per layer."""
    from ..analysis import files as A
    from ..errors import ImgvizError
    from .._files import read_entries, to_frames

    source, refs = _files_source(ctx)
    if source is None:
        return [Facts([("Not read", "a snapshot file holds no layer contents; run the report on the engine, "
                                    "an archive or a registry to see the files inside the layers")])]
    if not refs:
        return []
    kind, host = source
    chosen, rows = [], 0
    try:
        for ref in refs:
            got = read_entries([ref], source=kind, host=host, progress=False)
            n = sum(len(got.layers[d]) for d in got.images[0].diff_ids)
            if chosen and rows + n > FILES_ROWS:
                break
            chosen.append(ref)
            rows += n
        read = read_entries(chosen, source=kind, host=host, progress=False)  # from the cache: each layer once
    except ImgvizError as exc:
        return [Facts([("Not read", f"the layers' files could not be read here ({str(exc).splitlines()[0][:200]})")])]
    fs = to_frames(read)
    table = []
    for img in read.images:
        w = A.waste_entries(read.entries(img), diff_ids=img.diff_ids, created_by=img.created_by)
        lost = sorted(w["wasted"], key=lambda r: -r["wasted_bytes"])
        table.append({"image": img.tags[0] if img.tags else img.ref, "layers": len(img.diff_ids),
                      "files": len(A.union_entries(read.entries(img))), "bytes in layers": w["size_bytes"],
                      "not in final filesystem": w["shipped_not_final_bytes"],
                      "largest of those": lost[0]["path"] if lost else None,
                      "dive efficiency": f"{w['efficiency']:.2%}", "dive wasted bytes": w["wasted_bytes"]})
    frame = pd.DataFrame(table)
    worst = max(read.images, key=lambda i: next(r["not in final filesystem"] for r in table
                                                  if r["image"] == (i.tags[0] if i.tags else i.ref)))
    parts: list = [Table(frame, {"image": "text", "layers": "int", "files": "int", "bytes in layers": "bytes",
                                 "not in final filesystem": "bytes", "largest of those": "code",
                                 "dive efficiency": "text", "dive wasted bytes": "bytes"},
                         note=None if len(chosen) == len(refs) else
                         f"The first {len(chosen)} images: the next would pass {FILES_ROWS:,} file rows.",
                         caption=f"Read from {read.source}")]
    parts += figure(lambda: _figures().layer_changes(fs, image=worst.image_id))
    if int(frame["not in final filesystem"].max() or 0) > 0:
        parts += figure(lambda: _figures().wasted_files(fs, image=worst.image_id, top_n=min(ctx.top, 20)))
    return parts


#: (key, title, explanation, builder) in report order. Adding a figure is one line here.
SECTIONS: list[tuple[str, str, str, Callable[[Context], list]]] = [
    ("overview", "At a glance",
     "Where the data came from and the totals. An image is a stack of read-only layers; "
     "images built on the same base share those layers on disk.", overview),
    ("sizes", "Reported size vs bytes on disk",
     "`docker image ls` shows each image's full size, counting every layer it uses, so shared layers are "
     "counted once per image (and once per extra tag). The disk keeps each layer once. The difference is "
     "what sharing saves.",
     lambda ctx: figure(lambda: _figures().reported_vs_physical(ctx.frames, top_n=ctx.top)) + size_model_part(ctx)),
    ("images", "Images",
     "Size is what `docker image ls` reports. Shared is the part in layers other images use too; unique is "
     "what removing the image would free (the rule `docker system df -v` uses).",
     lambda ctx: figure(lambda: _figures().image_sizes(ctx.frames, top_n=ctx.top, sort="unique_size"))
     + images_table(ctx)),
    ("repositories", "Repositories",
     "Images grouped by repository. Bytes counts each layer once per repository; the last column is what "
     "only this repository's images use.", repositories_table),
    ("layer-tree", "The layer tree",
     "Every distinct layer once, to the right of the layer it was built on: images that start the same way "
     "share a branch. Every layer gets a box of the same size, so the app's few kB (a WORKDIR, a COPY) show "
     "next to a 100 MB runtime; each box says its bytes (`imgviz.figures.layer_tree(f, by='bytes')` sizes "
     "them by bytes instead).",
     lambda ctx: figure(lambda: _figures().layer_tree(ctx.frames, top_n=max(ctx.top * 4, 40)))),
    ("sharing", "Which images share layers",
     "A layer is shared when images have the same layer on the same parent layers (the same chain ID). "
     "The heatmap gives how far apart each pair of images is: the bytes of the layers only one of them has "
     "(0 B: the same layers; its hover says what they share). The table lists the shared layers, "
     "saved by sharing = size x (images using it - 1).",
     lambda ctx: figure(lambda: _figures().sharing_matrix(ctx.frames, top_n=min(ctx.top, 30)))
     + shared_layers_table(ctx)),
    ("dangling", "What removing the dangling images would free",
     "A dangling image (`<none>`) lost its tag to a rebuild. Removing it frees only the layers no other "
     "image or container uses.", dangling_what_if),
    ("disk", "Build cache, volumes and intermediate images",
     "`docker system df` counts more than images: BuildKit's build cache (layer snapshots and the contexts "
     "clients sent; records that are image layers too are shared and counted once), local volumes (a "
     "volume no container links to is reclaimable) and the containers' writable layers. `docker image ls "
     "-a` also lists intermediate images, steps the classic builder kept.", disk_beyond_images),
    ("compressed", "Download size vs size on disk",
     "A registry stores and sends each layer compressed; the engine keeps it unpacked. A pull "
     "downloads the compressed bytes of the layers the engine does not have yet.", compressed_figure),
    ("history", "History and layers",
     "`docker image history`, newest first, for every image (open one to read it). Each Dockerfile "
     "instruction is one history entry; only those that change files (RUN, COPY, ADD, and WORKDIR when it "
     "creates the folder) make a layer; ENV, CMD and LABEL only change the image's settings and show 0 B.",
     history_tables),
    ("env", "ENV defaults, labels and -e overrides",
     "ENV instructions store default settings in the image. `docker run -e NAME=value` replaces a default "
     "for one container without rebuilding the image. Anyone who can pull an image can read its ENV and "
     "labels, so secret-looking values are masked here.", env_table),
    ("files", "What is inside the layers",
     "Each layer is a tar of the files one instruction added, changed or removed; the engine stacks them "
     "into the file system a container sees. Bytes a later layer removed, overwrote or only re-chmodded are "
     "still shipped and stored in the layer that first held them: 'not in final filesystem'. dive's figures "
     "(efficiency, wasted bytes: every copy of a path found twice or more) are beside them, as `imgviz "
     "waste IMAGE --ci` checks them.", files_section),
    ("containers", "Containers",
     "Every container adds one thin writable layer on top of its image's read-only layers.",
     containers_table),
]


def build_sections(ctx: Context) -> list[Section]:
    """Every section of :data:`SECTIONS` that has something to show, in order.

    A figure or section that fails on this source (data it cannot handle, e.g. sizes a registry
    does not know) is replaced by one line saying so, with a :class:`SectionWarning`, and the rest
    of the report is still made.
    """
    out = []
    for key, title, explanation, builder in SECTIONS:
        try:
            parts = builder(ctx)
        except Exception as exc:  # one section must not cost the whole report
            parts = [_not_drawn(f"section ({key})", exc)]
        if parts:
            out.append(Section(key, title, explanation, parts))
    return out
