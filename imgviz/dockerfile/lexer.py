"""Word expansion as BuildKit's Dockerfile shell lexer does it.

The rules (BuildKit ``frontend/dockerfile/shell/lex.go``, restated):

* ``'...'`` is literal: no expansion, no escapes, quotes removed.
* ``"..."`` expands ``$VAR`` / ``${...}``; inside it the escape token only
  escapes ``"``, ``$`` and the escape token itself (otherwise it is kept).
* Outside quotes the escape token makes the next character literal.
* ``$NAME`` and ``${NAME}`` substitute the variable (empty when unset);
  ``${NAME:-word}`` uses *word* when NAME is unset or empty, ``${NAME-word}``
  only when unset; ``${NAME:+word}`` uses *word* when NAME is set and not
  empty, ``${NAME+word}`` when set; ``${NAME:?msg}`` / ``${NAME?msg}`` fail.
  The *word* is itself expanded.
* A ``$`` not followed by a name or ``{`` stays literal; ``$1`` (digits) and
  ``$@ $* $# $? $- $$ $!`` are names that are never set, so they expand to nothing.
* :func:`process_words` splits on unquoted whitespace (after expansion of
  unquoted text the result is not re-split, as in BuildKit).
"""

from __future__ import annotations

from typing import Mapping

__all__ = ["ExpansionError", "process_word", "process_words"]


class ExpansionError(ValueError):
    """A variable reference that cannot be expanded (bad syntax or ``:?``)."""


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str, split: bool):
        self.s = text
        self.i = 0
        self.env = env
        self.esc = escape
        self.split = split

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def next(self) -> str:
        ch = self.peek()
        self.i += 1
        return ch

    # -- words -------------------------------------------------------------
    def words(self) -> list[str]:
        out: list[str] = []
        word: list[str] = []
        started = False
        while self.i < len(self.s):
            ch = self.peek()
            if self.split and ch in " \t\r\n\f\v":
                self.i += 1
                if started:
                    out.append("".join(word))
                    word, started = [], False
                continue
            started = True
            if ch == "'":
                self.i += 1
                word.append(self.single_quoted())
            elif ch == '"':
                self.i += 1
                word.append(self.double_quoted())
            elif ch == "$":
                self.i += 1
                word.append(self.dollar())
            elif ch == self.esc:
                self.i += 1
                if self.i < len(self.s):
                    word.append(self.next())
            else:
                word.append(self.next())
        if started or not self.split:
            out.append("".join(word))
        return out

    def stop_on(self, stop: str) -> str:
        """Process until the unquoted *stop* character (consumed)."""
        res: list[str] = []
        while True:
            if self.i >= len(self.s):
                raise ExpansionError(f"unexpected end of text, missing {stop!r}")
            ch = self.peek()
            if ch == stop:
                self.i += 1
                return "".join(res)
            if ch == "'":
                self.i += 1
                res.append(self.single_quoted())
            elif ch == '"':
                self.i += 1
                res.append(self.double_quoted())
            elif ch == "$":
                self.i += 1
                res.append(self.dollar())
            elif ch == self.esc:
                self.i += 1
                if self.i < len(self.s):
                    res.append(self.next())
            else:
                res.append(self.next())

    def single_quoted(self) -> str:
        end = self.s.find("'", self.i)
        if end < 0:
            raise ExpansionError("unexpected end of text, missing closing '")
        res = self.s[self.i:end]
        self.i = end + 1
        return res

    def double_quoted(self) -> str:
        res: list[str] = []
        while True:
            if self.i >= len(self.s):
                raise ExpansionError('unexpected end of text, missing closing "')
            ch = self.next()
            if ch == '"':
                return "".join(res)
            if ch == "$":
                res.append(self.dollar())
            elif ch == self.esc:
                nxt = self.peek()
                if nxt in ('"', "$", self.esc) and nxt:
                    res.append(self.next())
                else:
                    res.append(ch)
            else:
                res.append(ch)

    def name(self) -> str:
        start = self.i
        if self.i < len(self.s) and self.s[self.i].isdigit():  # positional: digits only
            while self.i < len(self.s) and self.s[self.i].isdigit():
                self.i += 1
            return self.s[start:self.i]
        if self.i < len(self.s) and self.s[self.i] in "@*#?-$!":  # special parameter
            self.i += 1
            return self.s[start:self.i]
        while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] == "_"):
            self.i += 1
        return self.s[start:self.i]

    def dollar(self) -> str:
        ch = self.peek()
        if ch != "{":
            nm = self.name()
            if not nm:
                return "$"
            return self.env.get(nm, "")
        self.i += 1  # consume {
        nm = self.name()
        if not nm:
            raise ExpansionError("bad substitution: missing variable name after ${")
        ch = self.next()
        found = nm in self.env
        value = self.env.get(nm, "")
        if ch == "}":
            return value
        colon = False
        if ch == ":":
            colon = True
            ch = self.next()
        if ch in ("-", "+", "?"):
            word = self.stop_on("}")
            if ch == "-":
                use_word = (not found) or (colon and value == "")
                return word if use_word else value
            if ch == "+":
                set_ = found and (value != "" if colon else True)
                return word if set_ else ""
            if (not found) or (colon and value == ""):
                raise ExpansionError(f"{nm}: {word or 'is not allowed to be unset'}")
            return value
        raise ExpansionError(f"unsupported modifier ({ch!r}) in substitution of {nm}")


def process_word(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Expand one word: quotes removed, variables substituted, no splitting."""
    return _Lexer(text, env, escape, split=False).words()[0]


def process_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Expand and split on unquoted whitespace."""
    return _Lexer(text, env, escape, split=True).words()
