"""Pull planning and compressed-vs-uncompressed sizes: pure functions over frames.

The pull rule is the Docker engine's own (moby ``distribution/xfer/download.go``,
``LayerDownloadManager.Download``, with the descriptors of ``distribution/pull_v2.go``), restated
in :func:`pull_plan`'s docstring and checked against real ``docker pull`` output in
``tests/analysis/test_pull_live.py``.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

PLAN_COLUMNS = ["position", "digest", "diff_id", "chain_id", "media_type", "size_compressed", "action",
                "reason", "download_bytes"]

REASON_IMAGE = "the image is already in the engine"
REASON_EXISTS = "layer with this chain ID exists and the engine knows the blob"
REASON_NO_CHAIN = "no local layer with this chain ID"
REASON_UNKNOWN_BLOB = "the engine has never pulled or pushed this blob, so it cannot match it to a local layer"
REASON_BELOW = "a layer below is downloaded, so this one is too"
REASON_SAME_BLOB = "same blob as a layer below: downloaded once"


def pull_plan(remote_layers: pd.DataFrame, local_layers: pd.DataFrame, *,
              known_digests: Mapping[str, str] | None = None,
              local_image_ids: Iterable[str] = ()) -> pd.DataFrame:
    """Which layers ``docker pull`` will download for one remote image, and how many bytes.

    The rule (moby's layer download manager, as Docker Engine 20.10 runs it on Linux):

    1. If the image ID (the config digest) is already in the engine, nothing is downloaded.
    2. Layers are checked bottom-up. Layer *k* counts as existing only when every layer below it
       existed, the engine can name the diff ID of its blob *digest* (``known_digests``: the
       engine records digest -> diff ID when it pulls or pushes a blob; on Linux 20.10 does not
       take diff IDs from the image config before downloading), and a local layer has the chain
       ID of diff IDs 0..k.
    3. From the first layer that does not exist, every layer above is downloaded, even when a
       local layer happens to have its chain ID (the engine stops looking).
    4. A blob listed twice in one image downloads once.

    Parameters
    ----------
    remote_layers : DataFrame
        Rows of a ``layers`` frame for ONE image (registry source: ``digest``,
        ``size_compressed`` known).
    local_layers : DataFrame
        The engine's ``layers`` frame (its ``chain_id`` values are the layers it has).
    known_digests : mapping digest -> diff_id, optional
        The blobs the engine can match. None means it can match every blob (engines that read the
        diff IDs from the config before downloading).
    local_image_ids : iterable of str
        Image IDs present in the engine.

    Returns
    -------
    DataFrame
        One row per remote layer, bottom first: ``position``, ``digest``, ``diff_id``,
        ``chain_id``, ``media_type``, ``size_compressed``, ``action`` (``'exists'`` or
        ``'download'``), ``reason`` and ``download_bytes`` (compressed bytes this layer adds to the
        download; 0 when it exists or repeats a blob). ``download_bytes.sum()`` is the total.
    """
    layers = remote_layers.sort_values("position")
    if layers["image_id"].nunique() > 1:
        raise ValueError("pull_plan takes the layers of one image; filter remote_layers by image_id first")
    have_chains = set(local_layers["chain_id"].dropna())
    image_there = bool(len(layers)) and layers["image_id"].iloc[0] in set(local_image_ids)
    rows = []
    missing = False
    seen_blobs: set[str] = set()
    for r in layers.itertuples(index=False):
        size = None if pd.isna(r.size_compressed) else int(r.size_compressed)
        if image_there:
            action, reason = "exists", REASON_IMAGE
        elif not missing:
            knows = known_digests is None or (known_digests.get(r.digest) == r.diff_id)
            if not knows:
                action, reason = "download", REASON_UNKNOWN_BLOB
            elif r.chain_id in have_chains:
                action, reason = "exists", REASON_EXISTS
            else:
                action, reason = "download", REASON_NO_CHAIN
            missing = action == "download"
        else:
            action, reason = "download", REASON_BELOW
        nbytes = 0
        if action == "download":
            if r.digest in seen_blobs:
                reason = REASON_SAME_BLOB
            else:
                nbytes = size
        seen_blobs.add(r.digest)
        rows.append({"position": r.position, "digest": r.digest, "diff_id": r.diff_id, "chain_id": r.chain_id,
                     "media_type": r.media_type, "size_compressed": size, "action": action, "reason": reason,
                     "download_bytes": nbytes})
    out = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    for col in ("position", "size_compressed", "download_bytes"):
        out[col] = out[col].astype("Int64")
    for col in ("digest", "diff_id", "chain_id", "media_type", "action", "reason"):
        out[col] = out[col].astype("string")
    return out


def compressed_sizes(layers: pd.DataFrame, *, uncompressed_from: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compressed (blob) and uncompressed bytes per layer, side by side.

    Rule: ``size_compressed`` is the blob's size in the registry or OCI layout; ``size`` is the
    uncompressed size *as the engine reports it*. A registry never says the latter, so it comes
    from ``uncompressed_from`` (an engine's ``layers`` frame), matched by ``diff_id`` (the same
    diff ID is the same uncompressed content); NA when no engine holds the layer. ``ratio`` is
    ``size_compressed / size``.

    Parameters
    ----------
    layers : DataFrame
        A ``layers`` frame (registry or archive source).
    uncompressed_from : DataFrame, optional
        An engine's ``layers`` frame.

    Returns
    -------
    DataFrame
        ``image_id``, ``position``, ``diff_id``, ``digest``, ``media_type``, ``created_by``,
        ``size_compressed``, ``size``, ``ratio``.
    """
    cols = ["image_id", "position", "diff_id", "digest", "media_type", "created_by", "size_compressed", "size"]
    out = layers[cols].copy()
    if uncompressed_from is not None and len(uncompressed_from):
        known = uncompressed_from.dropna(subset=["size"]).drop_duplicates("diff_id").set_index("diff_id")["size"]
        out["size"] = out["size"].fillna(out["diff_id"].map(known).astype("Int64"))
    out["size"] = out["size"].astype("Int64")
    out["size_compressed"] = out["size_compressed"].astype("Int64")
    ratio = out["size_compressed"].astype("Float64") / out["size"].astype("Float64").where(out["size"] > 0)
    out["ratio"] = ratio
    return out.reset_index(drop=True)


def compressed_totals(sizes: pd.DataFrame) -> pd.DataFrame:
    """Per image: the sums of :func:`compressed_sizes` (NA when any layer's value is unknown).

    ``size_compressed`` is what a full pull downloads; ``size`` what the layers take unpacked.
    """
    def total(s: pd.Series):
        return pd.NA if s.isna().any() else int(s.sum())

    g = sizes.groupby("image_id", sort=False)
    out = pd.DataFrame({"size_compressed": g["size_compressed"].agg(total), "size": g["size"].agg(total),
                        "n_layers": g.size()}).reset_index()
    out["size_compressed"] = out["size_compressed"].astype("Int64")
    out["size"] = out["size"].astype("Int64")
    return out


# ------------------------------------------------------------------------------ per engine model

REASON_UNCERTAIN_BLOB = ("a local layer has this chain ID, but whether the engine can match this blob to it is not "
                         "known (its distribution records could not be read)")
REASON_UNCERTAIN_HIDDEN = ("no listed image has this layer, but the engine may still hold it (build cache or "
                           "records that could not be read)")
REASON_UNCERTAIN_BELOW = "a layer below is uncertain, so this one is too"
REASON_C8D_CONTENT = "the blob is in the engine's content store (containerd image store): not fetched"
REASON_C8D_SNAPSHOT = ("a listed image has this layer (the same chain ID): its snapshot exists, so containerd "
                       "does not fetch the blob")
REASON_C8D_MISSING = "the blob is not in the engine's content store and nothing else can hold it: fetched"
REASON_C8D_MAYBE = ("the blob is not in any listed image's content, but the content store may hold it (build cache, "
                    "or a content store that could not be read)")
REASON_PODMAN_BLOB = ("podman's layer store holds a layer unpacked from this blob (its compressed-diff-digest): "
                      "the pull reuses it, not fetched")
REASON_PODMAN = ("podman keeps this layer, but whether its compat pull reuses the blob is not known (it reused an "
                 "imported layer it pushed, and fetched layers it built)")


def engine_pull_plan(remote_layers: pd.DataFrame, local, *, known_digests: Mapping[str, str] | None = None,
                     remote_image_ids: Iterable[str] = ()) -> pd.DataFrame:
    """:func:`pull_plan` by the local engine's model: ``exists``, ``download`` or ``uncertain``.

    Rules (:mod:`imgviz.sources.engine_model`; measured in docs/engines.md):

    - graph driver with its distribution records read (``records["distribution"]``): moby's rule,
      with every blob the engine has recorded and every layer its layer store holds: exact.
    - graph driver (or a recording without ``/info``) without them: moby's rule on what the
      snapshot shows; where the engine's own records could change the answer (a local layer whose
      blob is not matched by a repo digest; a layer no listed image has while the build cache holds
      records) the layer is ``uncertain``, and so is every layer above it that is not a download.
    - containerd image store: each layer on its own: its blob in a listed image's content, or its
      chain ID in a listed image (the snapshot exists; containerd does not fetch the blob) ->
      ``exists``; else ``download`` when the content store was read and no build-cache record could
      hold it, else ``uncertain``.
    - podman: an image it has (same image ID) ``exists``; a blob its layer store unpacked before
      (``compressed-diff-digest`` in ``layers.json``, read on this host) ``exists``; another layer it
      keeps (same diff ID) is ``uncertain`` (whether it reuses that depends on its blob-info cache);
      others ``download``.

    ``remote_image_ids`` are the digests the remote image may be named by (the images frame's
    ``image_ids``: config, manifest, index): the containerd store names an image by its index or
    manifest digest, so "the image is already in the engine" is judged by those there.

    Never a wrong certainty: where the engine's knowledge cannot be read the answer says so.
    ``download_bytes`` counts certain downloads only; ``uncertain_bytes`` the rest that may be.

    Returns
    -------
    DataFrame
        :data:`PLAN_COLUMNS` plus ``uncertain_bytes``.
    """
    from ..sources.engine_model import model_of_frames

    model = model_of_frames(local)
    rec = local.snapshot.records if getattr(local, "snapshot", None) is not None else {}
    storage = model.storage if model is not None else "unknown"
    if storage == "unknown" and model is not None and (model.api or (9, 99)) <= (1, 41):
        storage = "graphdriver-unread"  # no containerd store before API 1.42, records not read
    local_ids = set(local.images["image_id"])
    # build-cache records (or no word on them) may hold layers and blobs no listed image names
    cache_unknown = (local.engine_df or {}).get("build_cache") is None
    cache_records = cache_unknown or len(local.build_cache) > 0
    if storage == "graphdriver" and rec.get("distribution"):
        dist = rec["distribution"]
        known = dict(known_digests or {})
        known.update(dist.get("diffid_by_digest") or {})
        held = pd.DataFrame({"chain_id": list(dist.get("layer_chains") or [])})
        chains = pd.concat([local.layers[["chain_id"]], held], ignore_index=True)
        return _with_uncertain(pull_plan(remote_layers, chains, known_digests=known, local_image_ids=local_ids))
    if storage == "containerd":
        return _containerd_plan(remote_layers, local, rec.get("content"), cache_records, local_ids,
                                set(remote_image_ids or ()))
    if storage == "podman":
        # podman's image ID is the config digest too: an image it has is not pulled again
        plan = _with_uncertain(pull_plan(remote_layers, local.layers.iloc[0:0], known_digests={},
                                         local_image_ids=local_ids))
        have = set(local.layers["diff_id"].dropna())
        for k in plan.index[plan["diff_id"].isin(have) & (plan["reason"] != REASON_IMAGE)]:
            _set_uncertain(plan, k, REASON_PODMAN)
        # a blob the store already unpacked (read from layers.json on this host) is reused, whatever
        # the layers below: containers/image looks each blob up by its compressed digest
        stored = (rec.get("podman_storage") or {}).get("layers") or []
        blobs = {layer.get("compressed_digest") for layer in stored} - {None}
        for k in plan.index[plan["digest"].isin(blobs) & (plan["reason"] != REASON_IMAGE)]:
            plan.at[k, "action"], plan.at[k, "reason"], plan.at[k, "download_bytes"] = "exists", REASON_PODMAN_BLOB, 0
            plan.at[k, "uncertain_bytes"] = 0
        return plan
    # a graph driver whose records could not be read, or storage not recorded
    plan = _with_uncertain(pull_plan(remote_layers, local.layers, known_digests=known_digests,
                                     local_image_ids=local_ids))
    listed = set(local.layers["chain_id"].dropna())
    unsure = False
    for k in plan.index:
        if plan.at[k, "reason"] == REASON_IMAGE:
            continue
        if unsure:
            if plan.at[k, "action"] != "download" or plan.at[k, "reason"] in (REASON_BELOW, REASON_SAME_BLOB):
                _set_uncertain(plan, k, REASON_UNCERTAIN_BELOW)
            continue
        reason = plan.at[k, "reason"]
        if reason == REASON_UNKNOWN_BLOB and plan.at[k, "chain_id"] in listed:
            _set_uncertain(plan, k, REASON_UNCERTAIN_BLOB)
            unsure = True
        elif reason == REASON_NO_CHAIN and (cache_records or storage == "unknown"):
            _set_uncertain(plan, k, REASON_UNCERTAIN_HIDDEN)
            unsure = True
        elif reason == REASON_UNKNOWN_BLOB and (cache_records or storage == "unknown"):
            _set_uncertain(plan, k, REASON_UNCERTAIN_HIDDEN)
            unsure = True
    return plan


def _with_uncertain(plan: pd.DataFrame) -> pd.DataFrame:
    plan = plan.copy()
    plan["uncertain_bytes"] = pd.Series([0] * len(plan), dtype="Int64", index=plan.index)
    return plan


def _set_uncertain(plan: pd.DataFrame, k, reason: str) -> None:
    size = plan.at[k, "size_compressed"]
    plan.at[k, "action"] = "uncertain"
    plan.at[k, "reason"] = reason
    plan.at[k, "download_bytes"] = 0
    pos = plan.index.get_loc(k)
    repeated = bool(plan["digest"].iloc[:pos].eq(plan.at[k, "digest"]).any())
    plan.at[k, "uncertain_bytes"] = 0 if repeated or pd.isna(size) else int(size)


def _containerd_plan(remote_layers, local, content, cache_records, local_ids, remote_ids=frozenset()
                     ) -> pd.DataFrame:
    plan = _with_uncertain(pull_plan(remote_layers, local.layers.iloc[0:0], known_digests={}, local_image_ids=()))
    # this store names an image by its index (or manifest) digest, not the config digest
    image_there = bool(len(remote_layers)) and bool(({remote_layers["image_id"].iloc[0]} | remote_ids) & local_ids)
    held = {b["digest"] for blobs in ((content or {}).get("images") or {}).values() for b in blobs
            if b.get("present")}
    chains = set(local.layers["chain_id"].dropna())
    seen: set[str] = set()
    for k in plan.index:
        digest, size = plan.at[k, "digest"], plan.at[k, "size_compressed"]
        if image_there or digest in held or plan.at[k, "chain_id"] in chains:
            reason = REASON_IMAGE if image_there else REASON_C8D_CONTENT if digest in held else REASON_C8D_SNAPSHOT
            plan.at[k, "action"], plan.at[k, "reason"], plan.at[k, "download_bytes"] = "exists", reason, 0
        elif content and not cache_records:
            plan.at[k, "action"], plan.at[k, "reason"] = "download", REASON_C8D_MISSING
            plan.at[k, "download_bytes"] = 0 if digest in seen or pd.isna(size) else int(size)
        else:
            _set_uncertain(plan, k, REASON_C8D_MAYBE)
        seen.add(digest)
    return plan
