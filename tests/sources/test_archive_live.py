"""The archive source on real `docker save` tars and on OCI layouts written by skopeo.

Malformed archives are made from the real ones: truncated, a config with broken JSON, a
``../evil`` member, a dropped blob, a config whose bytes no longer match its digest.
"""

from __future__ import annotations

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


def test_legacy_docker_save_reads_every_image(saved):
    ids, out, inspect = saved
    snap = collect(out / "all.tar")
    assert snap.kind == "archive" and snap.source["layout"] == "docker-save"
    f = frames(snap)
    assert sorted(f.images.image_id) == sorted(set(ids.values()))
    for tag in IMAGES:
        row = f.images[f.images.tags.apply(lambda t, tag=tag: tag in t)].iloc[0]
        assert row.image_id == ids[tag]
        layers = f.layers[f.layers.image_id == row.image_id].sort_values("position")
        assert list(layers.diff_id) == inspect[tag]["RootFS"]["Layers"]
        # a legacy save holds uncompressed tars and no blob digests: NA, not a guess
        assert layers.digest.isna().all() and layers.size_compressed.isna().all()


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


def test_bad_json_in_manifest_and_config(saved, tmp_path):
    _ids, out, _inspect = saved
    src = out / "app2.tar"
    bad = _rewrite(src, tmp_path / "badman.tar", replace={"manifest.json": lambda d: d[:-7]})
    with pytest.raises(ArchiveError, match=rf"{bad}: manifest manifest.json is not valid JSON"):
        collect(bad)
    config = next(n for n in _members(src) if n.endswith(".json") and "/" not in n and n != "manifest.json")
    bad = _rewrite(src, tmp_path / "badcfg.tar", replace={config: lambda d: d.replace(b'"rootfs"', b'"rootfs')})
    # the config no longer matches its digest (its name): caught before JSON parsing
    with pytest.raises(ArchiveError, match=rf"{bad}: config {config} digest mismatch: expected sha256:\w+, the "
                                           r"bytes stored hash to sha256:"):
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
    layer = next(n for n in _members(src) if n.endswith("/layer.tar"))
    if engine.kind == "podman":
        # podman's save names each layer <diff ID>.tar in manifest.json; <id>/layer.tar is only a
        # symlink to it (for old readers): without the symlink the image is whole and reads
        with tarfile.open(src) as t:
            assert t.getmember(layer).issym()
            named = json.load(t.extractfile("manifest.json"))[0]["Layers"]
        assert layer not in named
        whole = frames(collect(_rewrite(src, tmp_path / "nolink.tar", drop=[layer]), read_layers=True))
        assert len(whole.images) == 1 and whole.layers["size"].notna().all()
        layer = named[-1]
    bad = _rewrite(src, tmp_path / "nolayer.tar", drop=[layer])
    with pytest.raises(ArchiveError, match=rf"layer {layer} of image sha256:\w+ is missing"):
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
    """Every layer of the saved images, read by the shared streaming reader (plain tars of a legacy
    save, gzip blobs of skopeo's OCI layout), lists what GNU tar lists; file digests equal what
    `sha256sum` prints inside a container of the image."""
    _ids, out, inspect = saved
    seen: dict[str, str] = {}
    kinds: set[str] = set()
    with tarfile.open(out / "all.tar") as t, Archive(out / "all.tar") as arc:
        for entry in json.load(t.extractfile("manifest.json")):
            for name, diff_id in zip(entry["Layers"], json.loads(t.extractfile(entry["Config"]).read())
                                     ["rootfs"]["diff_ids"]):
                with arc.layer(name, diff_id=diff_id, content_digests=True) as stream:
                    entries = list(stream)
                assert stream.diff_id == diff_id and stream.blob_bytes == stream.tar_bytes
                assert _ours(entries) == _gnu_tar_entries(t.extractfile(name).read(), gzip=False), name
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


def test_a_layer_whose_bytes_changed_is_caught_when_read(saved, tmp_path):
    """Same size, one byte flipped: the metadata read cannot tell; reading the layers does, and the
    error names the archive, the layer and both diff IDs."""
    _ids, out, _inspect = saved
    src = out / "app2.tar"
    with tarfile.open(src) as t:
        entry = json.load(t.extractfile("manifest.json"))[0]
    layer = entry["Layers"][-1]

    def flip(data: bytes) -> bytes:
        pos = len(data) // 2
        return data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:]

    bad = _rewrite(src, tmp_path / "flipped.tar", replace={layer: flip})
    assert collect(bad).images
    with pytest.raises(ArchiveError, match=rf"{bad}: layer {layer} unpacks to sha256:\w+, the config says sha256:"):
        collect(bad, read_layers=True)


def test_open_reads_archives_by_path_and_prefix(saved):
    from imgviz import open as open_source

    _ids, out, _inspect = saved
    for source in (out / "all.tar", str(out / "all.tar"), f"archive:{out / 'all.tar'}"):
        snap, where = open_source(source)
        assert where == f"archive {out / 'all.tar'} (docker-save)" and len(snap.images) == 4
    snap, where = open_source(out / "layout", read_layers=True)  # a directory: an OCI layout
    assert where == f"archive {out / 'layout'} (oci)" and all(snap.images[0]["layer_sizes"])
