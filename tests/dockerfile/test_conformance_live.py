"""Live re-check: a sample of the recorded conformance cases built again on a real engine.

The unit tests compare imgviz with the recordings in tests/data/dockerfile/; this checks that the
recordings still say what the engine does.  It uses the session's Docker 20.10 engine (both
builders) and, when this machine has the Docker 28.5 packages unpacked (see
tests/dockerfile/_targets.py), a private 28.5 daemon as well.
"""

from __future__ import annotations

import os
import shutil

import pytest

from . import conformance_cases as cc
from ._conformance import TARGETS, core_message, recording
from ._targets import CACHE, Daemon, Target, Unavailable
from .record_conformance import Recorder

pytestmark = pytest.mark.engine

SAMPLE = {
    "expansion": ["C001", "C031", "C048", "C092", "C112", "C165", "C201", "C206", "C218", "C231"],
    "ignore": ["I003", "I008", "I022", "I030", "I035", "I087", "I118"],
    "accept": ["unknown-instruction", "copy-missing-source", "json-then-text", "heredoc-run",
               "line-over-limit", "stage-bad-name"],
}
# "stage-names-itself" (FROM a AS a) is not re-checked live: every builder goes to Docker Hub for
# "a", so its outcome is the machine's network, not the builder; a CI run on Docker 28.5's classic
# builder even reported it built.  Its recording is still compared with imgviz's answer.


def _daemons():
    out = {}
    if os.geteuid() != 0:
        pytest.skip("needs root to start private engines")
    for version in ("20.10", "28.5"):
        if version == "28.5" and not (CACHE / "usr/sbin/dockerd").exists() and not os.environ.get("CI"):
            continue
        try:
            out[version] = Daemon(version).start()
        except Unavailable as exc:
            if os.environ.get("CI") or version == "20.10":
                for d in out.values():
                    d.stop()
                pytest.fail(f"engine {version}: {exc}") if os.environ.get("CI") else pytest.skip(str(exc))
    return out


@pytest.fixture(scope="module")
def daemons():
    ds = _daemons()
    try:
        for d in ds.values():
            d.busybox_base("imgviz-df/busybox:base")
        yield ds
    finally:
        for d in ds.values():
            d.stop()


def _same(family: str, want: dict, got: dict) -> bool:
    if want["ok"] != got["ok"]:
        return False
    if not want["ok"]:
        return core_message(want["message"]) == core_message(got["message"])
    if family == "expansion":
        return want["value"] == got["value"]
    if family == "ignore":
        return want["paths"] == got["paths"]
    return want.get("files") == got.get("files")


@pytest.mark.parametrize("family", sorted(SAMPLE))
def test_recordings_still_hold(daemons, family, tmp_path):
    rec = recording(family)
    all_cases = {"expansion": cc.expansion_cases, "ignore": cc.ignore_cases, "accept": cc.accept_cases}[family]()
    cases = [c for c in all_cases if c["id"] in SAMPLE[family]]
    assert len(cases) == len(SAMPLE[family])
    checked = 0
    for tname in TARGETS:
        engine, builder = tname.split("-")
        if engine not in daemons:
            continue
        r = Recorder(Target(daemons[engine], builder), tmp_path / tname)
        got = getattr(r, family)(cases)
        got.pop("_fixture", None)
        for c in cases:
            want = rec["cases"][c["id"]]["results"][tname]
            assert _same(family, want, got[c["id"]]), (tname, c["id"], want, got[c["id"]])
            checked += 1
        shutil.rmtree(tmp_path / tname, ignore_errors=True)
    assert checked >= 2 * len(cases)


def test_workdir_trailing_slash_rebuilds(daemons, tmp_path):
    """Issue 11: ``WORKDIR /srv`` edited to ``WORKDIR /srv/`` rebuilds the steps after it, with
    both builders; imgviz's expansion keeps the two apart (evaluate's ``workdir`` value)."""
    from imgviz.dockerfile.expand import evaluate
    from imgviz.dockerfile.parser import parse

    base = "imgviz-df/busybox:base"
    texts = [f"FROM {base}\nWORKDIR /srv{s}\nRUN echo built > /out/f\n" for s in ("", "/")]
    wds = [evaluate(parse(t), builder="buildkit").instructions[1].values["workdir"] for t in texts]
    assert wds == ["/srv", "/srv/"]
    # Docker 28.5's classic builder cleans /srv/ to /srv: there, the step is a hit
    same = {("28.5", "classic")}
    for version, d in daemons.items():
        for builder in ("buildkit", "classic"):
            t = Target(d, builder)
            logs = []
            for i, text in enumerate(texts):
                ctx = tmp_path / f"{version}-{builder}-{i}"
                ctx.mkdir()
                (ctx / "Dockerfile").write_text(text)
                rc, log = t.build(ctx, f"imgviz-df/wd:{builder}{i}")
                assert rc == 0, log
                logs.append(log)
            again = tmp_path / f"{version}-{builder}-again"
            again.mkdir()
            (again / "Dockerfile").write_text(texts[1])
            rc, log_again = t.build(again, f"imgviz-df/wd:{builder}again")
            cached = "CACHED" if builder == "buildkit" else "Using cache"
            run_line = "RUN echo built"
            # the /srv/ build does not reuse the /srv build's RUN; a repeat of /srv/ does
            assert _run_cached(logs[1], run_line, cached) is ((version, builder) in same), (version, builder, logs[1])
            assert _run_cached(log_again, run_line, cached) is True, (version, builder, log_again)


def _run_cached(log: str, run_line: str, cached: str) -> bool:
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if run_line in line:
            if cached == "Using cache":   # classic: the step's next line
                return any(cached in x for x in lines[i + 1:i + 3])
            step = line.split()[0]        # BuildKit: "#N [3/3] RUN ..." then "#N CACHED"
            return any(x.startswith(step + " ") and cached in x for x in lines)
    raise AssertionError(f"no {run_line!r} in the build log")
