"""Making text that came from images safe to show.

Two places show image text (tags, labels, commands, env):

- HTML tables: every string goes through :func:`html.escape` (see ``_html``).
- plotly figures: plotly draws text as SVG, not HTML, but it reads a few HTML-like tags in any text
  (``<b>``, ``<br>``, ``<a href>``, ``<span style>``) and decodes entities. A label such as
  ``<a href="javascript:...">`` would become a link. :func:`safe_figure_dict` therefore escapes
  every ``<`` in every string of a figure (data and layout) except plotly's harmless formatting
  tags (``<b>``, ``<i>``, ``<br>``, ``<sup>``, ``<sub>``, ``<extra>``...), which figure functions
  use on purpose, and every ``&`` that does not start an entity. No link, style or markup an image
  brought along survives; image text that a figure function already escaped stays as it was.

Escaping is idempotent: an entity that is already there (``&lt;``) is left alone, so a figure
function that escaped its own strings is not escaped twice. Characters that hide or reorder text
(U+202E and the other bidi controls, zero-width and control characters) are shown as visible
``<U+202E>`` markers, as in the tables (:func:`imgviz._text.visible_controls`).
"""

from __future__ import annotations

import re
from typing import Any

from .._text import visible_controls

_ENTITY = re.compile(r"&(?!(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")
_FORMAT_TAG = re.compile(r"</?(?:b|i|em|sup|sub|br|s|u|extra)\s*/?>", re.IGNORECASE)


def escape_plotly_text(text: str) -> str:
    """``<``, ``>`` and ``&`` as entities, so plotly shows the text as it is.

    Examples
    --------
    >>> escape_plotly_text("<b>x</b> & y")
    '&lt;b&gt;x&lt;/b&gt; &amp; y'
    >>> escape_plotly_text("&lt;already&gt;")
    '&lt;already&gt;'
    """
    return _ENTITY.sub("&amp;", visible_controls(text)).replace("<", "&lt;").replace(">", "&gt;")


def escape_authored_text(text: str) -> str:
    """Like :func:`escape_plotly_text` but keeps plotly's formatting tags (``<br>``, ``<b>``, ``<extra>``...)."""
    out, pos = [], 0
    for m in _FORMAT_TAG.finditer(text):
        out.append(escape_plotly_text(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(escape_plotly_text(text[pos:]))
    return "".join(out)


def _walk(value: Any, fn) -> Any:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - pandas brings numpy
        np = None
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _walk(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v, fn) for v in value]
    if np is not None and isinstance(value, np.ndarray):
        if value.dtype.kind in "OUS":
            return [_walk(v, fn) for v in value.tolist()]
        return value
    return value


def safe_figure_dict(fig) -> dict:
    """The figure as a plotly JSON dict with every string that could hold image text escaped.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure or dict

    Returns
    -------
    dict
        ``{"data": [...], "layout": {...}}`` ready for ``Plotly.newPlot``.
    """
    spec = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else dict(fig)
    data = [_walk(trace, escape_authored_text) for trace in spec.get("data") or []]
    layout = dict(spec.get("layout") or {})
    template = layout.pop("template", None)
    layout = _walk(layout, escape_authored_text)
    if template is not None:
        layout["template"] = template  # plotly's own theme: no image text in it
    return {"data": data, "layout": layout}
