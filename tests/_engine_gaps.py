"""Per engine kind: the engine-facing tests that do not hold there yet, and why (issue 10, phase 1).

Each entry is a measured failure of an existing test on one engine kind, found by running the
suite there (docs/engines.md has the numbers behind each reason). conftest.py turns them into
xfail marks: the test still runs on that engine and must fail; ``strict`` ones fail the run once
they pass (phase 2 made them hold: delete the entry). Entries marked not strict depend on timing or
load (they were seen failing, and may pass). ``CANNOT`` lists tests that cannot hold on an engine
by the engine's nature: they are skipped there with the reason.

Keys are test function names; values map an engine kind to a reason, or to {parameter: reason}
keyed by a parameter's value ("NAME-BUILDER" for scenarios, "*" for any value).
"""

from __future__ import annotations

# -- reasons shared by several tests -------------------------------------------------------------
D28_HIDDEN_SHARING = ("28.5 counts as shared a layer only an untagged intermediate image of the classic builder "
                      "also holds (imgviz-cascade/cli-classic:old: SharedSize 1987490 = base + its 5000-byte COPY; "
                      "imgviz's largest overlap with a listed image is 1982490)")
C8D_SIZE = ("containerd store: an image's Size (image ls, /system/df) is content blobs + unpacked snapshots "
            "(3.43 MB for a 1.24 MB image), not the sum of its layers; imgviz's layer rule gives the unpacked "
            "part only")
C8D_LAYERS_SIZE = ("containerd store: LayersSize is every content blob + every snapshot (BuildKit's own "
                   "snapshots too), so removing an image frees its blobs as well as its layers")
C8D_HISTORY_SIZES = ("containerd store: layer sizes are snapshot disk usage (4 KiB blocks: a 100000-byte file "
                     "is 118784), not the file bytes a load/pull of the tar gives")
C8D_IMAGE_ID = ("containerd store: the image ID is the manifest/index digest, not the config digest, and a "
                "build pushes an OCI index (image + attestation manifest), not a Docker v2 manifest")
C8D_INDEX_PUSH = ("containerd store: pushed build results are OCI indexes with an attestation manifest; "
                  "`docker manifest create` refuses them ('is a manifest list')")
C8D_PULL = ("containerd store: `docker pull` prints no line for a layer whose content it holds, and 'Already "
            "exists' then 'Pull complete' for one it unpacks from a known blob; this test reads those lines "
            "(its registry has no access log) and wants moby's overlay2 actions, where imgviz plans by the "
            "content store (test_pull_live and test_pull_uncertain_live prove that plan by the registry's log)")
C8D_NO_DANGLING = ("containerd store: a rebuild that moves a tag leaves no dangling <none> image (the old "
                   "image is gone), the fleet's dangling case does not exist there")
C8D_SAVE_GZIP = ("containerd store: `docker save` holds the compressed layer blobs (gzip, 1083356 bytes for the "
                 "base) where the test expects the uncompressed tar (2129920)")
PODMAN_DF_ARCHIVE = ("the test names images by compat /system/df RepoTags, which podman gives as the tag alone "
                     "('1': `docker save 1` fails, 'invalid reference format'), and compares the archive's derived "
                     "sizes (the files' bytes, Docker's rule) with podman's, which are uncompressed tar sizes plus "
                     "config and manifest (PODMAN_SIZES): podman's own df is proven by test_live_sizes_equal_system_df")
PODMAN_SIZES = ("podman sizes a layer by its uncompressed tar (10240 for a tar of 29 file bytes; Docker: the "
                "files' bytes), and an image by layers + config + manifest")
PODMAN_PULL = ("podman pull (compat) says 'Already exists' for a pushed imported base it still holds and "
               "'Download complete' for every layer it built; this test reads those lines and wants moby's "
               "actions, where imgviz says 'uncertain' for a layer podman keeps")
PODMAN_PUSH = ("podman pushes OCI media types (tar+gzip, oci manifest) where the test expects Docker v2; "
               "`docker manifest push` of its images fails ('manifest blob unknown')")
PODMAN_SAVE_STREAM = ("podman's compat `docker save` stream does not carry the layers under the names imgviz's "
                      "engine-files reader looks for ('layer sha256:fd1a... of ivf/deleted:classic was not in the "
                      "engine's stream'): files, waste and dive comparisons cannot be read there")
NOTEBOOK_FALLBACK = ("notebook 04 printed 'Source: embedded demo snapshot' on this engine (seen under load: "
                     "open_source falls back when the engine is slow to answer)")

GAPS: dict[str, dict[str, object]] = {
    # tests/analysis/test_sizes_live.py, test_sizes_cli.py
    # not strict, as test_live_frames_equal_cli: a fresh fleet holds, the CI session's engine does not
    "test_live_sharing": {"docker28": (D28_HIDDEN_SHARING, False)},
    "test_sizes_derived_from_a_docker_save_archive_equal_the_engine": {"docker28-containerd": C8D_SIZE,
                                                                       "podman": PODMAN_DF_ARCHIVE},
    # this test checks sizes.what_if_totals (the layer rule) and overlay2's layerdb; the per-engine what-if
    # (imgviz.analysis.what_if, `imgviz what-if`) is proven on every kind by test_whatif_live
    "test_what_if_equals_real_removal": {"docker28-containerd": C8D_LAYERS_SIZE},
    "test_layer_rule_replays_the_engine_on_an_awkward_tar": {"docker28-containerd": C8D_HISTORY_SIZES},
    "test_buildkit_symlinks_diverge_until_loaded_or_pulled": {"docker28-containerd": C8D_HISTORY_SIZES},
    # tests/analysis/test_pull_live.py
    "test_plan_matches_a_real_pull_from_an_htpasswd_registry": {"docker28-containerd": C8D_PULL,
                                                                "podman": PODMAN_PULL},
    # tests/sources/test_engine_live.py
    # on the session's engine, once other tests have built with the classic builder (a fresh fleet holds)
    "test_live_frames_equal_cli": {"docker28": (D28_HIDDEN_SHARING, False)},
    "test_live_dangling_and_second_tag": {"docker28-containerd": C8D_NO_DANGLING},
    # tests/sources/test_archive_live.py
    # tests/sources/test_conformance.py
    "test_same_layers_and_history_as_the_engine": {"docker28-containerd": {"registry": C8D_IMAGE_ID,
                                                                           "archive": C8D_IMAGE_ID},
                                                   },
    "test_uncompressed_sizes_on_request_equal_the_engine": {"docker28-containerd": {"*": C8D_HISTORY_SIZES},
                                                            "podman": {"*": PODMAN_SIZES}},
    "test_engine_inference_on_ambiguous_history": {"docker28-containerd": C8D_HISTORY_SIZES},
    # tests/sources/test_registry_live.py, test_registry_faults.py
    "test_open_reads_registry_references": {"docker28-containerd": C8D_IMAGE_ID},
    "test_pushed_images_read_back_like_the_engine": {"docker28-containerd": C8D_IMAGE_ID, "podman": PODMAN_PUSH},
    "test_compressed_sizes_equal_blob_heads": {"docker28-containerd": C8D_IMAGE_ID},
    "test_manifest_list_platform_choice_and_attestation_entry": {"docker28-containerd": C8D_INDEX_PUSH,
                                                                 "podman": PODMAN_PUSH},
    "test_oci_manifest_and_oci_index_written_by_skopeo": {"docker28-containerd": C8D_INDEX_PUSH,
                                                          "podman": PODMAN_PUSH},
    "test_wrong_manifest_digest": {"podman": PODMAN_PUSH},
    # tests/analysis/test_files_live.py (issue 13's files frame)
    # tests/sources/test_files_registry.py, tests/test_startup.py
    "test_registry_zstd_layers_equal_the_engines": {"docker28-containerd": C8D_SAVE_GZIP},
    # tests/notebooks, tests/report
    "test_notebooks_run_on_a_live_engine": {"docker28-containerd": (NOTEBOOK_FALLBACK, False),
                                            "podman": (NOTEBOOK_FALLBACK, False)},
}

# What an engine cannot do by its nature: the test is skipped there, with this reason.
CANNOT: dict[str, dict[str, str]] = {
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
    return entry if isinstance(entry, tuple) else (entry, True)


def cannot(test: str, kind: str) -> str | None:
    """Why ``test`` cannot hold on ``kind`` by the engine's nature, else None."""
    return CANNOT.get(test, {}).get(kind)
