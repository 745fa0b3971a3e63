"""Targeted what-if and pull-plan: their engine collections (collect(scope="what-if" | "pull")) ask
only what the answer reads, and the answer equals a whole collection's on every recorded fleet
(replayed through the live code). The live engines are held to the same in test_whatif_live.py
(every removal step, before the real `docker image rm`) and test_pull_live.py (every planned pull)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from imgviz.analysis.pull import engine_pull_plan
from imgviz.analysis.what_if import removal
from imgviz.errors import ImageNotFound
from imgviz.frames import frames
from imgviz.snapshot import Snapshot
from imgviz.sources._replay import ReplayClient
from imgviz.sources.engine import collect

from ._engine_records import RECORDED_KINDS, snapshot_with_model

DATA = Path(__file__).resolve().parent.parent / "data"
RECORDINGS = {p.parent.name: p for p in sorted(DATA.glob("*/snapshot.json.gz")) if Snapshot.read(p).kind == "engine"}
CASES = [(name, False) for name in RECORDINGS] + [(kind, True) for kind in RECORDED_KINDS]


def _whole(name: str, with_model: bool) -> Snapshot:
    return snapshot_with_model(name) if with_model else Snapshot.read(RECORDINGS[name])


class _Counting(ReplayClient):
    """A replay that counts the calls made (which endpoint, how often)."""

    def __init__(self, snapshot):
        super().__init__(snapshot)
        self.calls: dict[str, int] = {}

    def _count(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1

    def history(self, image_id):
        self._count("history")
        return super().history(image_id)

    def inspect_image(self, image_id):
        self._count("inspect_image")
        return super().inspect_image(image_id)

    def inspect_container(self, container_id):
        self._count("inspect_container")
        return super().inspect_container(container_id)

    def df(self):
        self._count("df")
        return super().df()

    def containers(self, all=True, size=True):  # noqa: A002 - SDK signature
        self._count("containers" + ("+size" if size else ""))
        return super().containers(all=all, size=size)

    def image_manifests(self):
        self._count("image_manifests")
        return super().image_manifests()

    def podman_df(self):
        self._count("podman_df")
        return super().podman_df()


def _refs(whole: Snapshot) -> list[list[str]]:
    """Each image alone (by its first tag, else its short ID), then every pair of neighbours."""
    one = []
    for im in whole.records["image_list"]:
        tags = [t for t in im.get("RepoTags") or [] if t != "<none>:<none>"]
        one.append(tags[0] if tags else im["Id"][7:19])
    return [[r] for r in one] + [[a, b] for a, b in zip(one, one[1:])]


@pytest.mark.parametrize("name,with_model", CASES, ids=lambda v: str(v))
def test_targeted_what_if_equals_the_whole_collection_on_recordings(name, with_model):
    whole = _whole(name, with_model)
    f_whole = frames(whole)
    asked = 0
    for refs in _refs(whole):
        for with_containers in (False, True):
            client = _Counting(whole)
            scope = "what-if-with-containers" if with_containers else "what-if"
            snap = collect(client, scope=scope, images=refs, progress=False)
            got = removal(frames(snap), refs, remove_containers=with_containers).as_dict()
            assert got == removal(f_whole, refs, remove_containers=with_containers).as_dict(), (refs, with_containers)
            # what it asked: every image's inspect, the history of the removed ones only, the container
            # list (sizes only when containers go too), no container inspect, no df
            removed = set(got["images"])
            assert client.calls.get("inspect_image") == len(whole.records["image_list"])
            assert client.calls.get("history") == len(removed)
            assert client.calls.get("containers+size" if with_containers else "containers") == 1
            assert not {"inspect_container", "df", "image_manifests", "podman_df"} & set(client.calls)
            assert snap.source["scope"] == scope and snap.records["scope"] == refs
            asked += 1
    assert asked >= 10


def test_targeted_what_if_says_no_such_image_as_the_whole_does():
    whole = _whole("docker28", True)
    with pytest.raises(ImageNotFound) as targeted:
        collect(ReplayClient(whole), scope="what-if", images=["iv/nope:1"], progress=False)
    with pytest.raises(ImageNotFound) as complete:
        removal(frames(whole), ["iv/nope:1"])
    assert str(targeted.value) == str(complete.value)


def test_targeted_what_if_cut_off_says_what_is_missing(monkeypatch, capsys):
    """The engine stops answering part-way through the inspects: the command's answer says what is
    missing and exits 3 (the images not read may keep a layer it would otherwise call freed)."""
    from imgviz._commands import whatif
    from imgviz.cli import main
    from imgviz.sources.engine import CollectionWarning

    whole = _whole("docker28", True)
    cut = Snapshot(source=whole.source, records={**whole.records, "images": whole.records["images"][:4],
                                                 "complete": False})
    first = whole.records["images"][0]["id"]  # read before the cut
    ref = next(t for im in whole.records["image_list"] if im["Id"] == first for t in im["RepoTags"])
    asked = {}

    def targeted(args, **kw):
        asked.update(kw)
        with pytest.warns(CollectionWarning, match="stopped answering"):
            return collect(ReplayClient(cut), progress=False, **kw), "live engine (replayed)"

    monkeypatch.setattr(whatif, "resolve_snapshot", targeted)
    assert main(["what-if", "--json", ref]) == 3
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert asked == {"scope": "what-if", "images": [ref]}
    assert out["complete"] is False and len(out["missing"]["images"]) == len(whole.records["image_list"]) - 4
    assert "INCOMPLETE" in captured.err and "listed images not read" in captured.err
    assert main(["what-if", ref]) == 3
    assert "INCOMPLETE" in capsys.readouterr().out


def _remote():
    reg = frames(Snapshot.read(DATA / "registry" / "registry.json.gz"))
    known = json.loads((DATA / "registry" / "pull.json").read_text())["known_digests"]
    return reg, known


PULL_LOCALS = [("registry/engine", False), ("registry/second", False)] + CASES


@pytest.mark.parametrize("name,with_model", PULL_LOCALS, ids=lambda v: str(v))
def test_targeted_pull_plan_equals_the_whole_collection_on_recordings(name, with_model):
    whole = Snapshot.read(DATA / f"{name}.json.gz") if name.startswith("registry/") else _whole(name, with_model)
    client = _Counting(whole)
    snap = collect(client, scope="pull", progress=False)
    local, f_whole = frames(snap), frames(whole)
    assert "history" not in client.calls and not {"containers", "inspect_container", "podman_df"} & set(client.calls)
    # the repo digests the known blobs are read from (pull_plan.known_blob_digests) are the same
    assert local.images[["image_id", "digests"]].equals(f_whole.images[["image_id", "digests"]])
    reg, known = _remote()
    for image_id in reg.images["image_id"]:
        remote = reg.layers[reg.layers["image_id"] == image_id]
        for k in (known, None):
            a = engine_pull_plan(remote, local, known_digests=k)
            b = engine_pull_plan(remote, f_whole, known_digests=k)
            pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("kind", RECORDED_KINDS)
def test_detail_calls_run_as_many_at_once_as_the_engine_answers_fastest_with(kind, monkeypatch):
    """collect() without ``workers`` takes the engine model's measured count (engine_model.detail_workers),
    for the whole collection and the layer scopes alike; an explicit count still wins."""
    from imgviz.sources import engine as E
    from imgviz.sources.engine_model import DETAIL_WORKERS, model_of

    whole = snapshot_with_model(kind)
    model = model_of(whole.records["version"], whole.records["info"])
    seen = []
    real = E._gather

    def spy(snap, what, ids, one, out, progress, workers, live=True):
        seen.append((what, workers))
        return real(snap, what, ids, one, out, progress, workers, live)

    monkeypatch.setattr(E, "_gather", spy)
    collect(ReplayClient(whole), progress=False)
    collect(ReplayClient(whole), scope="pull", progress=False)
    want = DETAIL_WORKERS[(model.engine, model.storage)]
    assert seen == [("image", want), ("container", want), ("image", want)]
    seen.clear()
    collect(ReplayClient(whole), progress=False, workers=3)
    assert {w for _, w in seen} == {3}


@pytest.mark.parametrize("scope", ["what-if", "pull"])
def test_a_targeted_collection_cut_off_names_only_what_it_asks(scope):
    """The incompleteness rule (imgviz._partial) holds for the layer scopes: the images not read are
    named, and a list call the scope never makes is not reported as missing (what-if asks no
    /system/df; pull no /containers/json)."""
    from imgviz._partial import headline, missing

    whole = _whole("docker28", True)
    cut = Snapshot(source=whole.source, records={**whole.records, "images": whole.records["images"][:4],
                                                 "complete": False})
    with pytest.warns(UserWarning, match="stopped answering"):
        snap = collect(ReplayClient(cut), progress=False, scope=scope,
                       images=["iv/base:1"] if scope == "what-if" else None)
    m = missing(frames(snap))
    assert m is not None and len(m["images"]) == len(whole.records["image_list"]) - 4
    never = {"what-if": "/system/df", "pull": "/containers/json"}[scope]
    assert never not in m["not_read"] and never not in headline(snap)
    assert m["not_read"] == (["/containers/json"] if scope == "what-if" else ["/system/df"])
