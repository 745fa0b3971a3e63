"""Variable expansion over a whole Dockerfile, with each builder's scoping rules.

:func:`evaluate` walks the stages a build runs and expands every word the builder expands, with
the variables the builder has in scope at that instruction.  The words that are expanded:
FROM (image and ``--platform``, with the global ARGs only), ENV and LABEL (keys and values),
ARG (default values), WORKDIR, USER, STOPSIGNAL, VOLUME, EXPOSE, COPY/ADD (sources, destination,
``--chown``, ``--chmod``) and heredoc bodies of COPY/ADD that are not quoted.  RUN, CMD,
ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD are left to the shell (or to the child build).

Scope (checked on the four engine/builder pairs by tests/data/dockerfile/expansion.json):

* global ARGs (before the first FROM): a ``--build-arg`` value, else the default expanded with
  the global ARGs above it.  Only FROM sees them, and a stage ``ARG NAME`` without a default
  that redeclares one.
* in a stage: the base image's environment, then ENV and ARG in file order.  An ARG has a value
  when given with ``--build-arg`` (used as is), else its default (expanded), else the global
  ARG of that name.  Under BuildKit an ARG with a value is set like an ENV (the later of the two
  wins); under the classic builder an ENV of the same name always wins over an ARG.
* an instruction's words are all expanded with the scope *before* it: ``ENV A=1 B=$A`` gives B
  the old A.

Errors come back as :class:`~imgviz.dockerfile.refusal.BuildRefused` with the line, the builder's
message and ``phase="expand"``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Mapping

from .lexer import ExpansionError, Lexer, lexer_for
from .parser import Dockerfile, Instruction
from .refusal import BuildRefused

__all__ = ["ExpandedInstruction", "StageScope", "Evaluation", "evaluate", "needed_stages", "normalize_workdir"]


@dataclass
class ExpandedInstruction:
    """One instruction with its words expanded (``values``: keyword-specific, see evaluate)."""

    ins: Instruction
    stage: int | None
    values: dict


@dataclass
class StageScope:
    """The variables of one stage after its last instruction."""

    index: int
    env: dict                   # the image's config Env (ENV and the base's), in order
    args: dict                  # ARGs with a value, in order
    run_env: dict               # what a RUN step of this stage sees


@dataclass
class Evaluation:
    instructions: list[ExpandedInstruction] = field(default_factory=list)
    stages: dict[int, StageScope] = field(default_factory=dict)
    global_args: dict = field(default_factory=dict)
    error: BuildRefused | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Scope:
    """The mapping the lexer reads.  BuildKit: one ordered dict, ENV and ARG both write it
    (last write wins).  Classic: ENV first, then ARGs."""

    __slots__ = ("env", "args", "buildkit")

    def __init__(self, env: dict, args: dict, buildkit: bool):
        self.env = env
        self.args = args
        self.buildkit = buildkit

    def get(self, key, default=None):
        v = self.env.get(key)
        if v is not None:
            return v
        if not self.buildkit:
            return self.args.get(key, default)
        return default

    def __contains__(self, key):
        return self.get(key) is not None


def needed_stages(df: Dockerfile, target: str | None, builder: str, global_args: Mapping[str, str] | None = None,
                  lexer: Lexer | None = None) -> list[int]:
    """Indexes of the stages a build of *target* runs: the classic builder runs every stage up
    to the target; BuildKit only those the target depends on (FROM, ``COPY --from``,
    ``RUN --mount=from=``)."""
    stages = df.stages
    tgt = len(stages) - 1
    if target:
        st = df.stage_by_name(target)
        if st is None:
            raise BuildRefused(f"target stage {target!r} could not be found", None, path=df.path, phase="stage")
        tgt = st.index
    if builder == "classic":
        return list(range(tgt + 1))
    need: set[int] = set()
    todo = [tgt]
    while todo:
        i = todo.pop()
        if i in need:
            continue
        need.add(i)
        st = stages[i]
        base = st.base
        if lexer is not None and global_args is not None and "$" in base:
            try:
                base = lexer.process_word(base, global_args)
            except ExpansionError:
                pass
        refs = [base]
        for ins in st.instructions:
            if ins.keyword in ("COPY", "ADD") and ins.flag("from"):
                refs.append(ins.flag("from"))
            for m in ins.flag_values("mount"):
                for part in m.split(","):
                    if part.startswith("from="):
                        refs.append(part[5:])
        for r in refs:
            dep = df.stage_by_name(r)
            if dep is not None and dep.index < i:
                todo.append(dep.index)
    return sorted(need)


def evaluate(df: Dockerfile, *, builder: str = "buildkit", build_args: Mapping[str, str] | None = None,
             base_env: Mapping[str, Mapping[str, str]] | Mapping[str, str] | None = None,
             target: str | None = None, raise_errors: bool = True) -> Evaluation:
    """Expand every word *builder* expands in the stages a build of *target* runs.

    Parameters
    ----------
    df : a parsed Dockerfile (its ``engine`` picks the lexer)
    builder : ``"buildkit"`` or ``"classic"``
    build_args : ``--build-arg`` values
    base_env : the environment of the base image(s): one mapping for every FROM, or a mapping
        from FROM reference to mapping
    raise_errors : raise the first :class:`BuildRefused`; else return it in ``Evaluation.error``

    Returns
    -------
    :class:`Evaluation`: ``instructions`` in file order (stages the build skips are left out),
    per stage the final :class:`StageScope`, the global ARGs.
    """
    if builder not in ("buildkit", "classic"):
        raise ValueError(f"unknown builder {builder!r}; use buildkit or classic")
    ev = Evaluation()
    try:
        _Evaluator(df, builder, dict(build_args or {}), base_env).run(ev, target)
    except BuildRefused as exc:
        if raise_errors:
            raise
        ev.error = exc
    return ev


class _Evaluator:
    def __init__(self, df: Dockerfile, builder: str, build_args: dict, base_env):
        self.df = df
        self.buildkit = builder == "buildkit"
        self.builder = builder
        self.build_args = build_args
        self.base_env = base_env
        self.lex = lexer_for(df.engine, df.escape)
        self.heredoc_lex = lexer_for(df.engine, "\\")
        self.tag = f"{df.engine}-{builder}"

    def fail(self, ins: Instruction, exc: Exception):
        raise BuildRefused(str(exc), ins.line, path=self.df.path, end_line=ins.end_line, text=ins.original,
                           phase="expand", builder=self.tag) from None

    def word(self, ins, w, scope):
        if not w:
            return w
        try:
            return self.lex.process_word(w, scope)
        except ExpansionError as exc:
            self.fail(ins, exc)

    def _base_env(self, ref: str) -> dict:
        be = self.base_env
        if not be:
            return {}
        if all(isinstance(v, str) for v in be.values()):
            return dict(be)
        got = be.get(ref)
        return dict(got) if got else {}

    def run(self, ev: Evaluation, target: str | None) -> None:
        df = self.df
        glob: dict[str, str] = {}
        declared: dict[str, str | None] = {}
        for ins in df.meta_args:
            vals = []
            for k, v in ins.pairs():
                if k in self.build_args:
                    val = self.build_args[k]
                elif v is not None:
                    val = self.word(ins, v, glob)
                else:
                    val = None
                declared[k] = val
                if val is not None:
                    glob[k] = val
                else:
                    glob.pop(k, None)
                vals.append((k, val))
            ev.instructions.append(ExpandedInstruction(ins, None, {"args": vals}))
        ev.global_args = dict(glob)
        need = set(needed_stages(df, target, self.builder, glob, self.lex))
        stage_env: dict[int, tuple[dict, dict]] = {}
        stage_wd: dict[int, str] = {}
        for st in df.stages:
            if st.index not in need:
                continue
            fi = st.from_instruction
            base = self.word(fi, st.base, glob)
            platform = self.word(fi, st.platform, glob) if st.platform else st.platform
            dep = df.stage_by_name(base)
            if dep is not None and dep.index < st.index and dep.index in stage_env:
                env = dict(stage_env[dep.index][0])
            else:
                env = self._base_env(base)
            args: dict[str, str] = {}
            self.workdir = stage_wd.get(dep.index, "") if (dep is not None and dep.index < st.index) else ""
            ev.instructions.append(ExpandedInstruction(fi, st.index, {"base": base, "platform": platform}))
            # BuildKit: one dict the lexer reads, written by ENV and by ARG; the image config
            # keeps the ENV ones.  Classic: the config first, then the ARGs.
            scope = dict(env) if self.buildkit else _Scope(env, args, False)
            for ins in st.instructions:
                vals = self.instruction(ins, scope, env, args, glob)
                ev.instructions.append(ExpandedInstruction(ins, st.index, vals))
            if self.buildkit:
                run_env = dict(scope)
            else:
                run_env = dict(env)
                for k, v in args.items():
                    run_env.setdefault(k, v)
            stage_env[st.index] = (env, args)
            stage_wd[st.index] = self.workdir
            ev.stages[st.index] = StageScope(st.index, dict(env), dict(args), run_env)

    def instruction(self, ins: Instruction, scope, env: dict, args: dict, glob: dict) -> dict:
        kw = ins.keyword
        w = self.word
        if kw == "ENV":
            pairs = [(w(ins, k, scope), w(ins, v, scope)) for k, v in ins.pairs()]
            for k, v in pairs:
                if self.buildkit:
                    scope.pop(k, None)   # BuildKit moves a redefined variable to the end
                    scope[k] = v
                    env.pop(k, None)
                env[k] = v
            return {"env": pairs}
        if kw == "ARG":
            out = []
            for k, v in ins.pairs():
                if k in self.build_args:
                    val = self.build_args[k]
                elif v is not None:
                    val = w(ins, v, scope)
                elif k in glob:
                    val = glob[k]
                else:
                    val = None
                out.append((k, val))
                if val is not None:
                    if self.buildkit:
                        scope.pop(k, None)
                        scope[k] = val
                    args.pop(k, None)
                    args[k] = val
            return {"args": out}
        if kw == "LABEL":
            return {"labels": [(w(ins, k, scope), w(ins, v, scope)) for k, v in ins.pairs()]}
        if kw == "WORKDIR":
            value = w(ins, ins.args[0], scope) if ins.args else ""
            self.workdir = normalize_workdir(self.workdir, value,
                                             clean_absolute=not self.buildkit and self.df.engine == "28.5")
            return {"value": value, "workdir": self.workdir}
        if kw in ("USER", "STOPSIGNAL"):
            return {"value": w(ins, ins.args[0], scope) if ins.args else ""}
        if kw == "VOLUME":
            return {"values": [w(ins, a, scope) for a in ins.args]}
        if kw == "EXPOSE":
            return {"values": [w(ins, a, scope) for a in ins.args]}
        if kw in ("COPY", "ADD"):
            names = {d.name for d in ins.heredocs}
            srcs, docs = [], []
            for a in ins.args[:-1]:
                h = None
                if names:
                    from .parser import parser_for

                    h = parser_for(self.df.engine)("").parse_heredoc(a)
                if h is not None and h[0] in names:
                    doc = next(d for d in ins.heredocs if d.name == h[0])
                    content = doc.content
                    if doc.chomp:
                        content = "\n".join(line.lstrip("\t") for line in content.split("\n"))
                    if doc.expand:
                        try:
                            lx = lexer_for(self.df.engine, "\\")
                            content = _expand_raw(lx, content, scope)
                        except ExpansionError as exc:
                            self.fail(ins, exc)
                    docs.append((doc.name, content))
                else:
                    srcs.append(w(ins, a, scope))
            chown = ins.flag("chown")
            chmod = ins.flag("chmod")
            return {"sources": srcs, "dest": w(ins, ins.args[-1], scope) if ins.args else "",
                    "chown": w(ins, chown, scope) if chown else chown,
                    "chmod": w(ins, chmod, scope) if chmod else chmod,
                    "from": ins.flag("from"), "heredocs": docs}
        return {}


def normalize_workdir(current: str, requested: str, *, clean_absolute: bool = False) -> str:
    """The image's WorkingDir after ``WORKDIR requested``.  A relative path is joined to the current
    directory and cleaned.  An absolute one is kept as written by BuildKit (both engines) and by
    Docker 20.10's classic builder (``/srv/`` is not ``/srv``: the steps after it rebuild); Docker
    28.5's classic builder cleans it (*clean_absolute*)."""
    if requested.startswith("/"):
        return posixpath.normpath(requested).replace("//", "/") if clean_absolute else requested
    if requested == "":
        return current or "/"
    return posixpath.normpath(posixpath.join("/", current or "/", requested))


def _expand_raw(lx: Lexer, text: str, scope) -> str:
    """ExpandRaw of a heredoc body: quotes are not processed (BuildKit's SkipProcessQuotes)."""
    # quotes are plain characters here: hide them from the lexer and put them back
    q = {"'": "\ue000", '"': "\ue001"}
    hidden = text.replace("'", q["'"]).replace('"', q['"'])
    out = lx.process_word(hidden, scope)
    return out.replace(q["'"], "'").replace(q['"'], '"')
