"""Which layers images share: the layer tree, diffs reused on other parents, the pairwise matrix.

Rule used throughout: a layer is identified by its chain ID (OCI image spec: the layer *together
with every layer below it*). Two images share a layer only when they share its chain ID, so an
image is a path from a base layer to its top layer through one tree of chain IDs, and two images
share exactly the common beginning of their paths. The same diff (the same tar, same diff ID) on
another parent is another chain ID: another layer on disk, stored twice and *not* shared. This is
how the engine stores layers and how ``docker system df -v`` counts SHARED SIZE.

Every function is pure: frames in, a new frame out.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .sizes import image_labels, resolve_images


def _cum_sizes(layers: pd.DataFrame) -> pd.Series:
    """Bytes of each chain (the layer plus every layer below it), indexed by chain ID."""
    ordered = layers.sort_values(["image_id", "position"], kind="stable")
    cum = ordered["size"].fillna(0).astype("int64").groupby(ordered["image_id"], sort=False).cumsum()
    return pd.Series(cum.values, index=ordered["chain_id"].values).groupby(level=0).first()


def layer_tree(frames) -> pd.DataFrame:
    """The distinct layers of all images as a tree of chain IDs.

    Rule: one node per chain ID; its parent is the chain ID of the layer below. An image is the
    path from a base node to the node of its top layer. A node is *shared* when more than one image
    passes through it; bytes are shared only there. A node whose diff ID also appears under another
    parent (``same_diff_elsewhere > 0``) holds the same bytes as another node, stored again and not
    shared: the analysis names that case instead of hiding it.

    Parameters
    ----------
    frames : Frames

    Returns
    -------
    DataFrame
        One row per chain ID, parents before children: ``chain_id``, ``parent_chain_id`` (NA for a
        base), ``diff_id``, ``position`` (depth, 0 = base), ``size`` (bytes of this layer),
        ``chain_size`` (bytes of the layer and everything below), ``subtree_size`` (bytes of this
        layer and every layer above it in any image: what the disk holds for the branch),
        ``n_images``, ``image_ids``, ``images`` (labels of the images that use the layer),
        ``ends`` (labels of images whose top layer it is), ``shared`` (n_images > 1),
        ``same_diff_elsewhere`` (how many *other* chain IDs have this diff ID), ``instruction``,
        ``created_by``.

    See Also
    --------
    diff_reuse : the same-diff-other-parent cases on their own.
    """
    layers = frames.layers
    cols = ["chain_id", "parent_chain_id", "diff_id", "position", "size", "chain_size", "subtree_size",
            "n_images", "image_ids", "images", "ends", "shared", "same_diff_elsewhere",
            "instruction", "created_by"]
    if layers.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    label_of = dict(zip(frames.images["image_id"], image_labels(frames.images)))
    distinct = layers.drop_duplicates(["image_id", "chain_id"])
    by_chain = distinct.groupby("chain_id", sort=False)["image_id"]
    image_ids = by_chain.agg(list)
    nodes = layers.drop_duplicates("chain_id").set_index("chain_id")
    tops = layers.sort_values("position", kind="stable").drop_duplicates("image_id", keep="last")
    ends = tops.groupby("chain_id", sort=False)["image_id"].agg(lambda s: [label_of.get(i, i) for i in s])
    diff_chains = nodes.groupby("diff_id")["position"].transform("size") - 1

    out = pd.DataFrame({
        "chain_id": nodes.index.astype("string"),
        "parent_chain_id": nodes["parent_chain_id"].astype("string").values,
        "diff_id": nodes["diff_id"].values,
        "position": nodes["position"].astype("Int64").values,
        "size": nodes["size"].astype("Int64").values,
    })
    out["chain_size"] = out["chain_id"].map(_cum_sizes(layers)).astype("Int64")
    ids = image_ids.reindex(out["chain_id"])
    out["n_images"] = pd.array([len(v) for v in ids], dtype="Int64")
    out["image_ids"] = list(ids.values)
    out["images"] = [[label_of.get(i, i) for i in v] for v in ids.values]
    ends_list = ends.reindex(out["chain_id"]).values
    out["ends"] = [v if isinstance(v, list) else [] for v in ends_list]
    out["shared"] = out["n_images"].gt(1).astype(bool)
    out["same_diff_elsewhere"] = diff_chains.reindex(out["chain_id"]).astype("Int64").values
    out["instruction"] = nodes["instruction"].values
    out["created_by"] = nodes["created_by"].values

    # subtree bytes, deepest layers first
    sub = pd.Series(out["size"].fillna(0).astype("int64").values, index=out["chain_id"].values)
    parent = pd.Series(out["parent_chain_id"].values, index=out["chain_id"].values)
    depth = pd.Series(out["position"].astype("int64").values, index=out["chain_id"].values)
    for d in range(int(depth.max()), 0, -1):
        level = depth.index[depth.values == d]
        add = sub[level].groupby(parent[level].values).sum()
        add = add[add.index.isin(sub.index)]
        sub.loc[add.index] += add.values
    out["subtree_size"] = sub.reindex(out["chain_id"]).astype("Int64").values
    out = out.sort_values(["position", "subtree_size", "chain_id"], ascending=[True, False, True],
                          kind="stable").reset_index(drop=True)
    return out[cols]


def diff_reuse(frames) -> pd.DataFrame:
    """Diffs that appear on more than one parent: the same bytes, stored as separate layers.

    Rule: rows are the chain IDs whose diff ID is also the diff ID of another chain ID. Each such
    layer is counted in full for every parent it sits on (physical bytes), and is shared only
    among the images of its own chain ID. ``stored_again`` is the bytes beyond the first copy.

    Returns
    -------
    DataFrame
        ``diff_id``, ``chain_id``, ``parent_chain_id``, ``size``, ``n_chains`` (chain IDs with this
        diff), ``images`` (labels), ``instruction``, ``created_by``; largest first.
    """
    tree = layer_tree(frames)
    again = tree[tree["same_diff_elsewhere"].fillna(0) > 0]
    out = pd.DataFrame({
        "diff_id": again["diff_id"], "chain_id": again["chain_id"],
        "parent_chain_id": again["parent_chain_id"], "size": again["size"],
        "n_chains": (again["same_diff_elsewhere"] + 1).astype("Int64"), "images": again["images"],
        "instruction": again["instruction"], "created_by": again["created_by"],
    })
    return out.sort_values(["size", "diff_id", "chain_id"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def sharing_matrix(frames, images: Iterable[str] | None = None) -> pd.DataFrame:
    """Bytes each pair of images shares.

    Rule: the bytes images A and B share are the sizes of the chain IDs both use. Because a chain
    ID includes everything below it, those are the common beginning of their two paths, so the
    value is the ``chain_size`` of the deepest layer they have in common (0 when they start from
    different bases). The diagonal is each image's own size.

    Parameters
    ----------
    frames : Frames
    images : list of str, optional
        Tags or IDs of the images to include (default: all), in that order.

    Returns
    -------
    DataFrame
        Square, Int64 bytes, index and columns the image IDs (``frames.images`` order unless
        ``images`` gives one). ``image_labels`` turns IDs into names.
    """
    all_images = frames.images
    ids = list(all_images["image_id"]) if images is None else resolve_images(all_images, images)
    n = len(ids)
    pos = {image_id: k for k, image_id in enumerate(ids)}
    layers = frames.layers[frames.layers["image_id"].isin(pos)]
    m = np.zeros((n, n), dtype=np.int64)
    if n and len(layers):
        distinct = layers.drop_duplicates(["image_id", "chain_id"])
        cum = _cum_sizes(layers)
        groups = distinct.groupby("chain_id", sort=False)["image_id"]
        counts = groups.size()
        shared = counts[counts > 1]
        if len(shared):
            members = groups.agg(list)[shared.index]
            nodes = distinct.drop_duplicates("chain_id").set_index("chain_id").loc[shared.index]
            # a node whose child has the same images adds nothing the child does not overwrite
            parents = nodes["parent_chain_id"].dropna()
            same = parents[shared.reindex(parents.index).values == shared.reindex(parents.values).values]
            redundant = set(same.values)
            order = nodes["position"].astype("int64").sort_values(kind="stable").index
            for chain in order:
                if chain in redundant:
                    continue
                k = np.fromiter((pos[i] for i in members[chain]), dtype=np.int64)
                m[np.ix_(k, k)] = int(cum[chain])
        sizes = all_images.set_index("image_id")["size"].reindex(ids).fillna(0).astype("int64").values
        m[np.arange(n), np.arange(n)] = sizes
    out = pd.DataFrame(m, index=pd.Index(ids, name="image_id"), columns=pd.Index(ids, name="image_id"))
    return out.astype("Int64")


def sharing_pairs(frames, images: Iterable[str] | None = None) -> pd.DataFrame:
    """Every pair of images with the bytes and the deepest layer they share.

    Rule: as :func:`sharing_matrix`; the pair's last common layer is the deepest chain ID both
    paths contain (NA when they start from different bases). Meant for tens to hundreds of
    images: the output has n * (n - 1) / 2 rows.

    Returns
    -------
    DataFrame
        ``image_a``, ``image_b`` (IDs), ``label_a``, ``label_b``, ``shared_bytes``,
        ``common_layers`` (count), ``last_common_chain``, ``instruction``, ``created_by`` (of that
        layer); most shared bytes first.
    """
    all_images = frames.images
    ids = list(all_images["image_id"]) if images is None else resolve_images(all_images, images)
    label_of = dict(zip(all_images["image_id"], image_labels(all_images)))
    layers = frames.layers[frames.layers["image_id"].isin(set(ids))]
    paths = {i: list(rows.sort_values("position")["chain_id"]) for i, rows in layers.groupby("image_id")}
    info = layers.drop_duplicates("chain_id").set_index("chain_id")
    cum = _cum_sizes(layers) if len(layers) else pd.Series(dtype="int64")
    rows = []
    for a_pos, a in enumerate(ids):
        pa = paths.get(a, [])
        for b in ids[a_pos + 1:]:
            pb = paths.get(b, [])
            k = 0
            while k < len(pa) and k < len(pb) and pa[k] == pb[k]:
                k += 1
            last = pa[k - 1] if k else None
            rows.append((a, b, label_of.get(a, a), label_of.get(b, b), int(cum[last]) if last else 0, k, last,
                         info.at[last, "instruction"] if last else None,
                         info.at[last, "created_by"] if last else None))
    out = pd.DataFrame(rows, columns=["image_a", "image_b", "label_a", "label_b", "shared_bytes",
                                      "common_layers", "last_common_chain", "instruction", "created_by"])
    out["shared_bytes"] = out["shared_bytes"].astype("Int64")
    out["common_layers"] = out["common_layers"].astype("Int64")
    return out.sort_values(["shared_bytes", "label_a", "label_b"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def largest_layers(frames) -> pd.DataFrame:
    """Per image, its largest unique layer and its largest shared layer, with their instructions.

    Rule: a layer is unique to an image when no other image uses its chain ID, shared otherwise
    (as in :func:`layer_tree`). Ties go to the lower layer.

    Returns
    -------
    DataFrame
        Indexed by ``image_id``: ``unique_chain``, ``unique_size``, ``unique_instruction``,
        ``unique_created_by``, ``shared_chain``, ``shared_size``, ``shared_instruction``,
        ``shared_created_by`` (NA where the image has no such layer).
    """
    layers = frames.layers
    distinct = layers.drop_duplicates(["image_id", "chain_id"])
    refs = distinct.groupby("chain_id")["image_id"].transform("size")
    distinct = distinct.assign(_shared=refs.gt(1).values, _size=distinct["size"].fillna(-1).astype("int64"))
    out = pd.DataFrame(index=pd.Index(frames.images["image_id"], name="image_id"))
    for kind, mask in (("unique", ~distinct["_shared"]), ("shared", distinct["_shared"])):
        part = distinct[mask].sort_values(["image_id", "_size", "position"], ascending=[True, False, True],
                                          kind="stable").drop_duplicates("image_id").set_index("image_id")
        out[f"{kind}_chain"] = part["chain_id"].reindex(out.index)
        out[f"{kind}_size"] = part["size"].reindex(out.index).astype("Int64")
        out[f"{kind}_instruction"] = part["instruction"].reindex(out.index)
        out[f"{kind}_created_by"] = part["created_by"].reindex(out.index)
    return out
