"""File-level analyses on layers recorded from a real engine (tests/data/files/wasteful.json.gz).

The recording holds, for every wasteful test image (tests/_files_images.py, both builders), the
tar entries of its layers as imgviz read them, the figures dive 0.13.1 exported for the same image,
and what ``docker export`` of a container of it held. Re-record with::

    python -c "from tests._engine import Engine; from tests._files_images import record, tags; \
               from pathlib import Path; record(Engine('unix:///PATH'), tags(), Path('tests/data/files/wasteful.json.gz'))"
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imgviz.analysis import files as A

from .._files_images import load_recording, ours_figures, union_listing

DOC = load_recording(Path(__file__).resolve().parent.parent / "data" / "files" / "wasteful.json.gz")
TAGS = sorted(DOC["images"])


def entries(tag: str):
    return [DOC["layers"][d] for d in DOC["images"][tag]["diff_ids"]]


def test_the_recording_covers_every_case_with_both_builders():
    from .._files_images import tags

    assert TAGS == sorted(tags())
    assert len(TAGS) == 16


@pytest.mark.parametrize("tag", TAGS)
def test_dive_figures_equal_dives_export(tag):
    ours = A.dive_entries(entries(tag))
    assert ours_figures(ours) == DOC["images"][tag]["dive"]
    assert ours["layer_sizes"] == DOC["images"][tag]["dive_layer_sizes"]


@pytest.mark.parametrize("tag", TAGS)
def test_union_equals_docker_export(tag):
    assert union_listing(entries(tag)) == DOC["images"][tag]["export"]


# what each wasteful case ships that no container sees: (layer, path, bytes, reason, hidden by)
NOT_FINAL = {
    "deleted": [(1, "/data/big.bin", 300_000, "removed", 3),
                *[(2, f"/data/tree/f{k}.txt", 10_000 * (k + 1), "removed", 4) for k in range(4)],
                (2, "/data/tree/sub/deep.txt", 7_000, "removed", 4)],
    "overwritten": [(1, "/app/file.bin", 120_000, "overwritten", 2), (2, "/app/file.bin", 80_000, "overwritten", 3)],
    "chmod": [(1, "/opt/big.bin", 300_000, "metadata", 2), (2, "/opt/big.bin", 300_000, "metadata", 3),
              (3, "/opt/big.bin", 300_000, "metadata", 5)],
    "opaque": [(1, "/o/a", 2, "removed", 2), (1, "/o/sub/b", 2, "removed", 2), (1, "/o/sub/c", 50_000, "removed", 2)],
    "hardlinks": [],  # /h/c still names the inode /h/a had: its bytes stay visible
    "symlinks": [],
    "duplicates": [],
    "retype": [(1, "/f", 5, "overwritten", 2), (1, "/r/inner/x", 2, "replaced", 2)],
}


@pytest.mark.parametrize("tag", TAGS)
def test_bytes_not_in_the_final_filesystem(tag):
    got = sorted((r["position"], r["path"], r["wasted_bytes"], r["reason"], r["by_position"])
                 for r in A.wasted_entries(entries(tag)))
    want = sorted(NOT_FINAL[tag.split("/")[1].split(":")[0]])
    assert got == want
    assert A.waste_entries(entries(tag))["shipped_not_final_bytes"] == sum(w[2] for w in want)


def _changes(tag):
    return {(r["position"], r["path"]): (r["change"], r["hidden_bytes"]) for r in A.changes_entries(entries(tag))}


@pytest.mark.parametrize("builder", ["bk", "classic"])
def test_changes_per_layer(builder):
    c = _changes(f"ivf/chmod:{builder}")
    assert c[(1, "/opt/big.bin")] == ("added", 0)
    # chmod, chown and touch each ship the whole file again with the same content
    assert [c[(p, "/opt/big.bin")] for p in (2, 3, 5)] == [("metadata", 300_000)] * 3
    assert c[(4, "/opt")] == ("metadata", 0)
    c = _changes(f"ivf/deleted:{builder}")
    assert c[(3, "/data/big.bin")] == ("removed", 300_000)
    assert c[(4, "/data/tree")] == ("removed", 107_000)
    assert c[(4, "/bin/vi")] == ("removed", 0)  # a symlink of the base
    c = _changes(f"ivf/opaque:{builder}")
    assert c[(2, "/o")] == ("modified", 50_004)  # opaque: everything below it in lower layers is hidden
    assert c[(2, "/o/new")] == ("added", 0)
    c = _changes(f"ivf/overwritten:{builder}")
    assert c[(2, "/app/file.bin")] == ("modified", 120_000)
    assert c[(3, "/app/file.bin")] == ("modified", 80_000)
    assert (4, "/app/bb") not in c  # added and removed within one step: never shipped
    c = _changes(f"ivf/symlinks:{builder}")
    assert c[(2, "/s/bb")][0] == "modified" and c[(3, "/s/dangling")][0] == "removed"


@pytest.mark.parametrize("builder", ["bk", "classic"])
def test_hard_link_keeps_the_bytes_its_first_name_lost(builder):
    u = union_listing(entries(f"ivf/hardlinks:{builder}"))
    assert "/h/a" not in u
    assert u["/h/c"][:2] == ("file", 100_000)
    assert u["/h/b"][:2] == ("file", 100_002)


def test_union_view_from_an_earlier_layer():
    at = A.union_entries(entries("ivf/deleted:bk"), upto=2)
    assert at["/data/big.bin"][0] == 1 and "/data/tree/sub/deep.txt" in at
    assert "/data/big.bin" not in A.union_entries(entries("ivf/deleted:bk"))


def test_dive_counts_every_copy_imgviz_counts_what_no_container_sees():
    # the same image, two answers: dive's 1.2 MB counts the copy the container uses too
    w = A.waste_entries(entries("ivf/chmod:bk"))
    assert w["wasted_bytes"] == 1_200_000
    assert w["shipped_not_final_bytes"] == 900_000
    # dive ignores opaque directories: the 50 kB the opaque /o hides is no waste to dive
    w = A.waste_entries(entries("ivf/opaque:bk"))
    assert (w["wasted_bytes"], w["shipped_not_final_bytes"]) == (0, 50_004)


def test_ci_rules_follow_dive():
    w = A.waste_entries(entries("ivf/chmod:bk"))
    rules = {r["rule"]: r["status"] for r in A.ci_rules(w)}
    assert rules == {"lowestEfficiency": "fail", "highestWastedBytes": "skip", "highestUserWastedPercent": "fail"}
    rules = {r["rule"]: r["status"] for r in A.ci_rules(w, lowest_efficiency=0.5, highest_wasted_bytes="2MB",
                                                           highest_user_wasted_percent="disabled")}
    assert rules == {"lowestEfficiency": "pass", "highestWastedBytes": "pass", "highestUserWastedPercent": "skip"}
    assert {r["status"] for r in A.ci_rules(w, highest_wasted_bytes="1MiB", lowest_efficiency="disabled",
                                            highest_user_wasted_percent=None)} == {"fail", "skip"}
    with pytest.raises(ValueError, match="outside 0-1"):
        A.ci_rules(w, lowest_efficiency=1.5)
    with pytest.raises(ValueError, match="not a size"):
        A.ci_rules(w, highest_wasted_bytes="lots")


def test_parse_bytes_reads_sizes_as_go_humanize():
    assert [A.parse_bytes(t) for t in ("0", "20MB", "20 mb", "20MiB", "1.5GB", "1,000 kB", "3KiB")] == \
        [0, 20_000_000, 20_000_000, 20_971_520, 1_500_000_000, 1_000_000, 3_072]


# -- frames: across images ------------------------------------------------------------------------
def _frames():
    from imgviz._files import ImageLayers, Read, to_frames

    images = [ImageLayers(img["image_id"], tag, [tag], img["diff_ids"], img["created_by"])
              for tag, img in sorted(DOC["images"].items())]
    layers = {d: DOC["layers"][d] for img in images for d in img.diff_ids}
    return to_frames(Read(images, layers, "recording"))


FS = _frames()


def _id(tag):
    return DOC["images"][tag]["image_id"]


def test_files_frame_has_the_schema_columns_and_one_row_per_layer_path():
    from imgviz._schema import FILES

    assert list(FS.files.columns) == list(FILES)
    assert not FS.files.duplicated(["diff_id", "path"]).any()
    assert FS.files["path"].str.startswith("/").all()
    assert set(FS.files["type"]) <= {"file", "dir", "symlink", "hardlink", "whiteout", "opaque", "char"}
    assert FS.files.loc[FS.files["opaque"], "path"].tolist()  # the opaque cases are there


def test_frame_level_waste_equals_the_plain_level():
    for tag in TAGS:
        r = FS.waste(tag)
        assert ours_figures(r) == DOC["images"][tag]["dive"]
    w = FS.wasted("ivf/deleted:bk")
    assert w["wasted_bytes"].sum() == 407_000 and list(w["reason"].unique()) == ["removed"]
    assert w["created_by"].str.contains("COPY").all()
    s = FS.layer_summary("ivf/opaque:classic")
    assert s.loc[2, "removed_bytes"] == 50_004 and s.loc[1, "wasted_bytes"] == 50_004


def test_duplicates_by_content():
    d = A.duplicates(FS.files, FS.layers, images=[_id("ivf/duplicates:bk")])
    top = d.iloc[0]
    # big.bin at /a, /b and twice under /c: four places, three of them extra
    assert (top["size"], top["places"], top["extra_bytes"]) == (300_000, 4, 900_000)
    assert top["paths"] == ["/a/big.bin", "/b/big.bin", "/c/copy.bin", "/c/copy2.bin"]


def test_duplicate_matrix_between_images():
    ids = [_id("ivf/duplicates:bk"), _id("ivf/deleted:bk")]
    m = A.duplicate_matrix(FS.files, FS.layers, images=ids)
    assert m.loc[ids[0], ids[0]] == 900_000
    # both carry the same 107 kB tree in layers of their own (and the busybox base is one shared layer)
    assert m.loc[ids[0], ids[1]] == m.loc[ids[1], ids[0]] == 107_000


def test_shared_savings_finds_the_same_directory_in_four_layers():
    ids = [_id(t) for t in ("ivf/duplicates:bk", "ivf/duplicates:classic", "ivf/deleted:bk", "ivf/deleted:classic")]
    s = A.shared_savings(FS.files, FS.layers, images=ids, min_size=100_000)
    # /d (duplicates) and /data (deleted) each hold only tree/: the same 107 kB in four layers
    row = s[s["paths"].map(lambda p: p == ["/d", "/data"])].iloc[0]
    assert (row["bytes"], row["files"], row["layers"], row["images"]) == (107_000, 5, 4, 4)
    assert row["saved_bytes"] == 3 * 107_000
    assert not {"/d/tree", "/data/tree", "/d/tree/sub"} & set(s["path"])  # only the topmost directory
    # big.bin under /a (two builders' layers) and /b: three layers of the two duplicates images
    row = s[s["path"] == "/a"].iloc[0]
    assert (row["paths"], row["layers"], row["saved_bytes"]) == (["/a", "/b"], 3, 600_000)
    assert s["saved_bytes"].is_monotonic_decreasing


def test_largest_dirs_per_layer():
    layer = DOC["images"]["ivf/deleted:bk"]["diff_ids"][2]
    big = A.largest_dirs(FS.files, diff_ids=[layer], top=3)
    assert big["path"].tolist() == ["/data", "/data/tree", "/data/tree/sub"]
    assert big["bytes"].tolist() == [107_000, 107_000, 7_000]
    assert A.largest_dirs(FS.files, diff_ids=[layer], depth=2)["path"].tolist() == ["/data/tree"]


def test_duplicates_need_digests():
    from imgviz.errors import ImgvizError

    bare = FS.files.assign(digest=None).astype({"digest": "string"})
    with pytest.raises(ImgvizError, match="digests=True"):
        A.duplicates(bare, FS.layers)


def test_analyses_do_not_change_their_input():
    before = FS.files.copy()
    FS.union("ivf/opaque:bk"), FS.changes("ivf/opaque:bk"), A.shared_savings(FS.files, FS.layers)
    assert FS.files.equals(before)


def test_auto_source_falls_back_to_the_demo_recording_and_says_why(tmp_path, monkeypatch):
    """``source="auto"``: imgviz.open's rule for layer contents. No engine answers here, so the
    demo's recorded files come back, with a warning naming what the engine said."""
    import imgviz

    monkeypatch.delenv("IMGVIZ_SOURCE", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.warns(UserWarning, match="demo fleet's recording.*no-engine.sock"):
        auto = imgviz.files(["workshop/web-ping:v1"], source="auto", progress=False)
    demo = imgviz.files(["workshop/web-ping:v1"], source="demo", progress=False)
    assert auto.files.equals(demo.files) and len(auto.files) > 0
    # the demo pinned (as the notebooks' tests pin it): no engine is asked, no warning
    monkeypatch.setenv("IMGVIZ_SOURCE", "demo")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pinned = imgviz.files(["workshop/web-ping:v1"], source="auto", progress=False)
    assert pinned.files.equals(demo.files)
    # the default stays the engine: no silent fallback outside "auto"
    monkeypatch.delenv("IMGVIZ_SOURCE")
    with pytest.raises(imgviz.ImgvizError, match="no-engine.sock"):
        imgviz.files(["workshop/web-ping:v1"], progress=False)
