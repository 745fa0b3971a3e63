"""Shared figure helpers: byte axes in KB/MB, hover text, top-N + "other", image filters.

Kept general so every figure module (sharing, sizes, cascade, pull) uses the same look and words.
"""

from __future__ import annotations

import html
import math
from typing import Iterable, Sequence

import pandas as pd

from ..units import axis_bytes

#: colours with one meaning across figures
COLORS = {
    "shared": "#4C78A8",      # bytes more than one image uses
    "unique": "#F58518",      # bytes only one image uses
    "same_diff": "#E45756",   # the same diff stored again on another parent
    "other": "#BAB0AC",       # merged "other" items
    "freed": "#54A24B",
    "kept": "#4C78A8",
    "held": "#B279A2",
    "physical": "#72B7B2",
    "reported": "#F58518",
}
PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#FF9DA6",
           "#9D755D", "#BAB0AC"]

_UNITS = (("B", 1), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12))


def byte_unit(max_bytes: float) -> tuple[str, float]:
    """The unit an axis reaching ``max_bytes`` is labelled in: ('MB', 1e6) and so on."""
    unit = _UNITS[0]
    for u in _UNITS:
        if max_bytes >= u[1]:
            unit = u
    return unit


def byte_ticks(max_bytes: float, n: int = 6) -> tuple[list[float], list[str], str]:
    """Tick positions (bytes) and labels (``'20 MB'``) for an axis from 0 to ``max_bytes``.

    Returns ``(tickvals, ticktext, unit)``: steps of 1, 2 or 5 times a power of ten in the
    chosen unit, so the axis reads in round KB/MB.
    """
    if not max_bytes or max_bytes <= 0 or not math.isfinite(max_bytes):
        return [0], ["0 B"], "B"
    unit, scale = byte_unit(max_bytes)
    top = max_bytes / scale
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


def byte_axis(fig, axis: str = "x", max_bytes: float | None = None, title: str = "Size") -> None:
    """Label a figure's byte axis in KB/MB: round ticks, and the unit in the axis title."""
    if max_bytes is None:
        max_bytes = 0
    vals, text, unit = byte_ticks(max_bytes)
    update = {"tickvals": vals, "ticktext": text, "title": {"text": f"{title} ({unit}, 1 {unit} = "
                                                                   f"{int(dict(_UNITS)[unit]):,} bytes)"
                                                            if unit != "B" else f"{title} (bytes)"},
              "rangemode": "tozero"}
    if axis == "x":
        fig.update_xaxes(**update)
    else:
        fig.update_yaxes(**update)


def bytes_text(value) -> str:
    """``75.5 MB`` for hover and labels (decimal units, like the docker CLI)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "unknown"
    return axis_bytes(float(value))


def int0(value) -> int:
    """Bytes as an int for drawing; unknown (NA) is drawn as 0 (hover text says 'unknown')."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(value)


def esc(text) -> str:
    """Text made safe for plotly hover/labels (which take a little HTML)."""
    return html.escape("" if text is None or text is pd.NA else str(text), quote=False)


def short(text, width: int = 60) -> str:
    """One line of at most ``width`` characters."""
    s = " ".join(str(text or "").split())
    return s if len(s) <= width else s[: width - 1] + "…"


def names_text(names: Sequence[str], limit: int = 5) -> str:
    """``a, b, c and 4 more``."""
    names = list(names or [])
    if len(names) <= limit:
        return ", ".join(esc(n) for n in names)
    return ", ".join(esc(n) for n in names[:limit]) + f" and {len(names) - limit} more"


def layer_text(instruction, created_by, width: int = 70) -> str:
    """``RUN apt-get install …`` for a hover line; the instruction first."""
    cmd = short(created_by, width)
    ins = str(instruction) if instruction is not None and instruction is not pd.NA else ""
    if not cmd:
        return esc(ins or "(no instruction recorded)")
    if ins and not cmd.upper().startswith(ins):
        return f"{esc(ins)}: {esc(cmd)}"
    return esc(cmd)


def image_mask(images: pd.DataFrame, *, pattern: str | None = None, search: str | None = None,
               refs: Iterable[str] | None = None) -> pd.Series:
    """Which images a figure shows: a `docker image ls` pattern, a text search, explicit references."""
    from ..analysis.sizes import resolve_images, select_images

    mask = select_images(images, pattern)
    if search:
        needle = search.lower()
        hay = images["tags"].map(lambda t: " ".join(t or [])).str.lower() + " " + images["image_id"].str.lower()
        mask &= hay.str.contains(needle, regex=False)
    if refs is not None:
        mask &= images["image_id"].isin(resolve_images(images, list(refs)))
    return mask.astype(bool)


def top_n_other(df: pd.DataFrame, value: str, top_n: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into the ``top_n`` largest by ``value`` and the rest (kept in their order)."""
    if top_n is None or len(df) <= top_n:
        return df, df.iloc[0:0]
    order = df[value].fillna(0).astype("float64").sort_values(ascending=False, kind="stable").index
    keep = order[:top_n]
    return df.loc[df.index.isin(keep)], df.loc[~df.index.isin(keep)]


def finish(fig, *, title: str, height: int | None, default_height: int, subtitle: str | None = None):
    """Common layout: title (with an optional grey subtitle), white template, margins."""
    text = esc(title) + (f"<br><sup>{esc(subtitle)}</sup>" if subtitle else "")
    fig.update_layout(title={"text": text, "x": 0.01, "xanchor": "left"}, template="plotly_white",
                      height=height or default_height, margin={"l": 10, "r": 10, "t": 80, "b": 40},
                      hoverlabel={"align": "left"})
    return fig
