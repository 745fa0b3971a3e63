"""Sizes and sharing on a real engine: every number equals `docker system df [-v]`, and the what-if
prediction equals what `docker image rm` really frees (on a private engine of its own)."""

from __future__ import annotations

import pytest

from imgviz.analysis import sizes
from imgviz.frames import frames
from imgviz.sources.engine import collect

from .._engine import EngineUnavailableForTests, start_private_engine
from .._fleet import build_fleet, cli_outputs
from . import _checks

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def live(engine, fleet):
    snap = collect(host=engine.host, progress=False)
    return frames(snap), cli_outputs(engine)


def test_live_sizes_equal_system_df(live):
    f, cli = live
    assert _checks.check_image_sizes(f, cli["system_df_v"]) == len(f.images) >= 9
    _checks.check_disk_usage(f, cli["system_df"])
    _checks.check_totals(f, cli)


def test_live_sharing(live):
    f, _ = live
    _checks.check_tree(f)
    assert _checks.check_sharing_matrix(f) == len(f.images) ** 2


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    """A private engine with the fleet, for removing images without touching the shared one."""
    try:
        eng = start_private_engine()
    except EngineUnavailableForTests as exc:
        pytest.skip(f"no private engine: {exc}")
    try:
        build_fleet(eng, tmp_path_factory.mktemp("whatif-fleet"))
        # BuildKit's cache holds references to image layers too; without it the layer store shows
        # exactly which layers images and containers keep
        eng.docker("builder", "prune", "-af")
        yield eng
    finally:
        eng.stop()


def _now(eng):
    return frames(collect(host=eng.host, progress=False))


def _layers_size(eng) -> int:
    api = eng.api()
    try:
        return int(api.df()["LayersSize"])
    finally:
        api.close()


def _tags_of(f, image_ids):
    imgs = f.images.set_index("image_id")
    out = []
    for i in image_ids:
        out.extend(imgs.at[i, "tags"] or [i])
    return out


def test_what_if_equals_real_removal(private):
    eng = private
    steps = [
        # shared only between the two removed images: their common layers go too
        (["iv/same-b:1", "iv/classic:1"], False),
        # a dangling image and the tag that replaced it
        (["iv/dangle:1", "<dangling>"], False),
        # a two-tag image whose container is removed first
        (["iv/app:v2"], True),
        # an image with a stopped container, force-removed: the container keeps the layers
        (["iv/app:v1", "iv/envonly:1"], False),
    ]
    freed_seen, held_seen = [], []
    for refs, with_containers in steps:
        f = _now(eng)
        ids = [f.images.loc[f.images["dangling"], "image_id"].iloc[0] if r == "<dangling>" else r for r in refs]
        before = _layers_size(eng)
        assert before == f.engine_df["layers_size"]
        predicted = sizes.what_if_totals(f, ids, remove_containers=with_containers)
        ids = sizes.resolve_images(f.images, ids)
        if with_containers:
            ctrs = f.containers[f.containers["image_id"].isin(ids)]["container_id"].tolist()
            assert ctrs, "this step is meant to remove a container"
            eng.docker("rm", *ctrs)
        force = ("-f",) if f.images.set_index("image_id").loc[ids, "containers"].gt(0).any() and not with_containers else ()
        eng.docker("image", "rm", *force, *_tags_of(f, ids))
        after = _layers_size(eng)
        # df's number, and the disk: freed layers are gone from the layer store, held ones stay
        assert before - after == predicted["freed_layers"] + predicted["held_by_containers"], \
            (refs, before, after, dict(predicted))
        assert after == predicted["physical_after"]
        detail = sizes.what_if(f, ids, remove_containers=with_containers)
        layerdb = eng.root / "data" / "image" / "overlay2" / "layerdb" / "sha256"
        assert layerdb.is_dir()
        for chain, freed in zip(detail["chain_id"], detail["freed"]):
            assert (layerdb / chain.split(":", 1)[1]).exists() != freed, (refs, chain, freed)
        after_f = _now(eng)
        assert not set(ids) & set(after_f.images["image_id"])
        freed_seen.append(int(predicted["freed_layers"]))
        held_seen.append(int(predicted["held_by_containers"]))
    # the third step freed nothing (a container holds the layers), the others freed bytes
    assert freed_seen[0] > 0 and freed_seen[1] > 0 and freed_seen[2] > 0 and freed_seen[3] == 0
    assert held_seen[3] > 0 and held_seen[0] == held_seen[1] == held_seen[2] == 0
    # the force-removed image's container now sits on layers the snapshot cannot name: said so
    assert sizes.what_if_totals(_now(eng), ["iv/base:1"])["unknown_containers"] == 1


def test_sizes_derived_from_a_docker_save_archive_equal_the_engine(engine, fleet, tmp_path):
    """Another source, no engine sizes: `docker save` of every image, sizes derived from the layers
    by the same rule, equal the engine's own `docker system df -v` numbers and LayersSize."""
    from imgviz.sources.archive import collect as collect_archive

    def df():
        api = engine.api()
        try:
            return api.df()
        finally:
            api.close()

    before = df()
    names = []
    for im in before["Images"]:
        tags = [t for t in (im["RepoTags"] or []) if t != "<none>:<none>"]
        names.append(tags[0] if tags else im["Id"])
    engine.docker("save", "-o", str(tmp_path / "all.tar"), *names, timeout=600)
    def by_id(d):
        return {im["Id"]: (im["Size"], im["SharedSize"]) for im in d["Images"]}

    assert by_id(df()) == by_id(before), "the engine changed while saving"
    f = frames(collect_archive(tmp_path / "all.tar", verify_layers=True))
    assert f.engine_df is None and (f.images["size_source"] == "derived").all()
    table = sizes.image_sizes(f).set_index("image_id")
    assert set(table.index) == {im["Id"] for im in before["Images"]}
    for im in before["Images"]:
        row = table.loc[im["Id"]]
        assert (row["size"], row["shared_size"], row["unique_size"]) == \
            (im["Size"], im["SharedSize"], im["Size"] - im["SharedSize"]), im["RepoTags"]
    t = sizes.totals(f)
    assert t.at["physical", "source"] == "derived" and t.at["physical", "value"] == before["LayersSize"]
    # the what-if needs no engine either: one image's freed bytes are its unique size
    lone = next(im for im in before["Images"] if im["Containers"] == 0 and im["Size"] > im["SharedSize"])
    assert sizes.what_if_totals(f, [lone["Id"]])["freed_layers"] == lone["Size"] - lone["SharedSize"]
