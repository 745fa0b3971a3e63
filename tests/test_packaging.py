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


# -- the wheel ------------------------------------------------------------------------------------
import json
import os
import shutil
import sysconfig
import zipfile

import pytest


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    """imgviz's wheel, built from this checkout and installed into a fresh venv in a folder
    outside it. The venv borrows the test environment's third-party packages (a path line, not
    a site dir, so the checkout's editable hook stays out) to stay quick and offline; imgviz
    itself comes only from the wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=600)
    (wheel,) = (tmp / "dist").glob("imgviz-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    borrowed = sysconfig.get_paths()["purelib"]
    pathlib_site = Path(site)
    (pathlib_site / "zz-borrowed-test-deps.pth").write_text(borrowed + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile",
                    "--target", site, str(wheel)], check=True, capture_output=True, text=True, timeout=300)
    # the console script, as an installer writes it
    (venv / "bin" / "imgviz").write_text(f"#!{py}\nimport sys\nfrom imgviz.cli import main\nsys.exit(main())\n")
    (venv / "bin" / "imgviz").chmod(0o755)
    outside = tmp / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "IMGVIZ_SOURCE")}
    env.update(PATH=f"{venv / 'bin'}:{env.get('PATH', '')}", HOME=str(tmp / "home"), IMGVIZ_SOURCE="demo",
               JUPYTER_PATH=str(tmp / "jupyter"), JUPYTER_CONFIG_DIR=str(tmp / "jconfig"),
               JUPYTER_RUNTIME_DIR=str(tmp / "jruntime"), IPYTHONDIR=str(tmp / "ipython"))
    kernel = tmp / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [str(py), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))
    return {"wheel": wheel, "python": py, "site": Path(site), "outside": outside, "env": env}


def test_the_wheel_carries_the_package_data(installed_wheel):
    names = set(zipfile.ZipFile(installed_wheel["wheel"]).namelist())
    repo_data = [p.relative_to(ROOT).as_posix() for p in (ROOT / "imgviz" / "data").rglob("*") if p.is_file()]
    assert repo_data and set(repo_data) <= names, set(repo_data) - names
    assert not any(n.startswith(("data/", "notebooks/", "tests/")) for n in names)


def test_the_installed_wheel_reads_its_own_files(installed_wheel):
    w = installed_wheel
    code = ("import imgviz, imgviz._data as d; print(imgviz.__file__); print(d.data_path('demo-snapshot.json.gz')); "
            "print(imgviz.demo_cascade('webping-edit').observed('classic')['outcome'].tolist())")
    out = subprocess.run([str(w["python"]), "-c", code], cwd=w["outside"], env=w["env"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0].startswith(str(w["site"])) and not out[0].startswith(str(ROOT))
    assert out[1].startswith(str(w["site"]))
    assert out[2] == "['base', 'cached', 'cached', 'cached', 'cached', 'built', 'built']"


def test_report_demo_from_the_wheel(installed_wheel):
    w = installed_wheel
    proc = subprocess.run(["imgviz", "report", "--demo", "-o", "report.html"], cwd=w["outside"], env=w["env"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (w["outside"] / "report.html").read_text()
    assert "embedded demo snapshot" in html and "workshop/web-ping" in html


def test_every_notebook_runs_from_the_wheel(installed_wheel):
    """Every workshop notebook, copied alone into a folder outside the checkout, runs top to bottom
    on a kernel of the fresh venv."""
    import nbformat
    from nbclient import NotebookClient

    w = installed_wheel
    folder = w["outside"] / "notebooks"
    folder.mkdir()
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy(nb_path, folder / nb_path.name)
    failures = {}
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key not in w["env"]:
                mp.delenv(key)
        for key, value in w["env"].items():
            mp.setenv(key, value)
        for nb_path in sorted(folder.glob("*.ipynb")):
            nb = nbformat.read(nb_path, as_version=4)
            # iopub_timeout: on a loaded machine a cell's printed output can reach nbclient more than its
            # default 4 s after the cell's reply, and is then dropped without a word (seen in CI:
            # notebook 04's Source line missing from a run that passed alone).
            # coalesce_streams: the kernel sends what one print() wrote in as many messages as its
            # flush timer cut it into ("Source:" | " embedded demo snapshot"); a loaded machine cuts
            # more often, so each cell's stdout is joined before it is read.
            client = NotebookClient(nb, timeout=300, kernel_name="python3", iopub_timeout=60,
                                    coalesce_streams=True, resources={"metadata": {"path": str(folder)}})
            try:
                client.execute()
            except Exception as exc:  # noqa: BLE001  (collect every notebook's failure)
                failures[nb_path.name] = str(exc)[-1500:]
                continue
            where = [o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"]
            assert any(str(w["site"]) in t or "Source: embedded demo snapshot" in t for t in where), \
                (nb_path.name, [t[:300] for t in where if "Source" in t or "site-packages" in t])
    assert not failures, failures
