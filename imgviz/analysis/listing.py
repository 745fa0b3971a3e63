"""What ``docker image ls`` and ``docker image history`` show.

Rules (the docker CLI's):

- ``docker image ls`` prints one row per tag; an image with two tags has two rows, an untagged
  (dangling) image one row ``<none> <none>``. Rows are newest first (ties: repository, then tag).
  With a name pattern (``docker image ls 'w*'``) a tag is kept when the pattern matches
  ``repo:tag`` or ``repo`` (:func:`imgviz.selection.matches`); untagged images are then left out.
- ``docker image history`` lists the history newest first; SIZE is the layer's size (0 for
  entries that made no layer).

Each rule is written once, over plain rows (:func:`ls_rows`, :func:`history_rows`: what the CLI
uses, without pandas); :func:`image_list` and :func:`history_table` apply the same functions to
the frames.
"""

from __future__ import annotations

from .._dt import datetime, timezone

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Iterable, Mapping

from ..rows import utc_time
from ..selection import NONE, matches, repo_tag

LS_COLUMNS = ["repository", "tag", "image_id", "short_id", "created", "size"]
HISTORY_COLUMNS = ["entry_id", "created", "created_by", "size", "comment", "instruction", "empty_layer",
                   "layer_position", "index"]
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


def ls_rows(images: Iterable[Mapping[str, Any]], pattern: str | None = None) -> list[dict[str, Any]]:
    """Rows of ``docker image ls [PATTERN]`` from image rows (:mod:`imgviz.rows` or the frame's records).

    Returns
    -------
    list of dict
        ``repository``, ``tag``, ``image_id``, ``short_id``, ``created`` (as the input had it),
        ``size`` (bytes or None), newest first.
    """
    out = []
    for im in images:
        tags = list(im.get("tags") or [])
        base = {"image_id": im["image_id"], "short_id": im["short_id"], "created": im.get("created"),
                "size": im.get("size")}
        if not tags:
            if pattern is None:
                out.append({"repository": NONE, "tag": NONE, **base})
            continue
        for t in tags:
            if pattern is not None and not matches(pattern, t):
                continue
            repo, tag = repo_tag(t)
            out.append({"repository": repo, "tag": tag, **base})
    out.sort(key=lambda r: (r["repository"], r["tag"]))
    out.sort(key=lambda r: utc_time(r["created"]) or _OLDEST, reverse=True)  # stable: ties keep repo, tag
    return out


def image_list(images, pattern: str | None = None):
    """Rows of ``docker image ls [PATTERN]``: one per tag, dangling images as ``<none>``.

    Parameters
    ----------
    images : DataFrame
        The ``images`` frame.
    pattern : str, optional
        A name filter such as ``'w*'`` or ``'workshop/*:v1'``.

    Returns
    -------
    DataFrame
        ``repository``, ``tag``, ``image_id``, ``short_id``, ``created``, ``size`` (bytes),
        newest first.
    """
    import pandas as pd

    records = images[["image_id", "short_id", "tags", "created", "size"]].to_dict("records")
    out = pd.DataFrame(ls_rows(records, pattern), columns=LS_COLUMNS)
    out["size"] = pd.Series([None if pd.isna(v) else v for v in out["size"]], dtype="object").astype("Int64")
    out["created"] = pd.to_datetime(out["created"], utc=True)
    return out


def history_rows(history: Iterable[Mapping[str, Any]], image_id: str) -> list[dict[str, Any]]:
    """Rows of ``docker image history IMAGE`` from history rows, newest first.

    Returns
    -------
    list of dict
        ``entry_id``, ``created``, ``created_by``, ``size``, ``comment``, ``instruction``,
        ``empty_layer``, ``layer_position``, ``index`` (0 = the oldest entry).
    """
    mine = [h for h in history if h["image_id"] == image_id]
    mine.sort(key=lambda h: h["index"], reverse=True)
    return [{c: h.get(c) for c in HISTORY_COLUMNS} for h in mine]


def history_table(history, image_id: str):
    """Rows of ``docker image history IMAGE``, newest first (the ``history`` frame's rows of one image).

    Returns
    -------
    DataFrame
        ``entry_id``, ``created``, ``created_by``, ``size``, ``comment``, ``instruction``,
        ``empty_layer``, ``layer_position``, ``index``.
    """
    import pandas as pd

    rows = history[history["image_id"] == image_id]
    order = [h["index"] for h in history_rows(rows[["image_id", "index"]].to_dict("records"), image_id)]
    out = rows.set_index("index", drop=False).loc[order, HISTORY_COLUMNS]
    return pd.DataFrame(out).reset_index(drop=True)
