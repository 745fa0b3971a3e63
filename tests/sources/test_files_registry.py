"""Layer contents from a real registry (Debian's docker-registry on 127.0.0.1): gzip blobs as the
engine pushes them, and zstd blobs (what ``buildx --output compression=zstd`` pushes), each equal to
what the engine itself holds for the same layers."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile

import pytest

from imgviz._files import clear_cache, read_entries

from .._files_images import build_wasteful
from .._registry import push

pytestmark = [pytest.mark.engine, pytest.mark.registry]


@pytest.fixture(scope="module")
def built(engine, tmp_path_factory):
    return build_wasteful(engine, tmp_path_factory.mktemp("wasteful-reg"), cases=["opaque", "hardlinks"])


def _engine_rows(engine, tag):
    clear_cache()
    got = read_entries([tag], host=engine.host, route="stream")
    return got.entries(got.images[0])


def test_registry_gzip_layers_equal_the_engines(engine, registry, built):
    for k, tag in enumerate(built):
        ref = push(engine, tag, registry, f"ivf/reg{k}:1")
        want = _engine_rows(engine, tag)
        clear_cache()
        got = read_entries([ref], source="registry")
        assert got.entries(got.images[0]) == want
        assert got.layers_read == len(set(got.images[0].diff_ids))


def _upload(base: str, name: str, data: bytes) -> str:
    import httpx

    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with httpx.Client(timeout=30) as http:
        r = http.post(f"{base}/v2/{name}/blobs/uploads/")
        assert r.status_code == 202, r.text
        loc = r.headers["Location"]
        url = loc if loc.startswith("http") else base + loc
        url += ("&" if "?" in url else "?") + f"digest={digest}"  # keep the upload's own query
        r = http.put(url, content=data,
                     headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 201, r.text
    return digest


def test_registry_zstd_layers_equal_the_engines(engine, registry, built):
    import httpx
    import zstandard

    tag = built[0]
    save = subprocess.run([getattr(engine, "cli", "/usr/bin/docker"), "save", tag], env=engine.env(),
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(save)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        config_raw = tar.extractfile(manifest["Config"]).read()
        stored = [tar.extractfile(name).read() for name in manifest["Layers"]]
    # what each engine's save holds per layer: the uncompressed tar (20.10, 28.5 on overlay2,
    # podman), or on the containerd store the compressed blob it pulled or built (gzip; stored
    # under its own digest), whose gunzipped bytes are the layer tar
    diff_ids = json.loads(config_raw)["rootfs"]["diff_ids"]
    containerd = engine.kind == "docker28-containerd"
    layers = []
    for name, raw, diff_id in zip(manifest["Layers"], stored, diff_ids):
        if containerd:
            assert raw[:2] == b"\x1f\x8b" and name == "blobs/sha256/" + hashlib.sha256(raw).hexdigest(), name
            raw = gzip.decompress(raw)
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == diff_id, (engine.kind, name)
        layers.append(raw)
    base, name = f"http://{registry.addr}", "ivf/zstd"
    # several zstd frames per blob, as a chunked writer makes them
    comp = zstandard.ZstdCompressor(level=3)
    descs = []
    for raw in layers:
        blob = b"".join(comp.compress(raw[i:i + 4096]) for i in range(0, max(len(raw), 1), 4096))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "size": len(blob),
                      "digest": _upload(base, name, blob)})
    cfg = {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config_raw),
           "digest": _upload(base, name, config_raw)}
    body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": cfg, "layers": descs}).encode()
    r = httpx.put(f"{base}/v2/{name}/manifests/1", content=body,
                  headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert r.status_code == 201, r.text
    clear_cache()
    got = read_entries([f"{registry.addr}/{name}:1"], source="registry")
    assert got.entries(got.images[0]) == _engine_rows(engine, tag)


def test_a_corrupt_zstd_blob_is_one_line(engine, registry):
    import httpx

    from imgviz.errors import SourceError

    base, name = f"http://{registry.addr}", "ivf/badzstd"
    blob = b"\x28\xb5\x2f\xfd" + b"not zstd at all" * 10
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "size": len(blob),
             "digest": _upload(base, name, blob)}
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    cfg = {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
           "digest": _upload(base, name, config)}
    body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": cfg, "layers": [layer]}).encode()
    assert httpx.put(f"{base}/v2/{name}/manifests/1", content=body,
                     headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}).status_code == 201
    clear_cache()
    with pytest.raises(SourceError) as err:
        read_entries([f"{registry.addr}/{name}:1"], source="registry")
    assert "zstd" in str(err.value) and "\n" not in str(err.value)


def test_engine_files_house_rules():
    """The engine's file reader lives under sources/ and imports no other medium; the files frame
    builder and the waste command need no pandas to read and compute dive's figures."""
    import subprocess
    import sys

    from .test_layout import imports

    assert not imports("imgviz.sources.engine_files") & {"imgviz.sources.registry", "imgviz.sources.archive"}
    code = ("import sys; from imgviz.cli import main; from imgviz._commands import waste, files; "
            "import imgviz._files, imgviz.analysis.files; print('pandas' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
