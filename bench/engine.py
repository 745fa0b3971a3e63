"""Benchmark: imgviz vs the docker CLI on engines of 25 and 400 images, side by side in one run.

Builds an engine state on a private engine of each kind asked (default all four: docker20,
docker28, docker28-containerd, podman: a few multi-layer images built on a shared busybox base
(BuildKit; podman's buildah), then tiny single-layer imports), and at each size (default 25 and 400
images, grown in the same run) measures, each a fresh interpreter or CLI process with start-up
included, best of ``--repeat``:

* one image: `imgviz history REF` vs `docker history REF`; the list: `imgviz images` vs `docker
  image ls` (goal, issue 15: imgviz <= 2x the CLI). The goal is judged on the rows marked
  ``(wheel)``: the console script of a wheel of this checkout pip-installed (with its dependencies)
  into a fresh venv, as users install it. The ``(-m, editable)`` and ``(editable script)`` rows run
  the development install (its editable finder imports pathlib, urllib.parse and more at every
  start-up: about 5 ms); ``--baseline DIR`` adds rows of another checkout (before/after in one run)
* whole engine: `imgviz snapshot -o FILE` (every image's inspect + history, containers, df) vs the
  CLI route to the same facts (:func:`cli_route`): `docker system df -v` + `docker info` + one
  `docker image inspect` of every image + `docker image history` per image + the containers (`docker
  ps -a` with sizes, `docker container inspect`) + on the containerd store `docker image ls
  --tree`, on podman `podman system df -v` (goal: <= 0.25x). Before 2026-12-03 the route left out
  info, the containers, the tree and podman's df, which imgviz records too: its times are lower by
  one CLI start-up and answer each (25 images on the containerd store: 1.62 s against 1.91 s)
* the incremental refresh (imgviz.sources.engine cache, in a private IMGVIZ_CACHE_DIR): `imgviz
  snapshot` again with nothing changed, and after 10 new images, against the same CLI route; and
  in-process (what a notebook cell re-run costs, no start-up): a fresh collection, a refresh with
  nothing changed, and the calls no refresh can skip (the list, containers, df, /info) timed alone
* at the largest size, the whole collection in-process with 1, 2, 4, 8 and 16 concurrent detail
  calls and with the engine's default (imgviz.sources.engine_model.detail_workers: what the engine
  answers fastest with), the counts alternating round by round
* at the largest size, what-if's and pull-plan's engine side in-process: the targeted collection
  (collect(scope="what-if" / "pull")) and its answer against a whole collection and the same answer
  (asserted equal; pull-plan's registry side is the same either way and is not timed)

Each question's row also gives both sides' CPU time (user + system, best of the runs): on the shared
2-core machines the wall time of a 30-100 ms process is much of it waiting for a core.

The docker CLI is each engine's own client (20.10's for docker20 and podman, 28.5's for Docker 28). With
``--memory N`` it also grows the last engine to N images and reports the peak resident memory of
collecting and framing them.

    python bench/engine.py [--kinds docker20,docker28,docker28-containerd,podman] [--sizes 25,400]
                           [--repeat 3] [--questions-only | --sweep] [--baseline DIR] [--no-wheel]

``--sweep`` measures only the concurrency sweep and the what-if / pull-plan rows (any engine kind),
at every size.

Engines grown beforehand can be named (``IMGVIZ_TEST_ENGINE_HOSTS=docker20=unix:///...,...``):
they are used as they are (grown when smaller than asked) and never stopped.

Measured 2026-12-02 (issue 15), engines of 400 images, ``--questions-only``, wall time best of
9-15 runs on the shared 2-core machine (CPU time of both sides in brackets); each engine's own CLI.
"before" is the previous main (``--baseline``, run as ``python -m imgviz``, same run as the
editable rows):

    engine               question   wheel (goal)        -m, editable   before (-m)   docker CLI
    docker20             history    27 ms 1.81x (1.72)  31 ms 2.00x    4.8-5.0x      15 ms
                         image ls   45 ms 1.42x (1.38)  48 ms 1.45x    2.3-2.7x      31 ms
    docker28             history    29 ms 0.99x (1.00)  35 ms 1.11x    3.8x          29 ms
                         image ls   56 ms 0.84x (1.04)  54 ms 1.03x    1.8x          67 ms
    docker28-containerd  history    41 ms 1.19x (0.91)  45 ms 1.30x    2.2-2.4x      35 ms
                         image ls   1.31 s 1.03x        1.32 s 1.04x   1.0x          1.28 s
    podman 4.3           history    45 ms 1.49x (1.70)  92 ms 2.00x    12.6x         30 ms
                         image ls   2.07 s 1.05x        1.63 s 0.95x   1.2x          1.97 s

(podman: a busier moment of the same day, best of 7.) Where the time goes: the engines answer the
one-image calls in under 1 ms (podman 2-3 ms; /version, no longer asked, 6.5 ms on Docker 28 and
0.64 s on podman); a bare ``python -c pass`` is 15-23 ms, about the whole of the docker 20.10
CLI's answer, and imgviz's imports about 12 ms more. The list is the engine's own time on the
containerd store (/images/json 1.3-2.6 s) and on podman (2-4.4 s), on both sides alike. A later
run the same day (wheel rows, best of 7): history 1.98x on docker20 and 2.12x on podman (0.046 s
against 0.022 s: Python's own start-up is 17 ms of it).

The whole engine, later the same day (``--no-wheel``, best of 3, all four kinds in one run):
``imgviz snapshot`` against the CLI route, at 25 and 400 images (podman: before its storage was read):

    docker20             0.11 s / 0.52 s = 0.219    0.43 s / 7.55 s  = 0.057
    docker28             0.11 s / 1.08 s = 0.102    0.46 s / 15.37 s = 0.030
    docker28-containerd  0.42 s / 1.74 s = 0.238    5.24 s / 26.19 s = 0.200
    podman 4.3           0.45 s / 0.60 s = 0.745    4.17 s / 12.16 s = 0.343

Again after podman's records were read from its storage (imgviz.sources.podman_store; every whole
collection probed with /_ping), 2026-12-02 afternoon, a slower moment of the machine (a bare
``python -c pass`` 28 ms with the editable install, 15 ms without; the CLI routes 17-46% slower
than in the morning), ``--no-wheel``, best of 3, all four kinds in one run:

    docker20             0.13 s / 0.63 s = 0.213    0.50 s / 8.87 s  = 0.056
    docker28             0.14 s / 1.44 s = 0.097    0.52 s / 19.56 s = 0.027
    docker28-containerd  0.56 s / 2.22 s = 0.254    8.95 s / 38.32 s = 0.233
    podman 4.3 (storage) 0.18 s / 1.04 s = 0.176    0.59 s / 17.81 s = 0.033
    podman 4.3 (its API) 0.82 s / 1.04 s = 0.787    6.93 s / 17.81 s = 0.389   (IMGVIZ_PODMAN_STORE=0)

The containerd store at 25 images sits at the goal (0.238 in the morning, 0.254 here): its
``/system/df`` (0.19 s) and list (0.13 s) are most of it. podman's refresh is its storage read
again (0.21 s / 0.60 s at 25 / 400); through its API the cache brings 6.93 s down to 3.03 s. The
one-image questions at that moment (``--questions-only``, wheel rows, best of 9, 400 images):
``history`` 0.054 s against the docker CLI's 0.022 s on docker20 (2.47x) and 0.063 s against
0.025 s on podman (2.51x), above the goal: a fresh interpreter with the imports ``history`` needs
(argparse, json and re with enum, socket, threading, datetime, imgviz's own) took 50 ms before any
request, where the Go CLI's whole answer took 20-25 ms; ``image ls`` 1.73x and 1.06x. Docker 28's
CLI is slower (47-69 ms): 1.2x and 1.4x there.

2026-12-03, after the start-up work of that day (datetime's C classes imported directly, rare
patterns compiled on first use, no dataclasses/typing/copy on the command paths; all four kinds in
one run, 25 and 400 images, best of 3, wheel rows with dependencies):

    engine               history (wheel)        whole engine: snapshot / CLI route
                         25 / 400 images        25 images                 400 images
    docker20             1.76x / 1.74x          0.10 s / 0.52 s = 0.200   0.41 s / 7.39 s  = 0.056
    docker28             0.89x / 0.92x          0.10 s / 1.06 s = 0.093   0.45 s / 14.76 s = 0.031
    docker28-containerd  1.24x / 1.21x          0.43 s / 1.79 s = 0.241   5.71 s / 26.97 s = 0.212
    podman 4.3 (storage) 1.70x / 1.61x          0.09 s / 0.64 s = 0.142   0.33 s / 13.12 s = 0.025
    podman 4.3 (its API) (same)                 0.45 s / 0.64 s = 0.701   4.58 s / 13.12 s = 0.349

With ``--questions-only`` and best of 15 at 400 images the same hour: history 1.80x on docker20
(0.034 s / 0.019 s; the previous main 2.16x in the same run) and 2.00x on podman (0.042 s / 0.021
s: podman answers the inspect and the history one after the other, 4.7 + 2.9 ms, where the CLI asks
only the history, 3.3 ms). The containerd store at 25 images is the engine's own time: its list and
its df (0.14 s and 0.15 s alone) slow each other down side by side, and asking the df after the
list was no faster (in-process, two rounds of best of 8: 0.366 and 0.367 s as it is, 0.372 and
0.408 s with the df asked after the list). what-if and pull-plan on podman now read its storage
like a whole collection (no /version, no /info): what-if on 30 images 0.39 s against 0.66 s
through its API, the collection alone 22-26 ms against 333-357 ms.

Later on 2026-12-03: podman through its API asks no /version (its ping names the version), and the
CLI route asks every fact imgviz records (:func:`cli_route`: with info, the containers, the
containerd tree and podman's own df; 25 images on the containerd store: 1.62 s by the old route,
1.91 s by this one, in one run). All four kinds in one run, best of 3, wheel rows:

    engine               history (wheel)        whole engine: snapshot / CLI route
                         25 / 400 images        25 images                 400 images
    docker20             1.89x / 1.81x          0.10 s / 0.55 s = 0.174   0.45 s / 7.33 s  = 0.061
    docker28             0.96x / 0.95x          0.11 s / 1.14 s = 0.092   0.45 s / 14.53 s = 0.031
    docker28-containerd  1.21x / 1.20x          0.42 s / 1.91 s = 0.219   5.25 s / 26.88 s = 0.195
    podman 4.3 (storage) 1.74x / 1.87x          0.09 s / 0.79 s = 0.107   0.30 s / 12.02 s = 0.025
    podman 4.3 (its API) (same)                 0.21 s / 0.79 s = 0.265   3.80 s / 12.02 s = 0.316

Measured against the old route in a run an hour before: containerd at 25 images 0.47 s / 1.76 s =
0.267, podman's API 0.21 s / 0.65 s = 0.319. podman through its API stays above the goal at 400
images: its list alone takes 1.2 s and its detail calls hardly overlap (1 at once 4.69 s, 4 at
once 3.87 s).

Needs root and the engines of tests/_engine.py. Nothing here is a test: it only prints numbers.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests._engine import KINDS, attach, handed_hosts, start_private_engine  # noqa: E402


def tiny_tar(i: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = f"image {i}\n".encode() * (1 + i % 7)
        info = tarfile.TarInfo(f"data/{i}.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def grow(engine, target: int, built: int = 0, max_builds: int = 20) -> int:
    """Add images until the engine has ``target``: a few builds (multi-layer histories; at most
    ``max_builds`` in all), tiny imports after."""
    api = engine.api()
    have = len(api.images())
    ctx = Path(tempfile.mkdtemp(prefix="bench-ctx-"))
    (ctx / "Dockerfile").write_text("FROM bench/base:1\nARG N\nENV N=${N}\nWORKDIR /app\n"
                                    "RUN echo $N > /app/n\nCOPY f.txt .\nCMD [\"cat\", \"/app/n\"]\n")
    n_builds = max(0, min(target // 4, max_builds) - built)
    t0 = time.monotonic()
    i = have
    while have < target:
        if n_builds > 0:
            (ctx / "f.txt").write_text(f"file {i}\n")
            engine.docker("build", "--network", "none", "-q", "--build-arg", f"N={i}", "-t",
                          f"bench/app{i}:1", str(ctx))
            n_builds -= 1
            built += 1
        else:
            api.import_image_from_data(tiny_tar(i), repository=f"bench/imp{i}", tag="1")
        i += 1
        have += 1
        if have % 100 == 0:
            print(f"  {have} images ({time.monotonic() - t0:.0f}s)", file=sys.stderr)
    api.close()
    return built


def timed(cmd: list[str], env: dict, cwd: Path | None = None, cpu: list | None = None) -> float:
    """Wall time of ``cmd``; with ``cpu``, its CPU time (user + system, all its threads) is appended
    there: on a machine other work keeps busy, the wall time of a short process is mostly waiting for
    a core, and the CPU time says what the process itself costs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    wall = time.perf_counter() - t0
    if cpu is not None:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


def cli_route(engine) -> float:
    """The docker CLI's route to every fact `imgviz snapshot` records: the df (`system df -v`), the
    engine's /info (`info`), the list and every image's inspect (one `image inspect`) and history
    (one `image history` each), the containers with their sizes and inspect, and on the containerd
    store the per-platform sizes (`image ls --tree`: imgviz's /images/json?manifests=1), on podman
    its own df (`podman system df -v`)."""
    env, cli = engine.env(), engine.cli

    def run(*args: str, out=subprocess.DEVNULL) -> str:
        return subprocess.run([cli, *args], env=env, check=True, stdout=out, stderr=subprocess.DEVNULL,
                              text=True).stdout or ""

    t0 = time.perf_counter()
    run("system", "df", "-v")
    run("info")
    ids = sorted(set(run("image", "ls", "-q", "--no-trunc", out=subprocess.PIPE).split()))
    if engine.kind == "docker28-containerd":
        run("image", "ls", "--tree")  # (experimental in the 28.5 CLI; it says so on stderr)
    run("image", "inspect", *ids)
    for image_id in ids:
        run("image", "history", "--no-trunc", image_id)
    containers = run("ps", "-a", "--no-trunc", "--format", "{{.ID}}\t{{.Size}}", out=subprocess.PIPE)
    container_ids = [line.split("\t")[0] for line in containers.splitlines() if line.strip()]
    if container_ids:
        run("container", "inspect", *container_ids)
    if engine.kind == "podman":  # podman's own df (imgviz records it beside the compat one)
        engine.podman_remote("system", "df", "-v")
    return time.perf_counter() - t0


#: the bench's own engine cache (never the user's), emptied per engine kind
BENCH_CACHE = Path(tempfile.mkdtemp(prefix="bench-cache-"))


#: podman asked through its API as from another host (its storage not read): the route its cache
#: serves, and the one the concurrency sweep tunes
API_ROUTE = {"IMGVIZ_PODMAN_STORE": "0"}


def imgviz_route(engine, out: Path, *, cache: bool = False, api_route: bool = False) -> float:
    """``imgviz snapshot``: a fresh collection (``--no-cache``), or a refresh from the bench's cache;
    ``api_route``: podman through its API (:data:`API_ROUTE`)."""
    env = dict(engine.env(), IMGVIZ_CACHE_DIR=str(BENCH_CACHE), **(API_ROUTE if api_route else {}))
    env.pop("IMGVIZ_CACHE", None)
    flags = [] if cache else ["--no-cache"]
    return timed([sys.executable, "-m", "imgviz", "snapshot", "--host", engine.host, "-o", str(out), *flags], env)


def add_images(engine, n: int, start: int) -> list[str]:
    """``n`` new tiny images (imports nobody else made), their IDs returned (podman's compat
    import does not always keep the name it was given)."""
    api = engine.api()
    before = {im["Id"] for im in api.images()}
    for i in range(start, start + n):
        api.import_image_from_data(tiny_tar(i), repository=f"bench/new{i}", tag="1")
    added = [im["Id"] for im in api.images() if im["Id"] not in before]
    api.close()
    return added


def remove_images(engine, image_ids: list[str]) -> None:
    api = engine.api()
    for image_id in image_ids:
        api.remove_image(image_id, force=True)
    api.close()


def refreshes(engine, out: Path, repeat: int, serial: list[int], api_route: bool = False) -> dict[str, float]:
    """Best times of ``imgviz snapshot`` from a filled cache: nothing changed, and 10 new images
    (added before each timed run, removed after it and the cache brought back to the engine).
    podman read from its storage keeps no cache: its rows are that route's (``api_route``: its API
    route's, with the cache)."""
    imgviz_route(engine, out, cache=True, api_route=api_route)  # fill the cache
    unchanged = min(imgviz_route(engine, out, cache=True, api_route=api_route) for _ in range(repeat))
    ten = []
    for _ in range(repeat):
        added = add_images(engine, 10, serial[0])
        serial[0] += 10
        ten.append(imgviz_route(engine, out, cache=True, api_route=api_route))
        remove_images(engine, added)
        imgviz_route(engine, out, cache=True, api_route=api_route)  # the cache follows the engine again
    via = ", podman's API route" if api_route else ""
    return {f"refresh, nothing changed{via}": unchanged, f"refresh, 10 new images{via}": min(ten)}


IN_PROCESS = """
import os, sys, time
from imgviz.sources.engine import collect, connect
host, repeat = sys.argv[1], int(sys.argv[2])
def best(fn):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return min(times)
fresh = best(lambda: collect(host=host, progress=False, cache=False))
collect(host=host, progress=False, cache=True)
snap = collect(host=host, progress=False, cache=True)
# (podman read from its storage uses no cache: its re-run is the same route)
assert snap.records.get("podman_store") or snap.source["cache"]["served"] == len(snap.images), snap.source
warm = best(lambda: collect(host=host, progress=False, cache=True))
api = connect(host)
floor = {name: best(getattr(api, name)) for name in ("images", "containers", "df", "info")}
print(f"{fresh:.3f} {warm:.3f} " + " ".join(f"{k}:{v:.3f}" for k, v in floor.items()))
"""


def in_process(engine, repeat: int) -> tuple[float, float, dict[str, float]]:
    env = dict(os.environ, IMGVIZ_CACHE_DIR=str(BENCH_CACHE))
    env.pop("IMGVIZ_CACHE", None)
    res = subprocess.run([sys.executable, "-c", IN_PROCESS, engine.host, str(repeat)], capture_output=True,
                         text=True, check=True, cwd=ROOT, env=env)
    fresh, warm, *floor = res.stdout.split()
    return float(fresh), float(warm), {k: float(v) for k, v in (x.split(":") for x in floor)}


def wheel_install(root: Path, deps: bool = True) -> Path:
    """The ``imgviz`` console script of a wheel install of the checkout at ``root``, as users install
    it: ``pip wheel`` of the checkout, a fresh venv of the base interpreter (with its own pip and
    setuptools, as ``python -m venv`` makes it), ``pip install`` of the wheel (bytecode compiled by
    pip; with ``deps`` its dependencies too, from the machine's configured index, so any ``.pth``
    file they install runs at start-up as it would for a user). No editable finder, no source tree
    on sys.path: the goal of issue 15 is judged on this install."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-wheel-"))
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(root)], **quiet)
    wheel = next((tmp / "dist").glob("imgviz-*.whl"))
    base = getattr(sys, "_base_executable", None) or sys.executable
    subprocess.run([base, "-m", "venv", str(tmp / "venv")], **quiet)
    subprocess.run([str(tmp / "venv" / "bin" / "python"), "-m", "pip", "install", "-q",
                    *([] if deps else ["--no-deps"]), str(wheel)], **quiet)
    return tmp / "venv" / "bin" / "imgviz"


def questions(engine, ref: str, repeat: int, baseline: Path | None = None,
              wheel: Path | None = None) -> dict[str, tuple[float, float]]:
    """Best times of one-image and list questions: name -> (imgviz, docker CLI). imgviz runs as the
    console script of a wheel install (``wheel``, see :func:`wheel_install`: the goal's rows), as
    ``python -m imgviz`` of this checkout (the editable install's finder on the path, as developers
    run it) and as the editable install's console script (next to the interpreter); with
    ``baseline`` (another checkout's folder) also ``python -m imgviz`` run from there (its own
    imgviz package comes first on sys.path), so before and after meet the same engine in one run."""
    env, cli = engine.env(), engine.cli
    iv = [sys.executable, "-m", "imgviz"]
    pairs = {}
    if wheel is not None:
        pairs[f"history {ref} (wheel)"] = ([str(wheel), "history", ref, "--host", engine.host],
                                           [cli, "history", ref], ROOT)
        pairs["image ls (wheel)"] = ([str(wheel), "images", "--host", engine.host], [cli, "image", "ls"], ROOT)
    pairs[f"history {ref} (-m, editable)"] = (iv + ["history", ref, "--host", engine.host], [cli, "history", ref],
                                              ROOT)
    pairs["image ls (-m, editable)"] = (iv + ["images", "--host", engine.host], [cli, "image", "ls"], ROOT)
    script = Path(sys.executable).parent / "imgviz"
    if script.exists():
        pairs[f"history {ref} (editable script)"] = ([str(script), "history", ref, "--host", engine.host],
                                                     [cli, "history", ref], ROOT)
    if baseline is not None:
        pairs[f"history {ref} (baseline -m)"] = (pairs[f"history {ref} (-m, editable)"][0], [cli, "history", ref],
                                                 baseline)
        pairs["image ls (baseline -m)"] = (pairs["image ls (-m, editable)"][0], [cli, "image", "ls"], baseline)
    out = {}
    for name, (ours, theirs, cwd) in pairs.items():
        a, b, cpu_a, cpu_b = [], [], [], []
        for _ in range(repeat):  # alternating, so both meet the same engine state
            a.append(timed(ours, env, cwd, cpu_a))
            b.append(timed(theirs, env, None, cpu_b))
        out[name] = (min(a), min(b), min(cpu_a), min(cpu_b))
    return out


CONCURRENCY = """
import sys, time
from imgviz.sources.engine import collect
best = {}
# the sweep alternates the worker counts round by round, so each meets the same machine load
rounds = int(sys.argv[2])
times = {w: [] for w in (1, 2, 4, 8, 16, None)}
for _ in range(rounds):
    for workers in times:
        t0 = time.perf_counter()
        snap = collect(host=sys.argv[1], progress=False, workers=workers, cache=False)
        times[workers].append(time.perf_counter() - t0)
        assert snap.complete
print(" ".join(f"{w or 'default'}:{min(t):.3f}" for w, t in times.items()))
"""

#: what-if and pull-plan's engine side, in-process, fresh (no cache): the targeted collection
#: (collect(scope=...)) and the answer from it, against a whole collection and the same answer
QUESTIONS_WHOLE = """
import sys, time
from imgviz.analysis.pull import engine_pull_plan
from imgviz.analysis.what_if import removal
from imgviz.frames import frames
from imgviz.selection import find_image
from imgviz.sources.engine import collect
host, ref, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def whatif(scope):
    snap = collect(host=host, progress=False, cache=False, **({"scope": scope, "images": [ref]} if scope else {}))
    return removal(frames(snap), [ref]).as_dict()
def pull(scope):
    local = frames(collect(host=host, progress=False, cache=False, **({"scope": scope} if scope else {})))
    image_id = find_image(local.images, ref)  # podman lists it as localhost/...
    remote = local.layers[local.layers["image_id"] == image_id]  # a plan to compute (its layers, held)
    return engine_pull_plan(remote, local).astype(object).fillna("NA").to_dict("list")
times = {k: [] for k in ("what-if targeted", "what-if whole", "pull local targeted", "pull local whole")}
for _ in range(rounds):  # alternating, so both meet the same load
    for name, fn, arg in (("what-if targeted", whatif, "what-if"), ("what-if whole", whatif, None),
                          ("pull local targeted", pull, "pull"), ("pull local whole", pull, None)):
        t0 = time.perf_counter(); answers = fn(arg); times[name].append(time.perf_counter() - t0)
        if name.endswith("targeted"):
            first = answers
            if name == "what-if targeted":
                first_whatif = answers
        else:
            assert answers == first, name  # the same answer either way
# a notebook re-run: the engine cache filled by a whole collection serves every inspect
collect(host=host, progress=False, cache=True)
times["what-if targeted cached"] = []
for _ in range(rounds):
    t0 = time.perf_counter()
    snap = collect(host=host, progress=False, cache=True, scope="what-if", images=[ref])
    assert removal(frames(snap), [ref]).as_dict() == first_whatif
    times["what-if targeted cached"].append(time.perf_counter() - t0)
print(" ".join(f"{k.replace(' ', '_')}:{min(v):.3f}" for k, v in times.items()))
"""


PEAK = """
import resource, sys
import imgviz
snap = imgviz.collect(host=sys.argv[1], progress=False, cache=False)
f = imgviz.frames(snap)
print(len(f.images), len(f.layers), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


#: the modules `imgviz history REF` imports on a unix-socket engine (tests/test_startup.py guards the list)
HISTORY_IMPORTS = ("import imgviz.cli, imgviz._commands.history, imgviz.sources._open, imgviz.sources.engine, "
                   "imgviz.sources._http, imgviz.rows, imgviz.analysis.listing, imgviz.analysis.secrets")


def startup(code: str, repeat: int) -> float:
    """Best time of a fresh interpreter running ``code``: where imgviz's own time goes."""
    return min(timed([sys.executable, "-c", code], dict(os.environ)) for _ in range(repeat))


def measure(engine, repeat: int, out: Path, serial: list[int], whole: bool = True,
            baseline: Path | None = None, wheel: Path | None = None) -> dict:
    """Everything measured at one engine size, the two routes alternating (``whole=False``: only the
    one-image and list questions; the whole-engine routes and refreshes take minutes at 400 images)."""
    api = engine.api()
    listed = api.images()
    api.close()
    # (podman lists them as docker.io/bench/app...: asked by that name, as `docker history` would be)
    refs = sorted(t for im in listed for t in im.get("RepoTags") or []
                  if t.removeprefix("docker.io/").removeprefix("localhost/").startswith("bench/app"))
    podman = engine.kind == "podman"
    ours, theirs, via_api = [], [], []
    for _ in range(repeat if whole else 0):
        ours.append(imgviz_route(engine, out))
        theirs.append(cli_route(engine))
        if podman:  # and through its API, as from another host (the route before its storage was read)
            via_api.append(imgviz_route(engine, out, api_route=True))
    refresh = refreshes(engine, out, repeat, serial) if whole else {}
    if whole and podman:
        refresh.update(refreshes(engine, out, repeat, serial, api_route=True))
    return {"images": len(listed), "snapshot": (min(ours), min(theirs)) if whole else None,
            "snapshot_api": min(via_api) if via_api else None,
            "questions": questions(engine, refs[len(refs) // 2], max(repeat, 3), baseline, wheel),
            "refresh": refresh, "in_process": in_process(engine, repeat) if whole else None}


def concurrency(engine, repeat: int) -> dict[str, float]:
    # the detail calls' concurrency is the API route's (podman read from its storage makes none)
    res = subprocess.run([sys.executable, "-c", CONCURRENCY, engine.host, str(repeat)], capture_output=True,
                         text=True, check=True, cwd=ROOT, env=dict(os.environ, **API_ROUTE))
    return {w: float(t) for w, t in (x.split(":") for x in res.stdout.split())}


def what_if_and_pull(engine, repeat: int) -> dict[str, float]:
    """Best in-process times of what-if's and pull-plan's engine side, targeted and whole."""
    api = engine.api()
    refs = sorted(t for im in api.images() for t in im.get("RepoTags") or [] if "/app" in t)
    api.close()
    env = dict(os.environ, IMGVIZ_CACHE_DIR=str(BENCH_CACHE / "questions"))
    env.pop("IMGVIZ_CACHE", None)
    res = subprocess.run([sys.executable, "-c", QUESTIONS_WHOLE, engine.host, refs[len(refs) // 2], str(repeat)],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    if res.returncode:
        print(f"  what-if / pull rows failed:\n{res.stderr[-3000:]}", flush=True)
        return {}
    return {k.replace("_", " "): float(t) for k, t in (x.split(":") for x in res.stdout.split())}


def bench_engine(kind: str):
    """(engine, handed): an engine started (and grown) beforehand, named by
    IMGVIZ_TEST_ENGINE_HOSTS, is used as it is (grown further when smaller than asked) and never
    stopped here (handed is its address); else a private engine of ``kind``."""
    handed = handed_hosts().get(kind)
    return (attach(kind, handed) if handed else start_private_engine(kind)), handed


def ready(engine, handed) -> tuple[dict, str | None]:
    """The engine's /version and storage driver; a private engine gets the bench's base image."""
    api = engine.api()
    version, driver = api.version(), api.info().get("Driver")
    api.close()
    if not handed:
        engine.busybox_base("bench/base:1")
    return version, driver


def sweep_only(kind: str, sizes: list[int], repeat: int) -> None:
    """``--sweep``: grow the engine, then at each size only the concurrency sweep and the what-if /
    pull-plan rows (minutes where the whole run takes an hour at 400 images). An engine named by
    IMGVIZ_TEST_ENGINE_HOSTS is used as it is (grown when smaller), never stopped."""
    engine, handed = bench_engine(kind)
    try:
        version, driver = ready(engine, handed)
        built = 0
        for target in sizes:
            print(f"{kind}: growing the private engine to {target} images...", file=sys.stderr)
            built = grow(engine, target, built)
            print(f"{kind}: {version.get('Version')} (API {version.get('ApiVersion')}), storage {driver}, "
                  f"{target} images, best of {repeat}")
            sweep = concurrency(engine, repeat)
            print("  whole collection by concurrent detail calls: "
                  + ", ".join(f"{w}: {t:.2f} s" for w, t in sweep.items()), flush=True)
            rows = what_if_and_pull(engine, repeat)
            if not rows:
                continue
            for q in ("what-if", "pull local"):
                a, b = rows[f"{q} targeted"], rows[f"{q} whole"]
                print(f"  {q:<11} targeted {a:.2f} s, whole {b:.2f} s ({a / b:.2f}x)", flush=True)
            print(f"  what-if targeted with the engine cache filled (a notebook re-run): "
                  f"{rows['what-if targeted cached']:.2f} s", flush=True)
    finally:
        if not handed:
            engine.stop()


def run_kind(kind: str, sizes: list[int], repeat: int, memory: int, whole: bool = True,
             baseline: Path | None = None, wheel: Path | None = None) -> None:
    t_start = time.monotonic()
    # as a pip install has it: bytecode compiled (PYTHONDONTWRITEBYTECODE, set on these machines, would
    # otherwise make every fresh interpreter compile imgviz again: about 40 ms of each question)
    for tree in (ROOT, baseline) if baseline is not None else (ROOT,):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "imgviz")], check=True,
                       stdout=subprocess.DEVNULL)
    engine, handed = bench_engine(kind)
    import shutil

    shutil.rmtree(BENCH_CACHE, ignore_errors=True)
    serial = [1_000_000]  # tiny_tar numbers of the refresh's new images: content no other image has
    try:
        version, driver = ready(engine, handed)
        out = Path(tempfile.mkdtemp()) / "snap.json.gz"
        built, results, t_build = 0, [], 0.0
        for target in sizes:
            print(f"{kind}: growing the private engine to {target} images...", file=sys.stderr)
            t0 = time.monotonic()
            built = grow(engine, target, built)
            t_build += time.monotonic() - t0
            results.append(measure(engine, repeat, out, serial, whole, baseline, wheel))
        workers = concurrency(engine, max(1, repeat - 1)) if whole else None
        targeted = what_if_and_pull(engine, repeat) if whole else {}
        product = "podman" if kind == "podman" else "Docker"
        print(f"\n{kind}: {product} {version.get('Version')} (API {version.get('ApiVersion')}), storage {driver}; "
              f"best of {repeat} runs each (one-image questions: best of {max(repeat, 3)})")
        print(f"  {'images':>6}  {'question':<40} {'imgviz':>9} {'docker CLI':>11} {'ratio':>7}  goal"
              f"          CPU: {'imgviz':>8} {'docker':>8} {'ratio':>6}")
        for r in results:
            for name, (a, b, ca, cb) in r["questions"].items():
                flag = "ok" if a / b <= 2 else "ABOVE GOAL"
                print(f"  {r['images']:>6}  {name[:40]:<40} {a:>7.3f} s {b:>9.3f} s {a / b:>7.2f}  <= 2: {flag:<10}"
                      f"      {ca * 1000:>5.0f} ms {cb * 1000:>5.0f} ms {ca / cb:>6.2f}")
            if r["snapshot"] is None:
                continue
            a, b = r["snapshot"]
            flag = "ok" if a / b <= 0.25 else "ABOVE GOAL"
            print(f"  {r['images']:>6}  {'whole engine (snapshot)':<40} {a:>7.2f} s {b:>9.2f} s {a / b:>7.3f}  "
                  f"<= 0.25: {flag}")
            if r.get("snapshot_api") is not None:
                t = r["snapshot_api"]
                print(f"  {r['images']:>6}  {'whole engine, podman through its API':<40} {t:>7.2f} s {b:>9.2f} s "
                      f"{t / b:>7.3f}  (IMGVIZ_PODMAN_STORE=0: its storage not read, as from another host)")
            for name, t in r["refresh"].items():
                print(f"  {r['images']:>6}  {name:<26} {t:>7.2f} s {b:>9.2f} s {t / b:>7.3f}  "
                      f"({t / a:.2f}x the fresh snapshot)")
            fresh, warm, floor = r["in_process"]
            print(f"  {r['images']:>6}  in-process (a notebook cell re-run): fresh collect {fresh:.2f} s, refresh "
                  f"with nothing changed {warm:.2f} s ({warm / fresh:.2f}x); the calls no refresh skips, each "
                  f"alone: " + ", ".join(f"{k} {v:.2f} s" for k, v in floor.items()))
        if workers is not None:
            print(f"  whole collection in-process at {results[-1]['images']} images by concurrent detail calls: "
                  + ", ".join(f"{w}: {t:.2f} s" for w, t in workers.items()))
        for q in ("what-if", "pull local") if targeted else ():
            a, b = targeted[f"{q} targeted"], targeted[f"{q} whole"]
            print(f"  {results[-1]['images']:>6}  {q + ' (in-process)':<34} targeted {a:.2f} s, whole collection "
                  f"{b:.2f} s ({a / b:.2f}x)")
        n = repeat * 3
        bare = startup("pass", n)
        print(f"  where imgviz's time goes (fresh interpreters, best of {n}): python {bare * 1000:.0f} ms, "
              f"+ import imgviz.cli {(startup('import imgviz.cli', n) - bare) * 1000:.0f} ms, "
              f"+ what `history` imports {(startup(HISTORY_IMPORTS, n) - bare) * 1000:.0f} ms, "
              f"+ import docker (the SDK, not imported for engine questions) "
              f"{(startup('import docker', n) - bare) * 1000:.0f} ms")
        if memory:
            print(f"growing to {memory} images...", file=sys.stderr)
            t0 = time.monotonic()
            grow(engine, memory, built)
            t_build += time.monotonic() - t0
            res = subprocess.run([sys.executable, "-c", PEAK, engine.host], capture_output=True, text=True,
                                 check=True, cwd=ROOT)
            images, layers, kb = res.stdout.split()
            print(f"  peak memory collecting + framing {images} images ({layers} layer rows): "
                  f"{int(kb) / 1024:.0f} MB (goal: < 300 MB)")
        print(f"  (building the engine took {t_build:.0f} s; this engine's whole run {time.monotonic() - t_start:.0f} s)",
              flush=True)
    finally:
        if not handed:
            engine.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kinds", default=",".join(KINDS),
                    help=f"engine kinds of tests/_engine.py (default all: {','.join(KINDS)}); an engine named by "
                         f"IMGVIZ_TEST_ENGINE_HOSTS=kind=unix:///...,... is used as it is (grown if smaller)")
    ap.add_argument("--sizes", default="25,400", help="engine sizes to measure, smallest first (default 25,400)")
    ap.add_argument("--memory", type=int, default=0, help="also measure peak memory at this many images")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--questions-only", action="store_true",
                    help="measure only the one-image and list questions (not the whole-engine routes, which "
                         "take minutes at 400 images, nor the concurrency sweep)")
    ap.add_argument("--baseline", type=Path, metavar="DIR",
                    help="also time the questions with the imgviz of another checkout (e.g. `git archive main` "
                         "unpacked), alternating with this one's")
    ap.add_argument("--sweep", action="store_true",
                    help="only the concurrency sweep and the what-if / pull-plan rows at each size")
    ap.add_argument("--no-wheel", action="store_true",
                    help="skip the wheel install (its rows are the goal's; without them only the editable rows)")
    ap.add_argument("--wheel-no-deps", action="store_true",
                    help="install the wheel without its dependencies (faster; the questions import none of them, "
                         "but a dependency's .pth file would run at every start-up)")
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(",") if x.strip())
    baseline = args.baseline.resolve() if args.baseline else None
    wheel = None
    if not args.no_wheel and not args.sweep:  # the sweep runs in-process: no wheel
        print("building the wheel of this checkout into a temporary venv...", file=sys.stderr)
        wheel = wheel_install(ROOT, deps=not args.wheel_no_deps)
    for kind in (k.strip() for k in args.kinds.split(",") if k.strip()):
        if args.sweep:
            sweep_only(kind, sizes, args.repeat)
            continue
        run_kind(kind, sizes, args.repeat, args.memory, whole=not args.questions_only, baseline=baseline,
                 wheel=wheel)


if __name__ == "__main__":
    main()
