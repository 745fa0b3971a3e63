"""Plain-text tables in the docker CLI's layout.

The CLI uses Go's tabwriter with a minimum cell width of 10 and a padding of 3: a column is as wide
as its longest cell plus 3, and at least 10.
"""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Sequence


def render(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The table as text; every cell made inert first (:func:`imgviz._text.terminal_safe`: a tag or a
    history line holding ESC sequences, newlines or U+202E prints as visible escapes)."""
    from .._text import terminal_safe

    cells = [[terminal_safe(h) for h in headers]] + [["" if c is None else terminal_safe(c) for c in r] for r in rows]
    widths = [max(10, max(len(r[i]) for r in cells) + 3) for i in range(len(headers))]
    lines = []
    for r in cells:
        parts = [r[i].ljust(widths[i]) if i < len(r) - 1 else r[i] for i in range(len(r))]
        lines.append("".join(parts).rstrip())
    return "\n".join(lines)


def dump_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def iso(value: Any) -> str | None:
    """A creation time as ISO 8601 in UTC (``2026-11-28T10:00:00.123456+00:00``), None when unknown."""
    from ..rows import iso_time

    return iso_time(value)


def as_int(value: Any) -> int | None:
    """int(value), or None when the value is unknown (None, NaN, pandas NA)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
