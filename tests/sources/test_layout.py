"""The sources' house rules, read from the code itself (every import, at module level or inside a
function): no medium imports another, snapshot.py knows no source, only sources/ talks to docker
and httpx, and nothing on the way from an engine to a snapshot file needs pandas."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PKG = ROOT / "imgviz"
MEDIA = {"imgviz.sources.engine", "imgviz.sources.registry", "imgviz.sources.archive"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


MODULES = _modules()


def imports(name: str) -> set[str]:
    """Every module ``name`` imports anywhere in its code (absolute names; ``from X import y``
    counts as X.y when that is a module)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES)
    return out


def test_the_import_reader_sees_relative_and_function_level_imports():
    found = imports("imgviz.sources._open")
    assert {"imgviz.sources.engine", "imgviz.sources.registry", "imgviz.sources.archive",
            "imgviz.snapshot", "imgviz.sources._replay"} <= found


@pytest.mark.parametrize("medium", sorted(MEDIA))
def test_no_source_module_imports_another(medium):
    other = {m for m in MEDIA if m != medium}
    assert not imports(medium) & other, f"{medium} imports {imports(medium) & other}"


def test_shared_parts_import_no_medium():
    for name in MODULES:
        if name.startswith("imgviz.sources._") and name != "imgviz.sources._open":
            assert not imports(name) & MEDIA, f"{name} imports {imports(name) & MEDIA}"


def test_snapshot_imports_nothing_from_sources():
    bad = {m for m in imports("imgviz.snapshot") if m == "imgviz.sources" or m.startswith("imgviz.sources.")}
    assert not bad, bad


def test_docker_and_httpx_only_under_sources():
    for name in MODULES:
        if name == "imgviz.sources" or name.startswith("imgviz.sources."):
            continue
        bad = {m for m in imports(name) if m.split(".")[0] in ("docker", "httpx")}
        assert not bad, f"{name} imports {bad}"


def test_sources_and_snapshot_import_no_pandas_or_numpy():
    for name in MODULES:
        if name in ("imgviz.sources", "imgviz.snapshot") or name.startswith("imgviz.sources."):
            bad = {m for m in imports(name) if m.split(".")[0] in ("pandas", "numpy")}
            assert not bad, f"{name} imports {bad}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_through_sources_or_snapshot():
    """No cycle, counting imports inside functions, that passes through sources/ or snapshot.py
    (a module's own parent packages are left out: importing the module has run them already)."""
    graph = {name: {m for m in imports(name) if m in MODULES and not name.startswith(m + ".")} for name in MODULES}
    ours = [c for c in _cycles(graph) if any(m == "imgviz.snapshot" or m.startswith("imgviz.sources") for m in c)]
    assert not ours, ours


@pytest.mark.parametrize("module", ["imgviz.sources.engine", "imgviz.sources.registry", "imgviz.sources.archive",
                                    "imgviz.sources", "imgviz.snapshot", "imgviz"])
def test_importing_a_source_loads_no_pandas(module):
    code = f"import sys, {module}; print(','.join(m for m in ('pandas', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"import {module} loaded {out.stdout.strip()}"


def test_the_frames_name_stays_the_function():
    """``imgviz.frames`` is the function even after the submodule of that name is imported."""
    code = ("import imgviz; from imgviz.frames import chain_ids; import imgviz.frames; "
            "print(callable(imgviz.frames), 'pandas' in __import__('sys').modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "True"]
