"""Frames from the recorded test fleet equal what the docker CLI printed for it (no engine needed)."""

from __future__ import annotations

import pytest

from imgviz.frames import frames

from . import _compare


@pytest.fixture(scope="module")
def f(recorded):
    return frames(recorded.snapshot)


def test_df_v_images_table(f, recorded):
    assert _compare.check_df_images(f, recorded.cli["system_df_v"]) == 9


def test_df_summary_is_distinct_layers(f, recorded):
    _compare.check_df_summary(f, recorded.cli["system_df"])


def test_sizes_derived_from_layers_equal_engine(f):
    _compare.check_derived_sizes_equal_engine(f)


def test_image_ls(f, recorded):
    # iv/app:v2 carries two tags, so `docker image ls` has one row more than there are images
    assert _compare.check_image_ls(f, recorded.cli["image_ls"]) == len(f.images) + 1


def test_image_ls_name_filter(f, recorded):
    assert _compare.check_image_ls(f, recorded.cli["image_ls_w"], "iv/a*") == 3


def test_every_history(f, recorded):
    keys = [k for k in recorded.cli if k.startswith("history ")]
    assert len(keys) == len(f.images)
    total = sum(_compare.check_history(f, k.split(" ", 1)[1], recorded.cli[k]) for k in keys)
    assert total == len(f.history)


def test_containers_sizes_and_env(f, recorded):
    assert _compare.check_containers(f, recorded.cli["ps_size"]) == 2
    ping = f.containers[f.containers["names"].apply(lambda n: "iv-ping" in n)].iloc[0]
    image = f.images.set_index("image_id").loc[ping["image_id"]]
    # -e overrides replace the image's default, the other ENV defaults stay
    assert "TARGET=docker.test" in ping["env"] and "TARGET=example.test" in image["env"]
    assert "INTERVAL=5000" in ping["env"] and "METHOD=HEAD" in ping["env"]
    writer = f.containers[f.containers["names"].apply(lambda n: "iv-writer" in n)].iloc[0]
    assert writer["size_rw"] >= 65536 and writer["state"] == "exited"


def test_layers_are_consistent_with_chain_rule(f):
    from imgviz.frames import chain_ids

    for image_id, rows in f.layers.groupby("image_id"):
        rows = rows.sort_values("position")
        assert list(rows["chain_id"]) == chain_ids(list(rows["diff_id"]))
        assert rows["size"].sum() == f.images.set_index("image_id").at[image_id, "size"]


def test_same_diff_on_other_parent_is_not_shared(f):
    tags = f.images.explode("tags").set_index("tags")["image_id"]
    a = f.layers[f.layers["image_id"] == tags["iv/same-a:1"]].iloc[-1]
    b = f.layers[f.layers["image_id"] == tags["iv/same-b:1"]].iloc[-1]
    assert a["diff_id"] == b["diff_id"] and a["chain_id"] != b["chain_id"]
    # each keeps its COPY bytes as unique: a layer is shared only by chain ID
    imgs = f.images.set_index("image_id")
    assert imgs.at[tags["iv/same-a:1"], "unique_size"] == a["size"] > 0
    assert imgs.at[tags["iv/same-b:1"], "unique_size"] == b["size"] > 0


def test_env_only_image_has_no_unique_bytes(f):
    tags = f.images.explode("tags").set_index("tags")["image_id"]
    img = f.images.set_index("image_id").loc[tags["iv/envonly:1"]]
    assert img["unique_size"] == 0 and "TARGET=other.test" in img["env"]


def test_history_maps_onto_layers(f):
    # every layer is made by exactly one non-empty history entry
    made = f.history[~f.history["empty_layer"]]
    assert len(made) == len(f.layers)
    assert set(f.history["mapping"]) <= {"exact", "inferred"}
    for image_id, rows in f.history.groupby("image_id"):
        n_layers = f.images.set_index("image_id").at[image_id, "n_layers"]
        assert (~rows["empty_layer"]).sum() == n_layers


def test_classic_builder_history_keeps_intermediate_ids(f, recorded):
    tags = f.images.explode("tags").set_index("tags")["image_id"]
    h = f.history[f.history["image_id"] == tags["iv/classic:1"]]
    assert h["instruction"].tolist() == ["IMPORT", "RUN", "COPY", "ENV", "LABEL"]
    # the classic builder keeps its steps as (untagged, intermediate) images
    assert (h["entry_id"] != "<missing>").sum() >= 4
