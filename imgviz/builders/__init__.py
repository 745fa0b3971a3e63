"""The builders as their build caches see a Dockerfile: one class per builder and engine version.

=============  =====================================  ===========================================
module         class                                  rules of
=============  =====================================  ===========================================
``buildkit``   :class:`~.buildkit.BuildKit`           BuildKit of Docker 20.10 (built-in frontend)
``buildkit``   :class:`~.buildkit.BuildKit28`         BuildKit of Docker 28 (buildx, BuildKit v0.25)
``classic``    :class:`~.classic.Classic`             the classic builder of Docker 20.10
``classic``    :class:`~.classic.Classic28`           the classic builder of Docker 28
``buildah``    :class:`~.buildah.Buildah`             buildah of podman 4 (its ``/build`` too)
``_base``      :class:`~._base.Builder`, ``Walk``     the interface, and the walk that calls it
``explain``    :func:`~.explain.explain`              why a step hits or misses, in words
=============  =====================================  ===========================================

:func:`get_builder` maps what a user types (``"buildkit"``, ``"classic"``) and an engine version
to the class whose rules apply: the class of that name with the newest ``since`` at or below the
version (Docker 20.10 to 27: the 20.10 classes; 28 and later: the 28 classes).  An engine version
naming podman (``"podman 4.3.1"``, what :func:`imgviz.sources.engine.engine_version` says for
podman's Docker-compatible API) picks buildah whatever the name: podman builds every Dockerfile
with buildah, ``DOCKER_BUILDKIT`` or not.  ``buildah``'s versions are podman's.  A new builder, or
a new engine version whose rules differ, is a new class (often a subclass overriding a method or
two) added to ``_REGISTRY``; nothing else asks which builder runs.

>>> from imgviz.builders import get_builder
>>> get_builder("classic")
<Classic builder 'classic' (Docker 20.10+)>
>>> get_builder("buildkit", "28.5.2+dfsg4")
<BuildKit28 builder 'buildkit' (Docker 28.0+)>
>>> get_builder("classic", "podman 4.3.1")
<Buildah builder 'buildah' (podman 4.0+)>
"""

from __future__ import annotations

import re

from ..dockerfile.build import CascadeError
from ._base import Builder, State, Step, Walk
from .buildah import Buildah
from .buildkit import BuildKit, BuildKit28
from .classic import Classic, Classic28

__all__ = ["BUILDERS", "BuildKit", "BuildKit28", "Buildah", "Builder", "Classic", "Classic28",
           "DEFAULT_ENGINE_VERSION", "State", "Step", "Walk", "get_builder", "parse_version"]

# every builder class, oldest engine first per name
_REGISTRY: tuple[type[Builder], ...] = (BuildKit, Classic, BuildKit28, Classic28, Buildah)
BUILDERS = tuple(dict.fromkeys(cls.name for cls in _REGISTRY))
# the engine the rules were checked on when no version is given
DEFAULT_ENGINE_VERSION = "20.10.24"


def parse_version(text: str) -> tuple[int, ...]:
    """``"28.5.2+dfsg4"``, ``"v20.10.24"``, ``"29.0.0-rc.1"`` -> ``(28, 5, 2)`` ... (what /version says)."""
    core = re.split(r"[-+~]", str(text).strip().lstrip("v"), maxsplit=1)[0]
    parts = core.split(".")[:3]
    if not parts or not all(p.isdigit() for p in parts):
        raise CascadeError(f"engine version {text!r} is not a version like 20.10.24")
    return tuple(int(p) for p in parts)


def get_builder(builder: "str | Builder" = "buildkit", engine_version: str | None = None) -> Builder:
    """The builder called *builder* with the rules of engine *engine_version*.

    Parameters
    ----------
    builder : a name from :data:`BUILDERS` (or a :class:`Builder`, returned as it is)
    engine_version : Docker Engine version (``"20.10.24"``); default
        :data:`DEFAULT_ENGINE_VERSION`.  The class whose ``since`` is the newest at or below it
        applies.  ``"podman X"`` (podman's /version) picks buildah with podman X's rules, and
        ``buildah``'s versions are podman's (default 4.3.1).

    Raises
    ------
    CascadeError : unknown name, or an engine older than every class of that name
    """
    if isinstance(builder, Builder):
        return builder
    text = str(engine_version or "").strip()
    if text.lower().startswith("podman"):
        # podman's /build runs buildah whatever DOCKER_BUILDKIT says: its rules are buildah's
        builder, text = "buildah", text[len("podman"):].strip()
    classes = [cls for cls in _REGISTRY if cls.name == builder]
    if not classes:
        raise CascadeError(f"unknown builder {builder!r}; use one of {', '.join(BUILDERS)}")
    oldest = min(classes, key=lambda cls: cls.since)
    engine = oldest.engine_name
    text = text or (DEFAULT_ENGINE_VERSION if engine == "Docker" else oldest.checked_on)
    version = parse_version(text)
    fitting = [cls for cls in classes if cls.since <= version]
    if not fitting:
        raise CascadeError(f"no {builder} rules for {engine} {text}; "
                           f"the oldest known are for {'.'.join(map(str, oldest.since))}")
    return max(fitting, key=lambda cls: cls.since)(text)
