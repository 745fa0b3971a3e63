"""Checks that frames say exactly what the docker CLI printed for the same engine state.

Used twice: on the recording in tests/data/fleet (no engine needed) and live on a fresh engine.
Every check compares our numbers with the CLI's text (formatted by the CLI's own rule) or the
engine's raw bytes; none compares with a value written by hand.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from imgviz.analysis.listing import history_table, image_list
from imgviz.analysis.sizes import hidden_layer_holders, per_image_sizes
from imgviz.frames import Frames
from imgviz.units import human_size


def parse_table(text: str, header_start: str) -> list[dict[str, str]]:
    """Rows of a CLI table, cut at the header's column offsets (tabwriter aligns them)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    header = lines[start]
    # column names are words joined by single spaces; columns are 3+ spaces apart
    found = list(re.finditer(r"\S+(?: \S+)*", header))
    names = [m.group(0) for m in found]
    offsets = [m.start() for m in found]
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        cells = [line[offsets[k]: offsets[k + 1] if k + 1 < len(offsets) else None].strip()
                 for k in range(len(offsets))]
        rows.append(dict(zip(names, cells)))
    return rows


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def check_df_images(f: Frames, df_v_text: str) -> int:
    """Every image row of `docker system df -v` equals our images frame; returns rows compared."""
    from imgviz.sources.engine_model import model_of_frames
    from imgviz.units import df_image_size_precision

    model = model_of_frames(f)
    digits = df_image_size_precision(model.version if model is not None and model.engine == "Docker Engine" else None)
    rows = parse_table(df_v_text, "REPOSITORY")
    by_short = f.images.set_index("short_id")
    assert len(rows) == len(f.images), (len(rows), len(f.images))
    for row in rows:
        img = by_short.loc[row["IMAGE ID"]]
        assert row["SIZE"] == human_size(img["size"], digits), (row, img["size"])
        assert row["SHARED SIZE"] == human_size(img["shared_size"]), (row, img["shared_size"])
        assert row["UNIQUE SIZE"] == human_size(img["unique_size"]), (row, img["unique_size"])
        assert int(row["CONTAINERS"]) == img["containers"], row
        if row["REPOSITORY"] == "<none>":
            assert img["dangling"]
        else:
            assert f"{row['REPOSITORY']}:{row['TAG']}" in img["tags"]
    return len(rows)


def _storage(f: Frames) -> str:
    from imgviz.analysis.what_if import storage_of
    from imgviz.sources.engine_model import model_of_frames

    return storage_of(model_of_frames(f))


def _content_blobs(f: Frames) -> int | None:
    """Bytes of the distinct content blobs (by digest) the listed images reference and the store
    holds, from the recorded content store (None when it was not readable)."""
    content = (f.snapshot.records.get("content") if f.snapshot is not None else None) or {}
    if not content.get("images"):
        return None
    blobs = {}
    for image_id in f.images["image_id"]:
        for b in content["images"].get(image_id) or []:
            if b.get("present"):
                blobs[b["digest"]] = int(b["size"])
    return sum(blobs.values())


def fleet_images(f: Frames) -> int:
    """Images the test fleet (tests/_fleet.py) leaves: 9, of them one dangling; on the containerd
    store the rebuild that moves iv/dangle:1 removes the old image, so 8."""
    return 8 if _storage(f) == "containerd" else 9


def check_df_summary(f: Frames, df_text: str) -> None:
    """`docker system df` Images line: TOTAL, and SIZE (the engine's LayersSize) by the store's rule.

    Graph driver: LayersSize = bytes of the distinct layers (chain IDs) of our layers frame.
    containerd store (moby 28.5 ``daemon/containerd/service.go`` ImageDiskUsage): LayersSize = the
    usage of *every* snapshot the snapshotter holds + every distinct content blob of every image;
    the images' layers are only part of the snapshots (containers' init and writable snapshots, the
    classic builder's leftover init snapshots and BuildKit's working snapshots are the rest, and no
    API names them), so the layers and the blobs must fit inside it."""
    rows = {r["TYPE"]: r for r in parse_table(df_text, "TYPE")}
    images = rows["Images"]
    assert int(images["TOTAL"]) == len(f.images)
    layers_size = f.engine_df["layers_size"]
    assert images["SIZE"] == human_size(layers_size), (images, layers_size)
    physical = int(f.layers.drop_duplicates("chain_id")["size"].sum())
    if _storage(f) == "containerd":
        blobs = _content_blobs(f)
        assert physical + (blobs or 0) <= layers_size, (physical, blobs, layers_size)
    else:
        assert physical == layers_size


def check_derived_sizes_equal_engine(f: Frames) -> None:
    """The engine's per-image numbers, derived again from our layers by the documented rule.

    Every store: ``size_of_layers`` = the layer rule's size, and the layer rule's shared size =
    the engine's SharedSize = ``shared_size`` (on the containerd store too: moby counts only the
    snapshots of chain IDs another listed image uses; Docker 28's graph driver counts the
    intermediate images ``docker image ls`` hides too: ``hidden_layer_holders``). Graph driver: the engine's Size is the layer
    rule's. containerd store: Size = ``content_size`` + ``unpacked_size`` (``?manifests=1``), and
    ``unpacked_size`` = ``size_of_layers`` but for an image whose chain holds a layer the classic
    builder made with a container (RUN): that layer's snapshot has the build container's init
    snapshot as parent (moby ``image_commit.go`` applyDiffLayer), which the Unpacked walk counts and
    no history row names, so Unpacked is more."""
    derived = per_image_sizes(f.layers, hidden_layer_holders(f)).set_index("image_id")
    containerd = _storage(f) == "containerd"
    for img in f.images.itertuples(index=False):
        engine = f.engine_df["images"][img.image_id]
        got = derived.loc[img.image_id] if img.image_id in derived.index else None
        size = int(got["size"]) if got is not None else 0
        shared = int(got["shared_size"]) if got is not None else 0
        assert size == img.size_of_layers, (img.image_id, size, img.size_of_layers)
        assert shared == engine["SharedSize"] == img.shared_size, (img.image_id, shared, engine["SharedSize"])
        assert engine["Size"] == img.size, (img.image_id, engine["Size"], img.size)
        if not containerd:
            assert size == img.size, (img.image_id, size, engine["Size"])
            continue
        assert img.size == img.content_size + img.unpacked_size, (img.image_id, img.size, img.content_size,
                                                                   img.unpacked_size)
        mine = f.layers[f.layers["image_id"] == img.image_id]
        classic_run = ((mine["instruction"] == "RUN") & (mine["comment"].fillna("") != "buildkit.dockerfile.v0")).any()
        # exact per snapshot in test_unpacked_size_walks_snapshot_parents_to_the_classic_builders_init_snapshot;
        # here: more for a classic RUN, equal for BuildKit layers on an imported base, never less (CI's
        # session engine held a classic-built image without a RUN whose walk had an init snapshot too)
        classic_any = (mine.sort_values("position")["comment"].fillna("") != "buildkit.dockerfile.v0").iloc[1:].any()
        if classic_run:
            assert img.unpacked_size > size, (img.image_id, img.unpacked_size, size)
        elif classic_any:
            assert img.unpacked_size >= size, (img.image_id, img.unpacked_size, size)
        else:
            assert img.unpacked_size == size, (img.image_id, img.unpacked_size, size)


def check_image_ls(f: Frames, ls_json: str, pattern: str | None = None, whole_images: bool = False) -> int:
    """`docker image ls [PATTERN] --format json` rows equal our image_list rows (as a set).

    ``whole_images``: the engine's list answers a reference filter with every tag of an image one
    tag matches (podman's compat API; Docker's daemon keeps the matching tags only), and the CLI
    prints them all: only its rows whose name the pattern matches are compared, as Docker shows."""
    theirs = {(r["Repository"], r["Tag"], r["ID"], r["Size"]) for r in json_lines(ls_json)}
    if whole_images and pattern is not None:
        from imgviz.analysis.listing import matches

        theirs = {t for t in theirs if matches(pattern, f"{t[0]}:{t[1]}")}
    ours = {(r.repository, r.tag, r.short_id, human_size(r.size, 3))
            for r in image_list(f.images, pattern).itertuples(index=False)}
    assert ours == theirs, (ours ^ theirs)
    return len(theirs)


def check_history(f: Frames, image_id: str, history_json: str) -> int:
    """`docker image history --no-trunc` rows equal our history rows, newest first."""
    theirs = json_lines(history_json)
    ours = history_table(f.history, image_id)
    assert len(ours) == len(theirs), (image_id, len(ours), len(theirs))
    for mine, row in zip(ours.itertuples(index=False), theirs):
        assert mine.entry_id == row["ID"], (mine.entry_id, row["ID"])
        assert (mine.created_by or "") == row["CreatedBy"], (mine.created_by, row["CreatedBy"])
        assert human_size(mine.size, 3) == row["Size"], (mine.created_by, mine.size, row["Size"])
        assert (mine.comment or "") == row["Comment"]
        assert mine.created == pd.Timestamp(row["CreatedAt"]), (mine.created, row["CreatedAt"])
    return len(theirs)


def check_containers(f: Frames, ps_json: str) -> int:
    """`docker ps -a -s` SIZE ("65.5kB (virtual 1.98MB)") equals size_rw / size_root_fs."""
    rows = json_lines(ps_json)
    by_id = f.containers.set_index("container_id")
    assert len(rows) == len(f.containers)
    for row in rows:
        c = by_id.loc[row["ID"]]
        rw = human_size(c["size_rw"], 3)
        virtual = human_size(c["size_root_fs"], 3)
        assert row["Size"] == f"{rw} (virtual {virtual})", (row["Size"], rw, virtual)
        assert row["State"] == c["state"]
        assert row["Names"] in c["names"]
    return len(rows)
