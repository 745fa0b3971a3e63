"""Real container engines for tests: each kind started privately, behind one small interface.

Kinds (``KINDS``), each a class below:

======================  ========================================================================
``docker20``            Debian bookworm's dockerd 20.10 (overlay2), driven by Debian's
                        ``/usr/bin/docker`` 20.10 (BuildKit with DOCKER_BUILDKIT=1, classic with 0)
``docker28``            Docker Engine 28.5 from Debian sid, unpacked by tests/provision.sh into
                        ``$IMGVIZ_TEST_CACHE/docker28`` (overlay2); its own 28.5 client with the
                        buildx plugin in a private DOCKER_CONFIG (classic: DOCKER_BUILDKIT=0)
``docker28-containerd`` the same engine with the containerd image store
                        (``{"features": {"containerd-snapshotter": true}}``)
``podman``              bookworm's podman 4.3 serving the Docker-compatible API
                        (``podman system service``) with its own --root/--runroot; driven by
                        the 20.10 docker client (classic builds run buildah; no BuildKit)
======================  ========================================================================

Every engine gets its own folder under /tmp (data, exec root, socket, pidfile, logs), so
whole-engine numbers (``docker system df``) are exactly the test's and nothing of the machine's
engines or storage is touched. ``start_private_engine(kind)`` starts one; ``Engine.stop()``
stops it and removes its folder.

Engines started elsewhere: ``IMGVIZ_TEST_DOCKER_HOST`` names a 20.10 engine (as before);
``IMGVIZ_TEST_ENGINE_HOSTS="kind=unix:///...,kind=..."`` names one engine per kind (.ci/run may
hand pre-started engines to the tests this way); ``attach(kind, host)`` wraps one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

KINDS = ("docker20", "docker28", "docker28-containerd", "podman")
CACHE = Path(os.environ.get("IMGVIZ_TEST_CACHE", "/var/cache/imgviz-tests"))
D28 = CACHE / "docker28"
BUSYBOX = "/usr/bin/busybox"
DOCKER20_CLI = "/usr/bin/docker"  # Debian's 20.10 client: speaks both builders
DOCKER_CLI = DOCKER20_CLI  # (older name, kept for callers)
_DAEMON_FLAGS = ["--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false"]


class EngineUnavailableForTests(RuntimeError):
    """This engine kind cannot run here (reason in the message)."""


class BuilderUnavailable(RuntimeError):
    """The engine has no such builder (reason in the message)."""


class Engine:
    """A running engine: its address, its own CLI, how to import a base and build.

    Subclasses say what differs per kind: the daemon command line, the client and its
    environment, and which builders exist (``builders``: name -> None, or why it is missing).
    """

    kind = "?"
    short = "e"  # folder prefix: unix socket paths must stay short
    cli = DOCKER20_CLI
    builders: dict[str, str | None] = {"buildkit": None, "classic": None}

    def __init__(self, host: str, *, proc: subprocess.Popen | None = None, root: Path | None = None):
        self.host = host
        self.proc = proc
        self.root = root
        self._bases: dict[str, str] = {}
        self._info: dict | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} at {self.host}>"

    # -- what this kind is -------------------------------------------------------------------
    @classmethod
    def unavailable(cls) -> str | None:
        """Why this kind cannot be started on this machine, or None."""
        return None

    @property
    def default_builder(self) -> str:
        return "buildkit" if self.builders.get("buildkit") is None else "classic"

    def builder_missing(self, builder: str) -> str | None:
        """None when ``builder`` ("buildkit"/"classic") exists on this engine, else why not."""
        return self.builders.get(builder, f"unknown builder {builder!r}")

    def info(self) -> dict:
        """The engine's /info (cached): ServerVersion, Driver, DriverStatus..."""
        if self._info is None:
            api = self.api()
            try:
                self._info = api.info()
                self._info["ApiVersion"] = api.version().get("ApiVersion")
            finally:
                api.close()
        return self._info

    # -- the CLI -------------------------------------------------------------------------------
    def env(self, buildkit: bool = True) -> dict[str, str]:
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.host
        env["DOCKER_BUILDKIT"] = "1" if buildkit else "0"
        env.pop("DOCKER_CONTEXT", None)
        return env

    def docker(self, *args: str, buildkit: bool = True, cwd=None, check: bool = True, input=None,
               timeout: float = 300) -> subprocess.CompletedProcess:
        """Run this engine's docker client; text output (bytes when ``input`` is bytes).

        ``system df`` is run again (up to 4 more times over about 5 s) while the containerd store
        answers it "snapshot ... does not exist" (see :meth:`df`): the engine's answer a moment
        later is the one a check compares with."""
        text = not isinstance(input, bytes)
        for attempt in range(1, 6):
            proc = subprocess.run([self.cli, *args], cwd=cwd, env=self.env(buildkit), input=input,
                                  capture_output=True, text=text, timeout=timeout)
            if proc.returncode == 0 or args[:2] != ("system", "df") or attempt == 5 \
                    or not ("snapshot" in proc.stderr and "does not exist" in proc.stderr):
                break
            time.sleep(0.5 * attempt)
        if check and proc.returncode != 0:
            out, err = (proc.stdout, proc.stderr) if text else (proc.stdout.decode(errors="replace"),
                                                                 proc.stderr.decode(errors="replace"))
            raise AssertionError(f"{self.kind}: docker {' '.join(args)} failed ({proc.returncode}):\n{out}\n{err}")
        return proc

    def api(self):
        import docker

        return docker.APIClient(base_url=self.host, version="auto")

    def df(self, tries: int = 5) -> dict:
        """The engine's own ``/system/df`` answer (the docker SDK, not imgviz's transport).

        Docker 28's containerd store answers 404 "snapshot ... does not exist" while a snapshot it
        counts is being removed (another test's clean-up in the same engine), and in full a moment
        later; ``docker system df`` fails the same way then. Asked again, up to ``tries`` times
        over about 5 s, as imgviz's own collection does (``engine._disk_usage``). Any other error,
        or this one lasting, is raised."""
        import itertools

        import docker

        for attempt in itertools.count(1):
            api = self.api()
            try:
                return api.df()
            except docker.errors.NotFound as exc:
                if attempt == tries or "snapshot" not in str(exc):
                    raise
            finally:
                api.close()
            time.sleep(0.5 * attempt)

    # -- images --------------------------------------------------------------------------------
    def import_tar(self, tar: bytes, tag: str, *changes: str) -> str:
        """``docker import`` a root file system tar as ``tag``; returns the image ID."""
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        self.docker(*args, "-", tag, input=tar)
        return self.image_id(tag)

    def image_id(self, ref: str) -> str:
        return self.docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip()

    def busybox_base(self, tag: str = "imgviz-test/busybox:base") -> str:
        """Import Debian's busybox-static as a tiny base image; returns its ID."""
        if tag in self._bases:
            return self._bases[tag]
        image_id = self.import_tar(busybox_rootfs_tar(), tag, "ENV PATH=/bin", 'CMD ["sh"]')
        self._bases[tag] = image_id
        return image_id

    def build(self, context: Path, tag: str, *, buildkit: bool | None = None, args: tuple[str, ...] = ()) -> str:
        """Build ``context`` (no network, no pull); returns the build log.

        ``buildkit=None`` takes the engine's default builder (BuildKit where there is one)."""
        builder = self.default_builder if buildkit is None else ("buildkit" if buildkit else "classic")
        missing = self.builder_missing(builder)
        if missing:
            raise BuilderUnavailable(f"{self.kind}: {missing}")
        cmd = ["build", "--network", "none", "-t", tag, *args, str(context)]
        if builder == "buildkit":
            cmd[1:1] = ["--progress", "plain"]
        proc = self.docker(*cmd, buildkit=builder == "buildkit")
        return proc.stdout + proc.stderr

    def skopeo_source(self, ref: str, workdir: Path) -> list[str]:
        """skopeo arguments naming ``ref`` of this engine as a copy source.

        skopeo 1.9 (bookworm) reads ``docker-daemon:`` with API 1.22, which Docker 28 refuses
        ("Minimum supported API version is 1.24"; DOCKER_MIN_API_VERSION cannot go below 1.24
        there): other engines hand skopeo a ``docker save`` archive of the same image."""
        return ["--src-daemon-host", self.host, f"docker-daemon:{ref}"]

    # -- lifecycle -----------------------------------------------------------------------------
    @classmethod
    def command(cls, root: Path, host: str) -> tuple[list[str], dict[str, str]]:
        """The daemon's command line and environment for a private engine in ``root``."""
        raise NotImplementedError

    @classmethod
    def start(cls, timeout: float = 90) -> "Engine":
        """Start a private engine of this kind; EngineUnavailableForTests with the reason if not."""
        if os.geteuid() != 0:
            raise EngineUnavailableForTests(f"{cls.kind}: not root: cannot start a private engine")
        why = cls.unavailable()
        if why:
            raise EngineUnavailableForTests(f"{cls.kind}: {why}")
        # short: a unix socket path must stay under 108 bytes
        root = Path(tempfile.mkdtemp(prefix=f"iv{cls.short}-", dir="/tmp"))
        host = f"unix://{root}/d.sock"
        cmd, env = cls.command(root, host)
        with open(root / "daemon.log", "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        engine = cls(host, proc=proc, root=root)
        engine.prepare_client()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (root / "daemon.log").read_text(errors="replace")[-2000:]
                engine.proc = None
                engine.stop()
                raise EngineUnavailableForTests(f"{cls.kind}: the daemon exited ({proc.returncode}):\n{tail}")
            if ping(host):
                return engine
            time.sleep(0.2)
        engine.stop()
        raise EngineUnavailableForTests(f"{cls.kind}: the daemon did not answer at {host} within {timeout:.0f}s")

    def prepare_client(self) -> None:
        """Set up what the client needs (a private DOCKER_CONFIG...); nothing by default."""

    def sibling(self) -> "Engine":
        """Another private engine of the same kind (a second host for pull tests...)."""
        return type(self).start()

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
            self._cleanup_processes()
        if self.root is not None:
            _unmount_below(self.root)
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _cleanup_processes(self) -> None:
        """Stop what the daemon left behind (container shims...) that still lives in its folder."""
        if self.root is None:
            return
        for pid in _pids_mentioning(str(self.root)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Docker20(Engine):
    """Debian bookworm's docker.io 20.10 (API 1.41), overlay2, with Debian's 20.10 client."""

    kind = "docker20"
    short = "d20"
    cli = DOCKER20_CLI
    dockerd = shutil.which("dockerd", path="/usr/sbin:/usr/bin") or "/usr/sbin/dockerd"

    @classmethod
    def unavailable(cls):
        if not Path(cls.dockerd).exists() or not Path(cls.cli).exists():
            return "Debian's docker.io is not installed (/usr/sbin/dockerd, /usr/bin/docker)"
        return None

    @classmethod
    def command(cls, root, host):
        return ([cls.dockerd, *_DAEMON_FLAGS, "--data-root", str(root / "data"), "--exec-root", str(root / "x"),
                 "--pidfile", str(root / "pid"), "-H", host, "--log-level", "warn"], dict(os.environ))


class Docker28(Engine):
    """Docker Engine 28.5 (Debian sid's packages, unpacked), overlay2, with its own 28.5 client."""

    kind = "docker28"
    short = "d28"
    cli = str(D28 / "usr/bin/docker")
    daemon_config: dict = {}

    @classmethod
    def unavailable(cls):
        if not (D28 / "usr/sbin/dockerd").exists():
            return f"Docker 28.5 is not unpacked in {D28} (run tests/provision.sh as root)"
        return None

    @staticmethod
    def _path() -> str:
        return f"{D28}/usr/bin:{D28}/usr/sbin:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}"

    @classmethod
    def command(cls, root, host):
        (root / "daemon.json").write_text(json.dumps(cls.daemon_config))
        env = dict(os.environ, PATH=cls._path())  # dockerd starts the containerd of the same folder
        return ([str(D28 / "usr/sbin/dockerd"), "--config-file", str(root / "daemon.json"), *_DAEMON_FLAGS,
                 "--data-root", str(root / "data"), "--exec-root", str(root / "x"), "--pidfile", str(root / "pid"),
                 "-H", host, "--log-level", "warn"], env)

    def _config_dir(self) -> Path:
        base = self.root if self.root is not None else Path(tempfile.mkdtemp(prefix="iv28cfg-"))
        return base / "docker-config"

    def prepare_client(self) -> None:
        # the buildx plugin in a private DOCKER_CONFIG: never the user's config, contexts or builders
        self.config = self._config_dir()
        plugins = self.config / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        if not (plugins / "docker-buildx").exists():
            shutil.copy2(D28 / "cli-plugins" / "docker-buildx", plugins / "docker-buildx")

    def env(self, buildkit: bool = True) -> dict[str, str]:
        env = super().env(buildkit)
        if not hasattr(self, "config"):
            self.prepare_client()
        env["DOCKER_CONFIG"] = str(self.config)
        env["PATH"] = self._path()
        return env

    def docker(self, *args: str, **kw) -> subprocess.CompletedProcess:
        if args and args[0] == "--config":  # a login config of the test's own: give it the plugin too
            cfg = Path(args[1])
            (cfg / "cli-plugins").mkdir(parents=True, exist_ok=True)
            if not (cfg / "cli-plugins" / "docker-buildx").exists():
                shutil.copy2(D28 / "cli-plugins" / "docker-buildx", cfg / "cli-plugins" / "docker-buildx")
        return super().docker(*args, **kw)


    def skopeo_source(self, ref: str, workdir: Path) -> list[str]:
        return _saved_for_skopeo(self, ref, workdir)


class Docker28Containerd(Docker28):
    """Docker Engine 28.5 with the containerd image store (snapshotter overlayfs)."""

    kind = "docker28-containerd"
    short = "d28c"
    daemon_config = {"features": {"containerd-snapshotter": True}}


class Podman(Engine):
    """podman 4.3's Docker-compatible API, with its own storage; driven by the 20.10 client.

    Only the classic builder: /build of the compat API runs buildah. The docker client would take
    BuildKit's path (the 28.5 client even tries to pull a BuildKit image from Docker Hub)."""

    kind = "podman"
    short = "pm"
    cli = DOCKER20_CLI
    podman = shutil.which("podman") or "/usr/bin/podman"
    builders = {"buildkit": "podman 4.3 has no BuildKit (its compat /build runs buildah)", "classic": None}

    @classmethod
    def unavailable(cls):
        if not Path(cls.podman).exists():
            return "podman is not installed (apt-get install podman)"
        if not Path(cls.cli).exists():
            return "Debian's docker client is not installed (/usr/bin/docker, docker.io)"
        return None

    @classmethod
    def _conf(cls, root: Path) -> dict[str, str]:
        # private configuration files: the machine's containers.conf, storage.conf and
        # registries.conf are never read or written; 127.0.0.1 registries are plain HTTP
        conf = root / "conf"
        conf.mkdir(exist_ok=True)
        (conf / "registries.conf").write_text(
            'unqualified-search-registries = []\n'
            'short-name-mode = "disabled"\n\n'
            '[[registry]]\nlocation = "127.0.0.1"\ninsecure = true\n\n'
            '[[registry]]\nlocation = "localhost"\ninsecure = true\n')
        (conf / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\nrunroot = "{root}/run"\ngraphroot = "{root}/root"\n')
        # podman asks runc for the kernel's maximum open files and processes per container; where
        # the service may not raise its own limits (no CAP_SYS_RESOURCE, as in these VMs) runc fails
        # with "error setting rlimit ... operation not permitted". Ask for what the service has: our
        # open-files limit, and processes at most 32768 (podman lowers its own to that; measured in
        # /proc/PID/limits of the service).
        import resource

        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1] % (1 << 62), 32768)
        limits = [f'"nofile={nofile}:{nofile}"' if nofile != resource.RLIM_INFINITY else None,
                  f'"nproc={nproc}:{nproc}"']
        limits = [x for x in limits if x]
        (conf / "containers.conf").write_text(
            f'[containers]\ndefault_ulimits = [{", ".join(limits)}]\n'
            '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
            f'tmp_dir = "{root}/tmp"\nvolume_path = "{root}/root/volumes"\n'
            f'[network]\nnetwork_config_dir = "{root}/net"\n')
        return {"CONTAINERS_REGISTRIES_CONF": str(conf / "registries.conf"),
                "CONTAINERS_STORAGE_CONF": str(conf / "storage.conf"),
                "CONTAINERS_CONF": str(conf / "containers.conf")}

    @classmethod
    def command(cls, root, host):
        env = dict(os.environ, **cls._conf(root))
        env["XDG_RUNTIME_DIR"] = str(root / "xdg")
        env["XDG_CONFIG_HOME"] = str(root / "xdg-config")
        env["XDG_DATA_HOME"] = str(root / "xdg-data")
        return ([cls.podman, "--root", str(root / "root"), "--runroot", str(root / "run"),
                 "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                 "--tmpdir", str(root / "tmp"), "--network-config-dir", str(root / "net"),
                 "--log-level", "warn", "system", "service", "--time=0", host], env)

    def env(self, buildkit: bool = True) -> dict[str, str]:
        env = super().env(False)  # never BuildKit against podman
        return env

    def docker(self, *args: str, **kw) -> subprocess.CompletedProcess:
        """The docker client against the service, except where it cannot ask podman:

        * ``builder prune``: podman 4.3 has no /build/prune and keeps no BuildKit cache, so there is
          nothing to prune (answered here, exit 0, saying so);
        * ``login``: podman 4.3's compat /auth insists on HTTPS for every registry but ``localhost``
          ("server gave HTTP response to HTTPS client" for 127.0.0.1), so ``podman --remote login
          --tls-verify=false`` writes the same docker config file (``--authfile``) instead.
        """
        rest, config = list(args), None
        if rest[:1] == ["--config"]:
            config, rest = rest[1], rest[2:]
        if rest[:2] == ["builder", "prune"]:
            return subprocess.CompletedProcess([self.cli, *args], 0, "podman keeps no build cache: nothing to prune\n", "")
        if rest[:1] == ["login"]:
            authfile = Path(config or os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
            authfile.parent.mkdir(parents=True, exist_ok=True)
            return self.podman_remote("login", "--tls-verify=false", "--authfile", str(authfile), *rest[1:],
                                      input=kw.get("input"), check=kw.get("check", True))
        return super().docker(*args, **kw)

    def skopeo_source(self, ref: str, workdir: Path) -> list[str]:
        return _saved_for_skopeo(self, ref, workdir)

    def podman_remote(self, *args: str, check: bool = True, input=None, timeout: float = 300) -> subprocess.CompletedProcess:
        """``podman --remote`` against this service, for what the docker client cannot ask."""
        env = dict(os.environ)
        if self.root is not None:
            env.update(self._conf(self.root))
        proc = subprocess.run([self.podman, "--remote", "--url", self.host, *args], env=env, input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"podman --remote {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc


def _saved_for_skopeo(engine: Engine, ref: str, workdir: Path) -> list[str]:
    path = Path(workdir) / f"skopeo-src-{ref.replace('/', '_').replace(':', '_')}.tar"
    engine.docker("save", "-o", str(path), ref)
    return [f"docker-archive:{path}"]


ENGINE_CLASSES: dict[str, type[Engine]] = {c.kind: c for c in (Docker20, Docker28, Docker28Containerd, Podman)}


def selected_kinds() -> list[str]:
    """The engine kinds this test run covers: IMGVIZ_TEST_ENGINES (comma separated) or all."""
    raw = os.environ.get("IMGVIZ_TEST_ENGINES", "")
    kinds = [k.strip() for k in raw.split(",") if k.strip()] or list(KINDS)
    unknown = [k for k in kinds if k not in ENGINE_CLASSES]
    if unknown:
        raise ValueError(f"IMGVIZ_TEST_ENGINES: unknown engine kind(s) {unknown}; known: {', '.join(KINDS)}")
    return kinds


def handed_hosts() -> dict[str, str]:
    """Engines started outside the tests: IMGVIZ_TEST_ENGINE_HOSTS, and IMGVIZ_TEST_DOCKER_HOST (docker20)."""
    hosts = {}
    for item in os.environ.get("IMGVIZ_TEST_ENGINE_HOSTS", "").split(","):
        if "=" in item:
            kind, host = item.split("=", 1)
            hosts[kind.strip()] = host.strip()
    if os.environ.get("IMGVIZ_TEST_DOCKER_HOST"):
        hosts.setdefault("docker20", os.environ["IMGVIZ_TEST_DOCKER_HOST"])
    return hosts


def attach(kind: str, host: str) -> Engine:
    """An engine of ``kind`` someone else started (not stopped by us)."""
    return ENGINE_CLASSES[kind](host)


def start_private_engine(kind: str = "docker20", timeout: float = 90) -> Engine:
    """Start a private engine of ``kind``; raise EngineUnavailableForTests with the reason when we cannot."""
    if isinstance(kind, Engine):  # start_private_engine(engine): one more of the same kind
        kind = kind.kind
    return ENGINE_CLASSES[kind].start(timeout=timeout)


def busybox_rootfs_tar() -> bytes:
    """A tar of a tiny root file system: Debian's busybox-static and its applets, reproducible."""
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
        return subprocess.run(["tar", "-C", str(root), "--owner=0", "--group=0", "--numeric-owner",
                               "--mtime=@0", "--sort=name", "-cf", "-", "."], capture_output=True, check=True).stdout


def _unmount_below(root: Path) -> None:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return
    targets = [line.split()[1] for line in mounts if line.split()[1].startswith(str(root))]
    for target in sorted(targets, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True)


def _pids_mentioning(folder: str) -> list[int]:
    """Processes whose command line names ``folder`` (a private engine's leftovers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if folder + "/" in cmdline or cmdline.rstrip().endswith(folder):
            pids.append(int(entry.name))
    return pids


def ping(host: str, timeout: float = 2) -> bool:
    try:
        import docker

        api = docker.APIClient(base_url=host, version="auto", timeout=timeout)
        api.ping()
        api.close()
        return True
    except Exception:
        return False
