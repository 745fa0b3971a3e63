"""Benchmark: how long a learner waits for each notebook's first figure, on the demo.

Each notebook runs top to bottom in a fresh kernel (nbclient, one notebook at a time, so the
kernels do not share the CPU), with the embedded demo snapshot pinned (IMGVIZ_SOURCE=demo). For
the first cell that draws a figure (a plotly figure or a widget holding one) it prints how long
that cell took to run, from the kernel's own timestamps, and the time from the notebook's first
cell to it. The chapter's goal for the first: within 2 s of running the cell.

    python bench/notebooks.py [--repeat 2]

Nothing here is a test: it only prints numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
FIGURE_TYPES = ("application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json")


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def first_figure(path: Path) -> tuple[int, float, float]:
    """(cell index, seconds that cell ran, seconds from the first cell's start to its end)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, IMGVIZ_SOURCE="demo",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    old = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    code = [c for c in nb.cells if c.cell_type == "code"]
    start = _when(code[0].metadata["execution"]["iopub.execute_input"])
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if any(set(FIGURE_TYPES) & set(o.get("data", {})) for o in cell.outputs):
            ex = cell.metadata["execution"]
            began, ended = _when(ex["iopub.execute_input"]), _when(ex["shell.execute_reply"])
            return k, (ended - began).total_seconds(), (ended - start).total_seconds()
    raise RuntimeError(f"{path.name}: no cell drew a figure")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"first figure per notebook, on the demo (best of {args.repeat}; load average {load:.1f} on "
          f"{os.cpu_count()} CPUs)")
    print(f"  {'notebook':<40} {'cell':>4} {'cell s':>7} {'from top s':>10}  goal: cell < 2 s")
    worst = 0.0
    for path in sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):
        runs = [first_figure(path) for _ in range(args.repeat)]
        cell = runs[0][0]
        took = min(r[1] for r in runs)
        since = statistics.median(r[2] for r in runs)
        worst = max(worst, took)
        print(f"  {path.name:<40} {cell:>4} {took:>7.2f} {since:>10.2f}")
    print(f"  slowest first-figure cell: {worst:.2f} s (goal < 2 s)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
