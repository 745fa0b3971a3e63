"""Figures tested by their data (fig.to_plotly_json()): values equal the analyses, hover names things."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from imgviz import figures as F
from imgviz import selection
from imgviz.analysis import sharing, sizes
from imgviz.errors import ImageNotFound, ImgvizError
from imgviz.frames import frames


@pytest.fixture(scope="module")
def f(recorded):
    return frames(recorded.snapshot)


def _json(fig):
    return fig.to_plotly_json()


def _unit_axis(axis: dict) -> None:
    assert any(u in axis["title"]["text"] for u in ("MB", "KB", "bytes"))
    assert all(t.endswith((" B", " KB", " MB", " GB")) for t in axis["ticktext"])
    assert len(axis["tickvals"]) == len(axis["ticktext"]) >= 2


def test_image_sizes_bars_equal_analysis(f):
    fig = _json(F.image_sizes(f, top_n=None))
    shared, unique, own = fig["data"]
    assert own["x"] == unique["x"] and own["y"] == unique["y"] and own["xaxis"] == "x2"
    _unit_axis(fig["layout"]["xaxis2"])
    table = sizes.image_sizes(f).set_index("label")
    assert list(shared["y"]) == list(unique["y"]) and set(shared["y"]) == set(table.index)
    for label, s, u in zip(shared["y"], shared["x"], unique["x"]):
        assert (s, u) == (table.at[label, "shared_size"], table.at[label, "unique_size"])
    assert fig["layout"]["barmode"] == "stack"
    _unit_axis(fig["layout"]["xaxis"])
    assert fig["layout"]["title"]["text"].startswith("Shared vs unique bytes per image")
    # hover names the image, its tags, the instruction of its largest own layer, and bytes
    i = list(unique["y"]).index("iv/same-a:1")
    assert "iv/same-a:1" in unique["hovertext"][i] and "COPY same.txt /same.txt" in unique["hovertext"][i]
    assert "30 B" in unique["hovertext"][i]
    i = list(unique["y"]).index("iv/app:latest")
    assert "iv/app:v2" in unique["hovertext"][i] and "iv/app:latest" in unique["hovertext"][i]
    i = list(unique["y"]).index("iv/envonly:1")
    assert unique["x"][i] == 0 and "ENV-only" in unique["hovertext"][i]
    assert "IMPORT" in shared["hovertext"][i] and "2.0 MB" in shared["hovertext"][i]


def test_image_sizes_top_n_keeps_totals(f):
    fig = _json(F.image_sizes(f, top_n=3, sort="unique_size"))
    shared, unique, _own = fig["data"]
    assert len(shared["y"]) == 4 and shared["y"][-1] == "other (6 images)"
    assert sum(shared["x"]) + sum(unique["x"]) == int(f.images["size"].sum())
    top3 = sizes.image_sizes(f).sort_values("unique_size", ascending=False, kind="stable").head(3)
    assert sorted(unique["x"][:3]) == sorted(top3["unique_size"].tolist())


def test_image_sizes_pattern_and_search(f):
    fig = _json(F.image_sizes(f, pattern="iv/a*"))
    assert set(fig["data"][0]["y"]) == {"iv/app:latest", "iv/app:v1"}
    fig = _json(F.image_sizes(f, search="SAME"))
    assert set(fig["data"][0]["y"]) == {"iv/same-a:1", "iv/same-b:1"}
    with pytest.raises(ImgvizError, match="sort="):
        F.image_sizes(f, sort="nope")


def test_reported_vs_physical_sums(f):
    fig = _json(F.reported_vs_physical(f, top_n=None))
    reported, why, physical = fig["data"]
    t = sizes.totals(f)["value"]
    assert list(why["x"]) == [t["physical"], t["saved_by_sharing"], t["counted_again_for_tags"]]
    assert sum(why["x"]) == t["reported"] and "what sharing saves" in why["hovertext"][1]
    assert sum(reported["x"]) == t["reported"] and len(reported["x"]) == t["tags"]
    assert sum(physical["x"]) == t["physical"] == f.engine_df["layers_size"]
    # segments are stacked: each starts where the previous ended
    assert reported["base"][1] == reported["x"][0]
    hover = " ".join(reported["hovertext"])
    assert "iv/app:v2" in hover and "iv/app:latest" in hover and "iv/base:1" in hover
    assert "COPY same.txt" in " ".join(physical["hovertext"])
    _unit_axis(fig["layout"]["xaxis"])
    assert "sharing saves" in fig["layout"]["title"]["text"]
    few = _json(F.reported_vs_physical(f, top_n=3))
    assert len(few["data"][0]["x"]) == 4 and sum(few["data"][0]["x"]) == t["reported"]
    assert sum(few["data"][2]["x"]) == t["physical"]


def test_what_if_bars_equal_prediction(f):
    remove = ["iv/app:v1", "iv/envonly:1", "iv/same-b:1"]
    fig = _json(F.what_if(f, remove))
    w = sizes.what_if_totals(f, remove)
    by_name = {d["name"]: d for d in fig["data"]}
    assert sum(by_name["freed"]["x"]) == w["freed_layers"]
    assert sum(by_name["held by containers"]["x"]) == w["held_by_containers"]
    assert sum(by_name["kept: other images use them"]["x"]) == w["kept_shared"]
    # the change (freed, held) on the upper axis, what stays on the lower: two byte scales
    assert by_name["freed"]["xaxis"] == by_name["held by containers"]["xaxis"] == "x"
    assert by_name["kept: other images use them"]["xaxis"] == "x2"
    sub = fig["layout"]["title"]["text"]
    assert f"{int(w['physical_before']):,} → {int(w['physical_after']):,} bytes" in sub
    freed_hover = " ".join(by_name["freed"]["hovertext"])
    assert "COPY same.txt" in freed_hover and "iv/same-b:1" in freed_hover
    assert "container iv-writer" in " ".join(by_name["held by containers"]["hovertext"])
    _unit_axis(fig["layout"]["xaxis"])
    _unit_axis(fig["layout"]["xaxis2"])
    assert fig["layout"]["title"]["text"].startswith("Removing iv/app:v1")
    with pytest.raises(ImageNotFound, match="iv/none:1"):
        F.what_if(f, ["iv/none:1"])


def test_what_if_title_escaped_once(f):
    dangling = list(f.images.loc[f.images["dangling"], "image_id"])
    title = _json(F.what_if(f, dangling))["layout"]["title"]["text"]
    # plotly reads entities in text: "&lt;none&gt;" shows as <none>; "&amp;lt;" would show "&lt;"
    assert "&lt;none&gt;" in title and "&amp;" not in title


def test_layer_tree_is_the_analysis(f):
    tree = sharing.layer_tree(f)
    (trace,) = _json(F.layer_tree(f, by="bytes"))["data"]
    assert trace["type"] == "icicle" and trace["branchvalues"] == "remainder"
    assert len(trace["ids"]) == len(set(trace["ids"])) == len(tree)
    assert sum(trace["values"]) == f.engine_df["layers_size"]
    ids = set(trace["ids"])
    assert all(p == "" or p in ids for p in trace["parents"])
    by_id = dict(zip(trace["ids"], range(len(trace["ids"]))))
    reuse = sharing.diff_reuse(f)
    for chain, size in zip(reuse["chain_id"], reuse["size"]):
        k = by_id[chain]
        if size:  # the same non-empty diff on another parent: stored again (an empty one costs nothing)
            assert trace["marker"]["colors"][k] == "#E45756"
        assert "stored again, not shared" in trace["hovertext"][k] and "COPY same.txt" in trace["hovertext"][k]
    base = by_id[tree.iloc[0]["chain_id"]]
    assert "Used by 9 images" in trace["hovertext"][base] and "iv/base:1" in trace["hovertext"][base]
    # count mode (the default): the same boxes, one unit each
    (count,) = _json(F.layer_tree(f))["data"]
    assert count["ids"] == trace["ids"] and set(count["values"]) == {1.0}


def test_layer_tree_top_n_and_filters(f):
    (trace,) = _json(F.layer_tree(f, top_n=4, by="bytes"))["data"]
    others = [i for i in trace["ids"] if i.startswith("other:")]
    assert others and len(trace["ids"]) - len(others) == 4
    assert sum(trace["values"]) == f.engine_df["layers_size"]
    # in count mode a merged box counts the layers it holds: the whole is every distinct layer
    (counted,) = _json(F.layer_tree(f, top_n=4))["data"]
    assert sum(counted["values"]) == len(sharing.layer_tree(f))
    (sun,) = _json(F.layer_tree(f, kind="sunburst", pattern="iv/same-*"))["data"]
    assert sun["type"] == "sunburst"
    hover = " ".join(sun["hovertext"])
    assert "iv/same-a:1" in hover and "iv/app:v1" not in hover.replace("Used by", "")
    with pytest.raises(ImgvizError, match="kind="):
        F.layer_tree(f, kind="pie")
    with pytest.raises(ImgvizError, match="by="):
        F.layer_tree(f, by="area")


def test_sharing_matrix_heatmap(f):
    fig = _json(F.sharing_matrix(f, top_n=None, value="shared"))
    (heat,) = fig["data"]
    m = sharing.sharing_matrix(f)
    labels = selection.labels(f.images)
    inv = {v: k for k, v in labels.items()}
    for r, a in enumerate(heat["y"]):
        for c, b in enumerate(heat["x"]):
            assert heat["z"][r][c] == m.at[inv[a], inv[b]]
    r, c = list(heat["y"]).index("iv/same-b:1"), list(heat["x"]).index("iv/classic:1")
    assert "iv/same-b:1" in heat["hovertext"][r][c] and "iv/classic:1" in heat["hovertext"][r][c]
    assert "COPY" in heat["hovertext"][r][c] and "3 layers" in heat["hovertext"][r][c]
    assert all(t.endswith(("B", "KB", "MB")) for t in heat["colorbar"]["ticktext"])
    assert "MB" in heat["colorbar"]["title"]["text"]
    diff = _json(F.sharing_matrix(f, top_n=None))["data"][0]
    for r, a in enumerate(diff["y"]):
        for c, b in enumerate(diff["x"]):
            apart = m.at[inv[a], inv[a]] + m.at[inv[b], inv[b]] - 2 * m.at[inv[a], inv[b]] if a != b else 0
            assert diff["customdata"][r][c] == apart
    small = _json(F.sharing_matrix(f, top_n=4))["data"][0]
    assert len(small["x"]) == len(small["y"]) == 4
    assert "4 of 9 images" in _json(F.sharing_matrix(f, top_n=4))["layout"]["title"]["text"]


def test_figures_import_plotly_only_when_drawing():
    code = ("import sys, imgviz, imgviz.figures, imgviz.widgets; imgviz.figures.layer_tree; print('plotly' in sys.modules, 'ipywidgets' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.split() == ["False", "False"]


def test_docstrings_share_parameter_text():
    for func in (F.image_sizes, F.layer_tree, F.sharing_matrix):
        assert "Keep only images `docker image ls PATTERN` would list" in func.__doc__
        assert "{" + "pattern}" not in func.__doc__


def test_marking_images_to_remove(f):
    pick = ["iv/same-b:1", "iv/classic:1"]
    bars = _json(F.image_sizes(f, top_n=None, remove=pick))["data"][1]
    own = _json(F.image_sizes(f, top_n=None, remove=pick))["data"][2]
    assert own["marker"]["pattern"]["shape"] == bars["marker"]["pattern"]["shape"]
    for label, shape, hover in zip(bars["y"], bars["marker"]["pattern"]["shape"], bars["hovertext"]):
        assert (shape == "/") == (label in pick)
        assert ("marked for removal" in hover) == (label in pick)
    (trace,) = _json(F.layer_tree(f, remove=pick, by="bytes"))["data"]
    freed = sizes.what_if(f, pick).query("freed")
    green = {i for i, c in zip(trace["ids"], trace["marker"]["colors"]) if c == "#54A24B"}
    assert green == set(freed["chain_id"]) and len(green) == 3
    assert sum(v for i, v in zip(trace["ids"], trace["values"]) if i in green) == sizes.what_if_totals(f, pick)["freed_layers"]
