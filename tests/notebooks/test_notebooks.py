"""The workshop notebooks: committed without outputs, in step with notebooks/_build.py, and each
runs top to bottom (nbclient, headless) on the embedded demo snapshot."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from ._run import NOTEBOOKS, ROOT, execute_all, kernel_env, notebook_paths, workspace

NAMES = [p.name for p in notebook_paths()]


def test_there_are_notebooks():
    assert len(NAMES) >= 5 and "05-your-engine.ipynb" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    committed = subprocess.run(["git", "show", f"HEAD:notebooks/{name}"], cwd=ROOT, capture_output=True, text=True)
    texts = [(NOTEBOOKS / name).read_text()]
    if committed.returncode == 0:  # not yet committed: the working copy is what will be
        texts.append(committed.stdout)
    for text in texts:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name}: outputs in git"
        assert "widgets" not in nb.metadata, f"{name}: widget state in git"


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_paste_no_helpers(name):
    """What a learner plays with lives in the library (imgviz.widgets, imgviz.selection): a code cell
    may define a one- or two-line shortcut, never a helper of its own."""
    import ast

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
                assert isinstance(node, ast.FunctionDef) and len(body) <= 2, (
                    f"{name}: {node.name} is a helper pasted into the notebook; put it in the library")


def test_notebooks_match_their_source(tmp_path):
    """notebooks/_build.py writes exactly the committed notebooks (edit the script, not the .ipynb)."""
    code = ("import sys, pathlib; sys.path.insert(0, sys.argv[1]); import _build; "
            "_build.build(pathlib.Path(sys.argv[2]))")
    subprocess.run([sys.executable, "-c", code, str(NOTEBOOKS), str(tmp_path)], check=True)
    for name in NAMES:
        assert (tmp_path / name).read_text() == (NOTEBOOKS / name).read_text(), f"{name} differs from _build.py"


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o.get("text", ""))
            elif "data" in o:
                out.append(o["data"].get("text/plain", ""))
                out.append(o["data"].get("text/html", ""))
    return "\n".join(out)


EXPECT = {
    "01-images-and-layers.ipynb": ["Source: embedded demo snapshot", "workshop/web-ping:v1", "'w*' matches 0 rows"],
    "02-env-defaults-and-overrides.ipynb": ["google.com", "docker.com", "API_TOKEN=********", "FROM workshop/node:18"],
    "03-sharing-and-size.ipynb": ["sharing saves", "fleet-targets.list",
                                  "remove workshop/web-ping:v1: frees 0B; 1.291kB stay under its container",
                                  "remove workshop/web-ping:v1 and its container: frees 1.291kB"],
    "04-build-cache-and-order.ipynb": ["no-vertex", "built", "cached"],
    "05-your-engine.ipynb": ["Source: embedded demo snapshot", "imgviz Report of the embedded demo snapshot", "wrote ",
                             "sections: At a glance"],
}
#: the widgets each notebook shows (their model names in the saved widget state)
WIDGETS = {"01": 2, "02": 1, "03": 1, "04": 1, "05": 2}


def _history_line(ref: str) -> str:
    import imgviz
    from imgviz.analysis.listing import history_table
    from imgviz.selection import find_image

    f = imgviz.demo()
    h = history_table(f.history, find_image(f.images, ref))
    made = int((~h["empty_layer"]).sum())
    return f"{ref}: {len(h)} history entries, {made} of them made a layer, {len(h) - made} only changed settings"


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """Every notebook executed once on the demo (concurrently), with its folder."""
    where = workspace(tmp_path_factory.mktemp("demo-run"))
    return where, execute_all(where, NAMES, kernel_env())


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_on_the_demo(name, demo_runs):
    where, runs = demo_runs
    nb = runs[name]
    if isinstance(nb, BaseException):
        raise nb
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = _text(nb)
    expect = list(EXPECT.get(name, []))
    if name.startswith("01"):  # the numbers the notebook prints are the frames' numbers
        expect.append(_history_line("workshop/web-ping:v1"))
    for expected in expect:
        assert expected in text, f"{name}: {expected!r} not in the outputs"
    if name.startswith("04"):  # the predictor against what the engine did, recorded in data/cascade
        import re

        found = re.findall(r"(\S+), (classic|buildkit): the prediction matches the engine on (\d+) of (\d+) steps", text)
        assert len(found) == 6 and all(a == b for *_, a, b in found), found
    views = [o for c in nb.cells for o in c.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == WIDGETS[name[:2]], f"{name}: {len(views)} widgets shown"
    assert "AnyModel" in json.dumps(nb.metadata.get("widgets", {})) or name.startswith("02"), "no FigureWidget"
    if name.startswith("05"):
        assert (where / "report.html").stat().st_size < 8_000_000
        # what JupyterLab saves by default: the outputs, without the widgets' state (each plotly
        # FigureWidget's state carries plotly.js, about 4.8 MB, when "save widget state" is on)
        bare = nbformat.from_dict(json.loads(nbformat.writes(nb)))
        bare.metadata.pop("widgets", None)
        saved = len(nbformat.writes(bare).encode())
        assert saved < 1_000_000, f"05 saved with outputs is {saved} bytes: the report is embedded again"
        assert "report.html" in json.dumps(nb.cells[-2]["outputs"]), "no link to the written report"
    plotly = [o for c in nb.cells for o in c.get("outputs", []) if "application/vnd.plotly.v1+json" in o.get("data", {})]
    if name[:2] == "03":
        assert plotly, f"{name}: no plotly figure in the outputs"
    text_all = json.dumps(nb.cells)
    assert "unix:///recorded" not in text_all, f"{name}: names the recorded socket under the demo"


@pytest.mark.engine
def test_notebooks_run_on_a_live_engine(engine, tmp_path):
    """The same notebooks on a real engine that lacks the workshop images: they fall back to what is there."""
    from ..report import _hostile

    _hostile.build(engine, tmp_path / "ctx")
    try:
        where = workspace(tmp_path / "ws")
        env = dict(kernel_env(), IMGVIZ_SOURCE="engine", DOCKER_HOST=engine.host)
        runs = execute_all(where, NAMES, env)
        for name, nb in runs.items():
            if isinstance(nb, BaseException):
                raise nb
            if "imgviz.open()" in json.dumps(nb.cells):
                assert f"Source: live engine at {engine.host}" in _text(nb), name
        report = (where / "report.html").read_text()
        assert f"live engine at {engine.host}" in report
    finally:
        _hostile.remove(engine)


def test_a_kernel_draws_its_first_figure_without_compiling_grammars(tmp_path):
    """`import imgviz` in a kernel defers rfc3987_syntax (imgviz/_kernel.py): after a figure and a
    FigureWidget are shown, lark has compiled nothing."""
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(c) for c in (
        "import sys, imgviz\nf = imgviz.demo()",
        "imgviz.figures.reported_vs_physical(f)",
        "from imgviz.widgets import image_explorer\nimage_explorer(f)",
        "print(type(sys.modules.get('rfc3987_syntax')).__name__, 'lark' in sys.modules, 'nbformat' in sys.modules)",
    )])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "t.ipynb").write_text(nbformat.writes(nb))
    ran = execute_all(tmp_path, ["t.ipynb"], kernel_env())["t.ipynb"]
    if isinstance(ran, BaseException):
        raise ran
    assert ran.cells[-1].outputs[0]["text"].split() == ["_Deferred", "False", "True"]
