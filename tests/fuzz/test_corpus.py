"""Run the fuzz corpus (tests/fuzz/generate.py): every case in a fresh imgviz process.

Each case gets its own directory, its inputs, and the hostile server it needs (one hostile
registry for the session; a hostile engine per case; the session's real engine behind a proxy
that cuts it off). The cases run four at a time (most of them wait on a server), then each is
checked by its own test; the engine-dies cases run on a real engine of every kind
(``test_real_engine_cut_off``); ``test_corpus_totals`` checks and prints the totals: cases, clear
errors, clean successes, tracebacks, hangs, data lost, and the peak memory of the gzip-bomb and
big-config cases (also written to ``corpus-totals.json`` in the run's directory).
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ._servers import CutOffProxy, HostileEngine, HostileRegistry, fleet_records
from .generate import Case, add_secrets, cases

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = cases()
BY_NAME = {c.name: c for c in CASES}
EXIT = {"error": 1, "usage": 2, "ok": 0, "partial": 1, "incomplete": 3}  # 3: imgviz._partial.EXIT_INCOMPLETE


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


class Runner:
    def __init__(self, root: Path, real_engine, *, registry: bool = True):
        self.root = root
        self.registry = HostileRegistry() if registry else None
        self.real_engine = real_engine
        recs = fleet_records()
        self.image0 = recs["images"][0]["id"][7:19]

    def close(self) -> None:
        if self.registry is not None:
            self.registry.stop()

    def _server(self, case: Case, d: Path):
        kind, _, mode = (case.server or "").partition(":")
        if kind == "engine":
            eng = HostileEngine(mode if mode != "secrets" else "valid", d)
            if mode == "secrets":
                add_secrets(eng.rec)
            return eng, eng.host
        if kind == "engine-tcp":
            eng = HostileEngine(mode, d, tcp=True)
            return eng, eng.host
        if kind == "real-engine-cutoff":
            # after 3: podman read from its storage is asked only a few calls; at 5 a fresh
            # podman's whole collection was over before the cut
            proxy = CutOffProxy(self.real_engine.host, d / "cut.sock", after=3)
            return proxy, proxy.host
        return None, ""

    def run(self, case: Case) -> dict:
        d = self.root / case.name.replace("/", "__")
        d.mkdir(parents=True)
        if case.server == "real-engine-cutoff" and self.real_engine is None:
            return {"skipped": "run on every engine kind by test_real_engine_cut_off"}
        server, host = self._server(case, d)
        try:
            if case.setup is not None:
                case.setup(d)
            values = {"D": str(d), "REG": self.registry.addr if self.registry else "", "ENGINE": host,
                      "IMAGE0": self.image0}
            protected = {p: _digest(d / p) for p in case.protect}
            env = {k: v for k, v in os.environ.items() if not k.startswith(("IMGVIZ_", "DOCKER_"))}
            env.update({"DOCKER_HOST": f"unix://{d}/no-engine-here.sock", "HOME": str(d), "PYTHONPATH": str(ROOT)})
            env.update({k: _fill(v, values) for k, v in case.env.items()})
            result_file = d / "result.json"
            cmd = [sys.executable, "-m", "tests.fuzz._run", str(result_file)]
            cmd += ["--", *[_fill(a, values) for a in case.argv]] if case.argv is not None \
                else ["--python", _fill(case.python, values)]
            start = time.monotonic()
            hung = False
            try:
                proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, timeout=max(60.0, 3 * case.seconds))
                out, err, code = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace"), proc.returncode
            except subprocess.TimeoutExpired as exc:
                hung = True
                out = (exc.stdout or b"").decode(errors="replace")
                err = (exc.stderr or b"").decode(errors="replace")
                code = None
            wall = time.monotonic() - start
            info = json.loads(result_file.read_text()) if result_file.exists() else {}
            inspected = ""
            if case.inspect_file and (d / case.inspect_file).exists():
                raw = (d / case.inspect_file).read_bytes()
                inspected = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode(errors="replace")
            return {
                # the time imgviz itself took (the interpreter's start on a loaded machine is not its doing);
                # a process that had to be killed, or wrote no result, is judged by the clock on the wall
                "code": code, "stdout": out, "stderr": err, "seconds": info.get("seconds", wall), "wall": wall,
                "hung": hung or info.get("seconds", wall) > case.seconds,
                "maxrss_mb": info.get("maxrss_mb"),
                "changed": [p for p, h in protected.items() if _digest(d / p) != h],
                "created": [p for p in case.absent if os.path.lexists(d / p)],
                "missing": [p for p in case.present if not glob.glob(str(d / p))],
                "inspected": inspected,
            }
        finally:
            if server is not None:
                server.stop()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    runner = Runner(root, None)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = dict(zip((c.name for c in CASES), pool.map(runner.run, CASES)))
    finally:
        runner.close()
    return root, results


def check(case: Case, r: dict) -> list[str]:
    """What is wrong with one case's run (empty: it behaved as the corpus says)."""
    problems = []
    err, out = r["stderr"], r["stdout"]
    if "Traceback" in err or r["code"] == 99:
        problems.append("traceback")
    if r["hung"]:
        problems.append(f"hang ({r['seconds']:.1f} s, limit {case.seconds:g} s)")
    if r["changed"]:
        problems.append(f"data lost: {r['changed']} changed")
    if r["created"]:
        problems.append(f"created {r['created']}")
    if r["missing"]:
        problems.append(f"missing {r['missing']}")
    if r["code"] != EXIT[case.expect]:
        problems.append(f"exit {r['code']}, expected {EXIT[case.expect]} ({case.expect})")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if case.expect in ("error", "partial", "incomplete"):
        errors = [ln for ln in lines if ln.startswith("imgviz: error: ")]
        if len(errors) != 1:
            problems.append(f"{len(errors)} 'imgviz: error:' lines")
        others = [ln for ln in lines if not ln.startswith(("imgviz: error: ", "imgviz: warning: ", "kept what was"))]
        if others:
            problems.append(f"stray stderr: {others[:2]}")
    if case.expect == "usage" and not any("error:" in ln for ln in lines):
        problems.append("no error line")
    text = err + out
    for word in case.names:
        if not any(alt in text for alt in word.split("|")):
            problems.append(f"does not name {word!r}")
    for word in case.stdout_has:
        if word not in out:
            problems.append(f"stdout lacks {word!r}")
    for word in case.output_lacks:
        if word in text or word in r["inspected"]:
            problems.append(f"output holds {word!r}")
    if case.max_rss_mb is not None and (r["maxrss_mb"] or 0) > case.max_rss_mb:
        problems.append(f"peak memory {r['maxrss_mb']:.0f} MB > {case.max_rss_mb:g} MB")
    return problems


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_case(corpus, name):
    _root, results = corpus
    case, r = BY_NAME[name], results[name]
    if "skipped" in r:
        pytest.skip(r["skipped"])
    problems = check(case, r)
    assert not problems, f"{name}: {'; '.join(problems)}\n--- stderr:\n{r['stderr'][-2000:]}\n--- stdout:\n{r['stdout'][-1000:]}"


@pytest.mark.engine
@pytest.mark.parametrize("name", [c.name for c in CASES if c.server == "real-engine-cutoff"])
def test_real_engine_cut_off(engine, tmp_path, name):
    """The engine-dies cases on a real engine of every kind: a proxy of ours forwards to it unchanged
    and cuts every connection after a few requests, while imgviz is collecting."""
    for i in range(3):  # a few images, so the cut falls among the per-image calls
        engine.busybox_base(f"fuzz-cutoff/bb:{i}")
    runner = Runner(tmp_path, engine, registry=False)
    try:
        r = runner.run(BY_NAME[name])
    finally:
        runner.close()
    problems = check(BY_NAME[name], r)
    assert not problems, f"{name}: {'; '.join(problems)}\n--- stderr:\n{r['stderr'][-2000:]}"


def test_corpus_totals(corpus):
    root, results = corpus
    ran = {n: r for n, r in results.items() if "skipped" not in r}
    failed = {n: check(BY_NAME[n], r) for n, r in ran.items()}
    totals = {
        "cases": len(CASES), "ran": len(ran),
        "clear_errors": sum(1 for n in ran if BY_NAME[n].expect != "ok" and not failed[n]),
        "clean_successes": sum(1 for n in ran if BY_NAME[n].expect == "ok" and not failed[n]),
        "tracebacks": sum(1 for p in failed.values() if "traceback" in p),
        "hangs": sum(1 for p in failed.values() if any(x.startswith("hang") for x in p)),
        "data_lost": sum(1 for p in failed.values() if any(x.startswith("data lost") for x in p)),
        "failing": sorted(n for n, p in failed.items() if p),
        "peak_memory_mb": {n: round(r["maxrss_mb"], 1) for n, r in ran.items()
                           if r.get("maxrss_mb") and ("bomb" in n or "big-config" in n or "huge" in n)},
    }
    (root / "corpus-totals.json").write_text(json.dumps(totals, indent=1))
    print(json.dumps(totals, indent=1))
    assert len(CASES) >= 250
    assert totals["tracebacks"] == 0 and totals["hangs"] == 0 and totals["data_lost"] == 0, totals
