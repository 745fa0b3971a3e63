"""Build-cache cascade: which steps of NEW hit the cache left by building OLD.

The prediction derives, for both builds, the cache key each builder computes
for each step, and calls a step of NEW a hit when its key is among OLD's keys.
That is how both engines decide (a global lookup, not a line-by-line diff),
so reordered instructions and stages are handled as the engine handles them.

Rules per builder
-----------------
classic (``DOCKER_BUILDKIT=0``)
    Every instruction but FROM is a step.  A step is looked up among the
    children of the parent image by its container config: the command (for
    metadata instructions ``#(nop) <INSTR> <expanded args>``; for COPY/ADD the
    hash of the copied files and the destination; for RUN the command line,
    prefixed by the build args in scope that have a value and are not
    shadowed by ENV), Env (ordered), Labels, ExposedPorts, Entrypoint,
    Volumes and User.  After the first miss the parent is a new image, so
    every later step of the stage misses.
buildkit (``DOCKER_BUILDKIT=1``)
    Only FROM, RUN, COPY/ADD and WORKDIR (other than ``/``) are operations
    with cache keys; a key is the operation's definition plus its input's key.
    Metadata instructions (ENV, ARG, LABEL, USER, EXPOSE, CMD, ...) have no
    step; they reach later keys only through state: ENV and ARG values are
    RUN's environment (order matters: a redefinition moves to the end), USER
    is RUN's and WORKDIR's user, WORKDIR is RUN's working directory and the
    base of relative destinations, SHELL is the shell of shell-form RUN.
    COPY/ADD from the context depend on the selected files' content; ``COPY
    --from`` on the content the source stage produced at the source path;
    ``COPY --link`` does not depend on earlier layers.  Stages the target
    does not need are not built.

Reporting: one row per instruction of NEW, in file order.  FROM is reported
hit when the base is the same (it is not a cache lookup; neither engine prints a
verdict for it).  Under BuildKit, metadata instructions (and ``WORKDIR /``) are
reported ``cached=True`` with the reason "metadata only, no build step" and
``kind="metadata"``: the engine runs nothing for them, and their effect shows on
the later steps whose keys they change.  Global ``ARG`` lines before the first
FROM are reported hit (``kind="global"``).  Stages BuildKit does not need for
the target are reported ``None`` with that reason (``kind="skipped"``).

File identity (both builders): path, type, permission bits, size, content,
symlink target; not mtime, not owner.

Facts checked on Docker 20.10.24 by the scenario suite (tests/cascade_scenarios):

* BuildKit identifies a FROM image by the chain ID of its layers, not by its ID
  or tag: a base re-imported with another LABEL still gives hits (pass
  ``base_ids`` from :func:`imgviz.dockerfile.bases.inspect_bases` to know this);
  the classic builder sees a new parent and misses everything.
* The BuildKit client of 20.10 reads ``<Dockerfile>.dockerignore`` in preference
  to ``.dockerignore``; the classic builder does not.
* A comment added to the Dockerfile changes nothing, unless a COPY copies the
  Dockerfile itself (``COPY . .``): then that COPY misses.

Unknown (``cached`` is ``None``): the key depends on files a re-executed RUN
produced (``COPY --from`` a stage whose RUN missed, ``RUN --mount`` of such a
stage, ADD of a URL) and would be a hit if that output is byte-identical.

Known engine quirk flagged in ``warning``: BuildKit transfers the context
incrementally and skips files whose size and mtime did not change
(moby/buildkit#4817), so a content change that keeps both may be missed and
stale content reused.  The prediction says "miss" and warns, on that step and
on the steps that miss only because they follow it.  On Docker 20.10.24 the
engine did reuse the stale file (every step CACHED).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ImgvizError
from ..dockerfile.bases import BaseImage
from ..dockerfile.context import BuildContext, ContextError
from ..dockerfile.lexer import ExpansionError, process_word
from ..dockerfile.parser import Dockerfile, DockerfileSyntaxError, Instruction, parse, parse_file

__all__ = ["cascade", "cascade_steps", "load_build", "BuildInput", "CascadeError", "BUILDERS", "STEP_COLUMNS",
           "advise", "history_cost", "change_counts", "propose_order", "reorder_text"]

BUILDERS = ("buildkit", "classic")
STEP_COLUMNS = ["builder", "stage", "line", "end_line", "instruction", "text", "kind", "cached", "reason", "warning",
                "key", "bytes"]
_BK_OPS = {"FROM", "RUN", "COPY", "ADD", "WORKDIR"}
_DEFAULT_SHELL = ["/bin/sh", "-c"]


class CascadeError(ImgvizError, ValueError):
    """Bad input to the cascade (missing directory, unparsable Dockerfile, bad builder)."""


def _h(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclass
class BuildInput:
    """A Dockerfile and its context, read once.  ``base_ids`` maps FROM references
    to image IDs when known (then a retagged base is recognised as changed)."""

    dockerfile: Dockerfile
    context: BuildContext
    base_ids: dict = field(default_factory=dict)
    build_args: dict = field(default_factory=dict)
    target: str | None = None


def load_build(directory, dockerfile: str = "Dockerfile", *, build_args=None, target=None,
               base_ids=None, prefer_dockerfile_ignore: bool = False) -> BuildInput:
    """Read *directory* (context) and its Dockerfile into a :class:`BuildInput`."""
    d = Path(directory)
    if not d.is_dir():
        raise CascadeError(f"build directory {str(directory)!r} does not exist")
    df_path = Path(dockerfile) if Path(dockerfile).is_absolute() else d / dockerfile
    if not df_path.is_file():
        raise CascadeError(f"no Dockerfile at {str(df_path)!r}")
    try:
        df = parse_file(df_path)
        ctx = BuildContext(d, dockerfile, prefer_dockerfile_ignore)
    except (DockerfileSyntaxError, ContextError, ValueError) as exc:
        raise CascadeError(str(exc)) from None
    return BuildInput(df, ctx, dict(base_ids or {}), dict(build_args or {}), target)


# ---------------------------------------------------------------------------
@dataclass
class _State:
    key: str                       # chain key (BuildKit: op key; classic: image key)
    base_token: str
    env: list                      # [(k, v)] ordered
    args: dict                     # declared ARG -> value or None
    user: str = ""
    workdir: str = "/"
    shell: list = field(default_factory=lambda: list(_DEFAULT_SHELL))
    labels: dict = field(default_factory=dict)
    ports: tuple = ()
    entrypoint: tuple = ()
    volumes: tuple = ()
    pathops: list = field(default_factory=list)   # [(path or None=all, token, uncertain, line)]
    uncertain: bool = False
    last_op_line: int | None = None
    unknown_line: int | None = None   # first step of the chain whose outcome is unknown

    def copy(self) -> "_State":
        return _State(self.key, self.base_token, list(self.env), dict(self.args), self.user, self.workdir,
                      list(self.shell), dict(self.labels), self.ports, self.entrypoint, self.volumes,
                      list(self.pathops), self.uncertain, self.last_op_line, self.unknown_line)

    def env_map(self) -> dict:
        return dict(self.env)


@dataclass
class _Step:
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
    base_line: int | None = None


def _expand(word: str, env: dict, esc: str) -> str:
    try:
        return process_word(word, env, esc)
    except ExpansionError:
        return word


def _overlap(a: str, b: str) -> bool:
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


class _Simulator:
    """Walk one build and compute every step's key for one builder."""

    def __init__(self, build: BuildInput, builder: str, old: "_Simulator | None" = None):
        self.b = build
        self.df = build.dockerfile
        self.esc = self.df.escape
        self.builder = builder
        self.old = old
        self.steps: list[_Step] = []
        self.stage_state: dict[int, _State] = {}
        self.stage_steps: dict[int, list[_Step]] = {}

    # -- helpers --------------------------------------------------------------
    def old_has(self, key: str | None) -> bool:
        return self.old is not None and key in self.old.keys

    def meta_scope(self) -> dict:
        scope = {}
        for ins in self.df.meta_args:
            for k, v in ins.pairs():
                if k in self.b.build_args:
                    scope[k] = self.b.build_args[k]
                elif v is not None:
                    scope[k] = _expand(v, scope, self.esc)
                else:
                    scope.setdefault(k, None)
        return scope

    def needed_stages(self) -> set[int]:
        stages = self.df.stages
        tgt = len(stages) - 1
        if self.b.target:
            st = self.df.stage_by_name(self.b.target)
            if st is None:
                raise CascadeError(f"target stage {self.b.target!r} not found in {self.df.path}")
            tgt = st.index
        if self.builder == "classic":
            return set(range(tgt + 1))
        need, todo = set(), [tgt]
        while todo:
            i = todo.pop()
            if i in need:
                continue
            need.add(i)
            st = stages[i]
            dep = self.df.stage_by_name(st.base)
            if dep is not None and dep.index < i:
                todo.append(dep.index)
            for ins in st.instructions:
                refs = []
                if ins.keyword in ("COPY", "ADD") and ins.flag("from"):
                    refs.append(ins.flag("from"))
                for m in ins.flag_values("mount"):
                    for part in m.split(","):
                        if part.startswith("from="):
                            refs.append(part[5:])
                for r in refs:
                    dep = self.df.stage_by_name(r)
                    if dep is not None and dep.index < i:
                        todo.append(dep.index)
        return need

    # -- content of a stage at a path -----------------------------------------
    def stage_content(self, ref: str, src: str, state_for_image: str) -> tuple[str, bool, str]:
        """(token, uncertain, why) of what ``--from=ref`` holds at *src*."""
        st = self.df.stage_by_name(ref)
        if st is None or st.index not in self.stage_state:
            return _h("image", ref), False, ""
        sstate = self.stage_state[st.index]
        p = _static_prefix(posixpath.normpath(posixpath.join(sstate.workdir, src)) if not src.startswith("/") else src)
        toks, unc, lines = [sstate.base_token], False, []
        for path, tok, u, line in sstate.pathops:
            if path is None or _overlap(path, p):
                toks.append(tok)
                if u:
                    unc = True
                    lines.append(str(line))
        why = (f"{src} in stage {st.label} may have been written by RUN at line {', '.join(lines)}, which "
               "is re-executed") if unc else ""
        return _h("content", p, toks), unc, why

    # -- simulation -------------------------------------------------------------
    def run(self) -> "_Simulator":
        need = self.needed_stages()
        meta = self.meta_scope()
        for ins in self.df.meta_args:
            self.steps.append(_Step(None, None, ins, "global"))
        for st in self.df.stages:
            built = st.index in need
            steps = self.stage_steps.setdefault(st.index, [])
            base_ref = _expand(st.base, {k: v for k, v in meta.items() if v is not None}, self.esc)
            dep = self.df.stage_by_name(base_ref)
            if dep is not None and dep.index < st.index and dep.index in self.stage_state:
                state = self.stage_state[dep.index].copy()
                state.args = {}
                fstep = _Step(st.label, st.index, st.from_instruction, "from", key=state.key,
                              fields={"base": f"stage {dep.label}"})
                fstep.uncertain = state.uncertain
                if state.uncertain:
                    fstep.unknown_why = f"its base stage {dep.label} has unknown cache outcomes"
            else:
                info = self.b.base_ids.get(base_ref, base_ref)
                env, user, workdir, shell = [], "", "/", list(_DEFAULT_SHELL)
                if isinstance(info, BaseImage):
                    # BuildKit keys a base by its layers, the classic builder by image ID
                    image_id = info.chain_id if self.builder == "buildkit" else info.image_id
                    env = [tuple(e.split("=", 1)) if "=" in e else (e, "") for e in info.env]
                    user, workdir = info.user, info.workdir or "/"
                    shell = list(info.shell) or shell
                else:
                    image_id = info
                key = _h("from", image_id, st.platform)
                state = _State(key=key, base_token=_h("base", image_id), env=env, args={}, user=user,
                               workdir=workdir, shell=shell)
                fstep = _Step(st.label, st.index, st.from_instruction, "from", key=key,
                              fields={"base": base_ref, "image": image_id})
            self.steps.append(fstep)
            steps.append(fstep)
            for ins in st.instructions:
                step = _Step(st.label, st.index, ins, "op")
                if not built:
                    step.kind = "skipped"
                else:
                    try:
                        if self.builder == "buildkit":
                            self._buildkit(ins, state, step, meta)
                        else:
                            self._classic(ins, state, step, meta)
                    except ExpansionError as exc:
                        step.error = str(exc)
                self.steps.append(step)
                steps.append(step)
            if built:
                self.stage_state[st.index] = state
        self.keys = {s.key for s in self.steps if s.key and s.kind == "op"}
        self.keys |= {s.key for s in self.steps if s.kind == "from" and s.key}
        self.kwc = {}
        for s in self.steps:
            if s.kwc:
                self.kwc.setdefault(s.kwc, s.key)
        return self

    # -- ARG handling shared by both builders
    def _arg(self, ins, state, meta):
        for k, v in ins.pairs():
            if k in self.b.build_args:
                val = self.b.build_args[k]
            elif v is not None:
                val = _expand(v, state.env_map(), self.esc)
            else:
                val = meta.get(k)
            state.args[k] = val
            if val is not None and self.builder == "buildkit":
                state.env = [(a, b) for a, b in state.env if a != k] + [(k, val)]

    def _env_set(self, state, k, v):
        if self.builder == "buildkit":
            state.env = [(a, b) for a, b in state.env if a != k] + [(k, v)]
        else:
            for i, (a, _) in enumerate(state.env):
                if a == k:
                    state.env[i] = (k, v)
                    break
            else:
                state.env.append((k, v))

    def _expansion_env(self, state):
        env = state.env_map()
        for k, v in state.args.items():
            if v is not None and k not in env:
                env[k] = v
        return env

    def _metadata(self, ins: Instruction, state: _State, meta) -> tuple:
        """Apply a metadata instruction to *state*; return its expanded description."""
        kw = ins.keyword
        env = self._expansion_env(state)
        if kw == "ENV":
            pairs = [(_expand(k, env, self.esc), _expand(v, env, self.esc)) for k, v in ins.pairs()]
            for k, v in pairs:
                self._env_set(state, k, v)
            return ("ENV", pairs)
        if kw == "ARG":
            self._arg(ins, state, meta)
            return ("ARG", [(k, None if v is None else _expand(v, env, self.esc)) for k, v in ins.pairs()])
        if kw == "LABEL":
            pairs = [(_expand(k, env, self.esc), _expand(v, env, self.esc)) for k, v in ins.pairs()]
            state.labels.update(pairs)
            return ("LABEL", pairs)
        if kw == "USER":
            state.user = _expand(ins.args[0], env, self.esc)
            return ("USER", state.user)
        if kw == "EXPOSE":
            ports = [_expand(a, env, self.esc) for a in ins.args]
            state.ports = tuple(sorted(set(state.ports) | {p if "/" in p else p + "/tcp" for p in ports}))
            return ("EXPOSE", ports)
        if kw == "VOLUME":
            vols = [_expand(a, env, self.esc) for a in ins.args]
            state.volumes = tuple(sorted(set(state.volumes) | set(vols)))
            return ("VOLUME", vols)
        if kw == "SHELL":
            state.shell = list(ins.args)
            return ("SHELL", list(ins.args))
        if kw == "ENTRYPOINT":
            val = list(ins.args) if ins.json else state.shell + [ins.args[0] if ins.args else ""]
            state.entrypoint = tuple(val)
            return ("ENTRYPOINT", val)
        if kw == "CMD":
            val = list(ins.args) if ins.json else state.shell + [ins.args[0] if ins.args else ""]
            return ("CMD", val)
        if kw == "STOPSIGNAL":
            return ("STOPSIGNAL", _expand(ins.args[0], env, self.esc))
        return (kw, list(ins.args), list(ins.flags))

    def _workdir(self, ins, state):
        env = self._expansion_env(state)
        p = _expand(ins.args[0], env, self.esc)
        wd = posixpath.normpath(posixpath.join(state.workdir, p)) if not p.startswith("/") else posixpath.normpath(p)
        if wd.startswith("//"):
            wd = "/" + wd.lstrip("/")
        state.workdir = wd
        return wd

    def _run_args(self, ins, state):
        if ins.json:
            return list(ins.args)
        return state.shell + [ins.args[0]]

    def _mount_deps(self, ins, state, step) -> list:
        deps = []
        for m in ins.flag_values("mount"):
            opts = dict(part.partition("=")[::2] for part in m.split(","))
            mtype = opts.get("type", "bind")
            if mtype != "bind":
                continue
            src = opts.get("source", opts.get("src", "/"))
            frm = opts.get("from")
            if frm:
                tok, unc, why = self.stage_content(frm, src if src.startswith("/") else "/" + src, frm)
                if unc:
                    step.uncertain, step.unknown_why = True, why
                deps.append(("mount", frm, src, tok))
            else:
                tok, recs, missing = self.b.context.token([src])
                step.records.extend(recs)
                deps.append(("mount", "context", src, tok))
        return deps

    def _copy_parts(self, ins, state, step):
        env = self._expansion_env(state)
        raw = list(ins.args)
        dest_raw = _expand(raw[-1], env, self.esc)
        sources = [_expand(s, env, self.esc) for s in raw[:-1]]
        dest = dest_raw if dest_raw.startswith("/") else posixpath.join(state.workdir, dest_raw)
        dest_n = posixpath.normpath(dest)
        frm = ins.flag("from")
        chown = ins.flag("chown")
        chown = _expand(chown, env, self.esc) if chown else chown
        chmod = ins.flag("chmod")
        content_unc, why = False, ""
        if ins.heredocs:
            names = {d.name for d in ins.heredocs}
            contents = [(d.name, d.content) for d in ins.heredocs]
            sources = [s for s in sources if s.lstrip("<-").strip("'\"") not in names]
            ctok = _h("heredoc", contents)
        else:
            ctok = None
        if frm:
            frm = _expand(frm, self._expansion_env(state), self.esc)
            toks = []
            for s in sources:
                t, u, w = self.stage_content(frm, s if s.startswith("/") else "/" + s, frm)
                toks.append(t)
                if u:
                    content_unc, why = True, w
            token = _h("from", frm, toks)
            src_desc = f"--from={frm}"
        elif any(s.startswith(("http://", "https://", "git@")) for s in sources) and ins.keyword == "ADD":
            token = _h("remote", sources)
            content_unc, why = True, "ADD of a remote URL: the key depends on what the server returns"
            src_desc = "remote"
        else:
            token, recs, missing = self.b.context.token(sources) if sources else ("", [], [])
            step.records = recs
            if missing:
                step.error = f"source not in the build context: {', '.join(missing)} (the build would fail)"
            src_desc = "context"
        if ctok:
            token = _h(token, ctok)
        step.fields.update({"sources": sources, "dest": dest_raw, "chown": chown, "chmod": chmod,
                            "from": src_desc, "content": token, "link": ins.flag("link") is not None})
        return sources, dest_raw, dest_n, chown, chmod, token, content_unc, why

    def _buildkit(self, ins: Instruction, state: _State, step: _Step, meta) -> None:
        kw = ins.keyword
        if kw not in _BK_OPS:
            step.kind = "metadata"
            step.fields["desc"] = self._metadata(ins, state, meta)
            return
        parent = state.key
        step.parent = parent
        if kw == "WORKDIR":
            wd = self._workdir(ins, state)
            step.fields.update({"workdir": wd, "user": state.user})
            if wd == "/":
                step.kind = "metadata"
                return
            key = _h("mkdir", parent, wd, state.user)
            state.pathops.append((wd, _h("mkdir", wd, state.user), False, ins.line))
        elif kw == "RUN":
            args = self._run_args(ins, state)
            env = [f"{k}={v}" for k, v in state.env]
            flags = [f for f in ins.flags if not f.startswith("--mount")]
            deps = self._mount_deps(ins, state, step)
            docs = [(d.name, d.content, d.expand, d.chomp) for d in ins.heredocs]
            step.fields.update({"args": args, "env": env, "cwd": state.workdir, "user": state.user,
                                "flags": flags, "mounts": deps, "heredocs": docs})
            step.kwc = _h("exec", parent, args, env, state.workdir, state.user, flags,
                          [d[:3] for d in deps], docs)
            key = _h("exec", parent, args, env, state.workdir, state.user, flags, deps, docs)
        else:  # COPY / ADD
            sources, dest_raw, dest_n, chown, chmod, token, unc, why = self._copy_parts(ins, state, step)
            link = ins.flag("link") is not None
            base = "scratch" if link else parent
            op = (kw, sources, dest_n + ("/" if dest_raw.endswith("/") else ""), chown, chmod, step.fields["from"])
            step.kwc = _h("file", base, op)
            key = _h("file", base, op, token)
            if unc:
                step.uncertain, step.unknown_why = True, why
            state.pathops.append((dest_n, _h("copy", op, token), unc, ins.line))
        self._settle(ins, state, step, key)

    def _classic(self, ins: Instruction, state: _State, step: _Step, meta) -> None:
        kw = ins.keyword
        parent = state.key
        step.parent = parent
        if kw == "RUN":
            args = self._run_args(ins, state)
            envkeys = {k for k, _ in state.env}
            bargs = sorted(f"{k}={v}" for k, v in state.args.items() if v is not None and k not in envkeys)
            cmd = ([f"|{len(bargs)}"] + bargs if bargs else []) + args
            desc = ("RUN", cmd, [f for f in ins.flags])
            deps = self._mount_deps(ins, state, step)
            step.fields.update({"args": args, "buildargs": bargs})
        elif kw in ("COPY", "ADD"):
            sources, dest_raw, dest_n, chown, chmod, token, unc, why = self._copy_parts(ins, state, step)
            desc = (kw, token, dest_raw, chown, chmod)
            deps = []
            if unc:
                step.uncertain, step.unknown_why = True, why
            state.pathops.append((dest_n, _h("copy", kw, sources, dest_n, chown, chmod, token), unc, ins.line))
        elif kw == "WORKDIR":
            wd = self._workdir(ins, state)
            desc = ("WORKDIR", wd)
            deps = []
            state.pathops.append((wd, _h("mkdir", wd), False, ins.line))
            step.fields.update({"workdir": wd})
        else:
            desc = self._metadata(ins, state, meta)
            deps = []
        cfg = (desc, [f"{k}={v}" for k, v in state.env], sorted(state.labels.items()), list(state.ports),
               list(state.entrypoint) if kw != "RUN" else [], list(state.volumes), state.user, deps)
        step.fields.update({"desc": desc, "env": cfg[1], "labels": cfg[2], "ports": cfg[3], "user": state.user})
        if kw in ("COPY", "ADD"):
            step.kwc = _h("classic", parent, (desc[0],) + desc[2:], cfg[1:])
        key = _h("classic", parent, cfg)
        self._settle(ins, state, step, key)

    def _settle(self, ins: Instruction, state: _State, step: _Step, key) -> None:
        """Fix a step's key and carry its state forward (the same for both builders).

        An uncertain COPY/ADD takes the old build's key for the same definition (optimistic: the
        content equals what the old build had); once a step is uncertain, every later step is too.
        """
        kw = ins.keyword
        if step.uncertain and step.kwc is not None and self.old is not None:
            key = self.old.kwc.get(step.kwc, key)
        step.key = key
        if step.uncertain and state.unknown_line is None:
            state.unknown_line = ins.line
        elif state.uncertain and not step.uncertain:
            step.unknown_why = f"it follows line {state.unknown_line}, whose cache outcome is unknown"
        step.uncertain = step.uncertain or state.uncertain
        if kw == "RUN":
            hit = self.old_has(key) and not step.uncertain
            state.pathops.append((None, _h("run-out", key), not hit and self.old is not None, ins.line))
        state.key = key
        state.uncertain = step.uncertain
        state.last_op_line = ins.line


# ---------------------------------------------------------------------------
def _fmt_env_diff(old_env, new_env) -> str:
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


def _file_diff(old_recs, new_recs, old_ctx, new_ctx) -> tuple[str, bool, list]:
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


def _compat_warning(step: _Step, builder: str) -> str:
    """Features the engine of this project (Docker 20.10) does not build."""
    ins = step.ins
    if builder == "buildkit":
        if ins.heredocs:
            return "heredocs need Dockerfile frontend 1.4+; Docker 20.10's built-in frontend fails on them"
        if ins.flag("link") is not None:
            return "COPY --link needs Dockerfile frontend 1.4+; Docker 20.10's built-in frontend rejects it"
    else:
        for f in ("link", "chmod"):
            if ins.flag(f) is not None:
                return f"the classic builder does not support --{f}; the build fails"
        if ins.heredocs or ins.flag_values("mount"):
            return "the classic builder does not support heredocs or RUN --mount; the build fails"
    return ""


def _explain(step: _Step, sim_new: _Simulator, sim_old: _Simulator, builder: str, flagged: set, old_ctx, new_ctx):
    """Return (cached, reason, warning)."""
    ins = step.ins
    if step.kind == "global":
        return True, "global ARG before FROM: not a build step (it only feeds FROM)", ""
    if step.kind == "skipped":
        return None, "stage not needed for the target: BuildKit does not build it", ""
    if step.kind == "metadata":
        what = {
            "ENV": "changes the environment of later RUN steps",
            "ARG": "its value is in the environment of later RUN steps",
            "USER": "sets the user of later RUN and WORKDIR steps",
            "WORKDIR": "sets the working directory of later steps",
            "SHELL": "sets the shell of later shell-form RUN steps",
        }.get(ins.keyword, "image configuration only")
        return True, f"metadata only, no build step; {what}", ""
    if step.error:
        return False, step.error, ""
    old_steps_by_key = {}
    for s in sim_old.steps:
        if s.key:
            old_steps_by_key.setdefault(s.key, s)
    hit = step.key in sim_old.keys
    warning = ""
    if step.kind == "from":
        if hit:
            return True, f"same base ({step.fields.get('base')}); FROM itself is not looked up in the cache", ""
        olds = [s for s in sim_old.steps if s.kind == "from" and s.stage_index == step.stage_index]
        was = olds[0].fields.get("base") if olds else None
        if step.uncertain:
            return None, "base stage depends on re-executed RUN output", ""
        return False, f"base changed: {was} -> {step.fields.get('base')}" if was else "new base", ""
    if hit and step.uncertain:
        why = step.unknown_why or "an earlier step depends on output of a re-executed RUN"
        return None, f"unknown: {why}; hit only if that output is byte-identical", ""
    # find the comparable old step: same parent, same instruction
    if step.parent in sim_old.keys or step.parent is None:
        cands = [s for s in sim_old.steps if s.parent == step.parent and s.ins.keyword == ins.keyword]
        if ins.keyword in ("COPY", "ADD") and builder == "buildkit" and step.fields.get("link"):
            cands = [s for s in sim_old.steps if s.ins.keyword == ins.keyword and s.fields.get("dest") == step.fields.get("dest")]
    else:
        cands = []
    if hit:
        reason = "same instruction and inputs as the old build"
        old = old_steps_by_key.get(step.key)
        if ins.keyword in ("COPY", "ADD") and old is not None and step.records:
            desc, mtime_only, _ = _file_diff(old.records, step.records, old_ctx, new_ctx)
            reason = "copied files unchanged" + (" (only mtimes differ; mtime is not part of file identity)" if mtime_only else "")
        if old is not None and old.ins.line != ins.line:
            reason += f" (old line {old.ins.line})"
        return True, reason, warning
    # miss
    if step.parent is not None and step.parent not in sim_old.keys:
        prev = None
        for s in sim_new.steps:
            if s is step:
                break
            if s.key == step.parent:
                prev = s
        if prev is not None and prev.kind != "from":
            if prev.key in flagged:
                warning = (f"BuildKit may wrongly hit if it reuses line {prev.ins.line} "
                           "(moby/buildkit#4817)")
            return False, f"follows a rebuilt step (line {prev.ins.line}); its parent layer is new", warning
        if prev is not None and prev.kind == "from":
            return False, "base image changed", warning
    if not cands:
        return False, f"no {ins.keyword} step of the old build follows the same parent (instruction added, moved or changed)", warning
    # diff against the closest candidate
    reasons = []
    for old in cands:
        f_new, f_old = step.fields, old.fields
        r = []
        if ins.keyword == "RUN":
            if f_new.get("args") != f_old.get("args"):
                r.append("command text changed")
            if builder == "buildkit":
                if f_new.get("env") != f_old.get("env"):
                    r.append(_fmt_env_diff(f_old.get("env", []), f_new.get("env", [])))
                if f_new.get("cwd") != f_old.get("cwd"):
                    r.append(f"working directory {f_old.get('cwd')} -> {f_new.get('cwd')}")
                if f_new.get("user") != f_old.get("user"):
                    r.append(f"user {f_old.get('user') or 'root'} -> {f_new.get('user') or 'root'}")
                if f_new.get("flags") != f_old.get("flags") or f_new.get("mounts") != f_old.get("mounts"):
                    r.append("RUN flags or mounted content changed")
            else:
                if f_new.get("buildargs") != f_old.get("buildargs"):
                    r.append("build args in scope changed (they prefix the cached command)")
        if ins.keyword in ("COPY", "ADD"):
            if f_new.get("content") != f_old.get("content"):
                if f_new.get("from") == "context" and f_new.get("sources") == f_old.get("sources"):
                    desc, _, stale = _file_diff(old.records, step.records, old_ctx, new_ctx)
                    r.append(f"copied files changed: {desc}" if desc else "copied files changed")
                    if stale and builder == "buildkit":
                        warning = ("BuildKit may wrongly hit: " + ", ".join(stale[:3]) +
                                   " changed but kept size and mtime (moby/buildkit#4817)")
                elif f_new.get("sources") != f_old.get("sources"):
                    r.append("sources changed")
                else:
                    r.append("source content changed")
            for k in ("dest", "chown", "chmod"):
                if f_new.get(k) != f_old.get(k):
                    r.append(f"{k} changed")
        if ins.keyword == "WORKDIR":
            if f_new.get("workdir") != f_old.get("workdir"):
                r.append(f"path {f_old.get('workdir')} -> {f_new.get('workdir')}")
            elif f_new.get("user") != f_old.get("user"):
                r.append("user changed (WORKDIR creates the directory as the user)")
        if builder == "classic" and not r:
            if f_new.get("desc") != f_old.get("desc"):
                r.append(f"{ins.keyword} arguments changed")
            if f_new.get("env") != f_old.get("env"):
                r.append(_fmt_env_diff(f_old.get("env", []), f_new.get("env", [])))
            if f_new.get("labels") != f_old.get("labels"):
                r.append("labels changed (part of the compared config)")
            if f_new.get("ports") != f_old.get("ports"):
                r.append("exposed ports changed (part of the compared config)")
            if f_new.get("user") != f_old.get("user"):
                r.append("user changed (part of the compared config)")
        if r:
            reasons.append("; ".join(r))
    reason = reasons[0] if reasons else "definition differs from the old build's step"
    return False, reason, warning


def _history_bytes(sim_old: "_Simulator", sim_new: "_Simulator", history) -> dict[int, int]:
    """Bytes of the old image's layer for each NEW step (by step position), where known.

    The old image's history ends with one entry per instruction of the target stage (both
    builders record one entry per instruction, empty ones included).  A NEW step takes the size of
    the entry made by the OLD instruction with the same text in the same stage, else the one at the
    same position."""
    if history is None or len(history) == 0:
        return {}
    hist = history.sort_values("index") if "index" in history.columns else history
    sizes = [int(x) if pd.notna(x) else None for x in hist["size"].tolist()]
    last = sim_old.df.stages[-1] if not sim_old.b.target else sim_old.df.stage_by_name(sim_old.b.target)
    old_rows = [s for s in sim_old.steps if s.stage_index == last.index and s.kind != "from"]
    if len(old_rows) > len(sizes):
        return {}
    entry = dict(zip((id(s) for s in old_rows), sizes[len(sizes) - len(old_rows):]))
    by_text = {}
    for s in old_rows:
        by_text.setdefault(s.ins.original, entry[id(s)])
    out = {}
    new_rows = [(i, s) for i, s in enumerate(sim_new.steps) if s.stage_index == last.index and s.kind != "from"]
    for j, (i, s) in enumerate(new_rows):
        if s.ins.original in by_text:
            out[i] = by_text[s.ins.original]
        elif j < len(old_rows):
            out[i] = entry[id(old_rows[j])]
    return out


def cascade_steps(old: BuildInput, new: BuildInput, builder: str = "buildkit", history=None) -> pd.DataFrame:
    """Predict, for every instruction of *new*, whether it hits the cache *old* left.

    Pure: reads only the two :class:`BuildInput` objects (their contexts hash file
    contents lazily).  See the module docstring for the rules.

    Returns
    -------
    DataFrame with columns ``STEP_COLUMNS``: ``cached`` is True, False or None
    (unknown), ``reason`` says why, ``warning`` flags known engine quirks.  With *history* (the
    old image's history frame: ``index``, ``size``), ``bytes`` is the size of the layer a missed
    step rewrites, estimated by the old image's layer for the same instruction (0 for hits, NA
    where unknown).
    """
    if builder not in BUILDERS:
        raise CascadeError(f"unknown builder {builder!r}; use one of {', '.join(BUILDERS)}")
    sim_old = _Simulator(old, builder).run()
    sim_new = _Simulator(new, builder, old=sim_old).run()
    rows = []
    flagged: set = set()
    sizes = _history_bytes(sim_old, sim_new, history)
    for pos, step in enumerate(sim_new.steps):
        cached, reason, warning = _explain(step, sim_new, sim_old, builder, flagged, old.context, new.context)
        compat = _compat_warning(step, builder) if step.kind in ("op", "metadata") else ""
        if compat:
            warning = f"{warning}; {compat}" if warning else compat
        if warning and "4817" in warning and step.key:
            flagged.add(step.key)
        rows.append({
            "builder": builder,
            "stage": step.stage,
            "line": step.ins.line,
            "end_line": step.ins.end_line,
            "instruction": step.ins.keyword,
            "text": step.ins.original,
            "kind": step.kind,
            "cached": cached,
            "reason": reason,
            "warning": warning,
            "key": step.key[:12] if step.key else None,
            "bytes": (0 if cached else sizes.get(pos)) if sizes else None,
        })
    df = pd.DataFrame(rows, columns=STEP_COLUMNS)
    df["cached"] = df["cached"].astype("object")
    df["bytes"] = df["bytes"].astype("Int64")
    return df


def cascade(old, new, builder: str = "buildkit", *, dockerfile: str = "Dockerfile", build_args=None,
            target=None, base_ids=None, prefer_dockerfile_ignore: bool | None = None,
            history=None) -> pd.DataFrame:
    """Predict which steps of NEW rebuild after OLD was built (``imgviz.cascade``).

    Parameters
    ----------
    old, new : build directories (Dockerfile + context) or :class:`BuildInput`
    builder : ``"buildkit"`` (default) or ``"classic"``
    dockerfile : Dockerfile path relative to each directory
    build_args : ``--build-arg`` values used for both builds
    target : ``--target`` stage
    base_ids : optional ``(old_map, new_map)`` of FROM reference -> image ID or
        :class:`~imgviz.dockerfile.bases.BaseImage` (see :func:`~imgviz.dockerfile.bases.inspect_bases`);
        without it a base is identified by its reference text
    history : the old image's history frame (``imgviz`` history frame of one image, or any frame
        with ``index`` and ``size``), to fill ``bytes``
    prefer_dockerfile_ignore : use ``<Dockerfile>.dockerignore`` over ``.dockerignore``;
        default: yes for BuildKit (Docker 20.10's BuildKit client does), no for classic

    Returns
    -------
    DataFrame, one row per instruction of NEW's Dockerfile; see :func:`cascade_steps`.

    Examples
    --------
    >>> steps = imgviz.cascade("v1/", "v2/", builder="classic")  # doctest: +SKIP
    >>> steps[["line", "instruction", "cached", "reason"]]  # doctest: +SKIP
    """
    if builder not in BUILDERS:
        raise CascadeError(f"unknown builder {builder!r}; use one of {', '.join(BUILDERS)}")
    ob, nb = base_ids if base_ids else ({}, {})
    if prefer_dockerfile_ignore is None:
        prefer_dockerfile_ignore = builder == "buildkit"
    if not isinstance(old, BuildInput):
        old = load_build(old, dockerfile, build_args=build_args, target=target, base_ids=ob,
                         prefer_dockerfile_ignore=prefer_dockerfile_ignore)
    if not isinstance(new, BuildInput):
        new = load_build(new, dockerfile, build_args=build_args, target=target, base_ids=nb,
                         prefer_dockerfile_ignore=prefer_dockerfile_ignore)
    return cascade_steps(old, new, builder, history=history)


# ---------------------------------------------------------------------------
# Advisor: cost of a history of changes, and an order of instructions that rebuilds less
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
        return not (da and db and not _overlap(da, db))
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
    import heapq

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


def history_cost(builds: list[BuildInput], builder: str = "buildkit", labels=None) -> pd.DataFrame:
    """Steps each change of *builds* (oldest first) rebuilds, by the cascade rules.

    Returns one row per change: ``change`` (label), ``rebuilt`` (steps with cached False),
    ``unknown``, ``steps`` (instructions), ``copied_bytes`` (bytes of context files that
    rebuilt COPY/ADD steps copy; exact, from the context)."""
    rows = []
    labels = list(labels) if labels is not None else [str(i) for i in range(len(builds))]
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


def advise(builds: list[BuildInput], builder: str = "buildkit", labels=None) -> dict:
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
        reordered.append(BuildInput(parse(new_text, b.dockerfile.path), b.context, b.base_ids, b.build_args, b.target))
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
