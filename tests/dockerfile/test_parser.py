"""The parser against BuildKit's own Go parser (the ``dockerfile`` package, used only here as an oracle)
and against the error messages we promise."""

from __future__ import annotations

import pytest

from imgviz.dockerfile.parser import DockerfileSyntaxError, parse

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
}


def _corpus():
    out = dict(TRICKY)
    for name, sc in SCENARIOS.items():
        out[f"scenario-{name}-old"] = sc["old"]["Dockerfile"].replace("{BASE}", "b:1")
        out[f"scenario-{name}-new"] = sc["new"]["Dockerfile"].replace("{BASE}", "b:1").replace("{BASE2}", "b:2")
    return out


def _flat(ins):
    vals = []
    for a in ins.args:
        vals.append(a if a is not None else None)
    return vals


@pytest.mark.parametrize("name", sorted(_corpus()))
def test_matches_buildkit_parser(name):
    oracle = pytest.importorskip("dockerfile")
    text = _corpus()[name]
    theirs = oracle.parse_string(text)
    ours = parse(text).instructions
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.keyword == b.cmd.upper()
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
            assert _flat(a) == list(b.value), a.original
        assert [(h.name, h.content) for h in a.heredocs] == [(h.name, h.content) for h in b.heredocs]


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
    # after a blank line, "# escape=`" is a comment: the backslash still continues lines
    df = parse(TRICKY["directive-after-blank-is-comment"])
    assert df.escape == "\\" and df.instructions[1].args == ("echo a  b",)


@pytest.mark.parametrize("text, line, message, offending", [
    ("FROM busybox\nRUNN echo hi\n", 2, "unknown instruction: RUNN", "RUNN echo hi"),
    ("FROM busybox\nCOPY onlyone\n", 2, "COPY requires at least 2", "COPY onlyone"),
    ("FROM busybox\nENV NOVALUE\n", 2, "ENV must have two arguments", "ENV NOVALUE"),
    ("FROM busybox\nENV A=1 B\n", 2, "can't find = in 'B'", "ENV A=1 B"),
    ("RUN echo before from\n", 1, "no build stage", "RUN echo before from"),
    ("FROM busybox\nCOPY --form=x a b\n", 2, "unknown flag: form", "COPY --form=x a b"),
    ("FROM busybox\nSHELL /bin/bash -c\n", 2, "SHELL requires the arguments to be in JSON form", "SHELL /bin/bash -c"),
    ("FROM a AS x\nFROM b AS x\n", 2, "duplicate name", "FROM b AS x"),
    ("FROM busybox\nRUN <<EOF\necho never closed\n", 2, "unterminated heredoc EOF", "RUN <<EOF"),
])
def test_syntax_errors_name_file_line_and_text(text, line, message, offending):
    with pytest.raises(DockerfileSyntaxError) as exc:
        parse(text, path="ctx/Dockerfile")
    err = exc.value
    assert err.line == line and message in str(err) and offending in str(err)
    assert str(err).startswith(f"ctx/Dockerfile:{line}: ")
    assert "\n" not in str(err)
