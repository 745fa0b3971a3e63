"""Benchmark: a whole-engine snapshot with imgviz vs the docker CLI route to the same facts.

Builds an engine state on a private dockerd (default 400 images: multi-layer images built with
BuildKit on a shared busybox base, plus single-layer imports), then measures in the same run:

* imgviz:  `imgviz snapshot -o FILE` (every image's inspect + history, containers, df)
* CLI:     `docker system df -v` + one `docker image inspect` of every image + `docker image history`
           per image (what a script would run to print the same facts)

and prints the ratio. With ``--memory N`` it also grows the engine to N images and reports the peak
resident memory of collecting and framing them.

    python bench/engine.py [--images 400] [--memory 2000]

Needs root and Debian's docker.io. Nothing here is a test: it only prints numbers.
"""

from __future__ import annotations

import argparse
import io
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=400)
    ap.add_argument("--memory", type=int, default=0, help="also measure peak memory at this many images")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    engine = start_private_engine()
    try:
        engine.busybox_base("bench/base:1")
        print(f"building {args.images} images on a private engine...", file=sys.stderr)
        built = grow(engine, args.images)
        n = len(engine.api().images())
        out = Path(tempfile.mkdtemp()) / "snap.json.gz"
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(imgviz_route(engine, out))
            theirs.append(cli_route(engine))
        best_ours, best_cli = min(ours), min(theirs)
        print(f"engine with {n} images (best of {args.repeat})")
        print(f"  imgviz snapshot          {best_ours:7.2f} s")
        print(f"  docker CLI route         {best_cli:7.2f} s")
        print(f"  ratio imgviz / CLI       {best_ours / best_cli:7.3f}  (goal: <= 0.25)")
        if args.memory:
            print(f"growing to {args.memory} images...", file=sys.stderr)
            grow(engine, args.memory, built)
            res = subprocess.run([sys.executable, "-c", PEAK, engine.host], capture_output=True, text=True,
                                 check=True, cwd=ROOT)
            images, layers, kb = res.stdout.split()
            print(f"peak memory collecting + framing {images} images ({layers} layer rows): "
                  f"{int(kb) / 1024:.0f} MB (goal: < 300 MB)")
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
