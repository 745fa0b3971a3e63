"""What a builder refuses, as one object: the Dockerfile line and the builder's reason.

:class:`BuildRefused` is an exception (raise it) and a plain value (return it, put it in a list,
turn it into JSON with :meth:`BuildRefused.as_dict`).  Every refusal the parser, the expansion
and the context checks predict is one of these, so a caller (``imgviz cascade``) reports them the
same way: the step where the builder stops, the line, the builder's words.
"""

from __future__ import annotations

from ..errors import ImgvizError

__all__ = ["BuildRefused"]


class BuildRefused(ImgvizError, ValueError):
    """A Dockerfile (or build context) the builder would refuse.

    Attributes
    ----------
    line : 1-based Dockerfile line the builder names (``None`` when it names none, e.g. an empty
        Dockerfile); ``end_line`` the last line of that instruction
    message : the builder's reason, in its words (``unknown instruction: RUNN``)
    path : the Dockerfile's path, for the one-line ``str()``
    text : the instruction as written (may be empty)
    phase : where the builder stops: ``"parse"`` (reading the file), ``"instruction"`` (one
        instruction's arguments), ``"expand"`` (variable expansion), ``"stage"`` (stages and base
        images), ``"context"`` (files the build needs)
    builder : ``"<engine>-<builder>"`` whose rules said so, when known
    """

    def __init__(self, message: str, line: int | None = None, *, path: str = "Dockerfile",
                 end_line: int | None = None, text: str = "", phase: str = "parse", builder: str | None = None):
        self.message = message
        self.line = line
        self.end_line = end_line if end_line is not None else line
        self.path = path
        self.text = text
        self.phase = phase
        self.builder = builder
        where = f"{path}:{line}" if line is not None else path
        shown = " ".join(text.split())
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{where}: {message}" + (f": {shown!r}" if shown else ""))

    def as_dict(self) -> dict:
        """``{"line": ..., "message": ...}`` (the shape ``imgviz cascade --json`` reports)."""
        return {"line": self.line, "message": self.message}

    def __eq__(self, other):
        if not isinstance(other, BuildRefused):
            return NotImplemented
        return (self.line, self.message, self.phase) == (other.line, other.message, other.phase)

    def __hash__(self):
        return hash((self.line, self.message, self.phase))

    def __repr__(self):
        return f"BuildRefused(line={self.line!r}, message={self.message!r}, phase={self.phase!r})"
