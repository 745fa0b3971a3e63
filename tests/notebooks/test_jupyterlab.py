"""A notebook in JupyterLab, in Debian's chromium: the kernel runs every cell, a widget and a
plotly figure render, and the inline report draws its figures.

The test starts its own JupyterLab on 127.0.0.1 (own process group, temporary HOME and Jupyter
folders, news and update checks off) and stops it by its process id.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .._browser import PageLog
from ._run import kernel_env, workspace

pytestmark = pytest.mark.browser
NOTEBOOK = "05-your-engine.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    pytest.importorskip("jupyterlab")
    root = tmp_path / "work"
    root.mkdir()
    notebooks = workspace(root)
    home = tmp_path / "home"
    settings = tmp_path / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = kernel_env()
    env.update({"HOME": str(home), "JUPYTER_CONFIG_DIR": str(tmp_path / "jconfig"),
                "JUPYTER_RUNTIME_DIR": str(tmp_path / "jruntime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
                "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"), "IPYTHONDIR": str(tmp_path / "ipython")})
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--allow-root",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
         "--LabApp.news_url=", "--ServerApp.disable_check_xsrf=False"],
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.3)
        yield {"base": base, "token": token, "notebooks": notebooks, "log": tmp_path / "lab.log"}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_notebook_in_jupyterlab(lab, chromium):
    t0 = time.monotonic()
    marks = {}
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    log = PageLog(page)
    try:
        page.goto(f"{lab['base']}/lab/tree/notebooks/{NOTEBOOK}?token={lab['token']}")
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
        marks["kernel idle"] = time.monotonic() - t0
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
        # a widget (the image drop-down) and a plotly figure drawn by JupyterLab's plotly renderer
        page.locator(".jp-OutputArea .widget-dropdown select").first.wait_for(timeout=90_000)
        page.locator(".jp-OutputArea .js-plotly-plot svg.main-svg").first.wait_for(timeout=60_000)
        marks["widget and figure"] = time.monotonic() - t0
        # the inline report: an iframe whose figures are drawn
        frame = page.frame_locator("iframe[data-imgviz-frame]")
        frame.locator(".iv-figure svg.main-svg").first.wait_for(timeout=60_000)
        assert frame.locator(".iv-sub").inner_text().startswith("Source: embedded demo snapshot")
        assert frame.locator(".iv-figure svg.main-svg").count() >= 2
        assert page.evaluate("document.querySelector('iframe[data-imgviz-frame]').getBoundingClientRect().height") > 900, \
            "the report's frame grows to the report's height"
        marks["report"] = time.monotonic() - t0
        # choosing another image redraws the figure for it
        select = page.locator(".jp-OutputArea .widget-dropdown select").first
        options = select.evaluate("s => Array.from(s.options).map(o => o.textContent)")
        other = [o for o in options if "web-ping:v1" in o][0]
        select.select_option(label=other)
        page.locator(".jp-OutputArea .js-plotly-plot .gtitle", has_text=f"Layers of {other}").wait_for(timeout=30_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
        assert tracebacks == []
        assert page.evaluate("window.__pwned") is None
        print("seconds since opening:", marks)
        assert [u for u in log.outside_requests() if not u.startswith(lab["base"].replace("http:", "ws:"))
                and not u.startswith(lab["base"])] == []
    except Exception:
        page.screenshot(path=str(Path(lab["log"]).with_name("failure.png")), full_page=True)
        raise
    finally:
        page.close()
