"""One image, three sizes: why ``docker image ls``, ``docker image inspect`` and ``docker system df``
give different numbers for the same image, per engine size model.

The rules, measured on each engine (docs/engines.md, "One image, every size"):

- graph driver (overlay2): image ls Size = inspect Size = df Size = sum of the layers' file bytes
  (= the history sizes); df SHARED SIZE is the part of it other images use too.
- containerd image store: image ls Size = df Size = Σ over the image's manifests of Total, where an
  image manifest's Total = Content (manifest + config + compressed layer blobs) + Unpacked (its
  snapshots) and an attestation manifest's Total = its Content; inspect Size = the index blob +
  the platform manifest's Content (compressed, nothing unpacked); the history sizes add up to
  Unpacked (snapshot disk usage), but for an image with a layer the classic builder made by running
  a container: moby (``image_commit.go``) parents that layer's snapshot on the build container's
  init snapshot, and Unpacked walks the snapshotter's parents, so it counts that init snapshot too
  (28,672 bytes per such layer on the test fleet); df SHARED SIZE counts only snapshots of chain
  IDs another image also uses, never content blobs. ``/images/json?manifests=1`` (API 1.47+) is
  the only answer with the split.
- podman (compat API): layer sizes are uncompressed tar sizes; Size = layers + config + manifest;
  its compat df says LayersSize 0, so its own libpod df and layer records are read instead
  (:mod:`imgviz.sources.podman`); its SHARED is the parent image's whole Size.

Pure: frames in (their snapshot's raw records), a frame out.
"""

from __future__ import annotations

import pandas as pd

from ..selection import image_labels
from ..sources.engine_model import manifest_split, model_of_frames
from .what_if import storage_of

COLUMNS = ["image_id", "label", "storage", "image_ls_size", "inspect_size", "df_size", "df_shared_size",
           "history_size", "content_size", "unpacked_size", "attestation_size", "index_size", "rule_holds",
           "explanation"]


def _split(entry: dict | None):
    """(content, unpacked, attestation content, index size) of one ``?manifests=1`` image entry."""
    parts = manifest_split(entry)
    if parts is None:
        return (None,) * 4
    return parts["content"], parts["unpacked"], parts["attestation"], parts["index"]


def _mb(n) -> str:
    from ..units import human_size

    return human_size(n)


def size_views(frames) -> pd.DataFrame:
    """Per image: the sizes each command shows, the split behind them, and why they differ.

    Returns
    -------
    DataFrame
        ``image_id``, ``label``, ``storage`` (the size model), ``image_ls_size`` (``/images/json``
        Size), ``inspect_size``, ``df_size`` / ``df_shared_size`` (``/system/df``),
        ``history_size`` (sum of history sizes), and on the containerd store ``content_size``,
        ``unpacked_size``, ``attestation_size``, ``index_size`` (``?manifests=1``; NA elsewhere);
        ``rule_holds`` (the engine's numbers follow its model's rule: True/False, NA when a number
        is missing) and ``explanation`` (one sentence per image).
    """
    snap = frames.snapshot
    model = model_of_frames(frames)
    storage = storage_of(model)
    rec = snap.records if snap is not None else {}
    listed = {im.get("Id"): im for im in rec.get("image_list") or []}
    inspected = {r.get("id"): r.get("inspect") or {} for r in rec.get("images") or []}
    df = {im.get("Id"): im for im in ((rec.get("df") or {}).get("Images") or [])}
    manifests = {im.get("Id"): im for im in rec.get("image_manifests") or []}
    hist = {r.get("id"): sum(int(h.get("Size") or 0) for h in (r.get("history") or []))
            for r in rec.get("images") or [] if r.get("history") is not None}
    labels = dict(zip(frames.images["image_id"], image_labels(frames.images)))
    hidden_only = _shared_by_hidden_images(frames) if storage == "graphdriver" else {}
    rows = []
    for image_id in frames.images["image_id"]:
        ls = (listed.get(image_id) or {}).get("Size")
        ins = inspected.get(image_id, {}).get("Size")
        d = df.get(image_id) or {}
        dsize, dshared = d.get("Size"), d.get("SharedSize")
        h = hist.get(image_id)
        content, unpacked, attest, index = _split(manifests.get(image_id)) if storage == "containerd" else (None,) * 4
        holds, why = _explain(storage, ls, ins, dsize, dshared, h, content, unpacked, attest, index,
                              hidden_only.get(image_id, 0))
        rows.append((image_id, labels.get(image_id, image_id[:19]), storage, ls, ins, dsize, dshared, h, content,
                     unpacked, attest, index, holds, why))
    out = pd.DataFrame(rows, columns=COLUMNS)
    for col in COLUMNS[3:12]:
        out[col] = pd.Series([pd.NA if v is None else v for v in out[col]], dtype="object").astype("Int64")
    out["rule_holds"] = pd.Series([pd.NA if v is None else v for v in out["rule_holds"]],
                                  dtype="object").astype("boolean")
    return out


def _shared_by_hidden_images(frames) -> dict:
    """Per image, the bytes df SHARED counts only because an intermediate image also holds them."""
    from .sizes import hidden_layer_holders, per_image_sizes

    hidden = hidden_layer_holders(frames)
    if hidden.empty:
        return {}
    alone = per_image_sizes(frames.layers).set_index("image_id")["shared_size"]
    counted = per_image_sizes(frames.layers, hidden).set_index("image_id")["shared_size"]
    more = (counted - alone).dropna()
    return {i: int(v) for i, v in more.items() if v > 0}


def _explain(storage, ls, ins, dsize, dshared, h, content, unpacked, attest, index, hidden_only=0):
    if storage == "containerd":
        if content is None:
            return None, ("containerd image store: image ls and df count content blobs + unpacked snapshots, "
                          "inspect only the content; the engine's per-platform split (/images/json?manifests=1, "
                          "API 1.47+) was not recorded")
        holds = None if None in (ls, ins) else (ls == content + unpacked + attest and ins == index + content)
        att = f" + {_mb(attest)} attestation" if attest else ""
        shared = f"; df SHARED {_mb(dshared)} counts only snapshots other images use, never blobs" \
            if dshared is not None and dshared >= 0 else ""
        hidden = ""
        if h is not None and unpacked > h:
            hidden = (f"; the unpacked snapshots are {_mb(unpacked - h)} more than the history's layers: a layer "
                      f"the classic builder made with a container (RUN) sits on that container's init snapshot, "
                      f"which the engine counts and no history row names")
        return holds, (f"image ls / df {_mb(ls)} = {_mb(content)} content (compressed layers, manifest, config) + "
                       f"{_mb(unpacked)} unpacked snapshots{att}; inspect {_mb(ins)} = the index + the content "
                       f"only, nothing unpacked{shared}{hidden}")
    if storage == "podman":
        tars = f" ({_mb(h)})" if h is not None else ""
        return None, (f"podman: {_mb(ls)} = uncompressed layer tars{tars} + config + manifest (not the files' "
                      f"bytes); `podman system df` SHARED is its parent image's whole size (all of it when another "
                      f"image is built on it), not a sum of shared layers; its compat df's LayersSize 0 is "
                      f"not used")
    if storage in ("graphdriver", "unknown"):
        holds = None if None in (ls, ins, h) else (ls == ins == h and (dsize is None or dsize == ls))
        shared = f"; df SHARED {_mb(dshared)} is the part other images use too" \
            if dshared is not None and dshared >= 0 else ""
        if shared and hidden_only:
            shared += (f" ({_mb(hidden_only)} of it held besides only by intermediate images, which "
                       f"`docker image ls -a` shows: this engine counts them)")
        return holds, (f"image ls, inspect and df all say {_mb(ls)}: the bytes of the image's layers "
                       f"(files, each layer once){shared}")
    return None, ("no engine sizes: derived from the layers' file bytes, as Docker's graph driver (overlay2) "
                  "counts them; the containerd image store would count its snapshots' disk usage and content "
                  "blobs, podman its layer tars' length with the config and manifest")
