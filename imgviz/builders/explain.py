"""Why a step of NEW hits, misses or cannot be known, in words.

:func:`explain` compares a step of NEW's walk with OLD's walk of the same builder.  A hit names
what stayed the same; a miss names the first cause: a rebuilt step before it, a changed base, or
the differences between the step and OLD's comparable step.  Which differences are named, and in
which order, is the builder's: ``Builder.explained`` per instruction (e.g. BuildKit's RUN:
command, environment, working directory, user, mounts; the classic builder's RUN: command, build
args; buildah's RUN: the instruction's text as written, build args), then ``Builder.explained_config`` when those find nothing (the classic builder compares
the whole container config).  Each name is a method of :class:`_Differences` below.
"""

from __future__ import annotations

from typing import NamedTuple

from ._base import Step, Walk

__all__ = ["Verdict", "explain", "env_diff", "file_diff"]

_METADATA_EFFECT = {
    "ENV": "changes the environment of later RUN steps",
    "ARG": "its value is in the environment of later RUN steps",
    "USER": "sets the user of later RUN and WORKDIR steps",
    "WORKDIR": "sets the working directory of later steps",
    "SHELL": "sets the shell of later shell-form RUN steps",
}


class Verdict(NamedTuple):
    cached: bool | None
    reason: str
    warning: str = ""
    stale: bool = False     # the warning is the builder's stale-content quirk (it carries to later steps)


def env_diff(old_env: list[str], new_env: list[str]) -> str:
    """``KEY=VALUE`` lists compared: what was added, removed or changed."""
    o, n = dict(e.split("=", 1) for e in old_env), dict(e.split("=", 1) for e in new_env)
    changes = []
    for k in sorted(set(o) | set(n)):
        if k not in o:
            changes.append(f"+{k}={n[k]}")
        elif k not in n:
            changes.append(f"-{k}")
        elif o[k] != n[k]:
            changes.append(f"{k}: {o[k]!r} -> {n[k]!r}")
    if not changes and old_env != new_env:
        return "environment order changed"
    return "environment changed (" + ", ".join(changes[:4]) + ")"


def file_diff(old_recs, new_recs, old_ctx, new_ctx) -> tuple[str, bool, list]:
    """(description, only-mtime-changed, paths whose content changed keeping size+mtime)."""
    o = {r.path: r for r in old_recs}
    n = {r.path: r for r in new_recs}
    changes, stale = [], []
    for p in sorted(set(o) | set(n)):
        if p not in o:
            changes.append(f"{p} added")
            continue
        if p not in n:
            changes.append(f"{p} removed")
            continue
        a, b = o[p], n[p]
        if a.kind != b.kind:
            changes.append(f"{p} type {a.kind} -> {b.kind}")
        elif a.mode != b.mode:
            changes.append(f"{p} mode {a.mode:o} -> {b.mode:o}")
        elif a.kind == "symlink" and a.link != b.link:
            changes.append(f"{p} symlink target {a.link} -> {b.link}")
        elif a.kind == "file" and (a.size != b.size or old_ctx.digest(p) != new_ctx.digest(p)):
            changes.append(f"{p} content changed")
            if a.size == b.size and a.mtime_ns == b.mtime_ns and old_ctx.mtimes_known and new_ctx.mtimes_known:
                stale.append(p)
    mtime_only = not changes and any(o[p].mtime_ns != n[p].mtime_ns for p in set(o) & set(n))
    desc = ", ".join(changes[:4]) + (f" and {len(changes) - 4} more" if len(changes) > 4 else "")
    return desc, mtime_only, stale


class _Differences:
    """The differences between a step of NEW and a comparable step of OLD, one method per name."""

    def __init__(self, new: Walk, old: Walk):
        self.builder = new.builder
        self.new_ctx, self.old_ctx = new.build.context, old.build.context
        self.warning = ""

    def between(self, step: Step, old: Step) -> list[str]:
        kw = step.ins.keyword
        found = []
        for name in self.builder.explained.get(kw, ()):
            found += getattr(self, name)(step, old)
        if not found:
            for name in self.builder.explained_config:
                found += getattr(self, name)(step, old)
        return found

    # -- RUN ---------------------------------------------------------------------------------------
    def command(self, step, old):
        return ["command text changed"] if step.get("args") != old.get("args") else []

    def environment(self, step, old):
        a, b = old.get("env", []), step.get("env", [])
        return [env_diff(a, b)] if step.get("env") != old.get("env") else []

    def working_directory(self, step, old):
        a, b = old.get("cwd"), step.get("cwd")
        return [f"working directory {a} -> {b}"] if a != b else []

    def run_user(self, step, old):
        a, b = old.get("user"), step.get("user")
        return [f"user {a or 'root'} -> {b or 'root'}"] if a != b else []

    def mounts(self, step, old):
        changed = step.get("flags") != old.get("flags") or step.get("mounts") != old.get("mounts")
        return ["RUN flags or mounted content changed"] if changed else []

    def build_args(self, step, old):
        changed = step.get("buildargs") != old.get("buildargs")
        return ["build args in scope changed (they prefix the cached command)"] if changed else []

    def instruction_text(self, step, old):
        """buildah: the instruction's text as written (not expanded, not normalised) is its key."""
        a, b = old.get("text"), step.get("text")
        return ["instruction text changed (buildah compares it as written)"] if a != b else []

    def arg_names(self, step, old):
        """buildah: an ARG step is keyed by the names of the ARGs that have a value."""
        a, b = old.get("argnames") or [], step.get("argnames") or []
        if a == b:
            return []
        return [f"ARGs with a value changed ({', '.join(a) or 'none'} -> {', '.join(b) or 'none'}; "
                "buildah keys ARG by their names, not their values)"]

    # -- COPY / ADD --------------------------------------------------------------------------------
    def copied_content(self, step, old):
        f, o = step, old
        if f.get("content") == o.get("content"):
            return []
        if f.get("from") == "context" and f.get("sources") == o.get("sources"):
            desc, _, stale = file_diff(old.records, step.records, self.old_ctx, self.new_ctx)
            if stale:
                self.warning = self.builder.stale_content_warning(stale) or self.warning
            return [f"copied files changed: {desc}" if desc else "copied files changed"]
        if f.get("sources") != o.get("sources"):
            return ["sources changed"]
        return ["source content changed"]

    def _changed(self, key, step, old):
        return [f"{key} changed"] if step.get(key) != old.get(key) else []

    def dest(self, step, old):
        return self._changed("dest", step, old)

    def chown(self, step, old):
        return self._changed("chown", step, old)

    def chmod(self, step, old):
        return self._changed("chmod", step, old)

    # -- WORKDIR -----------------------------------------------------------------------------------
    def workdir(self, step, old):
        f, o = step, old
        if f.get("workdir") != o.get("workdir"):
            return [f"path {o.get('workdir')} -> {f.get('workdir')}"]
        if f.get("user") != o.get("user"):
            return ["user changed (WORKDIR creates the directory as the user)"]
        return []

    # -- the container config (classic builder) ------------------------------------------------------
    def arguments(self, step, old):
        changed = step.get("desc") != old.get("desc")
        return [f"{step.ins.keyword} arguments changed"] if changed else []

    def labels(self, step, old):
        changed = step.get("labels") != old.get("labels")
        return ["labels changed (part of the compared config)"] if changed else []

    def ports(self, step, old):
        changed = step.get("ports") != old.get("ports")
        return ["exposed ports changed (part of the compared config)"] if changed else []

    def user_in_config(self, step, old):
        changed = step.get("user") != old.get("user")
        return ["user changed (part of the compared config)"] if changed else []


def _first_by_key(walk: Walk) -> dict:
    index = getattr(walk, "_first_by_key", None)
    if index is None:
        index = {}
        for s in walk.steps:
            if s.key:
                index.setdefault(s.key, s)
        walk._first_by_key = index
    return index


def explain(step: Step, new: Walk, old: Walk, stale_keys: set) -> Verdict:
    """The verdict on *step* of *new* against *old*; *stale_keys* are keys of NEW's steps already
    warned about with the builder's stale-content quirk (their followers are warned too)."""
    ins = step.ins
    builder = new.builder
    if step.kind == "global":
        return Verdict(True, "global ARG before FROM: not a build step (it only feeds FROM)")
    if step.kind == "skipped":
        return Verdict(None, f"stage not needed for the target: {builder.title} does not build it")
    if step.kind == "metadata":
        what = _METADATA_EFFECT.get(ins.keyword, "image configuration only")
        return Verdict(True, f"metadata only, no build step; {what}")
    if step.error:
        return Verdict(False, step.error)
    hit = step.key in old.keys
    if step.kind == "from":
        if hit:
            return Verdict(True, f"same base ({step.get('base')}); FROM itself is not looked up in the cache")
        olds = [s for s in old.steps if s.kind == "from" and s.stage_index == step.stage_index]
        was = olds[0].fields.get("base") if olds else None
        if step.uncertain:
            return Verdict(None, "base stage depends on re-executed RUN output")
        return Verdict(False, f"base changed: {was} -> {step.get('base')}" if was else "new base")
    if hit and step.uncertain:
        why = step.unknown_why or "an earlier step depends on output of a re-executed RUN"
        return Verdict(None, f"unknown: {why}; hit only if that output is byte-identical")
    if hit:
        reason = "same instruction and inputs as the old build"
        was = _first_by_key(old).get(step.key)
        if ins.keyword in ("COPY", "ADD") and was is not None and step.records:
            _, mtime_only, _ = file_diff(was.records, step.records, old.build.context, new.build.context)
            reason = "copied files unchanged" + (
                " (only mtimes differ; mtime is not part of file identity)" if mtime_only else "")
        if was is not None and was.ins.line != ins.line:
            reason += f" (old line {was.ins.line})"
        note = builder.hit_note(step, was)
        return Verdict(True, f"{reason}; {note}" if note else reason)
    # a miss: first, a parent OLD never had
    if step.parent is not None and step.parent not in old.keys:
        prev = step.prev
        if step.get("link_key") in old.link_keys:
            return Verdict(False, "COPY --link: the copied layer is the old build's, but it is merged again onto "
                                  f"the rebuilt layers before it (line {prev.ins.line if prev else '?'}); "
                                  "BuildKit reports the step as run")
        if prev is not None and prev.kind != "from":
            warning = builder.follows_stale_warning(prev.ins.line) if prev.key in stale_keys else ""
            return Verdict(False, f"follows a rebuilt step (line {prev.ins.line}); its parent layer is new",
                           warning, bool(warning))
        if prev is not None and prev.kind == "from":
            return Verdict(False, "base image changed")
    cands = builder.comparable_steps(step, old) if step.parent is None or step.parent in old.keys else []
    if not cands:
        return Verdict(False, f"no {ins.keyword} step of the old build follows the same parent "
                              "(instruction added, moved or changed)")
    diff = _Differences(new, old)
    reasons = [r for r in ("; ".join(diff.between(step, c)) for c in cands) if r]
    reason = reasons[0] if reasons else "definition differs from the old build's step"
    return Verdict(False, reason, diff.warning, bool(diff.warning))
