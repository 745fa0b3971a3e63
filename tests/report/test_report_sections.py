"""What the report's sections hold, on the demo (recorded from the workshop fleet on a real engine)
and the recordings: every image's history folded, ENV as a grid, containers as the engine ran
them, the rest of `docker system df -v`, and long tables folded in the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from imgviz import Report, demo, frames, load
from imgviz._report import _summarize
from imgviz.analysis import sizes
from imgviz.analysis.env import env_defaults

DATA = Path(__file__).resolve().parent.parent / "data"
pytestmark = pytest.mark.filterwarnings("error::imgviz._report._summarize.SectionWarning")


@pytest.fixture(scope="module")
def report():
    return Report("demo", progress=False)


@pytest.fixture(scope="module")
def data(report):
    return json.loads(report.json())


def _section(data, key):
    return next(s for s in data["sections"] if s["key"] == key)


def _tables(section):
    return [p for p in section["parts"] if p["type"] == "table"]


def test_every_image_has_its_history_folded(report, data):
    f = demo()
    history = _section(data, "history")
    tables = _tables(history)
    assert len(tables) == len(f.images) == 11
    captions = [t["caption"] for t in tables]
    for label in ("workshop/web-ping:v1", "workshop/debian:12", "<none>@fd222f8a6613"):
        assert any(c.startswith(label + " (") for c in captions), label
    v1 = next(t for t in tables if t["caption"].startswith("workshop/web-ping:v1 "))
    assert "built on workshop/node:18" in v1["caption"]
    assert [r["created by"] for r in v1["rows"]][:2] == ['CMD ["node" "/web-ping/app.js"]', "COPY app.js . # buildkit"]
    assert v1["rows"][1]["size"] == 1291
    # folded in the page: one <details> per history table, closed
    page = report.html()
    assert page.count('<details class="iv-fold"><summary>workshop/web-ping:v1 (b0441b8f84aa)') == 1
    assert "<details open" not in page
    # the first figure of the section: one image's base and own layers
    fig = next(p for p in history["parts"] if p["type"] == "figure")["figure"]
    assert fig["layout"]["title"]["text"].startswith("Layers of workshop/httpcheck:1.0: 116.9 MB from workshop/python:3.11")


def test_history_budget_says_what_is_left_out(monkeypatch):
    monkeypatch.setattr(_summarize, "HISTORY_ROWS", 20)
    data = json.loads(Report("demo", progress=False).json())
    history = _section(data, "history")
    assert 1 <= len(_tables(history)) < 11
    facts = [p for p in history["parts"] if p["type"] == "facts"]
    assert facts and "imgviz history IMAGE" in facts[0]["items"][0][1] and "20 history rows" in facts[0]["items"][0][1]


def test_env_is_an_image_by_variable_grid(report, data):
    f = demo()
    env = _section(data, "env")
    grid = _tables(env)[0]
    assert grid["caption"].startswith("ENV defaults: 6 images x 7 variables")
    assert grid["columns"][0] == "image" and {"TARGET", "METHOD", "INTERVAL", "API_TOKEN"} <= set(grid["columns"])
    want = env_defaults(f)
    by_image = {r["image"]: r for r in grid["rows"]}
    for rec in want.itertuples(index=False):
        value = by_image[rec.label][rec.name]
        assert value == ("********" if rec.name == "API_TOKEN" else rec.default), (rec.label, rec.name)
    assert by_image["workshop/pingall:1.0"]["TARGET"] is None  # not set: empty, not guessed
    assert 'class="iv-table iv-grid"' in report.html()


def test_containers_as_the_engine_ran_them(data):
    f = demo()
    rows = _tables(_section(data, "containers"))[0]["rows"]
    by_name = {r["container"]: r for r in rows}
    # what the container was run from, not the image's first tag
    assert by_name["web-ping-docker"]["image"] == "workshop/web-ping:optimized"
    assert by_name["scratch-writer"]["image"] == "workshop/debian:bookworm"
    for c in f.containers.itertuples(index=False):
        assert by_name[c.names[0]]["image"] == c.image
    # the status from the engine's times, not "2 minutes ago" frozen at the recording
    assert by_name["web-ping-google"]["status"] == "Exited (0) 2026-11-28 07:09 UTC, 2 minutes before the snapshot"
    assert by_name["httpcheck-report"]["status"].startswith("Exited (1) 2026-11-28 07:09 UTC")
    assert by_name["web-ping-created"]["status"] == "Created, never started"
    assert not any("ago" in r["status"] for r in rows)
    overrides = _tables(_section(data, "env"))[-1]
    assert {r["image"] for r in overrides["rows"] if r["container"] == "web-ping-docker"} == {"workshop/web-ping:optimized"}


def test_status_text_rules():
    import pandas as pd

    at = pd.Timestamp("2026-11-28T07:11:35Z")
    assert _summarize.status_text("running", None, pd.Timestamp("2026-11-28T06:11:00Z"), None, "Up 1 hour", at) == \
        "Up since 2026-11-28 06:11 UTC, about an hour before the snapshot"
    assert _summarize.status_text("paused", None, None, None, "Up 3 minutes (Paused)", at) == \
        "Up 3 minutes (Paused) (as the engine said at the snapshot)"


def test_disk_section_is_system_df(data):
    f = demo()
    disk = _section(data, "disk")
    lines, cache = _tables(disk)[0], _tables(disk)[1]
    du = sizes.disk_usage(f)
    for row in lines["rows"]:
        assert (row["total"], row["active"], row["size"], row["reclaimable"]) == tuple(
            int(du.at[row["type"], c]) for c in ("total", "active", "size", "reclaimable"))
    assert next(r for r in lines["rows"] if r["type"] == "Build Cache")["size"] == 32_842_462
    assert cache["caption"] == "Build cache records (56)" and len(cache["rows"]) == 51  # top 50 + the rest
    assert sum(r["size"] for r in cache["rows"]) == int(f.build_cache["size"].sum())
    fig = next(p for p in disk["parts"] if p["type"] == "figure")["figure"]
    assert fig["layout"]["title"]["text"].startswith("Build cache: 32.8 MB")
    inter = _tables(disk)[-1]
    assert inter["caption"].startswith("Intermediate images (5)") and len(inter["rows"]) == 5


def test_disk_section_volumes_and_masking():
    f = frames(load(DATA / "dfextras" / "snapshot.json.gz"))
    data = json.loads(Report(f, progress=False).json())
    disk = _section(data, "disk")
    vols = next(t for t in _tables(disk) if t["caption"].startswith("Local volumes"))
    assert [(r["volume"], r["size"], r["links"]) for r in vols["rows"]] == [
        ("ivdf-data", 100_000, 1), ("ivdf-spare", 3000, 0), ("ivdf-empty", 0, 0)]
    assert vols["rows"][2]["labels"] == "team=workshop"
    cache = next(t for t in _tables(disk) if t["caption"].startswith("Build cache records"))
    assert any(r["type"] == "exec.cachemount" for r in cache["rows"])


def test_build_cache_descriptions_are_masked():
    """A RUN command with a secret in it is a build-cache record's description too: masked by the one rule."""
    from ..analysis._df_extras import SECRET

    f = frames(load(DATA / "dfextras" / "snapshot.json.gz"))
    assert any(SECRET in (d or "") for d in f.build_cache["description"])
    masked, shown = Report(f, progress=False), Report(f, progress=False, show_secrets=True)
    assert SECRET not in masked.html() and SECRET not in masked.json() and "API_TOKEN=********" in masked.json()
    assert SECRET in shown.json()


def test_registry_source_says_disk_unknown():
    import warnings

    f = frames(load(DATA / "registry" / "registry.json.gz"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _summarize.SectionWarning)
        data = json.loads(Report(f, progress=False).json())
    disk = _section(data, "disk")
    assert disk["parts"][0]["type"] == "facts" and "unknown here, not 0" in disk["parts"][0]["items"][0][1]


def test_long_tables_fold_and_cells_name_their_column(report):
    page = report.html()
    folds = re.findall(r'<details class="iv-fold"><summary>(.*?)</summary>', page)
    assert len(folds) >= 11 + 2  # every history, the labels, the build cache records
    assert any(s.startswith("Build cache records (56) <span class=\"iv-count\">(50 shown, the rest summed)") for s in folds)
    # a short table stays open: the `docker system df` lines
    assert "<h3>docker system df</h3>" in page
    # every cell says its column (a phone shows rows as cards of "column: value")
    cells = re.findall(r"<td[^>]*>", page)
    assert cells and all("data-label=" in c for c in cells)


def test_one_plotly_js_and_nothing_fetched(report):
    from plotly.offline import get_plotlyjs

    page = report.html()
    assert page.count(get_plotlyjs()) == 1
    rest = page.replace(get_plotlyjs(), "")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest, re.I)
