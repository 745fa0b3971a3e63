"""A registry that misbehaves: a real HTTP proxy on 127.0.0.1 in front of the real registry.

The proxy forwards every request to Debian's docker-registry and alters the answer the way a
broken or hostile registry would: 429 and 5xx bursts, slowness, bytes that do not match their
digest, broken JSON, missing blobs, and a bearer-token challenge with per-repository scope.
It serves on a thread for the module and is shut down at the end.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from imgviz.sources.registry import RegistryClient, RegistryError, collect

from .._ivreg import build_images
from .._registry import push

pytestmark = [pytest.mark.engine, pytest.mark.registry]

TOKEN_USER, TOKEN_PASSWORD = "tokenuser", "s3cret-for-the-token-service"


class Faults:
    def __init__(self, upstream: str):
        self.upstream = upstream
        self.reset()

    def reset(self, **modes):
        self.modes = modes
        self.counts: dict[str, int] = {}
        self.log: list[tuple[str, str, int]] = []
        self.scopes: list[str] = []


def _make_handler(faults: Faults):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, body: bytes = b"", headers: dict | None = None):
            self.send_response(status)
            headers = dict(headers or {})
            headers.setdefault("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            faults.log.append((self.command, self.path, status))

        def do_HEAD(self):
            self._handle()

        def do_GET(self):
            self._handle()

        def _handle(self):
            m = faults.modes
            path = self.path
            kind = "manifest" if "/manifests/" in path else "blob" if "/blobs/" in path else \
                "token" if path.startswith("/token") else "other"
            faults.counts[kind] = faults.counts.get(kind, 0) + 1
            if kind == "token":
                return self._token()
            if m.get("bearer") and path.startswith("/v2/") and path != "/v2/":
                repo = re.match(r"/v2/(.+?)/(manifests|blobs|tags)/", path).group(1)
                if self.headers.get("Authorization") != f"Bearer tok-{repo}":
                    host = self.headers.get("Host")
                    return self._answer(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {
                        "WWW-Authenticate": f'Bearer realm="http://{host}/token",service="ivtest",'
                                            f'scope="repository:{repo}:pull"'})
            for status_mode in ("burst429", "burst503"):
                if m.get(status_mode) and faults.counts[kind] <= m[status_mode]:
                    code = 429 if status_mode == "burst429" else 503
                    return self._answer(code, b"slow down", {"Retry-After": "0"})
            if m.get("always500"):
                return self._answer(500, b"broken")
            if m.get("slow") and kind == "manifest":
                time.sleep(m["slow"])
            if m.get("missing_config") and kind == "blob" and self.command == "GET":
                return self._answer(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            if m.get("missing_layer") and kind == "blob" and self.command == "HEAD":
                return self._answer(404, b"")
            up = httpx.request(self.command, faults.upstream + path,
                               headers={k: v for k, v in self.headers.items() if k.lower() in ("accept",)})
            body, headers = up.content, {k: v for k, v in up.headers.items()
                                         if k.lower() in ("content-type", "docker-content-digest")}
            if self.command == "HEAD":
                headers["Content-Length"] = up.headers.get("Content-Length", "0")
            if m.get("wrong_manifest") and kind == "manifest" and body[:1] == b"{":
                # the same JSON with one more space: other bytes whatever the pusher's formatting (Docker
                # writes '"schemaVersion": 2', podman and the containerd store '"schemaVersion":2')
                body = body.replace(b"{", b"{ ", 1)
            if m.get("wrong_config") and kind == "blob":
                body = body.replace(b'"architecture":"amd64"', b'"architecture":"arm64"')
            if m.get("recompress_layers") and kind == "blob" and body[:2] == b"\x1f\x8b":
                import gzip

                # the same tar, gzipped again: valid, same diff ID, another blob digest
                body = gzip.compress(gzip.decompress(body), compresslevel=1, mtime=1)
            if m.get("bad_json") and kind == "manifest":
                body = body[: len(body) // 2]
                headers.pop("docker-content-digest", None)
                headers.pop("Docker-Content-Digest", None)
            return self._answer(up.status_code, body, headers)

        def _token(self):
            auth = self.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(f"{TOKEN_USER}:{TOKEN_PASSWORD}".encode()).decode()
            scope = dict(re.findall(r"(\w+)=([^&]+)", self.path.split("?", 1)[-1])).get("scope", "")
            scope = httpx.URL(self.path).params.get("scope", scope)
            faults.scopes.append(scope)
            if auth != want:
                return self._answer(401, b'{"details":"bad credentials"}')
            repo = scope.split(":")[1]
            return self._answer(200, json.dumps({"token": f"tok-{repo}"}).encode(),
                                {"Content-Type": "application/json"})

    return Handler


@pytest.fixture(scope="module")
def proxy(engine, registry, tmp_path_factory):
    build_images(engine, tmp_path_factory.mktemp("ivreg-faults"))
    push(engine, "ivreg/app:1", registry, "fault/app:1")
    push(engine, "ivreg/other:1", registry, "fault/other:1")
    faults = Faults(f"http://{registry.addr}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(faults))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    faults.addr = f"127.0.0.1:{server.server_address[1]}"
    try:
        yield faults
    finally:
        server.shutdown()
        server.server_close()


def _client(**kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("max_delay", 0.05)
    return RegistryClient(**kw)


def test_proxy_passes_through(proxy):
    proxy.reset()
    snap = collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client())
    assert len(snap.images) == 1 and snap.images[0]["config"]["rootfs"]["diff_ids"]


@pytest.mark.parametrize("mode", ["burst429", "burst503"])
def test_429_and_5xx_bursts_are_retried(proxy, mode):
    proxy.reset(**{mode: 2})
    with _client(retries=3) as client:
        snap = collect([f"{proxy.addr}/fault/app:1"], progress=False, client=client)
    assert len(snap.images) == 1
    codes = [s for _m, p, s in proxy.log if "/manifests/" in p]
    assert codes[:3] == [429 if mode == "burst429" else 503] * 2 + [200]


def test_a_registry_that_keeps_failing_stops_after_the_retries(proxy):
    proxy.reset(always500=True)
    client = _client(retries=2)
    with pytest.raises(RegistryError, match=r"fault/app:1: manifest failed: 127\.0\.0\.1:\d+ answered 500 after 3 attempts"):
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=client)
    assert client.requests == 3


def test_timeout(proxy):
    proxy.reset(slow=1.5)
    client = _client(timeout=0.3, retries=1)
    t0 = time.monotonic()
    with pytest.raises(RegistryError, match=r"fault/app:1: manifest timed out at 127\.0\.0\.1:\d+"):
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=client)
    assert time.monotonic() - t0 < 1.5
    assert client.requests == 2


def test_wrong_manifest_digest(proxy):
    proxy.reset(wrong_manifest=True)
    with pytest.raises(RegistryError, match=r"fault/app:1: manifest digest mismatch: expected sha256:"):
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client())


def test_wrong_config_digest(proxy):
    proxy.reset(wrong_config=True)
    with pytest.raises(RegistryError, match=r"fault/app:1: config digest mismatch: expected sha256:"):
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client())


def test_bad_json(proxy):
    proxy.reset(bad_json=True)
    with pytest.raises(RegistryError, match=r"fault/app:1: manifest is not valid JSON"):
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client())


def test_missing_config_blob(proxy):
    proxy.reset(missing_config=True)
    with pytest.raises(RegistryError, match=r"fault/app:1: config sha256:\w+ is missing from the registry \(404\)"):
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client())


def test_missing_layer_blob_only_when_checked(proxy):
    proxy.reset(missing_layer=True)
    assert collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client()).images
    with pytest.raises(RegistryError, match=r"fault/app:1: layer blob sha256:\w+ is missing from the registry"):
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client(), check_blobs=True)


def test_bearer_token_per_repository_scope(proxy):
    proxy.reset(bearer=True)
    with _client(auth=(TOKEN_USER, TOKEN_PASSWORD)) as client:
        snap = collect([f"{proxy.addr}/fault/app:1", f"{proxy.addr}/fault/other:1"], progress=False,
                       client=client, workers=1)
        assert len(snap.images) == 2
        assert sorted(proxy.scopes) == ["repository:fault/app:pull", "repository:fault/other:pull"]
        # the tokens are cached per repository: a second read asks for none
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=client)
        assert len(proxy.scopes) == 2
    assert TOKEN_PASSWORD not in json.dumps(snap.to_dict()) and "tok-fault" not in json.dumps(snap.to_dict())
    proxy.reset(bearer=True)
    with pytest.raises(RegistryError, match=r"fault/app:1: the token service refused the credentials") as info:
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client(auth=(TOKEN_USER, "nope")))
    assert "nope" not in str(info.value)


def test_layer_blobs_read_on_request_are_verified(proxy):
    proxy.reset()
    snap = collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client(), read_layers=True)
    assert all(isinstance(n, int) for n in snap.images[0]["layer_sizes"])
    proxy.reset(recompress_layers=True)
    # metadata alone does not read layer blobs, so it cannot notice
    assert collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client()).images
    # the same tar gzipped again is another blob: more bytes than the manifest says (refused as they
    # arrive) or, when it happens to be no bigger, bytes that do not hash to the digest
    with pytest.raises(RegistryError, match=r"fault/app:1: layer blob (digest mismatch: expected sha256:\w+, the "
                                            r"bytes served hash to sha256:|sha256:\w+ is more than the \d+ bytes "
                                            r"its manifest says)"):
        collect([f"{proxy.addr}/fault/app:1"], progress=False, client=_client(), read_layers=True)
