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
    for name in FIGURES[1:]:
        spec = _plotly(dash.outputs[name])
        assert spec["layout"]["title"]["text"] == dash.figures[name].layout.title.text
    assert len(dash.remove.options) == len(dash.frames.images)
    assert "pick images" in dash.summary.value
    shown = dash.sizes_view.widget.to_plotly_json()  # the FigureWidget is the figure
    assert [d["y"] for d in shown["data"]] == [list(d.y) for d in dash.figures["image_sizes"].data]
    assert "SharingDashboard" in repr(dash)


def test_pattern_filters_images_and_figures(dash):
    dash.pattern.value = "iv/a*"
    assert {label for label, _ in dash.remove.options} == {"iv/app:latest", "iv/app:v1"}
    bars = dash.figures["image_sizes"].data[0]
    assert set(bars.y) == {"iv/app:latest", "iv/app:v1"}
    heat = dash.figures["sharing_matrix"].data[0]
    assert set(heat.x) == {"iv/app:latest", "iv/app:v1"}
    assert set(dash.sizes_view.widget.data[0].y) == {"iv/app:latest", "iv/app:v1"}
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
    # narrowing the filter keeps what was picked (listed first), and the what-if still counts both
    dash.pattern.value = "iv/same*"
    assert dash.remove.value == tuple(pick)
    assert [i for _, i in dash.remove.options][:2] == pick
    assert {label for label, _ in dash.remove.options} == {"iv/same-a:1", "iv/same-b:1", "iv/classic:1"}
    assert f"frees <b>{axis_bytes(expected['freed'])}</b>" in dash.summary.value


def test_placeholder_matches_and_no_match_draws_no_empty_axes(dash):
    from imgviz.selection import select

    example = dash.pattern.placeholder.rsplit(" ", 1)[-1]
    assert select(dash.frames.images, pattern=example).any(), example
    dash.pattern.value = "w*"
    assert "No image matches pattern w*" in dash.empty.value
    assert "image_sizes" not in dash.figures and "sharing_matrix" not in dash.figures
    assert dash.sizes_view.box.layout.display == "none"
    assert "no image matches" in dash.outputs["sharing_matrix"].outputs[0]["data"]["text/plain"]
    assert "<b>0</b> of 9 images match" in dash.summary.value
    dash.pattern.value = "iv/a*"
    assert dash.empty.value == "" and dash.sizes_view.box.layout.display is None


def test_a_click_on_a_bar_picks_and_unpicks_its_image(dash):
    f = dash.frames
    bars = dash.sizes_view.widget.data[1]  # the unique part of each image's bar
    k = list(bars.y).index("iv/same-b:1")
    dash.sizes_view.click(1, k)
    assert dash.remove.value == (_tag(f, "iv/same-b:1"),)
    assert "removing <b>1</b>" in dash.summary.value
    dash.sizes_view.click(1, list(dash.sizes_view.widget.data[1].y).index("iv/same-b:1"))
    assert dash.remove.value == ()


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


# -- the image explorer ---------------------------------------------------------------------------
def test_explorer_lists_every_tag_and_redraws(recorded):
    from imgviz.analysis.listing import history_table, image_list
    from imgviz.selection import find_image
    from imgviz.widgets import image_explorer

    f = frames(recorded.snapshot)
    e = image_explorer(f, image="iv/app:v2")
    assert len(e.image.options) == len(image_list(f.images))  # one per docker image ls row
    assert {"iv/app:latest", "iv/app:v2"} <= {v for _, v in e.image.options}
    h = history_table(f.history, find_image(f.images, "iv/app:v2"))
    assert e.view.widget.layout.xaxis.type == "log" and len(e.view.widget.data[0].y) == len(h)
    e.scale.value = "linear"
    assert e.view.widget.layout.xaxis.type == "linear"
    sizes_shown = [int(x) for x in e.view.widget.data[0].x]
    assert sizes_shown == [int(s) if not empty else 0 for s, empty in zip(h["size"], h["empty_layer"])]
    e.image.value = "iv/base:1"
    assert "iv/base:1" in e.view.widget.layout.title.text
    e.view.click(0, 0)
    assert "history entry" not in e.entry.value and "<code>" in e.entry.value


# -- the reorder playground -----------------------------------------------------------------------
def test_reorder_predicts_like_cascade_and_follows_the_controls():
    import imgviz
    from imgviz.widgets import reorder_dockerfile

    r = reorder_dockerfile("webping-edit", builder="classic", edit_app=True)
    case = imgviz.demo_cascade("webping-edit")
    assert r.steps["cached"].tolist() == case.predicted("classic")["cached"].tolist()
    assert r.summary.value.startswith("<div><b>2</b> of 7 steps run again")  # COPY and CMD, as recorded
    # the chapter's optimisation: CMD first, COPY last -> with classic, one changed line breaks all below
    r.set_order([5, 0, 1, 2, 3, 4])
    assert r.dockerfile().splitlines()[3] == 'CMD ["node", "/web-ping/app.js"]'
    assert r.summary.value.startswith("<div><b>6</b> of 7")
    r.builder.value = "buildkit"
    assert r.summary.value.startswith("<div><b>1</b> of 7")  # only COPY app.js: BuildKit decides per step
    r.edit_app.value = False
    assert r.summary.value.startswith("<div><b>0</b> of 7")
    r.lines.value = 0
    r.move(+1)
    assert r.order[:2] == [0, 5]
    copy = [k for k, t in enumerate(r.view.widget.data) if t.name == "hit"][0]
    r.view.click(copy, len(r.view.widget.data[copy].x) - 1)  # the last green step: COPY app.js
    assert "COPY app.js" in dict((v, k) for k, v in r.lines.options)[r.lines.value]


def test_reorder_offers_podmans_buildah():
    """buildah (podman's builder, proven on podman by the cascade scenarios) is one of the choices, and
    the playground predicts with it as `imgviz cascade --builder buildah` does."""
    from imgviz.analysis.cascade import cascade
    from imgviz.widgets import reorder_dockerfile

    r = reorder_dockerfile("webping-edit", builder="buildah", edit_app=True)
    assert "buildah" in dict(r.builder.options).values()
    assert r.steps["cached"].tolist() == cascade(r.case.old, r._dir, builder="buildah")["cached"].tolist()
    assert r.summary.value.startswith("<div><b>2</b> of 7 steps run again") and "buildah" in r.summary.value
    r.set_order([5, 0, 1, 2, 3, 4])
    assert r.summary.value.startswith("<div><b>6</b> of 7")  # one changed line breaks every step below


# -- the -e playground ----------------------------------------------------------------------------
def test_env_playground_shows_the_rule(recorded):
    from imgviz.analysis.run_env import run_env
    from imgviz.selection import find_image
    from imgviz.widgets import env_playground

    f = frames(recorded.snapshot)
    p = env_playground(f, image="iv/app:v2", env="GREETING=hi\nPATH")
    image_env = list(f.images.set_index("image_id").loc[find_image(f.images, "iv/app:v2"), "env"])
    expected = run_env(image_env, ["GREETING=hi", "PATH"])
    assert p.result[["name", "value", "source"]].equals(expected[["name", "value", "source"]])
    assert "docker run -e GREETING=hi -e PATH iv/app:v2" in p.command.value
    p.shell.value = "PATH=/from/shell"
    assert p.result.set_index("name").loc["PATH", "value"] == "/from/shell"
    p.env.value = "=x"
    assert "invalid environment variable: =x" in p.table.value and p.result is None
    p.env.value = "API_TOKEN=abc<script>"
    assert "abc" not in p.table.value and "&lt;script" not in p.table.value  # masked, never raw


# -- the first figure -----------------------------------------------------------------------------
def test_rfc3987_syntax_waits_until_used():
    """In a kernel, `import imgviz` keeps jsonschema's IRI checker from compiling its grammars at
    import (the 4-15 s first figure); the checker still answers the same once used."""
    import subprocess
    import sys

    code = """
import sys, imgviz._kernel as k
assert k.defer_rfc3987_syntax()
import nbformat, jsonschema
assert 'lark' not in sys.modules, 'the grammars were compiled at import'
checker = jsonschema.FormatChecker()
print(checker.conforms('http://example.org/\u00e4', 'iri'), checker.conforms('not an iri', 'iri'))
print('lark' in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False", "True"]


def test_figure_widgets_hold_plain_lists(dash):
    """A FigureWidget's state carries no numpy buffers nor base64 typed arrays: a view drawn from
    an initial state holding them came up as empty axes in JupyterLab (seen in the browser test)."""
    import json

    state = json.dumps(dash.sizes_view.widget.to_plotly_json(), default=str)
    assert "bdata" not in state
    for trace in dash.sizes_view.widget.data:
        assert isinstance(list(trace.x)[0], int)


def test_summary_says_the_engines_bytes_on_the_containerd_store():
    """On the containerd store a removal frees content blobs beside the snapshots: the dashboard's line
    says the engine's bytes (imgviz.analysis.what_if.removal, proven against real removals in
    tests/analysis/test_whatif_live.py), as the what-if figure does, never the layer rule's; where
    the engine's model cannot know them, it says unknown."""
    from imgviz import demo
    from imgviz.analysis.what_if import removal
    from imgviz.widgets import sharing_dashboard

    f = demo("containerd")
    dash = sharing_dashboard(f)
    known = unknown = None
    for image_id in f.images["image_id"]:
        r = removal(f, [image_id])
        layer_rule = sizes.what_if_totals(f, [image_id])["freed"]
        if r.freed_bytes is not None and r.freed_bytes != layer_rule and known is None:
            known = (image_id, r.freed_bytes, layer_rule)
        if r.freed_bytes is None and unknown is None:
            unknown = image_id
    assert known and unknown, "the containerd demo has an image freeing blobs and one the model cannot size"
    image_id, engine_bytes, layer_rule = known
    dash.remove.value = (image_id,)
    assert f"frees <b>{axis_bytes(engine_bytes)}</b>" in dash.summary.value
    title = dash.figures["what_if"].layout.title.text
    assert axis_bytes(engine_bytes) in title and axis_bytes(engine_bytes) != axis_bytes(layer_rule)
    dash.remove.value = (unknown,)
    assert "frees <b>an unknown number of bytes</b>" in dash.summary.value
    fig = dash.figures["what_if"]
    assert "unknown" in fig.layout.title.text
    # no "before -> after" from the layer rule where the engine's drop is unknown
    assert "→" not in " ".join(a.text for a in fig.layout.annotations)
