"""podman's storage for the store tests: a fleet with what the rules must cover, a recording of its
storage files (metadata only: no layer contents) with podman's compat answers, and that recording
laid out again as a storage folder.

Recorded from a real podman 4.3.1 by ``python -m tests._podman_store OUT`` (a private podman, the
fleet of :func:`build`, a local registry): ``tests/data/podman/store.json.gz``.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from imgviz.sources.podman_store import _big_data_file

from ._fleet import build_fleet

RICH = ('FROM iv/base:1\nLABEL a=b c="d e"\nEXPOSE 80/tcp 53/udp\nVOLUME /data\nUSER 1000:1000\n'
        'STOPSIGNAL SIGINT\nHEALTHCHECK --interval=5s CMD true\nENTRYPOINT ["/bin/sh","-c"]\nCMD ["echo hi"]\n')


def build(engine, registry, workdir: Path) -> dict:
    """The test fleet, and what it lacks for podman's rules: an image with every config field the
    compat inspect shapes (labels, ports, a volume, a user, a stop signal, a healthcheck, an
    entrypoint) under two names in two repositories; an image pushed to a registry, removed and
    pulled back (its names carry the registry, its digests the pull's)."""
    facts = build_fleet(engine, workdir)
    rich = workdir / "rich"
    rich.mkdir()
    (rich / "Dockerfile").write_text(RICH)
    engine.build(rich, "iv/rich:1")
    engine.docker("tag", "iv/rich:1", "other/rich:2")
    target = registry.ref("iv/pulled:1")
    engine.docker("tag", "iv/same-a:1", target)
    engine.docker("push", target)
    engine.docker("image", "rm", target)
    engine.docker("pull", target)
    facts["pulled"] = target
    return facts


def graph_root(engine) -> tuple[str, str]:
    """(graph root, driver) as the engine's /info says."""
    api = engine.api()
    try:
        info = api.info()
    finally:
        api.close()
    return info["DockerRootDir"], info["Driver"]


def record(engine) -> dict:
    """The storage files :func:`imgviz.sources.podman_store.read_store` reads, and podman's compat
    answers for every image it holds (the list; inspect and history by ID, intermediate images too)."""
    root, driver = graph_root(engine)
    base = Path(root)
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for rel in (f"{driver}-images/images.json", f"{driver}-layers/layers.json",
                f"{driver}-containers/containers.json"):
        files[rel] = (base / rel).read_text()
    images = json.loads(files[f"{driver}-images/images.json"])
    for im in images:
        for key in im.get("big-data-names") or []:
            if key == "manifest" or key == f"sha256:{im['id']}":
                rel = f"{driver}-images/{im['id']}/{_big_data_file(key)}"
                files[rel] = (base / rel).read_text()
        lower = base / driver / im["layer"] / "lower"
        if lower.exists():
            files[f"{driver}/{im['layer']}/lower"] = lower.read_text()
            for link in lower.read_text().strip().split(":"):
                links[f"{driver}/{link}"] = os.readlink(base / driver / link)
    api = engine.api()
    try:
        answers = {"image_list": api.images(),
                   "inspect": {f"sha256:{im['id']}": api.inspect_image(f"sha256:{im['id']}") for im in images},
                   "history": {f"sha256:{im['id']}": api.history(f"sha256:{im['id']}") for im in images}}
        version = api.version()
    finally:
        api.close()
    return {"root": root, "driver": driver, "files": files, "links": links, "answers": answers,
            "podman": version.get("Version")}


def lay_out(recording: dict, where: Path) -> str:
    """The recording's storage files under ``where`` (plus the lock files podman keeps beside
    them), with the graph root's own path in the answers replaced by ``where``; returns it."""
    where.mkdir(parents=True, exist_ok=True)
    driver = recording["driver"]
    for rel, text in recording["files"].items():
        path = where / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for store in ("images", "layers", "containers"):
        (where / f"{driver}-{store}").mkdir(exist_ok=True)
        (where / f"{driver}-{store}" / f"{store}.lock").touch()
    for rel, target in recording["links"].items():
        link = where / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(target)
    return str(where)


def answers_at(recording: dict, root: str) -> dict:
    """podman's answers as they would read for a graph root at ``root`` (its paths moved there)."""
    text = json.dumps(recording["answers"]).replace(json.dumps(recording["root"])[1:-1], root)
    return json.loads(text)


def load(path: Path) -> dict:
    with gzip.open(path, "rt") as fh:
        return json.load(fh)


def main(out: str) -> None:  # pragma: no cover - run by hand to record
    import tempfile

    from ._engine import start_private_engine
    from ._registry import start_registry

    reg = start_registry()
    eng = start_private_engine("podman")
    try:
        build(eng, reg, Path(tempfile.mkdtemp(prefix="iv-store-")))
        rec = record(eng)
    finally:
        eng.stop()
        reg.stop()
    data = json.dumps(rec, sort_keys=True).encode()
    with open(out, "wb") as fh:
        fh.write(gzip.compress(data, mtime=0))
    print(f"wrote {out}: {len(rec['answers']['inspect'])} images, {len(data)} bytes")


if __name__ == "__main__":  # pragma: no cover
    import sys

    main(sys.argv[1])
