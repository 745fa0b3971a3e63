"""The streaming layer reader every source uses: a layer blob in, its tar entries out, digests checked.

A layer blob arrives as chunks of bytes (an HTTP body, a member of a tar, a file). :class:`LayerStream`
decompresses it on the fly (gzip, zstd, or a plain tar), hashes the blob as stored (its ``digest``) and the
tar inside (its ``diff_id``), and yields one :class:`LayerEntry` per tar member with the metadata a
file-level analysis needs. Nothing is extracted and nothing but the current chunk is held. When the
last entry has been yielded the rest of the blob is read and both digests are checked, so a
consumer that iterates to the end has read a verified layer.

Bounds, so a hostile blob costs neither memory nor unbounded time (every reader of layers gets them,
because they live here):

- memory: at most one chunk (1 MiB) of compressed input and one of unpacked output is held;
  a gzip bomb is inflated a chunk at a time, never a whole input chunk at once;
- the blob as stored: never more bytes than its descriptor's ``size`` (the manifest's claim);
- the blob unpacked: never more than the size a record claims (``unpacked_size``: an uncompressed
  layer's own size, or a size the caller knows), else never more than ``max_unpack_ratio``
  (:mod:`imgviz.limits`) times the compressed bytes: decompression stops at that point with one
  line naming the layer;
- time: the reader checks the deadline it was given between chunks.

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

from ..errors import DeadlineExceeded, SourceError
from ._oci import DigestingStream

CHUNK = 1 << 20
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_ZLIB = type(zlib.decompressobj())
_ZSTD_STEP = 1024
#: media types of layers stored as plain tars (their descriptor's size is their unpacked size)
UNCOMPRESSED = ("application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar",
                "application/vnd.oci.image.layer.nondistributable.v1.tar")

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
    of the bytes as stored and as unpacked. ``size`` bounds the stored bytes, ``unpacked`` the
    unpacked ones (None: ``ratio`` times the stored bytes read so far, at least one chunk's worth).
    """

    def __init__(self, blob: DigestingStream, tar: DigestingStream, label: str, error: type[SourceError], *,
                 size: int | None = None, unpacked: int | None = None, ratio: int = 256, deadline=None):
        self.blob, self.tar = blob, tar
        self._chunks = iter(blob)
        self._label, self._error = label, error
        self._size, self._unpacked, self._ratio, self._deadline = size, unpacked, ratio, deadline
        self._buf = bytearray()
        self._z = None
        self._pending = b""  # compressed input not yet inflated (held back by the output bound)
        self._head = b""  # bytes held back until the compression can be told
        self._sniffed = False
        self._done = False
        self.undecodable = False  # set when the compressed stream is broken

    def readable(self) -> bool:
        return True

    def _limit(self) -> int | None:
        if self._unpacked is not None:
            return self._unpacked
        if self._z is None:
            return None  # a plain tar: its bytes are the stored bytes, bounded by ``size``
        base = self._size if self._size is not None else max(self.blob.nbytes, CHUNK)
        return self._ratio * base

    def _emit(self, out: bytes) -> None:
        if not out:
            return
        self.tar.update(out)
        self._buf += out
        limit = self._limit()
        if limit is not None and self.tar.nbytes > limit:
            if self._unpacked is not None:
                raise self._error(f"{self._label} unpacks to more than the {self._unpacked} bytes its record "
                                  f"claims (refused)")
            raise self._error(f"{self._label} unpacks to more than {self._ratio} times its compressed size "
                              f"({self.tar.nbytes} bytes from {self.blob.nbytes}; max_unpack_ratio, refused)")

    def _inflate(self, data: bytes) -> None:
        """Unpack a bounded piece of ``data``; what is left waits in ``_pending``.

        gzip: at most one chunk of output per call (zlib's ``max_length``). zstd has no such bound
        in its streaming API, so it is fed 1 KiB at a time: a zstd block of 128 KiB takes at least a
        few bytes, so one call makes at most a few tens of MB even from a bomb, and the unpack
        bound is checked after every call.
        """
        try:
            if isinstance(self._z, _ZLIB):
                out = self._z.decompress(data, CHUNK)
                self._pending = self._z.unconsumed_tail
            else:
                view = memoryview(data)  # slices without copying what is left
                out = self._z.decompress(view[:_ZSTD_STEP])
                self._pending = view[_ZSTD_STEP:]
        except zlib.error as exc:
            self.undecodable = True
            raise self._error(f"{self._label} is not valid gzip ({exc})") from None
        except Exception as exc:  # zstandard.ZstdError
            if type(exc).__name__ != "ZstdError":
                raise
            self.undecodable = True
            raise self._error(f"{self._label} is not valid zstd ({exc})") from None
        self._emit(out)

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
        if self._z is not None:
            self._inflate(chunk)
        else:
            self._emit(chunk)

    def _next_chunk(self):
        if self._deadline is not None and self._deadline.expired:
            raise DeadlineExceeded(self._deadline.message(self._label))
        chunk = next(self._chunks, None)
        if chunk is not None and self._size is not None and self.blob.nbytes > self._size:
            raise self._error(f"{self._label} is more than the {self._size} bytes its manifest says (refused)")
        return chunk

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buf) < size):
            if self._pending:
                self._inflate(self._pending)
                continue
            chunk = self._next_chunk()
            if chunk is None:
                self._done = True
                if not self._sniffed:
                    self._feed(b"", last=True)
                while self._pending:
                    self._inflate(self._pending)
                if self._z is not None:
                    self._emit(self._z.flush())
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
    size : int, optional
        The blob's size as its descriptor claims it: reading stops, with an error, past it.
    unpacked_size : int, optional
        The unpacked tar's size when a record claims one; an uncompressed media type
        (``media_type``) makes it ``size``. Without one, ``max_unpack_ratio`` times the
        compressed size bounds it (:mod:`imgviz.limits`).
    media_type : str, optional
        The descriptor's ``mediaType``.
    deadline : imgviz.limits.Deadline, optional
        Checked between chunks.
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
                 content_digests: bool = False, size: int | None = None, unpacked_size: int | None = None,
                 media_type: str | None = None, deadline=None, error: type[SourceError] = SourceError):
        from .. import limits as _limits

        self.expected_digest, self.expected_diff_id = digest, diff_id
        self.where, self.what, self.name, self.by = where, what, name or digest or "", by
        self._label = f"{where}: {what} {self.name}".rstrip()
        if unpacked_size is None and size is not None and media_type in UNCOMPRESSED:
            unpacked_size = size
        # an archive's member name says where the blob is (a registry's name is the digest itself)
        blob_what = f"{what} {self.name}" if self.name and self.name != digest else what
        blob = DigestingStream(chunks, digest, what=blob_what, where=where, by=by, error=error)
        tar = DigestingStream((), diff_id, what=f"{what} {self.name}", where=where, error=error)
        self._reader = _Unpacked(blob, tar, self._label, error, size=size, unpacked=unpacked_size,
                                 ratio=_limits.get().max_unpack_ratio, deadline=deadline)
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
            self._blame_the_digest()
            raise self.error(f"{self._label} is not a readable tar ({str(exc)[:80]})") from None
        except (ValueError, OverflowError) as exc:  # a header tarfile cannot decode (a huge size field...)
            self._blame_the_digest()
            raise self.error(f"{self._label} is not a readable tar ({type(exc).__name__}: {str(exc)[:80]})") from None
        except SourceError:
            if self._reader.undecodable:
                self._blame_the_digest()
            raise
        self._verify()

    def _blame_the_digest(self) -> None:
        """Before saying a blob does not unpack, check whether its bytes are the ones its descriptor
        names: a changed blob (a flipped byte breaks gzip's check) is a digest mismatch, the cause,
        not a decompression error, the symptom. Reads the rest of the blob, as bounded as a full read."""
        if not self.expected_digest:
            return
        reader = self._reader
        try:
            while reader._next_chunk() is not None:
                pass
        except (SourceError, DeadlineExceeded):
            return  # too big or too slow: the first error stands
        reader.blob.verify()

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
        size = self._reader._size
        if size is not None and self.blob_bytes != size:
            raise self.error(f"{self._label} is {self.blob_bytes} bytes, its manifest says {size}")
        self._reader.blob.verify()
        if self.expected_diff_id and self.diff_id != self.expected_diff_id:
            raise self.error(f"{self.where}: {self.what} {self.name} unpacks to {self.diff_id}, the config says "
                             f"{self.expected_diff_id}")


def layer_stats(chunks: Iterable[bytes], *, where: str = "layer", digest: str | None = None,
                diff_id: str | None = None, what: str = "layer blob", name: str | None = None, by: str = "read",
                size: int | None = None, unpacked_size: int | None = None, media_type: str | None = None,
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

    Other storages size a layer by another rule the tar does not settle: Docker's containerd image
    store by its snapshot's disk usage (allocated blocks of the filesystem under it: a 5,000-byte
    file with its folder is 12,288 on ext4), podman by the length of the uncompressed tar as it
    stored it (``tar_bytes`` for a tar stored as read). ``size`` is the graph driver's rule only.

    ``digest`` and ``diff_id``, when given, are checked, and ``size``/``unpacked_size`` bound what
    is read (see :class:`LayerStream`).

    Returns
    -------
    dict
        ``size`` (the load/pull rule above), ``header_size`` (sum of the tar headers' sizes:
        regular file bytes, every copy counted, symlinks 0), ``diff_id``, ``digest`` (sha256 of
        the blob as stored), ``blob_bytes``, ``tar_bytes``.
    """
    return measure(LayerStream(chunks, digest=digest, diff_id=diff_id, where=where, what=what, name=name, by=by,
                               size=size, unpacked_size=unpacked_size, media_type=media_type, error=error))


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
