"""Build targets for the Dockerfile conformance recordings: an engine plus a builder.

Four targets: Docker 20.10 (Debian bookworm's docker.io) and Docker 28.5 (Debian sid's packages
unpacked into a cache folder), each with BuildKit and with the classic builder. The generator
(``record_conformance.py``) records what each target does; the live test re-checks a sample.

This module has its own small starter for both daemons (a private dockerd with its own data-root,
exec-root, socket and pidfile under /tmp), because the shared provisioning in tests/_engine.py is
being written at the same time. The 28.5 packages are unpacked once into
``/var/cache/imgviz-tests/docker28`` (or ``IMGVIZ_DOCKER28_DIR``); when that folder is missing the
starter downloads the pinned packages with a private apt configuration, as /work/shared/NOTES.md
describes, under a lock file.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

CLI_2010 = "/usr/bin/docker"
DOCKERD_2010 = "/usr/sbin/dockerd"
BUSYBOX = "/usr/bin/busybox"
CACHE = Path(os.environ.get("IMGVIZ_DOCKER28_DIR", "/var/cache/imgviz-tests/docker28"))
PINS = ["docker.io=28.5.2+dfsg4-5", "containerd=2.1.9+ds1-5", "docker-cli=28.5.2+dfsg4-5",
        "docker-buildx=0.29.1+ds1-4"]
ENGINES = ("20.10", "28.5")
BUILDERS = ("buildkit", "classic")
TARGETS = tuple(f"{e}-{b}" for e in ENGINES for b in BUILDERS)


class Unavailable(RuntimeError):
    """The engine cannot be started here (not root, packages missing, daemon did not answer)."""


class Daemon:
    """A private dockerd of one engine version."""

    def __init__(self, version: str):
        self.version = version
        self.proc: subprocess.Popen | None = None
        self.root: Path | None = None
        self.host = ""
        self.cli = CLI_2010
        self.env_base: dict[str, str] = {}
        self._bases: dict[str, str] = {}

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, timeout: float = 90) -> "Daemon":
        if os.geteuid() != 0:
            raise Unavailable("not root: cannot start a private dockerd")
        self.root = Path(tempfile.mkdtemp(prefix=f"ivdf{self.version.replace('.', '')}-", dir="/tmp"))
        self.host = f"unix://{self.root}/d.sock"
        env = dict(os.environ)
        env.pop("DOCKER_HOST", None)
        env.pop("DOCKER_CONTEXT", None)
        if self.version == "20.10":
            if not Path(DOCKERD_2010).exists() or not Path(CLI_2010).exists():
                raise Unavailable("Debian's docker.io 20.10 is not installed")
            dockerd = DOCKERD_2010
            cfg_dir = self.root / "cfg"
            cfg_dir.mkdir()
        else:
            folder = ensure_docker28()
            dockerd = str(folder / "usr/sbin/dockerd")
            self.cli = str(folder / "usr/bin/docker")
            env["PATH"] = f"{folder}/usr/bin:{folder}/usr/sbin:{env.get('PATH', '/usr/bin:/bin')}"
            cfg_dir = self.root / "cfg"
            (cfg_dir / "cli-plugins").mkdir(parents=True)
            plugin = folder / "cli-plugins/docker-buildx"
            if not plugin.exists():
                plugin = folder / "usr/libexec/docker/cli-plugins/docker-buildx"
            os.symlink(plugin, cfg_dir / "cli-plugins/docker-buildx")
        (self.root / "daemon.json").write_text("{}")
        env["DOCKER_CONFIG"] = str(cfg_dir)
        self.env_base = env
        log = open(self.root / "dockerd.log", "wb")
        self.proc = subprocess.Popen(
            [dockerd, "--config-file", str(self.root / "daemon.json"), "--bridge=none", "--iptables=false",
             "--ip-masq=false", "--ip6tables=false", "--data-root", str(self.root / "data"),
             "--exec-root", str(self.root / "x"), "--pidfile", str(self.root / "pid"), "-H", self.host,
             "--log-level", "warn"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
                self.proc = None
                self.stop()
                raise Unavailable(f"dockerd {self.version} exited:\n{tail}")
            if self.cli_run("version", "--format", "{{.Server.Version}}", check=False).returncode == 0:
                return self
            time.sleep(0.3)
        self.stop()
        raise Unavailable(f"dockerd {self.version} did not answer within {timeout:.0f}s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def crash_reason(self) -> str:
        """The panic line of a daemon that died (dockerd 20.10 panics on a Dockerfile without FROM)."""
        try:
            log = (self.root / "dockerd.log").read_text(errors="replace")
        except OSError:
            return "dockerd exited"
        for line in log.splitlines():
            if line.startswith(("panic:", "fatal error:")):
                return f"dockerd crashed: {line}"
        return "dockerd exited"

    def restart(self) -> None:
        bases = list(self._bases)
        self.stop()
        self._bases = {}
        self.start()
        for tag in bases:
            self.busybox_base(tag)

    def stop(self) -> None:
        if self.proc is not None:
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
            try:
                mounts = Path("/proc/mounts").read_text().splitlines()
            except OSError:
                mounts = []
            targets = [m.split()[1] for m in mounts if m.split()[1].startswith(str(self.root))]
            for t in sorted(targets, key=len, reverse=True):
                subprocess.run(["umount", "-l", t], capture_output=True)
            keep = os.environ.get("IMGVIZ_KEEP_DOCKERD_LOG")
            if keep and (self.root / "dockerd.log").exists():
                shutil.copy(self.root / "dockerd.log", Path(keep) / f"dockerd-{self.version}.log")
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    # -- the CLI -----------------------------------------------------------------------------------
    def env(self, buildkit: bool) -> dict[str, str]:
        env = dict(self.env_base)
        env["DOCKER_HOST"] = self.host
        env["DOCKER_BUILDKIT"] = "1" if buildkit else "0"
        return env

    def cli_run(self, *args, buildkit=True, cwd=None, check=True, input=None, text=True, timeout=600):
        if text and isinstance(input, str):
            input = input.encode()
        proc = subprocess.run([self.cli, *args], cwd=cwd, env=self.env(buildkit), input=input,
                              capture_output=True, timeout=timeout)
        if text:   # build logs may hold bytes that are not UTF-8 (they echo the Dockerfile)
            proc.stdout = proc.stdout.decode("utf-8", "surrogateescape")
            proc.stderr = proc.stderr.decode("utf-8", "surrogateescape")
        if check and proc.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def versions(self) -> dict:
        out = json.loads(self.cli_run("version", "--format", "{{json .}}").stdout)
        info = {"client": out["Client"]["Version"], "server": out["Server"]["Version"]}
        if self.version != "20.10":
            bx = self.cli_run("buildx", "version", check=False)
            info["buildx"] = bx.stdout.strip()
        return info

    def busybox_base(self, tag: str = "imgviz-df/busybox:base") -> str:
        if tag in self._bases:
            return tag
        with tempfile.TemporaryDirectory(prefix="bb-") as tmp:
            root = Path(tmp) / "rootfs"
            (root / "bin").mkdir(parents=True)
            for d in ("tmp", "etc", "root", "out"):
                (root / d).mkdir()
            shutil.copy2(BUSYBOX, root / "bin" / "busybox")
            applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
            for applet in applets:
                if applet != "busybox":
                    (root / "bin" / applet).symlink_to("busybox")
            tar = subprocess.run(["tar", "-C", str(root), "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                                  "--sort=name", "-cf", "-", "."], capture_output=True, check=True).stdout
            self.cli_run("import", "--change", "ENV PATH=/bin", "--change", 'CMD ["sh"]', "-", tag, input=tar,
                         text=False)
        self._bases[tag] = tag
        return tag


class Target:
    """One engine with one builder: build a context, read what the image holds."""

    def __init__(self, daemon: Daemon, builder: str):
        self.daemon = daemon
        self.builder = builder
        self.name = f"{daemon.version}-{builder}"

    @property
    def buildkit(self) -> bool:
        return self.builder == "buildkit"

    def build(self, context: Path, tag: str, dockerfile: str | None = None, args=()) -> tuple[int, str]:
        cmd = ["build", "--network", "none", "-t", tag]
        if self.buildkit:
            cmd += ["--progress", "plain"]
        if dockerfile:
            cmd += ["-f", dockerfile]
        cmd += [*args, str(context)]
        proc = self.daemon.cli_run(*cmd, buildkit=self.buildkit, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def export(self, tag: str) -> dict[str, tarfile.TarInfo | bytes]:
        """The image's file system: {path: bytes for files, TarInfo otherwise}."""
        cid = self.daemon.cli_run("create", tag, "/x").stdout.strip()
        try:
            data = self.daemon.cli_run("export", cid, text=False).stdout
        finally:
            self.daemon.cli_run("rm", cid, check=False)
        out: dict = {}
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            for m in tf.getmembers():
                name = m.name.lstrip("./").rstrip("/")
                if not name:
                    continue
                out[name] = tf.extractfile(m).read() if m.isfile() else m
        return out

    def rmi(self, tag: str) -> None:
        self.daemon.cli_run("rmi", "-f", tag, check=False)


def ensure_docker28() -> Path:
    """The unpacked Docker 28.5 folder; unpack it (pinned packages from Debian sid) when missing."""
    if (CACHE / "usr/sbin/dockerd").exists():
        return CACHE
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise Unavailable("apt-get/dpkg-deb missing: cannot unpack Docker 28.5")
    import fcntl
    import re

    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with open(CACHE.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (CACHE / "usr/sbin/dockerd").exists():
            return CACHE
        src = Path("/etc/apt/sources.list.d/debian.sources").read_text()
        uri = re.search(r"^URIs:\s*(\S+)", src, re.M)
        if not uri:
            raise Unavailable("no Debian mirror URI in /etc/apt/sources.list.d/debian.sources")
        work = CACHE.parent / "apt-sid-dockerfile"
        for d in ("lists/partial", "cache/archives/partial"):
            (work / d).mkdir(parents=True, exist_ok=True)
        (work / "sources.list").write_text(f"deb {uri.group(1)} sid main\n")
        opts = ["-o", f"Dir::Etc::SourceList={work}/sources.list", "-o", "Dir::Etc::SourceParts=/dev/null",
                "-o", f"Dir::State::Lists={work}/lists", "-o", f"Dir::Cache={work}/cache"]
        subprocess.run(["apt-get", *opts, "update"], check=True, capture_output=True)
        debs = work / "debs"
        debs.mkdir(exist_ok=True)
        proc = subprocess.run(["apt-get", *opts, "download", *PINS], cwd=debs, capture_output=True, text=True)
        if proc.returncode != 0:  # pins gone from sid: take what sid has, say so in VERSIONS
            subprocess.run(["apt-get", *opts, "download", *[p.split("=")[0] for p in PINS]], cwd=debs, check=True,
                           capture_output=True)
        tmp = Path(tempfile.mkdtemp(prefix="docker28-", dir=CACHE.parent))
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        (tmp / "VERSIONS").write_text("unpacked: " + " ".join(sorted(p.name for p in debs.glob("*.deb"))) + "\n")
        plug = tmp / "usr/libexec/docker/cli-plugins/docker-buildx"
        if plug.exists():
            (tmp / "cli-plugins").mkdir(exist_ok=True)
            shutil.copy2(plug, tmp / "cli-plugins/docker-buildx")
        tmp.rename(CACHE)
    return CACHE
