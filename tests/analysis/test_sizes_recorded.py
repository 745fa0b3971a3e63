"""Sizes, totals, df and what-if on the recorded fleet, compared with the docker CLI's outputs."""

from __future__ import annotations

import copy

import pytest

from imgviz.analysis import sizes
from imgviz.errors import ImageNotFound
from imgviz.frames import frames
from imgviz.snapshot import Snapshot

from . import _checks


@pytest.fixture(scope="module")
def f(recorded):
    return frames(recorded.snapshot)


def _tag(f, tag):
    return f.images[f.images["tags"].map(lambda t: tag in t)]["image_id"].iloc[0]


def test_image_sizes_equal_df_v(f, recorded):
    assert _checks.check_image_sizes(f, recorded.cli["system_df_v"]) == 9


def test_disk_usage_equals_system_df(f, recorded):
    _checks.check_disk_usage(f, recorded.cli["system_df"])


def test_totals_agree_with_cli(f, recorded):
    t = _checks.check_totals(f, recorded.cli)
    # the fleet's point: ten `docker image ls` rows add up to ten times what the disk holds
    assert t["reported"] > 9 * t["physical"]


def test_totals_say_where_numbers_come_from(f):
    t = sizes.totals(f)
    assert t.at["physical", "source"] == "engine" and t.at["reported", "source"] == "engine"
    assert t.at["saved_by_sharing", "source"] == "derived"
    assert set(t["unit"]) == {"bytes", "count"} and t["meaning"].str.len().gt(10).all()


def test_multi_tag_and_env_only_and_same_diff_cases(f, recorded):
    table = sizes.image_sizes(f).set_index("image_id")
    app = _tag(f, "iv/app:v2")
    assert set(table.at[app, "tags"]) == {"iv/app:v2", "iv/app:latest"}
    env_only = _tag(f, "iv/envonly:1")
    assert table.at[env_only, "unique_size"] == 0 and table.at[env_only, "size"] > 0
    for name in ("iv/same-a:1", "iv/same-b:1"):
        top = f.layers[f.layers["image_id"] == _tag(f, name)].sort_values("position").iloc[-1]
        assert table.at[_tag(f, name), "unique_size"] == top["size"] > 0


def test_image_sizes_pattern_keeps_engine_wide_sharing(f):
    some = sizes.image_sizes(f, pattern="iv/a*")
    assert set(some["label"]) == {"iv/app:latest", "iv/app:v1"}
    everything = sizes.image_sizes(f).set_index("image_id")
    for rec in some.itertuples():
        assert rec.shared_size == everything.at[rec.image_id, "shared_size"]


def test_what_if_one_image_frees_its_unique_size(f):
    """Removing one image no container uses frees exactly the engine's UNIQUE SIZE for it."""
    checked = 0
    for rec in f.images.itertuples():
        raw = f.engine_df["images"][rec.image_id]
        w = sizes.what_if_totals(f, [rec.image_id])
        if raw["Containers"] == 0:
            assert w["freed_layers"] == raw["Size"] - raw["SharedSize"], rec.tags
            checked += 1
        else:
            # its container keeps every layer of its chain
            assert w["freed_layers"] == 0
            layers = sizes.what_if(f, [rec.image_id])
            assert layers["kept_by"].notna().all()
    assert checked == 7


def test_what_if_everything(f):
    everything = list(f.images["image_id"])
    w = sizes.what_if_totals(f, everything, remove_containers=True)
    assert w["freed_layers"] == f.engine_df["layers_size"] and w["physical_after"] == 0
    assert w["freed_writable"] == sum(c.get("SizeRw", 0) for c in f.engine_df["containers"].values())  # 0 is left out
    kept = sizes.what_if_totals(f, everything)
    held = f.layers[f.layers["image_id"].isin(f.containers["image_id"])].drop_duplicates("chain_id")
    assert kept["freed_layers"] == f.engine_df["layers_size"] - int(held["size"].sum())


def test_what_if_bad_reference_is_one_clear_error(f):
    with pytest.raises(ImageNotFound, match="iv/nope:1"):
        sizes.what_if(f, ["iv/nope:1"])


def test_without_engine_sizes_numbers_are_derived_and_equal(recorded, f):
    """A source with no engine sizes (registry, archive): the same numbers, derived, and labelled so."""
    records = copy.deepcopy(recorded.snapshot.records)
    records["df"] = None
    for im in records["image_list"]:
        im["SharedSize"] = -1
        im["Containers"] = -1
    bare = frames(Snapshot(source=dict(recorded.snapshot.source), records=records))
    assert (bare.images["size_source"] == "derived").all()
    mine, engine = sizes.image_sizes(bare).set_index("image_id"), sizes.image_sizes(f).set_index("image_id")
    for col in ("size", "shared_size", "unique_size", "containers"):
        assert mine[col].reindex(engine.index).tolist() == engine[col].tolist(), col
    t_bare, t_engine = sizes.totals(bare), sizes.totals(f)
    assert t_bare.at["physical", "source"] == "derived" and t_bare.at["reported", "source"] == "derived"
    assert t_bare["value"].tolist() == t_engine["value"].tolist()


def test_totals_count_what_the_cli_lists(f, recorded):
    from imgviz.analysis import sharing

    from .._compare import json_lines

    t = sizes.totals(f)["value"]
    ls = json_lines(recorded.cli["image_ls"])
    assert t["tag_names"] == sum(r["Tag"] != "<none>" for r in ls) == 9
    assert t["repositories"] == len({r["Repository"] for r in ls} - {"<none>"}) == 7
    assert t["layer_references"] == sum(len(r["inspect"]["RootFS"]["Layers"]) for r in recorded.snapshot.images) == 26
    tree = sharing.layer_tree(f)
    assert t["distinct_layers"] == len(tree) == 12
    assert t["shared_layers"] == int(tree["shared"].sum()) == 6


def test_repository_sizes(f, recorded):
    """Per repository, exact; images_size is the engine's Size summed, unique_size what removing them frees."""
    from .._compare import json_lines

    table = sizes.repository_sizes(f)
    assert [tuple(r) for r in table.itertuples(index=False)] == [
        ("iv/app", 2, 3, 6, 3968317, 1984185, 35),
        ("iv/same-b", 1, 1, 4, 1984198, 1984198, 30),
        ("iv/same-a", 1, 1, 2, 1984162, 1984162, 30),
        ("iv/dangle", 1, 1, 2, 1984139, 1984139, 7),
        ("<none>", 1, 0, 2, 1984138, 1984138, 6),
        ("iv/classic", 1, 1, 3, 1984168, 1984168, 0),
        ("iv/envonly", 1, 1, 4, 1984150, 1984150, 0),
        ("iv/base", 1, 1, 1, 1984132, 1984132, 0),
    ]
    ls = json_lines(recorded.cli["image_ls"])
    assert set(table["repository"]) == {r["Repository"] for r in ls}
    for r in table.itertuples(index=False):
        ids = {f.images.set_index("short_id").at[x["ID"], "image_id"] for x in ls if x["Repository"] == r.repository}
        assert r.images == len(ids) and r.tags == sum(x["Tag"] != "<none>" for x in ls if x["Repository"] == r.repository)
        assert r.images_size == sum(f.engine_df["images"][i]["Size"] for i in ids)
        assert r.unique_size == sizes.what_if_totals(f, sorted(ids), remove_containers=True)["freed_layers"]


def test_docker28_counts_intermediate_images_as_sharing_a_layer():
    """Recorded on Docker 28.5.2 (overlay2): a classic build of COPY then CMD, whose intermediate
    image after COPY (hidden from `docker image ls`) holds the same layers as the final image. The
    engine's SharedSize counts that image as a second user of the COPY layer; imgviz's rule gives
    the engine's number for every image with the intermediate images counted, and not without."""
    from pathlib import Path

    from imgviz.analysis.size_views import size_views
    from imgviz.sources import load

    f = frames(load(Path(__file__).parent.parent / "data" / "docker28" / "hidden-intermediate.json.gz"))
    assert sizes.shared_counts_hidden_images(f)
    hidden = sizes.hidden_layer_holders(f)
    assert set(hidden["image_id"]) == set(f.intermediates["image_id"]) != set()
    counted = sizes.per_image_sizes(f.layers, hidden).set_index("image_id")["shared_size"]
    alone = sizes.per_image_sizes(f.layers).set_index("image_id")["shared_size"]
    engine = {i: r["SharedSize"] for i, r in f.engine_df["images"].items()}
    assert {i: int(counted[i]) for i in engine} == engine
    app = _tag(f, "ivtest-hidden/app:1")
    size = int(f.images.set_index("image_id").at[app, "size"])
    assert engine[app] == size == int(alone[app]) + 5000  # the 5000-byte COPY: shared only with the hidden image
    why = size_views(f).set_index("image_id").at[app, "explanation"]
    assert "(5kB of it held besides only by intermediate images" in why, why
