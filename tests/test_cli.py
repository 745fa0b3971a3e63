"""The CLI on the recorded fleet: tables and JSON match the docker CLI's for the same engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imgviz.cli import main
from imgviz.frames import frames
from imgviz.units import human_size

from ._compare import json_lines

SNAP = str(Path(__file__).parent / "data" / "fleet" / "snapshot.json.gz")


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_images_json_equals_docker_image_ls(capsys, recorded):
    code, out, _ = run(capsys, "images", "--snapshot", SNAP, "--json")
    assert code == 0
    ours = {(r["repository"], r["tag"], r["id"][7:19], human_size(r["size"], 3)) for r in json.loads(out)}
    theirs = {(r["Repository"], r["Tag"], r["ID"], r["Size"]) for r in json_lines(recorded.cli["image_ls"])}
    assert ours == theirs


def test_images_pattern_table(capsys, recorded):
    code, out, _ = run(capsys, "images", "iv/a*", "--snapshot", SNAP)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    theirs = {(r["Repository"], r["Tag"], r["ID"]) for r in json_lines(recorded.cli["image_ls_w"])}
    assert {tuple(line.split()[:3]) for line in lines[1:]} == theirs


def test_history_json_equals_docker_history(capsys, recorded):
    f = frames(recorded.snapshot)
    image_id = f.images[f.images["tags"].apply(lambda t: "iv/app:v1" in t)]["image_id"].iloc[0]
    code, out, _ = run(capsys, "history", "iv/app:v1", "--snapshot", SNAP, "--json")
    assert code == 0
    ours = json.loads(out)
    theirs = json_lines(recorded.cli[f"history {image_id}"])
    assert [(h["id"], h["created_by"], human_size(h["size"], 3)) for h in ours] == \
           [(h["ID"], h["CreatedBy"], h["Size"]) for h in theirs]


def test_history_table_truncates_like_docker(capsys):
    code, out, _ = run(capsys, "history", "iv/classic:1", "--snapshot", SNAP)
    assert code == 0
    assert any(line.count("…") == 1 for line in out.splitlines())
    assert all(len(cell) <= 45 for line in out.splitlines()[1:] for cell in [line[28:73].rstrip()])


@pytest.mark.parametrize("ref", ["nope:1", "ffffffffffff"])
def test_history_unknown_image_is_one_line(capsys, ref):
    code, out, err = run(capsys, "history", ref, "--snapshot", SNAP)
    assert code == 1 and out == ""
    assert err.strip() == f"imgviz: error: {ref}: no such image in this snapshot"


def test_summary_names_its_source(capsys, recorded):
    code, out, _ = run(capsys, "summary", "--snapshot", SNAP)
    assert code == 0
    assert out.splitlines()[0] == f"Source: snapshot file {SNAP}"
    # the disk line is what `docker system df` printed for the same engine
    from ._compare import parse_table

    df_images = {r["TYPE"]: r for r in parse_table(recorded.cli["system_df"], "TYPE")}["Images"]
    disk = next(line for line in out.splitlines() if line.startswith("Bytes of distinct layers"))
    assert disk.split()[-1] == df_images["SIZE"]


def test_snapshot_of_missing_engine_fails_cleanly(capsys, tmp_path):
    code, out, err = run(capsys, "snapshot", "-o", str(tmp_path / "x.json.gz"), "--host", f"unix://{tmp_path}/s")
    assert code == 1 and not (tmp_path / "x.json.gz").exists()
    assert err.count("\n") == 1 and "no Docker engine answered" in err
