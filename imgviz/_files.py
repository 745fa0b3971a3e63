"""``imgviz.files``: the ``files`` frame of some images, read from an engine, an archive or a registry.

Metadata stays first everywhere else in imgviz; layer contents are read only here, only for the
images asked, and each layer once: rows are kept per diff ID for the session (a layer ten images
use is read for the first and reused for the other nine, and for the next call).

The reading is plain Python (:func:`read_entries`, no pandas), so ``imgviz waste`` starts fast;
:func:`files` turns it into frames.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ._data import data_path
from .analysis.files import FIELDS, Entry, entries_from_layer
from .errors import ImageNotFound, ImgvizError

#: the layers' files of the demo fleet's web-ping and python images, recorded from a build of it
#: with data/build_fleet.sh (``source="demo"``; see tests/_files_images.record_demo)
DEMO_FILES = data_path("demo-files.json.gz")  # package data (imgviz/_data.py)

#: rows kept per diff ID for the session; (diff_id) -> (entries, has content digests)
_CACHE: dict[str, tuple[list[Entry], bool]] = {}
#: at most this many rows are kept (oldest layers are dropped first)
CACHE_ROWS = 3_000_000


def clear_cache() -> None:
    """Forget every layer read so far (the next call reads them again)."""
    _CACHE.clear()


def _remember(diff_id: str, entries: list[Entry], digests: bool) -> None:
    _CACHE.pop(diff_id, None)
    _CACHE[diff_id] = (entries, digests)
    total = sum(len(e) for e, _ in _CACHE.values())
    while total > CACHE_ROWS and len(_CACHE) > 1:
        oldest = next(iter(_CACHE))
        total -= len(_CACHE.pop(oldest)[0])


def _held(digests: bool) -> set[str]:
    return {d for d, (_, has) in _CACHE.items() if has or not digests}


@dataclass
class ImageLayers:
    """One image as read: its ID, the reference asked, tags, diff IDs base first, and per layer the
    instruction that made it (from the config's history; None when the history does not say)."""

    image_id: str
    ref: str
    tags: list[str]
    diff_ids: list[str]
    created_by: list[str | None]


@dataclass
class Read:
    """What :func:`read_entries` returns: the images and the rows of each of their layers."""

    images: list[ImageLayers]
    layers: dict[str, list[Entry]]
    source: str
    route: str = ""
    bytes_read: int = 0
    layers_read: int = 0
    layers_reused: int = 0

    def entries(self, image: ImageLayers) -> list[list[Entry]]:
        return [self.layers[d] for d in image.diff_ids]


def layer_commands(config: dict | None, n_layers: int) -> list[str | None]:
    """The instruction that made each layer: the config's non-empty history entries, in order.

    The OCI image config marks entries that made no layer with ``empty_layer``; the others match
    ``rootfs.diff_ids`` one to one. When the counts disagree nothing is guessed (all None).
    """
    history = (config or {}).get("history") or []
    made = [h.get("created_by") for h in history if isinstance(h, dict) and not h.get("empty_layer")]
    if len(made) != n_layers:
        return [None] * n_layers
    return [c if isinstance(c, str) else None for c in made]


def _kind(source: Any) -> tuple[str, Any]:
    """('engine', host) / ('archive', path) / ('registry', None) from what the user named."""
    if source is None:
        source = os.environ.get("IMGVIZ_SOURCE") or "engine"
    if isinstance(source, os.PathLike):
        return "archive", Path(source)
    if not isinstance(source, str):
        raise ImgvizError(f"{source!r}: files are read from 'engine', 'archive:PATH', 'registry' or an "
                          f"engine address")
    text = source.strip()
    if text == "engine":
        return "engine", None
    if text == "auto":
        return "auto", None
    if text == "demo":
        return "demo", DEMO_FILES
    if text.startswith("snapshot:") or text.endswith((".json", ".json.gz")):
        raise ImgvizError(f"{text}: a snapshot holds no layer contents; read files from an engine, an archive "
                          f"or a registry (source='engine', 'archive:PATH', 'registry')")
    if text == "registry":
        return "registry", None
    if text.startswith("archive:"):
        return "archive", Path(text[len("archive:"):])
    if text.startswith(("unix://", "tcp://", "ssh://", "http://", "https://")):
        return "engine", text
    if Path(text).exists():
        return "archive", Path(text)
    raise ImgvizError(f"{text}: not a source of layer contents (use 'engine', an engine address, "
                      f"'archive:PATH' or 'registry')")


def read_entries(images: Iterable[str], *, source: Any = None, host: str | None = None, digests: bool = False,
                 route: str = "auto", progress: bool = False, platform: str | None = None) -> Read:
    """Read the layers of ``images`` (no pandas): each layer once, and none already read.

    Parameters
    ----------
    images : iterable of str
        Engine: tags or IDs. Archive: tags or IDs of images in it (empty: every image).
        Registry: references ``HOST/REPO:TAG`` (``HOST/REPO:*`` for every tag).
    source : str or path, optional
        ``"engine"`` (default), ``"auto"`` (the engine when it answers and holds the images, else the
        demo's recording, with a warning), an engine address (``unix://...``), ``"archive:PATH"``
        or a path, ``"registry"``, ``"demo"`` (the demo fleet's web-ping and python images, recorded).
    host : str, optional
        Engine address (default DOCKER_HOST, else the default socket).
    digests : bool
        Also hash every regular file (needed for duplicates and shared-layer savings).
    route : {'auto', 'local', 'stream'}
        Engine only: see :mod:`imgviz.sources.engine_files`.
    progress : bool
        Progress bars while reading.
    platform : str, optional
        ``os/arch`` for multi-platform archives and registry indexes.
    """
    refs = list(dict.fromkeys(images))
    kind, where = _kind(source)
    if kind == "auto":
        # imgviz.open's rule for layer contents: the live engine when it answers and holds the
        # images, else the demo fleet's recorded files, and a warning that says why
        if os.environ.get("IMGVIZ_SOURCE", "").strip() == "demo":
            return _read_demo(refs, digests=digests)
        try:
            return _read_engine(refs, host=host, digests=digests, route=route, progress=progress)
        except ImgvizError as exc:
            warnings.warn(f"layer contents from the demo fleet's recording: not read from the engine "
                          f"({str(exc).splitlines()[0]})", stacklevel=3)
            return _read_demo(refs, digests=digests)
    if kind == "engine":
        host = where or host
        return _read_engine(refs, host=host, digests=digests, route=route, progress=progress)
    if kind == "archive":
        return _read_archive(Path(where), refs, digests=digests, platform=platform, progress=progress)
    if kind == "demo":
        return _read_demo(refs, digests=digests)
    return _read_registry(refs, digests=digests, platform=platform, progress=progress)


def _finish(images: list[ImageLayers], fresh: dict[str, list], digests: bool, source: str, route: str,
            bytes_read: int) -> Read:
    layers: dict[str, list[Entry]] = {}
    for diff_id, raw in fresh.items():
        rows = entries_from_layer(raw)
        _remember(diff_id, rows, digests)
        layers[diff_id] = rows
    reused = 0
    for img in images:
        for d in img.diff_ids:
            if d not in layers:
                if d not in _CACHE:
                    raise ImgvizError(f"{img.ref}: layer {d} was not read")
                layers[d] = _CACHE[d][0]
                reused += 1
    return Read(images, layers, source, route, bytes_read, layers_read=len(fresh), layers_reused=reused)


def _read_engine(refs: list[str], *, host, digests: bool, route: str, progress: bool) -> Read:
    from .sources import engine_files
    from .sources.engine import docker_host

    if not refs:
        raise ImgvizError("name at least one image to read its files from the engine")
    got = engine_files.read(refs, host=host, content_digests=digests, skip=_held(digests), route=route,
                            progress=progress)
    images = [ImageLayers(i["id"], i["ref"], list(i["tags"]), list(i["diff_ids"]),
                          layer_commands(i["config"], len(i["diff_ids"]))) for i in got.images]
    return _finish(images, got.layers, digests, f"live engine at {docker_host(host)}", got.route, got.bytes_read)


def _match(rec_id: str, tags: Sequence[str], ref: str) -> bool:
    """Does ``ref`` name this image (the one rule of :func:`imgviz.selection.find_image`)?"""
    from .selection import find_image

    try:
        return find_image([{"image_id": rec_id, "tags": list(tags)}], ref) == rec_id
    except ImageNotFound:
        return False


def _read_archive(path: Path, refs: list[str], *, digests: bool, platform, progress: bool) -> Read:
    from .sources import archive

    held = _held(digests)
    fresh: dict[str, list] = {}
    images: list[ImageLayers] = []
    with archive.Archive(path) as arc:
        records = arc.images(platform=platform)
        chosen = records if not refs else []
        for ref in refs:
            hits = [r for r in records if _match(r["id"], r.get("tags") or [], ref)]
            if not hits:
                raise ImageNotFound(f"{ref}: no such image in {path}")
            chosen.extend(h for h in hits[:1] if h not in chosen)
        for rec in chosen:
            config = rec["config"]
            diff_ids = list(config["rootfs"]["diff_ids"])
            if rec.get("archive_manifest") is not None:
                members = [(name, None) for name in rec["archive_manifest"]["Layers"]]
            else:
                members = [(_blob_member(d["digest"]), d["digest"]) for d in rec["manifest"]["layers"]]
            for (name, blob_digest), diff_id in zip(members, diff_ids):
                if diff_id in held or diff_id in fresh:
                    continue
                with arc.layer(name, digest=blob_digest, diff_id=diff_id, content_digests=digests) as stream:
                    fresh[diff_id] = list(stream)
            tags = list(rec.get("tags") or [])
            images.append(ImageLayers(rec["id"], refs[len(images)] if refs else (tags[0] if tags else rec["id"]),
                                      tags, diff_ids, layer_commands(config, len(diff_ids))))
        nbytes = arc.bytes_read or 0
    return _finish(images, fresh, digests, f"archive {path}", "archive", nbytes)


def _read_demo(refs: list[str], *, digests: bool) -> Read:
    import gzip
    import json

    if digests:
        raise ImgvizError("the recorded demo files have no content digests; read an engine for those")
    try:
        with gzip.open(DEMO_FILES, "rt") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise ImgvizError(f"{DEMO_FILES}: the recorded demo files cannot be read ({exc})") from None
    records = doc["images"]
    chosen = records if not refs else []
    for ref in refs:
        hits = [r for r in records if _match(r["image_id"], r["tags"], ref)]
        if not hits:
            names = ", ".join(r["tags"][0] for r in records)
            raise ImageNotFound(f"{ref}: not in the recorded demo files ({names})")
        chosen.append(hits[0])
    images = [ImageLayers(r["image_id"], refs[k] if refs else r["tags"][0], list(r["tags"]), list(r["diff_ids"]),
                          list(r["created_by"])) for k, r in enumerate(chosen)]
    layers = {d: [Entry(*row) for row in doc["layers"][d]] for img in images for d in img.diff_ids}
    return Read(images, layers, f"recorded demo files ({doc.get('engine', 'an engine')})", "demo", 0,
                layers_read=len(layers))


def _blob_member(digest: str) -> str:
    alg, _, hexpart = digest.partition(":")
    return f"blobs/{alg}/{hexpart}"


def _read_registry(refs: list[str], *, digests: bool, platform, progress: bool) -> Read:
    from .sources import registry

    if not refs:
        raise ImgvizError("name at least one registry reference (HOST/REPO:TAG)")
    held = _held(digests)
    fresh: dict[str, list] = {}
    images: list[ImageLayers] = []
    nbytes = 0
    with registry.RegistryClient() as client:
        expanded = []
        for text in refs:
            if text.endswith(":*"):
                base = registry.parse_reference(text[:-2])
                expanded.extend(str(base.with_tag(t)) for t in sorted(client.tags(base)))
            else:
                expanded.append(text)
        for text in expanded:
            ref = registry.parse_reference(text)
            rec = client.image(ref, platform=platform)
            config = rec["config"]
            diff_ids = list(config["rootfs"]["diff_ids"])
            for desc, diff_id in zip(rec["manifest"]["layers"], diff_ids):
                if diff_id in held or diff_id in fresh:
                    continue
                with client.layer(ref, desc, diff_id, content_digests=digests) as stream:
                    fresh[diff_id] = list(stream)
                    nbytes += stream.blob_bytes
            images.append(ImageLayers(rec["id"], text, list(rec.get("tags") or []), diff_ids,
                                      layer_commands(config, len(diff_ids))))
    hosts = sorted({registry.parse_reference(r).registry for r in expanded})
    return _finish(images, fresh, digests, f"registry {','.join(hosts)}", "registry", nbytes)


# ----------------------------------------------------------------------------------------------
# frames
# ----------------------------------------------------------------------------------------------
@dataclass
class Files:
    """The ``files`` frame of some images, with the two small frames that place its layers.

    Attributes
    ----------
    files : DataFrame
        One row per (layer diff ID, path): ``imgviz.schema("files")``.
    layers : DataFrame
        One row per (image, layer): ``image_id``, ``position``, ``diff_id``, ``created_by``,
        ``size_bytes`` (bytes of regular files in the layer's tar). The analyses in
        :mod:`imgviz.analysis.files` take this (or a :class:`~imgviz.Frames`' ``layers``).
    images : DataFrame
        ``image_id``, ``ref`` (as asked), ``tags``, ``label`` (first tag, else short ID), ``n_layers``.
    source : str
        Where the files were read.
    """

    files: Any
    layers: Any
    images: Any
    source: str = ""
    stats: dict = field(default_factory=dict)

    def image_id(self, image: str | None = None) -> str:
        """The full ID of ``image`` (a tag, an ID or a short ID among those read; default: the only one)."""
        ids = list(self.images["image_id"])
        if image is None:
            if len(ids) == 1:
                return ids[0]
            raise ImgvizError(f"{len(ids)} images were read: name one ({', '.join(self.images['label'])})")
        for rec in self.images.itertuples(index=False):
            if image in (rec.image_id, rec.ref) or _match(rec.image_id, rec.tags, image):
                return rec.image_id
        raise ImageNotFound(f"{image}: not among the images read ({', '.join(self.images['label'])})")

    # the analyses, for one image or all
    def union(self, image: str | None = None, *, upto: int | None = None):
        from .analysis import files as A

        return A.union(self.files, self.layers, self.image_id(image), upto=upto)

    def changes(self, image: str | None = None):
        from .analysis import files as A

        return A.changes(self.files, self.layers, self.image_id(image))

    def wasted(self, image: str | None = None):
        from .analysis import files as A

        return A.wasted(self.files, self.layers, self.image_id(image))

    def waste(self, image: str | None = None) -> dict:
        from .analysis import files as A

        return A.waste(self.files, self.layers, self.image_id(image))

    def layer_summary(self, image: str | None = None):
        from .analysis import files as A

        return A.layer_summary(self.files, self.layers, self.image_id(image))

    def __repr__(self) -> str:
        return (f"<Files from {self.source}: {len(self.images)} images, {self.layers['diff_id'].nunique()} "
                f"layers, {len(self.files)} rows; .files, .layers, .images; .waste(image), .changes(image), "
                f".union(image), .wasted(image)>")


def to_frames(read: Read):
    """:class:`Files` of what :func:`read_entries` returned."""
    import pandas as pd

    from ._schema import FILES
    from .selection import image_label

    cols = list(FILES)
    parts = []
    for diff_id in dict.fromkeys(d for img in read.images for d in img.diff_ids):
        rows = read.layers[diff_id]
        df = pd.DataFrame.from_records(rows, columns=list(FIELDS)) if rows else pd.DataFrame(columns=list(FIELDS))
        df.insert(0, "diff_id", diff_id)
        parts.append(df)
    files = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    files = files[cols].astype({c: dtype for c, (dtype, _) in FILES.items()})
    layer_rows, image_rows = [], []
    for img in read.images:
        for position, (d, cmd) in enumerate(zip(img.diff_ids, img.created_by)):
            layer_rows.append({"image_id": img.image_id, "position": position, "diff_id": d, "created_by": cmd,
                               "size_bytes": sum(e.size for e in read.layers[d])})
        label = image_label(img.tags, img.image_id)
        image_rows.append({"image_id": img.image_id, "ref": img.ref, "tags": img.tags, "label": label,
                           "n_layers": len(img.diff_ids)})
    layers = pd.DataFrame(layer_rows, columns=["image_id", "position", "diff_id", "created_by", "size_bytes"]).astype(
        {"image_id": "string", "position": "int64", "diff_id": "string", "created_by": "string", "size_bytes": "int64"})
    images = pd.DataFrame(image_rows, columns=["image_id", "ref", "tags", "label", "n_layers"])
    stats = {"route": read.route, "bytes_read": read.bytes_read, "layers_read": read.layers_read,
             "layers_reused": read.layers_reused}
    return Files(files, layers, images, read.source, stats)


def files(images: str | Iterable[str] = (), *, source: Any = None, host: str | None = None, digests: bool = False,
          route: str = "auto", progress: bool = True, platform: str | None = None) -> Files:
    """The ``files`` frame of some images: every tar entry of every layer, each layer read once.

    Parameters
    ----------
    images : str or list of str
        Engine: tags or IDs. Archive: tags or IDs in it (empty: all). Registry: ``HOST/REPO:TAG``.
    source : str or path, optional
        ``"engine"`` (default), ``"auto"`` (the engine when it answers and holds the images, else the
        demo's recording, with a warning), an engine address, ``"archive:PATH"`` (a ``docker save`` tar or OCI
        layout) or a path, ``"registry"``, ``"demo"`` (the demo fleet's web-ping and python images,
        recorded from a build of it; no engine needed).
    host : str, optional
        Engine address (default DOCKER_HOST, else the default socket).
    digests : bool, default False
        Also hash every regular file's content (sha256): needed by
        :func:`imgviz.analysis.files.duplicates` and :func:`~imgviz.analysis.files.shared_savings`.
    route : {'auto', 'local', 'stream'}
        Engine only (:mod:`imgviz.sources.engine_files`).
    progress : bool
        Progress bars while reading.
    platform : str, optional
        ``os/arch`` for multi-platform archives and registry indexes.

    Returns
    -------
    Files
        ``.files`` (the frame), ``.layers``, ``.images``, and the analyses as methods.

    Examples
    --------
    >>> fs = imgviz.files("web-ping:v1")                      # doctest: +SKIP
    >>> fs.waste()["efficiency"], fs.changes().head()          # doctest: +SKIP
    """
    refs = [images] if isinstance(images, str) else list(images)
    return to_frames(read_entries(refs, source=source, host=host, digests=digests, route=route,
                                  progress=progress, platform=platform))
