"""The builders behind one interface: looked up by name and engine version, each a class of its own.

The proof that each class states its engine's rules is the scenario suite
(tests/analysis/test_cascade_scenarios.py, real builds); these pin the interface and the look-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

import imgviz.builders as builders
from imgviz.analysis.cascade import cascade
from imgviz.builders import BUILDERS, Builder, BuildKit, Classic, get_builder
from imgviz.builders.explain import _Differences
from imgviz.dockerfile.build import CascadeError

INTERFACE = ("stages_to_build", "base_identity", "set_env", "dispatch_run", "dispatch_copy", "dispatch_workdir",
             "dispatch_config")


def test_names_map_to_classes():
    assert BUILDERS == ("buildkit", "classic")
    assert type(get_builder("buildkit")) is BuildKit and type(get_builder("classic")) is Classic
    assert type(get_builder("buildkit", "20.10.24")) is BuildKit
    b = Classic()
    assert get_builder(b) is b


@pytest.mark.parametrize("name, version, message", [
    ("kaniko", None, "unknown builder 'kaniko'; use one of buildkit, classic"),
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
    assert cls.name in BUILDERS and cls.title and cls.__doc__ and ".".join(map(str, cls.since)) in cls.__doc__
    names = {n for names in cls.explained.values() for n in names} | set(cls.explained_config)
    assert names and all(callable(getattr(_Differences, n, None)) for n in names)


def test_a_newer_engine_is_a_new_class(monkeypatch, tmp_path):
    """How issue 10 lands: a subclass with ``since`` and the rules that changed, registered; the
    look-up picks it for that engine and the older class for older engines."""

    class BuildKit28(BuildKit):
        since = (28, 0)

        def unsupported(self, ins):
            return ""   # heredocs and COPY --link build with 28's built-in frontend

    monkeypatch.setattr(builders, "_REGISTRY", builders._REGISTRY + (BuildKit28,))
    assert type(get_builder("buildkit", "28.5.2")) is BuildKit28
    assert type(get_builder("buildkit", "20.10.24")) is BuildKit
    assert type(get_builder("buildkit")) is BuildKit
    for side in ("old", "new"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "a.txt").write_text("a\n")
        (tmp_path / side / "Dockerfile").write_text("FROM b\nCOPY --link a.txt /a\n")
    assert "frontend 1.4+" in cascade(tmp_path / "old", tmp_path / "new", "buildkit").loc[1, "warning"]
    newer = cascade(tmp_path / "old", tmp_path / "new", get_builder("buildkit", "28.5.2"))
    assert newer.loc[1, "warning"] == "" and newer.loc[1, "cached"] is True and newer["builder"].iloc[0] == "buildkit"


def test_cache_model_does_not_talk_to_an_engine():
    """The cascade code imports neither the docker SDK nor httpx: engine look-ups live elsewhere."""
    code = ("import sys, imgviz.builders, imgviz.builders.explain, imgviz.dockerfile.build, "
            "imgviz.analysis.cascade, imgviz.analysis.cascade_advisor, imgviz._commands.cascade, "
            "imgviz.figures.cascade; print(sorted(m for m in ('docker', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
