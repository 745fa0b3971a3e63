"""podman's own numbers, replayed: the fleet recorded on podman 4.3 (tests/data/podman-df, made by
``python -m tests._podman_checks tests/data/podman-df``) with its libpod df and layer records, and
what podman's CLI and store said in the same run (podman.json). No engine needed.

The live tests (tests/analysis/test_sizes_live.py, tests/sources/test_engine_live.py on podman)
prove the same against a running podman; these keep the rules honest without one.
"""

from __future__ import annotations

import json

import pytest

from imgviz.analysis import sizes
from imgviz.frames import frames
from imgviz.sources._open import load
from imgviz.sources._replay import ReplayClient
from imgviz.sources.engine import collect

from .. import _podman_checks as P
from ..conftest import DATA
from . import _checks

REC = DATA / "podman-df"


@pytest.fixture(scope="module")
def recorded():
    return frames(load(REC / "snapshot.json.gz")), json.loads((REC / "podman.json").read_text())


def test_df_rows_and_lines_equal_podman_system_df(recorded):
    f, truth = recorded
    assert P.check_image_rows(f, truth["podman system df -v"]) > len(f.images) >= 9
    P.check_summary(f, truth["podman system df"])
    P.check_totals(f, truth["stored_layers"])


def test_sizes_are_layers_plus_what_podman_keeps_beside_them(recorded):
    f, truth = recorded
    meta = truth["metadata_bytes"]
    _checks.check_tree(f, meta)
    assert _checks.check_sharing_matrix(f, meta) == len(f.images) ** 2
    # the compat answers are kept too (a replay gives what the engine said), but not used for df
    compat = f.snapshot.records["df"]
    assert compat["LayersSize"] == 0 and f.engine_df["model"] == "podman"


def test_history_equals_podman_history(recorded):
    f, truth = recorded
    assert sum(P.check_history(f, i, text) for i, text in truth["history"].items()) >= len(f.images)
    # podman names an image one row lower than Docker: the newest entry of iv/app:v1 is not its own ID
    app = f.images.loc[f.images["tags"].map(lambda t: "iv/app:v1" in t), "image_id"].iloc[0]
    newest = f.history[f.history["image_id"] == app].sort_values("index")["entry_id"].iloc[-1]
    assert newest != app and not newest.startswith("sha256:")


def test_replay_gives_the_same_frames(recorded):
    f, _ = recorded
    again = frames(collect(ReplayClient(f.snapshot), host="unix:///recorded/podman.sock", progress=False))
    assert again.engine_df["lines"] == f.engine_df["lines"]
    assert again.engine_df["layers_size"] == f.engine_df["layers_size"] is not None
    assert again.images[["image_id", "size", "shared_size", "unique_size"]].equals(
        f.images[["image_id", "size", "shared_size", "unique_size"]])


def test_unknown_when_the_layer_store_is_not_readable(recorded):
    f, _ = recorded
    snap = load(REC / "snapshot.json.gz")
    snap.records["podman_storage"] = None  # a remote podman, or a store we may not read
    g = frames(snap)
    t = sizes.totals(g)
    assert t.at["physical", "value"] is pd_na() and t.at["physical", "source"] == "unknown"
    assert "unknown" in t.at["physical", "meaning"]
    assert sizes.what_if_totals(g, ["iv/dangle:1"])["physical_after"] is pd_na()
    # podman's own lines stay what podman says
    assert sizes.disk_usage(g).equals(sizes.disk_usage(f))


def pd_na():
    import pandas as pd

    return pd.NA


def test_without_podmans_own_df_the_compat_layers_size_is_not_taken(recorded):
    """A podman recording made before imgviz read the libpod df (or a podman without it): the compat
    df's LayersSize 0 is not shown as the bytes stored; its per-image numbers are podman's own (equal
    to the libpod df's, image for image), and the bytes stored are derived from the layers, said so."""
    f, _ = recorded
    snap = load(REC / "snapshot.json.gz")
    del snap.records["podman_df"], snap.records["podman_storage"]
    g = frames(snap)
    compat = snap.records["df"]
    assert compat["LayersSize"] == 0
    libpod = f.engine_df["images"]
    assert all((im["Size"], im["SharedSize"]) == (libpod["sha256:" + im["Id"]]["Size"],
                                                  libpod["sha256:" + im["Id"]]["SharedSize"])
               for im in compat["Images"])
    assert g.images[["image_id", "size", "shared_size", "unique_size"]].equals(
        f.images[["image_id", "size", "shared_size", "unique_size"]])
    du = sizes.disk_usage(g)
    assert du.at["Images", "source"] == "derived" and du.at["Images", "size"] == f.engine_df["layers_size"] > 0
    t = sizes.totals(g)
    assert t.at["physical", "source"] == "derived" and t.at["physical", "value"] == f.engine_df["layers_size"]


#: what podman 4.3.1 answered (500) to its own df right after an image was removed: a CI run's
#: warning (2026-12-03), as far as the collection's one-line reason printed it
_REMOVED_WHILE_COUNTED = ('Image ccfc663802eb exists in local storage but may be corrupted (remove the image '
                          'to resolve the issue): reading image "ccfc663802eb87372ad99d220e3f5c0f7fee29ba67029ac4'
                          '5d5f7ca7b919dd36": locating imag')


class _ForgetsFirst:
    """The recorded podman, whose own df first answers ``times`` times as podman does while an
    image it counts is being removed."""

    def __init__(self, times: int, message: str = _REMOVED_WHILE_COUNTED):
        self.replay = ReplayClient(load(REC / "snapshot.json.gz"))
        self.times, self.message, self.asked = times, message, 0

    def podman_df(self):
        self.asked += 1
        if self.asked <= self.times:
            raise RuntimeError(f"the engine answered 500: {self.message}")
        return self.replay.podman_df()


@pytest.mark.parametrize("times", [1, 4])
def test_own_df_is_asked_again_while_an_image_is_removed(times):
    from imgviz.sources import podman
    from imgviz.sources.engine import _call

    api = _ForgetsFirst(times)
    assert podman.own_df(api, _call) == api.replay.podman_df() and api.asked == times + 1


def test_own_df_gives_up_on_a_lasting_answer_and_on_any_other():
    from imgviz.sources import podman
    from imgviz.sources.engine import _call, _Lost

    lasting = _ForgetsFirst(99)
    with pytest.raises(_Lost, match="may be corrupted"):
        podman.own_df(lasting, _call)
    assert lasting.asked == 5  # 0.2 + 0.4 + 0.8 + 1.6 s of asking again, then the error stands
    other = _ForgetsFirst(99, "no space left on device")
    with pytest.raises(_Lost, match="no space left"):
        podman.own_df(other, _call)
    assert other.asked == 1
