"""One schema for raw records (imgviz._records), checked where records enter."""

from __future__ import annotations

import copy
import math

import pytest

from imgviz import _records as R
from imgviz.errors import SnapshotError
from imgviz.snapshot import Snapshot
from imgviz.sources import demo_snapshot

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("value, ok", [
    (0, True), (2**63 - 1, True), (-1, False), (2**63, False), (10**400, False), (math.nan, False),
    (math.inf, False), (1.0, False), (True, False), ("12", False), (None, False),
])
def test_sizes(value, ok):
    assert (R.problem(R.SIZE, value, "size") is None) is ok


def test_engine_minus_one_only_where_the_engine_uses_it():
    assert R.problem(R.ENGINE_SIZE, -1, "x") is None
    assert R.problem(R.ENGINE_SIZE, -2, "x") == "x: -2 is not a size (0 to 2**63-1 bytes)"
    assert R.problem(R.IMAGE_SUMMARY, {"Id": DIGEST, "SharedSize": -1, "Containers": -1}, "i") is None
    assert R.problem(R.HISTORY_ENTRY, {"Size": -1}, "h") == "h.Size: -1 is not a size (0 to 2**63-1 bytes)"


@pytest.mark.parametrize("t, value, message", [
    (R.CONTAINER_CONFIG, {"Env": "PATH=/bin"}, "c.Env: expected a list of strings, got a string"),
    (R.CONTAINER_CONFIG, {"Env": ["A=1", 5]}, "c.Env[1]: expected a string, got a number"),
    (R.CONTAINER_CONFIG, {"Labels": {"a": {"b": 1}}}, "c.Labels.a: expected a string, got an object"),
    (R.INSPECT, {"Id": "sha256:abc"}, "c.Id: 'sha256:abc' is not a digest (sha256:<64 hex>)"),
    (R.INSPECT, {}, "c: has no 'Id'"),
    (R.CONTAINER_SUMMARY, {"Id": "../../images/json"}, "c.Id: '../../images/json' is not an engine ID"),
    (R.MANIFEST, {"config": {"digest": DIGEST, "size": 1}, "layers": {"a": 1}}, "c.layers: expected a list, got an object"),
    (R.IMAGE_CONFIG, {"rootfs": {"diff_ids": [5]}}, "c.rootfs.diff_ids[0]: expected a digest"),
    (R.IMAGE_CONFIG, {"rootfs": {"diff_ids": []}, "history": [{"empty_layer": "yes"}]},
     "c.history[0].empty_layer: expected true or false, got a string"),
])
def test_the_first_problem_names_the_field(t, value, message):
    assert R.problem(t, value, "c").startswith(message)


def test_every_recorded_snapshot_passes():
    snap = demo_snapshot()
    R.check_records(snap.records, snap.kind, where="demo", error=SnapshotError)


def test_snapshot_load_names_file_and_field():
    data = demo_snapshot().to_dict()
    bad = copy.deepcopy(data)
    bad["records"]["images"][2]["inspect"]["Config"]["Env"] = "PATH=/bin"
    with pytest.raises(SnapshotError, match=r"^f.json: records.images\[2\].inspect.Config.Env: expected a list"):
        Snapshot.from_dict(bad, name="f.json")
    bad = copy.deepcopy(data)
    bad["records"]["images"].append(copy.deepcopy(bad["records"]["images"][0]))
    with pytest.raises(SnapshotError, match="recorded twice"):
        Snapshot.from_dict(bad, name="f.json")
    bad = copy.deepcopy(data)
    bad["records"]["df"] = None
    with pytest.raises(SnapshotError, match="records.df: missing, yet the engine snapshot says it is complete"):
        Snapshot.from_dict(bad, name="f.json")
    bad["records"]["complete"] = False  # an incomplete recording may stop before /system/df
    assert not Snapshot.from_dict(bad, name="f.json").complete
