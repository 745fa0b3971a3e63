"""Benchmark: predicting a build-cache cascade vs doing the rebuild, and context hashing vs sha256sum.

Two measurements, both made in the same run and printed as ratios (nothing here is a test):

1. predict vs rebuild: for each cascade scenario (tests/cascade_scenarios) and builder, build OLD
   on a private dockerd (fresh base layers per case), then time the rebuild of NEW
   (``docker build``) and the prediction ``imgviz.cascade(OLD, NEW)`` for the same case.
   Goal: the prediction at least 50 times faster.
2. context hashing: a context of N files (default 10,000 x 100 KiB = 1 GiB); time
   ``sha256sum`` over every file (one process, via xargs) and ``BuildContext.hash_all`` (the
   identity the prediction uses: walk, .dockerignore, sha256 of every file).  Both run with a warm
   page cache (one untimed pass first), best of ``--repeat``.  Goal: at least 70% of sha256sum's
   throughput.

    python bench/cascade.py [--files 10000] [--file-kib 100] [--repeat 3] [--skip-builds]

Needs root and Debian's docker.io for part 1 (or DOCKER_HOST of an engine you own via --host).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imgviz.analysis.cascade import cascade  # noqa: E402
from imgviz.dockerfile.context import BuildContext  # noqa: E402
from tests._engine import Engine, start_private_engine  # noqa: E402
from tests.cascade_scenarios import SCENARIOS  # noqa: E402
from tests.cascade_scenarios import runner  # noqa: E402


def bench_predict(engine, names, root: Path) -> list[dict]:
    rows = []
    for name in names:
        sc = SCENARIOS[name]
        for builder in ("buildkit", "classic"):
            tag = f"imgviz-bench/{name}-{builder}"
            runner.import_base(engine, runner.busybox_tar(tag), f"{tag}:base")
            subs = {"{BASE}": f"{tag}:base"}
            if "{BASE2}" in sc["new"]["Dockerfile"]:
                tar2 = runner.busybox_tar(tag) if not sc.get("base2_same_layers") else runner.busybox_tar(tag + "2")
                runner.import_base(engine, tar2, f"{tag}:base2")
                subs["{BASE2}"] = f"{tag}:base2"

            old, new = runner.with_bases(sc["old"], subs), runner.with_bases(sc["new"], subs)
            nt = runner.new_mtimes(old, new)
            d = root / f"{name}-{builder}"
            runner.materialize(old, d / "old", {}, runner.T_OLD)
            runner.materialize(new, d / "new", nt, runner.T_NEW)
            runner.materialize(old, d / "ws", {}, runner.T_OLD)
            runner.build(engine, d / "ws", f"{tag}:old", builder)
            runner.clear(d / "ws")
            runner.materialize(new, d / "ws", nt, runner.T_NEW)
            t0 = time.perf_counter()
            runner.build(engine, d / "ws", f"{tag}:new", builder)
            t_build = time.perf_counter() - t0
            preds = []
            for _ in range(5):  # best of 5: the machine is shared, the rebuild is timed once
                t0 = time.perf_counter()
                steps = cascade(d / "old", d / "new", builder)
                preds.append(time.perf_counter() - t0)
            t_pred = min(preds)
            rows.append({"case": f"{name}/{builder}", "rebuild_s": t_build, "predict_s": t_pred,
                         "ratio": t_build / t_pred, "rebuilt": int((steps["cached"] == False).sum())})  # noqa: E712
    return rows


def make_context(root: Path, files: int, kib: int) -> int:
    block = os.urandom(kib * 1024)
    total = 0
    for i in range(files):
        sub = root / f"d{i // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        data = block[i % 997:] + block[:i % 997]  # distinct contents, same size
        (sub / f"f{i:05d}.bin").write_bytes(data)
        total += len(data)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /data\n")
    return total


def time_sha256sum(root: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(f"find {root} -type f -print0 | xargs -0 -n 5000 sha256sum > /dev/null",
                   shell=True, check=True)
    return time.perf_counter() - t0


def time_openssl(root: Path) -> float | None:
    if not shutil.which("openssl"):
        return None
    t0 = time.perf_counter()
    subprocess.run(f"find {root} -type f -print0 | xargs -0 -n 5000 openssl dgst -sha256 > /dev/null",
                   shell=True, check=True)
    return time.perf_counter() - t0


def time_hash_all(root: Path, workers: int) -> float:
    t0 = time.perf_counter()
    ctx = BuildContext(root)
    ctx.hash_all(workers=workers)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--file-kib", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-builds", action="store_true")
    ap.add_argument("--skip-hash", action="store_true")
    ap.add_argument("--host", default=None, help="use this engine instead of a private dockerd")
    ap.add_argument("--cases", default="", help="comma-separated scenario names (default: all)")
    args = ap.parse_args()

    if not args.skip_builds:
        engine = Engine(args.host) if args.host else start_private_engine()
        names = [n for n in args.cases.split(",") if n] or list(SCENARIOS)
        tmp = Path(tempfile.mkdtemp(prefix="bench-cascade-"))
        try:
            rows = bench_predict(engine, names, tmp)
        finally:
            if not args.host:
                engine.stop()
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"{'case':<48}{'rebuild s':>10}{'predict ms':>12}{'x faster':>10}   (predict: best of 5)")
        for r in rows:
            print(f"{r['case']:<48}{r['rebuild_s']:>10.3f}{r['predict_s'] * 1000:>12.2f}{r['ratio']:>10.0f}")
        ratios = [r["ratio"] for r in rows]
        geo = math.exp(statistics.fmean(math.log(x) for x in ratios))
        total = sum(r["rebuild_s"] for r in rows) / sum(r["predict_s"] for r in rows)
        print(f"predict vs rebuild over {len(rows)} cases: min {min(ratios):.0f}x, geometric mean {geo:.0f}x, "
              f"total time {total:.0f}x (goal >= 50x)")

    if not args.skip_hash:
        root = Path(tempfile.mkdtemp(prefix="bench-ctx-", dir="/tmp"))
        try:
            total = make_context(root, args.files, args.file_kib)
            time_sha256sum(root)      # warm the page cache
            time_hash_all(root, 1)
            t_sum = min(time_sha256sum(root) for _ in range(args.repeat))
            t_one = min(time_hash_all(root, 1) for _ in range(args.repeat))
            t_two = min(time_hash_all(root, 2) for _ in range(args.repeat))
            t_ssl = time_openssl(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        mb = total / 1e6
        print(f"context of {args.files} files, {mb:.0f} MB (warm cache, best of {args.repeat}):")
        print(f"  sha256sum            {t_sum:7.2f} s  {mb / t_sum:8.0f} MB/s")
        print(f"  imgviz, 1 thread     {t_one:7.2f} s  {mb / t_one:8.0f} MB/s  = {t_sum / t_one:.0%} of sha256sum")
        if t_ssl:
            print(f"  openssl dgst         {t_ssl:7.2f} s  {mb / t_ssl:8.0f} MB/s  (for context: OpenSSL's sha256)")
        print(f"  imgviz, 2 threads    {t_two:7.2f} s  {mb / t_two:8.0f} MB/s  = {t_sum / t_two:.0%} of sha256sum"
              " (goal >= 70%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
