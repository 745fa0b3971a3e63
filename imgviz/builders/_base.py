"""The interface every builder implements, and the walk over a Dockerfile that calls it.

A builder computes, for each step of a build, the cache key its engine computes, and a step of
NEW hits when its key is among OLD's keys.  That is how both engines decide (a global lookup, not
a line-by-line diff), so reordered instructions and stages are handled as the engine handles them.

:class:`Walk` goes through one build the way BuildKit's ``dockerfile2llb`` does: global ARGs,
then each stage from its FROM, each instruction dispatched to the builder's method for it
(``dispatch_run``, ``dispatch_copy``, ``dispatch_add``, ``dispatch_workdir``, and
``dispatch_config`` for the instructions that only change the image config).  Everything that
differs between builders, or between versions of one builder, is a method or a class attribute
of :class:`Builder`; the walk never asks which builder it runs.

What both builders share:

* File identity: path, type, permission bits, size, content, symlink target; not mtime, not owner
  (see :mod:`imgviz.dockerfile.context`).
* A comment added to the Dockerfile changes nothing, unless a COPY copies the Dockerfile itself
  (``COPY . .``): then that COPY misses (checked on Docker 20.10.24).
* Unknown outcomes: a key that depends on files a re-executed RUN produced (``COPY --from`` a stage
  whose RUN missed, ``RUN --mount`` of such a stage, ADD of a URL) would be a hit only if that
  output is byte-identical; such steps, and the steps after them, are uncertain.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass, field
from typing import ClassVar

from ..dockerfile.bases import BaseImage
from ..dockerfile.build import BuildInput, CascadeError, ContextRules
from ..dockerfile.lexer import ExpansionError, process_word
from ..dockerfile.parser import Dockerfile, Instruction

__all__ = ["Builder", "State", "Step", "Walk", "DEFAULT_SHELL", "key_hash", "paths_overlap"]

DEFAULT_SHELL = ("/bin/sh", "-c")


def key_hash(*parts) -> str:
    """A short stable digest of *parts* (the simulated cache keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def paths_overlap(a: str, b: str) -> bool:
    """True when absolute paths *a* and *b* are the same or one contains the other."""
    if a == "/" or b == "/":
        return True
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def _static_prefix(p: str) -> str:
    parts = []
    for seg in p.strip("/").split("/"):
        if any(c in seg for c in "*?["):
            break
        parts.append(seg)
    rel = posixpath.normpath("/".join(parts) or ".")
    return "/" if rel == "." else "/" + rel


@dataclass
class State:
    """What a stage has accumulated when an instruction runs."""

    key: str                       # chain key (BuildKit: op key; classic: image key)
    base_token: str
    env: list                      # [(k, v)] ordered
    args: dict                     # declared ARG -> value or None
    user: str = ""
    workdir: str = "/"
    shell: list = field(default_factory=lambda: list(DEFAULT_SHELL))
    labels: dict = field(default_factory=dict)
    ports: tuple = ()
    entrypoint: tuple = ()
    volumes: tuple = ()
    pathops: list = field(default_factory=list)   # [(path or None=all, token, uncertain, line)]
    uncertain: bool = False
    last_op_line: int | None = None
    unknown_line: int | None = None   # first step of the chain whose outcome is unknown

    def copy(self) -> "State":
        return State(self.key, self.base_token, list(self.env), dict(self.args), self.user, self.workdir,
                     list(self.shell), dict(self.labels), self.ports, self.entrypoint, self.volumes,
                     list(self.pathops), self.uncertain, self.last_op_line, self.unknown_line)

    def env_map(self) -> dict:
        return dict(self.env)

    def expansion_env(self) -> dict:
        """Variables an instruction's words expand with: ENV, then ARG values ENV does not shadow."""
        env = self.env_map()
        for k, v in self.args.items():
            if v is not None and k not in env:
                env[k] = v
        return env


@dataclass
class Step:
    """One instruction of a build with the key its builder computed for it."""

    stage: str | None
    stage_index: int | None
    ins: Instruction
    kind: str                 # "op", "metadata", "from", "global", "skipped"
    key: str | None = None
    parent: str | None = None
    kwc: str | None = None    # key without (uncertain) content
    fields: dict = field(default_factory=dict)
    records: list = field(default_factory=list)
    uncertain: bool = False
    unknown_why: str = ""
    error: str = ""


class Builder:
    """One builder (and engine version) as its cache sees a Dockerfile.

    Subclasses state their engine's rules in their docstring and implement them:

    * ``name`` (what users type), ``title`` (how text names it), ``since`` (the first engine
      version these rules are for; :func:`imgviz.builders.get_builder` picks by it) and
      ``context_rules`` (which ignore file the builder reads);
    * :meth:`stages_to_build`, :meth:`base_identity`, :meth:`set_env`, :meth:`declare_arg`;
    * ``dispatch_<instruction>`` methods, called with the walk, the instruction, the stage's
      :class:`State` and the :class:`Step` to fill;
    * what the engine refuses (:meth:`unsupported`) and its known quirks
      (:meth:`stale_content_warning`, :meth:`follows_stale_warning`);
    * for explanations: ``explained`` (per instruction, the differences that name why a step
      missed, in order), ``explained_config`` (compared when those find nothing) and
      :meth:`comparable_steps`.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    since: ClassVar[tuple[int, ...]] = (20, 10)
    context_rules: ClassVar[ContextRules] = ContextRules()
    explained: ClassVar[dict[str, tuple[str, ...]]] = {}
    explained_config: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} builder {self.name!r} (Docker {'.'.join(map(str, self.since))}+)>"

    # -- the interface ---------------------------------------------------------------------------
    def simulate(self, build: BuildInput, old: "Walk | None" = None) -> "Walk":
        """Every step's key for *build*; with *old* (OLD's walk) uncertain steps borrow OLD's keys."""
        return Walk(self, build, old).run()

    def stages_to_build(self, dockerfile: Dockerfile, target: int) -> set[int]:
        """Indexes of the stages this builder builds for target stage *target*."""
        raise NotImplementedError

    def base_identity(self, base: BaseImage) -> str:
        """What identifies a FROM image in this builder's keys."""
        raise NotImplementedError

    def set_env(self, state: State, key: str, value: str) -> None:
        """Record ``ENV key=value`` in *state*."""
        raise NotImplementedError

    def declare_arg(self, state: State, key: str, value: str | None) -> None:
        """Effect of an ARG with a value beyond being in scope for expansion (none by default)."""

    def dispatch(self, walk: "Walk", ins: Instruction, state: State, step: Step) -> None:
        """Compute *step*'s key: the builder's method for the instruction."""
        method = _DISPATCH.get(ins.keyword, "dispatch_config")
        getattr(self, method)(walk, ins, state, step)

    def dispatch_run(self, walk, ins, state, step) -> None:
        raise NotImplementedError

    def dispatch_copy(self, walk, ins, state, step) -> None:
        raise NotImplementedError

    def dispatch_add(self, walk, ins, state, step) -> None:
        self.dispatch_copy(walk, ins, state, step)

    def dispatch_workdir(self, walk, ins, state, step) -> None:
        raise NotImplementedError

    def dispatch_config(self, walk, ins, state, step) -> None:
        """Instructions that change only the image config (ENV, ARG, LABEL, USER, CMD, ...)."""
        raise NotImplementedError

    def unsupported(self, ins: Instruction) -> str:
        """Why this builder's engine refuses *ins* ("" when it builds it)."""
        return ""

    def stale_content_warning(self, paths: list[str]) -> str:
        """Warning for copied files whose content changed but whose size and mtime did not."""
        return ""

    def follows_stale_warning(self, line: int) -> str:
        """Warning for a step rebuilt only because it follows such a step (at *line*)."""
        return ""

    def comparable_steps(self, step: Step, old_steps: list[Step]) -> list[Step]:
        """OLD's steps a missed *step* is compared with to say what changed."""
        return [s for s in old_steps if s.parent == step.parent and s.ins.keyword == step.ins.keyword]

    # -- how instructions read (both builders; a version that reads them otherwise overrides) ----
    def expand(self, word: str, env: dict, escape: str) -> str:
        """*word* with variables of *env* expanded (left as written when it cannot be)."""
        try:
            return process_word(word, env, escape)
        except ExpansionError:
            return word

    def configure(self, walk: "Walk", ins: Instruction, state: State) -> tuple:
        """Apply a config instruction to *state* (its ``config_<instruction>`` method); return its
        expanded description."""
        env = state.expansion_env()
        method = getattr(self, _CONFIG.get(ins.keyword, "config_other"))
        return method(walk, ins, state, lambda w: self.expand(w, env, walk.escape))

    # each takes the walk, the instruction, the stage's state and the expansion of a word
    def config_env(self, walk, ins, state, x):
        pairs = [(x(k), x(v)) for k, v in ins.pairs()]
        for k, v in pairs:
            self.set_env(state, k, v)
        return ("ENV", pairs)

    def config_arg(self, walk, ins, state, x):
        desc = ("ARG", [(k, None if v is None else x(v)) for k, v in ins.pairs()])
        walk.declare_args(ins, state)
        return desc

    def config_label(self, walk, ins, state, x):
        pairs = [(x(k), x(v)) for k, v in ins.pairs()]
        state.labels.update(pairs)
        return ("LABEL", pairs)

    def config_user(self, walk, ins, state, x):
        state.user = x(ins.args[0])
        return ("USER", state.user)

    def config_expose(self, walk, ins, state, x):
        ports = [x(a) for a in ins.args]
        state.ports = tuple(sorted(set(state.ports) | {p if "/" in p else p + "/tcp" for p in ports}))
        return ("EXPOSE", ports)

    def config_volume(self, walk, ins, state, x):
        vols = [x(a) for a in ins.args]
        state.volumes = tuple(sorted(set(state.volumes) | set(vols)))
        return ("VOLUME", vols)

    def config_shell(self, walk, ins, state, x):
        state.shell = list(ins.args)
        return ("SHELL", list(ins.args))

    def config_entrypoint(self, walk, ins, state, x):
        val = list(ins.args) if ins.json else state.shell + [ins.args[0] if ins.args else ""]
        state.entrypoint = tuple(val)
        return ("ENTRYPOINT", val)

    def config_cmd(self, walk, ins, state, x):
        val = list(ins.args) if ins.json else state.shell + [ins.args[0] if ins.args else ""]
        return ("CMD", val)

    def config_stopsignal(self, walk, ins, state, x):
        return ("STOPSIGNAL", x(ins.args[0]))

    def config_other(self, walk, ins, state, x):
        """HEALTHCHECK, ONBUILD, MAINTAINER: recorded as written."""
        return (ins.keyword, list(ins.args), list(ins.flags))

    def workdir(self, walk: "Walk", ins: Instruction, state: State) -> str:
        """Set and return the working directory WORKDIR gives (relative to the current one)."""
        p = self.expand(ins.args[0], state.expansion_env(), walk.escape)
        wd = posixpath.normpath(posixpath.join(state.workdir, p)) if not p.startswith("/") else posixpath.normpath(p)
        if wd.startswith("//"):
            wd = "/" + wd.lstrip("/")
        state.workdir = wd
        return wd

    def run_args(self, ins: Instruction, state: State) -> list:
        """The argv a RUN executes (exec form as written; shell form through the stage's SHELL)."""
        if ins.json:
            return list(ins.args)
        return state.shell + [ins.args[0]]

    def mounts(self, walk: "Walk", ins: Instruction, step: Step) -> list:
        """What ``RUN --mount=type=bind`` mounts, as key parts (other mount types add nothing)."""
        deps = []
        for m in ins.flag_values("mount"):
            opts = dict(part.partition("=")[::2] for part in m.split(","))
            if opts.get("type", "bind") != "bind":
                continue
            src = opts.get("source", opts.get("src", "/"))
            frm = opts.get("from")
            if frm:
                tok, unc, why = walk.stage_content(frm, src if src.startswith("/") else "/" + src)
                if unc:
                    step.uncertain, step.unknown_why = True, why
                deps.append(("mount", frm, src, tok))
            else:
                tok, recs, _ = walk.build.context.token([src])
                step.records.extend(recs)
                deps.append(("mount", "context", src, tok))
        return deps

    def copy_parts(self, walk: "Walk", ins: Instruction, state: State, step: Step):
        """COPY/ADD read: expanded sources and destination, and a token of the copied content.

        Returns ``(sources, dest as written, dest normalised, chown, chmod, content token,
        uncertain, why)`` and fills ``step.fields`` and ``step.records``."""
        env = state.expansion_env()
        x = lambda w: self.expand(w, env, walk.escape)  # noqa: E731
        raw = list(ins.args)
        dest_raw = x(raw[-1])
        sources = [x(s) for s in raw[:-1]]
        dest = dest_raw if dest_raw.startswith("/") else posixpath.join(state.workdir, dest_raw)
        dest_n = posixpath.normpath(dest)
        frm = ins.flag("from")
        chown = ins.flag("chown")
        chown = x(chown) if chown else chown
        chmod = ins.flag("chmod")
        content_unc, why = False, ""
        if ins.heredocs:
            names = {d.name for d in ins.heredocs}
            contents = [(d.name, d.content) for d in ins.heredocs]
            sources = [s for s in sources if s.lstrip("<-").strip("'\"") not in names]
            ctok = key_hash("heredoc", contents)
        else:
            ctok = None
        if frm:
            frm = x(frm)
            toks = []
            for s in sources:
                t, u, w = walk.stage_content(frm, s if s.startswith("/") else "/" + s)
                toks.append(t)
                if u:
                    content_unc, why = True, w
            token = key_hash("from", frm, toks)
            src_desc = f"--from={frm}"
        elif any(s.startswith(("http://", "https://", "git@")) for s in sources) and ins.keyword == "ADD":
            token = key_hash("remote", sources)
            content_unc, why = True, "ADD of a remote URL: the key depends on what the server returns"
            src_desc = "remote"
        else:
            token, recs, missing = walk.build.context.token(sources) if sources else ("", [], [])
            step.records = recs
            if missing:
                step.error = f"source not in the build context: {', '.join(missing)} (the build would fail)"
            src_desc = "context"
        if ctok:
            token = key_hash(token, ctok)
        step.fields.update({"sources": sources, "dest": dest_raw, "chown": chown, "chmod": chmod,
                            "from": src_desc, "content": token, "link": ins.flag("link") is not None})
        return sources, dest_raw, dest_n, chown, chmod, token, content_unc, why


_DISPATCH = {"RUN": "dispatch_run", "COPY": "dispatch_copy", "ADD": "dispatch_add", "WORKDIR": "dispatch_workdir"}
_CONFIG = {kw: "config_" + kw.lower() for kw in
           ("ENV", "ARG", "LABEL", "USER", "EXPOSE", "VOLUME", "SHELL", "ENTRYPOINT", "CMD", "STOPSIGNAL")}


class Walk:
    """One build walked by one builder: every step with its key (``steps``), OLD's keys to look up
    (``keys``) and the keys of content-free definitions (``kwc``)."""

    def __init__(self, builder: Builder, build: BuildInput, old: "Walk | None" = None):
        self.builder = builder
        self.build = build
        self.dockerfile = build.dockerfile
        self.escape = build.dockerfile.escape
        self.old = old
        self.steps: list[Step] = []
        self.stage_state: dict[int, State] = {}
        self.stage_steps: dict[int, list[Step]] = {}
        self.meta: dict = {}
        self.keys: set = set()
        self.kwc: dict = {}

    # -- helpers -----------------------------------------------------------------------------------
    def old_has(self, key: str | None) -> bool:
        return self.old is not None and key in self.old.keys

    def target_stage(self):
        """The stage the build produces (``--target`` or the last one)."""
        if self.build.target:
            st = self.dockerfile.stage_by_name(self.build.target)
            if st is None:
                raise CascadeError(f"target stage {self.build.target!r} not found in {self.dockerfile.path}")
            return st
        return self.dockerfile.stages[-1]

    def meta_scope(self) -> dict:
        """Global ARGs (before the first FROM) with their values."""
        scope = {}
        for ins in self.dockerfile.meta_args:
            for k, v in ins.pairs():
                if k in self.build.build_args:
                    scope[k] = self.build.build_args[k]
                elif v is not None:
                    scope[k] = self.builder.expand(v, scope, self.escape)
                else:
                    scope.setdefault(k, None)
        return scope

    def declare_args(self, ins: Instruction, state: State) -> None:
        """ARG inside a stage: its value from --build-arg, its default, or the global ARG."""
        for k, v in ins.pairs():
            if k in self.build.build_args:
                val = self.build.build_args[k]
            elif v is not None:
                val = self.builder.expand(v, state.env_map(), self.escape)
            else:
                val = self.meta.get(k)
            state.args[k] = val
            self.builder.declare_arg(state, k, val)

    def stage_content(self, ref: str, src: str) -> tuple[str, bool, str]:
        """(token, uncertain, why) of what ``--from=ref`` holds at *src*."""
        st = self.dockerfile.stage_by_name(ref)
        if st is None or st.index not in self.stage_state:
            return key_hash("image", ref), False, ""
        sstate = self.stage_state[st.index]
        p = _static_prefix(posixpath.normpath(posixpath.join(sstate.workdir, src)) if not src.startswith("/") else src)
        toks, unc, lines = [sstate.base_token], False, []
        for path, tok, u, line in sstate.pathops:
            if path is None or paths_overlap(path, p):
                toks.append(tok)
                if u:
                    unc = True
                    lines.append(str(line))
        why = (f"{src} in stage {st.label} may have been written by RUN at line {', '.join(lines)}, which "
               "is re-executed") if unc else ""
        return key_hash("content", p, toks), unc, why

    # -- the walk ----------------------------------------------------------------------------------
    def run(self) -> "Walk":
        df = self.dockerfile
        need = self.builder.stages_to_build(df, self.target_stage().index)
        self.meta = self.meta_scope()
        for ins in df.meta_args:
            self.steps.append(Step(None, None, ins, "global"))
        for st in df.stages:
            built = st.index in need
            steps = self.stage_steps.setdefault(st.index, [])
            state, fstep = self._from(st)
            self.steps.append(fstep)
            steps.append(fstep)
            for ins in st.instructions:
                step = Step(st.label, st.index, ins, "op")
                if not built:
                    step.kind = "skipped"
                else:
                    try:
                        self.builder.dispatch(self, ins, state, step)
                    except ExpansionError as exc:
                        step.error = str(exc)
                self.steps.append(step)
                steps.append(step)
            if built:
                self.stage_state[st.index] = state
        self.keys = {s.key for s in self.steps if s.key and s.kind == "op"}
        self.keys |= {s.key for s in self.steps if s.kind == "from" and s.key}
        for s in self.steps:
            if s.kwc:
                self.kwc.setdefault(s.kwc, s.key)
        return self

    def _from(self, st) -> tuple[State, Step]:
        """The state a stage starts from, and its FROM step."""
        scope = {k: v for k, v in self.meta.items() if v is not None}
        base_ref = self.builder.expand(st.base, scope, self.escape)
        dep = self.dockerfile.stage_by_name(base_ref)
        if dep is not None and dep.index < st.index and dep.index in self.stage_state:
            state = self.stage_state[dep.index].copy()
            state.args = {}
            fstep = Step(st.label, st.index, st.from_instruction, "from", key=state.key,
                         fields={"base": f"stage {dep.label}"})
            fstep.uncertain = state.uncertain
            if state.uncertain:
                fstep.unknown_why = f"its base stage {dep.label} has unknown cache outcomes"
            return state, fstep
        info = self.build.base_ids.get(base_ref, base_ref)
        env, user, workdir, shell = [], "", "/", list(DEFAULT_SHELL)
        if isinstance(info, BaseImage):
            image_id = self.builder.base_identity(info)
            env = [tuple(e.split("=", 1)) if "=" in e else (e, "") for e in info.env]
            user, workdir = info.user, info.workdir or "/"
            shell = list(info.shell) or shell
        else:
            image_id = info
        key = key_hash("from", image_id, st.platform)
        state = State(key=key, base_token=key_hash("base", image_id), env=env, args={}, user=user,
                      workdir=workdir, shell=shell)
        fstep = Step(st.label, st.index, st.from_instruction, "from", key=key,
                     fields={"base": base_ref, "image": image_id})
        return state, fstep

    def settle(self, ins: Instruction, state: State, step: Step, key) -> None:
        """Fix a step's key and carry its state forward (the same for every builder).

        An uncertain COPY/ADD takes the old build's key for the same definition (optimistic: the
        content equals what the old build had); once a step is uncertain, every later step is too.
        """
        if step.uncertain and step.kwc is not None and self.old is not None:
            key = self.old.kwc.get(step.kwc, key)
        step.key = key
        if step.uncertain and state.unknown_line is None:
            state.unknown_line = ins.line
        elif state.uncertain and not step.uncertain:
            step.unknown_why = f"it follows line {state.unknown_line}, whose cache outcome is unknown"
        step.uncertain = step.uncertain or state.uncertain
        if ins.keyword == "RUN":
            hit = self.old_has(key) and not step.uncertain
            state.pathops.append((None, key_hash("run-out", key), not hit and self.old is not None, ins.line))
        state.key = key
        state.uncertain = step.uncertain
        state.last_op_line = ins.line
