"""Byte and time formatting that matches the docker CLI.

The docker CLI formats sizes with go-units: decimal multiples (1 kB = 1000 B) and a fixed number of
significant digits. ``docker image ls`` and ``docker image history`` use 3 digits (``75.5MB``),
``docker system df`` uses 4 (``75.49MB``). Reproducing the rule lets tests compare our tables with
the CLI's text exactly, and lets users recognise the numbers they know.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def _go_g(value: float, precision: int) -> str:
    """Format like Go's ``%.*g`` (shortest of %e / %f, trailing zeros removed)."""
    if value == 0:
        return "0"
    exp = int(math.floor(math.log10(abs(value))))
    # rounding can carry into the next power of ten (999.95 -> 1000)
    rounded = float(f"{value:.{precision - 1}e}")
    if rounded != 0:
        exp = int(math.floor(math.log10(abs(rounded))))
    if exp < -4 or exp >= precision:
        mantissa, e = f"{value:.{precision - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        sign = "-" if int(e) < 0 else "+"
        return f"{mantissa}e{sign}{abs(int(e)):02d}"
    decimals = max(precision - 1 - exp, 0)
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _number(size) -> float | None:
    """float(size), or None for None, NaN and pandas' NA (an unknown size prints as '-')."""
    try:
        value = float(size)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def human_size(size: float, precision: int = 4) -> str:
    """Size the way the docker CLI prints it (go-units ``HumanSizeWithPrecision``).

    Parameters
    ----------
    size : number of bytes
    precision : significant digits; 4 for ``docker system df``, 3 for ``docker image ls``.

    Examples
    --------
    >>> human_size(75_490_000)
    '75.49MB'
    >>> human_size(75_490_000, precision=3)
    '75.5MB'
    >>> human_size(0)
    '0B'
    """
    value = _number(size)
    if value is None:
        return "-"
    i = 0
    while value >= 1000.0 and i < len(_DECIMAL_UNITS) - 1:
        value /= 1000.0
        i += 1
    return f"{_go_g(value, precision)}{_DECIMAL_UNITS[i]}"


def axis_bytes(size: float) -> str:
    """Short label for figure axes and hover text: ``880 B``, ``1.5 KB``, ``75.5 MB``."""
    value = _number(size)
    if value is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000.0
    return f"{value:.1f} TB"  # pragma: no cover


def human_duration(seconds: float) -> str:
    """Elapsed time as go-units ``HumanDuration`` words (``About an hour``, ``3 weeks``)."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(round(seconds / 3600))
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """``3 minutes ago`` as the docker CLI prints a creation time."""
    if when is None:
        return "N/A"
    now = now or datetime.now(timezone.utc)
    return f"{human_duration((now - when).total_seconds())} ago"
