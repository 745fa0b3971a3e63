"""Build-context snapshots and file identity as the builders hash them.

Both builders identify a copied file by a tar-style header without times
and owners (BuildKit's ``contenthash`` and the classic builder's tarsum "v1"
header): path, type, permission bits (including setuid/setgid/sticky), size,
symlink target and content.  Modification time and owner do **not** matter.

This module does the file-system I/O: it walks a context the way one builder
of one engine does (its .dockerignore rules and its walk, see
:mod:`imgviz.dockerfile.walk`), records each entry's identity and hashes
contents lazily (only files a COPY/ADD selects).  The
build-input loader (:mod:`imgviz.dockerfile.build`) hashes what a Dockerfile
can select up front and then seals the context: a sealed context never reads
the disk again, so predictions over it are pure.
"""

from __future__ import annotations

import bisect
import fnmatch
import hashlib
import os
import posixpath
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImgvizError

from .ignore import read_dockerignore
from .walk import image_paths, walker_for

__all__ = ["FileRecord", "BuildContext", "ContextError", "sha256_file"]

_BUF = 1 << 20


class ContextError(ImgvizError, ValueError):
    """A build context that cannot be read or a source that is not in it."""


@dataclass(frozen=True)
class FileRecord:
    path: str          # relative, slash-separated; "." is the context root
    kind: str          # "file", "dir", "symlink" or "other"
    mode: int          # permission bits incl. setuid/setgid/sticky
    size: int
    mtime_ns: int
    link: str | None   # symlink target


def sha256_file(path: str | os.PathLike) -> str:
    with open(path, "rb", buffering=0) as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _kind(st_mode: int) -> str:
    if stat.S_ISREG(st_mode):
        return "file"
    if stat.S_ISDIR(st_mode):
        return "dir"
    if stat.S_ISLNK(st_mode):
        return "symlink"
    return "other"


def _has_magic(s: str) -> bool:
    return any(c in s for c in "*?[")


def _relative_dockerfile(root: Path, dockerfile: str | None) -> str:
    """The Dockerfile's path as the classic builder's walk names it (relative to the context)."""
    if not dockerfile:
        return "Dockerfile"
    p = Path(dockerfile)
    if p.is_absolute():
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            return p.name
    return p.as_posix()


class BuildContext:
    """The files a build would send, with their identities.

    Parameters
    ----------
    root : path of the context directory
    dockerfile : Dockerfile path (relative to *root* or absolute): for ``<Dockerfile>.dockerignore``
        when *prefer_dockerfile_ignore* is set, and for the classic builder's rule that the
        Dockerfile and .dockerignore always reach the daemon
    prefer_dockerfile_ignore : read ``<Dockerfile>.dockerignore`` before ``.dockerignore``
        (BuildKit's client does, on both engines; the classic builder does not)
    engine, builder : whose context walk decides what is sent (:func:`imgviz.dockerfile.walk.walker_for`):
        ``"20.10"`` or ``"28.5"``, ``"classic"`` or ``"buildkit"``
    patterns : .dockerignore patterns to use instead of the ignore file's

    ``files`` holds every path a ``COPY . /dst/`` would put in the image (what the builder sends,
    plus the directories a sent file recreates), each with its identity.

    Raises
    ------
    ContextError : *root* is not a directory or cannot be read
    imgviz.dockerfile.ignore.IgnoreError : a .dockerignore pattern the builder rejects
    """

    def __init__(self, root, dockerfile: str | None = None, prefer_dockerfile_ignore: bool = False, *,
                 engine: str = "20.10", builder: str = "classic", patterns: list[str] | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise ContextError(f"build context {str(root)!r} is not a directory")
        self.engine, self.builder = engine, builder
        self.patterns, self.ignore_file = read_dockerignore(self.root, dockerfile, prefer_dockerfile_ignore)
        if patterns is not None:   # given: these instead of the ignore file's
            self.patterns = list(patterns)
        self.files: dict[str, FileRecord] = {}
        self._digests: dict[str, str] = {}
        self._tokens: dict[tuple, tuple] = {}
        self._sorted: list[str] | None = None
        # False when times are not the user's (e.g. a `git archive` export): no #4817 check then
        self.mtimes_known = True
        # True when `<Dockerfile>.dockerignore` and `.dockerignore` rules would read different files
        self.ignore_choice_matters = False
        self.sealed = False
        self._walk(_relative_dockerfile(self.root, dockerfile))

    # -- walking -------------------------------------------------------------
    def _record(self, rel: str, st: os.stat_result, full: str) -> FileRecord:
        kind = _kind(st.st_mode)
        link = os.readlink(full) if kind == "symlink" else None
        size = st.st_size if kind == "file" else 0
        return FileRecord(rel, kind, stat.S_IMODE(st.st_mode), size, st.st_mtime_ns, link)

    def _walk(self, dockerfile: str) -> None:
        """The builder's own walk (which paths it sends), then one ``lstat`` per path."""
        root = str(self.root)
        try:
            sent = walker_for(self.engine, self.builder)(self.root, self.patterns, dockerfile)
            self.files["."] = self._record(".", os.lstat(root), root)
            for rel in image_paths(sent):
                full = os.path.join(root, rel)
                self.files[rel] = self._record(rel, os.lstat(full), full)
        except OSError as exc:
            raise ContextError(f"cannot read the build context {root!r}: {exc.strerror or exc}") from None

    @property
    def kinds(self) -> dict[str, str]:
        """``{path: kind}`` of what the builder sends (the root left out), for its refusal checks."""
        return {rel: rec.kind for rel, rec in self.files.items() if rel != "."}

    # -- content ---------------------------------------------------------------
    def digest(self, rel: str) -> str:
        d = self._digests.get(rel)
        if d is None:
            if self.sealed:
                raise ContextError(f"{rel!r} of the build context {str(self.root)!r} was not read "
                                   "when the build input was loaded")
            d = sha256_file(self.root / rel)
            self._digests[rel] = d
        return d

    def read_selected(self, sources: list[str]) -> None:
        """Hash every file that *sources* (COPY-style paths, wildcards allowed) select (each
        selected tree once, however many sources name it)."""
        roots = sorted({root for s in dict.fromkeys(sources) for root in self.select(s)})
        done: set[str] = set()
        for root in roots:
            parts = root.split("/")
            if "." in done or any("/".join(parts[:i]) in done for i in range(1, len(parts) + 1)):
                continue                       # inside a tree already read
            done.add(root)
            for rec in self.subtree(root):
                if rec.kind == "file":
                    self.digest(rec.path)

    def seal(self) -> None:
        """From now on, read nothing: content not hashed yet is an error, not a read."""
        self.sealed = True

    def hash_all(self, workers: int = 2) -> int:
        """Hash every regular file (threads; hashlib releases the GIL).  Returns bytes hashed."""
        todo = [r.path for r in self.files.values() if r.kind == "file" and r.path not in self._digests]
        if todo and self.sealed:
            raise ContextError(f"the build context {str(self.root)!r} is sealed; {len(todo)} files were not read")
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for rel, d in zip(todo, pool.map(lambda p: sha256_file(self.root / p), todo)):
                self._digests[rel] = d
        return sum(self.files[p].size for p in todo)

    def identity(self, rec: FileRecord) -> str:
        """The identity line of one entry (no mtime, no owner)."""
        if rec.kind == "file":
            body = self.digest(rec.path)
        elif rec.kind == "symlink":
            body = rec.link or ""
        else:
            body = ""
        return f"{rec.path}\0{rec.kind}\0{rec.mode:o}\0{rec.size}\0{body}"

    # -- selection ---------------------------------------------------------------
    def _resolve(self, rel: str, depth: int = 0) -> str | None:
        rec = self.files.get(rel)
        if rec is None:
            return None
        if rec.kind == "symlink" and depth < 40:
            target = rec.link or ""
            base = "" if target.startswith("/") else posixpath.dirname(rel)
            nxt = posixpath.normpath(posixpath.join(base, target)).lstrip("/") or "."
            if nxt.startswith(".."):
                return None
            return self._resolve(nxt, depth + 1)
        return rel

    def select(self, source: str) -> list[str]:
        """Context paths a COPY/ADD *source* names (wildcards as ``filepath.Match``)."""
        src = posixpath.normpath("/" + source).lstrip("/") or "."
        if src == ".":
            return ["."]
        if not _has_magic(src):
            r = self._resolve(src)
            return [r] if r is not None else []
        parts = src.split("/")
        out = []
        for rel in self.files:
            if rel == ".":
                continue
            rp = rel.split("/")
            if len(rp) == len(parts) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(rp, parts)):
                r = self._resolve(rel)
                if r is not None:
                    out.append(r)
        return sorted(out)

    def _keys(self) -> list[str]:
        if self._sorted is None or len(self._sorted) != len(self.files):
            self._sorted = sorted(self.files)
        return self._sorted

    def subtree(self, rel: str) -> list[FileRecord]:
        """*rel* and everything below it, in path order."""
        keys = self._keys()
        if rel == ".":
            return [self.files[k] for k in keys]
        rec = self.files[rel]
        if rec.kind != "dir":
            return [rec]
        pre = rel + "/"
        out = [rec]
        i = bisect.bisect_left(keys, pre)
        while i < len(keys) and keys[i].startswith(pre):
            out.append(self.files[keys[i]])
            i += 1
        return out

    def token(self, sources: list[str]) -> tuple[str, list[FileRecord], list[str]]:
        """Identity of what *sources* select: ``(sha256 hex, records, missing sources)``."""
        memo = tuple(sources)
        if self.sealed and memo in self._tokens:
            return self._tokens[memo]
        h = hashlib.sha256()
        recs: list[FileRecord] = []
        missing = []
        for s in sources:
            sel = self.select(s)
            if not sel:
                missing.append(s)
            h.update(b"src\0" + s.encode("utf-8", "surrogateescape") + b"\0")
            for root in sel:
                for rec in self.subtree(root):
                    recs.append(rec)
                    h.update(self.identity(rec).encode("utf-8", "surrogateescape") + b"\n")
        out = (h.hexdigest(), recs, missing)
        if self.sealed:
            self._tokens[memo] = out
        return out
