"""How long the sharing/size analyses and figures take on a large synthetic engine.

    PYTHONPATH=. python -m bench.sharing [--images 2000] [--layers 20000] [--html DIR] [--repeat 3]

Prints one line per analysis and per figure: the best of ``--repeat`` wall-clock times, plus for
figures the number of items drawn and the JSON size. The goal (issue #3): every analysis under a
second, every figure under two seconds, and figures that stay readable (top-N + "other").
Synthetic data is for speed only; correctness is tested on the recorded and live engines.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def _best(func, repeat: int):
    """Best wall-clock and best CPU seconds of ``repeat`` runs (CPU time is fairer on a busy machine)."""
    best, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = func()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return (best, best_cpu), out


def _items(fig) -> int:
    n = 0
    for tr in fig.data:
        for key in ("ids", "y", "z"):
            val = getattr(tr, key, None)
            if val is not None:
                n += len(val) if key != "z" else len(val) * len(val[0] if len(val) else [])
                break
    return n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--layers", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--html", metavar="DIR", help="also write every figure to DIR/*.html")
    args = ap.parse_args(argv)

    from imgviz import figures as F
    from imgviz.analysis import sharing, sizes

    from ._synthetic import synthetic_frames

    import os

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} (wall times grow when the machine is busy)")
    t0 = time.perf_counter()
    f = synthetic_frames(args.images, args.layers)
    print(f"synthetic engine: {len(f.images)} images, {f.layers['chain_id'].nunique()} distinct layers, "
          f"{len(f.layers)} layer rows, {len(f.containers)} containers "
          f"(made in {time.perf_counter() - t0:.1f} s)")
    remove = list(f.images.sort_values("size", ascending=False)["image_id"].head(50))
    top30 = list(f.images.sort_values("shared_size", ascending=False)["image_id"].head(30))

    analyses = [
        ("image_sizes", lambda: sizes.image_sizes(f)),
        ("image_sizes(pattern='w*')", lambda: sizes.image_sizes(f, pattern="team1/w*")),
        ("disk_usage", lambda: sizes.disk_usage(f)),
        ("totals", lambda: sizes.totals(f)),
        ("what_if (50 images)", lambda: sizes.what_if(f, remove)),
        ("what_if_totals (50 images)", lambda: sizes.what_if_totals(f, remove)),
        ("layer_tree", lambda: sharing.layer_tree(f)),
        ("diff_reuse", lambda: sharing.diff_reuse(f)),
        ("sharing_matrix (all 2000 x 2000)", lambda: sharing.sharing_matrix(f)),
        ("sharing_pairs (30 images)", lambda: sharing.sharing_pairs(f, top30)),
        ("largest_layers", lambda: sharing.largest_layers(f)),
    ]
    print(f"\n{'analysis':<36} {'wall s':>7} {'cpu s':>7}  rows")
    total = total_cpu = 0.0
    for name, func in analyses:
        (secs, cpu), out = _best(func, args.repeat)
        total += secs
        total_cpu += cpu
        print(f"{name:<36} {secs:7.3f} {cpu:7.3f}  {len(out)}")
    print(f"{'all analyses together':<36} {total:7.3f} {total_cpu:7.3f}")

    figures = [
        ("layer_tree (icicle, top 300)", lambda: F.layer_tree(f)),
        ("layer_tree (sunburst, top 300)", lambda: F.layer_tree(f, kind="sunburst")),
        ("layer_tree (search 'web')", lambda: F.layer_tree(f, search="web")),
        ("sharing_matrix (top 30)", lambda: F.sharing_matrix(f)),
        ("image_sizes (top 30)", lambda: F.image_sizes(f)),
        ("image_sizes (pattern, top 30)", lambda: F.image_sizes(f, pattern="team1/*")),
        ("reported_vs_physical (top 20)", lambda: F.reported_vs_physical(f)),
        ("what_if (50 images, top 20)", lambda: F.what_if(f, remove)),
    ]
    print(f"\n{'figure':<36} {'wall s':>7} {'cpu s':>7}  {'items':>6}  json")
    out_dir = Path(args.html) if args.html else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    for name, func in figures:
        (secs, cpu), fig = _best(func, args.repeat)
        size = len(fig.to_json())
        print(f"{name:<36} {secs:7.3f} {cpu:7.3f}  {_items(fig):>6}  {size / 1e3:.0f} kB   {fig.layout.title.text.split('<br>')[0]}")
        if out_dir:
            slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
            fig.write_html(out_dir / f"{slug}.html", include_plotlyjs=True, include_mathjax=False)
    if out_dir:
        print(f"\nwrote {len(figures)} figures to {out_dir}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
