"""Snapshot -> tidy rows (plain dicts): images, layers, history, containers. No pandas.

:mod:`imgviz.frames` turns these rows into DataFrames; the CLI's ``images`` and ``history`` use
them directly, so a listing needs no pandas. Every source's raw records go through this one
module, so an image read from the engine, a registry or a saved archive becomes the same rows.
A value a source does not give is None (NA in the frames), never a guess.

How the engine's history is mapped onto layers
----------------------------------------------
An image config has ``history`` (one entry per instruction, ``empty_layer`` set on those that made
no layer) and ``rootfs.diff_ids`` (one per layer). Registry and archive sources give us that config
as is (``mapping == "config"``). The engine API does not: ``/images/{id}/history`` lists every
entry newest first with a size, but no ``empty_layer`` flag. We rebuild the flag: an entry with
bytes made a layer; a metadata instruction (ENV, CMD, LABEL, ...) made none; the remaining 0-byte
entries take the layers still unaccounted for, in order (``mapping == "exact"`` when that
accounts for every layer with no choice left). When that leaves a choice (more 0-byte
candidates than layers), RUN/COPY/ADD are preferred and the rows say ``mapping == "inferred"``.
Sizes are exact either way, because only 0-byte layers can be placed ambiguously.

Image sizes
-----------
The engine's numbers are kept when it gives them (``size_source == "engine"``): ``size`` is what
``docker image ls`` and ``docker system df -v`` print, ``shared_size`` df's SHARED SIZE. Otherwise they
are derived by the engine's own rule (:func:`derive_image_sizes`) and ``size_source == "derived"``.
``size_of_layers`` is always the layer rule (the image's layers, each once): on a graph driver it
equals ``size``; on the containerd image store ``size`` = ``content_size`` (content blobs) +
``unpacked_size`` (snapshots), both from ``/images/json?manifests=1``, and ``size_of_layers`` is the
snapshots the history names (docs/engines.md says when ``unpacked_size`` is more).
"""

from __future__ import annotations

import re
from ._dt import datetime, timezone

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Iterable

from ._instructions import instruction_of, is_metadata
from .selection import familiar, repo_tag, short_id

if TYPE_CHECKING:
    from .snapshot import Snapshot

# imported where used, so `imgviz history IMAGE` (history_rows_of) imports none of them:
# .sources.podman (podman's rules), .sources._oci.chain_ids (the one chain-ID rule: hashlib) and
# .sources.engine_model.manifest_split (dataclasses, hashlib)

_NONE_TAG = "<none>:<none>"
_NONE_DIGEST = "<none>@<none>"


def derive_image_sizes(layers: Iterable[tuple[str, str, Any]],
                       holders: Iterable[tuple[str, str]] = ()) -> dict[str, tuple[int | None, int | None]]:
    """Size and shared size of every image, by the engine's rule, from ``(image_id, chain_id, size)``.

    Rule (the engine's for ``/images/json`` and ``/system/df``): size = sum of the sizes of the
    image's layers; shared size = sum of the sizes of its layers whose chain ID more than one
    image uses (``docker system df -v`` SHARED SIZE); unique = size - shared. A layer is its chain
    ID: the same diff on another parent is another layer, not shared. An image with a layer of
    unknown size (None) has unknown sizes (None, None). ``holders``: ``(image_id, chain_id)`` of
    images the engine also counts as users of a layer but lists not (Docker 28's intermediate
    images, :func:`imgviz.analysis.sizes.hidden_layer_holders`); they get no row of their own.

    Returns
    -------
    dict
        ``{image_id: (size, shared_size)}`` in first-seen order.
    """
    mine: dict[str, dict[str, Any]] = {}
    for image_id, chain, size in layers:
        per = mine.setdefault(image_id, {})
        if chain not in per:
            per[chain] = size
    users: dict[str, int] = {}
    for per in mine.values():
        for chain in per:
            users[chain] = users.get(chain, 0) + 1
    for _holder, chain in {(image_id, chain) for image_id, chain in holders if image_id not in mine}:
        users[chain] = users.get(chain, 0) + 1
    out: dict[str, tuple[int | None, int | None]] = {}
    for image_id, per in mine.items():
        if any(_unknown(s) for s in per.values()):
            out[image_id] = (None, None)
            continue
        size = sum(int(s) for s in per.values())
        shared = sum(int(s) for c, s in per.items() if users[c] > 1)
        out[image_id] = (size, shared)
    return out


def _unknown(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pandas NA
        return True


# ------------------------------------------------------------------------------------------ times

def utc_time(value: Any) -> datetime | None:
    """A UTC datetime from the engine's unix seconds or an RFC 3339 string; None when unknown.

    Go's zero time (``0001-01-01T00:00:00Z``, what an engine says for "never") is unknown too.
    """
    if value is None or value != value or value in ("", 0):  # None, NaN/NaT, empty
        return None
    try:
        if isinstance(value, (int, float)):
            when = datetime.fromtimestamp(value, tz=timezone.utc)
        elif isinstance(value, datetime):
            when = value
        else:
            when = datetime.fromisoformat(str(value))
    except (ValueError, TypeError, OverflowError, OSError):
        return None
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    return when if 1678 <= when.year <= 2261 else None


def iso_time(value: Any) -> str | None:
    """:func:`utc_time` as ISO 8601 text, keeping the nanoseconds an RFC 3339 string carries.

    >>> iso_time("2026-11-28T07:06:40.680835229Z"), iso_time(0), iso_time(1764313600)
    ('2026-11-28T07:06:40.680835229+00:00', None, '2025-11-28T07:06:40+00:00')
    """
    when = utc_time(value)
    if when is None:
        return None
    text = when.isoformat()
    if isinstance(value, str):
        m = re.search(r"T[0-9:]+\.([0-9]+)", value)
        if m and m.group(1)[6:9].strip("0"):
            digits = m.group(1)[:9].ljust(9, "0")
            whole = when.replace(microsecond=0).isoformat()
            text = f"{whole[:-6]}.{digits}{whole[-6:]}"
    return text


# ------------------------------------------------------------------------------------- raw records

def normalize_df(df: dict[str, Any] | None) -> dict[str, Any] | None:
    """The engine's ``/system/df`` in one shape, whatever the API version.

    Up to API 1.51 the answer has ``LayersSize``, ``Images``, ``Containers``, ``Volumes`` and
    ``BuildCache``; from 1.52 it has ``ImagesDiskUsage`` / ``ContainersDiskUsage`` /
    ``VolumesDiskUsage`` / ``BuildCacheDiskUsage`` objects (``TotalSize``, ``Items``).
    ``volumes`` and ``build_cache`` are the raw items in the engine's order (None when the
    answer has no such field: an engine that does not say is not an engine with none).
    """
    if not df:
        return None
    if "ImagesDiskUsage" in df:
        imgs = df.get("ImagesDiskUsage") or {}
        ctrs = df.get("ContainersDiskUsage") or {}
        layers_size = imgs.get("TotalSize")
        image_items = imgs.get("Items") or []
        container_items = ctrs.get("Items") or []
        vols = df.get("VolumesDiskUsage")
        cache = df.get("BuildCacheDiskUsage")
        volume_items = None if vols is None else list((vols or {}).get("Items") or [])
        cache_items = None if cache is None else list((cache or {}).get("Items") or [])
    else:
        layers_size = df.get("LayersSize")
        image_items = df.get("Images") or []
        container_items = df.get("Containers") or []
        volume_items = None if "Volumes" not in df else list(df.get("Volumes") or [])
        cache_items = None if "BuildCache" not in df else list(df.get("BuildCache") or [])
    return {
        "layers_size": layers_size,
        "images": {im["Id"]: im for im in image_items},
        "containers": {c["Id"]: c for c in container_items},
        "volumes": volume_items,
        "build_cache": cache_items,
    }


def volume_rows(df: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per volume of :func:`normalize_df`'s answer (``docker system df -v`` Local Volumes).

    The engine says -1 for a size it did not measure, and may leave ``UsageData`` out: both are
    unknown (None), never 0.
    """
    out = []
    for v in (df or {}).get("volumes") or []:
        usage = v.get("UsageData") or {}
        out.append({
            "name": v.get("Name"), "driver": v.get("Driver"), "mountpoint": v.get("Mountpoint"),
            "scope": v.get("Scope"), "created": v.get("CreatedAt"), "labels": dict(v.get("Labels") or {}),
            "size": _known(usage.get("Size")), "links": _known(usage.get("RefCount")),
        })
    return out


def _parents(record: dict[str, Any]) -> list[str]:
    # API 1.42+ says "Parents"; Docker 28.x sends that list under the key " Parents" (a leading
    # space in the engine's JSON tag); older engines say "Parent" (one ID or "")
    for key in ("Parents", " Parents"):
        if record.get(key):
            return [p for p in record[key] if p]
    parent = record.get("Parent")
    return [parent] if parent else []


def build_cache_rows(df: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per BuildKit cache record of :func:`normalize_df`'s answer (``docker system df -v``
    Build cache usage), in the engine's order."""
    out = []
    for b in (df or {}).get("build_cache") or []:
        out.append({
            "cache_id": b.get("ID"), "type": b.get("Type"), "description": b.get("Description"),
            "parents": _parents(b), "size": b.get("Size"), "shared": bool(b.get("Shared")),
            "in_use": bool(b.get("InUse")), "usage_count": b.get("UsageCount"),
            "created": b.get("CreatedAt"), "last_used": b.get("LastUsedAt"),
        })
    return out


def intermediate_rows(image_rows: list[dict], history_rows: list[dict], label_of: dict[str, str]) -> list[dict]:
    """Images ``docker image ls -a`` adds to ``docker image ls``: steps the classic builder kept.

    Rule: the engine's history names an entry by image ID (not ``<missing>``) exactly when that
    step is an image in its store; those IDs that are not listed images are the intermediate
    images (checked against ``docker image ls -a`` on Docker 20.10 and 28.5, overlay2 and the
    containerd store; podman names fewer entries). The size is that of the layers up to the step,
    as ``docker image ls -a`` counts it.
    """
    listed = {im["image_id"] for im in image_rows}
    by_image: dict[str, list[dict]] = {}
    for h in history_rows:
        by_image.setdefault(h["image_id"], []).append(h)
    found: dict[str, dict] = {}
    for image_id, entries in by_image.items():
        size, n_layers = 0, 0
        for h in sorted(entries, key=lambda e: e["index"]):
            if not h["empty_layer"]:
                n_layers += 1
                size = None if size is None or h["size"] is None else size + int(h["size"])
            step = h.get("entry_id") or "<missing>"
            if step == "<missing>" or step in listed:
                continue
            step = step if step.startswith("sha256:") else f"sha256:{step}"
            if step in listed:
                continue
            row = found.get(step)
            if row is None:
                found[step] = {"image_id": step, "short_id": short_id(step), "created": h["created"],
                               "size": size, "n_layers": n_layers, "created_by": h["created_by"],
                               "instruction": h["instruction"], "children": [label_of.get(image_id, image_id)]}
            elif label_of.get(image_id, image_id) not in row["children"]:
                row["children"].append(label_of.get(image_id, image_id))
    return list(found.values())


def _known(value: Any) -> Any:
    """The engine uses -1 for 'not computed'."""
    return None if value is None or value == -1 else value


def _clean_tags(tags: list[str] | None) -> list[str]:
    # names as the docker CLI prints them: podman's compat API answers docker.io/iv/app:v1 where a
    # Docker engine (and the docker CLI reading podman) says iv/app:v1
    return list(dict.fromkeys(familiar(t) for t in (tags or []) if t and t != _NONE_TAG))


def _ids_of(r: dict) -> list[str]:
    """The digests an engine could name record ``r``'s image by (the record's ``ids``; an engine's
    record: the ID that engine says)."""
    found = [d for ids in (r.get("ids") or []) for d in (ids.get("config"), ids.get("manifest"), ids.get("index"))]
    return list(dict.fromkeys(d for d in [r["id"], *found] if d))


def _clean_digests(digests: list[str] | None) -> list[str]:
    return list(dict.fromkeys(familiar(d) for d in (digests or []) if d and d != _NONE_DIGEST))


def map_engine_history(raw_history: list[dict], diff_ids: list[str]) -> tuple[list[dict], str]:
    """Oldest-first history entries with ``empty_layer`` rebuilt (see the module docstring)."""
    entries = []
    for h in reversed(raw_history or []):
        created_by = h.get("CreatedBy") or ""
        comment = h.get("Comment") or ""
        entries.append({"id": h.get("Id") or "<missing>", "created": h.get("Created"),
                        "created_by": created_by, "comment": comment,
                        "size": int(h.get("Size") or 0), "instruction": instruction_of(created_by, comment)})
    n_layers = len(diff_ids)
    state = []  # "layer" | "empty" | "maybe"
    for e in entries:
        if e["size"] > 0:
            state.append("layer")
        elif is_metadata(e["instruction"]):
            state.append("empty")
        else:
            state.append("maybe")
    missing = n_layers - state.count("layer")
    maybes = [i for i, s in enumerate(state) if s == "maybe"]
    mapping = "exact"
    if missing <= 0:
        chosen = set()
    elif missing == len(maybes):
        chosen = set(maybes)
    else:
        mapping = "inferred"
        ranked = sorted(maybes, key=lambda i: (entries[i]["instruction"] not in ("RUN", "COPY", "ADD", "IMPORT"), i))
        chosen = set(ranked[:max(missing, 0)])
        if missing > len(maybes):
            # fewer candidates than layers: should not happen with an engine; use metadata ones last
            extra = [i for i, s in enumerate(state) if s == "empty"][: missing - len(maybes)]
            chosen |= set(extra)
    for i, e in enumerate(entries):
        e["empty_layer"] = not (state[i] == "layer" or i in chosen)
        if e["instruction"] is None and not e["empty_layer"] and not e["created_by"]:
            # `docker import -m MESSAGE` leaves no command, only the message as comment
            e["instruction"] = "IMPORT"
    return entries, mapping


def config_history(config: dict) -> list[dict]:
    """Oldest-first history entries of an image config (``empty_layer`` as the config says)."""
    out = []
    for h in config.get("history") or []:
        created_by = h.get("created_by") or ""
        comment = h.get("comment") or ""
        out.append({"id": "<missing>", "created": h.get("created"), "created_by": created_by, "comment": comment,
                    "size": None, "instruction": instruction_of(created_by, comment),
                    "empty_layer": bool(h.get("empty_layer", False))})
    return out


# --------------------------------------------------------------------------------------- the rows

class Rows:
    """The tidy rows of one snapshot: lists of dicts with the columns of :mod:`imgviz._schema`.

    ``created`` values are as the source said them (unix seconds or RFC 3339 text);
    :func:`utc_time` reads them. ``engine_df`` is :func:`normalize_df` of the engine's
    ``/system/df`` (None without an engine).
    """

    # a plain class, compared by its fields (importing dataclasses costs a command 6 ms of start-up)
    _FIELDS = ("images", "layers", "history", "containers", "engine_df", "volumes", "build_cache", "intermediates")
    __hash__ = None

    def __init__(self, images=None, layers=None, history=None, containers=None, engine_df=None, volumes=None,
                 build_cache=None, intermediates=None):
        self.images: list[dict[str, Any]] = [] if images is None else images
        self.layers: list[dict[str, Any]] = [] if layers is None else layers
        self.history: list[dict[str, Any]] = [] if history is None else history
        self.containers: list[dict[str, Any]] = [] if containers is None else containers
        self.engine_df: dict[str, Any] | None = engine_df
        self.volumes: list[dict[str, Any]] = [] if volumes is None else volumes
        self.build_cache: list[dict[str, Any]] = [] if build_cache is None else build_cache
        self.intermediates: list[dict[str, Any]] = [] if intermediates is None else intermediates

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __repr__(self) -> str:
        return "Rows(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self._FIELDS) + ")"


def _is_podman(snapshot: Snapshot) -> bool:
    """podman's engine (its rules for history entry IDs and its df): :func:`imgviz.sources.podman.is_podman`."""
    version, ping = snapshot.records.get("version"), snapshot.records.get("ping")
    if snapshot.kind != "engine":
        return False
    # every podman /version names podman somewhere, every podman /_ping libpod (the rules below read
    # where): without the word it is not podman, and the rules' module is not imported for Docker
    if version:
        if "podman" not in repr(version).lower():
            return False
        from .sources import podman as _podman

        return _podman.is_podman(version)
    if ping and "libpod" in repr(ping).lower():  # a question probed with /_ping alone
        from .sources import podman as _podman

        return _podman.is_podman_ping(ping)
    return False


def _image_history(r: dict[str, Any], summary: dict[str, Any], podman: bool):
    """One image record's history rows and what the rest of its rows are made from, or None when the
    record holds neither an engine inspect nor a config: ``(history rows, entries, mapping,
    diff_ids, layer_sizes, made_by, cfg, tags, digests, created, os, arch, size)``."""
    image_id = r["id"]
    inspect = r.get("inspect")
    config = r.get("config")
    if inspect is not None:
        cfg = inspect.get("Config") or {}
        diff_ids = list((inspect.get("RootFS") or {}).get("Layers") or [])
        entries, mapping = map_engine_history(r.get("history") or [], diff_ids)
        tags = _clean_tags(summary.get("RepoTags") if summary else inspect.get("RepoTags"))
        digests = _clean_digests(summary.get("RepoDigests") if summary else inspect.get("RepoDigests"))
        created = inspect.get("Created")
        os_, arch = inspect.get("Os"), inspect.get("Architecture")
        size = summary.get("Size", inspect.get("Size"))
        layer_sizes = [None] * len(diff_ids)
        pos = 0
        for e in entries:
            if not e["empty_layer"] and pos < len(diff_ids):
                layer_sizes[pos] = e["size"]
                pos += 1
    elif config is not None:
        cfg = config.get("config") or {}
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        entries, mapping = config_history(config), "config"
        tags = _clean_tags(r.get("tags") or ([r["ref"]] if r.get("ref") else []))
        digests = _clean_digests(r.get("digests"))
        created = config.get("created")
        os_, arch = config.get("os"), config.get("architecture")
        layer_sizes = list(r.get("layer_sizes") or [None] * len(diff_ids))
        size = sum(layer_sizes) if layer_sizes and all(s is not None for s in layer_sizes) else None
    else:
        return None
    # history rows, and which entry made each layer
    made_by: dict[int, int] = {}
    hist: list[dict[str, Any]] = []
    pos = 0
    for idx, e in enumerate(entries):
        layer_pos = None
        if not e["empty_layer"] and pos < len(diff_ids):
            layer_pos = pos
            made_by[pos] = idx
            pos += 1
        hist.append({
            "image_id": image_id, "index": idx,
            # Docker names the newest entry by the image itself; podman by its own rule (a built
            # image's newest entry carries its parent's ID, without sha256:): as `podman history`
            # prints it
            "entry_id": image_id if idx == len(entries) - 1 and not podman else e.get("id", "<missing>"),
            "created": e["created"],
            "created_by": e["created_by"], "instruction": e["instruction"], "comment": e["comment"],
            "empty_layer": e["empty_layer"], "layer_position": layer_pos,
            "size": layer_sizes[layer_pos] if layer_pos is not None else 0,
            "mapping": mapping,
        })
    return hist, entries, mapping, diff_ids, layer_sizes, made_by, cfg, tags, digests, created, os_, arch, size


def history_rows_of(snapshot: Snapshot) -> list[dict[str, Any]]:
    """The history rows of every image of a snapshot, as :func:`rows` makes them (``rows(s).history``),
    without the rest: what `imgviz history IMAGE` prints needs no chain ID, size split or df."""
    listed = {im["Id"]: im for im in snapshot.records.get("image_list") or []}
    podman = _is_podman(snapshot)
    out: list[dict[str, Any]] = []
    for r in snapshot.images:
        made = _image_history(r, listed.get(r["id"]) or {}, podman)
        if made is not None:
            out.extend(made[0])
    return out


def rows(snapshot: Snapshot) -> Rows:
    """Every row of a snapshot: images, layers, history and containers.

    Parameters
    ----------
    snapshot : Snapshot
        From any source (:func:`imgviz.collect`, :func:`imgviz.load`, a registry or an archive).

    Returns
    -------
    Rows
    """
    from .sources._oci import chain_ids  # the one chain-ID rule (sources, frames and the cascade share it)
    from .sources.engine_model import manifest_split

    rec = snapshot.records
    kind = snapshot.kind
    listed = {im["Id"]: im for im in rec.get("image_list") or []}
    # podman: its own libpod df, not its compat /system/df (imgviz.sources.podman)
    podman = _is_podman(snapshot)
    # the containerd store's ?manifests=1 answer: the content / unpacked split behind each Size
    split = {im["Id"]: im for im in rec.get("image_manifests") or [] if isinstance(im, dict) and "Id" in im}
    df = normalize_df(rec.get("df"))
    if podman:  # its own libpod df; without it, the compat df with its LayersSize 0 made unknown
        from .sources import podman as _podman

        df = _podman.engine_df(rec) if rec.get("podman_df") else _podman.compat_engine_df(df)
    df_images = df["images"] if df else {}

    image_rows, layer_rows, history_rows = [], [], []
    for r in snapshot.images:
        image_id = r["id"]
        inspect = r.get("inspect")
        summary = listed.get(image_id) or {}
        made = _image_history(r, summary, podman)
        if made is None:
            continue
        hist, entries, mapping, diff_ids, layer_sizes, made_by, cfg, tags, digests, created, os_, arch, size = made
        history_rows.extend(hist)
        env, cmd, entrypoint = cfg.get("Env"), cfg.get("Cmd"), cfg.get("Entrypoint")
        workdir, user, labels = cfg.get("WorkingDir"), cfg.get("User"), cfg.get("Labels")
        ports = cfg.get("ExposedPorts")

        chains = chain_ids(diff_ids)
        blobs = ((r.get("manifest") or {}).get("layers")) or []
        for p, diff in enumerate(diff_ids):
            h = entries[made_by[p]] if p in made_by else {}
            blob = blobs[p] if p < len(blobs) else {}
            layer_rows.append({
                "image_id": image_id, "position": p, "diff_id": diff, "chain_id": chains[p],
                "parent_chain_id": chains[p - 1] if p else None, "size": layer_sizes[p],
                "digest": blob.get("digest"), "size_compressed": blob.get("size"),
                "media_type": blob.get("mediaType"),
                "history_index": made_by.get(p), "created_by": h.get("created_by"),
                "instruction": h.get("instruction"), "comment": h.get("comment"),
                "created": h.get("created"),
            })

        parts = manifest_split(split.get(image_id))
        engine_sizes = df_images.get(image_id) or {}
        shared = _known(engine_sizes.get("SharedSize"))
        if shared is None:
            shared = _known(summary.get("SharedSize"))
        set_of_layers = dict(zip(chains, layer_sizes))  # each layer (chain ID) once
        repo, tag = repo_tag(tags[0] if tags else None)
        image_rows.append({
            "image_id": image_id, "short_id": short_id(image_id), "tags": tags,
            "digests": digests, "image_ids": _ids_of(r), "repository": repo, "tag": tag, "dangling": not tags,
            "created": created, "size": size, "shared_size": shared,
            "unique_size": (size - shared) if (size is not None and shared is not None) else None,
            "size_of_layers": (sum(int(x) for x in set_of_layers.values())
                               if all(x is not None for x in set_of_layers.values()) else None),
            "content_size": None if parts is None else parts["content"] + parts["attestation"],
            "unpacked_size": None if parts is None else parts["unpacked"],
            "containers": _known(engine_sizes.get("Containers", summary.get("Containers"))),
            "size_source": "engine" if (inspect is not None and shared is not None) else "derived",
            "os": os_, "architecture": arch, "n_layers": len(diff_ids), "n_history": len(entries),
            "env": list(env or []), "cmd": list(cmd) if cmd else None,
            "entrypoint": list(entrypoint) if entrypoint else None, "workdir": workdir or "",
            "user": user or "", "labels": dict(labels or {}), "exposed_ports": sorted(ports or {}),
            "source": kind,
        })

    containers = container_rows(rec)
    _fill_derived(image_rows, layer_rows, containers)
    label_of = {im["image_id"]: (im["tags"][0] if im["tags"] else im["short_id"]) for im in image_rows}
    engine_history = [h for h in history_rows if h["mapping"] != "config"]
    return Rows(images=image_rows, layers=layer_rows, history=history_rows, containers=containers, engine_df=df,
                volumes=volume_rows(df), build_cache=build_cache_rows(df),
                intermediates=intermediate_rows(image_rows, engine_history, label_of))


def listed_rows(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Image rows from the engine's image list alone (``GET /images/json``, what ``docker image ls``
    reads): ``image_id``, ``short_id``, ``tags``, ``digests``, ``dangling``, ``created`` (the list's
    unix seconds), ``size`` (the list's: on the containerd store more than inspect's Size). Tags,
    digests and size follow :func:`rows`' rule for a listed image, so a listing equals the one a
    whole collection gives (but for the creation time's fraction of a second, which only inspect says).
    """
    out = []
    for im in snapshot.records.get("image_list") or []:
        tags = _clean_tags(im.get("RepoTags"))
        out.append({"image_id": im["Id"], "short_id": short_id(im["Id"]), "tags": tags,
                    "digests": _clean_digests(im.get("RepoDigests")), "dangling": not tags,
                    "created": im.get("Created"), "size": im.get("Size")})
    return out


def _fill_derived(images: list[dict], layers: list[dict], containers: list[dict]) -> None:
    """Fill sizes and container counts the source did not give, by the engine's rules."""
    need = [im for im in images if im["shared_size"] is None or im["size"] is None]
    if need:
        derived = derive_image_sizes((r["image_id"], r["chain_id"], r["size"]) for r in layers)
        for im in need:
            size, shared = derived.get(im["image_id"], (None, None))
            if im["size"] is None:
                im["size"] = size
            if im["shared_size"] is None:
                im["shared_size"] = shared
            im["size_source"] = "derived"
            im["unique_size"] = (im["size"] - im["shared_size"]
                                 if im["size"] is not None and im["shared_size"] is not None else None)
    if any(im["containers"] is None for im in images):
        counts: dict[str, int] = {}
        for c in containers:
            counts[c["image_id"]] = counts.get(c["image_id"], 0) + 1
        for im in images:
            if im["containers"] is None:
                im["containers"] = counts.get(im["image_id"], 0)


def _run_state(state: Any) -> dict[str, Any]:
    """Exit code and start/finish times from a container inspect's ``State`` (what the status text
    was made from). Go's zero time means never; a running container has no exit code yet."""
    if not isinstance(state, dict):
        return {"exit_code": None, "started": None, "finished": None}
    started, finished = utc_time(state.get("StartedAt")), utc_time(state.get("FinishedAt"))
    ran = finished is not None and not state.get("Running")
    return {"exit_code": state.get("ExitCode") if ran else None,
            "started": iso_time(state.get("StartedAt")) if started else None,
            "finished": iso_time(state.get("FinishedAt")) if ran else None}


def container_rows(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per container the engine listed and we could inspect (``docker ps -a -s``)."""
    inspected = {c["id"]: c.get("inspect") or {} for c in rec.get("containers") or []}
    out = []
    for c in rec.get("container_list") or []:
        cid = c["Id"]
        if cid not in inspected:
            continue  # removed during collection: recorded in skipped
        ins = inspected[cid]
        out.append({
            "container_id": cid, "short_id": cid[:12],
            "names": [n.lstrip("/") for n in c.get("Names") or []],
            "image": c.get("Image"), "image_id": c.get("ImageID"), "command": c.get("Command"),
            "state": c.get("State"), "status": c.get("Status"), "created": c.get("Created"),
            "size_rw": c.get("SizeRw", 0), "size_root_fs": c.get("SizeRootFs"),
            "env": list(((ins.get("Config") or {}).get("Env")) or []),
            **_run_state(ins.get("State")),
        })
    return out
