"""Packaging facts: environment.yml follows pyproject.toml, `import imgviz` stays light."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's
CONDA_NAMES = {"docker": "docker-py"}


def _name_spec(requirement: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {CONDA_NAMES.get(n, n): spec for n, spec in map(_name_spec, deps)}
    lines = [line.strip()[2:] for line in (ROOT / "environment.yml").read_text().splitlines()
             if line.strip().startswith("- ")]
    have = dict(_name_spec(line) for line in lines)
    missing = {n: s for n, s in wanted.items() if have.get(n) != s}
    assert not missing, f"environment.yml lacks or differs on {missing}"
    extra = set(have) - set(wanted) - {"python", "pip", "conda-forge"}
    assert not extra, f"environment.yml has {extra} that pyproject.toml lacks"


def test_import_is_light():
    code = ("import imgviz, sys; heavy = [m for m in ('pandas', 'numpy', 'plotly', 'ipywidgets', 'jupyterlab', 'docker', "
            "'tqdm', 'httpx') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"`import imgviz` imported {out.stdout.strip()}"
