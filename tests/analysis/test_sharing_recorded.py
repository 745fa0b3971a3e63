"""The layer tree, diff reuse and the sharing matrix on the recorded fleet."""

from __future__ import annotations

import pytest

from imgviz.analysis import sharing
from imgviz.frames import frames

from . import _checks


@pytest.fixture(scope="module")
def f(recorded):
    return frames(recorded.snapshot)


def test_tree_paths_and_bytes(f):
    _checks.check_tree(f)


def test_matrix_is_common_chain_bytes_and_matches_engine_shared(f):
    assert _checks.check_sharing_matrix(f) == 81


def test_same_diff_on_two_parents_is_shown_and_not_shared(f):
    reuse = sharing.diff_reuse(f)
    assert len(reuse) == 2 and reuse["diff_id"].nunique() == 1
    assert sorted(l for ls in reuse["images"] for l in ls) == ["iv/same-a:1", "iv/same-b:1"]
    tree = sharing.layer_tree(f).set_index("chain_id")
    for chain in reuse["chain_id"]:
        assert not tree.at[chain, "shared"] and tree.at[chain, "same_diff_elsewhere"] == 1
    # the two copies sit on different parents
    assert reuse["parent_chain_id"].nunique() == 2


def test_env_only_image_ends_where_its_parent_ends(f):
    tree = sharing.layer_tree(f)
    node = tree[tree["ends"].map(lambda e: "iv/envonly:1" in e)].iloc[0]
    assert "iv/app:v1" in node["ends"] and node["shared"]


def test_matrix_subset_and_order(f):
    m = sharing.sharing_matrix(f, ["iv/same-b:1", "iv/classic:1"])
    full = sharing.sharing_matrix(f)
    assert list(m.index) == list(m.columns) and len(m) == 2
    a, b = m.index
    assert m.at[a, b] == full.at[a, b]


def test_shared_layers_and_what_sharing_saves(f):
    from imgviz.analysis import sizes

    shared = sharing.shared_layers(f)
    assert [(int(r.size), int(r.n_images), int(r.saved_by_sharing), r.instruction) for r in shared.itertuples()] == [
        (1984132, 9, 15873056, "IMPORT"), (28, 2, 28, "COPY"), (12, 2, 12, "COPY"), (8, 2, 8, "RUN"),
        (6, 2, 6, "RUN"), (0, 3, 0, "WORKDIR")]
    # the base is every image's: `docker system df -v` lists 9 images
    assert shared.iloc[0]["comment"] == "Imported from -" and len(shared.iloc[0]["images"]) == len(f.images) == 9
    t = sizes.totals(f)["value"]
    assert int(shared["saved_by_sharing"].sum()) == t["saved_by_sharing"] == t["logical"] - t["physical"]
    assert len(shared) == t["shared_layers"]
