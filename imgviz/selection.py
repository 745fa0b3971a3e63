"""What a user's words mean: image names, references, name patterns, and "the top N and the rest".

One module decides, and analyses, figures, the report, widgets, notebooks and the CLI call it:

- **Names.** An image is named by its first tag; a dangling image (no tag) by ``<none>@<short
  ID>``. Two images never get the same label (:func:`image_labels`).
- **The repo:tag split** (:func:`split_name`, :func:`repo_tag`): ``[HOST[:PORT]/]REPO[:TAG][@DIGEST]``.
  The tag is what follows the last ``:`` only when no ``/`` comes after it, so a registry port
  (``127.0.0.1:5000/app``) is never taken for a tag; a digest follows ``@``.
- **References** (:func:`find_image`, :func:`resolve_images`), in the engine's order: a full image
  ID (``sha256:<hex>`` or the 64 hex digits); a name (``app`` means ``app:latest``;
  ``docker.io/library/`` may be left out, as the CLI prints it); a repo digest (``app@sha256:...``);
  then a unique prefix of at least 4 hex digits of an ID (``sha256:`` optional). An unknown or
  ambiguous reference raises :class:`~imgviz.errors.ImageNotFound` naming it.
- **Name patterns** (:func:`matches`): ``docker image ls PATTERN`` keeps a tag when the pattern
  matches ``repo:tag`` or ``repo`` as a path glob (``*`` and ``?`` do not cross ``/``); untagged
  images are then left out.
- **The top N and the rest** (:func:`top_and_rest`, :func:`with_rest_row`, :func:`rest_label`):
  the N largest by a column, the rest summed in one "other" row whose sums stay unknown when a
  part is unknown.

Functions take plain values (tags lists, dicts of rows) or the ``images`` frame alike; the module
imports no third-party package, so the CLI can use it without pandas.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Iterable

from .errors import ImageNotFound

NONE = "<none>"
_HUB_PREFIXES = ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/")
_HEX = re.compile(r"[0-9a-f]{4,64}")


# ------------------------------------------------------------------------------------------ names

def short_id(image_id: str | None) -> str:
    """The 12 hex digits ``docker image ls`` prints for an ID (``sha256:`` dropped).

    >>> short_id("sha256:0123456789abcdef0123")
    '0123456789ab'
    """
    text = str(image_id or "")
    return text.split(":", 1)[-1][:12] if text.startswith("sha256:") else text[:12]


def split_name(name: str) -> tuple[str, str | None, str | None]:
    """``[HOST[:PORT]/]REPO[:TAG][@DIGEST]`` -> ``(repository, tag or None, digest or None)``.

    Examples
    --------
    >>> split_name("127.0.0.1:5000/iv/app:v1")
    ('127.0.0.1:5000/iv/app', 'v1', None)
    >>> split_name("localhost:5000/app")
    ('localhost:5000/app', None, None)
    >>> split_name("app@sha256:abc")
    ('app', None, 'sha256:abc')
    """
    text = str(name).strip()
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
    colon = text.rfind(":")
    if colon > text.rfind("/"):
        return text[:colon], text[colon + 1:], digest
    return text, None, digest


def repo_tag(name: str | None) -> tuple[str, str]:
    """REPOSITORY and TAG columns of ``docker image ls`` for one name.

    ``None`` (a dangling image) gives ``('<none>', '<none>')``; a name without a tag is
    ``latest``; a digest-only name has no tag (``<none>``).

    >>> repo_tag("registry.test:5000/rec/app:2"), repo_tag("app"), repo_tag(None)
    (('registry.test:5000/rec/app', '2'), ('app', 'latest'), ('<none>', '<none>'))
    """
    if not name:
        return NONE, NONE
    repo, tag, digest = split_name(name)
    return repo, tag or (NONE if digest else "latest")


def familiar(name: str) -> str:
    """A name as the docker CLI prints it: Docker Hub's ``docker.io/library/`` left out.

    >>> familiar("docker.io/library/busybox:1"), familiar("docker.io/me/app:1")
    ('busybox:1', 'me/app:1')
    """
    for prefix in _HUB_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def normalize(name: str) -> str:
    """The familiar name with ``:latest`` added when it names neither a tag nor a digest.

    >>> normalize("web-ping"), normalize("localhost:5000/app"), normalize("docker.io/library/bb:1")
    ('web-ping:latest', 'localhost:5000/app:latest', 'bb:1')
    """
    repo, tag, digest = split_name(familiar(str(name).strip()))
    if digest:
        return f"{repo}:{tag}@{digest}" if tag else f"{repo}@{digest}"
    return f"{repo}:{tag or 'latest'}"


def image_label(tags: Iterable[str] | None, image_id: str) -> str:
    """The name of one image: its first tag, or ``<none>@<short id>`` when it has none.

    >>> image_label(["iv/app:v2", "iv/app:latest"], "sha256:ab"), image_label([], "sha256:0123456789abcdef")
    ('iv/app:v2', '<none>@0123456789ab')
    """
    tags = list(tags) if tags is not None else []
    return tags[0] if tags else f"{NONE}@{short_id(image_id)}"


def labels(images) -> dict[str, str]:
    """``{image_id: label}`` for every image, labels unique (see :func:`image_labels`)."""
    ids, tags, _digests = _columns(images)
    out = [image_label(t, i) for i, t in zip(ids, tags)]
    seen: dict[str, int] = {}
    for label in out:
        seen[label] = seen.get(label, 0) + 1
    out = [f"{label} ({short_id(i)})" if seen[label] > 1 else label for label, i in zip(out, ids)]
    return dict(zip(ids, out))


def image_labels(images):
    """A readable name per image of the ``images`` frame (a string Series indexed like it).

    Rule: :func:`image_label`; when two images would get the same label (one name read from two
    sources), both get `` (<short id>)`` added, so a label always names one image.
    """
    import pandas as pd

    by_id = labels(images)
    return pd.Series([by_id[i] for i in images["image_id"]], index=images.index, dtype="string")


# ---------------------------------------------------------------------------------------- patterns

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
    >>> matches("localhost:5000/*", "localhost:5000/app:1")
    True
    """
    rx = _glob_regex(pattern)
    name = familiar(tag)
    if rx.match(name):
        return True
    return bool(rx.match(split_name(name)[0]))


def any_matches(pattern: str | None, tags: Iterable[str] | None) -> bool:
    """Is an image with these tags listed by ``docker image ls PATTERN``? (all images when no pattern)"""
    if not pattern:
        return True
    return any(matches(pattern, t) for t in (tags or []))


# -------------------------------------------------------------------------------------- references

def _columns(images) -> tuple[list, list, list]:
    """(ids, tags lists, digests lists) of the ``images`` frame or of a list of image rows."""
    if hasattr(images, "columns"):
        ids = list(images["image_id"])
        tags = [list(t) if t is not None else [] for t in images["tags"]]
        digests = ([list(d) if d is not None else [] for d in images["digests"]]
                   if "digests" in images.columns else [[] for _ in ids])
        return ids, tags, digests
    rows = list(images)
    return ([r["image_id"] for r in rows], [list(r.get("tags") or []) for r in rows],
            [list(r.get("digests") or []) for r in rows])


def find_image(images, ref: str) -> str:
    """The image ID a reference names (see the module docstring for the engine's order).

    Parameters
    ----------
    images : DataFrame or list of dict
        The ``images`` frame, or image rows with ``image_id``, ``tags`` and ``digests``.
    ref : str
        A name (``web-ping``, ``web-ping:v2``, ``localhost:5000/app``), a repo digest
        (``app@sha256:...``), a full ID or a unique ID prefix.

    Raises
    ------
    ImageNotFound
        naming the reference when nothing, or more than one image, matches.
    """
    ids, tags, digests = _columns(images)
    text = str(ref).strip()
    hexpart = text[len("sha256:"):] if text.startswith("sha256:") else text
    if len(hexpart) == 64 and _HEX.fullmatch(hexpart):
        full = f"sha256:{hexpart}"
        if full in ids:
            return full
    if text and not text.startswith("sha256:"):
        repo, _tag, digest = split_name(familiar(text))
        want = normalize(f"{repo}@{digest}" if digest else text)  # a digest names the image alone
        for image_id, names, repo_digests in zip(ids, tags, digests):
            pool = repo_digests if digest else names
            if want in (normalize(n) for n in pool):
                return image_id
    if _HEX.fullmatch(hexpart):
        hits = [i for i in ids if i.split(":", 1)[-1].startswith(hexpart)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise ImageNotFound(f"{ref}: ambiguous, matches {len(hits)} images")
    raise ImageNotFound(f"{ref}: no such image in this snapshot")


def pick_image(images, *refs: str) -> str:
    """The image ID of the first of ``refs`` the images hold; else the tagged image with the most
    layers (the biggest on a tie), so a notebook written for the demo fleet still shows something
    on any engine.

    >>> import imgviz
    >>> f = imgviz.demo()
    >>> pick_image(f.images, "no/such:tag", "workshop/web-ping:v1") == find_image(f.images, "workshop/web-ping:v1")
    True
    """
    for ref in refs:
        try:
            return find_image(images, ref)
        except ImageNotFound:
            pass
    if not len(images):
        raise ImageNotFound(f"{', '.join(refs) or 'an image'}: this snapshot holds no images")
    tagged = images[~images["dangling"]] if (~images["dangling"]).any() else images
    return tagged.sort_values(["n_layers", "size"], ascending=False).iloc[0]["image_id"]


def resolve_images(images, refs: Iterable[str] | str | None) -> list[str]:
    """Image IDs for references (see :func:`find_image`), in order, each once; None gives []."""
    if refs is None:
        return []
    if isinstance(refs, str):
        refs = [refs]
    ids = _columns(images)[0]
    known = set(ids)
    out: list[str] = []
    for ref in refs:
        image_id = ref if ref in known else find_image(images, str(ref))
        if image_id not in out:
            out.append(image_id)
    return out


def select(images, *, pattern: str | None = None, search: str | None = None,
           refs: Iterable[str] | None = None):
    """Which images to show, as a boolean Series indexed like ``images``.

    An image is kept when ``docker image ls PATTERN`` lists it (:func:`matches`), when ``search``
    occurs (case-insensitive) in one of its tags or its ID, and when it is one of ``refs``
    (:func:`resolve_images`). Leaving an option out keeps every image for that option.
    """
    import pandas as pd

    ids, tags, _digests = _columns(images)
    keep = [any_matches(pattern, t) for t in tags]
    if search:
        needle = search.lower()
        keep = [k and (needle in " ".join(t).lower() + " " + str(i).lower()) for k, t, i in zip(keep, tags, ids)]
    if refs is not None:
        wanted = set(resolve_images(images, list(refs)))
        keep = [k and i in wanted for k, i in zip(keep, ids)]
    return pd.Series(keep, index=images.index, dtype=bool)


# --------------------------------------------------------------------------- the top N and the rest

def rest_label(count: int, noun: str) -> str:
    """The name of the one row or bar that sums what the top N leaves out.

    >>> rest_label(1975, "images")
    'other (1,975 images)'
    """
    return f"other ({count:,} {noun})"


def is_rest_label(text: Any) -> bool:
    """Is ``text`` a :func:`rest_label`?"""
    return isinstance(text, str) and bool(re.fullmatch(r"other \([0-9,]+ [^()]+\)", text))


def top_and_rest(frame, n: int | None, by: str | Iterable[str] | None = None, *, ascending=False):
    """``(top, rest)``: the first ``n`` rows of ``frame`` ranked by ``by``, and the others.

    Rule: rows are ranked by the columns ``by`` (largest first unless ``ascending``; unknown
    values last; ties keep the frame's order); without ``by`` the frame's order is the ranking.
    ``n=None`` keeps every row (``rest`` is then empty). Both parts keep the ranking's order.
    """
    ranked = frame
    if by is not None:
        cols = [by] if isinstance(by, str) else list(by)
        ranked = frame.sort_values(cols, ascending=ascending, na_position="last", kind="stable")
    if n is None or len(ranked) <= n:
        return ranked, ranked.iloc[0:0]
    return ranked.iloc[:n], ranked.iloc[n:]


def known_sum(values):
    """The sum of ``values``, or None when any of them is unknown (None, NaN, NA): never a partial sum."""
    total = 0
    for v in values:
        if v is None:
            return None
        try:
            if v != v:  # NaN
                return None
        except TypeError:  # pandas NA compares to NA: unknown
            return None
        total += v
    return int(total) if isinstance(total, (int, float)) and float(total).is_integer() else total


def with_rest_row(frame, n: int | None, *, by: str | Iterable[str] | None = None, label: str,
                  noun: str, sums: Iterable[str] = (), ascending=False):
    """The top ``n`` rows (:func:`top_and_rest`) and, when rows are left out, one row summing them.

    The extra row has ``label`` set to :func:`rest_label` of the rows it holds, each column of
    ``sums`` set to their sum (unknown when one of them is unknown, see :func:`known_sum`), and
    nothing in the other columns.

    Returns
    -------
    (DataFrame, int)
        The rows to show, and how many rows the frame had before the cut.
    """
    import pandas as pd

    top, rest = top_and_rest(frame, n, by, ascending=ascending)
    if rest.empty:
        return top.reset_index(drop=True), len(frame)
    row: dict[str, Any] = {c: None for c in frame.columns}
    row[label] = rest_label(len(rest), noun)
    for col in sums:
        total = known_sum(rest[col].tolist())
        row[col] = pd.NA if total is None else total
    extra = pd.DataFrame([row], columns=list(frame.columns))
    for col in sums:
        extra[col] = extra[col].astype(frame[col].dtype) if str(frame[col].dtype) in ("Int64", "Float64") \
            else extra[col]
    return pd.concat([top, extra], ignore_index=True), len(frame)

