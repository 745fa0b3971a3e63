"""The streaming layer reader's bounds: every reader of layers gets them (tests/fuzz runs the same
blobs through archives and a hostile registry in a fresh process and measures its peak memory)."""

from __future__ import annotations

import gzip
import hashlib
import tracemalloc

import pytest

from imgviz.errors import SourceError
from imgviz.sources._layer import CHUNK, LayerStream, measure

from ..fuzz._servers import bomb_gzip, tar_of


def _chunks(data: bytes, n: int = 1 << 16):
    return [data[i:i + n] for i in range(0, len(data), n)]


def test_a_gzip_bomb_stops_at_the_unpack_ratio_in_bounded_memory():
    blob = bomb_gzip(256 << 20)  # 256 MiB of zeros in about 250 KB
    stream = LayerStream(_chunks(blob), size=len(blob), name="bomb")
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="unpacks to more than 256 times its compressed size"):
            measure(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.tar_bytes <= 256 * len(blob) + 2 * CHUNK
    assert peak < 16 << 20, f"peak {peak / 1e6:.1f} MB"


def test_what_a_record_claims_bounds_the_unpacked_bytes():
    blob = bomb_gzip(8 << 20)
    with pytest.raises(SourceError, match="unpacks to more than the 1048576 bytes its record claims"):
        measure(LayerStream(_chunks(blob), unpacked_size=1 << 20))
    # a layer whose media type says it is a plain tar unpacks to at most its own size
    with pytest.raises(SourceError, match=f"more than the {len(blob)} bytes its record claims"):
        measure(LayerStream(_chunks(blob), size=len(blob), media_type="application/vnd.oci.image.layer.v1.tar"))


def test_the_descriptor_size_bounds_the_stored_bytes():
    tar = tar_of({"a": b"x" * 5000})
    blob = gzip.compress(tar)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    ok = measure(LayerStream(_chunks(blob, 100), digest=digest, size=len(blob)))
    assert ok["blob_bytes"] == len(blob)
    with pytest.raises(SourceError, match=r"is more than the 10 bytes its manifest says"):
        measure(LayerStream(_chunks(blob, 100), size=10))
    with pytest.raises(SourceError, match=rf"is {len(blob)} bytes, its manifest says {len(blob) + 1}"):
        measure(LayerStream(_chunks(blob, 100), size=len(blob) + 1))


def test_an_endless_blob_stops_at_the_descriptor_size():
    def endless():
        head = gzip.compress(tar_of({"a": b"x"}))
        yield head
        while True:
            yield b"\0" * CHUNK

    with pytest.raises(SourceError, match="more than the"):
        measure(LayerStream(endless(), size=4 * CHUNK))


def test_the_deadline_is_checked_between_chunks():
    from imgviz.errors import DeadlineExceeded
    from imgviz.limits import Deadline

    blob = gzip.compress(tar_of({"a": b"x" * 100}))
    with pytest.raises(DeadlineExceeded, match="stopped after 0 s"):
        measure(LayerStream(_chunks(blob, 10), deadline=Deadline(0, "the test")))


def test_a_zstd_bomb_stops_at_the_unpack_ratio_in_bounded_memory():
    zstandard = pytest.importorskip("zstandard")
    import io
    import tarfile

    header = tarfile.TarInfo("zeros")
    header.size = 512 << 20
    raw = io.BytesIO()
    with zstandard.ZstdCompressor(level=19).stream_writer(raw, closefd=False) as w:
        w.write(header.tobuf(format=tarfile.PAX_FORMAT))
        for _ in range(512):
            w.write(bytes(1 << 20))
    blob = raw.getvalue()  # 512 MiB of zeros in a few KB
    stream = LayerStream(_chunks(blob), size=len(blob), name="zbomb")
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match="unpacks to more than 256 times"):
            measure(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, f"peak {peak / 1e6:.1f} MB"
