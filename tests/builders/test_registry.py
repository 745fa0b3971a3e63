"""The builders behind one interface: looked up by name and engine version, each a class of its own.

The proof that each class states its engine's rules is the scenario suite
(tests/analysis/test_cascade_scenarios.py, real builds); these pin the interface and the look-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

import imgviz.builders as builders
from imgviz.analysis.cascade import cascade
from imgviz.builders import (BUILDERS, Buildah, Builder, BuildKit, BuildKit28, Classic, Classic28, get_builder,
                             parse_version)
from imgviz.builders.explain import _Differences
from imgviz.dockerfile.build import CascadeError

INTERFACE = ("stages_to_build", "base_identity", "set_env", "scope", "dispatch_run", "dispatch_copy",
             "dispatch_workdir", "dispatch_config")


def test_names_map_to_classes():
    assert BUILDERS == ("buildkit", "classic", "buildah")
    assert type(get_builder("buildkit")) is BuildKit and type(get_builder("classic")) is Classic
    assert type(get_builder("buildah")) is Buildah
    assert type(get_builder("buildkit", "20.10.24")) is BuildKit
    b = Classic()
    assert get_builder(b) is b


@pytest.mark.parametrize("version, buildkit, classic, engine", [
    ("20.10.24", BuildKit, Classic, "20.10"),
    ("27.5.1", BuildKit, Classic, "20.10"),          # not measured: the newest rules at or below it
    ("28.5.2+dfsg4", BuildKit28, Classic28, "28.5"),  # what Debian's dockerd says in /version
    ("v28.0.0", BuildKit28, Classic28, "28.5"),
    ("29.1.0-rc.2", BuildKit28, Classic28, "28.5"),
])
def test_engine_version_picks_the_rules(version, buildkit, classic, engine):
    bk, cl = get_builder("buildkit", version), get_builder("classic", version)
    assert type(bk) is buildkit and type(cl) is classic
    assert bk.engine == cl.engine == engine == bk.context_rules.engine
    assert bk.engine_version == version and bk.rules.name == f"{engine}-buildkit"


def test_parse_version():
    assert parse_version("28.5.2+dfsg4") == (28, 5, 2) and parse_version("20.10.24") == (20, 10, 24)
    assert parse_version("v29.0") == (29, 0)


@pytest.mark.parametrize("name, version", [
    ("buildkit", "podman 4.3.1"), ("classic", "podman 4.3.1"), ("buildah", "podman 4.3.1"), ("buildah", None),
    ("buildah", "4.3.1"), ("classic", "Podman 4.9.3"),
])
def test_podman_builds_with_buildah(name, version):
    """podman's Docker-compatible /build runs buildah whatever DOCKER_BUILDKIT says, so an engine
    version naming podman (what engine_version() says for it) picks buildah's rules; buildah's
    versions are podman's and are said so (``--json``'s "engine")."""
    b = get_builder(name, version)
    assert type(b) is Buildah and b.name == "buildah"
    assert b.engine_version.startswith("podman ") and b.checked == "podman 4.3.1"
    assert b.label.startswith("buildah of podman 4.") and repr(b) == "<Buildah builder 'buildah' (podman 4.0+)>"


@pytest.mark.parametrize("name, version, message", [
    ("kaniko", None, "unknown builder 'kaniko'; use one of buildkit, classic, buildah"),
    ("buildah", "podman 3.4.4", "no buildah rules for podman 3.4.4; the oldest known are for 4.0"),
    ("buildkit", "19.03.15", "no buildkit rules for Docker 19.03.15; the oldest known are for 20.10"),
    ("classic", "twenty", "engine version 'twenty' is not a version like 20.10.24"),
])
def test_lookup_errors(name, version, message):
    with pytest.raises(CascadeError, match=message):
        get_builder(name, version)


@pytest.mark.parametrize("cls", builders._REGISTRY)
def test_every_builder_implements_the_interface(cls):
    """Each class has its own code path for every part of the interface, and every difference it
    names in explanations exists."""
    for method in INTERFACE:
        assert getattr(cls, method) is not getattr(Builder, method), (cls.__name__, method)
    assert cls.name in BUILDERS and cls.title and cls.__doc__ and cls.checked_on in cls.__doc__
    names = {n for names in cls.explained.values() for n in names} | set(cls.explained_config)
    assert names and all(callable(getattr(_Differences, n, None)) for n in names)


def test_a_newer_engine_is_a_new_class(monkeypatch, tmp_path):
    """How an engine version lands: a subclass with ``since`` and the rules that changed,
    registered; the look-up picks it for that engine and the older class for older engines."""

    class BuildKit30(BuildKit28):
        """BuildKit of an imagined Docker 30.0.0."""
        since = (30, 0)
        checked_on = "30.0.0"

    monkeypatch.setattr(builders, "_REGISTRY", builders._REGISTRY + (BuildKit30,))
    assert type(get_builder("buildkit", "30.1.0")) is BuildKit30
    assert type(get_builder("buildkit", "28.5.2")) is BuildKit28
    assert type(get_builder("buildkit")) is BuildKit


def test_each_engine_reads_with_its_own_parser(tmp_path):
    """COPY --link: an unknown flag to Docker 20.10's parser (the build fails), a copy that does
    not depend on the layers before it on Docker 28."""
    for side, n in (("plain", 1), ("old", 1), ("new", 2)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "a.txt").write_text("a\n")
        link = "" if side == "plain" else "--link "
        (tmp_path / side / "Dockerfile").write_text(f"FROM b\nRUN echo {n}\nCOPY {link}a.txt /a\nRUN cat /a\n")
    old20 = cascade(tmp_path / "plain", tmp_path / "new", "buildkit")
    assert old20.attrs["error"]["message"] == "Unknown flag: link" and old20.attrs["error"]["line"] == 3
    assert list(old20["kind"]) == ["error"]   # refused while parsing: no step runs
    with pytest.raises(CascadeError, match="the old build fails with BuildKit of Docker 20.10"):
        cascade(tmp_path / "new", tmp_path / "new", "buildkit")
    steps = cascade(tmp_path / "old", tmp_path / "new", "buildkit", engine_version="28.5.2")
    assert steps.attrs["error"] is None and steps.attrs["engine"] == "28.5.2"
    assert dict(zip(steps["line"], steps["cached"])) == {1: True, 2: False, 3: False, 4: False}
    assert "the copied layer is the old build's" in steps.loc[2, "reason"]
    classic = cascade(tmp_path / "old", tmp_path / "new", "classic", engine_version="28.5.2")
    assert dict(zip(classic["line"], classic["cached"])) == {1: True, 2: False, 3: False, 4: False}


def test_cache_model_does_not_talk_to_an_engine():
    """The cascade code imports neither the docker SDK nor httpx: engine look-ups live elsewhere."""
    code = ("import sys, imgviz.builders, imgviz.builders.explain, imgviz.dockerfile.build, "
            "imgviz.analysis.cascade, imgviz.analysis.cascade_advisor, imgviz._commands.cascade, "
            "imgviz.figures.cascade; print(sorted(m for m in ('docker', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
