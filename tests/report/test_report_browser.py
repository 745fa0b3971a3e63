"""The report in Debian's chromium: it renders offline, every figure draws, image text runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgviz import Report, frames

from ._hostile import INVISIBLE, MARKUP, SECRETS, TEXT_PAYLOADS

pytestmark = pytest.mark.browser
DATA = Path(__file__).resolve().parent.parent / "data"


def open_report(chromium, path: Path):
    from .._browser import PageLog

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    log = PageLog(page)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    n = page.locator(".iv-figure").count()
    if n:
        page.wait_for_function(f"document.querySelectorAll('.iv-figure svg.main-svg').length >= {n}", timeout=20_000)
    # long tables are folded (<details>): open them, so what they hold is read like the rest
    page.evaluate("document.querySelectorAll('details').forEach(function (d) { d.open = true; })")
    return page, log


def check_page(page, log) -> None:
    figures = page.locator(".iv-figure")
    assert figures.count() >= 2
    for i in range(figures.count()):
        assert figures.nth(i).locator("svg.main-svg").count() >= 1, f"figure {i} did not render"
    assert page.evaluate("typeof window.MathJax") == "undefined"
    assert log.console_errors == []
    assert log.outside_requests() == [], "the report fetched something from the network"


def check_hostile(page, log, *, masked: bool = True, names=("report-test/hostile:1",)) -> None:
    check_page(page, log)
    page.wait_for_timeout(300)  # an onload/onerror handler, had one been injected, has run by now
    assert page.evaluate("window.__pwned") is None, "markup from an image ran"
    text = page.inner_text("body")
    for markup in MARKUP + TEXT_PAYLOADS:
        assert markup in text, f"not shown as text: {markup}"
    # nothing an image brought along became an element: no svg but plotly's, no iframe, no style
    assert page.locator(".imgviz-report iframe").count() == 0
    assert page.locator(".imgviz-report svg[onload]").count() == 0
    assert page.locator(".imgviz-report table svg").count() == 0
    # characters that reorder or hide text are shown, not obeyed (U+202E as a visible marker); the
    # tables hold only image text (plotly puts zero-width spaces of its own into figure text)
    tables = "\n".join(page.locator("table.iv-table").all_inner_texts())
    for ch in INVISIBLE:
        assert ch not in tables, f"{ch!r} reached a table as it is"
    assert "\u202e" not in text and "\x1b" not in text
    assert "invoice<U+202E>gpj.exe" in tables and "zero<U+200B>width" in tables and "title<U+001B>]0;owned" in tables
    # the label itself, in the labels table, as the engine recorded it
    cell = page.locator("table.iv-table td", has_text="<img src=x onerror=window.__pwned=2>")
    assert cell.count() >= 1 and "<img src=x onerror=window.__pwned=2>" in cell.all_inner_texts()
    # no element came from image text: the only <img>, <a href=javascript:> would be injected ones
    assert page.locator(".imgviz-report img").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    for secret in SECRETS:
        assert (secret in text) is (not masked)
    # hover text in a figure shows the label as text too
    svg_text = page.locator(".iv-figure svg").first.text_content() + page.locator(".iv-figure").nth(1).text_content()
    assert any(name in svg_text for name in names), names


def test_recorded_hostile_report(chromium, hostile_frames, tmp_path):
    path = Report(hostile_frames, description="recorded hostile fleet").write_html(tmp_path / "hostile.html")
    page, log = open_report(chromium, path)
    try:
        check_hostile(page, log)
    finally:
        page.close()


def test_demo_report(chromium, tmp_path):
    path = Report("demo").write_html(tmp_path / "demo.html")
    page, log = open_report(chromium, path)
    try:
        check_page(page, log)
        assert "embedded demo snapshot" in page.inner_text(".iv-sub")
        assert page.evaluate("window.__pwned") is None and "<script>alert" in page.inner_text("body")
        assert page.locator("table.iv-table").count() >= 5
    finally:
        page.close()


@pytest.mark.engine
def test_live_hostile_images(private_engine, chromium, tmp_path):
    """Build the hostile images on a real engine, collect it, render, open: nothing runs.

    A private engine of its own, so the report shows these images and not the top-N of whatever
    the session's engine holds by now (the report aggregates large engines).
    """
    from imgviz.sources.engine import collect

    from . import _hostile

    engine = private_engine
    _hostile.build(engine, tmp_path / "ctx")
    f = frames(collect(host=engine.host, progress=False))
    assert any(_hostile.TAG in t for t in f.images["tags"])
    path = Report(f).write_html(tmp_path / "live.html")
    names = (_hostile.TAG,)
    if engine.kind == "podman":
        # buildah's cache makes the second build the same image: one image, both tags, labelled by either
        (both,) = f.images.loc[f.images["tags"].map(lambda t: _hostile.TAG in t), "tags"]
        assert set(both) == {_hostile.TAG, _hostile.CLASSIC_TAG}
        names = tuple(both)
    page, log = open_report(chromium, path)
    try:
        check_hostile(page, log, names=names)
    finally:
        page.close()
    shown = Report(f, show_secrets=True).html()
    assert all(secret in shown for secret in _hostile.SECRETS)
