"""The engine source against a real dockerd: frames equal what the docker CLI prints, faults hold."""

from __future__ import annotations

import warnings

import pytest

from imgviz.frames import frames
from imgviz.sources.engine import CollectionWarning, collect, connect

from .. import _compare
from .. import _podman_checks as _podman
from .._engine import start_private_engine
from .._fleet import cli_outputs

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def live(engine, fleet):
    snap = collect(host=engine.host, progress=False)
    cli = cli_outputs(engine)
    return frames(snap), cli


def test_live_frames_equal_cli(live, engine):
    f, cli = live
    assert f.source["engine_version"] and f.source["api_version"]
    if engine.kind == "podman":
        # podman's df numbers as its own CLI prints them (its compat /system/df is not Docker's),
        # and its sizes derived again: layers + the config and manifest bytes it counts
        assert _podman.check_image_rows(f, _podman.podman_df_text(engine, True)) > len(f.images) >= 9
        _podman.check_summary(f, _podman.podman_df_text(engine, False))
        _podman.check_sizes_derived(f, engine)
    else:
        n = _compare.check_df_images(f, cli["system_df_v"])
        assert n == len(f.images) >= _compare.fleet_images(f)
        _compare.check_df_summary(f, cli["system_df"])
        _compare.check_derived_sizes_equal_engine(f)
    _compare.check_image_ls(f, cli["image_ls"])
    _compare.check_image_ls(f, cli["image_ls_w"], "iv/a*", whole_images=engine.kind == "podman")
    _compare.check_containers(f, cli["ps_size"])
    for key in (k for k in cli if k.startswith("history ")):
        _compare.check_history(f, key.split(" ", 1)[1], cli[key])
        if engine.kind == "podman":  # and as podman's own CLI prints it
            image_id = key.split(" ", 1)[1]
            _podman.check_history(f, image_id, _podman.podman_history(engine, image_id))


def test_live_dangling_and_second_tag(live, fleet, engine):
    f, _ = live
    imgs = f.images.set_index("image_id")
    if engine.kind == "docker28-containerd":
        # the containerd store deletes the image a rebuild took the tag from (nothing dangles):
        # the engine lists no such image, and imgviz shows none either
        listed = set(engine.docker("image", "ls", "-a", "-q", "--no-trunc").stdout.split())
        assert fleet["dangling_id"] not in listed and fleet["dangling_id"] not in imgs.index
        now = engine.docker("image", "inspect", "--format", "{{.Id}}", "iv/dangle:1").stdout.strip()
        assert now != fleet["dangling_id"] and "iv/dangle:1" in imgs.at[now, "tags"]
        assert not imgs.at[now, "dangling"]
    else:
        assert imgs.at[fleet["dangling_id"], "dangling"]
    two = imgs[imgs["tags"].apply(lambda t: "iv/app:v2" in t)].iloc[0]
    assert set(two["tags"]) >= {"iv/app:v2", "iv/app:latest"}


def test_image_removed_between_list_and_inspect(engine, fleet, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM iv/base:1\nRUN echo doomed > /d\n")
    engine.build(tmp_path, "iv/doomed:1")
    doomed = engine.docker("image", "inspect", "--format", "{{.Id}}", "iv/doomed:1").stdout.strip()
    api = connect(engine.host)

    class RemovesOne:
        """The real client; the image is really removed from the engine right after the list."""

        def __getattr__(self, name):
            return getattr(api, name)

        def images(self):
            listed = api.images()
            engine.docker("image", "rm", "iv/doomed:1")
            return listed

    with pytest.warns(CollectionWarning, match="removed during collection"):
        snap = collect(RemovesOne(), host=engine.host, progress=False, workers=1)
    assert [s["id"] for s in snap.skipped] == [doomed], snap.skipped  # (a failure shows why)
    assert snap.complete
    f = frames(snap)
    left = set(engine.docker("image", "ls", "-q", "--no-trunc").stdout.split())
    # every image the engine still holds, and only those (the containerd store keeps no dangling
    # image, so the fleet is 8 there and 9 elsewhere)
    assert doomed not in set(f.images["image_id"]) and set(f.images["image_id"]) == left and len(left) >= 8


def test_engine_stopping_mid_collection_keeps_what_was_collected(engine_kind):
    eng = start_private_engine(engine_kind)
    try:
        for i in range(4):
            eng.busybox_base(f"iv/stop{i}:1") if i == 0 else eng.docker("tag", "iv/stop0:1", f"iv/stop{i}:1")
        ctx_dir = eng.root / "ctx"
        ctx_dir.mkdir()
        for i in range(3):
            (ctx_dir / "Dockerfile").write_text(f"FROM iv/stop0:1\nRUN echo {i} > /n\n")
            eng.build(ctx_dir, f"iv/stopped{i}:1")
        api = connect(eng.host)
        calls = {"n": 0}

        class DiesAfterTwo:
            def __getattr__(self, name):
                return getattr(api, name)

            def history(self, image_id):
                calls["n"] += 1
                if calls["n"] == 3:
                    eng.stop()  # the real daemon goes away here
                return api.history(image_id)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            snap = collect(DiesAfterTwo(), host=eng.host, progress=False, workers=1)
        assert any("stopped answering" in str(w.message) for w in caught)
        assert not snap.complete
        assert len(snap.images) == 2
        assert len(frames(snap).images) == 2
    finally:
        eng.stop()
