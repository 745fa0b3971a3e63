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
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

from ..errors import EngineUnavailable
from ..snapshot import Snapshot, empty_records, utc_now_iso

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
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status == 404 or type(exc).__name__ in {"NotFound", "ImageNotFound", "ReplayNotFound"}


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
    client : docker.APIClient or ReplayClient, optional
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


class ReplayNotFound(Exception):
    """Raised by :class:`ReplayClient` for an object the recording says was gone."""


class ReplayClient:
    """Answers the engine calls :func:`collect` makes from a recorded snapshot.

    Loading a snapshot file replays it through :func:`collect` with this client, so recorded data
    goes through exactly the code a live collection uses. Objects the recording skipped answer
    "not found" again; objects missing from an incomplete recording answer "connection lost".
    """

    def __init__(self, snapshot: Snapshot):
        rec = snapshot.records
        self.recorded_host = snapshot.source.get("host")
        self._rec = rec
        self._images = {r["id"]: r for r in rec.get("images") or []}
        self._containers = {r["id"]: r for r in rec.get("containers") or []}
        self._gone = {(s.get("kind"), s.get("id")): s.get("detail", "") for s in rec.get("skipped") or []}

    def _need(self, key: str):
        value = self._rec.get(key)
        if value is None:
            raise ConnectionError(f"recording has no {key}")
        return value

    def version(self):
        return self._need("version")

    def images(self):
        return self._need("image_list")

    def _image(self, image_id: str) -> dict:
        if ("image", image_id) in self._gone:
            raise ReplayNotFound(self._gone[("image", image_id)])
        if image_id not in self._images:
            raise ConnectionError(f"recording stops before image {image_id}")
        return self._images[image_id]

    def inspect_image(self, image_id: str):
        return self._image(image_id)["inspect"]

    def history(self, image_id: str):
        return self._image(image_id)["history"]

    def containers(self, all: bool = True, size: bool = True):  # noqa: A002 - SDK signature
        return self._need("container_list")

    def inspect_container(self, container_id: str):
        if ("container", container_id) in self._gone:
            raise ReplayNotFound(self._gone[("container", container_id)])
        if container_id not in self._containers:
            raise ConnectionError(f"recording stops before container {container_id}")
        return self._containers[container_id]["inspect"]

    def df(self):
        return self._need("df")
