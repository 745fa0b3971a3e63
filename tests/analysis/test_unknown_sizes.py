"""A source that does not know some layer sizes (e.g. a registry without uncompressed sizes):
unknown stays unknown (NA), never a made-up 0, and figures and the dashboard still draw."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from imgviz import figures as F
from imgviz.analysis import sharing, sizes
from imgviz.frames import frames


@pytest.fixture(scope="module")
def g(recorded):
    """The recorded fleet with the engine's extras dropped and one image's layer sizes unknown."""
    f = frames(recorded.snapshot)
    g = copy.copy(f)
    g.layers, g.images, g.engine_df = f.layers.copy(), f.images.copy(), None
    victim = g.images[g.images["tags"].map(lambda t: "iv/dangle:1" in t)]["image_id"].iloc[0]
    g.layers.loc[g.layers["image_id"] == victim, "size"] = pd.NA
    g.images.loc[g.images["image_id"] == victim, ["size", "shared_size", "unique_size"]] = pd.NA
    g.victim = victim
    g.known = f
    return g


def test_totals_unknown_not_zero(g):
    t = sizes.totals(g)["value"]
    assert t[["reported", "logical", "physical", "reclaimable"]].isna().all()
    assert t["writable_layers"] == 65536 and t["images"] == 9


def test_shared_base_size_is_taken_from_images_that_know_it(g):
    tree = sharing.layer_tree(g).set_index("chain_id")
    full = sharing.layer_tree(g.known).set_index("chain_id")
    base = full.index[full["parent_chain_id"].isna()][0]
    assert tree.at[base, "size"] == full.at[base, "size"] > 0
    own = g.layers[(g.layers["image_id"] == g.victim) & (g.layers["position"] == 1)]["chain_id"].iloc[0]
    assert pd.isna(tree.at[own, "size"])


def test_what_if_with_an_unknown_layer(g):
    w = sizes.what_if_totals(g, [g.victim])
    assert pd.isna(w["freed_layers"]) and pd.isna(w["freed"]) and w["layers_freed"] == 1
    assert w["kept_shared"] == sizes.what_if_totals(g.known, [g.victim])["kept_shared"]


def test_figures_and_dashboard_say_unknown(g):
    from imgviz.widgets import sharing_dashboard

    assert "unknown" in F.reported_vs_physical(g).layout.title.text
    assert F.what_if(g, [g.victim]).layout.title.text.endswith("frees unknown<br><sup>1 image(s), 1 layer(s) freed</sup>")
    bars = F.image_sizes(g, top_n=None).data[1]
    k = list(bars.y).index("iv/dangle:1")
    assert bars.x[k] == 0 and "Unique: unknown" in bars.hovertext[k]
    assert "frees <b>unknown</b>" in sharing_dashboard(g, remove=[g.victim]).summary.value
