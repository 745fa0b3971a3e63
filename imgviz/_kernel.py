"""Make the first figure of a notebook show at once.

Why the first figure took 4-15 s: plotly's renderer module (``plotly.io._renderers``, which a
figure's first display and every ``FigureWidget`` import) imports ``nbformat``; nbformat imports
``jsonschema``; jsonschema's format checkers import ``rfc3987_syntax`` when it is installed (it is
wherever JupyterLab is: ``jupyter-events`` asks for ``jsonschema[format-nongpl]``), and
``rfc3987_syntax`` compiles about 40 Earley grammars with lark *at import*: 4.8 s on an idle core
here, 12 s on a busy one, all of it before the figure is drawn. Nothing on the way to a figure
ever validates an IRI (jsonschema upstream knows: python-jsonschema/jsonschema#1428).

:func:`defer_rfc3987_syntax` puts a stand-in module in its place until someone uses it: the one
name jsonschema takes from it, ``is_valid_syntax``, loads the real module on its first call and
answers with it; any other attribute loads the real module at once. So IRI validation gives the
same answers, later. ``import imgviz`` does this only inside a Jupyter kernel and only when
jsonschema has not been imported yet; nothing else changes.
"""

from __future__ import annotations

import importlib
import sys
import types

__all__ = ["defer_rfc3987_syntax", "in_kernel"]

_NAME = "rfc3987_syntax"


def in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), without importing IPython."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _real() -> types.ModuleType:
    mod = sys.modules.get(_NAME)
    if isinstance(mod, _Deferred):
        del sys.modules[_NAME]
        real = importlib.import_module(_NAME)
        # submodules imported under the stand-in stay valid; the stand-in now forwards everything
        object.__setattr__(mod, "_module", real)
        return real
    if mod is None:
        return importlib.import_module(_NAME)
    return mod


def _is_valid_syntax(term, value):
    """``rfc3987_syntax.is_valid_syntax``, loading the module on first use."""
    return _real().is_valid_syntax(term, value)


class _Deferred(types.ModuleType):
    """``rfc3987_syntax`` until something uses it."""

    def __getattr__(self, name):
        if name == "is_valid_syntax":
            return _is_valid_syntax
        real = self.__dict__.get("_module") or _real()
        return getattr(real, name)


def defer_rfc3987_syntax() -> bool:
    """Defer the import of ``rfc3987_syntax`` until it is used (see the module docstring).

    Returns True when the stand-in was installed; False when there is nothing to defer (not
    installed, already imported, or jsonschema already holds it).
    """
    if _NAME in sys.modules or "jsonschema" in sys.modules:
        return False
    import importlib.util  # here: only inside a kernel (the command line's start-up skips it)

    try:
        spec = importlib.util.find_spec(_NAME)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    stand_in = _Deferred(_NAME, "imgviz: loaded on first use")
    stand_in.__spec__ = spec
    stand_in.__file__ = spec.origin
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[_NAME] = stand_in
    return True
