"""An engine with no images and no containers: every analysis, figure and the dashboard still work."""

from __future__ import annotations

from imgviz import figures as F
from imgviz.analysis import sharing, sizes
from imgviz.frames import frames
from imgviz.snapshot import Snapshot, empty_records


def _empty():
    return frames(Snapshot(source={"kind": "engine", "host": "unix:///empty.sock"}, records=empty_records()))


def test_empty_analyses_are_zero_and_empty():
    f = _empty()
    assert len(sizes.image_sizes(f)) == 0
    assert sizes.totals(f)["value"].eq(0).all()
    du = sizes.disk_usage(f)
    assert du["size"].eq(0).all() and du["reclaimable_percent"].isna().all()
    assert len(sharing.layer_tree(f)) == len(sharing.diff_reuse(f)) == len(sharing.sharing_pairs(f)) == 0
    assert sharing.sharing_matrix(f).shape == (0, 0)
    assert sizes.what_if_totals(f, []).eq(0).all()


def test_empty_figures_and_dashboard():
    from imgviz.widgets import sharing_dashboard

    f = _empty()
    assert F.layer_tree(f).layout.title.text.startswith("Layer tree: 0 images")
    assert F.image_sizes(f).data[0].y in (None, ())
    assert F.reported_vs_physical(f).layout.title.text.startswith("Reported 0 B vs 0 B")
    assert F.what_if(f, []).layout.title.text.startswith("Removing nothing frees 0 B")
    assert len(F.sharing_matrix(f).data[0].z) == 0
    assert "<b>0</b> of 0 images" in sharing_dashboard(f).summary.value
