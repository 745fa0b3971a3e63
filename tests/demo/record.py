"""Record an embedded demo snapshot: the demo fleet (data/build_fleet.sh) on a private engine.

    sudo .venv/bin/python -m tests.demo.record docker28-containerd

starts a private engine of that kind (tests/_engine.py), builds the fleet on it with that engine's
own docker client (``FLEET_DOCKER``; on Docker 28 the 28.5 client with buildx, as its users have it),
records it with ``imgviz snapshot -o`` into ``imgviz/data/demo-snapshot-<name>.json.gz``, and what the
same client prints for it (image ls, history, system df -v, ps -s, image ls --tree) into
``tests/data/demo-<name>/cli.json``, which tests/demo/test_demo_snapshot.py compares with the frames.
The engine is stopped at the end. Nothing is masked: the fleet's values are made up.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .._engine import start_private_engine
from .._fleet import cli_outputs

ROOT = Path(__file__).resolve().parents[2]
#: engine kind -> the demo's name (``imgviz.demo(NAME)``)
NAMES = {"docker28-containerd": "containerd"}
RECORDED_HOST = "unix:///recorded/demo-fleet.sock"


def record(kind: str) -> None:
    name = NAMES[kind]
    out = ROOT / "imgviz" / "data" / f"demo-snapshot-{name}.json.gz"
    cli_dir = ROOT / "tests" / "data" / f"demo-{name}"
    eng = start_private_engine(kind)
    root = str(eng.root)  # stop() forgets it
    try:
        env = dict(eng.env(), FLEET_DOCKER=eng.cli)
        log = Path(f"/tmp/record-demo-{name}.log")
        with log.open("w") as fh:
            subprocess.run(["bash", str(ROOT / "data" / "build_fleet.sh")], env=env, stdout=fh,
                           stderr=subprocess.STDOUT, check=True)
        time.sleep(3)  # the containerd store's df can miss a snapshot right after a build (NOTES.md)
        imgviz = Path(sys.executable).with_name("imgviz")
        subprocess.run([str(imgviz), "snapshot", "-o", str(out), "--host", eng.host], check=True,
                       env={k: v for k, v in os.environ.items() if k != "DOCKER_HOST"})
        cli = cli_outputs(eng, extra=True)
        for key in [k for k in cli if k not in KEEP and not k.startswith("history ")]:
            del cli[key]
        cli_dir.mkdir(parents=True, exist_ok=True)
        (cli_dir / "cli.json").write_text(json.dumps(cli, indent=1, sort_keys=True).replace(eng.host, RECORDED_HOST))
    finally:
        eng.stop()
    # the engine's address and private folders say nothing about the fleet: one fixed name instead
    doc = json.loads(gzip.decompress(out.read_bytes()))
    text = json.dumps(doc, separators=(",", ":"), sort_keys=True)
    text = text.replace(eng.host, RECORDED_HOST).replace(root, "/recorded/engine")
    out.write_bytes(gzip.compress(text.encode(), mtime=0))
    print(f"{out}: {out.stat().st_size} bytes; {cli_dir / 'cli.json'}")


#: the CLI outputs kept beside history (the rest of tests._fleet's extra commands are not needed)
KEEP = {"image_ls", "system_df_v", "system_df", "ps_size", "image_ls_tree", "version"}

if __name__ == "__main__":
    for kind in sys.argv[1:] or ["docker28-containerd"]:
        record(kind)
