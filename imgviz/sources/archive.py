"""Archive source: images saved as files, read in place (nothing is extracted to disk).

Three layouts are understood, as a tar (plain or compressed) or as a directory:

``docker save``, legacy layout (engines up to 24)
    ``manifest.json`` (``[{"Config": "<hex>.json", "RepoTags": [...], "Layers": ["<id>/layer.tar", ...]}]``),
    the config as ``<hex>.json`` (its sha256 is the image ID) and one *uncompressed* ``layer.tar``
    per layer (its sha256 is the layer's diff ID). Identical layers may be symlinks.
``docker save``, OCI layout (engines 25+)
    ``oci-layout``, ``index.json`` and ``blobs/sha256/<hex>``, plus the same ``manifest.json``
    pointing into ``blobs/`` (it gives the tags).
OCI image layout (``skopeo copy ... oci:DIR`` or ``oci-archive:FILE``, ``crane``, BuildKit)
    ``oci-layout``, ``index.json`` (nested indexes allowed) and ``blobs/<alg>/<hex>``; tags come from
    the ``org.opencontainers.image.ref.name`` / ``io.containerd.image.name`` annotations.

Metadata first, bytes only on request (ggcr's daemon/tarball idea): a tar is scanned by its member
*headers* only, seeking past member data, so reading a 1 GB ``docker save`` for its images reads
the few KB of headers, manifests and configs. ``verify_layers=True`` reads every layer and checks
its digest (``diff_id`` for uncompressed layer tars, the blob digest for OCI blobs).

Manifests and configs are always checked against their digests. A malformed archive (truncated,
not a tar, broken JSON, a member name escaping the archive, a blob or config that is missing or
does not match its digest) raises one :class:`ArchiveError` naming the file and the member.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import tarfile
import zlib
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from ..errors import SourceError
from ..snapshot import Snapshot, empty_records, utc_now_iso

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEXES = (MT_OCI_INDEX, MT_DOCKER_LIST)
SMALL_LIMIT = 64 * 1024 * 1024  # manifests/configs bigger than this are not believed


class ArchiveError(SourceError):
    """An image archive or layout is malformed."""


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

    def read_small(self, name: str, what: str) -> bytes:
        if not self.has(name):
            raise ArchiveError(f"{self.where}: {what} {name} is missing")
        if self.size(name) > SMALL_LIMIT:
            raise ArchiveError(f"{self.where}: {what} {name} is {self.size(name)} bytes: too big to be one")
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
            for m in self._tar:
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
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            self.close()
            raise ArchiveError(f"{self.where}: not a readable tar archive ({type(exc).__name__}: "
                               f"{str(exc)[:100] or 'corrupt'})") from None

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
        p = (self.root / name).resolve()
        if self.root not in p.parents and p != self.root:
            raise ArchiveError(f"{self.where}: {name} points outside the layout (refused)")
        return p

    def has(self, name: str) -> bool:
        try:
            return self._path(_safe_name(name, self.where)).is_file()
        except OSError:
            return False

    def size(self, name: str) -> int:
        return self._path(name).stat().st_size

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(self._path(name), "rb")
        except OSError as exc:
            raise ArchiveError(f"{self.where}: cannot read {name} ({exc.strerror or exc})") from None


def _json(store: _Store, name: str, what: str) -> Any:
    raw = store.read_small(name, what)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{store.where}: {what} {name} is not valid JSON ({str(exc)[:80]})") from None


def _blob_name(digest: str, where: str) -> str:
    algo, _, hexpart = (digest or "").partition(":")
    if not algo or not hexpart or "/" in digest or not hexpart.isalnum():
        raise ArchiveError(f"{where}: invalid digest {digest!r}")
    return f"blobs/{algo}/{hexpart}"


def _check_digest(data: bytes, digest: str, where: str, what: str) -> None:
    algo, _, hexpart = digest.partition(":")
    if algo not in hashlib.algorithms_available:
        raise ArchiveError(f"{where}: {what} digest {digest} uses an unknown algorithm")
    got = hashlib.new(algo, data).hexdigest()
    if got != hexpart:
        raise ArchiveError(f"{where}: {what} does not match its digest {digest} (the bytes hash to {algo}:{got})")


def _chunks(fh: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    return iter(lambda: fh.read(size), b"")


class LayerReader(io.RawIOBase):
    """A layer blob read chunk by chunk: hashes the blob as stored and the tar inside it.

    Gzip blobs are decompressed on the fly (zstd is not supported); anything else is taken as a
    plain tar. ``blob_digest`` is the sha256 of the bytes as stored (an OCI ``digest``),
    ``diff_id`` the sha256 of the uncompressed tar, valid once everything was read.
    """

    def __init__(self, chunks: Iterable[bytes], where: str):
        self._chunks = iter(chunks)
        self._where = where
        self._buf = bytearray()
        self._blob = hashlib.sha256()
        self._tar = hashlib.sha256()
        self._z = None
        self._started = False
        self._done = False
        self.blob_bytes = 0
        self.tar_bytes = 0

    def readable(self) -> bool:
        return True

    def _feed(self, chunk: bytes) -> None:
        if not self._started:
            self._started = True
            if chunk[:2] == b"\x1f\x8b":
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif chunk[:4] == b"\x28\xb5\x2f\xfd":
                raise ArchiveError(f"{self._where}: zstd-compressed layers are not supported")
        self._blob.update(chunk)
        self.blob_bytes += len(chunk)
        try:
            data = self._z.decompress(chunk) if self._z is not None else chunk
        except zlib.error as exc:
            raise ArchiveError(f"{self._where}: layer blob is not valid gzip ({exc})") from None
        self._tar.update(data)
        self.tar_bytes += len(data)
        self._buf += data

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buf) < size):
            chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
                if self._z is not None:
                    tail = self._z.flush()
                    self._tar.update(tail)
                    self.tar_bytes += len(tail)
                    self._buf += tail
                break
            if chunk:
                self._feed(chunk)
        n = len(self._buf) if size < 0 else min(size, len(self._buf))
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    @property
    def blob_digest(self) -> str:
        return "sha256:" + self._blob.hexdigest()

    @property
    def diff_id(self) -> str:
        return "sha256:" + self._tar.hexdigest()


def layer_stats(chunks: Iterable[bytes], *, where: str = "layer") -> dict[str, Any]:
    """Read a whole layer blob: its digests and its size as an engine reports it after a load or pull.

    The rule (moby 20.10, overlay2 with native diff, as ``docker info`` shows "Native Overlay
    Diff: true"): ``docker load``, ``docker pull``, ``docker import``, ``docker commit`` and every
    step of the classic builder register a layer by unpacking its tar into a fresh directory
    (``pkg/archive.Unpack``) and walking it with ``pkg/directory.Size``. That sum counts every
    non-directory entry left in the directory once per inode, by its ``lstat`` size: regular files
    by their length, symlinks by the length of their target, hard links once, whiteouts, devices
    and directories as 0. ``size`` replays that on the tar's headers, without extracting anything.
    (The engine refuses a layer naming one path twice, so no entry replaces another; should a tar
    do so anyway, the last entry counts, as unpacking would leave it.)

    Where the engine's number can differ from ``size`` (the tar does not tell which applies):

    - a layer made by **BuildKit** (``docker build`` with ``DOCKER_BUILDKIT=1``) is sized from the
      tar it exports (``layer.ChecksumForGraphID``, summing tar header sizes), so its symlinks
      count 0: the engine that built it reports ``header_size``;
    - an engine whose overlay2 uses the *naive* diff (kernels with ``redirect_dir``, user
      namespaces) sizes every load and pull by ``pkg/archive.UnpackLayer``: ``header_size`` too;
    - a layer the engine already holds (same chain ID) keeps the size of its first registration:
      loading a BuildKit-built image back into the engine that built it changes nothing.

    Measured on dockerd 20.10.24 (tests/analysis/test_sizes_live.py): a BuildKit ``COPY`` of
    ``x.txt`` (2 bytes) and ``link -> x.txt`` is 2 bytes on the engine that built it and 7 after
    ``docker load`` or ``docker pull`` into an engine that did not hold it; ``size`` is 7.

    Returns
    -------
    dict
        ``size`` (the load/pull rule above), ``header_size`` (sum of the tar headers' sizes:
        regular file bytes, every copy counted, symlinks 0), ``diff_id``, ``digest`` (sha256 of
        the blob as stored), ``blob_bytes``, ``tar_bytes``.
    """
    reader = LayerReader(chunks, where)
    header_size = 0
    inode_of: dict[str, int] = {}  # path -> inode number (ours), for every non-directory
    inode_size: list[int] = []  # inode number -> lstat size
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for m in tar:
                header_size += m.size
                path = posixpath.normpath("/" + m.name).lstrip("/")
                base = posixpath.basename(path)
                if not path or m.isdir() or base == ".wh..wh..opq":
                    continue
                if base.startswith(".wh."):
                    # a whiteout becomes a 0:0 character device at the path it hides: 0 bytes
                    path, nbytes = posixpath.join(posixpath.dirname(path), base[4:]), 0
                elif m.islnk():
                    target = posixpath.normpath("/" + m.linkname).lstrip("/")
                    if target in inode_of:
                        inode_of[path] = inode_of[target]
                    continue
                elif m.isreg():
                    nbytes = m.size
                elif m.issym():
                    nbytes = len(m.linkname.encode("utf-8", "surrogateescape"))
                else:
                    nbytes = 0  # devices, fifos
                inode_of[path] = len(inode_size)
                inode_size.append(nbytes)
        reader.drain()
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"{where}: layer is not a readable tar ({str(exc)[:80]})") from None
    size = sum(inode_size[i] for i in set(inode_of.values()))
    return {"size": size, "header_size": header_size, "diff_id": reader.diff_id,
            "digest": reader.blob_digest, "blob_bytes": reader.blob_bytes, "tar_bytes": reader.tar_bytes}


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
        if self.path.is_dir():
            self.store: _Store = _DirStore(self.path)
        elif self.path.exists():
            self.store = _TarStore(self.path)
        else:
            raise ArchiveError(f"{self.path}: no such file or directory")

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

    def images(self, *, platform: str | None = None, verify_layers: bool = False) -> list[dict]:
        layout = self.layout
        if layout == "docker-save":
            return self._legacy(verify_layers)
        return self._oci(layout, platform, verify_layers)

    # -- docker save, legacy ---------------------------------------------------------------
    def _legacy(self, verify_layers: bool) -> list[dict]:
        st = self.store
        entries = _json(st, "manifest.json", "manifest")
        if not isinstance(entries, list):
            raise ArchiveError(f"{st.where}: manifest.json is not a list of images")
        out = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str) \
                    or not isinstance(entry.get("Layers"), list):
                raise ArchiveError(f"{st.where}: manifest.json entry {i} has no Config or Layers")
            cfg_name = _safe_name(entry["Config"], st.where)
            raw = st.read_small(cfg_name, "config")
            base = posixpath.basename(cfg_name)
            digest = ("sha256:" + base[:-5]) if base.endswith(".json") else \
                f"{posixpath.basename(posixpath.dirname(cfg_name))}:{base}"
            _check_digest(raw, digest, st.where, f"config {cfg_name}")
            config = _parse(raw, st.where, f"config {cfg_name}")
            diff_ids = ((config.get("rootfs") or {}).get("diff_ids")) or []
            layers = [_safe_name(p, st.where) for p in entry["Layers"]]
            if len(diff_ids) != len(layers):
                raise ArchiveError(f"{st.where}: image {digest[:19]} lists {len(layers)} layers but its config "
                                   f"has {len(diff_ids)} diff IDs")
            sizes: list[int] | None = [] if verify_layers else None
            for name, diff_id in zip(layers, diff_ids):
                if not st.has(name):
                    raise ArchiveError(f"{st.where}: layer {name} of image {digest[:19]} is missing")
                if verify_layers:
                    stats = self._layer(name)
                    if stats["diff_id"] != diff_id:
                        raise ArchiveError(f"{st.where}: layer {name} does not match its diff ID {diff_id}")
                    sizes.append(stats["size"])
            tags = [t for t in entry.get("RepoTags") or [] if isinstance(t, str)]
            out.append({"id": digest, "inspect": None, "history": None, "config": config, "manifest": None,
                        "archive_manifest": entry, "ref": tags[0] if tags else None, "tags": tags, "digests": [],
                        "layer_sizes": sizes, "layout": "docker-save"})
        return out

    # -- OCI layouts -----------------------------------------------------------------------
    def _oci(self, layout: str, platform: str | None, verify_layers: bool) -> list[dict]:
        st = self.store
        oci_layout = _json(st, "oci-layout", "oci-layout")
        if not isinstance(oci_layout, dict) or "imageLayoutVersion" not in oci_layout:
            raise ArchiveError(f"{st.where}: oci-layout has no imageLayoutVersion")
        index = _json(st, "index.json", "index")
        if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
            raise ArchiveError(f"{st.where}: index.json has no manifests list")
        save_tags: dict[str, list[str]] = {}
        if layout == "docker-save-oci":
            for entry in _json(st, "manifest.json", "manifest") or []:
                cfg = posixpath.basename(entry.get("Config", ""))
                save_tags.setdefault(f"sha256:{cfg}", []).extend(entry.get("RepoTags") or [])
        by_id: dict[str, dict] = {}
        for desc, names in self._walk_index(index, platform, depth=0):
            rec = self._oci_image(desc, verify_layers)
            tags = list(names)
            for t in save_tags.get(rec["id"], []):
                if t not in tags:
                    tags.append(t)
            if rec["id"] in by_id:
                have = by_id[rec["id"]]
                have["tags"] += [t for t in tags if t not in have["tags"]]
                continue
            rec["tags"] = tags
            rec["ref"] = tags[0] if tags else None
            rec["layout"] = layout
            by_id[rec["id"]] = rec
        return list(by_id.values())

    def _walk_index(self, index: dict, platform: str | None, depth: int) -> Iterator[tuple[dict, list[str]]]:
        if depth > 4:
            raise ArchiveError(f"{self.store.where}: indexes nested too deep")
        for desc in index.get("manifests") or []:
            if not isinstance(desc, dict) or not desc.get("digest"):
                raise ArchiveError(f"{self.store.where}: index entry without a digest")
            ann = desc.get("annotations") or {}
            names = [n for n in (ann.get("io.containerd.image.name"), ann.get("org.opencontainers.image.ref.name"))
                     if n]
            names = names[:1]
            plat = desc.get("platform") or {}
            if ann.get("vnd.docker.reference.type") or plat.get("os") == "unknown":
                continue  # attestations
            if desc.get("mediaType") in INDEXES:
                nested = self._blob_json(desc, "index")
                from .registry import choose_platform

                try:
                    chosen = choose_platform(nested, platform, desc["digest"])  # type: ignore[arg-type]
                except SourceError as exc:
                    raise ArchiveError(f"{self.store.where}: {exc}") from None
                yield chosen, names
                continue
            if platform and plat:
                want = platform.split("/")
                if [plat.get("os"), plat.get("architecture")] != want[:2]:
                    continue
            yield desc, names

    def _blob_json(self, desc: dict, what: str) -> dict:
        st = self.store
        name = _blob_name(desc["digest"], st.where)
        raw = st.read_small(name, f"{what} blob")
        _check_digest(raw, desc["digest"], st.where, f"{what} blob {name}")
        body = _parse(raw, st.where, f"{what} blob {name}")
        return body

    def _oci_image(self, desc: dict, verify_layers: bool) -> dict:
        st = self.store
        manifest = self._blob_json(desc, "manifest")
        config_desc = manifest.get("config") or {}
        layers = manifest.get("layers")
        if not config_desc.get("digest") or not isinstance(layers, list):
            raise ArchiveError(f"{st.where}: manifest {desc['digest']} has no config or layers")
        config = self._blob_json(config_desc, "config")
        diff_ids = ((config.get("rootfs") or {}).get("diff_ids")) or []
        if len(diff_ids) != len(layers):
            raise ArchiveError(f"{st.where}: manifest {desc['digest'][:19]} lists {len(layers)} layers but its "
                               f"config has {len(diff_ids)} diff IDs")
        sizes: list[int] | None = [] if verify_layers else None
        for layer, diff_id in zip(layers, diff_ids):
            name = _blob_name(layer.get("digest", ""), st.where)
            if not st.has(name):
                raise ArchiveError(f"{st.where}: layer blob {name} of manifest {desc['digest'][:19]} is missing")
            if layer.get("size") is not None and st.size(name) != layer["size"]:
                raise ArchiveError(f"{st.where}: layer blob {name} is {st.size(name)} bytes, the manifest says "
                                   f"{layer['size']}")
            if verify_layers:
                stats = self._layer(name)
                if stats["digest"] != layer["digest"]:
                    raise ArchiveError(f"{st.where}: layer blob {name} does not match its digest")
                if stats["diff_id"] != diff_id:
                    raise ArchiveError(f"{st.where}: layer blob {name} unpacks to {stats['diff_id']}, the config "
                                       f"says {diff_id}")
                sizes.append(stats["size"])
        return {"id": config_desc["digest"], "inspect": None, "history": None, "config": config,
                "manifest": manifest, "manifest_digest": desc["digest"], "digests": [], "layer_sizes": sizes}

    def _layer(self, name: str) -> dict:
        with self.store.open(name) as fh:
            return layer_stats(_chunks(fh), where=f"{self.store.where}: {name}")


def _parse(raw: bytes, where: str, what: str) -> dict:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{where}: {what} is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(body, dict):
        raise ArchiveError(f"{where}: {what} is not a JSON object")
    return body


def collect(path: str | os.PathLike, *, platform: str | None = None, verify_layers: bool = False) -> Snapshot:
    """Read every image of a saved archive or OCI layout into a :class:`~imgviz.snapshot.Snapshot`.

    Parameters
    ----------
    path : str or Path
        ``docker save`` tar (legacy or OCI layout), OCI layout directory, or ``oci-archive`` tar.
    platform : str, optional
        ``os/arch`` to choose from multi-platform indexes (default: this machine).
    verify_layers : bool
        Also read every layer: check its digest and diff ID, and measure its uncompressed size as
        an engine reports it after ``docker load`` (:func:`layer_stats`), which fills the frames'
        ``size`` columns (``size_source == "derived"``). The engine that built a layer with
        BuildKit reports less by the layer's symlink target lengths. Reads all bytes; off by
        default, when sizes stay NA.

    Returns
    -------
    Snapshot
        ``kind == 'archive'``; ``source['bytes_read']`` says how many bytes of the tar were read.
        Layer blob digests and compressed sizes are known for OCI layouts; a legacy ``docker save``
        holds uncompressed layer tars and no blob digests, so those stay NA.

    Raises
    ------
    ArchiveError
        One line naming the file and the member at fault.
    """
    with Archive(path) as arc:
        layout = arc.layout
        images = arc.images(platform=platform, verify_layers=verify_layers)
        records = empty_records()
        records["images"] = images
        source = {"kind": "archive", "host": str(Path(path)), "collected_at": utc_now_iso(), "layout": layout,
                  "bytes_read": arc.bytes_read}
        if isinstance(arc.store, _TarStore):
            source["file_size"] = arc.store.file_size
        return Snapshot(source=source, records=records)
