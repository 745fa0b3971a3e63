"""Cascade rules without an engine, on small build directories written here.

The engine-backed proof is test_cascade_scenarios.py; these pin the rules it cannot reach on
Docker 20.10 (features the engine rejects) or that need no engine to state."""

from __future__ import annotations

import pytest

from imgviz.analysis.cascade import CascadeError, cascade


def _pair(tmp_path, old_df, new_df, old_files=None, new_files=None):
    for side, df, files in (("old", old_df, old_files), ("new", new_df, new_files)):
        d = tmp_path / side
        d.mkdir(parents=True)
        (d / "Dockerfile").write_text(df)
        for rel, text in (files or {"a.txt": "a\n", "b.txt": "b\n"}).items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_text(text)
    return tmp_path / "old", tmp_path / "new"


def _cached(df):
    return dict(zip(df["line"], df["cached"]))


def test_copy_link_is_merged_again_after_a_rebuilt_step(tmp_path):
    """Docker 28's BuildKit copies COPY --link onto an empty layer, then merges it onto the parent:
    after a rebuilt step the merge runs again and the step is reported as run (measured on both
    stores), though the copied layer is the old one; its classic builder ignores the flag; Docker
    20.10 refuses it (both builders: an unknown flag to its parser)."""
    old, new = _pair(tmp_path, "FROM b\nRUN echo 1\nCOPY --link a.txt /a\n", "FROM b\nRUN echo 2\nCOPY --link a.txt /a\n")
    steps = cascade(old, new, "buildkit", engine_version="28.5.2")
    assert _cached(steps) == {1: True, 2: False, 3: False} and not steps["warning"].any()
    assert "copied layer is the old build's" in steps.loc[2, "reason"]
    same = cascade(old, old, "buildkit", engine_version="28.5.2")
    assert _cached(same) == {1: True, 2: True, 3: True}
    classic = cascade(old, new, "classic", engine_version="28.5.2")
    assert _cached(classic) == {1: True, 2: False, 3: False}
    for builder in ("buildkit", "classic"):
        with pytest.raises(CascadeError, match="old build fails .* Unknown flag: link"):
            cascade(old, new, builder)


def test_stage_not_needed_is_not_built_by_buildkit(tmp_path):
    df = "FROM b AS unused\nCOPY a.txt /a\nFROM b\nCOPY b.txt /b\n"
    old, new = _pair(tmp_path, df, df, new_files={"a.txt": "changed\n", "b.txt": "b\n"})
    bk = cascade(old, new, "buildkit")
    assert bk.loc[1, "cached"] is None and "not needed" in bk.loc[1, "reason"]
    assert _cached(cascade(old, new, "classic"))[2] is False
    # with --target unused, the first stage is the one built
    assert _cached(cascade(old, new, "buildkit", target="unused"))[2] is False


def test_add_url_is_unknown(tmp_path):
    df = "FROM b\nADD https://example.invalid/x.tgz /x\nRUN true\n"
    old, new = _pair(tmp_path, df, df)
    steps = cascade(old, new, "buildkit")
    assert _cached(steps) == {1: True, 2: None, 3: None}
    assert "remote URL" in steps.loc[1, "reason"] and "line 2" in steps.loc[2, "reason"]


def test_build_args_in_scope_change_run_keys(tmp_path):
    df = "FROM b\nARG V\nRUN echo unrelated\n"
    old, new = _pair(tmp_path, df, df)
    assert _cached(cascade(old, new, "buildkit"))[3] is True
    a = cascade(old, new, "buildkit", build_args={"V": "1"})
    assert _cached(a)[3] is True  # same value on both sides
    # a value only in NEW (declared default) changes RUN's environment, unreferenced or not
    old, new = _pair(tmp_path / "2", df, df.replace("ARG V", "ARG V=x"))
    bk = cascade(old, new, "buildkit")
    assert _cached(bk)[3] is False and "+V=x" in bk.loc[2, "reason"]
    cl = cascade(old, new, "classic")
    assert _cached(cl) == {1: True, 2: False, 3: False}


def test_heredoc_content_is_part_of_the_key(tmp_path):
    """Docker 28's BuildKit keys a RUN heredoc on its body; its classic builder runs only the
    first line (the body is in neither the image nor the key); Docker 20.10 reads the body as
    instructions and fails."""
    old_df = "FROM b\nRUN <<EOF\necho one\nEOF\nRUN true\n"
    old, new = _pair(tmp_path, old_df, old_df.replace("one", "two"))
    steps = cascade(old, new, "buildkit", engine_version="28.5.2")
    assert _cached(steps) == {1: True, 2: False, 5: False}
    assert _cached(cascade(old, new, "classic", engine_version="28.5.2")) == {1: True, 2: True, 5: True}
    plain, _ = _pair(tmp_path / "plain", "FROM b\nRUN true\n", "FROM b\n")
    refused = cascade(plain, new, "buildkit")
    assert refused.attrs["error"]["message"] == "unknown instruction: ECHO" and refused.attrs["error"]["line"] == 3
    assert list(refused["kind"]) == ["error"]   # refused while parsing: no step runs


def test_unknown_builder_and_missing_source(tmp_path):
    old, new = _pair(tmp_path, "FROM b\nCOPY a.txt /x\nRUN true\n", "FROM b\nCOPY nope.txt /x\nRUN true\n")
    with pytest.raises(CascadeError, match="unknown builder 'kaniko'"):
        cascade(old, new, "kaniko")
    steps = cascade(old, new, "buildkit")
    assert steps.attrs["error"] == {"line": 2, "message": 'failed to compute cache key: "/nope.txt" not found: '
                                    "not found", "phase": "context", "builder": "buildkit",
                                    "summary": steps.attrs["error"]["summary"]}
    assert list(steps["kind"]) == ["from", "error"] and steps.loc[1, "cached"] is False
    classic = cascade(old, new, "classic", engine_version="28.5.2")
    assert classic.attrs["error"]["message"] == ("COPY failed: file not found in build context or excluded by "
                                                 ".dockerignore: stat nope.txt: file does not exist")


@pytest.mark.parametrize("builder, version", [(b, v) for b in ("buildkit", "classic") for v in ("20.10.24", "28.5.2")]
                         + [("buildah", "podman 4.3.1")])
def test_prediction_is_pure(tmp_path, builder, version):
    """Every scenario predicts the same from build inputs whose directories are gone: the
    prediction reads nothing after the loader."""
    from imgviz.analysis.cascade import cascade_steps
    from imgviz.builders import get_builder
    from imgviz.dockerfile.build import load_build

    from ..cascade_scenarios import SCENARIOS, expected, runner

    b = get_builder(builder, version)
    for name, sc in SCENARIOS.items():
        if expected(name, builder, b.engine) == "unbuildable":
            continue
        subs = {"{BASE}": "base:1", "{BASE2}": "base:2"}
        old, new = runner.with_bases(sc["old"], subs), runner.with_bases(sc["new"], subs)
        d = tmp_path / name
        runner.materialize(old, d / "old", {}, runner.T_OLD)
        runner.materialize(new, d / "new", runner.new_mtimes(old, new), runner.T_NEW)
        expected_steps = cascade(d / "old", d / "new", builder, engine_version=version)
        inputs = [load_build(d / side, rules=b.context_rules) for side in ("old", "new")]
        runner.clear(d)
        got = cascade_steps(*inputs, builder, engine_version=version)
        assert got.astype(object).equals(expected_steps.astype(object)), name
        assert got.attrs["error"] == expected_steps.attrs["error"], name


def test_inputs_read_with_another_builders_ignore_file_are_refused(tmp_path):
    """The ignore file is the builder's rule: BuildKit (20.10) reads <Dockerfile>.dockerignore,
    which leaves out the edited file; the classic builder copies it.  Inputs read with one rule are
    refused by a builder with the other when the choice matters."""
    from imgviz.builders import get_builder
    from imgviz.dockerfile.build import load_build

    old, new = _pair(tmp_path, "FROM b\nCOPY . /x\n", "FROM b\nCOPY . /x\n",
                     {"Dockerfile.dockerignore": "secret\n", "secret": "s"},
                     {"Dockerfile.dockerignore": "secret\n", "secret": "t"})
    assert _cached(cascade(old, new, "buildkit")) == {1: True, 2: True}
    assert _cached(cascade(old, new, "classic")) == {1: True, 2: False}
    with pytest.raises(CascadeError, match=r"read with \.dockerignore only .* but this builder reads "
                                           r"<Dockerfile>\.dockerignore first"):
        cascade(load_build(old), load_build(new), "buildkit")
    assert _cached(cascade(load_build(old), load_build(new), "classic")) == {1: True, 2: False}
    bk = get_builder("buildkit").context_rules
    assert _cached(cascade(load_build(old, rules=bk), load_build(new, rules=bk), "buildkit")) == {1: True, 2: True}
    # the builder's rule can be overridden for one prediction
    assert _cached(cascade(old, new, "buildkit", prefer_dockerfile_ignore=False)) == {1: True, 2: False}


@pytest.mark.parametrize("version", ["20.10.24", "28.5.2"])
def test_a_wildcard_that_matches_nothing(tmp_path, version):
    """BuildKit copies nothing and goes on; the classic builder fails ('no source files were
    specified'), as the accept/refuse recordings say: the prediction follows each builder."""
    old, new = _pair(tmp_path, "FROM b\nCOPY a.txt /a\nRUN true\n", "FROM b\nCOPY *.none /x/\nRUN true\n")
    bk = cascade(old, new, "buildkit", engine_version=version)
    assert bk.attrs["error"] is None and _cached(bk) == {1: True, 2: False, 3: False}
    cl = cascade(old, new, "classic", engine_version=version)
    assert cl.attrs["error"]["message"] == "COPY failed: no source files were specified"
    assert list(cl["kind"]) == ["from", "error"]
