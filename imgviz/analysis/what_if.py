"""What removing images frees, by the size model of the engine the snapshot came from.

:func:`imgviz.analysis.sizes.what_if` decides which layers (chain IDs) a removal frees; this
module turns that into bytes the way each engine counts them (:mod:`imgviz.sources.engine_model`):

- graph driver (overlay2, Docker 20.10 and 28.5): the freed layers' bytes. ``docker system df``
  LayersSize drops by them plus the layers only a container of a removed image still sits on.
- containerd image store: the freed snapshots (the layers frame's sizes are snapshot usage) plus
  every content blob of the removed images that no remaining image references: index, platform
  manifests, configs, compressed layers, attestation manifests and their blobs. A tag whose layers
  a child image keeps still frees its own index, manifest and config. The blobs come from the
  content store's graph recorded with the snapshot; without it the answer is unknown, with the
  snapshot part as a lower bound.
- podman (compat API): its ``/system/df`` says LayersSize 0 whatever is stored. When the snapshot
  holds podman's own layer-store record (``overlay-layers/layers.json``, read on the engine's host),
  freed = the freed layers' bytes as that store counts them (uncompressed tar sizes): the store's
  total drops by exactly that (tests/analysis/test_whatif_live.py). Without that record, or when a
  container of a removed image stays (its own layer is in the same store, unsized by the API),
  ``freed_bytes`` is unknown (None); the layers are still listed.

Pure: frames in, a :class:`Removal` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import pandas as pd

from ..selection import image_labels, resolve_images
from ..sources.engine_model import EngineModel, model_of_frames
from . import sizes

PODMAN_UNKNOWN = ("podman's Docker-compatible /system/df answers LayersSize 0 whatever it stores, and its layer "
                  "store's record (overlay-layers/layers.json) was not readable from here (a remote engine): "
                  "the bytes a removal frees cannot be read: unknown")
PODMAN_CONTAINERS = ("podman: a container of a removed image has its own layer in the layer store, which no API "
                     "answer sizes: unknown; the images' layers alone free {known}")
PODMAN_RULE = "layers (podman's layer store: uncompressed tar sizes; its compat df shows no drop)"
NO_CONTENT = ("containerd image store: a removal also frees the images' content blobs (compressed layers, "
              "manifests, configs, index, attestations), and the snapshot has no record of the content store "
              "(a remote engine, or not readable from here): unknown; the snapshots alone free {snap}")
CONTAINER_SNAPSHOTS = ("containerd image store: a removed container's own snapshots (its init and writable layers, "
                       "in 4 KiB blocks) count in LayersSize too, and the API does not give their disk usage "
                       "(measured: 24,576 bytes more than the image's part for a created container): unknown; the "
                       "images alone free {known}")
CONTAINER_BLOBS = ("containerd image store: a container of a removed image keeps the image's content "
                   "referenced (on 28.5 a forced removal of such an image left LayersSize unchanged, seen once); "
                   "not proven: unknown")


@dataclass
class Removal:
    """The answer of :func:`removal`.

    Attributes
    ----------
    freed_bytes : int or None
        Bytes the removal deletes, by the engine's model; None when they cannot be known (podman;
        the containerd store without its content record). What ``docker system df`` LayersSize
        drops by is ``df_drop``.
    df_drop : int or None
        The drop of ``/system/df`` LayersSize: ``freed_bytes`` plus layers a container of a removed
        image keeps on disk (df stops counting them).
    layers : DataFrame
        :func:`imgviz.analysis.sizes.what_if`'s rows (snapshots on the containerd store).
    blobs : DataFrame
        Containerd store only: the removed images' content blobs, ``freed`` and ``kept_by``.
    """

    images: list[str]
    model: EngineModel | None
    rule: str
    freed_bytes: int | None
    df_drop: int | None
    layers_freed_bytes: int | None
    blobs_freed_bytes: int | None
    held_by_containers: int | None
    writable_bytes: int
    reason: str | None
    layers: pd.DataFrame
    blobs: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["digest", "role", "media_type", "size", "removed_by", "freed", "kept_by"]))

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``freed_bytes`` null when unknown)."""
        def num(v):
            return None if v is None or v is pd.NA else int(v)

        return {
            "freed_bytes": num(self.freed_bytes),
            "df_layers_size_drop": num(self.df_drop),
            "known": self.freed_bytes is not None,
            "reason": self.reason,
            "rule": self.rule,
            "engine": self.model.as_dict() if self.model else None,
            "images": list(self.images),
            "layers_freed_bytes": num(self.layers_freed_bytes),
            "blobs_freed_bytes": num(self.blobs_freed_bytes),
            "held_by_containers": num(self.held_by_containers),
            "writable_bytes": int(self.writable_bytes),
            "layers": [{"chain_id": r.chain_id, "diff_id": r.diff_id, "size": num(r.size),
                        "created_by": r.created_by, "removed_by": list(r.removed_by), "freed": bool(r.freed),
                        "kept_by": None if pd.isna(r.kept_by) else r.kept_by}
                       for r in self.layers.itertuples(index=False)],
            "blobs": [{"digest": r.digest, "role": r.role, "media_type": r.media_type, "size": num(r.size),
                       "removed_by": list(r.removed_by), "freed": bool(r.freed),
                       "kept_by": None if r.kept_by is None or r.kept_by != r.kept_by else r.kept_by}
                      for r in self.blobs.itertuples(index=False)],
        }


def storage_of(model: EngineModel | None) -> str:
    """The size model a what-if follows: ``graphdriver``, ``containerd``, ``podman`` or ``derived``.

    A recording without ``/info`` from an engine of API 1.41 or older is a graph driver (the
    containerd store needs API 1.42+); newer ones without ``/info`` stay ``unknown``.
    """
    if model is None:
        return "derived"
    if model.storage == "unknown":
        return "graphdriver" if (model.api or (9, 99)) <= (1, 41) else "unknown"
    return model.storage


def _blob_rows(content: dict, ids: list[str], labels: dict[str, str]) -> pd.DataFrame:
    per_image = content.get("images") or {}
    removed = set(ids)
    keeper: dict[str, str] = {}
    for image_id, blobs in per_image.items():
        if image_id in removed:
            continue
        for b in blobs:
            keeper.setdefault(b["digest"], labels.get(image_id, image_id[:19]))
    rows: dict[str, dict] = {}
    for image_id in ids:
        for b in per_image.get(image_id) or []:
            if not b.get("present"):
                continue
            row = rows.get(b["digest"])
            if row is None:
                row = rows[b["digest"]] = {"digest": b["digest"], "role": b.get("role"),
                                           "media_type": b.get("mediaType"), "size": int(b["size"]),
                                           "removed_by": [], "kept_by": keeper.get(b["digest"])}
            row["removed_by"].append(labels.get(image_id, image_id[:19]))
    out = pd.DataFrame(list(rows.values()),
                       columns=["digest", "role", "media_type", "size", "removed_by", "kept_by"])
    out["size"] = out["size"].astype("Int64")
    out["freed"] = out["kept_by"].isna()
    return out[["digest", "role", "media_type", "size", "removed_by", "freed", "kept_by"]]


def removal(frames, remove: Iterable[str] | str, *, remove_containers: bool = False) -> Removal:
    """The bytes removing some images (every tag of them) frees, by the engine's size model.

    Rules (one per model; see the module docstring and docs/engines.md):

    - graph driver: freed = bytes of the layers no remaining image or container uses;
      df drop = freed + layers only containers of removed images keep.
    - containerd store: freed = those snapshots + the removed images' content blobs (by digest)
      that no remaining image references; unknown without the content record, or when a container
      of a removed image stays.
    - podman: the freed layers' bytes in podman's layer store (its compat df cannot show them);
      unknown without the store's record, or when a container of a removed image stays.
    - a snapshot from a registry or an archive: the layer rule on its (derived) layer sizes.

    Parameters
    ----------
    frames : Frames
    remove : str or list of str
        Tags, full IDs or short IDs.
    remove_containers : bool
        Remove the containers of those images first (``docker rm`` then ``docker image rm``);
        their writable layers are counted in ``writable_bytes``.

    Returns
    -------
    Removal
    """
    ids = resolve_images(frames.images, remove)
    model = model_of_frames(frames)
    storage = storage_of(model)
    layers = sizes.what_if(frames, ids, remove_containers=remove_containers)
    totals = sizes.what_if_totals(frames, ids, remove_containers=remove_containers)
    freed_layers = None if totals["freed_layers"] is pd.NA else int(totals["freed_layers"])
    held = None if totals["held_by_containers"] is pd.NA else int(totals["held_by_containers"])
    writable = int(totals["freed_writable"])
    labels = dict(zip(frames.images["image_id"], image_labels(frames.images)))

    def result(rule, freed, drop, blobs_freed=None, reason=None, blobs=None):
        r = Removal(ids, model, rule, freed, drop, freed_layers, blobs_freed, held, writable, reason, layers)
        if blobs is not None:
            r.blobs = blobs
        return r

    if storage == "podman":
        snap = frames.snapshot
        if snap is None or not snap.records.get("podman_storage") or freed_layers is None:
            return result("podman", None, None, reason=PODMAN_UNKNOWN)
        holders = frames.containers[frames.containers["image_id"].isin(ids)] if len(frames.containers) else []
        if len(holders):
            from ..units import human_size

            return result(PODMAN_RULE, None, None, reason=PODMAN_CONTAINERS.format(known=human_size(freed_layers)))
        return result(PODMAN_RULE, freed_layers, None)
    if storage in ("graphdriver", "derived", "unknown"):
        rule = {"graphdriver": "layers", "derived": "layers (derived sizes)",
                "unknown": "layers (storage not recorded)"}[storage]
        drop = None if freed_layers is None or held is None else freed_layers + held
        reason = None if storage != "unknown" else (
            "the snapshot does not say whether the engine uses a graph driver or the containerd store "
            "(recorded before imgviz read /info): the layer rule is a lower bound there")
        freed = freed_layers if storage != "unknown" else None
        return result(rule, freed, drop if storage != "unknown" else None, reason=reason)
    # the containerd image store
    snap = frames.snapshot
    content = snap.records.get("content") if snap is not None else None
    from ..units import human_size

    if not content:
        return result("snapshots + content blobs", None, None,
                      reason=NO_CONTENT.format(snap=human_size(freed_layers)))
    blobs = _blob_rows(content, ids, labels)
    blobs_freed = int(blobs.loc[blobs["freed"], "size"].sum())
    holders = frames.containers[frames.containers["image_id"].isin(ids)] if len(frames.containers) else []
    if len(holders) and not remove_containers:
        return result("snapshots + content blobs", None, None, blobs_freed, CONTAINER_BLOBS, blobs)
    if len(holders):
        return result("snapshots + content blobs", None, None, blobs_freed,
                      CONTAINER_SNAPSHOTS.format(known=human_size(freed_layers + blobs_freed)), blobs)
    if freed_layers is None:
        return result("snapshots + content blobs", None, None, blobs_freed,
                      "a removed image has a layer of unknown size", blobs)
    freed = freed_layers + blobs_freed
    return result("snapshots + content blobs", freed, freed + (held or 0), blobs_freed, None, blobs)


def headline(frames, remove: Iterable[str] | str, *, remove_containers: bool = False) -> dict[str, Any]:
    """The few numbers a figure title or a dashboard line says about a removal, by the engine's model.

    One place for the rule the what-if figure and the sharing dashboard both print: ``freed`` is
    :func:`removal`'s ``freed_bytes`` plus the removed containers' writable layers, and ``before`` /
    ``after`` are ``docker system df`` Images SIZE before and after (``after`` = before minus the
    LayersSize drop). Where the engine's model cannot know the bytes (podman without its layer store's
    record, the containerd store without its content record or with containers), ``unknown`` is True
    and ``freed`` and ``after`` are None: never the layer rule's number in their place.

    Returns
    -------
    dict
        ``freed``, ``before``, ``after`` (int or None), ``unknown`` (bool), ``reason`` (str or None),
        ``removal`` (:class:`Removal`), ``totals`` (:func:`imgviz.analysis.sizes.what_if_totals`).
    """
    tot = sizes.what_if_totals(frames, remove, remove_containers=remove_containers)
    r = removal(frames, remove, remove_containers=remove_containers)

    def num(v):
        return None if v is None or v is pd.NA else int(v)

    writable = num(tot["freed_writable"]) or 0
    freed, before, after = num(tot["freed"]), num(tot["physical_before"]), num(tot["physical_after"])
    unknown = bool(r.images) and r.freed_bytes is None and r.rule in ("podman", PODMAN_RULE,
                                                                      "snapshots + content blobs")
    if unknown:
        freed = after = None
    elif r.freed_bytes is not None and r.blobs_freed_bytes is not None:
        freed = r.freed_bytes + writable
        after = before - r.df_drop if before is not None and r.df_drop is not None else None
    return {"freed": freed, "before": before, "after": after, "unknown": unknown,
            "reason": r.reason if unknown else None, "removal": r, "totals": tot}
