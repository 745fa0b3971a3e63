"""``imgviz cascade``: predict which build steps a change rebuilds.

    imgviz cascade OLD NEW [--builder buildkit|classic] [-f DOCKERFILE] [--json]
    imgviz cascade --git REPO REV1 REV2 [PATH] [...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from imgviz.errors import ImgvizError


class CascadeError(ImgvizError):
    """Bad command-line input for ``imgviz cascade``."""


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "cascade",
        help="predict which build steps a change rebuilds (BuildKit or classic builder)",
        description="Predict, for each instruction of NEW's Dockerfile, whether building NEW "
                    "after OLD hits the build cache, and why.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="OLD NEW build directories, or with --git: REPO REV1 REV2 [SUBDIR]")
    p.add_argument("--git", action="store_true", help="compare two revisions of a git repository")
    p.add_argument("--advise", action="store_true",
                   help="REPO [PATH]: replay the commits touching PATH, report steps rebuilt per commit "
                        "and propose an order of instructions that rebuilds less")
    p.add_argument("--max-commits", type=int, default=50, help="with --advise: newest commits to replay")
    p.add_argument("--builder", choices=["buildkit", "classic"], default="buildkit")
    p.add_argument("-f", "--file", dest="dockerfile", default="Dockerfile",
                   help="Dockerfile path relative to each build directory (default: Dockerfile)")
    p.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--target", default=None)
    p.add_argument("--json", action="store_true", help="print JSON: {builder, steps: [...]}")
    p.add_argument("--image", default=None, metavar="OLD_IMAGE",
                   help="the image OLD built, in the engine (DOCKER_HOST): adds the bytes each missed "
                        "step rewrites, estimated from its layers")
    p.add_argument("--inspect-bases", action="store_true",
                   help="identify FROM images as the engine has them (BuildKit: by layers; classic: by ID)")
    p.set_defaults(func=run)
    return p


def _export_rev(repo: Path, rev: str, dest: Path) -> None:
    proc = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", rev],
                          capture_output=True)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise CascadeError(f"git revision {rev!r} of {str(repo)!r}: {msg[-1] if msg else 'git archive failed'}")
    dest.mkdir(parents=True)
    import io
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tf:
        tf.extractall(dest, filter="tar")


def steps_json(df, builder: str, with_bytes: bool = False) -> dict:
    """The JSON document of the issue: ``{"builder", "steps": [{stage, line, instruction, text,
    cached, reason}]}``; a warning is appended to the reason; ``bytes`` only with ``--image``."""
    import pandas as pd

    steps = []
    for r in df.itertuples(index=False):
        item = {"stage": r.stage, "line": int(r.line), "instruction": r.instruction, "text": r.text,
                "cached": None if r.cached is None else bool(r.cached), "reason": r.reason
                + (f"; warning: {r.warning}" if r.warning else "")}
        if with_bytes:
            item["bytes"] = None if r.bytes is None or r.bytes is pd.NA else int(r.bytes)
        steps.append(item)
    return {"builder": builder, "steps": steps}


def run(args) -> int:
    from imgviz.analysis.cascade import cascade, load_build

    build_args = {}
    for item in args.build_arg:
        k, sep, v = item.partition("=")
        if not sep:
            raise CascadeError(f"--build-arg {item!r} must be KEY=VALUE")
        build_args[k] = v
    if args.advise:
        return _advise(args, build_args)
    with tempfile.TemporaryDirectory(prefix="imgviz-cascade-") as tmp:
        if args.git:
            if len(args.paths) not in (3, 4):
                raise CascadeError("--git needs REPO REV1 REV2 [PATH]")
            repo, rev1, rev2 = Path(args.paths[0]), args.paths[1], args.paths[2]
            sub = args.paths[3] if len(args.paths) == 4 else "."
            if not (repo / ".git").exists() and not (repo / "HEAD").exists():
                raise CascadeError(f"{str(repo)!r} is not a git repository")
            _export_rev(repo, rev1, Path(tmp) / "old")
            _export_rev(repo, rev2, Path(tmp) / "new")
            old, new = Path(tmp) / "old" / sub, Path(tmp) / "new" / sub
            git_export = True
        else:
            if len(args.paths) != 2:
                raise CascadeError("expected OLD NEW build directories")
            old, new = Path(args.paths[0]), Path(args.paths[1])
            git_export = False
        history, bases = None, None
        if args.image:
            from imgviz.dockerfile.bases import history_frame
            from imgviz.sources.engine import image_history

            history = history_frame(image_history(args.image))
        if args.inspect_bases:
            from imgviz.sources.engine import inspect_bases

            refs = {st.base for d in (old, new) for st in load_build(d, args.dockerfile).dockerfile.stages}
            found = inspect_bases(sorted(refs))
            bases = (found, found)
        pref = args.builder == "buildkit"
        inputs = [load_build(d, args.dockerfile, build_args=build_args, target=args.target,
                             base_ids=bases[i] if bases else None, prefer_dockerfile_ignore=pref)
                  for i, d in enumerate((old, new))]
        if git_export:  # git archive stamps every file with the commit time: not the user's mtimes
            for b in inputs:
                b.context.mtimes_known = False
        df = cascade(inputs[0], inputs[1], args.builder, history=history)
    if args.json:
        print(json.dumps(steps_json(df, args.builder, with_bytes=bool(args.image)), indent=2))
        return 0
    mark = {True: "hit ", False: "MISS", None: "??? "}
    for r in df.itertuples(index=False):
        c = None if r.cached is None else bool(r.cached)
        print(f"{r.line:4d}  {mark[c]}  {r.text[:60]:<60}  {r.reason}" + (f"  [warning: {r.warning}]" if r.warning else ""))
    n_miss = int((df["cached"] == False).sum())  # noqa: E712
    print(f"{args.builder}: {len(df)} instructions, {n_miss} rebuilt, "
          f"{int(df['cached'].isna().sum())} unknown")
    return 0


def _git_commits(repo: Path, sub: str, limit: int) -> list[str]:
    proc = subprocess.run(["git", "-C", str(repo), "log", "--format=%H", f"-n{limit}", "--", sub],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise CascadeError(f"git log in {str(repo)!r}: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'failed'}")
    return list(reversed(proc.stdout.split()))


def _advise(args, build_args) -> int:
    from imgviz.analysis.cascade import advise, load_build

    if len(args.paths) not in (1, 2):
        raise CascadeError("--advise needs REPO [PATH]")
    repo = Path(args.paths[0])
    sub = args.paths[1] if len(args.paths) == 2 else "."
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        raise CascadeError(f"{str(repo)!r} is not a git repository")
    commits = _git_commits(repo, sub, args.max_commits)
    if len(commits) < 2:
        raise CascadeError(f"fewer than two commits touch {sub!r} in {str(repo)!r}")
    with tempfile.TemporaryDirectory(prefix="imgviz-advise-") as tmp:
        builds = []
        for c in commits:
            _export_rev(repo, c, Path(tmp) / c)
            b = load_build(Path(tmp) / c / sub, args.dockerfile, build_args=build_args, target=args.target,
                           prefer_dockerfile_ignore=args.builder == "buildkit")
            b.context.mtimes_known = False  # commit times, not the user's
            builds.append(b)
        result = advise(builds, args.builder, labels=[c[:12] for c in commits])
    before, after = result["before"], result["after"]
    if args.json:
        print(json.dumps({"builder": args.builder,
                          "before": before.to_dict(orient="records"),
                          "after": after.to_dict(orient="records"),
                          "order": result["order"], "dockerfile": result["dockerfile"]}, indent=2))
        return 0
    print(f"{args.builder}: {len(before)} changes replayed")
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
        return 1


if __name__ == "__main__":  # python -m imgviz._commands.cascade OLD NEW
    sys.exit(main())
