"""A real registry for tests: Debian's ``docker-registry`` (distribution 2.8) on 127.0.0.1.

``start_registry()`` writes a config with a temporary storage folder and a free loopback port,
optionally with htpasswd (bcrypt) authentication, starts ``docker-registry serve`` in its own
process group and waits until ``/v2/`` answers. Only 127.0.0.1 is ever used; the engine treats
127.0.0.0/8 as an insecure registry, so pushes and pulls go over plain HTTP.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
HTPASSWD_BIN = shutil.which("htpasswd") or "/usr/bin/htpasswd"
TEST_USER = "ivtest"


class Registry:
    def __init__(self, addr: str, proc: subprocess.Popen, root: Path, user: str | None = None,
                 password: str | None = None):
        self.addr = addr
        self.proc = proc
        self.root = root
        self.user = user
        self.password = password

    def log_lines(self) -> list[str]:
        return (self.root / "registry.log").read_text(errors="replace").splitlines()

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.user, self.password) if self.user else None

    def ref(self, name: str) -> str:
        return f"{self.addr}/{name}"

    def stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(*, with_auth: bool = False, access_log: bool = False, timeout: float = 30) -> Registry:
    """Start a registry; ``access_log`` writes one combined-log line per request to ``root/registry.log``."""
    if not Path(REGISTRY_BIN).exists():
        raise RuntimeError("Debian's docker-registry is not installed")
    root = Path(tempfile.mkdtemp(prefix="ivreg-", dir="/tmp"))
    port = free_port()
    addr = f"127.0.0.1:{port}"
    auth_block = ""
    user = password = None
    if with_auth:
        if not Path(HTPASSWD_BIN).exists():
            raise RuntimeError("htpasswd (Debian's apache2-utils) is not installed")
        user, password = TEST_USER, os.urandom(12).hex()
        line = subprocess.run([HTPASSWD_BIN, "-Bbn", user, password], capture_output=True, text=True,
                              check=True).stdout.strip()
        (root / "htpasswd").write_text(line + "\n")
        auth_block = f"auth:\n  htpasswd:\n    realm: imgviz-test\n    path: {root}/htpasswd\n"
    (root / "config.yml").write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root}/data\n  delete:\n    enabled: true\n"
        f"http:\n  addr: {addr}\n"
        f"log:\n  level: warn\n  accesslog:\n    disabled: {'false' if access_log else 'true'}\n"
        + auth_block)
    log = open(root / "registry.log", "wb")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(root / "config.yml")], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    reg = Registry(addr, proc, root, user, password)
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (root / "registry.log").read_text(errors="replace")[-1500:]
            reg.proc = None
            reg.stop()
            raise RuntimeError(f"docker-registry exited ({proc.returncode}): {tail}")
        try:
            if httpx.get(f"http://{addr}/v2/", timeout=1).status_code in (200, 401):
                return reg
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    reg.stop()
    raise RuntimeError(f"docker-registry did not answer at {addr}")


def _unavailable(reason: str):
    if os.environ.get("CI") or os.environ.get("IMGVIZ_REQUIRE_ENGINE"):
        pytest.fail(f"a registry is required here: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def registry():
    """An anonymous registry on a free 127.0.0.1 port, for the whole session."""
    try:
        reg = start_registry()
    except RuntimeError as exc:
        _unavailable(str(exc))
        return
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def auth_registry():
    """A registry with htpasswd (bcrypt) basic authentication."""
    try:
        reg = start_registry(with_auth=True)
    except RuntimeError as exc:
        _unavailable(str(exc))
        return
    try:
        yield reg
    finally:
        reg.stop()


def push(engine, image: str, reg: Registry, name: str, *, config_dir: Path | None = None) -> str:
    """Tag ``image`` as ``reg/name`` and push it with the real engine; returns the pushed reference.

    With an auth registry, ``docker login`` writes to ``config_dir`` (never the user's config).
    """
    target = reg.ref(name)
    engine.docker("tag", image, target)
    args = ["--config", str(config_dir)] if config_dir else []
    if reg.user:
        assert config_dir is not None, "an auth registry needs a private docker config dir"
        engine.docker(*args, "login", "-u", reg.user, "--password-stdin", reg.addr, input=reg.password)
    engine.docker(*args, "push", target)
    return target
