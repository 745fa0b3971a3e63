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

from ..selection import image_labels, resolve_images
from .sizes import _lists_by, distinct_layers


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
    layers = frames.layers.drop_duplicates(["image_id", "chain_id"])
    cols = ["chain_id", "parent_chain_id", "diff_id", "position", "size", "chain_size", "subtree_size",
            "n_images", "image_ids", "images", "ends", "shared", "same_diff_elsewhere",
            "instruction", "created_by"]
    if layers.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    label_of = dict(zip(frames.images["image_id"], image_labels(frames.images)))
    chain_arr = layers["chain_id"].to_numpy(object)
    image_arr = layers["image_id"].to_numpy(object)
    users = _lists_by(chain_arr, image_arr)
    top_pos: dict = {}
    for image_id, chain, p in zip(image_arr, chain_arr, layers["position"].to_numpy("int64")):
        if image_id not in top_pos or p > top_pos[image_id][0]:
            top_pos[image_id] = (p, chain)
    ends: dict = {}
    for image_id, (_p, chain) in top_pos.items():
        ends.setdefault(chain, []).append(label_of.get(image_id, image_id))

    nodes = distinct_layers(layers).sort_values("position", kind="stable")
    chains = nodes["chain_id"].to_numpy(object)
    parents = nodes["parent_chain_id"].astype(object).where(nodes["parent_chain_id"].notna(), None).to_numpy(object)
    index = {c: k for k, c in enumerate(chains)}
    parent_idx = np.array([index.get(p, -1) if p is not None else -1 for p in parents], dtype=np.int64)
    size = nodes["size"].astype("Int64")
    size0 = size.fillna(0).to_numpy("int64")
    depth = nodes["position"].to_numpy("int64")
    # chain bytes top-down (parents come first), subtree bytes bottom-up
    chain_size = size0.copy()
    for k in range(len(chains)):
        if parent_idx[k] >= 0:
            chain_size[k] += chain_size[parent_idx[k]]
    subtree = size0.copy()
    for d in range(int(depth.max()), 0, -1):
        at = np.nonzero((depth == d) & (parent_idx >= 0))[0]
        np.add.at(subtree, parent_idx[at], subtree[at])
    diff_counts = nodes["diff_id"].map(nodes["diff_id"].value_counts()).to_numpy("int64") - 1
    ids = [users[c] for c in chains]
    n_images = np.fromiter((len(v) for v in ids), dtype=np.int64, count=len(ids))

    out = pd.DataFrame({
        "chain_id": pd.array(chains, dtype="string"),
        "parent_chain_id": pd.array(parents, dtype="string"),
        "diff_id": nodes["diff_id"].to_numpy(object),
        "position": pd.array(depth, dtype="Int64"),
        "size": size.to_numpy(),
        "chain_size": pd.array(chain_size, dtype="Int64"),
        "subtree_size": pd.array(subtree, dtype="Int64"),
        "n_images": pd.array(n_images, dtype="Int64"),
        "image_ids": ids,
        "images": [[label_of.get(i, i) for i in v] for v in ids],
        "ends": [ends.get(c, []) for c in chains],
        "shared": n_images > 1,
        "same_diff_elsewhere": pd.array(diff_counts, dtype="Int64"),
        "instruction": nodes["instruction"].to_numpy(object),
        "created_by": nodes["created_by"].to_numpy(object),
    })
    if size.isna().any():
        # a layer of unknown size leaves its chain's and its ancestors' byte counts unknown
        out.loc[size.isna().to_numpy(), "chain_size"] = pd.NA
    # parents first; the biggest branches first among siblings (ties keep the input's order)
    order = np.lexsort((-subtree, depth))
    return out.iloc[order].reset_index(drop=True)[cols]


def shared_layers(frames) -> pd.DataFrame:
    """The layers more than one image uses, and the bytes sharing each one saves.

    Rule: a layer (chain ID) is shared when more than one image uses it (:func:`layer_tree`);
    ``saved_by_sharing`` = size x (images using it - 1): the bytes the disk would hold again if
    every image had its own copy. Over all shared layers these add up to the sum of image sizes
    minus the bytes of distinct layers (``totals`` ``logical`` minus the derived physical bytes).
    Unknown when the layer's size is unknown.

    Returns
    -------
    DataFrame
        ``chain_id``, ``size``, ``n_images``, ``image_ids``, ``images`` (labels),
        ``saved_by_sharing``, ``instruction``, ``created_by``, ``comment`` (the history comment,
        e.g. ``Imported from -`` for an imported base); most bytes saved first (ties: more images).
    """
    tree = layer_tree(frames)
    cols = ["chain_id", "size", "n_images", "image_ids", "images", "saved_by_sharing", "instruction",
            "created_by", "comment"]
    shared = tree[tree["shared"].astype(bool)] if len(tree) else tree
    if shared.empty:
        out = pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
        for c in ("size", "n_images", "saved_by_sharing"):
            out[c] = out[c].astype("Int64")
        return out
    comments = frames.layers.drop_duplicates("chain_id").set_index("chain_id")["comment"]
    out = shared.assign(saved_by_sharing=(shared["size"].astype("Int64") * (shared["n_images"] - 1)).astype("Int64"),
                        comment=shared["chain_id"].map(comments).to_numpy())
    return out.sort_values(["saved_by_sharing", "n_images"], ascending=[False, False], na_position="last",
                           kind="stable").reset_index(drop=True)[cols]


def diff_reuse(frames) -> pd.DataFrame:
    """Diffs that appear on more than one parent: the same bytes, stored as separate layers.

    Rule: rows are the chain IDs whose diff ID is also the diff ID of another chain ID. Each such
    layer is counted in full for every parent it sits on (physical bytes), and is shared only
    among the images of its own chain ID.

    Returns
    -------
    DataFrame
        ``diff_id``, ``chain_id``, ``parent_chain_id``, ``size``, ``n_chains`` (chain IDs with this
        diff), ``images`` (labels), ``instruction``, ``created_by``; largest first.
    """
    layers = frames.layers.drop_duplicates(["image_id", "chain_id"])
    nodes = distinct_layers(layers)
    n_chains = nodes["diff_id"].map(nodes["diff_id"].value_counts(sort=False))
    again = nodes[n_chains.gt(1).to_numpy()]
    label_of = dict(zip(frames.images["image_id"], image_labels(frames.images)))
    mine = layers[layers["chain_id"].isin(set(again["chain_id"]))]
    users = _lists_by(mine["chain_id"].to_numpy(object), mine["image_id"].to_numpy(object))
    out = pd.DataFrame({
        "diff_id": again["diff_id"].to_numpy(object), "chain_id": again["chain_id"].to_numpy(object),
        "parent_chain_id": again["parent_chain_id"].to_numpy(object),
        "size": again["size"].astype("Int64").to_numpy(),
        "n_chains": pd.array(n_chains[n_chains.gt(1)].to_numpy("int64"), dtype="Int64"),
        "images": [[label_of.get(i, i) for i in users[c]] for c in again["chain_id"]],
        "instruction": again["instruction"].to_numpy(object), "created_by": again["created_by"].to_numpy(object),
    })
    return out.sort_values(["size", "diff_id", "chain_id"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def sharing_matrix(frames, images: Iterable[str] | None = None) -> pd.DataFrame:
    """Bytes each pair of images shares.

    Rule: the bytes images A and B share are the sizes of the chain IDs both use. Because a chain
    ID includes everything below it, those are the common beginning of their two paths, so the
    value is the ``chain_size`` of the deepest layer they have in common (0 when they start from
    different bases). The diagonal is the bytes of each image's own layers (``size_of_layers``:
    ``docker image ls`` SIZE on a graph driver; on the containerd store SIZE adds content blobs).

    Parameters
    ----------
    frames : Frames
    images : list of str, optional
        Tags or IDs of the images to include (default: all), in that order.

    Returns
    -------
    DataFrame
        Square, int64 bytes, index and columns the image IDs (``frames.images`` order unless
        ``images`` gives one). ``image_labels`` turns IDs into names.
    """
    all_images = frames.images
    ids = list(all_images["image_id"]) if images is None else resolve_images(all_images, images)
    n = len(ids)
    pos = {image_id: k for k, image_id in enumerate(ids)}
    layers = frames.layers[frames.layers["image_id"].isin(pos)].drop_duplicates(["image_id", "chain_id"])
    m = np.zeros((n, n), dtype=np.int64)
    if n and len(layers):
        users = _lists_by(layers["chain_id"].to_numpy(object), layers["image_id"].to_numpy(object))
        nodes = distinct_layers(layers)
        chain_arr = nodes["chain_id"].to_numpy(object)
        parent_arr = nodes["parent_chain_id"].astype(object).where(nodes["parent_chain_id"].notna(), None).to_numpy(object)
        pos_arr = nodes["position"].to_numpy("int64")
        size_of = dict(zip(chain_arr, nodes["size"].fillna(0).to_numpy("int64")))
        parent_of = dict(zip(chain_arr, parent_arr))
        cum: dict = {}
        for c in chain_arr[np.argsort(pos_arr, kind="stable")]:
            p = parent_of[c]
            cum[c] = size_of[c] + (cum.get(p, 0) if p is not None else 0)
        shared = {c: len(users[c]) for c in chain_arr if len(users[c]) > 1}
        # a node whose child has the same images adds nothing the child does not overwrite
        redundant = {parent_of[c] for c in shared if parent_of[c] is not None
                     and shared.get(parent_of[c]) == shared[c]}
        order = [c for c in chain_arr[np.argsort(pos_arr, kind="stable")] if c in shared and c not in redundant]
        for chain in order:
            k = np.fromiter((pos[i] for i in users[chain]), dtype=np.int64)
            m[np.ix_(k, k)] = int(cum[chain])
        # the layer rule's size, so the diagonal counts what the cells count (on the containerd
        # store image ls SIZE also counts content blobs, which no cell does)
        own = "size_of_layers" if "size_of_layers" in all_images.columns else "size"
        sizes = all_images.set_index("image_id")[own].reindex(ids).fillna(0).astype("int64").values
        m[np.arange(n), np.arange(n)] = sizes
    return pd.DataFrame(m, index=pd.Index(ids, name="image_id"), columns=pd.Index(ids, name="image_id"))


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
    info = distinct_layers(layers).set_index("chain_id")
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
    refs = distinct["chain_id"].map(distinct["chain_id"].value_counts(sort=False))
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
