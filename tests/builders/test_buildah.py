"""buildah's rules in words: what the explanation says where buildah reuses a step although an input
changed.  The hits themselves are proven on podman 4.3.1 by the scenario suite (arg-global-expansion,
run-mount-bind-edit, arg-edit-unreferenced, arg-value-removed); these pin the reasons given for them."""

from __future__ import annotations

import pytest

from imgviz.analysis.cascade import cascade

from ..cascade_scenarios import SCENARIOS, runner


def _predict(tmp_path, name, builder="buildah"):
    sc = SCENARIOS[name]
    subs = {"{BASE}": "base:1", "{BASE2}": "base:2"}
    old, new = runner.with_bases(sc["old"], subs), runner.with_bases(sc["new"], subs)
    runner.materialize(old, tmp_path / "old", {}, runner.T_OLD)
    runner.materialize(new, tmp_path / "new", runner.new_mtimes(old, new), runner.T_NEW)
    steps = cascade(tmp_path / "old", tmp_path / "new", builder)
    return {int(r.line): (r.cached, r.reason) for r in steps.itertuples()}


def test_env_text_kept_but_expanding_otherwise_is_reused_and_said(tmp_path):
    steps = _predict(tmp_path, "arg-global-expansion")
    cached, reason = steps[5]   # ENV WHERE=/opt/${TAG:-none}, TAG x -> y
    assert cached is True and "expands to other values" in reason and "old values" in reason
    assert steps[7][0] is False and "build args" in steps[7][1]


def test_bind_mounted_files_changed_yet_reused(tmp_path):
    cached, reason = _predict(tmp_path, "run-mount-bind-edit")[3]
    assert cached is True and "--mount binds changed" in reason


@pytest.mark.parametrize("name, line, cached, words", [
    ("arg-edit-unreferenced", 2, True, "same instruction"),      # ARG VERSION=1.0 -> 2.0: the names are the key
    ("arg-value-removed", 2, False, "X -> none"),                # ARG X=1 -> ARG X
    ("env-legacy-form-same-value", 2, False, "as written"),     # ENV GREETING hello -> ENV GREETING=hello
])
def test_arg_and_env_keys(tmp_path, name, line, cached, words):
    got, reason = _predict(tmp_path, name)[line]
    assert got is cached and words in reason, reason
