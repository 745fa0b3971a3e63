"""imgviz.open: one way from what a user names to a snapshot, and the line saying which source.

Recorded snapshots only here; the registry and archive forms are read from real ones in
test_registry_live.py and test_archive_live.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import imgviz
from imgviz.errors import EngineUnavailable, ImgvizError
from imgviz.sources import SOURCE_ENV, demo_snapshot, load, open as open_source

FLEET = Path(__file__).resolve().parent.parent / "data" / "fleet" / "snapshot.json.gz"


@pytest.fixture
def no_engine(monkeypatch, tmp_path):
    sock = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", sock)
    monkeypatch.delenv(SOURCE_ENV, raising=False)
    return sock


def test_demo():
    snap, where = open_source("demo")
    assert where == "embedded demo snapshot"
    assert snap.to_dict() == demo_snapshot().to_dict()
    assert imgviz.open is open_source


def test_auto_without_an_engine_says_why_it_took_the_demo(no_engine):
    for source in (None, "auto"):
        snap, where = open_source(source, progress=False)
        assert where.startswith(f"embedded demo snapshot (no Docker engine answered at {no_engine}")
        assert snap.to_dict() == demo_snapshot().to_dict()


def test_engine_without_an_engine_is_one_line(no_engine):
    with pytest.raises(EngineUnavailable) as err:
        open_source("engine", progress=False)
    assert no_engine in str(err.value) and "\n" not in str(err.value)


def test_the_environment_decides_what_none_means(no_engine, monkeypatch):
    monkeypatch.setenv(SOURCE_ENV, "demo")
    assert open_source().description == "embedded demo snapshot"
    monkeypatch.setenv(SOURCE_ENV, str(FLEET))
    assert open_source().description == f"snapshot file {FLEET}"


def test_snapshot_files_by_name_prefix_and_content(tmp_path):
    want = load(FLEET).to_dict()
    for source in (str(FLEET), FLEET, f"snapshot:{FLEET}"):
        snap, where = open_source(source)
        assert where == f"snapshot file {FLEET}" and snap.to_dict() == want
    odd = shutil.copy(FLEET, tmp_path / "engine.snap")  # no .json.gz: told by its content
    snap, where = open_source(str(odd))
    assert where == f"snapshot file {odd}" and snap.to_dict() == want


def test_a_snapshot_object_is_itself():
    snap = load(FLEET)
    same, where = open_source(snap)
    assert same is snap and where == "engine snapshot of unix:///recorded/test-fleet.sock"


def test_what_is_not_a_source_is_one_line(tmp_path):
    with pytest.raises(ImgvizError, match=r"^nope: not a source \(use 'demo', 'engine', 'auto'"):
        open_source("nope")
    with pytest.raises(ImgvizError, match="not a source"):
        open_source(42)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"neither a tar nor JSON\n" * 40)
    with pytest.raises(ImgvizError, match=rf"{junk}: not a readable tar archive"):
        open_source(junk)


def test_cli_and_report_use_the_same_rule(no_engine, monkeypatch, capsys):
    from imgviz.cli import main

    monkeypatch.setenv(SOURCE_ENV, "demo")
    assert main(["summary"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Source: embedded demo snapshot"
    assert imgviz.Report(progress=False).description == "embedded demo snapshot"
    monkeypatch.delenv(SOURCE_ENV)
    assert main(["summary"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(
        f"Source: embedded demo snapshot (no Docker engine answered at {no_engine}")
    f, where = imgviz.open_source("demo")
    assert where == "embedded demo snapshot" and len(f.images) == len(demo_snapshot().images)
