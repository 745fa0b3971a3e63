"""``imgviz snapshot -o FILE``: record an engine (raw responses) for later, offline use.

Writing follows imgviz's one output rule (:mod:`imgviz._output`): only a regular file is ever
replaced, atomically, and the command says when it replaced one. An incomplete collection (the
engine stopped answering, answered something malformed, a limit ran out, or an image or container
was removed while it was being read) is never written over
an existing file: it goes beside it as ``NAME.incomplete-<UTC time>.json.gz`` (``--force`` writes
it over the file anyway), and the command exits 1.
"""

from __future__ import annotations

import sys

from ._source import add_cache_arg, add_host_arg, add_limit_args, cache_of, limits_of, print_cache_note


def register(sub) -> None:
    p = sub.add_parser("snapshot", help="record the live engine into a snapshot file",
                       description="Collect every image and container of the engine and save the raw "
                                   "responses (gzip JSON). Load it later with --snapshot FILE. An existing "
                                   "FILE is replaced by a complete snapshot (and the command says so); an "
                                   "incomplete collection is written beside it (FILE.incomplete-TIME.json.gz), "
                                   "never over it unless --force.")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write (.json.gz)")
    p.add_argument("--force", action="store_true",
                   help="write an incomplete collection over an existing FILE too (a regular file only)")
    p.add_argument("--mask-secrets", action="store_true",
                   help="mask secret-looking values in the saved records by imgviz's one rule (ENV and labels with "
                        "TOKEN, SECRET, PASS... names, URL passwords, private keys, Authorization headers, -u "
                        "user:pw), for a snapshot to share; the raw engine answers are otherwise kept as said")
    add_host_arg(p)
    add_limit_args(p)
    add_cache_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import limits
    from .._output import target_of
    from .._text import terminal_safe as safe
    from ..errors import ImgvizError
    from ..sources.engine import collect

    def shared(snap):
        if not args.mask_secrets:
            return snap
        from ..analysis.secrets import mask_snapshot

        return mask_snapshot(snap)

    target_of(args.output)  # a path that can never be written is refused before the engine is read
    with limits.using(limits_of(args)):
        try:
            snap = shared(collect(host=args.host, progress=sys.stderr.isatty(), cache=cache_of(args)))
        except ImgvizError as exc:
            if exc.partial is None:
                raise
            written = shared(exc.partial).write(args.output, force=args.force)
            print(f"imgviz: error: {exc}", file=sys.stderr)
            print(f"kept what was collected in {safe(written.path)} (INCOMPLETE: {len(exc.partial.images)} images, "
                  f"{len(exc.partial.containers)} containers)", file=sys.stderr)
            return 1
    from .._partial import missing

    gone = missing(snap)
    written = snap.write(args.output, force=args.force)
    if not snap.complete:
        state = " (INCOMPLETE: the engine stopped answering; kept what was collected)"
    elif gone:
        state = f" (INCOMPLETE: {len(gone['removed'])} removed while being read)"
    else:
        state = ""
    if written.beside:
        state += f"; {safe(args.output)} exists and was left as it was"
    elif written.replaced:
        state += f"; replaced the previous {safe(args.output)}"
    print(f"wrote {safe(written.path)}: {len(snap.images)} images, {len(snap.containers)} containers, "
          f"{len(snap.skipped)} skipped, from {safe(snap.source.get('host'))}{state}")
    print_cache_note(snap)
    if gone is None:
        return 0
    if snap.complete:  # the engine answered everything; objects it listed were gone when read
        names = ", ".join(f"{r['kind']} {str(r['id'])[:19]}" for r in gone["removed"][:5])
        print(f"imgviz: error: the snapshot is INCOMPLETE: {names}{' ...' if len(gone['removed']) > 5 else ''} "
              f"removed while the engine was being read; what was collected is in {safe(written.path)}",
              file=sys.stderr)
        return 1
    lost = next((s.get("detail") for s in snap.skipped if s.get("kind") == "engine"), None)
    print(f"imgviz: error: the snapshot is INCOMPLETE: the engine at {snap.source.get('host')} stopped answering"
          f"{f' ({lost})' if lost else ''}; what was collected is in {safe(written.path)}", file=sys.stderr)
    return 1
