"""``imgviz files IMAGE [--layer N]``: the image's final filesystem, or what one layer changed."""

from __future__ import annotations

from ._table import dump_json, render
from .waste import add_files_source_args, read_one

_TYPE_CHAR = {"dir": "d", "symlink": "l", "hardlink": "h", "char": "c", "block": "b", "fifo": "p", "whiteout": "w",
              "opaque": "o"}


def mode_string(kind: str, mode: int) -> str:
    """``drwxr-xr-x`` as ``ls -l`` prints it (``h`` marks a hard link, ``w`` a whiteout)."""
    out = [_TYPE_CHAR.get(kind, "-")]
    for shift, special, (s_on, s_off) in ((6, 0o4000, ("s", "S")), (3, 0o2000, ("s", "S")), (0, 0o1000, ("t", "T"))):
        bits = (mode >> shift) & 7
        out.append("r" if bits & 4 else "-")
        out.append("w" if bits & 2 else "-")
        x = bool(bits & 1)
        out.append((s_on if x else s_off) if mode & special else ("x" if x else "-"))
    return "".join(out)


def register(sub) -> None:
    p = sub.add_parser("files", help="the files of an image (its final filesystem) or of one layer",
                       description="List an image's final filesystem (what `docker export` of a container of it "
                                   "holds, from the layers as overlayfs stacks them), or with --layer N the entries "
                                   "of layer N (0 = base) and what each changed: added, modified, metadata (same "
                                   "content, new mode/owner/mtime), unchanged, removed.")
    p.add_argument("image", nargs="?", help="tag or ID (with --registry: left out)")
    p.add_argument("--layer", type=int, metavar="N", help="one layer: its entries and their changes")
    p.add_argument("--digests", action="store_true", help="also hash every file's content (sha256)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_files_source_args(p)
    from ._source import add_limit_args

    add_limit_args(p)  # --deadline, --request-timeout: every command that reads a source
    p.set_defaults(func=run)


def run(args) -> int:
    from .._text import terminal_safe
    from ..analysis.files import changes_entries, union_entries
    from ..errors import ImgvizError
    from ..units import human_size

    got, img = read_one(args, digests=args.digests)
    entries = got.entries(img)
    if args.layer is not None:
        n = len(entries)
        if not -n <= args.layer < n:
            raise ImgvizError(f"{img.ref} has {n} layers (0-{n - 1}): no layer {args.layer}")
        position = args.layer % n
        ch = [r for r in changes_entries(entries[: position + 1]) if r["position"] == position]
        by_path = {e.path: e for e in entries[position]}
        rows = []
        for r in ch:
            e = by_path[r["path"]]
            rows.append({"path": e.path, "type": e.type, "change": r["change"], "size": e.size, "mode": e.mode,
                         "uid": e.uid, "gid": e.gid, "link": e.link, "mtime": e.mtime, "digest": e.digest,
                         "opaque": e.opaque, "hidden_bytes": r["hidden_bytes"], "hidden_files": r["hidden_files"]})
        if args.json:
            dump_json({"image": img.ref, "image_id": img.image_id, "layer": position,
                       "diff_id": img.diff_ids[position], "created_by": img.created_by[position], "entries": rows})
            return 0
        print(terminal_safe(f"{img.ref} layer {position}: {img.created_by[position] or img.diff_ids[position]}"))
        print(render(["CHANGE", "MODE", "UID:GID", "SIZE", "HIDES", "PATH"],
                     [(r["change"], mode_string(r["type"], r["mode"]), f"{r['uid']}:{r['gid']}",
                       human_size(r["size"], 3), human_size(r["hidden_bytes"], 3) if r["hidden_bytes"] else "",
                       _name(r)) for r in rows]))
        return 0
    final = union_entries(entries)
    by_layer = [{e.path: e for e in layer} for layer in entries]
    rows = []
    for path in sorted(final):
        position, e = final[path]
        target = by_layer[position].get(e.link) if e.type == "hardlink" else None
        rows.append({"path": path, "type": e.type, "size": target.size if target is not None else e.size, "mode": e.mode, "uid": e.uid, "gid": e.gid,
                     "link": e.link, "mtime": e.mtime, "digest": e.digest, "layer": position})
    if args.json:
        dump_json({"image": img.ref, "image_id": img.image_id, "files": rows})
        return 0
    print(render(["MODE", "UID:GID", "SIZE", "LAYER", "PATH"],
                 [(mode_string(r["type"], r["mode"]), f"{r['uid']}:{r['gid']}", human_size(r["size"], 3),
                   r["layer"], _name(r)) for r in rows]))
    return 0


def _name(r: dict) -> str:
    if r["type"] == "symlink":
        return f"{r['path']} -> {r['link']}"
    if r["type"] == "hardlink":
        return f"{r['path']} => {r['link']}"
    if r.get("opaque"):
        return f"{r['path']}/ (opaque: hides what the layers below hold here)"
    return r["path"]
