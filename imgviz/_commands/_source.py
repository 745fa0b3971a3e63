"""Choosing the source of a command: a snapshot file, the live engine, or the embedded demo."""

from __future__ import annotations

import argparse
import sys

from ..errors import ImgvizError


def add_source_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("source (default: the live engine when one answers, else the demo)")
    excl = group.add_mutually_exclusive_group()
    excl.add_argument("--snapshot", metavar="FILE", help="read a snapshot saved by `imgviz snapshot`")
    excl.add_argument("--engine", action="store_true", help="insist on the live engine (error when none answers)")
    excl.add_argument("--demo", action="store_true", help="use the embedded demo snapshot")
    excl.add_argument("--registry", metavar="REF", action="append",
                      help="read images from a registry without pulling (repeatable; HOST/REPO:* = every tag)")
    excl.add_argument("--archive", metavar="FILE", help="read a `docker save` tar or an OCI image layout")
    group.add_argument("--host", metavar="URL", help="engine address (default: DOCKER_HOST, else the default socket)")


def resolve_snapshot(args: argparse.Namespace, *, progress: bool | None = None):
    """Return ``(snapshot, description)`` for the source the arguments name."""
    from .. import _demo, snapshot
    from ..sources import engine

    if progress is None:
        progress = sys.stderr.isatty()
    if getattr(args, "snapshot", None):
        snap = snapshot.load(args.snapshot)
        return snap, f"snapshot file {args.snapshot}"
    if getattr(args, "demo", False):
        return _demo.demo_snapshot(), "embedded demo snapshot"
    if getattr(args, "registry", None):
        from ..sources import registry

        snap = registry.collect(args.registry, progress=progress)
        return snap, f"registry {snap.source.get('host')}"
    if getattr(args, "archive", None):
        from ..sources import archive

        snap = archive.collect(args.archive)
        return snap, f"archive {args.archive} ({snap.source.get('layout')})"
    host = getattr(args, "host", None)
    if getattr(args, "engine", False) or host:
        snap = engine.collect(host=host, progress=progress)
        return snap, f"live engine at {snap.source.get('host')}"
    try:
        api = engine.connect(host, timeout=5)
    except ImgvizError as exc:
        return _demo.demo_snapshot(), f"embedded demo snapshot ({exc.args[0].split(';')[0]})"
    snap = engine.collect(api, host=engine.docker_host(host), progress=progress)
    return snap, f"live engine at {snap.source.get('host')}"


def resolve_frames(args: argparse.Namespace, *, progress: bool | None = None):
    from ..frames import frames

    snap, description = resolve_snapshot(args, progress=progress)
    return frames(snap), description
