"""A light HTTP/1.1 transport to a Docker engine: the standard library's ``http.client`` over the
engine's unix socket, or over plain TCP (``tcp://HOST:PORT``, ``http://HOST:PORT``).

Why not the docker SDK here: importing it costs about 0.14 s, and each of its calls adds a
requests/urllib3 round of its own; a question about one image is two requests, so start-up is most
of the answer's time. This module knows only what :mod:`imgviz.sources.engine` asks of it: ``GET``
a path, get back the status and the body, read as it arrives and refused past a size, with the
connection kept open for the next request (a small pool, so several threads can ask at once).

TLS (``https://``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``) and ``ssh://`` engines are not
spoken here: :func:`speaks` says so, and the engine source keeps the docker SDK for them.

Errors are the caller's to word: connection failures raise :class:`OSError` (or
:class:`http.client.HTTPException`), an answer past ``max_bytes`` raises :class:`TooBig`, a
cancelled read raises :class:`Cancelled`.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import threading
from typing import Callable

_UNIX = re.compile(r"^unix://(/[^\x00]*)$")
_TCP = re.compile(r"^(?:tcp|http)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?/?$")

#: the docker CLI's default port for a plain-TCP engine address without one
DEFAULT_TCP_PORT = 2375


class TooBig(Exception):
    """The answer is longer than the caller allows."""


class Cancelled(Exception):
    """The caller stopped waiting for this answer."""


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


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


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
            path = m.group(1)
            self._make: Callable[[], http.client.HTTPConnection] = \
                lambda: _UnixConnection(path, self.connect_timeout)
        else:
            m = _TCP.match(address)
            if not m:
                raise ValueError(f"{address}: not an address this transport speaks")
            host = m.group(1).strip("[]")
            port = int(m.group(2) or DEFAULT_TCP_PORT)
            self._make = lambda: http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        conn = self._make()
        conn.connect()
        return conn, False

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
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
        for attempt in (0, 1):
            conn, reused = self._take()
            try:
                conn.sock.settimeout(read_timeout)
                conn.request("GET", path, headers={"User-Agent": "imgviz", "Accept": "application/json"})
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                if reused and attempt == 0:
                    continue  # the engine closed an idle connection: a GET can be asked again
                raise
            except BaseException:
                conn.close()
                raise
            try:
                body = bytearray()
                while True:
                    chunk = resp.read(1 << 16)  # read1 would not mark the answer done at its length
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > max_bytes:
                        raise TooBig(len(body))
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
            except BaseException:
                conn.close()
                raise
            if resp.will_close or not resp.isclosed():
                conn.close()
            else:
                self._give_back(conn)
            return resp.status, bytes(body)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
