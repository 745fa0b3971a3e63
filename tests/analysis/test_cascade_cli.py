"""``imgviz cascade``: JSON shape, --git, one-line errors (no engine needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imgviz._commands.cascade import main

from ..cascade_scenarios import SCENARIOS
from ..cascade_scenarios import runner


def _dirs(tmp_path, name):
    sc = SCENARIOS[name]
    old = {**sc["old"], "Dockerfile": sc["old"]["Dockerfile"].replace("{BASE}", "base:1")}
    new = {**sc["new"], "Dockerfile": sc["new"]["Dockerfile"].replace("{BASE}", "base:1").replace("{BASE2}", "base:2")}
    runner.materialize(old, tmp_path / "old", {}, runner.T_OLD)
    runner.materialize(new, tmp_path / "new", runner.new_mtimes(old, new), runner.T_NEW)
    return tmp_path / "old", tmp_path / "new", new


def test_json_shape(tmp_path, capsys):
    old, new, spec = _dirs(tmp_path, "multistage-source-changed")
    assert main([str(old), str(new), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["builder"] == "buildkit"
    lines = [n for n, text in enumerate(spec["Dockerfile"].splitlines(), 1) if text and not text.startswith("#")]
    assert [s["line"] for s in out["steps"]] == lines
    for s in out["steps"]:
        assert set(s) == {"stage", "line", "instruction", "text", "cached", "reason"}
        assert s["cached"] in (True, False, None) and s["reason"]
    cached = {s["line"]: s["cached"] for s in out["steps"]}
    assert cached[3] is False and cached[9] is None  # src.txt changed; COPY --from after a re-run RUN


def test_classic_text_output(tmp_path, capsys):
    old, new, _ = _dirs(tmp_path, "label-edit")
    assert main([str(old), str(new), "--builder", "classic"]) == 0
    out = capsys.readouterr().out
    assert "MISS" in out and "labels changed" in out and out.strip().endswith("0 unknown")


def test_git_revisions(tmp_path, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "app").mkdir()
    (repo / "app" / "Dockerfile").write_text("FROM base:1\nCOPY a.txt /a.txt\nRUN cat /a.txt\n")
    (repo / "app" / "a.txt").write_text("one\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    (repo / "app" / "a.txt").write_text("two\n")
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    assert main(["--git", str(repo), "HEAD~1", "HEAD", "app", "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert [s["cached"] for s in steps] == [True, False, False]


@pytest.mark.parametrize("argv, message", [
    (["/nonexistent/old", "/nonexistent/new"], "build directory '/nonexistent/old' does not exist"),
    (["only-one"], "expected OLD NEW build directories"),
    (["--git", "/nonexistent", "a", "b"], "is not a git repository"),
])
def test_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and err.startswith("imgviz: error:")


def test_syntax_error_names_file_and_line(tmp_path, capsys):
    for side in ("old", "new"):
        (tmp_path / side).mkdir()
    (tmp_path / "old" / "Dockerfile").write_text("FROM base:1\n")
    (tmp_path / "new" / "Dockerfile").write_text("FROM base:1\nCOPPY a b\n")
    assert main([str(tmp_path / "old"), str(tmp_path / "new")]) == 1
    err = capsys.readouterr().err.strip()
    assert f"{tmp_path / 'new' / 'Dockerfile'}:2: unknown instruction: COPPY" in err and "'COPPY a b'" in err


def test_module_entry_point(tmp_path):
    old, new, _ = _dirs(tmp_path, "file-edit")
    proc = subprocess.run([sys.executable, "-m", "imgviz._commands.cascade", str(old), str(new), "--json"],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["steps"][3]["cached"] is False


@pytest.mark.engine
@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_image_bytes_and_inspected_bases(engine, tmp_path, capsys, monkeypatch, builder):
    """--image adds the bytes of the old image's layers; --inspect-bases reads the bases from the
    engine (DOCKER_HOST), so a base retagged onto the same layers is recognised by BuildKit."""
    tag = f"imgviz-cascade/cli-{builder}"
    tar = runner.busybox_tar(tag)
    runner.import_base(engine, tar, f"{tag}:base")
    runner.import_base(engine, tar, f"{tag}:base-relabelled")   # same layers, new config
    df = "FROM {B}\nCOPY a.txt /a.txt\nRUN cat /a.txt /a.txt > /tmp/twice\n"
    runner.materialize({"Dockerfile": df.replace("{B}", f"{tag}:base"), "a.txt": "a" * 5000}, tmp_path / "old",
                       {}, runner.T_OLD)
    runner.materialize({"Dockerfile": df.replace("{B}", f"{tag}:base-relabelled"), "a.txt": "a" * 5000},
                       tmp_path / "new", {}, runner.T_OLD)
    runner.build(engine, tmp_path / "old", f"{tag}:old", builder)
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    assert main([str(tmp_path / "old"), str(tmp_path / "new"), "--builder", builder, "--json",
                 "--image", f"{tag}:old", "--inspect-bases"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    sizes = json.loads(engine.docker("image", "inspect", f"{tag}:old").stdout)[0]
    hist = engine.api().history(f"{tag}:old")
    if builder == "buildkit":  # keyed by layers: same layers, so the COPY and RUN hit
        assert [s["cached"] for s in steps] == [True, True, True] and [s["bytes"] for s in steps] == [0, 0, 0]
    else:                      # new image ID: both steps rebuilt, each rewriting its old layer's bytes
        assert [s["cached"] for s in steps] == [False, False, False]
        assert [s["bytes"] for s in steps[1:]] == [h["Size"] for h in reversed(hist[:2])]
        assert steps[1]["bytes"] >= 5000 and steps[2]["bytes"] >= 10000
    assert sizes["Id"]
