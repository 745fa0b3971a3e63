"""ENV defaults, labels and ``-e`` overrides: what images set and what containers really run with.

Rules:

- An image's ``ENV`` defaults are the ``Env`` of its config (``NAME=value`` items, in order); every
  container of the image starts with them.
- ``docker run -e NAME=value`` (or ``--env-file``) replaces a default, or adds a name, for one
  container; the image does not change. A container's env (its inspect ``Config.Env``) is the
  image's defaults with those values on top. An *override* is a name whose value in the container
  differs from the image's default, or that the image does not set.
- Labels (``LABEL``) are notes in the image config; they never reach a container's env.

Pure functions: frames in, a new frame out. Values are shown as the frames hold them: pass frames
through :func:`imgviz.analysis.secrets.mask_frames` first to mask secret-looking ones.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ..selection import labels as image_label_map


def _ids(frames, images: Iterable[str] | None) -> list[str]:
    if images is None:
        return list(frames.images["image_id"])
    from ..selection import resolve_images

    return resolve_images(frames.images, list(images))


def env_defaults(frames, *, images: Iterable[str] | None = None, skip: Iterable[str] = ("PATH",)) -> pd.DataFrame:
    """The ENV defaults of images: one row per ``NAME=value`` of each image config.

    Parameters
    ----------
    frames : Frames
    images : list of str, optional
        References (tags, IDs) of the images to list, in that order (default: every image).
    skip : list of str
        Names to leave out (default ``PATH``, which every image sets).

    Returns
    -------
    DataFrame
        ``image_id``, ``label`` (the image's name), ``name``, ``default``.
    """
    ids = _ids(frames, images)
    env_of = dict(zip(frames.images["image_id"], frames.images["env"]))
    label_of = image_label_map(frames.images)
    skip = set(skip)
    rows = []
    for image_id in ids:
        for item in env_of.get(image_id) or []:
            name, _, value = str(item).partition("=")
            if name not in skip:
                rows.append((image_id, label_of[image_id], name, value))
    return pd.DataFrame(rows, columns=["image_id", "label", "name", "default"])


def env_overrides(frames) -> pd.DataFrame:
    """Per container, the names it runs with a value other than its image's default (``-e``).

    Rule: see the module docstring. A container whose image is not in the snapshot is compared
    with no defaults (every name counts as an override) and named by its image reference.

    Returns
    -------
    DataFrame
        ``container_id``, ``container`` (its names, or its short ID), ``image_id``, ``label``
        (the image's name), ``name``, ``image_default`` (None when the image does not set it),
        ``value`` (what the container runs with); in container order, then env order.
    """
    defaults = {i: dict(str(e).partition("=")[::2] for e in (env or []))
                for i, env in zip(frames.images["image_id"], frames.images["env"])}
    label_of = image_label_map(frames.images)
    rows = []
    for c in frames.containers.itertuples(index=False):
        mine = defaults.get(c.image_id, {})
        for item in c.env or []:
            name, _, value = str(item).partition("=")
            if mine.get(name) != value:
                rows.append((c.container_id, ", ".join(c.names or []) or c.short_id, c.image_id,
                             label_of.get(c.image_id, c.image or ""), name, mine.get(name), value))
    out = pd.DataFrame(rows, columns=["container_id", "container", "image_id", "label", "name", "image_default",
                                      "value"])
    out["image_default"] = out["image_default"].astype("object").where(out["image_default"].notna(), None)
    return out


def config_labels(frames, *, images: Iterable[str] | None = None) -> pd.DataFrame:
    """The labels of images (``LABEL`` instructions): one row per key, keys sorted.

    Returns
    -------
    DataFrame
        ``image_id``, ``label`` (the image's name), ``key``, ``value``.
    """
    ids = _ids(frames, images)
    labels_of = dict(zip(frames.images["image_id"], frames.images["labels"]))
    label_of = image_label_map(frames.images)
    rows = [(i, label_of[i], key, value) for i in ids for key, value in sorted((labels_of.get(i) or {}).items())]
    return pd.DataFrame(rows, columns=["image_id", "label", "key", "value"])
