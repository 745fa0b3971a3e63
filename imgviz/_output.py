"""Writing output files: one rule for every command and for the Python API.

The rule
--------
1. **Only regular files are replaced.** An existing directory, device, FIFO or socket at the
   path is refused (as root, a save onto ``/dev/sda`` or a FIFO would otherwise replace it).
2. **Symlinks are followed, once resolved.** The path is resolved to its final target; that
   target must be a regular file or not exist yet in an existing directory, and it is what is
   written (the link itself stays a link). A symlink whose target does not exist is refused, so
   a link planted in a shared directory cannot make imgviz create a file elsewhere.
3. **Atomically.** The content goes to a temporary file in the target's directory, is flushed to
   disk, and is renamed over the target: a reader sees the old file or the whole new one. A
   replaced file keeps its permission bits; a new one gets the usual ``0666 & ~umask``.
4. **Only complete content replaces a file.** An incomplete collection (an engine that died
   mid-way, a deadline reached) is never written over an existing file: it goes beside it, as
   ``NAME.incomplete-<UTC time>.EXT``, and the caller says so. ``force=True`` (``--force``)
   writes it over the file anyway.
5. **Never silently.** ``imgviz report -o`` and ``imgviz snapshot -o`` replace an existing
   regular file with complete content and say so ("replaced the previous FILE"); an incomplete
   snapshot goes beside it (rule 4) and the command exits 1. ``replace=False`` (Python) refuses
   to replace an existing file at all unless ``force``.

A missing directory, a path under a regular file, or a failed write is an
:class:`~imgviz.errors.OutputError` naming the path; nothing is left behind.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections import namedtuple
from pathlib import Path

from ._dt import datetime, timezone
from .errors import OutputError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (typing, like dataclasses, is 2-7 ms of a command's start-up)
    from typing import IO, Callable


class Written(namedtuple("Written", ["path", "requested", "replaced", "beside"], defaults=(False, False))):
    """Where output went: ``path`` (what was written), ``requested`` (what was asked),
    ``replaced`` (an existing file was replaced), ``beside`` (incomplete content written next to
    an existing file instead of over it). Immutable (a named tuple: ``dataclasses`` and the
    ``inspect``/``ast`` it imports were 7 ms of ``imgviz snapshot``'s start-up)."""

    __slots__ = ()


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def _stat_or_none(stat_fn, path: Path, requested: Path):
    """``stat_fn(path)``, None when nothing is there; errors name the path the user gave."""
    try:
        return stat_fn(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise OutputError(f"{requested}: a part of the path is a file, not a directory") from None
    except OSError as exc:
        raise OutputError(f"{requested}: cannot write ({exc.strerror or exc})") from None


def target_of(path: str | os.PathLike) -> tuple[Path, bool]:
    """``(the file that would be written, whether it exists)`` for ``path``, by the rule above.

    Raises :class:`~imgviz.errors.OutputError` for anything the rule refuses.
    """
    if str(path) == "":
        raise OutputError("an empty output path")
    requested = Path(path)
    lst = _stat_or_none(os.lstat, requested, requested)
    target = requested
    if lst is not None and stat.S_ISLNK(lst.st_mode):
        target = Path(os.path.realpath(requested))
        if not os.path.lexists(target) or not target.exists():
            raise OutputError(f"{requested}: a symlink to {target}, which does not exist (refused: imgviz "
                              f"writes through a symlink only to an existing regular file)")
    st = _stat_or_none(os.stat, target, requested)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{requested}: is {_kind(st.st_mode)}; imgviz only replaces regular files (refused)")
    parent = target.parent
    if st is None:
        if not parent.exists():
            raise OutputError(f"{requested}: the directory {parent} does not exist")
        if not parent.is_dir():
            raise OutputError(f"{requested}: {parent} is not a directory")
    return target, st is not None


def beside_name(target: Path, now: datetime | None = None) -> Path:
    """``NAME.incomplete-20261201T101500Z.EXT`` next to ``target`` (the extensions kept)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    name = target.name
    suffixes = "".join(s for s in target.suffixes if len(s) <= 6)
    stem = name[: len(name) - len(suffixes)] if suffixes and name.endswith(suffixes) else name
    if not stem:
        stem, suffixes = name, ""
    candidate = target.with_name(f"{stem}.incomplete-{stamp}{suffixes}")
    n = 1
    while os.path.lexists(candidate):
        n += 1
        candidate = target.with_name(f"{stem}.incomplete-{stamp}-{n}{suffixes}")
    return candidate


def write_file(path: str | os.PathLike, content: bytes | Callable[[IO[bytes]], None], *, complete: bool = True,
               replace: bool = True, force: bool = False, what: str = "output") -> Written:
    """Write ``content`` (bytes, or a function writing to a binary file) to ``path`` by the rule.

    Parameters
    ----------
    complete : bool
        False for content that is known to be incomplete: it never replaces an existing file
        unless ``force``.
    replace : bool
        Whether an existing regular file may be replaced by complete content (without ``force``).
    force : bool
        Replace an existing regular file even with incomplete content, or when ``replace`` is
        False. Never replaces anything but a regular file.
    what : str
        Names the content in messages ("snapshot", "report").

    Returns
    -------
    Written
    """
    target, exists = target_of(path)
    requested = Path(path)
    beside = False
    if exists and not force:
        if not complete:
            target, beside = beside_name(target), True
        elif not replace:
            raise OutputError(f"{requested}: exists; imgviz does not replace a {what} unless told to "
                              f"(--force, or force=True), or choose another name")
    _atomic_write(target, content, requested, what)
    return Written(path=target, requested=requested, replaced=exists and not beside, beside=beside)


def _atomic_write(target: Path, content, requested: Path, what: str) -> None:
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)  # a reader sees the old file or the whole new one
        tmp_name = None
    except OSError as exc:
        raise OutputError(f"{requested}: cannot write the {what} ({exc.strerror or exc})") from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
