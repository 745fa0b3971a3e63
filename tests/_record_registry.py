"""Record registry data for unit tests: ``python -m tests._record_registry`` (as root).

Builds the ivreg images (tests/_ivreg.py) in a private engine, pushes them to a private
docker-registry, and records into tests/data/registry/:

- ``registry.json.gz``  the registry source's snapshot of the four images
- ``engine.json.gz``    the building engine's snapshot (uncompressed sizes)
- ``second.json.gz``    a second engine after ``docker load`` of ivreg/app:1 and a pull of other:1
- ``pull.json``         the blob digests that second engine knows, and what ``docker pull`` of
                        app:2 then printed (its ``Already exists`` / ``Pull complete`` lines)

Registry addresses are replaced by ``registry.test:5000`` so the files do not depend on a port.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from imgviz.frames import frames
from imgviz.sources import engine as engine_source
from imgviz.sources import registry as registry_source

from ._engine import start_private_engine
from ._ivreg import IMAGES, build_images
from ._registry import push, start_registry

OUT = Path(__file__).parent / "data" / "registry"
FAKE = "registry.test:5000"


def _scrub(obj, addr: str):
    text = json.dumps(obj)
    return json.loads(text.replace(addr, FAKE))


def main() -> None:
    from imgviz._commands.pull_plan import known_blob_digests

    OUT.mkdir(parents=True, exist_ok=True)
    first = start_private_engine()
    second = start_private_engine()
    reg = start_registry()
    try:
        work = Path(tempfile.mkdtemp(prefix="ivrec-"))
        build_images(first, work)
        refs = {tag: push(first, tag, reg, tag.replace("ivreg/", "rec/")) for tag in IMAGES}
        snap = registry_source.collect(list(refs.values()), progress=False)
        snap.source = _scrub(snap.source, reg.addr)
        snap.records = _scrub(snap.records, reg.addr)
        snap.save(OUT / "registry.json.gz")
        eng = engine_source.collect(host=first.host, progress=False)
        eng.source["host"] = "unix:///recorded/first.sock"
        eng.save(OUT / "engine.json.gz")

        first.docker("save", "-o", str(work / "app1.tar"), "ivreg/app:1")
        second.docker("load", "-i", str(work / "app1.tar"))
        second.docker("pull", refs["ivreg/other:1"])
        snap2 = engine_source.collect(host=second.host, progress=False)
        with registry_source.RegistryClient() as client:
            known = known_blob_digests(frames(snap2), registry_source.parse_reference(refs["ivreg/app:2"]), client)
        pulled = second.docker("pull", refs["ivreg/app:2"]).stdout
        snap2.source["host"] = "unix:///recorded/second.sock"
        snap2.records = _scrub(snap2.records, reg.addr)
        snap2.save(OUT / "second.json.gz")
        (OUT / "pull.json").write_text(json.dumps(
            _scrub({"ref": refs["ivreg/app:2"], "known_digests": known, "docker_pull_output": pulled}, reg.addr),
            indent=1, sort_keys=True))
        print(f"recorded into {OUT}")
    finally:
        reg.stop()
        second.stop()
        first.stop()


if __name__ == "__main__":
    main()
