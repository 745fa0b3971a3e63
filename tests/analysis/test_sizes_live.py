"""Sizes and sharing on a real engine: every number equals `docker system df [-v]`, and the what-if
prediction equals what `docker image rm` really frees (on a private engine of its own)."""

from __future__ import annotations

import pytest

from imgviz.analysis import sizes
from imgviz.selection import resolve_images
from imgviz.frames import frames
from imgviz.sources.engine import collect

from .. import _compare
from .._engine import EngineUnavailableForTests, start_private_engine
from ..conftest import _no_engine, start_or_skip
from .._fleet import build_fleet, cli_outputs
from . import _checks
from .. import _podman_checks as _podman

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def live(engine, fleet):
    snap = collect(host=engine.host, progress=False)
    return frames(snap), cli_outputs(engine)


def test_live_sizes_equal_system_df(live, engine):
    f, cli = live
    if engine.kind == "podman":  # podman's own numbers, as its own CLI prints them (tests/_podman_checks.py)
        assert _podman.check_image_rows(f, _podman.podman_df_text(engine, True)) > len(f.images) >= 9
        _podman.check_summary(f, _podman.podman_df_text(engine, False))
        _podman.check_totals(f, _podman.stored_layers(engine))
        return
    assert _checks.check_image_sizes(f, cli["system_df_v"]) == len(f.images) >= _compare.fleet_images(f)
    _checks.check_disk_usage(f, cli["system_df"])
    _checks.check_totals(f, cli)


def test_live_sharing(live, engine):
    f, _ = live
    # podman's Size counts each image's config and manifest beyond its layers (its images.json)
    metadata = _podman.metadata_bytes(engine) if engine.kind == "podman" else None
    _checks.check_tree(f, metadata)
    assert _checks.check_sharing_matrix(f, metadata) == len(f.images) ** 2


@pytest.fixture(scope="module")
def private(engine_kind, tmp_path_factory):
    """A private engine with the fleet, for removing images without touching the shared one."""
    eng = start_or_skip(engine_kind)
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
    if eng.kind == "podman":  # compat LayersSize is 0: the bytes its layer store records
        return sum(_podman.stored_layers(eng).values())
    return int(eng.df()["LayersSize"])


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
    podman = eng.kind == "podman"
    for refs, with_containers in steps:
        f = _now(eng)
        ids = [f.images.loc[f.images["dangling"], "image_id"].iloc[0] if r == "<dangling>" else r for r in refs]
        before = _layers_size(eng)
        assert before == f.engine_df["layers_size"]
        ids = resolve_images(f.images, ids)
        force = f.images.set_index("image_id").loc[ids, "containers"].gt(0).any() and not with_containers
        # podman's `rmi -f` removes the image's containers too (Docker's leaves them, untagged)
        predicted = sizes.what_if_totals(f, ids, remove_containers=with_containers or (force and podman))
        if with_containers:
            ctrs = f.containers[f.containers["image_id"].isin(ids)]["container_id"].tolist()
            assert ctrs, "this step is meant to remove a container"
            eng.docker("rm", *ctrs)
        eng.docker("image", "rm", *(("-f",) if force else ()), *_tags_of(f, ids))
        after = _layers_size(eng)
        # df's number, and the disk: freed layers are gone from the layer store, held ones stay
        assert before - after == predicted["freed_layers"] + predicted["held_by_containers"], \
            (refs, before, after, dict(predicted))
        assert after == predicted["physical_after"]
        detail = sizes.what_if(f, ids, remove_containers=with_containers or (force and podman))
        if podman:
            stored = _podman.stored_chains(eng)
            for chain, freed in zip(detail["chain_id"], detail["freed"]):
                assert (chain in stored) != freed, (refs, chain, freed)
        else:
            layerdb = eng.root / "data" / "image" / "overlay2" / "layerdb" / "sha256"
            assert layerdb.is_dir()
            for chain, freed in zip(detail["chain_id"], detail["freed"]):
                assert (layerdb / chain.split(":", 1)[1]).exists() != freed, (refs, chain, freed)
        after_f = _now(eng)
        assert not set(ids) & set(after_f.images["image_id"])
        freed_seen.append(int(predicted["freed_layers"]))
        held_seen.append(int(predicted["held_by_containers"]))
    if podman:
        # the last step removed the container with the images: its layers went too
        assert all(n > 0 for n in freed_seen) and held_seen == [0, 0, 0, 0]
        assert not f.containers.empty and _now(eng).containers.empty
        return
    # the last step freed nothing (a container holds the layers), the others freed bytes
    assert freed_seen[0] > 0 and freed_seen[1] > 0 and freed_seen[2] > 0 and freed_seen[3] == 0
    assert held_seen[3] > 0 and held_seen[0] == held_seen[1] == held_seen[2] == 0
    # the force-removed image's container now sits on layers the snapshot cannot name: said so
    assert sizes.what_if_totals(_now(eng), ["iv/base:1"])["unknown_containers"] == 1


def _saved_layer_stats(tar_path):
    """diff_id -> imgviz.sources.archive.layer_stats of every layer of a `docker save` tar (the
    members its manifest.json lists: legacy layer tars or, from Docker 25, OCI layout blobs)."""
    import json
    import tarfile

    from imgviz.sources.archive import layer_stats

    out = {}
    with tarfile.open(tar_path) as t:
        for entry in json.load(t.extractfile("manifest.json")):
            for name in entry["Layers"]:
                stats = layer_stats(iter([t.extractfile(name).read()]), where=name)
                out[stats["diff_id"]] = stats
    return out


def test_sizes_derived_from_a_docker_save_archive_equal_the_engine(engine, fleet, tmp_path):
    """Another source, no engine sizes: `docker save` of every image, sizes derived from the layers.

    A derived size is what an engine reports after loading or pulling the layer
    (:func:`imgviz.sources.archive.layer_stats`). The engine that *built* a layer with BuildKit
    sized it by its tar headers instead (symlinks 0), a history the tar does not carry, so:
    every layer on this engine must be either equal to its derived size or, for a BuildKit layer
    only, equal to its header size; the fleet's images (built without such symlinks) must equal
    `docker system df -v` exactly, and LayersSize must equal the derived total less exactly those
    BuildKit symlink bytes."""
    from imgviz.sources.archive import collect as collect_archive

    before = engine.df()
    names = []
    for im in before["Images"]:
        # every name (the fleet's iv/ tags may share an image with a pushed registry name); untagged by ID
        tags = [t for t in (im["RepoTags"] or []) if t != "<none>:<none>"]
        names.extend(tags or [im["Id"]])
    engine.docker("save", "-o", str(tmp_path / "all.tar"), *names, timeout=600)

    def by_id(d):
        return {im["Id"]: (im["Size"], im["SharedSize"]) for im in d["Images"]}

    assert by_id(engine.df()) == by_id(before), "the engine changed while saving"
    f = frames(collect_archive(tmp_path / "all.tar", read_layers=True))
    assert f.engine_df is None and (f.images["size_source"] == "derived").all()
    table = sizes.image_sizes(f).set_index("image_id")
    assert set(table.index) == {im["Id"] for im in before["Images"]}

    # layer by layer: the engine's number is the load/pull rule, or (BuildKit-built) the header sum
    stats = _saved_layer_stats(tmp_path / "all.tar")
    live_layers = frames(collect(host=engine.host, progress=False)).layers.drop_duplicates("chain_id")
    assert set(live_layers["diff_id"]) <= set(stats)
    divergence, diverging_chains = 0, set()
    for row in live_layers.itertuples():
        st = stats[row.diff_id]
        if row.size != st["size"]:
            assert row.comment == "buildkit.dockerfile.v0" and row.size == st["header_size"], \
                (row.created_by, row.size, st)
            divergence += st["size"] - row.size
            diverging_chains.add(row.chain_id)
    fleet_ids = set(f.images.loc[f.images["tags"].map(lambda ts: any(t.startswith("iv/") for t in ts)),
                                 "image_id"]) | {fleet["dangling_id"]}
    assert len(fleet_ids) >= 9
    checked = 0
    for im in before["Images"]:
        if im["Id"] not in fleet_ids:
            continue
        mine = set(f.layers.loc[f.layers["image_id"] == im["Id"], "chain_id"])
        assert not mine & diverging_chains, f"the fleet is meant to hold no BuildKit symlinks: {im['RepoTags']}"
        row = table.loc[im["Id"]]
        assert (row["size"], row["shared_size"], row["unique_size"]) == \
            (im["Size"], im["SharedSize"], im["Size"] - im["SharedSize"]), im["RepoTags"]
        checked += 1
    assert checked == len(fleet_ids)
    t = sizes.totals(f)
    assert t.at["physical", "source"] == "derived"
    assert t.at["physical", "value"] - divergence == before["LayersSize"]
    # the what-if needs no engine either: one fleet image's freed bytes are its unique size
    lone = next(im for im in before["Images"] if im["Id"] in fleet_ids and im["Containers"] == 0
                and im["Size"] > im["SharedSize"])
    assert sizes.what_if_totals(f, [lone["Id"]])["freed_layers"] == lone["Size"] - lone["SharedSize"]


@pytest.fixture(scope="module")
def engines3(engine_kind):
    """Three fresh private engines: one builds, the others only load or pull (no layer held before)."""
    started = []
    try:
        for _ in range(3):
            started.append(start_private_engine(engine_kind))
    except EngineUnavailableForTests as exc:
        for eng in started:
            eng.stop()
        _no_engine(f"no private {engine_kind} engine: {exc}")
    try:
        yield started
    finally:
        for eng in started:
            eng.stop()


def _top_layer_size(eng, ref) -> int:
    api = eng.api()
    try:
        return int(api.history(ref)[0]["Size"])
    finally:
        api.close()


def _context(root, name, dockerfile, files):
    ctx = root / name
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(dockerfile)
    for rel, target in files.items():
        p = ctx / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if target.startswith("->"):
            p.symlink_to(target[2:])
        else:
            p.write_text(target)
    return ctx


def test_layer_rule_replays_the_engine_on_an_awkward_tar(engine_kind):
    """`docker import` registers a layer like load and pull do; a tar with hard links, a symlink,
    a fifo, whiteouts and implicit parent folders: the engine's size equals layer_stats' size, and
    differs from the plain header sum. (A tar naming one path twice, even as `old/` and `old`, is
    refused by the engine: "duplicates of file paths not supported".)"""
    import io
    import subprocess
    import tarfile

    from imgviz.sources.archive import layer_stats

    buf = io.BytesIO()

    def add(name, kind=tarfile.REGTYPE, data=b"", link=""):
        ti = tarfile.TarInfo(name)
        ti.type, ti.linkname, ti.mode = kind, link, 0o755 if kind == tarfile.DIRTYPE else 0o644
        ti.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(ti, io.BytesIO(data) if ti.size else None)

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        add("./", tarfile.DIRTYPE)
        add("d/", tarfile.DIRTYPE)
        add("d/a.txt", data=b"12345")
        add("d/hard", tarfile.LNKTYPE, link="d/a.txt")
        add("d/sym", tarfile.SYMTYPE, link="a.txt")
        add("dup.txt", data=b"0123456789")
        add("f2/g", data=b"g")
        add("dev", tarfile.FIFOTYPE)
        add("keep.txt", data=b"eightbyt")
        add("keep2", tarfile.LNKTYPE, link="keep.txt")
        add(".wh.gone")
        add("e/", tarfile.DIRTYPE)
        add("e/.wh..wh..opq")
    raw = buf.getvalue()
    eng = start_or_skip(engine_kind)
    try:
        proc = subprocess.run(["/usr/bin/docker", "import", "-", "ivtest-layersize/awkward:1"], input=raw,
                              env=eng.env(), capture_output=True)
        assert proc.returncode == 0, proc.stderr
        engine_size = _top_layer_size(eng, "ivtest-layersize/awkward:1")
    finally:
        eng.stop()
    st = layer_stats(iter([raw]))
    if engine_kind == "podman":
        # podman's truth: a layer is the size of its uncompressed tar as stored, not its files' bytes
        assert engine_size == len(raw) != st["size"], (engine_size, len(raw), st)
        return
    assert st["size"] == engine_size
    assert st["header_size"] != st["size"]


def test_buildkit_symlinks_diverge_until_loaded_or_pulled(engines3, registry, tmp_path):
    """The measured divergence, exactly: a BuildKit-built layer is sized on its engine by its tar
    headers (symlinks 0), so the tar-derived size is larger by the symlinks' target lengths; the
    classic builder registers its tar like a load (symlinks counted). After `docker load` or
    `docker pull` into an engine that did not hold the layers, the engine reports exactly the
    derived sizes, image by image and in total."""
    from imgviz.sources.archive import collect as collect_archive

    builder, loader, puller = engines3
    builder.busybox_base("bb:base")
    cases = {  # tag -> (buildkit, symlink target bytes the engine that built it leaves out)
        "ivtest-layersize/bk-copy:1": (True, len("x.txt")),
        "ivtest-layersize/bk-run:1": (True, len("abcdefghij")),
        "ivtest-layersize/cl-copy:1": (False, 0),
        "ivtest-layersize/cl-run:1": (False, 0),
    }
    copy_df, run_df = "FROM bb:base\nCOPY tree /tree\n", "FROM bb:base\nRUN ln -s abcdefghij /r && echo WHO > /h\n"
    for tag, (buildkit, _) in cases.items():
        name = tag.split("/")[1].split(":")[0]
        # each build has its own file contents, so no two builds produce the same layer
        files = {"tree/x.txt": name[:2], "tree/link": "->x.txt"} if "copy" in tag else {}
        builder.build(_context(tmp_path, name, copy_df if "copy" in tag else run_df.replace("WHO", name), files),
                      tag, buildkit=buildkit)
    tar = tmp_path / "built.tar"
    builder.docker("save", "-o", str(tar), *cases)
    stats = _saved_layer_stats(tar)
    built_df = builder.df()
    for tag, (_, left_out) in cases.items():
        engine_size = _top_layer_size(builder, tag)
        top = builder.docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", tag).stdout
        st = stats[__import__("json").loads(top)[-1]]
        assert st["size"] - engine_size == left_out, (tag, st, engine_size)
        if left_out:
            assert engine_size == st["header_size"], tag
    # loading the same tar back into the engine that built it: the layers exist, sizes stay
    builder.docker("load", "-i", str(tar))
    assert builder.df()["LayersSize"] == built_df["LayersSize"]
    assert _top_layer_size(builder, "ivtest-layersize/bk-copy:1") == 2

    derived = frames(collect_archive(tar, read_layers=True))
    want = sizes.image_sizes(derived).set_index("image_id")
    physical = sizes.totals(derived).at["physical", "value"]
    for tag in cases:
        builder.docker("tag", tag, registry.ref(tag))
        builder.docker("push", registry.ref(tag))
    loader.docker("load", "-i", str(tar))
    for tag in cases:
        puller.docker("pull", registry.ref(tag))
    for eng in (loader, puller):
        df = eng.df()
        assert {im["Id"] for im in df["Images"]} == set(want.index)
        for im in df["Images"]:
            row = want.loc[im["Id"]]
            assert (row["size"], row["shared_size"]) == (im["Size"], im["SharedSize"]), im["RepoTags"]
        assert df["LayersSize"] == physical
    assert physical - built_df["LayersSize"] == sum(left for _, left in cases.values())


def _ctr(eng, *args: str) -> str:
    import subprocess

    from .._engine import D28

    sock = eng.root / "x" / "containerd" / "containerd.sock"
    proc = subprocess.run([str(D28 / "usr/bin/ctr"), "--address", str(sock), "-n", "moby", "snapshots",
                           "--snapshotter", "overlayfs", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _usage_bytes(text: str) -> int:
    """``ctr snapshots usage KEY``'s size: printed with one decimal (``28.0 KiB``), exact for a
    512-byte multiple below 1 MiB (what an init snapshot is); a larger one is refused."""
    _key, number, unit, *_ = text.splitlines()[1].split()
    factor = {"B": 1, "KiB": 1024}[unit]
    value = float(number) * factor
    assert value == int(value) and int(value) % 512 == 0, text
    return int(value)


def test_unpacked_size_walks_snapshot_parents_to_the_classic_builders_init_snapshot(live, engine):
    """containerd store: ``unpacked_size`` (``?manifests=1`` Unpacked) is the usage of the image's top
    snapshot and every parent by the snapshotter's own links (moby ``calculateSnapshotTotalUsage``);
    ``size_of_layers`` sums the snapshots of its chain IDs (the history). The walk holds exactly those
    chain IDs plus, under each layer the classic builder made by running a container (RUN), that
    container's ``<id>-init`` snapshot (moby ``applyDiffLayer`` parents the layer there); the
    difference is those init snapshots' usage, byte for byte (``ctr``, containerd's own client)."""
    import re

    f, _ = live
    if engine.kind != "docker28-containerd":
        pytest.skip("the containerd image store's snapshots: no other engine kind has them")
    if engine.root is None:
        pytest.skip("a handed-over engine: its containerd socket is not known here")
    parent = {}
    for line in _ctr(engine, "ls").splitlines()[1:]:
        cols = line.split()
        if cols:
            parent[cols[0]] = cols[1] if len(cols) == 3 else None
    with_init = set()
    for img in f.images.itertuples(index=False):
        mine = f.layers[f.layers["image_id"] == img.image_id].sort_values("position")
        if mine.empty:
            continue
        walk, key = [], mine["chain_id"].iloc[-1]
        while key is not None:
            walk.append(key)
            key = parent[key]
        extra = [k for k in walk if k not in set(mine["chain_id"])]
        assert set(mine["chain_id"]) <= set(walk), img.tags
        assert all(re.fullmatch(r"[0-9a-f]{64}-init", k) for k in extra), (img.tags, extra)
        classic_run = ((mine["instruction"] == "RUN") & (mine["comment"].fillna("") != "buildkit.dockerfile.v0"))
        # one init snapshot per classic RUN layer on a fresh fleet; CI's session engine showed an image
        # (untagged, of another test) with two under one classic RUN: the count is then at least that
        assert len(extra) >= int(classic_run.sum()), (img.tags, extra)
        if not (mine["comment"].fillna("") != "buildkit.dockerfile.v0").iloc[1:].any():
            assert not extra, (img.tags, extra)  # BuildKit's layers (on an imported base) have none
        hidden = sum(_usage_bytes(_ctr(engine, "usage", k)) for k in extra)
        assert img.unpacked_size == img.size_of_layers + hidden, (img.tags, img.unpacked_size, img.size_of_layers,
                                                                  hidden)
        assert img.size == img.content_size + img.unpacked_size
        if extra:
            with_init.update(img.tags)
    # the fleet's iv/classic:1 (a classic RUN) and iv/same-b:1 (built on it); other tests of the
    # session may have built more
    assert {"iv/classic:1", "iv/same-b:1"} <= with_init and not {"iv/base:1", "iv/app:v1"} & with_init


@pytest.mark.parametrize("kind", ["docker20", "docker28", "docker28-containerd"])
def test_shared_size_counts_intermediate_images_where_the_engine_does(kind, tmp_path):
    """The classic builder keeps an image per step; `docker image ls` hides those with children.
    A COPY followed by CMD leaves an intermediate image holding the same layers as the final one.
    Docker 28's graph driver counts it as a user of the COPY layer (SHARED SIZE = the whole image);
    20.10 and the containerd store count only listed images (the COPY layer is unique). imgviz's
    rule (sizes.hidden_layer_holders) gives the engine's number on each, and the size views say why."""
    from imgviz.analysis.size_views import size_views
    from imgviz.units import human_size as _mb

    eng = start_or_skip(kind)
    try:
        eng.busybox_base()
        (tmp_path / "f.txt").write_bytes(b"x" * 5000)
        (tmp_path / "Dockerfile").write_text('FROM imgviz-test/busybox:base\nCOPY f.txt /f.txt\nCMD ["cat", "/f.txt"]\n')
        eng.build(tmp_path, "ivtest-hidden/app:1", buildkit=False)
        every = set(eng.docker("image", "ls", "-a", "-q", "--no-trunc").stdout.split())
        f = frames(collect(host=eng.host, progress=False, cache=False))
    finally:
        eng.stop()
    listed = set(f.images["image_id"])
    assert every > listed  # the classic builder's intermediate images are there, hidden
    assert set(f.intermediates["image_id"]) == every - listed
    app = resolve_images(f.images, ["ivtest-hidden/app:1"])[0]
    hidden = sizes.hidden_layer_holders(f)
    derived = sizes.per_image_sizes(f.layers, hidden).set_index("image_id")
    for image_id in listed:
        assert int(derived.at[image_id, "shared_size"]) == f.engine_df["images"][image_id]["SharedSize"], image_id
    mine = f.layers[f.layers["image_id"] == app].sort_values("position")
    size, copy = int(mine["size"].sum()), int(mine["size"].iloc[-1])
    # the file's bytes; the containerd store's snapshot disk usage (4 KiB blocks): 12288
    assert copy == (12288 if kind == "docker28-containerd" else 5000)
    shared = f.engine_df["images"][app]["SharedSize"]
    why = size_views(f).set_index("image_id").at[app, "explanation"]
    if kind == "docker28":
        assert shared == size and not hidden.empty
        assert f"{_mb(copy)} of it held besides only by intermediate images" in why, why
    else:
        assert shared == size - copy and hidden.empty
        assert "intermediate" not in why, why
