"""One way to turn what a user names into a :class:`~imgviz.snapshot.Snapshot`: :func:`open`.

The CLI, :class:`imgviz.Report`, the widgets and the notebooks all call it, so "auto", the demo,
registries and archives mean the same thing everywhere, and each says which source it used in the
same words.
"""

from __future__ import annotations

import builtins
import os
from collections import namedtuple

# pathlib and zlib are imported where a path is opened: a live engine's question needs neither
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

from .. import _records
from .. import limits as _limits
from ..errors import EngineUnavailable, ImgvizError, SnapshotError
from ..snapshot import Snapshot

#: environment variable that decides what ``source=None`` means (any source :func:`open` accepts)
SOURCE_ENV = "IMGVIZ_SOURCE"

#: the embedded demos by name, each a file of package data and what it is: the same fleet recorded
#: on two engines, one size model each (``"demo"`` = ``"demo:overlay2"``; tests/demo/record.py
#: records the others). Their paths are :data:`DEMOS`.
_DEMO_FILES = {
    "overlay2": ("demo-snapshot.json.gz", "Docker 20.10, overlay2"),
    "containerd": ("demo-snapshot-containerd.json.gz", "Docker 28.5, containerd image store"),
}
#: the names of the embedded demos (what ``--demo NAME`` and ``"demo:NAME"`` take)
DEMO_NAMES = tuple(_DEMO_FILES)
DEFAULT_DEMO = "overlay2"


def _demos() -> dict:
    """:data:`DEMOS`, the package-data paths found on first use (imgviz/_data.py: importlib.resources
    costs about 5 ms of start-up, which a command about a live engine does not need)."""
    demos = globals().get("DEMOS")
    if demos is None:
        from .._data import data_path

        demos = {name: (data_path(file), what) for name, (file, what) in _DEMO_FILES.items()}
        globals().update(DEMOS=demos, DEMO_SNAPSHOT=demos[DEFAULT_DEMO][0])
    return demos


def __getattr__(name: str):
    """``DEMOS`` (name -> (path, description)) and ``DEMO_SNAPSHOT`` (the recorded demo fleet:
    package data, made as data/fleet/README.md says), made on first use."""
    if name in ("DEMOS", "DEMO_SNAPSHOT"):
        _demos()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_PREFIXES = ("registry", "archive", "snapshot")


class Opened(namedtuple("Opened", ["snapshot", "description"])):
    """What :func:`open` returns: the snapshot, and one line saying which source it came from.
    (collections.namedtuple, not typing.NamedTuple: typing costs a command's start-up 2 ms.)"""

    __slots__ = ()


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
                replayed = engine.collect(ReplayClient(snap), progress=False, host=snap.source.get("host"),
                                          collected_at=snap.source.get("collected_at"))
            if not snap.complete:
                # what stopped the live collection, as it was said then (the replay only knows the
                # recording ends there): every output of the file says what the live one did
                replayed.records["skipped"] = [dict(s) for s in snap.skipped]
                replayed.records["complete"] = False
            if isinstance(snap.source.get("cache"), dict):  # how the recording was collected, said again
                replayed.source["cache"] = dict(snap.source["cache"])
            return replayed
        except EngineError as exc:
            raise SnapshotError(f"{path}: {str(exc).split(': ', 1)[-1]}") from None
    return snap


def demo_name(name: str | None = None) -> str:
    """The demo ``name`` means (None: the default one), or a one-line error listing the names."""
    name = DEFAULT_DEMO if name in (None, "") else str(name).strip()
    if name not in DEMO_NAMES:
        raise ImgvizError(f"no embedded demo {name!r} (have: {', '.join(DEMO_NAMES)})")
    return name


def demo_snapshot(name: str | None = None) -> Snapshot:
    """An embedded demo snapshot: the demo fleet built by data/build_fleet.sh, recorded on one engine.

    Parameters
    ----------
    name : str, optional
        ``"overlay2"`` (the default: Docker 20.10, overlay2) or ``"containerd"`` (Docker 28.5 with
        the containerd image store): the same images, each engine's size model.
    """
    path = _demos()[demo_name(name)][0]
    if not path.exists():
        raise SnapshotError(f"{path}: the embedded demo snapshot is missing from this install "
                            f"(run imgviz from a source checkout, or pass --snapshot FILE)")
    return load(path)


def _demo(name: str | None) -> Opened:
    name = demo_name(name)
    if name == DEFAULT_DEMO:
        return Opened(demo_snapshot(), "embedded demo snapshot")
    return Opened(demo_snapshot(name), f"embedded demo snapshot {name!r} ({_DEMO_FILES[name][1]})")


def describe(snapshot: Snapshot | dict) -> str:
    """The one-line description of a snapshot given as an object (``"engine snapshot of unix://..."``)."""
    source = snapshot.source if isinstance(snapshot, Snapshot) else dict(snapshot or {})
    kind = source.get("kind", "unknown")
    host = source.get("host")
    return f"{kind} snapshot of {host}" if host else f"{kind} snapshot"


def open(source: Any = None, *, host: str | None = None, platform: str | None = None,  # noqa: A001
         read_layers: bool = False, progress: bool = True, limits=None, images=None,
         scope: str | None = None, cache: bool | None = None) -> Opened:
    """Open a source: a :class:`~imgviz.snapshot.Snapshot` and the line saying which source it was.

    Parameters
    ----------
    source : str, path, list of str or Snapshot, optional
        ========================  =====================================================================
        ``None``                  the value of ``$IMGVIZ_SOURCE`` (any of the below), else ``"auto"``
        ``"auto"``                the live engine when one is there (its socket accepts a connection;
                                  a slow engine is waited for, never replaced), else the embedded
                                  demo snapshot; the description says which, and why
        ``"engine"``              the live engine (:class:`~imgviz.errors.EngineUnavailable` when
                                  none answers)
        ``"demo"``                the embedded demo snapshot (Docker 20.10, overlay2)
        ``"demo:NAME"``           a named one (:data:`DEMOS`): ``"demo:containerd"`` is the same
                                  fleet on Docker 28.5 with the containerd image store
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
    cache : bool, optional
        A live engine's whole collection reads only images it has not read before, from the
        engine cache (:mod:`imgviz.sources.cache`; tags always from the fresh list). Default: on
        (unless ``$IMGVIZ_CACHE=0``); ``False`` reads every image.

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
                     targeted={"images": images, "scope": scope, "cache": cache})


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
        from pathlib import Path

        return _path(Path(source), platform=platform, read_layers=read_layers)
    if not isinstance(source, str):
        raise ImgvizError(f"{source!r}: not a source (a name such as 'demo', a path, a list of references "
                          f"or a Snapshot)")
    text = source.strip()
    if text == "demo":
        return _demo(None)
    if text == "engine":
        return _engine(connect_engine(host, light=_probe_of(targeted))[0], host, progress, targeted)
    if text == "auto":
        return _auto(host, progress, targeted)
    kind, sep, rest = text.partition(":")
    if sep and kind == "demo":
        return _demo(rest)
    if sep and kind in _PREFIXES:
        if kind == "registry":
            return _registry([rest], platform=platform, read_layers=read_layers, progress=progress)
        if kind == "archive":
            if not rest:
                raise ImgvizError(f"{text}: names no archive")
            from pathlib import Path

            return _archive(Path(rest), platform=platform, read_layers=read_layers)
        if not rest:
            raise ImgvizError(f"{text}: names no {kind}")
        return Opened(load(rest), f"snapshot file {rest}")
    from pathlib import Path

    path = Path(text)
    if not path.exists():
        raise ImgvizError(f"{text}: not a source (use 'demo', 'engine', 'auto', 'registry:REF', "
                          f"'archive:PATH' or an existing snapshot file or archive)")
    return _path(path, platform=platform, read_layers=read_layers)


def _auto(host: str | None, progress: bool, targeted=None) -> Opened:
    """The live engine when one is there, else the demo.

    "There" is decided by the transport, not by how fast the engine talks: when the engine's
    socket accepts a connection (within ``connect_timeout``), an engine is there, and its first
    answer (``/version``) is then waited for as long as any request (``request_timeout``), so a
    slow engine is used, never swapped for the demo. When it accepts and still does not answer in
    that time, that is an error (:class:`~imgviz.errors.EngineUnavailable`), not the demo: the user
    has an engine and must not be shown someone else's images. Only an address where nothing
    accepts (no socket file, connection refused, no route, a connect that times out) means the demo.
    """
    api, why = connect_engine(host, fall_back=True, light=_probe_of(targeted))
    if api is None:
        return Opened(demo_snapshot(), f"embedded demo snapshot ({why})")
    return _engine(api, host, progress, targeted)


def _probe_of(targeted) -> bool | str:
    """How the engine is probed (:func:`imgviz.sources.engine.connect` ``light``): a question about
    named images or the list with ``/_ping`` alone, as the docker CLI probes it; every other
    collection with ``/_ping`` and then Docker's ``/version`` (the size model needs it; an engine
    that never answers it is unavailable), podman known by its ping alone (read from its storage,
    it is asked neither /version nor /info; through its API, no /version)."""
    targeted = targeted or {}
    scope = targeted.get("scope")
    if scope in ("list", "images") or (scope is None and targeted.get("images") is not None):
        return True
    return "unless-podman"


def connect_engine(host: str | None = None, *, fall_back: bool = False, light: bool | str = False):
    """A client of the engine at ``host`` (default DOCKER_HOST, else the default socket), probed the
    way ``"auto"`` and ``"engine"`` both do: when its socket accepts a connection within
    ``connect_timeout`` an engine is there, and its ``/version`` is waited for up to
    ``request_timeout`` (at least ``connect_timeout``), like any other answer (a slow engine is
    slow, not missing).

    With ``fall_back``, ``(None, reason)`` when nothing accepts at the address; else (and always
    when something accepts but never answers) :class:`~imgviz.errors.EngineUnavailable`.
    Returns ``(client, "")`` otherwise.
    """
    from . import engine

    lim = _limits.get()
    address = engine.docker_host(host)
    accepts, why = _accepts(address, lim.connect_timeout)
    if accepts is False and fall_back:
        return None, f"no Docker engine answered at {address} ({why})"
    # once the socket accepts, /version gets as long as any answer (and never less than it had before)
    wait = max(lim.request_timeout, lim.connect_timeout)
    try:
        return engine.connect(host, timeout=wait if accepts else None, light=light), ""
    except EngineUnavailable as exc:
        if accepts and "in time" not in str(exc):
            raise  # something accepts there and answers what no engine would: said, never the demo
        if accepts:
            raise EngineUnavailable(f"an engine accepts connections at {address} but did not answer "
                                    f"{getattr(exc, 'call', None) or ('/_ping' if light else '/version')} within "
                                    f"{wait:g} s (timed out; IMGVIZ_REQUEST_TIMEOUT or --request-timeout to "
                                    f"wait longer{', --demo for the demo' if fall_back else ''})") from None
        if not fall_back:
            raise
        return None, exc.args[0].split(";")[0] if exc.args else "no engine"


def _accepts(address: str, timeout: float) -> tuple[bool | None, str]:
    """Whether something accepts a connection at an engine address: ``(True, "")``, ``(False,
    why)``, or ``(None, "")`` when only the docker SDK can tell (ssh://)."""
    import _socket  # (socket.py's enums cost 2 ms of start-up; a unix socket needs none of it)

    if address.startswith("unix://"):
        family, target = _socket.AF_UNIX, address.removeprefix("unix://")
    elif address.startswith(("tcp://", "http://", "https://")):
        from urllib.parse import urlsplit  # here: a unix socket's question does without it

        parts = urlsplit(address.replace("tcp://", "http://", 1))
        tls = address.startswith("https://") or bool(os.environ.get("DOCKER_TLS_VERIFY"))
        family, target = None, (parts.hostname or "", parts.port or (2376 if tls else 2375))
    else:
        return None, ""
    try:
        if family is None:
            import socket

            conn = socket.create_connection(target, timeout=timeout)
        else:
            conn = _socket.socket(family, _socket.SOCK_STREAM)
            conn.settimeout(timeout)
            try:
                conn.connect(target)
            except BaseException:
                conn.close()
                raise
        conn.close()
        return True, ""
    except TimeoutError:  # (socket.timeout)
        return False, f"no connection within {timeout:g} s"
    except OSError as exc:
        return False, exc.strerror or type(exc).__name__


def _engine(api, host: str | None, progress: bool, targeted=None) -> Opened:
    from . import engine

    try:
        snap = engine.collect(api, host=engine.docker_host(host) if api is not None else host, progress=progress,
                              **{k: v for k, v in (targeted or {}).items() if v is not None})
    finally:
        if api is not None:
            api.close()  # its kept-open connections
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
        import zlib

        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error:
            return False
    return head.lstrip()[:1] == b"{"
