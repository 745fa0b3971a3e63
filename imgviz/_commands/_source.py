"""Choosing the source of a command: the flags name one, :func:`imgviz.sources.open` opens it."""

from __future__ import annotations

import argparse
import sys


def _host(text: str) -> str:
    """argparse type of ``--host``: an engine address, never silently the default socket."""
    from ..errors import UsageError
    from ..sources.engine import check_host

    try:
        return check_host(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--host ")) from None


def _path(text: str) -> str:
    """argparse type of a file or directory argument: never empty (an empty name is no file)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path names no file")
    return text


def _seconds(text: str) -> float:
    """argparse type of a time limit in seconds (positive, finite)."""
    from ..errors import UsageError
    from ..limits import Limits

    try:
        return Limits().replace(deadline=text).deadline
    except UsageError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds") from None


def add_limit_args(parser: argparse.ArgumentParser) -> None:
    """``--deadline`` and ``--request-timeout`` (see :mod:`imgviz.limits`)."""
    group = parser.add_argument_group("time limits (also IMGVIZ_DEADLINE, IMGVIZ_REQUEST_TIMEOUT)")
    group.add_argument("--deadline", type=_seconds, metavar="SECONDS",
                       help="give up after this long in all (default 900)")
    group.add_argument("--request-timeout", type=_seconds, metavar="SECONDS",
                       help="longest wait for one answer of an engine or registry (default 120)")


def limits_of(args: argparse.Namespace) -> dict:
    """The limits the flags set (the rest come from the environment or the defaults)."""
    return {"deadline": getattr(args, "deadline", None), "request_timeout": getattr(args, "request_timeout", None)}


def add_host_arg(parser) -> None:
    parser.add_argument("--host", metavar="URL", type=_host,
                        help="engine address (default: DOCKER_HOST, else the default socket)")


def add_source_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("source (default: $IMGVIZ_SOURCE, else the live engine when one answers, "
                                      "else the demo)")
    excl = group.add_mutually_exclusive_group()
    excl.add_argument("--snapshot", metavar="FILE", type=_path, help="read a snapshot saved by `imgviz snapshot`")
    excl.add_argument("--engine", action="store_true", help="insist on the live engine (error when none answers)")
    excl.add_argument("--demo", nargs="?", const="overlay2", default=None, metavar="NAME", type=_demo,
                      help="use an embedded demo snapshot: overlay2 (the default: Docker 20.10) or containerd "
                           "(the same fleet on Docker 28.5's containerd image store)")
    excl.add_argument("--registry", metavar="REF", action="append",
                      help="read images from a registry without pulling (repeatable; HOST/REPO:* = every tag)")
    excl.add_argument("--archive", metavar="FILE", type=_path, help="read a `docker save` tar or an OCI image layout")
    add_host_arg(group)
    parser.add_argument("--show-secrets", action="store_true",
                        help="keep the values imgviz masks as secret-looking (names with TOKEN, SECRET, PASS..., "
                             "URL passwords, private keys, Authorization headers, -u user:pw)")
    add_limit_args(parser)
    add_partial_arg(parser)
    add_cache_arg(parser)


def add_cache_arg(parser: argparse.ArgumentParser) -> None:
    """``--no-cache`` (see :mod:`imgviz.sources.cache`)."""
    parser.add_argument("--no-cache", action="store_true",
                        help="read every image from the live engine; by default images read before (same ID, "
                             "same tags in the fresh list) come from imgviz's engine cache ($IMGVIZ_CACHE_DIR, "
                             "else ~/.cache/imgviz; IMGVIZ_CACHE=0 turns it off)")


def cache_of(args: argparse.Namespace) -> bool | None:
    """``cache=`` for :func:`imgviz.sources.open`: False with ``--no-cache``, else the default."""
    return False if getattr(args, "no_cache", False) else None


def print_cache_note(snapshot_or_frames, file=None) -> None:
    """The one line saying how many images came from the engine cache, when any did."""
    from .._text import terminal_safe
    from ..sources.cache import note

    line = note(getattr(snapshot_or_frames, "source", None))
    if line:
        print(f"Cache: {terminal_safe(line)}", file=file)


def add_partial_arg(parser: argparse.ArgumentParser) -> None:
    """``--allow-partial`` (see :mod:`imgviz._partial`)."""
    parser.add_argument("--allow-partial", action="store_true",
                        help="exit 0 even when the collection is incomplete (the engine stopped answering or "
                             "timed out, images were removed mid-way); the output still says INCOMPLETE. "
                             "Without it such a command exits 3")


def finish(args: argparse.Namespace, collected) -> int:
    """The exit code of a command whose output is made from ``collected`` (a snapshot or frames, or
    the headline of :func:`imgviz._partial.headline` already made, None for complete):
    0 when complete; when incomplete, one line on stderr saying what is missing, and 3 unless
    ``--allow-partial`` (then 0; the line is a warning)."""
    from .._partial import EXIT_INCOMPLETE, headline
    from .._text import terminal_safe

    line = collected if isinstance(collected, str) or collected is None else headline(collected)
    if line is None:
        return 0
    if getattr(args, "allow_partial", False):
        print(f"imgviz: warning: {terminal_safe(line)} (--allow-partial)", file=sys.stderr)
        return 0
    print(f"imgviz: error: {terminal_safe(line)}; --allow-partial to accept it (exit 0)", file=sys.stderr)
    return EXIT_INCOMPLETE


def demo_words(argv: list[str]) -> list[str]:
    """``--demo`` takes a demo name only when one follows: ``history --demo IMAGE`` still means the
    default demo and the image IMAGE (argparse alone would read IMAGE as the demo's name)."""
    out = list(argv)
    if "--demo" not in out:
        return out  # the demos' names are not even looked up
    from ..sources._open import DEMO_NAMES

    for i, word in enumerate(out[:-1]):
        if word == "--":
            break
        if word == "--demo" and out[i + 1] not in DEMO_NAMES and not out[i + 1].startswith("-"):
            out[i] = "--demo=overlay2"
    return out


def _demo(text: str) -> str:
    """argparse type of ``--demo NAME``: one of the embedded demos."""
    from ..sources._open import DEMO_NAMES

    if text not in DEMO_NAMES:
        raise argparse.ArgumentTypeError(f"no embedded demo {text!r} (have: {', '.join(DEMO_NAMES)})")
    return text


def source_of(args: argparse.Namespace):
    """What the flags name, in the words :func:`imgviz.sources.open` takes (None: its default)."""
    if getattr(args, "snapshot", None):
        return f"snapshot:{args.snapshot}"
    if getattr(args, "demo", None):
        return "demo" if args.demo == "overlay2" else f"demo:{args.demo}"
    if getattr(args, "registry", None):
        return list(args.registry)
    if getattr(args, "archive", None):
        return f"archive:{args.archive}"
    if getattr(args, "engine", False) or getattr(args, "host", None):
        return "engine"
    return None


def resolve_snapshot(args: argparse.Namespace, *, progress: bool | None = None, **targeted):
    """Return ``(snapshot, description)`` for the source the arguments name, its secret-looking values
    masked by the one rule (:mod:`imgviz.analysis.secrets`) unless ``--show-secrets``: every table,
    JSON document and report the commands print is made from it. ``targeted`` (``images=[...]``,
    ``scope="list"``) asks a live engine only what the command's answer needs."""
    from ..sources import open as open_source

    if progress is None:
        progress = sys.stderr.isatty()
    snap, description = open_source(source_of(args), host=getattr(args, "host", None), progress=progress,
                                    limits=limits_of(args), cache=cache_of(args), **targeted)
    if not getattr(args, "show_secrets", False):
        from ..analysis.secrets import mask_snapshot

        snap = mask_snapshot(snap)
    return snap, description


def resolve_frames(args: argparse.Namespace, *, progress: bool | None = None):
    snap, description = resolve_snapshot(args, progress=progress)  # a bad source fails before pandas loads
    from ..frames import frames

    return frames(snap), description
