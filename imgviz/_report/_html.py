"""Sections -> HTML. Every string that came from images is escaped here, figures through ``_safe``.

The page is self-contained: plotly.js (from the installed plotly package) is inlined once, each
figure is a JSON block drawn by one small script, MathJax is never referenced, nothing is fetched.
"""

from __future__ import annotations

import html
import json
import re
import secrets as _random
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from .._text import visible_controls
from ..units import human_size
from . import _templates
from ._safe import safe_figure_dict
from ._summarize import Facts, Figure, Section, Table

_TEXT_LIMIT = 600  # characters of one cell; the full text is in the cell's title


def esc(value: Any) -> str:
    """Text from an image, as HTML that shows it as it is: markup escaped, and characters that would
    hide or reorder text (U+202E and the other bidi controls, zero-width characters, control
    characters) shown as visible ``<U+202E>`` markers."""
    return html.escape(visible_controls("" if value is None else str(value)), quote=True)


def prose(value: Any) -> str:
    """Escaped text in which `backticked` words become <code> (after escaping, so nothing else is markup)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(value))


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value))


def _cell(value: Any, fmt: str, rest_row: bool, column: str = "") -> str:
    label = f' data-label="{esc(column)}"' if column else ""
    if _is_missing(value):
        return f'<td class="iv-num iv-empty"{label}>-</td>' if fmt in ("bytes", "int") else f'<td class="iv-empty"{label}></td>'
    if fmt == "bytes":
        return f'<td class="iv-num"{label} title="{int(value):,} bytes">{esc(human_size(int(value)))}</td>'
    if fmt == "int":
        return f'<td class="iv-num"{label}>{int(value):,}</td>'
    if fmt == "time":
        ts = pd.Timestamp(value)
        return f'<td class="iv-num"{label} title="{esc(ts.isoformat())}">{esc(ts.strftime("%Y-%m-%d %H:%M"))}</td>'
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if not text:
        return f'<td class="iv-empty"{label}></td>'
    cls = {"code": "iv-code", "id": "iv-id"}.get(fmt, "")
    attr = f' class="{cls}"' if cls else ""
    if len(text) > _TEXT_LIMIT:
        shown = text[:_TEXT_LIMIT] + " ..."
        return f'<td{attr}{label} title="{esc(text)}">{esc(shown)}</td>'
    return f"<td{attr}{label}>{esc(text)}</td>"


def render_table(table: Table) -> str:
    """A table; a long one folded in a <details> whose summary keeps its caption and row count.

    Every cell carries its column name (``data-label``), so on a phone the rows can be shown as
    cards of "column: value" lines instead of a table wider than the screen.
    """
    frame = table.frame
    cols = list(frame.columns)
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in cols)
    rows = []
    last = len(frame) - 1
    for k, row in enumerate(frame.itertuples(index=False)):
        rest_row = table.rest_row and k == last
        cells = "".join(_cell(v, table.formats.get(c, "text"), rest_row, str(c)) for c, v in zip(cols, row))
        rows.append(f'<tr class="iv-rest">{cells}</tr>' if rest_row else f"<tr>{cells}</tr>")
    kind = "iv-table iv-grid" if table.grid else "iv-table"
    body = (f'<div class="iv-table-wrap"><table class="{kind}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")
    note = f'<p class="iv-note">{esc(table.note)}</p>' if table.note else ""
    if table.collapsed:
        what = esc(table.caption) if table.caption else "Table"
        n = len(frame) - (1 if table.rest_row else 0)
        count = f"{n:,} shown, the rest summed" if table.rest_row else f'{n:,} row{"s" if n != 1 else ""}'
        return (f'<details class="iv-fold"><summary>{what} <span class="iv-count">({count})</span></summary>\n'
                f"{body}\n{note}</details>")
    out = []
    if table.caption:
        out.append(f"<h3>{esc(table.caption)}</h3>")
    out.append(body)
    if note:
        out.append(note)
    return "\n".join(out)


def render_facts(facts: Facts) -> str:
    items = "".join(f"<dt>{prose(k)}</dt><dd>{prose(v)}</dd>" for k, v in facts.items)
    return f'<dl class="iv-facts">{items}</dl>'


def figure_json(fig) -> str:
    """The figure as JSON that is safe inside a ``<script>`` block (no ``<``, ``>`` or ``&``)."""
    import plotly.io as pio

    text = pio.to_json(safe_figure_dict(fig), validate=False, remove_uids=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_figure(part: Figure, fig_id: str, nonce: str) -> str:
    out = [f'<div class="iv-figure" id="{fig_id}"></div>',
           f'<script type="application/json" nonce="{nonce}" data-imgviz-figure="{fig_id}">'
           f"{figure_json(part.figure)}</script>"]
    if part.note:
        out.append(f'<p class="iv-note">{esc(part.note)}</p>')
    return "\n".join(out)


def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render_body(sections: list[Section], *, title: str, subtitle: str, nonce: str, include_plotlyjs: bool,
                prefix: str = "iv", banner: str | None = None) -> str:
    """The report's body; ``banner`` (an incomplete collection's "INCOMPLETE: ..." line) goes first,
    above the title, so nobody reads the numbers below without it."""
    out = [f"<style>{_templates.STYLE}</style>", '<div class="imgviz-report">']
    if banner:
        out.append(f'<p class="iv-incomplete" role="alert"><strong>INCOMPLETE</strong> '
                   f'{esc(banner.removeprefix("INCOMPLETE: "))}</p>')
    out += [f"<h1>{esc(title)}</h1>", f'<p class="iv-sub">{esc(subtitle)}</p>']
    toc = "".join(f'<li><a href="#{prefix}-{esc(s.key)}">{esc(s.title)}</a></li>' for s in sections)
    out.append(f'<ul class="iv-toc">{toc}</ul>')
    n_fig = 0
    for s in sections:
        out.append(f'<section id="{prefix}-{esc(s.key)}"><h2>{esc(s.title)}</h2>')
        out.append(f'<p class="iv-explain">{prose(s.explanation)}</p>')
        for part in s.parts:
            if isinstance(part, Table):
                out.append(render_table(part))
            elif isinstance(part, Facts):
                out.append(render_facts(part))
            elif isinstance(part, Figure):
                n_fig += 1
                out.append(render_figure(part, f"{prefix}-fig-{n_fig}", nonce))
        out.append("</section>")
    from .. import __version__

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.append(f"<footer>Made by imgviz {esc(__version__)} on {esc(stamp)}. Self-contained: this file "
               f"loads nothing from the network.</footer>")
    out.append("</div>")
    if include_plotlyjs and n_fig:
        out.append(f'<script nonce="{nonce}">{plotly_js()}</script>')
    out.append(f'<script nonce="{nonce}">{_templates.RENDER}</script>')
    return "\n".join(out)


def new_nonce() -> str:
    return _random.token_urlsafe(18)


def render_page(sections: list[Section], *, title: str, subtitle: str, banner: str | None = None) -> str:
    from .. import __version__

    nonce = new_nonce()
    body = render_body(sections, title=title, subtitle=subtitle, nonce=nonce, include_plotlyjs=True, banner=banner)
    csp = _templates.CSP.replace("$nonce", nonce)
    csp_attr = html.escape(csp, quote=False).replace('"', "&quot;")  # keeps the policy's single quotes
    return _templates.PAGE.substitute(csp=csp_attr, version=esc(__version__), title=esc(title), body=body)


def render_json(sections: list[Section], meta: dict[str, Any]) -> str:
    out = {"meta": meta, "sections": []}
    for s in sections:
        parts = []
        for part in s.parts:
            if isinstance(part, Table):
                parts.append({"type": "table", "caption": part.caption, "note": part.note,
                              "columns": list(part.frame.columns), "formats": part.formats,
                              "rows": part.records()})
            elif isinstance(part, Facts):
                parts.append({"type": "facts", "items": [list(i) for i in part.items]})
            elif isinstance(part, Figure):
                import plotly.io as pio

                parts.append({"type": "figure", "note": part.note,
                              "figure": json.loads(pio.to_json(part.figure, validate=False, remove_uids=True))})
        out["sections"].append({"key": s.key, "title": s.title, "explanation": s.explanation, "parts": parts})
    return json.dumps(out, indent=1, default=str)
