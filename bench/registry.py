"""Benchmarks for the registry and archive sources (run as root: ``python bench/registry.py``).

1. Registry inspection: push N small images (tags) to a private Debian docker-registry on
   127.0.0.1, then, in the same run, time
     - imgviz: ``imgviz.sources.registry.collect`` of all N references (manifest + config each,
       no layer blobs), and
     - a loop of ``skopeo inspect --tls-verify=false docker://127.0.0.1:PORT/...`` (Debian's skopeo)
       over the same references,
   and print both times and their ratio. Both read the same data (manifest + config per image).
2. Archive metadata: build an image with ~1 GB of random data, ``docker save`` it, and time
   reading its metadata with the archive source, counting the bytes actually read from the tar.

Options: ``--images N`` (default 200), ``--big-mb MB`` (default 1000, 0 skips part 2),
``--host`` (an engine to use instead of a private one).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imgviz.sources import archive, registry  # noqa: E402
from tests._engine import Engine, start_private_engine  # noqa: E402
from tests._registry import start_registry  # noqa: E402


def push_many(engine: Engine, reg, n: int, work: Path) -> list[str]:
    """N tags: each a tiny image on the busybox base with its own one-file layer."""
    engine.busybox_base("ivbench/base:1")
    refs = []
    ctx = work / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM ivbench/base:1\nARG N\nRUN echo $N > /n\n")
    for i in range(n):
        tag = reg.ref(f"bench/img{i % 10}:t{i}")
        engine.docker("build", "-q", "--network", "none", "--build-arg", f"N={i}", "-t", tag, str(ctx))
        refs.append(tag)
    # push in parallel batches (the engine pushes up to 5 at a time anyway)
    procs = []
    for tag in refs:
        procs.append(subprocess.Popen(["/usr/bin/docker", "push", tag], env=engine.env(), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE))
        if len(procs) >= 8:
            for p in procs:
                assert p.wait() == 0, p.stderr.read()
            procs = []
    for p in procs:
        assert p.wait() == 0, p.stderr.read()
    return refs


def bench_registry(engine: Engine, n: int, work: Path) -> dict:
    reg = start_registry()
    try:
        t0 = time.perf_counter()
        refs = push_many(engine, reg, n, work)
        print(f"pushed {n} images in {time.perf_counter() - t0:.1f}s", flush=True)

        t0 = time.perf_counter()
        with registry.RegistryClient(workers=8) as client:
            snap = registry.collect(refs, client=client, progress=False)
            requests = client.requests
        t_imgviz = time.perf_counter() - t0
        assert len(snap.images) == n, len(snap.images)

        t0 = time.perf_counter()
        for ref in refs:
            subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"], check=True,
                           stdout=subprocess.DEVNULL)
        t_skopeo = time.perf_counter() - t0

        t0 = time.perf_counter()
        cli = [sys.executable, "-m", "imgviz", "images", "--json"]
        for ref in refs:
            cli += ["--registry", ref]
        subprocess.run(cli, check=True, stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parent.parent)
        t_cli = time.perf_counter() - t0

        t0 = time.perf_counter()
        with registry.RegistryClient(workers=1) as client:
            registry.collect(refs, client=client, progress=False, workers=1)
        t_serial = time.perf_counter() - t0
        out = {"images": n, "imgviz_s": t_imgviz, "imgviz_serial_s": t_serial, "skopeo_loop_s": t_skopeo,
               "ratio": t_skopeo / t_imgviz, "requests": requests, "cli_s": t_cli}
        print(f"registry inspection of {n} images (manifest + config each, no layer blobs):")
        print(f"  imgviz registry.collect, 8 workers: {t_imgviz:7.2f} s  ({requests} HTTP requests)")
        print(f"  imgviz registry.collect, 1 worker:  {t_serial:7.2f} s")
        print(f"  `imgviz images --registry` x{n} (one process, start-up included): {t_cli:7.2f} s")
        print(f"  skopeo inspect loop:                {t_skopeo:7.2f} s")
        print(f"  skopeo loop / imgviz = {out['ratio']:.1f}x;  skopeo loop / imgviz CLI = {t_skopeo / t_cli:.1f}x",
              flush=True)
        return out
    finally:
        reg.stop()


def bench_archive(engine: Engine, mb: int, work: Path) -> dict:
    ctx = work / "big"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM ivbench/base:1\nRUN head -c {mb}000000 /dev/urandom > /big\n"
                                    "RUN echo small > /small\n")
    engine.busybox_base("ivbench/base:1")
    engine.docker("build", "-q", "--network", "none", "-t", "ivbench/big:1", str(ctx), timeout=1800)
    tar = work / "big.tar"
    engine.docker("save", "-o", str(tar), "ivbench/big:1", timeout=1800)
    size = tar.stat().st_size
    os.system("sync")
    t0 = time.perf_counter()
    snap = archive.collect(tar)
    t_meta = time.perf_counter() - t0
    read = snap.source["bytes_read"]
    t0 = time.perf_counter()
    verified = archive.collect(tar, read_layers=True)
    t_verify = time.perf_counter() - t0
    print(f"docker save tar of {size / 1e9:.2f} GB ({len(snap.images[0]['config']['rootfs']['diff_ids'])} layers):")
    print(f"  metadata read: {t_meta * 1000:8.1f} ms, {read} bytes read ({read / size:.6%} of the file)")
    print(f"  read_layers:   {t_verify:8.2f} s,  {verified.source['bytes_read']} bytes read", flush=True)
    return {"tar_bytes": size, "meta_s": t_meta, "meta_bytes_read": read, "verify_s": t_verify,
            "verify_bytes_read": verified.source["bytes_read"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--big-mb", type=int, default=1000)
    ap.add_argument("--host", help="use this engine instead of a private dockerd")
    args = ap.parse_args(argv)
    engine = Engine(args.host) if args.host else start_private_engine()
    work = Path(tempfile.mkdtemp(prefix="ivbench-"))
    try:
        if args.images:
            bench_registry(engine, args.images, work)
        if args.big_mb:
            bench_archive(engine, args.big_mb, work)
    finally:
        if not args.host:
            engine.stop()
        subprocess.run(["rm", "-rf", str(work)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
