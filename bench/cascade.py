"""Benchmark: predicting a build-cache cascade vs doing the rebuild, and context hashing vs sha256sum.

Three measurements, all made in the same run and printed as ratios (nothing here is a test):

1. predict vs rebuild: for each cascade scenario (tests/cascade_scenarios) and builder, build OLD
   on a private dockerd (fresh base layers per case), then time the rebuild of NEW
   (``docker build``) and the prediction ``imgviz.cascade(OLD, NEW)`` for the same case.
   Goal: the prediction at least 50 times faster.
2. context hashing: a context of N files (default 10,000 x 100 KiB = 1 GiB); time
   ``sha256sum`` over every file (one process, via xargs) and ``BuildContext.hash_all`` (the
   identity the prediction uses: walk, .dockerignore, sha256 of every file).  Both run with a warm
   page cache (one untimed pass first), best of ``--repeat``.  Goal: at least 70% of sha256sum's
   throughput.

3. long Dockerfiles: ``imgviz cascade OLD NEW`` (a subprocess, both builders, Docker 20.10's and
   28.5's rules) on 10,000-line Dockerfiles whose first ENV changes (so nearly every step is
   predicted and explained): ``env-chain`` (each ENV reads the one before: the case that took
   51 s and more), ``mixed`` (ENV, ARG, RUN with continuations, COPY, LABEL, WORKDIR, heredocs on
   28.5, several stages; bench/dockerfile.py's generator) and ``nested`` (3,000 nested ``${``,
   closed and unclosed: the unclosed one must end in one line of error, exit status 1).  Wall
   and CPU time of the whole command; the peer is BuildKit's own Go parser (the ``dockerfile``
   package) parsing the same text once.  Goal: under 2 s.

    python bench/cascade.py [--files 10000] [--file-kib 100] [--repeat 3] [--skip-builds]
                            [--skip-hash] [--skip-long] [--lines 10000]

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
from tests.cascade_scenarios import SCENARIOS, expected  # noqa: E402
from tests.cascade_scenarios import runner  # noqa: E402


def bench_predict(engine, names, root: Path) -> list[dict]:
    from imgviz.builders import get_builder
    from imgviz.sources.engine import engine_version

    rows = []
    version = engine_version(engine.host)
    for name in names:
        sc = SCENARIOS[name]
        for builder in ("buildkit", "classic"):
            if expected(name, builder, get_builder(builder, version).engine) in ("refused", "unbuildable"):
                continue   # a build that fails is no rebuild to time
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
                steps = cascade(d / "old", d / "new", builder, engine_version=version)
                preds.append(time.perf_counter() - t0)
            t_pred = min(preds)
            rows.append({"case": f"{name}/{builder}", "rebuild_s": t_build, "predict_s": t_pred,
                         "ratio": t_build / t_pred, "rebuilt": int((steps["cached"] == False).sum())})  # noqa: E712
    return rows


def _long_dockerfiles(lines: int, engine: str, builder: str) -> dict[str, tuple[str, str]]:
    """name -> (OLD text, NEW text) of the long-Dockerfile cases; NEW changes the first ENV (or
    the first ARG).  ``mixed`` holds heredocs only where the builder builds them (28.5's BuildKit:
    28.5's classic builder refuses a COPY of heredocs alone)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_dockerfile", Path(__file__).with_name("dockerfile.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    out = {}
    chain = gen.env_chain(lines).replace("FROM scratch", "FROM base:1")
    out["env-chain"] = (chain, chain.replace("ENV V0=x", "ENV V0=y", 1))
    mixed = gen.mixed(lines, engine if builder == "buildkit" else "20.10")
    out["mixed"] = (mixed, mixed.replace("ARG VERSION=1.0", "ARG VERSION=1.1", 1))
    ok = gen.nested(3000).replace("FROM scratch", "FROM base:1")
    out["nested"] = (ok, ok)
    out["nested-unclosed"] = (ok, ok.rstrip("\n")[:-1] + "\n")
    return out


def bench_long(lines: int, repeat: int) -> list[dict]:
    """``imgviz cascade`` end to end on long Dockerfiles (best of *repeat*)."""
    here = Path(__file__).resolve().parent
    saved = list(sys.path)
    sys.path[:] = [x for x in sys.path if Path(x or ".").resolve() != here]   # bench/dockerfile.py is not the peer
    sys.modules.pop("dockerfile", None)
    try:
        import dockerfile as oracle
    except ImportError:
        oracle = None
    finally:
        sys.path[:] = saved
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp:
        for engine, version in (("20.10", "20.10.24"), ("28.5", "28.5.2")):
            for builder in ("buildkit", "classic"):
                for name, (old, new) in _long_dockerfiles(lines, engine, builder).items():
                    root = Path(tmp) / engine / builder / name
                    for side, text in (("old", old), ("new", new)):
                        (root / side).mkdir(parents=True, exist_ok=True)
                        (root / side / "Dockerfile").write_text(text)
                        _context_for(root / side, engine)
                    go = float("nan")
                    if oracle is not None:
                        go = min(_timed(lambda: oracle.parse_string(new))[0] for _ in range(repeat))
                    cmd = [sys.executable, "-m", "imgviz", "cascade", str(root / "old"), str(root / "new"),
                           "--builder", builder, "--engine-version", version]
                    runs = [_run_cli(cmd) for _ in range(repeat)]
                    wall, cpu, status, err = min(runs, key=lambda r: r[0])
                    rows.append({"case": name, "engine": engine, "builder": builder, "lines": new.count("\n"),
                                 "wall": wall, "cpu": cpu, "go": go, "status": status,
                                 "stderr_lines": len(err.splitlines()), "stderr_chars": len(err)})
    return rows


def _context_for(d: Path, engine: str) -> None:
    """Every file and directory the Dockerfile in *d* copies (as the builder expands the sources),
    so the build is one the builder accepts."""
    from imgviz.dockerfile.expand import evaluate
    from imgviz.dockerfile.parser import parse_file

    df = parse_file(d / "Dockerfile", engine=engine)
    expanded = [e for b in ("buildkit", "classic") for e in evaluate(df, builder=b, raise_errors=False).instructions]
    for e in expanded:
        for src in e.values.get("sources") or () if not e.ins.flag("from") else ():
            target = d / src.lstrip("/")
            if src.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
                (target / "f.txt").write_text("f\n")
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("c\n")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _run_cli(cmd) -> tuple[float, float, int, str]:
    """(wall s, CPU s of the child, exit status, stderr) of one command."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stderr


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
    ap.add_argument("--skip-long", action="store_true")
    ap.add_argument("--lines", type=int, default=10_000, help="length of the long Dockerfiles")
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

    if not args.skip_long:
        rows = bench_long(args.lines, args.repeat)
        print(f"imgviz cascade on long Dockerfiles (whole command, best of {args.repeat}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):")
        print(f"  {'case':<16}{'engine':>7}{'builder':>10}{'lines':>7}{'wall s':>8}{'CPU s':>7}{'Go parse s':>11}"
              f"{'CPU/Go':>8}{'exit':>5}{'stderr':>14}")
        for r in rows:
            ratio = r["cpu"] / r["go"] if r["go"] == r["go"] and r["go"] > 0 else float("nan")
            print(f"  {r['case']:<16}{r['engine']:>7}{r['builder']:>10}{r['lines']:>7}{r['wall']:>8.2f}{r['cpu']:>7.2f}"
                  f"{r['go']:>11.3f}{ratio:>7.0f}x{r['status']:>5}{r['stderr_lines']:>5} line(s)")
        worst = max(r["cpu"] for r in rows)
        print(f"  slowest: {worst:.2f} s CPU (goal < 2 s); the Go parser parses only, imgviz parses, expands, "
              "checks and predicts both builds")

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
