"""The light engine transport (imgviz/sources/_http.py) against a raw socket server of ours that
answers each request with the bytes a case gives: the framings an engine uses (Content-Length,
chunked, close-delimited), kept-open connections the server drops, and answers that are not HTTP.
The real engines are the other half of its proof (test_engine_live, test_engine_targeted, the fuzz
corpus's hostile engines)."""

from __future__ import annotations

import socket
import threading

import pytest

from imgviz.sources import _http


class RawServer:
    """A unix-socket server: for the n-th request it reads the request head, then sends
    ``answers[n]`` (bytes), and closes the connection after it when ``close_after`` holds n."""

    def __init__(self, path: str, answers: list[bytes], close_after: set[int] = frozenset()):
        self.answers, self.close_after = answers, set(close_after)
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.host = f"unix://{path}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                n = len(self.requests)
                self.requests.append(head)
                conn.sendall(self.answers[n])
                if n in self.close_after:
                    return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server(tmp_path):
    made = []

    def start(answers, close_after=()):
        s = RawServer(str(tmp_path / f"s{len(made)}.sock"), answers, set(close_after))
        made.append(s)
        return s
    yield start
    for s in made:
        s.close()


def _get(t: _http.Transport, path: str = "/v1.41/version", max_bytes: int = 1 << 20):
    return t.get(path, read_timeout=5, max_bytes=max_bytes)


def test_framings_and_kept_open_connections(server):
    s = server([
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}',
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\n[1,\r\n2\r\n2]\r\n0\r\nX-Trailer: y\r\n\r\n',
        b'HTTP/1.1 404 Not Found\r\nContent-Length: 30\r\n\r\n{"message":"No such image: x"}',
        b'HTTP/1.0 200 OK\r\n\r\n"ends with the connection"',
    ], close_after={3})
    t = _http.Transport(s.host, connect_timeout=2)
    assert _get(t) == (200, b'{"a":1}')
    assert _get(t, "/v1.41/images/json") == (200, b"[1,2]")
    assert _get(t, "/v1.41/images/x/json") == (404, b'{"message":"No such image: x"}')
    assert _get(t) == (200, b'"ends with the connection"')
    assert s.connections == 1  # one connection kept open for all four
    assert s.requests[1].startswith(b"GET /v1.41/images/json HTTP/1.1\r\nHost: localhost\r\n")
    t.close()


def test_a_kept_open_connection_the_engine_dropped_is_replaced_once(server):
    ok = b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'
    s = server([ok, ok], close_after={0})
    t = _http.Transport(s.host, connect_timeout=2)
    assert _get(t) == (200, b"{}")
    assert _get(t) == (200, b"{}")  # the idle connection was closed by the server: asked again on a new one
    assert s.connections == 2 and len(s.requests) == 2
    t.close()


@pytest.mark.parametrize("answer, error", [
    (b"SSH-2.0-OpenSSH\r\n", "not an HTTP answer"),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", "longer than 64 KiB"),
    (b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 300 + b"\r\n", "more than 200 header lines"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not a chunk size"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "ended inside the answer"),
])
def test_answers_that_are_not_http(server, answer, error):
    s = server([answer], close_after={0})
    t = _http.Transport(s.host, connect_timeout=2)
    with pytest.raises(_http.ProtocolError, match=error):
        _get(t)
    t.close()


def test_an_answer_past_its_limit_is_refused_before_it_is_read(server):
    s = server([b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"10000\r\n" + b"x" * 65536 + b"\r\n" * 3])
    t = _http.Transport(s.host, connect_timeout=2)
    with pytest.raises(_http.TooBig):
        _get(t, max_bytes=1000)
    with pytest.raises(_http.TooBig):
        _get(t, max_bytes=1000)
    t.close()


def test_what_it_speaks():
    assert _http.speaks("unix:///var/run/docker.sock", {})
    assert _http.speaks("tcp://127.0.0.1:2375", {}) and _http.speaks("http://127.0.0.1:2375", {})
    assert not _http.speaks("tcp://127.0.0.1:2376", {"DOCKER_TLS_VERIFY": "1"})
    assert not _http.speaks("tcp://127.0.0.1:2376", {"DOCKER_CERT_PATH": "/certs"})
    assert not _http.speaks("https://127.0.0.1:2376", {}) and not _http.speaks("ssh://me@127.0.0.1", {})


def test_nothing_listening_is_an_os_error(tmp_path):
    t = _http.Transport(f"unix://{tmp_path}/none.sock", connect_timeout=1)
    with pytest.raises(FileNotFoundError):
        _get(t)


def test_the_light_transport_and_the_docker_sdk_collect_the_same_records(tmp_path):
    """The engine of tests/fuzz/_servers.py answering what a real engine recorded: collected over
    the light transport and over the docker SDK (what TLS and ssh engines use), the records are equal."""
    from imgviz.sources.engine import collect, connect, connect_sdk

    from ..fuzz._servers import HostileEngine

    eng = HostileEngine("valid", tmp_path)
    try:
        sdk = connect_sdk(eng.host)
        assert type(sdk).__name__ == "APIClient"
        # 4 at once: this server's listen queue holds 5, and the SDK's unix connections do not retry
        # the EAGAIN a full queue answers (dockerd's queue is the kernel's somaxconn)
        over_sdk = collect(sdk, host=eng.host, progress=False, workers=4)
        light = connect(eng.host)
        assert isinstance(light.transport, _http.Transport)
        over_light = collect(light, host=eng.host, progress=False)
        assert over_light.complete and len(over_light.images) >= 9
        assert over_sdk.complete and not over_sdk.skipped, over_sdk.skipped
        assert not over_light.skipped, over_light.skipped
        for key, value in over_sdk.records.items():
            if key == "images":
                for a, b in zip(value, over_light.records[key]):
                    assert a == b, {k: (str(a[k])[:400], str(b[k])[:400]) for k in a if a[k] != b[k]}
            assert over_light.records[key] == value, key
    finally:
        eng.stop()
