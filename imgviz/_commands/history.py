"""``imgviz history IMAGE``: the table ``docker image history IMAGE`` prints."""

from __future__ import annotations

from ._source import add_source_args, resolve_frames
from ._table import as_int, dump_json, render


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
    import pandas as pd

    from ..analysis.listing import find_image, history_table
    from ..units import ago, human_size

    f, _where = resolve_frames(args)
    image_id = find_image(f.images, args.image)
    table = history_table(f.history, image_id)
    if args.json:
        dump_json([{"id": r.entry_id, "created": r.created.isoformat() if r.created is not None else None,
                    "created_by": r.created_by, "size": as_int(r.size), "comment": r.comment,
                    "instruction": r.instruction, "empty_layer": bool(r.empty_layer),
                    "layer_position": None if pd.isna(r.layer_position) else int(r.layer_position)}
                   for r in table.itertuples(index=False)])
        return 0

    def short(entry_id: str) -> str:
        return entry_id.split(":", 1)[-1][:12] if entry_id.startswith("sha256:") else entry_id

    rows = [(short(r.entry_id), ago(r.created),
             r.created_by if args.no_trunc else _ellipsis(r.created_by or ""),
             human_size(r.size, 3), r.comment) for r in table.itertuples(index=False)]
    print(render(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows))
    return 0
