"""``imgviz sizes``: per-image size, shared and unique bytes, reported vs physical totals, and the
rest of ``docker system df [-v]``: containers, local volumes, build cache (and with ``-v`` their
rows, plus the intermediate images ``docker image ls -a`` adds)."""

from __future__ import annotations

from ._source import add_source_args, finish, resolve_frames
from ._table import as_int, dump_json, iso, render


def register(sub) -> None:
    p = sub.add_parser(
        "sizes", help="per-image shared/unique bytes, reported vs on-disk totals, volumes and build cache",
        description="Per image: SIZE, SHARED SIZE, UNIQUE SIZE and CONTAINERS as `docker system df -v` "
                    "counts them; then what `docker image ls` adds up to (reported) against the bytes "
                    "of distinct layers the disk holds (physical); then the four lines of "
                    "`docker system df` (images, containers, local volumes, build cache).")
    p.add_argument("--json", action="store_true",
                   help='print {"reported_bytes", "physical_bytes", "images", "disk_usage", "volumes", '
                        '"build_cache", "intermediates"} (sizes in bytes, full IDs)')
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also list every volume and build-cache record (as `docker system df -v`) and the "
                        "intermediate images `docker image ls -a` adds")
    add_source_args(p)
    p.set_defaults(func=run)


def _cache_order(cache):
    """``docker system df -v`` order: least recently used first, then by ID (the CLI's buildCacheSort)."""
    never = cache["last_used"].isna()
    return cache.assign(_never=~never).sort_values(["_never", "last_used", "cache_id"], kind="stable")


def run(args) -> int:
    from ..analysis.sizes import disk_usage, image_sizes, totals
    from ..selection import repo_tag
    from .._text import terminal_safe
    from ..units import human_size

    from ..analysis.secrets import mask_text

    from ..analysis.size_views import size_views
    from ..sources.engine_model import model_of_frames

    f, where = resolve_frames(args)
    model = model_of_frames(f)
    views = size_views(f)
    table = image_sizes(f)
    t = totals(f)["value"]
    du = disk_usage(f)
    if args.json:
        from .._partial import json_output

        dump_json(json_output({
            "engine": model.as_dict() if model else None,
            "reported_bytes": as_int(t["reported"]),
            "physical_bytes": as_int(t["physical"]),
            "images": [{"id": r.image_id, "tags": list(r.tags or []), "size": as_int(r.size),
                        "shared_size": as_int(r.shared_size), "unique_size": as_int(r.unique_size),
                        "containers": as_int(r.containers)} for r in table.itertuples(index=False)],
            "disk_usage": [{"type": kind, "total": as_int(r.total), "active": as_int(r.active),
                            "size": as_int(r["size"]), "reclaimable": as_int(r["reclaimable"]),
                            "source": r["source"],
                            # podman: its own lines, whose SIZE is not the bytes stored: said so
                            **({"note": du.attrs["notes"][kind]} if kind in du.attrs.get("notes", {}) else {})}
                           for kind, r in du.iterrows()],
            "volumes": [{"name": v.name, "driver": v.driver, "links": as_int(v.links), "size": as_int(v.size)}
                        for v in f.volumes.itertuples(index=False)],
            # a record's description is the RUN command it ran: masked by the report's one rule
            "build_cache": [{"id": b.cache_id, "type": b.type, "description": mask_text(b.description),
                             "size": as_int(b.size), "shared": bool(b.shared), "in_use": bool(b.in_use),
                             "usage_count": as_int(b.usage_count), "parents": list(b.parents),
                             "created": iso(b.created), "last_used": iso(b.last_used)}
                            for b in f.build_cache.itertuples(index=False)],
            # per image: what image ls, inspect and df say, the engine's split, and why they differ
            "size_views": [{"id": v.image_id, "storage": v.storage, "image_ls_size": as_int(v.image_ls_size),
                            "inspect_size": as_int(v.inspect_size), "df_size": as_int(v.df_size),
                            "df_shared_size": as_int(v.df_shared_size), "history_size": as_int(v.history_size),
                            "content_size": as_int(v.content_size), "unpacked_size": as_int(v.unpacked_size),
                            "attestation_size": as_int(v.attestation_size), "index_size": as_int(v.index_size),
                            "rule_holds": None if str(v.rule_holds) == "<NA>" else bool(v.rule_holds),
                            "explanation": v.explanation} for v in views.itertuples(index=False)],
            "intermediates": [{"id": i.image_id, "size": as_int(i.size), "layers": as_int(i.n_layers),
                               "created_by": mask_text(i.created_by), "children": list(i.children)}
                              for i in f.intermediates.itertuples(index=False)],
        }, f, "sizes"))
        return finish(args, f)

    from ..units import df_image_size_precision

    # SIZE as the engine's own CLI prints it (3 significant digits from Docker 28; podman's compat
    # engine is no Docker version: 4)
    digits = df_image_size_precision(model.version if model is not None and model.engine == "Docker Engine" else None)
    rows = []
    for r in table.itertuples(index=False):
        repo, tag = repo_tag(r.tags[0] if len(r.tags) else None)
        rows.append((repo, tag, r.short_id, human_size(r.size, digits), human_size(r.shared_size),
                     human_size(r.unique_size), as_int(r.containers)))
    print(render(["REPOSITORY", "TAG", "IMAGE ID", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"], rows))
    pct = du.at["Images", "reclaimable_percent"]
    recl = human_size(du.at["Images", "reclaimable"]) + ("" if pct is None or str(pct) == "<NA>" else f" ({int(pct)}%)")
    derived = " (derived from layers: the source has no engine sizes)" if \
        (f.images["size_source"] == "derived").any() else ""
    print()
    print(f"Source: {terminal_safe(where)}{derived}")
    if model is not None:
        print(f"Engine: {terminal_safe(model.describe())}")
    _incomplete_line(f)
    podman = model is not None and model.storage == "podman"
    lines = [
        ("Reported (sum of `docker image ls` SIZE)", f"{human_size(t['reported'])} over {int(t['tags'])} rows"),
        ("Each image counted once", human_size(t["logical"])),
        # podman's `system df` SIZE is a sum of image sizes; what its store holds is its layer records'
        ("Physical (distinct layers podman's store holds)" if podman else
         "Physical (distinct layers, `docker system df`)",
         human_size(t["physical"]) if str(t["physical"]) != "<NA>" else "unknown (podman does not say)"),
        ("Saved by sharing layers", human_size(t["saved_by_sharing"])),
        ("Dangling images", f"{int(t['dangling_images'])}, {human_size(t['dangling_size'])} listed, "
                            f"{human_size(t['dangling_freed'])} freed by removing them"),
        ("Containers' writable layers", f"{human_size(t['writable_layers'])} in {int(t['containers'])} containers"),
        ("Reclaimable (as `podman system df`)" if podman else "Reclaimable (as `docker system df`)", recl),
    ]
    width = max(len(k) for k, _ in lines) + 2
    for key, value in lines:
        print(f"{(key + ':').ljust(width)} {value}")

    print()
    print(df_table(du))
    if "Images" in du.attrs.get("notes", {}):
        print(f"(Images: {du.attrs['notes']['Images']})")
    unknown = [k for k in ("Local Volumes", "Build Cache") if du.at[k, "source"] == "unknown"]
    if unknown:
        print(f"({' and '.join(unknown)}: this source has no engine answer to say; unknown, not 0)")
    why = why_sizes_differ(views)
    if why:
        print()
        print(why)
    if args.verbose:
        print(df_verbose(f))
    return finish(args, f)


def _incomplete_line(collected) -> None:
    """The "INCOMPLETE: ..." line under a readable output's Source line (nothing when complete)."""
    from .._partial import headline
    from .._text import terminal_safe

    line = headline(collected)
    if line is not None:
        print(terminal_safe(line))


def why_sizes_differ(views) -> str:
    """Why `docker image ls`, `docker image inspect` and `docker system df` differ for one image, by the
    engine's size model (:func:`imgviz.analysis.size_views.size_views`)."""
    from ..units import human_size

    if views.empty:
        return ""
    storage = views["storage"].iloc[0]
    head = "Why `docker image ls`, `docker image inspect` and `docker system df` differ for one image:"
    if storage == "containerd":
        rows = [(v.label, human_size(v.image_ls_size), human_size(v.inspect_size), human_size(v.content_size),
                 human_size(v.unpacked_size), human_size(v.attestation_size), human_size(v.df_shared_size))
                for v in views.itertuples(index=False)]
        return "\n".join([head, "containerd image store: image ls and df count the content blobs (manifest, config, "
                           "compressed layers) plus the unpacked snapshots; inspect counts the content only; df "
                           "SHARED counts snapshots only, never blobs.", "",
                           render(["IMAGE", "IMAGE LS / DF", "INSPECT", "CONTENT", "UNPACKED", "ATTESTATION",
                                   "DF SHARED"], rows)])
    if storage in ("graphdriver", "unknown", "podman"):
        return "\n".join([head, views["explanation"].iloc[0] if storage == "podman" else
                           "graph driver: they agree (an image's size is the bytes of its layers' files); df "
                           "SHARED SIZE is the part other images use too"])
    return ""


def df_table(du) -> str:
    """The ``docker system df`` table from :func:`imgviz.analysis.sizes.disk_usage`."""
    from ..units import human_size

    out = []
    for kind, r in du.iterrows():
        if r["source"] == "unknown":
            out.append((kind, "-", "-", "unknown", "unknown"))
            continue
        recl = human_size(r["reclaimable"])
        if str(r["reclaimable_percent"]) != "<NA>":
            recl += f" ({int(r['reclaimable_percent'])}%)"
        out.append((kind, int(r["total"]), int(r["active"]), human_size(r["size"]), recl))
    return render(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], out)


def df_verbose(f) -> str:
    """The Local Volumes and Build cache parts of ``docker system df -v``, then ``image ls -a``'s extras.

    Times are said relative to when the snapshot was collected (a recording does not age).
    """
    from ..analysis.sizes import build_cache_usage
    from ..rows import utc_time
    from ..units import ago, human_size

    at = utc_time((f.source or {}).get("collected_at"))

    def since(value) -> str:
        when = None if value is None or value != value else value.to_pydatetime(warn=False)
        return ago(when, at) if when is not None else "N/A"

    parts = ["", "Local Volumes space usage:", ""]
    parts.append(render(["VOLUME NAME", "LINKS", "SIZE"],
                        [(v.name, "N/A" if as_int(v.links) is None else as_int(v.links),
                          "N/A" if as_int(v.size) is None else human_size(v.size))
                         for v in f.volumes.itertuples(index=False)]))
    cache = f.build_cache
    parts += ["", f"Build cache usage: {human_size(build_cache_usage(f)['size'])}", ""]
    rows = [(b.cache_id[:12] + ("*" if b.in_use else ""), b.type, human_size(b.size, 3), since(b.created),
             since(b.last_used), as_int(b.usage_count), str(bool(b.shared)).lower())
            for b in _cache_order(cache).itertuples(index=False)]
    parts.append(render(["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"], rows))
    if at is not None:
        parts += ["", f"(times relative to the snapshot, collected {at:%Y-%m-%d %H:%M:%S} UTC)"]
    inter = f.intermediates
    parts += ["", f"Intermediate images (`docker image ls -a` adds them): {len(inter)}", ""]
    parts.append(render(["IMAGE ID", "SIZE", "LAYERS", "MADE BY", "UNDER"],
                        [(i.short_id, human_size(i.size, 3), as_int(i.n_layers), (i.instruction or ""),
                          ", ".join(i.children)) for i in inter.itertuples(index=False)]))
    return "\n".join(parts)
