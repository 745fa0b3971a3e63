"""Regenerate docs/notebooks-*.png: each workshop notebook run in JupyterLab on the demo, one
picture per widget it shows (and the first figure of a notebook without one).

    .venv/bin/python notebooks/_screenshots.py

Uses Debian's chromium through Playwright (no browser download) and a JupyterLab of its own on
127.0.0.1, stopped by its process id when done (tests/notebooks/_lab.py).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def main() -> list[Path]:
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests._browser import ARGS, CHROMIUM
    from tests.notebooks._lab import open_and_run, running_lab, shut_down_kernels, wait_idle

    DOCS.mkdir(exist_ok=True)
    written = []
    names = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="imgviz-shots-") as tmp, running_lab(Path(tmp)) as lab, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for name in names:
                for attempt in (1, 2):
                    page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
                    open_and_run(page, lab, name)
                    wait_idle(page, timeout=300_000)
                    areas = page.locator(".jp-OutputArea-output:has(> .jupyter-widgets.widget-vbox)")
                    if areas.count():
                        areas.first.locator(".js-plotly-plot svg.main-svg, table").first.wait_for(timeout=60_000)
                    # each widget's first figure (a FigureWidget) must be drawn with its data
                    empty = [k for k in range(areas.count()) if areas.nth(k).locator(".js-plotly-plot").count()
                             and not areas.nth(k).locator(".js-plotly-plot").first.locator(".point, .slice").count()]
                    if not empty or attempt == 2:
                        break
                    print(f"{name}: a figure drew empty (plotly FigureWidget in JupyterLab); running it again")
                    page.close()
                    shut_down_kernels(lab)
                targets = [areas.nth(k) for k in range(areas.count())] or \
                          [page.locator(".jp-OutputArea-output:has(.js-plotly-plot)").first]
                for k, target in enumerate(targets):
                    target.scroll_into_view_if_needed()
                    page.wait_for_timeout(800)  # plotly's transitions
                    out = DOCS / f"notebooks-{name[:2]}-{k + 1}.png"
                    target.screenshot(path=str(out))
                    written.append(out)
                page.close()
                shut_down_kernels(lab)
        finally:
            browser.close()
    return written


if __name__ == "__main__":
    for path in main():
        print(path.relative_to(ROOT))
