"""``imgviz cascade``: JSON shape, --git, one-line errors (no engine needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imgviz._commands.cascade import main
from imgviz.sources.engine import engine_version

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
    assert out["builder"] == "buildkit" and out["engine"] == "20.10.24" and "error" not in out
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


@pytest.mark.parametrize("version, builder, line, message", [
    ("20.10.24", "buildkit", 6, 'failed to compute cache key: "/b.txt" not found: not found'),
    ("28.5.2", "buildkit", 6, 'failed to compute cache key: failed to calculate checksum of ref: "/b.txt": not found'),
    ("28.5.2", "classic", 6, "COPY failed: file not found in build context or excluded by .dockerignore: "
                             "stat b.txt: file does not exist"),
])
def test_a_failing_build_is_predicted_as_a_failure(tmp_path, capsys, version, builder, line, message):
    """NEW removes a file a COPY needs: the steps before it, the step where the builder stops with
    its reason, exit status 1, in JSON and in text (each engine's own words)."""
    old, new, _ = _dirs(tmp_path, "copy-source-removed")
    argv = [str(old), str(new), "--builder", builder, "--engine-version", version]
    assert main(argv + ["--json"]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert set(out) == {"builder", "engine", "error", "steps"} and out["engine"] == version
    assert out["error"] == {"line": line, "message": message}
    assert [s["line"] for s in out["steps"]] == [1, 2, 3, 4, 5] and all(s["cached"] for s in out["steps"])
    assert captured.err.count("\n") == 1 and message in captured.err
    assert main(argv) == 1
    captured = capsys.readouterr()
    text = captured.out.splitlines()
    assert text[0].endswith(f"of Docker {'.'.join(version.split('.')[:2])}, checked on Docker {version}")
    assert text[-2].startswith(f"   {line}  FAIL  COPY b.txt /app/b.txt") and message in text[-2]
    assert text[-1].startswith(f"{builder}: the build fails at line {line}: ") and "5 instructions before it" in text[-1]


def test_a_podman_engine_version_predicts_with_buildah(tmp_path, capsys):
    """podman's /version (``podman 4.3.1``, as --inspect-bases reads it) picks buildah's rules
    whatever --builder says: its words for the missing file (measured on podman 4.3.1, scenario
    copy-source-removed), and the engine named as podman's in JSON and text."""
    old, new, _ = _dirs(tmp_path, "copy-source-removed")
    argv = [str(old), str(new), "--builder", "buildkit", "--engine-version", "podman 4.3.1"]
    assert main(argv + ["--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["builder"] == "buildah" and out["engine"] == "podman 4.3.1"
    assert out["error"] == {"line": 6, "message": 'copier: stat: "/b.txt": no such file or directory'}
    assert [s["cached"] for s in out["steps"]] == [True] * 5
    assert main(argv) == 1
    text = capsys.readouterr().out.splitlines()
    assert text[0] == "buildah of podman 4.3, checked on podman 4.3.1"
    assert text[-1].startswith("buildah: the build fails at line 6: ")


def test_engine_version_picks_the_parser(tmp_path, capsys):
    """A heredoc: Docker 20.10 reads its body as instructions (the build fails at the body's first
    line); Docker 28 builds it and keys the RUN on the body."""
    for side, word in (("old", "one"), ("new", "two")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "Dockerfile").write_text(f"FROM base:1\nRUN <<EOF\necho {word}\nEOF\n")
    assert main([str(tmp_path / "old"), str(tmp_path / "new"), "--json", "--engine-version", "28.5.2"]) == 0
    assert [s["cached"] for s in json.loads(capsys.readouterr().out)["steps"]] == [True, False]
    assert main([str(tmp_path / "old"), str(tmp_path / "new"), "--json"]) == 1
    err = capsys.readouterr().err
    assert "the old build fails with BuildKit of Docker 20.10" in err and "unknown instruction: ECHO" in err
    assert main([str(tmp_path / "old"), str(tmp_path / "new"), "--engine-version", "nineteen"]) == 1
    assert "engine version 'nineteen' is not a version like 20.10.24" in capsys.readouterr().err


@pytest.mark.parametrize("version", ["20.10.24", "28.5.2"])
def test_3000_nested_substitutions(tmp_path, capsys, version):
    """3,000 nested ${...}: closed, it expands (no RecursionError); left open, the builder's error in
    one line of bounded length, exit status 1."""
    depth = 3000
    ok = "FROM base:1\nENV A=" + "${UNSET:-" * depth + "x" + "}" * depth + "\nRUN echo $A\n"
    for name, text in (("old", "FROM base:1\nENV A=x\nRUN echo $A\n"), ("ok", ok),
                       ("bad", ok.replace("}\nRUN", "\nRUN"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(text)
    for builder in ("buildkit", "classic"):
        assert main([str(tmp_path / "old"), str(tmp_path / "ok"), "--builder", builder,
                     "--engine-version", version]) == 0
        out = capsys.readouterr().out
        assert out.strip().endswith("0 rebuilt, 0 unknown" if builder == "classic" else "0 unknown")
        assert main([str(tmp_path / "old"), str(tmp_path / "bad"), "--builder", builder,
                     "--engine-version", version]) == 1
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and len(captured.err) < 600
        assert "syntax error: missing '}'" in captured.err and ":2: failed to process" in captured.err


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
    argv = [str(tmp_path / "old"), str(tmp_path / "new"), "--builder", builder, "--json", "--image", f"{tag}:old",
            "--inspect-bases"]
    version = engine_version(engine.host)    # podman: "podman 4.3.1", and buildah's rules
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["engine"] == version          # the rules of the engine the command talked to
    assert out["builder"] == ("buildah" if version.startswith("podman") else builder)
    steps = out["steps"]
    sizes = json.loads(engine.docker("image", "inspect", f"{tag}:old").stdout)[0]
    hist = engine.api().history(f"{tag}:old")
    if out["builder"] == "buildkit":  # keyed by layers: same layers, so the COPY and RUN hit
        assert [s["cached"] for s in steps] == [True, True, True] and [s["bytes"] for s in steps] == [0, 0, 0]
    else:  # classic, buildah: new image ID: both steps rebuilt, each rewriting its old layer's bytes
        assert [s["cached"] for s in steps] == [False, False, False]
        assert [s["bytes"] for s in steps[1:]] == [h["Size"] for h in reversed(hist[:2])]
        assert steps[1]["bytes"] >= 5000 and steps[2]["bytes"] >= 10000
    assert sizes["Id"]
