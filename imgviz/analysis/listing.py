"""What ``docker image ls`` and ``docker image history`` show, as frames.

Rules (the docker CLI's):

- ``docker image ls`` prints one row per tag; an image with two tags has two rows, an untagged
  (dangling) image one row ``<none> <none>``. With a name pattern (``docker image ls 'w*'``) a tag
  is kept when the pattern matches ``repo:tag`` or ``repo`` as a path glob (``*`` does not cross
  ``/``); untagged images are then left out.
- ``docker image history`` lists the history newest first; SIZE is the layer's size (0 for
  entries that made no layer).
"""

from __future__ import annotations

import re

import pandas as pd

from ..errors import ImageNotFound


def _glob_regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out.append("[" + ("^" + re.escape(body[1:]) if body.startswith("!") else re.escape(body)) + "]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _familiar(tag: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/"):
        if tag.startswith(prefix):
            return tag[len(prefix):]
    return tag


def matches(pattern: str, tag: str) -> bool:
    """Does ``docker image ls PATTERN`` keep the tag ``repo:tag``?

    Examples
    --------
    >>> matches("w*", "web-ping:latest")
    True
    >>> matches("w*", "workshop/node:18")
    False
    >>> matches("workshop/*", "workshop/node:18")
    True
    """
    rx = _glob_regex(pattern)
    name = _familiar(tag)
    if rx.match(name):
        return True
    repo = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    return bool(rx.match(repo))


def image_list(images: pd.DataFrame, pattern: str | None = None) -> pd.DataFrame:
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
    rows = []
    for rec in images.itertuples(index=False):
        tags = list(rec.tags or [])
        if not tags:
            if pattern is None:
                rows.append(("<none>", "<none>", rec.image_id, rec.short_id, rec.created, rec.size))
            continue
        for t in tags:
            if pattern is not None and not matches(pattern, t):
                continue
            slash, colon = t.rfind("/"), t.rfind(":")
            repo, tag = (t[:colon], t[colon + 1:]) if colon > slash else (t, "latest")
            rows.append((repo, tag, rec.image_id, rec.short_id, rec.created, rec.size))
    out = pd.DataFrame(rows, columns=["repository", "tag", "image_id", "short_id", "created", "size"])
    out["size"] = out["size"].astype("Int64")
    out["created"] = pd.to_datetime(out["created"], utc=True)
    return out.sort_values(["created", "repository", "tag"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def find_image(images: pd.DataFrame, ref: str) -> str:
    """The image ID a reference names: a tag (``web-ping``, ``web-ping:v2``), a full or short ID.

    Raises
    ------
    ImageNotFound
        naming the reference when nothing (or more than one image) matches.
    """
    ref = ref.strip()
    want = ref if ":" in ref.rsplit("/", 1)[-1] else f"{ref}:latest"
    for rec in images.itertuples(index=False):
        if want in (rec.tags or []) or _familiar(want) in [_familiar(t) for t in (rec.tags or [])]:
            return rec.image_id
    hexpart = ref.split(":", 1)[1] if ref.startswith("sha256:") else ref
    if re.fullmatch(r"[0-9a-f]{4,64}", hexpart):
        hits = [i for i in images["image_id"] if i.split(":", 1)[-1].startswith(hexpart)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise ImageNotFound(f"{ref}: ambiguous, matches {len(hits)} images")
    raise ImageNotFound(f"{ref}: no such image in this snapshot")


def history_table(history: pd.DataFrame, image_id: str) -> pd.DataFrame:
    """Rows of ``docker image history IMAGE``, newest first.

    Returns
    -------
    DataFrame
        ``entry_id``, ``created``, ``created_by``, ``size``, ``comment``, ``instruction``,
        ``empty_layer``, ``layer_position``.
    """
    rows = history[history["image_id"] == image_id]
    cols = ["entry_id", "created", "created_by", "size", "comment", "instruction", "empty_layer", "layer_position"]
    return rows.sort_values("index", ascending=False)[cols].reset_index(drop=True)
