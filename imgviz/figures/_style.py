"""Shared figure helpers: colours, byte axes in KB/MB, hover text, the common layout.

Kept general so every figure module (sharing, sizes, cascade, pull) uses the same look and words.
Byte formats come from :mod:`imgviz.units`; which images to show and "the top N and the rest" from
:mod:`imgviz.selection`.
"""

from __future__ import annotations

import html
import math
import re
from typing import Sequence

import pandas as pd

from ..units import axis_title, byte_ticks

#: colours with one meaning across figures
COLORS = {
    "base": "#9DB4CF",        # layers of an image other images are built on (their base)
    "app": "#F58518",         # an app layer (above the base) only one image uses
    "app_shared": "#E3B505",  # an app layer several images use (the same WORKDIR, the same COPY)
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


def byte_axis_on(fig, row: int, max_bytes: float | None, title: str = "Bytes", col: int = 1) -> None:
    """:func:`byte_axis` for the x axis of one subplot (each subplot keeps a byte scale of its own)."""
    vals, text, unit = byte_ticks(max_bytes or 0)
    fig.update_xaxes(tickvals=vals, ticktext=text, title={"text": axis_title(title, unit)},
                     range=[0, max(max_bytes or 0, 1)], row=row, col=col)


def legend_below(fig, rows: int = 1) -> None:
    """The legend in a row below the plot, under the axis title (never over bars): anchored to the
    bottom of the figure, with the bottom margin grown to hold it. Call after :func:`finish`."""
    fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "bottom",
                              "yref": "container"},
                      margin={"b": 70 + 22 * rows})
    fig.update_layout(height=(fig.layout.height or 0) + 22 * rows)


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


_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s*")
_SHELL = re.compile(r"^(RUN )?/bin/sh -c ")


def step(instruction, created_by, width: int = 32) -> str:
    """A short name for the step that made a layer, as a learner wrote it: ``COPY app.js .``,
    ``RUN apt-get install …``, ``WORKDIR /web-ping``, ``IMPORT`` (a ``docker import`` base).
    Not escaped (escape it where it goes into hover or labels)."""
    ins = "" if instruction is None or instruction is pd.NA else str(instruction)
    text = " ".join(str(created_by or "").split())
    text = _NOP.sub("", text)
    text = re.sub(r"\s+# buildkit$", "", text)
    text = re.sub(r"\b(file|dir):([0-9a-f]{8})[0-9a-f]{56}\b", r"\1:\2…", text)
    if _SHELL.match(text):
        text = "RUN " + _SHELL.sub("", text)
    if not text:
        return ins or "layer"
    if ins and not text.upper().startswith(ins):
        text = f"{ins} {text}"
    return short(text, width)


def plain_names(names: Sequence[str], limit: int = 5) -> str:
    """``a, b, c and 4 more`` without escaping (for titles, which :func:`finish` escapes once)."""
    names = [str(n) for n in (names or [])]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces (a longer word keeps its own line)."""
    lines, line = [], ""
    for word in str(text).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def finish(fig, *, title: str, height: int | None, default_height: int, subtitle: str | None = None):
    """Common layout: title (with an optional grey subtitle), white template, margins.

    The title and subtitle are escaped here, once (pass plain text). They are wrapped at spaces so
    no line is wider than a laptop's figure; the report re-wraps them for a phone's width. The top
    margin grows with the lines, so the title never covers the plot.
    """
    lines = [esc(line) for line in wrap(title, 90)] or [""]
    subs = [f"<sup>{esc(line)}</sup>" for line in wrap(subtitle or "", 120)]
    text = "<br>".join(lines + subs)
    top = 48 + 24 * len(lines) + 17 * len(subs)
    fig.update_layout(title={"text": text, "x": 0.01, "xanchor": "left", "y": 1, "yanchor": "top",
                             "yref": "container", "pad": {"t": 20}},
                      template="plotly_white", height=height or default_height + max(0, top - 80),
                      margin={"l": 10, "r": 10, "t": max(top, 60), "b": 40}, hoverlabel={"align": "left"})
    return fig
