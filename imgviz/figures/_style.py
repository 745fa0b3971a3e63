"""Shared figure helpers: colours, byte axes in KB/MB, hover text, the common layout.

Kept general so every figure module (sharing, sizes, cascade, pull) uses the same look and words.
Byte formats come from :mod:`imgviz.units`; which images to show and "the top N and the rest" from
:mod:`imgviz.selection`.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

import pandas as pd

from ..units import axis_title, byte_ticks

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

def byte_axis(fig, axis: str = "x", max_bytes: float | None = None, title: str = "Size") -> None:
    """Label a figure's byte axis in KB/MB: round ticks, and the unit in the axis title."""
    vals, text, unit = byte_ticks(max_bytes or 0)
    update = {"tickvals": vals, "ticktext": text, "title": {"text": axis_title(title, unit)}, "rangemode": "tozero"}
    if axis == "x":
        fig.update_xaxes(**update)
    else:
        fig.update_yaxes(**update)


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


def finish(fig, *, title: str, height: int | None, default_height: int, subtitle: str | None = None):
    """Common layout: title (with an optional grey subtitle), white template, margins."""
    text = esc(title) + (f"<br><sup>{esc(subtitle)}</sup>" if subtitle else "")
    fig.update_layout(title={"text": text, "x": 0.01, "xanchor": "left"}, template="plotly_white",
                      height=height or default_height, margin={"l": 10, "r": 10, "t": 80, "b": 40},
                      hoverlabel={"align": "left"})
    return fig
