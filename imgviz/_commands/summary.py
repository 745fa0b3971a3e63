"""``imgviz summary``: a readable overview of images, layers and sizes."""

from __future__ import annotations

from ._source import add_source_args, finish, print_cache_note, resolve_frames


def register(sub) -> None:
    p = sub.add_parser("summary", help="print an overview of images, layers and sizes")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.listing import image_list
    from ..analysis.sizes import totals
    from .._text import terminal_safe
    from ..units import human_size
    from ._table import render

    f, where = resolve_frames(args)
    t = totals(f)["value"]

    def size(name: str) -> str:
        # unknown sizes (registry and archive sources) print as '-', never as a partial sum
        return human_size(t[name])

    print(f"Source: {terminal_safe(where)}")
    print_cache_note(f)
    from .sizes import _incomplete_line

    _incomplete_line(f)
    print(f"{t['images']} images ({t['dangling_images']} dangling), {t['layer_references']} layer references, "
          f"{t['distinct_layers']} distinct layers, {t['containers']} containers")
    lines = [(f"`docker image ls` SIZE column added up ({t['tags']} rows):", size("reported")),
             ("Each image counted once:", size("logical")),
             ("Bytes of distinct layers (what the disk holds):", size("physical"))]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}} {value}")
    print()
    table = image_list(f.images)
    by_id = f.images.set_index("image_id")
    rows = [(r.repository, r.tag, r.short_id, human_size(r.size), human_size(by_id.at[r.image_id, "shared_size"]),
             human_size(by_id.at[r.image_id, "unique_size"]), int(by_id.at[r.image_id, "n_layers"]))
            for r in table.itertuples(index=False)]
    print(render(["REPOSITORY", "TAG", "IMAGE ID", "SIZE", "SHARED", "UNIQUE", "LAYERS"], rows))
    return finish(args, f)
