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

@dataclass
class Table:
    """A table for the report. ``formats`` maps a column to how it is shown:
    ``bytes``, ``int``, ``text``, ``code`` (monospace, wrapped), ``time``, ``id`` (short hex)."""

    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    caption: str | None = None
    rest_row: bool = False  #: the last row sums the rows left out (the top N and the rest)

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
    if src.get("engine_version"):
        items.append(("Engine", f"Docker {src['engine_version']} (API {src.get('api_version', '?')}, "
                                f"{src.get('os', '?')}/{src.get('arch', '?')})"))
    disk = ("(what the disk holds for images: `docker system df` Images SIZE, the engine's own number)"
            if src_of["physical"] == "engine" else "(what the disk holds for images, each layer once)")
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


def images_table(ctx: Context) -> list:
    ranked = ctx.ranked_images
    extra = ctx.images.set_index("image_id")
    frame = pd.DataFrame({
        "image": ranked["label"].astype(object),
        "other tags": [", ".join(list(t or [])[1:]) for t in ranked["tags"]],
        "id": ranked["short_id"].astype(object),
        "created": ranked["image_id"].map(extra["created"]),
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
    """One history per image (newest first, as `docker image history`), for the top images."""
    from ..analysis.listing import history_table

    parts = []
    ranked = ctx.ranked_images
    # the images a reader of the workshop looks at first: tagged ones, largest own bytes first
    chosen = ranked[~ranked["dangling"]].head(ctx.history_images)
    for r in chosen.itertuples(index=False):
        rows = history_table(ctx.frames.history, r.image_id)
        frame = pd.DataFrame({
            "step": rows["index"], "instruction": rows["instruction"].fillna(""),
            "created by": [cb or (c or "") for cb, c in zip(rows["created_by"], rows["comment"])],
            "layer": ["-" if e else f"#{int(p)}" for e, p in zip(rows["empty_layer"], rows["layer_position"].fillna(-1))],
            "size": rows["size"]})
        parts.append(Table(frame, {"step": "int", "instruction": "text", "created by": "code", "layer": "text",
                                   "size": "bytes"}, caption=f"{r.label} ({r.short_id})"))
    left = len(ranked) - len(chosen)
    if left > 0:
        parts.append(Facts([("Not shown", f"{left:,} more images; `imgviz history IMAGE` prints any of them")]))
    return parts


def env_table(ctx: Context) -> list:
    """ENV defaults baked into images, and what containers run with instead (-e overrides)."""
    from ..analysis.env import config_labels, env_defaults, env_overrides

    parts = []
    top = list(ctx.ranked_images["image_id"].head(ctx.top))
    defaults = env_defaults(ctx.frames, images=top)
    if len(defaults):
        parts.append(Table(defaults.rename(columns={"label": "image"})[["image", "name", "default"]],
                           {"image": "text", "name": "text", "default": "code"},
                           caption="ENV defaults in images (PATH left out)",
                           note=None if not ctx.many else f"For the {ctx.top} images listed first above."))
    labels = config_labels(ctx.frames, images=top)
    if len(labels):
        parts.append(Table(labels.rename(columns={"label": "image", "key": "label"})[["image", "label", "value"]],
                           {"image": "text", "label": "text", "value": "code"},
                           caption="Labels (LABEL instructions: notes about the image, no effect on containers)"))
    over = env_overrides(ctx.frames)
    if len(over):
        frame = pd.DataFrame({"container": over["container"], "image": over["label"], "name": over["name"],
                              "image default": over["image_default"].map(lambda v: "(not set)" if v is None else v),
                              "container runs with": over["value"]})
        parts.append(Table(frame.head(ctx.top * 4), {"container": "text", "image": "text", "name": "text",
                                                    "image default": "code", "container runs with": "code"},
                           caption="Containers that run with other values (docker run -e NAME=value)",
                           note=_others_note(min(len(frame), ctx.top * 4), len(frame), "overrides", "in container order")))
    return parts


def containers_table(ctx: Context) -> list:
    cons = ctx.frames.containers
    if cons.empty:
        return [Facts([("Containers", "none")])]
    names = ctx.names
    frame = pd.DataFrame({
        "container": [", ".join(n or []) for n in cons["names"]], "image": [names.get(i, im) for i, im in
                                                                           zip(cons["image_id"], cons["image"])],
        "state": cons["state"], "status": cons["status"], "command": cons["command"],
        "writable layer": cons["size_rw"], "created": cons["created"]})
    frame = frame.sort_values("writable layer", ascending=False, kind="stable").reset_index(drop=True)
    return [Table(frame.head(ctx.top), {"container": "text", "image": "text", "state": "text", "status": "text",
                                        "command": "code", "writable layer": "bytes", "created": "time"},
                  note=_others_note(min(len(frame), ctx.top), len(frame), "containers", "largest writable layer first"))]


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
    return figure(lambda: _figures().what_if(ctx.frames, dangling, top_n=ctx.top))


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
     lambda ctx: figure(lambda: _figures().reported_vs_physical(ctx.frames, top_n=ctx.top))),
    ("images", "Images",
     "Size is what `docker image ls` reports. Shared is the part in layers other images use too; unique is "
     "what removing the image would free (the rule `docker system df -v` uses).",
     lambda ctx: figure(lambda: _figures().image_sizes(ctx.frames, top_n=ctx.top, sort="unique_size"))
     + images_table(ctx)),
    ("repositories", "Repositories",
     "Images grouped by repository. Bytes counts each layer once per repository; the last column is what "
     "only this repository's images use.", repositories_table),
    ("layer-tree", "The layer tree",
     "Every distinct layer once, on top of the layers below it: images that start the same way share a "
     "branch. Box size is bytes on disk.",
     lambda ctx: figure(lambda: _figures().layer_tree(ctx.frames, top_n=max(ctx.top * 4, 40)))),
    ("sharing", "Which images share layers",
     "A layer is shared when images have the same layer on the same parent layers (the same chain ID). "
     "The heatmap gives the bytes each pair of images shares; the table lists the shared layers, "
     "saved by sharing = size x (images using it - 1).",
     lambda ctx: figure(lambda: _figures().sharing_matrix(ctx.frames, top_n=min(ctx.top, 30)))
     + shared_layers_table(ctx)),
    ("dangling", "What removing the dangling images would free",
     "A dangling image (`<none>`) lost its tag to a rebuild. Removing it frees only the layers no other "
     "image or container uses.", dangling_what_if),
    ("compressed", "Download size vs size on disk",
     "A registry stores and sends each layer compressed; the engine keeps it unpacked. A pull "
     "downloads the compressed bytes of the layers the engine does not have yet.", compressed_figure),
    ("history", "History and layers",
     "`docker image history`, newest first. Each Dockerfile instruction is one history entry; only those "
     "that change files (RUN, COPY, ADD, and WORKDIR when it creates the folder) make a layer; ENV, CMD "
     "and LABEL only change the image's settings and show 0 B.", history_tables),
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
