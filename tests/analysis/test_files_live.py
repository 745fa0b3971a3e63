"""File-level analyses against a real engine: dive 0.13.1 and `docker export` are the oracles.

Every wasteful image (tests/_files_images.py: files deleted later, overwritten, chmod-only
changes, opaque directories, hard links, symlinks, retyped paths; both builders) is built on the
session's engine; then for each image:

- imgviz's dive figures (size, wasted bytes, efficiency, the files counted twice) equal
  ``dive IMAGE --json``'s, and ``imgviz waste --ci`` passes and fails where ``dive --ci`` does;
- the union of the layers equals ``docker export`` of a container of the image (paths, types,
  sizes, modes, owners, link targets);
- the engine's two routes (its own layer records, the ``docker save`` stream) and a ``docker
  save`` archive give the same rows.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess

import pytest

from imgviz._files import clear_cache, read_entries

from .._files_images import (dive_binary, dive_ci, dive_export, dive_figures, export_listing, ours_figures,
                             tags as all_tags, union_listing, build_wasteful)

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def wasteful(engine, tmp_path_factory):
    return build_wasteful(engine, tmp_path_factory.mktemp("wasteful"))


@pytest.fixture(scope="module")
def read(engine, wasteful):
    clear_cache()
    return read_entries(wasteful, host=engine.host, route="stream")


def _image(read, tag):
    return next(i for i in read.images if i.ref == tag)


def _need(wasteful, tag):
    if tag not in wasteful:
        pytest.skip(f"{tag}: this engine has no such builder")


@pytest.fixture(scope="module")
def dive():
    if not dive_binary():
        pytest.fail("dive is missing: it is in the test extra (pip install -e '.[test]')")
    return dive_binary()


@pytest.mark.parametrize("tag", all_tags())
def test_waste_equals_dive(engine, wasteful, read, dive, tag):
    from imgviz.analysis.files import dive_entries

    _need(wasteful, tag)
    export = dive_export(engine, tag)
    ours = dive_entries(read.entries(_image(read, tag)))
    assert ours_figures(ours) == dive_figures(export)
    assert ours["layer_sizes"] == [layer["sizeBytes"] for layer in export["layer"]]


@pytest.mark.parametrize("tag", all_tags())
def test_union_equals_docker_export(engine, wasteful, read, tag):
    _need(wasteful, tag)
    assert union_listing(read.entries(_image(read, tag))) == export_listing(engine, tag)


def test_local_route_equals_stream_where_the_engine_allows_it(engine, wasteful, read):
    from imgviz.sources.engine_files import EngineFilesError, read as read_engine

    info = engine.api().info()
    if info.get("Driver") != "overlay2":
        with pytest.raises(EngineFilesError, match="route='stream'"):
            read_engine(wasteful[:1], host=engine.host, route="local")
        got = read_engine(wasteful, host=engine.host, route="auto", content_digests=True)
        assert got.route == "stream"
        return
    local = read_engine(wasteful, host=engine.host, route="local", content_digests=True)
    stream = read_engine(wasteful, host=engine.host, route="stream", content_digests=True)
    assert local.route == "local" and stream.route == "stream"
    assert local.layers == stream.layers
    assert [i["config"] for i in local.images] == [i["config"] for i in stream.images]
    assert local.bytes_read < stream.bytes_read / 10


def test_a_docker_save_archive_gives_the_engines_rows(engine, wasteful, read, tmp_path):
    archive = tmp_path / "wasteful.tar"
    subprocess.run([getattr(engine, "cli", "/usr/bin/docker"), "save", "-o", str(archive), *wasteful],
                   env=engine.env(), check=True, capture_output=True)
    clear_cache()
    got = read_entries(wasteful, source=f"archive:{archive}")
    for tag in wasteful:
        assert got.entries(_image(got, tag)) == read.entries(_image(read, tag)), tag


def test_each_layer_is_read_once(engine, wasteful):
    clear_cache()
    first = read_entries(wasteful, host=engine.host, route="stream")
    distinct = {d for img in first.images for d in img.diff_ids}
    assert first.layers_read == len(distinct) < sum(len(i.diff_ids) for i in first.images)
    again = read_entries(wasteful[:3], host=engine.host)
    assert again.layers_read == 0
    assert again.layers_reused == len({d for i in again.images for d in i.diff_ids})


def _cli(*argv: str) -> tuple[int, str]:
    from imgviz.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_cli_waste_json_and_ci_gate_follow_dive(engine, wasteful, dive, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    for tag in wasteful[::3]:
        code, text = _cli("waste", tag, "--json")
        out = json.loads(text)
        assert code == 0
        figures = dive_figures(dive_export(engine, tag))
        assert {"size_bytes": out["size_bytes"], "wasted_bytes": out["wasted_bytes"], "efficiency": out["efficiency"],
                "files": sorted((f["path"], f["count"], f["wasted_bytes"]) for f in out["files"])} == figures
        assert {"image", "size_bytes", "wasted_bytes", "efficiency", "files", "layers"} <= set(out)
        assert [r["position"] for r in out["layers"]] == list(range(len(out["layers"])))
    settings = [(), ("--lowestEfficiency", "0.5"), ("--highestWastedBytes", "100KB", "--lowestEfficiency", "0.1"),
                ("--highestUserWastedPercent", "0.99", "--lowestEfficiency", "disabled")]
    checked = 0
    for tag in wasteful[::2]:
        for flags in settings:
            code, _ = _cli("waste", tag, "--ci", *flags)
            assert code == dive_ci(engine, tag, *flags), (tag, flags)
            checked += 1
    assert checked >= 8


def test_cli_files_lists_the_final_tree_and_a_layer(engine, wasteful, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    tag = next(t for t in wasteful if t.startswith("ivf/opaque:"))
    code, text = _cli("files", tag, "--json")
    paths = {r["path"]: r for r in json.loads(text)["files"]}
    assert code == 0 and "/o/new" in paths and "/o/a" not in paths and "/o/sub" not in paths
    code, text = _cli("files", tag, "--layer", "2", "--json")
    rows = {r["path"]: r for r in json.loads(text)["entries"]}
    # an opaque /o (overlay2's differ) or whiteouts of its children (the containerd store's): 50 kB hidden
    assert sum(r["hidden_bytes"] for r in rows.values()) == 50_004
    assert rows["/o/new"]["change"] == "added"
    if rows["/o"]["opaque"]:
        assert rows["/o"]["change"] == "modified" and rows["/o"]["hidden_bytes"] == 50_004
        code, text = _cli("files", tag, "--layer", "2")
        assert "/o/ (opaque" in text and "modified" in text
    else:
        assert {p for p, r in rows.items() if r["change"] == "removed"} == {"/o/a", "/o/sub"}


def test_unknown_image_and_bad_layer_are_one_line_errors(engine, wasteful, monkeypatch, capsys):
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    assert _cli("waste", "ivf/no-such-image:1")[0] == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"imgviz: error: ivf/no-such-image:1: no such image on the engine at {engine.host}"]
    assert _cli("files", wasteful[0], "--layer", "99")[0] == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no layer 99" in err[0]
    assert _cli("waste", wasteful[0], "--ci", "--lowestEfficiency", "2")[0] == 1
    assert "CI misconfigured" in capsys.readouterr().err
