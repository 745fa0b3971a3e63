"""The embedded demo snapshot equals what the docker CLI printed for the demo fleet at recording."""

import json
from pathlib import Path

import pytest

import imgviz

from .. import _compare

CLI = json.loads((Path(__file__).resolve().parents[1] / "data" / "demo" / "cli.json").read_text())


@pytest.fixture(scope="module")
def f():
    return imgviz.demo()


def test_demo_df_v(f):
    assert _compare.check_df_images(f, CLI["system_df_v"]) == len(f.images) == 11
    _compare.check_df_summary(f, CLI["system_df"])
    _compare.check_derived_sizes_equal_engine(f)


def test_demo_image_ls_and_history(f):
    _compare.check_image_ls(f, CLI["image_ls"])
    keys = [k for k in CLI if k.startswith("history ")]
    assert sum(_compare.check_history(f, k.split(" ", 1)[1], CLI[k]) for k in keys) == len(f.history)


def test_demo_containers(f):
    assert _compare.check_containers(f, CLI["ps_size"]) == 5


def test_demo_is_the_textbook_case(f):
    # reported sizes add up to far more than the distinct layers the disk holds
    reported = int(f.images["size"].sum())
    physical = f.engine_df["layers_size"]
    assert reported > 5 * physical
