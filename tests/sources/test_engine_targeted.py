"""Targeted collection: a question about one image (or the list) asks the engine only what its answer
needs, and answers exactly what a whole collection answers. On every recorded fleet (replayed
through the live code) and on a live engine of every kind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imgviz.analysis.listing import history_rows, ls_rows
from imgviz.errors import ImageNotFound, UsageError
from imgviz.rows import listed_rows, rows, utc_time
from imgviz.snapshot import Snapshot
from imgviz.sources._replay import ReplayClient
from imgviz.sources.engine import collect

DATA = Path(__file__).resolve().parent.parent / "data"
RECORDINGS = sorted(p for p in DATA.glob("*/snapshot.json.gz") if Snapshot.read(p).kind == "engine")


def _names(snap: Snapshot) -> list[str]:
    """Every way the fleet names its images: each tag, each full ID, each 12-digit short ID."""
    out = []
    for im in snap.records["image_list"]:
        out += list(im.get("RepoTags") or [])
        out += [im["Id"], im["Id"].split(":", 1)[1][:12]]
    return [n for n in out if n != "<none>:<none>"]


def _fleet_only(snap: Snapshot) -> Snapshot:
    """The session engine holds every image the other tests built (hundreds on CI, each asked through
    a process of its own): the live checks ask the fleet's images (tests/_fleet.py) by every name."""
    from .._fleet import FLEET_TAGS

    def ours(im):
        return any(t == f or t.endswith("/" + f) for t in im.get("RepoTags") or [] for f in FLEET_TAGS)

    return Snapshot(source=snap.source, records={**snap.records,
                    "image_list": [im for im in snap.records["image_list"] if ours(im)]})


def _history_of(snap: Snapshot, image_id: str) -> list[dict]:
    return history_rows(rows(snap).history, image_id)


def _listing(table: list[dict]) -> list[tuple]:
    """ls rows with the creation time to the second (the list says seconds; inspect says more), newest
    first; images made in the same second in name order (the whole collection orders them by the
    fraction of a second the targeted listing does not have, as `docker image ls` does not either)."""
    out = [(-int(utc_time(r["created"]).timestamp()), r["repository"], r["tag"], r["image_id"], r["size"])
           for r in table]
    assert [t[0] for t in out] == sorted(t[0] for t in out)  # newest first, as listed
    return sorted(out)


def _check_targeted_equals_whole(whole: Snapshot, client_for, names: list[str]) -> int:
    """Each name asked alone gives that image's history rows exactly as the whole collection does;
    the list alone gives the whole collection's `image ls` rows. Returns how many names were asked."""
    by_name = {}  # the names as the engine listed them (podman's carry docker.io/, rows drop it)
    for im in whole.records["image_list"]:
        for t in im.get("RepoTags") or []:
            by_name[t] = im["Id"]
        by_name[im["Id"]] = by_name[im["Id"].split(":", 1)[1][:12]] = im["Id"]
    asked = 0
    for name in names:
        one = collect(client_for(), images=[name], progress=False)
        assert one.source["scope"] == "images" and one.records["scope"] == [name]
        assert [r["id"] for r in one.images] == [by_name[name]], name
        assert one.records["image_list"] is None and one.records["df"] is None and not one.containers
        assert one.images[0] == next(r for r in whole.images if r["id"] == by_name[name])
        assert _history_of(one, by_name[name]) == _history_of(whole, by_name[name]), name
        asked += 1
    listed = collect(client_for(), scope="list", progress=False)
    assert listed.source["scope"] == "list" and not listed.images
    # the same answer; the containerd store lists images made in the same second in any order
    assert sorted(listed.records["image_list"], key=lambda im: im["Id"]) == \
        sorted(whole.records["image_list"], key=lambda im: im["Id"])
    for pattern in (None, "iv/a*", "ivdf/*"):
        assert _listing(ls_rows(listed_rows(listed), pattern)) == _listing(ls_rows(rows(whole).images, pattern))
    return asked


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.parent.name)
def test_targeted_answers_equal_the_whole_collection_on_recordings(path):
    whole = Snapshot.read(path)
    names = _names(whole)
    assert _check_targeted_equals_whole(whole, lambda: ReplayClient(whole), names) == len(names) >= 3


def test_several_images_at_once_each_once(recorded):
    whole = recorded.snapshot
    id_of = {t: im["Id"] for im in whole.records["image_list"] for t in im.get("RepoTags") or []
             if t != "<none>:<none>"}
    first = whole.records["image_list"][0]["Id"]
    id_of.update({first: first, first[7:19]: first})
    snap = collect(ReplayClient(whole), images=list(id_of), progress=False)
    assert [r["id"] for r in snap.images] == list(dict.fromkeys(id_of.values()))
    assert len(snap.images) < len(id_of)  # a second name of one image asks nothing more


def test_unknown_and_malformed_references(recorded):
    with pytest.raises(ImageNotFound, match=r"^nope:1: no such image on the engine at "):
        collect(ReplayClient(recorded.snapshot), images=["nope:1"], progress=False)
    with pytest.raises(UsageError, match="not an image reference"):
        collect(ReplayClient(recorded.snapshot), images=["../containers/json"], progress=False)
    with pytest.raises(UsageError, match="scope="):
        collect(ReplayClient(recorded.snapshot), scope="images", progress=False)


@pytest.mark.engine
def test_targeted_answers_equal_the_whole_collection_live(engine, fleet):
    from imgviz.sources.engine import connect

    whole = collect(host=engine.host, progress=False)
    names = _names(_fleet_only(whole))
    assert _check_targeted_equals_whole(whole, lambda: connect(engine.host), names) == len(names) >= 8


def _cli(*argv: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imgviz", *argv], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.engine
def test_history_and_images_commands_live_equal_a_whole_snapshot(engine, fleet, tmp_path):
    """`imgviz history REF` and `imgviz images` on the live engine (targeted) print what they print
    from a whole snapshot of it, for every tag of the fleet (not every image the session engine holds)."""
    saved = tmp_path / "whole.json.gz"
    assert _cli("snapshot", "--host", engine.host, "-o", str(saved)).returncode == 0
    whole = Snapshot.read(saved)
    tags = [t for im in _fleet_only(whole).records["image_list"] for t in im.get("RepoTags") or []
            if t != "<none>:<none>"]
    assert len(tags) >= 8
    for tag in tags:
        live = _cli("history", tag, "--json", "--host", engine.host)
        recorded = _cli("history", tag, "--json", "--snapshot", str(saved))
        assert live.returncode == recorded.returncode == 0, (live.stderr, recorded.stderr)
        assert json.loads(live.stdout) == json.loads(recorded.stdout), tag
    live = json.loads(_cli("images", "--json", "--host", engine.host).stdout)
    recorded = json.loads(_cli("images", "--json", "--snapshot", str(saved)).stdout)
    def second(table):  # to the second; same-second images in name order (see _listing)
        return sorted((r["created"][:19], r["repository"], r["tag"], r["id"], r["size"]) for r in table)

    assert second(live) == second(recorded) and len(live) == len(recorded) >= 5
    missing = _cli("history", "iv/nope:1", "--host", engine.host)
    assert missing.returncode != 0 and "iv/nope:1: no such image" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
