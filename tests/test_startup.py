"""Start-up: commands that need no pandas do not import it (nor numpy, plotly, ipywidgets), and a
question about one image on a live engine imports only what its answer needs and asks the engine
only what its answer needs (issue 15: `imgviz history IMAGE` within 2x `docker history IMAGE`,
start-up included; bench/engine.py measures it).

Each command runs in a fresh interpreter with ``python -X importtime``, which lists on stderr every
module the run imported; the list is checked, and the command's output too (a command that failed
early would import little).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .fuzz._servers import CutOffProxy

ROOT = Path(__file__).resolve().parent.parent
SNAP = ROOT / "tests" / "data" / "fleet" / "snapshot.json.gz"
HEAVY = ("pandas", "numpy", "plotly", "ipywidgets")
#: modules a live engine's `history IMAGE` and `images` do without (each was imported by every
#: command once; measured with -X importtime): the thread pool and logging (8 ms), the source
#: checks, importlib.resources (the demo's path), platform (a registry's platform choice), the
#: docker SDK, tqdm (no tty); dataclasses (with inspect, ast, dis, tokenize: 6 ms), hashlib and
#: OpenSSL (3-8 ms: chain IDs nobody prints), typing (2 ms), shutil with bz2 and lzma (argparse's
#: terminal width: 2 ms), gzip and zlib (snapshot files), pathlib and urllib.parse (no path, no
#: query to encode), socket.py (its enums: 2 ms; the transport uses _socket),
#: the chain-ID, engine-model and cache modules, every other command's module
NOT_FOR_ONE_IMAGE = ("concurrent.futures", "logging", "imgviz.sources._check", "importlib.resources", "imgviz._data",
                     "imgviz.frames", "platform", "docker", "requests", "tqdm",
                     "dataclasses", "inspect", "ast", "hashlib", "_hashlib", "typing", "shutil", "bz2", "lzma",
                     "gzip", "zlib", "pathlib", "urllib.parse", "fnmatch", "ssl", "email", "http.client",
                     "socket", "selectors", "datetime",
                     "imgviz.sources._oci", "imgviz.sources.engine_model", "imgviz.sources.cache",
                     "imgviz.sources.registry", "imgviz.sources.archive",
                     "imgviz._commands.snapshot", "imgviz._commands.sizes", "imgviz._commands.report",
                     "imgviz._commands.whatif", "imgviz._commands.pull_plan", "imgviz._commands.cascade")
#: every imgviz module a live engine's `history IMAGE` may import (`images` imports fewer): a new
#: one on the path is a decision, made here, not an accident (podman's rules only on podman)
ONE_IMAGE_IMGVIZ = {"imgviz", "imgviz._commands", "imgviz._commands._source", "imgviz._commands._table",
                    "imgviz._commands.history", "imgviz._commands.images", "imgviz._dt", "imgviz._instructions", "imgviz._kernel",
                    "imgviz._lazy", "imgviz._partial", "imgviz._records", "imgviz._text", "imgviz.analysis",
                    "imgviz.analysis.listing", "imgviz.analysis.secrets", "imgviz.cli", "imgviz.errors",
                    "imgviz.limits", "imgviz.rows", "imgviz.selection", "imgviz.snapshot", "imgviz.sources",
                    "imgviz.sources._http", "imgviz.sources._open", "imgviz.sources.engine", "imgviz.units",
                    "imgviz.__main__"}


def imported(*argv: str, env: dict | None = None) -> tuple[set[str], subprocess.CompletedProcess]:
    """Run ``python -X importtime -m imgviz ARGV``: (top-level modules it imported, the process)."""
    full, proc = imported_modules(*argv, env=env)
    return {name.split(".")[0] for name in full}, proc


def imported_modules(*argv: str, env: dict | None = None, site: bool = True) -> tuple[set[str], subprocess.CompletedProcess]:
    """Run ``python -X importtime -m imgviz ARGV``: (every module it imported, by full name; the process).

    ``site=False`` runs it with ``-S`` from the checkout: what imgviz itself imports, as a wheel
    install runs it (the editable install's finder imports pathlib, urllib.parse and re at start-up;
    a wheel has no finder)."""
    flags = ["-X", "importtime"] + ([] if site else ["-S"])
    proc = subprocess.run([sys.executable, *flags, "-m", "imgviz", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)
    mods = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":  # the header line
                mods.add(name)
    return mods, proc


def test_the_check_sees_pandas_where_it_is_needed():
    mods, proc = imported("summary", "--snapshot", str(SNAP))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pandas" in mods and "imgviz" in mods


@pytest.mark.parametrize("argv", [("images",), ("images", "iv/a*"), ("history", "iv/app:v1"),
                                  ("history", "iv/app:v1", "--json"), ("images", "--json")])
def test_listing_a_snapshot_file_needs_no_pandas(argv):
    mods, proc = imported(*argv, "--snapshot", str(SNAP))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip(), "no output"
    assert not set(HEAVY) & mods, f"imgviz {' '.join(argv)} imported {sorted(set(HEAVY) & mods)}"


@pytest.mark.engine
def test_live_engine_commands_need_no_pandas(engine, tmp_path):
    engine.busybox_base("imgviz-test/startup:1")
    out = tmp_path / "snap.json.gz"
    runs = {
        "snapshot": ("snapshot", "--host", engine.host, "-o", str(out)),
        "images": ("images", "--host", engine.host, "--json"),
        "history": ("history", "imgviz-test/startup:1", "--host", engine.host, "--json"),
    }
    for what, argv in runs.items():
        mods, proc = imported(*argv)
        assert proc.returncode == 0, (what, proc.stderr[-2000:])
        # the light transport (imgviz/sources/_http.py) talks to a unix-socket engine: no SDK import
        assert "docker" not in mods, f"{what} imported the docker SDK to talk to {engine.host}"
        assert not set(HEAVY) & mods, f"imgviz {what} on a live engine imported {sorted(set(HEAVY) & mods)}"
        if what == "images":
            assert "imgviz-test/startup" in {r["repository"] for r in json.loads(proc.stdout)}
        if what == "history":
            if engine.kind == "podman":
                # podman records an import as `#(nop) ADD file:<digest> in /`, "imported from tarball":
                # the row as `podman history` prints it
                (theirs,) = json.loads(engine.podman_remote("history", "--no-trunc", "--format", "json",
                                                            "imgviz-test/startup:1").stdout)
                (ours,) = json.loads(proc.stdout)
                assert (ours["id"], ours["created_by"], ours["comment"], ours["size"]) == \
                    (theirs["id"], theirs["CreatedBy"], theirs["comment"], theirs["size"])
                assert ours["instruction"] == "ADD" and theirs["comment"] == "imported from tarball"
            else:
                assert json.loads(proc.stdout)[-1]["instruction"] == "IMPORT"
    assert out.stat().st_size > 0


class _Recording(CutOffProxy):
    """A proxy in front of the engine that passes everything on and notes each request's path."""

    def __init__(self, *args, **kwargs):
        self.paths: list[str] = []
        super().__init__(*args, **kwargs)

    def _delay_for(self, data: bytes) -> float:
        self.paths += [m.group(1).decode("latin-1") for m in re.finditer(rb"(?m)^[A-Z]+ (\S+) HTTP/1\.[01]\r$", data)]
        return super()._delay_for(data)


def _one_image_imports(what: str, mods: set[str], kind: str) -> None:
    """What a one-image or list question imported, against :data:`NOT_FOR_ONE_IMAGE` and
    :data:`ONE_IMAGE_IMGVIZ` (podman's rules module only on podman)."""
    assert sorted(set(NOT_FOR_ONE_IMAGE) & mods) == [], f"{what} imported what it does not need"
    allowed = ONE_IMAGE_IMGVIZ | ({"imgviz.sources.podman"} if kind == "podman" else set())
    assert sorted(m for m in mods if m.split(".")[0] == "imgviz" and m not in allowed) == [], \
        f"{what} imported imgviz modules beyond its list (ONE_IMAGE_IMGVIZ)"


@pytest.mark.engine
def test_a_one_image_question_imports_and_asks_only_what_it_needs(engine, tmp_path):
    """`history IMAGE`: /_ping (the probe, as the docker CLI's; no /version: podman takes 0.6 s on
    it), then that image's inspect and history, asked at once (the history by the name given, as
    `docker history` asks; on podman one after the other, the history by ID); `images`: /_ping and the list. Nothing more (no /version, /info,
    /system/df, /containers/json), and none of the modules only other commands need, run as a wheel
    install runs it (no editable finder: ``-S`` from the checkout)."""
    image_id = engine.busybox_base("imgviz-test/startup:2")
    proxy = _Recording(engine.host, tmp_path / "rec.sock")
    try:
        for argv in (("history", "imgviz-test/startup:2", "--json"), ("history", "imgviz-test/startup:2")):
            proxy.paths.clear()
            mods, proc = imported_modules(*argv, "--host", proxy.host, site=False)
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert proc.stdout.strip(), "no history rows"  # (their content: test_engine_targeted)
            _one_image_imports("history", mods, engine.kind)
            assert len(proxy.paths) == 3 and proxy.paths[0] == "/_ping", proxy.paths
            if engine.kind == "podman":  # one after the other, the history by ID (engine._collect_named)
                m = re.fullmatch(r"/(v1\.[0-9]+)/images/imgviz-test/startup:2/json", proxy.paths[1])
                assert m and proxy.paths[2] == f"/{m.group(1)}/images/{image_id}/history", proxy.paths
                continue
            m = re.fullmatch(r"/(v1\.[0-9]+)/images/imgviz-test/startup:2/json", proxy.paths[1]) or \
                re.fullmatch(r"/(v1\.[0-9]+)/images/imgviz-test/startup:2/json", proxy.paths[2])
            assert m and sorted(proxy.paths[1:]) == [f"/{m.group(1)}/images/imgviz-test/startup:2/{end}"
                                                     for end in ("history", "json")], proxy.paths

        for argv in (("images", "--json"), ("images",)):
            proxy.paths.clear()
            mods, proc = imported_modules(*argv, "--host", proxy.host, site=False)
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert "imgviz-test/startup" in proc.stdout
            _one_image_imports("images", mods, engine.kind)
            assert len(proxy.paths) == 2 and proxy.paths[0] == "/_ping", proxy.paths
            assert re.fullmatch(r"/v1\.[0-9]+/images/json(\?.*)?", proxy.paths[1]), proxy.paths
    finally:
        proxy.stop()


def test_lazy_names_resolve():
    """``imgviz.sources`` imports its public names on first use: each one there, the demos' paths as before."""
    code = ("import imgviz.sources as s, sys; assert 'imgviz.sources._check' not in sys.modules; "
            "[getattr(s, n) for n in s.__all__]; from imgviz.sources._open import DEMO_NAMES; "
            "assert tuple(s.DEMOS) == DEMO_NAMES and s.DEMO_SNAPSHOT == s.DEMOS['overlay2'][0]; "
            "assert all(p.exists() for p, _ in s.DEMOS.values()); "
            "assert set(s.__all__) <= set(dir(s)); print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_what_start_up_defers_answers_alike():
    """imgviz._lazy.Pattern answers as ``re.compile`` of the same arguments (compiled once, its
    methods kept); imgviz._dt's classes are the very classes ``datetime`` exports."""
    import datetime

    from imgviz import _dt
    from imgviz._lazy import Pattern

    args = (r"(?P<head>--[a-z]+=)(?P<value>\S+)", re.IGNORECASE)
    lazy, real = Pattern(*args), re.compile(*args)
    text = "run --TOKEN=abc --mode=x plain"
    assert "sub" not in vars(lazy)
    assert lazy.sub(r"\g<head>*", text) == real.sub(r"\g<head>*", text) == "run --TOKEN=* --mode=* plain"
    assert "sub" in vars(lazy)
    assert [m.groupdict() for m in lazy.finditer(text)] == [m.groupdict() for m in real.finditer(text)]
    assert lazy.search("none") is None and lazy.pattern == real.pattern
    assert (_dt.datetime, _dt.timezone, _dt.timedelta) == (datetime.datetime, datetime.timezone, datetime.timedelta)
    assert _dt.datetime is datetime.datetime and _dt.timezone.utc is datetime.timezone.utc
