"""Things made on first use, for start-up time (a command imports only what it prints,
tests/test_startup.py): a module ``__getattr__`` made from a table (:func:`exports`), and a regular
expression compiled when it is first used (:class:`Pattern`)."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Callable


def exports(package: str, table: dict[str, Any], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: ``table`` maps a public name to the module defining it
    (relative to the package, the attribute of the same name), or to ``(module, attribute)``
    (attribute None: the module itself). The value is put into ``namespace`` (the package's
    globals), so the next lookup is a plain attribute."""

    def __getattr__(name: str) -> Any:
        try:
            target = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module, attr = target if isinstance(target, tuple) else (target, name)
        mod = importlib.import_module(module, package)
        value = mod if attr is None else getattr(mod, attr)
        namespace[name] = value
        return value

    return __getattr__


class Pattern:
    """``re.compile(*args)``, compiled when one of its methods is first asked for (and that method
    kept on the instance: the next call is a plain attribute). For the patterns a module defines for
    rare cases: a one-image command compiles only those its answer reaches (each 0.1-0.4 ms)."""

    def __init__(self, *args):
        self._args = args

    def __getattr__(self, name: str):
        import re

        value = getattr(re.compile(*self._args), name)
        setattr(self, name, value)
        return value
