"""Choosing the source of a command: the flags name one, :func:`imgviz.sources.open` opens it."""

from __future__ import annotations

import argparse
import sys


def add_source_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("source (default: $IMGVIZ_SOURCE, else the live engine when one answers, "
                                      "else the demo)")
    excl = group.add_mutually_exclusive_group()
    excl.add_argument("--snapshot", metavar="FILE", help="read a snapshot saved by `imgviz snapshot`")
    excl.add_argument("--engine", action="store_true", help="insist on the live engine (error when none answers)")
    excl.add_argument("--demo", action="store_true", help="use the embedded demo snapshot")
    excl.add_argument("--registry", metavar="REF", action="append",
                      help="read images from a registry without pulling (repeatable; HOST/REPO:* = every tag)")
    excl.add_argument("--archive", metavar="FILE", help="read a `docker save` tar or an OCI image layout")
    group.add_argument("--host", metavar="URL", help="engine address (default: DOCKER_HOST, else the default socket)")


def source_of(args: argparse.Namespace):
    """What the flags name, in the words :func:`imgviz.sources.open` takes (None: its default)."""
    if getattr(args, "snapshot", None):
        return f"snapshot:{args.snapshot}"
    if getattr(args, "demo", False):
        return "demo"
    if getattr(args, "registry", None):
        return list(args.registry)
    if getattr(args, "archive", None):
        return f"archive:{args.archive}"
    if getattr(args, "engine", False) or getattr(args, "host", None):
        return "engine"
    return None


def resolve_snapshot(args: argparse.Namespace, *, progress: bool | None = None):
    """Return ``(snapshot, description)`` for the source the arguments name."""
    from ..sources import open as open_source

    if progress is None:
        progress = sys.stderr.isatty()
    return open_source(source_of(args), host=getattr(args, "host", None), progress=progress)


def resolve_frames(args: argparse.Namespace, *, progress: bool | None = None):
    from ..frames import frames

    snap, description = resolve_snapshot(args, progress=progress)
    return frames(snap), description
