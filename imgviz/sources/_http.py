"""A light HTTP/1.1 client for a Docker engine: ``GET`` over the engine's unix socket, or over plain TCP
(``tcp://HOST:PORT``, ``http://HOST:PORT``), written on :mod:`socket` alone.

Why not the docker SDK here: importing it costs about 0.14 s, and each of its calls adds a
requests/urllib3 round of its own; a question about one image is two requests, so start-up was most
of the answer's time. Why not :mod:`http.client`: it imports the ``email`` package and :mod:`ssl`
(40-60 ms more, here as much as the docker CLI needs for the whole question). The engine speaks
plain HTTP/1.1 with ``Content-Length`` or chunked bodies; that is all this module reads: the status
line, the headers (bounded), the body read as it arrives and refused past a size, with the
connection kept open for the next request (a small pool, so several threads can ask at once).

TLS (``https://``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``) and ``ssh://`` engines are not
spoken here: :func:`speaks` says so, and the engine source keeps the docker SDK for them.

Errors are the caller's to word: connection failures raise :class:`OSError`, an answer that is not
HTTP raises :class:`ProtocolError`, an answer past ``max_bytes`` raises :class:`TooBig`, a
cancelled read raises :class:`Cancelled`.
"""

from __future__ import annotations

import _socket  # the C module: socket.py builds its enums (AddressFamily, SocketKind...) at import, 2 ms
import io
import os
import re
import threading
import time

from .._lazy import Pattern

_UNIX = re.compile(r"^unix://(/[^\x00]*)$")
_TCP = Pattern(r"^(?:tcp|http)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?/?$")

#: the docker CLI's default port for a plain-TCP engine address without one
DEFAULT_TCP_PORT = 2375
#: the longest status or header line, and the most header lines, read before the answer is refused
MAX_LINE = 65536
MAX_HEADERS = 200
CHUNK = 1 << 16


class TooBig(Exception):
    """The answer is longer than the caller allows."""


class Cancelled(Exception):
    """The caller stopped waiting for this answer."""


class ProtocolError(Exception):
    """What came back is not an HTTP/1.x answer."""


class _Closed(ProtocolError):
    """The connection ended before an answer began (a kept-open connection the engine closed)."""


def speaks(address: str, environ=None) -> bool:
    """True when this transport can talk to ``address``: a unix socket, or plain TCP with no TLS
    asked for in the environment (the docker SDK's rule: ``DOCKER_TLS_VERIFY`` not empty, or
    ``DOCKER_CERT_PATH`` set, means TLS)."""
    env = os.environ if environ is None else environ
    if _UNIX.match(address):
        return True
    if _TCP.match(address):
        return not (env.get("DOCKER_TLS_VERIFY") or env.get("DOCKER_CERT_PATH"))
    return False


class _Reader(io.RawIOBase):
    """A connected socket as a raw stream, read into a buffer (what ``socket.makefile("rb")`` gives,
    without importing socket.py); a read timeout raises :class:`TimeoutError` ("timed out")."""

    def __init__(self, sock):
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)


class _Conn:
    """One open connection and its buffered reader."""

    def __init__(self, sock):
        self.sock = sock
        self.fp = io.BufferedReader(_Reader(sock), CHUNK)

    def close(self) -> None:
        try:
            self.fp.close()
        finally:
            self.sock.close()

    def line(self) -> bytes:
        text = self.fp.readline(MAX_LINE + 1)
        if len(text) > MAX_LINE:
            raise ProtocolError("a header line longer than 64 KiB")
        return text

    def exactly(self, n: int) -> bytes:
        data = self.fp.read(n)
        if len(data) != n:
            raise ProtocolError("the connection ended inside the answer")
        return data


class Transport:
    """GET requests to one engine address, over a pool of kept-open connections.

    Parameters
    ----------
    address : str
        ``unix:///PATH`` or ``tcp://HOST[:PORT]`` / ``http://HOST[:PORT]`` (see :func:`speaks`).
    connect_timeout : float
        Longest wait to open a connection.
    """

    def __init__(self, address: str, *, connect_timeout: float):
        self.address = address
        self.connect_timeout = float(connect_timeout)
        m = _UNIX.match(address)
        if m:
            self._family, self._target, self._host = _socket.AF_UNIX, m.group(1), "localhost"
        else:
            m = _TCP.match(address)
            if not m:
                raise ValueError(f"{address}: not an address this transport speaks")
            host = m.group(1).strip("[]")
            port = int(m.group(2) or DEFAULT_TCP_PORT)
            self._family, self._target = None, (host, port)
            self._host = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self._idle: list[_Conn] = []
        self._lock = threading.Lock()
        self._closed = False

    def _open(self) -> _Conn:
        if self._family == _socket.AF_UNIX:
            for attempt in range(6):
                sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
                try:
                    sock.settimeout(self.connect_timeout)
                    sock.connect(self._target)
                    break
                except BlockingIOError:
                    # a unix socket whose listen queue is full says EAGAIN at once (TCP would wait):
                    # several threads connecting together to a server with a short queue
                    sock.close()
                    if attempt == 5:
                        raise
                    time.sleep(0.01 * (attempt + 1))
                except BaseException:
                    sock.close()
                    raise
        else:
            import socket  # here: its name resolution (create_connection) for TCP engines

            sock = socket.create_connection(self._target, timeout=self.connect_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Conn(sock)

    def _take(self) -> tuple[_Conn, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._open(), False

    def _give_back(self, conn: _Conn) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < 16:
                self._idle.append(conn)
                return
        conn.close()

    def get(self, path: str, *, read_timeout: float, max_bytes: int,
            cancel: threading.Event | None = None) -> tuple[int, bytes]:
        """``GET path``: ``(status, body)``. The body is read as it arrives, at most ``max_bytes``
        (:class:`TooBig` past that); ``read_timeout`` bounds each wait for bytes (the caller bounds
        the whole answer). A kept-open connection the engine closed meanwhile is replaced once."""
        status, body, _headers = self.get_with_headers(path, read_timeout=read_timeout, max_bytes=max_bytes,
                                                       cancel=cancel)
        return status, body

    def get_with_headers(self, path: str, *, read_timeout: float, max_bytes: int,
                         cancel: threading.Event | None = None) -> tuple[int, bytes, dict[str, str]]:
        """:meth:`get`, and the answer's headers (names in lower case), e.g. ``/_ping``'s ``Api-Version``."""
        request = (f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\nUser-Agent: imgviz\r\n"
                   f"Accept: application/json\r\n\r\n").encode("ascii")
        for attempt in (0, 1):
            conn, reused = self._take()
            try:
                conn.sock.settimeout(read_timeout)
                conn.sock.sendall(request)
                status, keep, headers = _answer(conn, max_bytes, cancel)
            except (_Closed, BrokenPipeError, ConnectionResetError):
                conn.close()
                if reused and attempt == 0:
                    continue  # the engine closed an idle connection: a GET can be asked again
                raise
            except BaseException:
                conn.close()
                raise
            body = status[1]
            if keep:
                self._give_back(conn)
            else:
                conn.close()
            return status[0], body, headers
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


_STATUS = re.compile(rb"^HTTP/1\.([01]) ([0-9]{3})(?: [^\r\n]*)?\r?\n$")


def _answer(conn: _Conn, max_bytes: int, cancel) -> tuple[tuple[int, bytes], bool, dict[str, str]]:
    """Read one answer: ((status, body), whether the connection can be used again, the headers)."""
    first = conn.line()
    if not first:
        raise _Closed("the connection closed before an answer")
    m = _STATUS.match(first)
    if not m:
        raise ProtocolError(f"not an HTTP answer: {first[:40]!r}")
    minor, status = m.group(1), int(m.group(2))
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        text = conn.line()
        if text in (b"\r\n", b"\n"):
            break
        if not text:
            raise ProtocolError("the connection ended inside the headers")
        name, sep, value = text.decode("latin-1").partition(":")
        if not sep:
            raise ProtocolError(f"not a header line: {text[:40]!r}")
        headers[name.strip().lower()] = value.strip()
    else:
        raise ProtocolError(f"more than {MAX_HEADERS} header lines")
    keep = minor == b"1" and "close" not in headers.get("connection", "").lower()
    body = bytearray()

    def add(data: bytes) -> None:
        body.extend(data)
        if len(body) > max_bytes:
            raise TooBig(len(body))
        if cancel is not None and cancel.is_set():
            raise Cancelled()

    if status in (204, 304) or 100 <= status < 200:
        return (status, b""), keep, headers
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = conn.line().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ProtocolError(f"not a chunk size: {size_line[:20]!r}") from None
            if size == 0:
                while conn.line() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                break
            while size:
                part = conn.exactly(min(size, CHUNK))
                size -= len(part)
                add(part)
            conn.exactly(2)  # the CRLF after a chunk
    elif "content-length" in headers:
        try:
            left = int(headers["content-length"])
        except ValueError:
            raise ProtocolError("Content-Length is not a number") from None
        if left < 0:
            raise ProtocolError("Content-Length is negative")
        if left > max_bytes:
            raise TooBig(left)
        while left:
            part = conn.exactly(min(left, CHUNK))
            left -= len(part)
            add(part)
    else:  # the body ends with the connection
        keep = False
        while True:
            part = conn.fp.read1(CHUNK)
            if not part:
                break
            add(part)
    return (status, bytes(body)), keep, headers
