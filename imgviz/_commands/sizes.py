"""``imgviz sizes``: per-image size, shared and unique bytes, and reported vs physical totals."""

from __future__ import annotations

from ._source import add_source_args, resolve_frames
from ._table import as_int, dump_json, render


def register(sub) -> None:
    p = sub.add_parser(
        "sizes", help="per-image shared/unique bytes and reported vs on-disk totals",
        description="Per image: SIZE, SHARED SIZE, UNIQUE SIZE and CONTAINERS as `docker system df -v` "
                    "counts them; then what `docker image ls` adds up to (reported) against the bytes "
                    "of distinct layers the disk holds (physical).")
    p.add_argument("--json", action="store_true",
                   help='print {"reported_bytes", "physical_bytes", "images": [...]} (sizes in bytes, full IDs)')
    add_source_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.sizes import disk_usage, image_sizes, totals
    from ..selection import repo_tag
    from ..units import human_size

    f, where = resolve_frames(args)
    table = image_sizes(f)
    t = totals(f)["value"]
    if args.json:
        dump_json({
            "reported_bytes": as_int(t["reported"]),
            "physical_bytes": as_int(t["physical"]),
            "images": [{"id": r.image_id, "tags": list(r.tags or []), "size": as_int(r.size),
                        "shared_size": as_int(r.shared_size), "unique_size": as_int(r.unique_size),
                        "containers": as_int(r.containers)} for r in table.itertuples(index=False)],
        })
        return 0

    rows = []
    for r in table.itertuples(index=False):
        repo, tag = repo_tag(r.tags[0] if len(r.tags) else None)
        rows.append((repo, tag, r.short_id, human_size(r.size), human_size(r.shared_size),
                     human_size(r.unique_size), as_int(r.containers)))
    print(render(["REPOSITORY", "TAG", "IMAGE ID", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"], rows))
    du = disk_usage(f)
    pct = du.at["Images", "reclaimable_percent"]
    recl = human_size(du.at["Images", "reclaimable"]) + ("" if pct is None or str(pct) == "<NA>" else f" ({int(pct)}%)")
    derived = " (derived from layers: the source has no engine sizes)" if \
        (f.images["size_source"] == "derived").any() else ""
    print()
    print(f"Source: {where}{derived}")
    lines = [
        ("Reported (sum of `docker image ls` SIZE)", f"{human_size(t['reported'])} over {int(t['tags'])} rows"),
        ("Each image counted once", human_size(t["logical"])),
        ("Physical (distinct layers, `docker system df`)", human_size(t["physical"])),
        ("Saved by sharing layers", human_size(t["saved_by_sharing"])),
        ("Dangling images", f"{int(t['dangling_images'])}, {human_size(t['dangling_size'])} listed, "
                            f"{human_size(t['dangling_freed'])} freed by removing them"),
        ("Containers' writable layers", f"{human_size(t['writable_layers'])} in {int(t['containers'])} containers"),
        ("Reclaimable (as `docker system df`)", recl),
    ]
    width = max(len(k) for k, _ in lines) + 2
    for key, value in lines:
        print(f"{(key + ':').ljust(width)} {value}")
    return 0
