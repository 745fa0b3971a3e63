"""Reading the Dockerfile instruction back out of an image's history ``created_by`` text.

The two builders write history differently::

    BuildKit   RUN /bin/sh -c apt-get update # buildkit      COPY app.js . # buildkit     ENV A=1
    classic    /bin/sh -c apt-get update                    /bin/sh -c #(nop) COPY file:3b.. in .
               /bin/sh -c #(nop)  ENV A=1                    |1 VERSION=2 /bin/sh -c make

``docker import`` leaves ``created_by`` empty with the comment ``Imported from ...``.
"""

from __future__ import annotations

KEYWORDS = frozenset({
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
    "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
})

#: instructions that only change the image config and never make a layer
METADATA = frozenset({
    "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ENTRYPOINT", "VOLUME", "USER", "ARG",
    "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
})

_NOP = "#(nop)"


def instruction_of(created_by: str | None, comment: str | None = None) -> str | None:
    """The Dockerfile keyword behind a history entry.

    Returns ``"IMPORT"`` for ``docker import`` layers, ``"RUN"`` for shell commands written by the
    classic builder, and None when the text says nothing (an empty entry of unknown origin).

    Examples
    --------
    >>> instruction_of("/bin/sh -c #(nop)  ENV A=1")
    'ENV'
    >>> instruction_of("COPY app.js . # buildkit")
    'COPY'
    >>> instruction_of("|1 V=2 /bin/sh -c make")
    'RUN'
    >>> instruction_of("", "Imported from -")
    'IMPORT'
    """
    text = (created_by or "").strip()
    if not text:
        if comment and comment.startswith("Imported from"):
            return "IMPORT"
        return None
    if _NOP in text:
        rest = text.split(_NOP, 1)[1].split()
        word = rest[0].upper() if rest else ""
        return word if word in KEYWORDS else None
    first = text.split(None, 1)[0]
    if first in KEYWORDS:
        return first
    # classic builder: a RUN is stored as the shell command itself, maybe behind "|N ARG=..".
    return "RUN"


def is_metadata(instruction: str | None) -> bool:
    """True for instructions that cannot make a layer."""
    return instruction in METADATA
