"""Text that came from outside (file names, image metadata, engine and registry answers) made safe
to print: one rule for the terminal, one for the report.

Terminal
    :func:`terminal_safe` writes every control character (C0, DEL, C1) as a Python-style escape
    (``\\x1b``, ``\\n``, ``\\x9b``), and every character that reorders or hides text (the bidi
    controls U+202A-U+202E and U+2066-U+2069, U+200E/U+200F/U+061C, zero-width characters, the
    BOM) as ``\\u202e``. An image label holding ``\\x1b]0;owned\\x07`` or a file name holding
    U+202E cannot retitle the terminal, move the cursor or make text read backwards.
Report
    :func:`visible_controls` shows the same characters as ``<U+202E>`` markers (the HTML renderer
    escapes the rest), so a reader sees that a name holds a right-to-left override instead of
    reading reversed text.
"""

from __future__ import annotations

import re

from ._lazy import Pattern

#: characters that change how surrounding text is shown without being visible themselves
INVISIBLE = ("\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
             "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb")

_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f" + INVISIBLE + "\u2028\u2029]")
_VISIBLE = Pattern("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + INVISIBLE + "\u2028\u2029]")


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if ch == "\r":
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object) -> str:
    """``text`` with every control and invisible formatting character escaped (one line, inert).

    Examples
    --------
    >>> terminal_safe("evil\\x1b[2Jname\\u202etxt.exe\\n")
    'evil\\\\x1b[2Jname\\\\u202etxt.exe\\\\n'
    >>> terminal_safe("plain text, é and 中文")
    'plain text, é and 中文'
    """
    s = text if isinstance(text, str) else str(text)
    return _TERMINAL.sub(lambda m: _escape(m.group(0)), s)


def visible_controls(text: str) -> str:
    """``text`` with control and bidi characters shown as ``<U+202E>`` markers (tabs and newlines
    kept): what the report shows, before HTML escaping.

    Examples
    --------
    >>> visible_controls("abc\\u202edef")
    'abc<U+202E>def'
    """
    if not isinstance(text, str):
        return text
    return _VISIBLE.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", text)


def one_line(text: object, limit: int = 100_000) -> str:
    """A message reduced to one printable line (control characters escaped); a message longer than
    ``limit`` keeps its beginning and its end, where messages say what is wrong."""
    s = terminal_safe(text)
    if len(s) <= limit:
        return s
    half = limit // 2
    return s[:half] + " … " + s[-half:]
