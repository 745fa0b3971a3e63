"""Shared helpers of the conformance tests: load the recordings, run imgviz on a case."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "dockerfile"
TARGETS = ("20.10-buildkit", "20.10-classic", "28.5-buildkit", "28.5-classic")
BASE = "imgviz-df/busybox:base"
BASE_ENV = {"PATH": "/bin"}   # the test base is imported with ``--change 'ENV PATH=/bin'``
ENC = ("utf-8", "surrogateescape")


@lru_cache(maxsize=None)
def recording(family: str) -> dict:
    return json.loads((DATA / f"{family}.json").read_text())


def split_target(t: str) -> tuple[str, str]:
    engine, builder = t.split("-")
    return engine, builder


def core_message(msg: str) -> str:
    """The builder's reason without the wrapping each front end adds."""
    msg = msg.strip()
    for pre in ("failed to build: ", "failed to solve: ", "failed to solve with frontend dockerfile.v0: ",
                "failed to create LLB definition: ", "Error response from daemon: ", "ERROR: ",
                "failed to parse Dockerfile: ", "failed to parse dockerfile: "):
        while msg.startswith(pre):
            msg = msg[len(pre):]
    msg = re.sub(r"^dockerfile parse error (?:on )?line \d+: ", "", msg)
    # BuildKit names the context snapshot by random ids
    msg = re.sub(r"failed to calculate checksum of ref [^ ]*?::[^ :]*: ", "failed to calculate checksum of ref: ", msg)
    # a base the engine tried to fetch from Docker Hub: how this machine's network refused (a DNS
    # "no such host", a timeout, "network is unreachable") differs from run to run (seen in CI on
    # 28.5's classic builder); that it went to the registry is the point
    msg = re.sub(r'("https://registry-1\.docker\.io/[^"]*"): .*$', r"\1: (no network here)", msg)
    return msg


def materialize(root: Path, dockerfile: str | bytes, files: dict | None = None, dockerignore=None,
                dirs=(), links=None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    data = dockerfile if isinstance(dockerfile, bytes) else dockerfile.encode(*ENC)
    (root / "Dockerfile").write_bytes(data)
    for rel, content in (files or {}).items():
        rel_s = rel if isinstance(rel, str) else rel.decode(*ENC)
        p = root / os.fsdecode(rel_s.encode(*ENC))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode(*ENC) if isinstance(content, str) else content)
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    for rel, target in (links or {}).items():
        os.symlink(target, root / rel)
    if dockerignore is not None:
        (root / ".dockerignore").write_bytes(dockerignore.encode(*ENC) if isinstance(dockerignore, str)
                                             else dockerignore)
    return root
