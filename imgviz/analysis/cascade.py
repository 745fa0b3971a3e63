"""Build-cache cascade: which steps of NEW hit the cache left by building OLD.

The prediction walks both builds with one builder (:mod:`imgviz.builders`: the rules of each
builder live in its class), computes the cache key that builder computes for each step, and calls
a step of NEW a hit when its key is among OLD's keys.  :func:`cascade_steps` is pure: it takes
build inputs already read (:func:`imgviz.dockerfile.build.load_build`) and returns a frame;
:func:`cascade` also accepts build directories and reads them through that loader.

Reporting: one row per instruction of NEW, in file order.

* FROM is reported hit when the base is the same (it is not a cache lookup; neither engine prints
  a verdict for it).
* Instructions the builder runs no step for (BuildKit's metadata instructions and
  ``WORKDIR /``) are reported ``cached=True`` with the reason "metadata only, no build step" and
  ``kind="metadata"``: the engine runs nothing for them, and their effect shows on the later
  steps whose keys they change.
* Global ``ARG`` lines before the first FROM are reported hit (``kind="global"``).
* Stages the builder does not build for the target are reported ``None`` with that reason
  (``kind="skipped"``).
* Unknown (``cached`` is ``None``): the key depends on files a re-executed RUN produced and would
  be a hit only if that output is byte-identical; ``reason`` starts with "unknown".
* ``warning`` carries what the builder's engine refuses to build and its known quirks
  (moby/buildkit#4817 under BuildKit).

The per-step reasons come from :mod:`imgviz.builders.explain`; the order advisor is
:mod:`imgviz.analysis.cascade_advisor`.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..builders import BUILDERS, Builder, get_builder
from ..builders.explain import explain
from ..dockerfile.build import BuildInput, CascadeError, load_build

__all__ = ["cascade", "cascade_steps", "CascadeError", "BUILDERS", "STEP_COLUMNS"]

STEP_COLUMNS = ["builder", "stage", "line", "end_line", "instruction", "text", "kind", "cached", "reason", "warning",
                "key", "bytes"]


def _history_bytes(old, new, history) -> dict[int, int]:
    """Bytes of the old image's layer for each NEW step (by step position), where known.

    The old image's history ends with one entry per instruction of the target stage (both
    builders record one entry per instruction, empty ones included).  A NEW step takes the size of
    the entry made by the OLD instruction with the same text in the same stage, else the one at the
    same position."""
    if history is None or len(history) == 0:
        return {}
    hist = history.sort_values("index") if "index" in history.columns else history
    sizes = [int(x) if pd.notna(x) else None for x in hist["size"].tolist()]
    last = old.target_stage()
    old_rows = [s for s in old.steps if s.stage_index == last.index and s.kind != "from"]
    if len(old_rows) > len(sizes):
        return {}
    entry = dict(zip((id(s) for s in old_rows), sizes[len(sizes) - len(old_rows):]))
    by_text = {}
    for s in old_rows:
        by_text.setdefault(s.ins.original, entry[id(s)])
    out = {}
    new_rows = [(i, s) for i, s in enumerate(new.steps) if s.stage_index == last.index and s.kind != "from"]
    for j, (i, s) in enumerate(new_rows):
        if s.ins.original in by_text:
            out[i] = by_text[s.ins.original]
        elif j < len(old_rows):
            out[i] = entry[id(old_rows[j])]
    return out


def cascade_steps(old: BuildInput, new: BuildInput, builder: "str | Builder" = "buildkit",
                  history=None) -> pd.DataFrame:
    """Predict, for every instruction of *new*, whether it hits the cache *old* left.

    Pure: reads only the two :class:`~imgviz.dockerfile.build.BuildInput` objects (read by
    :func:`~imgviz.dockerfile.build.load_build` with the builder's ``context_rules``).  The rules
    are the builder's (:mod:`imgviz.builders`); see the module docstring for the report.

    Parameters
    ----------
    old, new : build inputs
    builder : a name from :data:`BUILDERS` or a :class:`~imgviz.builders.Builder`
    history : the old image's history frame (``index``, ``size``), to fill ``bytes``

    Returns
    -------
    DataFrame with columns ``STEP_COLUMNS``: ``cached`` is True, False or None
    (unknown), ``reason`` says why, ``warning`` flags known engine quirks.  With *history* (the
    old image's history frame: ``index``, ``size``), ``bytes`` is the size of the layer a missed
    step rewrites, estimated by the old image's layer for the same instruction (0 for hits, NA
    where unknown).
    """
    b = get_builder(builder)
    for side in (old, new):
        if side.rules.reads_otherwise(b.context_rules, side.context):
            raise CascadeError(
                f"the build context {str(side.context.root)!r} was read with {side.rules.summary} "
                f"(ignore file: {side.context.ignore_file or 'none'}), but {b.title} reads "
                f"{b.context_rules.summary}: load it with load_build(..., rules=get_builder({b.name!r}).context_rules)")
    walk_old = b.simulate(old)
    walk_new = b.simulate(new, old=walk_old)
    rows = []
    stale_keys: set = set()
    sizes = _history_bytes(walk_old, walk_new, history)
    for pos, step in enumerate(walk_new.steps):
        verdict = explain(step, walk_new, walk_old, stale_keys)
        warning = verdict.warning
        if verdict.stale and step.key:
            stale_keys.add(step.key)
        refused = b.unsupported(step.ins) if step.kind in ("op", "metadata") else ""
        if refused:
            warning = f"{warning}; {refused}" if warning else refused
        rows.append({
            "builder": b.name,
            "stage": step.stage,
            "line": step.ins.line,
            "end_line": step.ins.end_line,
            "instruction": step.ins.keyword,
            "text": step.ins.original,
            "kind": step.kind,
            "cached": verdict.cached,
            "reason": verdict.reason,
            "warning": warning,
            "key": step.key[:12] if step.key else None,
            "bytes": (0 if verdict.cached else sizes.get(pos)) if sizes else None,
        })
    df = pd.DataFrame(rows, columns=STEP_COLUMNS)
    df["cached"] = df["cached"].astype("object")
    df["bytes"] = df["bytes"].astype("Int64")
    return df


def cascade(old, new, builder: "str | Builder" = "buildkit", *, dockerfile: str = "Dockerfile", build_args=None,
            target=None, base_ids=None, prefer_dockerfile_ignore: bool | None = None,
            history=None) -> pd.DataFrame:
    """Predict which steps of NEW rebuild after OLD was built (``imgviz.cascade``).

    Parameters
    ----------
    old, new : build directories (Dockerfile + context), read with
        :func:`~imgviz.dockerfile.build.load_build`, or :class:`~imgviz.dockerfile.build.BuildInput`
    builder : ``"buildkit"`` (default), ``"classic"`` or a :class:`~imgviz.builders.Builder`
    dockerfile : Dockerfile path relative to each directory
    build_args : ``--build-arg`` values used for both builds
    target : ``--target`` stage
    base_ids : optional ``(old_map, new_map)`` of FROM reference -> image ID or
        :class:`~imgviz.dockerfile.bases.BaseImage` (see :func:`~imgviz.dockerfile.bases.inspect_bases`);
        without it a base is identified by its reference text
    history : the old image's history frame (``imgviz`` history frame of one image, or any frame
        with ``index`` and ``size``), to fill ``bytes``
    prefer_dockerfile_ignore : read ``<Dockerfile>.dockerignore`` before ``.dockerignore`` or
        not; default: as the builder does (its ``context_rules``: yes for Docker 20.10's BuildKit,
        no for its classic builder)

    Returns
    -------
    DataFrame, one row per instruction of NEW's Dockerfile; see :func:`cascade_steps`.

    Examples
    --------
    >>> steps = imgviz.cascade("v1/", "v2/", builder="classic")  # doctest: +SKIP
    >>> steps[["line", "instruction", "cached", "reason"]]  # doctest: +SKIP
    """
    b = get_builder(builder)
    if prefer_dockerfile_ignore is not None:
        b = type(b)()  # this call's own builder: the rule changes for this prediction only
        b.context_rules = dataclasses.replace(b.context_rules, dockerfile_dockerignore=prefer_dockerfile_ignore)
    ob, nb = base_ids if base_ids else ({}, {})
    if not isinstance(old, BuildInput):
        old = load_build(old, dockerfile, rules=b.context_rules, build_args=build_args, target=target, base_ids=ob)
    if not isinstance(new, BuildInput):
        new = load_build(new, dockerfile, rules=b.context_rules, build_args=build_args, target=target, base_ids=nb)
    return cascade_steps(old, new, b, history=history)
