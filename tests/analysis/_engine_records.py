"""Recorded engine snapshots with the engine-model answers phase 1 recorded beside them.

tests/data/<kind>/snapshot.json.gz (the fleet) and api.json (``/version``, ``/info``,
``/images/json?manifests=1``, ``/system/df``) were recorded from the same engine in the same run
(tests/_fleet.py ``record``); the snapshot predates imgviz reading /info, so the model's answers
are taken from api.json, as a collection today records them (records ``info``, ``image_manifests``).
"""

from __future__ import annotations

import json
from pathlib import Path

from imgviz.snapshot import Snapshot
from imgviz.sources._open import load

DATA = Path(__file__).resolve().parent.parent / "data"
RECORDED_KINDS = ("docker28", "docker28-containerd", "podman")


def snapshot_with_model(kind: str) -> Snapshot:
    snap = load(DATA / kind / "snapshot.json.gz")
    api = json.loads((DATA / kind / "api.json").read_text())
    assert api["version"] == snap.records["version"], "api.json and the snapshot come from one engine"
    snap.records["info"] = api["info"]
    if kind == "docker28-containerd":
        snap.records["image_manifests"] = api["images_manifests"]
    return snap
