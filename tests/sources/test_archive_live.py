"""The archive source on real `docker save` tars and on OCI layouts written by skopeo.

Each engine's `docker save` is read as that engine wrote it: the legacy layout (Docker 20.10, podman)
or, from Docker 25 on, an OCI image layout (index.json, blobs/sha256/...) beside the legacy
manifest.json, whose blobs are the engine's uncompressed layer tars (overlay2) or the compressed
content of the containerd image store. Malformed archives are made from the real ones, broken where
that layout keeps the thing: truncated, a config with broken JSON, a ``../evil`` member, a dropped
layer or blob, a config or manifest whose bytes no longer match its digest, a changed layer.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from imgviz.frames import frames
from imgviz.sources.archive import Archive, ArchiveError, collect

from .._ivreg import IMAGES, build_images

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def saved(engine, tmp_path_factory):
    ids = build_images(engine, tmp_path_factory.mktemp("ivreg-archive"))
    out = tmp_path_factory.mktemp("saved")
    engine.docker("save", "-o", str(out / "all.tar"), *IMAGES)
    engine.docker("save", "-o", str(out / "app2.tar"), "ivreg/app:2")
    for kind, dest in (("oci", f"oci:{out / 'layout'}:ivreg/app:2"),
                       ("oci-archive", f"oci-archive:{out / 'oci.tar'}:ivreg/app:2")):
        proc = subprocess.run(["skopeo", "copy", "--quiet", *engine.skopeo_source("ivreg/app:2", out.parent),
                               dest], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    inspect = {tag: json.loads(engine.docker("image", "inspect", tag).stdout)[0] for tag in IMAGES}
    return ids, out, inspect


def _save_layout(path: Path) -> str:
    """How the engine wrote a `docker save` tar: Docker 25+ adds an OCI layout beside manifest.json."""
    names = set(_members(path))
    return "docker-save-oci" if {"index.json", "oci-layout", "manifest.json"} <= names else "docker-save"


def _save_manifest(path: Path) -> list[dict]:
    with tarfile.open(path) as t:
        return json.load(t.extractfile("manifest.json"))


def _member_sizes(path: Path) -> dict[str, int]:
    with tarfile.open(path) as t:
        return {m.name: m.size for m in t if m.isreg()}


def test_legacy_docker_save_reads_every_image(saved, engine):
    """`docker save` of four images as the engine wrote it: image IDs, tags and diff IDs equal the
    engine's; the blob columns are what the layout holds (none in a legacy save; in an OCI-layout
    save the blobs manifest.json lists, exactly)."""
    ids, out, inspect = saved
    layout = _save_layout(out / "all.tar")
    assert layout == ("docker-save-oci" if engine.kind.startswith("docker28") else "docker-save")
    snap = collect(out / "all.tar")
    assert snap.kind == "archive" and snap.source["layout"] == layout
    f = frames(snap)
    assert len(f.images) == len(set(ids.values()))
    entry = {e["RepoTags"][0]: e for e in _save_manifest(out / "all.tar")}
    member_size = _member_sizes(out / "all.tar")
    for tag in IMAGES:
        row = f.images[f.images.tags.apply(lambda t, tag=tag: tag in t)].iloc[0]
        assert list(row.tags) == [tag]  # the engine's name, as `docker image ls` prints it
        rec = next(r for r in snap.images if r["id"] == row.image_id)
        if engine.kind == "docker28-containerd":
            # that store names an image by the index (or manifest) its name points to, which docker
            # save writes into index.json; imgviz's image_id stays the config digest
            target = rec["index"]["digest"] if rec.get("index") else rec["manifest_digest"]
            assert target == ids[tag]
            assert row.image_id == rec["manifest"]["config"]["digest"] == \
                "sha256:" + entry[tag]["Config"].split("/")[-1]
        else:
            assert row.image_id == ids[tag]
        layers = f.layers[f.layers.image_id == row.image_id].sort_values("position")
        assert list(layers.diff_id) == inspect[tag]["RootFS"]["Layers"]
        if layout == "docker-save":
            # a legacy save holds uncompressed tars and no blob digests: NA, not a guess
            assert layers.digest.isna().all() and layers.size_compressed.isna().all()
            continue
        # an OCI-layout save: the layer blobs its manifest.json lists, by digest and stored size
        assert list(layers.digest) == ["sha256:" + n.split("/")[-1] for n in entry[tag]["Layers"]]
        assert list(layers.size_compressed) == [member_size[n] for n in entry[tag]["Layers"]]
        if engine.kind == "docker28":
            # overlay2 saves its uncompressed layer tars: the blob digest is the engine's diff ID
            assert list(layers.digest) == inspect[tag]["RootFS"]["Layers"]
            assert set(layers.media_type) == {"application/vnd.oci.image.layer.v1.tar"}
        else:
            # the containerd store saves its content store's compressed blobs
            assert layers.digest.tolist() != inspect[tag]["RootFS"]["Layers"]
            assert set(layers.media_type) <= {"application/vnd.oci.image.layer.v1.tar+gzip",
                                              "application/vnd.docker.image.rootfs.diff.tar.gzip"}
    # reading the layers checks every blob against its digest and its unpacked tar against the
    # engine's diff ID
    verified = collect(out / "all.tar", read_layers=True)
    assert sorted(r["id"] for r in verified.images) == sorted(f.images.image_id)
    assert all(r["layer_sizes"] and all(isinstance(n, int) for n in r["layer_sizes"]) for r in verified.images)


def test_an_image_saved_by_its_id_is_read_untagged(saved, engine, tmp_path):
    """`docker save ID` gives the image no name: Docker 25+ lists it in manifest.json and leaves it
    out of index.json (which indexes names). It is read all the same, untagged, beside a tagged one,
    with the engine's diff IDs (and, in an OCI-layout save, its layer blobs)."""
    ids, _out, inspect = saved
    path = tmp_path / "byid.tar"
    engine.docker("save", "-o", str(path), ids["ivreg/other:1"], "ivreg/app:2")
    f = frames(collect(path, read_layers=True))
    assert len(f.images) == 2
    assert [list(t) for t in f.images.sort_values("n_layers", ascending=False).tags] == [["ivreg/app:2"], []]
    other = f.images[f.images.tags.map(len) == 0].image_id.iloc[0]
    layers = f.layers[f.layers.image_id == other].sort_values("position")
    assert list(layers.diff_id) == inspect["ivreg/other:1"]["RootFS"]["Layers"]
    assert layers["size"].notna().all()
    if _save_layout(path) == "docker-save-oci":
        blobs = {e["Config"].split("/")[-1]: e["Layers"] for e in _save_manifest(path)}
        assert list(layers.digest) == ["sha256:" + n.split("/")[-1] for n in blobs[other[7:]]]
    if engine.kind != "docker28-containerd":
        assert other == ids["ivreg/other:1"]


def test_legacy_layers_verified_on_request(saved):
    _ids, out, _inspect = saved
    snap = collect(out / "all.tar", read_layers=True)
    assert snap.source["bytes_read"] > 0.9 * snap.source["file_size"] / 2  # really read the layers


def test_metadata_read_does_not_read_layer_bytes(saved):
    _ids, out, _inspect = saved
    size = (out / "app2.tar").stat().st_size
    with Archive(out / "app2.tar") as arc:
        images = arc.images()
        meta = arc.bytes_read
    assert len(images) == 1
    # headers, manifest.json and the config only: a few KB of a ~2.5 MB tar
    assert meta < 64 * 1024 < size
    with Archive(out / "app2.tar") as arc:
        arc.images(read_layers=True)
        assert arc.bytes_read > size * 0.9


@pytest.mark.parametrize("which", ["layout", "oci.tar"])
def test_oci_layouts_written_by_skopeo(saved, which):
    ids, out, inspect = saved
    snap = collect(out / which)
    assert snap.source["layout"] == "oci"
    f = frames(snap)
    # skopeo rewrites the config as an OCI config (other bytes, so another config digest):
    # the image ID differs from the engine's, the layers and history do not
    assert len(f.images) == 1 and f.images.image_id.iloc[0] != ids["ivreg/app:2"]
    assert snap.images[0]["manifest"]["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert list(f.images.tags.iloc[0]) == ["ivreg/app:2"]
    layers = f.layers.sort_values("position")
    assert list(layers.diff_id) == inspect["ivreg/app:2"]["RootFS"]["Layers"]
    assert layers.digest.notna().all() and (layers.size_compressed > 0).all()
    assert set(layers.media_type) == {"application/vnd.oci.image.layer.v1.tar+gzip"}
    verified = collect(out / which, read_layers=True)
    assert verified.images[0]["id"] == snap.images[0]["id"]


# ------------------------------------------------------------------------------------ malformed

def _rewrite(src: Path, dst: Path, *, drop=(), replace=None, add=()) -> Path:
    """Copy a real tar member by member, dropping, replacing or adding members."""
    replace = replace or {}
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for m in tin:
            if any(m.name.startswith(d) for d in drop):
                continue
            data = tin.extractfile(m).read() if m.isreg() else None
            if m.name in replace:
                data = replace[m.name](data)
                m.size = len(data)
            tout.addfile(m, io.BytesIO(data) if data is not None else None)
        for name, data in add:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))
    return dst


def _members(path: Path) -> list[str]:
    with tarfile.open(path) as t:
        return t.getnames()


def test_truncated_tar(saved, tmp_path):
    _ids, out, _inspect = saved
    raw = (out / "app2.tar").read_bytes()
    for cut in (len(raw) // 2, len(raw) - 3000, 700):
        bad = tmp_path / f"cut{cut}.tar"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ArchiveError, match=rf"{bad}: (truncated|not a readable tar|.*missing)"):
            collect(bad)


def test_not_a_tar(tmp_path):
    bad = tmp_path / "notes.tar"
    bad.write_bytes(b"this is not an archive\n" * 100)
    with pytest.raises(ArchiveError, match=rf"{bad}: not a readable tar archive"):
        collect(bad)
    with pytest.raises(ArchiveError, match="no such file"):
        collect(tmp_path / "nope.tar")


def _index_target(path: Path) -> tuple[str, str]:
    """(member, what) of the blob index.json points to first: a manifest, or (containerd store) an index."""
    with tarfile.open(path) as t:
        desc = json.load(t.extractfile("index.json"))["manifests"][0]
    return "blobs/sha256/" + desc["digest"].split(":")[1], "index" if "index" in desc["mediaType"] else "manifest"


def test_bad_json_in_manifest_and_config(saved, tmp_path):
    _ids, out, _inspect = saved
    src = out / "app2.tar"
    bad = _rewrite(src, tmp_path / "badman.tar", replace={"manifest.json": lambda d: d[:-7]})
    with pytest.raises(ArchiveError, match=rf"{bad}: manifest manifest.json is not valid JSON"):
        collect(bad)
    # the config manifest.json names: <hex>.json in a legacy save, the blob the OCI manifest names in
    # an OCI-layout save
    config = _save_manifest(src)[0]["Config"]
    what = "config" if _save_layout(src) == "docker-save" else "config blob"
    bad = _rewrite(src, tmp_path / "badcfg.tar", replace={config: lambda d: d.replace(b'"rootfs"', b'"rootfs')})
    # the config no longer matches its digest (its name): caught before JSON parsing
    with pytest.raises(ArchiveError, match=rf"{bad}: {what} {config} digest mismatch: expected "
                                           rf"sha256:{config.split('/')[-1].removesuffix('.json')}, the bytes stored hash to sha256:"):
        collect(bad)
    if _save_layout(src) == "docker-save":
        return
    # an OCI-layout save: its index.json, and the manifest (or index) blob index.json points to
    bad = _rewrite(src, tmp_path / "badindex.tar", replace={"index.json": lambda d: d[:-7]})
    with pytest.raises(ArchiveError, match=rf"{bad}: index index.json is not valid JSON"):
        collect(bad)
    blob, what = _index_target(src)
    bad = _rewrite(src, tmp_path / "badtarget.tar", replace={blob: lambda d: d.replace(b'"schemaVersion"',
                                                                                        b'"schemaVersion ')})
    with pytest.raises(ArchiveError, match=rf"{bad}: {what} blob {blob} digest mismatch: expected "
                                           rf"sha256:{blob[-64:]}, the bytes stored hash to sha256:"):
        collect(bad)


def test_path_traversal_member_is_refused(saved, tmp_path):
    _ids, out, _inspect = saved
    bad = _rewrite(out / "app2.tar", tmp_path / "evil.tar", add=[("../evil", b"owned\n")])
    with pytest.raises(ArchiveError, match=r"member '\.\./evil' escapes the archive"):
        collect(bad)
    bad = _rewrite(out / "app2.tar", tmp_path / "abs.tar", add=[("/etc/evil", b"owned\n")])
    with pytest.raises(ArchiveError, match=r"absolute path"):
        collect(bad)
    assert not (tmp_path.parent / "evil").exists()


def test_missing_layer_and_missing_blob(saved, tmp_path, engine):
    _ids, out, _inspect = saved
    src = out / "app2.tar"
    # the top layer manifest.json lists: <id>/layer.tar in a legacy save, the layer blob the OCI
    # manifest names in an OCI-layout save, <diff ID>.tar in podman's
    layer = _save_manifest(src)[0]["Layers"][-1]
    if engine.kind == "podman":
        # podman's <id>/layer.tar is only a symlink to the <diff ID>.tar manifest.json names (for old
        # readers): without the symlink the image is whole and reads
        link = next(n for n in _members(src) if n.endswith("/layer.tar"))
        with tarfile.open(src) as t:
            assert t.getmember(link).issym()
        assert link not in _save_manifest(src)[0]["Layers"]
        whole = frames(collect(_rewrite(src, tmp_path / "nolink.tar", drop=[link]), read_layers=True))
        assert len(whole.images) == 1 and whole.layers["size"].notna().all()
    bad = _rewrite(src, tmp_path / "nolayer.tar", drop=[layer])
    if _save_layout(src) == "docker-save":
        with pytest.raises(ArchiveError, match=rf"{bad}: layer {layer} of image sha256:\w+ is missing"):
            collect(bad)
    else:
        with pytest.raises(ArchiveError, match=rf"{bad}: layer blob {layer} of manifest sha256:\w+ is missing"):
            collect(bad)
    oci = out / "oci.tar"
    with tarfile.open(oci) as t:
        index = json.load(t.extractfile("index.json"))
        manifest = json.load(t.extractfile("blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]))
    blob = "blobs/sha256/" + manifest["layers"][-1]["digest"].split(":")[1]
    bad = _rewrite(oci, tmp_path / "noblob.tar", drop=[blob])
    with pytest.raises(ArchiveError, match=rf"layer blob {blob} of manifest sha256:\w+ is missing"):
        collect(bad)
    cfg = "blobs/sha256/" + manifest["config"]["digest"].split(":")[1]
    bad = _rewrite(oci, tmp_path / "nocfg.tar", drop=[cfg])
    with pytest.raises(ArchiveError, match=rf"config blob {cfg} is missing"):
        collect(bad)


def test_cli_reads_an_archive(saved, capsys, engine):
    from imgviz.cli import main

    _ids, out, _inspect = saved
    assert main(["images", "--archive", str(out / "all.tar")]) == 0
    text = capsys.readouterr().out
    for tag in IMAGES:
        repo, tag_ = tag.split(":")
        assert any(line.split()[:2] == [repo, tag_] for line in text.splitlines()), text
    if engine.kind == "podman":
        # buildah records COPY as `/bin/sh -c #(nop) COPY file:<digest of the files> in <dest> `: the
        # archive's history reads as `podman history` prints it, row for row
        import re

        assert main(["history", "--archive", str(out / "all.tar"), "ivreg/app:1", "--json"]) == 0
        ours = json.loads(capsys.readouterr().out)
        theirs = json.loads(engine.podman_remote("history", "--no-trunc", "--format", "json", "ivreg/app:1").stdout)
        assert [(r["created_by"], r["comment"]) for r in ours] == [(r["CreatedBy"], r["comment"]) for r in theirs]
        (copy,) = [r for r in ours if r["instruction"] == "COPY"]
        assert re.fullmatch(r"/bin/sh -c #\(nop\) COPY file:[0-9a-f]{64} in /app/app.txt ", copy["created_by"])
    else:
        assert main(["history", "--archive", str(out / "all.tar"), "ivreg/app:1"]) == 0
        assert "COPY app.txt /app/app.txt" in capsys.readouterr().out
    assert main(["images", "--archive", str(out / "missing.tar")]) == 1
    assert "missing.tar: no such file or directory" in capsys.readouterr().err


# ------------------------------------------------------------------------- the layer reader

def _gnu_tar_entries(blob: bytes, *, gzip: bool) -> list[tuple]:
    """GNU tar's reading of a layer: (type, permissions, uid, gid, size, path, link) per member."""
    import posixpath
    import re

    proc = subprocess.run(["tar", "-t", "-v", "--numeric-owner", "--full-time", "--quoting-style=literal",
                           *(["-z"] if gzip else []), "-f", "-"], input=blob, capture_output=True, check=True)
    out = []
    for line in proc.stdout.decode().splitlines():
        m = re.match(r"^(\S)(\S{9})\s+(\d+)/(\d+)\s+(\d+)\s+\S+ \S+ (.*)$", line)
        assert m, line
        kind, perms, uid, gid, size, rest = m.groups()
        link = None
        if kind == "l":
            rest, link = rest.split(" -> ", 1)
        elif kind == "h":
            rest, link = rest.split(" link to ", 1)
            link = posixpath.normpath("/" + link).lstrip("/")
        out.append((kind, perms, int(uid), int(gid), int(size), posixpath.normpath("/" + rest).lstrip("/"), link))
    return out


def _ours(entries) -> list[tuple]:
    import stat

    kinds = {"file": "-", "dir": "d", "symlink": "l", "hardlink": "h", "char": "c", "block": "b", "fifo": "p"}
    return [(kinds[e.type], stat.filemode(e.mode)[1:], e.uid, e.gid, e.size, e.path, e.link) for e in entries]


def test_layer_reader_entries_equal_gnu_tar_and_contents_equal_the_engine(saved, engine):
    """Every layer of the saved images, read by the shared streaming reader (plain tars of a legacy or
    an overlay2 save, gzip blobs of a containerd-store save and of skopeo's OCI layout), lists what GNU
    tar lists; file digests equal what `sha256sum` prints inside a container of the image."""
    _ids, out, inspect = saved
    seen: dict[str, str] = {}
    kinds: set[str] = set()
    with tarfile.open(out / "all.tar") as t, Archive(out / "all.tar") as arc:
        for entry in json.load(t.extractfile("manifest.json")):
            for name, diff_id in zip(entry["Layers"], json.loads(t.extractfile(entry["Config"]).read())
                                     ["rootfs"]["diff_ids"]):
                blob = t.extractfile(name).read()
                # a legacy or overlay2 save stores the layer's tar; the containerd store its gzip blob
                gz = blob[:2] == b"\x1f\x8b"
                with arc.layer(name, diff_id=diff_id, content_digests=True) as stream:
                    entries = list(stream)
                assert stream.diff_id == diff_id and stream.blob_bytes == len(blob)
                assert stream.tar_bytes == (len(gzip.decompress(blob)) if gz else len(blob))
                assert _ours(entries) == _gnu_tar_entries(blob, gzip=gz), name
                seen.update({e.path: e.digest for e in entries if e.type == "file"})
                kinds.update(e.type for e in entries)
    assert {"file", "dir", "symlink"} <= kinds  # busybox's applets are symlinks
    with Archive(out / "layout") as arc:
        manifest = arc.images()[0]["manifest"]
        diff_ids = arc.images()[0]["config"]["rootfs"]["diff_ids"]
        for desc, diff_id in zip(manifest["layers"], diff_ids):
            name = "blobs/sha256/" + desc["digest"].split(":")[1]
            with arc.layer(name, digest=desc["digest"], diff_id=diff_id) as stream:
                entries = list(stream)
            assert stream.digest == desc["digest"] and stream.blob_bytes == desc["size"] and stream.tar_bytes > 0
            assert _ours(entries) == _gnu_tar_entries((out / "layout" / name).read_bytes(), gzip=True), name
    files = ["/app/app.txt", "/app/stamp", "/app/blob"]
    printed = engine.docker("run", "--rm", "--network", "none", "ivreg/app:2", "sha256sum", *files).stdout
    for line in printed.splitlines():
        hexdigest, path = line.split()
        assert seen[path.lstrip("/")] == "sha256:" + hexdigest, path


def _flip(data: bytes) -> bytes:
    pos = len(data) // 2
    return data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:]


def _redigested(src: Path, dst: Path, layer: str, new: bytes) -> tuple[Path, str]:
    """``src`` with the layer blob ``layer`` replaced by ``new`` under its own digest, and every
    manifest, index, index.json and manifest.json that named it rewritten to name the new one (digest
    and size), so each digest holds again; the configs stay as the engine wrote them. Returns (tar,
    the new blob's member name)."""
    configs = {e["Config"] for e in _save_manifest(src)}
    with tarfile.open(src) as t:
        data = {m.name: t.extractfile(m).read() for m in t if m.isreg()}
    sizes: dict[str, int] = {}  # old hex -> new hex, and the new blob's size

    def rename(name: str, body: bytes) -> str:
        hexdigest = hashlib.sha256(body).hexdigest()
        renamed[name.split("/")[-1]] = hexdigest
        sizes[hexdigest] = len(body)
        return "blobs/sha256/" + hexdigest

    def rewrite(value):
        if isinstance(value, dict):
            out = {rewrite(k): rewrite(v) for k, v in value.items()}
            if isinstance(out.get("digest"), str) and out["digest"][7:] in sizes and "size" in out:
                out["size"] = sizes[out["digest"][7:]]
            return out
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if isinstance(value, str):
            for old, new_hex in renamed.items():
                value = value.replace(old, new_hex)
        return value

    renamed: dict[str, str] = {}
    del data[layer]
    name = rename(layer, new)
    data[name] = new
    changed = True
    while changed:
        changed = False
        for member in list(data):
            if member in configs or not (member.endswith(".json") or data[member][:1] in (b"{", b"[")):
                continue
            body = json.dumps(rewrite(json.loads(data[member])), separators=(",", ":")).encode()
            if body == data[member] or json.loads(body) == json.loads(data[member]):
                continue
            changed = True
            del data[member]
            data[rename(member, body) if member.startswith("blobs/") else member] = body
    with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for member, body in sorted(data.items()):
            info = tarfile.TarInfo(member)
            info.size = len(body)
            tout.addfile(info, io.BytesIO(body))
    return dst, name


def test_a_layer_whose_bytes_changed_is_caught_when_read(saved, tmp_path):
    """Same size, one byte flipped: the metadata read cannot tell; reading the layers does, and the
    error names the archive, the layer and what no longer holds: in a legacy save, its diff ID; in
    an OCI-layout save, the blob's digest (a flipped byte breaks a gzip blob's check too: the digest
    is the cause named). A changed layer whose blob digests were all made to hold again is still
    caught by the diff ID the config says."""
    _ids, out, inspect = saved
    src = out / "app2.tar"
    layer = _save_manifest(src)[0]["Layers"][-1]
    bad = _rewrite(src, tmp_path / "flipped.tar", replace={layer: _flip})
    assert collect(bad).images
    diff_id = inspect["ivreg/app:2"]["RootFS"]["Layers"][-1]
    if _save_layout(src) == "docker-save":
        with pytest.raises(ArchiveError, match=rf"{bad}: layer {layer} unpacks to sha256:\w+, the config says "
                                               rf"{diff_id}$"):
            collect(bad, read_layers=True)
        return
    with pytest.raises(ArchiveError, match=rf"{bad}: layer blob {layer} digest mismatch: expected "
                                           rf"sha256:{layer[-64:]}, the bytes stored hash to sha256:\w+$"):
        collect(bad, read_layers=True)
    with tarfile.open(src) as t:
        blob = t.extractfile(layer).read()
    changed = gzip.compress(_flip(gzip.decompress(blob))) if blob[:2] == b"\x1f\x8b" else _flip(blob)
    bad, name = _redigested(src, tmp_path / "redigested.tar", layer, changed)
    assert collect(bad).images
    with pytest.raises(ArchiveError, match=rf"{bad}: layer blob {name} unpacks to sha256:\w+, the config says "
                                           rf"{diff_id}$"):
        collect(bad, read_layers=True)


def test_open_reads_archives_by_path_and_prefix(saved):
    from imgviz import open as open_source

    _ids, out, _inspect = saved
    layout = _save_layout(out / "all.tar")
    for source in (out / "all.tar", str(out / "all.tar"), f"archive:{out / 'all.tar'}"):
        snap, where = open_source(source)
        assert where == f"archive {out / 'all.tar'} ({layout})" and len(snap.images) == 4
    snap, where = open_source(out / "layout", read_layers=True)  # a directory: an OCI layout
    assert where == f"archive {out / 'layout'} (oci)" and all(snap.images[0]["layer_sizes"])
