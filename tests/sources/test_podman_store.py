"""podman's image records read from its storage equal its compat API's answers, record for record.

On a recording of a real podman 4.3.1's storage (tests/data/podman/store.json.gz: every file
:mod:`imgviz.sources.podman_store` reads, and podman's answers for every image it held) and live, on
a private podman with the fleet of tests/_podman_store.py; the whole collection that reads the
store (and asks no /version or /info) equals the one that asks the API for everything; a store that
cannot be read, or is held by a writer, leaves the collection to the API.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest

from imgviz.frames import frames
from imgviz.sources import podman_store as PS
from imgviz.sources.engine import collect, connect

from .. import _podman_store as rec_store
from ..conftest import start_or_skip

RECORDING = Path(__file__).resolve().parents[1] / "data" / "podman" / "store.json.gz"
#: what only one of the two routes records (the rest must be equal)
ROUTE_KEYS = {"version", "info", "ping", "podman_store"}


def _every_image(raw: dict, answers: dict) -> int:
    """Assert inspect and history of every image the store holds (intermediate ones too) equal
    podman's answers; returns how many images were compared."""
    store = PS.Store(raw)
    n = 0
    for im in raw["images"]:
        iid = "sha256:" + im["id"]
        assert store.covered(iid), iid
        assert store.inspect(im) == answers["inspect"][iid], iid
        assert store.history(im) == answers["history"][iid], iid
        n += 1
    return n


@pytest.fixture(scope="module")
def recording():
    return rec_store.load(RECORDING)


def test_recorded_store_equals_podmans_answers(recording, tmp_path):
    root = rec_store.lay_out(recording, tmp_path / "storage")
    answers = rec_store.answers_at(recording, root)
    raw = PS.read_store(root, recording["driver"])
    got = PS.compat_records(raw)
    assert got["uncovered"] == []
    assert got["image_list"] == answers["image_list"]  # the list, in podman's order
    listed = {im["Id"] for im in answers["image_list"]}
    assert set(got["images"]) == listed
    assert _every_image(raw, answers) > len(listed)  # intermediate images compared too
    # what the recording holds that the rules must get right
    inspects = answers["inspect"].values()
    assert any(i["Config"].get("ExposedPorts") and i["Config"].get("Volumes") and i["Config"].get("StopSignal")
               for i in inspects)
    assert any(any(":" in d.split("/")[0] for d in i["RepoDigests"]) for i in inspects)  # pulled from a registry
    assert any(len(i["RepoTags"]) > 1 for i in inspects)
    assert any(im.get("Dangling") for im in answers["image_list"])
    assert any(i["Parent"] for i in inspects) and any(i["GraphDriver"]["Data"].get("LowerDir") for i in inspects)
    assert any(h["Id"] not in ("<missing>",) for hs in answers["history"].values() for h in hs[1:])


def test_unreadable_stores_say_what_and_where(recording, tmp_path):
    root = Path(rec_store.lay_out(recording, tmp_path / "storage"))
    driver = recording["driver"]
    with pytest.raises(PS.StoreUnreadable, match="only 'overlay' is read"):
        PS.read_store(str(root), "vfs")
    images_json = root / f"{driver}-images" / "images.json"
    text = images_json.read_text()
    images_json.write_text(text[: len(text) // 2])
    with pytest.raises(PS.StoreUnreadable, match="images.json: not JSON"):
        PS.read_store(str(root), driver)
    images_json.write_text(text)
    some = json.loads(text)[0]["id"]
    config = root / f"{driver}-images" / some / PS._big_data_file(f"sha256:{some}")
    config.unlink()
    with pytest.raises(PS.StoreUnreadable, match=f"image {some[:12]}: sha256:"):
        PS.read_store(str(root), driver)
    with pytest.raises(PS.StoreUnreadable, match="no podman storage here"):
        PS.read_store(str(tmp_path / "nothing"), driver)


def test_malformed_records_are_one_line_naming_the_image(recording, tmp_path):
    root = rec_store.lay_out(recording, tmp_path / "storage")
    for field, bad in (("created", "yesterday"), ("big-data-sizes", {"manifest": "big"}), ("names", 7)):
        raw = PS.read_store(root, recording["driver"])
        first = next(im for im in raw["images"] if im.get("names"))
        first[field] = bad
        with pytest.raises(PS.StoreUnreadable, match=rf"^image sha256:{first['id'][:12]}: malformed record \("):
            PS.compat_records(raw)


def test_an_image_the_rules_do_not_cover_is_left_to_the_api(recording, tmp_path):
    root = rec_store.lay_out(recording, tmp_path / "storage")
    raw = PS.read_store(root, recording["driver"])
    # a manifest list podman keeps has no top layer and no config of its own
    raw["images"].append({"id": "ab" * 32, "names": ["localhost/list:1"], "big-data-names": ["manifest"]})
    got = PS.compat_records(raw)
    assert got["uncovered"] == ["sha256:" + "ab" * 32]
    assert len(got["image_list"]) == len(recording["answers"]["image_list"])


def test_a_writer_holding_the_store_is_waited_for_a_bounded_time(recording, tmp_path, monkeypatch):
    root = Path(rec_store.lay_out(recording, tmp_path / "storage"))
    lock = root / f"{recording['driver']}-images" / "images.lock"
    # another process's exclusive fcntl lock, as containers/storage's writers take it
    fd = os.open(lock, os.O_RDWR)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only holds the lock
        fcntl.lockf(fd, fcntl.LOCK_EX)
        time.sleep(2)
        os._exit(0)
    try:
        time.sleep(0.3)
        monkeypatch.setattr(PS, "_LOCK_WAIT", 0.2)
        t0 = time.monotonic()
        with pytest.raises(PS.StoreUnreadable, match="locked by a writer"):
            PS.read_store(str(root), recording["driver"])
        assert time.monotonic() - t0 < 1.5
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    assert PS.read_store(str(root), recording["driver"])["images"]  # the writer is gone: read


# ------------------------------------------------------------------------------------------- live

@pytest.fixture(scope="module")
def podman(registry, tmp_path_factory):
    eng = start_or_skip("podman")
    try:
        rec_store.build(eng, registry, tmp_path_factory.mktemp("podman-store"))
        yield eng
    finally:
        eng.stop()


def _api_route(host: str, monkeypatch) -> "object":
    monkeypatch.setenv("IMGVIZ_PODMAN_STORE", "0")
    try:
        return collect(host=host, progress=False, cache=False)
    finally:
        monkeypatch.delenv("IMGVIZ_PODMAN_STORE")


def _same_records(a, b, unlike: frozenset = frozenset()) -> None:
    ra, rb = a.records, b.records
    for key in sorted((set(ra) | set(rb)) - ROUTE_KEYS - unlike):
        if key == "container_list":  # its Status says how long ago: "Exited (0) 2 seconds ago"
            assert [{**c, "Status": None} for c in ra[key]] == [{**c, "Status": None} for c in rb[key]]
        else:
            assert ra.get(key) == rb.get(key), key


def _same_frames(a, b) -> None:
    fa, fb = frames(a), frames(b)
    for name in ("images", "layers", "history"):
        assert getattr(fa, name).equals(getattr(fb, name)), name
    # (a container's status text says how long ago it exited)
    assert fa.containers.drop(columns="status").equals(fb.containers.drop(columns="status"))
    assert fa.engine_df["lines"] == fb.engine_df["lines"]
    assert fa.engine_df["layers_size"] == fb.engine_df["layers_size"] is not None


@pytest.mark.engine
def test_live_store_equals_podmans_answers(podman):
    api = connect(podman.host)
    try:
        info = api.info()
        raw = PS.read_store(info["DockerRootDir"], info["Driver"])
        answers = {"image_list": api.images(),
                   "inspect": {f"sha256:{im['id']}": api.inspect_image(f"sha256:{im['id']}") for im in raw["images"]},
                   "history": {f"sha256:{im['id']}": api.history(f"sha256:{im['id']}") for im in raw["images"]}}
    finally:
        api.close()
    got = PS.compat_records(raw)
    assert got["uncovered"] == [] and got["image_list"] == answers["image_list"]
    assert _every_image(raw, answers) > len(answers["image_list"]) >= 10


@pytest.mark.engine
def test_live_whole_collection_reads_the_store_and_equals_the_api_route(podman, monkeypatch, tmp_path):
    snap = collect(host=podman.host, progress=False, cache=False)
    rec = snap.records
    assert rec["complete"] and rec["podman_store"]["images"] == len(rec["image_list"]) >= 10
    assert rec["version"] is None and rec.get("info") is None  # neither asked: 0.2-0.4 s on podman
    assert rec["ping"]["libpod-api-version"] == snap.source["engine_version"]
    api_snap = _api_route(podman.host, monkeypatch)
    # through its API: no /version either (0.2-0.4 s, more than 25 images' details); its /info names
    # the storage and the platform /version would have named
    assert api_snap.records["version"] is None and api_snap.records["info"] and not api_snap.records.get("podman_store")
    api = connect(podman.host)
    try:
        version = api.version()
    finally:
        api.close()
    assert (api_snap.source["engine_version"], api_snap.source["api_version"], api_snap.source["os"],
            api_snap.source["arch"]) == (version["Version"], version["ApiVersion"], version["Os"], version["Arch"])
    from imgviz.sources.engine_model import model_of, model_of_snapshot

    assert model_of_snapshot(api_snap) == model_of(version, api_snap.records["info"])
    _same_records(snap, api_snap)
    _same_frames(snap, api_snap)
    # saved and loaded again (a replay of the recording, by the same code path)
    snap.save(tmp_path / "s.json.gz")
    from imgviz.snapshot import Snapshot

    again = Snapshot.read(tmp_path / "s.json.gz")
    from imgviz.sources._open import load

    _same_frames(load(tmp_path / "s.json.gz"), api_snap)
    assert again.records["podman_store"] == rec["podman_store"]
    # the report says where the records came from, and only then
    from imgviz import Report

    assert "image list, inspect and history of" in Report(again, progress=False).html()
    assert "image list, inspect and history of" not in Report(api_snap, progress=False).html()


@pytest.mark.engine
def test_live_store_route_neither_reads_nor_writes_the_cache(podman, monkeypatch, tmp_path):
    monkeypatch.setenv("IMGVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("IMGVIZ_CACHE", raising=False)
    snap = collect(host=podman.host, progress=False, cache=True)
    assert snap.records["podman_store"] and "cache" not in snap.source
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


@pytest.mark.engine
def test_live_store_after_build_retag_and_remove_equals_the_api_route(podman, monkeypatch, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM iv/base:1\nRUN echo later > /later\n")
    podman.build(ctx, "iv/later:1")
    podman.docker("tag", "iv/later:1", "iv/later:2")
    podman.docker("tag", "iv/envonly:1", "iv/moved:1")
    podman.docker("image", "rm", "iv/same-b:1")
    snap = collect(host=podman.host, progress=False, cache=False)
    assert snap.records["podman_store"]
    names = {t for im in snap.records["image_list"] for t in im.get("RepoTags") or []}
    assert {"docker.io/iv/later:1", "docker.io/iv/later:2", "docker.io/iv/moved:1"} <= names
    assert "docker.io/iv/same-b:1" not in names
    _same_records(snap, _api_route(podman.host, monkeypatch))


@pytest.mark.engine
def test_live_store_not_visible_from_here_leaves_the_collection_to_the_api(podman, monkeypatch, tmp_path):
    """Where podman's storage cannot be read (here: hidden by an empty mount in a mount namespace of
    its own, as from a container or another machine's view), the collection asks the API as before."""
    import shutil
    import subprocess
    import sys

    if not shutil.which("unshare"):
        pytest.skip("no unshare(1)")
    api = connect(podman.host)
    try:
        root = api.info()["DockerRootDir"]
    finally:
        api.close()
    out = tmp_path / "hidden.json"
    cmd = (f"mount -t tmpfs tmpfs {root} && exec {sys.executable} -m imgviz snapshot --host {podman.host} "
           f"--no-cache -o {out}")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", cmd], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    from imgviz.snapshot import Snapshot

    snap = Snapshot.read(out)
    # (through the API: the ping and /info, no /version)
    assert snap.records["complete"] and snap.records["info"] and not snap.records.get("podman_store")
    # its layer records (layers.json) were not visible either: what the disk holds stays unknown
    assert snap.records["podman_storage"] is None
    _same_records(snap, _api_route(podman.host, monkeypatch), unlike=frozenset({"podman_storage"}))


@pytest.mark.engine
def test_live_store_route_cut_short_is_incomplete_and_says_what_is_missing(podman, tmp_path):
    """The store route's own calls (podman's df, one inspect, the containers) under the faults of
    tests/test_partial.py: a df that times out, an engine cut off after a few requests. The
    collection says INCOMPLETE and what it did not read; it never passes for a complete one."""
    import warnings

    from imgviz._partial import missing
    from imgviz.sources.engine import CollectionWarning

    from ..fuzz._servers import CutOffProxy

    slow = CutOffProxy(podman.host, tmp_path / "slow.sock", delays={r"/libpod/system/df$": 4})
    try:
        with pytest.warns(CollectionWarning, match="stopped answering"):
            snap = collect(host=slow.host, progress=False, cache=False, limits={"request_timeout": 1})
    finally:
        slow.stop()
    assert not snap.complete and snap.images == [] and missing(snap)["not_read"][0] == "/images/json"
    for after in (2, 3, 4):  # the ping, podman's df, the inspect, the compat df: cut among them
        cut = CutOffProxy(podman.host, tmp_path / f"cut{after}.sock", after=after)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CollectionWarning)
                snap = collect(host=cut.host, progress=False, cache=False, limits={"request_timeout": 5})
        except Exception as exc:  # the probe itself cut: one line naming the engine
            assert "engine" in str(exc) and "\n" not in str(exc)
            continue
        finally:
            cut.stop()
        assert not snap.complete and missing(snap)["not_read"], after


@pytest.mark.engine
def test_live_image_removed_between_the_df_and_the_read_is_not_served(podman, monkeypatch):
    """The storage is read in one go under podman's own lock, so an image is in it or not; one
    removed after podman's df named it is absent from the list, as from podman's own list then."""
    from imgviz.sources import engine as engine_mod

    gone = podman.busybox_base("iv/gone-soon:1")
    gone = gone if gone.startswith("sha256:") else "sha256:" + gone
    before = collect(host=podman.host, progress=False, cache=False)
    assert gone in {im["Id"] for im in before.records["image_list"]}
    real = engine_mod._read_store_records

    def remove_first(root, driver, check_layer=None):
        podman.docker("image", "rm", "-f", "iv/gone-soon:1")
        return real(root, driver, check_layer=check_layer)

    monkeypatch.setattr(engine_mod, "_read_store_records", remove_first)
    snap = collect(host=podman.host, progress=False, cache=False)
    ids = {im["Id"] for im in snap.records["image_list"]}
    assert snap.complete and gone not in ids and {r["id"] for r in snap.records["images"]} == ids
    monkeypatch.undo()
    _same_records(snap, _api_route(podman.host, monkeypatch), unlike=frozenset({"podman_df", "df"}))
