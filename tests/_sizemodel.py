"""The size-model experiments of docs/engines.md, run on real private engines of each kind.

``python -m tests._sizemodel [KIND...]`` (as root) runs, on a fresh private engine per kind:

* ``quantities``: a base and two images on it; per image every size the engine and its CLI give
  (image ls, /images/json, inspect, /system/df, history, ``?manifests=1``), and the disk under the
  engine's data root (content blobs vs unpacked snapshots on the containerd store);
* ``rmi``: what a removal frees (drop of /system/df LayersSize, of the disk) against imgviz's what-if,
  for an image alone on its base, one whose layers another image shares, several at once;
* ``pull``: push to Debian's docker-registry on 127.0.0.1, remove, pull back: the pull's own per-layer
  lines ("Already exists" / "Pull complete") against imgviz's pull plan;
* ``builders``: heredocs and ``COPY --link`` with each builder: built or refused, and what the
  image holds afterwards.

and writes ``tests/data/<kind>/sizemodel.json``. Nothing here asserts: these are measurements;
docs/engines.md cites them and the tests that hold on each engine prove the parts imgviz implements.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._engine import BuilderUnavailable, start_private_engine
from ._registry import start_registry

DATA = Path(__file__).parent / "data"


def _api_get(engine, path: str, **params):
    api = engine.api()
    try:
        return api._result(api._get(api._url(path), params=params), True)
    finally:
        api.close()


def _du(path: Path) -> dict:
    """Bytes on disk (allocated blocks) and apparent bytes below ``path``, this file system only."""
    if not path.exists():
        return {"blocks": None, "apparent": None}
    blocks = subprocess.run(["du", "-sxB1", str(path)], capture_output=True, text=True).stdout.split()
    apparent = subprocess.run(["du", "-sxb", str(path)], capture_output=True, text=True).stdout.split()
    return {"blocks": int(blocks[0]) if blocks else None, "apparent": int(apparent[0]) if apparent else None}


def _blocks_below(root: Path) -> int:
    """Allocated bytes of every inode in ``root`` (root itself too), each inode once: the rule of
    containerd's snapshot usage (continuity's fs.DiskUsage); an empty folder (an unused view)
    counts 0, as ``ctr snapshots usage`` shows for views."""
    if not any(root.iterdir()):
        return 0
    st = os.lstat(root)
    seen, total = {(st.st_dev, st.st_ino)}, st.st_blocks * 512
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def disk(engine) -> dict:
    """The disk under the engine's data root, by the parts that mean something for sizes."""
    root = engine.root
    if engine.kind == "podman":
        base = root / "root"
        parts = {"total": base, "overlay (layers, unpacked)": base / "overlay",
                 "overlay-images (configs, manifests)": base / "overlay-images",
                 "overlay-layers (layer metadata, tar-split)": base / "overlay-layers",
                 "overlay-containers": base / "overlay-containers"}
    else:
        base = root / "data"
        parts = {"total": base, "overlay2 (graph driver layers)": base / "overlay2",
                 "image (layerdb, imagedb)": base / "image",
                 "containerd content blobs": base / "containerd/daemon/io.containerd.content.v1.content",
                 "containerd snapshots (unpacked)": base / "containerd/daemon/io.containerd.snapshotter.v1.overlayfs",
                 "containerd metadata (bolt)": base / "containerd/daemon/io.containerd.metadata.v1.bolt",
                 "buildkit": base / "buildkit", "containers": base / "containers"}
    return {name: _du(p) for name, p in parts.items() if p.exists()}


def _ctx(root: Path, name: str, dockerfile: str, files: dict | None = None) -> Path:
    ctx = root / name
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    for rel, text in (files or {}).items():
        (ctx / rel).write_text(text)
    return ctx


def _image_rows(engine) -> dict:
    """Per image ID: every size the engine's API and CLI report."""
    listed = _api_get(engine, "/images/json")
    df = _api_get(engine, "/system/df")
    out = {}
    cli_ls = {}
    for line in engine.docker("image", "ls", "--no-trunc", "--format", "{{json .}}").stdout.splitlines():
        row = json.loads(line)
        cli_ls.setdefault(row["ID"], row)
    df_json = engine.docker("system", "df", "-v", "--format", "{{json .}}", check=False)
    df_cli = {}
    if df_json.returncode == 0:
        try:
            for row in json.loads(df_json.stdout).get("Images") or []:
                df_cli.setdefault(row.get("ID"), row)
        except (ValueError, AttributeError):
            pass
    for im in listed:
        iid = im["Id"]
        inspect = json.loads(engine.docker("image", "inspect", iid).stdout)[0]
        history = json.loads("[" + ",".join(engine.docker(
            "image", "history", "--no-trunc", "--format", "{{json .}}", iid).stdout.splitlines()) + "]")
        api_hist = _api_get(engine, f"/images/{iid}/history")
        dfrow = next((d for d in df.get("Images") or [] if d["Id"] == iid), None)
        out[iid] = {
            "tags": im.get("RepoTags"),
            "images_json": {k: im.get(k) for k in ("Size", "VirtualSize", "SharedSize", "Containers")},
            "inspect": {k: inspect.get(k) for k in ("Size", "VirtualSize")},
            "inspect_layers": len(inspect.get("RootFS", {}).get("Layers") or []),
            "history_sum": sum(int(h.get("Size") or 0) for h in api_hist),
            "history_sizes": [int(h.get("Size") or 0) for h in api_hist],
            "history_cli": [h.get("Size") for h in history],
            "system_df": {k: (dfrow or {}).get(k) for k in ("Size", "SharedSize", "VirtualSize", "Containers")}
            if dfrow else None,
            "cli_image_ls": {k: cli_ls.get(iid, {}).get(k) for k in ("Size", "VirtualSize", "SharedSize", "UniqueSize")},
            "cli_df_v": {k: df_cli.get(iid[7:19], {}).get(k) for k in ("Size", "SharedSize", "UniqueSize")}
            if df_cli else None,
        }
    return {"images": out, "layers_size": df.get("LayersSize"), "df_images": len(df.get("Images") or []),
            "build_cache": sum(int(b.get("Size") or 0) for b in df.get("BuildCache") or [])}


def _manifests(engine) -> list | None:
    version = engine.info()["ApiVersion"] or "1.0"
    if tuple(int(x) for x in version.split(".")) < (1, 47):
        return None
    return [{"Id": im["Id"], "RepoTags": im.get("RepoTags"), "Size": im.get("Size"),
             "Manifests": im.get("Manifests")} for im in _api_get(engine, "/images/json", manifests=1)]


def _content(engine) -> dict | None:
    """containerd's own account of a Docker 28 engine on the containerd store (ctr, namespace moby):
    every content blob (exact bytes) and every snapshot's usage, with their sums."""
    if engine.kind != "docker28-containerd":
        return None
    from ._engine import D28

    ctr = [str(D28 / "usr/bin/ctr"), "--address", str(engine.root / "x" / "containerd" / "containerd.sock"),
           "-n", "moby"]
    digests = [line.split()[0] for line in subprocess.run([*ctr, "content", "ls"], capture_output=True,
                                                           text=True).stdout.splitlines()[1:] if line.strip()]
    blobs = {d: len(subprocess.run([*ctr, "content", "get", d], capture_output=True).stdout) for d in digests}
    usage = subprocess.run([*ctr, "snapshots", "--snapshotter", "overlayfs", "usage"], capture_output=True,
                           text=True).stdout
    units = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
    snaps = {}
    for line in usage.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[2] in units:
            snaps[parts[0]] = round(float(parts[1]) * units[parts[2]])
    # ctr prints usage rounded (1.9 MiB); the snapshotter counts allocated blocks of each fs folder,
    # which du gives exactly
    fs_dirs = sorted((engine.root / "data/containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots")
                     .glob("*/fs"))
    snaps_du = sum(_blocks_below(p) for p in fs_dirs)
    return {"blobs": blobs, "blobs_total": sum(blobs.values()), "snapshots": snaps, "snapshots_du_total": snaps_du,
            "snapshots_total": sum(snaps.values()),
            "image_snapshots_total": sum(v for k, v in snaps.items() if k.startswith("sha256:")),
            "snapshots_usage_text": usage}


def quantities(engine, work: Path) -> dict:
    engine.busybox_base("sm/base:1")
    engine.build(_ctx(work, "one", "FROM sm/base:1\nRUN head -c 100000 /dev/urandom > /r100k\n"), "sm/one:1")
    engine.build(_ctx(work, "two", "FROM sm/one:1\nRUN head -c 50000 /dev/urandom > /r50k\n"
                                   "COPY f.txt /f.txt\n", {"f.txt": "x" * 3000}), "sm/two:1")
    time.sleep(1)
    rows = _image_rows(engine)
    saved = work / "two.tar"
    engine.docker("save", "-o", str(saved), "sm/two:1")
    result = {"images": rows, "manifests": _manifests(engine), "content": _content(engine), "disk": disk(engine),
              "docker_save_two_bytes": saved.stat().st_size}
    if engine.kind != "podman":  # the same after `docker builder prune -af`: what the build cache held
        engine.docker("builder", "prune", "-af")
        result["after_builder_prune"] = {"layers_size": _layers_size(engine), "content": _content(engine),
                                         "disk": disk(engine)}
    return {**result,
            "cli": {k: engine.docker(*c, check=False).stdout for k, c in {
                "image ls": ["image", "ls"], "system df": ["system", "df"], "system df -v": ["system", "df", "-v"],
                "history sm/two:1": ["image", "history", "sm/two:1"]}.items()}}


def _layers_size(engine) -> int:
    return int(_api_get(engine, "/system/df").get("LayersSize") or 0)


def _predicted(engine, refs) -> dict:
    from imgviz.analysis import sizes
    from imgviz.frames import frames
    from imgviz.sources.engine import collect

    f = frames(collect(host=engine.host, progress=False))
    ids = sizes.resolve_images(f.images, refs)
    t = sizes.what_if_totals(f, ids)
    return {k: (int(v) if isinstance(v, (int, float)) and v == v else str(v)) for k, v in t.items()}


def rmi(engine, work: Path) -> dict:
    engine.busybox_base("rm/base:1")
    builds = {
        "alone": ("FROM rm/base:1\nRUN head -c 100000 /dev/urandom > /a\n", "rm/alone:1"),
        "shared-parent": ("FROM rm/base:1\nRUN head -c 60000 /dev/urandom > /p\n", "rm/parent:1"),
        "shared-child": ("FROM rm/parent:1\nRUN head -c 30000 /dev/urandom > /c\n", "rm/child:1"),
        "several-1": ("FROM rm/base:1\nRUN head -c 40000 /dev/urandom > /s1\n", "rm/s1:1"),
        "several-2": ("FROM rm/s1:1\nRUN head -c 20000 /dev/urandom > /s2\n", "rm/s2:1"),
        "several-3": ("FROM rm/base:1\nRUN head -c 70000 /dev/urandom > /s3\n", "rm/s3:1"),
    }
    for name, (dockerfile, tag) in builds.items():
        engine.build(_ctx(work, f"rm-{name}", dockerfile), tag)
    if engine.kind != "podman":
        engine.docker("builder", "prune", "-af")  # build cache references would hold layers
    steps = [("alone on its base", ["rm/alone:1"]),
             ("shares its layers with a child image (tag only goes)", ["rm/parent:1"]),
             ("the child, last holder of the shared layer", ["rm/child:1"]),
             ("several at once (a parent, its child, a sibling)", ["rm/s1:1", "rm/s2:1", "rm/s3:1"])]
    out = []
    for what, refs in steps:
        time.sleep(0.5)
        pred = _predicted(engine, refs)
        ids = [engine.image_id(r) for r in refs]
        before, disk_before = _layers_size(engine), disk(engine)
        rows = _image_rows(engine)["images"]
        proc = engine.docker("image", "rm", *refs, check=False)
        time.sleep(0.5)
        after, disk_after = _layers_size(engine), disk(engine)
        out.append({"what": what, "refs": refs, "rm_output": proc.stdout + proc.stderr,
                    "layers_size_before": before, "layers_size_after": after, "layers_size_drop": before - after,
                    "disk_drop": {k: (disk_before[k]["blocks"] or 0) - (disk_after.get(k, {}).get("blocks") or 0)
                                  for k in disk_before},
                    "imgviz_what_if": pred, "images": {i: rows.get(i) for i in ids}})
    return {"steps": out}


PULL_LINE = re.compile(r"^([0-9a-f]{12}): (Already exists|Pull complete|Download complete|Exists)$")


def _plan(engine, ref) -> dict | str:
    from imgviz.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["pull-plan", ref, "--json", "--host", engine.host])
    if code != 0:
        return f"exit {code}: {err.getvalue().strip()}"
    plan = json.loads(out.getvalue())
    return {"actions": [(layer["digest"][7:19], layer["action"]) for layer in plan["layers"]],
            "download_bytes": plan.get("download_bytes")}


def _pull(engine, ref) -> dict:
    proc = engine.docker("pull", ref, check=False)
    text = proc.stdout + proc.stderr
    statuses: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = PULL_LINE.match(line.strip())
        if m:
            statuses.setdefault(m.group(1), []).append(m.group(2))
    return {"exit": proc.returncode, "statuses": statuses, "output": text[-3000:]}


def pull(engine, work: Path) -> dict:
    reg = start_registry()
    try:
        engine.busybox_base("pl/base:1")
        engine.build(_ctx(work, "pl", "FROM pl/base:1\nRUN head -c 80000 /dev/urandom > /p1\n"
                                      "RUN head -c 20000 /dev/urandom > /p2\n"), "pl/app:1")
        ref = reg.ref("pl/app:1")
        base_ref = reg.ref("pl/base:1")
        engine.docker("tag", "pl/app:1", ref)
        engine.docker("tag", "pl/base:1", base_ref)
        steps = []
        push = engine.docker("push", ref, check=False)
        engine.docker("push", base_ref, check=False)
        steps.append({"step": "push", "output": (push.stdout + push.stderr)[-2000:]})

        def one(what):
            plan = _plan(engine, ref)
            got = _pull(engine, ref)
            steps.append({"step": what, "plan": plan, "pull": got})

        engine.docker("image", "rm", ref, "pl/app:1")
        one("rmi the pushed image (its build cache kept, as users have it), pull it back")
        if engine.kind != "podman":
            engine.docker("builder", "prune", "-af")  # build cache references keep the layers
        engine.docker("image", "rm", ref)
        one("rmi it again and prune the build cache (base stays), pull it back")
        engine.docker("image", "rm", ref, base_ref, "pl/base:1", check=False)
        one("rmi everything, pull it back")
        sibling = engine.sibling()
        try:
            sp = _plan(sibling, ref)
            steps.append({"step": "a fresh engine: plan, pull, rmi, pull", "plan_fresh": sp,
                          "pull_fresh": _pull(sibling, ref)})
            sibling.docker("image", "rm", ref)
            steps[-1]["plan_again"] = _plan(sibling, ref)
            steps[-1]["pull_again"] = _pull(sibling, ref)
        finally:
            sibling.stop()
        return {"registry": "127.0.0.1:<free port>", "steps": steps}
    finally:
        reg.stop()


FEATURES = {
    "heredoc": ("FROM {base}\nRUN <<EOF\necho one > /h\necho two >> /h\nEOF\n", "cat /h"),
    "copy --link": ("FROM {base}\nCOPY --link f.txt /f.txt\n", "cat /f.txt"),
    "copy --chmod": ("FROM {base}\nCOPY --chmod=755 f.txt /f.txt\n", "ls -l /f.txt"),
    "run --mount=type=bind": ("FROM {base}\nRUN --mount=type=bind,source=f.txt,target=/m.txt cat /m.txt > /copy\n",
                              "cat /copy"),
}


def builders(engine, work: Path) -> dict:
    """Per Dockerfile feature and builder: built or refused (the engine's words), and what the
    image holds (a build that succeeds but ignores the feature shows here)."""
    engine.busybox_base("bl/base:1")
    out = {}
    for feature, (dockerfile, check) in FEATURES.items():
        for builder in ("buildkit", "classic"):
            name = re.sub(r"[^a-z]+", "-", feature).strip("-")
            ctx = _ctx(work, f"{name}-{builder}", dockerfile.format(base="bl/base:1"), {"f.txt": "file\n"})
            tag = f"bl/{name}-{builder}:1"
            try:
                log = engine.build(ctx, tag, buildkit=builder == "buildkit")
                ok = True
            except BuilderUnavailable as exc:
                out[f"{feature} / {builder}"] = {"built": None, "why": str(exc)}
                continue
            except AssertionError as exc:
                log, ok = str(exc), False
            entry = {"built": ok, "log": log[-1200:]}
            if ok:
                run = engine.docker("run", "--rm", "--network", "none", tag, "sh", "-c", check, check=False)
                entry["check"] = f"{check} -> {run.stdout + run.stderr}"
                entry["history"] = [h["CreatedBy"] for h in _api_get(engine, f"/images/{tag}/history")]
            else:
                entry["error"] = [line for line in log.splitlines() if line.strip()][-2:]
            out[f"{feature} / {builder}"] = entry
    return out


EXPERIMENTS = {"quantities": quantities, "rmi": rmi, "pull": pull, "builders": builders}


def run(kind: str, names=None) -> dict:
    result = {"kind": kind}
    for name in names or EXPERIMENTS:
        engine = start_private_engine(kind)
        try:
            info = engine.info()
            result["engine"] = {"version": info.get("ServerVersion"), "api": info.get("ApiVersion"),
                                "driver": info.get("Driver"), "driver_status": info.get("DriverStatus"),
                                "client": engine.docker("version", "--format", "{{.Client.Version}}").stdout.strip()}
            with tempfile.TemporaryDirectory(prefix="sm-") as tmp:
                result[name] = EXPERIMENTS[name](engine, Path(tmp))
        except Exception as exc:  # a measurement that fails is a finding too
            result[name] = {"error": f"{type(exc).__name__}: {exc}"[-3000:]}
        finally:
            engine.stop()
    return result


if __name__ == "__main__":
    kinds = [a for a in sys.argv[1:] if not a.startswith("--")] or ["docker20", "docker28", "docker28-containerd",
                                                                     "podman"]
    only = [a[2:] for a in sys.argv[1:] if a.startswith("--")] or None
    for kind in kinds:
        res = run(kind, only)
        out = DATA / kind / "sizemodel.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(out.read_text()) if out.exists() and only else {}
        old.update(res)
        text = json.dumps(old, indent=1, sort_keys=True, default=str)
        out.write_text(re.sub(r"unix:///tmp/iv[a-z0-9]+-[a-z0-9_]+/d\.sock", "unix:///recorded/engine.sock", text))
        print(out, os.path.getsize(out))
