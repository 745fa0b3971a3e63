"""OCI Distribution API source: manifests and configs of images in a registry, without pulling.

What a registry says about an image is two small JSON documents: the *manifest* (the config
digest and, per layer, the compressed blob's ``digest``, ``size`` and ``mediaType``) and the
*config* (``rootfs.diff_ids`` and ``history``). This module reads exactly those, never a layer
blob unless asked, and turns them into the same :class:`~imgviz.snapshot.Snapshot` records the
engine source makes, so frames and analyses do not care where an image came from.

Calls made per reference (``HOST[:PORT]/REPO[:TAG|@DIGEST]``)::

    GET  /v2/<repo>/manifests/<tag|digest>   manifest, manifest list or OCI index
    GET  /v2/<repo>/manifests/<digest>       the platform's manifest when the first was an index
    GET  /v2/<repo>/blobs/<config digest>    the config (a few KB)
    HEAD /v2/<repo>/blobs/<layer digest>     only with ``check_blobs=True``: the blob is there, with
                                             the size the manifest promised
    GET  /v2/<repo>/blobs/<layer digest>     only with ``read_layers=True``: streamed through the
                                             shared layer reader, never stored

Everything read is checked against its digest (a manifest fetched by digest, by the
``Docker-Content-Digest`` header when fetched by tag, the config always); a registry that answers
with other bytes, broken JSON or a missing blob raises :class:`RegistryError` naming the
reference. Manifests over 4 MiB and other JSON over 64 MiB are refused before they are read
whole, token answers over 1 MiB too, and every document is checked against the record types of
:mod:`imgviz._records` before it is used. 429 and 5xx answers and transport errors are retried with
exponential backoff (``Retry-After`` honoured up to a cap); references are read by a bounded pool
of threads sharing one connection pool.

Time is bounded by :mod:`imgviz.limits`: each request, from sending it to its last byte, by
``request_timeout`` (a server sending one byte every few seconds is cut off: every socket wait is
clamped to what is left), a whole collection with its retries by ``deadline``, redirects by
``max_redirects``; a pagination ``Link`` that leads back to a page already read ends the tag list.

Authentication follows the registry's challenge: anonymous first; on ``401`` with
``WWW-Authenticate: Basic`` the credentials are sent; with ``Bearer realm=...,service=...`` a token
is fetched for the repository's ``pull`` scope (one token per repository, cached). Credentials come
from the ``auth=(user, password)`` argument or from ``~/.docker/config.json`` (``auths``,
``credsStore`` and ``credHelpers``, resolved by ``docker.auth``). Credentials and tokens are never
printed, logged, put into an error message or stored in a snapshot.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import ipaddress
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from .. import _records
from .. import limits as _limits
from ..errors import DeadlineExceeded, SourceError
from ..snapshot import Snapshot, empty_records, utc_now_iso
from ._layer import CHUNK, LayerStream, measure
from ._oci import (ACCEPT, INDEXES, MANIFESTS, MT_DOCKER_SCHEMA1, MT_OCI_INDEX, MT_OCI_MANIFEST,
                   check_descriptor, check_digest, check_shape, choose_platform, diff_ids_of, image_ids, image_manifest, is_digest,
                   parse_json,
                   parse_platform)

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"


class RegistryError(SourceError):
    """A registry could not be reached, refused us, or answered something we cannot trust."""


# ------------------------------------------------------------------------------------ references

_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
                      r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
_REPO_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")


@dataclass(frozen=True)
class Reference:
    """A parsed image reference: ``registry/repository[:tag][@digest]``."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``registry/repository`` as the docker CLI names it (Docker Hub without its host)."""
        if self.registry == DOCKER_HUB:
            repo = self.repository[len("library/"):] if self.repository.startswith("library/") else self.repository
            return repo
        return f"{self.registry}/{self.repository}"

    @property
    def target(self) -> str:
        """What to ask ``/manifests/`` for: the digest when given, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    def with_digest(self, digest: str) -> "Reference":
        return Reference(self.registry, self.repository, None, digest)

    def with_tag(self, tag: str) -> "Reference":
        return Reference(self.registry, self.repository, tag, None)


def parse_reference(ref: str) -> Reference:
    """Split ``[HOST[:PORT]/]REPO[:TAG][@DIGEST]`` the way the docker CLI does.

    The first path component is a registry host when it contains ``.`` or ``:`` or is
    ``localhost``; otherwise the reference is on Docker Hub (``library/`` added for one-word
    names). The tag defaults to ``latest`` when there is no digest.

    Examples
    --------
    >>> parse_reference("127.0.0.1:5000/iv/app:v1")
    Reference(registry='127.0.0.1:5000', repository='iv/app', tag='v1', digest=None)
    >>> parse_reference("busybox").repository
    'library/busybox'
    """
    text = (ref or "").strip()
    if not text:
        raise RegistryError("empty image reference")
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not is_digest(digest):
            raise RegistryError(f"{ref}: not a valid digest {digest!r}")
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, path = first, rest
        port = registry.rsplit(":", 1)[1] if registry.count(":") == 1 or "]:" in registry else None
        if not _HOST_RE.match(registry) or (port is not None and not 0 < int(port) < 65536):
            raise RegistryError(f"{ref}: not a valid registry host {registry!r}")
    else:
        registry, path = DOCKER_HUB, text
    tag = None
    colon = path.rfind(":")
    if colon > path.rfind("/"):
        path, tag = path[:colon], path[colon + 1:]
        if not _TAG_RE.match(tag):
            raise RegistryError(f"{ref}: not a valid tag {tag!r}")
    if registry == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    if not _REPO_RE.match(path):
        raise RegistryError(f"{ref}: not a valid repository name {path!r}")
    if tag is None and digest is None:
        tag = "latest"
    return Reference(registry, path, tag, digest)


def is_loopback(registry: str) -> bool:
    """True for ``localhost[:port]`` and 127.0.0.0/8 or ``[::1]`` addresses (plain HTTP by default)."""
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 or registry.startswith("[") else registry
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ------------------------------------------------------------------------------------------ auth

def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="...",service="..."`` -> ('bearer', {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', rest))
    for key, value in re.findall(r'(\w+)\s*=\s*([^",\s]+)', rest):
        params.setdefault(key, value)
    return scheme.lower(), params


def docker_credentials(registry: str, config_path: str | None = None) -> tuple[str, str] | None:
    """(username, password) for ``registry`` from the docker CLI's config, or None.

    Uses ``docker.auth`` so ``auths`` entries, ``credsStore`` and ``credHelpers`` resolve the way the
    docker CLI resolves them. Identity tokens are returned as the password of ``<token>``.
    """
    try:
        from docker import auth as dauth

        cfg = dauth.load_config(config_path)
        found = cfg.resolve_authconfig(DOCKER_HUB_API if registry == DOCKER_HUB else registry)
    except Exception:  # a broken helper or config must not break an anonymous read
        return None
    if not found:
        return None
    if found.get("IdentityToken"):
        return "<token>", found["IdentityToken"]
    user = found.get("Username") or found.get("username")
    password = found.get("Password") or found.get("password")
    if user and password is not None:
        return user, password
    return None


# ---------------------------------------------------------------------------------------- client

_clock = threading.local()  # .until: the monotonic time no socket wait of this thread may pass


def _bounded(timeout: float | None, exc_type):
    """``timeout`` clamped to what is left of this thread's request window."""
    until = getattr(_clock, "until", None)
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise exc_type("the request's time is up")
    return left if timeout is None else min(timeout, left)


def _bounded_backend(inner):
    """httpcore's network backend with every socket wait clamped by :func:`_bounded`: a server that
    sends one byte every few seconds cannot stretch a request past its window."""
    import httpcore

    class Stream(httpcore.NetworkStream):
        def __init__(self, raw):
            self._raw = raw

        def read(self, max_bytes, timeout=None):
            return self._raw.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

        def write(self, buffer, timeout=None):
            self._raw.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

        def close(self):
            self._raw.close()

        def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            return Stream(self._raw.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)))

        def get_extra_info(self, info):
            return self._raw.get_extra_info(info)

    class Backend(httpcore.NetworkBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            return Stream(inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout), local_address,
                                            socket_options))

        def connect_unix_socket(self, path, timeout=None, socket_options=None):
            return Stream(inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout), socket_options))

        def sleep(self, seconds):
            inner.sleep(seconds)

    return Backend()


@contextmanager
def _window(seconds: float | None, deadline):
    """This thread's sockets wait no longer than ``seconds`` from now, nor past ``deadline``."""
    before = getattr(_clock, "until", None)
    until = deadline.at if seconds is None else min(time.monotonic() + seconds, deadline.at)
    _clock.until = until if before is None else min(until, before)
    try:
        yield
    finally:
        _clock.until = before


class RegistryClient:
    """A small, careful OCI Distribution API client over ``httpx``.

    Parameters
    ----------
    auth : (username, password), optional
        Credentials for every registry this client talks to. Default: ``~/.docker/config.json``.
    docker_config : str, optional
        Path of a docker config file (default: the docker CLI's).
    plain_http : bool, optional
        Speak HTTP instead of HTTPS. Default: only for loopback registries (as dockerd treats
        127.0.0.0/8 as insecure).
    timeout : float, optional
        Seconds one request may take, from sending it to its last byte (default: the
        ``request_timeout`` of :mod:`imgviz.limits`).
    retries : int, optional
        Extra attempts after a 429, a 5xx or a transport error (default: ``retries``).
    backoff : float
        First delay in seconds; doubled every attempt, capped at ``max_delay``.
    max_delay : float, optional
        Longest wait between attempts (default: ``retry_delay_max``).
    workers : int
        Threads used by :func:`collect` (also the connection pool's size).
    limits : imgviz.limits.Limits or dict, optional
        Every other limit (sizes, redirects, the connect timeout); see :mod:`imgviz.limits`.
        Retries and waits never go past the deadline in force (:func:`imgviz.limits.deadline`).
    """

    def __init__(self, *, auth: tuple[str, str] | None = None, docker_config: str | None = None,
                 plain_http: bool | None = None, timeout: float | None = None, retries: int | None = None,
                 backoff: float = 0.25, max_delay: float | None = None, workers: int = 8, verify_tls: bool = True,
                 limits=None):
        import httpx

        self.limits = _limits.get(limits).replace(request_timeout=timeout, retries=retries,
                                                  retry_delay_max=max_delay)
        self._auth = auth
        self._docker_config = docker_config
        self._plain_http = plain_http
        self.retries = self.limits.retries
        self.backoff = backoff
        self.max_delay = self.limits.retry_delay_max
        self.workers = max(1, int(workers))
        self._tokens: dict[tuple[str, str], str] = {}
        self._basic: dict[str, str] = {}
        self._lock = threading.Lock()
        pool = httpx.Limits(max_connections=self.workers * 2, max_keepalive_connections=self.workers * 2)
        transport = httpx.HTTPTransport(verify=verify_tls, limits=pool)
        inner = getattr(transport, "_pool", None)
        if inner is not None and hasattr(inner, "_network_backend"):
            inner._network_backend = _bounded_backend(inner._network_backend)
        self._http = httpx.Client(timeout=httpx.Timeout(self.limits.request_timeout, connect=self.limits.connect_timeout),
                                  transport=transport, follow_redirects=True,
                                  max_redirects=self.limits.max_redirects, headers={"User-Agent": "imgviz"})
        self.requests = 0  # every HTTP request made, for tests and benchmarks

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RegistryClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------
    def base_url(self, registry: str) -> str:
        host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        plain = self._plain_http if self._plain_http is not None else is_loopback(registry)
        return f"{'http' if plain else 'https'}://{host}"

    def _credentials(self, registry: str) -> tuple[str, str] | None:
        if self._auth is not None:
            return self._auth
        return docker_credentials(registry, self._docker_config)

    def _fetch_token(self, ref: Reference, params: dict[str, str]) -> str:
        realm = params.get("realm")
        if not realm:
            raise RegistryError(f"{ref}: the registry asked for a bearer token but named no realm")
        if not realm.startswith(("http://", "https://")):
            raise RegistryError(f"{ref}: the registry named a token realm that is not an http(s) URL")
        query = {"scope": f"repository:{ref.repository}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        creds = self._credentials(ref.registry)
        resp = self._send("GET", realm, ref, params=query, auth=creds, what="token",
                          limit=self.limits.max_token_bytes)
        if resp.status_code == 401:
            raise RegistryError(f"{ref}: the token service refused the credentials"
                                f"{'' if creds else ' (none configured: anonymous)'} (401)")
        if resp.status_code != 200:
            raise RegistryError(f"{ref}: the token service answered {resp.status_code}")
        try:
            body = json.loads(resp.content)
        except (ValueError, RecursionError):
            raise RegistryError(f"{ref}: the token service's answer is not JSON") from None
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not token:
            raise RegistryError(f"{ref}: the token service sent no token")
        if not isinstance(token, str) or not token.isprintable() or len(token) > self.limits.max_token_bytes:
            raise RegistryError(f"{ref}: the token service sent a token that is not text (refused)")
        return token

    def _send(self, method: str, url: str, ref: Reference, *, headers=None, params=None, auth=None,
              what: str = "request", limit: int | None = None):
        """One request with retries on 429/5xx/transport errors; returns the final response.

        The body is read as it arrives and refused past ``limit`` bytes (a registry cannot make us
        hold more than that for a document we parse). Each attempt has ``request_timeout`` from
        sending to the last byte; attempts and waits stop at the deadline.
        """
        import httpx

        limit = self.limits.max_json_bytes if limit is None else limit
        deadline = _limits.deadline(self.limits)
        delay = self.backoff
        last_exc: Exception | None = None
        for attempt in range(self.retries + 1):
            deadline.check(f"{ref}: {what} at {_host_of(url)}")
            try:
                with self._lock:
                    self.requests += 1
                with _window(self.limits.request_timeout, deadline):
                    request = self._http.build_request(method, url, headers=headers, params=params)
                    streamed = self._http.send(request, auth=auth, stream=True)
                    try:
                        body = _read_capped(streamed, limit, f"{ref}: {what}")
                    finally:
                        streamed.close()
                resp = _Answer(streamed.status_code, streamed.headers, body)
            except httpx.TimeoutException:
                if deadline.expired:
                    raise DeadlineExceeded(deadline.message(f"{ref}: {what} at {_host_of(url)}")) from None
                last_exc = RegistryError(f"{ref}: {what} timed out at {_host_of(url)} (more than "
                                         f"{self.limits.request_timeout:g} s; IMGVIZ_REQUEST_TIMEOUT)")
            except httpx.TooManyRedirects:
                raise RegistryError(f"{ref}: {what} at {_host_of(url)} redirected more than "
                                    f"{self.limits.max_redirects} times (a redirect loop?)") from None
            except httpx.UnsupportedProtocol:
                raise RegistryError(f"{ref}: {what} at {_host_of(url)} redirected to a URL that is not http(s)") from None
            except httpx.TransportError as exc:
                last_exc = RegistryError(f"{ref}: cannot reach {_host_of(url)} ({type(exc).__name__})")
            except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:  # an answer we cannot decode
                raise RegistryError(f"{ref}: {what} from {_host_of(url)} is unreadable ({type(exc).__name__})") from None
            else:
                if resp.status_code != 429 and resp.status_code < 500:
                    return resp
                last_exc = RegistryError(f"{ref}: {what} failed: {_host_of(url)} answered {resp.status_code} "
                                         f"after {attempt + 1} attempts")
                wait = _retry_after(resp.headers.get("Retry-After"))
                if wait is not None:
                    delay = min(max(wait, delay), self.max_delay)
            if attempt < self.retries:
                pause = min(delay, self.max_delay)
                if pause >= deadline.remaining():
                    raise DeadlineExceeded(deadline.message(f"{ref}: {what} at {_host_of(url)}") +
                                           f" (last: {str(last_exc).split(': ', 1)[-1]})")
                time.sleep(pause)
                delay *= 2
        assert last_exc is not None
        raise last_exc

    def request(self, method: str, ref: Reference, path: str, *, accept: str | None = None,
                what: str = "request", limit: int | None = None):
        """``method`` on ``/v2/<repo>/<path>`` with the auth dance; returns the response."""
        url = f"{self.base_url(ref.registry)}/v2/{ref.repository}/{path}"
        headers = {"Accept": accept} if accept else {}
        key = (ref.registry, ref.repository)
        token = self._tokens.get(key)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif ref.registry in self._basic:
            headers["Authorization"] = self._basic[ref.registry]
        resp = self._send(method, url, ref, headers=headers, what=what, limit=limit)
        if resp.status_code == 401:
            scheme, params = _parse_challenge(resp.headers.get("WWW-Authenticate", ""))
            if scheme == "bearer":
                token = self._fetch_token(ref, params)
                with self._lock:
                    self._tokens[key] = token
                headers["Authorization"] = f"Bearer {token}"
            elif scheme == "basic":
                creds = self._credentials(ref.registry)
                if not creds:
                    raise RegistryError(f"{ref}: the registry needs a login (401) and no credentials are "
                                        f"configured (docker login {ref.registry}, or auth=(user, password))")
                header = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
                with self._lock:
                    self._basic[ref.registry] = header
                headers["Authorization"] = header
            else:
                raise RegistryError(f"{ref}: the registry refused access (401) with no usable challenge")
            resp = self._send(method, url, ref, headers=headers, what=what, limit=limit)
            if resp.status_code == 401:
                raise RegistryError(f"{ref}: the registry refused the credentials (401)")
        if resp.status_code == 403:
            raise RegistryError(f"{ref}: access denied (403)")
        return resp

    # -- the API ---------------------------------------------------------------------------
    def tags(self, repository: str | Reference) -> list[str]:
        """Every tag of a repository (``GET /v2/<repo>/tags/list``, following ``Link`` pages; a
        page already read ends the walk)."""
        ref = repository if isinstance(repository, Reference) else parse_reference(repository)
        out: list[str] = []
        path = "tags/list?n=1000"
        seen: set[str] = set()
        for _ in range(10_000):
            seen.add(path)
            resp = self.request("GET", ref, path, what="tag list")
            if resp.status_code == 404:
                raise RegistryError(f"{ref.name}: no such repository in the registry (404)")
            if resp.status_code != 200:
                raise RegistryError(f"{ref.name}: tag list failed ({resp.status_code})")
            body = parse_json(resp.content, what="tag list", where=ref.name, error=RegistryError)
            check_shape(_TAG_LIST, body, what="tag list", where=ref.name, error=RegistryError)
            for tag in body.get("tags") or []:
                if not _TAG_RE.match(tag):
                    raise RegistryError(f"{ref.name}: the tag list holds {tag[:80]!r}, which is not a valid tag")
                out.append(tag)
            link = resp.headers.get("Link")
            m = re.search(r"<([^>]+)>", link or "")
            if not m:
                break
            nxt = m.group(1)
            path = nxt.split(f"/v2/{ref.repository}/", 1)[-1]
            if path in seen or not path.startswith("tags/list"):
                break
        return out

    def manifest(self, ref: Reference) -> tuple[dict, str, str, bytes]:
        """(manifest, media type, digest, raw bytes) of ``ref``; the digest is verified."""
        resp = self.request("GET", ref, f"manifests/{ref.target}", accept=ACCEPT, what="manifest",
                            limit=self.limits.max_manifest_bytes)
        if resp.status_code == 404:
            raise RegistryError(f"{ref}: manifest not found in the registry (404)")
        if resp.status_code != 200:
            raise RegistryError(f"{ref}: manifest request failed ({resp.status_code})")
        raw = resp.content
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        expected = ref.digest or resp.headers.get("Docker-Content-Digest")
        if expected:
            if not is_digest(expected):
                raise RegistryError(f"{ref}: the registry sent a Docker-Content-Digest that is not a digest")
            check_digest(raw, expected, what="manifest", where=str(ref), by="served", error=RegistryError)
            digest = expected
        body = parse_json(raw, what="manifest", where=str(ref), limit=self.limits.max_manifest_bytes,
                          error=RegistryError)
        declared = body.get("mediaType")
        if declared is not None and not isinstance(declared, str):
            raise RegistryError(f"{ref}: manifest.mediaType: expected a string, got {_records._got(declared)}")
        media = declared or resp.headers.get("Content-Type", "").split(";")[0].strip()
        if media in MT_DOCKER_SCHEMA1 or body.get("schemaVersion") == 1:
            raise RegistryError(f"{ref}: Docker schema 1 manifests are not supported (push it again with a "
                                f"newer client)")
        if media not in MANIFESTS + INDEXES and not declared:
            # no mediaType in the body (OCI allows that) and an unhelpful Content-Type: the shape decides
            media = MT_OCI_INDEX if "manifests" in body else MT_OCI_MANIFEST if "config" in body else media
        if media not in MANIFESTS + INDEXES:
            raise RegistryError(f"{ref}: unsupported manifest media type {media[:80]!r}")
        check_shape(_records.INDEX if media in INDEXES else _records.MANIFEST, body, what="manifest",
                    where=str(ref), error=RegistryError)
        return body, media, digest, raw

    def blob(self, ref: Reference, digest: str, *, what: str = "blob", limit: int | None = None,
             size: int | None = None) -> bytes:
        """A (small) blob's bytes, hashed as they arrive and verified against ``digest``; refused
        past ``limit`` bytes (``max_json_bytes``), and past ``size`` when the descriptor gives one."""
        limit = self.limits.max_json_bytes if limit is None else limit
        if size is not None and size > limit:
            raise RegistryError(f"{ref}: {what} {digest} is {size} bytes by its descriptor, more than the {limit} "
                                f"a real one needs (refused before reading it)")
        resp = self.request("GET", ref, f"blobs/{digest}", what=what,
                            limit=limit if size is None else min(limit, size))
        if resp.status_code == 404:
            raise RegistryError(f"{ref}: {what} {digest} is missing from the registry (404)")
        if resp.status_code != 200:
            raise RegistryError(f"{ref}: {what} {digest} request failed ({resp.status_code})")
        raw = resp.content
        check_digest(raw, digest, what=what, where=str(ref), by="served", error=RegistryError)
        return raw

    def blob_size(self, ref: Reference, digest: str) -> int:
        """``HEAD`` a blob: its size in bytes (RegistryError when it is missing)."""
        resp = self.request("HEAD", ref, f"blobs/{digest}", what="blob HEAD")
        if resp.status_code == 404:
            raise RegistryError(f"{ref}: layer blob {digest} is missing from the registry (404)")
        if resp.status_code != 200:
            raise RegistryError(f"{ref}: HEAD of blob {digest} failed ({resp.status_code})")
        length = resp.headers.get("Content-Length") or ""
        if not length.isdigit() or int(length) > _records.SIZE_MAX:
            raise RegistryError(f"{ref}: HEAD of blob {digest} gave no valid Content-Length")
        return int(length)

    @contextmanager
    def layer(self, ref: Reference, layer: dict, diff_id: str | None = None, *,
              content_digests: bool = False) -> Iterator[LayerStream]:
        """Open one layer blob as a stream of tar entries (:class:`~imgviz.sources._layer.LayerStream`).

        The blob is streamed, never stored; iterating to the end checks its digest (and its diff
        ID when given) and raises :class:`RegistryError` on a mismatch. Reading stops past the
        descriptor's ``size``, past what the blob may unpack to, and at the deadline.

        Examples
        --------
        >>> with client.layer(ref, manifest["layers"][0], diff_id) as entries:   # doctest: +SKIP
        ...     paths = [e.path for e in entries]
        """
        import httpx

        digest = layer["digest"]
        url = f"{self.base_url(ref.registry)}/v2/{ref.repository}/blobs/{digest}"
        self.request("HEAD", ref, f"blobs/{digest}", what="blob HEAD")  # settles auth first
        headers = {}
        token = self._tokens.get((ref.registry, ref.repository))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif ref.registry in self._basic:
            headers["Authorization"] = self._basic[ref.registry]
        deadline = _limits.deadline(self.limits)
        try:
            with _window(None, deadline), self._http.stream("GET", url, headers=headers) as resp:
                with self._lock:
                    self.requests += 1
                if resp.status_code == 404:
                    raise RegistryError(f"{ref}: layer blob {digest} is missing from the registry (404)")
                if resp.status_code != 200:
                    raise RegistryError(f"{ref}: layer blob {digest} request failed ({resp.status_code})")
                yield LayerStream(resp.iter_raw(CHUNK), digest=digest, diff_id=diff_id, where=str(ref),
                                  what="layer blob", name=digest, by="served", content_digests=content_digests,
                                  size=layer.get("size"), media_type=layer.get("mediaType"), deadline=deadline,
                                  error=RegistryError)
        except httpx.TimeoutException:
            if deadline.expired:
                raise DeadlineExceeded(deadline.message(f"{ref}: layer blob {digest}")) from None
            raise RegistryError(f"{ref}: layer blob {digest} timed out") from None
        except httpx.TooManyRedirects:
            raise RegistryError(f"{ref}: layer blob {digest} redirected more than {self.limits.max_redirects} "
                                f"times (a redirect loop?)") from None
        except httpx.TransportError as exc:
            raise RegistryError(f"{ref}: layer blob {digest}: transfer failed ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise RegistryError(f"{ref}: layer blob {digest} is unreadable ({type(exc).__name__})") from None

    def layer_stats(self, ref: Reference, layer: dict, diff_id: str) -> dict:
        """Stream one layer blob: verify its digest and diff ID, measure its size (engine rule,
        :func:`~imgviz.sources._layer.layer_stats`)."""
        with self.layer(ref, layer, diff_id) as stream:
            return measure(stream)

    def image(self, ref: Reference | str, *, platform: str | None = None, check_blobs: bool = False,
              read_layers: bool = False) -> dict:
        """Read one image: the snapshot record (config, manifest, tags, digests, index...).

        ``read_layers`` streams every layer blob through the shared layer reader (see
        :func:`collect`)."""
        ref = ref if isinstance(ref, Reference) else parse_reference(ref)
        body, media, digest, _raw = self.manifest(ref)
        index = None
        if media in INDEXES:
            index = {"digest": digest, "mediaType": media, "manifest": body}
            chosen = choose_platform(body.get("manifests") or [], platform, where=str(ref), error=RegistryError)
            check_descriptor(chosen, what="index entry", where=str(ref), error=RegistryError)
            body, media, digest, _raw = self.manifest(ref.with_digest(chosen["digest"]))
            if media in INDEXES:
                raise RegistryError(f"{ref}: nested index under {chosen['digest']} is not supported")
        config_desc, layers = image_manifest(body, where=str(ref), what=f"manifest {digest}", error=RegistryError)
        config_raw = self.blob(ref, config_desc["digest"], what="config", size=config_desc.get("size"))
        config = parse_json(config_raw, what=f"config {config_desc['digest']}", where=str(ref), error=RegistryError)
        check_shape(_records.IMAGE_CONFIG, config, what=f"config {config_desc['digest'][:19]}", where=str(ref),
                    error=RegistryError)
        diff_ids = diff_ids_of(config, n_layers=len(layers), what="config", where=str(ref), error=RegistryError)
        if check_blobs:
            for layer in layers:
                size = self.blob_size(ref, layer["digest"])
                if layer.get("size") is not None and size != layer["size"]:
                    raise RegistryError(f"{ref}: layer blob {layer['digest']} is {size} bytes, the manifest says "
                                        f"{layer['size']}")
        sizes = [self.layer_stats(ref, layer, diff)["size"] for layer, diff in zip(layers, diff_ids)] \
            if read_layers else None
        tags = [f"{ref.name}:{ref.tag}"] if ref.tag else []
        # the reference's digest is what it resolved to (an index when there is one), as an engine
        # that pulls it lists it in RepoDigests; the chosen manifest's digest is in ``ids``
        top = index["digest"] if index else digest
        return {"id": config_desc["digest"], "inspect": None, "history": None, "config": config,
                "manifest": body, "ref": str(ref), "tags": tags,
                "digests": [f"{ref.name}@{top}"], "manifest_digest": digest, "media_type": media,
                "index": index, "layer_sizes": sizes,
                "ids": [image_ids(config_desc["digest"], digest, index["digest"] if index else None)]}


_TAG_LIST = _records.Obj({"name": _records.TEXT, "tags": _records.Opt(_records.List(_records.Str()))})


@dataclass
class _Answer:
    """A response whose body was read (within its limit): what :meth:`RegistryClient.request` returns."""

    status_code: int
    headers: Any
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


def _read_capped(resp, limit: int, what: str) -> bytes:
    """A streamed response's (decoded) body, refused past ``limit`` bytes (a redirect's or an
    error's body is read within the same limit)."""
    if resp.request.method == "HEAD":
        return b""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RegistryError(f"{what} is {int(declared)} bytes, more than the {limit} a real one needs (refused)")
    out = bytearray()
    for chunk in resp.iter_bytes(CHUNK):
        out += chunk
        if len(out) > limit:
            raise RegistryError(f"{what} is more than the {limit} bytes a real one needs (refused)")
    return bytes(out)


def _host_of(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _retry_after(value: str | None) -> float | None:
    try:
        wait = float(value) if value is not None else None
    except ValueError:
        return None
    return wait if wait is not None and 0 <= wait < 1e7 else None


# ------------------------------------------------------------------------------------ collection

def collect(refs: str | Iterable[str], *, client: RegistryClient | None = None, platform: str | None = None,
            check_blobs: bool = False, read_layers: bool = False, progress: bool = True,
            workers: int | None = None,
            auth: tuple[str, str] | None = None, plain_http: bool | None = None, limits=None) -> Snapshot:
    """Read images from registries into a :class:`~imgviz.snapshot.Snapshot` (``kind == 'registry'``).

    Parameters
    ----------
    refs : str or iterable of str
        ``HOST[:PORT]/REPO[:TAG|@DIGEST]``. A reference ending in ``:*`` (``HOST/REPO:*``) means
        every tag of the repository.
    client : RegistryClient, optional
        Reuse a client (its token cache and connections); else one is made from ``auth``,
        ``plain_http`` and ``workers``.
    platform : str, optional
        ``os/arch[/variant]`` chosen from manifest lists and OCI indexes (default: this machine).
    check_blobs : bool
        Also ``HEAD`` every layer blob (it exists, and has the manifest's size).
    read_layers : bool
        Also download every layer blob (streamed through the shared layer reader, never stored):
        verify its digest and diff ID and measure its uncompressed size as Docker's graph driver
        (overlay2) reports it after pulling the layer (:func:`imgviz.sources.archive.layer_stats`;
        an engine that built it with BuildKit reports less by its symlinks' target lengths; the
        containerd image store and podman size layers by other rules, which it names). The same option as
        :func:`imgviz.sources.archive.collect`'s. Off by default: without it uncompressed sizes
        stay NA.
    progress : bool
        tqdm progress bar over references.
    workers : int, optional
        Concurrent references (default: the client's).
    limits : imgviz.limits.Limits or dict, optional
        Time and size limits (:mod:`imgviz.limits`); the whole collection shares one deadline.

    Returns
    -------
    Snapshot
        One image record per distinct image (config digest); several references to the same image
        add their tags and digests to one record. ``ids`` lists, per way the image was reached,
        the digests an engine could name it by (:func:`~imgviz.sources._oci.image_ids`: config,
        manifest, and the index where the reference resolved to one): Docker's overlay2 and podman
        name an image by its config digest, the containerd image store by its index (or manifest)
        digest. Layer blob digests, compressed sizes and media types are in the manifests;
        uncompressed sizes are unknown (NA in the frames) unless ``read_layers=True``.

    Raises
    ------
    RegistryError
        With one line naming the reference that failed.
    DeadlineExceeded
        When the collection took longer than the deadline.
    """
    with _limits.using(limits) as lim, _limits.deadline_scope(what="the registry collection"):
        return _collect(refs, client=client, platform=platform, check_blobs=check_blobs, read_layers=read_layers,
                        progress=progress, workers=workers, auth=auth, plain_http=plain_http, limits=lim)


def _collect(refs, *, client, platform, check_blobs, read_layers, progress, workers, auth, plain_http, limits):
    own = client is None
    client = client or RegistryClient(auth=auth, plain_http=plain_http, workers=workers or 8, limits=limits)
    try:
        wanted = [refs] if isinstance(refs, str) else list(refs)
        expanded: list[Reference] = []
        for text in wanted:
            if text.endswith(":*"):
                base = parse_reference(text[:-2])
                expanded.extend(base.with_tag(t) for t in sorted(client.tags(base)))
            else:
                expanded.append(parse_reference(text))
        seen: set[Reference] = set()
        expanded = [r for r in expanded if not (r in seen or seen.add(r))]
        records = empty_records()
        hosts = sorted({r.registry for r in expanded})
        snap = Snapshot(source={"kind": "registry", "host": ",".join(hosts), "collected_at": utc_now_iso(),
                                "platform": "/".join(filter(None, parse_platform(platform, error=RegistryError)))}, records=records)
        results: list[dict] = []
        if expanded:
            n = max(1, workers or client.workers)
            with ThreadPoolExecutor(max_workers=n) as pool:
                # each job runs in a copy of this context: the limits and the deadline in force
                futures = [pool.submit(contextvars.copy_context().run, client.image, r, platform=platform,
                                       check_blobs=check_blobs, read_layers=read_layers) for r in expanded]
                it = futures
                if progress:
                    from tqdm.auto import tqdm

                    it = tqdm(futures, total=len(futures), desc="registry images", unit="img", leave=False)
                try:
                    for fut in it:
                        results.append(fut.result())
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
        by_id: dict[str, dict] = {}
        for rec in results:
            have = by_id.get(rec["id"])
            if have is None:
                rec["refs"] = [rec["ref"]]
                by_id[rec["id"]] = rec
                records["images"].append(rec)
            else:
                have["refs"].append(rec["ref"])
                have["tags"] += [t for t in rec["tags"] if t not in have["tags"]]
                have["digests"] += [d for d in rec["digests"] if d not in have["digests"]]
                have["ids"] += [i for i in rec["ids"] if i not in have["ids"]]
        _records.check_records(records, "registry", where=snap.source["host"] or "registry", error=RegistryError)
        return snap
    finally:
        if own:
            client.close()
