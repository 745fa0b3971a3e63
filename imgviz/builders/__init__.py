"""The builders as their build caches see a Dockerfile: one class per builder and engine version.

=============  =====================================  ===========================================
module         class                                  rules of
=============  =====================================  ===========================================
``buildkit``   :class:`~.buildkit.BuildKit`           BuildKit of Docker 20.10 (built-in frontend)
``classic``    :class:`~.classic.Classic`             the classic builder of Docker 20.10
``_base``      :class:`~._base.Builder`, ``Walk``     the interface, and the walk that calls it
``explain``    :func:`~.explain.explain`              why a step hits or misses, in words
=============  =====================================  ===========================================

:func:`get_builder` maps what a user types (``"buildkit"``, ``"classic"``) and an engine version
to the class whose rules apply.  A new builder, or a new engine version whose rules differ, is a
new class (often a subclass overriding a method or two) added to ``_REGISTRY``; nothing else asks
which builder runs.

>>> from imgviz.builders import get_builder
>>> get_builder("classic")
<Classic builder 'classic' (Docker 20.10+)>
"""

from __future__ import annotations

from ..dockerfile.build import CascadeError
from ._base import Builder, State, Step, Walk
from .buildkit import BuildKit
from .classic import Classic

__all__ = ["BUILDERS", "BuildKit", "Builder", "Classic", "DEFAULT_ENGINE_VERSION", "State", "Step", "Walk",
           "get_builder"]

# every builder class, oldest engine first per name
_REGISTRY: tuple[type[Builder], ...] = (BuildKit, Classic)
BUILDERS = tuple(dict.fromkeys(cls.name for cls in _REGISTRY))
# the engine the rules were checked on when no version is given
DEFAULT_ENGINE_VERSION = "20.10.24"


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in str(text).lstrip("v").split("-")[0].split(".")[:3])
    except ValueError:
        raise CascadeError(f"engine version {text!r} is not a version like 20.10.24") from None


def get_builder(builder: "str | Builder" = "buildkit", engine_version: str | None = None) -> Builder:
    """The builder called *builder* with the rules of engine *engine_version*.

    Parameters
    ----------
    builder : a name from :data:`BUILDERS` (or a :class:`Builder`, returned as it is)
    engine_version : Docker Engine version (``"20.10.24"``); default
        :data:`DEFAULT_ENGINE_VERSION`.  The class whose ``since`` is the newest at or below it
        applies.

    Raises
    ------
    CascadeError : unknown name, or an engine older than every class of that name
    """
    if isinstance(builder, Builder):
        return builder
    classes = [cls for cls in _REGISTRY if cls.name == builder]
    if not classes:
        raise CascadeError(f"unknown builder {builder!r}; use one of {', '.join(BUILDERS)}")
    version = _version(engine_version or DEFAULT_ENGINE_VERSION)
    fitting = [cls for cls in classes if cls.since <= version]
    if not fitting:
        oldest = min(cls.since for cls in classes)
        raise CascadeError(f"no {builder} rules for Docker {engine_version}; "
                           f"the oldest known are for {'.'.join(map(str, oldest))}")
    return max(fitting, key=lambda cls: cls.since)()
