""".dockerignore reading and matching, with the rules of each engine's matcher.

Reading (both engines, moby/patternmatcher ``ignorefile.ReadAll``): a UTF-8 BOM is dropped;
lines starting with ``#`` are comments (only at the very start of the line); lines are trimmed;
``!`` marks an exception (trimmed again after it); patterns are cleaned like ``filepath.Clean``
and a leading ``/`` dropped.

Matching: a pattern is compiled to a regular expression: ``*`` any run within one path element,
``?`` one character of it, ``**`` any number of elements (also none), ``[...]`` a character class
(``[^...]`` negated), ``\\`` escapes.  There is no implicit ``**/`` in front: ``*.log`` matches at
the top only.  The *last* matching pattern decides.  A pattern that matches a parent directory of
a path matches the path too.  Where the engines differ:

:class:`PatternMatcher` (Docker 28.5: moby/patternmatcher v0.6, used by BuildKit's context walk
and by the classic builder's context tar)
    * ``. + ( ) | { } $`` are literal; ``^`` outside a class is a regular-expression anchor.
    * A pattern starting with ``**`` and holding no other wildcard is a *suffix* match:
      ``**.log`` matches every path ending in ``.log``, ``**/node_modules`` every path ending in
      ``/node_modules`` (or equal to ``node_modules``).  A pattern whose only wildcard is a final
      ``**`` is a prefix match.
    * Every parent directory is tried (``MatchesOrParentMatches``).

:class:`PatternMatcher2010` (Docker 20.10: docker/docker ``pkg/fileutils``)
    * Only ``.`` and ``$`` are escaped: ``+ ( ) | { }`` act as regular-expression syntax
      (``a+b.txt`` matches ``aab.txt``; ``a(`` is a broken pattern: the build fails).
    * No suffix/prefix shortcuts: ``**.log`` is ``^(.*/)?\\.log$`` (only files named ``.log``).
    * Only the parent directory with as many elements as the pattern is tried (``Matches``).

How a build context is walked with these (which directories are entered, which are sent) is in
:mod:`imgviz.dockerfile.walk`.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from ..errors import ImgvizError

__all__ = ["IgnoreError", "Pattern", "PatternMatcher", "PatternMatcher2010", "matcher_for", "read_dockerignore",
           "parse_dockerignore", "clean_path"]


class IgnoreError(ImgvizError, ValueError):
    """A .dockerignore pattern the builders reject."""


def clean_path(p: str) -> str:
    """Go's ``filepath.Clean`` (Unix)."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    parts: list[str] = []
    for seg in p.split("/"):
        if seg == "" or seg == ".":
            continue
        if seg == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(seg)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


_clean = clean_path


def parse_dockerignore(text: str | bytes) -> list[str]:
    """Patterns of a .dockerignore text, normalised as the CLI/BuildKit do (ignorefile.ReadAll)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    out: list[str] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, raw in enumerate(lines):
        if raw.endswith("\r"):          # bufio.ScanLines drops one \r
            raw = raw[:-1]
        if i == 0 and raw.startswith("\ufeff"):
            raw = raw[1:]
        if raw.startswith("#"):
            continue
        pat = _go_trimspace(raw)
        if not pat:
            continue
        invert = pat.startswith("!")
        if invert:
            pat = _go_trimspace(pat[1:])
        if pat:
            pat = clean_path(pat)
            if len(pat) > 1 and pat.startswith("/"):
                pat = pat[1:]
        out.append(("!" if invert else "") + pat)
    return out


def _go_trimspace(s: str) -> str:
    from .lexer import _GO_SPACE

    i, j = 0, len(s)
    while i < j and s[i] in _GO_SPACE:
        i += 1
    while j > i and s[j - 1] in _GO_SPACE:
        j -= 1
    return s[i:j]


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
            return parse_dockerignore(c.read_bytes()), str(c)
    return [], None


# -- filepath.Match's syntax check (NewPatternMatcher calls it with ".") -------------------------
def _match_syntax_error(p: str) -> bool:
    """True when Go's ``filepath.Match(p, ".")`` returns ErrBadPattern."""
    i, n = 0, len(p)
    # Match scans pattern chunks; errors come from bad classes or a trailing backslash, but only
    # in the parts it reaches.  With name ".", Go validates the whole pattern (since Go 1.16 the
    # remaining chunks are checked even after a mismatch).
    while i < n:
        ch = p[i]
        if ch == "\\":
            i += 1
            if i >= n:
                return True
            i += 1
            continue
        if ch == "[":
            i += 1
            if i < n and p[i] == "^":
                i += 1
            first = True
            while True:
                if i >= n:
                    return True
                if p[i] == "]" and not first:
                    i += 1
                    break
                first = False
                lo, i, bad = _class_char(p, i)
                if bad:
                    return True
                if i < n and p[i] == "-":
                    hi, i, bad = _class_char(p, i + 1)
                    if bad:
                        return True
            continue
        i += 1
    return False


def _class_char(p: str, i: int):
    n = len(p)
    if i >= n:
        return "", i, True
    ch = p[i]
    if ch in "-]":
        return "", i, True
    if ch == "\\":
        i += 1
        if i >= n:
            return "", i, True
        return p[i], i + 1, False
    return ch, i + 1, False


class Pattern:
    """One compiled pattern (moby/patternmatcher v0.6 rules)."""

    escaped = frozenset(".+()|{}$")
    shortcuts = True

    def __init__(self, raw: str):
        p = raw.strip()
        self.raw = raw
        self.exclusion = False
        p = clean_path(p)
        if p.startswith("!"):
            if len(p) == 1:
                raise IgnoreError('illegal exclusion pattern: "!"')
            self.exclusion = True
            p = p[1:]
        if _match_syntax_error(p):
            raise IgnoreError("syntax error in pattern")
        self.text = p
        self.dirs = p.split("/")
        self.kind = "unknown"
        self.regex: re.Pattern | None = None
        self._bad = False

    def __repr__(self):
        return f"Pattern({'!' if self.exclusion else ''}{self.text!r}, {self.kind})"

    def _compile(self) -> None:
        pattern = self.text[1:] if self.text.startswith("\ufeff") else self.text
        rx = ["^"]
        kind = "exact"
        i, n = 0, len(pattern)
        idx = 0
        while i < n:
            ch = pattern[i]
            i += 1
            if ch == "*":
                if i < n and pattern[i] == "*":
                    i += 1
                    if i < n and pattern[i] == "/":
                        i += 1
                    if i >= n:
                        if kind == "exact" and self.shortcuts:
                            kind = "prefix"
                        else:
                            rx.append(".*")
                            kind = "regexp"
                    else:
                        rx.append("(.*/)?")
                        kind = "regexp"
                    if idx == 0 and self.shortcuts:
                        kind = "suffix"
                else:
                    rx.append("[^/]*")
                    kind = "regexp"
            elif ch == "?":
                rx.append("[^/]")
                kind = "regexp"
            elif ch in self.escaped:
                rx.append("\\" + ch)
            elif ch == "\\":
                if i < n:
                    rx.append("\\" + pattern[i])
                    i += 1
                    kind = "regexp"
                else:
                    rx.append("\\\\")
            elif ch in "[]":
                rx.append(ch)
                kind = "regexp"
            else:
                rx.append(_go_re_literal(ch))
            idx += 1
        if not self.shortcuts:
            kind = "regexp"
        self.kind = kind
        if kind != "regexp":
            return
        rx.append("\\Z")
        try:
            self.regex = re.compile(_go_regex_to_python("".join(rx)))
        except re.error:
            self._bad = True

    def match(self, path: str) -> bool:
        """Whether *path* (slash-separated, relative) matches this pattern itself."""
        if self.kind == "unknown":
            self._compile()
        if self._bad:
            raise IgnoreError("syntax error in pattern")
        k = self.kind
        if k == "exact":
            return path == self.text
        if k == "prefix":
            return path.startswith(self.text[:-2])
        if k == "suffix":
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix[:1] == "/" and path == suffix[1:]
        return self.regex.match(path) is not None


class Pattern2010(Pattern):
    """One compiled pattern (docker/docker pkg/fileutils of Docker 20.10)."""

    escaped = frozenset(".$")
    shortcuts = False


def _go_re_literal(ch: str) -> str:
    # characters with no special meaning in Go's regexp syntax but special in Python's are none
    # outside classes, except these we escape to be safe
    return re.escape(ch) if ch in "#&~ \t\n\r\v\f" else ch


def _go_regex_to_python(rx: str) -> str:
    """Go RE2 syntax -> Python: classes ``[!...]`` are literal in Go (negation is ``^``);
    ``[[:alpha:]]`` and the like are Go-only (kept as they fail the same way in both)."""
    return rx


class PatternMatcher:
    """Decide whether a context path (slash-separated, relative) is excluded.

    The Docker 28.5 rules (moby/patternmatcher v0.6).  ``matches`` is
    ``MatchesOrParentMatches``: the path or any of its parent directories.
    """

    pattern_class = Pattern
    engine = "28.5"

    def __init__(self, patterns: list[str]):
        self.patterns = [self.pattern_class(p) for p in patterns if p.strip()]
        self.exclusions = any(p.exclusion for p in self.patterns)

    def _parents(self, path: str):
        parent = posixpath.dirname(path)
        if not parent:
            return []
        dirs = parent.split("/")
        return ["/".join(dirs[: i + 1]) for i in range(len(dirs))]

    def matches(self, path: str) -> bool:
        """True when *path* is excluded (last matching pattern wins)."""
        matched = False
        parents = None
        for pat in self.patterns:
            if pat.exclusion != matched:
                continue
            m = pat.match(path)
            if not m:
                if parents is None:
                    parents = self._parents(path)
                m = self._parent_match(pat, parents)
            if m:
                matched = not pat.exclusion
        return matched

    def _parent_match(self, pat, parents) -> bool:
        return any(pat.match(p) for p in parents)

    def matches_with_parent(self, path: str, parent_info: list[bool] | None) -> tuple[bool, list[bool]]:
        """``MatchesUsingParentResults``: *parent_info* is what the parent directory's call returned
        (None for a path whose parent was not matched this way: then parents are tried)."""
        matched = False
        info = [False] * len(self.patterns)
        for i, pat in enumerate(self.patterns):
            m = parent_info[i] if parent_info else False
            if not m:
                if pat.exclusion != matched:
                    continue
                m = pat.match(path)
                if not m and not parent_info:
                    m = any(pat.match(p) for p in self._parents(path))
            info[i] = m
            if m:
                matched = not pat.exclusion
        return matched, info

    def may_descend(self, dirpath: str) -> bool:
        """Whether the classic builder's walk enters an excluded directory (an exception pattern
        starts with that directory's path)."""
        if not self.exclusions:
            return False
        prefix = dirpath + "/"
        return any(p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns)


class PatternMatcher2010(PatternMatcher):
    """The Docker 20.10 rules (pkg/fileutils): only the parent with as many elements as the
    pattern is tried."""

    pattern_class = Pattern2010
    engine = "20.10"

    def _parent_match(self, pat, parents) -> bool:
        if not parents or len(pat.dirs) > len(parents):
            return False
        return pat.match(parents[len(pat.dirs) - 1])


_MATCHERS = {"28.5": PatternMatcher, "20.10": PatternMatcher2010}


def matcher_for(patterns: list[str], engine: str = "28.5") -> PatternMatcher:
    """The matcher of Docker *engine* (``"28.5"`` or ``"20.10"``) for *patterns*."""
    try:
        return _MATCHERS[engine](patterns)
    except KeyError:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(_MATCHERS)}") from None
