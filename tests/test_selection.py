"""imgviz.selection: names, references, patterns and the top N, table-driven, on recorded engines.

The engine recorded in tests/data/registry/engine.json.gz pulled its images from a registry on a
port (127.0.0.1:39631/rec/app:2) and tagged them again (ivreg/app:2), so it has what the repo:tag
split and reference resolution must get right: ports, repo digests, two tags per image.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imgviz import selection
from imgviz.errors import ImageNotFound
from imgviz.frames import frames
from imgviz.rows import rows
from imgviz.sources import load

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def pulled():
    return frames(load(DATA / "registry" / "engine.json.gz"))


@pytest.mark.parametrize("name, parts, columns", [
    ("127.0.0.1:39631/rec/app:2", ("127.0.0.1:39631/rec/app", "2", None), ("127.0.0.1:39631/rec/app", "2")),
    ("127.0.0.1:39631/rec/app", ("127.0.0.1:39631/rec/app", None, None), ("127.0.0.1:39631/rec/app", "latest")),
    ("localhost:5000", ("localhost", "5000", None), ("localhost", "5000")),  # as the engine reads it
    ("app@sha256:ab", ("app", None, "sha256:ab"), ("app", "<none>")),
    ("h:1/app:v1@sha256:ab", ("h:1/app", "v1", "sha256:ab"), ("h:1/app", "v1")),
    ("busybox", ("busybox", None, None), ("busybox", "latest")),
])
def test_split_name_keeps_ports_and_digests_apart(name, parts, columns):
    assert selection.split_name(name) == parts
    assert selection.repo_tag(name) == columns


@pytest.mark.parametrize("ref, tag", [
    ("ivreg/app:2", "ivreg/app:2"),
    ("127.0.0.1:39631/rec/app:2", "ivreg/app:2"),
    ("127.0.0.1:39631/rec/base", "ivreg/base:1"),  # no tag: latest, which base does not have ...
])
def test_references_resolve_like_the_engine(pulled, ref, tag):
    images = pulled.images
    want = images[images["tags"].map(lambda t: tag in t)]["image_id"].iloc[0]
    if ref.endswith("/base"):
        with pytest.raises(ImageNotFound, match=r"^127\.0\.0\.1:39631/rec/base: no such image in this snapshot$"):
            selection.find_image(images, ref)  # ... so it is not found, as `docker image inspect` says
        return
    assert selection.find_image(images, ref) == want


def test_digests_ids_and_prefixes(pulled):
    images = pulled.images
    for rec in images.itertuples():
        (digest,) = rec.digests
        assert selection.find_image(images, digest) == rec.image_id
        assert selection.find_image(images, rec.image_id) == rec.image_id
        assert selection.find_image(images, rec.image_id[7:]) == rec.image_id
        assert selection.find_image(images, rec.short_id) == rec.image_id
        assert selection.find_image(images, "sha256:" + rec.short_id[:6]) == rec.image_id
    # the record-level form (what the CLI uses without pandas) answers the same
    plain = rows(pulled.snapshot).images
    for rec in images.itertuples():
        assert selection.find_image(plain, rec.tags[1]) == rec.image_id
    with pytest.raises(ImageNotFound, match="no such image"):
        selection.find_image(images, "127.0.0.1:39631/rec/app@sha256:" + "0" * 64)


def test_ambiguous_prefix_is_one_clear_error():
    images = pd.DataFrame({"image_id": ["sha256:abcd01", "sha256:abcd02"], "tags": [[], []], "digests": [[], []]})
    with pytest.raises(ImageNotFound, match="^abcd: ambiguous, matches 2 images$"):
        selection.find_image(images, "abcd")
    assert selection.find_image(images, "abcd02") == "sha256:abcd02"


def test_labels_and_patterns(pulled, recorded):
    labels = selection.labels(pulled.images)
    assert sorted(labels.values()) == ["127.0.0.1:39631/rec/app:1", "127.0.0.1:39631/rec/app:2",
                                       "127.0.0.1:39631/rec/base:1", "127.0.0.1:39631/rec/other:1"]
    fleet = frames(recorded.snapshot)
    dangling = fleet.images[fleet.images["dangling"]].iloc[0]
    assert selection.labels(fleet.images)[dangling["image_id"]] == f"<none>@{dangling['short_id']}"
    assert list(selection.image_labels(fleet.images)) == [selection.labels(fleet.images)[i] for i in fleet.images["image_id"]]
    # a port in the pattern is part of the name, not a tag
    mask = selection.select(pulled.images, pattern="127.0.0.1:39631/rec/a*")
    assert sorted(t[0] for t in pulled.images[mask]["tags"]) == ["127.0.0.1:39631/rec/app:1", "127.0.0.1:39631/rec/app:2"]
    assert selection.select(pulled.images, pattern="ivreg/*:1").sum() == 3  # base, app and other
    assert selection.select(pulled.images, search="OTHER").sum() == 1
    assert selection.select(pulled.images, refs=["ivreg/app:1"], pattern="ivreg/*").sum() == 1


def test_top_and_the_rest_keep_unknown_unknown():
    frame = pd.DataFrame({"name": list("abcde"), "size": pd.array([5, None, 3, 9, 1], dtype="Int64"),
                          "n": pd.array([1, 1, 1, 1, 1], dtype="Int64")})
    top, rest = selection.top_and_rest(frame, 2, "size")
    assert list(top["name"]) == ["d", "a"] and list(rest["name"]) == ["c", "e", "b"]  # unknown ranks last
    shown, total = selection.with_rest_row(frame, 2, by="size", label="name", noun="items", sums=["size", "n"])
    assert total == 5 and list(shown["name"]) == ["d", "a", "other (3 items)"]
    assert pd.isna(shown["size"].iloc[-1]) and shown["n"].iloc[-1] == 3  # one part unknown: the sum is unknown
    shown, _ = selection.with_rest_row(frame.dropna(), 2, by="size", label="name", noun="items", sums=["size"])
    assert shown["size"].iloc[-1] == 4 and selection.is_rest_label(shown["name"].iloc[-1])
    assert selection.top_and_rest(frame, None)[1].empty


def test_pick_image_takes_the_first_reference_held_else_the_biggest_tagged_image():
    f = frames(load(Path(__file__).parent.parent / "imgviz" / "data" / "demo-snapshot.json.gz"))
    v1 = selection.find_image(f.images, "workshop/web-ping:v1")
    assert selection.pick_image(f.images, "no/such:tag", "workshop/web-ping:v1", "workshop/debian:12") == v1
    # nothing named is held: the tagged image with the most layers (then the biggest) stands in
    tagged = f.images[~f.images["dangling"]]
    most = tagged.sort_values(["n_layers", "size"], ascending=False).iloc[0]
    got = selection.pick_image(f.images, "no/such:tag")
    assert got == most["image_id"] and not bool(f.images.set_index("image_id").loc[got, "dangling"])
    assert int(f.images.set_index("image_id").loc[got, "n_layers"]) == int(tagged["n_layers"].max())
    with pytest.raises(ImageNotFound, match="no/such:tag"):
        selection.pick_image(f.images.iloc[0:0], "no/such:tag")
