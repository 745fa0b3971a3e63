"""Word expansion, table-driven (BuildKit shell lexer rules)."""

import pytest

from imgviz.dockerfile.lexer import ExpansionError, process_word, process_words

ENV = {"SET": "value", "EMPTY": "", "PATH": "/bin"}


@pytest.mark.parametrize("word, expected", [
    ("plain", "plain"),
    ("$SET", "value"),
    ("${SET}", "value"),
    ("$UNSET", ""),
    ("${UNSET}x", "x"),
    ("${SET:-default}", "value"),
    ("${EMPTY:-default}", "default"),
    ("${UNSET:-default}", "default"),
    ("${EMPTY-default}", ""),
    ("${UNSET-default}", "default"),
    ("${SET:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET:+alt}", ""),
    ("${UNSET:-${SET}}", "value"),
    ("'$SET'", "$SET"),
    ('"$SET"', "value"),
    ('"a \\"quoted\\" $SET"', 'a "quoted" value'),
    ('"keep \\n backslash"', "keep \\n backslash"),
    ("\\$SET", "$SET"),
    ("a\\ b", "a b"),
    ("$", "$"),
    ("cost: $5", "cost: "),       # positional parameters are never set
    ("$5abc", "abc"),
    ("a$$b", "ab"),
    ("$PATH:/usr/bin", "/bin:/usr/bin"),
    ("${SET}${SET}", "valuevalue"),
])
def test_process_word(word, expected):
    assert process_word(word, ENV) == expected


def test_backtick_escape():
    assert process_word("a`$SET", ENV, escape="`") == "a$SET"
    assert process_word("c:\\dir", ENV, escape="`") == "c:\\dir"


def test_process_words_splits_outside_quotes():
    assert process_words("a  'b c' \"$SET d\" e\\ f", ENV) == ["a", "b c", "value d", "e f"]


@pytest.mark.parametrize("word", ["${UNSET:?must be set}", "${UNSET?x}", "${SET", "${SET:*x}", "'open"])
def test_errors(word):
    with pytest.raises(ExpansionError):
        process_word(word, ENV)
