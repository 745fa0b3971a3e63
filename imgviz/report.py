"""The imgviz report: one object, many outputs (a self-contained HTML page, a notebook view, JSON).

>>> import imgviz
>>> r = imgviz.Report("demo")                    # the embedded demo snapshot
>>> r.write_html("report.html")                  # doctest: +SKIP
>>> r                                            # in a notebook: the report itself, inline

The object is lazy: it keeps the frames and computes sections (tables, figures, facts) the first
time an output is asked for. The command ``imgviz report`` uses this same object.

Sources
-------
``source`` may be frames or anything :func:`imgviz.open` accepts: a snapshot, a snapshot file,
``"demo"`` (the embedded demo snapshot), ``"engine"`` (insist on the live engine),
``"registry:REF"``, ``"archive:PATH"`` or ``None``/``"auto"``: the live engine when one answers,
else the demo, and the report says which. The environment variable ``IMGVIZ_SOURCE`` sets what
``None`` means, so a notebook run in a test or a workshop can be pinned to the demo.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from .errors import ImgvizError

def open_source(source: Any = None, *, host: str | None = None, progress: bool = True):
    """Frames for a source, and one line saying which source it was: :func:`imgviz.open` then
    :func:`imgviz.frames` (kept for notebooks that unpack ``f, where = imgviz.open_source()``).

    Parameters
    ----------
    source : Frames, or anything :func:`imgviz.open` accepts
        Frames are taken as they are. None means ``$IMGVIZ_SOURCE``, else ``"auto"``: the live
        engine when one answers, the embedded demo snapshot otherwise.
    host : str, optional
        Engine address for ``"engine"``/``"auto"`` (default DOCKER_HOST, else the default socket).
    progress : bool
        Show a progress bar while collecting.

    Returns
    -------
    (Frames, str)

    Examples
    --------
    >>> f, where = open_source("demo")
    >>> where
    'embedded demo snapshot'
    """
    from .frames import Frames, frames
    from .sources import describe, open

    if isinstance(source, Frames):
        return source, describe(source.source)
    snap, where = open(source, host=host, progress=progress)
    return frames(snap), where


def _mask_disk(frames):
    """Also mask what the disk frames carry from builds and users: a build-cache record's
    description is the RUN command it ran, an intermediate image's the command that made it, a
    volume's labels are labels (the same rule as :func:`imgviz.analysis.secrets.mask_frames`)."""
    from dataclasses import replace

    from .analysis.secrets import mask_labels, mask_text

    cache, inter, vols = frames.build_cache.copy(), frames.intermediates.copy(), frames.volumes.copy()
    if len(cache):
        cache["description"] = cache["description"].map(lambda v: mask_text(v) if isinstance(v, str) else v)
    if len(inter):
        inter["created_by"] = inter["created_by"].map(lambda v: mask_text(v) if isinstance(v, str) else v)
    if len(vols):
        vols["labels"] = vols["labels"].map(mask_labels)
    return replace(frames, build_cache=cache, intermediates=inter, volumes=vols)


class Report:
    """A report of images, layers, sharing, sizes, history, ENV and containers.

    Parameters
    ----------
    source : Frames, Snapshot, str or path, optional
        What to report on; see :func:`open_source` (default: the live engine when one answers,
        else the embedded demo snapshot).
    title : str, optional
        Page title (default ``"Docker images: <source>"``).
    show_secrets : bool
        Keep the values of secret-looking ENV names, labels and build arguments. By default they
        are masked (see :mod:`imgviz.analysis.secrets`).
    top : int
        Largest number of images, repositories and layers a table or figure shows; the rest are
        summed in one row, so a report of thousands of images stays small.
    history_images : int
        Kept for callers of earlier versions; no longer used: every image's history is in the
        report, folded (up to ``imgviz._report._summarize.HISTORY_ROWS`` rows in all).
    description : str, optional
        The "source" line shown in the report (default: derived from the source).

    Examples
    --------
    >>> r = Report("demo")
    >>> r.sections()[0].title
    'At a glance'
    """

    def __init__(self, source: Any = None, *, title: str | None = None, show_secrets: bool = False,
                 top: int = 25, history_images: int = 8, description: str | None = None,
                 progress: bool = True):
        frames, where = open_source(source, progress=progress)
        self.frames = frames
        self.description = description or where
        self.title = title or "Docker images: what they are made of"
        self.show_secrets = bool(show_secrets)
        if top < 1:
            raise ImgvizError(f"top={top}: must be at least 1")
        self.top = int(top)
        self.history_images = int(history_images)
        self._sections = None

    # -- data ------------------------------------------------------------------------------------
    def _context(self):
        from ._report._summarize import Context
        from .analysis.secrets import mask_frames

        shown = self.frames if self.show_secrets else _mask_disk(mask_frames(self.frames))
        return Context(frames=shown, description=self.description, top=self.top,
                       history_images=self.history_images, masked=not self.show_secrets, unmasked=self.frames)

    def sections(self):
        """The report's sections (computed once): each has ``title``, ``explanation`` and ``parts``."""
        if self._sections is None:
            from ._report._summarize import build_sections

            self._sections = build_sections(self._context())
        return self._sections

    def _subtitle(self) -> str:
        from .sources.engine_model import model_of_frames

        n_img, n_ctr = len(self.frames.images), len(self.frames.containers)
        model = model_of_frames(self.frames)  # the header names engine, API version and storage
        engine = f" Engine: {model.describe()}." if model is not None else ""
        return f"Source: {self.description}.{engine} {n_img:,} images, {n_ctr:,} containers."

    def _banner(self) -> str | None:
        """The "INCOMPLETE: ..." line at the top of an incomplete collection's report (imgviz._partial)."""
        from ._partial import headline

        return headline(self.frames)

    def _meta(self) -> dict[str, Any]:
        from . import __version__

        from ._partial import missing

        gap = missing(self.frames)
        return {"title": self.title, "source": self.description, "source_info": dict(self.frames.source),
                "complete": gap is None, "missing": gap,
                "images": len(self.frames.images), "containers": len(self.frames.containers),
                "secrets_masked": not self.show_secrets, "top": self.top, "imgviz": __version__}

    # -- outputs ---------------------------------------------------------------------------------
    def html(self) -> str:
        """The whole report as one self-contained HTML page (plotly.js inlined once, no network)."""
        from ._report._html import render_page

        return render_page(self.sections(), title=self.title, subtitle=self._subtitle(), banner=self._banner())

    def html_snippet(self, *, include_plotlyjs: bool = True) -> str:
        """The report as an HTML fragment (style and scripts included) to put inside another page.

        With ``include_plotlyjs=False`` the page must load plotly.js itself (as ``window.Plotly``).
        """
        from ._report._html import new_nonce, render_body

        return render_body(self.sections(), title=self.title, subtitle=self._subtitle(), nonce=new_nonce(),
                           include_plotlyjs=include_plotlyjs, prefix=f"iv{id(self) % 100000}",
                           banner=self._banner())

    def json(self) -> str:
        """The report's data as JSON: meta, then every section's tables (raw bytes), facts and figures."""
        from ._report._html import render_json

        return render_json(self.sections(), self._meta())

    #: where :meth:`write_html` last wrote (an :class:`imgviz._output.Written`), None before
    last_written = None

    def write_html(self, path: str | os.PathLike) -> Path:
        """Write :meth:`html` to ``path`` (UTF-8) and return the path.

        By imgviz's one output rule (:mod:`imgviz._output`): only a regular file is replaced,
        atomically (a symlink is followed to an existing regular file); a directory, device, FIFO
        or socket is refused with an :class:`~imgviz.errors.OutputError`.
        """
        from ._output import target_of, write_file

        target_of(path)  # refused before the page is made
        from ._partial import is_complete

        # a report of an incomplete collection never replaces an existing file (it goes beside it)
        self.last_written = write_file(path, self.html().encode("utf-8"), complete=is_complete(self.frames),
                                       what="report")
        return self.last_written.path

    # -- notebooks -------------------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None):
        # The page goes into an iframe: its style and scripts cannot touch the notebook, and
        # plotly.js is inside it once. The frame grows to the page's height after drawing.
        page = self.html()
        frame = (f'<iframe data-imgviz-frame="1" title="{html.escape(self.title)}" '
                 f'style="width: 100%; height: 900px; border: 1px solid #d9e2ec;" '
                 f'srcdoc="{html.escape(page, quote=True)}"></iframe>')
        return {"text/html": frame, "text/plain": repr(self)}

    def __repr__(self) -> str:
        state = "secrets masked" if not self.show_secrets else "secrets SHOWN"
        warn = "INCOMPLETE collection, " if self._banner() else ""
        return (f"<imgviz Report of the {self.description}: {warn}{len(self.frames.images):,} images, "
                f"{len(self.frames.containers):,} containers, {state}. Display it in a notebook, or call "
                f".write_html('report.html'), .html(), .html_snippet() or .json()>")
