"""Checks of the sizes and sharing analyses against what the docker CLI printed for the same engine.

Used on the recording (tests/data/fleet) and live. Every expected number comes from the CLI's
text (compared in the CLI's own format) or the engine's raw bytes, never from a hand-written value.
"""

from __future__ import annotations

import pandas as pd

from imgviz.analysis import sharing, sizes
from imgviz.units import human_size

from .._compare import _storage, json_lines, parse_table


def df_reclaimable_text(bytes_, percent) -> str:
    """RECLAIMABLE cell the CLI prints: ``1.984MB (99%)``, without a percentage when SIZE is 0."""
    return human_size(bytes_) if percent is None or percent != percent else f"{human_size(bytes_)} ({percent}%)"


def check_image_sizes(f, df_v_text: str) -> int:
    """image_sizes() equals every image row of `docker system df -v` and the engine's raw bytes."""
    from imgviz.sources.engine_model import model_of_frames
    from imgviz.units import df_image_size_precision

    model = model_of_frames(f)
    digits = df_image_size_precision(model.version if model is not None and model.engine == "Docker Engine" else None)
    table = sizes.image_sizes(f).set_index("short_id")
    rows = parse_table(df_v_text, "REPOSITORY")
    assert len(rows) == len(table)
    for row in rows:
        mine = table.loc[row["IMAGE ID"]]
        assert row["SIZE"] == human_size(mine["size"], digits), (row, mine["size"])
        assert row["SHARED SIZE"] == human_size(mine["shared_size"]), (row, mine["shared_size"])
        assert row["UNIQUE SIZE"] == human_size(mine["unique_size"]), (row, mine["unique_size"])
        assert int(row["CONTAINERS"]) == mine["containers"]
        raw = f.engine_df["images"][mine["image_id"]]
        assert (mine["size"], mine["shared_size"]) == (raw["Size"], raw["SharedSize"])
        assert mine["unique_size"] == raw["Size"] - raw["SharedSize"]
        assert mine["containers"] == raw["Containers"]
        assert mine["size_source"] == "engine"
    return len(rows)


def check_disk_usage(f, df_text: str) -> None:
    """disk_usage() gives the Images and Containers lines of `docker system df`, cell for cell."""
    theirs = {r["TYPE"]: r for r in parse_table(df_text, "TYPE")}
    ours = sizes.disk_usage(f)
    for kind in ("Images", "Containers"):
        row, mine = theirs[kind], ours.loc[kind]
        assert int(row["TOTAL"]) == mine["total"], (kind, row, mine)
        assert int(row["ACTIVE"]) == mine["active"], (kind, row, mine)
        assert row["SIZE"] == human_size(mine["size"]), (kind, row, mine)
        pct = None if mine["reclaimable_percent"] is None or str(mine["reclaimable_percent"]) == "<NA>" \
            else int(mine["reclaimable_percent"])
        assert row["RECLAIMABLE"] == df_reclaimable_text(mine["reclaimable"], pct), (kind, row, mine)
    assert ours.at["Images", "size"] == f.engine_df["layers_size"]


def check_totals(f, cli: dict) -> dict:
    """totals() agrees with the CLI's df, df -v and image ls outputs; returns the values."""
    t = sizes.totals(f)["value"]
    df_rows = {r["TYPE"]: r for r in parse_table(cli["system_df"], "TYPE")}
    assert human_size(t["physical"]) == df_rows["Images"]["SIZE"]
    assert t["physical"] == f.engine_df["layers_size"]
    assert t["writable_layers"] == sum(c.get("SizeRw", 0) for c in f.engine_df["containers"].values())
    assert human_size(t["writable_layers"]) == df_rows["Containers"]["SIZE"]
    assert t["images"] == int(df_rows["Images"]["TOTAL"])
    assert t["active_images"] == int(df_rows["Images"]["ACTIVE"])
    # reported: one `docker image ls` row per tag, each with its image's size
    ls_rows = json_lines(cli["image_ls"])
    assert t["tags"] == len(ls_rows)
    by_short = f.images.set_index("short_id")["size"]
    assert t["reported"] == sum(int(by_short[r["ID"]]) for r in ls_rows)
    assert all(human_size(by_short[r["ID"]], 3) == r["Size"] for r in ls_rows)
    assert t["logical"] == sum(raw["Size"] for raw in f.engine_df["images"].values())
    assert t["saved_by_sharing"] == t["logical"] - t["physical"]
    dangling_rows = [r for r in parse_table(cli["system_df_v"], "REPOSITORY") if r["REPOSITORY"] == "<none>"]
    # the fleet leaves a dangling image, but on the containerd store a rebuild that moves a tag
    # removes the old image (docs/engines.md): none there
    assert t["dangling_images"] == len(dangling_rows) >= (0 if _storage(f) == "containerd" else 1)
    # a dangling image no container uses frees at least its own UNIQUE SIZE (engine's bytes);
    # a single one frees exactly that. Not on the containerd store: there UNIQUE (Size - SharedSize)
    # counts content blobs other images share, which a removal keeps (test_whatif_live proves what
    # it frees there by a real removal)
    if _storage(f) == "containerd":
        return dict(t)
    uniques = [f.engine_df["images"][i]["Size"] - f.engine_df["images"][i]["SharedSize"]
               for i in f.images.loc[f.images["dangling"], "image_id"]
               if f.engine_df["images"][i]["Containers"] == 0]  # `docker image prune` skips those in use
    assert t["dangling_freed"] >= sum(uniques)
    if len(uniques) == 1:
        assert t["dangling_freed"] == uniques[0]
    return dict(t)


def check_sharing_matrix(f, metadata: dict | None = None) -> int:
    """Pair bytes equal the bytes of common chain IDs; each image's engine SHARED SIZE is its row max.

    ``metadata`` (podman): image ID -> bytes its engine size counts beyond its layers (config and
    manifest, its images.json); podman's SHARED SIZE follows its parent-image rule (checked against
    its own CLI in tests/_podman_checks.py), not this one."""
    m = sharing.sharing_matrix(f)
    # Docker 28's graph driver counts the intermediate images image ls hides as users of a layer too
    hidden = sizes.hidden_layer_holders(f)
    with_hidden = sizes.per_image_sizes(f.layers, hidden).set_index("image_id")["shared_size"]
    chains = f.layers.groupby("image_id")["chain_id"].agg(set)
    size_of = f.layers.drop_duplicates("chain_id").set_index("chain_id")["size"]
    ids = list(m.index)
    for a in ids:
        for b in ids:
            common = chains[a] & chains[b]
            assert m.at[a, b] == int(size_of[list(common)].sum()) if common else m.at[a, b] == 0, (a, b)
            assert m.at[a, b] == m.at[b, a]
    for a in ids:
        others = m.loc[a].drop(a)
        if metadata is not None:
            assert m.at[a, a] + metadata[a] == f.images.set_index("image_id").at[a, "size"], a
            continue
        engine_shared = f.engine_df["images"][a]["SharedSize"] if f.engine_df else f.images.set_index(
            "image_id").at[a, "shared_size"]
        row_max = int(others.max()) if len(others) else 0
        # the largest overlap with another listed image, or more where an intermediate image holds more
        assert row_max == engine_shared or (not hidden.empty and row_max < engine_shared), a
        assert int(with_hidden[a]) == engine_shared, a
        # the layer rule's size (image ls SIZE on a graph driver; without content blobs on containerd)
        assert m.at[a, a] == f.images.set_index("image_id").at[a, "size_of_layers"]
        if _storage(f) != "containerd":
            assert m.at[a, a] == f.images.set_index("image_id").at[a, "size"]
    return len(ids) ** 2


def check_tree(f, metadata: dict | None = None) -> None:
    """Every image is a path through the tree; roots hold physical bytes; a diff on two parents is flagged.

    ``metadata`` (podman): image ID -> bytes its engine size counts beyond its layers."""
    tree = sharing.layer_tree(f).set_index("chain_id")
    assert tree.index.is_unique
    for image_id, rows in f.layers.groupby("image_id"):
        path = list(rows.sort_values("position")["chain_id"])
        for k, chain in enumerate(path):
            node = tree.loc[chain]
            if k:
                assert node["parent_chain_id"] == path[k - 1]
            else:
                assert pd.isna(node["parent_chain_id"])
            assert image_id in node["image_ids"]
        # the layer rule's size: image ls SIZE itself on a graph driver; on the containerd store
        # image ls SIZE adds content blobs (checked in _compare.check_derived_sizes_equal_engine)
        assert tree.at[path[-1], "chain_size"] == f.images.set_index("image_id").at[image_id, "size_of_layers"]
        if metadata is not None:
            assert tree.at[path[-1], "chain_size"] + metadata[image_id] == \
                f.images.set_index("image_id").at[image_id, "size"]
    roots = tree[tree["parent_chain_id"].isna()]
    distinct = int(f.layers.drop_duplicates("chain_id")["size"].sum())
    assert int(roots["subtree_size"].sum()) == distinct
    if _storage(f) == "containerd":
        # LayersSize = every snapshot + every content blob (see _compare.check_df_summary)
        assert distinct <= f.engine_df["layers_size"]
    else:
        assert distinct == f.engine_df["layers_size"]
    assert (tree["shared"] == (tree["n_images"] > 1)).all()
