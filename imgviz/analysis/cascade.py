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
* ``warning`` carries the builder's known quirks (moby/buildkit#4817 under BuildKit).
* A build the builder refuses (a parse error, an instruction or flag its engine does not know, a
  failed expansion, a COPY source that is not in the context, ...) is predicted as a failure: the
  steps before the one where the builder stops, then that step (``kind="error"``) with the
  builder's reason; ``attrs["error"]`` holds line and message.

Which rules apply is the builder's and the engine version's (:func:`imgviz.builders.get_builder`):
each reads the Dockerfile with its engine's parser, expansion and context walk
(:mod:`imgviz.dockerfile`).

The per-step reasons come from :mod:`imgviz.builders.explain`; the order advisor is
:mod:`imgviz.analysis.cascade_advisor`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc

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
                  history=None, *, engine_version: str | None = None) -> pd.DataFrame:
    """Predict, for every instruction of *new*, whether it hits the cache *old* left.

    Pure: reads only the two :class:`~imgviz.dockerfile.build.BuildInput` objects (read by
    :func:`~imgviz.dockerfile.build.load_build` with the builder's ``context_rules``).  The rules
    are the builder's (:mod:`imgviz.builders`); see the module docstring for the report.

    Parameters
    ----------
    old, new : build inputs
    builder : a name from :data:`BUILDERS` or a :class:`~imgviz.builders.Builder`
    history : the old image's history frame (``index``, ``size``), to fill ``bytes``
    engine_version : the Docker Engine whose rules apply (``"28.5.2"``); default
        :data:`imgviz.builders.DEFAULT_ENGINE_VERSION` (ignored when *builder* is a Builder)

    Returns
    -------
    DataFrame with columns ``STEP_COLUMNS``: ``cached`` is True, False or None
    (unknown), ``reason`` says why, ``warning`` flags known engine quirks.  With *history* (the
    old image's history frame: ``index``, ``size``), ``bytes`` is the size of the layer a missed
    step rewrites, estimated by the old image's layer for the same instruction (0 for hits, NA
    where unknown).

    When the builder refuses NEW, the frame holds the steps before the one where it stops, then
    one row of ``kind="error"`` for that step (``cached`` False, ``reason`` the builder's words;
    none when the builder names no line), and ``frame.attrs["error"]`` is
    ``{"line", "message", "phase", "builder", "summary"}`` (``summary``: one line naming the
    Dockerfile, the line, the reason and the instruction).  Without a refusal ``attrs["error"]`` is None.
    ``attrs["builder"]`` and ``attrs["engine"]`` name the rules used.

    Raises
    ------
    CascadeError : OLD's build fails (it left no complete cache to predict from), or an input was
        read with another builder's context rules
    """
    b = get_builder(builder, engine_version)
    with _no_cyclic_gc():
        return _predict(b, old, new, history)


@contextlib.contextmanager
def _no_cyclic_gc():
    """The walks allocate many small containers and free none of them in cycles: Python's cyclic
    collector would scan them again and again (a third of the time for a 10,000-line Dockerfile)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _predict(b: Builder, old: BuildInput, new: BuildInput, history) -> pd.DataFrame:
    old, new = b.read(old), b.read(new)
    err_old = b.refusal(old)
    if err_old is not None:
        raise CascadeError(f"the old build fails with {b.label}, so it left no cache to predict from: {err_old}")
    refused = b.refusal(new)
    walk_old = b.simulate(old)
    walk_new = b.simulate(new, old=walk_old) if new.dockerfile is not None else None
    rows = []
    stale_keys: set = set()
    sizes = _history_bytes(walk_old, walk_new, history) if walk_new is not None else {}
    stop = None if refused is None else (refused.line if refused.line is not None else 0)
    for pos, step in enumerate(walk_new.steps if walk_new is not None else ()):
        if stop is not None and step.ins.line >= stop:
            break
        verdict = explain(step, walk_new, walk_old, stale_keys)
        if verdict.stale and step.key:
            stale_keys.add(step.key)
        rows.append(_row(b, step, verdict.cached, verdict.reason, verdict.warning, step.key,
                         (0 if verdict.cached else sizes.get(pos)) if sizes else None))
    if refused is not None and refused.line is not None:
        ins = _instruction_at(new, refused.line)
        rows.append({"builder": b.name, "stage": _stage_of(new, ins), "line": refused.line,
                     "end_line": refused.end_line if refused.end_line is not None else refused.line,
                     "instruction": ins.keyword if ins is not None else "",
                     "text": ins.original if ins is not None else refused.text, "kind": "error", "cached": False,
                     "reason": f"the build fails here: {refused.message}", "warning": "", "key": None,
                     "bytes": None})
    df = pd.DataFrame(rows, columns=STEP_COLUMNS)
    df["cached"] = df["cached"].astype("object")
    df["bytes"] = df["bytes"].astype("Int64")
    df.attrs["builder"] = b.name
    df.attrs["engine"] = b.engine_version
    df.attrs["rules"] = b.label
    df.attrs["error"] = None if refused is None else {
        "line": refused.line, "message": refused.message, "phase": refused.phase, "builder": b.name,
        "summary": str(refused)}
    return df


def _row(b, step, cached, reason, warning, key, nbytes) -> dict:
    return {"builder": b.name, "stage": step.stage, "line": step.ins.line, "end_line": step.ins.end_line,
            "instruction": step.ins.keyword, "text": step.ins.original, "kind": step.kind, "cached": cached,
            "reason": reason, "warning": warning, "key": key[:12] if key else None, "bytes": nbytes}


def _instruction_at(build: BuildInput, line: int):
    if build.dockerfile is None:
        return None
    for ins in build.dockerfile.instructions:
        if ins.line <= line <= ins.end_line:
            return ins
    return None


def _stage_of(build: BuildInput, ins) -> str | None:
    if ins is None or build.dockerfile is None:
        return None
    for st in build.dockerfile.stages:
        if ins is st.from_instruction or ins in st.instructions:
            return st.label
    return None


def cascade(old, new, builder: "str | Builder" = "buildkit", *, dockerfile: str = "Dockerfile", build_args=None,
            target=None, base_ids=None, prefer_dockerfile_ignore: bool | None = None,
            history=None, engine_version: str | None = None) -> pd.DataFrame:
    """Predict which steps of NEW rebuild after OLD was built (``imgviz.cascade``).

    Parameters
    ----------
    old, new : build directories (Dockerfile + context), read with
        :func:`~imgviz.dockerfile.build.load_build`, or :class:`~imgviz.dockerfile.build.BuildInput`
    builder : ``"buildkit"`` (default), ``"classic"``, ``"buildah"`` or a :class:`~imgviz.builders.Builder`
    dockerfile : Dockerfile path relative to each directory
    build_args : ``--build-arg`` values used for both builds
    target : ``--target`` stage
    base_ids : optional ``(old_map, new_map)`` of FROM reference -> image ID or
        :class:`~imgviz.dockerfile.bases.BaseImage` (see :func:`~imgviz.sources.engine.inspect_bases`);
        without it a base is identified by its reference text
    history : the old image's history frame (``imgviz`` history frame of one image, or any frame
        with ``index`` and ``size``), to fill ``bytes``
    prefer_dockerfile_ignore : read ``<Dockerfile>.dockerignore`` before ``.dockerignore`` or
        not; default: as the builder does (its ``context_rules``: yes for BuildKit, no for the
        classic builder)
    engine_version : the Docker Engine whose builder rules apply (``"28.5.2"``: Docker 28's
        parser, context walk and cache rules); default ``"20.10.24"``, as before engine versions
        were known; ``"podman 4.3.1"`` (what podman's ``/version`` says): buildah's rules, whatever
        *builder* says (see :func:`imgviz.builders.get_builder`)

    Returns
    -------
    DataFrame, one row per instruction of NEW's Dockerfile; see :func:`cascade_steps` (also for a
    build the builder refuses: the steps before it, an ``error`` row and ``attrs["error"]``).

    Examples
    --------
    >>> steps = imgviz.cascade("v1/", "v2/", builder="classic")  # doctest: +SKIP
    >>> steps[["line", "instruction", "cached", "reason"]]  # doctest: +SKIP
    """
    b = get_builder(builder, engine_version)
    if prefer_dockerfile_ignore is not None:
        b = type(b)(b.engine_version)  # this call's own builder: the rule changes for this prediction only
        b.context_rules = dataclasses.replace(b.context_rules, dockerfile_dockerignore=prefer_dockerfile_ignore)
    ob, nb = base_ids if base_ids else ({}, {})
    if not isinstance(old, BuildInput):
        old = load_build(old, dockerfile, rules=b.context_rules, build_args=build_args, target=target, base_ids=ob)
    if not isinstance(new, BuildInput):
        new = load_build(new, dockerfile, rules=b.context_rules, build_args=build_args, target=target, base_ids=nb)
    return cascade_steps(old, new, b, history=history)
