""".dockerignore reading and matching with moby/patternmatcher's rules.

* Lines starting with ``#`` are comments; lines are trimmed; ``!`` marks an
  exception; patterns are cleaned like ``filepath.Clean`` and a leading ``/``
  dropped.
* ``*`` matches within one path element, ``?`` one character, ``**`` any number
  of elements (also none); ``\\`` escapes.  There is no implicit ``**/`` prefix:
  ``*.log`` matches only at the top.
* The *last* matching pattern decides; a pattern that matches a parent
  directory of a path matches the path too.
* Walking the context, an excluded directory is not entered unless an
  exception pattern literally starts with that directory's path (so
  ``!**/keep`` does not rescue files inside an excluded directory).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImgvizError

__all__ = ["IgnoreError", "Pattern", "PatternMatcher", "read_dockerignore", "parse_dockerignore"]


class IgnoreError(ImgvizError, ValueError):
    """A .dockerignore pattern the builders reject."""


def _clean(p: str) -> str:
    if p == "":
        return "."
    rooted = p.startswith("/")
    c = posixpath.normpath(p)
    if c.startswith("//"):
        c = "/" + c.lstrip("/")
    if rooted and not c.startswith("/"):
        c = "/" + c
    return c


def parse_dockerignore(text: str) -> list[str]:
    """Patterns of a .dockerignore text, normalised as the CLI/BuildKit do."""
    out: list[str] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        pat = raw.strip()
        if not pat:
            continue
        invert = pat.startswith("!")
        if invert:
            pat = pat[1:].strip()
        if pat:
            pat = _clean(pat)
            if len(pat) > 1 and pat.startswith("/"):
                pat = pat[1:]
        out.append(("!" if invert else "") + pat)
    return out


def read_dockerignore(context: str | Path, dockerfile: str | None = None,
                      prefer_dockerfile_ignore: bool = False) -> tuple[list[str], str | None]:
    """Read the ignore file of a build context.

    With *prefer_dockerfile_ignore* (BuildKit's Dockerfile frontend 1.5+),
    ``<Dockerfile>.dockerignore`` next to the Dockerfile wins over the
    context's ``.dockerignore``.  Docker 20.10's built-in frontend does not do
    this, so the default is off.  Returns ``(patterns, file used or None)``.
    """
    ctx = Path(context)
    candidates = []
    if prefer_dockerfile_ignore and dockerfile:
        df = Path(dockerfile)
        if not df.is_absolute():
            df = ctx / df
        candidates.append(df.parent / (df.name + ".dockerignore"))
    candidates.append(ctx / ".dockerignore")
    for c in candidates:
        if c.is_file():
            return parse_dockerignore(c.read_text(encoding="utf-8", errors="surrogateescape")), str(c)
    return [], None


_SPECIAL = set(".+()|{}$^")


@dataclass
class Pattern:
    text: str
    exclusion: bool
    dirs: list[str]
    regex: re.Pattern

    @classmethod
    def compile(cls, raw: str) -> "Pattern":
        p = raw.strip()
        excl = p.startswith("!")
        if excl:
            p = p[1:]
            if not p:
                raise IgnoreError('illegal exclusion pattern: "!"')
        p = _clean(p)
        rx = "^"
        i, n = 0, len(p)
        while i < n:
            ch = p[i]
            i += 1
            if ch == "*":
                if i < n and p[i] == "*":
                    i += 1
                    if i < n and p[i] == "/":
                        i += 1
                    rx += ".*" if i >= n else "(.*/)?"
                else:
                    rx += "[^/]*"
            elif ch == "?":
                rx += "[^/]"
            elif ch in _SPECIAL:
                rx += "\\" + ch
            elif ch == "\\":
                if i < n:
                    rx += "\\" + p[i]
                    i += 1
                else:
                    rx += "\\\\"
            elif ch in "[]":
                rx += ch
            else:
                rx += re.escape(ch) if not ch.isalnum() and ch not in "/-_" else ch
        rx += "$"
        try:
            compiled = re.compile(rx, re.DOTALL)
        except re.error as exc:
            raise IgnoreError(f"bad .dockerignore pattern {raw!r}: {exc}") from None
        return cls(p, excl, p.split("/"), compiled)

    def match(self, path: str) -> bool:
        return self.regex.match(path) is not None


class PatternMatcher:
    """Decide whether a context path (slash-separated, relative) is excluded."""

    def __init__(self, patterns: list[str]):
        self.patterns = [Pattern.compile(p) for p in patterns if p.strip()]
        self.exclusions = any(p.exclusion for p in self.patterns)

    def matches(self, path: str) -> bool:
        """True when *path* is excluded (last matching pattern wins)."""
        matched = False
        parent = posixpath.dirname(path) or "."
        parent_dirs = parent.split("/")
        for pat in self.patterns:
            m = pat.match(path)
            if not m and parent != "." and len(pat.dirs) <= len(parent_dirs):
                m = pat.match("/".join(parent_dirs[: len(pat.dirs)]))
            if m:
                matched = not pat.exclusion
        return matched

    def may_descend(self, dirpath: str) -> bool:
        """Whether the walker enters an excluded directory (an exception starts with it)."""
        if not self.exclusions:
            return False
        prefix = dirpath + "/"
        return any(p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns)
