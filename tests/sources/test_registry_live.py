"""The registry source against Debian's docker-registry, with images pushed by the real engine."""

from __future__ import annotations

import json
import os
import stat

import pytest

from imgviz.frames import frames
from imgviz.sources._oci import MT_DOCKER_LIST, MT_DOCKER_MANIFEST, MT_OCI_INDEX, MT_OCI_MANIFEST
from imgviz.sources.registry import RegistryClient, RegistryError, collect, parse_reference

from .._ivreg import IMAGES, build_images
from .._registry import push

pytestmark = [pytest.mark.engine, pytest.mark.registry]


@pytest.fixture(scope="module")
def pushed(engine, registry, tmp_path_factory):
    ids = build_images(engine, tmp_path_factory.mktemp("ivreg"))
    refs = {tag: push(engine, tag, registry, tag.replace("ivreg/", "rl/")) for tag in IMAGES}
    return ids, refs


def _manifest(engine, config_dir, *args):
    """`docker manifest ...` with a throw-away client config (never the user's ~/.docker)."""
    return engine.docker("--config", str(config_dir), "manifest", *args)


def _skopeo(*args):
    import subprocess

    proc = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_pushed_images_read_back_like_the_engine(engine, registry, pushed):
    ids, refs = pushed
    snap = collect(list(refs.values()), progress=False)
    assert snap.kind == "registry" and len(snap.images) == 4
    f = frames(snap)
    for tag, ref in refs.items():
        row = f.images[f.images["tags"].apply(lambda t, ref=ref: ref in t)].iloc[0]
        assert row.image_id == ids[tag], "the config digest is the engine's image ID"
        inspect = json.loads(engine.docker("image", "inspect", tag).stdout)[0]
        layers = f.layers[f.layers.image_id == row.image_id].sort_values("position")
        assert list(layers.diff_id) == inspect["RootFS"]["Layers"]
        # compressed sizes and media types come from the manifest; uncompressed stay unknown
        assert layers.size_compressed.notna().all() and (layers.size_compressed > 0).all()
        assert set(layers.media_type) == {"application/vnd.docker.image.rootfs.diff.tar.gzip"}
        assert layers["size"].isna().all()
        # the digest docker push printed is the one we name
        assert any(d.endswith(_manifest_digest(engine, registry, ref)) for d in row.digests)


def _manifest_digest(engine, registry, ref):
    out = engine.docker("image", "inspect", "--format", "{{json .RepoDigests}}", ref).stdout
    for d in json.loads(out):
        if d.startswith(ref.rsplit(":", 1)[0] + "@"):
            return d.split("@", 1)[1]
    raise AssertionError(f"no repo digest for {ref}: {out}")


def test_compressed_sizes_equal_blob_heads(registry, pushed):
    _ids, refs = pushed
    snap = collect([refs["ivreg/app:2"]], progress=False, check_blobs=True)
    man = snap.images[0]["manifest"]
    assert man["mediaType"] == MT_DOCKER_MANIFEST
    with RegistryClient() as client:
        ref = parse_reference(refs["ivreg/app:2"])
        for layer in man["layers"]:
            assert client.blob_size(ref, layer["digest"]) == layer["size"]


def test_every_tag_of_a_repository(registry, pushed):
    _ids, refs = pushed
    snap = collect([registry.ref("rl/app:*")], progress=False)
    assert sorted(t for im in snap.images for t in im["tags"]) == [registry.ref("rl/app:1"), registry.ref("rl/app:2")]
    with RegistryClient() as client:
        assert sorted(client.tags(registry.ref("rl/app"))) == ["1", "2"]
        with pytest.raises(RegistryError, match="rl/nothing: no such repository"):
            client.tags(registry.ref("rl/nothing"))


def test_two_references_to_one_image_make_one_record(registry, pushed, engine):
    _ids, refs = pushed
    again = push(engine, "ivreg/base:1", registry, "rl/base-copy:x")
    snap = collect([refs["ivreg/base:1"], again], progress=False)
    assert len(snap.images) == 1
    assert set(snap.images[0]["tags"]) == {refs["ivreg/base:1"], again}


def test_manifest_list_platform_choice_and_attestation_entry(engine, registry, pushed, tmp_path):
    """A manifest list made by `docker manifest` (amd64 + arm64), then the same list with a third
    entry marked the way BuildKit marks attestation manifests (platform unknown/unknown and the
    ``vnd.docker.reference.type`` annotation, in an OCI index): the docker CLI refuses to write that
    platform and BuildKit >= 0.11 is not available here, so the test adds the marking itself and
    PUTs the index to the real registry, which accepts it."""
    ids, refs = pushed
    lst = registry.ref("rl/multi:1")
    _manifest(engine, tmp_path, "create", "--insecure", lst, refs["ivreg/app:1"], refs["ivreg/other:1"])
    _manifest(engine, tmp_path, "annotate", "--os", "linux", "--arch", "arm64", lst, refs["ivreg/other:1"])
    _manifest(engine, tmp_path, "push", "--insecure", "--purge", lst)

    amd = collect([lst], platform="linux/amd64", progress=False).images[0]
    assert amd["id"] == ids["ivreg/app:1"]
    assert amd["index"]["mediaType"] == MT_DOCKER_LIST and len(amd["index"]["manifest"]["manifests"]) == 2
    arm = collect([lst], platform="linux/arm64", progress=False).images[0]
    assert arm["id"] == ids["ivreg/other:1"]
    with pytest.raises(RegistryError, match=r"rl/multi:1: no image for linux/s390x .*has: linux/amd64, linux/arm64"):
        collect([lst], platform="linux/s390x", progress=False)

    import httpx

    index = dict(amd["index"]["manifest"])
    base = collect([refs["ivreg/base:1"]], progress=False).images[0]
    base_raw = httpx.get(f"http://{registry.addr}/v2/rl/base/manifests/{base['manifest_digest']}",
                         headers={"Accept": MT_DOCKER_MANIFEST}).content
    attestation = {"mediaType": MT_DOCKER_MANIFEST, "digest": base["manifest_digest"], "size": len(base_raw),
                   "platform": {"architecture": "unknown", "os": "unknown"},
                   "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                   "vnd.docker.reference.digest": amd["manifest_digest"]}}
    # the index may only name manifests of its own repository: mount the base's into rl/multi
    push(engine, "ivreg/base:1", registry, "rl/multi:base")
    index["mediaType"] = MT_OCI_INDEX
    index["manifests"] = [attestation] + list(index["manifests"])
    put = httpx.put(f"http://{registry.addr}/v2/rl/multi/manifests/att", content=json.dumps(index).encode(),
                    headers={"Content-Type": MT_OCI_INDEX})
    assert put.status_code == 201, put.text
    att = registry.ref("rl/multi:att")
    for plat, want in (("linux/amd64", "ivreg/app:1"), ("linux/arm64", "ivreg/other:1"), (None, None)):
        if plat is None:
            continue
        rec = collect([att], platform=plat, progress=False).images[0]
        assert rec["id"] == ids[want] and rec["index"]["mediaType"] == MT_OCI_INDEX
    # with only the attestation and one image left, the image is chosen whatever the machine
    index["manifests"] = [attestation, index["manifests"][2]]
    put = httpx.put(f"http://{registry.addr}/v2/rl/multi/manifests/att2", content=json.dumps(index).encode(),
                    headers={"Content-Type": MT_OCI_INDEX})
    assert put.status_code == 201, put.text
    assert collect([registry.ref("rl/multi:att2")], progress=False).images[0]["id"] == ids["ivreg/other:1"]


def test_oci_manifest_and_oci_index_written_by_skopeo(engine, registry, pushed, tmp_path):
    ids, refs = pushed
    oci = registry.ref("rl/oci:1")
    _skopeo("copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", "--format", "oci",
            f"docker://{refs['ivreg/app:1']}", f"docker://{oci}")
    rec = collect([oci], progress=False).images[0]
    assert rec["media_type"] == MT_OCI_MANIFEST
    assert {layer["mediaType"] for layer in rec["manifest"]["layers"]} == {"application/vnd.oci.image.layer.v1.tar+gzip"}
    f = frames(collect([oci], progress=False))
    eng = json.loads(engine.docker("image", "inspect", "ivreg/app:1").stdout)[0]
    assert list(f.layers.sort_values("position").diff_id) == eng["RootFS"]["Layers"]

    lst = registry.ref("rl/multi2:1")
    _manifest(engine, tmp_path, "create", "--insecure", lst, refs["ivreg/app:1"], refs["ivreg/other:1"])
    _manifest(engine, tmp_path, "annotate", "--os", "linux", "--arch", "arm64", lst, refs["ivreg/other:1"])
    _manifest(engine, tmp_path, "push", "--insecure", "--purge", lst)
    oci_index = registry.ref("rl/oci-index:1")
    _skopeo("copy", "--quiet", "--all", "--src-tls-verify=false", "--dest-tls-verify=false", "--format", "oci",
            f"docker://{lst}", f"docker://{oci_index}")
    rec = collect([oci_index], platform="linux/arm64", progress=False).images[0]
    assert rec["index"]["mediaType"] == MT_OCI_INDEX
    assert rec["media_type"] == MT_OCI_MANIFEST
    diff_ids = json.loads(engine.docker("image", "inspect", "ivreg/other:1").stdout)[0]["RootFS"]["Layers"]
    assert rec["config"]["rootfs"]["diff_ids"] == diff_ids


def test_a_layer_streamed_from_the_registry_lists_what_docker_save_holds(engine, registry, pushed, tmp_path):
    """The shared layer reader on two media: every layer of ivreg/app:2 streamed from the registry
    (gzip, digest and diff ID checked) gives the same entries, file digests included, as the same
    layer in the engine's own `docker save` (a plain tar)."""
    import tarfile

    from imgviz.sources.archive import Archive
    from imgviz.sources.registry import parse_reference

    _ids, refs = pushed
    engine.docker("save", "-o", str(tmp_path / "app2.tar"), "ivreg/app:2")
    with tarfile.open(tmp_path / "app2.tar") as t:
        saved = dict(zip(json.loads(t.extractfile(json.load(t.extractfile("manifest.json"))[0]["Config"]).read())
                         ["rootfs"]["diff_ids"], json.load(t.extractfile("manifest.json"))[0]["Layers"]))
    ref = parse_reference(refs["ivreg/app:2"])
    with RegistryClient() as client:
        rec = client.image(ref)
        for desc, diff_id in zip(rec["manifest"]["layers"], rec["config"]["rootfs"]["diff_ids"]):
            with client.layer(ref, desc, diff_id, content_digests=True) as stream:
                remote = list(stream)
            assert stream.digest == desc["digest"] and stream.blob_bytes == desc["size"]
            with Archive(tmp_path / "app2.tar") as arc, arc.layer(saved[diff_id], diff_id=diff_id,
                                                                    content_digests=True) as local:
                assert remote == list(local), diff_id
            assert any(e.digest for e in remote) or all(e.type != "file" for e in remote)


def test_open_reads_registry_references(registry, pushed):
    from imgviz import open as open_source

    ids, refs = pushed
    snap, where = open_source(f"registry:{refs['ivreg/app:1']}", progress=False)
    assert where == f"registry {registry.addr}" and [r["id"] for r in snap.images] == [ids["ivreg/app:1"]]
    snap, where = open_source(list(refs.values()), progress=False, read_layers=True)
    assert where == f"registry {registry.addr}" and len(snap.images) == 4
    assert all(isinstance(n, int) for r in snap.images for n in r["layer_sizes"])


def test_unknown_reference_names_it(registry, pushed):
    with pytest.raises(RegistryError, match=r"rl/app:nope: manifest not found"):
        collect([registry.ref("rl/app:nope")], progress=False)
    with pytest.raises(RegistryError, match=r"127\.0\.0\.1:1/x:1: cannot reach 127\.0\.0\.1:1"):
        collect(["127.0.0.1:1/x:1"], progress=False, client=RegistryClient(retries=0))


# ------------------------------------------------------------------------------------------ auth

@pytest.fixture(scope="module")
def auth_pushed(engine, auth_registry, tmp_path_factory):
    build_images(engine, tmp_path_factory.mktemp("ivreg-auth"))
    cfg = tmp_path_factory.mktemp("dockercfg")
    ref = push(engine, "ivreg/app:1", auth_registry, "secret/app:1", config_dir=cfg)
    return ref, cfg


def test_basic_auth_with_docker_login_config(auth_registry, auth_pushed):
    ref, cfg = auth_pushed
    # anonymous: a clear refusal naming the reference
    with pytest.raises(RegistryError, match=r"secret/app:1: the registry needs a login \(401\)") as info:
        collect([ref], progress=False, client=RegistryClient(docker_config=str(cfg / "missing.json")))
    # what `docker login` wrote (auths: base64 user:password)
    with RegistryClient(docker_config=str(cfg / "config.json")) as client:
        snap = collect([ref], progress=False, client=client)
    assert len(snap.images) == 1 and snap.images[0]["config"]["rootfs"]["diff_ids"]
    saved = json.dumps(snap.to_dict())
    assert auth_registry.password not in saved and auth_registry.user not in saved
    assert auth_registry.password not in str(info.value)
    # wrong password
    with pytest.raises(RegistryError, match="secret/app:1: the registry refused the credentials") as bad:
        collect([ref], progress=False, auth=(auth_registry.user, "wrong-" + auth_registry.password))
    assert auth_registry.password not in str(bad.value)


def test_credential_helper_from_docker_config(auth_registry, auth_pushed, tmp_path, monkeypatch):
    """credHelpers: docker.auth runs docker-credential-<name> get, as the docker CLI does."""
    ref, _cfg = auth_pushed
    helper = tmp_path / "bin" / "docker-credential-ivtest"
    helper.parent.mkdir()
    # the helper protocol: the server URL on stdin, JSON {ServerURL, Username, Secret} on stdout
    helper.write_text("#!/bin/sh\nread server\n"
                      f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"{auth_registry.user}\","
                      f"\"Secret\":\"{auth_registry.password}\"}}' \"$server\"\n")
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {auth_registry.addr: "ivtest"}}))
    monkeypatch.setenv("PATH", f"{helper.parent}{os.pathsep}{os.environ['PATH']}")
    with RegistryClient(docker_config=str(tmp_path / "config.json")) as client:
        snap = collect([ref], progress=False, client=client)
    assert snap.images[0]["tags"] == [ref]


def test_cli_reads_a_registry(registry, pushed, capsys):
    from imgviz.cli import main

    _ids, refs = pushed
    assert main(["images", "--json", "--registry", registry.ref("rl/app:*"), "--registry", refs["ivreg/base:1"]]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((r["repository"], r["tag"]) for r in rows) == [
        (registry.ref("rl/app"), "1"), (registry.ref("rl/app"), "2"), (registry.ref("rl/base"), "1")]
    assert all(r["size"] is None for r in rows)  # unknown without the layer blobs, never guessed
