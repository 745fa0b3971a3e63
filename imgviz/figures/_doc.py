"""Parameter docs written once and shared by every figure function (the way plotly express does).

A figure's docstring names a shared parameter as ``{name}`` on a line of its own; :func:`document`
replaces it with the text below, indented to match. One meaning per parameter name everywhere.
"""

from __future__ import annotations

import textwrap

PARAMS = {
    "frames": """frames : Frames
    From :func:`imgviz.frames`, :func:`imgviz.collect` + frames, or :func:`imgviz.demo`.""",
    "top_n": """top_n : int, optional
    Show at most this many items (images, layers, rows) by bytes; the rest are merged into one
    "other" item whose hover says how many it holds. None shows everything.""",
    "search": """search : str, optional
    Keep only images whose tag or ID contains this text (case-insensitive).""",
    "pattern": """pattern : str, optional
    Keep only images `docker image ls PATTERN` would list, e.g. ``'w*'`` or ``'workshop/*'``
    (``*`` does not cross ``/``; dangling images are left out).""",
    "images": """images : list of str, optional
    Tags or IDs of the images to show (default: all, after ``pattern`` and ``search``).""",
    "title": """title : str, optional
    Figure title; by default one that says what is shown and how much of it.""",
    "height": """height : int, optional
    Figure height in pixels; by default one that fits the number of rows.""",
    "remove": """remove : str or list of str
    Tags or IDs of the images to remove (every tag of each).""",
    "mark_remove": """remove : list of str, optional
    Tags or IDs of images you consider removing: the figure marks what that would remove
    (see :func:`imgviz.figures.what_if` for the bytes).""",
    "remove_containers": """remove_containers : bool, default False
    Also remove the containers of those images (`docker rm` first), freeing their writable layers.""",
    "returns": """Returns
-------
plotly.graph_objects.Figure
    Byte axes are labelled in KB/MB; hover text names the image (tag), the instruction and the
    bytes. Call ``.show()`` or ``.write_html(path)`` yourself.""",
}


def document(func):
    """Fill ``{name}`` lines of ``func.__doc__`` from :data:`PARAMS`."""
    lines = []
    for line in (func.__doc__ or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}") and stripped[1:-1] in PARAMS:
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(textwrap.indent(PARAMS[stripped[1:-1]], indent))
        else:
            lines.append(line)
    func.__doc__ = "\n".join(lines)
    return func
