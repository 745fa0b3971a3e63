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
#: docker SDK, tqdm (no tty)
NOT_FOR_ONE_IMAGE = ("concurrent.futures", "logging", "imgviz.sources._check", "importlib.resources", "imgviz._data",
                     "imgviz.frames", "platform", "docker", "requests", "tqdm")


def imported(*argv: str, env: dict | None = None) -> tuple[set[str], subprocess.CompletedProcess]:
    """Run ``python -X importtime -m imgviz ARGV``: (top-level modules it imported, the process)."""
    full, proc = imported_modules(*argv, env=env)
    return {name.split(".")[0] for name in full}, proc


def imported_modules(*argv: str, env: dict | None = None) -> tuple[set[str], subprocess.CompletedProcess]:
    """Run ``python -X importtime -m imgviz ARGV``: (every module it imported, by full name; the process)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "imgviz", *argv], cwd=ROOT,
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


@pytest.mark.engine
def test_a_one_image_question_imports_and_asks_only_what_it_needs(engine, tmp_path):
    """`history IMAGE`: /version once (the probe; the collection reuses its answer), then that image's
    inspect and history; `images`: /version and the list. Nothing more (no /info, /system/df,
    /containers/json, no second /version), and none of the modules only other commands need."""
    image_id = engine.busybox_base("imgviz-test/startup:2")
    proxy = _Recording(engine.host, tmp_path / "rec.sock")
    try:
        mods, proc = imported_modules("history", "imgviz-test/startup:2", "--json", "--host", proxy.host)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert json.loads(proc.stdout), "no history rows"  # (their content: test_engine_targeted)
        assert sorted(set(NOT_FOR_ONE_IMAGE) & mods) == [], "history imported what it does not need"
        assert len(proxy.paths) == 3 and proxy.paths[0] == "/version", proxy.paths
        m = re.fullmatch(r"/(v1\.[0-9]+)/images/imgviz-test/startup:2/json", proxy.paths[1])
        assert m and proxy.paths[2] == f"/{m.group(1)}/images/{image_id}/history", proxy.paths

        proxy.paths.clear()
        mods, proc = imported_modules("images", "--json", "--host", proxy.host)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "imgviz-test/startup" in {r["repository"] for r in json.loads(proc.stdout)}
        assert sorted(set(NOT_FOR_ONE_IMAGE) & mods) == [], "images imported what it does not need"
        assert len(proxy.paths) == 2 and proxy.paths[0] == "/version", proxy.paths
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
