"""The engine cache (imgviz.sources.cache): a refresh reads the list and only new IDs, and what it
answers equals a fresh collection record for record; a removed image is never served, a retagged
one always shows its new names; two processes writing at once leave a valid cache; a corrupt or
foreign file is a warning and a full collection. On a live engine of every kind, plus the rules
on the recorded fleet (tests/data/*/snapshot.json.gz, replayed)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import pytest

from imgviz.snapshot import Snapshot
from imgviz.sources import cache as cache_mod
from imgviz.sources import load
from imgviz.sources.cache import CacheWarning, EngineCache
from imgviz.sources.engine import collect, connect

DATA = Path(__file__).resolve().parent.parent / "data"
RECORDINGS = sorted(p for p in DATA.glob("*/snapshot.json.gz") if Snapshot.read(p).kind == "engine")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("IMGVIZ_CACHE_DIR", str(folder))
    monkeypatch.delenv("IMGVIZ_CACHE", raising=False)  # the default: on
    # podman read from its storage needs no cache (tests/sources/test_podman_store.py); the cache
    # serves a podman whose storage is not readable from here, which this stands for
    monkeypatch.setenv("IMGVIZ_PODMAN_STORE", "0")
    return folder


class Counting:
    """A live client whose requests are counted by path (``/images/{id}/json`` -> ``inspect``...)."""

    def __init__(self, host: str):
        self.api = connect(host)
        self.paths: list[str] = []
        get = self.api.transport.get

        def counted(path, **kw):
            self.paths.append(path.split("?")[0])
            return get(path, **kw)

        self.api.transport.get = counted

    def count(self, suffix: str, prefix: str = "/images/") -> int:
        return sum(1 for p in self.paths if prefix in p and p.endswith(suffix) and not p.endswith("/images/json"))


def _collect(host: str, *, cache: bool, counting: bool = False):
    if not counting:
        return collect(host=host, progress=False, cache=cache), None
    client = Counting(host)
    try:
        return collect(client.api, host=host, progress=False, cache=cache), client
    finally:
        client.api.close()


def _images(snap: Snapshot) -> list[tuple]:
    return [(r["id"], r["inspect"], r["history"]) for r in snap.records["images"]]


def _assert_equal_to_fresh(snap: Snapshot, fresh: Snapshot) -> None:
    """Record for record: the list entries and the image records (inspect and history) by ID. The
    engine orders images made in one second differently from one answer to the next, so order is
    checked against each snapshot's own list."""
    assert snap.complete and fresh.complete

    def by_id(rows, key):
        return {r[key]: r for r in rows}

    assert by_id(snap.records["image_list"], "Id") == by_id(fresh.records["image_list"], "Id")
    assert by_id(snap.images, "id") == by_id(fresh.images, "id")
    for s in (snap, fresh):
        assert [r["id"] for r in s.images] == [im["Id"] for im in s.records["image_list"]]


def _build(engine, tmp_path: Path, tag: str, text: str, *, base: str = "imgviz-test/busybox:base",
           classic: bool = False) -> str:
    ctx = tmp_path / f"ctx-{uuid.uuid4().hex[:8]}"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {base}\nRUN echo {text} > /f-{uuid.uuid4().hex[:6]}\n")
    builder = "classic" if classic and engine.builder_missing("classic") is None else None
    engine.build(ctx, tag, buildkit=None if builder is None else False)
    return engine.image_id(tag)


# ------------------------------------------------------------------------------------- live engine

def test_second_run_from_cache_equals_fresh(engine, tmp_path, cache_dir):
    engine.busybox_base()
    mine = _build(engine, tmp_path, f"ivcache/first:{uuid.uuid4().hex[:6]}", "one")
    first, c1 = _collect(engine.host, cache=True, counting=True)
    n = len(first.images)
    assert mine in {r["id"] for r in first.images}
    assert first.source["cache"]["served"] == 0 and c1.count("/json") == n  # an empty cache: all read
    second, c2 = _collect(engine.host, cache=True, counting=True)
    fresh, _ = _collect(engine.host, cache=False)
    _assert_equal_to_fresh(second, fresh)
    assert second.source["cache"] == {"path": first.source["cache"]["path"], "served": n, "images": n}
    # what cannot be avoided: no per-image call at all, the list, containers, df and /info still asked
    assert c2.count("/json") == 0 and c2.count("/history") == 0
    asked = {"/" + p.split("/", 2)[2] if p.startswith("/v1.") else p for p in c2.paths}
    assert {"/images/json", "/containers/json", "/system/df", "/info"} <= asked
    assert cache_mod.note(second.source) == (f"{n} of {n} images read from the cache at "
                                             f"{first.source['cache']['path']}; --no-cache to read all")
    assert Path(first.source["cache"]["path"]).parent == cache_dir
    assert (os.stat(first.source["cache"]["path"]).st_mode & 0o077) == 0  # the environment of images: private


def test_refresh_after_build_retag_remove_equals_fresh(engine, tmp_path, cache_dir):
    engine.busybox_base()
    tag = uuid.uuid4().hex[:6]
    parent = _build(engine, tmp_path, f"ivcache/parent:{tag}", "p", classic=True)
    # built on the parent by the classic builder (where the engine has it): its history names the
    # parent's image ID with the parent's tags, so retagging the parent changes the child's history
    child = _build(engine, tmp_path, f"ivcache/child:{tag}", "c", base=f"ivcache/parent:{tag}", classic=True)
    doomed = _build(engine, tmp_path, f"ivcache/doomed:{tag}", "d")
    renamed = _build(engine, tmp_path, f"ivcache/renamed:{tag}", "r")
    first, _ = _collect(engine.host, cache=True)
    assert {parent, child, doomed, renamed} <= {r["id"] for r in first.images}

    added = _build(engine, tmp_path, f"ivcache/added:{tag}", "a")
    engine.docker("tag", f"ivcache/parent:{tag}", f"ivcache/parent:again-{tag}")
    engine.docker("tag", f"ivcache/renamed:{tag}", f"ivcache/newname:{tag}")
    engine.docker("rmi", f"ivcache/renamed:{tag}")
    engine.docker("rmi", f"ivcache/doomed:{tag}")

    refreshed, counter = _collect(engine.host, cache=True, counting=True)
    fresh, _ = _collect(engine.host, cache=False)
    _assert_equal_to_fresh(refreshed, fresh)
    by_id = {r["id"]: r for r in refreshed.images}
    assert doomed not in by_id  # removed: never served
    assert f"ivcache/parent:again-{tag}" in ",".join(by_id[parent]["inspect"]["RepoTags"])
    assert not any(t.endswith(f"ivcache/renamed:{tag}") for t in by_id[renamed]["inspect"]["RepoTags"])
    assert any(t.endswith(f"ivcache/newname:{tag}") for t in by_id[renamed]["inspect"]["RepoTags"])
    # read again: the new image, the two renamed ones, and the child when its history names the parent
    reread = {p.split("/images/")[1].rsplit("/", 1)[0] for p in counter.paths if p.endswith("/json")
              and "/images/" in p and not p.endswith("/images/json")}
    child_names_parent = parent in cache_mod._history_ids(by_id[child]["history"])
    expected = {added, parent, renamed} | ({child} if child_names_parent else set())
    assert reread == expected
    assert refreshed.source["cache"]["served"] == len(refreshed.images) - len(expected)
    # the file keeps no removed image
    kept = json.loads(Path(refreshed.source["cache"]["path"]).read_text())["images"]
    assert doomed not in kept and set(kept) == set(by_id)


def test_removed_and_retagged_never_served_stale(engine, tmp_path, cache_dir):
    """An image removed and one given another tag, right after the cache was filled: the removed
    one is gone from the refresh, the other shows only its new tag, in inspect and history."""
    engine.busybox_base()
    tag = uuid.uuid4().hex[:6]
    gone = _build(engine, tmp_path, f"ivcache/gone:{tag}", "g")
    moved = _build(engine, tmp_path, f"ivcache/moved:{tag}", "m")
    _collect(engine.host, cache=True)
    engine.docker("rmi", f"ivcache/gone:{tag}")
    engine.docker("tag", f"ivcache/moved:{tag}", f"ivcache/moved:new-{tag}")
    engine.docker("rmi", f"ivcache/moved:{tag}")
    snap, _ = _collect(engine.host, cache=True)
    ids = {r["id"]: r for r in snap.images}
    assert gone not in ids
    names = ids[moved]["inspect"]["RepoTags"]
    assert any(t.endswith(f"ivcache/moved:new-{tag}") for t in names)
    assert not any(t.endswith(f"ivcache/moved:{tag}") for t in names)
    for entry in ids[moved]["history"]:
        assert not any(t.endswith(f"ivcache/moved:{tag}") for t in entry.get("Tags") or [])


def test_two_processes_at_once_leave_a_valid_cache(engine, tmp_path, cache_dir):
    engine.busybox_base()
    tag = uuid.uuid4().hex[:6]
    for i in range(3):
        _build(engine, tmp_path, f"ivcache/race{i}:{tag}", f"r{i}")
    # the filter in code: `-W error::imgviz.sources.cache.CacheWarning` is refused ("invalid module
    # name") when the interpreter reads it before the editable install's import hook is set up (CI)
    code = ("import warnings, imgviz, imgviz.sources.cache as c; "
            "warnings.simplefilter('error', c.CacheWarning); "
            "s = imgviz.collect(progress=False, cache=True); assert s.complete, s.skipped")
    env = dict(os.environ, DOCKER_HOST=engine.host, IMGVIZ_CACHE_DIR=str(cache_dir))
    env.pop("IMGVIZ_CACHE", None)
    for _ in range(3):
        procs = [subprocess.Popen([sys.executable, "-c", code],
                                  env=env, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        for p in procs:
            assert p.wait(timeout=300) == 0, p.stderr.read()
        with warnings.catch_warnings():
            warnings.simplefilter("error", CacheWarning)
            snap, _ = _collect(engine.host, cache=True)
        assert snap.source["cache"]["served"] == len(snap.images)  # every image in the file, valid
        for f in cache_dir.glob("engine-*.json"):
            f.unlink()  # the next round races on an empty cache again


def test_corrupt_or_foreign_cache_file_warns_and_reads_all(engine, tmp_path, cache_dir):
    engine.busybox_base()
    first, _ = _collect(engine.host, cache=True)
    path = Path(first.source["cache"]["path"])
    good = path.read_bytes()
    data = json.loads(good)
    foreign = dict(data, engine=dict(data["engine"], root="/somewhere/else"))
    broken_entry = json.loads(good)
    some = next(iter(broken_entry["images"]))
    broken_entry["images"][some]["inspect"]["Id"] = "sha256:" + "0" * 64
    for content, why in ((good[: len(good) // 2], "not JSON"), (b"\x00\xff garbage", "not JSON"),
                         (json.dumps(foreign).encode(), "a cache of another engine"),
                         (json.dumps(broken_entry).encode(), "names another image"),
                         (json.dumps({"format": "something"}).encode(), "not an imgviz engine cache")):
        path.write_bytes(content)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            snap, counter = _collect(engine.host, cache=True, counting=True)
        said = [str(w.message) for w in seen if issubclass(w.category, CacheWarning)]
        assert len(said) == 1 and why in said[0] and "\n" not in said[0], said
        assert snap.source["cache"]["served"] == 0 and counter.count("/json") == len(snap.images)
        fresh, _ = _collect(engine.host, cache=False)
        _assert_equal_to_fresh(snap, fresh)
        again, _ = _collect(engine.host, cache=True)  # rewritten whole: served again
        assert again.source["cache"]["served"] == len(again.images)


def test_no_cache_reads_everything(engine, tmp_path, cache_dir):
    engine.busybox_base()
    _collect(engine.host, cache=True)
    snap, counter = _collect(engine.host, cache=False, counting=True)
    assert "cache" not in snap.source and counter.count("/json") == len(snap.images) > 0
    assert counter.count("/history") == len(snap.images)
    env = dict(os.environ, IMGVIZ_CACHE_DIR=str(cache_dir))
    env.pop("IMGVIZ_CACHE", None)

    def summary(*flags):
        out = subprocess.run([sys.executable, "-m", "imgviz", "summary", "--host", engine.host, "--allow-partial",
                              *flags], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout.splitlines()

    with_cache = summary()
    n = len(snap.images)
    assert f"Cache: {n} of {n} images read from the cache at " in "\n".join(with_cache[:3])
    assert not any(line.startswith("Cache:") for line in summary("--no-cache"))


# --------------------------------------------------------------------- rules, on recorded fleets

def _recorded(path: Path) -> Snapshot:
    return load(path)


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.parent.name)
def test_store_then_serve_on_recording(recording, cache_dir):
    snap = _recorded(recording)
    info = {"ID": "x", "DockerRootDir": "/r", "Driver": "overlay2", "Name": "n"}
    store = EngineCache.for_engine("unix:///r.sock", snap.records["version"], info)
    listing = snap.records["image_list"]
    store.store(listing, snap.images)
    again = EngineCache.for_engine("unix:///r.sock", snap.records["version"], info)
    served = again.serve(listing)
    assert set(served) == {r["id"] for r in snap.images}
    for r in snap.images:
        assert served[r["id"]]["inspect"] == r["inspect"] and served[r["id"]]["history"] == r["history"]
    # a tag moved in the list: that image (and every image whose history names it) is read again
    moved = dict(listing[0], RepoTags=["somewhere/else:1"])
    naming = {r["id"] for r in snap.images if listing[0]["Id"] in cache_mod._history_ids(r["history"])}
    assert set(again.serve([moved, *listing[1:]])) == set(served) - {listing[0]["Id"]} - naming
    # an image the list no longer shows is never served
    assert listing[1]["Id"] not in again.serve([listing[0], *listing[2:]])
    # another engine (another root) does not see this file
    other = EngineCache.for_engine("unix:///r.sock", snap.records["version"], dict(info, DockerRootDir="/other"))
    assert other.serve(listing) == {}


def _store_some(args):
    folder, recording, part, parts = args
    os.environ["IMGVIZ_CACHE_DIR"] = folder
    snap = load(recording)
    info = {"ID": "x", "DockerRootDir": "/r", "Driver": "overlay2", "Name": "n"}
    store = EngineCache.for_engine("unix:///r.sock", snap.records["version"], info)
    store.store(snap.records["image_list"], snap.images[part::parts])


def test_writers_at_once_merge(tmp_path, monkeypatch):
    """Eight processes, each storing its own share of the recorded fleet at once: the file holds
    every image (merged under the lock), and it reads back without a warning."""
    folder = tmp_path / "c"
    monkeypatch.setenv("IMGVIZ_CACHE_DIR", str(folder))
    recording = RECORDINGS[0]
    snap = load(recording)
    parts = min(8, len(snap.images))
    with multiprocessing.get_context("fork").Pool(parts) as pool:
        pool.map(_store_some, [(str(folder), recording, i, parts) for i in range(parts)])
    info = {"ID": "x", "DockerRootDir": "/r", "Driver": "overlay2", "Name": "n"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        store = EngineCache.for_engine("unix:///r.sock", snap.records["version"], info)
    assert set(store.serve(snap.records["image_list"])) == {r["id"] for r in snap.images}


def test_cache_dir_rules(monkeypatch, tmp_path):
    monkeypatch.delenv("IMGVIZ_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_mod.cache_dir() == tmp_path / "xdg" / "imgviz"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_mod.cache_dir() == tmp_path / "home" / ".cache" / "imgviz"
    monkeypatch.setenv("IMGVIZ_CACHE_DIR", str(tmp_path / "own"))
    assert cache_mod.cache_dir() == tmp_path / "own"
    for off in ("0", "off", "False", "no"):
        monkeypatch.setenv("IMGVIZ_CACHE", off)
        assert not cache_mod.enabled(None) and cache_mod.enabled(True)
    monkeypatch.delenv("IMGVIZ_CACHE")
    assert cache_mod.enabled(None) and not cache_mod.enabled(False)


def test_engine_key_tells_engines_apart():
    docker = {"Version": "20.10.24", "ApiVersion": "1.41"}
    podman = {"Version": "4.3.1", "Components": [{"Name": "Podman Engine", "Version": "4.3.1"}]}
    info = {"ID": "BBTV:6S3J", "DockerRootDir": "/a", "Driver": "overlay2", "Name": "vm"}
    key = cache_mod.engine_key("unix:///s", docker, info)
    # 20.10 engines of one host share their /info ID: the data root tells them apart
    assert key != cache_mod.engine_key("unix:///s", docker, dict(info, DockerRootDir="/b"))
    # podman answers a new ID per request: not part of its key
    assert cache_mod.engine_key("unix:///s", podman, info) == cache_mod.engine_key("unix:///s", podman,
                                                                                   dict(info, ID="other"))
    assert cache_mod.engine_key("unix:///s", docker, dict(info, ID="")) is None
    assert cache_mod.engine_key("unix:///s", docker, None) is None


def test_note_of_a_loaded_snapshot_and_odd_sources():
    assert cache_mod.note({"cache": {"path": "/c/e.json", "served": 3, "images": 5}}) == \
        "3 of 5 images read from the cache at /c/e.json; --no-cache to read all"
    for odd in (None, {}, {"cache": {"served": 0, "images": 5, "path": "/c"}}, {"cache": {"served": "3"}},
                {"cache": [1]}, {"cache": {"served": True, "images": 1, "path": "/c"}}):
        assert cache_mod.note(odd) is None


def test_report_header_says_what_came_from_the_cache(tmp_path):
    """The report's overview names the cache line (and a snapshot saved and loaded keeps it)."""
    from imgviz import Report

    snap = load(RECORDINGS[0])
    n = len(snap.images)
    snap.source["cache"] = {"path": "/c/engine-x.json", "served": n - 1, "images": n}
    path = tmp_path / "s.json.gz"
    snap.save(path)
    loaded = load(path)
    assert cache_mod.note(loaded.source) == f"{n - 1} of {n} images read from the cache at /c/engine-x.json; " \
                                            f"--no-cache to read all"
    html = Report(loaded, progress=False).html()
    assert f"{n - 1} of {n} images read from the cache at /c/engine-x.json" in html
    assert "read from the cache" not in Report(load(RECORDINGS[0]), progress=False).html()
