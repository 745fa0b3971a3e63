"""What podman says about disk use, in its own words (podman 4.x behind its Docker-compatible API).

podman's compat ``/system/df`` is not Docker's: LayersSize 0 whatever it stores, one entry per image
name with RepoTags only the tag (``["1"]``), IDs without ``sha256:``, every intermediate image listed,
and per-image SharedSize by podman's own rule, not Docker's. Its own libpod API has the numbers its
CLI prints, so on podman imgviz reads those instead (docs/engines.md has the measurements):

``GET /v{podman}/libpod/system/df``  the rows of ``podman system df -v``: one per image *name*
    (an image with two tags is two rows, an untagged one is ``<none>``), every image including
    buildah's intermediate ones, each with ``Size`` (its layers' uncompressed tar sizes + its config
    and manifest), ``SharedSize`` and ``UniqueSize`` by containers/common's rule: an image that has
    children shares all of it; else it shares its parent image's Size; unique = Size - shared.
    Containers with ``RWSize``; volumes with sizes.
``<graph root>/overlay-layers/layers.json``  containers/storage's record of every layer it holds,
    with its ``diff-size`` (read-only, and only when the service runs on this host and the file is
    readable): the bytes the layer store holds, which no podman API answers.

:func:`engine_df` turns these into the shape :func:`imgviz.rows.normalize_df` gives for Docker,
plus podman's own ``podman system df`` lines (``lines``), so :func:`imgviz.analysis.sizes.disk_usage`
prints what podman's CLI prints, and what podman does not say stays unknown.
"""

from __future__ import annotations

import json
import math
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (typing costs a command's start-up 2 ms)
    from typing import Any

from .. import _records as R

_MAX_LAYERS_JSON = 64 << 20  # a layers.json larger than this is not read

LIBPOD_DF = R.Obj({
    "Images": R.Opt(R.List(R.Obj({"Repository": R.TEXT, "Tag": R.TEXT, "ImageID": R.Str(), "Size": R.Opt(R.ENGINE_SIZE),
                                  "SharedSize": R.Opt(R.ENGINE_SIZE), "UniqueSize": R.Opt(R.Int(-(2**63), R.SIZE_MAX)),
                                  "Containers": R.Opt(R.Int())}, required=("ImageID",)))),
    "Containers": R.Opt(R.List(R.Obj({"ContainerID": R.Str(), "Image": R.TEXT, "Size": R.Opt(R.ENGINE_SIZE),
                                      "RWSize": R.Opt(R.ENGINE_SIZE), "Status": R.TEXT, "Names": R.TEXT},
                                     required=("ContainerID",)))),
    "Volumes": R.Opt(R.List(R.Obj({"VolumeName": R.TEXT, "Links": R.Opt(R.Int()), "Size": R.Opt(R.ENGINE_SIZE),
                                   "ReclaimableSize": R.Opt(R.ENGINE_SIZE)}))),
})

IMAGES_NOTE = ("podman's own Images line (`podman system df`): TOTAL and ACTIVE count its df rows (one per "
               "image name, intermediate images included), SIZE is the sum of those rows' sizes (shared "
               "layers and extra names counted again), RECLAIMABLE the sizes of rows no container uses; "
               "not the bytes its layer store holds")
PHYSICAL_NOTE = ("bytes of the layers podman's layer store holds (containers/storage overlay-layers/"
                 "layers.json diff-size: uncompressed tar sizes); podman's APIs do not say it")
PHYSICAL_UNKNOWN = ("unknown: podman's APIs do not say what its layer store holds (compat LayersSize is 0), "
                    "and its storage records were not readable from here")


def is_podman(version: dict | None) -> bool:
    """True when ``GET /version`` names a Podman component (how the engine model knows podman)."""
    if not isinstance(version, dict):
        return False
    for comp in version.get("Components") or []:
        if isinstance(comp, dict) and "podman" in str(comp.get("Name", "")).lower():
            return True
    return "podman" in str((version.get("Platform") or {}).get("Name", "")).lower()


#: what podman 4.3 answers (500) about an image or layer removed while it counted it: "image not
#: known", "layer not known", and, when the image's record outlived its files for a moment, "Image
#: <id> exists in local storage but may be corrupted (remove the image to resolve the issue):
#: reading image ...: locating image ..." (seen in CI, its own df right after an image removal)
_FORGOT = ("image not known", "layer not known", "exists in local storage but may be corrupted")


def forgot_one(exc: BaseException) -> bool:
    """True for podman's answer about an image or layer removed while it was counting."""
    return any(m in str(exc) for m in _FORGOT)


def own_df(api, call, tries: int = 5):
    """podman's own ``/libpod/system/df`` through ``call`` (the collection's call wrapper).

    podman 4.3 answers it 500 (:data:`_FORGOT`) when an image it is counting is removed meanwhile
    (seen in CI: an image removed right after the list), and in full a moment later: asked again,
    up to ``tries`` times in all, 0.2, 0.4, 0.8 and 1.6 s apart (3 s in all; a real corruption
    stays an error)."""
    import time

    attempt = 1
    while True:
        try:
            return call(api.podman_df, schema=R.Opt(LIBPOD_DF), what="/libpod/system/df")
        except Exception as exc:  # the wrapper's signals; only podman's "not known" is asked again
            if attempt >= tries or not forgot_one(exc):
                raise
            time.sleep(0.2 * 2 ** (attempt - 1))
            attempt += 1


def is_podman_ping(headers: dict | None) -> bool:
    """True when the headers of ``GET /_ping`` (names in lower case) are podman's: its compat API
    sends ``Libpod-Api-Version`` (and ``Server: Libpod/...``), Docker's neither. What a question
    about one image knows of the engine (it asks no /version: podman 4.3 takes 0.6 s on it)."""
    if not isinstance(headers, dict):
        return False
    return "libpod-api-version" in headers or str(headers.get("server", "")).lower().startswith("libpod/")


def podman_version(version: dict) -> str | None:
    """podman's own version (its component's), else ``/version`` Version."""
    for comp in version.get("Components") or []:
        if isinstance(comp, dict) and "podman" in str(comp.get("Name", "")).lower():
            return comp.get("Version")
    return version.get("Version")


def libpod_path(version: dict | str | None, endpoint: str) -> str:
    """The libpod API path of ``endpoint`` for the podman that answered ``version`` (its /version, or
    its own version as its /_ping's Libpod-Api-Version says) (``/v4.3.1/libpod/system/df``): podman
    serves its own API under its own version."""
    ver = version if isinstance(version, str) else podman_version(version or {})
    ver = (ver or "4.0.0").split("-")[0]
    if not all(part.isdigit() for part in ver.split(".")):
        ver = "4.0.0"
    return f"/v{ver}/libpod{endpoint}"


def read_storage(model, address: str) -> dict | None:
    """containers/storage's layer records of the podman behind ``model``, or None when not readable.

    Read-only, on this host only (a unix socket; ``/info`` DockerRootDir is podman's graph root):
    ``overlay-layers/layers.json`` (``id``, ``parent``, ``diff-digest``, ``diff-size``, and
    ``compressed-diff-digest``: the blob a pulled layer came from) and the layer
    IDs of its containers (``overlay-containers/containers.json``), whose writable layers are in the
    same store. The driver's folder name is ``/info`` Driver (``overlay``).
    """
    if not address.startswith("unix://") or not model.root_dir or not model.driver:
        return None
    from pathlib import Path  # here: `imgviz history IMAGE` on podman reads no file

    root = Path(model.root_dir)
    layers_file = root / f"{model.driver}-layers" / "layers.json"
    containers_file = root / f"{model.driver}-containers" / "containers.json"
    try:
        if layers_file.stat().st_size > _MAX_LAYERS_JSON:
            return None
        layers = json.loads(layers_file.read_bytes())
        containers = json.loads(containers_file.read_bytes()) if containers_file.exists() else []
    except (OSError, ValueError):
        return None
    return storage_record(str(root), layers, containers)


def storage_record(root: str, layers, containers) -> dict | None:
    """:func:`read_storage`'s record of the ``layers.json`` and ``containers.json`` read (None when
    malformed)."""
    if not isinstance(layers, list) or not isinstance(containers, list):
        return None
    out = []
    for layer in layers:
        if not isinstance(layer, dict) or not isinstance(layer.get("id"), str):
            return None
        size = layer.get("diff-size")
        packed = layer.get("compressed-diff-digest")
        out.append({"id": layer["id"], "parent": layer.get("parent"), "diff_digest": layer.get("diff-digest"),
                    "diff_size": size if isinstance(size, int) and size >= 0 else None,
                    "compressed_digest": packed if isinstance(packed, str) else None})
    ctr_layers = sorted(c["layer"] for c in containers if isinstance(c, dict) and isinstance(c.get("layer"), str))
    return {"root": root, "layers": out, "container_layers": ctr_layers}


def stored_layers(storage: dict | None) -> list[dict] | None:
    """The image layers of :func:`read_storage`'s record (containers' writable layers left out),
    each with its ``chain_id`` (from the ``diff-digest`` of it and its parents); None when unknown."""
    from ._oci import chain_ids

    if not storage:
        return None
    by_id = {layer["id"]: layer for layer in storage["layers"]}
    skip = set(storage.get("container_layers") or [])
    out = []
    for layer in storage["layers"]:
        if layer["id"] in skip:
            continue
        diffs, cur, seen = [], layer, set()
        while cur is not None and cur["id"] not in seen:
            seen.add(cur["id"])
            diffs.append(cur.get("diff_digest"))
            cur = by_id.get(cur.get("parent")) if cur.get("parent") else None
        if cur is not None or not all(isinstance(d, str) for d in diffs):
            chain = None  # a loop, or a layer without its digest: not nameable
        else:
            chain = chain_ids(list(reversed(diffs)))[-1]
        out.append({**layer, "chain_id": chain})
    return out


def _percent(reclaimable: int, size: int) -> int | None:
    # podman's CLI: int(math.Round(reclaimable / size * 100)), 0 % when the size is 0
    if not size:
        return 0
    return int(math.floor(reclaimable / size * 100 + 0.5))


def summary_lines(df: dict) -> dict[str, dict[str, Any]]:
    """The Images, Containers and Local Volumes lines of ``podman system df``, by its CLI's rule
    (``cmd/podman/system/df.go`` of 4.3): Images counts df rows (one per name), ACTIVE the rows with
    containers, SIZE their sizes summed, RECLAIMABLE the sizes of rows without containers;
    Containers ACTIVE are the running ones, SIZE the writable layers, RECLAIMABLE those not running;
    Local Volumes ACTIVE is the sum of their links."""
    images = df.get("Images") or []
    containers = df.get("Containers") or []
    volumes = df.get("Volumes") or []
    size = sum(int(i.get("Size") or 0) for i in images)
    recl = sum(int(i.get("Size") or 0) for i in images if (i.get("Containers") or 0) < 1)
    c_size = sum(int(c.get("RWSize") or 0) for c in containers)
    c_recl = sum(int(c.get("RWSize") or 0) for c in containers if c.get("Status") != "running")
    v_size = sum(int(v.get("Size") or 0) for v in volumes)
    v_recl = sum(int(v.get("ReclaimableSize") or 0) for v in volumes)
    return {
        "Images": {"total": len(images), "active": sum(1 for i in images if (i.get("Containers") or 0) > 0),
                   "size": size, "reclaimable": recl, "reclaimable_percent": _percent(recl, size),
                   "note": IMAGES_NOTE},
        "Containers": {"total": len(containers),
                       "active": sum(1 for c in containers if c.get("Status") == "running"),
                       "size": c_size, "reclaimable": c_recl, "reclaimable_percent": _percent(c_recl, c_size),
                       "note": "podman's own Containers line: ACTIVE counts running containers only"},
        "Local Volumes": {"total": len(volumes), "active": sum(int(v.get("Links") or 0) for v in volumes),
                          "size": v_size, "reclaimable": v_recl, "reclaimable_percent": _percent(v_recl, v_size),
                          "note": "podman's own Local Volumes line: ACTIVE is the sum of the volumes' links"},
    }


def engine_df(records: dict) -> dict[str, Any] | None:
    """The engine's disk usage in :func:`imgviz.rows.normalize_df`'s shape, from podman's own answers.

    ``images`` by image ID (``Size``, ``SharedSize``, ``UniqueSize``, ``Containers``: podman's, the
    same on every row of one image), ``containers`` by ID (``SizeRw`` = RWSize, ``SizeRootFs``),
    ``volumes`` in Docker's shape, ``build_cache`` None (podman keeps none and says nothing of one),
    ``layers_size`` the layer store's bytes from :func:`read_storage` (None: unknown), ``rows`` the
    df rows as podman answered them (one per name), ``lines`` podman's ``system df`` lines
    (:func:`summary_lines`), ``model`` ``"podman"`` and ``notes`` saying what each number means.
    None when the recording has no libpod df.
    """
    df = records.get("podman_df")
    if not isinstance(df, dict):
        return None
    images: dict[str, dict] = {}
    for row in df.get("Images") or []:
        iid = row["ImageID"] if row["ImageID"].startswith("sha256:") else "sha256:" + row["ImageID"]
        images.setdefault(iid, {"Id": iid, "Size": row.get("Size"), "SharedSize": row.get("SharedSize"),
                                "UniqueSize": row.get("UniqueSize"), "Containers": row.get("Containers"),
                                "Names": []})
        if row.get("Repository") not in (None, "<none>"):
            images[iid]["Names"].append(f"{row['Repository']}:{row.get('Tag')}")
    containers = {c["ContainerID"]: {"Id": c["ContainerID"], "SizeRw": c.get("RWSize"), "SizeRootFs": c.get("Size"),
                                     "Status": c.get("Status")}
                  for c in df.get("Containers") or []}
    volumes = [{"Name": v.get("VolumeName"), "UsageData": {"Size": v.get("Size"), "RefCount": v.get("Links")}}
               for v in df.get("Volumes") or []]
    layers = stored_layers(records.get("podman_storage"))
    sizes = [layer["diff_size"] for layer in layers] if layers is not None else None
    layers_size = sum(sizes) if sizes is not None and all(s is not None for s in sizes) else None
    return {
        "layers_size": layers_size, "images": images, "containers": containers, "volumes": volumes,
        "build_cache": None, "rows": list(df.get("Images") or []), "lines": summary_lines(df), "model": "podman",
        "notes": {"layers_size": PHYSICAL_NOTE if layers_size is not None else PHYSICAL_UNKNOWN,
                  "images": ("podman's df rule (containers/common libimage): an image with children shares "
                             "all its Size; else it shares its parent image's Size (config and manifest "
                             "included); unique = Size - shared"),
                  "Images": IMAGES_NOTE},
        "stored_layers": layers,
    }


COMPAT_NOTE = ("podman's compat /system/df says LayersSize 0 whatever it stores, and its own libpod df was not "
               "recorded: the bytes stored are unknown here (derived from the layers where imgviz can); its "
               "per-image SharedSize is podman's own rule (the parent image's Size), as its libpod df says")


def compat_engine_df(normalized: dict | None) -> dict | None:
    """A podman recording without its libpod df: the compat answer (:func:`imgviz.rows.normalize_df`)
    with what it gets wrong taken out: ``layers_size`` None (unknown; it says 0). Its per-image Size,
    SharedSize and Containers are the libpod df's numbers (measured on 4.3.1: equal image for image)."""
    if not normalized:
        return normalized
    # its image IDs come without sha256: (the image list's have it)
    images = {(i if i.startswith("sha256:") else "sha256:" + i): {**im, "Id": i if i.startswith("sha256:") else
                                                                   "sha256:" + i}
              for i, im in normalized["images"].items()}
    return {**normalized, "layers_size": None, "images": images, "model": "podman-compat",
            "notes": {"layers_size": COMPAT_NOTE, "images": COMPAT_NOTE}}
