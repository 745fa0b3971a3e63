"""One way to turn what a user names into a :class:`~imgviz.snapshot.Snapshot`: :func:`open`.

The CLI, :class:`imgviz.Report`, the widgets and the notebooks all call it, so "auto", the demo,
registries and archives mean the same thing everywhere, and each says which source it used in the
same words.
"""

from __future__ import annotations

import builtins
import os
import zlib
from pathlib import Path
from typing import Any, NamedTuple

from .. import _records
from .. import limits as _limits
from .._data import data_path
from ..errors import EngineUnavailable, ImgvizError, SnapshotError
from ..snapshot import Snapshot

#: environment variable that decides what ``source=None`` means (any source :func:`open` accepts)
SOURCE_ENV = "IMGVIZ_SOURCE"

#: the recorded demo fleet, package data (imgviz/_data.py; made as data/fleet/README.md says)
DEMO_SNAPSHOT = data_path("demo-snapshot.json.gz")

_PREFIXES = ("registry", "archive", "snapshot")


class Opened(NamedTuple):
    """What :func:`open` returns: the snapshot, and one line saying which source it came from."""

    snapshot: Snapshot
    description: str


def load(path: str | os.PathLike, *, limits=None) -> Snapshot:
    """Load a snapshot file and replay it through the code its source uses live.

    An engine snapshot is replayed through :func:`imgviz.sources.engine.collect` with a client that
    answers every API call from the recorded responses, so a loaded snapshot goes through exactly
    the code a live collection does. Registry and archive snapshots hold the manifests and configs
    as read; frames derive everything else from them.

    Raises
    ------
    SnapshotError
        One line naming the file when it cannot be read, is not an imgviz snapshot, or holds a
        record that is not what a snapshot holds (checked against :mod:`imgviz._records`).
    """
    snap = Snapshot.read(path, limits=limits)
    if snap.kind == "engine":
        import warnings

        from ..errors import EngineError
        from . import engine
        from ._replay import ReplayClient

        try:
            with warnings.catch_warnings():
                if not snap.complete:  # the file says so; replaying it says it again
                    warnings.simplefilter("ignore", engine.CollectionWarning)
                return engine.collect(ReplayClient(snap), progress=False, host=snap.source.get("host"),
                                      collected_at=snap.source.get("collected_at"))
        except EngineError as exc:
            raise SnapshotError(f"{path}: {str(exc).split(': ', 1)[-1]}") from None
    return snap


def demo_snapshot() -> Snapshot:
    """The embedded demo snapshot (recorded from the demo fleet built by data/build_fleet.sh)."""
    if not DEMO_SNAPSHOT.exists():
        raise SnapshotError(f"{DEMO_SNAPSHOT}: the embedded demo snapshot is missing from this install "
                            f"(run imgviz from a source checkout, or pass --snapshot FILE)")
    return load(DEMO_SNAPSHOT)


def describe(snapshot: Snapshot | dict) -> str:
    """The one-line description of a snapshot given as an object (``"engine snapshot of unix://..."``)."""
    source = snapshot.source if isinstance(snapshot, Snapshot) else dict(snapshot or {})
    kind = source.get("kind", "unknown")
    host = source.get("host")
    return f"{kind} snapshot of {host}" if host else f"{kind} snapshot"


def open(source: Any = None, *, host: str | None = None, platform: str | None = None,  # noqa: A001
         read_layers: bool = False, progress: bool = True, limits=None, images=None,
         scope: str | None = None) -> Opened:
    """Open a source: a :class:`~imgviz.snapshot.Snapshot` and the line saying which source it was.

    Parameters
    ----------
    source : str, path, list of str or Snapshot, optional
        ========================  =====================================================================
        ``None``                  the value of ``$IMGVIZ_SOURCE`` (any of the below), else ``"auto"``
        ``"auto"``                the live engine when one answers, else the embedded demo snapshot;
                                  the description says which, and why the engine was not used
        ``"engine"``              the live engine (:class:`~imgviz.errors.EngineUnavailable` when
                                  none answers)
        ``"demo"``                the embedded demo snapshot
        ``"registry:REF"``        an image in a registry, read without pulling; a list of references
                                  reads several (``HOST/REPO:*`` = every tag)
        ``"archive:PATH"``        a ``docker save`` tar or an OCI image layout (tar or directory)
        ``"snapshot:PATH"``       a file written by ``imgviz snapshot`` / :meth:`Snapshot.save`
        an existing path          a snapshot file when its name ends in ``.json``/``.json.gz`` or it
                                  holds JSON; any other file or directory is read as an archive
        a Snapshot                itself
        ========================  =====================================================================
    host : str, optional
        Engine address for ``"engine"`` and ``"auto"`` (default DOCKER_HOST, else the default socket).
    platform : str, optional
        ``os/arch[/variant]`` chosen from multi-platform images (registries, archives).
    read_layers : bool
        Registries and archives: also read every layer blob (verified, streamed) to know the
        uncompressed sizes (see :func:`imgviz.sources.registry.collect`).
    progress : bool
        Progress bars while collecting.
    limits : imgviz.limits.Limits or dict, optional
        Time and size limits (``{"deadline": 60, "request_timeout": 300}``; see :mod:`imgviz.limits`).
        The whole call shares one deadline.
    images, scope : optional
        A live engine is asked only what one answer needs (see :func:`imgviz.sources.engine.collect`):
        ``images=[REF, ...]`` their inspect and history, ``scope="list"`` the image list. Other
        sources are read whole (they are already at hand).

    Returns
    -------
    Opened
        ``(snapshot, description)``; the description is the line the CLI prints first and the
        report shows at the top (``"live engine at unix:///var/run/docker.sock"``, ``"embedded demo
        snapshot (no Docker engine answered at ...)"``, ``"registry 127.0.0.1:5000"``...).

    Raises
    ------
    ImgvizError
        One line naming the source when it cannot be opened.

    Examples
    --------
    >>> snap, where = open("demo")
    >>> where
    'embedded demo snapshot'
    >>> len(snap.images) > 0
    True
    """
    with _limits.using(limits), _limits.deadline_scope(what="opening the source"):
        return _open(source, host=host, platform=platform, read_layers=read_layers, progress=progress,
                     targeted={"images": images, "scope": scope})


def _open(source: Any, *, host, platform, read_layers: bool, progress: bool, targeted=None) -> Opened:
    if host is not None:
        from .engine import check_host

        check_host(host)
    if source is None:
        source = os.environ.get(SOURCE_ENV) or "auto"
    if isinstance(source, Snapshot):
        _records.check(_records.SOURCE, source.source, "source", SnapshotError, "snapshot")
        _records.check_records(source.records, source.kind, where="snapshot", error=SnapshotError)
        return Opened(source, describe(source))
    if isinstance(source, (list, tuple)):
        return _registry([str(r) for r in source], platform=platform, read_layers=read_layers, progress=progress)
    if isinstance(source, os.PathLike):
        return _path(Path(source), platform=platform, read_layers=read_layers)
    if not isinstance(source, str):
        raise ImgvizError(f"{source!r}: not a source (a name such as 'demo', a path, a list of references "
                          f"or a Snapshot)")
    text = source.strip()
    if text == "demo":
        return Opened(demo_snapshot(), "embedded demo snapshot")
    if text == "engine":
        return _engine(None, host, progress, targeted)
    if text == "auto":
        from . import engine

        try:
            # the probe waits connect_timeout; the collection then waits request_timeout per call
            api = engine.connect(host)
        except EngineUnavailable as exc:
            reason = exc.args[0].split(";")[0] if exc.args else "no engine"
            return Opened(demo_snapshot(), f"embedded demo snapshot ({reason})")
        return _engine(api, host, progress, targeted)
    kind, sep, rest = text.partition(":")
    if sep and kind in _PREFIXES:
        if kind == "registry":
            return _registry([rest], platform=platform, read_layers=read_layers, progress=progress)
        if kind == "archive":
            if not rest:
                raise ImgvizError(f"{text}: names no archive")
            return _archive(Path(rest), platform=platform, read_layers=read_layers)
        if not rest:
            raise ImgvizError(f"{text}: names no {kind}")
        return Opened(load(rest), f"snapshot file {rest}")
    path = Path(text)
    if not path.exists():
        raise ImgvizError(f"{text}: not a source (use 'demo', 'engine', 'auto', 'registry:REF', "
                          f"'archive:PATH' or an existing snapshot file or archive)")
    return _path(path, platform=platform, read_layers=read_layers)


def _engine(api, host: str | None, progress: bool, targeted=None) -> Opened:
    from . import engine

    snap = engine.collect(api, host=engine.docker_host(host) if api is not None else host, progress=progress,
                          **{k: v for k, v in (targeted or {}).items() if v is not None})
    return Opened(snap, f"live engine at {snap.source.get('host')}")


def _registry(refs: list[str], *, platform, read_layers: bool, progress: bool) -> Opened:
    from . import registry

    snap = registry.collect(refs, platform=platform, read_layers=read_layers, progress=progress)
    return Opened(snap, f"registry {snap.source.get('host')}")


def _archive(path: Path, *, platform, read_layers: bool) -> Opened:
    from . import archive

    snap = archive.collect(path, platform=platform, read_layers=read_layers)
    return Opened(snap, f"archive {path} ({snap.source.get('layout')})")


def _path(path: Path, *, platform, read_layers: bool) -> Opened:
    if _looks_like_snapshot(path):
        return Opened(load(path), f"snapshot file {path}")
    return _archive(path, platform=platform, read_layers=read_layers)


def _looks_like_snapshot(path: Path) -> bool:
    """A snapshot file is JSON (gzip-compressed or not); archives are tars or directories."""
    if path.name.endswith((".json", ".json.gz")):
        return True
    if not path.is_file():  # a FIFO or a device is never opened here (the archive reader refuses it)
        return False
    try:
        with builtins.open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error:
            return False
    return head.lstrip()[:1] == b"{"
