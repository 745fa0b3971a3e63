"""Re-make data/report-screenshot.png (the README's picture of the report) from the embedded demo.

    python data/report_screenshot.py

Renders ``imgviz report --demo`` and photographs its top in Debian's chromium (headless, Playwright).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def main(out: Path = HERE / "report-screenshot.png", height: int = 1500) -> Path:
    from playwright.sync_api import sync_playwright

    import imgviz

    with tempfile.TemporaryDirectory() as tmp:
        page_path = imgviz.Report("demo").write_html(Path(tmp) / "report.html")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": height}, device_scale_factor=1)
            page.goto(page_path.as_uri())
            n = page.locator(".iv-figure").count()
            page.wait_for_function(f"document.querySelectorAll('.iv-figure svg.main-svg').length >= {n}")
            page.wait_for_timeout(500)
            page.screenshot(path=str(out))
            browser.close()
    return out


if __name__ == "__main__":
    print(main())
