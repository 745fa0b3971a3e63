"""What is inside an engine's image layers: their tar entries, each layer read once.

Two routes to the same :class:`~imgviz.sources._layer.LayerEntry` rows, chosen per call:

``stream``  ``GET /images/get?names=A&names=B...`` (what ``docker save A B`` reads), streamed through
            the shared layer reader: nothing is written to disk and nothing but the current chunk
            is held. One request for all the images asked, so a layer several of them use is in
            the stream (and read) once. Works with every engine (overlay2, the containerd image
            store, a remote engine).
``local``   On the engine's own host, as root, with the overlay2 storage driver: the engine keeps,
            for every layer, the exact headers of the tar it was given (``tar-split.json.gz`` under
            ``image/overlay2/layerdb/sha256/<chain ID>/``) and streams ``docker save`` by putting
            those headers back around the files of the layer's directory. Reading the headers
            gives the very entries the stream would, without the bytes in between: a 174 MB image
            is a few hundred KB to read. The layer's directory (``overlay2/<cache-id>/diff``) is
            read only for content digests, and only read-only. The route is taken only when the
            engine's own records say it is exact: the layer record's ``diff`` equals the diff ID the
            image config names, and the image config's sha256 equals the image ID; anything else
            (another driver, the containerd store, a remote engine, no permission) falls back to
            ``stream``.

No layer is read whose diff ID the caller already holds (``skip``).
"""

from __future__ import annotations

import base64
import bisect
import gzip
import hashlib
import io
import itertools
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import ImageNotFound, SourceError
from ._layer import CHUNK, LayerEntry, LayerStream, entry_of, file_chunks
from ._oci import chain_ids
from .engine import _is_not_found, _short_reason, docker_host
from .engine import connect_sdk as connect  # the docker SDK: `docker save` streams and their errors

ROUTES = ("auto", "local", "stream")


class EngineFilesError(SourceError):
    """The engine's layers could not be read (one line naming the image or layer)."""


@dataclass
class EngineLayers:
    """What :func:`read` returns.

    Attributes
    ----------
    images : list of dict
        Per image asked: ``id``, ``ref`` (as asked), ``tags``, ``diff_ids``, ``config`` (the image
        config JSON, with ``history``).
    layers : dict
        diff ID -> list of :class:`~imgviz.sources._layer.LayerEntry`, for every layer read.
    route : str
        ``local`` or ``stream`` (what was used; ``none`` when every layer was skipped).
    bytes_read : int
        Bytes read: the ``docker save`` stream, or the tar-split records.
    """

    images: list[dict[str, Any]] = field(default_factory=list)
    layers: dict[str, list[LayerEntry]] = field(default_factory=dict)
    route: str = "none"
    bytes_read: int = 0


def read(refs: Iterable[str], *, host: str | None = None, client=None, content_digests: bool = False,
         skip: Iterable[str] = (), route: str = "auto", progress: bool = False) -> EngineLayers:
    """Read the tar entries of the layers of ``refs`` (tags or IDs) from the engine.

    Parameters
    ----------
    refs : iterable of str
        Image references the engine knows (``docker image inspect`` names).
    host : str, optional
        Engine address (default DOCKER_HOST, else the default socket).
    client : docker.APIClient, optional
        An open client (else one is made with :func:`imgviz.sources.engine.connect`).
    content_digests : bool
        Also hash every regular file's content (``LayerEntry.digest``).
    skip : iterable of str
        Diff IDs already held: not read again.
    route : {'auto', 'local', 'stream'}
        ``auto`` takes ``local`` when it is available and exact, else ``stream``.
    progress : bool
        A progress bar (tqdm.auto) while reading.

    Raises
    ------
    ImageNotFound
        One line naming a reference the engine does not know.
    EngineFilesError
        One line naming the image or layer when a layer cannot be read or fails its checks.
    """
    if route not in ROUTES:
        raise EngineFilesError(f"route={route!r}: one of {', '.join(ROUTES)}")
    api = client or connect(host)
    address = docker_host(host)
    out = EngineLayers()
    for ref in dict.fromkeys(refs):
        try:
            info = api.inspect_image(ref)
        except Exception as exc:
            if _is_not_found(exc):
                raise ImageNotFound(f"{ref}: no such image on the engine at {address}") from None
            raise EngineFilesError(f"{ref}: inspect failed ({_short_reason(exc)})") from None
        diff_ids = list((info.get("RootFS") or {}).get("Layers") or [])
        out.images.append({"id": info["Id"], "ref": ref, "tags": info.get("RepoTags") or [], "diff_ids": diff_ids,
                           "config": None, "graph_driver": info.get("GraphDriver") or {}})
    held = set(skip)
    local = None
    if route in ("auto", "local"):
        local = _LocalStore.find(api, address)
        if local is None and route == "local":
            raise EngineFilesError(f"engine at {address}: its layer records cannot be read here (needs the local "
                                   f"overlay2 engine and root); use route='stream'")
    pending = list(out.images)
    if local is not None:
        pending = []
        for img in out.images:
            try:
                local.read_image(img, out, held, content_digests)
            except _NotLocal as exc:
                if route == "local":
                    raise EngineFilesError(f"{img['ref']}: {exc}") from None
                pending.append(img)
        if len(pending) < len(out.images):
            out.route = "local"
    if pending:
        _stream(api, address, pending, out, held, content_digests, progress)
        out.route = "stream" if out.route == "none" else "local+stream"
    return out


# ----------------------------------------------------------------------------------------------
# the local route: the engine's own tar-split records
# ----------------------------------------------------------------------------------------------
class _NotLocal(Exception):
    """This image cannot be read exactly from the engine's records (fall back to the stream)."""


class _SplitFile(io.RawIOBase):
    """A layer tar as tar-split records describe it: header bytes as stored, file contents as holes.

    ``tarfile`` in random-access mode reads only headers and seeks over contents, so it parses
    this exactly as it would the real tar, and the holes are never read.
    """

    def __init__(self, records: Iterable[bytes]):
        self.starts: list[int] = []
        self.parts: list[bytes | int] = []
        pos = 0
        for line in records:
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get("type") == 2:
                data = base64.b64decode(rec.get("payload") or "")
                if data:
                    self.starts.append(pos)
                    self.parts.append(data)
                    pos += len(data)
            elif rec.get("type") == 1:
                size = int(rec.get("size") or 0)
                if size:
                    self.starts.append(pos)
                    self.parts.append(size)
                    pos += size
        self.size = pos
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else (self.pos + offset if whence == 1 else self.size + offset)
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self.pos + n)
        out = bytearray()
        while self.pos < end:
            k = bisect.bisect_right(self.starts, self.pos) - 1
            part, start = self.parts[k], self.starts[k]
            length = part if isinstance(part, int) else len(part)
            take = min(end, start + length) - self.pos
            if isinstance(part, int):
                out += bytes(take)
            else:
                out += part[self.pos - start: self.pos - start + take]
            self.pos += take
        return bytes(out)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _LocalStore:
    """The overlay2 engine's data root, when this process can read it and the engine is local."""

    def __init__(self, root: Path):
        self.root = root
        self.layerdb = root / "image" / "overlay2" / "layerdb" / "sha256"
        self.imagedb = root / "image" / "overlay2" / "imagedb" / "content" / "sha256"
        self.bytes_read = 0

    @classmethod
    def find(cls, api, address: str) -> "_LocalStore | None":
        if not address.startswith("unix://"):
            return None
        try:
            info = api.info()
        except Exception:
            return None
        if info.get("Driver") != "overlay2" or not info.get("DockerRootDir"):
            return None
        store = cls(Path(info["DockerRootDir"]))
        try:
            if not (store.layerdb.is_dir() and store.imagedb.is_dir() and os.access(store.layerdb, os.R_OK)):
                return None
        except OSError:
            return None
        return store

    def _small(self, path: Path, limit: int = 64 << 20) -> bytes:
        try:
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            raise _NotLocal(f"{path}: {exc.strerror}") from None
        if len(data) > limit:
            raise _NotLocal(f"{path}: larger than {limit} bytes")
        self.bytes_read += len(data)
        return data

    def read_image(self, img: dict, out: EngineLayers, held: set[str], content_digests: bool) -> None:
        image_id = img["id"]
        raw = self._small(self.imagedb / image_id.split(":", 1)[-1])
        if "sha256:" + hashlib.sha256(raw).hexdigest() != image_id:
            raise _NotLocal(f"the engine's record of image {image_id[:19]} does not hash to its ID")
        config = json.loads(raw)
        if list((config.get("rootfs") or {}).get("diff_ids") or []) != img["diff_ids"]:
            raise _NotLocal(f"the engine's record of image {image_id[:19]} names other layers")
        img["config"] = config
        todo = []
        for diff_id, chain in zip(img["diff_ids"], chain_ids(img["diff_ids"])):
            if diff_id in held or diff_id in out.layers:
                continue
            layer_dir = self.layerdb / chain.split(":", 1)[-1]
            if self._small(layer_dir / "diff").decode().strip() != diff_id:
                raise _NotLocal(f"the engine's record of layer {chain[:19]} names another diff ID")
            todo.append((diff_id, layer_dir))
        read = {}
        for diff_id, layer_dir in todo:  # read all before keeping any: an image is read whole or not
            read[diff_id] = self._entries(layer_dir, content_digests)
        out.layers.update(read)
        out.bytes_read = self.bytes_read

    def _entries(self, layer_dir: Path, content_digests: bool) -> list[LayerEntry]:
        raw = self._small(layer_dir / "tar-split.json.gz", 1 << 30)
        try:
            text = gzip.decompress(raw)
            split = _SplitFile(text.splitlines())
        except (OSError, ValueError, EOFError) as exc:
            raise _NotLocal(f"{layer_dir.name[:12]}: tar-split record unreadable ({exc})") from None
        entries: list[LayerEntry] = []
        try:
            with tarfile.open(fileobj=split, mode="r:") as tar:
                for m in tar:
                    entries.append(entry_of(m))
        except (tarfile.TarError, EOFError) as exc:
            raise _NotLocal(f"{layer_dir.name[:12]}: tar-split record is not a tar ({exc})") from None
        if content_digests:
            cache_id = self._small(layer_dir / "cache-id").decode().strip()
            diff_dir = self.root / "overlay2" / cache_id / "diff"
            entries = [self._with_digest(diff_dir, e) for e in entries]
        return entries

    def _with_digest(self, diff_dir: Path, e: LayerEntry) -> LayerEntry:
        if e.type != "file":
            return e
        path = diff_dir / e.path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            raise _NotLocal(f"{e.path}: not readable in the layer directory ({exc.strerror})") from None
        h = hashlib.sha256()
        with os.fdopen(fd, "rb") as fh:
            if os.path.realpath(path).startswith(str(diff_dir.resolve()) + os.sep) is False:
                raise _NotLocal(f"{e.path}: outside the layer directory")
            for chunk in file_chunks(fh):
                h.update(chunk)
        return LayerEntry(e.path, e.type, e.size, e.mode, e.uid, e.gid, e.link, e.mtime, "sha256:" + h.hexdigest())


# ----------------------------------------------------------------------------------------------
# the stream route: GET /images/get
# ----------------------------------------------------------------------------------------------
class _Chunks(io.RawIOBase):
    """An iterator of byte chunks as a file object (what tarfile's stream mode reads)."""

    def __init__(self, chunks: Iterator[bytes], on_bytes=None):
        self._it = iter(chunks)
        self._buf = b""
        self.nbytes = 0
        self._on = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._buf:
            chunk = next(self._it, None)
            if chunk is None:
                return 0
            self._buf = bytes(chunk)
            self.nbytes += len(chunk)
            if self._on:
                self._on(len(chunk))
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _is_layer(name: str, head: bytes) -> bool:
    if name.endswith("/layer.tar") or name == "layer.tar":
        return True
    if len(name) == 68 and name.endswith(".tar") and all(c in "0123456789abcdef" for c in name[:64]):
        # podman's compat save: each layer at the top as <diff ID hex>.tar (<id>/layer.tar is a
        # symlink to it, which the stream skips as not a regular file)
        return head[257:262] == b"ustar" or (len(head) >= 512 and not head.strip(b"\0"))
    if not name.startswith("blobs/"):
        return False
    if head[:2] == b"\x1f\x8b" or head[:4] == b"\x28\xb5\x2f\xfd":
        return True
    return head[257:262] == b"ustar" or (len(head) >= 512 and not head.strip(b"\0"))


def _stream(api, address: str, images: list[dict], out: EngineLayers, held: set[str], content_digests: bool,
            progress: bool) -> None:
    wanted = {d for img in images for d in img["diff_ids"] if d not in held and d not in out.layers}
    names = [img["id"] for img in images]
    where = f"engine at {address}: save of {', '.join(i['ref'] for i in images)}"
    try:
        # docker-py has get_image() for one name; several names in one request is what lets a
        # layer the images share come (and be read) once
        res = api._get(api._url("/images/get"), params={"names": names}, stream=True)
        api._raise_for_status(res)
    except Exception as exc:
        raise EngineFilesError(f"{where} failed ({_short_reason(exc)})") from None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="reading layers", unit="B", unit_scale=True, leave=False)
    raw = _Chunks(res.iter_content(CHUNK), bar.update if bar is not None else None)
    configs: dict[str, dict] = {}
    try:
        with tarfile.open(fileobj=io.BufferedReader(raw, CHUNK), mode="r|") as tar:
            for m in tar:
                if not m.isreg():
                    continue
                fh = tar.extractfile(m)
                if fh is None:
                    continue
                head = fh.read(1024)
                if _is_layer(m.name, head):
                    stream = LayerStream(itertools.chain([head], file_chunks(fh)), where=where, what="layer",
                                         name=m.name, content_digests=content_digests, error=EngineFilesError)
                    entries = list(stream)
                    if stream.diff_id in wanted:
                        out.layers[stream.diff_id] = entries
                elif m.size <= (64 << 20) and head.lstrip()[:1] == b"{":
                    data = head + fh.read()
                    try:
                        doc = json.loads(data)
                    except ValueError:
                        continue
                    if isinstance(doc, dict) and isinstance(doc.get("rootfs"), dict):
                        configs["sha256:" + hashlib.sha256(data).hexdigest()] = doc
    except (tarfile.TarError, EOFError) as exc:
        raise EngineFilesError(f"{where}: the stream is not a readable tar ({str(exc)[:80]})") from None
    except Exception as exc:
        if isinstance(exc, SourceError):
            raise
        raise EngineFilesError(f"{where}: the stream broke off ({_short_reason(exc)})") from None
    finally:
        if bar is not None:
            bar.close()
        res.close()
    out.bytes_read += raw.nbytes
    for img in images:
        img["config"] = configs.get(img["id"], img.get("config"))
        missing = [d for d in img["diff_ids"] if d not in held and d not in out.layers]
        if missing:
            raise EngineFilesError(f"{where}: layer {missing[0]} of {img['ref']} was not in the engine's stream")
