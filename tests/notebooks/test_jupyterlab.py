"""The workshop notebooks in JupyterLab, in Debian's chromium: the kernel runs every cell, then each
widget is used the way a learner would (a click on a bar, a toggle, typed values, moved lines) and
the figure or table it drives must change, with no error in the browser console.

The test starts its own JupyterLab on 127.0.0.1 (tests/notebooks/_lab.py) and stops it by its
process id. Seconds from Run All to the first drawn figure are printed per notebook.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from .._browser import PageLog
from ._lab import IDLE, click_point, figure_title, open_and_run, running_lab, shut_down_kernels, wait_idle

pytestmark = pytest.mark.browser
FIGURE = ".js-plotly-plot svg.main-svg"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    pytest.importorskip("jupyterlab")
    with running_lab(tmp_path_factory.mktemp("lab")) as running:
        yield running


def _wait_text(locator, pattern: str, timeout: int = 60_000) -> str:
    """Wait until ``locator``'s text matches ``pattern`` (a regex); returns the text."""
    deadline = time.monotonic() + timeout / 1000
    text = ""
    while time.monotonic() < deadline:
        text = locator.text_content(timeout=timeout) or ""
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} never appeared; last text: {text[:500]!r}")


def _drawn(area, what: str = ".point") -> None:
    """The widget's figure is drawn with its data (not empty axes)."""
    area.locator(f".js-plotly-plot {what}").first.wait_for(state="attached", timeout=60_000)


def _explorer(page, area) -> None:
    """Toggle log/linear, click the COPY bar, pick another tag: the figure follows each time."""
    _drawn(area)
    title = figure_title(area)
    assert "Layers of" in title
    assert "log" in area.locator(".js-plotly-plot .xtitle").text_content()
    click_point(page, area, ".barlayer .point path", 1)  # the second row from the top: a small layer, visible on log
    _wait_text(area.locator(".widget-html-content").last, r"layer #")
    area.get_by_role("button", name="linear").click()
    _wait_text(area.locator(".js-plotly-plot .xtitle"), r"Layer size")
    select = area.locator(".widget-dropdown select")
    node = [o for o in select.evaluate("s => Array.from(s.options).map(o => o.textContent)") if "node:18" in o][0]
    select.select_option(label=node)
    _wait_text(area.locator(".js-plotly-plot .gtitle").first, r"Layers of workshop/node:18")


def _env(page, area) -> None:
    """Type -e values: the table follows (a bare TARGET unsets the image's default)."""
    table = area.locator(".widget-html-content table")
    assert "google.com" in table.inner_text()
    box = area.locator("textarea").first
    box.fill("TARGET\nINTERVAL=5000")
    box.press("Tab")  # the value is sent when the box loses focus
    _wait_text(area, r"unset by a bare -e: TARGET")
    assert "5000" in table.inner_text() and "google.com" not in table.inner_text()


def _dashboard(page, area) -> None:
    """A pattern that matches nothing says so; a bar click picks an image; picks survive the filter."""
    _drawn(area)
    pattern = area.locator("input[type=text]").first
    pattern.fill("w*")
    pattern.press("Enter")
    _wait_text(area, r"No image matches pattern w\*")
    pattern.fill("workshop/w*")
    pattern.press("Enter")
    summary = area.locator(".widget-html-content").first
    _wait_text(summary, r"^\s*4 of 11 images match")
    area.locator(FIGURE).first.wait_for()
    click_point(page, area, ".barlayer .point path", 0)
    _wait_text(area.locator(".widget-html-content").first, r"removing 1 frees")
    picked = area.locator(".widget-select-multiple select").evaluate(
        "s => Array.from(s.selectedOptions).map(o => o.textContent)")
    assert len(picked) == 1
    pattern.fill("workshop/n*")
    pattern.press("Enter")
    _wait_text(summary, r"^\s*1 of 11 images match")
    kept = area.locator(".widget-select-multiple select").evaluate(
        "s => Array.from(s.selectedOptions).map(o => o.textContent)")
    assert kept == picked, "the pick was dropped by the filter"


def _reorder(page, area) -> None:
    """Move CMD to the top, switch to BuildKit, click a step: the prediction and figure follow."""
    _drawn(area)
    title = area.locator(".js-plotly-plot .gtitle").first
    _wait_text(title, r"classic builder: 2 of 7 steps run again")
    lines = area.locator(".widget-select select")
    lines.select_option(index=6)  # CMD, the last line
    for _ in range(5):
        area.get_by_role("button", name="move up").click()
        page.get_by_text(IDLE).wait_for()
    _wait_text(title, r"classic builder: 6 of 7 steps run again")
    area.get_by_role("button", name="BuildKit").click()
    _wait_text(title, r"BuildKit: 1 of 7 steps run again")
    before = lines.evaluate("s => s.value")
    click_point(page, area, ".scatterlayer .trace .point", 0)  # FROM: selects the FROM line
    page.wait_for_function("([s, v]) => s.value !== v", arg=[lines.element_handle(), before], timeout=30_000)


def _files(page, area) -> None:
    """The files explorer (issue 13): a click on a layer's bar chooses it and redraws its tree; the
    layer list does the same from the keyboard."""
    summary = area.locator(".widget-html-content").first
    before, tree = summary.text_content(), area.locator(".js-plotly-plot").first
    drawn = tree.evaluate("g => JSON.stringify(g.data.map(t => (t.ids || []).length))")
    layers_figure = area.locator(".js-plotly-plot").last  # every layer's changes, a FigureWidget
    layers_figure.locator(".barlayer .point path").first.wait_for(timeout=60_000)
    bar = layers_figure.locator(".barlayer .point path").first.bounding_box()  # "added" of the base layer
    page.mouse.move(bar["x"] + min(8, bar["width"] / 2), bar["y"] + bar["height"] / 2)
    page.mouse.click(bar["x"] + min(8, bar["width"] / 2), bar["y"] + bar["height"] / 2)
    _wait_text(summary, r"layer 0\b")
    assert summary.text_content() != before
    layers = area.locator(".widget-select select")
    page.wait_for_function("s => s.selectedIndex === 0", arg=layers.element_handle(), timeout=30_000)
    page.wait_for_function("([g, d]) => JSON.stringify(g.data.map(t => (t.ids || []).length)) !== d",
                           arg=[tree.element_handle(), drawn], timeout=30_000)


STEPS = {
    "01-images-and-layers.ipynb": [_explorer, _files],
    "02-env-defaults-and-overrides.ipynb": [_env],
    "03-sharing-and-size.ipynb": [_dashboard],
    "04-build-cache-and-order.ipynb": [_reorder],
    "05-your-engine.ipynb": [_explorer, _dashboard],
}


@pytest.mark.parametrize("name", list(STEPS))
def test_widgets_in_jupyterlab(lab, chromium, name):
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    log = PageLog(page)
    try:
        started = open_and_run(page, lab, name)
        if name != "02-env-defaults-and-overrides.ipynb":
            page.locator(f".jp-OutputArea {FIGURE}").first.wait_for(timeout=120_000)
            print(f"{name}: first figure drawn {time.monotonic() - started:.1f} s after Run All")
        wait_idle(page)
        page.locator(".jp-OutputArea-output > .jupyter-widgets.widget-vbox").first.wait_for(timeout=60_000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t] == []
        areas = page.locator(".jp-OutputArea-output:has(> .jupyter-widgets.widget-vbox)")
        assert areas.count() == len(STEPS[name])
        for k, step in enumerate(STEPS[name]):
            area = areas.nth(k)
            area.scroll_into_view_if_needed()
            step(page, area)
            page.get_by_text(IDLE).wait_for(timeout=60_000)
        if name.startswith("05"):
            assert page.locator(".jp-OutputArea a[href*='report.html']").count() == 1
        assert log.console_errors == [], log.console_errors
        lab_base = lab["base"]
        assert [u for u in log.outside_requests() if not u.startswith((lab_base, lab_base.replace("http:", "ws:")))] == []
    except Exception:
        page.screenshot(path=str(Path(lab["log"]).with_name(f"failure-{name[:2]}.png")), full_page=True)
        print("browser console:", log.console, log.errors)
        raise
    finally:
        page.close()
        shut_down_kernels(lab)
