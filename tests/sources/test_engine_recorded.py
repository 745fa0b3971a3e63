"""The engine source on recorded responses: replay, files, faults and API-version differences."""

from __future__ import annotations

import copy
import json
import warnings

import pytest

from imgviz.errors import EngineUnavailable, SnapshotError
from imgviz.frames import frames
from imgviz.snapshot import Snapshot
from imgviz.sources import load
from imgviz.sources._replay import ReplayClient
from imgviz.sources.engine import CollectionWarning, collect


def _replay(snap: Snapshot) -> Snapshot:
    return collect(ReplayClient(snap), progress=False, host=snap.source["host"],
                   collected_at=snap.source["collected_at"])


def _frames_equal(a, b):
    for name in ("images", "layers", "history", "containers"):
        left, right = getattr(a, name), getattr(b, name)
        assert left.shape == right.shape, name
        assert left.astype(str).equals(right.astype(str)), name


def test_replay_reproduces_the_recording(recorded):
    again = _replay(recorded.snapshot)
    assert again.to_dict() == recorded.snapshot.to_dict()


def test_save_and_load_round_trip(recorded, tmp_path):
    path = recorded.snapshot.save(tmp_path / "s.json.gz")
    again = load(path)
    assert again.to_dict() == recorded.snapshot.to_dict()
    # byte-identical when saved twice
    assert again.save(tmp_path / "t.json.gz").read_bytes() == path.read_bytes()
    plain = recorded.snapshot.save(tmp_path / "s.json")
    assert json.loads(plain.read_text())["format"] == "imgviz-snapshot"


def test_image_removed_mid_collection_is_skipped_and_recorded(recorded):
    snap = copy.deepcopy(recorded.snapshot)
    gone = snap.records["images"].pop(2)
    snap.records["skipped"].append({"kind": "image", "id": gone["id"], "reason": "removed during collection",
                                    "detail": "No such image"})
    with pytest.warns(CollectionWarning, match="removed during collection"):
        again = _replay(snap)
    assert [s["id"] for s in again.skipped] == [gone["id"]]
    f = frames(again)
    assert gone["id"] not in set(f.images["image_id"])
    assert len(f.images) == len(recorded.snapshot.images) - 1


def test_engine_lost_mid_collection_keeps_what_was_collected(recorded):
    snap = copy.deepcopy(recorded.snapshot)
    del snap.records["images"][5:]      # the recording stops after five images
    with pytest.warns(CollectionWarning, match="stopped answering"):
        again = _replay(snap)
    assert not again.complete
    assert len(again.images) == 5
    assert len(frames(again).images) == 5


def test_api_144_without_virtual_size(recorded):
    snap = copy.deepcopy(recorded.snapshot)
    for im in snap.records["image_list"]:
        im.pop("VirtualSize", None)
    for r in snap.records["images"]:
        r["inspect"].pop("VirtualSize", None)
    for im in snap.records["df"]["Images"]:
        im.pop("VirtualSize", None)
    _frames_equal(frames(snap), frames(recorded.snapshot))


def test_shared_size_minus_one_is_derived_by_the_engine_rule(recorded):
    snap = copy.deepcopy(recorded.snapshot)
    snap.records["df"] = None
    assert all(im["SharedSize"] == -1 for im in snap.records["image_list"])  # as the engine sends it
    derived = frames(snap).images.set_index("image_id")
    engine = frames(recorded.snapshot).images.set_index("image_id")
    assert (derived["size_source"] == "derived").all() and (engine["size_source"] == "engine").all()
    for col in ("size", "shared_size", "unique_size", "containers"):
        assert derived[col].equals(engine[col]), col


def test_api_152_df_shape(recorded):
    snap = copy.deepcopy(recorded.snapshot)
    old = snap.records["df"]
    snap.records["df"] = {
        "ImagesDiskUsage": {"TotalSize": old["LayersSize"], "TotalCount": len(old["Images"]),
                            "Items": old["Images"]},
        "ContainersDiskUsage": {"Items": old["Containers"]},
        "VolumesDiskUsage": {"Items": old["Volumes"]},
        "BuildCacheDiskUsage": {"Items": old["BuildCache"]},
    }
    new, legacy = frames(snap), frames(recorded.snapshot)
    _frames_equal(new, legacy)
    assert new.engine_df["layers_size"] == legacy.engine_df["layers_size"] == old["LayersSize"]


def test_unreachable_daemon_is_one_line_naming_the_socket(tmp_path):
    sock = f"unix://{tmp_path}/no-engine.sock"
    with pytest.raises(EngineUnavailable) as err:
        collect(host=sock, progress=False)
    text = str(err.value)
    assert sock in text and "dockerd" in text and "\n" not in text


def test_cli_reports_missing_engine_in_one_line(tmp_path, capsys):
    from imgviz.cli import main

    sock = f"unix://{tmp_path}/none.sock"
    assert main(["images", "--engine", "--host", sock]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("imgviz: error: no Docker engine answered at " + sock) and "\n" not in err


@pytest.mark.parametrize("content, message", [
    (b"not json at all", "not a readable snapshot"),
    (b'{"format": "something-else"}', "not an imgviz snapshot"),
    (b"\x1f\x8b\x08\x00truncated", "not a readable snapshot"),
])
def test_bad_snapshot_files(tmp_path, content, message):
    path = tmp_path / "bad.json.gz"
    path.write_bytes(content)
    with pytest.raises(SnapshotError, match=message) as err:
        load(path)
    assert str(path) in str(err.value)


def test_missing_snapshot_file(tmp_path):
    with pytest.raises(SnapshotError, match="cannot read snapshot"):
        load(tmp_path / "nope.json.gz")
