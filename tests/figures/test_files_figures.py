"""Figures and the widget of what is inside the layers, checked by their data (recorded layers)."""

from __future__ import annotations

import pytest

from imgviz.figures import files as F

from ..analysis.test_files_recorded import FS, _id


def test_files_tree_has_every_layer_and_marks_whiteouts_and_opaque_dirs():
    fig = F.files_tree(FS, image="ivf/opaque:bk", top_n=None)
    d = fig.data[0]
    layers = [i for i in d.ids if i.startswith("L") and ":" not in i]
    assert layers == ["L0", "L1", "L2", "L3"]
    colors = dict(zip(d.ids, d.marker.colors))
    assert colors["L2:/o"] == F.CHANGE_COLORS["removed"]  # opaque /o
    assert "/o/sub/c" in F.tree_paths(fig)
    assert d.branchvalues == "total"
    # the hover gives bytes and entries whatever the box size means
    root = list(d.ids).index("image")
    assert d.customdata[root][1] == int(FS.files[FS.files["diff_id"].isin(
        FS.layers.loc[FS.layers["image_id"] == _id("ivf/opaque:bk"), "diff_id"])].shape[0])


@pytest.mark.parametrize("by", ["bytes", "count", "log"])
def test_files_tree_sizes(by):
    fig = F.files_tree(FS, image="ivf/deleted:bk", by=by, top_n=None)
    d = fig.data[0]
    v = dict(zip(d.ids, d.values))
    if by == "bytes":
        assert v["L1"] == 300_000 and v["L2"] == 107_000
    elif by == "count":
        assert v["L2"] == 8  # /data, /data/tree, 4 files, sub/, sub/deep.txt
    else:  # log: the 7 kB file is not a sliver beside the 300 kB one
        assert v["L2:/data/tree/sub/deep.txt"] / v["L1:/data/big.bin"] > 0.7
    assert by in fig.layout.title.text or F.SIZE_BY[by].split(":")[0] in fig.layout.title.text


def test_files_tree_keeps_a_box_per_top_n_children_and_one_other():
    fig = F.files_tree(FS, image="ivf/deleted:bk", top_n=5, positions=[0])
    kids = [i for i, p in zip(fig.data[0].ids, fig.data[0].parents) if p == "L0:/bin"]
    assert len(kids) == 6 and sum(k.endswith(":other") for k in kids) == 1


def test_wasted_files_bars_by_reason():
    fig = F.wasted_files(FS, image="ivf/chmod:bk")
    assert {t.name for t in fig.data} == {"metadata"}
    assert sum(fig.data[0].x) == 900_000
    assert "900.0 KB" in fig.layout.title.text
    assert "KB" in fig.layout.xaxis.title.text
    fig = F.wasted_files(FS, image="ivf/retype:classic")
    assert {t.name for t in fig.data} == {"overwritten", "replaced"}


def test_layer_changes_bars():
    fig = F.layer_changes(FS, image="ivf/deleted:classic")
    removed = next(t for t in fig.data if t.name == "removed")
    assert list(removed.x) == [0, 0, 0, 300_000, 107_000]
    fig = F.layer_changes(FS, image="ivf/deleted:classic", by="count")
    assert list(next(t for t in fig.data if t.name == "removed").x) == [0, 0, 0, 1, 3]


def test_duplicate_matrix_heatmap():
    ids = [_id("ivf/duplicates:bk"), _id("ivf/deleted:bk")]
    fig = F.duplicate_matrix(FS, images=ids)
    assert list(fig.data[0].x) == ["ivf/duplicates:bk", "ivf/deleted:bk"]
    assert fig.data[0].z.tolist() == [[900_000, 107_000], [107_000, 0]]


def test_figures_escape_paths():
    import json

    assert "<script>" not in json.dumps(F.files_tree(FS, image="ivf/symlinks:bk").to_plotly_json(), default=str)


def test_files_explorer_follows_image_and_layer():
    from imgviz.widgets import files_explorer

    x = files_explorer(FS, image="ivf/deleted:bk")
    assert x.layer.value == 4 and "removed <b>3</b>" in x.summary.value and "107.0 KB" in x.summary.value
    x.layer.value = 1
    assert set(x.changes["change"]) == {"added"} and "/data/big.bin" in x.table.value
    assert x.figures["tree"].data[0].ids[1] == "L1"
    x.image.value = _id("ivf/opaque:classic")
    assert x.layer.value == 3 and [o[1] for o in x.layer.options] == [0, 1, 2, 3]
    x.layer.value = 2
    assert "hides <b>50.0 KB</b>" in x.summary.value
    x.by.value = "count"
    assert "entries" in x.figures["tree"].layout.title.text
    # a click on a layer's bar in the layers figure chooses that layer (any of its stacked traces)
    bars = x.layers_view.widget.data
    assert [t.name for t in bars] == ["added", "modified", "metadata", "removed"]
    x.layers_view.click(3, 0)  # the "removed" bar of the first row: layer 0
    assert x.layer.value == 0 and x.figures["tree"].data[0].ids[1] == "L0"
    x.layers_view.click(0, 3)
    assert x.layer.value == 3 and "layer <b>3</b>" in x.summary.value
    assert "FilesExplorer" in repr(x)


def test_the_recorded_demo_files_draw_without_an_engine():
    import imgviz
    from imgviz.widgets import files_explorer

    fs = imgviz.files(["workshop/web-ping:v1", "workshop/web-ping:v2"], source="demo")
    shared = fs.layers.groupby("diff_id")["image_id"].nunique()
    assert (shared == 2).sum() == 3 and (shared == 1).sum() == 2  # base, node, WORKDIR shared; COPY each
    assert not fs.files.duplicated(["diff_id", "path"]).any()
    w = fs.waste("workshop/web-ping:v2")
    assert 0 < w["shipped_not_final_bytes"] < w["wasted_bytes"]
    fig = F.wasted_files(fs, image="workshop/web-ping:v2", top_n=10)
    assert fig.data and "shipped that no container sees" in fig.layout.title.text
    tree = F.files_tree(fs, image="workshop/web-ping:v1", by="log", depth=2)
    assert "L3:/web-ping" in tree.data[0].ids
    x = files_explorer(fs, image="workshop/web-ping:v2")
    assert x.layer.value == 3 and "added <b>1</b>" in x.summary.value
    with pytest.raises(imgviz.ImgvizError, match="not in the recorded demo files"):
        imgviz.files(["workshop/nope:1"], source="demo")


def test_report_has_a_files_section_for_the_top_images():
    import json

    import imgviz

    r = imgviz.Report("demo")
    data = json.loads(r.json())
    files = next(s for s in data["sections"] if s["key"] == "files")
    table = files["parts"][0]
    rows = table["rows"] if "rows" in table else table.get("records") or table.get("data")
    assert rows, table.keys()
    fs = imgviz.files([row["image"] for row in rows], source="demo")
    for row in rows:
        w = fs.waste(row["image"])
        assert row["not in final filesystem"] == w["shipped_not_final_bytes"]
        assert row["dive wasted bytes"] == w["wasted_bytes"]
    assert len(files["parts"]) == 3  # the table, per-layer changes, the files no container sees
    assert "What is inside the layers" in r.html()


def test_report_of_a_snapshot_file_says_why_there_are_no_files(tmp_path):
    import imgviz

    path = tmp_path / "s.json.gz"
    imgviz.demo_snapshot().save(path)
    section = next(s for s in imgviz.Report(str(path)).sections() if s.key == "files")
    assert "holds no layer contents" in section.parts[0].items[0][1]
