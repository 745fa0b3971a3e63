"""The interface every builder implements, and the walk over a Dockerfile that calls it.

A builder computes, for each step of a build, the cache key its engine computes, and a step of
NEW hits when its key is among OLD's keys.  That is how both engines decide (a global lookup, not
a line-by-line diff), so reordered instructions and stages are handled as the engine handles them.

A builder reads a Dockerfile with its engine's own rules, from :mod:`imgviz.dockerfile`: the
parser of that engine (``context_rules.engine``), its context walk and ignore file
(``context_rules``), the word expansion with its scoping (:func:`imgviz.dockerfile.expand.evaluate`,
run once per build; the walk takes every expanded word from it) and what it refuses
(:meth:`Builder.refusal`, from :func:`imgviz.dockerfile.check.rules_for`).

:class:`Walk` goes through one build the way BuildKit's ``dockerfile2llb`` does: global ARGs,
then each stage from its FROM, each instruction dispatched to the builder's method for it
(``dispatch_run``, ``dispatch_copy``, ``dispatch_add``, ``dispatch_workdir``, and
``dispatch_config`` for the instructions that only change the image config).  Everything that
differs between builders, or between versions of one builder, is a method or a class attribute
of :class:`Builder`; the walk never asks which builder runs.  The walk is linear in the length of
the Dockerfile: the environment is an :class:`~imgviz.builders._env.EnvState` (constant-time
updates and digest), and what explanations need per step is kept as functions evaluated only for
the steps explained.

What both builders share:

* File identity: path, type, permission bits, size, content, symlink target; not mtime, not owner
  (see :mod:`imgviz.dockerfile.context`).
* A comment added to the Dockerfile changes nothing, unless a COPY copies the Dockerfile itself
  (``COPY . .``): then that COPY misses (checked on Docker 20.10.24 and 28.5.2).
* Unknown outcomes: a key that depends on files a re-executed RUN produced (``COPY --from`` a stage
  whose RUN missed, ``RUN --mount`` of such a stage, ADD of a URL) would be a hit only if that
  output is byte-identical; such steps, and the steps after them, are uncertain.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from typing import ClassVar

from ..dockerfile.bases import BaseImage
from ..dockerfile.build import BuildInput, CascadeError, ContextRules
from ..dockerfile.check import BuilderRules, rules_for
from ..dockerfile.expand import Evaluation, needed_stages
from ..dockerfile.lexer import ExpansionError, Lexer, lexer_for
from ..dockerfile.parser import Dockerfile, Instruction
from ..dockerfile.refusal import BuildRefused
from ._env import EnvState

__all__ = ["Builder", "State", "Step", "Walk", "DEFAULT_SHELL", "key_hash", "paths_overlap"]

DEFAULT_SHELL = ("/bin/sh", "-c")


def key_hash(*parts) -> str:
    """A short stable digest of *parts* (the simulated cache keys): strings, numbers, None and
    tuples/lists of them, written out by ``repr`` (the same for equal parts, in C, so long values
    cost little)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


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
    env: EnvState                  # ENV (and, under BuildKit, ARG values) in the builder's order
    args: dict                     # declared ARG -> value or None
    user: str = ""
    workdir: str = "/"
    shell: list = field(default_factory=lambda: list(DEFAULT_SHELL))
    labels: tuple = ()             # sorted (key, value) pairs, rebuilt only when a LABEL changes them
    ports: tuple = ()
    entrypoint: tuple = ()
    volumes: tuple = ()
    pathops: list = field(default_factory=list)   # [(path or None=all, token, uncertain, line)]
    uncertain: bool = False
    last_op_line: int | None = None
    unknown_line: int | None = None   # first step of the chain whose outcome is unknown
    producer: "Step | None" = None    # the step whose result ``key`` is (FROM, or the last op)
    bargs: dict = field(default_factory=dict)   # classic: ARGs with a value that no ENV shadows
    bargs_version: int = 0
    _bargs_seen: tuple = (-1, ())

    def copy(self) -> "State":
        return State(self.key, self.base_token, self.env.copy(), dict(self.args), self.user, self.workdir,
                     list(self.shell), self.labels, self.ports, self.entrypoint, self.volumes,
                     list(self.pathops), self.uncertain, self.last_op_line, self.unknown_line, self.producer,
                     dict(self.bargs), self.bargs_version)

    def build_args(self) -> tuple:
        """``KEY=VALUE`` of :attr:`bargs`, sorted (computed again only after a change)."""
        if self._bargs_seen[0] != self.bargs_version:
            self._bargs_seen = (self.bargs_version, tuple(sorted(f"{k}={v}" for k, v in self.bargs.items())))
        return self._bargs_seen[1]


class _ClassicScope:
    """The names a classic-builder word expands with: ENV first, then ARG values (no copy)."""

    __slots__ = ("env", "args")

    def __init__(self, env: EnvState, args: dict):
        self.env, self.args = env, args

    def get(self, key, default=None):
        v = self.env.get(key)
        if v is not None:
            return v
        v = self.args.get(key)
        return default if v is None else v

    def __contains__(self, key):
        return self.get(key) is not None


@dataclass
class Step:
    """One instruction of a build with the key its builder computed for it.

    ``fields`` holds what explanations compare; a value may be a function (computed when first
    read through :meth:`get`, so a step nobody explains costs nothing)."""

    stage: str | None
    stage_index: int | None
    ins: Instruction
    kind: str                 # "op", "metadata", "from", "global", "skipped"
    key: str | None = None
    parent: str | None = None
    prev: "Step | None" = None   # the step whose result ``parent`` is
    kwc: str | None = None    # key without (uncertain) content
    fields: dict = field(default_factory=dict)
    records: list = field(default_factory=list)
    uncertain: bool = False
    unknown_why: str = ""
    error: str = ""

    def get(self, name: str, default=None):
        v = self.fields.get(name, default)
        if callable(v):
            v = v()
            self.fields[name] = v
        return v


class Builder:
    """One builder (and engine version) as its cache sees a Dockerfile.

    Subclasses state their engine's rules in their docstring and implement them:

    * ``name`` (what users type), ``title`` (how text names it), ``since`` (the first engine
      version these rules are for; :func:`imgviz.builders.get_builder` picks by it),
      ``checked_on`` (the engine version the scenario suite proved them on) and
      ``context_rules`` (its engine's parser, its ignore file and context walk);
    * :meth:`stages_to_build`, :meth:`base_identity`, :meth:`set_env`, :meth:`declare_arg`;
    * ``dispatch_<instruction>`` methods, called with the walk, the instruction, the stage's
      :class:`State` and the :class:`Step` to fill;
    * what the engine refuses (:meth:`refusal`, its engine's rules from
      :func:`imgviz.dockerfile.check.rules_for`) and its known quirks
      (:meth:`stale_content_warning`, :meth:`follows_stale_warning`);
    * for explanations: ``explained`` (per instruction, the differences that name why a step
      missed, in order), ``explained_config`` (compared when those find nothing) and
      :meth:`comparable_steps`.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    since: ClassVar[tuple[int, ...]] = (20, 10)
    checked_on: ClassVar[str] = ""
    engine_name: ClassVar[str] = "Docker"        # whose versions ``since`` and ``checked_on`` are
    context_rules: ClassVar[ContextRules] = ContextRules()
    explained: ClassVar[dict[str, tuple[str, ...]]] = {}
    explained_config: ClassVar[tuple[str, ...]] = ()
    move_redefined_env: ClassVar[bool] = False   # ENV of a name already set: to the end, or in place

    def __init__(self, engine_version: str | None = None):
        # the version asked for (the rules are this class's, checked on ``checked_on``)
        self.engine_version = engine_version or self.checked_on
        self._lexers: dict[str, Lexer] = {}
        self._evaluations: dict[int, tuple] = {}

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} builder {self.name!r} "
                f"({self.engine_name} {'.'.join(map(str, self.since))}+)>")

    @property
    def engine(self) -> str:
        """The engine generation whose parser, lexer and walk this builder uses (``"20.10"``, ``"28.5"``)."""
        return self.context_rules.engine

    @property
    def label(self) -> str:
        """How text names these rules: ``BuildKit of Docker 28.5``."""
        return f"{self.title} of Docker {self.engine}"

    @property
    def checked(self) -> str:
        """The engine the scenario suite proved these rules on: ``Docker 28.5.2``, ``podman 4.3.1``."""
        return f"{self.engine_name} {self.checked_on}"

    @property
    def asked(self) -> str:
        """The engine whose rules were asked for, named as :attr:`checked` names it."""
        v = self.engine_version
        return v if v.lower().startswith(self.engine_name.lower()) else f"{self.engine_name} {v}"

    @property
    def rules(self) -> BuilderRules:
        """What this builder refuses, and how it expands words (:mod:`imgviz.dockerfile.check`)."""
        return rules_for(self.engine, self.name)

    def lexer(self, escape: str) -> Lexer:
        lx = self._lexers.get(escape)
        if lx is None:
            lx = self._lexers[escape] = lexer_for(self.engine, escape)
        return lx

    # -- the interface ---------------------------------------------------------------------------
    def read(self, build: BuildInput) -> BuildInput:
        """*build* as this builder reads it (parsed again with its engine's parser if needed)."""
        return build.for_rules(self.context_rules)

    def simulate(self, build: BuildInput, old: "Walk | None" = None) -> "Walk":
        """Every step's key for *build*; with *old* (OLD's walk) uncertain steps borrow OLD's keys."""
        return Walk(self, build, old).run()

    def refusal(self, build: BuildInput) -> BuildRefused | None:
        """Where and why this builder's engine refuses *build* (None when it builds it).

        The parser's refusal, else :meth:`imgviz.dockerfile.check.BuilderRules.check_parsed` on
        the parsed file and the files the builder sends."""
        if build.refusal is not None:
            return build.refusal
        df = build.dockerfile
        if df is None:
            return None
        rules = self.rules
        if not df.stages:
            return rules.refuse(df.path, rules.no_stages(), phase="stage")
        try:
            return rules.check_parsed(df, build.context.kinds, build_args=build.build_args, target=build.target,
                                      base_env=_base_env(build), evaluation=self.evaluate(build))
        except BuildRefused as exc:
            return exc

    def evaluate(self, build: BuildInput) -> Evaluation:
        """Every word this builder expands in *build*, with its scoping (errors kept, not raised).
        Computed once per build input (the refusal check and the walk share it)."""
        got = self._evaluations.get(id(build))
        if got is not None and got[0] is build:
            return got[1]
        ev = self.rules.evaluate(build.dockerfile, build_args=build.build_args, base_env=_base_env(build),
                                 target=build.target, raise_errors=False)
        self._evaluations[id(build)] = (build, ev)
        return ev

    def stages_to_build(self, dockerfile: Dockerfile, target: str | None, global_args: dict) -> set[int]:
        """Indexes of the stages this builder builds for target stage *target* (None: the last)."""
        raise NotImplementedError

    def base_identity(self, base: BaseImage) -> str:
        """What identifies a FROM image in this builder's keys."""
        raise NotImplementedError

    def set_env(self, state: State, key: str, value: str) -> None:
        """Record ``ENV key=value`` in *state*."""
        raise NotImplementedError

    def declare_arg(self, state: State, key: str, value: str | None) -> None:
        """Effect of an ARG with a value beyond being in scope for expansion (none by default)."""

    def scope(self, state: State):
        """The names a word expands with at this point of the stage (a view, never a copy)."""
        raise NotImplementedError

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

    def stale_content_warning(self, paths: list[str]) -> str:
        """Warning for copied files whose content changed but whose size and mtime did not."""
        return ""

    def follows_stale_warning(self, line: int) -> str:
        """Warning for a step rebuilt only because it follows such a step (at *line*)."""
        return ""

    def hit_note(self, step: Step, was: "Step | None") -> str:
        """What the explanation of a cached *step* adds, *was* being OLD's step it reuses: a hit
        the builder makes although an input changed (buildah: an ENV whose text is the same but
        expands otherwise, a RUN whose bind-mounted files changed); empty by default."""
        return ""

    def comparable_steps(self, step: Step, old: "Walk") -> list[Step]:
        """OLD's steps a missed *step* is compared with to say what changed."""
        return old.by_parent.get((step.parent, step.ins.keyword), [])

    # -- how instructions read (both builders; a version that reads them otherwise overrides) ----
    def expand(self, word: str, scope, escape: str) -> str:
        """*word* expanded with *scope* (left as written when it cannot be: the refusal check
        reports the builder's error for the words it expands)."""
        try:
            return self.lexer(escape).process_word(word, scope)
        except ExpansionError:
            return word

    def configure(self, walk: "Walk", ins: Instruction, state: State) -> tuple:
        """Apply a config instruction to *state* (its ``config_<instruction>`` method, with the
        words as :func:`~imgviz.dockerfile.expand.evaluate` expanded them); return its description."""
        method = getattr(self, _CONFIG.get(ins.keyword, "config_other"))
        return method(walk, ins, state, walk.value(ins))

    # each takes the walk, the instruction, the stage's state and the instruction's expanded words
    def config_env(self, walk, ins, state, v):
        pairs = [tuple(p) for p in v.get("env", ())]
        for k, val in pairs:
            self.set_env(state, k, val)
        return ("ENV", pairs)

    def config_arg(self, walk, ins, state, v):
        desc = []
        for (k, default), (_, val) in zip(ins.pairs(), v.get("args", ())):
            if default is not None:
                # the config shows the default (expanded), not a --build-arg value
                default = val if k not in walk.build.build_args else \
                    self.expand(default, self.scope(state), walk.escape)
            desc.append((k, default))
            if val is None and state.args.get(k) is not None:
                continue        # `ARG X` again, without a value: X keeps the value it had
            state.args[k] = val
            self.declare_arg(state, k, val)
        return ("ARG", desc)

    def config_label(self, walk, ins, state, v):
        pairs = [tuple(p) for p in v.get("labels", ())]
        labels = dict(state.labels)
        labels.update(pairs)
        state.labels = tuple(sorted(labels.items()))
        return ("LABEL", pairs)

    def config_user(self, walk, ins, state, v):
        state.user = v.get("value", "")
        return ("USER", state.user)

    def config_expose(self, walk, ins, state, v):
        ports = list(v.get("values", ()))
        state.ports = tuple(sorted(set(state.ports) | {p if "/" in p else p + "/tcp" for p in ports}))
        return ("EXPOSE", ports)

    def config_volume(self, walk, ins, state, v):
        vols = list(v.get("values", ()))
        state.volumes = tuple(sorted(set(state.volumes) | set(vols)))
        return ("VOLUME", vols)

    def config_shell(self, walk, ins, state, v):
        state.shell = list(ins.args)
        return ("SHELL", list(ins.args))

    def config_entrypoint(self, walk, ins, state, v):
        val = list(ins.args) if ins.json else state.shell + [ins.args[0] if ins.args else ""]
        state.entrypoint = tuple(val)
        return ("ENTRYPOINT", val)

    def config_cmd(self, walk, ins, state, v):
        val = list(ins.args) if ins.json else state.shell + [ins.args[0] if ins.args else ""]
        return ("CMD", val)

    def config_stopsignal(self, walk, ins, state, v):
        return ("STOPSIGNAL", v.get("value", ""))

    def config_other(self, walk, ins, state, v):
        """HEALTHCHECK, ONBUILD, MAINTAINER: recorded as written."""
        return (ins.keyword, list(ins.args), list(ins.flags))

    def workdir(self, walk: "Walk", ins: Instruction, state: State) -> str:
        """Set and return the working directory after WORKDIR, as the builder records it
        (:func:`~imgviz.dockerfile.expand.normalize_workdir`: an absolute path as written, except
        where the builder cleans it)."""
        wd = walk.value(ins).get("workdir") or state.workdir
        state.workdir = wd
        return wd

    def run_args(self, ins: Instruction, state: State) -> list:
        """The argv a RUN executes (exec form as written; shell form through the stage's SHELL)."""
        if ins.json:
            return list(ins.args)
        return state.shell + [ins.args[0] if ins.args else ""]

    def mounts(self, walk: "Walk", ins: Instruction, state: State, step: Step) -> list:
        """What ``RUN --mount=type=bind`` mounts, as key parts (other mount types add nothing)."""
        deps = []
        for m in ins.flag_values("mount"):
            m = self.expand(m, self.scope(state), walk.escape)
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
        v = walk.value(ins)
        sources = list(v.get("sources", ()))
        dest_raw = v.get("dest", "")
        dest = dest_raw if dest_raw.startswith("/") else posixpath.join(state.workdir, dest_raw)
        dest_n = posixpath.normpath(dest)
        frm = ins.flag("from")
        chown, chmod = v.get("chown"), v.get("chmod")
        content_unc, why = False, ""
        docs = v.get("heredocs") or []
        ctok = key_hash("heredoc", docs) if docs else None
        if frm:
            frm = self.expand(frm, self.scope(state), walk.escape)
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
            # a source that selects nothing: the builder's refusal check decides whether that fails
            # (it does for a plain path; a wildcard matching nothing copies nothing under BuildKit)
            token, recs, _ = walk.build.context.token(sources) if sources else ("", [], [])
            step.records = recs
            src_desc = "context"
        if ctok:
            token = key_hash(token, ctok)
        step.fields.update({"sources": sources, "dest": dest_raw, "chown": chown, "chmod": chmod,
                            "from": src_desc, "content": token, "link": ins.flag("link") is not None})
        return sources, dest_raw, dest_n, chown, chmod, token, content_unc, why


def _base_env(build: BuildInput) -> dict:
    """FROM reference -> the base image's Env as a mapping (for expansion), where known."""
    out = {}
    for ref, info in (build.base_ids or {}).items():
        if isinstance(info, BaseImage):
            out[ref] = dict(e.split("=", 1) if "=" in e else (e, "") for e in info.env)
    return out


_DISPATCH = {"RUN": "dispatch_run", "COPY": "dispatch_copy", "ADD": "dispatch_add", "WORKDIR": "dispatch_workdir"}
_CONFIG = {kw: "config_" + kw.lower() for kw in
           ("ENV", "ARG", "LABEL", "USER", "EXPOSE", "VOLUME", "SHELL", "ENTRYPOINT", "CMD", "STOPSIGNAL")}


class Walk:
    """One build walked by one builder: every step with its key (``steps``), OLD's keys to look up
    (``keys``) and the keys of content-free definitions (``kwc``).

    The walk covers the instructions the builder's expansion reached: when the build is refused
    (:meth:`Builder.refusal`), the steps after the refused line are not walked."""

    def __init__(self, builder: Builder, build: BuildInput, old: "Walk | None" = None):
        if build.dockerfile is None:
            raise CascadeError(f"{build.path}: the builder refuses this Dockerfile: {build.refusal}")
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
        self.by_parent: dict = {}
        self.values: dict = {}
        self.link_keys: set = set()   # COPY --link: the keys of the copied layers themselves
        self.stopped_at: int | None = None

    # -- helpers -----------------------------------------------------------------------------------
    def old_has(self, key: str | None) -> bool:
        return self.old is not None and key in self.old.keys

    def value(self, ins: Instruction) -> dict:
        """The instruction's words as the builder expanded them."""
        return self.values.get(id(ins), {})

    def target_stage(self):
        """The stage the build produces (``--target`` or the last one)."""
        if self.build.target:
            st = self.dockerfile.stage_by_name(self.build.target)
            if st is None:
                raise CascadeError(f"target stage {self.build.target!r} not found in {self.dockerfile.path}")
            return st
        return self.dockerfile.stages[-1]

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
        ev = self.builder.evaluate(self.build)
        self.values = {id(e.ins): e.values for e in ev.instructions}
        self.meta = dict(ev.global_args)
        need = self.builder.stages_to_build(df, self.build.target, self.meta)
        for ins in df.meta_args:
            self.steps.append(Step(None, None, ins, "global"))
        for st in df.stages:
            if self.stopped_at is not None:
                break
            built = st.index in need
            steps = self.stage_steps.setdefault(st.index, [])
            if built and id(st.from_instruction) not in self.values:
                self.stopped_at = st.from_instruction.line
                break
            state, fstep = self._from(st)
            self.steps.append(fstep)
            steps.append(fstep)
            for ins in st.instructions:
                step = Step(st.label, st.index, ins, "op")
                if not built:
                    step.kind = "skipped"
                elif id(ins) not in self.values:
                    self.stopped_at = ins.line      # the builder's expansion stopped here
                    break
                else:
                    step.prev = state.producer
                    self.builder.dispatch(self, ins, state, step)
                self.steps.append(step)
                steps.append(step)
            if built:
                self.stage_state[st.index] = state
        for s in self.steps:
            if s.fields.get("link_key"):
                self.link_keys.add(s.fields["link_key"])
            if s.key and s.kind in ("op", "from"):
                self.keys.add(s.key)
            if s.kwc:
                self.kwc.setdefault(s.kwc, s.key)
            if s.kind == "op":
                self.by_parent.setdefault((s.parent, s.ins.keyword), []).append(s)
        return self

    def _from(self, st) -> tuple[State, Step]:
        """The state a stage starts from, and its FROM step."""
        v = self.value(st.from_instruction)
        if "base" in v:
            base_ref = v["base"]
        else:                           # a stage the builder skips: expanded here, for the report
            scope = {k: val for k, val in self.meta.items() if val is not None}
            base_ref = self.builder.expand(st.base, scope, self.escape)
        dep = self.dockerfile.stage_by_name(base_ref)
        if dep is not None and dep.index < st.index and dep.index in self.stage_state:
            state = self.stage_state[dep.index].copy()
            state.args = {}
            state.bargs, state.bargs_version = {}, state.bargs_version + 1
            fstep = Step(st.label, st.index, st.from_instruction, "from", key=state.key,
                         fields={"base": f"stage {dep.label}"})
            fstep.uncertain = state.uncertain
            if state.uncertain:
                fstep.unknown_why = f"its base stage {dep.label} has unknown cache outcomes"
            state.producer = fstep
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
        platform = v.get("platform", st.platform)
        key = key_hash("from", image_id, platform)
        state = State(key=key, base_token=key_hash("base", image_id),
                      env=EnvState(env, move=self.builder.move_redefined_env), args={}, user=user,
                      workdir=workdir, shell=shell)
        fstep = Step(st.label, st.index, st.from_instruction, "from", key=key,
                     fields={"base": base_ref, "image": image_id})
        state.producer = fstep
        return state, fstep

    def settle(self, ins: Instruction, state: State, step: Step, key) -> None:
        """Fix a step's key and carry its state forward (the same for every builder).

        An uncertain COPY/ADD takes the old build's key for the same definition
        (optimistic: the content equals what the old build had); once a step is uncertain, every
        later step is too.
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
        state.producer = step
        state.uncertain = step.uncertain
        state.last_op_line = ins.line
