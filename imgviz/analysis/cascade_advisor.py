"""Order advisor for the build cache: what a history of changes cost, and an order that costs less.

Given the same project at successive commits (oldest first, each a
:class:`~imgviz.dockerfile.build.BuildInput`), :func:`history_cost` replays every change with the
cascade rules (:func:`imgviz.analysis.cascade.cascade_steps`) and counts the steps each rebuilt;
:func:`propose_order` reorders each stage so that what changes often comes late, without changing
what the image is; :func:`advise` does both and replays the history with the proposed order.
Pure: the build inputs are read before (:func:`imgviz.dockerfile.build.load_git_revisions`).
"""

from __future__ import annotations

import dataclasses
import heapq
import posixpath

import pandas as pd

from ..builders import get_builder
from ..builders._base import paths_overlap
from ..dockerfile.build import BuildInput, CascadeError
from ..dockerfile.parser import Dockerfile, Instruction, parse
from .cascade import cascade_steps

__all__ = ["advise", "history_cost", "change_counts", "propose_order", "reorder_text"]

_FS_OPS = {"RUN", "COPY", "ADD", "WORKDIR", "VOLUME", "ONBUILD"}
_CONFIG_ONLY = {"CMD", "ENTRYPOINT", "LABEL", "EXPOSE", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER"}


def _sets(ins: Instruction) -> set[str]:
    if ins.keyword in ("ENV", "ARG"):
        return {k for k, _ in ins.pairs()}
    return set()


def _refs(ins: Instruction, names: set[str]) -> bool:
    text = ins.original
    return any(f"${n}" in text or "${" + n in text for n in names)


def _abs_dest(ins: Instruction) -> str | None:
    if ins.keyword in ("COPY", "ADD") and not ins.flag("from") and ins.args:
        d = ins.args[-1]
        if d.startswith("/") and "$" not in d:
            return posixpath.normpath(d)
    return None


def _dependent(a: Instruction, b: Instruction) -> bool:
    """True when swapping *a* and *b* (a written first) could change the image or a step's meaning."""
    ka, kb = a.keyword, b.keyword
    if ka in _FS_OPS and kb in _FS_OPS:
        da, db = _abs_dest(a), _abs_dest(b)
        return not (da and db and not paths_overlap(da, db))
    sa, sb = _sets(a), _sets(b)
    if sa and (kb == "RUN" or _refs(b, sa) or sa & sb):
        return True
    if sb and (ka == "RUN" or _refs(a, sb)):
        return True
    for x, y in ((a, b), (b, a)):
        kx, ky = x.keyword, y.keyword
        if kx == "USER" and (ky in ("RUN", "WORKDIR", "USER") or (ky in ("COPY", "ADD") and y.flag("chown"))):
            return True
        if kx == "WORKDIR" and ky in ("RUN", "COPY", "ADD", "WORKDIR"):
            return True
        if kx == "SHELL" and (ky in ("RUN", "SHELL") or (ky in ("CMD", "ENTRYPOINT") and not y.json)):
            return True
    if ka == kb and ka in _CONFIG_ONLY:
        return True
    if ka in _FS_OPS and kb in _FS_OPS:
        return True
    return False


def change_counts(builds: list[BuildInput]) -> dict[tuple[int, int], int]:
    """How often each instruction's *own* inputs changed along *builds* (oldest first).

    Key: (stage index, position in the stage) of the last build's instructions.  An instruction
    changed in a commit when its text differs from the instruction at the same place in the
    previous build, or (COPY/ADD from the context) the files it selects differ."""
    counts: dict[tuple[int, int], int] = {}
    for prev, cur in zip(builds, builds[1:]):
        for st in cur.dockerfile.stages:
            pst = prev.dockerfile.stages[st.index] if st.index < len(prev.dockerfile.stages) else None
            for j, ins in enumerate(st.instructions):
                old = pst.instructions[j] if pst and j < len(pst.instructions) else None
                changed = old is None or old.original != ins.original
                if not changed and ins.keyword in ("COPY", "ADD") and not ins.flag("from") and not ins.heredocs:
                    srcs = list(ins.args[:-1])
                    changed = prev.context.token(srcs)[0] != cur.context.token(srcs)[0]
                if changed:
                    counts[(st.index, j)] = counts.get((st.index, j), 0) + 1
    return counts


def propose_order(dockerfile: Dockerfile, counts: dict[tuple[int, int], int]) -> list[list[int]]:
    """Per stage, an order of the stage's instructions that keeps the image's meaning and puts
    what changes often late.  Instructions keep their relative order whenever swapping them could
    change a step's meaning (file-system steps among themselves unless they copy to disjoint
    absolute paths; ENV/ARG before anything that reads the variable or any RUN; USER, WORKDIR and
    SHELL before the steps they affect; repeated config instructions of one kind).  Among the
    rest, the least often changed goes first (ties: written order)."""
    orders = []
    for st in dockerfile.stages:
        ins = st.instructions
        n = len(ins)
        preds = {j: {i for i in range(j) if _dependent(ins[i], ins[j])} for j in range(n)}
        done: list[int] = []
        placed: set[int] = set()
        heap = [(counts.get((st.index, j), 0), j) for j in range(n) if not preds[j]]
        heapq.heapify(heap)
        while heap:
            _, j = heapq.heappop(heap)
            done.append(j)
            placed.add(j)
            for k in range(n):
                if k not in placed and all(p in placed for p in preds[k]) and not any(h[1] == k for h in heap):
                    heapq.heappush(heap, (counts.get((st.index, k), 0), k))
        orders.append(done)
    return orders


def reorder_text(text: str, dockerfile: Dockerfile, orders: list[list[int]]) -> str:
    """Dockerfile *text* with each stage's instructions in *orders*; comments travel with the
    instruction below them, blank lines are normalised to one between stages."""
    lines = text.splitlines()
    out: list[str] = []
    used_until = 0
    for st, order in zip(dockerfile.stages, orders):
        head_end = st.from_instruction.end_line
        out.extend(l for l in lines[used_until:head_end] if l.strip() or out)
        blocks = []
        prev_end = head_end
        for ins in st.instructions:
            block = [l for l in lines[prev_end:ins.end_line] if l.strip()]
            blocks.append(block)
            prev_end = ins.end_line
        for j in order:
            out.extend(blocks[j])
        used_until = prev_end
        out.append("")
    tail = [l for l in lines[used_until:] if l.strip()]
    out.extend(tail)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def history_cost(builds: list[BuildInput], builder="buildkit", labels=None) -> pd.DataFrame:
    """Steps each change of *builds* (oldest first) rebuilds, by the cascade rules.

    Returns one row per change: ``change`` (label), ``rebuilt`` (steps with cached False),
    ``unknown``, ``steps`` (instructions), ``copied_bytes`` (bytes of context files that
    rebuilt COPY/ADD steps copy; exact, from the context)."""
    builder = get_builder(builder)
    rows = []
    labels = list(labels) if labels is not None else [str(i) for i in range(len(builds))]
    builds = _readable(builds, builder, labels)
    for i, (a, b) in enumerate(zip(builds, builds[1:]), start=1):
        steps = cascade_steps(a, b, builder)
        rebuilt = steps[steps["cached"] == False]  # noqa: E712
        copied = 0
        for line in rebuilt.loc[rebuilt["instruction"].isin(["COPY", "ADD"]), "line"]:
            ins = next(x for x in b.dockerfile.instructions if x.line == line)
            if not ins.flag("from") and not ins.heredocs:
                _, recs, _ = b.context.token(list(ins.args[:-1]))
                copied += sum(r.size for r in recs if r.kind == "file")
        rows.append({"change": labels[i], "rebuilt": len(rebuilt), "unknown": int(steps["cached"].isna().sum()),
                     "steps": len(steps), "copied_bytes": copied})
    return pd.DataFrame(rows, columns=["change", "rebuilt", "unknown", "steps", "copied_bytes"])


def _readable(builds: list[BuildInput], builder, labels) -> list[BuildInput]:
    """*builds* as *builder* reads them; a version it refuses is an error naming that version (the
    advisor replays builds that succeeded)."""
    out = []
    for i, b in enumerate(builds):
        b = builder.read(b)
        err = builder.refusal(b)
        if err is not None:
            name = labels[i] if labels is not None and i < len(labels) else str(i)
            raise CascadeError(f"version {name}: the build fails with {builder.label}: {err}")
        out.append(b)
    return out


def advise(builds: list[BuildInput], builder="buildkit", labels=None) -> dict:
    """Advisor: the cost of the history as written and with a proposed order.

    *builds* are the same project at successive commits (oldest first; each a BuildInput).
    The proposal orders every stage by :func:`propose_order` using :func:`change_counts`; each
    commit's Dockerfile is reordered the same way (by instruction text) and the history is
    re-played with the cascade rules.

    Returns ``{"before": history frame, "after": history frame, "dockerfile": proposed text of
    the last Dockerfile, "order": per-stage lists of original line numbers, "counts": {line: n}}``.
    """
    if len(builds) < 2:
        raise CascadeError("the advisor needs at least two versions (commits) to compare")
    builder = get_builder(builder)
    builds = _readable(builds, builder, labels)
    last = builds[-1]
    counts = change_counts(builds)
    orders = propose_order(last.dockerfile, counts)
    by_text = {}
    for st, order in zip(last.dockerfile.stages, orders):
        for rank, j in enumerate(order):
            by_text[(st.index, st.instructions[j].original)] = rank
    reordered = []
    for b in builds:
        text = b.dockerfile.text
        ords = []
        for st in b.dockerfile.stages:
            pos = list(range(len(st.instructions)))
            rank = [by_text.get((st.index, st.instructions[j].original), None) for j in pos]
            # instructions unknown to the last version keep their place relative to known ones
            preds = {j: {i for i in range(j) if _dependent(st.instructions[i], st.instructions[j])} for j in pos}
            order, placed = [], set()
            while len(order) < len(pos):
                ready = [j for j in pos if j not in placed and preds[j] <= placed]
                j = min(ready, key=lambda k: (rank[k] if rank[k] is not None else k, k))
                order.append(j)
                placed.add(j)
            ords.append(order)
        new_text = reorder_text(text, b.dockerfile, ords)
        reordered.append(dataclasses.replace(b, dockerfile=parse(new_text, b.dockerfile.path, engine=builder.engine),
                                             text=new_text))
    before = history_cost(builds, builder, labels)
    after = history_cost(reordered, builder, labels)
    last_text = last.dockerfile.text
    line_counts = {st.instructions[j].line: counts.get((st.index, j), 0)
                   for st in last.dockerfile.stages for j in range(len(st.instructions))}
    return {
        "before": before,
        "after": after,
        "dockerfile": reorder_text(last_text, last.dockerfile, orders),
        "order": [[st.instructions[j].line for j in o] for st, o in zip(last.dockerfile.stages, orders)],
        "counts": line_counts,
    }
