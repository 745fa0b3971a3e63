"""The package's shape, checked from its source: no import cycles, and only sources/ talks to engines.

Every module of imgviz is parsed with ``ast``; every import is collected, at module level and
inside functions and methods alike (a function-level import is still a dependency, only a later
one), relative imports resolved, and ``from package import name`` counted as an import of the
submodule when ``name`` is one. The graph of imgviz's modules must have no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "imgviz"
ENGINE_LIBRARIES = ("docker", "httpx")  # talking to engines and registries: sources/ only


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement anywhere in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = [f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known]
            out += [(s, node.lineno) for s in subs]
            if len(subs) < len(node.names):  # names that are not submodules come from the module itself
                out.append((target, node.lineno))
    return out


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported imgviz module: first line}, every import statement counted."""
    mods = modules()
    known = set(mods)
    graph: dict[str, dict[str, int]] = {m: {} for m in mods}
    for name, path in mods.items():
        for target, line in _imports(path, name, known):
            if target in known and target != name:
                graph[name].setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def _describe(component: list[str], graph: dict[str, dict[str, int]]) -> str:
    members = set(component)
    edges = [f"{a} -> {b} (line {line})" for a in component for b, line in sorted(graph[a].items()) if b in members]
    return "{" + ", ".join(component) + "}: " + "; ".join(edges)


def test_the_graph_sees_imports_inside_functions():
    """The checker itself: a function-level import is an edge, relative imports resolve, and a cycle is found."""
    graph = import_graph()
    # imgviz/report.py imports the report's parts inside methods only
    assert "imgviz._report._summarize" in graph["imgviz.report"]
    # `from . import _style as st` in a figure module is the submodule, not the package
    assert "imgviz.figures._style" in graph["imgviz.figures.sizes"]
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles among imgviz's modules:\n" + "\n".join(_describe(c, graph) for c in found)


def test_docker_and_httpx_only_under_sources():
    known = set(modules())
    wrong = []
    for name, path in modules().items():
        if name.startswith("imgviz.sources"):
            continue
        for target, line in _imports(path, name, known):
            if target.split(".")[0] in ENGINE_LIBRARIES:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, "only imgviz/sources/ may talk to engines and registries:\n" + "\n".join(wrong)
