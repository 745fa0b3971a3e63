"""Record what the real builders do with the conformance cases (tests/dockerfile/conformance_cases.py).

    python -m tests.dockerfile.record_conformance [--family expansion ignore accept]
                                                  [--targets 20.10-buildkit 28.5-classic ...]

Starts a private dockerd per engine (tests/dockerfile/_targets.py: Docker 20.10 from Debian
bookworm, Docker 28.5 from Debian sid's packages), builds every case with each builder and writes
tests/data/dockerfile/<family>.json: the case inputs and, per target, what the builder did:

* expansion: the value of each case's variable in the environment a RUN step sees (cases are
  batched many to a Dockerfile; a failing batch is split until the failing cases stand alone, so a
  case that fails is recorded with the builder's message);
* ignore: the paths ``COPY . /c/`` put into the image (``docker export``), or the build's error;
* accept: whether the build succeeded, the builder's message and the line it names, and the
  content of the files a case asks for.

Recording all four targets takes a few minutes.  Run as root; daemons are stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import conformance_cases as cc
from ._targets import BUILDERS, ENGINES, Daemon, Target

DATA = Path(__file__).resolve().parent.parent / "data" / "dockerfile"
BASE = "imgviz-df/busybox:base"
ENC = ("utf-8", "surrogateescape")


def _bytes(s) -> bytes:
    return s if isinstance(s, bytes) else s.encode(*ENC)


def _text(b: bytes) -> str:
    return b.decode(*ENC)


def error_summary(log: str) -> dict:
    """The builder's message (last error line) and the Dockerfile line it names, from a build log."""
    lines = [ln.rstrip() for ln in log.splitlines() if ln.strip()]
    msg = ""
    for ln in reversed(lines):
        s = ln.strip()
        m = re.match(r"^(?:ERROR:\s*|error:\s*|Error response from daemon:\s*|Error:\s*)(.*)$", s)
        if m or s.startswith(("failed to", "COPY failed", "ADD failed", "The command")):
            msg = m.group(1) if m else s
            break
    if not msg and lines:
        msg = lines[-1].strip()
    line = None
    for pat in (r"^Dockerfile:(\d+)$", r"dockerfile parse error on line (\d+)", r"parse error line (\d+)",
                r"\bline (\d+)\b"):
        for ln in reversed(lines):
            m = re.search(pat, ln.strip())
            if m:
                line = int(m.group(1))
                break
        if line is not None:
            break
    step = None
    for ln in reversed(lines):
        m = re.match(r"^Step (\d+)/(\d+) :", ln)
        if m:
            step = int(m.group(1))
            break
    return {"message": msg, "line": line, "step": step, "log": "\n".join(lines[-25:])}


def _environ(data: bytes) -> dict:
    out = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[_text(k)] = _text(v)
    return out


# ---------------------------------------------------------------------------------------------------
class Recorder:
    def __init__(self, target: Target, work: Path):
        self.t = target
        self.work = work
        self.n = 0

    def _ctx(self, dockerfile: bytes, files: dict | None = None, dockerignore=None,
             dirs=(), links=None) -> Path:
        self.n += 1
        d = self.work / f"c{self.n}"
        d.mkdir(parents=True)
        (d / "Dockerfile").write_bytes(dockerfile)
        for rel, content in (files or {}).items():
            p = d / os.fsdecode(_bytes(rel))
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(_bytes(content))
        for rel in dirs:
            (d / rel).mkdir(parents=True, exist_ok=True)
        for rel, target in (links or {}).items():
            os.symlink(target, d / rel)
        if dockerignore is not None:
            (d / ".dockerignore").write_bytes(_bytes(dockerignore))
        return d

    # -- expansion ------------------------------------------------------------------------------
    def expansion(self, cases: list[dict], likely_failing: set = frozenset()) -> dict:
        """*likely_failing*: ids that failed with the other builder of the same engine; they are
        built one by one first, so a classic build does not run hundreds of steps to find them."""
        out: dict = {}
        for esc in sorted({c["escape"] for c in cases}):
            group = [c for c in cases if c["escape"] == esc]
            for c in group:
                if c["id"] in likely_failing:
                    self._expansion_batch([c], esc, out)
            self._expansion_batch([c for c in group if c["id"] not in likely_failing], esc, out)
        return out

    def _expansion_batch(self, group: list[dict], esc: str, out: dict) -> None:
        if not group:
            return
        text = cc.expansion_dockerfile(group, BASE, esc)
        ctx = self._ctx(_bytes(text))
        args = [a for k, v in cc.EXP_BUILD_ARGS.items() for a in ("--build-arg", f"{k}={v}")]
        tag = f"imgviz-df/exp:{self.n}"
        rc, log = self.t.build(ctx, tag, args=args)
        if rc == 0:
            fs = self.t.export(tag)
            env = _environ(fs["out/environ"])
            self.t.rmi(tag)
            for c in group:
                out[c["id"]] = {"ok": True, "value": env.get(c["var"]), "set": c["var"] in env}
            out.setdefault("_fixture", {k: env.get(k) for k in cc.EXP_FIXTURE_VARS})
            return
        if len(group) == 1:
            out[group[0]["id"]] = {"ok": False, **error_summary(log)}
            return
        half = len(group) // 2
        self._expansion_batch(group[:half], esc, out)
        self._expansion_batch(group[half:], esc, out)

    # -- ignore ---------------------------------------------------------------------------------
    def ignore(self, cases: list[dict]) -> dict:
        out = {}
        for c in cases:
            ctx = self._ctx(_bytes(cc.IGNORE_DOCKERFILE), cc.IGNORE_TREE, c["dockerignore"],
                            cc.IGNORE_EMPTY_DIRS, cc.IGNORE_SYMLINKS)
            tag = f"imgviz-df/ign:{self.n}"
            rc, log = self.t.build(ctx, tag)
            if rc != 0:
                out[c["id"]] = {"ok": False, **error_summary(log)}
                continue
            fs = self.t.export(tag)
            self.t.rmi(tag)
            paths = {}
            for name, m in fs.items():
                if not (name == "c" or name.startswith("c/")):
                    continue
                rel = name[2:]
                if not rel:
                    continue
                if isinstance(m, bytes):
                    paths[rel] = "f"
                elif m.isdir():
                    paths[rel] = "d"
                elif m.issym():
                    paths[rel] = "l"
                else:
                    paths[rel] = "?"
            out[c["id"]] = {"ok": True, "paths": dict(sorted(paths.items()))}
        return out

    # -- accept / refuse --------------------------------------------------------------------------
    def accept(self, cases: list[dict]) -> dict:
        out = {}
        for c in cases:
            if os.environ.get("IMGVIZ_RECORD_VERBOSE"):
                print(f"  {self.t.name} {c['id']}", file=sys.stderr, flush=True)
            df = _bytes(c["dockerfile"]).replace(b"{BASE}", BASE.encode())
            ctx = self._ctx(df, c.get("files"), c.get("dockerignore"))
            tag = f"imgviz-df/acc:{self.n}"
            rc, log = self.t.build(ctx, tag)
            if rc != 0:
                res = {"ok": False, **error_summary(log)}
                if "EOF" in log or "Cannot connect" in log or "connection reset" in log:
                    for _ in range(30):            # a daemon that panicked takes a moment to exit
                        if not self.t.daemon.alive():
                            break
                        time.sleep(0.1)
                if not self.t.daemon.alive():
                    res.update({"message": self.t.daemon.crash_reason(), "daemon_crashed": True})
                    self.t.daemon.restart()
                out[c["id"]] = res
                continue
            res = {"ok": True}
            for key in c.get("inspect", ()):
                shown = self.t.daemon.cli_run("image", "inspect", "--format", "{{json .Config.%s}}" % key, tag).stdout
                res.setdefault("config", {})[key] = json.loads(shown)
            if c.get("check"):
                fs = self.t.export(tag)
                res["files"] = {p: (_text(fs[p]) if isinstance(fs.get(p), bytes) else None) for p in c["check"]}
            self.t.rmi(tag)
            out[c["id"]] = res
        return out


# ---------------------------------------------------------------------------------------------------
FAMILIES = {
    "expansion": cc.expansion_cases,
    "ignore": cc.ignore_cases,
    "accept": cc.accept_cases,
}


def _jsonable(case: dict) -> dict:
    out = {}
    for k, v in case.items():
        if isinstance(v, bytes):
            out[k] = _text(v)
        elif isinstance(v, dict):
            out[k] = {(_text(a) if isinstance(a, bytes) else a): (_text(b) if isinstance(b, bytes) else b)
                      for a, b in v.items()}
        else:
            out[k] = v
    return out


def load(family: str) -> dict:
    path = DATA / f"{family}.json"
    if path.exists():
        return json.loads(path.read_text())
    return {"family": family, "targets": {}, "cases": {}}


def save(family: str, data: dict) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{family}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=True, sort_keys=True) + "\n")
    tmp.replace(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", nargs="*", default=list(FAMILIES))
    ap.add_argument("--targets", nargs="*", default=[f"{e}-{b}" for e in ENGINES for b in BUILDERS])
    ap.add_argument("--only", nargs="*", default=None, help="case ids to (re)record")
    opts = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the daemons on kill
    engines = sorted({t.split("-")[0] for t in opts.targets})
    daemons = {}
    work = Path(tempfile.mkdtemp(prefix="ivdf-rec-"))
    try:
        for e in engines:
            daemons[e] = Daemon(e).start()
            daemons[e].busybox_base(BASE)
        for fam in opts.family:
            cases = FAMILIES[fam]()
            if opts.only:
                cases = [c for c in cases if c["id"] in opts.only]
            data = load(fam)
            for c in cases:
                entry = data["cases"].setdefault(c["id"], {"input": None, "results": {}})
                if entry["input"] != _jsonable(c):
                    entry["input"] = _jsonable(c)
                    entry["results"] = {}
            for tname in opts.targets:
                eng, builder = tname.split("-")
                target = Target(daemons[eng], builder)
                t0 = time.monotonic()
                rec = Recorder(target, work / tname / fam)
                if fam == "expansion":
                    other = f"{eng}-{'classic' if builder == 'buildkit' else 'buildkit'}"
                    failing = {cid for cid, e in data["cases"].items()
                               if not e["results"].get(other, {"ok": True})["ok"]}
                    res = rec.expansion(cases, failing)
                else:
                    res = getattr(rec, fam)(cases)
                fixture = res.pop("_fixture", None)
                for cid, r in res.items():
                    data["cases"][cid]["results"][tname] = r
                info = {"versions": daemons[eng].versions(), "builder": builder,
                        "recorded": datetime.date.today().isoformat()}
                if fixture is not None:
                    info["fixture"] = fixture
                data["targets"][tname] = info
                save(fam, data)
                print(f"{fam} {tname}: {len(res)} cases in {time.monotonic() - t0:.0f}s", flush=True)
                shutil.rmtree(work / tname / fam, ignore_errors=True)
    finally:
        for d in daemons.values():
            d.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
