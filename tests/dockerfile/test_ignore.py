""".dockerignore: what each builder sent, against what the real builders did
(tests/data/dockerfile/ignore.json: ``COPY . /c/`` of one fixed context per pattern list, on
Docker 20.10 and 28.5 with BuildKit and the classic builder)."""

from __future__ import annotations

import pytest

from imgviz.dockerfile.ignore import (IgnoreError, PatternMatcher, PatternMatcher2010, matcher_for,
                                      parse_dockerignore)
from imgviz.dockerfile.walk import context_paths, image_paths

from . import conformance_cases as cc
from ._conformance import TARGETS, materialize, recording, split_target

_KIND = {"file": "f", "dir": "d", "symlink": "l"}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("ignore-ctx")
    materialize(root, cc.IGNORE_DOCKERFILE, cc.IGNORE_TREE, None, cc.IGNORE_EMPTY_DIRS, cc.IGNORE_SYMLINKS)
    return root


def _imgviz(root, text: str, engine: str, builder: str) -> dict:
    (root / ".dockerignore").write_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        patterns = parse_dockerignore((root / ".dockerignore").read_bytes())
        sent = context_paths(root, engine=engine, builder=builder, patterns=patterns)
    except IgnoreError as exc:
        return {"ok": False, "message": str(exc)}
    return {"ok": True, "paths": {k: _KIND.get(v, "?") for k, v in image_paths(sent).items()}}


def _cases():
    rec = recording("ignore")
    return [(t, cid) for t in TARGETS for cid in sorted(rec["cases"])]


@pytest.mark.parametrize("target, cid", _cases())
def test_context_equals_the_builder(tree, target, cid):
    case = recording("ignore")["cases"][cid]
    want = case["results"][target]
    engine, builder = split_target(target)
    got = _imgviz(tree, case["input"]["dockerignore"], engine, builder)
    if want["ok"]:
        assert got["ok"], got
        assert got["paths"] == want["paths"], case["input"]["dockerignore"]
    else:
        assert not got["ok"], (case["input"]["dockerignore"], want["message"])
        assert got["message"] in want["message"]


def test_recording_covers_every_case_on_every_target():
    rec = recording("ignore")
    assert len(rec["cases"]) >= 100
    current = {c["id"]: c["dockerignore"] for c in cc.ignore_cases()}
    assert {cid: c["input"]["dockerignore"] for cid, c in rec["cases"].items()} == current
    for cid, case in rec["cases"].items():
        assert set(case["results"]) == set(TARGETS), cid


# -- the matcher API (the cascade's BuildContext uses PatternMatcher.matches / may_descend) ----------
def test_parse_normalises():
    text = "# comment\n  *.log  \n\n!keep.log\n/abs/path\n./rel/../x\n ! spaced\n"
    assert parse_dockerignore(text) == ["*.log", "!keep.log", "abs/path", "x", "!spaced"]
    assert parse_dockerignore("\ufeff*.log\r\n!keep.log\r\n") == ["*.log", "!keep.log"]
    assert parse_dockerignore(" # not a comment") == ["# not a comment"]


@pytest.mark.parametrize("patterns, path, new, old", [
    (["[^a].txt"], "b.txt", True, True),          # [^...] is a negated class in both
    (["[^a].txt"], "a.txt", False, False),
    (["**.log"], "logs/sub/b.log", True, False),  # suffix match in 28.5 only
    (["a+b.txt"], "aab.txt", False, True),        # + is regexp syntax in 20.10
    (["**/node_modules"], "a/b/node_modules/x.js", True, False),  # 20.10 tries one parent only
    (["*.log"], "sub/a.log", False, False),       # no implicit **/
    (["*.log", "!keep.log"], "keep.log", False, False),
])
def test_matchers(patterns, path, new, old):
    assert PatternMatcher(patterns).matches(path) is new
    assert PatternMatcher2010(patterns).matches(path) is old


def test_bad_patterns():
    with pytest.raises(IgnoreError, match="illegal exclusion"):
        PatternMatcher(["!"])
    with pytest.raises(IgnoreError, match="syntax error in pattern"):
        PatternMatcher(["["])
    pm = matcher_for(["a("], "20.10")          # compiles only when used, as in Go
    with pytest.raises(IgnoreError):
        pm.matches("x")
    assert matcher_for(["a("], "28.5").matches("a(") is True


def test_may_descend_is_the_classic_prefix_rule():
    pm = PatternMatcher(["dir", "!dir/keep", "logs", "!**/important.txt"])
    assert pm.may_descend("dir")
    assert not pm.may_descend("logs")
    assert not PatternMatcher(["dir"]).may_descend("dir")
