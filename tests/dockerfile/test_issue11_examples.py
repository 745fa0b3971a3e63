"""Issue 11's examples, one test each, each held against what the real builders did.

The recordings (tests/data/dockerfile/*.json) are the ground truth; these tests name the case
that shows the example and check imgviz now says the same.  Parse-level examples are also checked
against BuildKit's Go parser in test_parser.py.
"""

from __future__ import annotations

import pytest

from imgviz.dockerfile.check import rules_for
from imgviz.dockerfile.expand import evaluate
from imgviz.dockerfile.ignore import parse_dockerignore
from imgviz.dockerfile.parser import parse
from imgviz.dockerfile.walk import context_paths, image_paths

from . import conformance_cases as cc
from ._conformance import BASE, TARGETS, materialize, recording, split_target


def _accept(cid, target):
    return recording("accept")["cases"][cid]["results"][target]


def _check(tmp_path, cid, target):
    inp = recording("accept")["cases"][cid]["input"]
    df = inp["dockerfile"].encode("utf-8", "surrogateescape").replace(b"{BASE}", BASE.encode())
    root = materialize(tmp_path / cid, df, inp.get("files"), inp.get("dockerignore"))
    engine, builder = split_target(target)
    return rules_for(engine, builder).check(root, local_images={BASE})


# -- heredocs ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cid", ["quoted-heredoc-marker", "sed-heredoc-marker", "arith-shift"])
def test_quoted_double_angle_builds(tmp_path, cid):
    for t in TARGETS:
        assert _accept(cid, t)["ok"]
        assert _check(tmp_path / t, cid, t) is None


@pytest.mark.parametrize("cid", ["heredoc-dotted-name", "heredoc-partly-quoted", "heredoc-dash-name",
                                 "heredoc-onbuild"])
def test_heredoc_names_buildkit_accepts(tmp_path, cid):
    assert _accept(cid, "28.5-buildkit")["ok"]
    assert _check(tmp_path, cid, "28.5-buildkit") is None
    df = parse(recording("accept")["cases"][cid]["input"]["dockerfile"].replace("{BASE}", BASE))
    docs = [d for i in df.instructions for d in (i.heredocs or (i.sub.heredocs if i.sub else ()))]
    assert docs, "the heredoc is read"


def test_partly_quoted_heredoc_is_not_expanded():
    want = _accept("heredoc-partly-quoted", "28.5-buildkit")["files"]["out/x"]
    df = parse(recording("accept")["cases"]["heredoc-partly-quoted"]["input"]["dockerfile"].replace("{BASE}", BASE))
    ev = evaluate(df, builder="buildkit")
    copy = [e for e in ev.instructions if e.ins.keyword == "COPY"][0]
    assert copy.values["heredocs"] == [("EOF", want)]


# -- continuation --------------------------------------------------------------------------------
def test_escaped_backslash_at_line_end_does_not_swallow_the_next_instruction(tmp_path):
    for t in TARGETS:
        assert _accept("escaped-backslash-eol", t)["files"] == {"out/ok": "ok\n"}
        assert _check(tmp_path / t, "escaped-backslash-eol", t) is None
    ins = parse("FROM x\nRUN echo C:\\\\\nRUN echo ok > /out/ok\n").instructions
    assert [i.keyword for i in ins] == ["FROM", "RUN", "RUN"]


# -- expansion -------------------------------------------------------------------------------------
@pytest.mark.parametrize("word, cid", [("${F%.*}", "C048"), ("${F#*.}", "C050"), ("${MULTI/X/-}", "C091")])
def test_pattern_expansions_follow_the_engine(word, cid):
    case = recording("expansion")["cases"][cid]
    assert case["input"]["word"] == word
    for t in TARGETS:
        engine, builder = split_target(t)
        want = case["results"][t]
        df = parse(cc.expansion_dockerfile([case["input"]], BASE, "\\"), engine=engine)
        ev = evaluate(df, builder=builder, build_args=cc.EXP_BUILD_ARGS, raise_errors=False)
        if want["ok"]:        # 28.5: expanded
            assert ev.error is None and ev.stages[0].run_env[cid] == want["value"]
        else:                 # 20.10: refused
            assert ev.error is not None and "missing ':' in substitution" in ev.error.message


def test_a_changed_arg_changes_a_pattern_expansion():
    """The cascade reads these values: a changed ARG under ${V%.*} is a different value."""
    text = "FROM scratch\nARG V=app-1.0.tar\nENV W=${V%.*}\n"
    one = evaluate(parse(text), builder="buildkit").stages[0].env["W"]
    two = evaluate(parse(text), builder="buildkit", build_args={"V": "app-2.0.tar"}).stages[0].env["W"]
    assert (one, two) == ("app-1.0", "app-2.0")


# -- .dockerignore ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("ctx")
    materialize(root, cc.IGNORE_DOCKERFILE, cc.IGNORE_TREE, None, cc.IGNORE_EMPTY_DIRS, cc.IGNORE_SYMLINKS)
    return root


def _paths(tree, text, target):
    engine, builder = split_target(target)
    (tree / ".dockerignore").write_text(text)
    sent = context_paths(tree, engine=engine, builder=builder, patterns=parse_dockerignore(text))
    return {k: {"file": "f", "dir": "d", "symlink": "l"}[v] for k, v in image_paths(sent).items()}


def _ignore_case(text):
    return next(c for c in recording("ignore")["cases"].values() if c["input"]["dockerignore"] == text)


@pytest.mark.parametrize("text, path, excluded", [
    ("[^a].txt", "b.txt", True), ("[^a].txt", "a.txt", False),
    ("**/node_modules\n!**/node_modules/keep.txt", "node_modules/pkg/index.js", True),
    ("**/node_modules\n!**/node_modules/keep.txt", "src/node_modules/lib/index.js", True),
])
def test_ignore_examples_both_builders(tree, text, path, excluded):
    case = _ignore_case(text)
    for t in TARGETS:
        want = case["results"][t]["paths"]
        assert (path not in want) is excluded, t
        assert _paths(tree, text, t) == want


def test_double_star_suffix_matches_on_28_only(tree):
    case = _ignore_case("**.log")
    assert "logs/sub/b.log" not in case["results"]["28.5-buildkit"]["paths"]
    assert "logs/sub/b.log" in case["results"]["20.10-buildkit"]["paths"]
    for t in TARGETS:
        assert _paths(tree, "**.log", t) == case["results"][t]["paths"]


def test_wildcard_exception_walk_differs_by_builder(tree):
    text = "logs\n!**/keep.txt"
    case = _ignore_case(text)
    assert "logs/sub/keep.txt" in case["results"]["28.5-buildkit"]["paths"]
    assert "logs/sub/keep.txt" not in case["results"]["28.5-classic"]["paths"]
    for t in TARGETS:
        assert _paths(tree, text, t) == case["results"][t]["paths"]


# -- JSON form -----------------------------------------------------------------------------------
def test_text_after_json_array():
    rec = recording("accept")["cases"]["json-then-text"]["results"]
    assert rec["20.10-buildkit"]["files"] == {"out/a": "a\n", "out/b": None}      # exec form
    assert "/bin/sh -c [" in rec["28.5-buildkit"]["message"].replace('\\"', '"')  # shell form
    text = 'FROM x\nRUN ["sh", "-c", "echo a > /out/a"] && echo b > /out/b\n'
    assert parse(text).instructions[1].json is False
    assert parse(text, engine="20.10").instructions[1].args == ("sh", "-c", "echo a > /out/a")


# -- line ends -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cid, char", [("u2028-in-run", "\u2028"), ("vt-and-fs-in-run", "\x0b"),
                                       ("lone-cr-in-run", "\r")])
def test_lines_break_only_at_newline(tmp_path, cid, char):
    for t in TARGETS:
        got = _accept(cid, t)["files"]["out/x"]
        assert char in got
        assert _check(tmp_path / t, cid, t) is None
    df = parse(recording("accept")["cases"][cid]["input"]["dockerfile"].replace("{BASE}", BASE))
    assert len(df.instructions) == 2 and char in df.instructions[1].args[0]


# -- WORKDIR /srv vs /srv/ -------------------------------------------------------------------------
@pytest.mark.parametrize("cid", ["workdir-trailing-slash", "workdir-double-slash", "workdir-relative-slash"])
def test_workdir_as_the_builder_records_it(cid):
    """``/srv/`` stays ``/srv/`` (so the steps after it rebuild: test_conformance_live checks the
    rebuild) except on Docker 28.5's classic builder, which cleans it to ``/srv``."""
    case = recording("accept")["cases"][cid]
    for t in TARGETS:
        engine, builder = split_target(t)
        df = parse(case["input"]["dockerfile"].replace("{BASE}", BASE), engine=engine)
        wd = [e.values["workdir"] for e in evaluate(df, builder=builder).instructions if e.ins.keyword == "WORKDIR"]
        assert wd[-1] == case["results"][t]["config"]["WorkingDir"], t


# -- what the builders refuse, and what they accept ---------------------------------------------------
@pytest.mark.parametrize("cid", ["copy-missing-source", "arg-blank-name", "from-uppercase", "line-over-limit",
                                 "stage-names-itself"])
def test_builders_refuse_and_imgviz_says_so(tmp_path, cid):
    for t in TARGETS:
        assert not _accept(cid, t)["ok"]
        err = _check(tmp_path / t, cid, t)
        assert err is not None and err.as_dict()["message"]


@pytest.mark.parametrize("cid", ["non-utf8-comment", "non-utf8-env", "latin1-copy-source"])
def test_non_utf8_dockerfiles_are_read(tmp_path, cid):
    for t in TARGETS:
        want = _accept(cid, t)
        got = _check(tmp_path / t, cid, t)
        assert (got is None) == want["ok"], (t, got)
