"""``imgviz history IMAGE``: the table ``docker image history IMAGE`` prints.

Works on rows (:mod:`imgviz.rows`), not frames: a live engine's history imports no pandas.
"""

from __future__ import annotations

from ._source import add_source_args, finish, resolve_snapshot
from ._table import as_int, dump_json, iso, render


def register(sub) -> None:
    p = sub.add_parser("history", help="show an image's history like `docker image history`",
                       description="Show the history of an image, newest first, like `docker image history`.")
    p.add_argument("image", help="tag, full ID or short ID")
    p.add_argument("--json", action="store_true", help="print JSON (sizes in bytes)")
    p.add_argument("--no-trunc", action="store_true", help="do not shorten CREATED BY")
    add_source_args(p)
    p.set_defaults(func=run)


def _ellipsis(text: str, width: int = 45) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def run(args) -> int:
    from ..analysis.listing import history_rows
    from ..errors import ImgvizError
    from ..rows import history_rows_of, rows, utc_time
    from ..selection import find_image, short_id
    from ..units import ago, human_size

    snap, _where = resolve_snapshot(args, images=[args.image])  # a live engine: that image alone
    try:
        # asked for that image alone, the engine resolved the name itself: its history rows alone
        # (the same rows rows() makes, without the layers' chain IDs and the sizes nobody prints)
        if snap.source.get("scope") == "images" and snap.images:
            image_id, history = snap.images[0]["id"], history_rows_of(snap)
        else:
            r = rows(snap)
            image_id, history = find_image(r.images, args.image), r.history
    except ImgvizError as exc:
        from .._partial import missing

        gap = missing(snap)
        if gap is None:
            raise
        # not found in what was collected is not "not there": say the collection is incomplete
        raise type(exc)(f"{exc} (the collection is INCOMPLETE: {gap['reason']})") from None
    table = history_rows(history, image_id)
    if args.json:
        from .._partial import json_output

        entries = [{"id": h["entry_id"], "created": iso(h["created"]), "created_by": h["created_by"],
                    "size": as_int(h["size"]), "comment": h["comment"], "instruction": h["instruction"],
                    "empty_layer": bool(h["empty_layer"]), "layer_position": as_int(h["layer_position"])}
                   for h in table]
        dump_json(json_output(entries, snap, "history"))
        return finish(args, snap)
    # podman names entries by bare hex IDs: cut like the CLIs cut them (12 characters)
    out = [(short_id(h["entry_id"]) if h["entry_id"].startswith("sha256:") else
            h["entry_id"][:12] if len(h["entry_id"]) == 64 else h["entry_id"],
            ago(utc_time(h["created"])),
            h["created_by"] if args.no_trunc else _ellipsis(h["created_by"] or ""),
            human_size(h["size"], 3), h["comment"]) for h in table]
    print(render(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], out))
    return finish(args, snap)
