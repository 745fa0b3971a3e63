"""Parse a Dockerfile the way BuildKit's parser (``frontend/dockerfile/parser``) does.

What is reproduced, because it decides cache keys:

* Parser directives (``# escape=``, ``# syntax=``, ``# check=``) only at the very
  top; the first other line (blank lines and comments included) ends them.
* A logical line ends at a line that does not end with the escape token
  (followed only by spaces or tabs).  The escape token is removed, *nothing* is
  inserted, and the next physical line is appended as is (its indentation
  kept).  Comment lines and blank lines inside a continuation are dropped.
* Leading whitespace of the first line and surrounding whitespace of the
  logical line are dropped; inner whitespace is kept (``RUN a  b`` and
  ``RUN a b`` are different commands).
* Flags (``--from=x``) are read off the start of the arguments.
* JSON (exec) form is used when the arguments parse as a JSON array of
  strings; otherwise shell form keeps the text verbatim.
* ``ENV``/``LABEL`` accept ``name value`` and ``name=value ...``; words are split
  respecting quotes and escapes, then expanded later.
* Heredocs (``<<EOF``, ``<<-EOF``, ``<<"EOF"``) after RUN, COPY and ADD.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ImgvizError

__all__ = [
    "DockerfileSyntaxError",
    "Heredoc",
    "Instruction",
    "Stage",
    "Dockerfile",
    "parse",
    "parse_file",
]

KEYWORDS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
    "WORKDIR",
}
_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_KNOWN_DIRECTIVES = {"escape", "syntax", "check"}
_WS = re.compile(r"[\t\v\f\r ]+")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


class DockerfileSyntaxError(ImgvizError, ValueError):
    """A Dockerfile the builders would reject; names file, line and offending text."""

    def __init__(self, path: str, line: int, text: str, message: str):
        self.path, self.line, self.text, self.message = path, line, text, message
        super().__init__(f"{path}:{line}: {message}: {text.strip()!r}")


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str
    expand: bool
    chomp: bool


@dataclass
class Instruction:
    """One instruction as the parser leaves it (before variable expansion).

    ``args`` holds the node values: the JSON list for exec form, the verbatim
    text (one item) for shell form, ``key, value`` pairs flattened for ENV,
    LABEL and ARG (value ``None`` for ``ARG name``), whitespace-split words for
    the others.
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

    def stage_by_name(self, ref: str) -> Stage | None:
        ref_l = ref.lower()
        for st in self.stages:
            if st.name == ref_l:
                return st
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None


# --------------------------------------------------------------------------
def _extract_flags(rest: str) -> tuple[list[str], str]:
    """Read ``--flag[=value]`` words off the start (BuildKit extractBuilderFlags)."""
    words: list[str] = []
    word = ""
    phase = 0  # 0 spaces, 1 word, 2 quote
    quote = ""
    blank_ok = False
    pos = 0
    n = len(rest)
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if phase == 0:
            if pos == n:
                break
            if ch.isspace():
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or rest[pos + 1] != "-":
                return words, rest[pos:]
            phase = 1
        if phase in (1, 2) and pos == n:
            if word != "--" and (blank_ok or word):
                words.append(word)
            break
        if phase == 1:
            if ch.isspace():
                phase = 0
                if word == "--":
                    return words, rest[pos:].lstrip()
                if blank_ok or word:
                    words.append(word)
                word, blank_ok = "", False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote, blank_ok, phase = ch, True, 2
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = rest[pos]
            word += ch
            pos += 1
            continue
        if phase == 2:
            if ch == quote:
                phase = 1
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    phase = 1
                    pos += 1
                    continue
                pos += 1
                ch = rest[pos]
            word += ch
            pos += 1
    return words, ""


def _parse_words(rest: str, esc: str) -> list[str]:
    """Split on whitespace keeping quotes and escapes in the words (BuildKit parseWords)."""
    words: list[str] = []
    word = ""
    phase = 0
    quote = ""
    blank_ok = False
    pos = 0
    n = len(rest)
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if phase == 0:
            if pos == n:
                break
            if ch.isspace():
                pos += 1
                continue
            phase = 1
        if phase in (1, 2) and pos == n:
            if blank_ok or word:
                words.append(word)
            break
        if phase == 1:
            if ch.isspace():
                phase = 0
                if blank_ok or word:
                    words.append(word)
                word, blank_ok = "", False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote, blank_ok, phase = ch, True, 2
            if ch == esc:
                if pos + 1 == n:
                    pos += 1
                    continue
                word += ch
                pos += 1
                ch = rest[pos]
            word += ch
            pos += 1
            continue
        if phase == 2:
            if ch == quote:
                phase = 1
            if ch == esc and quote != "'":
                if pos + 1 == n:
                    phase = 1
                    pos += 1
                    continue
                pos += 1
                word += ch
                ch = rest[pos]
            word += ch
            pos += 1
    return words


def _json_list(rest: str):
    text = rest.lstrip()
    if not text.startswith("["):
        return None
    try:
        val, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    if not isinstance(val, list):
        return None
    if not all(isinstance(v, str) for v in val):
        return "not-strings"
    return val


class _Parser:
    def __init__(self, text: str, path: str):
        self.path = path
        if text.startswith("\ufeff"):
            text = text[1:]
        self.text = text
        self.lines = text.splitlines()
        self.escape = "\\"
        self.directives: dict[str, str] = {}

    def error(self, line: int, text: str, message: str):
        raise DockerfileSyntaxError(self.path, line, text, message)

    def parse(self) -> Dockerfile:
        lines = self.lines
        i = 0
        n = len(lines)
        # parser directives
        while i < n:
            m = _DIRECTIVE.match(lines[i])
            if not m or m.group(1).lower() not in _KNOWN_DIRECTIVES:
                break
            key = m.group(1).lower()
            if key in self.directives:
                self.error(i + 1, lines[i], f"only one {key} parser directive can be used")
            self.directives[key] = m.group(2)
            if key == "escape":
                if m.group(2) not in ("\\", "`"):
                    self.error(i + 1, lines[i], "invalid escape token (must be ` or \\)")
                self.escape = m.group(2)
            i += 1
        cont = re.compile(re.escape(self.escape) + r"[ \t]*$")
        instructions: list[Instruction] = []
        while i < n:
            raw = lines[i]
            i += 1
            start = i
            first = raw.lstrip()
            if first == "" or first.startswith("#"):
                continue
            line, more = self._trim(first, cont)
            while more and i < n:
                raw = lines[i]
                i += 1
                s = raw.lstrip()
                if s.startswith("#") or s == "":
                    continue
                part, more = self._trim(raw, cont)
                line += part
            end = i
            ins, i = self._node(line, start, end, i)
            instructions.append(ins)
        return self._stages(instructions)

    @staticmethod
    def _trim(text: str, cont: re.Pattern) -> tuple[str, bool]:
        m = cont.search(text)
        if m:
            return text[: m.start()], True
        return text, False

    def _node(self, line: str, start: int, end: int, i: int, sub: bool = False):
        stripped = line.strip(" \t\v\f\r")
        original = line  # as BuildKit's Node.Original: leading space already gone, trailing kept
        parts = _WS.split(stripped, maxsplit=1)
        word = parts[0]
        keyword = word.upper()
        if keyword not in KEYWORDS:
            self.error(start, line, f"unknown instruction: {word}")
        rest_all = parts[1] if len(parts) > 1 else ""
        flags, rest = _extract_flags(rest_all)
        is_json = False
        heredocs: tuple[Heredoc, ...] = ()
        sub_ins = None
        if keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL"):
            val = _json_list(rest)
            if val == "not-strings":
                self.error(start, line, "JSON arrays must contain strings only")
            if val is not None:
                args, is_json = tuple(val), True
            else:
                if keyword == "SHELL":
                    self.error(start, line, "SHELL requires the arguments to be in JSON form")
                args = (rest,) if rest else ()
        elif keyword in ("COPY", "ADD", "VOLUME"):
            val = _json_list(rest)
            if val == "not-strings":
                self.error(start, line, "JSON arrays must contain strings only")
            if val is not None:
                args, is_json = tuple(val), True
            else:
                args = tuple(w for w in _WS.split(rest) if w)
        elif keyword in ("ENV", "LABEL"):
            words = _parse_words(rest, self.escape)
            if not words:
                self.error(start, line, f"{keyword} requires at least one argument")
            if "=" not in words[0]:
                kv = _WS.split(rest, maxsplit=1)
                if len(kv) < 2:
                    self.error(start, line, f"{keyword} must have two arguments")
                args = (kv[0], kv[1])
            else:
                flat = []
                for w in words:
                    if "=" not in w:
                        self.error(start, line, f"Syntax error - can't find = in {w!r}. Must be of the form: name=value")
                    k, _, v = w.partition("=")
                    flat += [k, v]
                args = tuple(flat)
        elif keyword == "ARG":
            words = _parse_words(rest, self.escape)
            if not words:
                self.error(start, line, "ARG requires at least one argument")
            flat = []
            for w in words:
                k, sep, v = w.partition("=")
                flat += [k, v if sep else None]
            args = tuple(flat)
        elif keyword == "ONBUILD":
            if not rest:
                self.error(start, line, "ONBUILD requires at least one argument")
            sub_ins, _ = self._node(rest, start, end, i, sub=True)
            if sub_ins.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
                self.error(start, line, f"{sub_ins.keyword} isn't allowed as an ONBUILD trigger")
            args = (rest,)
        elif keyword in ("USER", "WORKDIR", "STOPSIGNAL", "MAINTAINER"):
            args = (rest,) if rest else ()
        else:  # FROM, EXPOSE, HEALTHCHECK
            args = tuple(w for w in _WS.split(rest) if w)
        if keyword in ("RUN", "COPY", "ADD") and not is_json and not sub:
            docs = []
            for m in _HEREDOC.finditer(rest):
                chomp, quoted, name = m.group(1) == "-", m.group(2), m.group(3)
                body = []
                while True:
                    if i >= len(self.lines):
                        self.error(start, line, f"unterminated heredoc {name}")
                    raw = self.lines[i]
                    i += 1
                    if (raw.lstrip("\t") if chomp else raw) == name:
                        break
                    body.append(raw)
                # as BuildKit: content keeps the lines as written (tabs are removed when used)
                docs.append(Heredoc(name, "".join(b + "\n" for b in body), not quoted, chomp))
            heredocs = tuple(docs)
            if docs:
                end = i
                original = line + "\n" + "".join(d.content + d.name + "\n" for d in docs)
        self._check(keyword, args, flags, start, line)
        ins = Instruction(keyword, start, end, original, tuple(flags), rest, args, is_json, heredocs, sub_ins)
        return ins, i

    def _check(self, keyword, args, flags, start, line):
        need = {"FROM": 1, "COPY": 2, "ADD": 2, "RUN": 1, "WORKDIR": 1, "USER": 1,
                "EXPOSE": 1, "VOLUME": 1, "STOPSIGNAL": 1, "MAINTAINER": 1, "CMD": 0,
                "ENTRYPOINT": 0, "SHELL": 1, "HEALTHCHECK": 1}
        if keyword in need and len(args) < need[keyword]:
            self.error(start, line, f"{keyword} requires at least {need[keyword]} argument(s)")
        if keyword == "FROM" and not (len(args) == 1 or (len(args) == 3 and args[1].upper() == "AS")):
            self.error(start, line, "FROM requires either one or three arguments (FROM image [AS name])")
        allowed = {
            "COPY": {"from", "chown", "chmod", "link", "parents", "exclude"},
            "ADD": {"chown", "chmod", "link", "keep-git-dir", "checksum", "exclude"},
            "FROM": {"platform"},
            "RUN": {"mount", "network", "security"},
            "HEALTHCHECK": {"interval", "timeout", "start-period", "start-interval", "retries"},
        }
        for f in flags:
            name = f[2:].partition("=")[0]
            if name not in allowed.get(keyword, set()):
                self.error(start, line, f"unknown flag: {name}")

    def _stages(self, instructions: list[Instruction]) -> Dockerfile:
        meta: list[Instruction] = []
        stages: list[Stage] = []
        for ins in instructions:
            if ins.keyword == "FROM":
                name = ins.args[2].lower() if len(ins.args) == 3 else None
                if name is not None and not re.fullmatch(r"[a-z][a-z0-9\-_\.]*", name):
                    self.error(ins.line, ins.original, f"invalid name for build stage: {name!r}")
                if name and any(s.name == name for s in stages):
                    self.error(ins.line, ins.original, f"duplicate name {name!r}")
                stages.append(Stage(len(stages), name, ins.args[0], ins.flag("platform"), ins))
            elif not stages:
                if ins.keyword != "ARG":
                    self.error(ins.line, ins.original, "no build stage in current context (instructions before the first FROM must be ARG)")
                meta.append(ins)
            else:
                stages[-1].instructions.append(ins)
        if not stages:
            self.error(len(self.lines) or 1, self.lines[-1] if self.lines else "", "the Dockerfile has no FROM instruction")
        return Dockerfile(self.path, self.escape, self.directives, instructions, meta, stages, self.text)


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile *text*; raises :class:`DockerfileSyntaxError` naming file and line."""
    return _Parser(text, path).parse()


def parse_file(path) -> Dockerfile:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DockerfileSyntaxError(str(p), 0, "", "no such Dockerfile") from None
    return parse(text, str(p))
