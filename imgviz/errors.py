"""Errors imgviz raises on purpose.

Every error here carries one line that names the thing that went wrong (a socket, a file, an image,
a registry reference) and what is wrong with it. The message is made one printable line when the
error is made (control characters from file names or image metadata are escaped), so printing it
can neither spread over lines nor drive the terminal. The CLI prints that line and exits 1 (2 for a
:class:`UsageError`) instead of showing a traceback.

An error raised part-way through a collection carries what was collected before it in
``partial`` (a :class:`~imgviz.snapshot.Snapshot` marked incomplete), so nothing collected is lost.
"""

from __future__ import annotations

from ._text import one_line


class ImgvizError(Exception):
    """Base class: a problem the user can act on, described in one line.

    Attributes
    ----------
    partial : Snapshot or None
        What a collection had gathered when it failed (marked incomplete), or None.
    """

    partial = None

    def __init__(self, *args, partial=None):
        if args:
            args = (one_line(args[0]),) + args[1:]
        super().__init__(*args)
        if partial is not None:
            self.partial = partial


class UsageError(ImgvizError, ValueError):
    """An argument, option or setting is not valid (the CLI exits 2)."""


class EngineUnavailable(ImgvizError):
    """No Docker engine answered at the address we tried."""


class SnapshotError(ImgvizError):
    """A snapshot file could not be read or is not an imgviz snapshot."""


class SourceError(ImgvizError):
    """A source (engine, registry, archive) returned something we cannot use."""


class EngineError(SourceError):
    """An engine answered something malformed (wrong shape, a size out of range, too much)."""


class DeadlineExceeded(ImgvizError):
    """A request or a whole command took longer than its limit (see :mod:`imgviz.limits`)."""


class OutputError(ImgvizError):
    """Output could not be written where asked, or would have replaced what must be kept."""


class ImageNotFound(ImgvizError):
    """A reference did not match any image of the snapshot."""
