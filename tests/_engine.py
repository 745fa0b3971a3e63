"""A real Docker engine for tests: a private dockerd per test session.

Tests that check what the engine does run against a real dockerd. When the session is root and
Debian's dockerd is installed, we start a private one (own data-root, exec-root, socket and pidfile
under a short /tmp folder), so whole-engine numbers (``docker system df``) are exactly ours and
nothing of the user's engine is touched. ``IMGVIZ_TEST_DOCKER_HOST`` points the tests at an engine
you started yourself instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

DOCKER_CLI = "/usr/bin/docker"  # Debian's 20.10 client: speaks both builders
DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
BUSYBOX = "/usr/bin/busybox"


class EngineUnavailableForTests(RuntimeError):
    pass


class Engine:
    """A running engine: its address and a way to drive the docker CLI against it."""

    def __init__(self, host: str, *, proc: subprocess.Popen | None = None, root: Path | None = None):
        self.host = host
        self.proc = proc
        self.root = root
        self._bases: dict[str, str] = {}

    # -- the CLI ---------------------------------------------------------------------------
    def env(self, buildkit: bool = True) -> dict[str, str]:
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.host
        env["DOCKER_BUILDKIT"] = "1" if buildkit else "0"
        env.pop("DOCKER_CONTEXT", None)
        return env

    def docker(self, *args: str, buildkit: bool = True, cwd=None, check: bool = True, input=None,
               timeout: float = 300) -> subprocess.CompletedProcess:
        """Run Debian's docker client against this engine; text output."""
        proc = subprocess.run([DOCKER_CLI, *args], cwd=cwd, env=self.env(buildkit), input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def api(self):
        import docker

        return docker.APIClient(base_url=self.host, version="auto")

    # -- images ----------------------------------------------------------------------------
    def busybox_base(self, tag: str = "imgviz-test/busybox:base") -> str:
        """Import Debian's busybox-static as a tiny base image; returns its ID."""
        if tag in self._bases:
            return self._bases[tag]
        with tempfile.TemporaryDirectory(prefix="bb-") as tmp:
            root = Path(tmp) / "rootfs"
            (root / "bin").mkdir(parents=True)
            for d in ("tmp", "etc", "root"):
                (root / d).mkdir()
            shutil.copy2(BUSYBOX, root / "bin" / "busybox")
            applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
            for applet in applets:
                if applet != "busybox":
                    (root / "bin" / applet).symlink_to("busybox")
            tar = subprocess.run(["tar", "-C", str(root), "--owner=0", "--group=0", "--numeric-owner",
                                  "--mtime=@0", "--sort=name", "-cf", "-", "."], capture_output=True, check=True).stdout
            proc = subprocess.run([DOCKER_CLI, "import", "--change", "ENV PATH=/bin", "--change", 'CMD ["sh"]',
                                   "-", tag], input=tar, env=self.env(), capture_output=True, check=True)
        image_id = proc.stdout.decode().strip()
        self._bases[tag] = image_id
        return image_id

    def build(self, context: Path, tag: str, *, buildkit: bool = True, args: tuple[str, ...] = ()) -> str:
        """Build ``context`` with the chosen builder (no network, no pull); returns the build log."""
        proc = self.docker("build", "--network", "none", "--progress", "plain", "-t", tag, *args, str(context),
                           buildkit=buildkit) if buildkit else \
            self.docker("build", "--network", "none", "-t", tag, *args, str(context), buildkit=False)
        return proc.stdout + proc.stderr

    # -- lifecycle -------------------------------------------------------------------------
    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None
        if self.root is not None:
            _unmount_below(self.root)
            shutil.rmtree(self.root, ignore_errors=True)


def _unmount_below(root: Path) -> None:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return
    targets = [line.split()[1] for line in mounts if line.split()[1].startswith(str(root))]
    for target in sorted(targets, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True)


def ping(host: str, timeout: float = 2) -> bool:
    try:
        import docker

        api = docker.APIClient(base_url=host, version="auto", timeout=timeout)
        api.ping()
        api.close()
        return True
    except Exception:
        return False


def start_private_engine(timeout: float = 90) -> Engine:
    """Start a private dockerd; raise EngineUnavailableForTests with the reason when we cannot."""
    if os.geteuid() != 0:
        raise EngineUnavailableForTests("not root: cannot start a private dockerd")
    if not Path(DOCKERD).exists() or not Path(DOCKER_CLI).exists():
        raise EngineUnavailableForTests("Debian's docker.io is not installed (dockerd, /usr/bin/docker)")
    root = Path(tempfile.mkdtemp(prefix="ivd-", dir="/tmp"))
    host = f"unix://{root}/d.sock"
    log = open(root / "dockerd.log", "wb")
    proc = subprocess.Popen(
        [DOCKERD, "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false",
         "--data-root", str(root / "data"), "--exec-root", str(root / "x"), "--pidfile", str(root / "pid"),
         "-H", host, "--log-level", "warn"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    engine = Engine(host, proc=proc, root=root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (root / "dockerd.log").read_text(errors="replace")[-2000:]
            engine.proc = None
            raise EngineUnavailableForTests(f"dockerd exited ({proc.returncode}):\n{tail}")
        if ping(host):
            return engine
        time.sleep(0.3)
    engine.stop()
    raise EngineUnavailableForTests(f"dockerd did not answer at {host} within {timeout:.0f}s")
