"""A JupyterLab of our own on 127.0.0.1, and the steps that drive a notebook in it (Playwright).

Used by tests/notebooks/test_jupyterlab.py and notebooks/_screenshots.py. The server runs in its
own process group with HOME and every Jupyter folder in a temporary directory, news and update
checks off, and is stopped by its process id.
"""

from __future__ import annotations

import contextlib
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

from ._run import kernel_env, workspace

IDLE = "Python 3 (ipykernel) | Idle"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_lab(tmp: Path, env: dict[str, str] | None = None):
    """Start JupyterLab over a copy of notebooks/ in ``tmp``; yields base, token, notebooks, log."""
    tmp = Path(tmp)
    root = tmp / "work"
    root.mkdir(parents=True)
    notebooks = workspace(root)
    settings = tmp / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(env or kernel_env())
    env.update({"HOME": str(tmp / "home"), "JUPYTER_CONFIG_DIR": str(tmp / "jconfig"),
                "JUPYTER_RUNTIME_DIR": str(tmp / "jruntime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
                "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"), "IPYTHONDIR": str(tmp / "ipython")})
    port, token = _free_port(), secrets.token_hex(16)
    log_path = tmp / "lab.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--allow-root",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
         "--LabApp.news_url=", "--ServerApp.disable_check_xsrf=False"],
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.3)
        yield {"base": base, "token": token, "notebooks": notebooks, "log": log_path}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def open_and_run(page, lab: dict, name: str) -> float:
    """Open ``name``, wait for the kernel, Run All; returns the monotonic time Run All was clicked."""
    # a workspace of its own, reset: only this notebook open, whatever ran before in this server
    page.goto(f"{lab['base']}/lab/workspaces/{name[:2]}/tree/notebooks/{name}?reset&token={lab['token']}")
    page.locator(f".jp-Notebook").first.wait_for(timeout=90_000)
    page.get_by_text(IDLE).wait_for(timeout=90_000)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    started = time.monotonic()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    return started


def wait_idle(page, timeout: int = 120_000) -> None:
    """Wait until the kernel has run everything queued (no cell shows [*] any more)."""
    page.wait_for_function(
        "() => !Array.from(document.querySelectorAll('.jp-InputArea-prompt')).some(p => p.textContent.includes('*'))",
        timeout=timeout)
    page.get_by_text(IDLE).wait_for(timeout=timeout)


def widget_output(page, index: int = 0):
    """The ``index``-th widget output area of the open notebook."""
    return page.locator(".jp-OutputArea-output .jupyter-widgets.widget-vbox, .jp-OutputArea-output > .widget-vbox").nth(index)


def figure_title(area) -> str:
    return area.locator(".js-plotly-plot .gtitle").first.text_content(timeout=60_000)


def click_point(page, area, selector: str, index: int = 0) -> None:
    """Click the centre of a plotly point (a bar, a marker) the way a mouse does (hover, click)."""
    box = area.locator(selector).nth(index).bounding_box()
    plot = area.locator(".js-plotly-plot .nsewdrag").first.bounding_box()  # the plotting area
    left, right = max(box["x"], plot["x"]), min(box["x"] + box["width"], plot["x"] + plot["width"])
    x = left + min(8, (right - left) / 2) if right - left > 16 else (left + right) / 2
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def shut_down_kernels(lab: dict) -> None:
    """Stop every kernel session of the server (each notebook test starts its own)."""
    import urllib.request as rq

    auth = {"Authorization": f"token {lab['token']}"}
    sessions = json.loads(rq.urlopen(rq.Request(f"{lab['base']}/api/sessions", headers=auth), timeout=10).read())
    for s in sessions:
        rq.urlopen(rq.Request(f"{lab['base']}/api/sessions/{s['id']}", method="DELETE", headers=auth), timeout=30)
