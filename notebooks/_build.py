"""Write the workshop notebooks (nbformat, outputs empty). Run from anywhere:

    python notebooks/_build.py

The notebooks are generated so that their text and code are reviewed as plain Python here, and so
that what is committed never carries outputs (tests/notebooks checks both). Each notebook runs on
the live engine when one answers and on the embedded demo snapshot otherwise;
``IMGVIZ_SOURCE=demo`` pins it to the demo. They read nothing outside the installed package: the
demo, the recorded build-cache cases and the Dockerfiles are package data.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SOURCE_CELL = '''\
import imgviz
from imgviz.analysis.listing import history_table, image_list
from imgviz.analysis.secrets import mask_frames
from imgviz.analysis.sizes import totals
from imgviz.selection import labels, short_id
from imgviz.units import human_size

# The live engine when one answers, else the embedded demo snapshot (IMGVIZ_SOURCE=demo pins the demo).
snap, where = imgviz.open()
gap = imgviz.incomplete(snap)  # None when everything was collected
if gap:  # the engine stopped answering or timed out part-way: said first, never silently
    print(gap)
if not snap.images:  # an engine without images (or whose list never came) has nothing to show yet
    snap, where = imgviz.open("demo")
    if gap:
        where += " (the live engine's collection was INCOMPLETE, with no images)"
# Secret-looking values (names with TOKEN, SECRET, PASS..., URL passwords, private keys, Authorization
# headers) are masked by imgviz's one rule, as in its reports and CLI; imgviz.frames(snap) keeps them.
f = mask_frames(imgviz.frames(snap))
v = totals(f)["value"]
print("Source:", where)
print(f"{v['images']} images ({v['tags']} tags), {v['distinct_layers']} distinct layers, {v['containers']} containers")'''

PICK_CELL = '''\
from imgviz.selection import pick_image

names = labels(f.images)  # imgviz's one naming rule: the first tag, or <none>@<short id>


def pick(*refs):
    """The first of `refs` this source holds, else its biggest tagged image."""
    return pick_image(f.images, *refs)


def name(image_id):
    return names[image_id]'''

NOTEBOOKS = {}

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["01-images-and-layers.ipynb"] = [
    ("md", """\
# 1. An image is a stack of layers

The chapter opens with `docker image pull diamol/ch03-web-ping`. The pull does not print one line
for the image: it prints one `Pull complete` per download. An image is **one thing to use but
several files on disk**, its *layers*, and the engine stacks them into the file system a container
sees.

Here we look at those layers in what an engine reports. With a Docker engine running, the notebook
reads it; otherwise it uses the demo snapshot that ships with imgviz, recorded from a real engine
holding the workshop's images (`workshop/web-ping`, `workshop/node`, ... built from Debian
packages)."""),
    ("code", SOURCE_CELL),
    ("code", PICK_CELL),
    ("md", """\
## Explore an image

Pick any tag. Each row is one entry of the image's history (newest on top, the way `docker image
history` prints it); a bar is a layer. On the **log** axis a 1 kB layer stays visible beside a
100 MB one, and every bar is labelled with its real size; **linear** shows what the bytes weigh.
Click a bar to read that entry in full."""),
    ("code", '''\
from imgviz.widgets import image_explorer

image_explorer(f, image=name(pick("workshop/web-ping:v1", "web-ping:latest")))'''),
    ("md", """\
## `docker image ls`

`image_list` gives the rows `docker image ls` prints: one per tag, newest first. Two tags of one
image are two rows with the same IMAGE ID. A rebuild that takes a tag away from an image leaves it
*dangling* (`<none>`)."""),
    ("code", '''\
ls = image_list(f.images)
ls.assign(size=ls["size"].map(human_size))[["repository", "tag", "short_id", "created", "size"]]'''),
    ("md", """\
The chapter filters by name with `docker image ls 'w*'`. Docker matches the pattern against
`repository:tag` and against the repository alone, and `*` never crosses a `/`. Our images live
under `workshop/`, so `'w*'` finds nothing here and the filter to type is `'workshop/w*'`:"""),
    ("code", '''\
print("'w*' matches", len(image_list(f.images, "w*")), "rows")
image_list(f.images, "workshop/w*")[["repository", "tag", "short_id"]]'''),
    ("md", """\
## The layers of one image

`f.layers` has a row per (image, layer), base first. `diff_id` is the hash of the layer's
uncompressed content. `chain_id` names the layer *together with everything below it*: that is how
the engine knows two images hold the very same layer. A pull fetches one compressed blob for each
layer the engine lacks, hence one line per layer in the chapter's pull."""),
    ("code", '''\
web_ping = pick("workshop/web-ping:v1", "web-ping:latest")
print(name(web_ping))
layers = f.layers[f.layers["image_id"] == web_ping]
layers[["position", "size", "instruction", "created_by", "diff_id", "chain_id"]]'''),
    ("md", """\
## `docker image history`: instructions and layers

The chapter says instructions and layers go one to one. That holds for the **history**: each
instruction leaves one entry. Only instructions that change files leave a **layer**: `RUN`,
`COPY`, `ADD`, and `WORKDIR` (BuildKit records an empty layer for it, `0 B`, as the explorer shows).
`ENV`, `CMD` and `LABEL` change only the image's settings; their entries are `0B` with no layer."""),
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
    ("code", '''\
# layer contents: from the engine when it holds these images, else the demo's recording of them
fs = imgviz.files(["workshop/web-ping:v1"], source="auto", progress=False)
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

web-ping reads where to send requests, which HTTP method to use and how often from environment
variables. The Dockerfile stores defaults with `ENV`; `docker container run -e TARGET=google.com
...` gives one container another value. The image stays as it was: only that container differs.

The Dockerfile the demo's `web-ping` was built from (it ships with imgviz):"""),
    ("code", '''\
import imgviz

print(imgviz.demo_cascade("webping-edit").dockerfile("old"))'''),
    ("code", SOURCE_CELL),
    ("code", PICK_CELL),
    ("md", """\
## Try `-e`

Pick an image and type `-e` values, one per line. The table is the environment the container's
process starts with, in the order `env` would print it, and where each value comes from. The rule
behind it was checked against real `docker run -e` on a real engine; a few things it shows that
the chapter does not say:

- the engine adds `HOSTNAME` (the container's short ID) and the runtime adds `HOME`;
- `-e NAME` **without** a value takes the value of `NAME` from *your shell*; when your shell has
  no `NAME`, it removes the image's default instead (try `TARGET` alone);
- given twice, the last value wins."""),
    ("code", '''\
from imgviz.widgets import env_playground

env_playground(f, image=name(pick("workshop/web-ping:v1", "web-ping:latest")), env="TARGET=google.com")'''),
    ("md", """\
## Defaults stored in the images

`f.images["env"]` is the image config's `Env`: what every container of the image starts with
unless told otherwise."""),
    ("code", '''\
from imgviz.analysis.env import env_defaults, env_overrides

env_defaults(f)[["label", "name", "default"]]  # PATH left out: every image sets it'''),
    ("md", """\
## What containers were started with

`f.containers["env"]` is what each container was created with: the `-e` values first, then the
image's defaults for every other name. Comparing the two shows each override. In the demo,
`web-ping-google` was started with `-e TARGET=google.com` and `web-ping-docker` with
`-e TARGET=docker.com -e INTERVAL=5000`, the chapter's two runs."""),
    ("code", '''\
env_overrides(f)[["container", "label", "name", "image_default", "value"]]'''),
    ("md", """\
## Settings are not secrets

Anything in `ENV` is part of the image: whoever can pull it can read the values (`docker image
inspect`, and the history shows the `ENV` line). The demo's `workshop/web-ping:staging` carries a
made-up `API_TOKEN` to show this. imgviz masks values whose names look like secrets (TOKEN,
SECRET, PASSWORD, PASS, API_KEY, ...) and secrets recognised by their shape (URL passwords, private
keys, `Authorization` headers, `-u user:pw`) in everything it shows, these notebooks included; the
functions are plain and can be used directly:"""),
    ("code", '''\
from imgviz.analysis.secrets import mask_env, mask_text

staging = pick("workshop/web-ping:staging")
print(name(staging))
print("ENV:      ", f.images.set_index("image_id").loc[staging, "env"])  # f is masked (first cell)
last_env = f.history[(f.history["image_id"] == staging) & (f.history["instruction"] == "ENV")]["created_by"]
print("history:  ", list(last_env))
# the rule on made-up values
print(mask_env(["API_TOKEN=abc123", "DB_PASS=hunter2", "REDIS_URL=redis://:pw@cache:6379", "TARGET=example.org"]))
print(mask_text("RUN curl -H 'Authorization: Bearer abc' -u admin:pw https://example.org/"))'''),
    ("md", """\
Hand secrets to a container when it starts (`-e`, an env file, or a secrets store) so they never
land in a layer or in the image's settings."""),
]

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["03-sharing-and-size.ipynb"] = [
    ("md", """\
# 3. Shared layers, and why the sizes do not add up

Images built `FROM` the same base reuse its layers: the engine keeps each layer once, and every
image that uses it points at the same files. Layers are **read-only**, which makes the sharing
safe: no image and no container can change a layer someone else uses (a container writes into a
thin layer of its own).

So `docker image ls` can list several images of about 172 MB each while the disk holds far less:
its SIZE counts every layer an image uses, shared or not."""),
    ("code", SOURCE_CELL),
    ("code", PICK_CELL),
    ("md", """\
## Reported size vs bytes on disk

- `docker image ls` SIZE: every layer of the image. Adding it up counts shared layers again and again.
- `docker system df`: each distinct layer once, which is what the disk holds.
- `docker system df -v` splits each image into SHARED SIZE (layers other images use too) and
  UNIQUE SIZE (bytes only this image holds)."""),
    ("code", '''\
from imgviz import figures

figures.reported_vs_physical(f)'''),
    ("code", '''\
t = totals(f)  # every whole-snapshot number, each with its rule in the "meaning" column
print(f"`docker image ls` adds up to: {human_size(v['reported'])} ({v['tags']} rows, one per tag)")
print(f"each image counted once:      {human_size(v['logical'])} ({v['images']} images)")
print(f"distinct layers on disk:      {human_size(v['physical'])} (from the {t.at['physical', 'source']})")
print(f"sharing saves {human_size(v['saved_by_sharing'])} ({v['saved_by_sharing'] / v['logical']:.0%}) "
      f"of the per-image sum")
t.loc[["reported", "logical", "physical", "saved_by_sharing"], ["value", "meaning"]]'''),
    ("md", """\
## Which images share which layers

Two images share a layer when they have the same **chain ID**: the same content on the same
layers below. A mark means the image (column) uses the layer (row)."""),
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
The web-ping images differ only in their small top layers; the Debian base and the Node.js runtime
are the same files on disk for all of them.

A subtle case: the same file copied onto two *different* parents makes two layers. The demo's
`pingall` and `httpcheck` both copy `fleet-targets.list`: same `diff_id`, different `chain_id`."""),
    ("code", '''\
same_diff = (f.layers.groupby("diff_id")["chain_id"].nunique().loc[lambda s: s > 1].index)
f.layers[f.layers["diff_id"].isin(same_diff)].assign(image=lambda d: d["image_id"].map(name))[
    ["image", "position", "created_by", "diff_id", "chain_id", "size"]]'''),
    ("code", '''\
from imgviz.analysis.sizes import image_sizes

image_sizes(f)[["label", "size", "shared_size", "unique_size"]]  # most bytes of their own first'''),
    ("md", """\
The layer tree draws each distinct layer once, on top of the layers below it: images that start
the same way share a branch (hover a box for the instruction and the images that use it)."""),
    ("code", '''\
figures.layer_tree(f)'''),
    ("md", """\
## What removing an image frees

Removing an image frees only the layers no other image **and no container** still uses. The demo
keeps a stopped container, `web-ping-google`, made from `web-ping:v1`: while it exists, removing
v1 frees nothing (the engine refuses, or with `--force` only drops the tag). Remove the container
too and v1's own `COPY app.js` layer goes; everything below it stays for the other images."""),
    ("code", '''\
from imgviz.analysis.sizes import what_if_totals

v1 = pick("workshop/web-ping:v1")
alone, with_containers = what_if_totals(f, [v1]), what_if_totals(f, [v1], remove_containers=True)
print(f"remove {name(v1)}: frees {human_size(alone['freed'])}; "
      f"{human_size(alone['held_by_containers'])} stay under its container")
print(f"remove {name(v1)} and its container: frees {human_size(with_containers['freed'])}")
figures.what_if(f, [v1], remove_containers=True)'''),
    ("md", """\
## Shared layers are read-only: the same files, stored once

Inside the layers: `web-ping:v1` and `v2` have the same base, Node.js and `WORKDIR` layers (the
same diff IDs), so their files are one set of rows, read once and stored once. Only the `COPY
app.js` layers differ. No image can change a shared layer: a build step that edits a file of a lower
layer stores a whole new copy in its own layer, and a container writes into its own thin layer."""),
    ("code", '''\
# layer contents: from the engine when it holds these images, else the demo's recording of them
fs = imgviz.files(["workshop/web-ping:v1", "workshop/web-ping:v2"], source="auto", progress=False)
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
    ("md", """\
## Play with it

Filter the images with a `docker image ls` pattern, pick images to remove (or click their bars in
*Shared vs unique*), and watch what that frees. Picks stay picked when you change the filter."""),
    ("code", '''\
from imgviz.widgets import sharing_dashboard

sharing_dashboard(f, pattern="", top_n=15)'''),
]

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["04-build-cache-and-order.ipynb"] = [
    ("md", """\
# 4. The build cache, and why instruction order matters

A rebuild reuses a step's earlier result when nothing that step depends on has changed. The
chapter tells it with the classic builder: a step's cache key is a hash of the step before it plus
its own instruction (plus the content of the files a `COPY` takes), so **once one step changes,
every step after it runs again**. Hence: put what rarely changes first and what changes often (your
code) last.

That is exactly what the classic builder does. BuildKit, the default builder today, decides step by
step; below we show both, as a real engine (dockerd 20.10) did them. The cases ship with imgviz;
`webping-edit` is the chapter's edit of `app.js` with its first Dockerfile:"""),
    ("code", '''\
import imgviz

edit = imgviz.demo_cascade("webping-edit")
print(edit.dockerfile("new"))'''),
    ("code", '''\
# what the engine did with each builder for each step of the new Dockerfile
imgviz.demo_cascade("webping-edit").observed_both()'''),
    ("md", """\
The classic builder does what the chapter says: `COPY app.js .` changed, so it ran again, and so
did the `CMD` after it although the `CMD` line did not change.

**BuildKit decides per step.** `ENV`, `CMD` and `LABEL` are not build steps for it (*no vertex*):
they edit the image's settings, applied at the end. A file step (`RUN`, `COPY`, `WORKDIR`...) is
reused when its own inputs and the file steps before it are unchanged. So under BuildKit a changed
`ENV` does not make a later `COPY` run again (a later `RUN` does, because it sees the variables).
The chapter's "everything after a change re-runs" is the classic builder's rule."""),
    ("code", '''\
print(imgviz.demo_cascade("webping-edit-optimized").dockerfile("new"))
imgviz.demo_cascade("webping-edit-optimized").observed_both()'''),
    ("md", """\
With the optimized order (`CMD` and one `ENV` first, `COPY app.js .` last) the same edit of
`app.js` rebuilds only the last step, with either builder.

Reordering the Dockerfile is itself a change. With the classic builder the first moved line breaks
the cache for everything below it, once; BuildKit keeps `WORKDIR` and `COPY`, whose inputs did not
change:"""),
    ("code", '''\
imgviz.demo_cascade("webping-optimize").observed_both()'''),
    ("md", """\
## Reorder it yourself

Select a line and move it; choose the builder; edit `app.js` or not. imgviz predicts every step
against the cache the old build left (green: reused, red: runs again, light green: no build step
under BuildKit). Click a step to select its line."""),
    ("code", '''\
from imgviz.widgets import reorder_dockerfile

reorder_dockerfile("webping-edit", builder="classic", edit_app=True)'''),
    ("md", """\
## Is the prediction right?

`imgviz.cascade(old, new, builder=...)` (or `imgviz cascade OLD NEW` in a shell) reads two build
directories and says, for each instruction of the new Dockerfile, whether the cache will be hit
and why. Beside what the engine really did, for every recorded case and both builders:"""),
    ("code", '''\
for case in ("webping-edit", "webping-edit-optimized", "webping-optimize"):
    for builder in ("classic", "buildkit"):
        table = imgviz.demo_cascade(case).compare(builder)
        print(f"{case}, {builder}: the prediction matches the engine on {int(table['same'].sum())} "
              f"of {len(table)} steps")

edit.compare("buildkit")[["step", "instruction", "observed", "predicted", "reason"]]'''),
    ("md", """\
## The same story in the images

The demo holds `web-ping:v1` and `web-ping:v2` (the `app.js` edit), built with BuildKit. They
share every layer except the `COPY app.js .` one: a step that hit the cache made no new layer, so
on disk v2 costs only its new `COPY` layer."""),
    ("code", SOURCE_CELL),
    ("code", PICK_CELL),
    ("code", '''\
import pandas as pd

v1, v2 = pick("workshop/web-ping:v1"), pick("workshop/web-ping:v2")
a = f.layers[f.layers["image_id"] == v1].set_index("position")
b = f.layers[f.layers["image_id"] == v2].set_index("position")
side = pd.DataFrame({"instruction": a["instruction"].fillna("base"),
                     f"{name(v1)} layer": a["chain_id"].map(short_id),
                     f"{name(v2)} layer": b["chain_id"].map(short_id),
                     "size": b["size"].map(human_size)})
side["same layer"] = a["chain_id"] == b["chain_id"]
side'''),
]

# ------------------------------------------------------------------------------------------------
NOTEBOOKS["05-your-engine.ipynb"] = [
    ("md", """\
# 5. Your engine

Point imgviz at your own engine: this notebook reads it when one answers (set `DOCKER_HOST` for
another address) and falls back to the demo snapshot otherwise. Nothing on the engine changes:
imgviz reads metadata only, never layer contents.

Save a snapshot to look at it later, or on another machine, without the engine."""),
    ("code", SOURCE_CELL),
    ("code", '''\
print(f"{v['images']} images in {v['repositories']} repositories, {v['dangling_images']} dangling, "
      f"{v['containers']} containers")
print(f"sum of image sizes {human_size(v['logical'])}, on disk {human_size(v['physical'])}")'''),
    ("md", """\
## Explore

Any tag, its history and layers (click a bar for the entry):"""),
    ("code", '''\
from imgviz.widgets import image_explorer, sharing_dashboard

image_explorer(f)'''),
    ("md", """\
Filter images by a `docker image ls` pattern or a search text, pick images to remove, and the
figures (shared vs unique, what removing them frees, reported vs on disk, the sharing heatmap, the
layer tree) follow."""),
    ("code", '''\
sharing_dashboard(f, top_n=15)'''),
    ("md", """\
## The report

`imgviz report -o report.html` writes the same report from a shell. It is one file with plotly.js
inside (a few MB), to open offline or send to colleagues, so it is written next to this notebook
rather than embedded in it. Secret-looking values are masked."""),
    ("code", '''\
from IPython.display import FileLink, display

report = imgviz.Report(f, description=where)
print(report)
print("sections:", "; ".join(section.title for section in report.sections()))
path = report.write_html("report.html")
print(f"wrote {path.resolve()} ({path.stat().st_size / 1e6:.1f} MB)")
display(FileLink("report.html", result_html_prefix="Open the report: "))'''),
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
