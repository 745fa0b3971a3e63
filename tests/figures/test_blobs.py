"""Figures of compressed vs uncompressed bytes, tested by their data (recorded registry + engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgviz.analysis.pull import compressed_sizes
from imgviz.figures.blobs import compressed_sizes as fig_sizes, compressed_totals as fig_totals
from imgviz.frames import frames
from imgviz.sources import load

DATA = Path(__file__).parent.parent / "data" / "registry"


@pytest.fixture(scope="module")
def rec():
    return {"registry": frames(load(DATA / "registry.json.gz")), "engine": frames(load(DATA / "engine.json.gz"))}


def _image(f, tag):
    hit = f.images[f.images.tags.apply(lambda ts: tag in ts)]
    assert len(hit) == 1
    return hit.image_id.iloc[0]


def test_figures_carry_the_numbers(rec):
    reg, eng = rec["registry"], rec["engine"]
    fig = fig_sizes(reg, uncompressed_from=eng, images=["registry.test:5000/rec/app:2"])
    data = fig.to_plotly_json()["data"]
    assert [t["name"] for t in data] == ["compressed (download)", "uncompressed (engine)"]
    sizes = compressed_sizes(reg.layers, uncompressed_from=eng.layers)
    app2 = _image(reg, "registry.test:5000/rec/app:2")
    want = sizes[sizes.image_id == app2].sort_values("position")
    assert fig.layout.yaxis.title.text == "size (MB)"
    assert list(data[0]["y"]) == pytest.approx([v / 1e6 for v in want.size_compressed])
    assert list(data[1]["y"]) == pytest.approx([v / 1e6 for v in want["size"]])
    assert "registry.test:5000/rec/app:2" in data[0]["hovertext"][3] and "RUN" in data[0]["hovertext"][3]
    tot = fig_totals(reg).to_plotly_json()["data"]
    assert len(tot[0]["x"]) == 4 and all(v is None for v in tot[1]["y"])  # unknown, not guessed


def test_figures_are_figures_with_titles_and_units(rec):
    import plotly.graph_objects as go

    fig = fig_totals(rec["registry"], uncompressed_from=rec["engine"], title="T", height=300)
    assert isinstance(fig, go.Figure) and fig.layout.title.text == "T" and fig.layout.height == 300
    assert fig.layout.yaxis.title.text in ("size (KB)", "size (MB)")
    data = fig.to_plotly_json()["data"]
    assert all(v is not None for v in data[1]["y"])  # with the engine, every image's unpacked size is known
    assert all(c > 0 and u > 0 for c, u in zip(data[0]["y"], data[1]["y"]))
