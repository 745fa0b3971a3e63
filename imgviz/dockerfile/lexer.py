"""Word expansion as the Dockerfile frontends' shell lexer does it.

Two lexers, one per engine generation (the rules restated from BuildKit's
``frontend/dockerfile/shell/lex.go``; the recordings in tests/data/dockerfile/ check them):

:class:`Lexer` (Docker 28.5, BuildKit v0.25, both builders)
    * ``'...'`` is literal; ``"..."`` expands ``$`` and lets the escape token escape only
      ``"``, ``$`` and itself; outside quotes the escape token makes the next character literal
      (a trailing one is dropped).
    * ``$NAME`` / ``${NAME}``: the value, empty when unset.  A name is letters, digits and ``_``;
      a leading digit reads digits only (``$12``), and ``@ * # ? - $ !`` are one-character
      names.  These are never set, so they expand to nothing.  ``$`` before anything else stays.
    * ``${N:-w}`` ``${N-w}`` ``${N:+w}`` ``${N+w}`` ``${N:?w}`` ``${N?w}`` as in a POSIX shell.
    * ``${N#p}`` ``${N##p}`` ``${N%p}`` ``${N%%p}`` remove the shortest/longest prefix/suffix
      matching shell pattern *p* (``*`` and ``?``, no bracket expressions; the escape token is
      kept for the pattern, where ``\\*``, ``\\?`` and ``\\\\`` are the only escapes).
    * ``${N/p/r}`` replaces the first (``${N//p/r}`` every) longest match of *p* by *r*; ``r``
      is required.
    * Anything else after the name (``${N:0:2}``, ``${#N}``, ``${N:%p}``) is an error, as are
      ``${}`` and an unclosed ``${``.
    * Bytes that are not UTF-8 (kept as lone surrogates by ``surrogateescape``) become U+FFFD
      when the lexer reads them, as Go's ``text/scanner`` does.

:class:`Lexer2010` (Docker 20.10, BuildKit v0.8, both builders)
    The same, but only ``${N}``, ``${N:-w}``, ``${N:+w}``, ``${N:?w}`` and ``${N?w}`` exist;
    every other form, ``${N-w}`` included, fails with "missing ':' in substitution".

Errors are :class:`ExpansionError` with the builder's wording
(``failed to process "<word>": <reason>``).  Nesting is handled without recursion, so thousands
of nested ``${...}`` cost time proportional to their length.
"""

from __future__ import annotations

import re
from typing import Mapping

from ..errors import ImgvizError

__all__ = ["ExpansionError", "Lexer", "Lexer2010", "lexer_for", "process_word", "process_words", "go_quote",
           "go_isspace"]


class ExpansionError(ImgvizError, ValueError):
    """A word the builder's lexer refuses (bad substitution, ``${N:?}`` of an unset variable, ...)."""


# Go's unicode.IsSpace
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                      "\u200a\u2028\u2029\u202f\u205f\u3000")


def go_isspace(ch: str) -> bool:
    return ch in _GO_SPACE


# lone surrogates from surrogateescape decoding are bytes Go's text/scanner reads as U+FFFD
_SURR = {c: 0xFFFD for c in range(0xDC80, 0xDD00)}
_HAS_SURR = re.compile("[\udc80-\udcff]")


def _scanned(s: str) -> str:
    return s.translate(_SURR) if _HAS_SURR.search(s) else s


def go_quote(s: str) -> str:
    """Go's ``%q`` / strconv.Quote of *s* (invalid bytes as ``\\x..``)."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\v":
            out.append("\\v")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_EOF = ""


class _Fail(Exception):
    """A lexer error at scanner position *pos* (where Go's scanner stands when it is raised)."""

    def __init__(self, msg: str, pos: int = -1):
        super().__init__(msg)
        self.msg = msg
        self.pos = pos


def _isdigit(ch: str) -> bool:   # unicode.IsDigit: category Nd
    return ch.isdecimal()


def _isletter(ch: str) -> bool:  # unicode.IsLetter: category L*
    return ch.isalpha()


def _shell_pattern(pattern: str, greedy: bool, anchored: bool) -> "re.Pattern":
    """BuildKit's convertShellPatternToRegex: ``*`` and ``?``; ``\\`` escapes ``*?\\``, and is
    dropped before ``}`` and ``/``; bracket characters are literal."""
    if pattern.startswith("\ufeff"):
        pattern = pattern[1:]
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i, n = 0, len(pattern)
    while i < n:
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(star)
            continue
        if tok == "?":
            out.append(".")
            continue
        if tok == "\\":
            nxt = pattern[i] if i < n else _EOF
            if nxt in ("}", "/"):
                continue
            out.append("\\")
            tok = nxt
            i += 1
            if tok not in ("*", "?", "\\"):
                shown = tok if tok else "\ufffd"
                raise _Fail(f"invalid escape '\\{shown}'")
            out.append(tok)
            continue
        if tok in "[]{}.+()|^$":
            out.append("\\" + tok)
            continue
        out.append(re.escape(tok) if tok in "#&~- \t\n\r\v\f" else tok)
    return re.compile("".join(out))


def _reverse_pattern(p: str) -> str:
    chars = list(p)
    out = [""] * len(chars)
    last = len(chars) - 1
    i = 0
    while i <= last:
        tok = chars[i]
        o = last - i
        if tok == "\\" and i != last:
            out[o - 1] = tok
            out[o] = chars[i + 1]
            i += 2
        else:
            out[o] = tok
            i += 1
    return "".join(out)


def _trim_prefix(word: str, value: str, greedy: bool) -> str:
    try:
        rx = _shell_pattern(word, greedy, True)
    except _Fail as exc:
        raise _Fail(f"invalid pattern ({word}) in substitution: {exc}") from None
    m = rx.search(value)
    return value[m.end():] if m else value


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


def _go_expand_template(template: str, m: "re.Match") -> str:
    """Go's Regexp.Expand as ReplaceAllString applies it to the replacement: ``$$``, ``$n``,
    ``${n}``; a name that is not a group number (our patterns have no named groups) gives nothing,
    a ``$`` without a name stays."""
    out = []
    i, n = 0, len(template)
    while True:
        j = template.find("$", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        i = j + 1
        if i < n and template[i] == "$":
            out.append("$")
            i += 1
            continue
        brace = i < n and template[i] == "{"
        k = i + 1 if brace else i
        start = k
        while k < n and (template[k].isalpha() or template[k].isdecimal() or template[k] == "_"):
            k += 1
        name = template[start:k]
        if not name or (brace and (k >= n or template[k] != "}")):
            out.append("$")
            continue
        i = k + 1 if brace else k
        if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1) and len(name) < 9:
            g = int(name)
            if g <= m.re.groups:
                out.append(m.group(g) or "")
    return "".join(out)


def _go_replace_all(rx: "re.Pattern", value: str, repl: str) -> str:
    """Go's Regexp.ReplaceAllString (an empty match right after a match is not replaced)."""
    out = []
    last_end = 0
    search = 0
    end = len(value)
    while search <= end:
        m = rx.search(value, search)
        if m is None:
            break
        a0, a1 = m.span()
        out.append(value[last_end:a0])
        if a1 > last_end or a0 == 0:
            out.append(_go_expand_template(repl, m))
        last_end = a1
        width = 1 if search < end else 0
        if search + width > a1:
            search += width
        elif search + 1 > a1:
            search += 1
        else:
            search = a1
    out.append(value[last_end:])
    return "".join(out)


# -- the machine: an explicit stack instead of Go's recursion ---------------------------------
_STOP, _DQ = 0, 1
# continuation kinds of ``${...}`` frames
_MOD, _PATTERN, _REPLACE = "mod", "pattern", "replace"


class _Frame:
    __slots__ = ("kind", "stop", "raw", "res", "cont", "words")

    def __init__(self, kind, stop, raw, cont, words):
        self.kind = kind          # _STOP: process until *stop* (or the end); _DQ: inside "..."
        self.stop = stop
        self.raw = raw            # BuildKit's rawEscapes while this frame runs
        self.res: list[str] = []
        self.cont = cont          # what the text of a ${...} frame is for (None: the whole word)
        self.words = words        # _Words when splitting, else None


class _Words:
    """BuildKit's wordsStruct.  v0.25 keeps one buffer per lexer for every nesting level, so a
    nested ``${...}`` drops the part of a word built before it (ProcessWords only); ``shared`` is
    that buffer (a one-item list) and v0.8 gets a fresh one per level."""

    __slots__ = ("shared", "words", "in_word")

    def __init__(self, shared):
        shared[0] = []
        self.shared = shared
        self.words: list[str] = []
        self.in_word = False

    def _flush(self) -> None:
        text = "".join(self.shared[0])
        if text:
            self.words.append(text)
            self.shared[0] = []
            self.in_word = False

    def add_string(self, s: str) -> None:
        for ch in s:
            if ch in _GO_SPACE:
                if self.in_word:
                    self._flush()
            else:
                self.shared[0].append(ch)
                self.in_word = True

    def add_raw(self, s: str) -> None:
        self.shared[0].append(s)
        self.in_word = True

    def get(self) -> list[str]:
        self._flush()
        return self.words


class Lexer:
    """The lexer of Docker 28.5's Dockerfile frontend (BuildKit v0.25).

    Parameters
    ----------
    escape : the escape token (``\\`` or a backtick, from ``# escape=``)
    raw_quotes, raw_escapes, skip_unset : BuildKit's RawQuotes, RawEscapes and SkipUnsetEnv
        (quotes and escape tokens kept in the result; unset variables left as written).  The
        parser uses them to find heredoc names; expansion uses none.
    """

    engine = "28.5"
    shared_words_buffer = True
    has_heredoc_lt = True

    def __init__(self, escape: str = "\\", *, raw_quotes: bool = False, raw_escapes: bool = False,
                 skip_unset: bool = False):
        if escape not in ("\\", "`"):
            raise ValueError(f"invalid escape token {escape!r}")
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_unset = skip_unset
        specials = "$'\"" + ("<" if self.has_heredoc_lt else "") + escape
        self._plain = re.compile("[^" + re.escape(specials) + "]+")
        self._fast = re.compile("[" + re.escape(specials) + "\udc80-\udcff]")

    # -- public -----------------------------------------------------------------------------------
    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        """Expand *word* with *env*: quotes removed, variables substituted, no splitting."""
        if not self._fast.search(word) and not word.startswith("\ufeff"):
            return word
        return self._process(word, env, False)[0]

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """Expand *word* and split it into shell words (on unquoted white space, after expansion)."""
        return self._process(word, env, True)[1]

    # -- the machine ---------------------------------------------------------------------------
    def _process(self, word: str, env: Mapping[str, str], split: bool):
        try:
            return self._run(word, env, split)
        except _Fail as exc:
            raise ExpansionError(f"failed to process {go_quote(word)}: {exc.msg}") from None

    def _words(self, shared, split):
        if not split:
            return None
        return _Words(shared if self.shared_words_buffer else [[]])

    @staticmethod
    def _lookup(env, name):
        v = env.get(name)
        if v is None:
            return "", False
        return v, True

    def _run(self, word: str, env: Mapping[str, str], split: bool):
        s = word[1:] if word.startswith("\ufeff") else word   # text/scanner drops a leading BOM
        shared = [[]]
        stack = [_Frame(_STOP, "", self.raw_escapes, None, self._words(shared, split))]
        try:
            return self._loop(s, env, stack, shared, split)
        except _Fail as exc:
            # Go: an error inside ${...} that leaves the scanner at the end becomes "missing '}'"
            # (or "missing '/'") at every enclosing ${...}; the outermost one speaks last.
            if exc.pos >= len(s):
                for fr in reversed(stack):
                    if fr.kind == _STOP and fr.cont is not None:
                        exc.msg = ("syntax error: missing '/' in ${}" if fr.cont[0] == _PATTERN
                                   else "syntax error: missing '}'")
            raise

    def _deliver(self, f: _Frame, val: str, dollar: bool) -> None:
        f.res.append(val)
        if f.words is not None:
            if dollar:
                f.words.add_string(val)
            else:
                f.words.add_raw(val)

    def _loop(self, s, env, stack, shared, split):
        n = len(s)
        esc = self.escape
        plain = self._plain
        pos = 0
        while True:
            f = stack[-1]
            if f.kind == _DQ:
                if pos >= n:
                    raise _Fail("unexpected end of statement while looking for matching double-quote", n)
                ch = s[pos]
                if ch == '"':
                    pos += 1
                    if self.raw_quotes:
                        f.res.append('"')
                    stack.pop()
                    self._deliver(stack[-1], "".join(f.res), False)
                    continue
                if ch == "$":
                    pos, val, frame = self._dollar(s, pos, env, shared, split, f.raw)
                    if frame is not None:
                        stack.append(frame)
                    else:
                        f.res.append(val)
                    continue
                pos += 1
                if ch == esc:
                    if f.raw:
                        f.res.append(ch)
                    nxt = s[pos] if pos < n else ""
                    if nxt == "":
                        continue
                    if nxt == '"' or nxt == "$" or nxt == esc:
                        ch = nxt
                        pos += 1
                f.res.append(_scanned(ch))
                continue
            # a _STOP frame
            if pos >= n:
                if f.stop:
                    raise _Fail(f"unexpected end of statement while looking for matching {f.stop}", n)
                return "".join(f.res), (f.words.get() if f.words is not None else None)
            ch = s[pos]
            if ch == f.stop:
                pos += 1
                stack.pop()
                val = "".join(f.res)
                if f.words is not None:
                    f.words.get()
                out, frame = self._finish(f.cont, val, env, shared, split, pos)
                if frame is not None:
                    stack.append(frame)
                else:
                    self._deliver(stack[-1], out, True)
                continue
            if ch == "$":
                pos, val, frame = self._dollar(s, pos, env, shared, split, f.raw)
                if frame is not None:
                    stack.append(frame)
                else:
                    self._deliver(f, val, True)
                continue
            if ch == "'":
                end = s.find("'", pos + 1)
                if end < 0:
                    raise _Fail("unexpected end of statement while looking for matching single-quote", n)
                body = _scanned(s[pos + 1:end])
                if self.raw_quotes:
                    body = "'" + body + "'"
                pos = end + 1
                self._deliver(f, body, False)
                continue
            if ch == '"':
                pos += 1
                dq = _Frame(_DQ, '"', f.raw, None, None)
                if self.raw_quotes:
                    dq.res.append('"')
                stack.append(dq)
                continue
            if ch == "<" and self.has_heredoc_lt:
                pos += 1
                tok = "<"
                if pos < n and s[pos] == "<":
                    pos += 1
                    sp = pos
                    while pos < n and s[pos] in "\t\r ":
                        pos += 1
                    tok = "<<" + s[sp:pos]
                self._deliver(f, tok, False)
                continue
            if ch == esc:
                pos += 1
                if f.raw:
                    self._deliver(f, ch, False)
                if pos >= n:
                    continue          # a trailing escape token is dropped (the end is handled above)
                c2 = _scanned(s[pos])
                pos += 1
                self._deliver(f, c2, False)
                continue
            m = plain.match(s, pos)
            chunk = m.group()
            if f.stop:
                cut = chunk.find(f.stop)
                if cut >= 0:
                    chunk = chunk[:cut]
            pos += len(chunk)
            chunk = _scanned(chunk)
            f.res.append(chunk)
            if f.words is not None:
                f.words.add_string(chunk)

    # ``$`` at *pos*: (new pos, value, None) or (new pos, None, frame to push)
    def _dollar(self, s, pos, env, shared, split, raw):
        n = len(s)
        pos += 1
        if pos >= n or s[pos] != "{":
            start = pos
            pos = self._name_end(s, pos)
            name = _scanned(s[start:pos])
            if not name:
                return pos, "$", None
            val, found = self._lookup(env, name)
            if not found and self.skip_unset:
                return pos, "$" + name, None
            return pos, val, None
        pos += 1
        if pos >= n:
            raise _Fail("syntax error: missing '}'", n)
        if s[pos] in "{}:":
            raise _Fail("syntax error: bad substitution", pos)
        start = pos
        pos = self._name_end(s, pos)
        name = _scanned(s[start:pos])
        ch = s[pos] if pos < n else ""
        pos = min(pos + 1, n)
        return self._brace(s, pos, name, ch, env, shared, split, raw)

    @staticmethod
    def _name_end(s, pos):
        n = len(s)
        if pos < n and _isdigit(s[pos]):
            while pos < n and _isdigit(s[pos]):
                pos += 1
            return pos
        if pos < n and s[pos] in _SPECIAL_PARAMS:
            return pos + 1
        while pos < n and (_isletter(s[pos]) or _isdigit(s[pos]) or s[pos] == "_"):
            pos += 1
        return pos

    def _frame(self, stop, raw, cont, shared, split):
        return _Frame(_STOP, stop, raw, cont, self._words(shared, split))

    def _brace(self, s, pos, name, ch, env, shared, split, raw):
        chs = _scanned(ch) if ch else "\ufffd"
        if ch == "}":
            val, found = self._lookup(env, name)
            if not found and self.skip_unset:
                return pos, "${" + name + "}", None
            return pos, val, None
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = s[pos] if pos < len(s) else ""
            pos = min(pos + 1, len(s))
            chs += _scanned(ch) if ch else "\ufffd"
        elif ch == "/":
            replace_all = pos < len(s) and s[pos] == "/"
            if replace_all:
                pos += 1
            return pos, None, self._frame("/", True, (_PATTERN, name, replace_all), shared, split)
        elif ch not in ("+", "-", "?", "#", "%"):
            raise _Fail(f"unsupported modifier ({chs}) in substitution", pos)
        rawmod = ch in ("#", "%")
        if null_is_unset and rawmod:
            raise _Fail(f"unsupported modifier ({chs}) in substitution", pos)
        return pos, None, self._frame("}", rawmod, (_MOD, name, ch, null_is_unset, chs), shared, split)

    def _finish(self, cont, word, env, shared, split, pos):
        """A ``${...}`` frame ended (its ``}`` or ``/`` consumed; the scanner is at *pos*):
        (value, None), or (None, the next frame)."""
        kind = cont[0]
        if kind == _MOD:
            _, name, ch, null_is_unset, chs = cont
            value, found = self._lookup(env, name)
            if self.skip_unset and not found:
                return "${" + name + chs + word + "}", None
            if ch == "-":
                return (word if (not found or (null_is_unset and value == "")) else value), None
            if ch == "+":
                return ("" if (not found or (null_is_unset and value == "")) else word), None
            if ch == "?":
                if not found:
                    raise _Fail(f"{name}: {word or 'is not allowed to be unset'}", pos)
                if null_is_unset and value == "":
                    raise _Fail(f"{name}: {word or 'is not allowed to be empty'}", pos)
                return value, None
            if ch in ("%", "#"):
                greedy = False
                if word and word[0] == ch:
                    greedy, word = True, word[1:]
                try:
                    if ch == "%":
                        return _trim_suffix(word, value, greedy), None
                    return _trim_prefix(word, value, greedy), None
                except _Fail as exc:
                    raise _Fail(exc.msg, pos) from None
            raise _Fail(f"unsupported modifier ({chs}) in substitution", pos)
        if kind == _PATTERN:
            _, name, replace_all = cont
            return None, self._frame("}", True, (_REPLACE, name, replace_all, word), shared, split)
        _, name, replace_all, pattern = cont
        value, found = self._lookup(env, name)
        if self.skip_unset and not found:
            return "${" + name + "/" + pattern + "/" + word + "}", None
        try:
            rx = _shell_pattern(pattern, True, False)
        except _Fail as exc:
            raise _Fail(f"invalid pattern ({pattern}) in substitution: {exc.msg}", pos) from None
        if replace_all:
            return _go_replace_all(rx, value, word), None
        m = rx.search(value)
        if m:
            value = value[:m.start()] + word + value[m.end():]
        return value, None


class Lexer2010(Lexer):
    """The lexer of Docker 20.10's frontend (BuildKit v0.8): ``${N}``, ``${N:-w}``, ``${N:+w}``,
    ``${N:?w}``, ``${N?w}`` only; no raw escapes; nested ``${...}`` do not lose words."""

    engine = "20.10"
    shared_words_buffer = False
    has_heredoc_lt = False

    def _brace(self, s, pos, name, ch, env, shared, split, raw):
        if ch == "}":
            val, found = self._lookup(env, name)
            if not found and self.skip_unset:
                return pos, "${" + name + "}", None
            return pos, val, None
        if ch == "?":
            return pos, None, self._frame("}", False, (_MOD, name, "?", False, "?"), shared, split)
        if ch == ":":
            mod = s[pos] if pos < len(s) else ""
            pos = min(pos + 1, len(s))
            return pos, None, self._frame("}", False, (_MOD, name, mod, True, ":" + mod), shared, split)
        raise _Fail("missing ':' in substitution", pos)

    def _finish(self, cont, word, env, shared, split, pos):
        _, name, mod, colon, chs = cont
        value, found = self._lookup(env, name)
        if not colon:      # ${N?w}
            if not found:
                if self.skip_unset:
                    return "${" + name + "?" + word + "}", None
                raise _Fail(f"{name}: {word or 'is not allowed to be unset'}", pos)
            return value, None
        if mod == "+":
            if not found and self.skip_unset:
                return "${" + name + ":+" + word + "}", None
            return (word if value != "" else value), None
        if mod == "-":
            if not found and self.skip_unset:
                return "${" + name + ":-" + word + "}", None
            return (word if value == "" else value), None
        if mod == "?":
            if not found:
                if self.skip_unset:
                    return "${" + name + ":?" + word + "}", None
                raise _Fail(f"{name}: {word or 'is not allowed to be unset'}", pos)
            if value == "":
                raise _Fail(f"{name}: {word or 'is not allowed to be empty'}", pos)
            return value, None
        raise _Fail(f"unsupported modifier ({_scanned(mod) if mod else chr(0xFFFD)}) in substitution", pos)

_LEXERS = {"28.5": Lexer, "20.10": Lexer2010}


def lexer_for(engine: str = "28.5", escape: str = "\\", **kw) -> Lexer:
    """The lexer of Docker *engine* (``"28.5"`` or ``"20.10"``)."""
    try:
        cls = _LEXERS[engine]
    except KeyError:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(_LEXERS)}") from None
    return cls(escape, **kw)


def process_word(text: str, env: Mapping[str, str], escape: str = "\\", *, engine: str = "28.5") -> str:
    """Expand one word: quotes removed, variables substituted, no splitting."""
    return lexer_for(engine, escape).process_word(text, env)


def process_words(text: str, env: Mapping[str, str], escape: str = "\\", *, engine: str = "28.5") -> list[str]:
    """Expand and split on unquoted white space."""
    return lexer_for(engine, escape).process_words(text, env)
