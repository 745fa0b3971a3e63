"""The engine x check matrix of docs/engines.md: how many of the CLI's numbers imgviz's frames equal.

``python -m tests._matrix`` reads the fleet recorded on each engine kind (tests/data/fleet for
docker20, tests/data/<kind> for the others: snapshot.json.gz taken through imgviz's engine source
plus what that engine's own CLI printed) and counts, per check, the cells where the frames equal
the CLI (formatted by the 20.10 CLI's rule, as imgviz does today), and where they differ, why
(the first few differences are printed). It measures; the tests prove (tests/_compare.py).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from imgviz.analysis.listing import history_table, image_list
from imgviz.analysis.sizes import disk_usage, hidden_layer_holders, per_image_sizes
from imgviz.frames import frames
from imgviz.sources import load
from imgviz.units import df_image_size_precision, human_size

from ._compare import json_lines, parse_table

DATA = Path(__file__).parent / "data"
FOLDERS = {"docker20": "fleet", "docker28": "docker28", "docker28-containerd": "docker28-containerd",
           "podman": "podman"}


class Tally:
    def __init__(self):
        self.n = Counter()
        self.ok = Counter()
        self.examples: dict[str, list] = {}

    def check(self, name: str, ours, theirs, where="") -> None:
        self.n[name] += 1
        if ours == theirs:
            self.ok[name] += 1
        else:
            self.examples.setdefault(name, [])
            if len(self.examples[name]) < 3:
                self.examples[name].append(f"{where}: imgviz {ours!r} vs CLI {theirs!r}")


def measure(kind: str) -> Tally:
    folder = DATA / FOLDERS[kind]
    snap = load(folder / "snapshot.json.gz")
    api_file = folder / "api.json"
    if api_file.exists():  # /info and ?manifests=1, recorded beside the snapshot (phase 1)
        api = json.loads(api_file.read_text())
        snap.records["info"] = api["info"]
        if kind == "docker28-containerd":
            snap.records["image_manifests"] = api["images_manifests"]
    f = frames(snap)
    cli = json.loads((folder / "cli.json").read_text())
    t = Tally()
    # the engine model, and each image's image ls / inspect / df numbers against that model's rule
    from imgviz.analysis.size_views import size_views
    from imgviz.analysis.what_if import storage_of
    from imgviz.sources.engine_model import model_of_snapshot

    want = {"docker20": "graphdriver", "docker28": "graphdriver", "docker28-containerd": "containerd",
            "podman": "podman"}[kind]
    t.check("engine model: storage", storage_of(model_of_snapshot(snap)), want)
    for v in size_views(f).itertuples(index=False):
        if want == "podman":  # no Docker rule holds there: the explanation must say so
            t.check("size model: podman's numbers said not to be Docker's", "compat df" in v.explanation, True, v.label)
        else:
            t.check("size model: image ls / inspect / df follow the engine's rule", str(v.rule_holds), "True",
                    v.label)
    # system df -v: image rows
    rows = parse_table(cli["system_df_v"], "REPOSITORY")
    t.check("df -v: image rows (count)", len(f.images), len(rows))
    by_short = f.images.set_index("short_id")
    for row in rows:
        if row["IMAGE ID"] not in by_short.index:
            t.check("df -v: image known", False, True, row["IMAGE ID"])
            continue
        img = by_short.loc[row["IMAGE ID"]]
        if isinstance(img, pd.DataFrame):
            img = img.iloc[0]
        model = model_of_snapshot(snap)
        digits = df_image_size_precision(model.version if model.engine == "Docker Engine" else None)
        for col, key, prec in (("SIZE", "size", digits), ("SHARED SIZE", "shared_size", 4),
                               ("UNIQUE SIZE", "unique_size", 4)):
            t.check(f"df -v: {col}", human_size(img[key], prec), row[col], row["IMAGE ID"])
        t.check("df -v: CONTAINERS", str(img["containers"]), row["CONTAINERS"], row["IMAGE ID"])
        name = "<none>" if row["REPOSITORY"] == "<none>" else f"{row['REPOSITORY']}:{row['TAG']}"
        t.check("df -v: REPOSITORY:TAG", True, name == "<none>" and bool(img["dangling"]) or name in img["tags"],
                f"{row['IMAGE ID']} {name}")
    # system df: Images line
    df_rows = {r["TYPE"]: r for r in parse_table(cli["system_df"], "TYPE")}
    usage = disk_usage(f)
    for kind_row in ("Images", "Containers"):
        t.check(f"df: {kind_row} TOTAL", str(int(usage.loc[kind_row, "total"])), df_rows[kind_row]["TOTAL"])
        t.check(f"df: {kind_row} SIZE", human_size(usage.loc[kind_row, "size"]), df_rows[kind_row]["SIZE"])
    # the engine's own per-image numbers vs the layer rule
    derived = per_image_sizes(f.layers, hidden_layer_holders(f)).set_index("image_id")
    for img in f.images.itertuples(index=False):
        raw = f.engine_df["images"].get(img.image_id) if f.engine_df else None
        got = derived.loc[img.image_id] if img.image_id in derived.index else None
        t.check("layer rule: Size = sum of layers", int(got["size"]) if got is not None else 0,
                raw["Size"] if raw else None, img.short_id)
        t.check("layer rule: SharedSize", int(got["shared_size"]) if got is not None else 0,
                raw["SharedSize"] if raw else None, img.short_id)
    physical = int(f.layers.drop_duplicates("chain_id")["size"].sum())
    t.check("layer rule: LayersSize = distinct layers", physical, f.engine_df["layers_size"] if f.engine_df else None)
    # image ls
    theirs = {(r["Repository"], r["Tag"], r["ID"]): r["Size"] for r in json_lines(cli["image_ls"])}
    ours = {(r.repository, r.tag, r.short_id): human_size(r.size, 3) for r in image_list(f.images).itertuples(index=False)}
    t.check("image ls: rows", sorted(ours), sorted(theirs))
    for key, size in theirs.items():
        t.check("image ls: SIZE", ours.get(key), size, key)
    # history
    for key in (k for k in cli if k.startswith("history ")):
        image_id = key.split(" ", 1)[1]
        if image_id not in set(f.images["image_id"]):
            continue
        rows_h = json_lines(cli[key])
        mine = history_table(f.history, image_id)
        t.check("history: rows", len(mine), len(rows_h), image_id[7:19])
        for m, r in zip(mine.itertuples(index=False), rows_h):
            t.check("history: IMAGE", m.entry_id, r["ID"], image_id[7:19])
            t.check("history: CREATED BY", m.created_by or "", r["CreatedBy"], image_id[7:19])
            t.check("history: SIZE", human_size(m.size, 3), r["Size"], image_id[7:19])
    # ps -a -s
    by_id = f.containers.set_index("container_id")
    for r in json_lines(cli["ps_size"]):
        c = by_id.loc[r["ID"]]
        t.check("ps -s: SIZE (virtual)", f"{human_size(c['size_rw'], 3)} (virtual {human_size(c['size_root_fs'], 3)})",
                r["Size"], r["Names"])
        t.check("ps -s: NAMES", True, r["Names"] in c["names"], r["Names"])
    return t


def main(kinds) -> None:
    tallies = {k: measure(k) for k in kinds}
    names = list(dict.fromkeys(n for t in tallies.values() for n in t.n))
    print("| check | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for name in names:
        cells = [f"{t.ok[name]} of {t.n[name]}" if t.n[name] else "-" for t in tallies.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    for kind, t in tallies.items():
        for name, ex in t.examples.items():
            for e in ex:
                print(f"- {kind} / {name}: {e}")


if __name__ == "__main__":
    main(sys.argv[1:] or list(FOLDERS))
