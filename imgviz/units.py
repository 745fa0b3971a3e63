"""Every byte and time format imgviz prints or draws, in one family.

- :func:`human_size`: sizes as the docker CLI prints them (go-units): decimal multiples
  (1 kB = 1000 B) and a fixed number of significant digits. ``docker image ls`` and
  ``docker image history`` use 3 digits (``75.5MB``), ``docker system df`` uses 4 (``75.49MB``).
  Tables of the CLI and the report use it, so tests compare our text with the CLI's exactly and
  users recognise the numbers they know.
- :func:`axis_bytes`: short labels for figures, hover text and notebook prose (``75.5 MB``).
- :func:`byte_unit` and :func:`byte_ticks`: the KB/MB unit of a figure axis and its round ticks.
- :func:`human_duration`, :func:`ago`: times as ``docker image ls`` CREATED prints them.

Every format takes an unknown size (None, NaN, pandas' NA) and says so (``-`` in CLI text,
``unknown`` in figures); none of them turns unknown into 0. This module imports no third-party
package, so the CLI can format without pandas.
"""

from __future__ import annotations

import math
from ._dt import datetime, timezone

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


def df_image_size_precision(engine_version: str | None) -> int:
    """Significant digits of the SIZE column of ``docker system df -v``'s images, as the docker
    CLI of the engine's version prints it: 4 on 20.10 (``1.984MB``, like SHARED and UNIQUE SIZE),
    3 on 28 (``1.98MB``: the column shares ``docker image ls``'s formatter there).

    Measured on the 20.10.24 and 28.5.2 clients; versions 21-27 were not measured and follow 20.10.
    An unknown version (a registry, an archive, podman) gets 4.

    >>> df_image_size_precision("28.5.2"), df_image_size_precision("20.10.24"), df_image_size_precision(None)
    (3, 4, 4)
    """
    try:
        major = int(str(engine_version).split(".", 1)[0])
    except ValueError:
        return 4
    return 3 if major >= 28 else 4


#: the units of figure axes and labels (decimal, like the docker CLI), smallest first
BYTE_UNITS = (("B", 1.0), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12))


def axis_bytes(size: float, *, unknown: str = "unknown") -> str:
    """Short label for figure axes, hover text and prose: ``880 B``, ``1.5 KB``, ``75.5 MB``.

    Examples
    --------
    >>> axis_bytes(880), axis_bytes(1_500), axis_bytes(75_490_000), axis_bytes(None)
    ('880 B', '1.5 KB', '75.5 MB', 'unknown')
    """
    value = _number(size)
    if value is None:
        return unknown
    for unit, _scale in BYTE_UNITS:
        if abs(value) < 1000 or unit == BYTE_UNITS[-1][0]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000.0
    return f"{value:.1f} TB"  # pragma: no cover


def byte_unit(max_bytes: float, *, smallest: str = "B") -> tuple[str, float]:
    """The unit an axis reaching ``max_bytes`` is labelled in: ``('MB', 1e6)`` and so on.

    ``smallest`` names the smallest unit to use (``'KB'`` for axes of layer blobs).

    Examples
    --------
    >>> byte_unit(75_490_000), byte_unit(880), byte_unit(880, smallest="KB")
    (('MB', 1000000.0), ('B', 1.0), ('KB', 1000.0))
    """
    names = [u for u, _ in BYTE_UNITS]
    start = names.index(smallest)
    unit = BYTE_UNITS[start]
    value = _number(max_bytes) or 0.0
    for u in BYTE_UNITS[start:]:
        if value >= u[1]:
            unit = u
    return unit


def byte_ticks(max_bytes: float, n: int = 6) -> tuple[list[float], list[str], str]:
    """Tick positions (bytes) and labels (``'20 MB'``) for an axis from 0 to ``max_bytes``.

    Returns ``(tickvals, ticktext, unit)``: steps of 1, 2 or 5 times a power of ten in the
    chosen unit, so the axis reads in round KB/MB.

    Examples
    --------
    >>> byte_ticks(75_000_000)[1]
    ['0 MB', '20 MB', '40 MB', '60 MB']
    """
    value = _number(max_bytes)
    if not value or value <= 0 or not math.isfinite(value):
        return [0], ["0 B"], "B"
    unit, scale = byte_unit(value)
    top = value / scale
    raw = top / max(n - 1, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if unit == "B":
        step = max(step, 1)
    vals, k = [], 0
    while k * step <= top * 1.0001:
        vals.append(k * step)
        k += 1
    text = [f"{v:g} {unit}" for v in vals]
    return [v * scale for v in vals], text, unit


def axis_title(title: str, unit: str) -> str:
    """An axis title that names its unit: ``Size (MB, 1 MB = 1,000,000 bytes)``."""
    if unit == "B":
        return f"{title} (bytes)"
    return f"{title} ({unit}, 1 {unit} = {int(dict(BYTE_UNITS)[unit]):,} bytes)"


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
