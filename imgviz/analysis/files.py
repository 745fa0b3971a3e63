"""What is inside the layers: the filesystem each layer sees, what each layer changed, wasted bytes.

Every function here is pure: the ``files`` frame (one row per layer diff ID and path, see
``imgviz.schema("files")``) and the ``layers`` frame in, a new frame or a plain dict out; nothing is
read, printed or changed in place. Each comes in two levels, like the rest of imgviz: the frame
functions (``union``, ``changes``, ``wasted``, ``waste``, ``duplicates``, ``duplicate_matrix``,
``shared_savings``, ``largest_dirs``) and, for the command line, the same rules on plain lists of
:class:`Entry` per layer (``*_entries``), which need no pandas.

The rules, stated once
----------------------
**Union** (what a container of the image sees; what ``docker export`` writes): overlayfs stacks
the layers base first. In each layer, a whiteout (tar member ``.wh.NAME``) hides NAME and all
beneath it in the layers below; an opaque directory (a ``.wh..wh..opq`` member inside it) hides
everything the layers below hold beneath that directory; then every entry of the layer replaces
the entry at its path, and a non-directory that replaces a directory hides the directory's lower
content too. A directory over a directory merges: its own mode and owner win, the children of both
stay. A hard link is a second name for a file of the same layer, so it keeps that file's bytes
even when the first name is removed later.

**Changes** of a layer, one row per entry, against the union of the layers below: ``added`` (the
path did not exist), ``modified`` (the content differs, or cannot be told equal), ``metadata``
(same content, only mode, owner or mtime changed: the whole file is shipped again), ``unchanged``
(a directory repeated with the same mode and owner, as the classic builder repeats parents),
``removed`` (a whiteout). ``hidden_bytes`` and ``hidden_files`` count what the entry hides in the
layers below (the removed subtree, the overwritten file, an opaque directory's lower content).

**Wasted bytes**, imgviz's own figure: bytes of regular files shipped in a layer that are not in
the final filesystem, because a later layer removed, overwrote or hid them. Every byte counted is
downloaded and stored, and no container can read it.

**dive's figures** (:func:`waste`), replayed as dive 0.13.1 computes them
(``filetree/efficiency.go``, ``image/analysis.go``), so a CI gate can move from dive as it is:

- each layer is a tree of its tar members (opaque markers are not added; parents missing from
  the tar appear as empty non-directories); its leaves are visited depth first, names sorted;
- a path's ``count`` is the number of leaves at that path over all layers (a whiteout counts at
  the path it hides); its bytes are the leaves' sizes added up, where a whiteout of a directory
  counts every byte beneath that directory in the layers below (opaque directories ignored), and
  a whiteout of anything else counts 0; a whiteout of a path no lower layer has stops dive's walk
  of that layer;
- ``wasted_bytes`` (dive: inefficientBytes) = the bytes of every path counted twice or more,
  *all* copies included: a 10 MB file overwritten once counts 20 MB;
- ``efficiency`` = sum over paths of the smallest leaf size / sum over paths of all leaf sizes;
- ``size_bytes`` = the sum of every tar member's size over all layers; ``user_size_bytes`` the
  same without the first layer; ``user_wasted_percent`` = wasted_bytes / user_size_bytes.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
from typing import Any, Iterable, NamedTuple, Sequence

#: the ``files`` frame's columns that describe an entry (the frame adds ``diff_id`` first)
FIELDS = ("path", "type", "size", "mode", "uid", "gid", "link", "mtime", "digest", "opaque")

#: what each change means (in figures' legends and the CLI)
CHANGES = {
    "added": "the path is new",
    "modified": "new content at an existing path",
    "metadata": "same content, only mode/owner/mtime changed: the whole file is shipped again",
    "unchanged": "a directory repeated with the same mode and owner",
    "removed": "a whiteout: the path and everything beneath it is hidden",
}


class Entry(NamedTuple):
    """One row of the ``files`` frame without its ``diff_id`` (what a layer reader yields).

    ``path`` is absolute (``/etc/passwd``); ``type`` is ``file``, ``dir``, ``symlink``,
    ``hardlink``, ``char``, ``block``, ``fifo``, ``whiteout`` (``path`` is the path it hides) or
    ``opaque`` (a ``.wh..wh..opq`` marker whose directory has no entry of its own in the layer);
    ``size`` counts regular files only; ``link`` is a symlink's target as written or a hard
    link's target path (absolute); ``digest`` is ``sha256:`` of a regular file's content when it
    was asked for; ``opaque`` is True for a directory that hides its lower content.
    """

    path: str
    type: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str | None = None
    mtime: int = 0
    digest: str | None = None
    opaque: bool = False


def entries_from_layer(items: Iterable[Any]) -> list[Entry]:
    """Turn a layer reader's items (``LayerEntry``-like: path without a leading ``/``) into rows.

    One row per path, the last tar member winning as unpacking would leave it; an opaque marker
    sets ``opaque`` on its directory's row (or is a row of type ``opaque`` when the layer has no
    entry for the directory itself). The tar's root entry (``./``) is left out.
    """
    rows: dict[str, Entry] = {}
    opaque_dirs: list[str] = []
    for e in items:
        path = "/" + e.path.strip("/")
        if path == "/":
            continue
        if e.type == "opaque":
            opaque_dirs.append(path)
            continue
        link = e.link
        if e.type == "hardlink" and link is not None:
            link = "/" + link.strip("/")
        rows.pop(path, None)  # a repeated path moves to its last place
        rows[path] = Entry(path, e.type, int(e.size), int(e.mode), int(e.uid), int(e.gid), link, int(e.mtime),
                           e.digest)
    for path in opaque_dirs:
        row = rows.get(path)
        if row is not None and row.type == "dir":
            rows[path] = row._replace(opaque=True)
        elif row is None:
            rows[path] = Entry(path, "opaque", 0, 0, 0, 0, opaque=True)
    return list(rows.values())


def _parent(path: str) -> str:
    return posixpath.dirname(path) or "/"


# ----------------------------------------------------------------------------------------------
# union (overlayfs)
# ----------------------------------------------------------------------------------------------
class _Union:
    """The overlayfs view of the layers applied so far: path -> (position, Entry)."""

    def __init__(self) -> None:
        self.at: dict[str, tuple[int, Entry]] = {}
        self.kids: dict[str, set[str]] = {}

    def _drop(self, path: str, out: list | None) -> None:
        stack = [path]
        while stack:
            p = stack.pop()
            got = self.at.pop(p, None)
            if got is not None and out is not None:
                out.append(got)
            kids = self.kids.pop(p, None)
            if kids:
                stack.extend(kids)
        parent = self.kids.get(_parent(path))
        if parent is not None:
            parent.discard(path)

    def hide_below(self, path: str, *, keep_self: bool, out: list | None = None) -> None:
        if keep_self:
            for kid in list(self.kids.get(path, ())):
                self._drop(kid, out)
        elif path in self.at or path in self.kids:
            self._drop(path, out)

    def put(self, position: int, e: Entry, out: list | None = None) -> None:
        old = self.at.get(e.path)
        if old is not None and old[1].type in ("dir", "opaque") and e.type not in ("dir", "opaque"):
            self.hide_below(e.path, keep_self=True, out=out)
        self.at[e.path] = (position, e)
        p = e.path
        while p != "/":
            parent = _parent(p)
            kids = self.kids.setdefault(parent, set())
            if p in kids:
                break
            kids.add(p)
            p = parent

    def apply(self, position: int, layer: Sequence[Entry], hidden: dict | None = None) -> None:
        """Apply one layer; ``hidden`` (path -> list of hidden (position, Entry)) is filled when given."""
        for e in layer:
            if e.type == "whiteout" or e.opaque:
                out = [] if hidden is not None else None
                self.hide_below(e.path, keep_self=e.type != "whiteout", out=out)
                if hidden is not None:
                    hidden.setdefault(e.path, []).extend(out)
        for e in layer:
            if e.type == "whiteout":
                continue
            if e.type == "opaque" and e.path in self.at:
                continue  # a marker alone keeps the directory below it
            out = [] if hidden is not None else None
            old = self.at.get(e.path)
            self.put(position, e, out)
            if hidden is not None:
                lost = out + ([old] if old is not None and old[1].type not in ("dir", "opaque") else [])
                if lost:
                    hidden.setdefault(e.path, []).extend(lost)


def union_entries(layers: Sequence[Sequence[Entry]], upto: int | None = None) -> dict[str, tuple[int, Entry]]:
    """The union of ``layers[0..upto]`` (all by default): path -> (position that provides it, Entry)."""
    u = _Union()
    last = len(layers) - 1 if upto is None else upto
    for position, layer in enumerate(layers[: last + 1]):
        u.apply(position, layer)
    return u.at


def _content(position: int, e: Entry, by_layer: Sequence[dict[str, Entry]]) -> Entry:
    """A hard link's target entry in its own layer (what its bytes are), else the entry itself."""
    if e.type == "hardlink" and e.link:
        target = by_layer[position].get(e.link)
        if target is not None:
            return target
    return e


# ----------------------------------------------------------------------------------------------
# changes and wasted bytes (imgviz's rules)
# ----------------------------------------------------------------------------------------------
def _bytes_of(hidden: list[tuple[int, Entry]]) -> tuple[int, int]:
    files = [e for _, e in hidden if e.type not in ("dir", "opaque", "whiteout")]
    return sum(e.size for e in files if e.type == "file"), len(files)


def _same_content(old: Entry, new: Entry) -> bool | None:
    if old.type != new.type or old.link != new.link:
        return False
    if new.type != "file":
        return True
    if old.size != new.size:
        return False
    if old.digest and new.digest:
        return old.digest == new.digest
    return None  # sizes equal, content unknown


def _classify(old: Entry | None, new: Entry) -> str:
    if new.type == "whiteout":
        return "removed"
    if old is None:
        return "added"
    if new.type in ("dir", "opaque") and old.type in ("dir", "opaque"):
        if new.opaque:
            return "modified"  # its lower content is hidden: the directory's content is new
        return "unchanged" if (old.mode, old.uid, old.gid) == (new.mode, new.uid, new.gid) else "metadata"
    same = _same_content(old, new)
    if same is None:
        # without content digests, a file is only known unchanged in content when nothing moved
        same = old.mtime == new.mtime
    if not same:
        return "modified"
    if (old.mode, old.uid, old.gid, old.mtime) == (new.mode, new.uid, new.gid, new.mtime) and new.type != "file":
        return "unchanged"
    return "metadata"


def changes_entries(layers: Sequence[Sequence[Entry]]) -> list[dict[str, Any]]:
    """Per layer entry, its change against the union below (see the module's rules)."""
    u = _Union()
    out: list[dict[str, Any]] = []
    for position, layer in enumerate(layers):
        before = {e.path: u.at.get(e.path) for e in layer}
        hidden: dict[str, list] = {}
        u.apply(position, layer, hidden)
        for e in layer:
            old = before[e.path]
            change = _classify(old[1] if old else None, e)
            if e.type == "whiteout" and old is None and not hidden.get(e.path):
                change = "removed"
            hb, hf = _bytes_of(hidden.get(e.path, []))
            out.append({"position": position, "path": e.path, "type": e.type, "change": change,
                        "size": e.size, "hidden_bytes": hb, "hidden_files": hf})
    return out


def wasted_entries(layers: Sequence[Sequence[Entry]]) -> list[dict[str, Any]]:
    """Regular files shipped in a layer that the final filesystem does not show.

    One dict per such file: ``position`` (its layer), ``path``, ``wasted_bytes``, ``reason``
    (``removed``: a later whiteout or opaque directory hid it; ``overwritten``: a later layer put
    other content at the path; ``metadata``: a later layer shipped the same content again with
    another mode, owner or mtime; ``replaced``: a later layer put a non-directory in place of a
    directory above it), ``by_position`` (the first layer that hid it).
    """
    final = union_entries(layers)
    by_layer = [{e.path: e for e in layer} for layer in layers]
    # names that keep a layer's inode visible: a hard link keeps its target's bytes
    visible_inode: set[tuple[int, str]] = set()
    for path, (position, e) in final.items():
        if e.type == "file":
            visible_inode.add((position, path))
        elif e.type == "hardlink" and e.link:
            visible_inode.add((position, e.link))
    out = []
    for position, layer in enumerate(layers):
        for e in layer:
            if e.type != "file" or e.size == 0 or (position, e.path) in visible_inode:
                continue
            reason, by = _hidden_by(layers, by_layer, position, e)
            out.append({"position": position, "path": e.path, "wasted_bytes": e.size, "reason": reason,
                        "by_position": by})
    return out


def _hidden_by(layers, by_layer, position: int, e: Entry) -> tuple[str, int | None]:
    ancestors = []
    p = e.path
    while p != "/":
        p = _parent(p)
        ancestors.append(p)
    for j in range(position + 1, len(layers)):
        rows = by_layer[j]
        top = rows.get(e.path)
        if top is not None:
            if top.type == "whiteout":
                return "removed", j
            same = _same_content(e, top)
            if same is None:
                same = e.mtime == top.mtime
            return ("metadata" if same else "overwritten"), j
        for a in ancestors:
            above = rows.get(a)
            if above is None:
                continue
            if above.type == "whiteout" or above.opaque:
                return "removed", j
            if above.type not in ("dir",):
                return "replaced", j
    return "removed", None


# ----------------------------------------------------------------------------------------------
# dive 0.13.1's figures, replayed
# ----------------------------------------------------------------------------------------------
class _Node:
    __slots__ = ("kids", "is_dir", "size", "whiteout")

    def __init__(self, is_dir: bool = False, size: int = 0, whiteout: bool = False):
        self.kids: dict[str, _Node] = {}
        self.is_dir, self.size, self.whiteout = is_dir, size, whiteout


def _dive_tree(layer: Sequence[Entry]) -> _Node:
    root = _Node(True)
    for e in layer:
        names = e.path.strip("/").split("/")
        if e.type == "whiteout":
            names[-1] = ".wh." + names[-1]
        node = root
        for name in names[:-1]:
            nxt = node.kids.get(name)
            if nxt is None:
                nxt = node.kids[name] = _Node()
            node = nxt
        name = names[-1]
        if e.type == "opaque":  # only the marker: dive makes its directory, with no payload
            node.kids.setdefault(name, _Node())
            continue
        payload = (e.type == "dir", e.size if e.type == "file" else 0, e.type == "whiteout")
        child = node.kids.get(name)
        if child is None:
            node.kids[name] = _Node(*payload)
        else:
            child.is_dir, child.size, child.whiteout = payload
    return root


def _walk(node: _Node, path: str = ""):
    """(path, node) of every node below ``node``, children first, names in byte order (dive's visit)."""
    for name in sorted(node.kids):
        child = node.kids[name]
        child_path = f"{path}/{name}"
        yield from _walk(child, child_path)
        yield child_path, child


def _trimmed(path: str, node: _Node) -> str:
    if node.whiteout:
        head, _, name = path.rpartition("/")
        return f"{head}/{name[4:]}"
    return path


def _get(root: _Node, path: str) -> _Node | None:
    node = root
    for name in path.strip("/").split("/"):
        if name:
            node = node.kids.get(name)
            if node is None:
                return None
    return node


def _subtree_bytes(node: _Node) -> int:
    total, stack = 0, [node]
    while stack:
        n = stack.pop()
        total += n.size
        stack.extend(n.kids.values())
    return total


def _stack(base: _Node, upper: _Node) -> None:
    """dive's ``FileTree.Stack``: whiteouts remove, every other node of ``upper`` sets its payload."""
    for path, node in _walk(upper):
        if node.whiteout:
            target_path = _trimmed(path, node)
            head, _, name = target_path.rpartition("/")
            parent = _get(base, head) if head else base
            if parent is not None:
                parent.kids.pop(name, None)
            continue
        names = path.strip("/").split("/")
        cur = base
        for name in names[:-1]:
            nxt = cur.kids.get(name)
            if nxt is None:
                nxt = cur.kids[name] = _Node()
            cur = nxt
        child = cur.kids.get(names[-1])
        if child is None:
            cur.kids[names[-1]] = _Node(node.is_dir, node.size)
        else:
            child.is_dir, child.size = node.is_dir, node.size


def _copy(node: _Node) -> _Node:
    new = _Node(node.is_dir, node.size, node.whiteout)
    new.kids = {k: _copy(v) for k, v in node.kids.items()}
    return new


def dive_entries(layers: Sequence[Sequence[Entry]]) -> dict[str, Any]:
    """dive 0.13.1's analysis of an image given as its layers' entries (base first).

    Returns
    -------
    dict
        ``size_bytes``, ``user_size_bytes``, ``wasted_bytes``, ``efficiency``,
        ``user_wasted_percent`` (None when the image has no bytes above its base), ``layer_sizes``
        (list, bytes per layer as dive counts them), ``files``: list of ``{"path", "count",
        "wasted_bytes"}``, largest first (dive's fileReference).
    """
    trees = [_dive_tree(layer) for layer in layers]
    stats: dict[str, list[int]] = {}  # path -> [count, cumulative, smallest]
    stacked: _Node | None = None
    for index, tree in enumerate(trees):
        lower = trees[0] if index == 0 else stacked
        for path, node in _walk(tree):
            if node.kids:
                continue
            path = _trimmed(path, node)
            if node.whiteout:
                below = _get(lower, path)
                if below is None:
                    break  # dive: "path does not exist" ends its walk of this layer
                size = _subtree_bytes(below) if below.is_dir else 0
            else:
                size = node.size
            s = stats.get(path)
            if s is None:
                stats[path] = [1, size, size]
            else:
                s[0] += 1
                s[1] += size
                if size < s[2]:
                    s[2] = size
        if stacked is None:
            stacked = _copy(tree)
        _stack(stacked, tree)
    layer_sizes = [sum(e.size for e in layer if e.type == "file") for layer in layers]
    size_bytes = sum(layer_sizes)
    user_size = sum(layer_sizes[1:])
    smallest = sum(s[2] for s in stats.values())
    discovered = sum(s[1] for s in stats.values())
    efficiency = 1.0 if discovered == 0 else float(smallest) / float(discovered)
    files = sorted(({"path": p, "count": s[0], "wasted_bytes": s[1]} for p, s in stats.items() if s[0] >= 2),
                   key=lambda f: (-f["wasted_bytes"], f["path"]))
    wasted = sum(f["wasted_bytes"] for f in files)
    return {"size_bytes": size_bytes, "user_size_bytes": user_size, "wasted_bytes": wasted,
            "efficiency": efficiency,
            "user_wasted_percent": (wasted / user_size) if user_size else None,
            "layer_sizes": layer_sizes, "files": files}


# ----------------------------------------------------------------------------------------------
# CI rules (dive's --ci thresholds)
# ----------------------------------------------------------------------------------------------
_SI = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
       "t": 1000**4, "tb": 1000**4, "p": 1000**5, "pb": 1000**5, "e": 1000**6, "eb": 1000**6,
       "ki": 1024, "kib": 1024, "mi": 1024**2, "mib": 1024**2, "gi": 1024**3, "gib": 1024**3,
       "ti": 1024**4, "tib": 1024**4, "pi": 1024**5, "pib": 1024**5, "ei": 1024**6, "eib": 1024**6}


def parse_bytes(text: str) -> int:
    """A byte count as dive's ``highestWastedBytes`` reads it (go-humanize ParseBytes).

    ``20MB`` is 20,000,000 bytes, ``20MiB`` 20,971,520, ``1.5 GB`` 1,500,000,000, a bare number
    is bytes. Raises ValueError naming the text when it is not a size.

    >>> parse_bytes("20MB"), parse_bytes("20 MiB"), parse_bytes("512")
    (20000000, 20971520, 512)
    """
    s = str(text).strip().replace(",", "")
    k = 0
    while k < len(s) and (s[k].isdigit() or s[k] == "."):
        k += 1
    number, unit = s[:k], s[k:].strip().lower()
    if not number or unit not in _SI:
        raise ValueError(f"{text!r} is not a size such as 20MB or 20MiB")
    value = float(number) * _SI[unit]
    if value >= 2**64:
        raise ValueError(f"{text!r} is too large")
    return int(value)


def ci_rules(result: dict[str, Any], *, lowest_efficiency: float | str | None = 0.9,
             highest_wasted_bytes: int | str | None = None,
             highest_user_wasted_percent: float | str | None = 0.1) -> list[dict[str, Any]]:
    """dive's three CI rules against :func:`waste`'s result; None (or ``"disabled"``) turns a rule off.

    The rules and their defaults are dive's: efficiency below ``lowest_efficiency`` (0.9) fails;
    wasted bytes above ``highest_wasted_bytes`` (off) fails; wasted bytes over the bytes above the
    base layer above ``highest_user_wasted_percent`` (0.1) fails.

    Returns
    -------
    list of dict
        ``rule``, ``threshold``, ``value``, ``status`` (``pass``, ``fail`` or ``skip``), ``message``.
    """
    def off(v):
        return v is None or (isinstance(v, str) and v.strip().lower() == "disabled")

    out = []
    if off(lowest_efficiency):
        out.append({"rule": "lowestEfficiency", "threshold": None, "value": result["efficiency"], "status": "skip",
                    "message": "rule disabled"})
    else:
        t = _ratio(lowest_efficiency, "lowestEfficiency")
        fail = t > result["efficiency"]
        out.append({"rule": "lowestEfficiency", "threshold": t, "value": result["efficiency"],
                    "status": "fail" if fail else "pass",
                    "message": f"image efficiency is too low (efficiency={result['efficiency']} < threshold={t})"
                    if fail else ""})
    if off(highest_wasted_bytes):
        out.append({"rule": "highestWastedBytes", "threshold": None, "value": result["wasted_bytes"],
                    "status": "skip", "message": "rule disabled"})
    else:
        t = highest_wasted_bytes if isinstance(highest_wasted_bytes, int) else parse_bytes(highest_wasted_bytes)
        fail = result["wasted_bytes"] > t
        out.append({"rule": "highestWastedBytes", "threshold": t, "value": result["wasted_bytes"],
                    "status": "fail" if fail else "pass",
                    "message": f"too many bytes wasted (wasted-bytes={result['wasted_bytes']} > threshold={t})"
                    if fail else ""})
    pct = result.get("user_wasted_percent")
    if off(highest_user_wasted_percent):
        out.append({"rule": "highestUserWastedPercent", "threshold": None, "value": pct, "status": "skip",
                    "message": "rule disabled"})
    else:
        t = _ratio(highest_user_wasted_percent, "highestUserWastedPercent")
        # dive divides by zero here: NaN (no waste) never fails, +Inf (waste on an empty base) does
        value = pct if pct is not None else (math.inf if result["wasted_bytes"] else math.nan)
        fail = t < value
        out.append({"rule": "highestUserWastedPercent", "threshold": t, "value": pct,
                    "status": "fail" if fail else "pass",
                    "message": f"too many bytes wasted, relative to the user bytes added "
                               f"(%-user-wasted-bytes={value} > threshold={t})" if fail else ""})
    return out


def _ratio(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not a number between 0 and 1") from None
    if not 0 <= v <= 1:
        raise ValueError(f"{name}={value!r} is outside 0-1")
    return v


# ----------------------------------------------------------------------------------------------
# the frame level
# ----------------------------------------------------------------------------------------------
def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def layer_entries(files, diff_ids: Sequence[str]) -> list[list[Entry]]:
    """The ``files`` frame's rows of each diff ID in ``diff_ids`` as lists of :class:`Entry`."""
    want = set(diff_ids)
    sub = files[files["diff_id"].isin(want)]
    groups: dict[str, list[Entry]] = {d: [] for d in want}
    cols = ["diff_id", *FIELDS]
    for row in sub[cols].itertuples(index=False, name=None):
        d, path, typ, size, mode, uid, gid, link, mtime, digest, opaque = row
        groups[d].append(Entry(path, typ, int(size), int(mode), int(uid), int(gid), _text(link), int(mtime),
                               _text(digest), bool(opaque)))
    missing = [d for d in diff_ids if d not in set(files["diff_id"])]
    if missing:
        from ..errors import ImgvizError

        raise ImgvizError(f"the files frame has no rows for layer {missing[0]}: read that image's files first")
    return [groups[d] for d in diff_ids]


def image_diff_ids(layers, image_id: str) -> list[str]:
    """The image's layer diff IDs, base first, from the ``layers`` frame."""
    rows = layers[layers["image_id"] == image_id].sort_values("position")
    if rows.empty:
        from ..errors import ImageNotFound

        raise ImageNotFound(f"{image_id}: no layers of this image in the frames")
    return [str(d) for d in rows["diff_id"]]


def _layer_info(layers, image_id: str):
    return layers[layers["image_id"] == image_id].sort_values("position").reset_index(drop=True)


def union(files, layers, image_id: str, *, upto: int | None = None):
    """The filesystem a container of the image sees (layers ``0..upto``; all by default).

    Parameters
    ----------
    files : DataFrame
        The ``files`` frame (:func:`imgviz.files`).
    layers : DataFrame
        The ``layers`` frame (for the image's diff IDs in order).
    image_id : str
        Full image ID.
    upto : int, optional
        Last layer position to apply (the view from that layer).

    Returns
    -------
    DataFrame
        One row per visible path, sorted by path: ``path``, ``type``, ``size``, ``mode``, ``uid``,
        ``gid``, ``link``, ``mtime``, ``digest``, ``position`` (the layer that provides it),
        ``diff_id``, ``content_size`` (bytes a reader gets: a hard link's target size).
    """
    import pandas as pd

    diff_ids = image_diff_ids(layers, image_id)
    entries = layer_entries(files, diff_ids)
    at = union_entries(entries, upto)
    by_layer = [{e.path: e for e in layer} for layer in entries]
    rows = []
    for path in sorted(at):
        position, e = at[path]
        rows.append({**e._asdict(), "position": position, "diff_id": diff_ids[position],
                     "content_size": _content(position, e, by_layer).size})
    return _typed(pd.DataFrame(rows, columns=[*FIELDS, "position", "diff_id", "content_size"]))


def _typed(df):
    dtypes = {"path": "string", "type": "string", "size": "int64", "mode": "int64", "uid": "int64",
              "gid": "int64", "link": "string", "mtime": "int64", "digest": "string", "opaque": "bool",
              "position": "int64", "diff_id": "string", "content_size": "int64", "hidden_bytes": "int64",
              "hidden_files": "int64", "change": "string", "wasted_bytes": "int64", "reason": "string",
              "by_position": "Int64", "created_by": "string"}
    return df.astype({c: t for c, t in dtypes.items() if c in df.columns})


def changes(files, layers, image_id: str):
    """What each layer of the image added, modified and removed (the module's rules).

    Returns
    -------
    DataFrame
        One row per layer entry: ``position``, ``diff_id``, ``created_by``, ``path``, ``type``,
        ``change`` (added / modified / metadata / unchanged / removed), ``size``, ``hidden_bytes``,
        ``hidden_files``.
    """
    import pandas as pd

    info = _layer_info(layers, image_id)
    entries = layer_entries(files, list(info["diff_id"]))
    df = pd.DataFrame(changes_entries(entries),
                      columns=["position", "path", "type", "change", "size", "hidden_bytes", "hidden_files"])
    df.insert(1, "diff_id", info["diff_id"].astype(str).to_numpy()[df["position"].to_numpy(dtype=int)])
    df.insert(2, "created_by", info["created_by"].astype(object).to_numpy()[df["position"].to_numpy(dtype=int)])
    return _typed(df)


def layer_summary(files, layers, image_id: str):
    """Per layer of the image: entries added, modified, metadata-only, removed, and their bytes.

    Returns
    -------
    DataFrame
        ``position``, ``diff_id``, ``created_by``, ``added``, ``modified``, ``metadata``,
        ``removed`` (entry counts), ``added_bytes``, ``modified_bytes``, ``metadata_bytes``
        (bytes of the entries), ``removed_bytes`` (bytes of lower files hidden by whiteouts and
        opaque directories), ``wasted_bytes`` (bytes of this layer the final filesystem does not
        show, :func:`wasted`).
    """
    import pandas as pd

    info = _layer_info(layers, image_id)
    ch = changes(files, layers, image_id)
    w = wasted(files, layers, image_id)
    rows = []
    for r in info.itertuples(index=False):
        c = ch[ch["position"] == r.position]
        row = {"position": int(r.position), "diff_id": r.diff_id, "created_by": r.created_by}
        for kind in ("added", "modified", "metadata", "removed"):
            row[kind] = int((c["change"] == kind).sum())
        for kind in ("added", "modified", "metadata"):
            row[f"{kind}_bytes"] = int(c.loc[c["change"] == kind, "size"].sum())
        hid = c[(c["type"] == "whiteout") | c["path"].isin([])]
        row["removed_bytes"] = int(hid["hidden_bytes"].sum())
        opaque = files[(files["diff_id"] == r.diff_id) & files["opaque"]]["path"]
        if len(opaque):
            row["removed_bytes"] += int(c.loc[c["path"].isin(set(opaque)), "hidden_bytes"].sum())
        row["wasted_bytes"] = int(w.loc[w["position"] == r.position, "wasted_bytes"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def wasted(files, layers, image_id: str):
    """Files shipped in the image's layers that its final filesystem does not show (imgviz's rule).

    Returns
    -------
    DataFrame
        One row per (layer, file): ``position``, ``diff_id``, ``created_by``, ``path``,
        ``wasted_bytes``, ``reason`` (removed / overwritten / metadata / replaced), ``by_position``
        (the layer that hid it), largest first. Its sum is the bytes downloaded and stored for
        nothing.
    """
    import pandas as pd

    info = _layer_info(layers, image_id)
    entries = layer_entries(files, list(info["diff_id"]))
    df = pd.DataFrame(wasted_entries(entries),
                      columns=["position", "path", "wasted_bytes", "reason", "by_position"])
    pos = df["position"].to_numpy(dtype=int)
    df.insert(1, "diff_id", info["diff_id"].astype(str).to_numpy()[pos])
    df.insert(2, "created_by", info["created_by"].astype(object).to_numpy()[pos])
    df = df.sort_values(["wasted_bytes", "path"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return _typed(df)


def waste(files, layers, image_id: str) -> dict[str, Any]:
    """dive's figures for the image plus imgviz's own (see the module's rules).

    Returns
    -------
    dict
        dive's: ``size_bytes``, ``user_size_bytes``, ``wasted_bytes``, ``efficiency``,
        ``user_wasted_percent``, ``files`` (``path``, ``count``, ``wasted_bytes``); imgviz's:
        ``shipped_not_final_bytes`` (bytes of files in the layers that the final filesystem does
        not show), ``final_bytes`` (bytes of regular files it does show), ``layers`` (per layer:
        ``position``, ``diff_id``, ``created_by``, ``size_bytes`` as dive counts it,
        ``added``, ``modified``, ``removed``, ``wasted_bytes``).
    """
    info = _layer_info(layers, image_id)
    diff_ids = [str(d) for d in info["diff_id"]]
    entries = layer_entries(files, diff_ids)
    return waste_entries(entries, diff_ids=diff_ids, created_by=list(info["created_by"]))


def waste_entries(entries: Sequence[Sequence[Entry]], *, diff_ids: Sequence[str] | None = None,
                  created_by: Sequence[Any] | None = None) -> dict[str, Any]:
    """:func:`waste` on plain lists of entries per layer (no pandas)."""
    dive = dive_entries(entries)
    lost = wasted_entries(entries)
    ch = changes_entries(entries)
    final = union_entries(entries)
    by_layer = [{e.path: e for e in layer} for layer in entries]
    final_bytes = 0
    seen_inodes: set[tuple[int, str]] = set()
    for path, (position, e) in final.items():
        target = _content(position, e, by_layer)
        if target.type == "file":
            key = (position, target.path)
            if key not in seen_inodes:
                seen_inodes.add(key)
                final_bytes += target.size
    per_layer = []
    for position, layer in enumerate(entries):
        c = [r for r in ch if r["position"] == position]
        per_layer.append({
            "position": position,
            "diff_id": diff_ids[position] if diff_ids else None,
            "created_by": (created_by[position] if created_by is not None and isinstance(created_by[position], str)
                           else None),
            "size_bytes": dive["layer_sizes"][position],
            "added": sum(r["change"] == "added" for r in c),
            "modified": sum(r["change"] in ("modified", "metadata") for r in c),
            "removed": sum(r["change"] == "removed" for r in c),
            "wasted_bytes": sum(r["wasted_bytes"] for r in lost if r["position"] == position),
        })
    return {**{k: v for k, v in dive.items() if k != "layer_sizes"},
            "shipped_not_final_bytes": sum(r["wasted_bytes"] for r in lost), "final_bytes": final_bytes,
            "layers": per_layer, "wasted": lost}


# ----------------------------------------------------------------------------------------------
# across layers and images: duplicates by content, what one shared layer would save, big dirs
# ----------------------------------------------------------------------------------------------
def _need_digests(files) -> None:
    from ..errors import ImgvizError

    regular = files[files["type"] == "file"]
    if len(regular) and regular["digest"].isna().all():
        raise ImgvizError("duplicates need content digests: read the files with digests=True "
                          "(`imgviz files --digests`)")


def _image_layers(layers, image_ids: Iterable[str] | None):
    rows = layers if image_ids is None else layers[layers["image_id"].isin(list(image_ids))]
    return rows[["image_id", "position", "diff_id"]]


def duplicates(files, layers, *, images: Iterable[str] | None = None, min_size: int = 1):
    """Files with the same content (sha256) at more than one place: other paths or other layers.

    A place is a (layer diff ID, path); a layer used by several images is one place, as the
    engine stores it once. ``extra_bytes`` = size x (places - 1): what storing each content once
    would save.

    Parameters
    ----------
    files, layers : DataFrame
    images : list of str, optional
        Image IDs to consider (default: every image in ``layers``).
    min_size : int, default 1
        Ignore files smaller than this.

    Returns
    -------
    DataFrame
        One row per duplicated content, most extra bytes first: ``digest``, ``size``, ``places``,
        ``layers`` (distinct diff IDs), ``images`` (number of images holding it), ``extra_bytes``,
        ``paths`` (sorted list), ``image_ids`` (sorted list).
    """
    import pandas as pd

    _need_digests(files)
    il = _image_layers(layers, images)
    diff_images = il.groupby("diff_id")["image_id"].agg(lambda s: sorted(set(s)))
    f = files[(files["type"] == "file") & files["digest"].notna() & (files["size"] >= max(min_size, 1))
              & files["diff_id"].isin(set(il["diff_id"]))]
    cols = ["digest", "size", "places", "layers", "images", "extra_bytes", "paths", "image_ids"]
    if f.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for digest, g in f.groupby("digest", sort=False):
        places = len(g)
        if places < 2:
            continue
        ids = sorted({i for d in g["diff_id"].unique() for i in diff_images.get(d, [])})
        size = int(g["size"].iloc[0])
        rows.append({"digest": digest, "size": size, "places": places, "layers": int(g["diff_id"].nunique()),
                     "images": len(ids), "extra_bytes": size * (places - 1), "paths": sorted(set(g["path"])),
                     "image_ids": ids})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["extra_bytes", "digest"], ascending=[False, True]).reset_index(drop=True)


def duplicate_matrix(files, layers, *, images: Iterable[str] | None = None, min_size: int = 1):
    """Bytes of identical file content two images each carry in layers they do not share.

    Cell (a, b), a != b: the bytes of every content that image a holds in a layer image b does not
    have and image b holds in a layer image a does not have (stored twice although the bytes are
    the same). Diagonal (a, a): the bytes of contents image a holds more than once (size x
    (places in a - 1)).

    Returns
    -------
    DataFrame
        Square, indexed and labelled by image ID (Int64 bytes).
    """
    import pandas as pd

    _need_digests(files)
    il = _image_layers(layers, images)
    ids = [i for i in dict.fromkeys(images) if i in set(il["image_id"])] if images is not None \
        else list(dict.fromkeys(il["image_id"]))
    img_layers = {i: set(g) for i, g in il.groupby("image_id")["diff_id"]}
    f = files[(files["type"] == "file") & files["digest"].notna() & (files["size"] >= max(min_size, 1))
              & files["diff_id"].isin(set(il["diff_id"]))]
    m = pd.DataFrame(0, index=ids, columns=ids, dtype="int64")
    for digest, g in f.groupby("digest", sort=False):
        size = int(g["size"].iloc[0])
        places = list(zip(g["diff_id"], g["path"]))
        holders = {i: [(d, p) for d, p in places if d in img_layers[i]] for i in ids}
        holders = {i: v for i, v in holders.items() if v}
        for a, pa in holders.items():
            if len(pa) > 1:
                m.loc[a, a] += size * (len(pa) - 1)
            for b, pb in holders.items():
                if a == b:
                    continue
                own_a = {d for d, _ in pa if d not in img_layers[b]}
                own_b = {d for d, _ in pb if d not in img_layers[a]}
                if own_a and own_b:
                    m.loc[a, b] += size
    return m


def _dir_fingerprints(layer: Sequence[Entry]) -> dict[str, tuple[str, int, int]]:
    """dir path -> (content fingerprint, bytes, files) of everything beneath it in this layer."""
    under: dict[str, list[tuple[str, str, int]]] = {}
    for e in layer:
        if e.type in ("whiteout", "opaque"):
            key = f"{e.type}"
        elif e.type == "file":
            key = f"file {e.digest} {e.mode:o}"
        elif e.type in ("symlink", "hardlink"):
            key = f"{e.type} {e.link} {e.mode:o}"
        else:
            key = f"{e.type} {e.mode:o}"
        p = e.path
        while p != "/":
            parent = _parent(p)
            under.setdefault(parent, []).append((e.path[len(parent):].lstrip("/"), key, e.size))
            p = parent
    out = {}
    for d, items in under.items():
        if d == "/":
            continue
        items.sort()
        h = hashlib.sha256("\n".join(f"{rel}\0{key}" for rel, key, _ in items).encode("utf-8", "surrogateescape"))
        out[d] = (h.hexdigest(), sum(s for _, _, s in items), sum(1 for _, k, _ in items if k.startswith("file")))
    return out


def shared_savings(files, layers, *, images: Iterable[str] | None = None, min_size: int = 1_000_000):
    """Directories with the same content in several layers: what one shared layer would save.

    Two directories match when everything beneath them matches: relative paths, types, modes,
    symlink targets and file contents (sha256). A directory found in ``n`` distinct layers is
    stored ``n`` times; one layer holding it, shared by the images, would store it once and save
    ``bytes x (n - 1)``: "12 images each carry the same 40 MB node_modules: one shared layer would
    save 440 MB". Only the topmost matching directories are listed (not each subdirectory again).

    Parameters
    ----------
    files, layers : DataFrame
    images : list of str, optional
        Image IDs (default: all in ``layers``).
    min_size : int, default 1,000,000
        Smallest directory (bytes) worth listing.

    Returns
    -------
    DataFrame
        ``path`` (the first path it is found at), ``paths`` (every path), ``bytes``, ``files``,
        ``layers`` (distinct diff IDs holding it), ``images`` (number of images),
        ``saved_bytes``, ``image_ids``; most saved first.
    """
    import pandas as pd

    _need_digests(files)
    il = _image_layers(layers, images)
    diff_images = il.groupby("diff_id")["image_id"].agg(lambda s: sorted(set(s)))
    diff_ids = list(dict.fromkeys(il["diff_id"]))
    entries = dict(zip(diff_ids, layer_entries(files, diff_ids)))
    groups: dict[str, dict[str, Any]] = {}
    member_of: dict[tuple[str, str], str] = {}
    for d in diff_ids:
        for path, (fp, nbytes, nfiles) in _dir_fingerprints(entries[d]).items():
            if nbytes < min_size:
                continue
            g = groups.setdefault(fp, {"bytes": nbytes, "files": nfiles, "places": []})
            g["places"].append((d, path))
            member_of[(d, path)] = fp
    rows = []
    for fp, g in groups.items():
        layer_set = {d for d, _ in g["places"]}
        if len(layer_set) < 2:
            continue
        # topmost only: skip when every place's parent directory is in one group over the same layers
        parents = {member_of.get((d, _parent(p))) for d, p in g["places"]}
        if len(parents) == 1 and None not in parents:
            pg = groups[parents.pop()]
            if {d for d, _ in pg["places"]} == layer_set:
                continue
        ids = sorted({i for d in layer_set for i in diff_images.get(d, [])})
        paths = sorted({p for _, p in g["places"]})
        rows.append({"path": g["places"][0][1], "paths": paths, "bytes": g["bytes"], "files": g["files"],
                     "layers": len(layer_set), "images": len(ids), "saved_bytes": g["bytes"] * (len(layer_set) - 1),
                     "image_ids": ids})
    cols = ["path", "paths", "bytes", "files", "layers", "images", "saved_bytes", "image_ids"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["saved_bytes", "path"], ascending=[False, True]).reset_index(drop=True)


def largest_dirs(files, *, diff_ids: Iterable[str] | None = None, top: int = 10, depth: int | None = None):
    """The directories holding the most bytes in each layer (what the layer put there).

    Parameters
    ----------
    files : DataFrame
    diff_ids : list of str, optional
        Layers to look at (default: every layer in ``files``).
    top : int, default 10
        Directories per layer.
    depth : int, optional
        Only directories this many levels below ``/`` (``/usr`` is 1, ``/usr/lib`` 2); default any.

    Returns
    -------
    DataFrame
        ``diff_id``, ``path``, ``depth``, ``bytes`` (regular file bytes beneath it in this layer),
        ``files`` (entries beneath it); the ``top`` largest per layer, largest first.
    """
    import pandas as pd

    f = files if diff_ids is None else files[files["diff_id"].isin(list(diff_ids))]
    rows = []
    for d, g in f.groupby("diff_id", sort=False):
        acc: dict[str, list[int]] = {}
        for path, typ, size in g[["path", "type", "size"]].itertuples(index=False, name=None):
            p = path
            while p != "/":
                p = _parent(p)
                if p == "/":
                    break
                a = acc.setdefault(p, [0, 0])
                a[0] += int(size) if typ == "file" else 0
                a[1] += 1
        items = [(p, p.count("/"), b, n) for p, (b, n) in acc.items() if depth is None or p.count("/") == depth]
        items.sort(key=lambda t: (-t[2], t[0]))
        rows.extend({"diff_id": d, "path": p, "depth": dep, "bytes": b, "files": n} for p, dep, b, n in items[:top])
    return pd.DataFrame(rows, columns=["diff_id", "path", "depth", "bytes", "files"])
