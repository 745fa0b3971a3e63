"""Write the workshop notebooks (nbformat, outputs empty). Run from anywhere:

    python notebooks/_build.py

The notebooks are generated so that their text and code are reviewed as plain Python here, and so
that what is committed never carries outputs (tests/notebooks checks both). Each notebook runs on
the live engine when one answers and on the embedded demo snapshot otherwise;
``IMGVIZ_SOURCE=demo`` pins it to the demo.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SOURCE_CELL = '''\
import imgviz
from imgviz.analysis.listing import history_table, image_list
from imgviz.selection import find_image, labels, short_id
from imgviz.units import axis_bytes, byte_unit, human_size

# The live engine when one answers, else the embedded demo snapshot (IMGVIZ_SOURCE=demo pins the demo).
snap, where = imgviz.open()
if not snap.images:  # an engine without images has nothing to show yet
    snap, where = imgviz.open("demo")
f = imgviz.frames(snap)
print("Source:", where)
f'''

PICK_CELL = '''\
def pick(*refs):
    """The first of `refs` this source has; else its tagged image with the most layers."""
    for ref in refs:
        try:
            return find_image(f.images, ref)
        except imgviz.ImgvizError:
            pass
    tagged = f.images[~f.images["dangling"]] if (~f.images["dangling"]).any() else f.images
    return tagged.sort_values(["n_layers", "size"], ascending=False).iloc[0]["image_id"]


names = labels(f.images)  # imgviz's one naming rule: the first tag, or <none>@<short id>


def name(image_id):
    return names[image_id]'''

FILES_CELL = '''\
# What is inside the layers: from the engine when it holds the demo fleet, else the files recorded
# from a build of it (source="demo": no engine needed).
def read_files(refs):
    if where.startswith("live engine"):
        try:
            return imgviz.files(refs, source="engine", progress=False)
        except imgviz.ImgvizError as exc:
            print("Not on this engine:", exc)
    return imgviz.files(refs, source="demo")'''

NOTEBOOKS = {}

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["01-images-and-layers.ipynb"] = [
    ("md", """\
# 1. An image is a stack of layers

The chapter starts by pulling `diamol/ch03-web-ping`. `docker image pull` prints one `Pull complete`
line per download, not one for the whole image: an image is **one logical thing made of several
files**, its *layers*. The engine stacks them to build the file system a container sees.

This notebook looks at those layers in data the engine reported. It uses the live Docker engine
when one answers and otherwise the embedded demo snapshot, which was recorded from a real engine
holding the workshop fleet (`workshop/web-ping`, `workshop/node`, ... built from Debian packages,
see `data/fleet/README.md`)."""),
    ("code", SOURCE_CELL),
    ("code", PICK_CELL),
    ("md", """\
## `docker image ls`

`image_list` gives the rows `docker image ls` prints: one per tag, newest first. An image with two
tags has two rows with the same IMAGE ID; an image whose tag moved to a rebuild is left *dangling*
(`<none>`)."""),
    ("code", '''\
ls = image_list(f.images)
ls.assign(size=ls["size"].map(human_size))[["repository", "tag", "short_id", "created", "size"]]'''),
    ("md", """\
The chapter filters by name with `docker image ls 'w*'`. The pattern is matched against
`repository:tag` and against the repository, and `*` does not cross a `/`, so with the workshop's
`workshop/...` names the filter is `'workshop/w*'`:"""),
    ("code", '''\
image_list(f.images, "workshop/w*")[["repository", "tag", "short_id"]]'''),
    ("md", """\
## The layers of one image

`f.layers` has one row per (image, layer), base first. `diff_id` is the hash of the layer's
uncompressed content; `chain_id` identifies the layer *together with all layers below it*, which
is how the engine knows two images hold the very same layer. A pull downloads one compressed blob
per layer it does not have yet, which is why the chapter's pull printed six lines."""),
    ("code", '''\
web_ping = pick("workshop/web-ping:v1", "web-ping:latest")
print(name(web_ping))
layers = f.layers[f.layers["image_id"] == web_ping]
layers[["position", "size", "instruction", "created_by", "diff_id", "chain_id"]]'''),
    ("code", '''\
import plotly.express as px

unit, scale = byte_unit(layers["size"].max())  # the axis unit imgviz's figures use (KB, MB, ...)
shown = layers.assign(
    layer=[f"#{p} {i or 'base'}" for p, i in zip(layers["position"], layers["instruction"])],
    bytes=layers["size"] / scale,
    made_by=layers["created_by"].fillna("").str.slice(0, 80),
)
px.bar(shown, x="bytes", y="layer", orientation="h", hover_data=["made_by", "size"], log_x=True,
       title=f"Layers of {name(web_ping)} (uncompressed, log scale)", labels={"bytes": f"size ({unit})"})'''),
    ("md", """\
## `docker image history`: instructions and layers

The chapter says Dockerfile instructions and image layers are one to one. That is true of the
**history**: every instruction leaves one history entry. Only instructions that change files make
a **layer**: `RUN`, `COPY`, `ADD`, and `WORKDIR` when it creates the folder. `ENV`, `CMD` and
`LABEL` only change the image's settings; their entries show `0B` and have no layer."""),
    ("code", '''\
h = history_table(f.history, web_ping)
h.assign(size=h["size"].map(human_size))[
    ["created_by", "instruction", "size", "empty_layer", "layer_position", "comment"]]'''),
    ("code", '''\
entries, made = len(h), int((~h["empty_layer"]).sum())
print(f"{name(web_ping)}: {entries} history entries, {made} of them made a layer, "
      f"{entries - made} only changed settings")'''),
    ("md", """\
## Layers combine into the container's file system

Each layer is a tar of the files one instruction added, changed or removed. The engine stacks them
(overlayfs): a file in a higher layer hides the same path below, a *whiteout* in a higher layer
hides a path below, and what is left is the file system a container sees. `imgviz.files` reads the
layers' tar entries, each layer once; nothing is unpacked."""),
    ("code", FILES_CELL),
    ("code", '''\
fs = read_files(["workshop/web-ping:v1"])
print(fs.source)
summary = fs.layer_summary()
summary.assign(added_bytes=summary["added_bytes"].map(human_size))[
    ["position", "created_by", "added", "modified", "removed", "added_bytes"]]'''),
    ("md", """\
Box size by *log* bytes keeps the small layers visible: `WORKDIR /web-ping` (one folder) and
`COPY app.js` (one small file) beside the Debian base and Node.js. Click a box to open it."""),
    ("code", '''\
imgviz.figures.files_tree(fs, by="log", depth=2)'''),
    ("code", '''\
final = fs.union()  # what `docker export` of a container of the image holds
top_layer = final[final["position"] == final["position"].max()]
print(f"{len(final)} paths in the container's file system; "
      f"{int((final['position'] == 0).sum())} come from the base layer, {len(top_layer)} from the top layer:")
top_layer[["path", "type", "size", "mode", "position"]]'''),
    ("md", """\
The Node.js layer rewrote files the base already had (dpkg's status file, for one): a changed
file is stored again, whole, in the layer that changed it, and the base's copy stays in the base
layer, hidden. Pick a layer to see what it added and removed:"""),
    ("code", '''\
from imgviz.widgets import files_explorer

files_explorer(fs)'''),
]

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["02-env-defaults-and-overrides.ipynb"] = [
    ("md", """\
# 2. ENV defaults and `-e` overrides

web-ping reads its target, HTTP method and interval from environment variables. The Dockerfile
stores defaults with `ENV`, and `docker container run -e TARGET=google.com ...` replaces one of
them for one container. The image does not change; only the container's settings do.

This is the Dockerfile the demo fleet builds (`data/fleet/web-ping/Dockerfile`):"""),
    ("code", '''\
from pathlib import Path

dockerfile = Path("..") / "data" / "fleet" / "web-ping" / "Dockerfile"
print(dockerfile.read_text() if dockerfile.exists() else "(not in this checkout)")'''),
    ("code", SOURCE_CELL),
    ("code", PICK_CELL),
    ("md", """\
## Defaults stored in the images

`f.images["env"]` is the config's `Env`: what every container of the image starts with unless told
otherwise."""),
    ("code", '''\
from imgviz.analysis.env import env_defaults, env_overrides

env_defaults(f)[["label", "name", "default"]]  # PATH left out: every image sets it'''),
    ("md", """\
## What containers really run with

`f.containers["env"]` is the env each container was created with: the image's defaults with the
`-e` values on top. Comparing the two shows every override. In the demo, `web-ping-google` was
started with `-e TARGET=google.com`, `web-ping-docker` with `-e TARGET=docker.com -e INTERVAL=5000`,
as in the chapter."""),
    ("code", '''\
env_overrides(f)[["container", "label", "name", "image_default", "value"]]'''),
    ("md", """\
## Settings are not secrets

Anything in `ENV` is part of the image: whoever can pull it can read the values (`docker image
inspect`, and the history shows the `ENV` line). The demo's `workshop/web-ping:staging` carries a
made-up `API_TOKEN` to show this. imgviz masks values whose names look like secrets (TOKEN,
SECRET, PASSWORD, API_KEY, ...) in its reports; the function is plain and can be used directly:"""),
    ("code", '''\
from imgviz.analysis.secrets import mask_env, mask_text

staging = pick("workshop/web-ping:staging")
env = f.images.set_index("image_id").loc[staging, "env"]
print(name(staging))
print("as stored:", env)
print("masked:   ", mask_env(env))
last_env = f.history[(f.history["image_id"] == staging) & (f.history["instruction"] == "ENV")]["created_by"]
print("history:  ", [mask_text(t) for t in last_env])'''),
    ("md", """\
Pass secrets at run time instead (`-e`, an env file, or a secrets mechanism), so they never enter
a layer or the config."""),
]

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["03-sharing-and-size.ipynb"] = [
    ("md", """\
# 3. Shared layers, and why the sizes do not add up

Images built `FROM` the same base reuse its layers: the engine stores each layer once and every
image that uses it points at the same files. Layers are **read-only**, so sharing is safe: no image
or container can change a layer another one uses (a container writes to its own thin layer on top).

That is why `docker image ls` can list several images of about 172 MB each while the disk holds
far less: SIZE counts every layer an image uses, shared or not."""),
    ("code", SOURCE_CELL),
    ("code", PICK_CELL),
    ("md", """\
## Which images share which layers

Two images share a layer when they have the same **chain ID**: the same content on the same
layers below. Below, a mark means the image (column) uses the layer (row)."""),
    ("code", '''\
import pandas as pd

chosen = [pick(r) for r in ("workshop/debian:12", "workshop/node:18", "workshop/web-ping:v1",
                            "workshop/web-ping:v2", "workshop/web-ping:optimized")]
chosen = list(dict.fromkeys(chosen))  # an image with two tags counts once
use = f.layers[f.layers["image_id"].isin(chosen)].copy()
use["image"] = use["image_id"].map(name)
use["layer"] = [f"{short_id(c)} {i or 'base'} ({human_size(s)})"
                for c, i, s in zip(use["chain_id"], use["instruction"], use["size"])]
pd.crosstab(use["layer"], use["image"]).replace({1: "x", 0: ""})'''),
    ("md", """\
The web-ping images differ only in their small top layers: the base and the Node.js runtime are the
same files on disk for all of them.

A subtle case: the same file copied onto two *different* parents is two layers. The demo's
`pingall` and `httpcheck` both copy `fleet-targets.list`: same `diff_id`, different `chain_id`."""),
    ("code", '''\
same_diff = (f.layers.groupby("diff_id")["chain_id"].nunique().loc[lambda s: s > 1].index)
f.layers[f.layers["diff_id"].isin(same_diff)].assign(image=lambda d: d["image_id"].map(name))[
    ["image", "position", "created_by", "diff_id", "chain_id", "size"]]'''),
    ("md", """\
## Reported size vs bytes on disk

- `docker image ls` SIZE: all layers of the image. Summing it counts shared layers many times.
- `docker system df`: each distinct layer once; that is what the disk holds.
- `docker system df -v` splits each image into SHARED SIZE (layers other images use too) and
  UNIQUE SIZE (what removing just this image would free)."""),
    ("code", '''\
from imgviz.analysis.sizes import image_sizes, totals

t = totals(f)  # every whole-snapshot number, each with its rule in the "meaning" column
v = t["value"]
print(f"`docker image ls` adds up to: {human_size(v['reported'])} ({v['tags']} rows, one per tag)")
print(f"each image counted once:      {human_size(v['logical'])} ({v['images']} images)")
print(f"distinct layers on disk:      {human_size(v['physical'])} (from the {t.at['physical', 'source']})")
print(f"sharing saves {human_size(v['saved_by_sharing'])} ({v['saved_by_sharing'] / v['logical']:.0%}) "
      f"of the per-image sum")
t.loc[["reported", "logical", "physical", "saved_by_sharing"], ["value", "meaning"]]'''),
    ("code", '''\
image_sizes(f)[["label", "size", "shared_size", "unique_size"]]  # most bytes of their own first'''),
    ("md", """\
The same numbers as figures (`imgviz.figures`): the first bar adds up `docker image ls`, the last
one is the disk; then shared and unique bytes per image."""),
    ("code", '''\
from imgviz import figures

figures.reported_vs_physical(f)'''),
    ("code", '''\
figures.image_sizes(f, sort="unique_size")'''),
    ("md", """\
The layer tree draws every distinct layer once, on top of the layers below it: images that start
the same way share a branch (hover a box for the instruction and the images using it)."""),
    ("code", '''\
figures.layer_tree(f)'''),
    ("md", """\
Several web-ping tags show **0 B unique**: they use exactly the same layers as another image, so
removing one of them frees nothing until the last image using those layers is gone. `what_if`
shows it: removing `web-ping:v1` frees only its own `COPY` layer, the rest stays for the others."""),
    ("code", '''\
figures.what_if(f, [pick("workshop/web-ping:v1")])'''),
    ("md", """\
## Shared layers are read-only: the same files, stored once

Inside the layers: `web-ping:v1` and `v2` have the same base, Node.js and `WORKDIR` layers (the
same diff IDs), so their files are one set of rows, read once and stored once. Only the `COPY
app.js` layers differ. No image can change a shared layer: a build step that edits a file of a lower
layer stores a whole new copy in its own layer, and a container writes into its own thin layer."""),
    ("code", FILES_CELL),
    ("code", '''\
fs = read_files(["workshop/web-ping:v1", "workshop/web-ping:v2"])
per_image = fs.layers.assign(image=fs.layers["image_id"].map(dict(zip(fs.images["image_id"], fs.images["label"]))))
shared = per_image.groupby("diff_id")["image"].nunique()
print(f"{fs.layers['diff_id'].nunique()} distinct layers for {len(fs.images)} images; "
      f"{int((shared > 1).sum())} shared by both; "
      f"{len(fs.files)} file rows read (each shared layer once)")
per_image.assign(shared_by=per_image["diff_id"].map(shared))[["image", "position", "created_by", "shared_by"]]'''),
    ("code", '''\
v1, v2 = (fs.union(ref) for ref in ("workshop/web-ping:v1", "workshop/web-ping:v2"))
both = v1.merge(v2, on="path", suffixes=("_v1", "_v2"))
differ = both[(both["diff_id_v1"] != both["diff_id_v2"]) & (both["type_v1"] == "file")]
print(f"{len(both)} paths in both file systems; {len(differ)} files come from different layers:")
differ[["path", "size_v1", "size_v2", "position_v1", "position_v2"]]'''),
    ("md", """\
Bytes that build steps copied again are shipped and stored although no container reads them:
the Node.js layer rewrote files of the base. `imgviz waste IMAGE` prints dive's figures (and
checks dive's CI rules with `--ci`) beside this one."""),
    ("code", '''\
w = fs.waste("workshop/web-ping:v2")
print(f"dive's efficiency {w['efficiency']:.2%}, dive's wasted bytes {human_size(w['wasted_bytes'])}; "
      f"shipped but not in the final file system: {human_size(w['shipped_not_final_bytes'])}")
imgviz.figures.wasted_files(fs, image="workshop/web-ping:v2", top_n=10)'''),
]

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["04-build-cache-and-order.ipynb"] = [
    ("md", """\
# 4. The build cache, and why instruction order matters

When you rebuild, the engine reuses a step's result when nothing that step depends on changed.
The chapter explains it with the classic builder: each step's cache key is a hash of its parent
plus the instruction (plus the copied files' content for `COPY`), so **once one step changes, every
step after it runs again**. Put what rarely changes first and what changes often (your source
code) last.

The cases below were built on a real engine (dockerd 20.10) with both builders and recorded in
`data/cascade/`; `webping-edit` is the chapter's edit of `app.js` with the first Dockerfile."""),
    ("code", '''\
from pathlib import Path

import pandas as pd

CASES = Path("..") / "data" / "cascade"
print((CASES / "webping-edit" / "new" / "Dockerfile").read_text())'''),
    ("code", '''\
def observed(case):
    """What the engine did for each step of new/Dockerfile, with both builders."""
    out = None
    for builder in ("classic", "buildkit"):
        t = pd.read_csv(CASES / case / f"observed-{builder}.tsv", sep="\\t", comment="#")
        t = t.rename(columns={"outcome": builder})
        out = t if out is None else out.merge(t[["step", builder]], on="step")
    return out


observed("webping-edit")'''),
    ("md", """\
The classic builder does what the chapter says: `COPY app.js .` changed, so it and the `CMD` after
it were built again.

**BuildKit (the default builder today) decides per step.** `ENV`, `CMD` and `LABEL` are not build
steps at all for it (*no vertex*): they are edits of the image's settings, applied at the end. A
file-system step is reused when its own inputs and the file-system steps before it are unchanged.
So under BuildKit a changed `ENV` does not force a later `COPY` to run again (a later `RUN` does
run, because it sees the variables)."""),
    ("code", '''\
print((CASES / "webping-edit-optimized" / "new" / "Dockerfile").read_text())
observed("webping-edit-optimized")'''),
    ("md", """\
With the optimized order (`CMD` and one `ENV` first, `COPY app.js .` last) an edit of `app.js`
rebuilds only the last step with either builder.

Reordering the Dockerfile itself is a change too. With the classic builder the first moved line
breaks the cache for everything below it, once; BuildKit keeps `WORKDIR` and `COPY` because their
inputs did not change:"""),
    ("code", '''\
observed("webping-optimize")'''),
    ("md", """\
## Predicting it without building

`imgviz.cascade(old, new, builder=...)` (or `imgviz cascade OLD NEW` in a shell) reads the two
Dockerfiles and build contexts and says, for every instruction of the new one, whether the cache
will be hit and why (the file contents a `COPY` takes, the instruction text, the steps before it).
Side by side with what the engine did:"""),
    ("code", '''\
import imgviz


def predicted(steps):
    """The prediction in the words of the observed tables."""
    out = []
    for r in steps.itertuples():
        if r.kind == "from":
            out.append("base")
        elif r.kind == "metadata":
            out.append("no-vertex")
        elif r.cached is None or r.cached != r.cached:
            out.append("unknown")
        else:
            out.append("cached" if r.cached else "built")
    return out


def compare(case):
    table = observed(case)
    for builder in ("classic", "buildkit"):
        steps = imgviz.cascade(CASES / case / "old", CASES / case / "new", builder=builder)
        table[f"{builder} predicted"] = predicted(steps)
        table[f"{builder} reason"] = list(steps["reason"])
        same = int((table[builder] == table[f"{builder} predicted"]).sum())
        print(f"{case}, {builder}: the prediction matches the engine on {same} of {len(table)} steps")
    return table


compare("webping-edit")[["step", "instruction", "classic", "classic predicted", "buildkit",
                         "buildkit predicted", "buildkit reason"]]'''),
    ("code", '''\
for case in ("webping-edit-optimized", "webping-optimize"):
    compare(case)'''),
    ("code", '''\
from imgviz.figures.cascade import cascade as cascade_figure

cascade_figure(imgviz.cascade(CASES / "webping-edit" / "old", CASES / "webping-edit" / "new", builder="classic"),
               title="webping-edit with the classic builder: what the app.js edit rebuilds")'''),
    ("md", """\
## The same story in the images

The demo fleet holds `web-ping:v1` and `web-ping:v2` (the `app.js` edit) built with BuildKit.
They share every layer but the `COPY app.js .` one: a step that hit the cache made no new layer,
so on disk v2 costs only its new `COPY` layer."""),
    ("code", SOURCE_CELL),
    ("code", PICK_CELL),
    ("code", '''\
v1, v2 = pick("workshop/web-ping:v1"), pick("workshop/web-ping:v2")
a = f.layers[f.layers["image_id"] == v1].set_index("position")
b = f.layers[f.layers["image_id"] == v2].set_index("position")
side = pd.DataFrame({"instruction": a["instruction"].fillna("base"),
                     f"{name(v1)} layer": a["chain_id"].map(short_id),
                     f"{name(v2)} layer": b["chain_id"].map(short_id),
                     "size": b["size"]})
side["same layer"] = a["chain_id"] == b["chain_id"]
side'''),
]

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["05-your-engine.ipynb"] = [
    ("md", """\
# 5. Your engine

Point imgviz at your own engine: this notebook collects it when one answers (set `DOCKER_HOST` to
use another address) and falls back to the embedded demo snapshot otherwise. Nothing is changed on
the engine: imgviz only reads metadata (no layer contents).

Save a snapshot to explore it later, or on another machine, without the engine."""),
    ("code", SOURCE_CELL),
    ("code", '''\
from imgviz.analysis.sizes import totals

v = totals(f)["value"]
print(f"{v['images']} images in {v['repositories']} repositories, {v['dangling_images']} dangling, "
      f"{v['containers']} containers")
print(f"sum of image sizes {human_size(v['logical'])}, on disk {human_size(v['physical'])}")'''),
    ("md", """\
## Explore

Pick an image to see its layers and history (an ipywidgets drop-down; the figure and the table
below it follow the choice)."""),
    ("code", '''\
import ipywidgets as widgets
import plotly.graph_objects as go
from IPython.display import clear_output, display

by_label = {label: image_id for image_id, label in labels(f.images).items()}
choice = widgets.Dropdown(options=sorted(by_label), description="image", layout={"width": "60%"})
figure = widgets.Output()
table = widgets.Output()


def show(change=None):
    image_id = by_label[choice.value]
    lay = f.layers[f.layers["image_id"] == image_id]
    unit, scale = byte_unit(lay["size"].max())
    fig = go.Figure(go.Bar(
        x=lay["size"] / scale, y=[f"#{p} {i or 'base'}" for p, i in zip(lay["position"], lay["instruction"])],
        orientation="h", customdata=[[axis_bytes(s), (c or "")[:80]] for s, c in zip(lay["size"], lay["created_by"])],
        hovertemplate="%{y}: %{customdata[0]}<br>%{customdata[1]}<extra></extra>"))
    fig.update_layout(title=f"Layers of {choice.value}", xaxis_title=f"size ({unit})", height=160 + 30 * len(lay))
    with figure:
        clear_output(wait=True)
        display(fig)
    with table:
        clear_output(wait=True)
        display(history_table(f.history, image_id)[["created_by", "size", "empty_layer"]])


choice.observe(show, names="value")
show()
widgets.VBox([choice, figure, table])'''),
    ("md", """\
## Sharing dashboard

Filter images by a `docker image ls` pattern or a search text, choose images to remove, and the
figures (shared vs unique, what removing them frees, reported vs on disk, the sharing heatmap, the
layer tree) follow."""),
    ("code", '''\
from imgviz.widgets import sharing_dashboard

sharing_dashboard(f, top_n=15)'''),
    ("md", """\
## The report

The same report `imgviz report -o report.html` writes, inline. Secret-looking values are masked.
`write_html` makes a single file (plotly.js inside) to open offline or send to colleagues."""),
    ("code", '''\
report = imgviz.Report(f, description=where)
report'''),
    ("code", '''\
path = report.write_html("report.html")
print(f"wrote {path.resolve()} ({path.stat().st_size / 1e6:.1f} MB)")'''),
    ("md", """\
To keep what you saw, save a snapshot and load it anywhere later:

```python
snap = imgviz.collect()              # the live engine
snap.save("my-engine.json.gz")
f = imgviz.frames(imgviz.load("my-engine.json.gz"))
```"""),
]


def build(directory: Path = HERE) -> list[Path]:
    written = []
    for filename, cells in NOTEBOOKS.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        for kind, text in cells:
            nb.cells.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{filename[:2]}-{i:02d}"  # stable ids: regenerating changes nothing
        path = directory / filename
        nbformat.validate(nb)
        path.write_text(nbformat.writes(nb) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build():
        print(p)
