"""What the builders know about a FROM image, read from an engine.

The two builders identify a base differently (checked on Docker 20.10):

* classic: by image ID (the config digest): a base re-imported with another
  label or ENV is a new parent, every step misses;
* BuildKit: by the chain ID of its layers (``RootFS.DiffIDs``) when the config
  lists layers; the config's Env, User, WorkingDir and Shell enter later keys
  through state only.  A base whose config changed but whose layers did not
  still gives cache hits for COPY and WORKDIR.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["BaseImage", "chain_id", "inspect_bases"]


@dataclass(frozen=True)
class BaseImage:
    ref: str
    image_id: str
    chain_id: str
    env: tuple = ()
    user: str = ""
    workdir: str = ""
    shell: tuple = ()


def chain_id(diff_ids: list[str]) -> str:
    """OCI chain ID: ``C1 = D1``, ``Cn = sha256(C(n-1) + " " + Dn)``."""
    chain = ""
    for d in diff_ids:
        chain = d if not chain else "sha256:" + hashlib.sha256(f"{chain} {d}".encode()).hexdigest()
    return chain


def inspect_bases(refs, docker_host: str | None = None) -> dict[str, BaseImage]:
    """Inspect *refs* on the engine at *docker_host* (default: the environment's).

    References the engine does not have are left out (the prediction then
    identifies them by their text).
    """
    import docker

    kwargs = {"version": "auto"}
    if docker_host:
        kwargs["base_url"] = docker_host
    api = docker.APIClient(**kwargs) if docker_host else docker.from_env(version="auto").api
    out = {}
    try:
        for ref in refs:
            if ref in out or ref == "scratch":
                continue
            try:
                info = api.inspect_image(ref)
            except docker.errors.ImageNotFound:
                continue
            cfg = info.get("Config") or {}
            out[ref] = BaseImage(
                ref=ref,
                image_id=info["Id"],
                chain_id=chain_id((info.get("RootFS") or {}).get("Layers") or []) or info["Id"],
                env=tuple(cfg.get("Env") or ()),
                user=cfg.get("User") or "",
                workdir=cfg.get("WorkingDir") or "",
                shell=tuple(cfg.get("Shell") or ()),
            )
    finally:
        api.close()
    return out


def image_history(ref: str, docker_host: str | None = None):
    """History of image *ref* on the engine as a frame (``index`` 0 = oldest, ``size``, ``created_by``).

    Raises :class:`~imgviz.errors.ImageNotFound` when the engine has no such image."""
    import docker
    import pandas as pd

    from ..errors import ImageNotFound

    api = docker.APIClient(base_url=docker_host, version="auto") if docker_host else \
        docker.from_env(version="auto").api
    try:
        try:
            entries = api.history(ref)
        except docker.errors.ImageNotFound:
            raise ImageNotFound(f"image {ref!r} is not in the engine") from None
    finally:
        api.close()
    entries = list(reversed(entries))
    return pd.DataFrame({
        "index": range(len(entries)),
        "created_by": [e.get("CreatedBy", "") for e in entries],
        "size": pd.array([int(e.get("Size", 0)) for e in entries], dtype="Int64"),
    })
