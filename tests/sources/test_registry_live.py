"""The registry source against Debian's docker-registry, with images pushed by the real engine."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from imgviz.frames import frames
from imgviz.sources._oci import (INDEXES, MT_DOCKER_LIST, MT_DOCKER_MANIFEST, MT_OCI_INDEX, MT_OCI_MANIFEST,
                                 engine_image_id, is_attestation)
from imgviz.sources.registry import RegistryClient, RegistryError, collect, parse_reference

from .._ivreg import IMAGES, build_images
from .._registry import push

pytestmark = [pytest.mark.engine, pytest.mark.registry]


@pytest.fixture(scope="module")
def pushed(engine, registry, tmp_path_factory):
    ids = build_images(engine, tmp_path_factory.mktemp("ivreg"))
    refs = {tag: push(engine, tag, registry, tag.replace("ivreg/", "rl/")) for tag in IMAGES}
    return ids, refs


GZIP_DOCKER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
GZIP_OCI = "application/vnd.oci.image.layer.v1.tar+gzip"


def storage_of(engine) -> str:
    """The engine's storage as imgviz's engine model reads it from the engine's own /version and
    /info: ``graphdriver``, ``containerd`` or ``podman`` (the rule naming image IDs follows it)."""
    from imgviz.sources.engine_model import model_of

    api = engine.api()
    try:
        return model_of(api.version(), engine.info()).storage
    finally:
        api.close()


#: what each engine's ``docker push`` wrote, as the registry serves it back (measured on each):
#: (top-level media type, image manifest media type, layer media types) for an imported image and
#: for a built one. Docker's overlay2 pushes Docker v2 manifests; podman pushes the OCI image its
#: import made as OCI and what buildah built (Docker format under the compat /build) as Docker v2;
#: the containerd store pushes an imported image as an OCI manifest and a built one as the OCI
#: index BuildKit wrote (the image manifest + an attestation manifest).
PUSHED = {
    "graphdriver": {"imported": (MT_DOCKER_MANIFEST, MT_DOCKER_MANIFEST, {GZIP_DOCKER}),
                    "built": (MT_DOCKER_MANIFEST, MT_DOCKER_MANIFEST, {GZIP_DOCKER})},
    "podman": {"imported": (MT_OCI_MANIFEST, MT_OCI_MANIFEST, {GZIP_OCI}),
               "built": (MT_DOCKER_MANIFEST, MT_DOCKER_MANIFEST, {GZIP_DOCKER})},
    "containerd": {"imported": (MT_OCI_MANIFEST, MT_OCI_MANIFEST, {GZIP_OCI}),
                   "built": (MT_OCI_INDEX, MT_OCI_MANIFEST, {GZIP_OCI})},
}


def _served(registry, ref: str, reference: str | None = None) -> tuple[str, bytes]:
    """(media type, bytes) of a manifest as the registry serves it (read without imgviz)."""
    import httpx

    r = parse_reference(ref)
    got = httpx.get(f"http://{registry.addr}/v2/{r.repository}/manifests/{reference or r.target}",
                    headers={"Accept": ", ".join([MT_OCI_INDEX, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST])})
    assert got.status_code == 200, got.text
    return got.headers["content-type"], got.content


def _manifest(engine, config_dir, *args):
    """`docker manifest ...` with a throw-away client config (never the user's ~/.docker)."""
    return engine.docker("--config", str(config_dir), "manifest", *args)


def _skopeo(*args):
    import subprocess

    proc = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_pushed_images_read_back_like_the_engine(engine, registry, pushed):
    """Each image the engine pushed, read back from the registry: the engine's image ID is among the
    digests imgviz records for it, and it is the one imgviz's rule names for this engine's storage
    (config digest on overlay2 and podman; on the containerd store the index a build pushed, or the
    manifest of an imported image); layers, media types and the repo digest as the engine says."""
    ids, refs = pushed
    storage = storage_of(engine)
    snap = collect(list(refs.values()), progress=False)
    assert snap.kind == "registry" and len(snap.images) == 4
    f = frames(snap)
    for tag, ref in refs.items():
        row = f.images[f.images["tags"].apply(lambda t, ref=ref: ref in t)].iloc[0]
        rec = next(r for r in snap.images if r["id"] == row.image_id)
        (named,) = rec["ids"]
        assert engine_image_id(named, storage) == ids[tag], f"{tag}: {named} on {storage}"
        assert ids[tag] in row.image_ids and row.image_ids[0] == row.image_id == named["config"]
        inspect = json.loads(engine.docker("image", "inspect", tag).stdout)[0]
        layers = f.layers[f.layers.image_id == row.image_id].sort_values("position")
        assert list(layers.diff_id) == inspect["RootFS"]["Layers"]
        # media types as the registry serves what this engine pushed, and as PUSHED says for its storage
        top, manifest, layer_types = PUSHED[storage]["imported" if tag == "ivreg/base:1" else "built"]
        served_type, served = _served(registry, ref)
        assert served_type == top == (rec["index"]["mediaType"] if rec["index"] else rec["media_type"])
        if top in INDEXES:
            body = json.loads(served)
            assert named["index"] == "sha256:" + hashlib.sha256(served).hexdigest()
            # BuildKit's index: this image's manifest and an attestation manifest that names it
            (att,) = [m for m in body["manifests"] if is_attestation(m)]
            (img,) = [m for m in body["manifests"] if not is_attestation(m)]
            assert img["digest"] == named["manifest"] == rec["manifest_digest"]
            assert att["annotations"]["vnd.docker.reference.digest"] == img["digest"]
        else:
            assert "index" not in named and named["manifest"] == "sha256:" + hashlib.sha256(served).hexdigest()
        assert rec["media_type"] == manifest
        assert set(layers.media_type) == layer_types
        # compressed sizes come from the manifest; uncompressed stay unknown
        assert layers.size_compressed.notna().all() and (layers.size_compressed > 0).all()
        assert layers["size"].isna().all()
        # the digest the engine's push printed is the one we name; Docker lists it in RepoDigests too,
        # podman lists its local manifest's digest there (for every name), not the pushed one
        repo = ref.rsplit(":", 1)[0]
        assert row.digests == [f"{repo}@{_pushed_digest(engine, ref)}"]
        if storage != "podman":
            assert row.digests == [f"{repo}@{_manifest_digest(engine, registry, ref)}"]


def _pushed_digest(engine, ref: str) -> str:
    """The digest ``docker push`` prints for ``ref`` (pushed again: nothing new is uploaded)."""
    import re

    out = engine.docker("push", ref).stdout
    (digest,) = set(re.findall(r"digest: (sha256:[0-9a-f]{64}) size:", out))
    return digest


def _manifest_digest(engine, registry, ref):
    out = engine.docker("image", "inspect", "--format", "{{json .RepoDigests}}", ref).stdout
    for d in json.loads(out):
        if d.startswith(ref.rsplit(":", 1)[0] + "@"):
            return d.split("@", 1)[1]
    raise AssertionError(f"no repo digest for {ref}: {out}")


def test_compressed_sizes_equal_blob_heads(engine, registry, pushed):
    _ids, refs = pushed
    snap = collect([refs["ivreg/app:2"]], progress=False, check_blobs=True)
    man = snap.images[0]["manifest"]
    # the image manifest this engine pushed (the one its index names on the containerd store)
    assert man["mediaType"] == PUSHED[storage_of(engine)]["built"][1]
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


def _make_list(engine, registry, config_dir, lst: str, amd64: str, arm64: str) -> str:
    """A two-platform list ``lst`` of the images ``amd64`` and ``arm64`` (the second annotated
    linux/arm64); returns its media type as the registry serves it.

    On Docker's overlay2 the docker CLI writes it (`docker manifest create/annotate/push`). The CLI
    cannot elsewhere: it refuses the containerd store's pushes ("is a manifest list": they are
    indexes), and its push of a list over podman's pushes fails ("manifest blob unknown", measured
    with podman 4.3's Docker v2 manifests). There skopeo copies each image manifest into the list's repository
    (from an index, the one for this machine: the manifest the engine runs), unchanged, and the
    harness PUTs the list through the registry API: a Docker list over Docker manifests, else an
    OCI index, as the docker CLI and BuildKit would."""
    import httpx

    if storage_of(engine) == "graphdriver":
        _manifest(engine, config_dir, "create", "--insecure", lst, amd64, arm64)
        _manifest(engine, config_dir, "annotate", "--os", "linux", "--arch", "arm64", lst, arm64)
        _manifest(engine, config_dir, "push", "--insecure", "--purge", lst)
        return _served(registry, lst)[0]
    repo = parse_reference(lst).repository
    entries = []
    for k, (ref, arch) in enumerate(((amd64, "amd64"), (arm64, "arm64"))):
        part = registry.ref(f"{repo}:part{k}")
        _skopeo("copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", f"docker://{ref}",
                f"docker://{part}")
        media, raw = _served(registry, part)
        assert media in (MT_DOCKER_MANIFEST, MT_OCI_MANIFEST), media
        entries.append({"mediaType": media, "digest": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(raw),
                        "platform": {"architecture": arch, "os": "linux"}})
    media = MT_DOCKER_LIST if {e["mediaType"] for e in entries} == {MT_DOCKER_MANIFEST} else MT_OCI_INDEX
    put = httpx.put(f"http://{registry.addr}/v2/{repo}/manifests/{parse_reference(lst).tag}",
                    content=json.dumps({"schemaVersion": 2, "mediaType": media, "manifests": entries}).encode(),
                    headers={"Content-Type": media})
    assert put.status_code == 201, put.text
    return media


def test_manifest_list_platform_choice_and_attestation_entry(engine, registry, pushed, tmp_path):
    """A manifest list (amd64 + arm64; written by `docker manifest` where the CLI can, see
    :func:`_make_list`), pulled by the engine, then the same list with a third
    entry marked the way BuildKit marks attestation manifests (platform unknown/unknown and the
    ``vnd.docker.reference.type`` annotation, in an OCI index): the docker CLI refuses to write that
    platform and BuildKit >= 0.11 is not available here, so the test adds the marking itself and
    PUTs the index to the real registry, which accepts it."""
    ids, refs = pushed
    storage = storage_of(engine)
    # the config digests of the pushed images, tied to the engine's IDs by the rule for its storage
    config = {}
    for tag in ("ivreg/app:1", "ivreg/other:1", "ivreg/base:1"):
        (named,) = collect([refs[tag]], progress=False).images[0]["ids"]
        assert engine_image_id(named, storage) == ids[tag]
        config[tag] = named["config"]
    lst = registry.ref("rl/multi:1")
    list_type = _make_list(engine, registry, tmp_path, lst, refs["ivreg/app:1"], refs["ivreg/other:1"])
    # a Docker list over Docker v2 manifests (overlay2 and podman's built images), an OCI index over
    # the containerd store's OCI manifests
    assert list_type == (MT_OCI_INDEX if storage == "containerd" else MT_DOCKER_LIST)

    amd = collect([lst], platform="linux/amd64", progress=False).images[0]
    assert amd["id"] == config["ivreg/app:1"]
    assert amd["index"]["mediaType"] == list_type and len(amd["index"]["manifest"]["manifests"]) == 2
    # the engine pulls the list: the ID it gives is the one imgviz's rule names for its storage (on
    # the containerd store the list's own digest, elsewhere the amd64 image's config digest)
    engine.docker("pull", lst)
    assert engine.image_id(lst) == engine_image_id(amd["ids"][0], storage)
    assert set(amd["ids"][0].values()) == {amd["id"], amd["manifest_digest"], amd["index"]["digest"]}
    arm = collect([lst], platform="linux/arm64", progress=False).images[0]
    assert arm["id"] == config["ivreg/other:1"]
    with pytest.raises(RegistryError, match=r"rl/multi:1: no image for linux/s390x .*has: linux/amd64, linux/arm64"):
        collect([lst], platform="linux/s390x", progress=False)

    import httpx

    index = dict(amd["index"]["manifest"])
    base = collect([refs["ivreg/base:1"]], progress=False).images[0]
    base_raw = httpx.get(f"http://{registry.addr}/v2/rl/base/manifests/{base['manifest_digest']}",
                         headers={"Accept": base["media_type"]}).content
    attestation = {"mediaType": base["media_type"], "digest": base["manifest_digest"], "size": len(base_raw),
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
        assert rec["id"] == config[want] and rec["index"]["mediaType"] == MT_OCI_INDEX
    # with only the attestation and one image left, the image is chosen whatever the machine
    index["manifests"] = [attestation, index["manifests"][2]]
    put = httpx.put(f"http://{registry.addr}/v2/rl/multi/manifests/att2", content=json.dumps(index).encode(),
                    headers={"Content-Type": MT_OCI_INDEX})
    assert put.status_code == 201, put.text
    assert collect([registry.ref("rl/multi:att2")], progress=False).images[0]["id"] == config["ivreg/other:1"]
    if storage == "containerd":
        # BuildKit's own index (what this engine pushed for a build): its attestation manifest is
        # never taken for the image, whatever the platform asked
        for plat in (None, "linux/amd64"):
            rec = collect([refs["ivreg/app:1"]], platform=plat, progress=False).images[0]
            assert rec["id"] == config["ivreg/app:1"] and rec["index"]["digest"] == ids["ivreg/app:1"]


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
    _make_list(engine, registry, tmp_path, lst, refs["ivreg/app:1"], refs["ivreg/other:1"])
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


def test_open_reads_registry_references(engine, registry, pushed):
    from imgviz import open as open_source

    ids, refs = pushed
    snap, where = open_source(f"registry:{refs['ivreg/app:1']}", progress=False)
    assert where == f"registry {registry.addr}" and len(snap.images) == 1
    assert [engine_image_id(i, storage_of(engine)) for i in snap.images[0]["ids"]] == [ids["ivreg/app:1"]]
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
