"""Which files of a build context each builder sends, .dockerignore applied.

The same .dockerignore gives different contexts, because each builder walks the directory its
own way (restated from the sources; tests/data/dockerfile/ignore.json records what each did):

classic builder (Docker 20.10 and 28.5: the CLI's ``archive.TarWithOptions``)
    The CLI adds ``!.dockerignore`` and ``!<Dockerfile>`` when the patterns exclude them, so both
    reach the daemon, which then deletes them again if the patterns match them.  An excluded
    directory is entered only when an exception pattern, as written, starts with the directory's
    path (``!dir/keep`` enters ``dir``; ``!**/keep`` enters nothing); the directory itself is not
    sent, but a file sent from inside it recreates it.  Matching: 20.10's ``fileutils`` (one parent
    tried), 28.5's ``patternmatcher`` (results carried from the parent directories).

BuildKit, Docker 20.10 (tonistiigi/fsutil of 2020 in the CLI's session)
    Like the classic walk, but an excluded directory that is entered is sent itself (so it
    exists in the image even if nothing inside is sent), and .dockerignore/Dockerfile get no
    special treatment.

BuildKit, Docker 28.5 (tonistiigi/fsutil of 2025 in buildx)
    When an exception pattern has a wildcard before its last element (``!**/keep.txt``), every
    excluded directory is entered and each path inside is matched on its own; otherwise the
    prefix rule above, with a trailing ``/*`` or ``/**`` of the exception ignored.  An excluded
    directory is sent only when something inside it is.

:func:`context_paths` returns the sent paths with their kinds; :func:`image_paths` adds the
directories a ``COPY . /dst/`` recreates (what ends up in the image).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .ignore import PatternMatcher, matcher_for, read_dockerignore

__all__ = ["context_paths", "image_paths", "walk_classic", "walk_buildkit_2010", "walk_buildkit",
           "walker_for"]

_PATTERN_CHARS = set("*[]?^\\")


def _kind(st_mode: int) -> str:
    if stat.S_ISDIR(st_mode):
        return "dir"
    if stat.S_ISLNK(st_mode):
        return "symlink"
    if stat.S_ISREG(st_mode):
        return "file"
    return "other"


def _walk(root: str):
    """Depth first, lexical order, symlinks not followed: yields ``(rel, kind, descend)``; set
    ``descend[0] = False`` to skip a directory's contents."""
    def listing(path):
        try:
            return iter(sorted(os.listdir(path)))
        except OSError:
            return iter(())

    stack = [("", root, listing(root))]
    while stack:
        rel_dir, full, names = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            continue
        rel = f"{rel_dir}/{name}" if rel_dir else name
        path = os.path.join(full, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        kind = _kind(st.st_mode)
        descend = [kind == "dir"]
        yield rel, kind, descend
        if kind == "dir" and descend[0]:
            stack.append((rel, path, listing(path)))


def _prefix_exception(pm: PatternMatcher, rel: str, strip_glob: bool) -> bool:
    dir_slash = rel + "/"
    for p in pm.patterns:
        if not p.exclusion:
            continue
        text = p.text
        if strip_glob:
            if text.endswith("/**"):
                text = text[:-3]
            elif text.endswith("/*"):
                text = text[:-2]
        if (text + "/").startswith(dir_slash):
            return True
    return False


def walk_classic(root, patterns: list[str], *, engine: str = "28.5", dockerfile: str = "Dockerfile") -> dict:
    """Paths the classic builder's context holds after the daemon removed .dockerignore and the
    Dockerfile if excluded: ``{rel: kind}``."""
    pm0 = matcher_for(patterns, engine)
    excludes = list(patterns)
    if pm0.matches(".dockerignore") if engine == "20.10" else _deprecated_matches(pm0, ".dockerignore"):
        excludes.append("!.dockerignore")
    df = dockerfile.replace(os.sep, "/")
    if pm0.matches(df) if engine == "20.10" else _deprecated_matches(pm0, df):
        excludes.append("!" + df)
    pm = matcher_for(excludes, engine)
    out: dict[str, str] = {}
    parents: list[tuple[str, list]] = []   # 28.5: (dir path, match info)
    for rel, kind, descend in _walk(str(root)):
        if engine == "20.10":
            skip = pm.matches(rel)
        else:
            while parents and not rel.startswith(parents[-1][0] + "/"):
                parents.pop()
            skip, info = pm.matches_with_parent(rel, parents[-1][1] if parents else None)
            if kind == "dir":
                parents.append((rel, info))
        if skip:
            if kind != "dir":
                continue
            if not pm.exclusions or not _prefix_exception(pm, rel, False):
                descend[0] = False
            continue
        out[rel] = kind
    # the daemon deletes .dockerignore and the Dockerfile when the user's patterns match them
    for name in (".dockerignore", df):
        if name in out and _daemon_removes(patterns, name, engine):
            del out[name]
    return out


def _deprecated_matches(pm: PatternMatcher, path: str) -> bool:
    """patternmatcher's deprecated ``Matches`` (one parent tried), used by the 28.5 CLI."""
    matched = False
    parent = os.path.dirname(path)
    pdirs = parent.split("/") if parent else []
    for pat in pm.patterns:
        if pat.exclusion != matched:
            continue
        m = pat.match(path)
        if not m and pdirs and len(pat.dirs) <= len(pdirs):
            m = pat.match("/".join(pdirs[: len(pat.dirs)]))
        if m:
            matched = not pat.exclusion
    return matched


def _daemon_removes(patterns, name, engine) -> bool:
    pm = matcher_for(patterns, engine)
    return pm.matches(name)


def walk_buildkit_2010(root, patterns: list[str]) -> dict:
    """Paths Docker 20.10's BuildKit session sends (fsutil of 2020): ``{rel: kind}``."""
    pm = matcher_for(patterns, "20.10")
    out: dict[str, str] = {}
    for rel, kind, descend in _walk(str(root)):
        if pm.matches(rel):
            if kind != "dir":
                continue
            if not pm.exclusions or not _prefix_exception(pm, rel, False):
                descend[0] = False
                continue
            # entered, and sent itself
        out[rel] = kind
    return out


def walk_buildkit(root, patterns: list[str]) -> dict:
    """Paths Docker 28.5's buildx sends (fsutil of 2025): ``{rel: kind}``."""
    pm = matcher_for(patterns, "28.5")
    only_prefix = not any(p.exclusion and (set(_strip_glob(p.text)) & _PATTERN_CHARS) for p in pm.patterns)
    out: dict[str, str] = {}
    parents: list[list] = []   # [path, info, sent, kind]
    for rel, kind, descend in _walk(str(root)):
        while parents and not rel.startswith(parents[-1][0] + "/"):
            parents.pop()
        m, info = pm.matches_with_parent(rel, parents[-1][1] if parents else None)
        skip = False
        if m:
            if kind == "dir" and only_prefix:
                if not pm.exclusions or not _prefix_exception(pm, rel, True):
                    descend[0] = False
                    continue
            skip = True
        entry = [rel, info, False, kind]
        if not skip:
            for p in parents:
                if not p[2]:
                    out[p[0]] = p[3]
                    p[2] = True
            out[rel] = kind
            entry[2] = True
        if kind == "dir":
            parents.append(entry)
    return out


def _strip_glob(text: str) -> str:
    if text.endswith("/**"):
        return text[:-3]
    if text.endswith("/*"):
        return text[:-2]
    return text


def walker_for(engine: str = "28.5", builder: str = "buildkit"):
    """The walk function of *builder* on Docker *engine*: ``f(root, patterns) -> {rel: kind}``."""
    if builder == "classic":
        return lambda root, patterns, dockerfile="Dockerfile": walk_classic(root, patterns, engine=engine,
                                                                            dockerfile=dockerfile)
    if builder != "buildkit":
        raise ValueError(f"unknown builder {builder!r}; use buildkit or classic")
    if engine == "20.10":
        return lambda root, patterns, dockerfile="Dockerfile": walk_buildkit_2010(root, patterns)
    if engine == "28.5":
        return lambda root, patterns, dockerfile="Dockerfile": walk_buildkit(root, patterns)
    raise ValueError(f"unknown engine {engine!r}; use 28.5 or 20.10")


def context_paths(root, *, engine: str = "28.5", builder: str = "buildkit", dockerfile: str = "Dockerfile",
                  patterns: list[str] | None = None) -> dict:
    """The context *builder* of Docker *engine* sends for directory *root*: ``{rel: kind}``.

    *patterns* default to the context's .dockerignore (for BuildKit of 28.5,
    ``<Dockerfile>.dockerignore`` next to the Dockerfile wins when it exists).
    """
    if patterns is None:
        prefer = builder == "buildkit"
        patterns, _ = read_dockerignore(root, dockerfile, prefer)
    return walker_for(engine, builder)(Path(root), patterns, dockerfile)


def image_paths(sent: dict) -> dict:
    """What ``COPY . /dst/`` puts in the image from a sent context: the sent paths plus every
    parent directory of them (a file sent from an unsent directory recreates it)."""
    out = dict(sent)
    for rel in list(sent):
        parts = rel.split("/")
        for i in range(1, len(parts)):
            out.setdefault("/".join(parts[:i]), "dir")
    return dict(sorted(out.items()))
