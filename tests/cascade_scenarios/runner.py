"""Build OLD then NEW on a real engine and read which steps the engine took from its cache.

* Each (scenario, builder) gets its own base image: busybox-static imported with a
  label naming the run, so its image ID (and every cache key above it) is new to the
  engine.  Earlier scenarios cannot cause hits.
* OLD and NEW are built from the *same* directory (NEW replaces OLD's files in
  place, keeping the modification times the scenario gives), as a user editing a
  project does; BuildKit's incremental context transfer behaves as in real use.
* The prediction reads separate copies of OLD and NEW with the same times.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

BUSYBOX = "/usr/bin/busybox"
T_OLD = 1_700_000_000_000_000_000   # ns, modification time of OLD's files
T_NEW = 1_700_000_500_000_000_000   # ns, modification time of files NEW changes

_BK_VERTEX = re.compile(r"^#(\d+) \[(?:(\S+) )?(\d+)/(\d+)\] (.*)$")
_BK_STATUS = re.compile(r"^#(\d+) (CACHED|DONE|ERROR)\b")
_CLASSIC_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_BUILDAH_STEP = re.compile(r"^(?:\[(\d+)/(\d+)\] )?STEP (\d+)/(\d+): (.*)$")


def busybox_tar(run_id: str) -> bytes:
    """A tiny root file system: busybox-static, a few applets and ``/etc/imgviz-run``.

    *run_id* goes into that file, so each run's base has its own layer: BuildKit
    identifies a base by its layers' chain ID, not by its config or tag, so a
    label alone would not keep scenarios apart."""
    with tempfile.TemporaryDirectory(prefix="cbb-") as tmp:
        root = Path(tmp) / "rootfs"
        (root / "bin").mkdir(parents=True)
        for d in ("tmp", "etc", "root"):
            (root / d).mkdir()
        os.chmod(root / "tmp", 0o1777)
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000::/tmp:/bin/sh\n")
        (root / "etc" / "group").write_text("root:x:0:\nappuser:x:1000:\n")
        (root / "etc" / "imgviz-run").write_text(f"{run_id} {uuid.uuid4().hex}\n")
        shutil.copy2(BUSYBOX, root / "bin" / "busybox")
        for applet in ("sh", "echo", "cat", "ls", "mkdir", "touch", "chmod", "true", "cp", "sha256sum", "wc", "sleep"):
            (root / "bin" / applet).symlink_to("busybox")
        return subprocess.run(["tar", "-C", str(root), "--owner=0", "--group=0", "--numeric-owner",
                               "--mtime=@0", "--sort=name", "-cf", "-", "."], capture_output=True,
                              check=True).stdout


def import_base(engine, tar: bytes, tag: str) -> str:
    """Import *tar* as *tag* with a label unique to this call (a fresh image ID)."""
    proc = subprocess.run(["/usr/bin/docker", "import", "--change", "ENV PATH=/bin",
                           "--change", f"LABEL imgviz.cascade.run={tag}-{uuid.uuid4().hex[:8]}",
                           "-", tag], input=tar, env=engine.env(), capture_output=True)
    if proc.returncode != 0:
        raise AssertionError(f"docker import {tag} failed: {proc.stderr.decode()}")
    return proc.stdout.decode().strip()


# -- materialise a file tree ----------------------------------------------------------
def materialize(spec: dict, root: Path, mtimes: dict[str, int], default_mtime: int) -> None:
    """Write *spec* (path -> content str | dict) below *root*.

    dict keys: ``content``, ``mode`` (int), ``symlink`` (target), ``dir`` (True),
    ``mtime`` (ns).  Times come from *mtimes* (per path) or *default_mtime*.
    """
    root.mkdir(parents=True, exist_ok=True)
    dirs = []
    for rel in sorted(spec):
        item = spec[rel]
        if isinstance(item, str):
            item = {"content": item}
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if item.get("dir"):
            p.mkdir(exist_ok=True)
            if "mode" in item:
                os.chmod(p, item["mode"])
            dirs.append((p, rel))
            continue
        if "symlink" in item:
            p.symlink_to(item["symlink"])
            t = mtimes.get(rel, default_mtime)
            os.utime(p, ns=(t, t), follow_symlinks=False)
            continue
        p.write_bytes(item["content"].encode())
        os.chmod(p, item.get("mode", 0o644))
        t = item.get("mtime", mtimes.get(rel, default_mtime))
        os.utime(p, ns=(t, t))
    # directories: fixed times (they do not matter to either builder)
    for dirpath, dirnames, _ in os.walk(root):
        os.utime(dirpath, ns=(T_OLD, T_OLD))


def clear(root: Path) -> None:
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def with_bases(tree: dict, subs: dict[str, str]) -> dict:
    """A scenario tree whose Dockerfile names this run's base images ({BASE} -> tag:base)."""
    out = dict(tree)
    for placeholder, tag in subs.items():
        out["Dockerfile"] = out["Dockerfile"].replace(placeholder, tag)
    return out


def new_mtimes(old: dict, new: dict) -> dict[str, int]:
    """Unchanged files keep OLD's time (an untouched file); changed ones get T_NEW."""
    out = {}
    for rel, item in new.items():
        out[rel] = T_OLD if old.get(rel) == item else T_NEW
    return out


# -- engine logs ----------------------------------------------------------------------
def buildkit_verdicts(log: str) -> dict[tuple[str | None, int], bool]:
    """``{(stage label or None, k): cached}`` from ``--progress plain`` output (FROM excluded)."""
    names: dict[str, tuple] = {}
    verdict: dict[str, bool] = {}
    for line in log.splitlines():
        m = _BK_VERTEX.match(line)
        if m:
            names[m.group(1)] = (m.group(2), int(m.group(3)), m.group(5))
            continue
        m = _BK_STATUS.match(line)
        if m and m.group(1) in names:
            if m.group(2) == "CACHED":
                verdict[m.group(1)] = True
            elif m.group(2) == "DONE":
                verdict.setdefault(m.group(1), False)
            else:
                verdict[m.group(1)] = False
    out = {}
    for vid, (label, k, text) in names.items():
        if text.startswith("FROM ") or vid not in verdict:
            continue
        out[(label, k)] = verdict[vid]
    return out


def classic_verdicts(log: str) -> dict[int, bool]:
    """``{k: cached}`` for ``Step k/N`` of the classic builder (FROM and global ARG excluded)."""
    out = {}
    lines = log.splitlines()
    for i, line in enumerate(lines):
        m = _CLASSIC_STEP.match(line)
        if not m:
            continue
        text = m.group(3)
        if text.upper().startswith("FROM "):
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        out[int(m.group(1))] = nxt.strip() == "---> Using cache"
    return out


def buildah_verdicts(log: str) -> dict[tuple[int, int], bool]:
    """``{(stage number, k): cached}`` for buildah's ``[i/n] STEP k/N: ...`` lines (FROM excluded).

    Stages are numbered as the Dockerfile has them (from 1; the ``[i/n]`` prefix is left out of
    a one-stage build, and stages the target does not need are not printed); k counts the stage's
    instructions from its FROM.  A step is cached when the next line says ``--> Using cache <id>``;
    a step run prints its output, then ``--> <id>`` (the last one ``COMMIT`` first)."""
    out = {}
    lines = log.splitlines()
    for i, line in enumerate(lines):
        m = _BUILDAH_STEP.match(line)
        if not m or m.group(5).upper().startswith("FROM "):
            continue
        nxt = next((x for x in lines[i + 1:] if x.strip()), "")
        out[(int(m.group(1) or 1), int(m.group(3)))] = nxt.startswith("--> Using cache ")
    return out


def engine_verdicts(df, log: str, builder: str) -> dict[int, bool]:
    """Map the engine's verdicts onto the prediction's rows: ``{row index: cached}``."""
    out = {}
    if builder == "buildah":
        v = buildah_verdicts(log)
        steps = df[~df["kind"].isin(["global", "error"])]
        for number, label in enumerate(dict.fromkeys(steps["stage"]), start=1):
            rows = steps[steps["stage"] == label]
            for k, (idx, row) in enumerate(rows.iterrows(), start=1):
                if (number, k) in v and row["kind"] != "from":
                    out[idx] = v[(number, k)]
        return out
    if builder == "classic":
        v = classic_verdicts(log)
        for pos, (idx, row) in enumerate(df.iterrows(), start=1):
            if pos in v and row["kind"] not in ("global", "error"):
                out[idx] = v[pos]
        return out
    v = buildkit_verdicts(log)
    stages = [s for s in df["stage"].dropna().unique()]
    for label in stages:
        rows = df[(df["stage"] == label) & (df["kind"].isin(["from", "op"]))]
        for k, (idx, row) in enumerate(rows.iterrows(), start=1):
            key = (label, k)
            if key not in v and len(stages) == 1:
                key = (None, k)
            if key in v and row["kind"] == "op":
                out[idx] = v[key]
    return out


def try_build(engine, ctx: Path, tag: str, builder: str, dockerfile: str = "Dockerfile", extra=()) -> tuple[str, int]:
    """Build *ctx* with *builder* (no network); ``(log, exit status)``."""
    args = ["build", "--network", "none", "-t", tag, "-f", str(ctx / dockerfile), *extra]
    if builder == "buildkit":
        args[1:1] = ["--progress", "plain"]
    proc = engine.docker(*args, str(ctx), buildkit=(builder == "buildkit"), check=False)
    return proc.stdout + proc.stderr, proc.returncode


def build(engine, ctx: Path, tag: str, builder: str, dockerfile: str = "Dockerfile", extra=()) -> str:
    log, status = try_build(engine, ctx, tag, builder, dockerfile, extra)
    if status != 0:
        raise AssertionError(f"build of {tag} failed:\n{log[-3000:]}")
    return log
