"""Checks of volumes, build cache and intermediate images against what the docker CLI printed.

Used on recordings (tests/data/*/) and live. Every expected value is the CLI's own text (compared in
the CLI's format, units.HumanSize) or the engine's raw answer; none is written by hand.
"""

from __future__ import annotations

import json
import re

from imgviz.analysis import sizes
from imgviz.units import human_size

from .._compare import parse_table


def df_rows(df_text: str) -> dict[str, dict[str, str]]:
    return {r["TYPE"]: r for r in parse_table(df_text, "TYPE")}


def _pct_text(bytes_, percent) -> str:
    return human_size(bytes_) if percent is None or str(percent) == "<NA>" else f"{human_size(bytes_)} ({int(percent)}%)"


def check_df_lines(f, df_text: str) -> int:
    """The Local Volumes and Build Cache lines of `docker system df`, cell for cell."""
    theirs = df_rows(df_text)
    ours = sizes.disk_usage(f)
    n = 0
    for kind in ("Local Volumes", "Build Cache"):
        if kind not in theirs:  # podman's own CLI has no Build Cache line
            continue
        row, mine = theirs[kind], ours.loc[kind]
        assert mine["source"] == "engine", (kind, mine)
        assert int(row["TOTAL"]) == mine["total"], (kind, row, mine)
        assert int(row["ACTIVE"]) == mine["active"], (kind, row, mine)
        assert row["SIZE"] == human_size(mine["size"]), (kind, row, mine)
        assert row["RECLAIMABLE"] == _pct_text(mine["reclaimable"], mine["reclaimable_percent"]), (kind, row, mine)
        n += 1
    return n


def _section(df_v_text: str, title: str) -> str:
    """The text of one part of `docker system df -v` (from its title to the next title)."""
    start = df_v_text.index(title)
    rest = df_v_text[start:]
    nxt = [m.start() for m in re.finditer(r"\n(?:Images|Containers|Local Volumes) space usage:|\nBuild cache usage:",
                                          rest[1:])]
    return rest[: nxt[0] + 1] if nxt else rest


def check_df_v_volumes(f, df_v_text: str) -> int:
    """Every row of df -v's Local Volumes table: name, links, size; same rows, any order."""
    part = _section(df_v_text, "Local Volumes space usage:")
    rows = parse_table(part, "VOLUME NAME")
    mine = f.volumes.set_index("name")
    assert len(rows) == len(mine), (rows, mine)
    for row in rows:
        v = mine.loc[row["VOLUME NAME"]]
        assert row["LINKS"] == ("N/A" if v["links"] is None or str(v["links"]) == "<NA>" else str(int(v["links"])))
        assert row["SIZE"] == ("N/A" if str(v["size"]) == "<NA>" else human_size(v["size"])), (row, v)
    raw = {v["Name"]: v for v in f.engine_df["volumes"]}
    for v in f.volumes.itertuples(index=False):
        usage = raw[v.name].get("UsageData") or {}
        assert (None if str(v.size) == "<NA>" else int(v.size)) == (None if usage.get("Size", -1) == -1 else usage["Size"])
    return len(rows)


def check_df_v_build_cache(f, df_v_text: str) -> int:
    """df -v's "Build cache usage" total and every record row, in the CLI's order."""
    part = _section(df_v_text, "Build cache usage:")
    total = re.search(r"Build cache usage: (\S+)", part).group(1)
    assert total == human_size(sizes.build_cache_usage(f)["size"])
    rows = parse_table(part, "CACHE ID") if "CACHE ID" in part else []
    from imgviz._commands.sizes import _cache_order

    mine = list(_cache_order(f.build_cache).itertuples(index=False))
    assert len(rows) == len(mine) == len(f.engine_df["build_cache"] or [])  # podman: none (no BuildKit)
    # a cache mount (exec.cachemount) is a mutable record: every df call counts as a use of it, so
    # its USAGE and LAST USED (and with it its place in the order) move between two calls
    mutable = {b.cache_id[:12] for b in mine if b.type == "exec.cachemount"}
    ids = lambda seq: [x for x in seq if x.rstrip("*") not in mutable]
    assert ids([r["CACHE ID"] for r in rows]) == ids([b.cache_id[:12] + ("*" if b.in_use else "") for b in mine])
    by_id = {b.cache_id[:12]: b for b in mine}
    for row in rows:
        b = by_id[row["CACHE ID"].rstrip("*")]
        assert row["CACHE TYPE"] == b.type, (row, b)
        assert row["SIZE"] == human_size(b.size, 3), (row, b)
        if b.type == "exec.cachemount":
            assert int(row["USAGE"]) >= b.usage_count, (row, b)
        else:
            assert int(row["USAGE"]) == b.usage_count, (row, b)
        assert row["SHARED"] == str(bool(b.shared)).lower(), (row, b)
    return len(rows)


def check_parents(f) -> int:
    """Every record's parents as the engine sent them (Parent, Parents or Docker 28's " Parents")."""
    raw = {b["ID"]: b for b in f.engine_df["build_cache"] or []}  # podman: none (no BuildKit)
    n = 0
    for b in f.build_cache.itertuples(index=False):
        r = raw[b.cache_id]
        sent = r.get("Parents") or r.get(" Parents") or ([r["Parent"]] if r.get("Parent") else [])
        assert list(b.parents) == list(sent), (b.cache_id, b.parents, sent)
        n += len(sent)
    return n


def image_ls_a_extra(cli: dict) -> dict[str, dict]:
    """The rows `docker image ls -a` adds to `docker image ls` (by short ID), from JSON lines."""
    rows = lambda text: {json.loads(line)["ID"]: json.loads(line) for line in text.splitlines() if line.strip()}
    return {k: v for k, v in rows(cli["image_ls_a"]).items() if k not in rows(cli["image_ls"])}


def check_intermediates(f, cli: dict, *, sizes_too: bool = True) -> int:
    """The intermediate images are the ones `docker image ls -a` adds, with its SIZE (overlay2)."""
    extra = image_ls_a_extra(cli)
    mine = f.intermediates.set_index("short_id")
    assert set(mine.index) == set(extra), (sorted(mine.index), sorted(extra))
    for short, row in extra.items():
        if sizes_too:
            assert human_size(mine.at[short, "size"], 3) == row["Size"], (short, row, mine.loc[short])
        assert row["Repository"] == "<none>"
    return len(extra)


# ------------------------------------------------------------------------------ the engine state

def _write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


#: in a RUN command: BuildKit keeps the command as a cache record's description, which must be masked
SECRET = "dftoken-not-for-reports"


def build_df_extras(engine, workdir) -> None:
    """Volumes (one a container uses, one nobody uses, one empty and labelled), a BuildKit build
    with a cache mount and a classic build (intermediate images) on ``engine``."""
    engine.busybox_base("ivdf/base:1")
    cached = workdir / "cached"
    _write(cached / "Dockerfile", "FROM ivdf/base:1\n"
                                  "RUN --mount=type=cache,target=/cache head -c 4096 /dev/zero > /cache/blob && "
                                  "cp /cache/blob /copied\nCOPY note.txt /note.txt\n"
                                  f"RUN API_TOKEN={SECRET} sh -c 'echo done > /done'\n")
    _write(cached / "note.txt", "a note\n")
    engine.build(cached, "ivdf/cached:1")
    classic = workdir / "classic"
    _write(classic / "Dockerfile", "FROM ivdf/base:1\nRUN echo one > /one\nCOPY note.txt /srv/\nENV MODE=classic\n")
    _write(classic / "note.txt", "made by the classic builder\n")
    engine.build(classic, "ivdf/classic:1", buildkit=False)

    engine.docker("volume", "create", "ivdf-data")
    engine.docker("run", "--network", "none", "--name", "ivdf-user", "-v", "ivdf-data:/data", "ivdf/base:1",
                  "sh", "-c", "head -c 100000 /dev/zero > /data/blob")
    engine.docker("volume", "create", "ivdf-spare")
    engine.docker("run", "--rm", "--network", "none", "-v", "ivdf-spare:/d", "ivdf/base:1",
                  "sh", "-c", "head -c 3000 /dev/zero > /d/x")
    engine.docker("volume", "create", "--label", "team=workshop", "ivdf-empty")


CLI = {
    "system_df": ["system", "df"],
    "system_df_v": ["system", "df", "-v"],
    "image_ls": ["image", "ls", "--format", "{{json .}}"],
    "image_ls_a": ["image", "ls", "-a", "--format", "{{json .}}"],
}


def cli_outputs(engine) -> dict[str, str]:
    return {key: engine.docker(*cmd).stdout for key, cmd in CLI.items()}


def record(engine, outdir) -> None:
    """Save the snapshot and the CLI's outputs (tests/data/dfextras/)."""
    from imgviz.sources.engine import collect

    outdir.mkdir(parents=True, exist_ok=True)
    snap = collect(host=engine.host, progress=False)
    cli = cli_outputs(engine)
    snap.source["host"] = "unix:///recorded/dfextras.sock"
    snap.save(outdir / "snapshot.json.gz")
    (outdir / "cli.json").write_text(json.dumps(cli, indent=1, sort_keys=True))


if __name__ == "__main__":  # python -m tests.analysis._df_extras: record tests/data/dfextras (as root)
    import tempfile
    from pathlib import Path

    from .._engine import start_private_engine

    eng = start_private_engine()
    try:
        build_df_extras(eng, Path(tempfile.mkdtemp(prefix="ivdf-")))
        out = Path(__file__).resolve().parents[1] / "data" / "dfextras"
        record(eng, out)
        print(out)
    finally:
        eng.stop()
