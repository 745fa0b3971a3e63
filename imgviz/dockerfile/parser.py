"""Parse a Dockerfile the way the builders' Dockerfile frontend does.

Two parsers, one per engine generation (restated from BuildKit's ``frontend/dockerfile/parser``
and ``instructions``; the conformance recordings in tests/data/dockerfile/ check them):

:class:`Parser` (Docker 28.5, BuildKit v0.25; the classic builder of 28.5 uses the same code)
    * Lines end at ``\\n`` only (not at a lone ``\\r``, U+2028, ``\\x1c`` or ``\\v``); trailing
      ``\\r`` are dropped.  A line longer than 65535 bytes stops the scanner: "dockerfile line
      greater than max allowed size of 65535".  A UTF-8 BOM at the start is dropped.  Bytes that
      are not UTF-8 are kept (read with ``surrogateescape``).
    * Parser directives (``# escape=``, ``# syntax=``, ``# check=``) only before anything else.
    * A logical line continues while a line ends with the escape token (then spaces or tabs) that
      is not itself escaped (``RUN echo C:\\\\`` ends the line).  Comment lines and empty lines
      inside a continuation are dropped; nothing is inserted where lines are joined.
    * Flags (``--from=x``) are read off the start of the arguments.
    * JSON (exec) form only when the arguments are one JSON array of strings and nothing else
      (``RUN ["a"] && b`` is shell form).
    * Heredocs after RUN, COPY and ADD (also under ONBUILD), when a shell word of the line,
      read with quotes and escapes kept, has the form ``[n]<<[-]WORD``: ``<<EOF``, ``<<-EOF``,
      ``<< EOF``, ``<<file.txt``, ``<<"EOF"``, ``<<E"O"F`` (quoted: no expansion of the body).
      A quoted ``"<<EOF"`` or ``$((1<<x))`` is not one.
    * Then each instruction's arguments are checked the way ``instructions.Parse`` does (counts,
      flags, stage names, ...).

:class:`Parser2010` (Docker 20.10, BuildKit v0.8)
    The same except: no heredocs (``RUN <<EOF`` is a shell command, and the lines after it are
    instructions), no ``# check=`` directive, a JSON array followed by other text is still exec
    form (the text is ignored), flags always use ``\\`` as their escape.

Errors are :class:`DockerfileSyntaxError` (a :class:`~imgviz.dockerfile.refusal.BuildRefused`)
naming the line and the builder's reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .lexer import Lexer, Lexer2010, go_isspace
from .refusal import BuildRefused

__all__ = [
    "DockerfileSyntaxError",
    "Heredoc",
    "Instruction",
    "Stage",
    "Dockerfile",
    "Parser",
    "Parser2010",
    "parser_for",
    "parse",
    "parse_file",
    "read_dockerfile",
    "MAX_LINE_BYTES",
]

KEYWORDS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
}
MAX_LINE_BYTES = 65535           # bufio.MaxScanTokenSize - 1
_WS = re.compile(r"[\t\v\f\r ]+")  # BuildKit's reWhitespace
_GO_RE_SPACE = "\t\n\f\r "           # Go regexp \s
_DIRECTIVE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")
_HEREDOC = re.compile(r"^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")
_HEREDOC_2012 = re.compile(r"^(\d*)<<(-?)([^<]*)\Z")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*\Z")
_SURR = re.compile("[\udc80-\udcff]")


class DockerfileSyntaxError(BuildRefused):
    """A Dockerfile the builders would reject; names file, line and offending text."""

    def __init__(self, path: str, line: int | None, text: str, message: str, *, end_line: int | None = None,
                 phase: str = "parse", builder: str | None = None):
        super().__init__(message, line, path=path, end_line=end_line, text=text, phase=phase, builder=builder)


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str
    expand: bool
    chomp: bool
    fd: int = 0


@dataclass
class Instruction:
    """One instruction as the parser leaves it (before variable expansion).

    ``args`` holds the node values: the JSON list for exec form, the verbatim
    text (one item) for shell form, ``key, value`` pairs flattened for ENV,
    LABEL and ARG (value ``None`` for ``ARG name``), whitespace-split words for
    the others.  ``sep`` (ENV, LABEL) says per pair whether it was written
    ``name=value`` (``"="``) or in the legacy ``name value`` form (``""``).
    """

    keyword: str
    line: int
    end_line: int
    original: str
    flags: tuple[str, ...]
    rest: str
    args: tuple
    json: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    sub: "Instruction | None" = None  # ONBUILD's instruction
    command: str = ""                  # the instruction word as written (``run``, ``Run``)
    seps: tuple[str, ...] = ()

    def flag(self, name: str) -> str | None:
        """Value of ``--name=value`` (last one wins), ``""`` for a bare ``--name``."""
        val = None
        for f in self.flags:
            key, sep, v = f[2:].partition("=")
            if key == name:
                val = v if sep else ""
        return val

    def flag_values(self, name: str) -> list[str]:
        out = []
        for f in self.flags:
            key, sep, v = f[2:].partition("=")
            if key == name:
                out.append(v if sep else "")
        return out

    @property
    def text(self) -> str:
        """The logical line as written (continuations joined)."""
        return self.original

    def pairs(self) -> list[tuple[str, str | None]]:
        return [(self.args[i], self.args[i + 1]) for i in range(0, len(self.args), 2)]


@dataclass
class Stage:
    index: int
    name: str | None
    base: str
    platform: str | None
    from_instruction: Instruction
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How BuildKit names the stage in progress output."""
        return self.name if self.name else f"stage-{self.index}"


@dataclass
class Dockerfile:
    path: str
    escape: str
    directives: dict
    instructions: list[Instruction]
    meta_args: list[Instruction]
    stages: list[Stage]
    text: str = ""
    engine: str = "28.5"

    def stage_by_name(self, ref: str) -> Stage | None:
        ref_l = ref.lower()
        for st in self.stages:
            if st.name == ref_l:
                return st
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None


# ---------------------------------------------------------------------------------------------
def _go_trimspace(s: str) -> str:
    i, j = 0, len(s)
    while i < j and s[i] in _GO_SPACE_SET:
        i += 1
    while j > i and s[j - 1] in _GO_SPACE_SET:
        j -= 1
    return s[i:j]


def _go_lstrip(s: str) -> str:
    i = 0
    while i < len(s) and s[i] in _GO_SPACE_SET:
        i += 1
    return s[i:]


_GO_SPACE_SET = frozenset(c for c in map(chr, range(0x3001)) if go_isspace(c))


def _as_latin1_bytes(s: str) -> str:
    """*s* as its UTF-8 bytes, one character per byte (Go code that indexes ``line[pos]``)."""
    return s.encode("utf-8", "surrogateescape").decode("latin-1")


def _from_latin1_bytes(s: str) -> str:
    return s.encode("latin-1").decode("utf-8", "surrogateescape")


def _extract_flags(line: str, esc: str) -> tuple[str, list[str]]:
    """BuildKit's extractBuilderFlags: ``--flag[=value]`` words off the start of *line*.

    Go walks the bytes of the line (each byte taken as a character), so we do the same."""
    ascii_only = line.isascii()
    b = line if ascii_only else _as_latin1_bytes(line)
    words: list[str] = []
    word: list[str] = []
    phase = 0  # 0 spaces, 1 word, 2 quote
    quote = ""
    blank_ok = False
    n = len(b)
    pos = 0
    ch = ""
    while pos <= n:
        if pos != n:
            ch = b[pos]
        if phase == 0:
            if pos == n:
                break
            if ch in _GO_SPACE_SET:
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or b[pos + 1] != "-":
                rest = b[pos:]
                return (rest if ascii_only else _from_latin1_bytes(rest)), _finish_words(words, ascii_only)
            phase = 1
        if phase in (1, 2) and pos == n:
            w = "".join(word)
            if w != "--" and (blank_ok or w):
                words.append(w)
            break
        if phase == 1:
            if ch in _GO_SPACE_SET:
                w = "".join(word)
                phase = 0
                if w == "--":
                    rest = b[pos:]
                    return (rest if ascii_only else _from_latin1_bytes(rest)), _finish_words(words, ascii_only)
                if blank_ok or w:
                    words.append(w)
                word, blank_ok = [], False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote, blank_ok, phase = ch, True, 2
                pos += 1
                continue
            if ch == esc:
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = b[pos]
            word.append(ch)
            pos += 1
            continue
        # phase 2: in quotes
        if ch == quote:
            phase = 1
            pos += 1
            continue
        if ch == esc:
            if pos + 1 == n:
                phase = 1
                pos += 1
                continue
            pos += 1
            ch = b[pos]
        word.append(ch)
        pos += 1
    return "", _finish_words(words, ascii_only)


def _finish_words(words: list[str], ascii_only: bool) -> list[str]:
    # Go wrote each byte as a rune: a byte >= 0x80 became the UTF-8 of U+0080..U+00FF
    return words


def _parse_words(rest: str, esc: str) -> list[str]:
    """BuildKit's parseWords: split on white space, quotes and escapes kept in the words."""
    words: list[str] = []
    word: list[str] = []
    phase = 0
    quote = ""
    blank_ok = False
    pos = 0
    n = len(rest)
    ch = ""
    while pos <= n:
        if pos != n:
            ch = rest[pos]
        if phase == 0:
            if pos == n:
                break
            if ch in _GO_SPACE_SET:
                pos += 1
                continue
            phase = 1
        if phase in (1, 2) and pos == n:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == 1:
            if ch in _GO_SPACE_SET:
                phase = 0
                if blank_ok or word:
                    words.append("".join(word))
                word, blank_ok = [], False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote, blank_ok, phase = ch, True, 2
            if ch == esc:
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        # in quotes
        if ch == quote:
            phase = 1
        if ch == esc and quote != "'":
            if pos + 1 == n:
                phase = 1
                pos += 1
                continue
            pos += 1
            word.append(ch)
            ch = rest[pos]
        word.append(ch)
        pos += 1
    return words


class _NotJSON(Exception):
    pass


class _NotStrings(Exception):
    pass


def _json_array(rest: str, trailing_ok: bool):
    """The strings of a JSON array, or raise _NotJSON / _NotStrings."""
    text = _go_lstrip(rest)
    if not text.startswith("["):
        raise _NotJSON
    try:
        if trailing_ok:
            val, _ = json.JSONDecoder().raw_decode(text)
        else:
            val = json.loads(text)
    except (ValueError, RecursionError):
        raise _NotJSON from None
    if not isinstance(val, list):
        raise _NotJSON
    if not all(isinstance(v, str) for v in val):
        raise _NotStrings
    return val


class _Lines:
    """The scanner: lines split at ``\\n``; stops (``err``) at a line over the size limit."""

    def __init__(self, text: str, strip_all_cr: bool):
        self.lines = text.split("\n")
        self.has_nl = len(self.lines) - 1
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.i = 0
        self.err: str | None = None
        self.strip_all_cr = strip_all_cr

    def next(self):
        """The next raw line (without ``\\n``), or None at the end or on error."""
        if self.err is not None or self.i >= len(self.lines):
            return None
        raw = self.lines[self.i]
        # the token Go holds includes the newline
        size = len(raw) + (1 if self.i < self.has_nl else 0)
        if size * 4 > MAX_LINE_BYTES and len(raw.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
            self.err = f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}"
            return None
        self.i += 1
        return raw

    def trim_newline(self, raw: str) -> str:
        if self.strip_all_cr:
            return raw.rstrip("\r\n")
        return raw[:-1] if raw.endswith("\r") else raw


_UNSET_ENV: dict = {}


class Parser:
    """Docker 28.5's Dockerfile parser (BuildKit v0.25).  ``parse()`` returns a :class:`Dockerfile`."""

    engine = "28.5"
    lexer_class = Lexer
    heredocs = True
    directives_known = ("syntax", "escape", "check")
    json_trailing_ok = False
    flags_use_escape = True
    strip_all_cr = True
    heredoc_re = _HEREDOC

    def __init__(self, text: str | bytes, path: str = "Dockerfile"):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "surrogateescape")
        self.path = path
        self.text = text
        self.escape = "\\"
        self.directives: dict[str, str] = {}
        self._directives_done = False
        self._set_escape("\\")

    # -- errors ---------------------------------------------------------------------------------
    def error(self, line, text, message, *, end_line=None, phase="parse"):
        raise DockerfileSyntaxError(self.path, line, text, message, end_line=end_line, phase=phase,
                                    builder=self.engine)

    # -- directives -----------------------------------------------------------------------------
    def _set_escape(self, tok: str) -> None:
        if tok not in ("`", "\\"):
            raise ValueError(f"invalid escape token '{tok}' does not match ` or \\")
        self.escape = tok
        e = re.escape(tok)
        self._cont = re.compile(r"([^" + e + r"])" + e + r"[ \t]*\Z|^" + e + r"[ \t]*\Z")

    def _directive(self, token: str) -> bool:
        """Go's possibleParserDirective on a line (leading space stripped): True if one was set."""
        if self._directives_done:
            return False
        m = _DIRECTIVE.match(token)
        if not m:
            self._directives_done = True
            return False
        key = m.group(1).lower()
        if key not in self.directives_known:
            self._directives_done = True
            return False
        if key in self.directives:
            raise ValueError(f"only one {key} parser directive can be used")
        self.directives[key] = m.group(2)
        if key == "escape":
            self._set_escape(m.group(2))
        return True

    @staticmethod
    def _is_comment(line: str) -> bool:
        s = _go_lstrip(line)
        return s.startswith("#")

    def _process_line(self, raw: str, strip_left: bool, lines: _Lines) -> str:
        token = lines.trim_newline(raw)
        if strip_left:
            token = _go_lstrip(token)
        self._directive(token)
        return "" if self._is_comment(token) else token

    def _trim_cont(self, line: str) -> tuple[str, bool]:
        m = self._cont.search(line)
        if m:
            return line[: m.start()] + (m.group(1) or ""), False
        return line, True

    # -- the scan ---------------------------------------------------------------------------------
    def parse(self) -> Dockerfile:
        text = self.text
        if text.startswith("\ufeff"):
            text = text[1:]
        lines = _Lines(text, self.strip_all_cr)
        self._lines = lines
        nodes: list[Instruction] = []
        current = 0
        while True:
            raw = lines.next()
            if raw is None:
                break
            try:
                token = self._process_line(raw, True, lines)
            except ValueError as exc:
                self.error(current, raw, str(exc))
            current += 1
            start = current
            token, end_of_line = self._trim_cont(token)
            if end_of_line and not token:
                continue
            buf = [token]
            while not end_of_line:
                raw = lines.next()
                if raw is None:
                    break
                try:
                    part = self._process_line(raw, False, lines)
                except ValueError as exc:
                    self.error(current, raw, str(exc))
                current += 1
                if self._is_comment(raw):
                    continue
                if not _go_lstrip(lines.trim_newline(part)):
                    continue
                part, end_of_line = self._trim_cont(part)
                buf.append(part)
            line = "".join(buf)
            ins = self._node(line, start, current)
            target = ins.sub if (ins.keyword == "ONBUILD" and ins.sub is not None) else ins
            if self.heredocs and target.keyword in ("RUN", "COPY", "ADD") and not target.json and "<<" in line:
                docs, current = self._read_heredocs(line, start, current, lines)
                if docs:
                    target.heredocs = tuple(docs)
                    if target is not ins:
                        ins.heredocs = tuple(docs)
                    ins.original = line + "\n" + "".join(d.content + d.name + "\n" for d in docs)
            ins.end_line = current
            nodes.append(ins)
        if not nodes:
            self.error(current, "", "file with no instructions")
        if lines.err:
            self.error(current, "", lines.err)
        for ins in nodes:
            self._check(ins)
        return self._stages(nodes)

    def _read_heredocs(self, line, start, current, lines):
        try:
            found = self.heredocs_from_line(line)
        except ValueError as exc:
            self.error(start, line, str(exc), end_line=current)
        docs = []
        for name, chomp, expand, fd in found:
            body: list[str] = []
            terminated = False
            while True:
                raw = lines.next()
                if raw is None:
                    break
                current += 1
                cand = lines.trim_newline(raw)
                if chomp:
                    cand = cand.lstrip("\t")
                if cand == name:
                    terminated = True
                    break
                body.append(raw + ("\n" if lines.i <= lines.has_nl else ""))
            if not terminated:
                self.error(start, line, "unterminated heredoc", end_line=current)
            docs.append(Heredoc(name, "".join(body), expand, chomp, fd))
        return docs, current

    def heredocs_from_line(self, line: str) -> list[tuple[str, bool, bool, int]]:
        """(name, chomp, expand, fd) of every heredoc a line opens (BuildKit heredocsFromLine)."""
        lex = self.lexer_class("\\", raw_quotes=True, raw_escapes=True, skip_unset=True)
        try:
            words = lex.process_words(line, _UNSET_ENV)
        except ValueError:
            words = []
        out = []
        for w in words:
            h = self.parse_heredoc(w)
            if h is not None:
                out.append(h)
        return out

    def parse_heredoc(self, src: str):
        """BuildKit's ParseHeredoc of one word: None when it is not ``[n]<<[-]NAME``."""
        m = self.heredoc_re.match(src)
        if not m:
            return None
        fd = int(m.group(1)) if m.group(1) else 0
        chomp = m.group(2) == "-"
        rest = m.group(3)
        if not rest:
            return None
        lex = self.lexer_class("\\", skip_unset=True)
        words = lex.process_words(rest, _UNSET_ENV)
        if len(words) != 1:
            return None
        raw = self.lexer_class("\\", skip_unset=True, raw_quotes=True).process_words(rest, _UNSET_ENV)
        if len(raw) != len(words):
            raise ValueError(f"internal lexing of heredoc produced inconsistent results: {rest}")
        word = words[0]
        expand = (word.count("'") + word.count('"')) == (raw[0].count("'") + raw[0].count('"'))
        return word, chomp, expand, fd

    # -- one logical line -----------------------------------------------------------------------
    def _node(self, line: str, start: int, end: int) -> Instruction:
        trimmed = _go_trimspace(line)
        parts = _WS.split(trimmed, maxsplit=1)
        word = parts[0]
        keyword = word.upper()
        flags: list[str] = []
        rest = ""
        if len(parts) == 2:
            rest, flags = _extract_flags(parts[1], self.escape if self.flags_use_escape else "\\")
            rest = _go_trimspace(rest)
        is_json = False
        sub = None
        seps: tuple[str, ...] = ()
        try:
            if keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL"):
                args, is_json = self._maybe_json(rest)
            elif keyword in ("COPY", "ADD", "VOLUME"):
                args, is_json = self._maybe_json_list(rest)
            elif keyword in ("ENV", "LABEL"):
                args, seps = self._name_val(rest, keyword)
            elif keyword == "ARG":
                args = tuple(a for w in _parse_words(rest, self.escape) for a in self._arg_pair(w))
            elif keyword == "ONBUILD":
                args = (rest,) if rest else ()
                if rest:
                    sub = self._node(rest, start, end)
            elif keyword in ("USER", "WORKDIR", "STOPSIGNAL", "MAINTAINER"):
                args = (rest,) if rest else ()
            elif keyword == "HEALTHCHECK":
                args, is_json = self._health(rest)
            elif keyword in ("FROM", "EXPOSE"):
                args = tuple(w for w in _WS.split(rest)) if rest else ()
            else:
                args = ()
        except _ParseFail as exc:
            self.error(start, line, str(exc), end_line=end)
        return Instruction(keyword, start, end, line, tuple(flags), rest, tuple(args), is_json, (), sub, word,
                           seps)

    @staticmethod
    def _arg_pair(word: str):
        k, sep, v = word.partition("=")
        return (k, v if sep else None)

    def _maybe_json(self, rest):
        if not rest:
            return (), False
        try:
            return tuple(_json_array(rest, self.json_trailing_ok)), True
        except _NotStrings:
            raise _ParseFail("when using JSON array syntax, arrays must be comprised of strings only") from None
        except _NotJSON:
            return (rest,), False

    def _maybe_json_list(self, rest):
        try:
            return tuple(_json_array(rest, self.json_trailing_ok)), True
        except _NotStrings:
            raise _ParseFail("when using JSON array syntax, arrays must be comprised of strings only") from None
        except _NotJSON:
            return (tuple(_WS.split(rest)) if rest else ()), False

    def _name_val(self, rest, key):
        words = _parse_words(rest, self.escape)
        if not words:
            return (), ()
        if "=" not in words[0]:
            parts = _WS.split(rest, maxsplit=1)
            if len(parts) < 2:
                raise _ParseFail(f"{key} must have two arguments")
            return (parts[0], parts[1]), ("",)
        flat, seps = [], []
        for w in words:
            if "=" not in w:
                raise _ParseFail(f"Syntax error - can't find = in {_go_q(w)}. Must be of the form: name=value")
            k, _, v = w.partition("=")
            flat += [k, v]
            seps.append("=")
        return tuple(flat), tuple(seps)

    def _health(self, rest):
        sep = 0
        while sep < len(rest) and rest[sep] not in _GO_SPACE_SET:
            sep += 1
        nxt = sep
        while nxt < len(rest) and rest[nxt] in _GO_SPACE_SET:
            nxt += 1
        if sep == 0:
            return (), False
        cmd, is_json = self._maybe_json(rest[nxt:])
        return (rest[:sep],) + tuple(cmd), is_json

    # -- instructions.Parse: each instruction's arguments ---------------------------------------
    def _check(self, ins: Instruction) -> None:
        msg = self.instruction_error(ins)
        if msg:
            self.error(ins.line, ins.original, msg, end_line=ins.end_line, phase="instruction")

    def unknown_instruction(self, ins: Instruction) -> str:
        return _suggest(f"unknown instruction: {ins.command}", ins.command, sorted(KEYWORDS), False)

    def instruction_error(self, ins: Instruction) -> str | None:
        """The reason ``instructions.Parse`` rejects *ins*, or None."""
        kw = ins.keyword
        args = ins.args
        if kw not in KEYWORDS:
            return self.unknown_instruction(ins)
        if kw in ("ENV", "LABEL"):
            err = self._flags(ins, {})
            if err:
                return err
            if not args:
                return f"{kw} requires at least one argument"
            if any(k == "" for k, _ in ins.pairs()):
                return f"{kw} names can not be blank"
            return None
        if kw == "MAINTAINER":
            if len(args) != 1:
                return "MAINTAINER requires exactly one argument"
            return self._flags(ins, {})
        if kw in ("ADD", "COPY"):
            if len(args) < 2:
                return (f"{kw} requires at least two arguments, but only one was provided. "
                        "Destination could not be determined")
            err = self._flags(ins, self.copy_flags(kw))
            if err:
                return err
            if self.heredocs and self.parse_heredoc(args[-1]) is not None:
                return f"{kw} cannot accept a heredoc as a destination"
            return None
        if kw == "FROM":
            if len(args) == 3 and args[1].lower() == "as":
                if not _STAGE_NAME.match(args[2].lower()):
                    return (f"invalid name for build stage: {_go_q(args[2])}, name can't start with a number "
                            "or contain symbols")
            elif len(args) != 1:
                return "FROM requires either one or three arguments"
            return self._flags(ins, {"platform": "s"})
        if kw == "ONBUILD":
            if not args:
                return "ONBUILD requires at least one argument"
            err = self._flags(ins, {})
            if err:
                return err
            trig = ins.sub.command.upper() if ins.sub is not None else ""
            if trig == "ONBUILD":
                return "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
            if trig in ("MAINTAINER", "FROM"):
                return f"{trig} isn't allowed as an ONBUILD trigger"
            return None
        if kw in ("WORKDIR", "USER", "STOPSIGNAL"):
            if len(args) != 1:
                return f"{kw} requires exactly one argument"
            return None if kw == "STOPSIGNAL" else self._flags(ins, {})
        if kw == "RUN":
            return self._flags(ins, self.run_flags())
        if kw in ("CMD", "ENTRYPOINT"):
            return self._flags(ins, {})
        if kw == "HEALTHCHECK":
            return self._healthcheck_error(ins)
        if kw == "EXPOSE":
            if not args:
                return "EXPOSE requires at least one argument"
            return self._flags(ins, {})
        if kw == "VOLUME":
            if not args:
                return "VOLUME requires at least one argument"
            err = self._flags(ins, {})
            if err:
                return err
            if any(not _go_trimspace(v) for v in args):
                return "VOLUME specified can not be an empty string"
            return None
        if kw == "ARG":
            if not args:
                return "ARG requires at least one argument"
            if any(k == "" and v is not None for k, v in ins.pairs()):
                return "ARG names can not be blank"
            return None
        if kw == "SHELL":
            err = self._flags(ins, {})
            if err:
                return err
            if not args or (not ins.json and not " ".join(args)):
                return "SHELL requires at least one argument"
            if not ins.json:
                return "SHELL requires the arguments to be in JSON form"
            return None
        return None

    def copy_flags(self, kw: str) -> dict:
        if kw == "ADD":
            return {"chown": "s", "chmod": "s", "link": "b", "keep-git-dir": "b", "checksum": "s", "unpack": "b",
                    "exclude": "m"}
        return {"chown": "s", "from": "s", "chmod": "s", "link": "b", "exclude": "m"}

    def run_flags(self) -> dict:
        return {"mount": "m", "network": "s", "security": "s", "device": "m"}

    def _healthcheck_error(self, ins):
        args = ins.args
        if not args:
            return "HEALTHCHECK requires at least one argument"
        typ = args[0].upper()
        if typ == "NONE":
            if len(args) > 1:
                return "HEALTHCHECK NONE takes no arguments"
            return None
        err = self._flags(ins, {"interval": "s", "timeout": "s", "start-period": "s", "start-interval": "s",
                                "retries": "s"})
        if err:
            return err
        if typ != "CMD":
            return f"Unknown type {_go_q(typ)} in HEALTHCHECK (try CMD)"
        if len(args) < 2 or (not ins.json and not " ".join(args[1:])):
            return "Missing command after HEALTHCHECK CMD"
        for name in ("interval", "timeout", "start-period", "start-interval"):
            v = ins.flag(name)
            if v:
                d = _go_duration(v)
                if d is None:
                    return f"time: invalid duration {_go_q(v)}"
                if 0 < d < 1_000_000:
                    return f"Interval {_go_q(name)} cannot be less than 1ms"
        r = ins.flag("retries")
        if r:
            if not re.fullmatch(r"[+-]?[0-9]+", r):
                return f'strconv.ParseInt: parsing {_go_q(r)}: invalid syntax'
            if int(r) < 0:
                return f"--retries cannot be negative ({int(r)})"
        return None

    def _flags(self, ins: Instruction, known: dict) -> str | None:
        """BFlags.Parse: the first error, or None.  *known*: name -> "s" string, "b" bool,
        "m" repeatable string."""
        used: set[str] = set()
        for a in ins.flags:
            if a == "--":
                return None
            if not a.startswith("--"):
                return f"arg should start with -- : {a}"
            name, has, value = a.partition("=")
            arg = name[2:]
            kind = known.get(arg)
            if kind is None:
                return self.unknown_flag(name, arg, known)
            if arg in used and kind != "m":
                return f"duplicate flag specified: {name}"
            used.add(arg)
            if kind == "b":
                if has and value == "":
                    return f"missing a value on flag: {name}"
                if value.lower() not in ("true", "", "false"):
                    return f"expecting boolean value for flag {name}, not: {value}"
            elif not has:
                return f"missing a value on flag: {name}"
        return None

    def unknown_flag(self, name, arg, known) -> str:
        return _suggest(f"unknown flag: {name}", arg, sorted(known), True)

    # -- stages ---------------------------------------------------------------------------------
    def _stages(self, instructions: list[Instruction]) -> Dockerfile:
        meta: list[Instruction] = []
        stages: list[Stage] = []
        for ins in instructions:
            if ins.keyword == "FROM":
                name = ins.args[2].lower() if len(ins.args) == 3 else None
                stages.append(Stage(len(stages), name, ins.args[0], ins.flag("platform"), ins))
            elif not stages:
                if ins.keyword != "ARG":
                    self.error(ins.line, ins.original, "no build stage in current context", end_line=ins.end_line,
                               phase="instruction")
                meta.append(ins)
            else:
                stages[-1].instructions.append(ins)
        return Dockerfile(self.path, self.escape, self.directives, instructions, meta, stages, self.text, self.engine)


class _ParseFail(Exception):
    pass


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _suggest(msg: str, val: str, options, case_sensitive: bool) -> str:
    """BuildKit's suggest.WrapError: `` (did you mean X?)`` for an option within distance 2."""
    orig = val
    if not case_sensitive:
        val = val.lower()
    match, mindist = "", 3
    for opt in options:
        o = opt if case_sensitive else opt.lower()
        if val == o:
            return msg
        d = _levenshtein(val, o)
        if d < mindist:
            mindist = d
            if case_sensitive:
                match = o
            elif orig == orig.lower():
                match = o.lower()
            elif orig == orig.upper():
                match = o.upper()
            else:
                match = o
    return f"{msg} (did you mean {match}?)" if match else msg


def _go_q(s: str) -> str:
    from .lexer import go_quote

    return go_quote(s)


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}
_DUR = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")


def _go_duration(s: str) -> int | None:
    """Go's time.ParseDuration in nanoseconds, None when invalid."""
    orig = s
    neg = s.startswith("-")
    if s[:1] in "+-":
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        return None
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _DUR.match(s, pos)
        if not m or m.group(1) in ("", "."):
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    del orig
    return int(-total if neg else total)


class Parser2010(Parser):
    """Docker 20.10's parser (BuildKit v0.8): no heredocs, no ``check`` directive, a JSON array
    with text after it is exec form, flags escaped with ``\\`` whatever ``# escape=`` says."""

    engine = "20.10"
    lexer_class = Lexer2010
    heredocs = False
    directives_known = ("syntax", "escape")
    json_trailing_ok = True
    flags_use_escape = False
    strip_all_cr = False
    heredoc_re = _HEREDOC_2012

    def run_flags(self) -> dict:
        return {"mount": "m", "network": "s", "security": "s"}

    def unknown_instruction(self, ins: Instruction) -> str:
        return f"unknown instruction: {ins.command.upper()}"

    def unknown_flag(self, name, arg, known) -> str:
        return f"Unknown flag: {arg}"

    def copy_flags(self, kw: str) -> dict:
        if kw == "ADD":
            return {"chown": "s", "chmod": "s"}
        return {"chown": "s", "from": "s", "chmod": "s"}


_PARSERS = {"28.5": Parser, "20.10": Parser2010}


def parser_for(engine: str = "28.5"):
    """The parser class of Docker *engine* (``"28.5"`` or ``"20.10"``)."""
    try:
        return _PARSERS[engine]
    except KeyError:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(_PARSERS)}") from None


def parse(text: str | bytes, path: str = "Dockerfile", *, engine: str = "28.5") -> Dockerfile:
    """Parse Dockerfile *text* (str, or bytes as read from disk) with the rules of Docker *engine*;
    raises :class:`DockerfileSyntaxError` naming file, line and the builder's reason."""
    return parser_for(engine)(text, path).parse()


def read_dockerfile(path) -> str:
    """A Dockerfile's text as the builders read it: bytes, not-UTF-8 ones kept (surrogateescape)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise DockerfileSyntaxError(str(p), None, "", "no such Dockerfile") from None
    except IsADirectoryError:
        raise DockerfileSyntaxError(str(p), None, "", "the Dockerfile is a directory") from None
    return data.decode("utf-8", "surrogateescape")


def parse_file(path, *, engine: str = "28.5") -> Dockerfile:
    p = Path(path)
    text = read_dockerfile(p)
    if text == "":
        raise DockerfileSyntaxError(str(p), None, "", f"the Dockerfile ({p.name}) cannot be empty")
    return parse(text, str(p), engine=engine)
