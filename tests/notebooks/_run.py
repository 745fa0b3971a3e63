"""Running the workshop notebooks outside the source tree, on the embedded demo snapshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOKS = ROOT / "notebooks"


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def workspace(tmp: Path) -> Path:
    """A copy of notebooks/ alone (they read nothing outside the installed package), so outputs
    stay out of git."""
    shutil.copytree(NOTEBOOKS, tmp / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.py"))
    return tmp / "notebooks"


def kernel_env() -> dict[str, str]:
    """What the kernel needs: imgviz importable, the demo pinned, no live engine reached by accident."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["IMGVIZ_SOURCE"] = "demo"
    return env


def execute_all(where: Path, names: list[str], env: dict[str, str], *, timeout: int = 240) -> dict:
    """Run the notebooks concurrently (one kernel each) with ``env`` as the kernels' environment.

    Returns name -> executed notebook, or the exception that stopped it. Concurrent kernels halve
    the wall time on two cores: most of it is each kernel importing pandas and plotly.
    """
    import asyncio

    import nbformat
    import pytest
    from nbclient import NotebookClient

    async def one(name):
        nb = nbformat.read(where / name, as_version=4)
        # iopub_timeout: nbclient drops output that reaches it over 4 s after a cell's reply (its
        # default), silently; a loaded machine is that slow at times. coalesce_streams: one print()
        # can arrive cut into several stream messages; each cell's stdout is joined (tests/test_packaging.py)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                                iopub_timeout=60, coalesce_streams=True,
                                resources={"metadata": {"path": str(where)}})
        await client.async_execute()
        return nb

    async def every():
        return await asyncio.gather(*(one(n) for n in names), return_exceptions=True)

    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        # a thread of its own: the session's Playwright (sync API) may hold this thread's event loop
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as pool:
            results = pool.submit(lambda: asyncio.run(every())).result()
    return dict(zip(names, results))
