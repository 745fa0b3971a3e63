"""The chapter's story in the figures' data: the app layers of a few kB are drawn where a learner
sees them, apart from the base, and labelled with the image, the instruction and the bytes.

Read from ``fig.to_plotly_json()`` on the embedded demo (the workshop fleet recorded from a real
engine): web-ping v1 and v2 are ``workshop/node:18`` plus a 0 B ``WORKDIR /web-ping`` plus a
``COPY app.js .`` of 1,291 and 1,438 bytes.
"""

from __future__ import annotations

import pytest

from imgviz import demo
from imgviz import figures as F
from imgviz.analysis import sharing, sizes

V1, V2 = "workshop/web-ping:v1", "workshop/web-ping:v2"


@pytest.fixture(scope="module")
def f():
    return demo()


def _json(fig):
    return fig.to_plotly_json()


def _chain(f, image, position):
    from imgviz.selection import find_image

    rows = f.layers[(f.layers["image_id"] == find_image(f.images, image)) & (f.layers["position"] == position)]
    return rows["chain_id"].iloc[0]


def _share(axis_range, x):
    lo, hi = axis_range
    return (x - lo) / (hi - lo)


def test_the_demo_tells_the_story(f):
    v1 = f.layers[f.layers["image_id"] == f.images.loc[f.images["tags"].map(lambda t: V1 in t), "image_id"].iloc[0]]
    assert list(v1["instruction"]) == ["IMPORT", "RUN", "WORKDIR", "COPY"]
    assert list(v1["size"])[2:] == [0, 1291]


# ------------------------------------------------------------------------------------- layer tree

def _subtree_values(trace):
    """value of each box with everything below it (branchvalues 'remainder')."""
    kids: dict[str, list[str]] = {}
    for i, p in zip(trace["ids"], trace["parents"]):
        kids.setdefault(p, []).append(i)
    own = dict(zip(trace["ids"], trace["values"]))

    def total(i):
        return own[i] + sum(total(k) for k in kids.get(i, []))
    return {i: total(i) for i in trace["ids"]}


@pytest.mark.parametrize("size", ["count", "log"])
def test_layer_tree_draws_the_app_layers(f, size):
    (t,) = _json(F.layer_tree(f, by=size))["data"]
    n = len(sharing.layer_tree(f))
    assert len(t["ids"]) == n == 14  # every layer has its own box, none merged away
    whole = sum(t["values"])
    boxes = _subtree_values(t)
    at = dict(zip(t["ids"], range(n)))
    copy_v1, workdir = _chain(f, V1, 3), _chain(f, V1, 2)
    for chain in (copy_v1, workdir):
        # a box at least 1/14 of the tree when every layer counts 1 (5% with log bytes): visible
        assert boxes[chain] / whole >= (1 / n if size == "count" else 0.05), (chain, boxes[chain], whole)
    k = at[copy_v1]
    assert "COPY app.js ." in t["labels"][k] and "1.3 KB" in t["labels"][k] and V1 in t["labels"][k]
    assert V1 in t["hovertext"][k] and "COPY app.js . # buildkit" in t["hovertext"][k]
    assert "An app layer" in t["hovertext"][k] and "1.3 KB" in t["hovertext"][k]
    assert "WORKDIR /web-ping" in t["labels"][at[workdir]] and "0 B" in t["labels"][at[workdir]]
    # app layers apart from the base: the base images' layers share one colour, the app's others
    colors = dict(zip(t["ids"], t["marker"]["colors"]))
    base_layers = {_chain(f, "workshop/node:18", 0), _chain(f, "workshop/node:18", 1)}
    assert {colors[c] for c in base_layers} == {"#9DB4CF"}
    assert colors[copy_v1] == "#F58518" and colors[workdir] == "#E3B505"  # v1 only; all web-ping tags


def test_layer_tree_bytes_mode_says_small_layers_vanish(f):
    fig = _json(F.layer_tree(f, by="bytes"))
    (t,) = fig["data"]
    assert sum(t["values"]) == f.engine_df["layers_size"]
    assert "too thin to see" in fig["layout"]["title"]["text"]
    assert "every layer counts 1" in _json(F.layer_tree(f))["layout"]["title"]["text"]


# ---------------------------------------------------------------------------------- image sizes

def test_unique_bytes_on_their_own_axis(f):
    fig = _json(F.image_sizes(f, top_n=None))
    shared, unique, own = fig["data"]
    i = own["y"].index(V1)
    assert own["x"][i] == 1291 and own["text"][i] == "1.3 KB"
    # on the size axis the 1.3 kB is invisible; on its own axis it is a third of the width or more
    size_axis, own_axis = fig["layout"]["xaxis"]["range"], fig["layout"]["xaxis2"]["range"]
    assert _share(size_axis, unique["x"][i]) < 0.0001
    assert _share(own_axis, own["x"][i]) >= 0.3
    assert V1 in own["hovertext"][i] and "COPY app.js . # buildkit" in own["hovertext"][i]
    assert "Built on workshop/node:18" in own["hovertext"][i]
    assert own["text"][own["y"].index(V2)] == "0 B"  # v2's COPY is latest's and staging's too


def test_unique_axis_goes_log_when_it_must(f, recorded):
    from imgviz.frames import frames

    fleet = frames(recorded.snapshot)
    # the recorded fleet's uniques (0 to 35 B) fit a linear axis; asked for, the axis is log and says so
    assert _json(F.image_sizes(fleet, top_n=None))["layout"]["xaxis2"].get("type") != "log"
    fig = _json(F.image_sizes(fleet, top_n=None, unique_scale="log"))
    assert fig["layout"]["xaxis2"]["type"] == "log" and "log" in fig["layout"]["xaxis2"]["title"]["text"]
    assert fig["data"][2]["text"][fig["data"][2]["y"].index("iv/envonly:1")] == "0 B"


# -------------------------------------------------------------------------------------- what-if

def test_what_if_draws_the_change(f):
    fig = _json(F.what_if(f, [V1], remove_containers=True))
    by_name = {d["name"]: d for d in fig["data"]}
    freed = by_name["freed"]
    assert freed["x"] == [1291] and "COPY app.js ." in freed["y"][0]
    # the change has an axis of its own: the freed 1.3 kB is most of it, not a sliver of 216 MB
    assert _share(fig["layout"]["xaxis"]["range"], freed["x"][0]) >= 0.5
    assert "1.3 KB" in freed["text"][0] and V1 in freed["hovertext"][0]
    title = fig["layout"]["title"]["text"]
    assert title.startswith(f"Removing {V1} frees 1.3 KB")
    before = sizes.what_if_totals(f, [V1], remove_containers=True)
    assert f"{int(before['physical_before']):,} → {int(before['physical_after']):,} bytes" in title


def test_what_if_a_container_holds_the_copy(f):
    fig = _json(F.what_if(f, [V1]))
    by_name = {d["name"]: d for d in fig["data"]}
    held = by_name["held by containers"]
    assert held["x"] == [1291] and held["xaxis"] == "x"
    assert _share(fig["layout"]["xaxis"]["range"], held["x"][0]) >= 0.5
    assert "container web-ping-google" in held["hovertext"][0]
    assert fig["layout"]["title"]["text"].startswith(f"Removing {V1} frees 0 B")
    assert "drops by 1.3 KB" in " ".join(a["text"] for a in fig["layout"]["annotations"])


# ------------------------------------------------------------------------------------- heatmap

def test_heatmap_tells_v1_from_v2(f):
    fig = _json(F.sharing_matrix(f))
    (h,) = fig["data"]
    a, b, d, latest = (h["y"].index(x) for x in (V1, V2, "workshop/debian:12", "workshop/web-ping:latest"))
    assert h["customdata"][a][b] == 1291 + 1438
    top = h["zmax"]
    # v1-v2 (2.7 kB apart) and v1-debian (99 MB apart) sit far apart on the colour scale
    assert h["z"][a][b] / top < 0.5 < 0.9 < h["z"][a][d] / top
    words = h["hovertext"][a][b]
    assert "share 172.0 MB" in words and "everything but" in words
    assert "COPY app.js . (1.3 KB) in workshop/web-ping:v1" in words
    assert "COPY app.js . (1.4 KB) in workshop/web-ping:v2" in words
    assert h["z"][b][latest] == 0 and "the same layers" in h["hovertext"][b][latest]
    assert h["text"][a][b] == "2.7 KB"
    assert "log" in fig["layout"]["title"]["text"]


# ------------------------------------------------------------------------------ one image's layers

def test_image_layers_split(f):
    fig = _json(F.image_layers(f, V1))
    by_name = {d["name"]: d for d in fig["data"]}
    app, base = by_name["app layers"], by_name["base layers"]
    assert app["xaxis"] != base["xaxis"]
    app_axis = fig["layout"]["xaxis" + app["xaxis"][1:]]["range"]
    i = app["y"].index("#3 COPY app.js .")
    assert app["x"][i] == 1291 and _share(app_axis, 1291) >= 0.5 and app["text"][i] == "1.3 KB"
    assert V1 in app["hovertext"][i] and "COPY app.js . # buildkit" in app["hovertext"][i]
    assert "on top of workshop/node:18" in app["hovertext"][i]
    zero = by_name["app 0 B layers"]
    assert zero["y"] == ["#2 WORKDIR /web-ping"] and zero["text"] == ["0 B"] and zero["mode"] == "markers+text"
    title = fig["layout"]["title"]["text"]
    assert title.startswith(f"Layers of {V1}: 172.0 MB from workshop/node:18, 1.3 KB its own")
    assert base["y"] == ["#0 IMPORT", "#1 RUN apt-get install -y --no…"]


def test_image_layers_log_keeps_the_0_b_workdir(f):
    fig = _json(F.image_layers(f, V1, scale="log"))
    assert fig["layout"]["xaxis"]["type"] == "log"
    zero = next(d for d in fig["data"] if d["name"] == "0 B layers")
    assert zero["y"] == ["#2 WORKDIR /web-ping"] and zero["x"][0] > 0  # drawn at the axis start, labelled
    assert "log" in fig["layout"]["title"]["text"]
    one = _json(F.image_layers(f, "workshop/debian:12"))
    assert one["layout"]["title"]["text"].startswith("Layers of workshop/debian:12: 1 layers")


# --------------------------------------------------------------------------------- build cache

def test_build_cache_figure_is_df(f):
    fig = _json(F.build_cache(f))
    counted = next(d for d in fig["data"] if d["name"] == "counted by docker system df")
    assert sum(counted["x"]) == sizes.build_cache_usage(f)["size"] == 32_842_462
    assert "32.8 MB" in fig["layout"]["title"]["text"]
    shared = next(d for d in fig["data"] if d["name"].startswith("shared"))
    assert sum(shared["x"]) == sizes.build_cache_usage(f)["shared"]
    assert fig["layout"]["legend"]["yref"] == "container" and fig["layout"]["legend"]["y"] == 0


def test_heatmap_unknown_sizes_stay_unknown():
    """A registry does not say unpacked sizes: how far apart two images are is unknown, never a number."""
    from pathlib import Path
    import warnings

    from imgviz.frames import frames
    from imgviz.sources import load

    reg = frames(load(Path(__file__).resolve().parents[1] / "data" / "registry" / "registry.json.gz"))
    assert reg.images["size"].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        (h,) = _json(F.sharing_matrix(reg))["data"]
    n = len(h["y"])
    off = [(r, c) for r in range(n) for c in range(n) if r != c]
    assert off and all(h["customdata"][r][c] is None and h["z"][r][c] is None for r, c in off)
    assert all("Apart: unknown" in h["hovertext"][r][c] for r, c in off)
