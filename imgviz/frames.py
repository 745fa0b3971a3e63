"""Snapshot -> pandas frames: ``images``, ``layers``, ``history``, ``containers``.

Columns and dtypes are defined once, in :mod:`imgviz._schema`. Every source's raw records go
through this one module, so an image read from the engine, a registry or a saved archive becomes
the same rows.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _schema
from ._instructions import instruction_of, is_metadata
from .snapshot import Snapshot
from .sources._oci import chain_ids  # the one chain-ID rule (sources, frames and the cascade share it)

_NONE_TAG = "<none>:<none>"
_NONE_DIGEST = "<none>@<none>"


@dataclass
class Frames:
    """The tidy tables of one snapshot, plus the snapshot they came from.

    Attributes
    ----------
    images, layers, history, containers : DataFrame
        See :mod:`imgviz._schema` (``imgviz.schema("images")`` prints the columns).
    source : dict
        Where and when the snapshot was collected.
    skipped : list of dict
        Objects that vanished during collection.
    engine_df : dict or None
        The engine's own ``/system/df`` totals: ``layers_size`` (bytes of distinct layers),
        ``images`` and ``containers`` keyed by ID; None for sources without an engine.
    snapshot : Snapshot
        The raw records.
    """

    images: pd.DataFrame
    layers: pd.DataFrame
    history: pd.DataFrame
    containers: pd.DataFrame
    source: dict[str, Any] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    engine_df: dict[str, Any] | None = None
    snapshot: Snapshot | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"<Frames from {self.source.get('kind', '?')} {self.source.get('host', '')}: "
                f"{len(self.images)} images, {len(self.layers)} layer rows, "
                f"{len(self.history)} history rows, {len(self.containers)} containers>")


# ------------------------------------------------------------------------------------------ helpers

def _ts(value: Any) -> pd.Timestamp | None:
    """A UTC timestamp from the engine's unix seconds or an RFC 3339 string; None when unknown."""
    if value in (None, "", 0):
        return None
    try:
        if isinstance(value, (int, float)):
            return pd.Timestamp(value, unit="s", tz="UTC")
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    schema = _schema.SCHEMAS[name]
    data = {}
    for col, (dtype, _meaning) in schema.items():
        values = [row.get(col) for row in rows]
        if dtype.startswith("datetime64"):
            data[col] = pd.to_datetime(pd.Series(values, dtype="object"), utc=True)
        elif dtype == "object":
            data[col] = pd.Series(values, dtype="object")
        elif dtype == "bool":
            data[col] = pd.Series([bool(v) for v in values], dtype="bool")
        else:
            data[col] = pd.Series([pd.NA if v is None else v for v in values], dtype="object").astype(dtype)
    return pd.DataFrame(data, columns=list(schema))


def normalize_df(df: dict[str, Any] | None) -> dict[str, Any] | None:
    """The engine's ``/system/df`` in one shape, whatever the API version.

    Up to API 1.51 the answer has ``LayersSize``, ``Images``, ``Containers``; from 1.52 it has
    ``ImagesDiskUsage`` / ``ContainersDiskUsage`` objects (``TotalSize``, ``Items``).
    """
    if not df:
        return None
    if "ImagesDiskUsage" in df:
        imgs = df.get("ImagesDiskUsage") or {}
        ctrs = df.get("ContainersDiskUsage") or {}
        layers_size = imgs.get("TotalSize")
        image_items = imgs.get("Items") or []
        container_items = ctrs.get("Items") or []
    else:
        layers_size = df.get("LayersSize")
        image_items = df.get("Images") or []
        container_items = df.get("Containers") or []
    return {
        "layers_size": layers_size,
        "images": {im["Id"]: im for im in image_items},
        "containers": {c["Id"]: c for c in container_items},
    }


def _known(value: Any) -> Any:
    """The engine uses -1 for 'not computed'."""
    return None if value is None or value == -1 else value


def _clean_tags(tags: list[str] | None) -> list[str]:
    return [t for t in (tags or []) if t and t != _NONE_TAG]


def _clean_digests(digests: list[str] | None) -> list[str]:
    return [d for d in (digests or []) if d and d != _NONE_DIGEST]


def _split_tag(tag: str | None) -> tuple[str, str]:
    if not tag:
        return "<none>", "<none>"
    slash = tag.rfind("/")
    colon = tag.rfind(":")
    if colon > slash:
        return tag[:colon], tag[colon + 1:]
    return tag, "latest"


def _map_engine_history(raw_history: list[dict], diff_ids: list[str]) -> tuple[list[dict], str]:
    """Oldest-first history entries with ``empty_layer`` rebuilt (see module docstring)."""
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


def _config_history(config: dict) -> list[dict]:
    out = []
    for h in config.get("history") or []:
        created_by = h.get("created_by") or ""
        comment = h.get("comment") or ""
        out.append({"id": "<missing>", "created": h.get("created"), "created_by": created_by, "comment": comment,
                    "size": None, "instruction": instruction_of(created_by, comment),
                    "empty_layer": bool(h.get("empty_layer", False))})
    return out


# --------------------------------------------------------------------------------------- the build

def frames(snapshot: Snapshot) -> Frames:
    """Build the four frames of a snapshot.

    Parameters
    ----------
    snapshot : Snapshot
        From :func:`imgviz.collect`, :func:`imgviz.load` or any source.

    Returns
    -------
    Frames

    Examples
    --------
    >>> f = frames(demo_snapshot())               # doctest: +SKIP
    >>> f.images[["repository", "tag", "size"]]   # doctest: +SKIP
    """
    rec = snapshot.records
    kind = snapshot.kind
    listed = {im["Id"]: im for im in rec.get("image_list") or []}
    df = normalize_df(rec.get("df"))
    df_images = df["images"] if df else {}

    image_rows, layer_rows, history_rows = [], [], []
    for r in snapshot.images:
        image_id = r["id"]
        inspect = r.get("inspect")
        config = r.get("config")
        summary = listed.get(image_id) or {}
        if inspect is not None:
            cfg = inspect.get("Config") or {}
            diff_ids = list((inspect.get("RootFS") or {}).get("Layers") or [])
            entries, mapping = _map_engine_history(r.get("history") or [], diff_ids)
            tags = _clean_tags(summary.get("RepoTags") if summary else inspect.get("RepoTags"))
            digests = _clean_digests(summary.get("RepoDigests") if summary else inspect.get("RepoDigests"))
            created = inspect.get("Created")
            os_, arch = inspect.get("Os"), inspect.get("Architecture")
            size = summary.get("Size", inspect.get("Size"))
            env, cmd, entrypoint = cfg.get("Env"), cfg.get("Cmd"), cfg.get("Entrypoint")
            workdir, user, labels = cfg.get("WorkingDir"), cfg.get("User"), cfg.get("Labels")
            ports = cfg.get("ExposedPorts")
            layer_sizes = [None] * len(diff_ids)
            pos = 0
            for e in entries:
                if not e["empty_layer"] and pos < len(diff_ids):
                    layer_sizes[pos] = e["size"]
                    pos += 1
        elif config is not None:
            cfg = config.get("config") or {}
            diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
            entries, mapping = _config_history(config), "config"
            tags = list(r.get("tags") or ([r["ref"]] if r.get("ref") else []))
            digests = list(r.get("digests") or [])
            created = config.get("created")
            os_, arch = config.get("os"), config.get("architecture")
            layer_sizes = list(r.get("layer_sizes") or [None] * len(diff_ids))
            size = sum(layer_sizes) if layer_sizes and all(s is not None for s in layer_sizes) else None
            env, cmd, entrypoint = cfg.get("Env"), cfg.get("Cmd"), cfg.get("Entrypoint")
            workdir, user, labels = cfg.get("WorkingDir"), cfg.get("User"), cfg.get("Labels")
            ports = cfg.get("ExposedPorts")
        else:
            continue

        chains = chain_ids(diff_ids)
        blobs = ((r.get("manifest") or {}).get("layers")) or []
        # history rows, and which entry made each layer
        made_by: dict[int, int] = {}
        pos = 0
        for idx, e in enumerate(entries):
            layer_pos = None
            if not e["empty_layer"] and pos < len(diff_ids):
                layer_pos = pos
                made_by[pos] = idx
                pos += 1
            history_rows.append({
                "image_id": image_id, "index": idx,
                "entry_id": image_id if idx == len(entries) - 1 else e.get("id", "<missing>"),
                "created": _ts(e["created"]),
                "created_by": e["created_by"], "instruction": e["instruction"], "comment": e["comment"],
                "empty_layer": e["empty_layer"], "layer_position": layer_pos,
                "size": layer_sizes[layer_pos] if layer_pos is not None else 0,
                "mapping": mapping,
            })
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
                "created": _ts(h.get("created")),
            })

        engine_sizes = df_images.get(image_id) or {}
        shared = _known(engine_sizes.get("SharedSize"))
        if shared is None:
            shared = _known(summary.get("SharedSize"))
        first = tags[0] if tags else None
        repo, tag = _split_tag(first)
        image_rows.append({
            "image_id": image_id, "short_id": image_id.split(":", 1)[-1][:12], "tags": tags,
            "digests": digests, "repository": repo, "tag": tag, "dangling": not tags,
            "created": _ts(created), "size": size, "shared_size": shared,
            "unique_size": (size - shared) if (size is not None and shared is not None) else None,
            "containers": _known(engine_sizes.get("Containers", summary.get("Containers"))),
            "size_source": "engine" if (inspect is not None and shared is not None) else "derived",
            "os": os_, "architecture": arch, "n_layers": len(diff_ids), "n_history": len(entries),
            "env": list(env or []), "cmd": list(cmd) if cmd else None,
            "entrypoint": list(entrypoint) if entrypoint else None, "workdir": workdir or "",
            "user": user or "", "labels": dict(labels or {}), "exposed_ports": sorted(ports or {}),
            "source": kind,
        })

    containers = _containers(rec)
    images = _frame("images", image_rows)
    layers = _frame("layers", layer_rows)
    history = _frame("history", history_rows)
    images = _fill_derived(images, layers, containers)
    return Frames(images=images, layers=layers, history=history, containers=containers,
                  source=dict(snapshot.source), skipped=list(snapshot.skipped), engine_df=df,
                  snapshot=snapshot)


def _fill_derived(images: pd.DataFrame, layers: pd.DataFrame, containers: pd.DataFrame) -> pd.DataFrame:
    """Fill sizes and container counts the source did not give, by the engine's rules."""
    from .analysis.sizes import per_image_sizes

    need = images["shared_size"].isna() | images["size"].isna()
    if need.any():
        derived = per_image_sizes(layers).set_index("image_id")
        ids = images.loc[need, "image_id"]
        for col in ("size", "shared_size"):
            fill = ids.map(derived[col]) if len(derived) else pd.Series(pd.NA, index=ids.index)
            images.loc[need, col] = images.loc[need, col].fillna(fill.astype("Int64"))
        images["unique_size"] = (images["size"] - images["shared_size"]).astype("Int64")
        images.loc[need, "size_source"] = "derived"
    if images["containers"].isna().any():
        counts = containers.groupby("image_id").size() if len(containers) else pd.Series(dtype="Int64")
        fill = images["image_id"].map(counts).fillna(0).astype("Int64")
        images["containers"] = images["containers"].fillna(fill).astype("Int64")
    return images


def _containers(rec: dict[str, Any]) -> pd.DataFrame:
    inspected = {c["id"]: c.get("inspect") or {} for c in rec.get("containers") or []}
    rows = []
    for c in rec.get("container_list") or []:
        cid = c["Id"]
        if cid not in inspected:
            continue  # removed during collection: recorded in skipped
        ins = inspected[cid]
        rows.append({
            "container_id": cid, "short_id": cid[:12],
            "names": [n.lstrip("/") for n in c.get("Names") or []],
            "image": c.get("Image"), "image_id": c.get("ImageID"), "command": c.get("Command"),
            "state": c.get("State"), "status": c.get("Status"), "created": _ts(c.get("Created")),
            "size_rw": c.get("SizeRw", 0), "size_root_fs": c.get("SizeRootFs"),
            "env": list(((ins.get("Config") or {}).get("Env")) or []),
        })
    return _frame("containers", rows)
