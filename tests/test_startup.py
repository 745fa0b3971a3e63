"""Start-up: commands that need no pandas do not import it (nor numpy, plotly, ipywidgets).

Each command runs in a fresh interpreter with ``python -X importtime``, which lists on stderr every
module the run imported; the list is checked, and the command's output too (a command that failed
early would import little).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAP = ROOT / "tests" / "data" / "fleet" / "snapshot.json.gz"
HEAVY = ("pandas", "numpy", "plotly", "ipywidgets")


def imported(*argv: str, env: dict | None = None) -> tuple[set[str], subprocess.CompletedProcess]:
    """Run ``python -X importtime -m imgviz ARGV``: (top-level modules it imported, the process)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "imgviz", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)
    mods = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":  # the header line
                mods.add(name.split(".")[0])
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
