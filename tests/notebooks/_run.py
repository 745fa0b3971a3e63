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
    """A copy of notebooks/ next to a link to data/, so '../data/...' works and outputs stay out of git."""
    shutil.copytree(NOTEBOOKS, tmp / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.py"))
    (tmp / "data").symlink_to(ROOT / "data", target_is_directory=True)
    return tmp / "notebooks"


def kernel_env() -> dict[str, str]:
    """What the kernel needs: imgviz importable, the demo pinned, no live engine reached by accident."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["IMGVIZ_SOURCE"] = "demo"
    return env
