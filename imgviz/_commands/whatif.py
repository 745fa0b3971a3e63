"""``imgviz what-if REF...``: the bytes removing images would free, by the engine's own size model.

Graph driver (overlay2): the layers no remaining image or container uses. Containerd image store:
those snapshots plus the images' content blobs nobody else references. podman: the layers' bytes in
its layer store, read on the engine's host (its compat ``/system/df`` shows no drop); unknown from
elsewhere. :mod:`imgviz.analysis.what_if` states each rule.

A live engine is asked only what the answer reads (``collect(scope="what-if")``): the list, every
image's inspect (its layer chain), the history of the images removed, the container list, ``/info``
and the size model's records; no other history, no container inspect, no ``/system/df``.
"""

from __future__ import annotations

from ._source import add_source_args, finish, resolve_snapshot
from ._table import dump_json, render


def register(sub) -> None:
    p = sub.add_parser(
        "what-if", help="bytes `docker image rm REF...` would free, by the engine's size model",
        description="Which layers (and, on the containerd image store, which content blobs) removing the "
                    "images would delete, and the drop of `docker system df` Images SIZE (LayersSize). "
                    "Says 'unknown' where the engine's numbers cannot prove it (podman from another host, "
                    "images with containers on the containerd store or podman).")
    p.add_argument("refs", nargs="+", metavar="REF", help="tag, image ID or short ID (every tag of it goes)")
    p.add_argument("--with-containers", action="store_true",
                   help="remove the images' containers first (`docker rm`), freeing their writable layers too")
    p.add_argument("--json", action="store_true",
                   help='print {"freed_bytes", "df_layers_size_drop", "known", "reason", "rule", "engine", '
                        '"layers": [...], "blobs": [...]} (bytes; null when unknown)')
    add_source_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..analysis.what_if import removal
    from ..units import human_size

    # a live engine: every image's layer chain, the named images' history, the container list
    # (imgviz.sources.engine.collect's what-if scope); other sources as they are
    scope = "what-if-with-containers" if args.with_containers else "what-if"
    snap, where = resolve_snapshot(args, scope=scope, images=list(args.refs))
    from ..frames import frames

    f = frames(snap)
    r = removal(f, args.refs, remove_containers=args.with_containers)
    if args.json:
        from .._partial import json_output

        # an incomplete collection may miss an image that keeps a layer: the output says so (exit 3)
        dump_json(json_output(r.as_dict(), f, "layers"))
        return finish(args, f)
    rows = [(row.chain_id[7:19], human_size(row.size), "freed" if row.freed else "kept",
             row.kept_by if not row.freed else "", (row.created_by or "")[:60])
            for row in r.layers.itertuples(index=False)]
    print(render(["LAYER", "SIZE", "STATUS", "KEPT BY", "CREATED BY"], rows))
    if len(r.blobs):
        print()
        print(render(["BLOB", "ROLE", "SIZE", "STATUS", "KEPT BY"],
                     [(b.digest[7:19], b.role, human_size(b.size), "freed" if b.freed else "kept",
                       "" if b.freed else b.kept_by) for b in r.blobs.itertuples(index=False)]))
    print()
    from .._partial import headline
    from .._text import terminal_safe

    engine = r.model.describe() if r.model else where
    print(f"Engine: {terminal_safe(engine)}")
    incomplete = headline(f)
    if incomplete:
        print(terminal_safe(incomplete))
    print(f"Rule: {r.rule}")
    if r.freed_bytes is None:
        print(f"Freed: unknown ({r.reason})")
    else:
        parts = f"{human_size(r.layers_freed_bytes)} of layers"
        if r.blobs_freed_bytes is not None:
            parts += f" + {human_size(r.blobs_freed_bytes)} of content blobs"
        print(f"Freed: {human_size(r.freed_bytes)} ({r.freed_bytes} bytes: {parts})")
        if r.df_drop is not None and r.df_drop != r.freed_bytes:
            print(f"`docker system df` Images SIZE drops by {human_size(r.df_drop)}: containers keep "
                  f"{human_size(r.held_by_containers)} on disk that df stops counting")
    if r.writable_bytes:
        print(f"Containers' writable layers removed: {human_size(r.writable_bytes)}")
    return finish(args, f)
