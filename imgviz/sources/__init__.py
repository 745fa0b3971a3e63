"""Sources: where images are read from, each turned into the same :class:`~imgviz.snapshot.Snapshot`.

One module per medium, each with the same small interface (``collect(...) -> Snapshot``) and
each importing none of the others:

``engine``    the Docker Engine API (docker SDK low-level client); also the base-image and
              history look-ups the build-cache prediction needs
``registry``  the OCI Distribution API (httpx), manifests and configs without pulling
``archive``   ``docker save`` tars and OCI image layouts, read in place

What they share is written once, in private modules they all use the same way:

``_oci``      media types, platform choice, attestation filter, digest checks (whole and
              streaming), bounded JSON parsing, chain IDs
``_layer``    the streaming layer reader (a blob in, verified tar entries out)
``_replay``   the engine client that answers from a recorded snapshot
``_open``     :func:`open` (what a user's words mean), :func:`load`, the embedded demo
``_check``    :func:`check_source`, the invariants every source's snapshot keeps

A new medium is a new module here that returns the same records (see imgviz.snapshot) and passes
:func:`check_source`. ``docker`` and ``httpx`` are imported only under this package, and nothing
here imports pandas.

The names below are imported on first use, as :mod:`imgviz`'s are: a command that asks a live
engine about one image imports :mod:`._open` and :mod:`.engine`, not :mod:`._check` or the others.
"""

from __future__ import annotations

from .. import _lazy

#: public name -> the private module that defines it
_LAZY = {
    "check_source": "._check",
    "DEMO_SNAPSHOT": "._open", "DEMOS": "._open", "SOURCE_ENV": "._open", "Opened": "._open",
    "demo_snapshot": "._open", "describe": "._open", "load": "._open", "open": "._open",
    "engine_image_id": "._oci", "image_ids": "._oci",
}


__getattr__ = _lazy.exports(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["DEMO_SNAPSHOT", "DEMOS", "SOURCE_ENV", "Opened", "check_source", "demo_snapshot", "describe", "engine_image_id",
           "image_ids", "load", "open"]
