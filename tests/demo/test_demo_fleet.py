"""The demo fleet built by data/build_fleet.sh holds every case the analyses and notebooks need.

Always checked on the embedded snapshot recorded from that fleet (imgviz/data/demo-snapshot.json.gz),
through a read-only view that answers the SDK calls these checks make from the recorded engine
responses; and also on the live fleet engine when IMGVIZ_FLEET_HOST (default
unix:///tmp/fleet/sock, where data/build_fleet.sh is usually run) answers.
"""
import os

import pytest

from imgviz import demo_snapshot
from imgviz.frames import chain_ids

HOST = os.environ.get("IMGVIZ_FLEET_HOST", "unix:///tmp/fleet/sock")
MB = 1000 * 1000

TAGS = [
    "workshop/debian:bookworm", "workshop/debian:12",
    "workshop/node:18", "workshop/python:3.11",
    "workshop/web-ping:v1", "workshop/web-ping:v2", "workshop/web-ping:optimized",
    "workshop/web-ping:latest", "workshop/web-ping:staging",
    "workshop/httpcheck:1.0", "workshop/pingall:1.0", "workshop/static-site:latest",
]


class RecordedFleet:
    """The few docker SDK calls these tests make, answered from the recorded snapshot."""

    def __init__(self, snap):
        rec = snap.records
        self._list = rec["image_list"]
        self._images = {r["id"]: r for r in rec["images"]}
        self._containers = {c["id"]: c["inspect"] for c in rec["containers"]}
        self._container_list = rec["container_list"]

    def _id(self, ref):
        for image_id, r in self._images.items():
            if ref == image_id or ref in (r["inspect"].get("RepoTags") or []):
                return image_id
        raise KeyError(ref)

    def images(self, name=None, filters=None):
        out = self._list
        if name:
            out = [i for i in out if any(t.rsplit(":", 1)[0] == name for t in i["RepoTags"] or [])]
        if filters and filters.get("dangling"):
            out = [i for i in out if not [t for t in i["RepoTags"] or [] if t != "<none>:<none>"]]
        return out

    def inspect_image(self, ref):
        return self._images[self._id(ref)]["inspect"]

    def history(self, ref):
        return self._images[self._id(ref)]["history"]

    def containers(self, all=True, size=True):  # noqa: A002
        return self._container_list

    def inspect_container(self, name):
        for c in self._containers.values():
            if c["Name"].lstrip("/") == name or c["Id"] == name:
                return c
        raise KeyError(name)


def _live():
    docker = pytest.importorskip("docker")
    client = docker.APIClient(base_url=HOST, version="1.41", timeout=30)
    try:
        client.ping()
    except Exception as err:
        pytest.skip(f"no live fleet engine at {HOST} ({type(err).__name__}); the recorded fleet is checked")
    if not client.images(name="workshop/node"):
        pytest.skip(f"the engine at {HOST} holds no fleet (run data/build_fleet.sh)")
    return client


@pytest.fixture(scope="module", params=["recorded", "live"])
def api(request):
    if request.param == "recorded":
        yield RecordedFleet(demo_snapshot())
        return
    client = _live()
    yield client
    client.close()


def test_all_tags_present(api):
    have = {tag for image in api.images() for tag in image["RepoTags"] or []}
    assert set(TAGS) <= have


def test_second_tags_name_the_same_image(api):
    assert api.inspect_image("workshop/debian:12")["Id"] == api.inspect_image("workshop/debian:bookworm")["Id"]
    assert api.inspect_image("workshop/web-ping:latest")["Id"] == api.inspect_image("workshop/web-ping:optimized")["Id"]


def test_base_is_an_import_with_env_and_cmd(api):
    base = api.inspect_image("workshop/debian:bookworm")
    assert len(base["RootFS"]["Layers"]) == 1
    assert base["Config"]["Cmd"] == ["bash"]
    assert any(e.startswith("PATH=/usr/local/sbin:") for e in base["Config"]["Env"])
    assert 50 * MB < base["Size"] < 100 * MB


def test_runtimes_add_one_layer_of_debian_packages(api):
    base = api.inspect_image("workshop/debian:bookworm")
    for tag, low, high in [("workshop/node:18", 80, 120), ("workshop/python:3.11", 30, 60)]:
        runtime = api.inspect_image(tag)
        assert runtime["RootFS"]["Layers"][:1] == base["RootFS"]["Layers"]
        assert len(runtime["RootFS"]["Layers"]) == 2
        assert low * MB < runtime["Size"] - base["Size"] < high * MB


def test_a_dangling_static_site_from_the_classic_builder(api):
    dangling = api.images(filters={"dangling": True})
    titles = [api.inspect_image(i["Id"])["Config"]["Labels"].get("org.opencontainers.image.title") for i in dangling]
    assert "fleet status page" in titles
    history = api.history("workshop/static-site:latest")
    assert any("#(nop)" in h["CreatedBy"] for h in history)       # classic builder
    assert not any(h["Comment"] == "buildkit.dockerfile.v0" for h in history)


def test_buildkit_images_say_so(api):
    history = api.history("workshop/web-ping:v1")
    assert any(h["Comment"] == "buildkit.dockerfile.v0" for h in history)


def test_staging_adds_settings_only(api):
    v2 = api.inspect_image("workshop/web-ping:v2")
    staging = api.inspect_image("workshop/web-ping:staging")
    assert staging["RootFS"]["Layers"] == v2["RootFS"]["Layers"]
    assert staging["Size"] == v2["Size"]
    assert "<b>demo</b>" in staging["Config"]["Labels"]["org.example.fleet.note"]
    assert "API_TOKEN=demo-not-a-secret" in staging["Config"]["Env"]


def test_one_file_copied_onto_two_parents(api):
    a = api.inspect_image("workshop/httpcheck:1.0")["RootFS"]["Layers"]
    b = api.inspect_image("workshop/pingall:1.0")["RootFS"]["Layers"]
    # Layer 3 of both is `COPY fleet-targets.list /fleet-targets.list` on a different
    # runtime: same bytes (fixed mtime, file at /), so same diff_id, other chain_id.
    assert a[:1] == b[:1] and a[1] != b[1]
    assert a[2] == b[2]
    assert chain_ids(a)[2] != chain_ids(b)[2]


def test_web_ping_v1_and_v2_differ_only_in_the_app_layer(api):
    v1 = api.inspect_image("workshop/web-ping:v1")["RootFS"]["Layers"]
    v2 = api.inspect_image("workshop/web-ping:v2")["RootFS"]["Layers"]
    assert v1[:-1] == v2[:-1] and v1[-1] != v2[-1]


def test_containers_with_env_overrides_and_a_writable_layer(api):
    containers = {c["Names"][0].lstrip("/"): c for c in api.containers(all=True, size=True)}
    expected = {
        "web-ping-google": {"TARGET=google.com"},
        "web-ping-docker": {"TARGET=docker.com", "INTERVAL=5000"},
        "web-ping-created": {"TARGET=example.org", "METHOD=GET", "INTERVAL=10000"},
    }
    for name, env in expected.items():
        inspected = api.inspect_container(name)
        assert env <= set(inspected["Config"]["Env"])
        assert inspected["HostConfig"]["NetworkMode"] == "none"
    assert api.inspect_container("web-ping-created")["State"]["Status"] == "created"
    assert containers["scratch-writer"]["SizeRw"] >= 5 * 1024 * 1024
    assert containers["httpcheck-report"]["SizeRw"] > 0
