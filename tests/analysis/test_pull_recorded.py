"""Pull planning and compressed sizes on data recorded from a real engine and registry.

tests/data/registry/ (see tests/_record_registry.py): the registry's view of four images, the
engine that built them, and a second engine that loaded ivreg/app:1 from a ``docker save`` and
pulled ivreg/other:1, then pulled ivreg/app:2 (its output recorded).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from imgviz.analysis.pull import (REASON_BELOW, REASON_EXISTS, REASON_IMAGE, REASON_UNKNOWN_BLOB,
                                  compressed_sizes, compressed_totals, pull_plan)
from imgviz.frames import frames
from imgviz.sources import load

DATA = Path(__file__).parent.parent / "data" / "registry"


@pytest.fixture(scope="module")
def rec():
    pull = json.loads((DATA / "pull.json").read_text())
    return {"registry": frames(load(DATA / "registry.json.gz")), "engine": frames(load(DATA / "engine.json.gz")),
            "second": frames(load(DATA / "second.json.gz")), "pull": pull}


def _image(f, tag):
    hit = f.images[f.images.tags.apply(lambda ts: tag in ts)]
    assert len(hit) == 1
    return hit.image_id.iloc[0]


def test_plan_equals_the_recorded_docker_pull(rec):
    reg, second, pull = rec["registry"], rec["second"], rec["pull"]
    app2 = _image(reg, pull["ref"])
    plan = pull_plan(reg.layers[reg.layers.image_id == app2], second.layers,
                     known_digests=pull["known_digests"], local_image_ids=second.images.image_id)
    said = dict(re.findall(r"^([0-9a-f]{12}): (Already exists|Pull complete)$", pull["docker_pull_output"], re.M))
    assert len(said) == len(plan) == 4
    for r in plan.itertuples(index=False):
        assert said[r.digest[7:19]] == ("Already exists" if r.action == "exists" else "Pull complete")
    assert list(plan.reason) == [REASON_EXISTS, REASON_UNKNOWN_BLOB, REASON_BELOW, REASON_BELOW]
    # layers 1 and 2 exist in the second engine (loaded), yet are downloaded: the blob rule
    assert set(plan.chain_id.iloc[1:3]) <= set(second.layers.chain_id)
    assert int(plan.download_bytes.sum()) == int(plan.size_compressed.iloc[1:].sum())
    assert plan.download_bytes.iloc[0] == 0


def test_plan_for_engines_that_take_diff_ids_from_the_config(rec):
    """known_digests=None: every blob can be matched, so the loaded layers count as existing."""
    reg, second, pull = rec["registry"], rec["second"], rec["pull"]
    app2 = _image(reg, pull["ref"])
    plan = pull_plan(reg.layers[reg.layers.image_id == app2], second.layers, known_digests=None)
    assert list(plan.action) == ["exists", "exists", "exists", "download"]
    assert int(plan.download_bytes.sum()) == int(plan.size_compressed.iloc[3])


def test_plan_image_already_present(rec):
    reg, second = rec["registry"], rec["second"]
    app1 = _image(reg, "registry.test:5000/rec/app:1")
    assert app1 in set(second.images.image_id)  # loaded from docker save
    plan = pull_plan(reg.layers[reg.layers.image_id == app1], second.layers, known_digests={},
                     local_image_ids=second.images.image_id)
    assert list(plan.action) == ["exists"] * 3 and set(plan.reason) == {REASON_IMAGE}
    assert int(plan.download_bytes.sum()) == 0


def test_plan_empty_engine_downloads_everything_once(rec):
    reg = rec["registry"]
    app2 = _image(reg, "registry.test:5000/rec/app:2")
    layers = reg.layers[reg.layers.image_id == app2]
    plan = pull_plan(layers, reg.layers.iloc[0:0], known_digests={})
    assert list(plan.action) == ["download"] * 4
    assert int(plan.download_bytes.sum()) == int(layers.size_compressed.sum())
    with pytest.raises(ValueError, match="one image"):
        pull_plan(reg.layers, reg.layers.iloc[0:0])


def test_plan_does_not_touch_its_input(rec):
    reg, second, pull = rec["registry"], rec["second"], rec["pull"]
    before = (reg.layers.copy(), second.layers.copy())
    pull_plan(reg.layers[reg.layers.image_id == _image(reg, pull["ref"])], second.layers,
              known_digests=pull["known_digests"])
    pd.testing.assert_frame_equal(before[0], reg.layers)
    pd.testing.assert_frame_equal(before[1], second.layers)


def test_compressed_sizes_joined_with_the_engine(rec):
    reg, eng = rec["registry"], rec["engine"]
    alone = compressed_sizes(reg.layers)
    assert alone["size"].isna().all() and alone.size_compressed.notna().all()
    sizes = compressed_sizes(reg.layers, uncompressed_from=eng.layers)
    assert sizes["size"].notna().all()
    by_diff = eng.layers.drop_duplicates("diff_id").set_index("diff_id")["size"]
    assert (sizes["size"] == sizes.diff_id.map(by_diff)).all()
    # the 300 KB of random bytes do not compress; busybox does
    app2 = _image(reg, "registry.test:5000/rec/app:2")
    rows = sizes[sizes.image_id == app2].set_index("position")
    assert rows.at[3, "ratio"] > 0.99 and rows.at[0, "ratio"] < 0.7
    totals = compressed_totals(sizes).set_index("image_id")
    assert totals.at[app2, "size_compressed"] == int(rows.size_compressed.sum())
    assert totals.at[app2, "size"] == int(eng.images.set_index("image_id").at[app2, "size"])
    assert compressed_totals(alone)["size"].isna().all()
