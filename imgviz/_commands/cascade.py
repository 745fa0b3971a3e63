"""``imgviz cascade``: predict which build steps a change rebuilds.

    imgviz cascade OLD NEW [--builder buildkit|classic] [--engine-version V] [-f DOCKERFILE] [--json]
    imgviz cascade --git REPO REV1 REV2 [PATH] [...]

The rules are those of the builder on the engine version given (``--engine-version``), else on the
engine the command talks to (``--inspect-bases``, ``--image``: its ``/version``), else Docker
20.10's.  A build the builder refuses is predicted as a failure: the steps before the one where it
stops, that step with the builder's reason, and exit status 1 (``--json``:
``{"builder", "engine", "error": {"line", "message"}, "steps": [...]}``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imgviz.errors import ImgvizError, UsageError


class _BuilderNames:
    """The builder names of :mod:`imgviz.builders`, read only when argparse needs them (a bad
    ``--builder`` or ``--help``), so registering this command imports nothing of the cache model."""

    def _names(self):
        from imgviz.builders import BUILDERS

        return BUILDERS

    def __contains__(self, name):
        return name in self._names()

    def __iter__(self):
        return iter(self._names())


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "cascade",
        help="predict which build steps a change rebuilds (BuildKit, classic builder or buildah)",
        description="Predict, for each instruction of NEW's Dockerfile, whether building NEW "
                    "after OLD hits the build cache, and why.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="OLD NEW build directories, or with --git: REPO REV1 REV2 [SUBDIR]")
    p.add_argument("--git", action="store_true", help="compare two revisions of a git repository")
    p.add_argument("--advise", action="store_true",
                   help="REPO [PATH]: replay the commits touching PATH, report steps rebuilt per commit "
                        "and propose an order of instructions that rebuilds less")
    p.add_argument("--max-commits", type=_positive, default=50, help="with --advise: newest commits to replay")
    p.add_argument("--builder", choices=_BuilderNames(), default="buildkit", metavar="BUILDER",
                   help="whose cache rules: %(choices)s (default: %(default)s)")
    p.add_argument("--engine-version", default=None, metavar="VERSION",
                   help="the Docker Engine whose builder rules apply (e.g. 28.5.2; 'podman 4.3.1': buildah's, "
                        "whatever --builder says); default: the engine's own with --inspect-bases or --image, "
                        "else 20.10.24")
    p.add_argument("-f", "--file", dest="dockerfile", default="Dockerfile",
                   help="Dockerfile path relative to each build directory (default: Dockerfile)")
    p.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--target", default=None)
    p.add_argument("--json", action="store_true",
                   help="print JSON: {builder, engine, steps: [...]} (and error: {line, message} when the "
                        "build fails)")
    p.add_argument("--image", default=None, metavar="OLD_IMAGE",
                   help="the image OLD built, in the engine (DOCKER_HOST): adds the bytes each missed "
                        "step rewrites, estimated from its layers")
    p.add_argument("--inspect-bases", action="store_true",
                   help="identify FROM images as the engine has them (BuildKit: by layers; classic: by ID)")
    from ._source import add_limit_args

    add_limit_args(p)  # --deadline, --request-timeout: every command that reads a source
    p.set_defaults(func=run)
    return p


def steps_json(df, builder: str, with_bytes: bool = False) -> dict:
    """The JSON document of the issue: ``{"builder", "engine", "steps": [{stage, line, instruction,
    text, cached, reason}]}``; a warning is appended to the reason; ``bytes`` only with ``--image``.
    When the builder refuses the build: ``"error": {"line", "message"}`` and the steps before it."""
    import pandas as pd

    steps = []
    for r in df.itertuples(index=False):
        if r.kind == "error":
            continue
        item = {"stage": r.stage, "line": int(r.line), "instruction": r.instruction, "text": r.text,
                "cached": None if r.cached is None else bool(r.cached), "reason": r.reason
                + (f"; warning: {r.warning}" if r.warning else "")}
        if with_bytes:
            item["bytes"] = None if r.bytes is None or r.bytes is pd.NA else int(r.bytes)
        steps.append(item)
    out = {"builder": builder, "engine": df.attrs.get("engine")}
    err = df.attrs.get("error")
    if err:
        out["error"] = {"line": err["line"], "message": err["message"]}
    out["steps"] = steps
    return out


def _build_args(items) -> dict:
    from imgviz.dockerfile.build import CascadeError

    out = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep:
            raise CascadeError(f"--build-arg {item!r} must be KEY=VALUE")
        out[k] = v
    return out


def _engine_rules(args):
    """The builder whose rules apply: --engine-version, else the engine's own version when the
    command talks to one (--inspect-bases, --image), else the default (20.10)."""
    from imgviz.builders import get_builder

    version = args.engine_version
    if version is None and (args.inspect_bases or args.image):
        from imgviz.sources.engine import check_reference, engine_version

        if args.image:
            check_reference(args.image)  # a usage error before any engine is asked

        version = engine_version() or None
    return get_builder(args.builder, version)


def run(args) -> int:
    from imgviz.analysis.cascade import cascade_steps
    from imgviz.dockerfile.build import CascadeError, load_build, load_git_revisions

    builder = _engine_rules(args)
    build_args = _build_args(args.build_arg)
    if args.advise:
        return _advise(args, builder, build_args)
    read = dict(rules=builder.context_rules, build_args=build_args, target=args.target)
    if args.git:
        if len(args.paths) not in (3, 4):
            raise CascadeError("--git needs REPO REV1 REV2 [PATH]")
        repo, rev1, rev2 = args.paths[:3]
        sub = args.paths[3] if len(args.paths) == 4 else "."
        old, new = load_git_revisions(repo, [rev1, rev2], sub, args.dockerfile, **read)
    else:
        if len(args.paths) != 2:
            raise CascadeError("expected OLD NEW build directories")
        old, new = (load_build(Path(d), args.dockerfile, **read) for d in args.paths)
    history = None
    if args.image:
        from imgviz.dockerfile.bases import history_frame
        from imgviz.sources.engine import image_history

        history = history_frame(image_history(args.image))
    if args.inspect_bases:
        from imgviz.sources.engine import inspect_bases

        refs = sorted({st.base for b in (old, new) if b.dockerfile is not None for st in b.dockerfile.stages})
        found = inspect_bases(refs)
        old, new = old.with_bases(found), new.with_bases(found)
    try:
        df = cascade_steps(old, new, builder, history=history)
    except RecursionError:
        # variables nested thousands deep (${A:-${A:-...}}): the command says what it is instead of a traceback
        raise CascadeError(f"{args.paths[1]}: the Dockerfile nests variables too deep to expand") from None
    err = df.attrs.get("error")
    if args.json:
        print(json.dumps(steps_json(df, builder.name, with_bytes=bool(args.image)), indent=2))
        if err:
            print(f"imgviz: the build fails ({builder.label}): {_shorten(err['summary'], 400)}", file=sys.stderr)
        return 1 if err else 0
    print(f"{builder.label}, checked on {builder.checked}" + (
        f"; asked for {builder.asked}" if builder.asked != builder.checked else ""))
    mark = {True: "hit ", False: "MISS", None: "??? "}
    for r in df.itertuples(index=False):
        c = None if r.cached is None else bool(r.cached)
        m = "FAIL" if r.kind == "error" else mark[c]
        print(f"{r.line:4d}  {m}  {_one_line(r.text)[:60]:<60}  {_shorten(r.reason)}"
              + (f"  [warning: {_shorten(r.warning)}]" if r.warning else ""))
    steps = df[df["kind"] != "error"]
    n_miss = int((steps["cached"] == False).sum())  # noqa: E712
    if err:
        where = f"line {err['line']}" if err["line"] is not None else "the start"
        print(f"{builder.name}: the build fails at {where}: {_shorten(err['message'])} "
              f"({len(steps)} instructions before it, {n_miss} rebuilt)")
        print(f"imgviz: the build fails ({builder.label}): {_shorten(err['summary'], 400)}", file=sys.stderr)
        return 1
    print(f"{builder.name}: {len(df)} instructions, {n_miss} rebuilt, "
          f"{int(df['cached'].isna().sum())} unknown")
    return 0


def _one_line(text: str) -> str:
    from .._text import terminal_safe

    return terminal_safe(" ".join(text.split("\n", 1)[0].split()))


def _shorten(text: str, limit: int = 240) -> str:
    """*text* on one line, its middle elided past *limit* characters (a builder quotes the whole
    word it failed to expand: 3,000 nested ``${`` make a 30 kB message; ``--json`` keeps it all)."""
    from .._text import terminal_safe

    text = terminal_safe(" ".join(text.split()))
    if len(text) <= limit:
        return text
    keep = limit - 40
    return f"{text[:keep * 2 // 3]} ...[{len(text) - keep} characters]... {text[-(keep // 3):]}"


def _advise(args, builder, build_args) -> int:
    from imgviz.analysis.cascade_advisor import advise
    from imgviz.dockerfile.build import CascadeError, git_commits, load_git_revisions

    if len(args.paths) not in (1, 2):
        raise CascadeError("--advise needs REPO [PATH]")
    repo = Path(args.paths[0])
    sub = args.paths[1] if len(args.paths) == 2 else "."
    commits = git_commits(repo, sub, args.max_commits)
    if len(commits) < 2:
        raise CascadeError(f"fewer than two commits touch {sub!r} in {str(repo)!r}")
    builds = load_git_revisions(repo, commits, sub, args.dockerfile, rules=builder.context_rules,
                                build_args=build_args, target=args.target)
    result = advise(builds, builder, labels=[c[:12] for c in commits])
    before, after = result["before"], result["after"]
    if args.json:
        print(json.dumps({"builder": builder.name,
                          "before": before.to_dict(orient="records"),
                          "after": after.to_dict(orient="records"),
                          "order": result["order"], "dockerfile": result["dockerfile"]}, indent=2))
        return 0
    print(f"{builder.name}: {len(before)} changes replayed")
    print(f"{'commit':<14}{'rebuilt now':>12}{'proposed':>10}{'copied bytes':>14}")
    for b, a in zip(before.itertuples(), after.itertuples()):
        print(f"{b.change:<14}{b.rebuilt:>12}{a.rebuilt:>10}{b.copied_bytes:>14}")
    print(f"{'total':<14}{int(before.rebuilt.sum()):>12}{int(after.rebuilt.sum()):>10}")
    print("\nproposed Dockerfile (same image, instructions that change often last):\n")
    print(result["dockerfile"], end="")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="imgviz")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["cascade", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except ImgvizError as exc:
        print(f"imgviz: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1


if __name__ == "__main__":  # python -m imgviz._commands.cascade OLD NEW
    sys.exit(main())
