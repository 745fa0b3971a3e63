"""The parser against BuildKit's own Go parser (the ``dockerfile`` package, used only here as an
oracle), and the issue's examples one by one.

The oracle is BuildKit v0.12.5's parser.  Docker 28.5 runs v0.25, which differs from v0.12.5 in
two places we know of (both checked against the real builders in tests/data/dockerfile/accept.json
and here against v0.25's rule): a JSON array followed by more text is shell form in v0.25 (exec
form with the text ignored in v0.12 and in Docker 20.10), and ``<< EOF`` (space after ``<<``)
opens a heredoc in v0.25 only.
"""

from __future__ import annotations

import pytest

from imgviz.dockerfile.parser import DockerfileSyntaxError, Parser, Parser2010, parse, parser_for

from ..cascade_scenarios import SCENARIOS

TRICKY = {
    "continuation-with-comments": (
        "FROM busybox\n"
        "RUN echo one \\\n"
        "  # a comment inside\n"
        "\n"
        "    && echo two   \\   \n"
        "\t&& echo three\n"
    ),
    "escape-backtick": (
        "# escape=`\n"
        "FROM busybox\n"
        "RUN echo a `\n"
        "    b\n"
        "COPY c:\\src d:\\dst\n"
    ),
    "directive-after-blank-is-comment": (
        "\n# escape=`\nFROM busybox\nRUN echo a \\\n b\n"
    ),
    "json-and-shell-forms": (
        "FROM busybox AS base\n"
        'CMD ["sh", "-c", "echo hi"]\n'
        "ENTRYPOINT echo   spaced\n"
        'RUN ["echo", "a b"] \n'
        "RUN [not json\n"
        'SHELL ["/bin/sh", "-ec"]\n'
        'COPY ["a b.txt", "/dst/"]\n'
        "VOLUME /data /logs\n"
    ),
    "flags": (
        "FROM --platform=linux/amd64 busybox AS build\n"
        "COPY --from=build --chown=1:2 --chmod=0755 /a /b\n"
        "COPY --link a /a\n"
        "ADD --chown=app a.tar /opt/\n"
        "RUN --mount=type=bind,source=x,target=/x --network=none cat /x\n"
        "HEALTHCHECK --interval=5s --retries=3 CMD true\n"
    ),
    "env-label-arg": (
        "ARG BASE=busybox\n"
        "FROM ${BASE}\n"
        "ENV A=1 B=\"two words\" C='single $A' D=esc\\ aped\n"
        "ENV LEGACY the rest of the line\n"
        "LABEL org.x=\"y\" multi=\"a b\"\n"
        "ARG ONE TWO=2 THREE=\"3 3\"\n"
        "USER ${USER:-nobody}\n"
        "WORKDIR /app/${A}\n"
        "EXPOSE 80/tcp 443\n"
        "STOPSIGNAL SIGTERM\n"
        "ONBUILD RUN echo triggered\n"
        "MAINTAINER someone\n"
    ),
    "heredocs": (
        "FROM busybox\n"
        "RUN <<EOF\n"
        "echo hello\n"
        "echo world\n"
        "EOF\n"
        "COPY <<-'CONF' /etc/app.conf\n"
        "\tkey=value\n"
        "\tCONF\n"
        "RUN echo after\n"
    ),
    "crlf-and-bom": "\ufeffFROM busybox\r\nRUN echo a \\\r\n  b\r\n",
    "multi-stage": (
        "FROM busybox AS one\nRUN echo 1 > /1\n\nFROM one AS two\nCOPY --from=one /1 /2\n"
        "FROM busybox\nCOPY --from=two /2 /3\n"
    ),
    # the examples
    "quoted-heredoc-markers": (
        "FROM busybox\n"
        'RUN echo "<<EOF" > /x\n'
        "RUN sed 's/<<TAG>>/v/' f\n"
        "RUN echo $((1<<x))\n"
        "RUN echo done\n"
    ),
    "heredoc-names": (
        "FROM busybox\n"
        "COPY <<file.txt /x\nhello\nfile.txt\n"
        "RUN <<END-X\necho\nEND-X\n"
        "COPY <<E\"O\"F /y\n$V\nEOF\n"
        "RUN 3<<'A B' cat\nx\nA B\n"
    ),
    "escaped-backslash-eol": "FROM busybox\nRUN echo C:\\\\\nRUN echo next\n",
    "go-line-ends": "FROM busybox\nRUN echo 'a\u2028b'\nRUN echo 'a\x1cb\x0bc'\nRUN echo 'a\rb'\nRUN echo \u0085x\n",
    "unicode-spaces": "FROM busybox\nRUN echo\u00a0a\nENV A=1\u2003B=2\nRUN echo trailing\u2028\n",
}
ONBUILD_HEREDOC = "FROM busybox\nONBUILD RUN <<EOF\necho hi\nEOF\nRUN echo after\n"


def _corpus():
    out = dict(TRICKY)
    for name, sc in SCENARIOS.items():
        out[f"scenario-{name}-old"] = sc["old"]["Dockerfile"].replace("{BASE}", "b:1")
        if not sc.get("parse_refused"):
            out[f"scenario-{name}-new"] = sc["new"]["Dockerfile"].replace("{BASE}", "b:1").replace("{BASE2}", "b:2")
    return out


@pytest.mark.parametrize("name", sorted(_corpus()))
def test_matches_buildkit_parser(name):
    oracle = pytest.importorskip("dockerfile")
    text = _corpus()[name]
    theirs = oracle.parse_string(text)
    ours = parse(text).instructions
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.keyword == b.cmd.upper()
        assert a.command == b.cmd
        assert (a.line, a.end_line) == (b.start_line, b.end_line), (a.original, b.original)
        assert a.original == b.original
        assert list(a.flags) == list(b.flags)
        assert a.json == b.json
        if a.keyword == "ARG":
            # the oracle gives "K=V" words for ARG; we keep (key, value or None) pairs
            words = [k if v is None else f"{k}={v}" for k, v in a.pairs()]
            assert words == list(b.value)
        elif a.keyword == "ONBUILD":
            assert b.sub_cmd and a.sub.keyword == b.sub_cmd.upper()
        else:
            assert list(a.args) == list(b.value), a.original
        assert [(h.name, h.content) for h in a.heredocs] == [(h.name, h.content) for h in b.heredocs]


def test_onbuild_heredoc_lines_match_the_oracle():
    oracle = pytest.importorskip("dockerfile")
    theirs = oracle.parse_string(ONBUILD_HEREDOC)
    ours = parse(ONBUILD_HEREDOC).instructions
    assert [(i.keyword, i.line, i.end_line) for i in ours] == [(c.cmd, c.start_line, c.end_line) for c in theirs]
    assert ours[1].sub.heredocs[0].content == "echo hi\n"


def test_known_differences_from_the_v0_12_oracle():
    oracle = pytest.importorskip("dockerfile")
    text = 'FROM busybox\nRUN ["echo", "a"] && echo b\nRUN << EOF\nx\nEOF\n'
    old = oracle.parse_string(text)
    assert old[1].json and list(old[1].value) == ["echo", "a"]      # v0.12 / Docker 20.10
    assert [c.cmd for c in old] == ["FROM", "RUN", "RUN", "x", "EOF"]
    new = parse(text).instructions                                   # Docker 28.5
    assert not new[1].json and new[1].args == ('["echo", "a"] && echo b',)
    assert [i.keyword for i in new] == ["FROM", "RUN", "RUN"] and new[2].heredocs[0].content == "x\n"
    text2010 = 'FROM busybox\nRUN ["echo", "a"] && echo b\n'
    assert parse(text2010, engine="20.10").instructions[1].args == ("echo", "a")


# -- the examples ---------------------------------------------------------------------------
def test_quoted_double_angle_is_not_a_heredoc():
    df = parse(TRICKY["quoted-heredoc-markers"])
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "RUN", "RUN", "RUN"]
    assert all(not i.heredocs for i in df.instructions)


def test_heredoc_names_buildkit_accepts():
    df = parse(TRICKY["heredoc-names"])
    docs = [(d.name, d.content, d.expand, d.fd) for i in df.instructions for d in i.heredocs]
    assert docs == [("file.txt", "hello\n", True, 0), ("END-X", "echo\n", True, 0), ("EOF", "$V\n", False, 0),
                    ("A B", "x\n", False, 3)]


def test_heredoc_under_onbuild_is_read():
    df = parse(ONBUILD_HEREDOC)
    assert [i.keyword for i in df.instructions] == ["FROM", "ONBUILD", "RUN"]
    assert df.instructions[1].end_line == 4


def test_escaped_backslash_does_not_continue():
    ins = parse(TRICKY["escaped-backslash-eol"]).instructions
    assert [(i.keyword, i.args[0]) for i in ins[1:]] == [("RUN", "echo C:\\\\"), ("RUN", "echo next")]
    # three: BuildKit's rule looks at one character before the last (its own comment says so)
    with pytest.raises(DockerfileSyntaxError, match="unknown instruction: b"):
        parse("FROM busybox\nRUN echo a\\\\\\\n  b\n")


def test_lines_split_only_at_newline():
    ins = parse(TRICKY["go-line-ends"]).instructions
    assert [i.args[0] for i in ins[1:]] == ["echo 'a\u2028b'", "echo 'a\x1cb\x0bc'", "echo 'a\rb'", "echo \u0085x"]


def test_json_then_text_is_shell_form_on_28_exec_on_20():
    text = 'FROM busybox\nRUN ["echo","a"] && echo b\n'
    assert parse(text).instructions[1].json is False
    assert parse(text, engine="20.10").instructions[1].json is True


def test_non_utf8_bytes_are_kept():
    raw = b"FROM busybox\nRUN printf '\xff' > /x\n"
    df = parse(raw)
    assert df.instructions[1].args[0].encode("utf-8", "surrogateescape") == b"printf '\xff' > /x"


def test_heredocs_only_on_28():
    text = "FROM busybox\nRUN <<EOF\necho hi\nEOF\n"
    assert [i.keyword for i in parse(text).instructions] == ["FROM", "RUN"]
    with pytest.raises(DockerfileSyntaxError) as exc:
        parse(text, engine="20.10")            # "echo hi" is read as an instruction
    assert exc.value.line == 3 and exc.value.message == "unknown instruction: ECHO"   # as 20.10 says it


def test_stages_and_meta_args():
    df = parse(TRICKY["multi-stage"])
    assert [(s.index, s.name, s.base, s.label) for s in df.stages] == [
        (0, "one", "busybox", "one"), (1, "two", "one", "two"), (2, None, "busybox", "stage-2")]
    df = parse(TRICKY["env-label-arg"])
    assert [i.keyword for i in df.meta_args] == ["ARG"]
    assert df.stages[0].instructions[0].pairs() == [
        ("A", "1"), ("B", '"two words"'), ("C", "'single $A'"), ("D", "esc\\ aped")]
    assert df.stages[0].instructions[1].pairs() == [("LEGACY", "the rest of the line")]


def test_escape_directive():
    df = parse(TRICKY["escape-backtick"])
    assert df.escape == "`" and df.directives == {"escape": "`"}
    assert df.instructions[1].args == ("echo a     b",)
    df = parse(TRICKY["directive-after-blank-is-comment"])
    assert df.escape == "\\" and df.instructions[1].args == ("echo a  b",)


def test_parser_classes_per_engine():
    assert parser_for("28.5") is Parser and parser_for("20.10") is Parser2010
    with pytest.raises(ValueError):
        parser_for("19.03")


def test_errors_are_one_line_and_name_file_and_line():
    with pytest.raises(DockerfileSyntaxError) as exc:
        parse("FROM busybox\nRUNN echo hi\n", path="ctx/Dockerfile")
    err = exc.value
    assert (err.line, err.message) == (2, "unknown instruction: RUNN (did you mean RUN?)")
    assert str(err).startswith("ctx/Dockerfile:2: unknown instruction: RUNN") and "\n" not in str(err)
    assert err.as_dict() == {"line": 2, "message": "unknown instruction: RUNN (did you mean RUN?)"}
