"""ENV defaults, labels and -e overrides (imgviz.analysis.env) on snapshots recorded from real engines.

Every row is checked against the engine's own records (image config Env, container Config.Env),
and the workshop's cases by their exact values.
"""

from __future__ import annotations

import pytest

import imgviz
from imgviz.analysis import env
from imgviz.analysis.secrets import mask_frames
from imgviz.frames import frames


@pytest.fixture(scope="module")
def f(recorded):
    return frames(recorded.snapshot)


def _raw_env(f, image_id):
    rec = next(r for r in f.snapshot.images if r["id"] == image_id)
    return rec["inspect"]["Config"]["Env"]


def test_defaults_are_the_config_env_without_path(f):
    table = env.env_defaults(f)
    assert list(table.columns) == ["image_id", "label", "name", "default"]
    for image_id in f.images["image_id"]:
        raw = [e for e in _raw_env(f, image_id) or [] if not e.startswith("PATH=")]
        mine = table[table["image_id"] == image_id]
        assert [f"{n}={v}" for n, v in zip(mine["name"], mine["default"])] == raw
    v1 = table[table["label"] == "iv/app:v1"]
    assert list(zip(v1["name"], v1["default"])) == [("TARGET", "example.test"), ("METHOD", "HEAD"), ("INTERVAL", "3000")]
    assert len(table) == 11
    some = env.env_defaults(f, images=["iv/classic:1"], skip=())
    assert list(some["name"]) == ["PATH", "MODE"]


def test_overrides_are_what_run_e_changed(f):
    over = env.env_overrides(f)
    assert [tuple(r) for r in over[["container", "label", "name", "image_default", "value"]].itertuples(index=False)] == [
        ("iv-ping", "iv/app:latest", "TARGET", "example.test", "docker.test"),
        ("iv-ping", "iv/app:latest", "INTERVAL", "3000", "5000"),
    ]
    # the engine's word: the container runs with the value, its image sets the default
    for r in over.itertuples(index=False):
        ctr = next(c for c in f.snapshot.containers if c["id"] == r.container_id)
        assert f"{r.name}={r.value}" in ctr["inspect"]["Config"]["Env"]
        assert f"{r.name}={r.image_default}" in _raw_env(f, r.image_id)
    # a container started without -e (iv-writer) has no override
    assert "iv-writer" not in set(over["container"])


def test_demo_overrides_are_the_chapters(tmp_path):
    over = env.env_overrides(imgviz.demo())
    got = {(r.container, r.name, r.image_default, r.value) for r in over.itertuples(index=False)}
    assert {("web-ping-google", "TARGET", "blog.example.org", "google.com"),
            ("web-ping-docker", "TARGET", "blog.example.org", "docker.com"),
            ("web-ping-docker", "INTERVAL", "3000", "5000")} <= got
    # a name the image does not set is an override too, with no default
    assert ("httpcheck-report", "CHECK_REPORT", None, "/var/lib/httpcheck/report.json") in got
    assert len(over) == 8


def test_labels_and_masking(f):
    labels = env.config_labels(f)
    assert [tuple(r) for r in labels[["label", "key", "value"]].itertuples(index=False)] == [
        ("iv/classic:1", "org.example.builder", "classic"), ("iv/same-b:1", "org.example.builder", "classic")]
    demo = imgviz.demo()
    token = env.env_defaults(demo, images=["workshop/web-ping:staging"]).set_index("name").at["API_TOKEN", "default"]
    assert token == "demo-not-a-secret"
    masked = env.env_defaults(mask_frames(demo), images=["workshop/web-ping:staging"]).set_index("name")
    assert masked.at["API_TOKEN", "default"] == "********" and masked.at["TARGET", "default"] == "staging.example.invalid"
