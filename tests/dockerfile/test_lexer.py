"""Word expansion against what the real builders did (tests/data/dockerfile/expansion.json).

Every case was built on Docker 20.10 and Docker 28.5, each with BuildKit and with the classic
builder (tests/dockerfile/record_conformance.py); the recording holds the value the variable had
in a RUN step's environment, or the builder's error.  imgviz parses and evaluates the same
Dockerfile with that engine's and builder's rules and must say the same.
"""

from __future__ import annotations

import time

import pytest

from imgviz.dockerfile.expand import evaluate
from imgviz.dockerfile.lexer import ExpansionError, Lexer, Lexer2010, lexer_for, process_word, process_words
from imgviz.dockerfile.parser import parse
from imgviz.dockerfile.refusal import BuildRefused
from imgviz.errors import ImgvizError

from . import conformance_cases as cc
from ._conformance import BASE, BASE_ENV, TARGETS, core_message, recording, split_target


def _cases():
    rec = recording("expansion")
    return [(t, cid) for t in TARGETS for cid in sorted(rec["cases"])]


def _imgviz(inp: dict, engine: str, builder: str) -> dict:
    text = cc.expansion_dockerfile([inp], BASE, inp["escape"])
    try:
        df = parse(text, engine=engine)
        ev = evaluate(df, builder=builder, build_args=cc.EXP_BUILD_ARGS, base_env=BASE_ENV)
    except BuildRefused as exc:
        return {"ok": False, "message": exc.message, "line": exc.line}
    return {"ok": True, "value": ev.stages[len(df.stages) - 1].run_env.get(inp["var"])}


@pytest.mark.parametrize("target, cid", _cases())
def test_expansion_equals_the_builder(target, cid):
    case = recording("expansion")["cases"][cid]
    inp, want = case["input"], case["results"][target]
    engine, builder = split_target(target)
    got = _imgviz(inp, engine, builder)
    if want["ok"]:
        assert got == {"ok": True, "value": want["value"]}, inp["lines"]
    else:
        assert not got["ok"], (inp["lines"], got)
        assert got["message"] == core_message(want["message"]), inp["lines"]
        # the failing instruction: the case's own lines come after the fixture
        n_head = (1 if inp["escape"] != "\\" else 0) + len(cc.EXP_META) + 1 + len(cc.EXP_FIXTURE)
        assert n_head < got["line"] <= n_head + len(inp["lines"])


def test_fixture_values_equal_the_builders():
    """The fixture variables every case reads, as each builder set them."""
    rec = recording("expansion")
    inp = {"escape": "\\", "lines": [], "var": None}
    for t in TARGETS:
        engine, builder = split_target(t)
        df = parse(cc.expansion_dockerfile([inp], BASE, "\\"), engine=engine)
        env = evaluate(df, builder=builder, build_args=cc.EXP_BUILD_ARGS, base_env=BASE_ENV).stages[0].run_env
        assert {k: env.get(k) for k in cc.EXP_FIXTURE_VARS} == rec["targets"][t]["fixture"]


def test_recording_covers_every_case_on_every_target():
    rec = recording("expansion")
    assert len(rec["cases"]) >= 150
    for cid, case in rec["cases"].items():
        assert set(case["results"]) == set(TARGETS), cid
    current = {c["id"]: c for c in cc.expansion_cases()}
    assert set(current) == set(rec["cases"]), "re-run record_conformance.py --family expansion"
    for cid, c in current.items():
        assert rec["cases"][cid]["input"]["lines"] == c["lines"], cid


# -- the API the cascade uses -----------------------------------------------------------------
def test_process_word_defaults_to_docker_28_rules():
    env = {"F": "archive.tar.gz"}
    assert process_word("${F%.*}", env) == "archive.tar"
    with pytest.raises(ExpansionError, match="missing ':' in substitution"):
        process_word("${F%.*}", env, engine="20.10")
    assert process_words("a 'b c' \"$F d\"", env) == ["a", "b c", "archive.tar.gz d"]
    assert isinstance(lexer_for("20.10"), Lexer2010) and type(lexer_for()) is Lexer


def test_expansion_error_is_one_line_imgviz_error():
    with pytest.raises(ImgvizError) as exc:
        process_word("${UNSET:?must be set}", {})
    assert "\n" not in str(exc.value) and str(exc.value).endswith("UNSET: must be set")


@pytest.mark.parametrize("engine", ["28.5", "20.10"])
def test_deep_nesting_is_linear_not_recursive(engine):
    """3,000 nested ${...}: the builders accept it (tests/data/dockerfile/accept.json); we expand it
    without Python recursion, in time proportional to its length."""
    word = "${UNSET:-" * 3000 + "x" + "}" * 3000
    t0 = time.perf_counter()
    assert process_word(word, {}, engine=engine) == "x"
    assert time.perf_counter() - t0 < 2
    # unclosed: a one-line error naming the problem, not a RecursionError
    with pytest.raises(ExpansionError) as exc:
        process_word("${UNSET:-" * 3000 + "x", {}, engine=engine)
    assert "missing '}'" in str(exc.value) and "\n" not in str(exc.value)


def test_words_lose_their_start_under_nesting_in_28_only():
    """v0.25 shares one word buffer between nesting levels (ProcessWords only)."""
    assert process_words("x${UNSET:-b}y c", {}) == ["by", "c"]
    assert process_words("x${UNSET:-b}y c", {}, engine="20.10") == ["xby", "c"]
