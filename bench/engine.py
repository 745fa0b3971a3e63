"""Benchmark: a whole-engine snapshot with imgviz vs the docker CLI route to the same facts.

Builds an engine state on a private dockerd (multi-layer images built with BuildKit on a shared
busybox base for the first quarter, single-layer imports after), and at each size (default 25 and
400 images, grown in the same run) measures:

* imgviz:  `imgviz snapshot -o FILE` (every image's inspect + history, containers, df), a fresh
           interpreter each time, start-up included
* CLI:     `docker system df -v` + one `docker image inspect` of every image + `docker image history`
           per image (what a script would run to print the same facts)

and prints both times and their ratio per size (goal: <= 0.25 at every size). With ``--memory N``
it also grows the engine to N images and reports the peak resident memory of collecting and
framing them.

    python bench/engine.py [--sizes 25,400] [--repeat 3] [--memory 2000]

Needs root and Debian's docker.io. Nothing here is a test: it only prints numbers.
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

from tests._engine import DOCKER_CLI, start_private_engine  # noqa: E402


def tiny_tar(i: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = f"image {i}\n".encode() * (1 + i % 7)
        info = tarfile.TarInfo(f"data/{i}.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def grow(engine, target: int, built: int = 0) -> int:
    """Add images until the engine has ``target``: builds for the first 25%, imports after."""
    api = engine.api()
    have = len(api.images())
    ctx = Path(tempfile.mkdtemp(prefix="bench-ctx-"))
    (ctx / "Dockerfile").write_text("FROM bench/base:1\nARG N\nENV N=${N}\nWORKDIR /app\n"
                                    "RUN echo $N > /app/n\nCOPY f.txt .\nCMD [\"cat\", \"/app/n\"]\n")
    n_builds = max(0, target // 4 - built)
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
    return built


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def cli_route(engine) -> float:
    env = engine.env()
    t0 = time.perf_counter()
    subprocess.run([DOCKER_CLI, "system", "df", "-v"], env=env, check=True, stdout=subprocess.DEVNULL)
    ids = subprocess.run([DOCKER_CLI, "image", "ls", "-q", "--no-trunc"], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    ids = sorted(set(ids))
    subprocess.run([DOCKER_CLI, "image", "inspect", *ids], env=env, check=True, stdout=subprocess.DEVNULL)
    for image_id in ids:
        subprocess.run([DOCKER_CLI, "image", "history", "--no-trunc", image_id], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def imgviz_route(engine, out: Path) -> float:
    env = engine.env()
    return timed([sys.executable, "-m", "imgviz", "snapshot", "--host", engine.host, "-o", str(out)], env)


PEAK = """
import resource, sys
import imgviz
snap = imgviz.collect(host=sys.argv[1], progress=False)
f = imgviz.frames(snap)
print(len(f.images), len(f.layers), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def startup(code: str, repeat: int) -> float:
    """Best time of a fresh interpreter running ``code``: where imgviz's own time goes."""
    return min(timed([sys.executable, "-c", code], dict(os.environ)) for _ in range(repeat))


def measure(engine, repeat: int, out: Path) -> tuple[int, float, float]:
    """(images, best imgviz time, best CLI time), the two routes alternating."""
    n = len(engine.api().images())
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(imgviz_route(engine, out))
        theirs.append(cli_route(engine))
    return n, min(ours), min(theirs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="25,400", help="engine sizes to measure, smallest first (default 25,400)")
    ap.add_argument("--memory", type=int, default=0, help="also measure peak memory at this many images")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(",") if x.strip())

    t_start = time.monotonic()
    engine = start_private_engine()
    try:
        version = engine.api().version()
        engine.busybox_base("bench/base:1")
        out = Path(tempfile.mkdtemp()) / "snap.json.gz"
        built, results, t_build = 0, [], 0.0
        for target in sizes:
            print(f"growing the private engine to {target} images...", file=sys.stderr)
            t0 = time.monotonic()
            built = grow(engine, target, built)
            t_build += time.monotonic() - t0
            results.append(measure(engine, args.repeat, out))
        print(f"Docker {version.get('Version')} (API {version.get('ApiVersion')}), storage "
              f"{engine.api().info().get('Driver')}; best of {args.repeat} runs each")
        print(f"  {'images':>7}  {'imgviz snapshot':>16}  {'docker CLI route':>17}  {'ratio':>7}")
        for n, best_ours, best_cli in results:
            flag = "ok" if best_ours / best_cli <= 0.25 else "ABOVE GOAL"
            print(f"  {n:>7}  {best_ours:>14.2f} s  {best_cli:>15.2f} s  {best_ours / best_cli:>7.3f}  "
                  f"(goal <= 0.25: {flag})")
        bare = startup("pass", args.repeat * 2)
        print(f"  where imgviz's time goes (fresh interpreters, best of {args.repeat * 2}): python "
              f"{bare:.2f} s, + import imgviz.cli {startup('import imgviz.cli', args.repeat * 2) - bare:.2f} s, "
              f"+ import docker (the SDK) {startup('import docker', args.repeat * 2) - bare:.2f} s")
        if args.memory:
            print(f"growing to {args.memory} images...", file=sys.stderr)
            t0 = time.monotonic()
            grow(engine, args.memory, built)
            t_build += time.monotonic() - t0
            res = subprocess.run([sys.executable, "-c", PEAK, engine.host], capture_output=True, text=True,
                                 check=True, cwd=ROOT)
            images, layers, kb = res.stdout.split()
            print(f"peak memory collecting + framing {images} images ({layers} layer rows): "
                  f"{int(kb) / 1024:.0f} MB (goal: < 300 MB)")
        print(f"(building the engine took {t_build:.0f} s; the whole run {time.monotonic() - t_start:.0f} s)")
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
