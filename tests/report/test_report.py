"""The report object and `imgviz report`, on snapshots recorded from a real engine."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from imgviz import Report, frames, load
from imgviz.cli import main

from ._hostile import MARKUP, SECRETS

DATA = Path(__file__).resolve().parent.parent / "data"
# on engine snapshots every figure and section must be drawn: a "not drawn" line is a failure here
pytestmark = pytest.mark.filterwarnings("error::imgviz._report._summarize.SectionWarning")
FLEET = DATA / "fleet" / "snapshot.json.gz"
HOSTILE = DATA / "hostile" / "snapshot.json.gz"


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _without_plotly_js(page: str) -> str:
    js = _plotly_js()
    assert page.count(js) == 1, "plotly.js must be inlined exactly once"
    return page.replace(js, "")


def test_outputs_of_one_object(hostile_frames):
    r = Report(hostile_frames, description="recorded hostile fleet")
    assert "recorded hostile fleet" in repr(r) and ".write_html" in repr(r) and "secrets masked" in repr(r)
    page = r.html()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    snippet = r.html_snippet(include_plotlyjs=False)
    assert "<html" not in snippet and _plotly_js()[:2000] not in snippet
    assert 'class="imgviz-report"' in snippet
    bundle = r._repr_mimebundle_()
    assert bundle["text/plain"] == repr(r)
    assert bundle["text/html"].startswith("<iframe") and "srcdoc=" in bundle["text/html"]
    data = json.loads(r.json())
    assert data["meta"]["source"] == "recorded hostile fleet" and data["meta"]["secrets_masked"] is True
    keys = [s["key"] for s in data["sections"]]
    assert keys[:3] == ["overview", "sizes", "images"] and "history" in keys and "env" in keys
    assert r.sections() is r.sections()  # computed once


def test_tables_carry_the_frames_numbers(hostile_frames):
    data = json.loads(Report(hostile_frames).json())
    images = next(s for s in data["sections"] if s["key"] == "images")
    table = next(p for p in images["parts"] if p["type"] == "table")
    by_name = {row["image"]: row for row in table["rows"]}
    for rec in hostile_frames.images.itertuples(index=False):
        row = by_name[rec.tags[0]]
        assert (row["size"], row["shared"], row["unique"]) == (rec.size, rec.shared_size, rec.unique_size)
    fig = next(p for p in images["parts"] if p["type"] == "figure")["figure"]
    bars = {t["name"]: dict(zip(t["y"], t["x"])) for t in fig["data"]}
    for rec in hostile_frames.images.itertuples(index=False):
        label = next(y for y in bars["shared with other images"] if rec.short_id in y or rec.tags[0] in y)
        assert bars["shared with other images"][label] == rec.shared_size
        assert bars["unique to the image"][label] == rec.unique_size
    keys = [s["key"] for s in data["sections"]]
    assert {"sizes", "layer-tree", "sharing"} <= set(keys)


def test_page_is_self_contained(hostile_frames):
    page = Report(hostile_frames).html()
    rest = _without_plotly_js(page)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest, re.I), "nothing may load from the network"
    assert "mathjax" not in rest.lower() and "cdn" not in rest.lower()
    assert "Content-Security-Policy" in rest and "connect-src 'none'" in rest
    # every script of ours carries the page's nonce; no inline handlers anywhere
    nonce = re.search(r"script-src 'nonce-([^']+)'", rest).group(1)
    for tag in re.findall(r"<script[^>]*>", rest):
        assert f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+\s*=", rest, re.I)


def test_markup_from_images_is_escaped(hostile_frames):
    page = Report(hostile_frames).html()
    rest = _without_plotly_js(page)
    for markup in MARKUP:
        assert markup not in rest, f"raw markup in the page: {markup}"
    # shown as text: html-escaped in tables
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in rest
    assert "&lt;img src=x onerror=window.__pwned=2&gt;" in rest


@pytest.mark.parametrize("show", [False, True])
def test_secrets_masked_unless_asked(hostile_frames, show):
    r = Report(hostile_frames, show_secrets=show)
    for text in (r.html(), r.json()):
        for secret in SECRETS:
            assert (secret in text) is show, secret
    # the raw frames the report was given keep their values
    assert any(SECRETS[0] in " ".join(env) for env in hostile_frames.images["env"])


def test_figure_text_from_images_is_escaped(hostile_frames):
    from imgviz._report._safe import safe_figure_dict
    import plotly.graph_objects as go

    label = hostile_frames.images["labels"].map(lambda d: d.get("org.example.note")).dropna().iloc[0]
    fig = go.Figure(go.Bar(x=[label], y=[1], text=[label], customdata=[[label]],
                           hovertemplate="%{customdata[0]}<br>size<extra></extra>"))
    fig.update_layout(title=f"<b>about</b> {label}")
    safe = safe_figure_dict(fig)
    assert safe["data"][0]["x"] == ["&lt;img src=x onerror=window.__pwned=2&gt;"]
    assert safe["data"][0]["customdata"] == [["&lt;img src=x onerror=window.__pwned=2&gt;"]]
    assert safe["data"][0]["hovertemplate"] == "%{customdata[0]}<br>size<extra></extra>"
    assert safe["layout"]["title"]["text"] == "<b>about</b> &lt;img src=x onerror=window.__pwned=2&gt;"
    # idempotent: already-escaped text is not escaped again
    assert safe_figure_dict(go.Figure(safe))["data"][0]["x"] == safe["data"][0]["x"]


def test_cli_writes_the_report_and_prints_its_path(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--snapshot", str(FLEET), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Source: snapshot file {FLEET}" in printed
    assert str(out.resolve()) in printed and out.stat().st_size > 4_000_000


def test_cli_errors_are_one_line(tmp_path, capsys, monkeypatch):
    assert main(["report", "--snapshot", str(tmp_path / "missing.json.gz"), "-o", str(tmp_path / "x.html")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.json.gz" in err[0]
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert main(["report", "--engine", "-o", str(tmp_path / "x.html")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Docker engine answered" in err[0] and "no-engine.sock" in err[0]
    assert main(["report", "--snapshot", str(FLEET), "--top", "0", "-o", str(tmp_path / "x.html")]) == 1
    assert not (tmp_path / "x.html").exists()


def test_report_budget_for_2000_images():
    from bench._synthetic import synthetic_frames

    f = synthetic_frames(2000, 20000)
    start = time.monotonic()
    r = Report(f, description="synthetic 2,000 images")
    page = r.html()
    elapsed = time.monotonic() - start
    assert len(f.images) >= 2000
    assert len(page.encode()) < 15_000_000
    assert elapsed < 60
    data = json.loads(r.json())
    images = next(s for s in data["sections"] if s["key"] == "images")
    table = next(p for p in images["parts"] if p["type"] == "table")
    assert len(table["rows"]) == r.top + 1 and table["rows"][-1]["image"] == f"other ({len(f.images) - r.top:,} images)"
    assert sum(row["size"] for row in table["rows"]) == int(f.images["size"].sum())
    repos = next(s for s in data["sections"] if s["key"] == "repositories")
    rows = next(p for p in repos["parts"] if p["type"] == "table")["rows"]
    assert len(rows) == r.top + 1 and sum(row["images"] for row in rows) == len(f.images)
    for section in data["sections"]:
        for part in section["parts"]:
            if part["type"] == "figure":  # aggregated: no figure draws every image or layer
                assert len(json.dumps(part["figure"])) < 1_500_000, section["key"]
                for trace in part["figure"]["data"]:
                    if trace["type"] == "bar":
                        assert len(trace.get("y") or []) <= r.top + 1, section["key"]
                    if trace["type"] in ("icicle", "sunburst"):
                        assert len(trace["ids"]) < 2 * r.top * 4 + 50


def test_demo_report_under_budget_and_masked(tmp_path):
    import imgviz

    r = Report("demo")
    assert r.description == "embedded demo snapshot"
    path = r.write_html(tmp_path / "demo.html")
    page = path.read_text()
    assert path.stat().st_size < 8_000_000
    _without_plotly_js(page)
    staging = imgviz.demo().images[imgviz.demo().images["tags"].map(lambda t: "workshop/web-ping:staging" in t)]
    env = " ".join(staging.iloc[0]["env"])
    token = next(e.split("=", 1)[1] for e in staging.iloc[0]["env"] if e.startswith("API_TOKEN="))
    assert token in env and token not in page and "API_TOKEN=********" in page
    note = staging.iloc[0]["labels"]["org.example.fleet.note"]
    assert "<script>" in note and note not in page
    import html

    assert html.escape(note, quote=True) in page


def test_cli_without_a_source_falls_back_to_the_demo_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    out = tmp_path / "auto.html"
    assert main(["report", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Source: embedded demo snapshot (no Docker engine answered at") and str(out) in printed
    assert "embedded demo snapshot" in out.read_text()


def test_registry_snapshot_report_shows_download_sizes():
    """A registry knows compressed blob sizes but not unpacked ones: the report still gets made."""
    import warnings

    from imgviz._report._summarize import SectionWarning

    f = frames(load(DATA / "registry" / "registry.json.gz"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SectionWarning)  # figures that need unpacked sizes say so
        data = json.loads(Report(f).json())
    keys = [s["key"] for s in data["sections"]]
    assert keys[0] == "overview" and "history" in keys
    compressed = next(s for s in data["sections"] if s["key"] == "compressed")
    fig = next(p for p in compressed["parts"] if p["type"] == "figure")["figure"]
    bars = {t["name"]: t for t in fig["data"]}
    want = f.layers.groupby("image_id")["size_compressed"].sum()
    names = dict(zip(f.images["image_id"], [t[0] for t in f.images["tags"]]))
    got = dict(zip(bars["compressed (download)"]["x"], bars["compressed (download)"]["y"]))
    assert len(got) == len(want)
    scale = max(want) / max(got.values())
    for image_id, total in want.items():
        assert got[names[image_id]] * scale == pytest.approx(total)
    # nothing of an engine-only section pretends to know: no containers, sizes left unknown
    assert next(s for s in data["sections"] if s["key"] == "containers")["parts"][0]["items"] == [["Containers", "none"]]


def test_registry_report_keeps_unknown_sizes_unknown(capsys):
    """A registry does not say unpacked sizes: the report says "unknown" where `imgviz summary` says "-",
    and never adds up a partial sum or fills 0."""
    import warnings

    from imgviz._report._summarize import SectionWarning
    from imgviz.analysis.sizes import totals

    path = DATA / "registry" / "registry.json.gz"
    f = frames(load(path))
    t = totals(f)["value"]
    assert t[["reported", "logical", "physical"]].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SectionWarning)
        report = Report(f)
        data, page = json.loads(report.json()), report.html()
    facts = dict(next(s for s in data["sections"] if s["key"] == "overview")["parts"][0]["items"])
    for key in ("`docker image ls` adds up to", "Sum of image sizes", "Bytes of distinct layers"):
        assert facts[key].startswith("unknown "), (key, facts[key])
        assert "0B" not in facts[key]
    assert "Unknown sizes" in facts and "Saved by sharing layers" not in facts
    assert "<dt>Sum of image sizes</dt><dd>unknown (each image once" in page
    images = next(s for s in data["sections"] if s["key"] == "images")
    rows = next(p for p in images["parts"] if p["type"] == "table")["rows"]
    assert len(rows) == len(f.images) and all(r["size"] is None and r["unique"] is None for r in rows)
    repos = next(s for s in data["sections"] if s["key"] == "repositories")
    assert all(r["bytes"] is None for r in next(p for p in repos["parts"] if p["type"] == "table")["rows"])
    # the command line says the same thing its way
    assert main(["summary", "--snapshot", str(path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Each image counted once"))
    assert line.split()[-1] == "-"


def test_engine_snapshot_has_no_download_section(hostile_frames):
    assert "compressed" not in [s.key for s in Report(hostile_frames).sections()]
