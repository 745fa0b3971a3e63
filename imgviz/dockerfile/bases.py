"""What the builders know about a FROM image (read from an engine by
:func:`imgviz.sources.engine.inspect_bases`).

The two builders identify a base differently (checked on Docker 20.10):

* classic: by image ID (the config digest): a base re-imported with another
  label or ENV is a new parent, every step misses;
* BuildKit: by the chain ID of its layers (``RootFS.DiffIDs``) when the config
  lists layers; the config's Env, User, WorkingDir and Shell enter later keys
  through state only.  A base whose config changed but whose layers did not
  still gives cache hits for COPY and WORKDIR.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BaseImage", "history_frame"]


@dataclass(frozen=True)
class BaseImage:
    ref: str
    image_id: str
    chain_id: str
    env: tuple = ()
    user: str = ""
    workdir: str = ""
    shell: tuple = ()


def history_frame(entries: list[dict]):
    """An image's history as the cascade reads it: ``index`` (0 = oldest), ``created_by``, ``size``.

    ``entries`` is the engine's ``/images/{ref}/history`` answer, newest first, as
    :func:`imgviz.sources.engine.image_history` returns it.
    """
    import pandas as pd

    entries = list(reversed(entries))
    return pd.DataFrame({
        "index": range(len(entries)),
        "created_by": [e.get("CreatedBy", "") for e in entries],
        "size": pd.array([int(e.get("Size", 0)) for e in entries], dtype="Int64"),
    })
