"""Hostile servers for the fuzz corpus, all on 127.0.0.1 or on unix sockets of our own.

``HostileRegistry``
    An OCI Distribution API server serving one small valid image (``/v2/<mode>/app``) and, per
    mode named by the repository's first component, one thing wrong: garbage instead of HTTP,
    wrong JSON types, sizes out of range, redirect loops, a body that drips one byte a second or
    never ends, 401 loops and broken token services, oversized documents.
``HostileEngine``
    A Docker Engine API server on a unix socket (or TCP) answering from a snapshot recorded on a
    real engine (tests/data/fleet), with one answer broken per mode, or that stops answering
    (hangs, drips, dies after N requests).
``CutOffProxy``
    A unix-socket proxy of ours in front of a real engine that forwards bytes unchanged and cuts
    every connection (and stops accepting) after N requests: an engine that dies mid-collection;
    or, with ``delays``, holds each request whose path matches a pattern for some seconds before
    passing it on: a slow engine (Docker 28's containerd store with 400 images takes 6-7 s to
    list them), made slow on purpose.

Every server serves on daemon threads and is stopped by :meth:`stop`; slow modes check the
stop flag, so a test never waits for them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import socket
import socketserver
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FLEET = Path(__file__).resolve().parent.parent / "data" / "fleet" / "snapshot.json.gz"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Image:
    """One small valid image: a gzip layer, its config and manifest (OCI media types)."""

    def __init__(self, layer_files: dict[str, bytes] | None = None, *, env=("PATH=/bin",), labels=None,
                 created_by: str = "COPY hello.txt /"):
        self.tar = tar_of(layer_files or {"hello.txt": b"hello\n"})
        self.layer = gzip.compress(self.tar, mtime=0)
        self.config = json.dumps({
            "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
            "config": {"Env": list(env), "Cmd": ["sh"], "Labels": labels or {}},
            "rootfs": {"type": "layers", "diff_ids": [sha256(self.tar)]},
            "history": [{"created": "2026-01-01T00:00:00Z", "created_by": created_by}],
        }, sort_keys=True).encode()
        self.manifest = self.manifest_for(self.config, [self.layer])

    @staticmethod
    def manifest_for(config: bytes, layers: list[bytes], *, config_size=None, layer_sizes=None) -> bytes:
        return json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config),
                       "size": len(config) if config_size is None else config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(b),
                        "size": len(b) if layer_sizes is None else layer_sizes[i]} for i, b in enumerate(layers)],
        }, sort_keys=True).encode()


class _Quiet:
    """Servers whose handler threads end quietly when a client hangs up (clients here are hostile to
    us, and we to them: a reset connection is expected, not news)."""

    def handle_error(self, request, client_address):
        pass


class _QuietTCP(_Quiet, ThreadingHTTPServer):
    daemon_threads = True


class _Stoppable:
    stopping: threading.Event

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless the server stops first; True when it stops."""
        return self.stopping.wait(seconds)


# ------------------------------------------------------------------------------------ registry

def bomb_gzip(size: int) -> bytes:
    """A gzip stream of a tar holding one file of ``size`` zero bytes, made without holding it."""
    out = io.BytesIO()
    z = gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9)
    header = tarfile.TarInfo("zeros")
    header.size = size
    z.write(header.tobuf(format=tarfile.PAX_FORMAT))
    block = bytes(1 << 20)
    left = size
    while left:
        n = min(left, len(block))
        z.write(block[:n])
        left -= n
    z.write(bytes((512 - size % 512) % 512) + bytes(1024))
    z.close()
    return out.getvalue()


class HostileRegistry(_Stoppable):
    """See the module docstring; ``ref(mode)`` is the reference that exercises ``mode``."""

    def __init__(self):
        self.image = Image()
        self.stopping = threading.Event()
        self.hits: dict[str, int] = {}
        self._bomb: bytes | None = None
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                registry._handle(self)

            def do_HEAD(self):
                registry._handle(self)

        self.server = _QuietTCP(("127.0.0.1", 0), Handler)
        self.addr = f"127.0.0.1:{self.server.server_address[1]}"
        self._bomb_ready = threading.Event()
        threading.Thread(target=self._bomb_blob, daemon=True).start()  # made once, before a case asks
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def ref(self, mode: str, tag: str = "1") -> str:
        return f"{self.addr}/{mode}/app:{tag}"

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    # -- answers ---------------------------------------------------------------------------
    @staticmethod
    def _send(h, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        h.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Length", str(len(body)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _json(self, h, body: bytes, media: str | None = None, digest: str | None = None) -> None:
        headers = {"Content-Type": media or "application/json"}
        if digest is not False:
            headers["Docker-Content-Digest"] = digest or sha256(body)
        self._send(h, 200, body, headers)

    def _drip(self, h, every: float = 1.0) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        while not self.wait(every):
            try:
                h.wfile.write(b"{")
                h.wfile.flush()
            except OSError:
                return

    def _endless(self, h, chunk: bytes = b" " * 65536) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Content-Type", "application/json")
        h.end_headers()
        head = f"{len(chunk):x}\r\n".encode()
        try:
            while not self.stopping.is_set():
                h.wfile.write(head + chunk + b"\r\n")
        except OSError:
            return

    def _handle(self, h) -> None:  # noqa: C901 - one branch per mode, read top to bottom
        path = h.path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        img = self.image
        if path.startswith("/token/"):
            return self._token(h, parts[1] if len(parts) > 1 else "")
        if path in ("/v2", "/v2/"):
            return self._send(h, 200, b"{}", {"Content-Type": "application/json"})
        if len(parts) < 5 or parts[0] != "v2":
            return self._send(h, 404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        mode, kind, target = parts[1], parts[3], parts[4]
        self.hits[mode] = self.hits.get(mode, 0) + 1
        host = f"http://{self.addr}"
        # -- whole-connection misbehaviour ---------------------------------------------------
        if mode == "garbage":
            h.wfile.write(b"\x00\xff\xfeGARBAGE NOT HTTP\r\n\r\n")
            h.close_connection = True
            return
        if mode == "hang":
            self.wait(3600)
            h.close_connection = True
            return
        if mode == "slowheaders":
            h.wfile.write(b"HTTP/1.1 200 OK\r\n")
            while not self.wait(1.0):
                try:
                    h.wfile.write(b"X")
                    h.wfile.flush()
                except OSError:
                    return
            return
        if mode == "drip" and kind == "manifests":
            return self._drip(h)
        if mode == "endless" and kind == "manifests":
            return self._endless(h)
        if mode == "status503":
            return self._send(h, 503, b"busy", {"Retry-After": "3600"})
        if mode == "status429":
            return self._send(h, 429, b"slow down")
        if mode == "status500":
            return self._send(h, 500, b"broken")
        if mode == "redirectloop":
            return self._send(h, 302, b"", {"Location": h.path})
        if mode == "redirectchain":
            hop = int(h.path.rsplit("hop=", 1)[1]) if "hop=" in h.path else 0
            return self._send(h, 302, b"", {"Location": f"{path}?hop={hop + 1}"})
        if mode == "redirectftp":
            return self._send(h, 302, b"", {"Location": "ftp://127.0.0.1:1/x"})
        # -- authentication --------------------------------------------------------------------
        auth_modes = {"authloop", "token401", "tokennotjson", "tokenlist", "tokennumber", "tokenendless",
                      "tokenctrl", "tokenhuge"}
        if mode in auth_modes and h.headers.get("Authorization") != "Bearer good-token":
            return self._send(h, 401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {
                "WWW-Authenticate": f'Bearer realm="{host}/token/{mode}",service="hostile"'})
        if mode == "authloop":
            return self._send(h, 401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {
                "WWW-Authenticate": f'Bearer realm="{host}/token/{mode}",service="hostile"'})
        challenges = {"realmmissing": 'Bearer service="hostile"', "realmfile": 'Bearer realm="file:///etc/passwd"',
                      "challengegarbage": "Negotiate xyz", "basicnocreds": 'Basic realm="hostile"'}
        if mode in challenges:
            return self._send(h, 401, b"{}", {"WWW-Authenticate": challenges[mode]})
        # -- tag lists -----------------------------------------------------------------------
        if kind == "tags":
            bodies = {"tagsstring": b'{"name":"x","tags":"1"}', "tagsnumbers": b'{"name":"x","tags":[1,2]}',
                      "tagsbadname": b'{"name":"x","tags":["../../x"]}', "tagslist": b'[1]',
                      "tagsnull": b'{"name":"x","tags":null}'}
            if mode == "tagsloop":
                return self._send(h, 200, b'{"name":"x","tags":["1"]}', {
                    "Content-Type": "application/json", "Link": f'<{path}?n=1&last=1>; rel="next"'})
            if mode == "tagsendless":
                return self._endless(h)
            return self._send(h, 200, bodies.get(mode, b'{"name":"x","tags":["1"]}'),
                              {"Content-Type": "application/json"})
        # -- manifests -------------------------------------------------------------------------
        if kind == "manifests":
            return self._manifest(h, mode, target)
        if kind == "blobs":
            return self._blob(h, mode, target)
        return self._send(h, 404, b"{}")

    def _token(self, h, mode: str) -> None:
        answers = {"token401": (401, b'{"details":"no"}'), "tokennotjson": (200, b"<html>not json</html>"),
                   "tokenlist": (200, b'["good-token"]'), "tokennumber": (200, b'{"token": 5}'),
                   "tokenctrl": (200, b'{"token": "good-token\\r\\nX-Injected: 1"}'),
                   "tokenhuge": (200, b'{"token": "' + b"a" * (3 << 20) + b'"}')}
        if mode == "tokenendless":
            return self._endless(h)
        status, body = answers.get(mode, (200, b'{"token": "good-token"}'))
        self._send(h, status, body, {"Content-Type": "application/json"})

    def _manifest(self, h, mode: str, target: str) -> None:
        img = self.image
        oci_index = "application/vnd.oci.image.index.v1+json"
        m = json.loads(img.manifest)
        plat = {"os": "linux", "architecture": "amd64"}
        entry = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(img.manifest),
                 "size": len(img.manifest), "platform": plat}
        if target.startswith("sha256:") and target == sha256(img.manifest):
            return self._json(h, img.manifest, m["mediaType"])
        bad = {
            "manifestnotjson": b"{not json",
            "manifestlist": b"[1, 2, 3]",
            "manifeststring": b'"a manifest"',
            "manifestnull": b"null",
            "manifestnan": img.manifest.replace(b'"size": ' + str(len(img.config)).encode(), b'"size": NaN', 1),
            "manifestdeep": b'{"config":' + b"[" * 100000 + b"]" * 100000 + b"}",
        }
        if mode in bad:
            return self._json(h, bad[mode], m["mediaType"])
        changes = {
            "configstring": ("config", "sha256:" + "0" * 64),
            "layersdict": ("layers", {"a": 1}),
            "layersnull": ("layers", None),
        }
        if mode in changes:
            key, value = changes[mode]
            m[key] = value
        elif mode.startswith("layersize"):
            m["layers"][0]["size"] = {"layersizeneg": -5, "layersizehuge": 10**400, "layersizestr": "12",
                                      "layersizebool": True, "layersizefloat": 12.5,
                                      "layersize2e63": 2**63}[mode]
        elif mode == "layerdigestbad":
            m["layers"][0]["digest"] = "sha256:../../etc/passwd"
        elif mode == "configdigestmd5":
            m["config"]["digest"] = "md5:abc"
        elif mode == "mediatypenumber":
            m["mediaType"] = 5
        elif mode == "mediatypeodd":
            m["mediaType"] = "application/x-evil\x1b[2J"
        elif mode == "schema1":
            m = {"schemaVersion": 1, "name": "x", "fsLayers": []}
        elif mode.startswith("config") and mode not in ("configstring",):
            return self._json(h, self._config_manifest(mode), m["mediaType"])
        elif mode.startswith("layer"):
            return self._json(h, self._layer_manifest(mode), m["mediaType"])
        elif mode.startswith("index"):
            index = {"schemaVersion": 2, "mediaType": oci_index, "manifests": [entry]}
            if mode == "indexmanifestsstring":
                index["manifests"] = "all of them"
            elif mode == "indexplatformstring":
                index["manifests"] = [dict(entry, platform="linux/amd64")]
            elif mode == "indexempty":
                index["manifests"] = []
            elif mode == "indexentrynumber":
                index["manifests"] = [5, "x", None]
            elif mode == "indexnested":
                nested = json.dumps({"schemaVersion": 2, "mediaType": oci_index, "manifests": [entry]}).encode()
                if target == sha256(nested):
                    return self._json(h, nested, oci_index)
                index["manifests"] = [{"mediaType": oci_index, "digest": sha256(nested), "size": len(nested),
                                       "platform": plat}]
            elif mode == "indexsize":
                index["manifests"] = [dict(entry, size=-1)]
            body = json.dumps(index).encode()
            return self._json(h, body, oci_index)
        elif mode == "digestmismatch":
            return self._json(h, img.manifest, m["mediaType"], digest="sha256:" + "1" * 64)
        elif mode == "digestgarbage":
            return self._json(h, img.manifest, m["mediaType"], digest="sha256:../../x")
        elif mode == "manifesthuge":
            body = json.dumps(dict(m, padding="x" * (5 << 20))).encode()
            return self._json(h, body, m["mediaType"])
        body = json.dumps(m).encode()
        return self._json(h, body, m["mediaType"] if isinstance(m.get("mediaType"), str) else None)

    # configs broken one way each, served under their own digest (the shape is the fault)
    _CONFIGS = {
        "confignotjson": b"{not json",
        "configlist": b"[]",
        "configenvstring": None, "configlabelslist": None, "configrootfsmissing": None, "configdiffidscount": None,
        "confighistorystring": None, "configdiffidsnumbers": None, "configcreatedlist": None,
        "configcmdstring": None, "configdeep": None,
    }

    def _config_bytes(self, mode: str) -> bytes:
        if self._CONFIGS.get(mode) is not None:
            return self._CONFIGS[mode]
        cfg = json.loads(self.image.config)
        if mode == "configenvstring":
            cfg["config"]["Env"] = "PATH=/bin"
        elif mode == "configlabelslist":
            cfg["config"]["Labels"] = ["a", "b"]
        elif mode == "configrootfsmissing":
            del cfg["rootfs"]
        elif mode == "configdiffidscount":
            cfg["rootfs"]["diff_ids"].append(cfg["rootfs"]["diff_ids"][0])
        elif mode == "confighistorystring":
            cfg["history"] = "it was built"
        elif mode == "configdiffidsnumbers":
            cfg["rootfs"]["diff_ids"] = [5]
        elif mode == "configcreatedlist":
            cfg["created"] = []
        elif mode == "configcmdstring":
            cfg["config"]["Cmd"] = "sh -c evil"
        elif mode == "configdeep":
            return b'{"rootfs":' + b"[" * 50000 + b"]" * 50000 + b"}"
        return json.dumps(cfg).encode()

    def _config_manifest(self, mode: str) -> bytes:
        img = self.image
        if mode == "confighugeclaim":
            return Image.manifest_for(img.config, [img.layer], config_size=1_500_000_000)
        if mode in ("configlies", "configendless", "config404", "configdigestmismatch"):
            return Image.manifest_for(img.config, [img.layer], config_size=len(img.config))
        return Image.manifest_for(self._config_bytes(mode), [img.layer])

    def _layer_manifest(self, mode: str) -> bytes:
        img = self.image
        if mode == "layerbomb":
            bomb = self._bomb_blob()
            cfg = json.loads(img.config)
            cfg["rootfs"]["diff_ids"] = ["sha256:" + "2" * 64]
            config = json.dumps(cfg).encode()
            self._extra = {sha256(config): config, sha256(bomb): bomb}
            return Image.manifest_for(config, [bomb])
        if mode == "layeroversize":
            return Image.manifest_for(img.config, [img.layer], layer_sizes=[10])
        return Image.manifest_for(img.config, [img.layer])

    def _bomb_blob(self) -> bytes:
        if self._bomb is None and not self._bomb_ready.is_set():
            self._bomb = bomb_gzip(2 << 30)  # 2 GiB of zeros: about 2 MB gzipped
            self._bomb_ready.set()
        self._bomb_ready.wait()
        return self._bomb

    def _blob(self, h, mode: str, digest: str) -> None:
        img = self.image
        if mode == "config404":
            return self._send(h, 404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        if mode in ("configlies", "configendless") and digest == sha256(img.config):
            return self._endless(h, b"0" * 65536)
        if mode == "confighugeclaim" and digest == sha256(img.config):
            return self._endless(h, b"0" * 65536)
        if mode == "configdigestmismatch" and digest == sha256(img.config):
            return self._send(h, 200, img.config.replace(b"amd64", b"arm64"))
        if mode == "layerendless" and digest == sha256(img.layer):
            if h.command == "HEAD":
                return self._send(h, 200, b"", {"Content-Length": str(len(img.layer))})
            return self._endless(h, b"\x1f\x8b" + b"\x00" * 65534)
        if mode == "headnegative" and h.command == "HEAD":
            h.send_response(200)
            h.send_header("Content-Length", "-5")
            h.end_headers()
            return
        blobs = {sha256(img.config): img.config, sha256(img.layer): img.layer}
        if mode.startswith("config"):
            cfg = self._config_bytes(mode)
            blobs[sha256(cfg)] = cfg
        blobs.update(getattr(self, "_extra", {}))
        if digest not in blobs:
            return self._send(h, 404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        return self._send(h, 200, blobs[digest], {"Docker-Content-Digest": digest})


# ---------------------------------------------------------------------------------------- engine

def fleet_records() -> dict:
    with gzip.open(FLEET) as fh:
        return json.load(fh)["records"]


class _UnixHTTPServer(_Quiet, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


class HostileEngine(_Stoppable):
    """A Docker Engine API on a unix socket (``tcp=True``: on 127.0.0.1) with one fault (``mode``)."""

    def __init__(self, mode: str, sock_dir: Path, *, tcp: bool = False, die_after: int = 12):
        self.mode = mode
        self.rec = fleet_records()
        self.stopping = threading.Event()
        self.requests = 0
        self.die_after = die_after
        self._lock = threading.Lock()
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def address_string(self):
                return "unix"

            def do_GET(self):
                engine._handle(self)

            def do_HEAD(self):
                engine._handle(self)

        if tcp:
            self.server = _QuietTCP(("127.0.0.1", 0), Handler)
            self.host = f"tcp://127.0.0.1:{self.server.server_address[1]}"
        else:
            path = sock_dir / f"{mode}.sock"
            if path.exists():
                path.unlink()
            self.server = _UnixHTTPServer(str(path), Handler)
            self.host = f"unix://{path}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def _send(self, h, status: int, body, ctype: str = "application/json") -> None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Api-Version", "1.41")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _answer(self, path: str):
        """(endpoint name, the recorded answer) for an API path."""
        rec = self.rec
        p = path.split("?", 1)[0]
        if p.startswith("/v1."):
            p = "/" + p.split("/", 2)[2]
        if p == "/_ping":
            return "ping", b"OK"
        if p == "/version":
            return "version", rec["version"]
        if p == "/images/json":
            return "images", rec["image_list"]
        if p == "/containers/json":
            return "containers", rec["container_list"]
        if p == "/system/df":
            return "df", rec["df"]
        parts = p.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "images":
            for r in rec["images"]:
                if r["id"] == parts[1]:
                    return ("inspect", r["inspect"]) if parts[2] == "json" else ("history", r["history"])
            return "missing", None
        if len(parts) == 3 and parts[0] == "containers":
            for c in rec["containers"]:
                if c["id"] == parts[1]:
                    return "container", c["inspect"]
            return "missing", None
        return "missing", None

    def _handle(self, h) -> None:  # noqa: C901 - one branch per mode
        import copy

        with self._lock:
            self.requests += 1
            n = self.requests
        name, value = self._answer(h.path)
        mode = self.mode
        if name == "ping":
            return self._send(h, 200, b"OK", "text/plain")
        if name == "missing":
            return self._send(h, 404, {"message": "No such object"})
        if mode == "diesmidway" and name in ("inspect", "history") and n > self.die_after:
            # the engine goes away: this connection is cut, and nothing answers on the socket any more
            h.close_connection = True
            threading.Thread(target=self.stop, daemon=True).start()
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        value = copy.deepcopy(value)
        target = {"images": "images", "inspect": "inspect", "history": "history", "containers": "containers",
                  "container": "container", "df": "df", "version": "version"}[name]
        hook = MUTATIONS.get(mode)
        if hook is not None and hook[0] == target:
            action = hook[1]
            if action == "hang":
                self.wait(3600)
                h.close_connection = True
                return
            if action == "drip":
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", "1000000")
                h.end_headers()
                while not self.wait(1.0):
                    try:
                        h.wfile.write(b"[")
                        h.wfile.flush()
                    except OSError:
                        return
                return
            if action == "endless":
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Transfer-Encoding", "chunked")
                h.end_headers()
                chunk = b" " * 65536
                try:
                    while not self.stopping.is_set():
                        h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                except OSError:
                    return
                return
            if action == "slow":  # a big engine: a long wait, then the right answer
                if self.wait(3.0):
                    return
                return self._send(h, 200, value)
            if action == "status500":
                return self._send(h, 500, {"message": "snapshot abc does not exist: not found"})
            if isinstance(action, bytes):
                return self._send(h, 200, action)
            value = action(value)
        return self._send(h, 200, value)


def _set(path: tuple, new):
    """A mutation setting ``value[path...] = new`` (the first element of lists is taken)."""
    def apply(value):
        obj = value
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = new
        return value
    return apply


#: mode -> (which answer, what happens to it)
MUTATIONS: dict[str, tuple[str, object]] = {
    "versionlist": ("version", lambda v: [v]),
    "versionstring": ("version", lambda v: "20.10"),
    "versionnumber": ("version", _set(("Version",), 20.10)),
    "imagesdict": ("images", lambda v: {"images": v}),
    "imagesstring": ("images", lambda v: "none"),
    "imagesnull": ("images", lambda v: None),
    "imagesnotjson": ("images", b"[{not json"),
    "imagesnan": ("images", b'[{"Id": "sha256:' + b"a" * 64 + b'", "Size": NaN}]'),
    "imageidshort": ("images", _set((0, "Id"), "sha256:abc")),
    "imageidtraversal": ("images", _set((0, "Id"), "../../containers/json")),
    "imageidnumber": ("images", _set((0, "Id"), 5)),
    "imagesizeneg": ("images", _set((0, "Size"), -5)),
    "imagesizehuge": ("images", _set((0, "Size"), 10**400)),
    "imagesize2e63": ("images", _set((0, "Size"), 2**63)),
    "imagesizefloat": ("images", _set((0, "Size"), 1.5e300)),
    "imagesizestring": ("images", _set((0, "Size"), "12 MB")),
    "imagesharedneg2": ("images", _set((0, "SharedSize"), -2)),
    "imagetagsstring": ("images", _set((0, "RepoTags"), "iv/app:v1")),
    "imagetagsnumbers": ("images", _set((0, "RepoTags"), [1, 2])),
    "imagesduplicate": ("images", lambda v: v + v[:1]),
    "inspectstring": ("inspect", lambda v: "an image"),
    "inspectotherid": ("inspect", _set(("Id",), "sha256:" + "9" * 64)),
    "inspectenvstring": ("inspect", _set(("Config", "Env"), "PATH=/bin")),
    "inspectenvnumbers": ("inspect", _set(("Config", "Env"), [1, None])),
    "inspectlabelslist": ("inspect", _set(("Config", "Labels"), ["a"])),
    "inspectlabelsdeep": ("inspect", _set(("Config", "Labels"), {"a": {"b": {"c": "d"}}})),
    "inspectcmdstring": ("inspect", _set(("Config", "Cmd"), "sh")),
    "inspectlayersbad": ("inspect", _set(("RootFS", "Layers"), ["not-a-digest"])),
    "inspectsizenan": ("inspect", _set(("Size",), float("nan"))),  # json.dumps writes NaN
    "historydict": ("history", lambda v: {"entries": v}),
    "historysizestring": ("history", _set((0, "Size"), "1kB")),
    "historysizeneg": ("history", _set((0, "Size"), -1)),
    "historycreatedbylist": ("history", _set((0, "CreatedBy"), ["RUN", "x"])),
    "containersdict": ("containers", lambda v: {"c": v}),
    "containeridtraversal": ("containers", _set((0, "Id"), "../../../images/json")),
    "containersizerwneg": ("containers", _set((0, "SizeRw"), -9)),
    "containernamesstring": ("containers", _set((0, "Names"), "/web")),
    "containerinspectlist": ("container", lambda v: [v]),
    "dflist": ("df", lambda v: [v]),
    "dflayersneg": ("df", _set(("LayersSize",), -7)),
    "dfimagesstring": ("df", _set(("Images",), "all")),
    "dfimageidnumber": ("df", _set(("Images", 0, "Id"), 5)),
    "dfstatus500": ("df", "status500"),
    "imagesslow": ("images", "slow"),
    "imageshang": ("images", "hang"),
    "imagesdrip": ("images", "drip"),
    "imagesendless": ("images", "endless"),
    "inspecthang": ("inspect", "hang"),
    "versionhang": ("version", "hang"),
    "dfdrip": ("df", "drip"),
}


# ------------------------------------------------------------------------------- cut-off proxy

class CutOffProxy(_Stoppable):
    """Bytes between a client and a real engine's unix socket, unchanged, until ``after`` requests
    have been seen; then every connection is cut and the socket stops accepting (the engine died).

    ``after=None`` never cuts. ``delays`` (``{regex: seconds}``) holds a request whose path
    matches (``re.search``; ``"/images/json$"``, ``"^/version$"`` for the unversioned probe) that
    long before it reaches the engine, so its answer comes that much later; ``delayed`` counts
    the requests held.
    """

    def __init__(self, upstream: str, sock_path: Path, after: int | None = None,
                 delays: dict[str, float] | None = None):
        import re

        self.upstream = upstream.removeprefix("unix://")
        self.path = sock_path
        self.after = after
        self.delays = [(re.compile(k), float(v)) for k, v in (delays or {}).items()]
        self.delayed = 0
        self.seen = 0
        self._short_dir = None
        if len(str(sock_path)) > 100:  # AF_UNIX paths stop at 107 bytes; pytest's tmp_path can be longer
            import tempfile

            self._short_dir = tempfile.mkdtemp(prefix="ivp-", dir="/tmp")
            sock_path = Path(self._short_dir) / "p.sock"
            self.path = sock_path
        self.cut = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        if sock_path.exists():
            sock_path.unlink()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(sock_path))
        self.listener.listen(64)
        self.host = f"unix://{sock_path}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut.is_set():
                client.close()
                return
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.connect(self.upstream)
            with self._lock:
                self._conns += [client, up]
            threading.Thread(target=self._pipe, args=(client, up, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(up, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, counting: bool) -> None:
        try:
            while not self.cut.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if counting:
                    with self._lock:
                        self.seen += data.count(b" HTTP/1.1\r\n")
                        over = self.after is not None and self.seen > self.after
                    if over:
                        self.die()
                        return
                    hold = self._delay_for(data)
                    if hold:
                        with self._lock:
                            self.delayed += 1
                        if self.stopping.wait(hold) or self.cut.is_set():
                            return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _delay_for(self, data: bytes) -> float:
        """The longest delay whose pattern matches the path of a request line in ``data``."""
        import re

        if not self.delays:
            return 0.0
        hold = 0.0
        for m in re.finditer(rb"(?m)^[A-Z]+ (\S+) HTTP/1\.[01]\r$", data):
            path = m.group(1).decode("latin-1").split("?", 1)[0]
            hold = max([hold] + [seconds for pattern, seconds in self.delays if pattern.search(path)])
        return hold

    def die(self) -> None:
        """The engine goes away: every connection is cut, the socket removed."""
        self.cut.set()
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        try:
            self.listener.close()
        except OSError:
            pass
        try:
            os.unlink(self.path)
        except OSError:
            pass
        if self._short_dir is not None:
            try:
                os.rmdir(self._short_dir)
            except OSError:
                pass

    def stop(self) -> None:
        self.stopping.set()
        self.die()


def wait_until(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
