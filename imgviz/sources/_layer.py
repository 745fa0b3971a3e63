"""The streaming layer reader every source uses: a layer blob in, its tar entries out, digests checked.

A layer blob arrives as chunks of bytes (an HTTP body, a member of a tar, a file). :class:`LayerStream`
decompresses it on the fly (gzip, zstd, or a plain tar), hashes the blob as stored (its ``digest``) and the
tar inside (its ``diff_id``), and yields one :class:`LayerEntry` per tar member with the metadata a
file-level analysis needs. Nothing is extracted and nothing but the current chunk is held. When the
last entry has been yielded the rest of the blob is read and both digests are checked, so a
consumer that iterates to the end has read a verified layer.

:func:`layer_stats` is the first consumer: the layer's size by the engine's rule.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
import zlib
from dataclasses import dataclass
from typing import IO, Any, Iterable, Iterator

from ..errors import SourceError
from ._oci import DigestingStream

CHUNK = 1 << 20
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"

#: what a tar member is, in our words (``LayerEntry.type``)
_TYPES = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file", tarfile.DIRTYPE: "dir",
          tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "char",
          tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}


@dataclass(frozen=True)
class LayerEntry:
    """One tar member of a layer, as the engine would apply it.

    Attributes
    ----------
    path : str
        Normalised, relative to the image root, without a leading ``/`` (``etc/passwd``).
    type : str
        ``file``, ``dir``, ``symlink``, ``hardlink``, ``char``, ``block``, ``fifo``, or the OCI
        whiteouts: ``whiteout`` (a ``.wh.NAME`` member; ``path`` is the hidden path NAME) and
        ``opaque`` (a ``.wh..wh..opq`` member; ``path`` is the directory whose lower content it hides).
    size : int
        Content bytes in the tar (regular files; 0 for everything else).
    mode : int
        Permission bits (``0o755``), without the file-type bits.
    uid, gid : int
    link : str or None
        A symlink's target as written; a hard link's target path (normalised like ``path``).
    mtime : int
        Seconds since the epoch, as the tar header says.
    digest : str or None
        ``sha256:...`` of a regular file's content when the stream was opened with
        ``content_digests=True``; else None.
    """

    path: str
    type: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str | None = None
    mtime: int = 0
    digest: str | None = None


def file_chunks(fh: IO[bytes], size: int = CHUNK) -> Iterator[bytes]:
    """Chunks of an open file (or a tar member) until its end."""
    return iter(lambda: fh.read(size), b"")


def _norm(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


def _is_whiteout(name: str) -> bool:
    return posixpath.basename(_norm(name)).startswith(".wh.")


def entry_of(m: tarfile.TarInfo, digest: str | None = None) -> LayerEntry:
    """The :class:`LayerEntry` of one tar member header (whiteouts and opaque markers as their own
    types); ``digest`` is the member's content digest when the caller hashed it.

    The one rule for what a layer's tar member means, used by :class:`LayerStream` and by any
    reader that has the member headers without the stream (the engine's own tar-split records).
    """
    path = _norm(m.name)
    base = posixpath.basename(path)
    kind = _TYPES.get(m.type, "file" if m.isreg() else "other")
    link = None
    if base == ".wh..wh..opq":
        kind, path = "opaque", posixpath.dirname(path)
    elif base.startswith(".wh."):
        kind, path = "whiteout", posixpath.join(posixpath.dirname(path), base[4:])
    elif m.issym():
        link = m.linkname
    elif m.islnk():
        link = _norm(m.linkname)
    return LayerEntry(path=path, type=kind, size=m.size if kind == "file" else 0, mode=m.mode & 0o7777,
                      uid=m.uid, gid=m.gid, link=link, mtime=int(m.mtime), digest=digest if kind == "file" else None)


def _zstd(label: str, error: type[SourceError]):
    """A streaming zstd decompressor (all frames), from the zstandard package."""
    try:
        import zstandard
    except ImportError:
        raise error(f"{label} is zstd-compressed: install the zstandard package to read it") from None
    return zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)


class _Unpacked(io.RawIOBase):
    """The tar inside a blob, as a file object, while hashing both (what tarfile reads from).

    ``blob`` and ``tar`` are the shared streaming digest checks (:class:`~imgviz.sources._oci.DigestingStream`)
    of the bytes as stored and as unpacked.
    """

    def __init__(self, blob: DigestingStream, tar: DigestingStream, label: str, error: type[SourceError]):
        self.blob, self.tar = blob, tar
        self._chunks = iter(blob)
        self._label, self._error = label, error
        self._buf = bytearray()
        self._z = None
        self._head = b""  # bytes held back until the compression can be told
        self._sniffed = False
        self._done = False

    def readable(self) -> bool:
        return True

    def _unpack(self, data: bytes) -> None:
        try:
            out = self._z.decompress(data) if self._z is not None else data
        except zlib.error as exc:
            raise self._error(f"{self._label} is not valid gzip ({exc})") from None
        except Exception as exc:  # zstandard.ZstdError
            if type(exc).__name__ != "ZstdError":
                raise
            raise self._error(f"{self._label} is not valid zstd ({exc})") from None
        self.tar.update(out)
        self._buf += out

    def _feed(self, chunk: bytes, *, last: bool = False) -> None:
        if not self._sniffed:
            self._head += chunk
            if len(self._head) < 4 and not last:
                return
            self._sniffed = True
            if self._head[:4] == _ZSTD:
                self._z = _zstd(self._label, self._error)
            elif self._head[:2] == _GZIP:
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk, self._head = self._head, b""
        self._unpack(chunk)

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buf) < size):
            chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
                if not self._sniffed:
                    self._feed(b"", last=True)
                if self._z is not None:
                    tail = self._z.flush()
                    self.tar.update(tail)
                    self._buf += tail
                break
            if chunk:
                self._feed(bytes(chunk))
        n = len(self._buf) if size < 0 else min(size, len(self._buf))
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


class LayerStream:
    """Read one layer blob as a stream of :class:`LayerEntry`, verifying it as it goes.

    Parameters
    ----------
    chunks : iterable of bytes
        The blob as stored: gzip- or zstd-compressed, or a plain tar.
    digest : str, optional
        The blob's expected digest (an OCI descriptor's ``digest``); checked at the end.
    diff_id : str, optional
        The uncompressed tar's expected digest (the config's ``rootfs.diff_ids`` entry); checked
        after ``digest``.
    where, what, name : str
        For messages: ``where`` names the source (a reference, an archive path), ``what`` the thing
        read ("layer blob", "layer"), ``name`` the blob (its digest or member name).
    by : str
        Where the bytes came from, for a digest mismatch ("served" by a registry, "stored" in an
        archive).
    content_digests : bool
        Also hash every regular file's content (``LayerEntry.digest``).
    error : type
        The :class:`~imgviz.errors.SourceError` subclass raised (one line, naming ``where``).

    After a full iteration, ``digest``, ``diff_id``, ``blob_bytes`` and ``tar_bytes`` hold what
    was measured. Stopping early leaves the blob unverified.

    Examples
    --------
    >>> import gzip, io, tarfile
    >>> buf = io.BytesIO()
    >>> with tarfile.open(fileobj=buf, mode="w") as t:
    ...     info = tarfile.TarInfo("etc/motd"); info.size = 3
    ...     t.addfile(info, io.BytesIO(b"hi\\n"))
    >>> stream = LayerStream([gzip.compress(buf.getvalue())])
    >>> [(e.path, e.type, e.size) for e in stream]
    [('etc/motd', 'file', 3)]
    >>> stream.diff_id == "sha256:" + hashlib.sha256(buf.getvalue()).hexdigest()
    True
    """

    def __init__(self, chunks: Iterable[bytes], *, digest: str | None = None, diff_id: str | None = None,
                 where: str = "layer", what: str = "layer blob", name: str | None = None, by: str = "read",
                 content_digests: bool = False, error: type[SourceError] = SourceError):
        self.expected_digest, self.expected_diff_id = digest, diff_id
        self.where, self.what, self.name, self.by = where, what, name or digest or "", by
        self._label = f"{where}: {what} {self.name}".rstrip()
        blob = DigestingStream(chunks, digest, what=what, where=where, by=by, error=error)
        tar = DigestingStream((), diff_id, what=f"{what} {self.name}", where=where, error=error)
        self._reader = _Unpacked(blob, tar, self._label, error)
        self.content_digests = content_digests
        self.error = error
        self._used = False

    # measured (valid after a full iteration)
    @property
    def digest(self) -> str:
        return self._reader.blob.hexdigest

    @property
    def diff_id(self) -> str:
        return self._reader.tar.hexdigest

    @property
    def blob_bytes(self) -> int:
        return self._reader.blob.nbytes

    @property
    def tar_bytes(self) -> int:
        return self._reader.tar.nbytes

    def __iter__(self) -> Iterator[LayerEntry]:
        if self._used:
            raise self.error(f"{self._label} was already read")
        self._used = True
        try:
            with tarfile.open(fileobj=self._reader, mode="r|") as tar:
                for m in tar:
                    yield self._entry(tar, m)
            self._reader.drain()
        except (tarfile.TarError, EOFError) as exc:
            raise self.error(f"{self._label} is not a readable tar ({str(exc)[:80]})") from None
        self._verify()

    def _entry(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> LayerEntry:
        content = None
        if self.content_digests and (m.isreg() or m.type not in _TYPES) and not _is_whiteout(m.name):
            h = hashlib.sha256()
            fh = tar.extractfile(m)
            if fh is not None:
                for chunk in file_chunks(fh):
                    h.update(chunk)
            content = "sha256:" + h.hexdigest()
        return entry_of(m, content)

    def _verify(self) -> None:
        self._reader.blob.verify()
        if self.expected_diff_id and self.diff_id != self.expected_diff_id:
            raise self.error(f"{self.where}: {self.what} {self.name} unpacks to {self.diff_id}, the config says "
                             f"{self.expected_diff_id}")


def layer_stats(chunks: Iterable[bytes], *, where: str = "layer", digest: str | None = None,
                diff_id: str | None = None, what: str = "layer blob", name: str | None = None, by: str = "read",
                error: type[SourceError] = SourceError) -> dict[str, Any]:
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

    ``digest`` and ``diff_id``, when given, are checked (see :class:`LayerStream`).

    Returns
    -------
    dict
        ``size`` (the load/pull rule above), ``header_size`` (sum of the tar headers' sizes:
        regular file bytes, every copy counted, symlinks 0), ``diff_id``, ``digest`` (sha256 of
        the blob as stored), ``blob_bytes``, ``tar_bytes``.
    """
    return measure(LayerStream(chunks, digest=digest, diff_id=diff_id, where=where, what=what, name=name, by=by,
                               error=error))


def measure(stream: LayerStream) -> dict[str, Any]:
    """:func:`layer_stats` of a layer already opened as a :class:`LayerStream` (read to its end)."""
    header_size = 0
    inode_of: dict[str, int] = {}  # path -> inode number (ours), for every non-directory
    inode_size: list[int] = []  # inode number -> lstat size
    for e in stream:
        header_size += e.size
        if not e.path or e.type in ("dir", "opaque"):
            continue
        if e.type == "hardlink":
            if e.link in inode_of:
                inode_of[e.path] = inode_of[e.link]
            continue
        if e.type == "file":
            nbytes = e.size
        elif e.type == "symlink":
            nbytes = len((e.link or "").encode("utf-8", "surrogateescape"))
        else:
            nbytes = 0  # whiteouts (a 0:0 character device at the hidden path), devices, fifos
        inode_of[e.path] = len(inode_size)
        inode_size.append(nbytes)
    size = sum(inode_size[i] for i in set(inode_of.values()))
    return {"size": size, "header_size": header_size, "diff_id": stream.diff_id, "digest": stream.digest,
            "blob_bytes": stream.blob_bytes, "tar_bytes": stream.tar_bytes}
