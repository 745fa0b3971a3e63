"""Image sizes by the engine's rules.

The rules are the ones the Docker engine applies in ``/images/json`` and ``/system/df``:

- size        = sum of the sizes of the image's layers (every layer of its chain);
- shared size = sum of the sizes of the image's layers whose chain ID is used by more than one
  of the images considered (this is ``docker system df -v`` SHARED SIZE);
- unique size = size - shared size (``docker system df -v`` UNIQUE SIZE).

A layer is identified by its chain ID, not its diff ID: the same diff on another parent is another
layer on disk, and is not shared.
"""

from __future__ import annotations

import pandas as pd


def per_image_sizes(layers: pd.DataFrame) -> pd.DataFrame:
    """Size, shared size and unique size of every image, derived from its layers.

    Parameters
    ----------
    layers : DataFrame
        The ``layers`` frame (columns ``image_id``, ``chain_id``, ``size``).

    Returns
    -------
    DataFrame
        One row per image: ``image_id``, ``size``, ``shared_size``, ``unique_size`` (Int64 bytes;
        NA for an image with a layer of unknown size).
    """
    if layers.empty:
        return pd.DataFrame({"image_id": pd.Series([], dtype="string"),
                             "size": pd.Series([], dtype="Int64"),
                             "shared_size": pd.Series([], dtype="Int64"),
                             "unique_size": pd.Series([], dtype="Int64")})
    distinct = layers.drop_duplicates(["image_id", "chain_id"])
    refs = distinct.groupby("chain_id")["image_id"].nunique()
    shared_mask = distinct["chain_id"].map(refs).gt(1)
    sizes = distinct["size"].astype("Int64")
    frame = pd.DataFrame({"image_id": distinct["image_id"], "size": sizes,
                          "shared": sizes.where(shared_mask, 0)})
    grouped = frame.groupby("image_id", sort=False)
    out = pd.DataFrame({
        "size": grouped["size"].sum(min_count=1),
        "shared_size": grouped["shared"].sum(min_count=1),
    })
    unknown = grouped["size"].apply(lambda s: s.isna().any())
    out.loc[unknown, ["size", "shared_size"]] = pd.NA
    out = out.astype("Int64")
    out["unique_size"] = out["size"] - out["shared_size"]
    return out.reset_index()
