"""The analyses on the embedded demo snapshot (a realistic Debian-based fleet) equal the docker CLI's
outputs recorded with it: the textbook 73 MB base shared by eleven images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import imgviz
from imgviz.analysis import sizes

from . import _checks

CLI = json.loads((Path(__file__).resolve().parents[1] / "data" / "demo" / "cli.json").read_text())


@pytest.fixture(scope="module")
def f():
    return imgviz.demo()


def test_demo_sizes_and_df(f):
    assert _checks.check_image_sizes(f, CLI["system_df_v"]) == len(f.images)
    _checks.check_disk_usage(f, CLI["system_df"])
    t = _checks.check_totals(f, CLI)
    assert t["reported"] > 5 * t["physical"]


def test_demo_sharing(f):
    _checks.check_tree(f)
    assert _checks.check_sharing_matrix(f) == len(f.images) ** 2


def test_demo_what_if_single_images(f):
    for rec in f.images.itertuples():
        raw = f.engine_df["images"][rec.image_id]
        w = sizes.what_if_totals(f, [rec.image_id])
        if raw["Containers"] == 0:
            assert w["freed_layers"] == raw["Size"] - raw["SharedSize"]


def test_demo_repositories_and_shared_layers(f):
    """The demo's web-ping tags cost 2.7 kB of their own; its 73 MB base is stored once for 11 images."""
    from imgviz.analysis import sharing

    from .._compare import json_lines

    repos = sizes.repository_sizes(f).set_index("repository")
    assert tuple(repos.loc["workshop/web-ping"]) == (4, 5, 5, 687881005, 171971579, 2729)
    ls = json_lines(CLI["image_ls"])
    assert set(repos.index) == {r["Repository"] for r in ls}
    shared = sharing.shared_layers(f)
    base = shared.iloc[0]
    assert (int(base["size"]), int(base["n_images"]), base["instruction"]) == (73087998, 11, "IMPORT")
    assert len(f.images) == 11 and int(base["saved_by_sharing"]) == 10 * 73087998
    t = sizes.totals(f)["value"]
    assert int(shared["saved_by_sharing"].sum()) == t["saved_by_sharing"] == 1269145722
