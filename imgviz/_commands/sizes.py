"""``imgviz sizes``: per-image size, shared and unique bytes, and reported vs physical totals."""

from __future__ import annotations

from ._source import add_source_args, resolve_frames
from ._table import dump_json, render


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


def _int(value):
    return None if value is None or value != value or str(value) == "<NA>" else int(value)


def run(args) -> int:
    from ..analysis.sizes import disk_usage, image_sizes, totals
    from ..units import human_size

    f, where = resolve_frames(args)
    table = image_sizes(f)
    t = totals(f)["value"]
    if args.json:
        dump_json({
            "reported_bytes": _int(t["reported"]),
            "physical_bytes": _int(t["physical"]),
            "images": [{"id": r.image_id, "tags": list(r.tags or []), "size": _int(r.size),
                        "shared_size": _int(r.shared_size), "unique_size": _int(r.unique_size),
                        "containers": _int(r.containers)} for r in table.itertuples(index=False)],
        })
        return 0

    def repo_tag(tags):
        if not tags:
            return "<none>", "<none>"
        first = tags[0]
        slash, colon = first.rfind("/"), first.rfind(":")
        return (first[:colon], first[colon + 1:]) if colon > slash else (first, "latest")

    rows = []
    for r in table.itertuples(index=False):
        repo, tag = repo_tag(list(r.tags or []))
        rows.append((repo, tag, r.short_id, human_size(r.size), human_size(r.shared_size),
                     human_size(r.unique_size), _int(r.containers)))
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
