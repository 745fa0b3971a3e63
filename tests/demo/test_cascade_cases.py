"""The cascade cases in imgviz/data/cascade stay in step with the fleet's sources, and
the outcomes recorded from the engine (observed-*.tsv) describe new/Dockerfile."""
import csv
import pathlib

import pytest

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"
FLEET = DATA / "fleet" / "web-ping"
CASES = DATA.parent / "imgviz" / "data" / "cascade"  # package data

# case -> (old Dockerfile, old app, new Dockerfile, new app), paths under data/fleet/web-ping
SOURCES = {
    "webping-edit": ("Dockerfile", "v1/app.js", "Dockerfile", "v2/app.js"),
    "webping-edit-optimized": ("Dockerfile.optimized", "v1/app.js", "Dockerfile.optimized", "v2/app.js"),
    "webping-optimize": ("Dockerfile", "v1/app.js", "Dockerfile.optimized", "v1/app.js"),
}


def dockerfile_steps(path):
    """Instructions of a Dockerfile, continuation lines joined, blanks squeezed."""
    steps, pending = [], ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = " ".join((pending + line).split())
        pending = ""
        if whole:
            steps.append(whole)
    return steps


def read_observed(case, kind):
    path = CASES / case / f"observed-{kind}.tsv"
    lines = [l for l in path.read_text().splitlines() if not l.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


@pytest.mark.parametrize("case", sorted(SOURCES))
def test_case_files_are_the_fleet_sources(case):
    old_df, old_app, new_df, new_app = SOURCES[case]
    assert (CASES / case / "old" / "Dockerfile").read_bytes() == (FLEET / old_df).read_bytes()
    assert (CASES / case / "old" / "app.js").read_bytes() == (FLEET / old_app).read_bytes()
    assert (CASES / case / "new" / "Dockerfile").read_bytes() == (FLEET / new_df).read_bytes()
    assert (CASES / case / "new" / "app.js").read_bytes() == (FLEET / new_app).read_bytes()


def test_every_case_directory_is_listed():
    on_disk = {p.name for p in CASES.iterdir() if (p / "old" / "Dockerfile").is_file()}
    assert on_disk == set(SOURCES)


@pytest.mark.parametrize("kind", ["buildkit", "classic"])
@pytest.mark.parametrize("case", sorted(SOURCES))
def test_observed_rows_follow_new_dockerfile(case, kind):
    rows = read_observed(case, kind)
    steps = dockerfile_steps(CASES / case / "new" / "Dockerfile")
    assert [int(r["step"]) for r in rows] == list(range(1, len(steps) + 1))
    assert [" ".join(r["instruction"].split()) for r in rows] == steps
    assert rows[0]["outcome"] == "base"
    allowed = {"cached", "built", "no-vertex"} if kind == "buildkit" else {"cached", "built"}
    assert {r["outcome"] for r in rows[1:]} <= allowed


def outcome(case, kind, instruction_start):
    return [r["outcome"] for r in read_observed(case, kind) if r["instruction"].startswith(instruction_start)]


def test_classic_edit_rebuilds_copy_and_everything_after_it():
    # The chapter's point: the edited app.js breaks the cache for COPY and the CMD below it.
    assert outcome("webping-edit", "classic", "ENV") == ["cached", "cached", "cached"]
    assert outcome("webping-edit", "classic", "COPY") == ["built"]
    assert outcome("webping-edit", "classic", "CMD") == ["built"]


def test_optimized_order_keeps_all_but_the_copy():
    for kind in ("classic", "buildkit"):
        rows = read_observed("webping-edit-optimized", kind)
        assert rows[-1]["instruction"].startswith("COPY") and rows[-1]["outcome"] == "built"
        assert "built" not in [r["outcome"] for r in rows[:-1]]


def test_reordering_busts_classic_but_not_buildkit():
    classic = [r["outcome"] for r in read_observed("webping-optimize", "classic")[1:]]
    assert classic == ["built"] * len(classic)
    assert outcome("webping-optimize", "buildkit", "WORKDIR") == ["cached"]
    assert outcome("webping-optimize", "buildkit", "COPY") == ["cached"]
