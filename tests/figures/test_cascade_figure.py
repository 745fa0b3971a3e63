"""The cascade timeline, tested by its data (the figure's traces), not pixels."""

from imgviz.analysis.cascade import cascade as predict
from imgviz.figures.cascade import COLORS, cascade

from ..analysis.test_cascade_cli import _dirs


def test_timeline_colours_and_hover(tmp_path):
    old, new, _ = _dirs(tmp_path, "multistage-source-changed")
    steps = predict(old, new, "buildkit")
    fig = cascade(steps)
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"hit", "miss", "unknown"}
    assert by_name["miss"].marker.color == COLORS["miss"]
    assert sum(len(t.x) for t in fig.data) == len(steps)
    miss_lines = sorted(int(steps.loc[x, "line"]) for x in by_name["miss"].x)
    assert miss_lines == sorted(steps.loc[steps["cached"] == False, "line"].astype(int).tolist())  # noqa: E712
    assert any("re-executed" in h for h in by_name["unknown"].hovertext)
    assert all(h.startswith("<b>line ") for t in fig.data for h in t.hovertext)
    assert fig.layout.title.text == "Build-cache cascade (buildkit): 3 of 10 instructions rebuilt, 3 unknown"
    assert all(t.type == "scatter" for t in fig.data)  # no bytes panel without the old image's history


def test_hover_text_is_escaped(tmp_path):
    old, new, _ = _dirs(tmp_path, "file-edit")
    (new / "Dockerfile").write_text((new / "Dockerfile").read_text().replace("CMD [\"sh\"]", "CMD echo '<b>x</b>'"))
    fig = cascade(predict(old, new, "classic"))
    hovers = [h for t in fig.data for h in t.hovertext]
    assert any("&lt;b&gt;x&lt;/b&gt;" in h for h in hovers) and not any("<b>x</b>" in h for h in hovers)


def test_history_before_after(tmp_path):
    from imgviz.analysis.cascade_advisor import advise
    from imgviz.dockerfile.build import load_build
    from imgviz.figures.cascade import cascade_history

    from ..analysis.test_cascade_advisor import _export, _repo

    repo = tmp_path / "repo"
    repo.mkdir()
    revs = _repo(repo, "base:1")
    builds = []
    for r in revs:
        _export(repo, r, tmp_path / r)
        builds.append(load_build(tmp_path / r))
    result = advise(builds, "classic", labels=[r[:7] for r in revs])
    fig = cascade_history(result["before"], result["after"])
    assert [t.name for t in fig.data] == ["as written (6 steps)", "proposed order (3 steps)"]
    assert list(fig.data[0].y) == [2, 2, 2] and list(fig.data[1].y) == [1, 1, 1]
    assert list(fig.data[0].x) == [r[:7] for r in revs[1:]]
    assert "context bytes copied again: 23 B" in fig.data[0].hovertext[0]


def test_a_failing_build_is_shown_where_it_fails(tmp_path):
    """The builder refuses NEW (a COPY source removed): the steps before it, then a black box whose
    hover and the title carry the builder's reason."""
    old, new, _ = _dirs(tmp_path, "copy-source-removed")
    steps = predict(old, new, "classic", engine_version="28.5.2")
    fig = cascade(steps)
    by_name = {t.name: t for t in fig.data}
    assert by_name["build fails here"].marker.color == COLORS["fails"]
    assert [int(steps.loc[x, "line"]) for x in by_name["build fails here"].x] == [6]
    assert "COPY failed: file not found in build context" in by_name["build fails here"].hovertext[0]
    assert fig.layout.title.text.startswith("Build-cache cascade (classic): the build fails at line 6 (COPY failed")
    assert fig.layout.title.text.endswith("0 of 5 instructions before it rebuilt")
