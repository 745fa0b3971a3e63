"""``datetime``'s classes, without running ``datetime.py``.

On CPython, ``import datetime`` first defines the whole pure-Python implementation and only then
replaces it with the C module's classes (``from _datetime import *``): 1.7 ms of every command's
start-up spent on classes that are thrown away. The C module is imported here directly; its classes
are the very objects ``datetime`` exports (``datetime.datetime is _datetime.datetime``), so values
made here and values made by pandas or the standard library are alike. Elsewhere (an interpreter
without ``_datetime``), ``datetime`` itself.
"""

from __future__ import annotations

try:
    from _datetime import datetime, timedelta, timezone
except ImportError:  # pragma: no cover (not CPython)
    from datetime import datetime, timedelta, timezone

__all__ = ["datetime", "timedelta", "timezone"]
