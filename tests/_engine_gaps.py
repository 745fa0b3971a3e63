"""Per engine kind: the engine-facing tests that do not hold there yet, and why (issue 10, phase 1).

Each entry is a measured failure of an existing test on one engine kind, found by running the
suite there (docs/engines.md has the numbers behind each reason). conftest.py turns them into
xfail marks: the test still runs on that engine and must fail; ``strict`` ones fail the run once
they pass (phase 2 made them hold: delete the entry). Entries marked not strict depend on timing or
load (they were seen failing, and may pass). ``CANNOT`` lists tests that cannot hold on an engine
by the engine's nature: they are skipped there with the reason.

Some gaps are the engine's nature and stay (``BY_NATURE``): a source that is not the engine cannot
give the number that engine's storage makes (the containerd store's snapshot disk usage in 4 KiB
blocks, podman's stored tar lengths and manifests); imgviz says which rule its derived numbers
follow instead. They stay strict xfails, so the difference itself is checked on every run.

Keys are test function names; values map an engine kind to a reason, or to {parameter: reason}
keyed by a parameter's value ("NAME-BUILDER" for scenarios, "*" for any value).
"""

from __future__ import annotations

# -- reasons shared by several tests -------------------------------------------------------------
C8D_SIZE = ("containerd store: an image's Size (image ls, /system/df) is content blobs + unpacked snapshots "
            "(3.43 MB for a 1.24 MB image), not the sum of its layers; imgviz's layer rule gives the unpacked "
            "part only")
C8D_HISTORY_SIZES = ("containerd store: layer sizes are snapshot disk usage (4 KiB blocks: a 100000-byte file "
                     "is 118784), not the file bytes a load/pull of the tar gives")
PODMAN_DF_ARCHIVE = ("the test names images by compat /system/df RepoTags, which podman gives as the tag alone "
                     "('1': `docker save 1` fails, 'invalid reference format'), and compares the archive's derived "
                     "sizes (the files' bytes, Docker's rule) with podman's, which are uncompressed tar sizes plus "
                     "config and manifest (PODMAN_SIZES): podman's own df is proven by test_live_sizes_equal_system_df")
PODMAN_SIZES = ("podman sizes a layer by its uncompressed tar (10240 for a tar of 29 file bytes; Docker: the "
                "files' bytes), and an image by layers + config + manifest")

#: the reasons that are the engine's nature: they stay, checked as strict xfails
BY_NATURE = (C8D_SIZE, C8D_HISTORY_SIZES, PODMAN_DF_ARCHIVE, PODMAN_SIZES)

GAPS: dict[str, dict[str, object]] = {
    # tests/analysis/test_sizes_live.py, test_sizes_cli.py
    "test_sizes_derived_from_a_docker_save_archive_equal_the_engine": {"docker28-containerd": C8D_SIZE,
                                                                       "podman": PODMAN_DF_ARCHIVE},
    # this test checks sizes.what_if_totals (the layer rule) and overlay2's layerdb; the per-engine what-if
    # (imgviz.analysis.what_if, `imgviz what-if`) is proven on every kind by test_whatif_live
    "test_layer_rule_replays_the_engine_on_an_awkward_tar": {"docker28-containerd": C8D_HISTORY_SIZES},
    "test_buildkit_symlinks_diverge_until_loaded_or_pulled": {"docker28-containerd": C8D_HISTORY_SIZES},
    # tests/analysis/test_pull_live.py
    # tests/sources/test_engine_live.py
    # (Docker 28 counting intermediate images in SharedSize is imgviz's rule now: sizes.hidden_layer_holders)
    # tests/sources/test_archive_live.py
    # tests/sources/test_conformance.py
    "test_uncompressed_sizes_on_request_equal_the_engine": {"docker28-containerd": {"*": C8D_HISTORY_SIZES},
                                                            "podman": {"*": PODMAN_SIZES}},
    "test_engine_inference_on_ambiguous_history": {"docker28-containerd": C8D_HISTORY_SIZES},
    # tests/sources/test_registry_live.py, test_registry_faults.py: no gap left (image IDs by the
    # engine's storage, media types as each engine pushes them, lists written through the registry API)
    # tests/analysis/test_files_live.py (issue 13's files frame)
    # tests/sources/test_files_registry.py, tests/test_startup.py
    # tests/notebooks, tests/report: no gap left (the notebook-04 "fallback" entries went on 2026-12-03:
    # open("auto") waits for a slow engine since 4e8ce47, and the test joins each cell's stdout, which
    # the kernel may send cut mid-line; they passed in every CI run kept since)
}

# What an engine cannot do by its nature: the test is skipped there, with this reason.
CANNOT: dict[str, dict[str, str]] = {
    "test_what_if_equals_real_removal": {
        "docker28-containerd": "it proves the layer rule (imgviz.analysis.sizes.what_if_totals) against LayersSize, "
                               "and the containerd store's LayersSize also counts content blobs and BuildKit's own "
                               "snapshots, and its fleet has no dangling image; imgviz's per-engine answer there "
                               "(analysis.what_if.removal, `imgviz what-if`, the figure, the dashboard) is proven "
                               "by tests/analysis/test_whatif_live.py"},
    "test_same_size_same_mtime_is_flagged": {"podman": "it asserts what BuildKit does; podman 4.3 has no BuildKit"},
    "test_buildkit_symlinks_diverge_until_loaded_or_pulled": {
        "podman": "it builds with BuildKit; podman 4.3 has no BuildKit"},
}


def _pick(entry, params: dict):
    if isinstance(entry, dict):
        keys = [f"{params.get('name')}-{params.get('builder')}"] + [params.get(k) for k in PARAMS]
        for key in keys:
            if key in entry:
                return entry[key]
        return entry.get("*")
    return entry


PARAMS = ("builder", "name", "source", "which", "kind")


def gap_for(test: str, kind: str, params: dict) -> tuple[str, bool] | None:
    """(reason, strict) when ``test`` is known not to hold on ``kind`` yet, else None."""
    entry = _pick(GAPS.get(test, {}).get(kind), params)
    if entry is None:
        return None
    reason, strict = entry if isinstance(entry, tuple) else (entry, True)
    return (f"by the engine's nature: {reason}" if reason in BY_NATURE else reason), strict


def cannot(test: str, kind: str) -> str | None:
    """Why ``test`` cannot hold on ``kind`` by the engine's nature, else None."""
    return CANNOT.get(test, {}).get(kind)
