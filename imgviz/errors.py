"""Errors imgviz raises on purpose.

Every error here carries one line that names the thing that went wrong (a socket, a file, an image,
a registry reference). The CLI prints that line and exits non-zero instead of showing a traceback.
"""

from __future__ import annotations


class ImgvizError(Exception):
    """Base class: a problem the user can act on, described in one line."""


class EngineUnavailable(ImgvizError):
    """No Docker engine answered at the address we tried."""


class SnapshotError(ImgvizError):
    """A snapshot file could not be read or is not an imgviz snapshot."""


class SourceError(ImgvizError):
    """A source (engine, registry, archive) returned something we cannot use."""


class ImageNotFound(ImgvizError):
    """A reference did not match any image of the snapshot."""
