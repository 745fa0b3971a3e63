"""The invariants every source's snapshot satisfies (ggcr's ``validate.Image`` idea), checked once.

tests/sources/test_conformance.py runs :func:`check_source` on the snapshot of every source (live
and recorded) before looking at its frames, so a new source is held to the same rules on day one.
"""

from __future__ import annotations

from typing import Any

from ..errors import SourceError
from ..snapshot import Snapshot
from ._oci import MANIFESTS, is_digest

_KINDS = ("engine", "registry", "archive")


def check_source(snapshot: Snapshot) -> None:
    """Raise :class:`~imgviz.errors.SourceError` unless ``snapshot`` keeps the rules every source keeps.

    The rules, per image record: its ``id`` is a digest and unique; the layers it names are
    digests; an engine record's ``inspect`` has that ``Id``, and its history has at least one
    entry per layer and no more entries with bytes than layers; a config (registries, archives)
    lists ``rootfs.diff_ids`` of type ``layers`` and, when it has history, one entry without
    ``empty_layer`` per layer; a manifest names the config by the record's ``id`` and one
    descriptor (digest, size, media type) per diff ID; ``layer_sizes``, when present, is one byte
    count per layer; tags and repo digests are strings. Per snapshot: a known ``kind``, a
    ``collected_at`` time, ``complete`` a bool, every skipped object said with its kind and id.

    Examples
    --------
    >>> from imgviz.sources import demo_snapshot
    >>> check_source(demo_snapshot())
    """
    problems = _problems(snapshot)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise SourceError(f"{snapshot.kind} snapshot of {snapshot.source.get('host')}: "
                          f"{'; '.join(problems[:3])}{more}")


def _problems(snap: Snapshot) -> list[str]:
    out: list[str] = []
    if snap.kind not in _KINDS:
        out.append(f"unknown kind {snap.kind!r}")
    if not snap.source.get("collected_at"):
        out.append("no collected_at")
    if not isinstance(snap.records.get("complete", True), bool):
        out.append("'complete' is not a bool")
    for s in snap.skipped:
        if not isinstance(s, dict) or not s.get("kind") or not s.get("id"):
            out.append(f"a skipped entry without kind and id: {s!r:.80}")
    seen: set[str] = set()
    for i, rec in enumerate(snap.images):
        image_id = rec.get("id") if isinstance(rec, dict) else None
        if not is_digest(image_id):
            out.append(f"image {i} has no digest id ({image_id!r:.80})")
            continue
        if image_id in seen:
            out.append(f"image {image_id} is recorded twice")
        seen.add(image_id)
        out.extend(f"image {image_id[:19]}: {p}" for p in _image_problems(rec, snap.kind))
    if snap.kind == "engine" and snap.records.get("image_list") is not None:
        listed = {im.get("Id") for im in snap.records["image_list"]}
        out.extend(f"image {i[:19]} is not in the image list" for i in seen - listed)
    return out


def _image_problems(rec: dict[str, Any], kind: str) -> list[str]:
    out: list[str] = []
    inspect, config, manifest = rec.get("inspect"), rec.get("config"), rec.get("manifest")
    if kind == "engine":
        if not isinstance(inspect, dict) or inspect.get("Id") != rec["id"]:
            return ["the engine's inspect does not name this image"]
        diff_ids = (inspect.get("RootFS") or {}).get("Layers") or []
        history = rec.get("history")
        if not isinstance(history, list) or len(history) < len(diff_ids):
            out.append(f"{len(history or [])} history entries for {len(diff_ids)} layers")
        elif sum(1 for h in history if (h.get("Size") or 0) > 0) > len(diff_ids):
            out.append("more history entries with bytes than layers")
    else:
        if not isinstance(config, dict) or not isinstance(config.get("rootfs"), dict):
            return ["no config with a rootfs"]
        rootfs = config["rootfs"]
        diff_ids = rootfs.get("diff_ids") or []
        if rootfs.get("type") != "layers":
            out.append(f"rootfs type {rootfs.get('type')!r}, not 'layers'")
        history = config.get("history") or []
        made = sum(1 for h in history if not h.get("empty_layer"))
        if history and made != len(diff_ids):
            out.append(f"{made} history entries made layers, the config lists {len(diff_ids)}")
        if manifest is not None:
            out.extend(_manifest_problems(manifest, rec, diff_ids))
    if not all(is_digest(d) for d in diff_ids):
        out.append("a layer diff ID is not a digest")
    sizes = rec.get("layer_sizes")
    if sizes is not None and (len(sizes) != len(diff_ids) or
                              not all(isinstance(n, int) and n >= 0 for n in sizes)):
        out.append("layer_sizes is not one byte count per layer")
    for key in ("tags", "digests"):
        if not all(isinstance(t, str) for t in rec.get(key) or []):
            out.append(f"{key} are not all strings")
    return out


def _manifest_problems(manifest: Any, rec: dict, diff_ids: list) -> list[str]:
    if not isinstance(manifest, dict):
        return ["the manifest is not an object"]
    out = []
    if (manifest.get("config") or {}).get("digest") != rec["id"]:
        out.append("the manifest names another config")
    layers = manifest.get("layers") or []
    if len(layers) != len(diff_ids):
        out.append(f"the manifest lists {len(layers)} layers, the config {len(diff_ids)}")
    for d in layers:
        if not is_digest(d.get("digest")) or not isinstance(d.get("size"), int) or d["size"] < 0 \
                or not isinstance(d.get("mediaType"), str):
            out.append("a layer descriptor without digest, size and media type")
            break
    media = rec.get("media_type")
    if media is not None and media not in MANIFESTS:
        out.append(f"media type {media!r} is not an image manifest")
    return out
