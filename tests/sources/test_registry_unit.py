"""Registry source pieces that need no server: references, platforms, challenges, recorded snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgviz.frames import frames
from imgviz.sources import load
from imgviz.sources._oci import parse_platform
from imgviz.sources.registry import (DOCKER_HUB, Reference, RegistryClient, RegistryError, _parse_challenge,
                                     collect, is_loopback, parse_reference)

DATA = Path(__file__).parent.parent / "data" / "registry"


@pytest.mark.parametrize("text, want", [
    ("127.0.0.1:5000/iv/app:v1", Reference("127.0.0.1:5000", "iv/app", "v1", None)),
    ("127.0.0.1:5000/iv/app", Reference("127.0.0.1:5000", "iv/app", "latest", None)),
    ("localhost/app", Reference("localhost", "app", "latest", None)),
    ("busybox", Reference(DOCKER_HUB, "library/busybox", "latest", None)),
    ("me/tool:1.2", Reference(DOCKER_HUB, "me/tool", "1.2", None)),
    ("reg.example:443/a/b/c@sha256:" + "a" * 64, Reference("reg.example:443", "a/b/c", None, "sha256:" + "a" * 64)),
    ("reg.example/a:t@sha256:" + "b" * 64, Reference("reg.example", "a", "t", "sha256:" + "b" * 64)),
])
def test_parse_reference(text, want):
    assert parse_reference(text) == want


@pytest.mark.parametrize("text, message", [
    ("", "empty image reference"),
    ("127.0.0.1:5000/Upper:1", "not a valid repository name"),
    ("127.0.0.1:5000/app:bad tag", "not a valid tag"),
    ("127.0.0.1:5000/app@md5", "not a valid digest"),
])
def test_bad_references_say_what_is_wrong(text, message):
    with pytest.raises(RegistryError, match=message):
        parse_reference(text)


def test_reference_names():
    assert str(parse_reference("busybox:1")) == "busybox:1"
    assert parse_reference("127.0.0.1:5000/x:1").name == "127.0.0.1:5000/x"


@pytest.mark.parametrize("host, loop", [("127.0.0.1:5000", True), ("127.1.2.3", True), ("localhost:80", True),
                                        ("[::1]:5000", True), ("10.0.0.1:5000", False), ("registry.example", False)])
def test_loopback_registries_speak_plain_http(host, loop):
    assert is_loopback(host) is loop
    client = RegistryClient()
    try:
        assert client.base_url(host).startswith("http://" if loop else "https://")
    finally:
        client.close()


def test_platform_and_challenge_parsing():
    assert parse_platform("linux/arm64/v8") == ("linux", "arm64", "v8")
    with pytest.raises(RegistryError, match="expected OS/ARCH"):
        parse_platform("linux", error=RegistryError)
    with pytest.raises(RegistryError, match="expected OS/ARCH"):  # before any request is made
        collect([], platform="linux", progress=False)
    # the header distribution's token auth sends
    scheme, params = _parse_challenge('Bearer realm="https://auth.example/token",service="registry.example",'
                                      'scope="repository:a/b:pull"')
    assert scheme == "bearer" and params == {"realm": "https://auth.example/token", "service": "registry.example",
                                             "scope": "repository:a/b:pull"}
    assert _parse_challenge('Basic realm="imgviz-test"') == ("basic", {"realm": "imgviz-test"})


def test_recorded_registry_snapshot_to_frames():
    snap = load(DATA / "registry.json.gz")
    assert snap.kind == "registry" and len(snap.images) == 4
    f = frames(snap)
    assert set(f.images.source) == {"registry"}
    assert f.images["size"].isna().all() and f.layers["size"].isna().all()
    assert (f.layers.size_compressed > 0).all() and f.layers.digest.str.startswith("sha256:").all()
    assert set(f.history.mapping) == {"config"}
    assert sorted(f.images.n_layers) == [1, 2, 3, 4]
