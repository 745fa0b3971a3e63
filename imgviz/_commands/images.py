"""``imgviz images [PATTERN]``: the table ``docker image ls [PATTERN]`` prints."""

from __future__ import annotations

from ._source import add_source_args, resolve_frames
from ._table import as_int, dump_json, render


def register(sub) -> None:
    p = sub.add_parser("images", help="list images like `docker image ls`",
                       description="List images like `docker image ls [PATTERN]`: one row per tag.")
    p.add_argument("pattern", nargs="?", help="name filter, e.g. 'w*' (as `docker image ls 'w*'`)")
    p.add_argument("--json", action="store_true", help="print JSON (sizes in bytes, full IDs)")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.listing import image_list
    from ..units import ago, human_size

    f, _where = resolve_frames(args)
    table = image_list(f.images, args.pattern)
    if args.json:
        dump_json([{"repository": r.repository, "tag": r.tag, "id": r.image_id,
                    "created": r.created.isoformat() if r.created is not None else None,
                    "size": as_int(r.size)}
                   for r in table.itertuples(index=False)])
        return 0
    rows = [(r.repository, r.tag, r.short_id, ago(r.created), human_size(r.size, 3))
            for r in table.itertuples(index=False)]
    print(render(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows))
    return 0
