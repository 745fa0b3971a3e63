"""What each builder refuses, before anything is built: one class per engine and builder.

:func:`check_build` reads a Dockerfile and its context the way one builder does and returns the
first :class:`~imgviz.dockerfile.refusal.BuildRefused` that builder would stop with (or None).
The order follows the builder: BuildKit parses the whole file, checks every instruction, resolves
the stages and expands every word of the stages it needs before it runs anything, then fails on
the first missing context file; the classic builder parses and checks the whole file, then goes
step by step (a missing file at line 3 stops it before a bad ``${`` at line 5 is read).

The four classes (:class:`BuildKit28`, :class:`Classic28`, :class:`BuildKit2010`,
:class:`Classic2010`) hold what differs; tests/data/dockerfile/accept.json records what each real
builder did with the same inputs.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re

_SURR = re.compile("[\udc80-\udcff]")
from pathlib import Path
from typing import Mapping

from .expand import Evaluation, evaluate, needed_stages
from .ignore import IgnoreError, read_dockerignore
from .lexer import ExpansionError, lexer_for
from .parser import Dockerfile, DockerfileSyntaxError, Instruction, parse, read_dockerfile
from .refusal import BuildRefused
from .walk import image_paths, walker_for

__all__ = ["BuilderRules", "BuildKit28", "Classic28", "BuildKit2010", "Classic2010", "rules_for", "check_build",
           "validate_reference"]


# -- image references (distribution/reference grammar) -----------------------------------------
_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_PATH_COMP = f"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMP = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMP}(?:\.{_DOMAIN_COMP})*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMP}(?:/{_PATH_COMP})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?\Z", re.ASCII)
_ANCHORED_ID = re.compile(r"^[a-f0-9]{64}\Z")


def validate_reference(ref: str) -> str | None:
    """Why ``reference.ParseNormalizedNamed`` rejects *ref*, or None when it is a valid reference."""
    if _ANCHORED_ID.match(ref):
        return f"invalid repository name ({ref}), cannot specify 64-byte hexadecimal strings"
    domain, _, remainder = ref.partition("/")
    if not remainder or ("." not in domain and ":" not in domain and domain != "localhost"
                         and domain.lower() == domain):
        remote = ref if not remainder else ref
    else:
        remote = remainder
    name_part = remote.split("@")[0]
    name_only = name_part.rsplit(":", 1)[0] if ":" in name_part.split("/")[-1] else name_part
    if name_only.lower() != name_only:
        return f"invalid reference format: repository name ({_library(remote, remainder)}) must be lowercase"
    m = _REFERENCE.match(ref)
    if not m:
        if ref == "":
            return "repository name must have at least one component"
        return "invalid reference format"
    if len(m.group(1)) > 255:
        return "repository name must not be more than 255 characters"
    dg = m.group(3)
    if dg:
        alg, _, hexpart = dg.partition(":")
        if alg == "sha256" and len(hexpart) != 64:
            return "invalid checksum digest length"
        if alg == "sha512" and len(hexpart) != 128:
            return "invalid checksum digest length"
        if alg not in ("sha256", "sha384", "sha512"):
            return "unsupported digest algorithm"
    return None


def _library(remote: str, had_domain: str) -> str:
    name = remote.split("@")[0]
    last = name.split("/")[-1]
    if ":" in last:
        name = name.rsplit(":", 1)[0]
    if "/" not in name and not had_domain:
        return "library/" + name
    return name


# -- dispatch-time checks the builders share ---------------------------------------------------------
_SIGNALS = {"ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE",
            "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU",
            "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX"}
_SIGNALS |= {f"RTMIN+{i}" for i in range(1, 16)} | {f"RTMAX-{i}" for i in range(1, 15)}


def signal_error(sig: str) -> str | None:
    """moby/sys signal.ParseSignal."""
    if re.fullmatch(r"[+-]?[0-9]+", sig):
        return "Invalid signal: " + sig if int(sig) == 0 else None
    name = sig.upper()
    if name.startswith("SIG"):
        name = name[3:]
    return None if name in _SIGNALS else "Invalid signal: " + sig


def _port_range(p: str) -> bool:
    lo, _, hi = p.partition("-")
    for x in (lo, hi) if hi or "-" in p else (lo,):
        if not re.fullmatch(r"[0-9]+", x) or int(x) > 65535:
            return False
    return not hi or int(lo) <= int(hi)


def port_error(raw: str, capital: bool) -> str | None:
    """docker/go-connections nat.ParsePortSpec as EXPOSE uses it."""
    cap = (lambda s: s[0].upper() + s[1:]) if capital else (lambda s: s)
    parts = raw.split(":")
    ip = host = ""
    if len(parts) == 1:
        container = raw
    elif len(parts) == 2:
        host, container = parts
    else:
        ip, host, container = ":".join(parts[:-2]), parts[-2], parts[-1]
    pp = container.split("/")
    if not container or not pp[0]:
        proto, container = "", ""
    elif len(pp) == 1 or not pp[1]:
        proto, container = "tcp", pp[0]
    else:
        proto, container = pp[1], pp[0]
    if container == "":
        return cap(f"no port specified: {raw}<empty>")
    if not _port_range(container):
        return cap(f"invalid containerPort: {container}")
    if host and not _port_range(host):
        return cap(f"invalid hostPort: {host}")
    if proto.lower() not in ("tcp", "udp", "sctp"):
        return cap(f"invalid proto: {proto}")
    return None


# -------------------------------------------------------------------------------------------------
class BuilderRules:
    """Base: Docker 28.5 with BuildKit.  Subclasses change what differs."""

    engine = "28.5"
    builder = "buildkit"
    prefer_dockerfile_ignore = True
    capital_port_errors = False
    lowercase_signal = True
    name_in_lowercase_error = True  # "repository name (library/X) must be lowercase"
    expansion_in_from_flag = "refuse"
    invalid_utf8_in_run = True      # BuildKit v0.25 cannot marshal a RUN with bytes that are not UTF-8
    buildkit_only_flags = ()        # classic: flags that need BuildKit

    @property
    def name(self) -> str:
        return f"{self.engine}-{self.builder}"

    @property
    def buildkit(self) -> bool:
        return self.builder == "buildkit"

    # -- reading ---------------------------------------------------------------------------------
    def parse(self, text: str | bytes, path: str = "Dockerfile") -> Dockerfile:
        return parse(text, path, engine=self.engine)

    def walk(self, root, patterns: list[str], dockerfile: str = "Dockerfile") -> dict:
        return walker_for(self.engine, self.builder)(Path(root), patterns, dockerfile)

    def ignore_patterns(self, root, dockerfile: str) -> list[str]:
        pats, _ = read_dockerignore(root, dockerfile, self.prefer_dockerfile_ignore)
        return pats

    def evaluate(self, df: Dockerfile, **kw) -> Evaluation:
        return evaluate(df, builder=self.builder, **kw)

    # -- messages ----------------------------------------------------------------------------------
    def empty_dockerfile(self, name: str) -> str:
        return "the Dockerfile cannot be empty"

    def no_stages(self) -> str:
        return "dockerfile contains no stages to build"

    def missing_source(self, kw: str, src: str) -> str:
        return f'failed to compute cache key: failed to calculate checksum of ref: "/{_clean_src(src)}": not found'

    def no_source_files(self, kw: str) -> str | None:
        return None                 # BuildKit copies nothing and goes on

    def outside_context(self, kw: str, src: str) -> str | None:
        return None                 # BuildKit cleans ../a to /a

    def bad_reference(self, base: str, msg: str) -> str:
        return f"failed to parse stage name {_go_q(base)}: {msg}"

    def bad_from_flag(self, frm: str, msg: str) -> str:
        return f"failed to parse stage name {_go_q(frm)}: {msg}"

    def port_error(self, raw: str) -> str | None:
        msg = port_error(raw, self.capital_port_errors)
        if msg and "proto" in msg and not self.capital_port_errors:
            return f"invalid port: {_go_q(raw)}: {msg}"
        return msg

    def signal_error(self, sig: str) -> str | None:
        msg = signal_error(sig)
        return msg[0].lower() + msg[1:] if msg and self.lowercase_signal else msg

    def reference_error(self, ref: str) -> str | None:
        msg = validate_reference(ref)
        if msg and not self.name_in_lowercase_error:
            msg = re.sub(r"repository name \(.*\) must be lowercase", "repository name must be lowercase", msg)
        return msg

    def not_local(self, ref: str) -> str:
        return f"{ref}: not a stage, not a local image, and no registry reachable to pull it"

    def duplicate_stage(self, name: str) -> str | None:
        return None                 # BuildKit warns only

    def later_stage(self, frm: str, st) -> str | None:
        return None

    # -- the check ---------------------------------------------------------------------------------
    def refuse(self, df_path: str, message: str, ins: Instruction | None = None, phase: str = "stage",
               line: int | None = None) -> BuildRefused:
        return BuildRefused(message, line if line is not None else (ins.line if ins else None), path=df_path,
                            end_line=ins.end_line if ins else None, text=ins.original if ins else "", phase=phase,
                            builder=self.name)

    def check(self, context, dockerfile: str = "Dockerfile", *, build_args: Mapping[str, str] | None = None,
              target: str | None = None, base_env=None, local_images=None) -> BuildRefused | None:
        """The first refusal of this builder for the build of *context*, or None.

        *local_images*: the image references the engine has (``None``: unknown, then a FROM or
        ``COPY --from`` of an image is assumed to resolve)."""
        root = Path(context)
        df_path = Path(dockerfile) if Path(dockerfile).is_absolute() else root / dockerfile
        text = read_dockerfile(df_path)
        if text == "":
            return self.refuse(str(df_path), self.empty_dockerfile(df_path.name), phase="parse")
        try:
            df = self.parse(text, str(df_path))
        except BuildRefused as exc:
            return exc
        if not df.stages:
            return self.refuse(str(df_path), self.no_stages(), phase="stage")
        try:
            patterns = self.ignore_patterns(root, dockerfile)
            sent = image_paths(self.walk(root, patterns, dockerfile))
        except IgnoreError as exc:
            return self.refuse(str(df_path), str(exc), phase="context")
        return self.check_parsed(df, sent, build_args=build_args, target=target, base_env=base_env,
                                 local_images=local_images)

    def check_parsed(self, df: Dockerfile, sent: dict, *, build_args=None, target=None, base_env=None,
                     local_images=None, evaluation: Evaluation | None = None) -> BuildRefused | None:
        """BuildKit: every FROM, then expansion and dispatch checks instruction by instruction, then
        the context files (checked when the build is solved).  *evaluation*: this builder's
        :meth:`evaluate` of *df* with the same arguments, when the caller has it already."""
        build_args = dict(build_args or {})
        err = self.check_stages(df, build_args, target, local_images)
        if err:
            return err
        ev = evaluation or self.evaluate(df, build_args=build_args, base_env=base_env, target=target,
                                         raise_errors=False)
        for e in ev.instructions:
            err = self.dispatch_error(df, e.ins, e.values, local_images)
            if err:
                return err
        if ev.error:
            return ev.error
        for e in ev.instructions:
            err = self.context_error(df, e.ins, e.values, sent)
            if err:
                return err
        return None

    def _globals(self, df: Dockerfile, build_args, lex):
        glob: dict[str, str] = {}
        for ins in df.meta_args:
            for k, v in ins.pairs():
                if k in build_args:
                    glob[k] = build_args[k]
                elif v is not None:
                    try:
                        glob[k] = lex.process_word(v, glob)
                    except ExpansionError as exc:
                        return self.refuse(df.path, str(exc), ins, "expand")
        return glob

    def from_error(self, df: Dockerfile, st, glob, lex, names, local_images) -> BuildRefused | None:
        """One FROM: expansion, blank, reference, duplicate name, whether the image is there."""
        fi = st.from_instruction
        try:
            base = lex.process_word(st.base, glob)
        except ExpansionError as exc:
            return self.refuse(df.path, str(exc), fi, "expand")
        if base == "":
            return self.refuse(df.path, f"base name ({st.base}) should not be blank", fi)
        if st.name is not None and st.name in names:
            msg = self.duplicate_stage(st.name)
            if msg:
                return self.refuse(df.path, msg, fi)
        if base.lower() in names or base == "scratch":
            return None
        msg = self.reference_error(base)
        if msg:
            return self.refuse(df.path, self.bad_reference(base, msg), fi)
        if local_images is not None and not _is_local(base, local_images):
            return self.refuse(df.path, self.not_local(base), fi)
        return None

    def check_stages(self, df: Dockerfile, build_args, target, local_images) -> BuildRefused | None:
        lex = lexer_for(df.engine, df.escape)
        glob = self._globals(df, build_args, lex)
        if isinstance(glob, BuildRefused):
            return glob
        names: set[str] = set()
        need = set(needed_stages(df, target, self.builder, glob, lex))
        for st in df.stages:
            if st.index in need or not self.buildkit:
                err = self.from_error(df, st, glob, lex, names, local_images if st.index in need else None)
                if err:
                    return err
            if st.name is not None:
                names.add(st.name)
        return None

    def dispatch_error(self, df: Dockerfile, ins: Instruction, values: dict, local_images) -> BuildRefused | None:
        kw = ins.keyword
        for flag in self.buildkit_only_flags:
            if ins.flag(flag) is not None and (kw, flag) in (("COPY", "chmod"), ("ADD", "chmod"), ("RUN", "mount"),
                                                            ("COPY", "link"), ("ADD", "link")):
                return self.refuse(df.path, f"the --{flag} option requires BuildKit. Refer to "
                                   "https://docs.docker.com/go/buildkit/ to learn how to build images with "
                                   "BuildKit enabled", ins, "instruction")
        if kw == "EXPOSE":
            for p in values.get("values", ()):
                msg = self.port_error(p)
                if msg:
                    return self.refuse(df.path, msg, ins, "instruction")
        if kw == "STOPSIGNAL":
            msg = self.signal_error(values.get("value", ""))
            if msg:
                return self.refuse(df.path, msg, ins, "instruction")
        if kw == "RUN" and self.buildkit and self.invalid_utf8_in_run and any(_SURR.search(a) for a in ins.args):
            return self.refuse(df.path, "failed to marshal LLB definition: string field contains invalid UTF-8",
                               ins, "instruction")
        if kw in ("COPY", "ADD") and ins.flag("from"):
            frm = ins.flag("from")
            st = next((s for s in df.stages if ins in s.instructions), None)
            other = df.stage_by_name(frm)
            if other is not None and st is not None and (other.index < st.index or self.buildkit):
                return None
            if other is not None and st is not None:
                msg = self.later_stage(frm, st)
                if msg:
                    return self.refuse(df.path, msg, ins, "stage")
            msg = self.reference_error(frm)
            if msg:
                return self.refuse(df.path, self.bad_from_flag(frm, msg), ins, "stage")
            if local_images is not None and not _is_local(frm, local_images):
                return self.refuse(df.path, self.not_local(frm), ins, "stage")
        return None

    def context_error(self, df: Dockerfile, ins: Instruction, values: dict, sent: dict) -> BuildRefused | None:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from"):
            return None
        srcs = values.get("sources") or []
        matched_any = False
        for s in srcs:
            if ins.keyword == "ADD" and re.match(r"^(https?://|git@)", s):
                matched_any = True
                continue
            if _escapes(s):
                msg = self.outside_context(ins.keyword, s)
                if msg:
                    return self.refuse(df.path, msg, ins, "context")
            got = _select(s, sent)
            if got:
                matched_any = True
            elif not _has_magic(s):
                return self.refuse(df.path, self.missing_source(ins.keyword, s), ins, "context")
        if srcs and not matched_any:
            msg = self.no_source_files(ins.keyword)
            if msg:
                return self.refuse(df.path, msg, ins, "context")
        return None


def _is_local(ref: str, local_images) -> bool:
    names = set(local_images)
    if ref in names:
        return True
    if ":" not in ref.rsplit("/", 1)[-1] and "@" not in ref:
        return f"{ref}:latest" in names
    return False


def _escapes(src: str) -> bool:
    parts = []
    for seg in src.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if not parts:
                return True
            parts.pop()
        else:
            parts.append(seg)
    return False


def _has_magic(s: str) -> bool:
    return any(c in s for c in "*?[")


def _go_q(s: str) -> str:
    from .lexer import go_quote

    return go_quote(s)


def _clean_src(s: str) -> str:
    c = posixpath.normpath("/" + s).lstrip("/")
    return c if c != "." else ""


def _select(src: str, sent: dict) -> list[str]:
    """Context paths a COPY source names (``filepath.Match`` wildcards per element)."""
    rel = _clean_src(src)
    if rel == "":
        return ["."]
    if not _has_magic(rel):
        return [rel] if rel in sent else []
    parts = rel.split("/")
    out = []
    for p in sent:
        pp = p.split("/")
        if len(pp) == len(parts) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(pp, parts)):
            out.append(p)
    return out


class BuildKit28(BuilderRules):
    """Docker 28.5, BuildKit (buildx 0.29 and the daemon's BuildKit v0.25)."""

    def check_stages(self, df, build_args, target, local_images):
        # toCommand, for every stage: ``COPY --from`` must not hold a variable
        for st in df.stages:
            for ins in st.instructions:
                frm = ins.flag("from") if ins.keyword == "COPY" else None
                if frm and "$" in frm:
                    return self.refuse(df.path, "variable expansion is not supported for --from, define a new stage "
                                       "with FROM using ARG from global scope as a workaround", ins, "stage")
        return super().check_stages(df, build_args, target, local_images)


class _Classic(BuilderRules):
    """The classic builder: step by step, in file order."""

    builder = "classic"
    prefer_dockerfile_ignore = False
    buildkit_only_flags = ("chmod", "mount")   # --link is accepted (and ignored)
    capital_port_errors = True

    def empty_dockerfile(self, name: str) -> str:
        return f"the Dockerfile ({name}) cannot be empty"

    def missing_source(self, kw: str, src: str) -> str:
        return (f"{kw} failed: file not found in build context or excluded by .dockerignore: "
                f"stat {_clean_src(src)}: file does not exist")

    def no_source_files(self, kw: str) -> str:
        return f"{kw} failed: no source files were specified"

    def outside_context(self, kw: str, src: str) -> str:
        return f"{kw} failed: forbidden path outside the build context: {src} ()"

    def bad_reference(self, base: str, msg: str) -> str:
        return msg

    def bad_from_flag(self, frm: str, msg: str) -> str:
        return f"invalid from flag value {frm}: {msg}"

    def duplicate_stage(self, name: str) -> str:
        return "a stage name already used"

    def no_stages(self) -> str:
        # the daemon's handler panics (and recovers): the client sees the stream end
        return "unexpected EOF"

    def context_error(self, df, ins, values, sent):
        # the classic builder drops heredoc sources: a COPY of heredocs only copies nothing
        if ins.keyword in ("COPY", "ADD") and ins.heredocs and not values.get("sources"):
            return self.refuse(df.path, self.no_source_files(ins.keyword), ins, "context")
        return super().context_error(df, ins, values, sent)

    def check_parsed(self, df: Dockerfile, sent: dict, *, build_args=None, target=None, base_env=None,
                     local_images=None, evaluation: Evaluation | None = None) -> BuildRefused | None:
        """Step by step: each stage's FROM, then each instruction (expansion, its own checks, its
        files), in file order."""
        build_args = dict(build_args or {})
        lex = lexer_for(df.engine, df.escape)
        glob = self._globals(df, build_args, lex)
        if isinstance(glob, BuildRefused):
            return glob
        ev = evaluation or self.evaluate(df, build_args=build_args, base_env=base_env, target=target,
                                         raise_errors=False)
        by_stage: dict = {}
        for e in ev.instructions:
            by_stage.setdefault(e.stage, []).append(e)
        names: set[str] = set()
        need = set(needed_stages(df, target, self.builder, glob, lex))
        for st in df.stages:
            if st.index not in need:
                break
            err = self.from_error(df, st, glob, lex, names, local_images)
            if err:
                return err
            if st.name is not None:
                names.add(st.name)
            for e in by_stage.get(st.index, [])[1:]:
                err = self.dispatch_error(df, e.ins, e.values, local_images) or \
                    self.context_error(df, e.ins, e.values, sent)
                if err:
                    return err
            if ev.error and (st.index == len(df.stages) - 1 or ev.error.line < df.stages[st.index + 1].from_instruction.line):
                return ev.error
        return ev.error


class Classic28(_Classic):
    """Docker 28.5, classic builder."""


class BuildKit2010(BuilderRules):
    """Docker 20.10, BuildKit (the daemon's BuildKit v0.8 frontend)."""

    engine = "20.10"
    capital_port_errors = True
    lowercase_signal = False
    name_in_lowercase_error = False
    invalid_utf8_in_run = False

    def missing_source(self, kw: str, src: str) -> str:
        return f'failed to compute cache key: "/{_clean_src(src)}" not found: not found'

    def no_stages(self) -> str:
        # the frontend panics outside a request handler: the daemon itself dies
        return "dockerd crashed: panic: runtime error: index out of range [-1] (a Dockerfile without FROM)"


class Classic2010(_Classic):
    """Docker 20.10, classic builder."""

    engine = "20.10"
    lowercase_signal = False
    name_in_lowercase_error = False


_RULES = {("28.5", "buildkit"): BuildKit28, ("28.5", "classic"): Classic28,
          ("20.10", "buildkit"): BuildKit2010, ("20.10", "classic"): Classic2010}


def rules_for(engine: str = "28.5", builder: str = "buildkit") -> BuilderRules:
    """The rules of *builder* on Docker *engine*."""
    try:
        return _RULES[(engine, builder)]()
    except KeyError:
        raise ValueError(f"unknown engine/builder {engine!r}/{builder!r}; engines 28.5 and 20.10, "
                         "builders buildkit and classic") from None


def check_build(context, dockerfile: str = "Dockerfile", *, engine: str = "28.5", builder: str = "buildkit",
                build_args: Mapping[str, str] | None = None, target: str | None = None,
                base_env=None, local_images=None) -> BuildRefused | None:
    """The refusal *builder* of Docker *engine* stops this build with, or None when it accepts it.

    Returns (does not raise) the :class:`BuildRefused`; raise it yourself if you want an exception.
    """
    return rules_for(engine, builder).check(context, dockerfile, build_args=build_args, target=target,
                                            base_env=base_env, local_images=local_images)
