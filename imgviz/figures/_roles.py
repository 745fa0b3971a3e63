"""Which layers are an image's base and which its own: what the figures draw apart.

Rule: an image's *base* is the image in the snapshot whose layers (chain IDs) are the longest
proper beginning of its own: ``workshop/web-ping:v1`` is built on ``workshop/node:18`` when node's
two layers are web-ping's first two. The layers above the base are the image's *app layers* (the
WORKDIR, the COPY of app.js): the few kB the chapter's story is about. An image with no base in
the snapshot (a base itself, or one whose base was removed) has no app layers by this rule.

A layer of the tree is a *base layer* when it lies on the path of an image that is another
image's base, else an *app layer*.

Pure functions of frames; the figures of this package draw them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..selection import image_labels


@dataclass
class Roles:
    """``paths`` image -> chain IDs base first; ``base_of`` image -> its base image (or absent);
    ``base_chains`` the chain IDs that are some image's base layers; ``label`` image -> label."""

    paths: dict[str, list[str]]
    base_of: dict[str, str]
    base_chains: set[str]
    label: dict[str, str]

    def split(self, image_id: str) -> tuple[int, str | None]:
        """How many of the image's layers are its base's, and the base's ID (0, None without one)."""
        base = self.base_of.get(image_id)
        return (len(self.paths[base]), base) if base else (0, None)


def roles(frames) -> Roles:
    """The base image of every image and the base layers of the snapshot (see the module)."""
    images = frames.images
    label = dict(zip(images["image_id"], image_labels(images)))
    layers = frames.layers.sort_values(["image_id", "position"], kind="stable")
    paths: dict[str, list[str]] = {i: [] for i in images["image_id"]}
    for image_id, chain in zip(layers["image_id"], layers["chain_id"]):
        paths.setdefault(image_id, []).append(chain)
    # the image whose path ends at a chain ID (several images may end there: take the first listed)
    dangling = dict(zip(images["image_id"], images["dangling"]))
    ends: dict[str, str] = {}
    for image_id, path in paths.items():
        if path and (path[-1] not in ends or (dangling.get(ends[path[-1]]) and not dangling.get(image_id))):
            ends[path[-1]] = image_id  # a tagged image names a base better than a dangling one
    base_of: dict[str, str] = {}
    for image_id, path in paths.items():
        for k in range(len(path) - 1, 0, -1):  # the longest proper beginning that is a whole image
            other = ends.get(path[k - 1])
            if other is not None and other != image_id:
                base_of[image_id] = other
                break
    base_chains = {c for b in set(base_of.values()) for c in paths[b]}
    return Roles(paths=paths, base_of=base_of, base_chains=base_chains, label=label)


def image_layer_table(frames, image_id: str) -> pd.DataFrame:
    """The layers of one image, base first, with their role: ``position``, ``chain_id``, ``size``,
    ``instruction``, ``created_by``, ``role`` ('base' or 'app'), ``n_images`` (images using it)."""
    r = roles(frames)
    n_base, _ = r.split(image_id)
    layers = frames.layers[frames.layers["image_id"] == image_id].sort_values("position", kind="stable")
    users = frames.layers.drop_duplicates(["image_id", "chain_id"])["chain_id"].value_counts()
    out = layers[["position", "chain_id", "size", "instruction", "created_by"]].reset_index(drop=True).copy()
    out["role"] = ["base" if p < n_base else "app" for p in out["position"]]
    out["n_images"] = out["chain_id"].map(users).fillna(1).astype("int64")
    return out
