"""``imgviz summary``: a readable overview of images, layers and sizes."""

from __future__ import annotations

from ._source import add_source_args, resolve_frames


def register(sub) -> None:
    p = sub.add_parser("summary", help="print an overview of images, layers and sizes")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.listing import image_list
    from ..units import human_size
    from ._table import render

    f, where = resolve_frames(args)
    imgs = f.images
    distinct = f.layers.drop_duplicates("chain_id")
    # unknown sizes (registry and archive sources) print as '-', never as a partial sum
    reported = (int(imgs["size"].sum()) if imgs["size"].notna().all() else None) if len(imgs) else 0
    physical = (int(distinct["size"].sum()) if distinct["size"].notna().all() else None) if len(distinct) else 0
    print(f"Source: {where}")
    print(f"{len(imgs)} images ({int(imgs['dangling'].sum())} dangling), {len(f.layers)} layer references, "
          f"{len(distinct)} distinct layers, {len(f.containers)} containers")
    print(f"Sum of image sizes (what `docker image ls` adds up to): {human_size(reported)}")
    print(f"Bytes of distinct layers (what the disk holds):        {human_size(physical)}")
    print()
    table = image_list(imgs)
    by_id = imgs.set_index("image_id")
    rows = [(r.repository, r.tag, r.short_id, human_size(r.size), human_size(by_id.at[r.image_id, "shared_size"]),
             human_size(by_id.at[r.image_id, "unique_size"]), int(by_id.at[r.image_id, "n_layers"]))
            for r in table.itertuples(index=False)]
    print(render(["REPOSITORY", "TAG", "IMAGE ID", "SIZE", "SHARED", "UNIQUE", "LAYERS"], rows))
    return 0
