"""``imgviz images [PATTERN]``: the table ``docker image ls [PATTERN]`` prints.

Works on rows (:mod:`imgviz.rows`), not frames: listing a live engine imports no pandas.
"""

from __future__ import annotations

from ._source import add_source_args, finish, resolve_snapshot
from ._table import as_int, dump_json, iso, render


def register(sub) -> None:
    p = sub.add_parser("images", help="list images like `docker image ls`",
                       description="List images like `docker image ls [PATTERN]`: one row per tag.")
    p.add_argument("pattern", nargs="?", help="name filter, e.g. 'w*' (as `docker image ls 'w*'`)")
    p.add_argument("--json", action="store_true", help="print JSON (sizes in bytes, full IDs)")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.listing import ls_rows
    from ..rows import listed_rows, rows, utc_time
    from ..units import ago, human_size

    snap, _where = resolve_snapshot(args, scope="list")  # a live engine: only its image list
    table = ls_rows(listed_rows(snap) if snap.source.get("scope") == "list" else rows(snap).images, args.pattern)
    if args.json:
        from .._partial import json_output

        dump_json(json_output([{"repository": r["repository"], "tag": r["tag"], "id": r["image_id"],
                                "created": iso(r["created"]), "size": as_int(r["size"])} for r in table],
                              snap, "images"))
        return finish(args, snap)
    out = [(r["repository"], r["tag"], r["short_id"], ago(utc_time(r["created"])), human_size(r["size"], 3))
           for r in table]
    print(render(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], out))
    return finish(args, snap)
