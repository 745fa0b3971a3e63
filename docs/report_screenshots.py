"""Re-make the report's pictures in docs/: one per section, as a laptop and a phone show it.

    python docs/report_screenshots.py            # docs/report-<section>.png (1280 px wide)
                                                 # and docs/report-phone-<section>.png (390 px)
    python docs/report_screenshots.py --out DIR  # somewhere else

Renders ``imgviz report --demo`` (the embedded demo snapshot, so the pictures do not depend on
what the machine's engine holds) and photographs each ``<section>`` in Debian's chromium (headless,
Playwright, no network). Folded tables stay folded, as a reader first sees them. Long sections are
cut at ``--max-height`` pixels (the picture says so in its file name: ``-top``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
WIDTHS = {"": 1280, "phone-": 390}


def open_page(browser, path: Path, width: int):
    """A page of the report at ``width`` px, every figure drawn."""
    page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
    page.goto(path.as_uri())
    n = page.locator(".iv-figure").count()
    page.wait_for_function(f"document.querySelectorAll('.iv-figure svg.main-svg').length >= {n}", timeout=30_000)
    page.wait_for_timeout(300)
    return page


def main(argv=None, *, browser=None) -> list[Path]:
    """Write the pictures; ``browser`` is a Playwright chromium to use (default: start one)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the pictures (default: docs/)")
    parser.add_argument("--max-height", type=int, default=1800, help="cut a section taller than this (px)")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    import imgviz

    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("report-*.png"):  # a section may have been renamed or cut differently
        old.unlink()
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        report = imgviz.Report("demo", progress=False).write_html(Path(tmp) / "report.html")
        if browser is not None:
            written += shoot(browser, report, args)
        else:
            with sync_playwright() as pw:
                own = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
                try:
                    written += shoot(own, report, args)
                finally:
                    own.close()
    return written


def shoot(browser, report: Path, args) -> list[Path]:
    """Every section of the report at each width in :data:`WIDTHS`, and the page's top."""
    written = []
    for prefix, width in WIDTHS.items():
        page = open_page(browser, report, width)
        try:
            first = page.locator(".imgviz-report section").first.bounding_box()
            out = args.out / f"report-{prefix}top.png"
            page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": width,
                                                 "height": min(first["y"], args.max_height)})
            written.append(out)
            sections = page.locator(".imgviz-report section")
            for i in range(sections.count()):
                sec = sections.nth(i)
                key = (sec.get_attribute("id") or f"iv-section-{i}").split("-", 1)[-1]
                box = sec.bounding_box()
                top = box["y"] + page.evaluate("window.scrollY")
                cut = box["height"] > args.max_height
                out = args.out / f"report-{prefix}{key}{'-top' if cut else ''}.png"
                page.screenshot(path=str(out), full_page=True,
                                clip={"x": 0, "y": top, "width": width, "height": min(box["height"], args.max_height)})
                written.append(out)
        finally:
            page.close()
    return written


if __name__ == "__main__":
    for path in main():
        print(path)
