"""Archive source: images saved as files, read in place (nothing is extracted to disk).

Three layouts are understood, as a tar (plain or compressed) or as a directory:

``docker save``, legacy layout (engines up to 24)
    ``manifest.json`` (``[{"Config": "<hex>.json", "RepoTags": [...], "Layers": ["<id>/layer.tar", ...]}]``),
    the config as ``<hex>.json`` (its sha256 is the image ID) and one *uncompressed* ``layer.tar``
    per layer (its sha256 is the layer's diff ID). Identical layers may be symlinks.
``docker save``, OCI layout (engines 25+)
    ``oci-layout``, ``index.json`` and ``blobs/sha256/<hex>``, plus the same ``manifest.json``
    pointing into ``blobs/`` (it gives the tags, as the engine names them). The blobs are the
    engine's uncompressed layer tars (overlay2: blob digest = diff ID) or the compressed blobs of
    the containerd image store, whose index.json entry is the image's index (its image ID). An
    image saved by its ID is in manifest.json only (index.json indexes names): it is read by its
    manifest blob all the same.
OCI image layout (``skopeo copy ... oci:DIR`` or ``oci-archive:FILE``, ``crane``, BuildKit)
    ``oci-layout``, ``index.json`` (nested indexes allowed) and ``blobs/<alg>/<hex>``; tags come from
    the ``org.opencontainers.image.ref.name`` / ``io.containerd.image.name`` annotations.

Metadata first, bytes only on request (ggcr's daemon/tarball idea): a tar is scanned by its member
*headers* only, seeking past member data, so reading a 1 GB ``docker save`` for its images reads
the few KB of headers, manifests and configs. ``read_layers=True`` streams every layer through the
shared layer reader and checks its digest (``diff_id`` for uncompressed layer tars, the blob digest
and the ``diff_id`` for OCI blobs); :meth:`Archive.layer` opens one layer as a stream of entries.

Manifests and configs are always checked against their digests. A malformed archive (truncated,
not a tar, broken JSON, a member name escaping the archive, a blob or config that is missing or
does not match its digest) raises one :class:`ArchiveError` naming the file and the member.
"""

from __future__ import annotations

import io
import json
import lzma
import os
import posixpath
import stat
import tarfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

from .. import _records
from .. import limits as _limits
from ..errors import SourceError
from ..snapshot import Snapshot, empty_records, utc_now_iso
from ._layer import LayerStream, file_chunks, layer_stats, measure
from ._oci import (INDEXES, MT_OCI_MANIFEST, check_descriptor, check_digest, check_shape, choose_platform,
                   diff_ids_of, image_ids, image_manifest, is_attestation, parse_json, parse_json_any)

__all__ = ["Archive", "ArchiveError", "collect", "layer_stats"]


class ArchiveError(SourceError):
    """An image archive or layout is malformed."""


#: a tar with more members than this is not an image archive (``docker save`` writes a few per layer)
MAX_MEMBERS = 1_000_000

#: ``docker save``'s manifest.json: one entry per image
_SAVE_ENTRY = _records.Obj({"Config": _records.Str(), "Layers": _records.List(_records.Str()),
                            "RepoTags": _records.Opt(_records.List(_records.Str()))}, required=("Config", "Layers"))


class CountingFile(io.RawIOBase):
    """A read-only file that counts the bytes actually read through it (seeks are free)."""

    def __init__(self, raw: IO[bytes]):
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()


def _safe_name(name: str, where: str) -> str:
    """Normalise a member name; refuse absolute names and names with ``..`` components."""
    text = name.replace("\\", "/")
    if text.startswith("/"):
        raise ArchiveError(f"{where}: member {name!r} has an absolute path (refused)")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"{where}: member {name!r} escapes the archive with '..' (refused)")
    return "/".join(parts)


def _link_target(member_name: str, linkname: str, where: str, *, hard: bool) -> str:
    """Where a link member points, inside the archive (symlinks are relative to their folder)."""
    if linkname.startswith("/"):
        raise ArchiveError(f"{where}: link {member_name!r} points to an absolute path (refused)")
    joined = linkname if hard else posixpath.join(posixpath.dirname(member_name), linkname)
    norm = posixpath.normpath(joined)
    if norm == ".." or norm.startswith("../"):
        raise ArchiveError(f"{where}: link {member_name!r} points outside the archive (refused)")
    return _safe_name(norm, where)


class _Store:
    """Named members of a tar or a directory; small ones read whole, big ones streamed."""

    where: str

    def names(self) -> set[str]:
        raise NotImplementedError

    def size(self, name: str) -> int:
        raise NotImplementedError

    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def has(self, name: str) -> bool:
        return name in self.names()

    def read_small(self, name: str, what: str, limit: int | None = None) -> bytes:
        limit = _limits.get().max_json_bytes if limit is None else limit
        if not self.has(name):
            raise ArchiveError(f"{self.where}: {what} {name} is missing")
        if self.size(name) > limit:
            raise ArchiveError(f"{self.where}: {what} {name} is {self.size(name)} bytes, more than the {limit} a "
                               f"real one needs (refused)")
        with self.open(name) as fh:
            data = fh.read()
        if len(data) != self.size(name):
            raise ArchiveError(f"{self.where}: {what} {name} is truncated")
        return data

    def close(self) -> None:
        pass


class _TarStore(_Store):
    def __init__(self, path: Path):
        self.where = str(path)
        try:
            self.file_size = path.stat().st_size
            raw = open(path, "rb")
        except OSError as exc:
            raise ArchiveError(f"{path}: cannot open ({exc.strerror or exc})") from None
        self.counter = CountingFile(raw)
        self._members: dict[str, tarfile.TarInfo] = {}
        try:
            magic = raw.read(6)
            raw.seek(0)
            compressed = magic[:2] == b"\x1f\x8b" or magic[:3] == b"BZh" or magic == b"\xfd7zXZ\x00"
            self.compressed = compressed
            self._tar = tarfile.open(fileobj=self.counter, mode="r:*" if compressed else "r:")
            deadline = _limits.deadline()
            for m in self._tar:
                if len(self._members) >= MAX_MEMBERS:
                    raise ArchiveError(f"{self.where}: more than {MAX_MEMBERS} members: not an image archive (refused)")
                if len(self._members) % 1024 == 0:
                    deadline.check(self.where)
                name = _safe_name(m.name, self.where)
                if m.issym() or m.islnk():
                    _link_target(name, m.linkname, self.where, hard=m.islnk())
                if not compressed and m.isreg() and m.offset_data + m.size > self.file_size:
                    raise ArchiveError(f"{self.where}: truncated: member {name} needs "
                                       f"{m.offset_data + m.size} bytes, the file has {self.file_size}")
                self._members[name] = m
            if not compressed and self._tar.offset + 2 * tarfile.BLOCKSIZE > self.file_size:
                raise ArchiveError(f"{self.where}: truncated: the tar ends at byte {self.file_size} without its "
                                   f"end-of-archive blocks")
        except ArchiveError:
            self.close()
            raise
        except (tarfile.TarError, EOFError, OSError, ValueError, OverflowError, zlib.error, lzma.LZMAError) as exc:
            self.close()
            raise ArchiveError(f"{self.where}: not a readable tar archive ({type(exc).__name__}: "
                               f"{str(exc)[:100] or 'corrupt'})") from None
        except BaseException:
            self.close()
            raise

    def names(self) -> set[str]:
        return {n for n, m in self._members.items() if not m.isdir()}

    def _resolve(self, name: str) -> tarfile.TarInfo:
        m = self._members[name]
        for _ in range(16):
            if m.issym() or m.islnk():
                target = _link_target(_safe_name(m.name, self.where), m.linkname, self.where, hard=m.islnk())
            else:
                return m
            if target not in self._members:
                raise ArchiveError(f"{self.where}: member {name} links to {target}, which is missing")
            m = self._members[target]
        raise ArchiveError(f"{self.where}: member {name}: too many links")

    def size(self, name: str) -> int:
        return self._resolve(name).size

    def open(self, name: str) -> IO[bytes]:
        try:
            fh = self._tar.extractfile(self._resolve(name))
        except (tarfile.TarError, OSError) as exc:
            raise ArchiveError(f"{self.where}: cannot read member {name} ({exc})") from None
        if fh is None:
            raise ArchiveError(f"{self.where}: member {name} is not a file")
        return fh

    def close(self) -> None:
        tar = getattr(self, "_tar", None)
        if tar is not None:
            tar.close()
        self.counter.close()


class _DirStore(_Store):
    def __init__(self, path: Path):
        self.where = str(path)
        self.root = path.resolve()
        self._names: set[str] | None = None

    def names(self) -> set[str]:
        if self._names is None:
            out = set()
            for dirpath, _dirs, files in os.walk(self.root):
                for f in files:
                    out.add(os.path.relpath(os.path.join(dirpath, f), self.root).replace(os.sep, "/"))
            self._names = out
        return self._names

    def _path(self, name: str) -> Path:
        try:
            p = (self.root / name).resolve()
        except (RuntimeError, OSError) as exc:  # a symlink loop
            raise ArchiveError(f"{self.where}: {name}: cannot resolve ({str(exc)[:80]})") from None
        if self.root not in p.parents and p != self.root:
            raise ArchiveError(f"{self.where}: {name} points outside the layout (refused)")
        return p

    def has(self, name: str) -> bool:
        try:
            return self._path(_safe_name(name, self.where)).is_file()
        except OSError:
            return False

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except OSError as exc:
            raise ArchiveError(f"{self.where}: cannot read {name} ({exc.strerror or exc})") from None

    def open(self, name: str) -> IO[bytes]:
        try:
            path = self._path(name)
            # O_NONBLOCK: a FIFO planted in a layout must not block the open; it is refused below
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise ArchiveError(f"{self.where}: {name} is not a regular file (refused)")
            return os.fdopen(fd, "rb")
        except OSError as exc:
            raise ArchiveError(f"{self.where}: cannot read {name} ({exc.strerror or exc})") from None


def _json(store: _Store, name: str, what: str, limit: int | None = None) -> Any:
    raw = store.read_small(name, what, limit)
    return parse_json_any(raw, what=f"{what} {name}", where=store.where, limit=limit, error=ArchiveError)


def _blob_name(digest: str, where: str) -> str:
    check_descriptor({"digest": digest}, what="blob", where=where, error=ArchiveError)
    algo, _, hexpart = digest.partition(":")
    return f"blobs/{algo}/{hexpart}"


class Archive:
    """An opened archive or layout; :meth:`images` yields snapshot records.

    Parameters
    ----------
    path : str or Path
        A tar (``docker save -o``, ``oci-archive``; gzip/bzip2/xz allowed, though a compressed tar
        cannot be skipped through without reading it) or a directory (OCI image layout, or an
        unpacked ``docker save``).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise ArchiveError(f"{self.path}: no such file or directory") from None
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot open ({exc.strerror or exc})") from None
        if stat.S_ISDIR(st.st_mode):
            self.store: _Store = _DirStore(self.path)
        elif stat.S_ISREG(st.st_mode):
            self.store = _TarStore(self.path)
        else:
            from .._output import _kind

            # a FIFO or a device would block or never end: refused before it is opened
            raise ArchiveError(f"{self.path}: is {_kind(st.st_mode)}, not an archive file or directory (refused)")

    @property
    def bytes_read(self) -> int | None:
        """Bytes read from the tar so far (None for a directory)."""
        counter = getattr(self.store, "counter", None)
        return counter.bytes_read if counter is not None else None

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def layout(self) -> str:
        names = self.store.names()
        if "index.json" in names and "oci-layout" in names:
            return "docker-save-oci" if "manifest.json" in names else "oci"
        if "manifest.json" in names:
            return "docker-save"
        raise ArchiveError(f"{self.store.where}: neither a docker save archive (no manifest.json) nor an "
                           f"OCI image layout (no index.json + oci-layout)")

    def images(self, *, platform: str | None = None, read_layers: bool = False) -> list[dict]:
        """Snapshot records of every image (see :func:`collect` for the options)."""
        layout = self.layout
        if layout == "docker-save":
            return self._legacy(read_layers)
        return self._oci(layout, platform, read_layers)

    @contextmanager
    def layer(self, name: str, *, digest: str | None = None, diff_id: str | None = None,
              content_digests: bool = False, media_type: str | None = None,
              unpacked_size: int | None = None) -> Iterator[LayerStream]:
        """Open one layer (a member name: ``<id>/layer.tar`` or ``blobs/sha256/<hex>``) as a stream
        of tar entries (:class:`~imgviz.sources._layer.LayerStream`); iterating to the end checks
        ``digest`` and ``diff_id`` when given. The member's stored size bounds what is read, and
        ``media_type``/``unpacked_size`` what it may unpack to (see the streaming reader)."""
        st = self.store
        size = st.size(name)
        with st.open(name) as fh:
            yield LayerStream(file_chunks(fh), digest=digest, diff_id=diff_id, where=st.where,
                              what="layer blob" if digest else "layer", name=name, by="stored",
                              content_digests=content_digests, size=size, unpacked_size=unpacked_size,
                              media_type=media_type, deadline=_limits.deadline(), error=ArchiveError)

    # -- docker save, legacy ---------------------------------------------------------------
    def _legacy(self, read_layers: bool) -> list[dict]:
        return [self._save_entry(i, entry, read_layers, "docker-save")
                for i, entry in enumerate(self._save_entries())]

    def _save_entries(self) -> list:
        st = self.store
        entries = _json(st, "manifest.json", "manifest")
        if not isinstance(entries, list):
            raise ArchiveError(f"{st.where}: manifest.json is not a list of images")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str) \
                    or not isinstance(entry.get("Layers"), list):
                raise ArchiveError(f"{st.where}: manifest.json entry {i} has no Config or Layers")
            check_shape(_SAVE_ENTRY, entry, what=f"manifest.json[{i}]", where=st.where, error=ArchiveError)
        return entries

    @staticmethod
    def _config_digest(cfg_name: str) -> str:
        """The image ID a save's ``Config`` member names: ``<hex>.json`` (legacy) or ``blobs/<alg>/<hex>``."""
        base = posixpath.basename(cfg_name)
        return ("sha256:" + base[:-5]) if base.endswith(".json") else \
            f"{posixpath.basename(posixpath.dirname(cfg_name))}:{base}"

    def _save_entry(self, i: int, entry: dict, read_layers: bool, layout: str) -> dict:
        """One image of manifest.json read by its ``Config`` and ``Layers`` members (no OCI manifest)."""
        st = self.store
        cfg_name = _safe_name(entry["Config"], st.where)
        raw = st.read_small(cfg_name, "config")
        digest = self._config_digest(cfg_name)
        check_digest(raw, digest, what=f"config {cfg_name}", where=st.where, by="stored", error=ArchiveError)
        config = parse_json(raw, what=f"config {cfg_name}", where=st.where, error=ArchiveError)
        check_shape(_records.IMAGE_CONFIG, config, what=f"config {cfg_name}", where=st.where, error=ArchiveError)
        layers = [_safe_name(p, st.where) for p in entry["Layers"]]
        diff_ids = diff_ids_of(config, n_layers=len(layers), what=f"config of image {digest[:19]}",
                               where=st.where, error=ArchiveError)
        sizes: list[int] | None = [] if read_layers else None
        for name, diff_id in zip(layers, diff_ids):
            if not st.has(name):
                raise ArchiveError(f"{st.where}: layer {name} of image {digest[:19]} is missing")
            if read_layers:
                with self.layer(name, diff_id=diff_id) as stream:
                    sizes.append(measure(stream)["size"])
        tags = [t for t in entry.get("RepoTags") or [] if isinstance(t, str)]
        return {"id": digest, "inspect": None, "history": None, "config": config, "manifest": None,
                "archive_manifest": entry, "ref": tags[0] if tags else None, "tags": tags, "digests": [],
                "layer_sizes": sizes, "layout": layout, "ids": [image_ids(digest)]}

    def _unindexed_manifests(self, configs: set[str], skip: set[str]) -> dict[str, dict]:
        """config digest -> descriptor of the image manifest blob that names it, for images a
        Docker 25+ ``docker save`` lists in manifest.json but not in index.json (an image saved by
        its ID, with no name to index it by). Docker writes their manifest blob all the same; it is
        found by reading the small blobs that are not a listed config or layer (a few KB each),
        at most ``max_json_bytes`` in all."""
        st = self.store
        limit = _limits.get().max_manifest_bytes
        budget = _limits.get().max_json_bytes
        found: dict[str, dict] = {}
        for name in sorted(st.names()):
            if len(found) == len(configs) or budget <= 0:
                break
            parts = name.split("/")
            if len(parts) != 3 or parts[0] != "blobs" or name in skip or st.size(name) > limit:
                continue
            budget -= st.size(name)
            with st.open(name) as fh:
                head = fh.read(limit)
            if not head.lstrip()[:1] == b"{":
                continue
            try:
                body = json.loads(head)
            except (ValueError, UnicodeDecodeError, RecursionError):
                continue
            cfg = body.get("config") if isinstance(body, dict) else None
            if isinstance(cfg, dict) and cfg.get("digest") in configs and isinstance(body.get("layers"), list):
                media = body.get("mediaType") if isinstance(body.get("mediaType"), str) else MT_OCI_MANIFEST
                found.setdefault(cfg["digest"], {"digest": f"{parts[1]}:{parts[2]}", "mediaType": media,
                                                 "size": len(head)})
        return found

    # -- OCI layouts -----------------------------------------------------------------------
    def _oci(self, layout: str, platform: str | None, read_layers: bool) -> list[dict]:
        st = self.store
        oci_layout = _json(st, "oci-layout", "oci-layout")
        if not isinstance(oci_layout, dict) or "imageLayoutVersion" not in oci_layout:
            raise ArchiveError(f"{st.where}: oci-layout has no imageLayoutVersion")
        index = _json(st, "index.json", "index")
        if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
            raise ArchiveError(f"{st.where}: index.json has no manifests list")
        check_shape(_records.INDEX, index, what="index.json", where=st.where, error=ArchiveError)
        save_tags: dict[str, list[str]] = {}
        entries = self._save_entries() if layout == "docker-save-oci" else []
        for entry in entries:
            save_tags.setdefault(self._config_digest(_safe_name(entry["Config"], st.where)), []).extend(
                t for t in entry.get("RepoTags") or [] if isinstance(t, str))
        by_id: dict[str, dict] = {}
        for desc, names, top in self._walk_index(index, platform):
            rec = self._oci_image(desc, read_layers)
            if top is not None:
                rec["index"] = top
                rec["ids"] = [image_ids(rec["id"], desc["digest"], top["digest"])]
            # a docker save names its images in manifest.json as the engine does (``ivreg/app:2``);
            # index.json's annotations say the same name fully qualified (``docker.io/ivreg/app:2``)
            tags = list(dict.fromkeys(save_tags.get(rec["id"]) or names))
            if rec["id"] in by_id:
                have = by_id[rec["id"]]
                have["tags"] += [t for t in tags if t not in have["tags"]]
                have["ids"] += [i for i in rec["ids"] if i not in have["ids"]]
                continue
            rec["tags"] = tags
            rec["ref"] = tags[0] if tags else None
            rec["layout"] = layout
            by_id[rec["id"]] = rec
        # images of manifest.json that index.json leaves out (saved by ID): read by their own manifest
        # blob, or, without one, by manifest.json's Config and Layers
        missing = [(i, e) for i, e in enumerate(entries)
                   if self._config_digest(_safe_name(e["Config"], st.where)) not in by_id]
        if missing:
            listed = {_safe_name(n, st.where) for e in entries for n in [e["Config"], *e["Layers"]]}
            manifests = self._unindexed_manifests(
                {self._config_digest(_safe_name(e["Config"], st.where)) for _i, e in missing}, listed)
            for i, entry in missing:
                cfg = self._config_digest(_safe_name(entry["Config"], st.where))
                if cfg in by_id:
                    continue
                if cfg in manifests:
                    rec = self._oci_image(manifests[cfg], read_layers)
                    tags = list(dict.fromkeys(save_tags.get(cfg) or []))
                    rec.update(tags=tags, ref=tags[0] if tags else None, layout=layout)
                else:
                    rec = self._save_entry(i, entry, read_layers, layout)
                by_id[rec["id"]] = rec
        return list(by_id.values())

    def _walk_index(self, index: dict, platform: str | None) -> Iterator[tuple[dict, list[str], dict | None]]:
        """The image manifests a layout's index.json names, one per image, with their names and
        the nested index they were chosen from (``{"digest", "mediaType", "manifest"}``, the
        registry source's ``index`` record; a containerd image store names an image by it), or None.

        The platform is chosen by the one rule every source uses (:func:`~imgviz.sources._oci.choose_platform`):
        in a nested index, and among top-level manifests of one name that say their platform (a
        multi-platform image written flat). Attestations are never images.
        """
        where = self.store.where
        groups: dict[tuple[str, ...], list[dict]] = {}
        for desc in index.get("manifests") or []:
            check_descriptor(desc, what="index.json entry", where=where, error=ArchiveError)
            if is_attestation(desc):
                continue
            names = _names(desc)
            if desc.get("mediaType") in INDEXES:
                nested = self._blob_json(desc, "index", limit=_limits.get().max_manifest_bytes)
                check_shape(_records.INDEX, nested, what=f"index {desc['digest']}", where=where, error=ArchiveError)
                chosen = choose_platform(nested.get("manifests") or [], platform,
                                         where=f"{where}: index {desc['digest']}", error=ArchiveError)
                check_descriptor(chosen, what=f"index {desc['digest']} entry", where=where, error=ArchiveError)
                if chosen.get("mediaType") in INDEXES:
                    raise ArchiveError(f"{where}: nested index under {chosen['digest']} is not supported")
                yield chosen, names, {"digest": desc["digest"], "mediaType": desc["mediaType"], "manifest": nested}
            elif isinstance(desc.get("platform"), dict):
                groups.setdefault(tuple(names), []).append(desc)
            else:
                yield desc, names, None
        for names, entries in groups.items():
            yield (choose_platform(entries, platform, where=f"{where}: index.json", error=ArchiveError), list(names),
                   None)

    def _blob_json(self, desc: dict, what: str, limit: int | None = None) -> dict:
        st = self.store
        limit = _limits.get().max_json_bytes if limit is None else limit
        name = _blob_name(desc["digest"], st.where)
        if isinstance(desc.get("size"), int) and desc["size"] > limit:
            raise ArchiveError(f"{st.where}: {what} blob {name} is {desc['size']} bytes by its descriptor, more than "
                               f"the {limit} a real one needs (refused)")
        raw = st.read_small(name, f"{what} blob", limit)
        check_digest(raw, desc["digest"], what=f"{what} blob {name}", where=st.where, by="stored", error=ArchiveError)
        return parse_json(raw, what=f"{what} blob {name}", where=st.where, limit=limit, error=ArchiveError)

    def _oci_image(self, desc: dict, read_layers: bool) -> dict:
        st = self.store
        manifest = self._blob_json(desc, "manifest", limit=_limits.get().max_manifest_bytes)
        config_desc, layers = image_manifest(manifest, where=st.where, what=f"manifest {desc['digest']}",
                                             error=ArchiveError)
        config = self._blob_json(config_desc, "config")
        check_shape(_records.IMAGE_CONFIG, config, what=f"config {config_desc['digest']}", where=st.where,
                    error=ArchiveError)
        diff_ids = diff_ids_of(config, n_layers=len(layers), what=f"config of manifest {desc['digest'][:19]}",
                               where=st.where, error=ArchiveError)
        sizes: list[int] | None = [] if read_layers else None
        for layer, diff_id in zip(layers, diff_ids):
            name = _blob_name(layer["digest"], st.where)
            if not st.has(name):
                raise ArchiveError(f"{st.where}: layer blob {name} of manifest {desc['digest'][:19]} is missing")
            if layer.get("size") is not None and st.size(name) != layer["size"]:
                raise ArchiveError(f"{st.where}: layer blob {name} is {st.size(name)} bytes, the manifest says "
                                   f"{layer['size']}")
            if read_layers:
                with self.layer(name, digest=layer["digest"], diff_id=diff_id,
                                media_type=layer.get("mediaType")) as stream:
                    sizes.append(measure(stream)["size"])
        return {"id": config_desc["digest"], "inspect": None, "history": None, "config": config,
                "manifest": manifest, "manifest_digest": desc["digest"], "digests": [], "layer_sizes": sizes,
                "ids": [image_ids(config_desc["digest"], desc["digest"])],
                **({"media_type": desc["mediaType"]} if isinstance(desc.get("mediaType"), str) else {})}


def _names(desc: dict) -> list[str]:
    """The image name an index entry carries (containerd's annotation first, then OCI's ref.name)."""
    ann = desc.get("annotations") or {}
    names = [n for n in (ann.get("io.containerd.image.name"), ann.get("org.opencontainers.image.ref.name"))
             if isinstance(n, str) and n]
    return names[:1]


def collect(path: str | os.PathLike, *, platform: str | None = None, read_layers: bool = False) -> Snapshot:
    """Read every image of a saved archive or OCI layout into a :class:`~imgviz.snapshot.Snapshot`.

    Parameters
    ----------
    path : str or Path
        ``docker save`` tar (legacy or OCI layout), OCI layout directory, or ``oci-archive`` tar.
    platform : str, optional
        ``os/arch[/variant]`` to choose from multi-platform indexes (default: this machine), by
        the same rule as the registry source.
    read_layers : bool
        Also read every layer (streamed through the shared layer reader): check its digest and
        diff ID, and measure its uncompressed size as Docker's graph driver (overlay2) reports it
        after ``docker load`` (:func:`layer_stats`, which names the containerd store's and podman's
        other rules), which fills the frames' ``size`` columns (``size_source ==
        "derived"``). The engine that built a layer with BuildKit reports less by the layer's
        symlink target lengths. Reads all bytes; off by default, when sizes stay NA. The same
        option as :func:`imgviz.sources.registry.collect`'s.

    Returns
    -------
    Snapshot
        ``kind == 'archive'``; ``source['bytes_read']`` says how many bytes of the tar were read.
        Layer blob digests and compressed sizes are known for OCI layouts; a legacy ``docker save``
        holds uncompressed layer tars and no blob digests, so those stay NA. Each record's ``ids``
        names the digests an engine could use as the image's ID (the config's; in an OCI layout
        the image manifest's and, where index.json names an index, the index's: the containerd
        image store's ID, :func:`~imgviz.sources._oci.engine_image_id`); a legacy save has the
        config digest only.

    Raises
    ------
    ArchiveError
        One line naming the file and the member at fault.
    """
    with Archive(path) as arc:
        layout = arc.layout
        images = arc.images(platform=platform, read_layers=read_layers)
        records = empty_records()
        records["images"] = images
        _records.check_records(records, "archive", where=str(Path(path)), error=ArchiveError)
        source = {"kind": "archive", "host": str(Path(path)), "collected_at": utc_now_iso(), "layout": layout,
                  "bytes_read": arc.bytes_read}
        if isinstance(arc.store, _TarStore):
            source["file_size"] = arc.store.file_size
        return Snapshot(source=source, records=records)
