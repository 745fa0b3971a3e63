"""``imgviz snapshot -o FILE``: record an engine (raw responses) for later, offline use."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("snapshot", help="record the live engine into a snapshot file",
                       description="Collect every image and container of the engine and save the raw "
                                   "responses (gzip JSON). Load it later with --snapshot FILE.")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write (.json.gz)")
    p.add_argument("--host", metavar="URL", help="engine address (default: DOCKER_HOST, else the default socket)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..sources.engine import collect

    snap = collect(host=args.host, progress=sys.stderr.isatty())
    path = snap.save(args.output)
    state = "" if snap.complete else " (INCOMPLETE: the engine stopped answering; kept what was collected)"
    print(f"wrote {path}: {len(snap.images)} images, {len(snap.containers)} containers, "
          f"{len(snap.skipped)} skipped, from {snap.source.get('host')}{state}")
    return 0 if snap.complete else 1
