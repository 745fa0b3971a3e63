"""Image sizes by the engine's rules: per image, totals, `docker system df`, and what-if removal.

The rules are the ones the Docker engine applies in ``/images/json`` and ``/system/df``:

- size        = sum of the sizes of the image's layers (every layer of its chain);
- shared size = sum of the sizes of the image's layers whose chain ID is used by more than one
  of the images considered (this is ``docker system df -v`` SHARED SIZE);
- unique size = size - shared size (``docker system df -v`` UNIQUE SIZE).

A layer is identified by its chain ID, not its diff ID: the same diff on another parent is another
layer on disk, and is not shared.

Every function here is pure: frames in, a new frame out, nothing printed or read. Where the source
gave engine-computed numbers (``images.size_source == "engine"``, ``Frames.engine_df``) they are
used and the output says ``source == "engine"``; otherwise the same rule is applied to the layers
and the output says ``"derived"``. Derived layer sizes are those an engine reports after loading or
pulling the layers (:func:`imgviz.sources.archive.layer_stats`); for BuildKit-built layers with
symlinks the engine that built them reports less, by the symlinks' target lengths.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from ..rows import derive_image_sizes
from ..selection import image_labels, repo_tag, resolve_images, select


def per_image_sizes(layers: pd.DataFrame, holders: pd.DataFrame | None = None) -> pd.DataFrame:
    """Size, shared size and unique size of every image, derived from its layers.

    Rule: :func:`imgviz.rows.derive_image_sizes` (the engine's): size = bytes of every layer of
    the image; shared = bytes of its layers (by chain ID) that another image uses too; unique =
    size - shared; all three unknown (NA) for an image with a layer of unknown size.

    Parameters
    ----------
    layers : DataFrame
        The ``layers`` frame (columns ``image_id``, ``chain_id``, ``size``).
    holders : DataFrame, optional
        ``image_id``, ``chain_id`` of images the engine counts as users of a layer without listing
        them (:func:`hidden_layer_holders`: Docker 28's intermediate images); no rows of their own.

    Returns
    -------
    DataFrame
        One row per image: ``image_id``, ``size``, ``shared_size``, ``unique_size`` (Int64 bytes;
        NA for an image with a layer of unknown size).
    """
    extra = () if holders is None or holders.empty else zip(holders["image_id"], holders["chain_id"])
    derived = derive_image_sizes(zip(layers["image_id"], layers["chain_id"], layers["size"]), extra)
    out = pd.DataFrame({
        "image_id": pd.Series(list(derived), dtype="string"),
        "size": pd.Series([pd.NA if s is None else s for s, _ in derived.values()], dtype="object").astype("Int64"),
        "shared_size": pd.Series([pd.NA if s is None else s for _, s in derived.values()],
                                 dtype="object").astype("Int64"),
    })
    out["unique_size"] = out["size"] - out["shared_size"]
    return out


# ---------------------------------------------------------------------------------- distinct layers

def shared_counts_hidden_images(frames) -> bool:
    """Whether the engine's SHARED SIZE counts the images ``docker image ls`` hides.

    Rule, read in moby's image list and measured: Docker 20.10 (graph driver) counts a layer's
    users among the images it lists, so a layer only an intermediate image also holds is unique;
    Docker 28 counts every image in its store (``docker image ls -a``: the classic builder's
    intermediate images too), so that layer is shared (measured on 28.5.2 with overlay2: an image
    whose last layer an intermediate step's image also holds reports it in SharedSize). The
    containerd store counts the listed images (measured on 28.5.2). Engines from 21 to 27 were not
    measured: from 23 on they are taken as 28 (an assumption, not checked on those versions).
    """
    from ..sources.engine_model import model_of_frames

    model = model_of_frames(frames)
    if model is None or model.engine != "Docker Engine" or model.storage != "graphdriver":
        return False
    try:
        major = int(str(model.version or "").split(".")[0])
    except ValueError:
        return False
    return major >= 23


def hidden_layer_holders(frames) -> pd.DataFrame:
    """The layers the engine's intermediate images hold, where its SHARED SIZE counts them.

    An intermediate image (``frames.intermediates``: a history entry naming an image ID the list
    does not have) holds the layers of the image whose history names it, up to that entry. Empty
    unless :func:`shared_counts_hidden_images`.

    Returns
    -------
    DataFrame
        ``image_id`` (the intermediate image), ``chain_id``, ``size``, one row per layer it holds.
    """
    cols = ["image_id", "chain_id", "size"]
    hist = frames.history
    if hist.empty or not shared_counts_hidden_images(frames):
        return pd.DataFrame(columns=cols)
    listed = set(frames.images["image_id"])
    rows = []
    chains = {image_id: g.sort_values("position")[["chain_id", "size"]].values.tolist()
              for image_id, g in frames.layers.groupby("image_id")}
    for image_id, g in hist.groupby("image_id"):
        chain = chains.get(image_id, [])
        held = 0
        for h in g.sort_values("index").itertuples(index=False):
            if not bool(h.empty_layer):
                held += 1
            step = h.entry_id if isinstance(h.entry_id, str) else ""
            if not step or step == "<missing>":
                continue
            step = step if step.startswith("sha256:") else f"sha256:{step}"
            if step in listed:
                continue
            rows.extend((step, c, size) for c, size in chain[:held])
    return pd.DataFrame(rows, columns=cols).drop_duplicates(["image_id", "chain_id"]).reset_index(drop=True)


def distinct_layers(layers: pd.DataFrame) -> pd.DataFrame:
    """One row per chain ID (first seen), taking a known size when any image knows it.

    A chain ID names the same bytes in every image, so its size is the same wherever it is known;
    a source may know it for one image and not another (NA).
    """
    if layers.empty or not layers["size"].isna().any():
        return layers.drop_duplicates("chain_id")
    order = layers["size"].isna().to_numpy().argsort(kind="stable")
    first_known = layers.iloc[order].drop_duplicates("chain_id")
    return first_known.sort_index(kind="stable")


def _lists_by(keys, values) -> dict:
    """``{key: [values in first-seen order]}``: a fast groupby-to-list (pass unique pairs)."""
    out: dict = {}
    for k, v in zip(keys, values):
        lst = out.get(k)
        if lst is None:
            out[k] = [v]
        else:
            lst.append(v)
    return out


# ----------------------------------------------------------------------------------- per image

def image_sizes(frames, *, pattern: str | None = None) -> pd.DataFrame:
    """Per image: SIZE, SHARED SIZE, UNIQUE SIZE and CONTAINERS of ``docker system df -v``.

    Rule: size = bytes of every layer of the image; shared = bytes of its layers (by chain ID)
    that at least one *other* image of the whole snapshot also uses; unique = size - shared.
    Sharing is always counted against every image of the snapshot, also when ``pattern`` shows
    only some of them (that is what the engine does too).

    Parameters
    ----------
    frames : Frames
    pattern : str, optional
        Keep only images with a tag matching this ``docker image ls`` pattern (``'w*'``);
        dangling images are then left out, as the CLI does.

    Returns
    -------
    DataFrame
        ``image_id``, ``short_id``, ``label``, ``tags``, ``dangling``, ``size``, ``shared_size``,
        ``unique_size``, ``containers``, ``n_layers``, ``size_source`` (``'engine'`` or
        ``'derived'``); largest unique size first.
    """
    images = frames.images
    out = pd.DataFrame({
        "image_id": images["image_id"], "short_id": images["short_id"], "label": image_labels(images),
        "tags": images["tags"], "dangling": images["dangling"], "size": images["size"],
        "shared_size": images["shared_size"], "unique_size": images["unique_size"],
        "containers": images["containers"], "n_layers": images["n_layers"],
        "size_source": images["size_source"],
    })
    if pattern:
        out = out[select(images, pattern=pattern)]
    return out.sort_values(["unique_size", "size", "label"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)


# -------------------------------------------------------------------------------------- totals

def _physical_derived(layers: pd.DataFrame):
    distinct = distinct_layers(layers)
    if distinct["size"].isna().any():
        return pd.NA
    return int(distinct["size"].sum())


def _active_state(state) -> bool:
    # the 20.10 CLI counts a container as active when its state says running, paused or restarting
    s = str(state or "")
    return "running" in s or "paused" in s or "restarting" in s


def disk_usage(frames) -> pd.DataFrame:
    """The four rows of ``docker system df`` (Images, Containers, Local Volumes, Build Cache), in bytes.

    Rules (the docker CLI's, ``cli/command/system/df.go`` and ``cli/command/formatter/disk_usage.go``
    of 20.10 and 28.5):

    - Images TOTAL: number of images; ACTIVE: images with at least one container;
      SIZE: bytes of distinct layers (the engine's ``LayersSize``);
      RECLAIMABLE: SIZE minus, for every image with containers, its size - shared size
      (an image whose sizes are unknown is skipped, as the CLI skips -1).
    - Containers TOTAL: number of containers; ACTIVE: running, paused or restarting;
      SIZE: sum of writable layers (``SizeRw``); RECLAIMABLE: writable bytes of the inactive ones.
    - Local Volumes TOTAL: volumes; ACTIVE: volumes some container uses (LINKS > 0); SIZE: sum of
      the measured sizes (a size the engine did not measure counts 0, as the CLI skips -1);
      RECLAIMABLE: those of volumes no container uses.
    - Build Cache TOTAL: cache records; ACTIVE: records in use; SIZE: bytes of the records that are
      not shared (a shared record's bytes are an image's layer or another record's, counted there);
      RECLAIMABLE: SIZE minus the unshared records in use. The CLI prints no percentage here.
    - ``reclaimable_percent`` = reclaimable * 100 // size (integer division, as Go does), NA when
      size is 0 (the CLI then prints no percentage).

    Volumes and build cache are NA for a source without the engine's ``/system/df`` (a registry,
    an archive): unknown, not 0.

    podman: the lines are podman's own (``podman system df``, :func:`imgviz.sources.podman.summary_lines`):
    Images SIZE there is the sum of its df rows' sizes (one row per image name), not the bytes
    stored; the percentage is rounded, not floored. ``out.attrs["notes"]`` says so per line.

    Returns
    -------
    DataFrame
        Indexed by ``type`` ('Images', 'Containers', 'Local Volumes', 'Build Cache'): ``total``,
        ``active``, ``size``, ``reclaimable``, ``reclaimable_percent``, ``source`` ('engine' when
        the numbers come from the engine's answer, else 'derived'; 'unknown' when not known).
    """
    images, containers = frames.images, frames.containers
    engine_df = getattr(frames, "engine_df", None) or {}
    layers_size = engine_df.get("layers_size")
    if layers_size is not None:
        img_size, source = int(layers_size), "engine"
    else:
        img_size, source = _physical_derived(frames.layers), "derived"
    with_ctr = images[images["containers"].fillna(0).astype("int64") != 0]
    known = with_ctr.dropna(subset=["size", "shared_size"])
    used = int((known["size"] - known["shared_size"]).sum()) if len(known) else 0
    img_recl = img_size - used if img_size is not pd.NA else pd.NA

    rw = containers["size_rw"].fillna(0).astype("int64") if len(containers) else pd.Series([], dtype="int64")
    active = containers["state"].map(_active_state).astype(bool) if len(containers) else pd.Series([], dtype=bool)
    ctr_size = int(rw.sum())
    ctr_recl = int(rw[~active].sum())

    def pct(recl, size):
        if size is pd.NA or recl is pd.NA or not size:
            return pd.NA
        return int(recl * 100 // size) if recl >= 0 else -((-recl * 100) // size)

    rows = [
        ("Images", len(images), int(len(with_ctr)), img_size, img_recl, pct(img_recl, img_size), source),
        ("Containers", len(containers), int(active.sum()), ctr_size, ctr_recl, pct(ctr_recl, ctr_size),
         "engine" if engine_df else "derived"),
    ]
    unknown = (pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, "unknown")
    if engine_df.get("volumes") is not None:
        v = volume_usage(frames)
        rows.append(("Local Volumes", v["total"], v["active"], v["size"], v["reclaimable"],
                     pct(v["reclaimable"], v["size"]), "engine"))
    else:
        rows.append(("Local Volumes",) + unknown)
    if engine_df.get("build_cache") is not None:
        b = build_cache_usage(frames)
        rows.append(("Build Cache", b["total"], b["active"], b["size"], b["reclaimable"], pd.NA, "engine"))
    else:
        rows.append(("Build Cache",) + unknown)
    notes = {}
    for name, line in (engine_df.get("lines") or {}).items():
        # an engine whose own CLI prints other lines (podman): its lines, by its rules, said so
        at = [r[0] for r in rows].index(name)
        rows[at] = (name, line["total"], line["active"], line["size"], line["reclaimable"],
                    line["reclaimable_percent"], "engine")
        notes[name] = line["note"]
    out = pd.DataFrame(rows, columns=["type", "total", "active", "size", "reclaimable",
                                      "reclaimable_percent", "source"]).set_index("type")
    for col in ("total", "active", "size", "reclaimable", "reclaimable_percent"):
        out[col] = out[col].astype("Int64")
    out.attrs["notes"] = notes
    return out


def volume_usage(frames) -> pd.Series:
    """The Local Volumes line of ``docker system df``: total, active, size, reclaimable (bytes).

    Rule (the CLI's): active = volumes with LINKS > 0; size = sum of measured sizes (NA sizes, the
    engine's -1, count 0); reclaimable = measured sizes of volumes no container uses.
    """
    v = frames.volumes
    size = v["size"].fillna(0).astype("int64")
    links = v["links"].fillna(0).astype("int64")
    return pd.Series({"total": len(v), "active": int((links > 0).sum()), "size": int(size.sum()),
                      "reclaimable": int(size[links == 0].sum())}, dtype="int64")


def build_cache_usage(frames) -> pd.Series:
    """The Build Cache line of ``docker system df`` (and df -v's "Build cache usage"), in bytes.

    Rule (the CLI's): size = bytes of the records that are not shared (a shared record holds an
    image's layer or another record's bytes: counted there, not again); reclaimable = size minus
    the unshared records in use; active = records in use. Of the rest, ``shared`` = bytes of the
    shared records (not in size) and ``by_type`` is not given here (group ``frames.build_cache``).
    """
    b = frames.build_cache
    size = b["size"].fillna(0).astype("int64")
    own = ~b["shared"].astype(bool)
    in_use = b["in_use"].astype(bool)
    total = int(size[own].sum())
    return pd.Series({"total": len(b), "active": int(in_use.sum()), "size": total,
                      "reclaimable": total - int(size[own & in_use].sum()),
                      "shared": int(size[~own].sum())}, dtype="int64")


_TOTALS_MEANING = {
    "images": ("count", "images in the snapshot (`docker system df` Images TOTAL)"),
    "tags": ("count", "rows of `docker image ls` (one per tag, one per dangling image)"),
    "tag_names": ("count", "repo:tag names of all images (an image may have several, a dangling one none)"),
    "repositories": ("count", "distinct repositories of all tags (the REPOSITORY column of `docker image ls`)"),
    "layer_references": ("count", "rows of the layers frame: every layer of every image, shared ones again"),
    "distinct_layers": ("count", "distinct layers by chain ID: what the disk holds once"),
    "shared_layers": ("count", "distinct layers (chain IDs) more than one image uses"),
    "reported": ("bytes", "sum of the SIZE column of `docker image ls`: one image's size per row, "
                          "so shared layers and extra tags are counted again"),
    "logical": ("bytes", "sum of the sizes of distinct images (each image counted once)"),
    "physical": ("bytes", "bytes of distinct layers by chain ID: what the disk holds "
                          "(`docker system df` Images SIZE, the engine's LayersSize)"),
    "saved_by_sharing": ("bytes", "logical - physical: bytes that shared layers do not store twice"),
    "counted_again_for_tags": ("bytes", "reported - logical: sizes repeated for an image's extra tags"),
    "shared": ("bytes", "bytes of distinct layers used by more than one image"),
    "dangling_images": ("count", "images with no tag (`docker image ls -f dangling=true`)"),
    "dangling_size": ("bytes", "sum of the sizes of dangling images"),
    "dangling_freed": ("bytes", "bytes of layers that removing every dangling image without containers would "
                                "free (what `docker image prune` frees; on the containerd store it frees their "
                                "content blobs no other image uses too: imgviz.analysis.what_if.removal counts both)"),
    "active_images": ("count", "images with at least one container (`docker system df` ACTIVE)"),
    "reclaimable": ("bytes", "`docker system df` Images RECLAIMABLE: physical minus the unique size "
                             "of every image that has containers"),
    "containers": ("count", "containers, any state"),
    "writable_layers": ("bytes", "sum of the containers' writable layers (SizeRw; df Containers SIZE)"),
    "containers_reclaimable": ("bytes", "writable bytes of containers not running, paused or restarting"),
}


def _physical(frames, du: pd.DataFrame):
    """Bytes of distinct layers on disk: df's Images SIZE, except where the engine's own Images line
    means something else (podman: a sum of image sizes), where it is the layer store's own record
    (``engine_df["layers_size"]``) or unknown."""
    engine_df = getattr(frames, "engine_df", None) or {}
    if engine_df.get("lines"):
        return pd.NA if engine_df.get("layers_size") is None else int(engine_df["layers_size"])
    return du.at["Images", "size"]


def totals(frames) -> pd.DataFrame:
    """Whole-snapshot totals: reported vs physical bytes, sharing, dangling, containers.

    Rules: reported = sum of the ``docker image ls`` SIZE column (one row per tag); logical = sum
    of distinct images' sizes (unknown when one image's size is unknown: never a partial sum); physical = bytes of distinct layers by chain ID (the engine's
    ``LayersSize`` when the source has it, else derived from the layers); saved_by_sharing =
    logical - physical; reclaimable as ``docker system df`` computes it (see :func:`disk_usage`);
    dangling_freed = what removing every dangling image that no container uses frees (see
    :func:`what_if`). Each row's ``meaning`` column states its rule.

    Parameters
    ----------
    frames : Frames

    Returns
    -------
    DataFrame
        Indexed by total name: ``value`` (Int64), ``unit`` ('bytes' or 'count'), ``source``
        ('engine' when the number is the engine's own, 'derived' when computed from the layers,
        'snapshot' for counts), ``meaning``.

    Examples
    --------
    >>> import imgviz
    >>> t = totals(imgviz.demo())                          # doctest: +SKIP
    >>> t.loc[["reported", "physical"], "value"]           # doctest: +SKIP
    """
    images, layers, containers = frames.images, frames.layers, frames.containers
    du = disk_usage(frames)
    n_tags = images["tags"].map(lambda t: max(len(t or []), 1))
    sizes = images["size"]
    reported = (sizes * n_tags).sum(min_count=0) if not sizes.isna().any() else pd.NA
    logical = sizes.sum() if not sizes.isna().any() else pd.NA
    physical = _physical(frames, du)
    engine_df = getattr(frames, "engine_df", None) or {}
    derived_physical = _physical_derived(layers)
    distinct = layers.drop_duplicates(["image_id", "chain_id"])
    refs = distinct["chain_id"].value_counts(sort=False)
    one = distinct_layers(layers).set_index("chain_id")["size"]
    is_shared = refs.reindex(one.index).gt(1)
    shared = one[is_shared].sum() if not one.isna().any() else pd.NA

    dangling = images[images["dangling"]]
    prunable = dangling[dangling["containers"].fillna(0).astype("int64") == 0]["image_id"].tolist()
    dangling_freed = what_if_totals(frames, prunable)["freed_layers"] if prunable else 0

    src_phys = du.at["Images", "source"] if physical is not pd.NA else "unknown"
    img_src = "engine" if (images["size_source"] == "engine").all() and len(images) else "derived"
    ctr_src = du.at["Containers", "source"]
    values = {
        "images": (len(images), "snapshot"),
        "tags": (int(n_tags.sum()), "snapshot"),
        "tag_names": (int(images["tags"].map(lambda t: len(t or [])).sum()), "snapshot"),
        "repositories": (len({repo_tag(t)[0] for tags in images["tags"] for t in (tags or [])}), "snapshot"),
        "layer_references": (len(layers), "snapshot"),
        "distinct_layers": (len(one), "snapshot"),
        "shared_layers": (int(is_shared.sum()), "snapshot"),
        "reported": (reported, img_src),
        "logical": (logical, img_src),
        "physical": (physical, src_phys),
        "saved_by_sharing": (logical - physical if logical is not pd.NA and physical is not pd.NA else pd.NA,
                             "derived"),
        "counted_again_for_tags": (reported - logical if reported is not pd.NA else pd.NA, "derived"),
        "shared": (shared, "derived"),
        "dangling_images": (len(dangling), "snapshot"),
        "dangling_size": (pd.NA if dangling["size"].isna().any() else int(dangling["size"].sum()), img_src),
        "dangling_freed": (dangling_freed, "derived"),
        "active_images": (du.at["Images", "active"], "snapshot"),
        "reclaimable": (du.at["Images", "reclaimable"], src_phys if img_src == "engine" else "derived"),
        "containers": (len(containers), "snapshot"),
        "writable_layers": (du.at["Containers", "size"], ctr_src),
        "containers_reclaimable": (du.at["Containers", "reclaimable"], ctr_src),
    }
    if physical is not pd.NA and derived_physical is not pd.NA and src_phys == "engine" \
            and int(physical) != int(derived_physical):
        # the engine counts layers of images it does not list (e.g. intermediate images)
        values["physical_of_listed_images"] = (derived_physical, "derived")
    rows = []
    for name, (value, source) in values.items():
        unit, meaning = _TOTALS_MEANING.get(name, ("bytes", "bytes of distinct layers the listed images use"))
        rows.append((name, None if value is pd.NA else int(value), unit, source, meaning))
    out = pd.DataFrame(rows, columns=["total", "value", "unit", "source", "meaning"]).set_index("total")
    for name, note in (("physical", (engine_df.get("notes") or {}).get("layers_size")),
                       ("reclaimable", (du.attrs.get("notes") or {}).get("Images"))):
        if engine_df.get("lines") and note:
            out.at[name, "meaning"] = note
    out["value"] = out["value"].astype("Int64")
    return out


def repository_sizes(frames) -> pd.DataFrame:
    """Per repository: its images, tags, layers and the bytes they hold, each layer once.

    Rules: an image belongs to every repository it has a tag in (as ``docker image ls REPO``
    lists it); dangling images form the repository ``<none>``. ``images_size`` = sum of the
    images' sizes (shared layers counted in every image, as ``docker image ls`` does);
    ``layers_size`` = bytes of the distinct layers (chain IDs) the repository's images use, each
    once; ``unique_size`` = bytes of those layers no image of another repository uses: what
    removing every image of the repository would free when no container holds them. A sum with a
    part of unknown size is unknown (NA), never a partial sum.

    Returns
    -------
    DataFrame
        ``repository``, ``images``, ``tags`` (its repo:tag names), ``layers`` (distinct chain IDs),
        ``images_size``, ``layers_size``, ``unique_size``; the largest ``unique_size`` first
        (ties: larger ``layers_size``, then by name).
    """
    images = frames.images
    cols = ["repository", "images", "tags", "layers", "images_size", "layers_size", "unique_size"]
    if images.empty:
        out = pd.DataFrame({c: pd.Series([], dtype="Int64") for c in cols})
        out["repository"] = out["repository"].astype("string")
        return out
    repos_of = {i: sorted({repo_tag(t)[0] for t in tags}) if len(tags) else ["<none>"]
                for i, tags in zip(images["image_id"], images["tags"])}
    layers = frames.layers.drop_duplicates(["image_id", "chain_id"])
    size_of = distinct_layers(layers).set_index("chain_id")["size"]
    chains: dict[str, set] = {}
    for image_id, chain in zip(layers["image_id"], layers["chain_id"]):
        for repo in repos_of[image_id]:
            chains.setdefault(repo, set()).add(chain)
    n_repos: dict[str, int] = {}
    for members in chains.values():
        for chain in members:
            n_repos[chain] = n_repos.get(chain, 0) + 1

    def total(values) -> object:
        values = list(values)
        return pd.NA if any(pd.isna(v) for v in values) else int(sum(values))

    members: dict[str, list[int]] = {}
    for k, image_id in enumerate(images["image_id"]):
        for repo in repos_of[image_id]:
            members.setdefault(repo, []).append(k)
    rows = []
    for repo, ks in members.items():
        group = images.iloc[ks]
        n_tags = sum(1 for tags in group["tags"] for t in tags if repo_tag(t)[0] == repo)
        mine = chains.get(repo, set())
        rows.append((repo, len(group), n_tags, len(mine), total(group["size"]), total(size_of[c] for c in mine),
                     total(size_of[c] for c in mine if n_repos[c] == 1)))
    out = pd.DataFrame(rows, columns=cols)
    for col in cols[1:]:
        out[col] = out[col].astype("Int64")
    out["repository"] = out["repository"].astype("string")
    return out.sort_values(["unique_size", "layers_size", "repository"], ascending=[False, False, True],
                           na_position="last", kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------ what-if

def what_if(frames, remove: Iterable[str] | str, *, remove_containers: bool = False) -> pd.DataFrame:
    """The layers that removing some images (every tag of them) would free, and why others stay.

    Rule: a layer (chain ID) used by a removed image is freed (deleted from disk) when no remaining
    image uses it and no remaining container is based on an image whose chain contains it. A
    container keeps its image's layers on disk even when the image is force-removed (its writable
    layer sits on them); the engine's ``LayersSize`` (``docker system df`` Images SIZE) then stops
    counting them, because it counts only layers some image refers to. With
    ``remove_containers=True`` the containers of removed images are removed first, as
    ``docker rm`` then ``docker image rm`` would do, and their writable layers are freed too.
    A container whose image is no longer in the snapshot (force-removed earlier) keeps layers
    nobody can name from the snapshot; :func:`what_if_totals` counts such containers.
    BuildKit's build cache may also refer to layers; those stay on disk until the cache is pruned
    (``docker builder prune``), though ``docker system df`` Images SIZE drops all the same.

    Parameters
    ----------
    frames : Frames
    remove : str or list of str
        Tags (``'iv/app:v1'``), full IDs or short IDs of the images to remove.
    remove_containers : bool, default False
        Also remove the containers created from those images.

    Returns
    -------
    DataFrame
        One row per distinct layer of the removed images: ``chain_id``, ``diff_id``, ``size``,
        ``instruction``, ``created_by``, ``removed_by`` (labels of removed images using it),
        ``freed`` (bool: deleted from disk), ``kept_by`` (label of a remaining image that uses
        it, or ``container <name>`` when only a container keeps it; NA when freed). Sum ``size``
        where ``freed`` for the bytes freed.

    See Also
    --------
    what_if_totals : the same as a handful of numbers.
    """
    images, layers, containers = frames.images, frames.layers, frames.containers
    ids = resolve_images(images, remove)
    removed = set(ids)
    labels = pd.Series(image_labels(images).values, index=images["image_id"].values)
    mine = layers[layers["image_id"].isin(removed)].drop_duplicates(["image_id", "chain_id"])
    cols = ["chain_id", "diff_id", "size", "instruction", "created_by", "removed_by", "freed", "kept_by"]
    if mine.empty:
        out = pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
        out["size"] = out["size"].astype("Int64")
        out["freed"] = out["freed"].astype(bool)
        return out
    by_chain = distinct_layers(mine).set_index("chain_id")
    label_of = labels.to_dict()
    removed_by = {c: [label_of[i] for i in ids_]
                  for c, ids_ in _lists_by(mine["chain_id"].to_numpy(object), mine["image_id"].to_numpy(object)).items()}

    keeper: dict[str, str] = {}
    rest = layers[~layers["image_id"].isin(removed) & layers["chain_id"].isin(by_chain.index)]
    for chain, image_id in rest.drop_duplicates("chain_id")[["chain_id", "image_id"]].itertuples(index=False):
        keeper[chain] = labels[image_id]
    if len(containers):
        held = containers if not remove_containers else containers[~containers["image_id"].isin(removed)]
        holders = held[held["image_id"].isin(removed)]
        if len(holders):
            under = mine[mine["image_id"].isin(set(holders["image_id"]))]
            chains_of = _lists_by(under["image_id"].to_numpy(object), under["chain_id"].to_numpy(object))
            for rec in holders.itertuples(index=False):
                names = list(rec.names or []) or [rec.short_id]
                for chain in chains_of.get(rec.image_id, []):
                    keeper.setdefault(chain, f"container {names[0]}")
    out = pd.DataFrame({
        "chain_id": by_chain.index.astype("string"),
        "diff_id": by_chain["diff_id"].values,
        # a size any image knows (the chain names the same bytes everywhere)
        "size": by_chain.index.map(distinct_layers(layers[layers["chain_id"].isin(by_chain.index)])
                                   .set_index("chain_id")["size"]).astype("Int64").values,
        "instruction": by_chain["instruction"].values,
        "created_by": by_chain["created_by"].values,
        "removed_by": [removed_by[c] for c in by_chain.index],
    })
    out["kept_by"] = out["chain_id"].map(keeper).astype("string")
    out["freed"] = out["kept_by"].isna()
    return out[cols]


def what_if_totals(frames, remove: Iterable[str] | str, *, remove_containers: bool = False) -> pd.Series:
    """What removing some images frees, in a few numbers.

    Rule: see :func:`what_if`. ``freed_layers`` are bytes deleted from disk;
    ``held_by_containers`` are bytes of layers no remaining image uses but a container of a
    removed image still sits on: they stay on disk, yet ``docker system df`` stops counting them.
    So ``physical_after`` (the Images SIZE df will print) = ``physical_before - freed_layers -
    held_by_containers``. Writable layers count only with ``remove_containers=True``.

    Returns
    -------
    Series
        ``images_removed``, ``layers_freed`` (count), ``freed_layers`` (bytes),
        ``held_by_containers`` (bytes), ``freed_writable`` (bytes of removed containers' writable
        layers), ``freed`` (freed_layers + freed_writable), ``physical_before``,
        ``physical_after``, ``kept_shared`` (bytes of the removed images' layers that stay because
        remaining images use them), ``unknown_containers`` (containers whose image is not in the
        snapshot: they may keep some layers counted as freed on disk; df's numbers are unaffected).
    """
    ids = resolve_images(frames.images, remove)
    layers = what_if(frames, ids, remove_containers=remove_containers)
    by_ctr = layers["kept_by"].fillna("").str.startswith("container ").to_numpy(bool)
    freed_mask = layers["freed"].to_numpy(bool)

    def total(mask):
        part = layers["size"][mask]
        return pd.NA if part.isna().any() else int(part.sum())  # a layer of unknown size: unknown

    freed_layers, held, kept = total(freed_mask), total(by_ctr), total(~freed_mask & ~by_ctr)
    writable = 0
    if remove_containers and len(frames.containers):
        c = frames.containers
        writable = int(c.loc[c["image_id"].isin(ids), "size_rw"].fillna(0).sum())
    physical = _physical(frames, disk_usage(frames))
    return pd.Series({
        "images_removed": len(ids), "layers_freed": int(freed_mask.sum()),
        "freed_layers": freed_layers, "held_by_containers": held, "freed_writable": writable,
        "freed": freed_layers + writable if freed_layers is not pd.NA else pd.NA,
        "physical_before": physical,
        "physical_after": (physical - freed_layers - held
                           if not any(v is pd.NA for v in (physical, freed_layers, held)) else pd.NA),
        "kept_shared": kept,
        "unknown_containers": int((~frames.containers["image_id"].isin(frames.images["image_id"])).sum()),
    }, dtype="Int64")
