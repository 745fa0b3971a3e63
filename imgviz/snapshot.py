"""Snapshots: the raw records a source returned, kept as they were said.

A snapshot is the single hand-over point between sources and everything else. This module only
holds, writes and reads them; it knows no source (loading a file *and replaying it through the
live code* is :func:`imgviz.sources.load`, i.e. ``imgviz.load``). It keeps the raw
responses (docker-py's ``attrs`` idea: nothing is lost, and a saved snapshot replays exactly what the
engine said), plus where and when they were collected. Frames are always derived from a snapshot,
whether it was collected a second ago or loaded from a file.

Layout of ``Snapshot.records`` (every source fills what it can, the rest stays ``None``/empty)::

    {
      "version":    raw /version of the engine, or None,
      "image_list": raw /images/json (engine), or None,
      "images":     [ {"id": "sha256:...",
                       "inspect":  raw /images/{id}/json (engine) or None,
                       "history":  raw /images/{id}/history (engine) or None,
                       "config":   the image config blob (registry, archive) or None,
                       "manifest": the image manifest (registry, archive) or None,
                       "ref":      the reference it was read under (registry, archive) or None},
                      ... ],
      "container_list": raw /containers/json?all=1&size=1 (engine), or None,
      "containers": [ {"id": ..., "inspect": raw /containers/{id}/json}, ... ],
      "df":         raw /system/df, or None,
      "skipped":    [ {"kind": "image"|"container", "id": ..., "reason": ...}, ... ],
      "complete":   False when collection stopped early (what was collected is kept),
    }
"""

from __future__ import annotations

import json
import os

# gzip, zlib, stat, pathlib are imported where files are read or written: a live engine's
# one-image question makes a Snapshot and never touches a file (tests/test_startup.py)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

from . import _records
from .errors import SnapshotError

FORMAT = "imgviz-snapshot"
FORMAT_VERSION = 1


def empty_records() -> dict[str, Any]:
    return {"version": None, "image_list": None, "images": [], "container_list": None, "containers": [],
            "df": None, "skipped": [], "complete": True}


class Snapshot:
    """Raw records from one source at one moment.

    Parameters
    ----------
    source : dict
        ``kind`` ('engine', 'registry', 'archive'), ``host`` (address or path), ``collected_at``
        (ISO time, UTC), and for the engine ``engine_version`` and ``api_version``.
    records : dict
        The raw responses (see the module docstring).
    """

    # a plain class (no dataclass: importing dataclasses costs every command about 6 ms of
    # start-up); compared by its two fields, like the dataclass it was
    __hash__ = None  # mutable, as before

    def __init__(self, source: dict[str, Any], records: dict[str, Any] | None = None):
        self.source = source
        self.records = empty_records() if records is None else records

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.source, self.records) == (other.source, other.records)

    # -- convenience -------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.source.get("kind", "unknown")

    @property
    def images(self) -> list[dict[str, Any]]:
        return self.records.get("images", [])

    @property
    def containers(self) -> list[dict[str, Any]]:
        return self.records.get("containers", [])

    @property
    def skipped(self) -> list[dict[str, Any]]:
        return self.records.get("skipped", [])

    @property
    def complete(self) -> bool:
        return bool(self.records.get("complete", True))

    def __repr__(self) -> str:
        where = self.source.get("host", "?")
        when = self.source.get("collected_at", "?")
        extra = f", {len(self.skipped)} skipped" if self.skipped else ""
        partial = ", INCOMPLETE" if not self.complete else ""
        return (f"<Snapshot {self.kind} {where} at {when}: {len(self.images)} images, "
                f"{len(self.containers)} containers{extra}{partial}>")

    # -- files -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "source": self.source,
                "records": self.records}

    def to_bytes(self, *, compress: bool = True) -> bytes:
        """The file's bytes: JSON, gzip-compressed unless ``compress=False`` (byte-identical for
        identical records)."""
        data = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        if not compress:
            return data
        import gzip

        # mtime=0 keeps the file byte-identical for identical records
        return gzip.compress(data, mtime=0)

    def write(self, path: str | os.PathLike, *, replace: bool = True, force: bool = False):
        """Write the snapshot by imgviz's output rule (:mod:`imgviz._output`); returns where it went.

        gzip-compressed JSON, or plain JSON when the name ends in ``.json``. Only a regular file
        is ever replaced, atomically; an incomplete snapshot (:func:`imgviz.incomplete`) never replaces
        an existing file: it is written beside it (``NAME.incomplete-<time>.json.gz``) unless
        ``force``. ``replace=False`` refuses to replace an existing file at all (unless ``force``).

        Returns
        -------
        imgviz._output.Written
            ``path`` (where it went), ``replaced``, ``beside``.
        """
        from pathlib import Path

        from ._output import write_file

        data = self.to_bytes(compress=Path(path).suffix != ".json")
        from ._partial import is_complete

        # the one rule of imgviz._partial: an image removed while it was being read makes the
        # collection incomplete too (listed, never read), so it never replaces a complete file
        return write_file(path, data, complete=is_complete(self), replace=replace, force=force, what="snapshot")

    def save(self, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write the snapshot (see :meth:`write`: an existing regular file is replaced by a complete
        snapshot, an incomplete one goes beside it unless ``force``); returns the path written."""
        return self.write(path, force=force).path

    @classmethod
    def from_dict(cls, data: Any, *, name: str = "snapshot") -> "Snapshot":
        """A snapshot from its JSON form, every record checked against :mod:`imgviz._records`.

        Raises
        ------
        SnapshotError
            One line naming ``name`` and the first field that is not what a snapshot holds.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SnapshotError(f"{name}: not an imgviz snapshot (no '\"format\": \"{FORMAT}\"' field)")
        version = data.get("format_version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise SnapshotError(f"{name}: format_version {str(version)[:40]!r} is not a whole number")
        if version > FORMAT_VERSION:
            raise SnapshotError(f"{name}: snapshot format {version} is newer than this "
                                f"imgviz understands ({FORMAT_VERSION}); upgrade imgviz")
        source, raw_records = data.get("source"), data.get("records")
        if source is None:
            source = {}
        _records.check(_records.SOURCE, source, "source", SnapshotError, name)
        if raw_records is None:
            raw_records = {}
        if not isinstance(raw_records, dict):
            raise SnapshotError(f"{name}: records: expected an object, got {_records._got(raw_records)}")
        records = empty_records()
        records.update(raw_records)
        _records.check_records(records, source.get("kind", ""), where=name, error=SnapshotError)
        return cls(source=dict(source), records=records)

    @classmethod
    def read(cls, path: str | os.PathLike, *, limits=None) -> "Snapshot":
        """Read a snapshot file as stored, without replaying it (see :func:`imgviz.sources.load`).

        Only a regular file is read (a FIFO or a device is refused before it is opened), and
        never more than ``max_snapshot_bytes`` of JSON (:mod:`imgviz.limits`), compressed or not.
        """
        import stat
        from pathlib import Path

        from . import limits as _limits

        path = Path(path)
        cap = _limits.get(limits).max_snapshot_bytes
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                from ._output import _kind

                raise SnapshotError(f"{path}: is {_kind(st.st_mode)}, not a snapshot file (refused)")
            with open(path, "rb") as fh:
                raw = _read_bounded(fh, cap, str(path))
        except OSError as exc:
            raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror or exc})") from None
        try:
            data = json.loads(raw, parse_constant=_no_constant)
        except RecursionError:
            raise SnapshotError(f"{path}: not a readable snapshot (JSON nested too deep)") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise SnapshotError(f"{path}: not a readable snapshot ({type(exc).__name__}: {str(exc)[:100]})") from None
        return cls.from_dict(data, name=str(path))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _read_bounded(fh, cap: int, name: str) -> bytes | bytearray:
    """The file's bytes, gunzipped when they are gzip, refused past ``cap`` bytes either way."""
    import zlib

    head = fh.read(2)
    if head != b"\x1f\x8b":
        rest = fh.read(cap + 1 - len(head))
        data = head + rest
        if len(data) > cap:
            raise SnapshotError(f"{name}: more than {cap} bytes of JSON (max_snapshot_bytes; refused)")
        return data
    z = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray(z.decompress(head))
    try:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            # inflate a MiB at a time: a bomb never makes more than that beside what is kept
            out += z.decompress(chunk, min(1 << 20, cap + 1 - len(out)))
            while z.unconsumed_tail and len(out) <= cap:
                out += z.decompress(z.unconsumed_tail, min(1 << 20, cap + 1 - len(out)))
            if len(out) > cap:
                raise SnapshotError(f"{name}: unpacks to more than {cap} bytes of JSON (max_snapshot_bytes; refused)")
            if z.eof:
                break
        if not z.eof:
            raise SnapshotError(f"{name}: not a readable snapshot (the gzip data is truncated)")
    except zlib.error as exc:
        raise SnapshotError(f"{name}: not a readable snapshot (broken gzip: {exc})") from None
    return out  # json.loads reads a bytearray as it is: no second copy


def utc_now_iso() -> str:
    from ._dt import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
