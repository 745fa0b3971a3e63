"""The second embedded demo: the demo fleet recorded on Docker 28.5 with the containerd image store
(tests/demo/record.py), equal to what that engine's own 28.5 client printed for it at recording
(tests/data/demo-containerd/cli.json), and explained by the containerd size model."""

import json
from pathlib import Path

import pytest

import imgviz
from imgviz.analysis.size_views import size_views
from imgviz.errors import ImgvizError
from imgviz.snapshot import Snapshot
from imgviz.sources import DEMOS, load
from imgviz.sources.engine_model import model_of_frames
from imgviz.units import human_size

from .. import _compare

CLI = json.loads((Path(__file__).resolve().parents[1] / "data" / "demo-containerd" / "cli.json").read_text())
PATH = DEMOS["containerd"][0]


@pytest.fixture(scope="module")
def f():
    return imgviz.demo("containerd")


def test_it_ships_small_and_replays_exactly():
    assert PATH.is_file() and PATH.stat().st_size < 64_000
    raw = Snapshot.read(PATH)
    replayed = load(PATH)  # through engine.collect, answered from the recorded responses
    assert replayed.complete and raw.complete
    assert replayed.records == raw.records
    assert replayed.source["engine_version"].startswith("28.5") and replayed.source["api_version"] == "1.51"


def test_names_and_the_default_stay_as_they_were():
    snap, where = imgviz.open("demo:containerd")
    assert where == "embedded demo snapshot 'containerd' (Docker 28.5, containerd image store)"
    assert snap.records == imgviz.demo_snapshot("containerd").records
    default, where = imgviz.open("demo")
    assert where == "embedded demo snapshot"
    assert default.records == imgviz.open("demo:overlay2").snapshot.records == imgviz.demo_snapshot().records
    assert imgviz.demo() is imgviz.demo("overlay2")
    with pytest.raises(ImgvizError, match=r"^no embedded demo 'zfs' \(have: overlay2, containerd\)$"):
        imgviz.open("demo:zfs")


def test_engine_model_is_the_containerd_store(f):
    m = model_of_frames(f)
    assert (m.storage, m.driver, m.api_version) == ("containerd", "overlayfs", "1.51")
    assert m.has_manifests_listing and f.snapshot.records.get("image_manifests")


def test_image_ls_history_and_ps_equal_the_28_5_client(f):
    # the same fleet as the 20.10 demo: 11 images, 12 tags and the classic builder's dangling image
    assert _compare.check_image_ls(f, CLI["image_ls"]) == len(f.images) + 2 == 13
    # (cli.json also holds the history of the classic builder's intermediate images, image ls -a)
    keys = [f"history {image_id}" for image_id in f.images["image_id"]]
    assert sum(_compare.check_history(f, k.split(" ", 1)[1], CLI[k]) for k in keys) == len(f.history)
    assert _compare.check_containers(f, CLI["ps_size"]) == 5


def test_system_df_v_equals_the_28_5_client(f):
    # (the 28.5 client prints SIZE with 3 significant digits, SHARED and UNIQUE with 4)
    assert _compare.check_df_images(f, CLI["system_df_v"]) == len(f.images) == 11
    images = {r["TYPE"]: r for r in _compare.parse_table(CLI["system_df"], "TYPE")}["Images"]
    assert int(images["TOTAL"]) == len(f.images)
    assert images["SIZE"] == human_size(f.engine_df["layers_size"])  # 4 digits here


def test_sizes_follow_the_containerd_rule_and_differ_from_overlay2(f):
    v = size_views(f)
    assert (v["storage"] == "containerd").all() and v["rule_holds"].all()
    assert (v["image_ls_size"] == v["content_size"] + v["unpacked_size"] + v["attestation_size"]).all()
    assert (v["inspect_size"] == v["index_size"] + v["content_size"]).all()
    assert (v["image_ls_size"] > v["inspect_size"]).all()
    old = size_views(imgviz.demo())
    assert (old["storage"] == "graphdriver").all() and old["rule_holds"].all()
    assert (old["image_ls_size"] == old["inspect_size"]).all()
    # the same images by name on both engines (and one dangling image each, by its own ID)
    tagged = {lab for lab in v["label"] if not lab.startswith("<none>")}
    assert len(v) == len(old) == 11 and tagged == {lab for lab in old["label"] if not lab.startswith("<none>")}


def test_cli_sizes_explains_the_containerd_model(capsys):
    from imgviz.cli import main

    assert main(["sizes", "--demo", "containerd"]) == 0
    out = capsys.readouterr().out
    assert "containerd image store" in out and "unpacked snapshots" in out
    # its df -v table is the one the 28.5 client printed for the fleet, row for row
    cols = ("IMAGE ID", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS")
    rows = {tuple(r[c] for c in cols) for r in _compare.parse_table(out, "REPOSITORY")}
    assert rows == {tuple(r[c] for c in cols) for r in _compare.parse_table(CLI["system_df_v"], "REPOSITORY")}
    assert main(["sizes", "--json", "--demo", "containerd"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["engine"]["storage"] == "containerd"
    assert all(r["rule_holds"] for r in doc["size_views"]) and len(doc["size_views"]) == 11
    assert main(["sizes", "--json", "--demo"]) == 0  # a bare --demo is still the 20.10 recording
    assert {r["storage"] for r in json.loads(capsys.readouterr().out)["size_views"]} == {"graphdriver"}


def test_demo_flag_before_an_image_still_means_the_default_demo(capsys):
    from imgviz.cli import main

    assert main(["history", "--demo", "workshop/node:18"]) == 0
    assert "apt-get install" in capsys.readouterr().out
    assert main(["history", "--demo", "containerd", "workshop/node:18", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    with pytest.raises(SystemExit):
        main(["sizes", "--demo=zfs"])
    assert "no embedded demo 'zfs'" in capsys.readouterr().err
