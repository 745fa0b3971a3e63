"""Build inputs, read once: a Dockerfile, its context, and the options of a build.

This module is where the cache model reads the file system (and git): a build directory, or a
revision of a git repository checked out into a temporary directory.  What it returns, a
:class:`BuildInput`, holds everything the prediction needs: the parsed Dockerfile, the context's
file identities and the content hashes of every file a COPY, ADD or ``RUN --mount`` can select.
The context is then sealed, so the prediction (:mod:`imgviz.analysis.cascade`) does no I/O and a
checked-out revision can be deleted as soon as it is read.

How a builder reads a build (its engine's parser, its ignore file, its context walk) is the
builder's rule (:class:`ContextRules`, declared by each builder class in :mod:`imgviz.builders`);
which ignore file that rule picks is decided once, by
:func:`imgviz.dockerfile.ignore.read_dockerignore`, which files are sent by
:func:`imgviz.dockerfile.walk.walker_for`.
"""

from __future__ import annotations

import dataclasses
import io
import posixpath
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import limits as _limits
from ..errors import ImgvizError, UsageError
from .context import BuildContext, ContextError
from .ignore import IgnoreError, read_dockerignore
from .parser import Dockerfile, parse, read_dockerfile
from .refusal import BuildRefused

__all__ = ["BuildInput", "CascadeError", "ContextRules", "load_build", "load_git_revisions",
           "git_commits"]


class CascadeError(ImgvizError, ValueError):
    """Bad input to a build-cache prediction: a missing directory or revision, an unparsable
    Dockerfile, an unknown builder or target stage, too few commits to advise on."""


@dataclass(frozen=True)
class ContextRules:
    """How a builder reads a build: which parser, which ignore file, which context walk.

    engine
        ``"20.10"`` or ``"28.5"``: the Dockerfile parser (:func:`imgviz.dockerfile.parser.parser_for`)
        and the .dockerignore matcher of that engine generation.
    builder
        ``"buildkit"`` or ``"classic"``: whose context walk decides which files are sent
        (:func:`imgviz.dockerfile.walk.walker_for`).
    dockerfile_dockerignore
        ``<Dockerfile>.dockerignore`` next to the Dockerfile is read in preference to the
        context's ``.dockerignore`` (the BuildKit clients of Docker 20.10 and 28.5 do this; the
        classic builder does not).
    """

    engine: str = "20.10"
    builder: str = "classic"
    dockerfile_dockerignore: bool = False

    @property
    def summary(self) -> str:
        ignore = "<Dockerfile>.dockerignore first" if self.dockerfile_dockerignore else ".dockerignore only"
        return f"{ignore} (Docker {self.engine} {self.builder} parser and context walk)"

    def reads_otherwise(self, other: "ContextRules", context: BuildContext) -> bool:
        """True when *other* would send a different context for *context* (read with these rules).

        The ignore file matters when both candidates exist and differ; the walk matters only when
        there are patterns to apply (without any, every walk sends everything).  A different parser
        is not a reason: the Dockerfile's text is kept and parsed again (:meth:`BuildInput.for_rules`)."""
        if self.dockerfile_dockerignore != other.dockerfile_dockerignore and context.ignore_choice_matters:
            return True
        return (self.engine, self.builder) != (other.engine, other.builder) and bool(context.patterns)


@dataclass
class BuildInput:
    """A Dockerfile and its context, read once for one builder.

    ``dockerfile`` is None when the builder refuses the file before anything else (then
    ``refusal`` says why: the parser's :class:`~imgviz.dockerfile.refusal.BuildRefused`, an empty
    Dockerfile, a .dockerignore pattern it rejects).  ``base_ids`` maps FROM references to image
    IDs or :class:`~imgviz.dockerfile.bases.BaseImage` records when known (then a retagged base is
    recognised as changed); ``rules`` are the rules the input was read with.
    """

    dockerfile: Dockerfile | None
    context: BuildContext
    base_ids: dict = field(default_factory=dict)
    build_args: dict = field(default_factory=dict)
    target: str | None = None
    rules: ContextRules = field(default_factory=ContextRules)
    refusal: BuildRefused | None = None
    path: str = "Dockerfile"
    text: str | None = None

    def with_bases(self, base_ids: dict) -> "BuildInput":
        """The same input with FROM references identified by *base_ids* (nothing is re-read)."""
        return dataclasses.replace(self, base_ids=dict(base_ids or {}))

    def for_rules(self, rules: ContextRules) -> "BuildInput":
        """This input as a builder with *rules* reads it.  Pure: the Dockerfile's text is parsed
        again when the parser differs; a context whose walk would differ cannot be re-read here
        (:class:`CascadeError` saying how to load it)."""
        if self.rules == rules or (self.rules.engine == rules.engine and not self.rules.reads_otherwise(
                rules, self.context)):
            return self
        if self.rules.reads_otherwise(rules, self.context):
            raise CascadeError(
                f"the build context {str(self.context.root)!r} was read with {self.rules.summary} "
                f"(ignore file: {self.context.ignore_file or 'none'}), but this builder reads "
                f"{rules.summary}: load it with load_build(..., rules=builder.context_rules)")
        df, refusal = _parse(self.text, self.path, rules)
        return dataclasses.replace(self, dockerfile=df, refusal=refusal, rules=rules)


def _parse(text: str | None, path: str, rules: ContextRules) -> tuple[Dockerfile | None, BuildRefused | None]:
    """The Dockerfile as *rules*' engine parses it, or the parser's refusal."""
    from .check import rules_for

    if text is None:
        return None, None
    if text == "":
        checker = rules_for(rules.engine, rules.builder)
        return None, checker.refuse(path, checker.empty_dockerfile(Path(path).name), phase="parse")
    try:
        return parse(text, path, engine=rules.engine), None
    except BuildRefused as exc:
        exc.builder = f"{rules.engine}-{rules.builder}"
        return None, exc


def _context_sources(dockerfile: Dockerfile) -> list[str]:
    """Context paths the Dockerfile can select, cut before the first variable.

    COPY/ADD sources (not ``--from``, not heredocs) and ``RUN --mount`` bind sources without
    ``from=``.  A source with a variable is cut at that path element: its value is only known
    while the builder walks the file, so everything below the fixed part is read.  Wildcards
    stay: the context selects them as COPY does."""
    out = []
    for ins in dockerfile.instructions:
        raw = []
        if ins.keyword in ("COPY", "ADD") and not ins.flag("from"):
            names = {d.name for d in ins.heredocs}
            raw += [s for s in ins.args[:-1] if s.lstrip("<-").strip("'\"") not in names]
        for m in ins.flag_values("mount"):
            opts = dict(part.partition("=")[::2] for part in m.split(","))
            if opts.get("type", "bind") == "bind" and not opts.get("from"):
                raw.append(opts.get("source", opts.get("src", "/")))
        for s in raw:
            fixed = []
            for seg in s.split("/"):
                if "$" in seg:
                    break
                fixed.append(seg)
            else:
                out.append(s)
                continue
            out.append("/".join(fixed) or ".")
    return out


def load_build(directory, dockerfile: str = "Dockerfile", *, rules: ContextRules | None = None,
               build_args=None, target=None, base_ids=None) -> BuildInput:
    """Read *directory* (the build context) and its Dockerfile into a sealed :class:`BuildInput`.

    Parameters
    ----------
    directory : the build context
    dockerfile : Dockerfile path relative to *directory* (or absolute)
    rules : the rules of the builder the prediction is for (``builder.context_rules`` of a builder
        from :func:`imgviz.builders.get_builder`): its parser, ignore file and context walk;
        default ``ContextRules()``, Docker 20.10's classic builder
    build_args, target, base_ids : as for ``docker build`` (see :class:`BuildInput`)

    A Dockerfile the builder refuses to parse is not an error here: the input carries the refusal
    (``refusal``), so the prediction can report the build as failing.  Every file a COPY, ADD or
    ``RUN --mount`` of the Dockerfile can select is hashed here; the context is then sealed, so
    nothing reads the directory again.

    Raises
    ------
    CascadeError : the directory or the Dockerfile does not exist, or cannot be read
    """
    rules = rules or ContextRules()
    d = Path(directory)
    if not d.is_dir():
        raise CascadeError(f"build directory {str(directory)!r} does not exist")
    df_path = Path(dockerfile) if Path(dockerfile).is_absolute() else d / dockerfile
    if not df_path.is_file():
        raise CascadeError(f"no Dockerfile at {str(df_path)!r}")
    try:
        text = read_dockerfile(df_path)
    except (BuildRefused, OSError) as exc:
        raise CascadeError(f"cannot read {str(df_path)!r}: {exc}") from None
    try:
        df, refusal = _parse(text, str(df_path), rules)
    except RecursionError:
        raise CascadeError(f"{df_path}: nests variables or instructions too deep to read") from None
    try:
        try:
            ctx = BuildContext(d, dockerfile, rules.dockerfile_dockerignore, engine=rules.engine,
                               builder=rules.builder)
        except IgnoreError as exc:
            from .check import rules_for

            refusal = refusal or rules_for(rules.engine, rules.builder).refuse(str(df_path), str(exc),
                                                                               phase="context")
            ctx = BuildContext(d, dockerfile, rules.dockerfile_dockerignore, engine=rules.engine,
                               builder=rules.builder, patterns=[])
        ctx.ignore_choice_matters = _ignore_choice_matters(d, dockerfile)
        if df is not None:
            ctx.read_selected(_context_sources(df))
    except (ContextError, ValueError) as exc:
        raise CascadeError(str(exc)) from None
    except OSError as exc:
        name = exc.filename if exc.filename else d
        raise CascadeError(f"{name}: cannot read a file of the build context ({exc.strerror or exc})") from None
    ctx.seal()
    return BuildInput(df, ctx, dict(base_ids or {}), dict(build_args or {}), target, rules, refusal,
                      str(df_path), text)


def _ignore_choice_matters(root: Path, dockerfile: str) -> bool:
    try:
        return read_dockerignore(root, dockerfile, True)[1] != read_dockerignore(root, dockerfile, False)[1]
    except OSError:
        return False


# -- git revisions ------------------------------------------------------------------------------
#: what a revision may look like before git sees it: no leading '-', no blanks or control
#: characters, nothing git would read as an option or a path list (``HEAD``, ``v1.2``, ``main~3``,
#: ``abc123``, ``origin/main^2``, ``HEAD@{1}``)
_REV_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./~^@{}+-]{0,255}$")


def _check_repo(repo: Path) -> None:
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        raise CascadeError(f"{str(repo)!r} is not a git repository")


def _git(repo: Path, *args: str, text: bool = False) -> subprocess.CompletedProcess:
    """git in *repo*, within the deadline; arguments were checked by the caller."""
    deadline = _limits.deadline(what="reading the git repository")
    try:
        return subprocess.run(["git", "-c", "core.fsmonitor=false", "-C", str(repo), *args], capture_output=True,
                              text=text, timeout=deadline.timeout())
    except subprocess.TimeoutExpired:
        deadline.check(f"git {args[0]} in {str(repo)!r}")
        raise CascadeError(f"git {args[0]} in {str(repo)!r} took too long") from None
    except OSError as exc:
        raise CascadeError(f"cannot run git ({exc.strerror or exc})") from None


def check_revision(rev) -> str:
    """*rev* when it may be handed to git as a revision, else :class:`~imgviz.errors.UsageError`.

    A revision starting with ``-`` would be read by git as an option (``--output=FILE`` makes
    ``git archive`` write a file), so it never reaches git.
    """
    if not isinstance(rev, str) or not _REV_RE.match(rev) or ".." in rev or rev.endswith((".lock", "/", ".")):
        raise UsageError(f"git revision {str(rev)[:80]!r}: not a revision (a commit, tag or branch name such as "
                         f"HEAD, v1.2, main~3)")
    return rev


def check_subdir(path) -> str:
    """A build directory inside a repository (relative, no '..'), else :class:`~imgviz.errors.UsageError`."""
    text = str(path)
    norm = posixpath.normpath(text.replace("\\", "/")) if text else ""
    if not text or "\x00" in text or norm.startswith(("/", "../")) or norm == ".." or text.startswith("-"):
        raise UsageError(f"path {text[:80]!r}: not a directory inside the repository")
    return norm


def resolve_revision(repo: Path, rev: str) -> str:
    """The full commit ID *rev* names in *repo* (checked first by :func:`check_revision`)."""
    check_revision(rev)
    proc = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", text=True)
    sha = proc.stdout.strip()
    if proc.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", sha):
        raise CascadeError(f"git revision {rev!r} of {str(repo)!r}: no such commit")
    return sha


def _checkout(repo: Path, rev: str, dest: Path) -> None:
    """Files of *rev* (``git archive`` of the commit it names) written below *dest*."""
    sha = resolve_revision(repo, rev)
    proc = _git(repo, "archive", "--format=tar", sha)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise CascadeError(f"git revision {rev!r} of {str(repo)!r}: {msg[-1] if msg else 'git archive failed'}")
    dest.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tf:
            tf.extractall(dest, filter="tar")
    except (tarfile.TarError, OSError) as exc:
        raise CascadeError(f"git revision {rev!r} of {str(repo)!r}: cannot unpack ({exc})") from None


def git_commits(repo, path: str = ".", limit: int = 50) -> list[str]:
    """The newest *limit* commits of *repo* that touch *path*, oldest first."""
    repo = Path(repo)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise UsageError(f"--max-commits {limit!r}: must be a whole number of at least 1")
    path = check_subdir(path)
    _check_repo(repo)
    proc = _git(repo, "log", "--format=%H", f"-n{limit}", "--end-of-options", "HEAD", "--", path, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise CascadeError(f"git log in {str(repo)!r}: {lines[-1] if lines else 'failed'}")
    return list(reversed(proc.stdout.split()))


def load_git_revisions(repo, revisions, path: str = ".", dockerfile: str = "Dockerfile", *,
                       rules: ContextRules | None = None, build_args=None, target=None) -> list[BuildInput]:
    """The build directory *path* of *repo* at each of *revisions*, read as :func:`load_build` does.

    Each revision is checked out (``git archive``) into a temporary directory, read, and removed.
    ``git archive`` stamps every file with the commit time, which is not the user's modification
    time, so the contexts say their times are unknown (no moby/buildkit#4817 check on them)."""
    repo = Path(repo)
    revisions = [check_revision(r) for r in revisions]
    path = check_subdir(path)
    try:
        inside = not Path(dockerfile).is_absolute() and check_subdir(dockerfile) == posixpath.normpath(dockerfile)
    except UsageError:
        inside = False
    if not inside:
        raise UsageError(f"-f {dockerfile!r}: with git revisions, the Dockerfile is a path inside the build directory")
    _check_repo(repo)
    out = []
    with tempfile.TemporaryDirectory(prefix="imgviz-cascade-") as tmp:
        for i, rev in enumerate(revisions):
            dest = Path(tmp) / str(i)
            _checkout(repo, rev, dest)
            b = load_build(dest / path, dockerfile, rules=rules, build_args=build_args, target=target)
            b.context.mtimes_known = False
            out.append(b)
    return out
