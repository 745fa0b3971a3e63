"""Docker Engine API source: a collection of the engine (or of what one answer needs) into a :class:`Snapshot`.

It talks to the engine one request per endpoint, raw responses back: over a unix socket or plain
TCP with :mod:`imgviz.sources._http` (the standard library's sockets: no docker SDK import, kept-open
connections), over TLS or ssh through the docker SDK's low-level ``APIClient``.

Calls made, cheapest first (metadata only; no layer bytes are ever read):

1. ``GET /version``                         engine and API version
2. ``GET /images/json``                     the list ``docker image ls`` prints
3. ``GET /images/{id}/json`` + ``/history`` per image (in a small thread pool, with a progress bar)
4. ``GET /containers/json?all=1&size=1``    containers with writable-layer sizes
5. ``GET /containers/{id}/json``            per container, for the env it really runs with
6. ``GET /system/df``                       the engine's own shared sizes and totals: asked beside
                                            2-5 on its own thread (the slowest answer on the
                                            containerd store: 6.7 s at 387 images)
7. ``GET /info`` (+ ``/images/json?manifests=1`` on the containerd store): the engine model
   (:mod:`imgviz.sources.engine_model`), also beside 3-5 once the list is read

A question asks only what its answer needs (``collect(images=[...])``: 1 and 3 for those images,
``collect(scope="list")``: 1 and 2; ``scope="what-if"``: 1, 2, every image's inspect but only
the removed images' history, 4 without sizes (with them for ``"what-if-with-containers"``), 7;
``scope="pull"``: 1, 2, every image's inspect, 7, and 6 only where the plan reads it). podman on
this host, known by ``/_ping`` (the probe of every collection), is read from its storage instead of
asked 1-3, 5 and 7 (:mod:`imgviz.sources.podman_store`), for a whole collection, what-if and pull.

An image or container removed between the list and its detail call is skipped with a warning and
recorded in ``records["skipped"]``; a daemon that stops answering mid-way (or does not answer one
request within ``request_timeout``, or the ``deadline`` passes: :mod:`imgviz.limits`) ends the
collection with a warning and a snapshot marked incomplete that keeps everything collected so far.

Every answer is bounded and checked where it enters: it is read as it arrives, refused past
``max_engine_answer_bytes``, and checked against the record types of :mod:`imgviz._records` (an
image list of objects with digest IDs, sizes that are whole numbers from 0 to 2**63-1, lists of
strings where the engine sends lists of strings...). A malformed answer raises
:class:`~imgviz.errors.EngineError` naming the call and the field, with what was collected before
it in ``partial``. Each request runs on a daemon thread the caller waits for at most the time
left, so an engine that sends one byte every few seconds cannot hold the caller.

Look-ups for the build-cache prediction go through the same :func:`connect` (so no engine is the
same one-line :class:`~imgviz.errors.EngineUnavailable`): :func:`inspect_bases` (``GET
/images/{ref}/json`` per FROM image), :func:`image_history` (``GET /images/{ref}/history``) and
:func:`engine_version` (``GET /version``: which builder rules apply).
A recorded snapshot is replayed through :func:`collect` by :class:`imgviz.sources._replay.ReplayClient`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import warnings

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Iterable

from .. import _records
from .._lazy import Pattern
from .. import limits as _limits
from ..errors import EngineError, EngineUnavailable, ImageNotFound, UsageError
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


class _Malformed(Exception):
    """The engine answered something that is not what the API says (one line: the call and the field)."""


_HOST_FORMS = {
    "unix": re.compile(r"^unix://(/[^\x00]*)$"),
    # (compiled when first used: a unix socket's address never reaches the other two)
    "tcp": Pattern(r"^(?:tcp|http|https)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?/?$"),
    "ssh": Pattern(r"^ssh://(?:[^@/\s]+@)?[A-Za-z0-9.-]+(?::[0-9]{1,5})?$"),
}


def check_host(address: str, *, name: str = "--host") -> str:
    """``address`` when it is an engine address the docker client can use, else a
    :class:`~imgviz.errors.UsageError` (``unix:///PATH``, ``tcp://HOST[:PORT]``, ``http(s)://...``,
    ``ssh://[USER@]HOST``); an empty address or one with no path or host is refused, never
    silently replaced by the default socket."""
    text = address if isinstance(address, str) else ""
    for kind, form in _HOST_FORMS.items():
        m = form.match(text)
        if m:
            if kind == "tcp" and m.group(2) is not None and not 0 < int(m.group(2)) < 65536:
                break
            return text
    raise UsageError(f"{name} {text!r}: not an engine address (unix:///PATH, tcp://HOST:PORT, "
                     f"http(s)://HOST:PORT or ssh://[USER@]HOST)")


def docker_host(host: str | None = None) -> str:
    """The engine address we will use: the argument, else DOCKER_HOST, else the default socket.

    An address given (the argument, or DOCKER_HOST when set and not empty) is checked by
    :func:`check_host`; an empty argument is an error, not the default.
    """
    if host is not None:
        return check_host(host)
    env = os.environ.get("DOCKER_HOST")
    if env:
        return check_host(env, name="DOCKER_HOST")
    return DEFAULT_HOST


_address = docker_host  # for functions whose ``docker_host`` parameter hides the name


def connect(host: str | None = None, *, timeout: float | None = None, limits=None,
            light: bool | str = False) -> "_Answers":
    """A client of the engine at ``host`` (honours DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).

    Unix sockets and plain TCP are spoken with the standard library (:mod:`imgviz.sources._http`:
    no docker SDK import, connections kept open); TLS and ``ssh://`` engines through the docker
    SDK's ``APIClient``. Either way the client returned has the same methods (``version``,
    ``images``, ``inspect_image``, ``history``, ``containers``, ``inspect_container``, ``df``,
    ``info``, ``close``), each one request bounded in time and size and checked where it enters.

    The probe (``/version``; with ``light``, ``/_ping`` as the docker CLI asks: what a question
    about one image or the list uses, as podman takes 0.6 s to answer /version; with
    ``light="unless-podman"``, ``/_ping`` and then ``/version`` unless the ping names podman: what
    every other collection uses, as podman needs no /version, read from its storage or asked
    through its API) must answer
    within ``timeout`` (default: ``connect_timeout`` of :mod:`imgviz.limits`); the client returned
    then waits up to ``request_timeout`` per request, so a slow engine is slow, not missing.

    Raises
    ------
    EngineUnavailable
        with one line naming the address when nothing answers there (or the probe timed out:
        the line says so).
    UsageError
        when ``host`` is not an engine address.
    """
    lim = _limits.get(limits)
    probe = lim.connect_timeout if timeout is None else float(timeout)
    address = docker_host(host)
    from . import _http

    if _http.speaks(address):
        # a connection is opened within connect_timeout; the probe's answer may be given longer
        transport = _http.Transport(address, connect_timeout=min(probe, lim.connect_timeout))
    else:
        transport = _SdkTransport(_sdk_client(address, probe))
    answers = _probe(transport, address, lim, probe, light=light)
    return answers.bound(lim, _limits.current_deadline() or _limits.deadline(lim, "the engine client"))


def connect_sdk(host: str | None = None, *, timeout: float | None = None, limits=None):
    """A docker SDK ``APIClient`` for ``host``, probed like :func:`connect` (same errors), for the
    few calls that stream what the light transport does not (``docker save`` streams of
    :mod:`imgviz.sources.engine_files`)."""
    lim = _limits.get(limits)
    probe = lim.connect_timeout if timeout is None else float(timeout)
    address = docker_host(host)
    api = _sdk_client(address, probe)
    answers = _probe(_SdkTransport(api), address, lim, probe)
    api._version = answers.api_version  # what docker-py's version="auto" would have set
    api.timeout = lim.request_timeout
    return api


def _sdk_client(address: str, probe: float):
    import docker
    from docker.utils import kwargs_from_env

    kwargs = kwargs_from_env()
    kwargs["base_url"] = address
    try:
        # no request yet: the API version is read by the probe, bounded and checked like every answer
        return docker.APIClient(version=_MIN_API, timeout=probe, **kwargs)
    except Exception as exc:  # a malformed address or TLS setting the SDK refuses
        raise EngineUnavailable(f"no Docker engine answered at {address} ({_short_reason(exc)}); {START_HINT}") from None


def _probe(transport, address: str, lim: _limits.Limits, probe: float, light: bool | str = False) -> "_Answers":
    """``GET /version`` (unversioned) within ``probe`` seconds: the client for the API version the
    engine speaks, or the one-line error. ``light`` (a question about one image or the list): ``GET
    /_ping`` instead, as the docker CLI asks first, its ``Api-Version`` header the version spoken and
    its headers kept (``probed_ping``); /version only when the ping does not say (or the SDK talks).
    ``light="unless-podman"``: /version after the ping too, unless the ping names podman (Docker's
    collections read /version first thing: asked here, an engine that never answers it is said to be
    unavailable, as by the plain probe)."""
    outer = _limits.current_deadline()
    answers = _Answers(transport, lim.replace(request_timeout=probe), outer or _limits.Deadline(probe, "the probe"))
    version = ping = None
    asking = "/_ping" if light else "/version"
    try:
        if light:
            ping = _call(answers.probe_ping, what="/_ping")
            if ping is not None and not re.fullmatch(r"1\.[0-9]{1,3}", ping.get("api-version", "")):
                ping = None
            if ping is not None and light == "unless-podman" and not _ping_names_podman(ping):
                ping = None
        if ping is None:
            asking = "/version"
            version = _call(answers.probe_version, schema=_records.VERSION, what="/version")
    except _Lost as exc:
        transport.close()
        text = str(exc)
        if "within" in text or "deadline" in text or "timed out" in text:
            late = EngineUnavailable(f"no Docker engine answered at {address} in time (timed out after {probe:g} s; "
                                     f"IMGVIZ_CONNECT_TIMEOUT to wait longer)")
            late.call = asking  # the probe's call that did not answer in time
            raise late from None
        reason = text.split(": ", 1)[-1]
        raise EngineUnavailable(f"no Docker engine answered at {address} ({reason}); {START_HINT}") from None
    except (_Malformed, _Gone) as exc:
        transport.close()
        raise EngineError(f"engine at {address}: malformed answer: {exc}") from None
    if ping is not None:
        answers.api_version = ping["api-version"]
        answers.probed_ping = ping
        return answers
    api_version = version.get("ApiVersion")
    if not isinstance(api_version, str) or not re.fullmatch(r"1\.[0-9]{1,3}", api_version):
        transport.close()
        raise EngineError(f"engine at {address}: malformed answer: /version.ApiVersion: "
                          f"{str(api_version)[:40]!r} is not an API version")
    answers.api_version = api_version
    answers.probed_version = version
    return answers


_MIN_API = "1.24"


def available(host: str | None = None, *, timeout: float | None = None) -> bool:
    """True when an engine answers at ``host`` (default: DOCKER_HOST or the default socket)."""
    try:
        connect(host, timeout=timeout).close()
        return True
    except EngineUnavailable:
        return False


class _Timeout(Exception):
    """A bounded call did not end in time."""


def _bounded_call(fn, seconds: float, deadline=None, cancel: threading.Event | None = None):
    """``fn()`` on a daemon thread, waited for at most ``seconds`` (and never past ``deadline``).

    A call that does not end in time raises :class:`_Timeout`; its thread is left to end by itself
    (its socket has a read timeout, and ``cancel`` is set for it to stop reading), and being a
    daemon it never holds the process open.
    """
    box: dict[str, Any] = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    wait = deadline.timeout(seconds) if deadline is not None else seconds
    t = threading.Thread(target=run, daemon=True, name="imgviz-engine-call")
    t.start()
    t.join(wait)
    if t.is_alive():
        if cancel is not None:
            cancel.set()
        raise _Timeout()
    if "error" in box:
        raise box["error"]
    return box["value"]


class _SdkTransport:
    """The docker SDK's ``APIClient`` as a transport (TLS and ``ssh://`` engines): the same
    ``get`` as :class:`imgviz.sources._http.Transport`."""

    def __init__(self, api):
        self.api = api
        self.connect_timeout = api.timeout

    def get(self, path: str, *, read_timeout: float, max_bytes: int, cancel: threading.Event | None = None):
        from ._http import Cancelled, TooBig

        resp = self.api.get(f"{self.api.base_url}{path}", stream=True, timeout=(self.connect_timeout, read_timeout))
        try:
            body = bytearray()
            for chunk in resp.iter_content(1 << 16):
                body += chunk
                if len(body) > max_bytes:
                    raise TooBig(len(body))
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
            return resp.status_code, bytes(body)
        finally:
            resp.close()

    def close(self) -> None:
        self.api.close()


class _Answers:
    """The engine calls :func:`collect` makes, each one request bounded in time and size.

    The same methods as :class:`~imgviz.sources._replay.ReplayClient`, each answer read as it
    arrives: refused past ``max_engine_answer_bytes``, parsed as JSON (NaN and Infinity refused),
    and given up after ``request_timeout`` or at the deadline (an engine that stops sending is an
    engine lost). The requests go through a transport (:mod:`imgviz.sources._http`, or the docker
    SDK for TLS and ssh engines), shared by every :meth:`bound` copy.
    """

    def __init__(self, transport, limits: _limits.Limits, deadline: _limits.Deadline, api_version: str = _MIN_API):
        self.transport, self.limits, self.deadline = transport, limits, deadline
        self.api_version = api_version
        self.probed_version: dict | None = None
        self.probed_ping: dict[str, str] | None = None
        self.recorded_host = None

    def bound(self, limits: _limits.Limits, deadline: _limits.Deadline) -> "_Answers":
        """The same client (same connections and API version) under other limits and deadline."""
        other = _Answers(self.transport, limits, deadline, self.api_version)
        other.probed_version = self.probed_version
        other.probed_ping = self.probed_ping
        return other

    def close(self) -> None:
        self.transport.close()

    def _get(self, path: str, params: dict | None = None, *, what: str, versioned: bool = True) -> Any:
        status, body = self._fetch(path, params, what=what, versioned=versioned)
        return self._parse(status, body, what)

    def _fetch(self, path: str, params: dict | None = None, *, what: str, versioned: bool = True,
               headers: bool = False):
        """One bounded ``GET``: ``(status, body)``, with ``headers`` also the answer's headers."""
        from ._http import Cancelled, TooBig

        lim = self.limits
        full = (f"/v{self.api_version}{path}" if versioned else path) + (f"?{_query(params)}" if params else "")
        cancel = threading.Event()

        def work():
            if headers:
                return self.transport.get_with_headers(full, read_timeout=lim.request_timeout,
                                                       max_bytes=lim.max_engine_answer_bytes, cancel=cancel)
            return self.transport.get(full, read_timeout=lim.request_timeout, max_bytes=lim.max_engine_answer_bytes,
                                      cancel=cancel)

        if self.deadline.expired:
            raise _Lost(f"the deadline of {self.deadline.seconds:g} s passed before {what}")
        try:
            answer = _bounded_call(work, lim.request_timeout, self.deadline, cancel)
        except _Timeout:
            if self.deadline.expired:
                raise _Lost(f"the deadline of {self.deadline.seconds:g} s passed during {what}") from None
            raise _Lost(f"{what} got no complete answer within {lim.request_timeout:g} s "
                        f"(IMGVIZ_REQUEST_TIMEOUT)") from None
        except TooBig:
            raise _Malformed(f"{what}: the answer is more than {lim.max_engine_answer_bytes} bytes "
                             f"(max_engine_answer_bytes; refused)") from None
        except Cancelled:
            raise _Lost(f"{what}: cancelled") from None
        except Exception as exc:
            if "timed out" in str(exc).lower() or "timeout" in type(exc).__name__.lower():
                # the socket's own read timeout (the same request_timeout) fired first
                if self.deadline.expired:
                    raise _Lost(f"the deadline of {self.deadline.seconds:g} s passed during {what}") from None
                raise _Lost(f"{what} got no complete answer within {lim.request_timeout:g} s "
                            f"(IMGVIZ_REQUEST_TIMEOUT)") from None
            raise _Lost(f"{what}: {_short_reason(exc)}") from None
        return answer

    def _parse(self, status: int, body: bytes, what: str) -> Any:
        if status == 404:
            raise _Gone(f"{what}: not found (404)")
        try:
            value = json.loads(body, parse_constant=_no_constant) if body else None
        except RecursionError:
            raise _Malformed(f"{what}: the answer nests too deep to be the API's JSON") from None
        except (ValueError, UnicodeDecodeError) as exc:
            if status >= 400:
                raise _Lost(f"{what}: the engine answered {status}") from None
            raise _Malformed(f"{what}: the answer is not JSON ({str(exc)[:80]})") from None
        if status >= 400:
            message = value.get("message") if isinstance(value, dict) else None
            raise _Lost(f"{what}: the engine answered {status}"
                        f"{': ' + str(message)[:200] if isinstance(message, str) else ''}")
        return value

    def version(self):
        return self._get("/version", what="/version")

    def probe_version(self):
        """``GET /version`` without an API version in the path."""
        return self._get("/version", what="/version", versioned=False)

    def probe_ping(self) -> dict[str, str] | None:
        """``GET /_ping`` (what the docker CLI asks first): its headers (names in lower case) when it
        answers 200 with an ``Api-Version``, else None. Every engine answers it at once, where
        ``/version`` takes 6 ms on Docker 28 and 0.6 s on podman 4.3 (it asks conmon, runc...)."""
        if not hasattr(self.transport, "get_with_headers"):
            return None
        status, _body, headers = self._fetch("/_ping", what="/_ping", versioned=False, headers=True)
        return dict(headers) if status == 200 and "api-version" in headers else None

    def images(self):
        return self._get("/images/json", {"only_ids": 0, "all": 0}, what="/images/json")

    def inspect_image(self, image_id: str):
        return self._get(f"/images/{_url_id(image_id)}/json", what=f"/images/{image_id[:19]}/json")

    def history(self, image_id: str):
        return self._get(f"/images/{_url_id(image_id)}/history", what=f"/images/{image_id[:19]}/history")

    def containers(self, all: bool = True, size: bool = True):  # noqa: A002 - SDK signature
        return self._get("/containers/json", {"limit": -1, "all": int(all), "size": int(size), "trunc_cmd": 0},
                         what="/containers/json")

    def inspect_container(self, container_id: str):
        return self._get(f"/containers/{_url_id(container_id)}/json", what=f"/containers/{container_id[:12]}/json")

    def df(self):
        return self._get("/system/df", what="/system/df")

    def info(self):
        return self._get("/info", what="/info")

    def podman_df(self):
        """podman's own ``/libpod/system/df`` (what ``podman system df -v`` prints)."""
        from .podman import libpod_path

        ping = self.probed_ping or {}
        known = self.probed_version or ping.get("libpod-api-version") or self.version()
        return self._get(libpod_path(known, "/system/df"),
                         what="/libpod/system/df", versioned=False)

    def image_manifests(self):
        return self._get("/images/json", {"manifests": 1}, what="/images/json?manifests=1")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


#: what :func:`urllib.parse.quote` with ``safe="/:@"`` leaves as it is (and ``urlencode`` in a query)
_URL_SAFE = re.compile(r"^[A-Za-z0-9_.~/:@-]*$")


def _url_id(value: str) -> str:
    """An ID or reference made safe for a URL path (``/`` of references kept, nothing else special)."""
    if _URL_SAFE.match(value):
        return value  # an ID or a plain tag: as quote() leaves it, without importing urllib.parse
    from urllib.parse import quote

    return quote(value, safe="/:@")


#: what ``urlencode`` leaves as it is in a query's names and values
_QUERY_SAFE = re.compile(r"^[A-Za-z0-9_.~-]*$")


def _query(params: dict) -> str:
    """``urlencode(params)``; the API's own whole-number and plain-word parameters without urllib.parse."""
    if all(_QUERY_SAFE.match(k) and (isinstance(v, int) or (isinstance(v, str) and _QUERY_SAFE.match(v)))
           for k, v in params.items()):
        return "&".join(f"{k}={v}" for k, v in params.items())
    from urllib.parse import urlencode

    return urlencode(params)


#: an image reference or ID as the engine accepts one in ``/images/{name}/...`` (checked before it
#: goes into a URL: no ``..`` segment, no leading ``/`` or ``-``, nothing but reference characters)
_REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,511}$")


def check_reference(ref: str) -> str:
    """``ref`` when it is an image reference or ID the engine can look up, else
    :class:`~imgviz.errors.UsageError` (it never reaches the engine's URL)."""
    if not isinstance(ref, str) or not _REF_RE.match(ref) or any(p in ("", ".", "..") for p in ref.split("/")):
        raise UsageError(f"{str(ref)[:80]!r}: not an image reference or ID")
    return ref


def _short_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for marker in ("No such file or directory", "Connection refused", "Permission denied",
                   "timed out", "Name or service not known", "Connection reset", "Remote end closed connection"):
        if marker in str(exc):
            return marker
    return text[:160]


def _is_not_found(exc: BaseException) -> bool:
    status = getattr(getattr(exc, "response", None), "status_code", None) or getattr(exc, "status_code", None)
    return status == 404 or type(exc).__name__ in {"NotFound", "ImageNotFound"}


def _call(fn, *args, schema: "_records.T | None" = None, what: str = "", **kwargs):
    """Run one API call, translating 'gone' and 'engine lost' into our two signals, and check the
    answer against ``schema`` (:mod:`imgviz._records`): a malformed answer is :class:`_Malformed`."""
    try:
        value = fn(*args, **kwargs)
    except (_Gone, _Lost, _Malformed):
        raise
    except Exception as exc:
        if _is_not_found(exc):
            raise _Gone(_short_reason(exc)) from None
        raise _Lost(_short_reason(exc)) from None
    if schema is not None:
        found = _records.problem(schema, value, what or getattr(fn, "__name__", "answer"))
        if found is not None:
            raise _Malformed(found)
    return value


def _progress(iterable: Iterable, *, total: int, desc: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="img" if "image" in desc else "ctr", leave=False)


def collect(client=None, *, host: str | None = None, progress: bool = True, workers: int | None = None,
            collected_at: str | None = None, limits=None, images: Iterable[str] | None = None,
            scope: str | None = None, cache: bool | None = None) -> Snapshot:
    """Collect an engine's images and containers into a :class:`~imgviz.snapshot.Snapshot`:
    everything, or only what one answer needs (``images``, ``scope``).

    Parameters
    ----------
    client : docker.APIClient or imgviz.sources._replay.ReplayClient, optional
        Default: :func:`connect` to ``host``.
    host : str, optional
        Engine address (default DOCKER_HOST, else the default socket). Recorded in the snapshot.
    progress : bool
        Show a tqdm progress bar for the per-image and per-container calls.
    workers : int, optional
        Concurrent detail calls. Default: chosen per engine from ``/version`` and ``/info`` (asked
        beside the list) by :func:`imgviz.sources.engine_model.detail_workers`, whose docstring
        has the measured table.
    limits : imgviz.limits.Limits or dict, optional
        ``request_timeout`` per call, one ``deadline`` for the whole collection, the size of an
        answer (:mod:`imgviz.limits`).
    images : list of str, optional
        Only these images (tags, full or short IDs, ``name@digest``: what ``docker image inspect``
        takes): ``GET /images/{ref}/json`` and ``/history`` of each, nothing else (what ``docker
        image history`` needs). A reference the engine does not know is
        :class:`~imgviz.errors.ImageNotFound`.
    scope : {'all', 'list', 'images', 'what-if', 'what-if-with-containers', 'pull'}, optional
        ``all`` (the default without ``images``): every image, container and ``/system/df`` (which
        runs beside the rest, as it is the slowest answer on the containerd store); ``list``:
        ``/version`` and ``/images/json`` only (what ``docker image ls`` needs; no image record);
        ``images``: the ``images`` named.
        ``what-if`` (with ``images``: the images to remove, resolved against the list as
        :func:`imgviz.analysis.what_if.removal` resolves them): every image's inspect (which
        other image keeps a layer) but the history of the removed images only (their layers'
        sizes), the container list without sizes and no container inspect (a container keeps its
        image's layers), ``/info`` and the size model's records (the containerd store's content
        graph, podman's layer store); no ``/system/df``. ``what-if-with-containers``: the same,
        the container list with writable sizes. ``pull`` (no ``images``): every image's inspect
        (the layer chains the engine holds), ``/info``, the content graph, the graph driver's
        distribution records or podman's layer store (the blobs it unpacked), and ``/system/df`` only where the plan reads its build-cache
        records; no history, no containers. Records the layer scopes did not read are None
        (an image's ``history``, a container's ``inspect``): such a snapshot answers its question
        and is not meant to be saved.
    cache : bool, optional
        Whole-engine collections of a live engine: serve the images the engine cache
        (:mod:`imgviz.sources.cache`) holds as the fresh list still names them, read only the
        others, and keep what was read. Default (None): on, unless ``$IMGVIZ_CACHE=0``. Tags
        always come from the fresh list; ``source["cache"]`` says how many images came from the
        cache and where it is.

    Returns
    -------
    Snapshot
        ``records["complete"]`` is False when the engine stopped answering part-way (or a request
        or the deadline ran out); everything collected before that is kept. A snapshot of less
        than everything says so in ``source["scope"]`` (``"list"`` or ``"images"``) and
        ``records["scope"]`` (the references asked), and holds no containers or ``df``: it
        answers its question, it is not the engine's whole state.

    Raises
    ------
    EngineError
        When an answer is malformed: one line naming the call and the field; ``partial`` holds
        what was collected before it (marked incomplete).

    Examples
    --------
    >>> snap = collect()                      # doctest: +SKIP
    >>> snap.save("engine.json.gz")           # doctest: +SKIP
    """
    with _limits.using(limits) as lim, _limits.deadline_scope(what="the engine collection") as deadline:
        own = client is None
        # probed with /_ping (what the docker CLI asks first): podman answers /version in 0.2-0.4 s, and
        # a whole collection of podman asks none (Docker's /version: asked next)
        api = client if client is not None else connect(host, limits=lim, light=True)
        address = (docker_host(host) if host is not None and client is None else host) \
            or getattr(api, "recorded_host", None) or docker_host(None)
        api = _answers_of(api, lim, deadline)
        asked = None if images is None else list(dict.fromkeys(images))
        scope = scope or ("images" if asked is not None else "all")
        if scope == "images" and asked is not None:  # into the engine's URLs (a layer scope resolves them
            asked = [check_reference(r) for r in asked]  # against the list)
        with_refs = ("images", "what-if", "what-if-with-containers")
        if scope not in ("all", "list", "pull", *with_refs) or (scope in with_refs) != (asked is not None):
            raise UsageError(f"scope={scope!r}: 'all', 'list', 'pull', or 'images', 'what-if', "
                             f"'what-if-with-containers' with images=[...]")
        try:
            use_cache = False
            # (a question about one image or the list, or --no-cache, imports no cache module)
            if scope == "all" and cache is not False:
                from .cache import enabled

                use_cache = enabled(cache) and isinstance(api, _Answers)  # never for a recording's replay
            return _collect(api, address, progress, workers, collected_at, scope, asked, use_cache)
        finally:
            if own:
                api.close()


def _is_sdk_client(api) -> bool:
    docker = sys.modules.get("docker")  # never imported here only to ask (it costs 0.14 s)
    return docker is not None and isinstance(api, docker.APIClient)


def _answers_of(api, lim: _limits.Limits, deadline: _limits.Deadline):
    """The bounded client for ``api``: our own client under these limits, the docker SDK's
    ``APIClient`` wrapped, anything else (a replay, a test's wrapper) as it is."""
    if isinstance(api, _Answers):
        return api.bound(lim, deadline)
    if _is_sdk_client(api):
        return _Answers(_SdkTransport(api), lim, deadline, getattr(api, "_version", None) or _MIN_API)
    return api


def _collect(api, address: str, progress: bool, workers: int, collected_at: str | None,
             scope: str = "all", asked: list[str] | None = None, cache: bool = False) -> Snapshot:
    records = empty_records()
    snap = Snapshot(source={"kind": "engine", "host": address,
                            "collected_at": collected_at or utc_now_iso()}, records=records)
    if scope != "all":
        snap.source["scope"] = scope
        records["scope"] = asked if asked is not None else []
    df_call = None
    try:
        # a client made by connect() keeps its probe's answer (checked there): /version is asked once
        # (it is not cheap: 20.10 answers it in 5-7 ms, an image's inspect in 0.2 ms)
        probed = api.probed_version if isinstance(api, _Answers) else None
        # (a replay of a collection that asked no /version answers its recorded ping)
        ping = getattr(api, "probed_ping", None) if probed is None else None
        podman_api = False  # podman known by its ping, asked through its API: no /version either
        if ping is not None and scope == "all":
            done, df_call = _collect_podman_pinged(api, snap, address, ping, progress, workers)
            if done:
                return snap
            podman_api = _ping_names_podman(ping)
        if ping is not None and scope in LAYER_SCOPES \
                and _collect_podman_layers_pinged(api, snap, address, ping, scope, asked or []):
            return snap
        if ping is not None and (scope in ("list", "images") or podman_api):
            # a question probed with /_ping (connect(light=True)): its headers are what this snapshot
            # knows of the engine (records["version"] stays None: /version is not asked for it). The
            # layer scopes (what-if, pull) read the size model, which /version decides: asked below.
            # podman whose storage cannot be read from here (a remote podman, IMGVIZ_PODMAN_STORE=0)
            # is asked through its API, but not /version (0.2-0.4 s, more than the list and 25
            # images' details together): its ping names its version and API version, and /info,
            # asked beside the list, the storage, the platform and the cache's key
            version = None
            records["ping"] = ping
            snap.source["api_version"] = ping.get("api-version")
            if podman_api:
                snap.source["engine_version"] = ping.get("libpod-api-version")
        else:
            version = probed or _call(api.version, schema=_records.VERSION, what="/version")
            records["version"] = version
            snap.source["engine_version"] = version.get("Version")
            snap.source["api_version"] = version.get("ApiVersion")
            snap.source["os"] = version.get("Os")
            snap.source["arch"] = version.get("Arch")

        if scope == "images":
            _collect_named(api, snap, asked or [], address)
            return snap
        if scope in LAYER_SCOPES:
            _collect_layers(api, snap, address, progress, workers, scope, asked or [], cache)
            return snap
        if scope == "all":
            # the slowest answer (6.7 s on a 387-image containerd store) runs beside everything else
            df_call = df_call or _Beside(lambda: _disk_usage(api))
        # the cache is keyed by the engine's /info, and the detail calls' concurrency chosen by it:
        # asked beside the list, and kept for the model
        podman_store = scope == "all" and _podman_store_readable(api, address, version)
        info_call = _Beside(lambda: _call(api.info, what="/info")) \
            if (cache or workers is None or podman_store) and scope == "all" \
            and getattr(api, "info", None) is not None else None
        extras_call = listed = manifests_given = None
        if scope == "all":
            # the engine model's answers (/info, /images/json?manifests=1 on the containerd store, as
            # slow there as the list itself; its content store, which needs the list) start beside the
            # list; into a dict of their own, taken at the end, so a collection cut short never gets
            # them later (a replay of it would not either)
            listed = _Handoff()
            manifests_given = _Handoff()
            model_api = _AlreadyAsked(api, info_call, manifests_given)

            def extras() -> dict:
                from . import engine_model as _engine_model  # here: a question about one image needs none of it

                view = {"version": records["version"], "ping": records.get("ping")}
                _engine_model.collect_extras(model_api, view, address, _call, _Gone, image_list=listed.take)
                return {k: v for k, v in view.items() if k not in ("version", "ping")}

            extras_call = _Beside(extras)

        if scope == "all" and "concurrent.futures" not in sys.modules:
            _Beside(_import_pool)  # while the engine computes its list (nobody waits for it)
        image_list = manifests = from_store = None
        try:
            if podman_store:
                from_store = _read_podman_store(address, info_call)
            if from_store is not None:
                image_list = from_store["image_list"]
            elif manifests_given is not None and _lists_with_manifests(api, version):
                # one list, not two: ?manifests=1 is the list with each image's manifests added (the
                # graph driver answers it as the plain list). The containerd store computes either
                # in the list's own time, one beside the other slower still (25 images: 0.13 s
                # alone, 0.25 s each side by side with the df); the model's extras take it from here
                manifests = _call(api.image_manifests, schema=_records.IMAGE_LIST, what="/images/json?manifests=1")
                image_list = [{k: v for k, v in im.items() if k != "Manifests"} for im in manifests]
            else:
                image_list = _call(api.images, schema=_records.IMAGE_LIST, what="/images/json")
        finally:
            if manifests_given is not None:
                manifests_given.give(manifests)  # None: the extras ask for it themselves
            if listed is not None:
                listed.give(image_list)  # None when the list never came: the extras skip what needs it
        records["image_list"] = image_list
        if len({im["Id"] for im in image_list}) != len(image_list):
            raise _Malformed("the image list names one image twice")
        if scope == "list":
            return snap
        workers = workers or _workers_for(version, info_call, records.get("ping"))
        if from_store is not None:
            records["images"] = from_store["images"]
            records["podman_store"] = from_store["record"]
        else:
            store = _open_cache(info_call if cache else None, address, version, podman=podman_api or None)
            _collect_images_cached(api, snap, image_list, progress, workers, store)

        container_list = _call(api.containers, all=True, size=True, schema=_records.CONTAINER_LIST,
                               what="/containers/json")
        records["container_list"] = container_list
        _collect_containers(api, snap, [c["Id"] for c in container_list], progress, workers)

        records["df"] = df_call.result()
        records.update(extras_call.result())  # /info, per-platform sizes, content (engine_model)
        if podman_api and isinstance(records.get("info"), dict):  # the platform /version would have said
            snap.source.update({k: records["info"][f] for k, f in (("os", "OSType"), ("arch", "Architecture"))
                                if isinstance(records["info"].get(f), str)})
    except _Lost as lost:
        records["complete"] = False
        records["skipped"].append({"kind": "engine", "id": address, "reason": "engine stopped answering",
                                   "detail": str(lost)})
        warnings.warn(f"engine at {address} stopped answering ({lost}); kept what was collected: "
                      f"{len(records['images'])} images, {len(records['containers'])} containers",
                      CollectionWarning, stacklevel=3)
    except _Malformed as bad:
        records["complete"] = False
        records["skipped"].append({"kind": "engine", "id": address, "reason": "malformed answer", "detail": str(bad)})
        raise EngineError(f"engine at {address}: malformed answer: {bad}", partial=snap) from None
    return snap


def _collect_podman_pinged(api, snap: Snapshot, address: str, ping: dict, progress: bool,
                           workers: int | None) -> "tuple[bool, _Beside | None]":
    """A whole collection of podman known by its ``/_ping`` alone, its images read from its storage
    (:mod:`imgviz.sources.podman_store`): (True, _). (False, df call or None) when this is not
    podman or its storage cannot be read from here (nothing recorded): the collection then goes on
    as for any engine, with the compat ``/system/df`` already asked beside.

    Why: podman 4.3 answers ``/version`` in 0.2-0.4 s and ``/info`` in 0.11-0.16 s (each runs
    conmon, the OCI runtime and more), where the docker CLI route to every image's facts takes
    0.6 s on 25 images. Asked: podman's own df (``/libpod/system/df``, which lists its images), one
    image's inspect (its ``GraphDriver`` names the graph root and driver, checked against the
    storage read there), the containers and their inspect, and the compat ``/system/df``, as any
    whole collection records it. The snapshot keeps the ping (``records["ping"]``; ``version`` and
    ``info`` stay None) and what was read (``records["podman_store"]``). A replay of such a snapshot
    answers the list and each image from its recording, by the same code path.
    """
    if not _ping_names_podman(ping):
        return False, None
    records = snap.records
    replay = getattr(api, "podman_store", None)
    if replay is not None:
        store_record = replay()
        if not store_record:
            return False, None
        from_store = None
        df_call = _Beside(lambda: _disk_usage(api))
    else:
        if not _podman_store_allowed(api, address):
            return False, None
        df_call = _Beside(lambda: _disk_usage(api))  # (as slow as podman's own df: side by side)
        from_store = _podman_store_from_ping(api, address)
        if from_store is None:
            return False, df_call
        store_record = from_store["record"]
    from .engine_model import detail_workers, model_of_ping

    model = model_of_ping(ping, store_record)
    workers = workers or detail_workers(model)
    _keep_podman_ping(snap, ping, store_record)
    if from_store is not None:
        _keep_podman_store(records, from_store)
    else:
        from . import engine_model as _engine_model

        _engine_model._collect_podman(api, records, model, address, _call, _Gone)
        records["image_list"] = _call(api.images, schema=_records.IMAGE_LIST, what="/images/json")
        _collect_images(api, snap, [im["Id"] for im in records["image_list"]], progress, workers)
    container_list = _call(api.containers, all=True, size=True, schema=_records.CONTAINER_LIST,
                           what="/containers/json")
    records["container_list"] = container_list
    _collect_containers(api, snap, [c["Id"] for c in container_list], progress, workers)
    records["df"] = df_call.result()
    return True, df_call


def _keep_podman_ping(snap: Snapshot, ping: dict, store_record: dict) -> None:
    """What a collection of podman known by its ``/_ping`` records of the engine: the ping, where
    its storage was read, and the source's versions and platform."""
    snap.records["ping"] = ping
    snap.records["podman_store"] = store_record
    snap.source["api_version"] = ping.get("api-version")
    snap.source["engine_version"] = ping.get("libpod-api-version")
    snap.source.update(_host_platform(ping, store_record))


def _keep_podman_store(records: dict, from_store: dict) -> None:
    """The records :func:`_podman_store_from_ping` read: podman's df, list, images and layer store."""
    records["podman_df"] = from_store["podman_df"]
    records["image_list"] = from_store["image_list"]
    records["images"] = from_store["images"]
    records["podman_storage"] = from_store["storage"]


def _collect_podman_layers_pinged(api, snap: Snapshot, address: str, ping: dict, scope: str,
                                  refs: list[str]) -> bool:
    """What-if's and pull-plan's records (:func:`_collect_layers`) of podman known by its
    ``/_ping``, read from its storage as a whole collection reads them
    (:func:`_collect_podman_pinged`): True when done. False (nothing recorded) when this is not
    podman on this host or its storage cannot be read from here: the usual route then asks
    ``/version`` and the rest.

    Why: podman answers ``/version`` in 0.2-0.4 s and ``/info`` in 0.1 s; asked for them, a
    targeted what-if on 400 images took 0.46 s where the whole collection (read from its storage,
    never asking either) took 0.28 s. The storage holds every image's inspect and history (the
    same answer as the API's); podman's own df comes with it (it names the images)."""
    if not _ping_names_podman(ping) or not _podman_store_allowed(api, address):
        return False
    from_store = _podman_store_from_ping(api, address)
    if from_store is None:
        return False
    records = snap.records
    _keep_podman_ping(snap, ping, from_store["record"])
    _keep_podman_store(records, from_store)
    _named_in_list(snap, refs)
    if scope != "pull":
        _list_containers(api, records, with_sizes=scope == "what-if-with-containers")
    return True


#: Go's names of this host's machine types (``uname -m``), as engines name their platform
_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x",
            "riscv64": "riscv64", "i686": "386", "i386": "386"}


def _host_platform(ping: dict, store_record: dict) -> dict:
    """``os`` and ``arch`` of a podman read from this host's storage: it runs on this host (its
    ping's ``Server: Libpod/4.3.1 (linux)`` names the OS; the machine is this host's)."""
    server = str(ping.get("server", ""))
    found = re.search(r"\(([a-z0-9]+)\)", server)
    out = {"os": found.group(1) if found else None}
    if store_record.get("on_this_host"):
        out["arch"] = _GO_ARCH.get(os.uname().machine)
    return {k: v for k, v in out.items() if v}


def _podman_store_allowed(api, address: str) -> bool:
    return isinstance(api, _Answers) and address.startswith("unix://") \
        and os.environ.get("IMGVIZ_PODMAN_STORE", "1") != "0"


def _podman_store_from_ping(api, address: str) -> dict | None:
    """podman's df, list and image records with its storage located by one image's inspect, or None
    when it has no image to locate it by or its storage cannot be read from here."""
    from . import podman as _podman
    from . import podman_store as _store

    try:
        podman_df = _podman.own_df(api, _call)
    except _Gone:
        return None  # a podman without its own df: the usual route records what it has
    rows = (podman_df or {}).get("Images") or []
    if not rows:
        return None
    first = rows[0]["ImageID"]
    first = first if first.startswith("sha256:") else "sha256:" + first
    try:
        inspect = _call(api.inspect_image, first, schema=_records.INSPECT, what=f"/images/{first[:19]}/json")
    except _Gone:
        return None  # removed since the df: the usual route says what the engine holds
    located = _store.locate(inspect)
    if located is None:
        return None
    root, driver, layer = located
    read = _read_store_records(root, driver, check_layer=(first, layer))
    if read is None:
        return None
    read["podman_df"] = podman_df
    return read


def _read_store_records(root: str, driver: str, check_layer: tuple[str, str] | None = None) -> dict | None:
    """podman's list and every listed image's inspect and history read from the storage at ``root``
    (:mod:`imgviz.sources.podman_store`), checked with the API's own schemas; None when it cannot
    be read from here or holds an image its rules do not cover. ``check_layer``: (image ID, top
    layer) the engine named, which the storage read must hold (it is podman's own)."""
    from . import podman_store as _store

    try:
        raw = _store.read_store(root, driver)
        rec = _store.compat_records(raw)
    except _store.StoreUnreadable:
        return None
    if check_layer is not None:
        image_id, layer = check_layer
        held = {im["id"]: im.get("layer") for im in raw["images"]}
        if held.get(image_id.removeprefix("sha256:")) != layer:
            return None
    if rec["uncovered"]:
        return None
    if _records.problem(_records.IMAGE_LIST, rec["image_list"], "podman's images.json") is not None:
        return None
    images = []
    for entry in rec["image_list"]:
        iid = entry["Id"]
        one = rec["images"][iid]
        if _records.problem(_records.INSPECT, one["inspect"], f"{iid[:19]} (store)") is not None \
                or _records.problem(_records.HISTORY, one["history"], f"{iid[:19]} history (store)") is not None:
            return None
        images.append({"id": iid, "inspect": one["inspect"], "history": one["history"], "config": None,
                       "manifest": None, "ref": None})
    from .podman import storage_record

    return {"image_list": rec["image_list"], "images": images,
            "record": {"root": raw["root"], "driver": raw["driver"], "images": len(images), "on_this_host": True},
            # the layer store's records as read_storage keeps them, from the same read
            "storage": storage_record(os.path.normpath(raw["root"]), raw["layers"], raw["containers"])}


def _podman_store_readable(api, address: str, version: dict | None) -> bool:
    """Whether this collection may read podman's image records from its storage
    (:mod:`imgviz.sources.podman_store`): podman, on a unix socket of this host, asked by a client of
    ours (a replay or the SDK answers from elsewhere), and not turned off (IMGVIZ_PODMAN_STORE=0)."""
    if not version or not _podman_store_allowed(api, address):
        return False
    from . import podman as _podman

    return _podman.is_podman(version)


def _read_podman_store(address: str, info_call: "_Beside | None") -> dict | None:
    """podman's list and images read from its storage at the graph root and driver its ``/info``
    names (:func:`_read_store_records`); None when /info does not say or it cannot be read."""
    if info_call is None:
        return None
    try:
        info = info_call.result()
    except (_Gone, _Malformed, _Lost):
        return None  # the API route meets the same engine and says what is wrong
    if not isinstance(info, dict) or not info.get("DockerRootDir") or not info.get("Driver"):
        return None
    return _read_store_records(str(info["DockerRootDir"]), str(info["Driver"]))


def _open_cache(info_call, address: str, version: dict | None, podman: bool | None = None):
    """The engine's cache (:mod:`imgviz.sources.cache`), or None when off or the engine's /info
    cannot tell it apart (a 404 or malformed /info: the collection goes on without the cache)."""
    if info_call is None:
        return None
    from .cache import EngineCache

    try:
        info = info_call.result()
    except (_Gone, _Malformed):
        return None
    return EngineCache.for_engine(address, version, info, podman=podman)


def _import_pool() -> None:
    """Import what the detail calls' pool needs (:func:`_gather`; it imports logging: 8 ms) on a
    thread of its own, while the engine answers the list: the pool then starts at once."""
    import concurrent.futures  # noqa: F401


def _lists_with_manifests(api, version: dict) -> bool:
    """Whether the whole collection's list is ``/images/json?manifests=1`` (API 1.47+ over this
    module's own transport; a recording replays the two lists it recorded)."""
    from .engine_model import MANIFESTS_MIN_API, model_of

    return isinstance(api, _Answers) and (model_of(version, None).api or (0, 0)) >= MANIFESTS_MIN_API


class _AlreadyAsked:
    """The client, with answers taken from calls already made: ``/info`` (asked beside the list,
    for the cache's key and the detail calls' concurrency) and ``/images/json?manifests=1`` (the
    list itself, asked that way; None handed over: asked here)."""

    def __init__(self, api, info_call: "_Beside | None" = None, manifests: "_Handoff | None" = None):
        self._api, self._info_call, self._manifests = api, info_call, manifests

    def __getattr__(self, name):
        # (only names the client has: a client without /info or ?manifests=1 stays without)
        real = getattr(self._api, name)
        if name == "info" and self._info_call is not None:
            return self._info_call.result
        if name == "image_manifests" and self._manifests is not None:
            return lambda: _handed_or(self._manifests.take(), real)
        return real


def _handed_or(answer, ask):
    """The answer handed over, or (None: none was) the call's own."""
    return answer if answer is not None else ask()


def _collect_images_cached(api, snap: Snapshot, image_list: list[dict], progress: bool, workers: int,
                           store) -> None:
    """The listed images: those the cache holds as the list still names them from the cache,
    the rest from the engine; in list order either way. What was read goes into the cache (also
    when the collection is cut short: every record kept was read whole)."""
    ids = [im["Id"] for im in image_list]
    if store is None:
        _collect_images(api, snap, ids, progress, workers)
        return
    served = store.serve(image_list)
    try:
        _collect_images(api, snap, [i for i in ids if i not in served], progress, workers)
    finally:
        read = {r["id"]: r for r in snap.records["images"]}
        snap.records["images"] = [served.get(i) or read[i] for i in ids if i in served or i in read]
        store.store(image_list, read.values())
        snap.source["cache"] = {"path": str(store.path), "served": len(served), "images": len(ids)}


#: questions answered from every image's layer chain (inspect, no history but the named images'):
#: ``what-if`` (and ``what-if-with-containers``: the container list with writable sizes) and ``pull``
LAYER_SCOPES = ("what-if", "what-if-with-containers", "pull")
#: what each of them records beside the list (:func:`imgviz.sources.engine_model.collect_extras`)
_LAYER_EXTRAS = {"what-if": ("content", "podman_storage"), "what-if-with-containers": ("content", "podman_storage"),
                 "pull": ("content", "distribution", "podman_storage")}


def _collect_layers(api, snap: Snapshot, address: str, progress: bool, workers: int, scope: str,
                    refs: list[str], cache: bool) -> None:
    """What ``what-if REF...`` and ``pull-plan`` read (see :func:`collect`'s ``scope``).

    Calls: ``/images/json``; ``/images/{id}/json`` of every listed image (its layer chain: which
    other image keeps a layer, which chains the engine holds) but ``/history`` only of the images
    ``refs`` name (their layers' sizes and instructions; resolved against the list by the one rule,
    :func:`imgviz.selection.resolve_images`); ``/info`` and the size model's own records beside
    (the containerd store's content graph, podman's layer store, and for pull the graph driver's
    distribution records). what-if: ``/containers/json`` (a container keeps its image's
    layers; ``size=1`` only with containers removed too: their writable bytes), no container
    inspect. pull: ``/system/df`` only where the plan reads its build-cache records (the containerd
    store; a graph driver whose distribution records cannot be read here), beside the rest.
    Images the engine cache holds are served from it, as in a whole collection.
    """
    records = snap.records
    version = records["version"]
    info_call = _Beside(lambda: _call(api.info, what="/info")) if getattr(api, "info", None) is not None else None
    model_api = _AlreadyAsked(api, info_call)
    listed = _Handoff()
    parts = _LAYER_EXTRAS[scope]

    def extras() -> dict:
        from . import engine_model as _engine_model

        view = {"version": version}
        _engine_model.collect_extras(model_api, view, address, _call, _Gone, image_list=listed.take, parts=parts)
        return {k: v for k, v in view.items() if k != "version"}

    extras_call = _Beside(extras)
    df_call = _Beside(lambda: _pull_disk_usage(api, version, info_call, extras_call)) if scope == "pull" else None
    image_list = from_store = None
    try:
        if _podman_store_readable(api, address, version):  # podman on this host: read, not asked
            from_store = _read_podman_store(address, info_call)
        image_list = from_store["image_list"] if from_store is not None else \
            _call(api.images, schema=_records.IMAGE_LIST, what="/images/json")
    finally:
        listed.give(image_list)
    records["image_list"] = image_list
    history_of = _named_in_list(snap, refs)
    store = _open_cache(info_call if cache and from_store is None else None, address, version)
    workers = workers or _workers_for(version, info_call)
    served = store.serve(image_list) if store is not None else {}
    ids = [im["Id"] for im in image_list]
    try:
        if from_store is not None:  # (every history read with the rest: the same answer)
            records["images"] = from_store["images"]
            records["podman_store"] = from_store["record"]
        else:
            _collect_images(api, snap, [i for i in ids if i not in served], progress, workers, history_of)
    finally:
        read = {r["id"]: r for r in records["images"]}
        records["images"] = [served.get(i) or read[i] for i in ids if i in served or i in read]
        if store is not None:  # only whole records (inspect and history) go into the cache
            store.store(image_list, [r for r in read.values() if r["history"] is not None])
            snap.source["cache"] = {"path": str(store.path), "served": len(served), "images": len(ids)}
    if scope != "pull":
        _list_containers(api, records, with_sizes=scope == "what-if-with-containers")
    records.update(extras_call.result())
    if df_call is not None:
        records["df"] = df_call.result()


def _named_in_list(snap: Snapshot, refs: list[str]) -> set[str]:
    """The IDs ``refs`` name in the snapshot's list (resolved by the one rule,
    :func:`imgviz.selection.resolve_images`: ImageNotFound as the analysis says it), once the list
    is known to name each image once."""
    image_list = snap.records["image_list"]
    if len({im["Id"] for im in image_list}) != len(image_list):
        raise _Malformed("the image list names one image twice")
    if not refs:
        return set()
    from ..rows import listed_rows
    from ..selection import resolve_images

    return set(resolve_images(listed_rows(snap), refs))


def _list_containers(api, records: dict, with_sizes: bool) -> None:
    """What-if's containers: listed (``size=1`` only when their writable bytes are asked), not
    inspected (what-if reads a container's image and writable size: both in the list)."""
    container_list = _call(api.containers, all=True, size=with_sizes, schema=_records.CONTAINER_LIST,
                           what="/containers/json")
    records["container_list"] = container_list
    records["containers"] = [{"id": c["Id"], "inspect": None} for c in container_list]


def _model(version: dict | None, info_call: "_Beside | None", ping: dict | None = None):
    """The engine model from ``/version`` and the ``/info`` asked beside the list (podman: from
    ``/version`` or its ``/_ping`` alone, its /info (0.1 s) not waited for; an /info that cannot be
    read: the model without it)."""
    from .engine_model import model_of, model_of_ping

    if version is None and _ping_names_podman(ping):
        return model_of_ping(ping)
    known = model_of(version, None)
    if known.storage == "podman" or info_call is None:
        return known
    try:
        info = info_call.result()
    except (_Gone, _Malformed):
        info = None
    return model_of(version, info if isinstance(info, dict) else None)


def _workers_for(version: dict | None, info_call: "_Beside | None", ping: dict | None = None) -> int:
    """The detail calls' concurrency for this engine (:func:`imgviz.sources.engine_model.detail_workers`)."""
    from .engine_model import detail_workers

    return detail_workers(_model(version, info_call, ping))


def _pull_disk_usage(api, version: dict, info_call: "_Beside | None", extras_call: "_Beside"):
    """``/system/df`` when the pull plan reads its build-cache records, else None (not asked)."""
    model = _model(version, info_call)
    if model.storage == "podman":
        return None
    if model.storage == "graphdriver" and extras_call.result().get("distribution"):
        return None  # moby's own records answer the plan exactly
    return _disk_usage(api)


def _disk_usage(api, tries: int = 3, busy_for: float = 60.0):
    """``/system/df``. Docker 28's containerd store answers it 404 ("snapshot ... does not exist")
    while a snapshot it counts is being removed, and a moment later answers in full (seen in CI and
    by hand): asked again twice, then the collection is incomplete and says why. Docker 20.10
    answers 500 "a disk usage operation is already running" while another client's df runs (two
    notebooks or processes collecting at once; seen in CI): asked again until that one ends, for at
    most ``busy_for`` seconds. podman 4.3 answers 500 "image not known" while an image it counts
    is removed: asked again like the 404."""
    import time

    gone, start, pause = 0, time.monotonic(), 0.1
    while True:
        try:
            return _call(api.df, schema=_records.DF, what="/system/df")
        except _Gone as exc:
            gone += 1
            if gone >= tries:
                raise _Lost(f"/system/df answered 404 {tries} times ({exc}); the containerd image store does "
                            f"this while a snapshot it counts is being removed") from None
            time.sleep(0.5 * gone)
        except _Lost as exc:
            from .podman import forgot_one

            if forgot_one(exc) and gone + 1 < tries:  # podman: one removed while it counted
                gone += 1
                time.sleep(0.5 * gone)
                continue
            if "disk usage operation is already running" not in str(exc) or time.monotonic() - start > busy_for:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


class _Handoff:
    """One value handed from the collecting thread to a :class:`_Beside` call waiting for it."""

    def __init__(self):
        self._ready = threading.Event()
        self._value = None

    def give(self, value) -> None:
        self._value = value
        self._ready.set()

    def take(self):
        self._ready.wait()
        return self._value


class _Beside:
    """One call on a daemon thread of its own, its answer (or its error) taken later by
    :meth:`result`. Its requests are bounded like every other (a lost engine ends it too), and a
    collection that ends first simply never takes it (the df of a collection cut short is not
    recorded, as a replay of that recording would not reach it either)."""

    def __init__(self, fn):
        self._box: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True, name="imgviz-engine-beside")
        self._thread.start()

    def _run(self, fn) -> None:
        try:
            self._box["value"] = fn()
        except BaseException as exc:  # handed to result()
            self._box["error"] = exc

    def result(self):
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        return self._box["value"]


def _collect_named(api, snap: Snapshot, refs: list[str], address: str) -> None:
    """Inspect + history of each reference (in order, each image once however many names it has).

    A live Docker engine is asked both at once, the history by the name given (what ``docker
    history REF`` asks): on the containerd store each answer takes about 0.1 s at 400 images, so the
    two together cost one. The history is kept only when it is that image's (its newest entry names
    the ID the inspect answered, as Docker's do); otherwise (the name moved to another image in
    between) it is asked again by the image's ID. podman is asked one after the other, the history
    by ID (its newest entry does not name the image: nothing would tell its answer was that image's).
    """
    at_once = isinstance(api, _Answers) and len(refs) == 1 and not _podman_probed(api)
    for ref in refs:
        early = _Beside(lambda ref=ref: _call(api.history, ref, schema=_records.HISTORY,
                                             what=f"/images/{ref[:80]}/history")) if at_once else None
        try:
            inspect = _call(api.inspect_image, ref, schema=_records.INSPECT, what=f"/images/{ref[:80]}/json")
        except _Gone:
            raise ImageNotFound(f"{ref}: no such image on the engine at {address}") from None
        image_id = inspect.get("Id")
        if not isinstance(image_id, str) or not _ID_RE.match(image_id):
            raise _Malformed(f"/images/{ref[:80]}/json.Id: {str(image_id)[:80]!r} is not an image ID")
        if any(r["id"] == image_id for r in snap.records["images"]):
            continue
        history = None
        if early is not None:
            try:
                history = early.result()
            except (_Gone, _Lost, _Malformed):
                history = None  # asked again by ID below: its answer (or its error) is the one kept
            if not _names_image(history, image_id):
                history = None
        if history is None:
            try:
                history = _call(api.history, image_id, schema=_records.HISTORY,
                                what=f"/images/{image_id[:19]}/history")
            except _Gone:
                raise ImageNotFound(f"{ref}: removed from the engine at {address} while it was read") from None
        snap.records["images"].append({"id": image_id, "inspect": inspect, "history": history, "config": None,
                                       "manifest": None, "ref": None})


def _ping_names_podman(ping: dict) -> bool:
    """Whether ``/_ping``'s headers are podman's (:func:`imgviz.sources.podman.is_podman_ping`,
    imported only when they name libpod at all)."""
    if "libpod" not in repr(ping).lower():
        return False
    from . import podman as _podman

    return _podman.is_podman_ping(ping)


def _podman_probed(api: "_Answers") -> bool:
    """Whether the probe's answer (``/version`` or ``/_ping``) says podman (:mod:`imgviz.sources.podman`'s
    rules, imported only when the answer names podman or libpod at all)."""
    version, ping = api.probed_version, api.probed_ping
    if _ping_names_podman(ping):
        return True
    if "podman" not in repr(version).lower():
        return False
    from . import podman as _podman

    return _podman.is_podman(version)


def _names_image(history, image_id: str) -> bool:
    """True when ``history`` (an image's /history answer) is that of ``image_id``: its newest entry
    carries the image's ID, as Docker's does."""
    if not isinstance(history, list) or not history or not isinstance(history[0], dict):
        return False
    return history[0].get("Id") == image_id


_ID_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def _collect_images(api, snap: Snapshot, ids: list[str], progress: bool, workers: int,
                    history_of: set[str] | None = None) -> None:
    """Inspect + history of each image (history only of ``history_of`` when given: the others'
    records hold ``"history": None``, read no further than their layer chain)."""
    def one(image_id: str) -> dict[str, Any]:
        inspect = _call(api.inspect_image, image_id, schema=_records.INSPECT, what=f"/images/{image_id[:19]}/json")
        if inspect.get("Id") != image_id:
            raise _Malformed(f"/images/{image_id[:19]}/json: names image {str(inspect.get('Id'))[:19]}")
        if history_of is not None and image_id not in history_of:
            return {"id": image_id, "inspect": inspect, "history": None, "config": None, "manifest": None,
                    "ref": None}
        history = _call(api.history, image_id, schema=_records.HISTORY, what=f"/images/{image_id[:19]}/history")
        return {"id": image_id, "inspect": inspect, "history": history, "config": None, "manifest": None,
                "ref": None}

    _gather(snap, "image", ids, one, snap.records["images"], progress, workers, isinstance(api, _Answers))


def _collect_containers(api, snap: Snapshot, ids: list[str], progress: bool, workers: int) -> None:
    def one(container_id: str) -> dict[str, Any]:
        return {"id": container_id, "inspect": _call(api.inspect_container, container_id,
                                                     schema=_records.CONTAINER_INSPECT,
                                                     what=f"/containers/{container_id[:12]}/json")}

    _gather(snap, "container", ids, one, snap.records["containers"], progress, workers, isinstance(api, _Answers))


def _gather(snap: Snapshot, kind: str, ids: list[str], one, out: list, progress: bool, workers: int,
            live: bool = True) -> None:
    """Run ``one(id)`` for every id, keep results in list order, skip the gone, stop when lost or
    malformed (keeping what came before; a live engine's calls not started yet are dropped, a
    recording's are all replayed)."""
    if not ids:
        return
    if len(set(ids)) != len(ids):
        raise _Malformed(f"the {kind} list names one {kind} twice")
    from concurrent.futures import ThreadPoolExecutor  # here: it imports logging (9 ms a one-image question skips)

    results: dict[str, dict] = {}
    stop: Exception | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {i: pool.submit(one, i) for i in ids}
        try:
            for i in _progress(ids, total=len(ids), desc=f"{kind}s", enabled=progress):
                fut = futures[i]
                if stop is not None and fut.cancelled():
                    continue
                try:
                    results[i] = fut.result()
                except _Gone as gone:
                    snap.records["skipped"].append({"kind": kind, "id": i, "reason": "removed during collection",
                                                    "detail": str(gone)})
                    warnings.warn(f"{kind} {i[7:19] if i.startswith('sha256:') else i[:12]} was removed during "
                                  f"collection; skipped", CollectionWarning, stacklevel=5)
                except (_Lost, _Malformed) as exc:
                    if stop is None:
                        stop = exc
                        if live:  # calls not started yet would only wait for the same end
                            for f in futures.values():
                                f.cancel()
        finally:
            out.extend(results[i] for i in ids if i in results)
    if stop is not None:
        raise stop


def platform_of(client=None, *, host: str | None = None) -> str | None:
    """``os/arch`` of the engine (``GET /version``): the platform ``docker pull`` would choose."""
    api = client if client is not None else connect(host)
    api = _answers_of(api, _limits.get(), _limits.deadline())
    try:
        version = _call(api.version, schema=_records.VERSION, what="/version")
    except (_Gone, _Lost, _Malformed) as exc:
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
    from ._oci import chain_ids  # here: hashlib (OpenSSL) is 3-8 ms of a one-image question's start-up

    address = _address(docker_host)
    api = connect(docker_host)
    out = {}
    try:
        for ref in refs:
            if ref in out or ref == "scratch":
                continue
            try:
                check_reference(ref)
            except UsageError:
                continue  # not a reference the engine could hold: the prediction identifies it by its text
            try:
                info = _call(api.inspect_image, ref, schema=_records.INSPECT, what=f"/images/{ref}/json")
            except _Gone:
                continue
            except _Malformed as exc:
                raise EngineError(f"engine at {address}: malformed answer: {exc}") from None
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
    check_reference(ref)
    address = _address(docker_host)
    api = connect(docker_host)
    try:
        return list(_call(api.history, ref, schema=_records.HISTORY, what=f"/images/{ref}/history"))
    except _Gone:
        raise ImageNotFound(f"image {ref!r} is not in the engine") from None
    except _Malformed as exc:
        raise EngineError(f"engine at {address}: malformed answer: {exc}") from None
    except _Lost as exc:
        raise EngineUnavailable(f"engine at {address} stopped answering ({exc})") from None
    finally:
        api.close()
