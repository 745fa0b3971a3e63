"""The sharing dashboard, driven headless: set the widgets' values, check the figures follow."""

from __future__ import annotations

import pytest

from imgviz.analysis import sizes
from imgviz.frames import frames
from imgviz.units import axis_bytes


@pytest.fixture()
def dash(recorded):
    from imgviz.widgets import sharing_dashboard

    return sharing_dashboard(frames(recorded.snapshot))


def _tag(f, tag):
    return f.images[f.images["tags"].map(lambda t: tag in t)]["image_id"].iloc[0]


def _plotly(out):
    (output,) = out.outputs
    return output["data"]["application/vnd.plotly.v1+json"]


def test_starts_with_every_figure_shown(dash):
    from imgviz.widgets import FIGURES

    assert set(dash.figures) == set(FIGURES)
    for name in FIGURES:
        spec = _plotly(dash.outputs[name])
        assert spec["layout"]["title"]["text"] == dash.figures[name].layout.title.text
    assert len(dash.remove.options) == len(dash.frames.images)
    assert "pick images" in dash.summary.value
    assert "SharingDashboard" in repr(dash)


def test_pattern_filters_images_and_figures(dash):
    dash.pattern.value = "iv/a*"
    assert {label for label, _ in dash.remove.options} == {"iv/app:latest", "iv/app:v1"}
    bars = dash.figures["image_sizes"].data[0]
    assert set(bars.y) == {"iv/app:latest", "iv/app:v1"}
    heat = dash.figures["sharing_matrix"].data[0]
    assert set(heat.x) == {"iv/app:latest", "iv/app:v1"}
    assert set(_plotly(dash.outputs["image_sizes"])["data"][0]["y"]) == {"iv/app:latest", "iv/app:v1"}
    assert "<b>2</b> of 9 images match" in dash.summary.value
    dash.search.value = "v1"
    assert [label for label, _ in dash.remove.options] == ["iv/app:v1"]


def test_removal_shows_bytes_freed(dash):
    f = dash.frames
    pick = [_tag(f, "iv/same-b:1"), _tag(f, "iv/classic:1")]
    dash.remove.value = tuple(pick)
    expected = sizes.what_if_totals(f, pick)
    by_name = {t.name: t for t in dash.figures["what_if"].data}
    assert sum(by_name["freed"].x) == expected["freed_layers"] > 0
    assert f"frees <b>{axis_bytes(expected['freed'])}</b>" in dash.summary.value
    # narrowing the filter drops picks it hides, and the what-if follows
    dash.pattern.value = "iv/same*"
    assert dash.remove.value == (pick[0],)
    assert sum(t.x[0] for t in dash.figures["what_if"].data if t.name == "freed") == \
        sizes.what_if_totals(f, [pick[0]])["freed_layers"]


def test_remove_containers_frees_writable_layer(dash):
    f = dash.frames
    app_v1 = _tag(f, "iv/app:v1")
    dash.remove.value = (app_v1,)
    assert "stay under containers" not in dash.summary.value  # its layers are iv/envonly:1's too
    assert not any(t.name == "writable" for t in dash.figures["what_if"].data)
    dash.remove_containers.value = True
    writable = [t for t in dash.figures["what_if"].data if t.name == "writable"]
    assert writable and writable[0].x[0] == sizes.what_if_totals(f, [app_v1], remove_containers=True)["freed_writable"]
    assert writable[0].x[0] == 65536


def test_top_n_limits_bars(dash):
    dash.top_n.value = 3
    labels = list(dash.figures["image_sizes"].data[0].y)
    assert len(labels) == 4 and labels[-1] == "other (6 images)"
    assert len(dash.figures["sharing_matrix"].data[0].x) == 3


def test_figures_mark_the_picked_images(dash):
    f = dash.frames
    pick = _tag(f, "iv/same-b:1")
    dash.remove.value = (pick,)
    bars = dash.figures["image_sizes"].data[1]
    marked = [label for label, shape in zip(bars.y, bars.marker.pattern.shape) if shape == "/"]
    assert marked == ["iv/same-b:1"]
    tree = dash.figures["layer_tree"].data[0]
    green = [i for i, c in zip(tree.ids, tree.marker.colors) if c == "#54A24B"]
    assert green == list(sizes.what_if(f, [pick]).query("freed")["chain_id"])
