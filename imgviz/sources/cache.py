"""The engine cache: what was read for an image ID, kept so a refresh reads only new IDs.

An engine's image ID is a content digest (the config's, or on the containerd store the index's
or manifest's), so what ``GET /images/{id}/json`` and ``/history`` answer for one ID is fixed by
its content, except the fields that name the image: measured on Docker 20.10 and 28.5 (overlay2
and the containerd store) and podman 4.3 by tagging, untagging, re-tagging, building children,
creating containers and removing images (by hand, 2026-12-02; tests/sources/test_engine_cache.py
holds every refresh to a fresh collection on each of them):

- ``inspect.RepoTags`` and ``RepoDigests`` follow the image's names;
- ``history[].Tags`` names the tags of the image *and of every image its history passes
  through* (the classic builder's parents on 20.10 and 28.5: retagging a base changes the
  history of every image built on it);
- ``inspect.Metadata.LastTagTime`` (Docker, not podman) moves with each ``docker tag``, even one
  that gives the image a name it already had (the only change a list cannot see; imgviz reads no
  such time, and a served record keeps the time it was read with);
- nothing else changed.

So a cached record is served only when the fresh ``/images/json`` still lists its ID with the
names, Size and Created it was read with, and lists every image its history names with the tags
it had then (:func:`fingerprint`); otherwise the ID is read again. Images not in the fresh list
are never served (the list decides what exists), so a removed image never comes back, and a
renamed one is always read again with its new names.

One file per engine (``engine-<hash>.json`` under :func:`cache_dir`), keyed by what tells engines
apart: the address, the engine (Docker or podman), ``/info`` ID (Docker's; podman answers a new
one per request), DockerRootDir, Driver and Name (20.10 takes its ID from the host's
``/etc/docker/key.json``, so two engines of one host share it). It is written atomically
(:mod:`imgviz._output`) under an exclusive lock (``flock`` of a ``.lock`` file beside it), merging
what another process wrote meanwhile; a file that is not a cache of this engine, or is corrupt, is
ignored with one warning and replaced by the next write. The folder is made private (0700) and
the file 0600: the records hold the images' environment as the engine said it.

Cost: loading re-checks every cached record against :mod:`imgviz._records` (a file is never
trusted to be what imgviz wrote): about 0.4 s for 400 images, the largest part of a refresh of an
unchanged 20.10 engine (0.45 s in all, against 1.15 s fresh).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any, Iterable

FORMAT = "imgviz-engine-cache"
FORMAT_VERSION = 1
#: folder of the cache files (default: $XDG_CACHE_HOME/imgviz, else ~/.cache/imgviz)
DIR_ENV = "IMGVIZ_CACHE_DIR"
#: ``0`` / ``off`` / ``false`` / ``no`` turns the cache off where the caller does not say
SWITCH_ENV = "IMGVIZ_CACHE"
_OFF = {"0", "off", "false", "no"}
_LOCK_WAIT = 10.0  # seconds a writer waits for another; after that it leaves the file as it is
_NONE_NAMES = {"<none>:<none>", "<none>@<none>"}


class CacheWarning(UserWarning):
    """The engine cache could not be read or written; the collection reads what it needs itself."""


def cache_dir() -> Path:
    """``$IMGVIZ_CACHE_DIR``, else ``$XDG_CACHE_HOME/imgviz``, else ``~/.cache/imgviz``."""
    own = os.environ.get(DIR_ENV)
    if own:
        return Path(own)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "imgviz"


def enabled(cache: bool | None) -> bool:
    """What ``cache=`` means: True/False as given; None: on unless ``$IMGVIZ_CACHE`` says off."""
    if cache is not None:
        return bool(cache)
    return os.environ.get(SWITCH_ENV, "").strip().lower() not in _OFF


def engine_key(address: str, version: dict | None, info: dict | None,
               podman: bool | None = None) -> dict[str, Any] | None:
    """What tells this engine apart from every other (see the module doc), or None when ``/info``
    says too little to tell (then nothing is cached). ``podman``: known otherwise (its ``/_ping``;
    no /version asked); None: from ``version``. Either way one engine has one key."""
    if not isinstance(info, dict):
        return None
    from .engine_model import _is_podman

    podman = _is_podman(version or {}) if podman is None else podman
    key = {"address": address, "engine": "podman" if podman else "docker",
           "id": None if podman else info.get("ID"), "root": info.get("DockerRootDir"),
           "driver": info.get("Driver"), "name": info.get("Name")}
    if not all(isinstance(key[k], str) and key[k] for k in ("root", "driver")) or (not podman and not key["id"]):
        return None
    return key


def _names(values) -> list[str]:
    return sorted({v for v in values or () if isinstance(v, str) and v not in _NONE_NAMES})


def _history_ids(history) -> list[str]:
    """The image IDs a history names (podman writes them without ``sha256:``)."""
    return [rid for rid in _history_ids_all(history) if rid is not None]


def _history_ids_all(history) -> list[str | None]:
    """Per history entry, the image ID it names (None for ``<missing>``)."""
    out = []
    for entry in history or ():
        raw = entry.get("Id") if isinstance(entry, dict) else None
        out.append(None if not isinstance(raw, str) or raw in ("", "<missing>") else
                   (raw if ":" in raw else f"sha256:{raw}"))
    return out


def fingerprint(image_id: str, listed: dict[str, dict], history) -> dict[str, Any] | None:
    """What the list says now about the names a record of ``image_id`` holds: its own tags,
    digests, Size and Created, and the tags of every image its history names (``[]`` for one the
    list does not show: an untagged parent). None when the list does not show ``image_id``."""
    own = listed.get(image_id)
    if own is None:
        return None
    refs = {rid: _names((listed.get(rid) or {}).get("RepoTags")) for rid in _history_ids(history) if rid != image_id}
    return {"tags": _names(own.get("RepoTags")), "digests": _names(own.get("RepoDigests")),
            "size": own.get("Size"), "created": own.get("Created"), "refs": dict(sorted(refs.items()))}


def agrees(record: dict, fp: dict) -> bool:
    """Whether a record read just now says the same names as the list it was read after (a tag
    moved between the two answers: the record is used, never kept)."""
    inspect = record.get("inspect") or {}
    # the containerd store's list shows one repo digest of an image with several names where its
    # inspect shows each name's (seen after a push and a pull: 1 of 2): the list's must be among them
    if _names(inspect.get("RepoTags")) != fp["tags"] or \
            not set(fp["digests"]) <= set(_names(inspect.get("RepoDigests"))):
        return False
    for entry, rid in zip(record.get("history") or (), _history_ids_all(record.get("history"))):
        tags = entry.get("Tags") if isinstance(entry, dict) else None
        if rid is None or tags is None:
            continue
        if _names(tags) != (fp["tags"] if rid == record["id"] else fp["refs"].get(rid, [])):
            return False
    return True


class EngineCache:
    """The cache file of one engine: :meth:`serve` what still holds, :meth:`store` what was read."""

    def __init__(self, path: Path, key: dict):
        self.path, self.key = path, key
        self.entries: dict[str, dict] = {}
        self.served: set[str] = set()

    @classmethod
    def for_engine(cls, address: str, version: dict | None, info: dict | None,
                   podman: bool | None = None) -> "EngineCache | None":
        key = engine_key(address, version, info, podman)
        if key is None:
            return None
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
        self = cls(cache_dir() / f"engine-{digest}.json", key)
        self.entries = self._load(warn=True)
        return self

    # -- reading --------------------------------------------------------------------------------
    def _load(self, *, warn: bool) -> dict[str, dict]:
        """The file's entries; {} when there is none, and (with one warning) when it is not a
        cache of this engine or is corrupt."""
        from .. import limits as _limits

        try:
            with open(self.path, "rb") as fh:
                raw = fh.read(_limits.get().max_snapshot_bytes + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            return self._ignored(f"cannot read it ({exc.strerror or exc})", warn)
        if not raw:
            return {}  # made empty (0600) by a writer a moment before its content lands
        if len(raw) > _limits.get().max_snapshot_bytes:
            return self._ignored("larger than max_snapshot_bytes", warn)
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return self._ignored("not JSON", warn)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return self._ignored("not an imgviz engine cache", warn)
        if data.get("format_version") != FORMAT_VERSION:
            return self._ignored(f"format {str(data.get('format_version'))[:20]} is not {FORMAT_VERSION}", warn)
        if data.get("engine") != self.key:
            return self._ignored("a cache of another engine", warn)
        images = data.get("images")
        if not isinstance(images, dict):
            return self._ignored("no images object", warn)
        problem = _check_entries(images)
        if problem:
            return self._ignored(problem, warn)
        return images

    def _ignored(self, why: str, warn: bool) -> dict:
        if warn:
            warnings.warn(f"ignored the engine cache {self.path} ({why}); reading every image from the engine "
                          f"(the next collection rewrites it)", CacheWarning, stacklevel=2)
        return {}

    def serve(self, image_list: list[dict]) -> dict[str, dict]:
        """The records of listed images whose cached names, Size and Created are what the list
        says now (:func:`fingerprint`), as image records of a snapshot."""
        listed = {im["Id"]: im for im in image_list}
        out = {}
        for image_id in listed:
            entry = self.entries.get(image_id)
            if entry is None or fingerprint(image_id, listed, entry["history"]) != entry["fp"]:
                continue
            out[image_id] = {"id": image_id, "inspect": entry["inspect"], "history": entry["history"],
                             "config": None, "manifest": None, "ref": None}
        self.served = set(out)
        return out

    # -- writing --------------------------------------------------------------------------------
    def store(self, image_list: list[dict], records: Iterable[dict]) -> bool:
        """Keep the records read from the engine (those whose names agree with the list) and drop
        entries of images the list no longer shows; merged with what another process wrote
        meanwhile, under the lock. Writes nothing when nothing changed. True when written."""
        listed = {im["Id"]: im for im in image_list}
        new = {}
        for rec in records:
            if rec["id"] in self.served or rec["id"] not in listed:
                continue
            fp = fingerprint(rec["id"], listed, rec.get("history"))
            if fp is not None and agrees(rec, fp):
                new[rec["id"]] = {"fp": fp, "inspect": rec["inspect"], "history": rec["history"]}
        stale = set(self.entries) - set(listed)
        if not new and not stale:
            return False
        try:
            return self._write(new, set(listed))
        except OSError as exc:
            warnings.warn(f"could not update the engine cache {self.path} ({exc.strerror or exc}); the next "
                          f"collection reads those images again", CacheWarning, stacklevel=2)
            return False

    def _write(self, new: dict[str, dict], listed: set[str]) -> bool:
        import fcntl

        from .._output import write_file
        from ..errors import OutputError

        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            end = time.monotonic() + _LOCK_WAIT
            while True:
                try:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > end:
                        warnings.warn(f"the engine cache {self.path} stayed locked by another imgviz for "
                                      f"{_LOCK_WAIT:g} s; left as it is", CacheWarning, stacklevel=3)
                        return False
                    time.sleep(0.05)
            try:
                # merge: what another process wrote since we read (valid entries of images we list)
                theirs = self._load(warn=False)
                merged = {i: e for i, e in theirs.items() if i in listed}
                merged.update({i: e for i, e in self.entries.items() if i in listed})
                merged.update(new)
                data = {"format": FORMAT, "format_version": FORMAT_VERSION, "engine": self.key, "images": merged}
                body = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # its mode, kept
                write_file(self.path, body, what="engine cache")
                self.entries = merged
                return True
            except OutputError as exc:
                raise OSError(str(exc)) from None
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _check_entries(images: dict) -> str | None:
    """The first problem of a cache file's entries (checked like every engine answer), or None."""
    from .. import _records

    for image_id, entry in images.items():
        where = f"images[{str(image_id)[:19]}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("fp"), dict):
            return f"{where}: not an entry"
        fp = entry["fp"]
        if not isinstance(fp.get("tags"), list) or not isinstance(fp.get("digests"), list) \
                or not isinstance(fp.get("refs"), dict):
            return f"{where}.fp: not a fingerprint"
        for name, schema in (("inspect", _records.INSPECT), ("history", _records.HISTORY)):
            found = _records.problem(schema, entry.get(name), f"{where}.{name}")
            if found:
                return found
        if entry["inspect"].get("Id") != image_id:
            return f"{where}: names another image"
    return None


def note(source: dict | None) -> str | None:
    """The one line saying what came from the cache (None when nothing did or it was not used):
    ``"380 of 400 images read from the cache at PATH; --no-cache to read all"``."""
    info = (source or {}).get("cache")
    if not isinstance(info, dict):
        return None
    served, total, path = info.get("served"), info.get("images"), info.get("path")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (served, total)) or not served \
            or not isinstance(path, str):
        return None
    return f"{served} of {total} images read from the cache at {path}; --no-cache to read all"
