"""Debian's chromium driven by Playwright, for tests that check HTML in a real browser.

Never runs ``playwright install``: it uses /usr/bin/chromium. Without chromium or playwright the
browser tests skip, except under CI, where they fail (CI installs chromium from .ci/apt-packages).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests need {reason}")
    pytest.skip(f"no browser: {reason}")


@pytest.fixture(scope="session")
def chromium():
    """A headless chromium (Playwright Browser), one per test session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package")
    if not Path(CHROMIUM).exists():
        _missing(f"Debian's chromium at {CHROMIUM}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class PageLog:
    """Console messages, page errors and requests of one page."""

    def __init__(self, page):
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"] + self.errors

    def outside_requests(self, allowed=("file:", "data:", "blob:", "about:")) -> list[str]:
        return [u for u in self.requests if not u.startswith(allowed)]
