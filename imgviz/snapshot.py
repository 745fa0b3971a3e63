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

import gzip
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import SnapshotError

FORMAT = "imgviz-snapshot"
FORMAT_VERSION = 1


def empty_records() -> dict[str, Any]:
    return {"version": None, "image_list": None, "images": [], "container_list": None, "containers": [],
            "df": None, "skipped": [], "complete": True}


@dataclass
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

    source: dict[str, Any]
    records: dict[str, Any] = field(default_factory=empty_records)

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

    def save(self, path: str | os.PathLike) -> Path:
        """Write the snapshot as gzip-compressed JSON (``.json`` without gzip if the name says so)."""
        path = Path(path)
        data = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        tmp = path.with_name(path.name + ".tmp")
        try:
            if path.suffix == ".json":
                tmp.write_bytes(data)
            else:
                # mtime=0 keeps the file byte-identical for identical records
                with open(tmp, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
                    gz.write(data)
            os.replace(tmp, path)  # a reader sees the old file or the whole new one, never a part
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SnapshotError(f"{path}: cannot write the snapshot ({exc.strerror or exc})") from None
        return path

    @classmethod
    def from_dict(cls, data: Any, *, name: str = "snapshot") -> "Snapshot":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SnapshotError(f"{name}: not an imgviz snapshot (no '\"format\": \"{FORMAT}\"' field)")
        if data.get("format_version", 0) > FORMAT_VERSION:
            raise SnapshotError(f"{name}: snapshot format {data.get('format_version')} is newer than this "
                                f"imgviz understands ({FORMAT_VERSION}); upgrade imgviz")
        records = empty_records()
        records.update(data.get("records") or {})
        return cls(source=dict(data.get("source") or {}), records=records)

    @classmethod
    def read(cls, path: str | os.PathLike) -> "Snapshot":
        """Read a snapshot file as stored, without replaying it (see :func:`imgviz.sources.load`)."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror or exc})") from None
        try:
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            data = json.loads(raw)
        except (OSError, EOFError, ValueError) as exc:
            raise SnapshotError(f"{path}: not a readable snapshot ({type(exc).__name__}: {exc})") from None
        return cls.from_dict(data, name=str(path))


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
