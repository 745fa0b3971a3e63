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
