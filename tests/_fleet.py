"""The test fleet: a small set of images and containers that shows every case the frames handle.

Built on a real engine from busybox-static, with both builders (where the engine has no BuildKit,
as podman, the "BuildKit" images are built by its one builder):

=====================  ==========================================================================
``iv/base:1``          busybox-static imported as a base
``iv/app:v1``          BuildKit: ENV, WORKDIR, COPY app.txt, RUN, CMD
``iv/app:v2``          the same Dockerfile after an edit of app.txt; also tagged ``iv/app:latest``
``iv/classic:1``       the classic builder (DOCKER_BUILDKIT=0): RUN, COPY, ENV, LABEL
``iv/envonly:1``       FROM iv/app:v1 + ENV only: 0 B unique
``iv/same-a:1``        COPY same.txt onto iv/base:1
``iv/same-b:1``        COPY same.txt onto iv/classic:1: same diff ID, other chain ID
``<none>``             a dangling image: iv/dangle:1 built, then built again with another RUN
container iv-writer    stopped container of iv/app:v1 that wrote 64 KiB
container iv-ping      created from iv/app:v2 with ``-e TARGET=... -e INTERVAL=...``
=====================  ==========================================================================

``record()`` saves the snapshot plus what the docker CLI printed for the same fleet, so unit tests
compare with the CLI without an engine.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from imgviz.snapshot import Snapshot
from imgviz.sources.engine import collect

FLEET_TAGS = ["iv/base:1", "iv/app:v1", "iv/app:v2", "iv/app:latest", "iv/classic:1", "iv/envonly:1",
              "iv/same-a:1", "iv/same-b:1", "iv/dangle:1"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def build_fleet(engine, workdir: Path | None = None) -> dict:
    """Build the fleet on ``engine``; returns facts the tests need (IDs of the dangling image...)."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="iv-fleet-"))
    engine.busybox_base("iv/base:1")

    app = workdir / "app"
    _write(app / "Dockerfile", "FROM iv/base:1\nENV TARGET=example.test METHOD=HEAD INTERVAL=3000\n"
                               "WORKDIR /app\nCOPY app.txt .\nRUN echo built > /app/stamp\n"
                               'CMD ["cat", "/app/app.txt"]\n')
    _write(app / "app.txt", "version one\n")
    engine.build(app, "iv/app:v1")
    _write(app / "app.txt", "version two, a little longer\n")
    engine.build(app, "iv/app:v2")
    engine.docker("tag", "iv/app:v2", "iv/app:latest")

    classic = workdir / "classic"
    _write(classic / "Dockerfile", "FROM iv/base:1\nRUN mkdir -p /srv && echo classic > /srv/c.txt\n"
                                   "COPY note.txt /srv/\nENV MODE=classic\nLABEL org.example.builder=classic\n")
    _write(classic / "note.txt", "made by the classic builder\n")
    engine.build(classic, "iv/classic:1", buildkit=False)

    envonly = workdir / "envonly"
    _write(envonly / "Dockerfile", "FROM iv/app:v1\nENV TARGET=other.test\n")
    engine.build(envonly, "iv/envonly:1")

    for name, parent in (("same-a", "iv/base:1"), ("same-b", "iv/classic:1")):
        ctx = workdir / name
        _write(ctx / "Dockerfile", f"FROM {parent}\nCOPY same.txt /same.txt\n")
        _write(ctx / "same.txt", "the same bytes on two parents\n")
        (ctx / "same.txt").touch()
        import os

        os.utime(ctx / "same.txt", (1_700_000_000, 1_700_000_000))
        engine.build(ctx, f"iv/{name}:1")

    dangle = workdir / "dangle"
    _write(dangle / "Dockerfile", "FROM iv/base:1\nRUN echo first > /f\n")
    engine.build(dangle, "iv/dangle:1")
    first = engine.docker("image", "inspect", "--format", "{{.Id}}", "iv/dangle:1").stdout.strip()
    _write(dangle / "Dockerfile", "FROM iv/base:1\nRUN echo second > /f\n")
    engine.build(dangle, "iv/dangle:1")

    engine.docker("run", "--network", "none", "--name", "iv-writer", "iv/app:v1",
                  "sh", "-c", "head -c 65536 /dev/zero > /app/data.bin")
    engine.docker("create", "--network", "none", "--name", "iv-ping", "-e", "TARGET=docker.test",
                  "-e", "INTERVAL=5000", "iv/app:v2")
    return {"dangling_id": first, "workdir": str(workdir)}


CLI_COMMANDS = {
    "image_ls": ["image", "ls", "--format", "{{json .}}"],
    "image_ls_w": ["image", "ls", "--format", "{{json .}}", "iv/a*"],
    "system_df_v": ["system", "df", "-v"],
    "system_df": ["system", "df"],
    "ps_size": ["ps", "-a", "-s", "--no-trunc", "--format", "{{json .}}"],
}
# What else the engine's own CLI says, recorded for the engine matrix (docs/engines.md); unit
# tests of the 20.10 fleet (tests/data/fleet) use CLI_COMMANDS only.
EXTRA_COMMANDS = {
    "image_ls_a": ["image", "ls", "-a", "--format", "{{json .}}"],
    "image_ls_table": ["image", "ls"],
    "image_ls_a_table": ["image", "ls", "-a"],
    "system_df_json": ["system", "df", "--format", "{{json .}}"],
    "system_df_v_json": ["system", "df", "-v", "--format", "{{json .}}"],
    "ps_size_table": ["ps", "-a", "-s"],
    "version": ["version", "--format", "{{json .}}"],
}
TREE_COMMAND = ["image", "ls", "--tree"]  # Docker 28 clients (experimental there)
# podman's own CLI, through the same service (podman --remote)
PODMAN_COMMANDS = {
    "podman images": ["images", "--format", "json"],
    "podman images -a": ["images", "-a", "--format", "json"],
    "podman images table": ["images", "-a"],
    "podman system df": ["system", "df"],
    "podman system df -v": ["system", "df", "-v"],
    "podman ps -a -s": ["ps", "-a", "-s", "--format", "json"],
}


def cli_outputs(engine, extra: bool = False) -> dict[str, str]:
    """What the engine's own docker CLI prints for the fleet: lists, df, and every image's history.

    ``extra`` adds EXTRA_COMMANDS (and ``image ls --tree`` where the client has it, podman's own
    CLI on podman); a command the client refuses is recorded with its exit status and stderr."""
    out = {key: engine.docker(*cmd).stdout for key, cmd in CLI_COMMANDS.items()}
    ids = engine.docker("image", "ls", "-q", "--no-trunc").stdout.split()
    if extra:
        ids += engine.docker("image", "ls", "-a", "-q", "--no-trunc").stdout.split()
    for image_id in sorted(set(ids)):
        out[f"history {image_id}"] = engine.docker(
            "image", "history", "--no-trunc", "--format", "{{json .}}", image_id).stdout
    if not extra:
        return out
    commands = dict(EXTRA_COMMANDS)
    if "--tree" in engine.docker("image", "ls", "--help").stdout:
        commands["image_ls_tree"] = TREE_COMMAND
        commands["image_ls_tree_a"] = [*TREE_COMMAND, "-a"]
    for key, cmd in commands.items():
        proc = engine.docker(*cmd, check=False)
        out[key] = proc.stdout if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()}"
    if hasattr(engine, "podman_remote"):
        for key, cmd in PODMAN_COMMANDS.items():
            proc = engine.podman_remote(*cmd, check=False)
            out[key] = proc.stdout if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()}"
    return out


def api_outputs(engine) -> dict:
    """Raw Engine API answers beyond what the snapshot keeps: /images/json with manifests=1 (API
    1.47+), with all=1, and /system/df with its verbose parts."""
    api = engine.api()
    try:
        version = api.version()
        out = {"version": version, "info": api.info()}
        out["images_all"] = api._result(api._get(api._url("/images/json"), params={"all": 1}), True)
        if tuple(int(x) for x in version.get("ApiVersion", "1.0").split(".")) >= (1, 47):
            out["images_manifests"] = api._result(
                api._get(api._url("/images/json"), params={"manifests": 1}), True)
        out["system_df"] = api.df()
        return out
    finally:
        api.close()


def record(engine, outdir: Path) -> Path:
    """Save the snapshot and the CLI's outputs for the engine's current state.

    Beside ``snapshot.json.gz`` and ``cli.json`` (the commands the unit tests replay), an engine of
    another kind than docker20 also gets ``api.json`` (raw answers) and the extra CLI outputs."""
    outdir.mkdir(parents=True, exist_ok=True)
    snap = collect(host=engine.host, progress=False)
    extra = getattr(engine, "kind", "docker20") != "docker20"
    cli = cli_outputs(engine, extra=extra)
    snap.source["host"] = "unix:///recorded/test-fleet.sock"
    snap.save(outdir / "snapshot.json.gz")
    (outdir / "cli.json").write_text(json.dumps(cli, indent=1, sort_keys=True))
    if extra:
        raw = json.dumps(api_outputs(engine), indent=1, sort_keys=True)
        (outdir / "api.json").write_text(raw.replace(engine.host, "unix:///recorded/test-fleet.sock"))
    return outdir


@dataclass
class Recording:
    snapshot: Snapshot
    cli: dict[str, str]


def load_recording(outdir: Path) -> Recording:
    from imgviz.sources import load

    return Recording(snapshot=load(outdir / "snapshot.json.gz"),
                     cli=json.loads((outdir / "cli.json").read_text()))


if __name__ == "__main__":
    # python -m tests._fleet [KIND...]: rebuild the fleet on a private engine of each kind and
    # re-record tests/data/fleet (docker20) or tests/data/<kind>
    import sys

    from ._engine import start_private_engine

    for kind in sys.argv[1:] or ["docker20"]:
        eng = start_private_engine(kind)
        try:
            facts = build_fleet(eng)
            folder = "fleet" if kind == "docker20" else kind
            print(record(eng, Path(__file__).parent / "data" / folder), facts)
        finally:
            eng.stop()
