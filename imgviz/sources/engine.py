"""Docker Engine API source: one collection of the whole engine into a :class:`Snapshot`.

It talks to the engine through the docker SDK's low-level ``APIClient`` (one call per endpoint,
raw responses back), never through ``client.images.list()``, which inspects every image again.

Calls made, cheapest first (metadata only; no layer bytes are ever read):

1. ``GET /version``                         engine and API version
2. ``GET /images/json``                     the list ``docker image ls`` prints
3. ``GET /images/{id}/json`` + ``/history`` per image (in a small thread pool, with a progress bar)
4. ``GET /containers/json?all=1&size=1``    containers with writable-layer sizes
5. ``GET /containers/{id}/json``            per container, for the env it really runs with
6. ``GET /system/df``                       the engine's own shared sizes and totals

An image or container removed between the list and its detail call is skipped with a warning and
recorded in ``records["skipped"]``; a daemon that stops answering mid-way ends the collection with a
warning and a snapshot marked incomplete that keeps everything collected so far.

Look-ups for the build-cache prediction go through the same :func:`connect` (so no engine is the
same one-line :class:`~imgviz.errors.EngineUnavailable`): :func:`inspect_bases` (``GET
/images/{ref}/json`` per FROM image), :func:`image_history` (``GET /images/{ref}/history``) and
:func:`engine_version` (``GET /version``: which builder rules apply).
A recorded snapshot is replayed through :func:`collect` by :class:`imgviz.sources._replay.ReplayClient`.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

from ..errors import EngineUnavailable, ImageNotFound
from ..snapshot import Snapshot, empty_records, utc_now_iso
from ._oci import chain_ids

DEFAULT_HOST = "unix:///var/run/docker.sock"
START_HINT = ("start one with `dockerd --bridge=none --iptables=false --ip-masq=false` (as root) "
              "or point DOCKER_HOST at a running engine")


class CollectionWarning(UserWarning):
    """Something was skipped or cut short while collecting; the snapshot says what."""


class _Gone(Exception):
    """The object named in a detail call no longer exists (404)."""


class _Lost(Exception):
    """The engine stopped answering."""


def docker_host(host: str | None = None) -> str:
    """The engine address we will use: the argument, else DOCKER_HOST, else the default socket."""
    return host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


_address = docker_host  # for functions whose ``docker_host`` parameter hides the name


def connect(host: str | None = None, *, timeout: float = 60):
    """A docker SDK ``APIClient`` for ``host`` (honours DOCKER_HOST and DOCKER_TLS_VERIFY).

    Raises
    ------
    EngineUnavailable
        with one line naming the address when nothing answers there.
    """
    import docker
    from docker.utils import kwargs_from_env

    address = docker_host(host)
    kwargs = kwargs_from_env()
    kwargs["base_url"] = address
    try:
        api = docker.APIClient(version="auto", timeout=timeout, **kwargs)
        api.ping()
    except Exception as exc:  # the SDK wraps socket errors in several ways
        reason = _short_reason(exc)
        raise EngineUnavailable(f"no Docker engine answered at {address} ({reason}); {START_HINT}") from None
    return api


def available(host: str | None = None, *, timeout: float = 3) -> bool:
    """True when an engine answers at ``host`` (default: DOCKER_HOST or the default socket)."""
    try:
        connect(host, timeout=timeout).close()
        return True
    except EngineUnavailable:
        return False


def _short_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for marker in ("No such file or directory", "Connection refused", "Permission denied",
                   "timed out", "Name or service not known"):
        if marker in str(exc):
            return marker
    return text[:160]


def _is_not_found(exc: BaseException) -> bool:
    status = getattr(getattr(exc, "response", None), "status_code", None) or getattr(exc, "status_code", None)
    return status == 404 or type(exc).__name__ in {"NotFound", "ImageNotFound"}


def _call(fn, *args, **kwargs):
    """Run one API call, translating 'gone' and 'engine lost' into our two signals."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if _is_not_found(exc):
            raise _Gone(_short_reason(exc)) from None
        raise _Lost(_short_reason(exc)) from None


def _progress(iterable: Iterable, *, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="img" if "image" in desc else "ctr", leave=False)


def collect(client=None, *, host: str | None = None, progress: bool = True, workers: int = 4,
            collected_at: str | None = None) -> Snapshot:
    """Collect every image and container of an engine into a :class:`~imgviz.snapshot.Snapshot`.

    Parameters
    ----------
    client : docker.APIClient or imgviz.sources._replay.ReplayClient, optional
        Default: :func:`connect` to ``host``.
    host : str, optional
        Engine address (default DOCKER_HOST, else the default socket). Recorded in the snapshot.
    progress : bool
        Show a tqdm progress bar for the per-image and per-container calls.
    workers : int
        Concurrent detail calls.

    Returns
    -------
    Snapshot
        ``records["complete"]`` is False when the engine stopped answering part-way; everything
        collected before that is kept.

    Examples
    --------
    >>> snap = collect()                      # doctest: +SKIP
    >>> snap.save("engine.json.gz")           # doctest: +SKIP
    """
    api = client if client is not None else connect(host)
    address = host or getattr(api, "recorded_host", None) or docker_host(None)
    records = empty_records()
    snap = Snapshot(source={"kind": "engine", "host": address,
                            "collected_at": collected_at or utc_now_iso()}, records=records)
    try:
        version = _call(api.version)
        records["version"] = version
        snap.source["engine_version"] = version.get("Version")
        snap.source["api_version"] = version.get("ApiVersion")
        snap.source["os"] = version.get("Os")
        snap.source["arch"] = version.get("Arch")

        image_list = _call(api.images)
        records["image_list"] = image_list
        _collect_images(api, snap, [im["Id"] for im in image_list], progress, workers)

        container_list = _call(api.containers, all=True, size=True)
        records["container_list"] = container_list
        _collect_containers(api, snap, [c["Id"] for c in container_list], progress, workers)

        records["df"] = _call(api.df)
    except _Lost as lost:
        records["complete"] = False
        records["skipped"].append({"kind": "engine", "id": address, "reason": "engine stopped answering",
                                   "detail": str(lost)})
        warnings.warn(f"engine at {address} stopped answering ({lost}); kept what was collected: "
                      f"{len(records['images'])} images, {len(records['containers'])} containers",
                      CollectionWarning, stacklevel=2)
    return snap


def _collect_images(api, snap: Snapshot, ids: list[str], progress: bool, workers: int) -> None:
    def one(image_id: str) -> dict[str, Any]:
        return {"id": image_id, "inspect": _call(api.inspect_image, image_id),
                "history": _call(api.history, image_id), "config": None, "manifest": None, "ref": None}

    _gather(snap, "image", ids, one, snap.records["images"], progress, workers)


def _collect_containers(api, snap: Snapshot, ids: list[str], progress: bool, workers: int) -> None:
    def one(container_id: str) -> dict[str, Any]:
        return {"id": container_id, "inspect": _call(api.inspect_container, container_id)}

    _gather(snap, "container", ids, one, snap.records["containers"], progress, workers)


def _gather(snap: Snapshot, kind: str, ids: list[str], one, out: list, progress: bool, workers: int) -> None:
    """Run ``one(id)`` for every id, keep results in list order, skip the gone, stop when lost."""
    if not ids:
        return
    results: dict[str, dict] = {}
    lost: _Lost | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {i: pool.submit(one, i) for i in ids}
        for i in _progress(ids, total=len(ids), desc=f"{kind}s", enabled=progress):
            try:
                results[i] = futures[i].result()
            except _Gone as gone:
                snap.records["skipped"].append({"kind": kind, "id": i, "reason": "removed during collection",
                                                "detail": str(gone)})
                warnings.warn(f"{kind} {i[7:19] if i.startswith('sha256:') else i[:12]} was removed during "
                              f"collection; skipped", CollectionWarning, stacklevel=4)
            except _Lost as exc:
                lost = lost or exc
    out.extend(results[i] for i in ids if i in results)
    if lost is not None:
        raise lost


def platform_of(client=None, *, host: str | None = None) -> str | None:
    """``os/arch`` of the engine (``GET /version``): the platform ``docker pull`` would choose."""
    api = client if client is not None else connect(host)
    try:
        version = _call(api.version)
    except (_Gone, _Lost) as exc:
        raise EngineUnavailable(f"engine at {docker_host(host)} stopped answering ({exc})") from None
    finally:
        if client is None:
            api.close()
    if version.get("Os") and version.get("Arch"):
        return f"{version['Os']}/{version['Arch']}"
    return None


def engine_version(docker_host: str | None = None) -> str:
    """The engine's version (``GET /version``: ``Version``, e.g. ``"28.5.2+dfsg4"``), for the
    build-cache prediction, whose rules depend on it.  podman's Docker-compatible API answers with
    podman's own version: that is returned as ``"podman 4.3.1"``, so nobody takes it for Docker's.

    Raises
    ------
    EngineUnavailable
        One line naming the address when no engine answers.
    """
    api = connect(docker_host)
    try:
        version = _call(api.version)
    except (_Gone, _Lost) as exc:
        raise EngineUnavailable(f"engine at {_address(docker_host)} stopped answering ({exc})") from None
    finally:
        api.close()
    names = {str(c.get("Name", "")) for c in version.get("Components") or () if isinstance(c, dict)}
    if "Podman Engine" in names:
        return f"podman {version.get('Version') or ''}".strip()
    return str(version.get("Version") or "")


def inspect_bases(refs: Iterable[str], docker_host: str | None = None) -> dict:
    """What both builders know about each FROM image in ``refs``, read from the engine.

    Parameters
    ----------
    refs : iterable of str
        Image references as FROM lines name them (``scratch`` is skipped).
    docker_host : str, optional
        Engine address (default DOCKER_HOST, else the default socket).

    Returns
    -------
    dict of str to imgviz.dockerfile.bases.BaseImage
        ``image_id`` (the config digest: the classic builder's identity of a base), ``chain_id``
        of ``RootFS.Layers`` (BuildKit's identity), and the config's
        Env, User, WorkingDir and Shell. References the engine does not have are left out (the
        prediction then identifies them by their text).

    Raises
    ------
    EngineUnavailable
        One line naming the address when no engine answers or it stops answering.
    """
    from ..dockerfile.bases import BaseImage

    address = _address(docker_host)
    api = connect(docker_host)
    out = {}
    try:
        for ref in refs:
            if ref in out or ref == "scratch":
                continue
            try:
                info = _call(api.inspect_image, ref)
            except _Gone:
                continue
            except _Lost as exc:
                raise EngineUnavailable(f"engine at {address} stopped answering ({exc})") from None
            cfg = info.get("Config") or {}
            layers = (info.get("RootFS") or {}).get("Layers") or []
            out[ref] = BaseImage(
                ref=ref,
                image_id=info["Id"],
                chain_id=chain_ids(layers)[-1] if layers else info["Id"],
                env=tuple(cfg.get("Env") or ()),
                user=cfg.get("User") or "",
                workdir=cfg.get("WorkingDir") or "",
                shell=tuple(cfg.get("Shell") or ()),
            )
    finally:
        api.close()
    return out


def image_history(ref: str, docker_host: str | None = None) -> list[dict]:
    """The engine's ``GET /images/{ref}/history`` for one image, as it answered (newest entry first).

    See :func:`imgviz.dockerfile.bases.history_frame` for the frame the cascade reads.

    Raises
    ------
    ImageNotFound
        When the engine has no such image.
    EngineUnavailable
        One line naming the address when no engine answers.
    """
    address = _address(docker_host)
    api = connect(docker_host)
    try:
        return list(_call(api.history, ref))
    except _Gone:
        raise ImageNotFound(f"image {ref!r} is not in the engine") from None
    except _Lost as exc:
        raise EngineUnavailable(f"engine at {address} stopped answering ({exc})") from None
    finally:
        api.close()
