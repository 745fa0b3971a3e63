"""The report in Debian's chromium at a laptop's and a phone's width: nothing wider than the screen,
every figure drawn, titles whole, legends off the bars, code wrapped at spaces, figures stacked,
no console error, nothing fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgviz import Report, frames, load

pytestmark = pytest.mark.browser
DATA = Path(__file__).resolve().parent.parent / "data"
WIDTHS = [1280, 390]

# per figure: the svg's size, the title's box, the legend's box and the plot areas' boxes (page px)
MEASURE = """
() => Array.from(document.querySelectorAll('.iv-figure')).map(function (el) {
  var svg = el.querySelector('svg.main-svg');
  var box = function (e) { if (!e) { return null; } var r = e.getBoundingClientRect();
                            return {l: r.left, r: r.right, t: r.top, b: r.bottom, w: r.width, h: r.height}; };
  var plots = Array.from(el.querySelectorAll('.cartesianlayer .subplot .plot')).map(function (p) {
    return box(p.closest('.subplot').querySelector('.bg') || p); });
  return {id: el.id, svg: box(svg), figure: box(el), title: box(el.querySelector('.g-gtitle .gtitle')),
          legend: box(el.querySelector('.legend .bg')), plots: plots,
          traces: (el.data || []).length, drawn: el.querySelectorAll('svg.main-svg').length};
})
"""


def _overlap(a, b) -> float:
    if not a or not b:
        return 0.0
    w = min(a["r"], b["r"]) - max(a["l"], b["l"])
    h = min(a["b"], b["b"]) - max(a["t"], b["t"])
    return max(w, 0) * max(h, 0)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("layout")
    return {
        "demo": Report("demo", progress=False).write_html(out / "demo.html"),
        "dfextras": Report(frames(load(DATA / "dfextras" / "snapshot.json.gz")), progress=False)
        .write_html(out / "dfextras.html"),
        "fleet": Report(frames(load(DATA / "fleet" / "snapshot.json.gz")), progress=False).write_html(out / "fleet.html"),
    }


def _open(chromium, path: Path, width: int):
    from .._browser import PageLog

    page = chromium.new_page(viewport={"width": width, "height": 900})
    log = PageLog(page)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    n = page.locator(".iv-figure").count()
    page.wait_for_function(f"document.querySelectorAll('.iv-figure svg.main-svg').length >= {n}", timeout=30_000)
    return page, log


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["demo", "dfextras", "fleet"])
def test_layout(chromium, pages, name, width):
    page, log = _open(chromium, pages[name], width)
    try:
        # closed and open: the page fits its width either way
        for opened in (False, True):
            if opened:
                page.evaluate("document.querySelectorAll('details').forEach(function (d) { d.open = true; })")
                page.wait_for_timeout(100)
            scroll = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
            assert max(scroll[:2]) <= scroll[2], f"{name} at {width}px overflows ({scroll}), details open: {opened}"
            wide = page.evaluate("""(w) => Array.from(document.querySelectorAll('.imgviz-report *'))
                .filter(function (e) { var r = e.getBoundingClientRect();
                  return r.width > 0 && (r.right > w + 1 || r.left < -1) && !e.closest('.iv-table-wrap, svg'); })
                .map(function (e) { return e.tagName + '.' + e.className; }).slice(0, 5)""", width)
            assert wide == [], f"{name} at {width}px: elements outside the page: {wide}"
        figs = page.evaluate(MEASURE)
        assert len(figs) >= 5
        tops = []
        for fig in figs:
            assert fig["drawn"] >= 1 and fig["traces"] >= 1, fig["id"]
            svg = fig["svg"]
            assert svg["w"] <= width and svg["l"] >= -1, (fig["id"], svg)
            # every figure takes the column's width, one below the other
            assert svg["w"] >= fig["figure"]["w"] - 2
            tops.append(svg["t"])
            title = fig["title"]
            assert title is not None, fig["id"]
            assert title["l"] >= svg["l"] - 1 and title["r"] <= svg["r"] + 1 and title["t"] >= svg["t"] - 1, \
                f"{name} at {width}px: title of {fig['id']} cut: {title} in {svg}"
            for plot in fig["plots"]:
                assert _overlap(title, plot) == 0, f"title over the plot in {fig['id']}"
                assert _overlap(fig["legend"], plot) == 0, f"{name} at {width}px: legend over the bars in {fig['id']}"
        assert tops == sorted(tops)
        # code wraps at spaces: no code cell squeezed to a few characters a line
        narrow = page.evaluate("""() => Array.from(document.querySelectorAll('td.iv-code'))
            .filter(function (e) { return e.offsetParent !== null && e.textContent.length > 20; })
            .map(function (e) { return e.getBoundingClientRect().width; })""")
        assert narrow and min(narrow) >= 120, f"{name} at {width}px: a code cell {min(narrow)} px wide"
        assert log.console_errors == []
        assert log.outside_requests() == []
        assert page.evaluate("typeof window.MathJax") == "undefined"
        if width < 640:  # a phone: tables are cards of "column: value"
            assert page.evaluate("getComputedStyle(document.querySelector('table.iv-table thead')).display") == "none"
    finally:
        page.close()


def test_folded_tables_open_in_the_browser(chromium, pages):
    page, log = _open(chromium, pages["demo"], 1280)
    try:
        folds = page.locator("details.iv-fold")
        assert folds.count() >= 13
        first = folds.nth(0)
        assert not first.evaluate("d => d.open")
        assert not first.locator("table").is_visible()
        first.locator("summary").click()
        assert first.locator("table").is_visible() and first.locator("tbody tr").count() >= 1
        assert log.console_errors == []
    finally:
        page.close()


def test_phone_page_height(chromium, pages):
    """The phone layout with folded tables: the demo report is a few screens, not 24,500 px."""
    page, _ = _open(chromium, pages["demo"], 390)
    try:
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 22_000, height
    finally:
        page.close()


def test_screenshot_script_makes_every_section(tmp_path, chromium):
    """docs/report_screenshots.py: one picture per section at each width (the README shows them)."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("report_screenshots", root / "docs" / "report_screenshots.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    written = mod.main(["--out", str(tmp_path), "--max-height", "900"], browser=chromium)
    keys = [s.key for s in Report("demo", progress=False).sections()]
    for prefix in ("", "phone-"):
        for key in keys:
            assert any(p.name in (f"report-{prefix}{key}.png", f"report-{prefix}{key}-top.png") for p in written), key
    assert all(p.stat().st_size > 5_000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
    readme = (root / "README.md").read_text()
    assert "data/report-screenshot.png" not in readme
    for name in ("docs/report-layer-tree.png", "docs/report-phone-history.png"):
        assert name in readme and (root / name).exists()
