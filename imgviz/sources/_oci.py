"""What every source knows about OCI images, written once (ggcr's ``partial`` idea).

Media types, the attestation filter, platform choice, digest checks (whole and streaming), bounded
JSON parsing and chain IDs. The media modules (``engine``, ``registry``, ``archive``) each call these
the same way and never import one another; each passes its own error class (a
:class:`~imgviz.errors.SourceError`) so a failure reads as that medium's one-line error.

Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Iterable, Iterator

from .. import _records
from ..errors import SourceError

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER_SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
                     "application/vnd.docker.distribution.manifest.v1+prettyjws")
MANIFESTS = (MT_DOCKER_MANIFEST, MT_OCI_MANIFEST)
INDEXES = (MT_DOCKER_LIST, MT_OCI_INDEX)
#: the ``Accept`` header for a manifest request: indexes first, then single-platform manifests
ACCEPT = ", ".join((MT_OCI_INDEX, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST))

#: image manifests and indexes bigger than this are refused by default: the limit distribution's
#: registry itself puts on a pushed manifest body (``max_manifest_bytes`` in :mod:`imgviz.limits`)
MAX_MANIFEST = 4 * 1024 * 1024
#: any other JSON document (image configs, ``docker save``'s manifest.json, a layout's index.json);
#: the default of ``max_json_bytes``
MAX_JSON = 64 * 1024 * 1024


# ----------------------------------------------------------------------------------- digests

def is_digest(text: Any) -> bool:
    """True for an OCI digest string (``algorithm:encoded``; sha256/384/512 with the right length)."""
    return _records.is_digest(text)


def _hasher(digest: str, *, what: str, where: str, error: type[SourceError]):
    algo, _, hexpart = (digest or "").partition(":")
    if not hexpart or algo not in hashlib.algorithms_available:
        raise error(f"{where}: {what} digest {digest!r} uses an unknown algorithm")
    return hashlib.new(algo)


def _mismatch(digest: str, got: str, *, what: str, where: str, by: str, error: type[SourceError]):
    return error(f"{where}: {what} digest mismatch: expected {digest}, the bytes {by} hash to {got}")


def check_digest(data: bytes, digest: str, *, what: str, where: str, by: str = "read",
                 error: type[SourceError] = SourceError) -> None:
    """Raise ``error`` unless ``data`` hashes to ``digest`` (any algorithm hashlib knows).

    ``by`` says where the bytes came from in the message ("served" by a registry, "stored" in an
    archive).
    """
    h = _hasher(digest, what=what, where=where, error=error)
    h.update(data)
    got = f"{digest.partition(':')[0]}:{h.hexdigest()}"
    if got != digest:
        raise _mismatch(digest, got, what=what, where=where, by=by, error=error)


class DigestingStream:
    """Chunks passed through unchanged while hashing them; :meth:`verify` checks the digest at the end.

    The streaming form of :func:`check_digest` for blobs too big to hold: nothing is kept. With
    ``digest=None`` it only measures (sha256). ``nbytes`` counts the bytes seen; :meth:`update`
    feeds bytes that do not flow through the iterator (a decompressor's output).

    Examples
    --------
    >>> s = DigestingStream([b"ab", b"c"], "sha256:" + hashlib.sha256(b"abc").hexdigest(), what="blob", where="x")
    >>> b"".join(s), s.nbytes
    (b'abc', 3)
    >>> s.verify()
    """

    def __init__(self, chunks: Iterable[bytes] = (), digest: str | None = None, *, what: str = "blob",
                 where: str = "stream", by: str = "read", error: type[SourceError] = SourceError):
        self._chunks = iter(chunks)
        self._h = _hasher(digest, what=what, where=where, error=error) if digest else hashlib.sha256()
        self._algo = digest.partition(":")[0] if digest else "sha256"
        self.digest, self.what, self.where, self.by, self.error = digest, what, where, by, error
        self.nbytes = 0

    def update(self, data: bytes) -> None:
        self._h.update(data)
        self.nbytes += len(data)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.update(chunk)
            yield chunk

    @property
    def hexdigest(self) -> str:
        """What the bytes seen so far hash to (``algorithm:hex``)."""
        return f"{self._algo}:{self._h.hexdigest()}"

    def verify(self) -> None:
        """Raise the medium's error unless everything seen hashes to the expected digest (if any)."""
        if self.digest and self.hexdigest != self.digest:
            raise _mismatch(self.digest, self.hexdigest, what=self.what, where=self.where, by=self.by,
                            error=self.error)


def check_descriptor(desc: Any, *, what: str, where: str, error: type[SourceError] = SourceError) -> dict:
    """An OCI descriptor (``{"digest", "size", "mediaType"}``) checked before it is used: its digest
    is a digest (it names a blob path or URL) and its size, when given, a count of bytes."""
    if not isinstance(desc, dict) or not is_digest(desc.get("digest")):
        got = desc.get("digest") if isinstance(desc, dict) else desc
        raise error(f"{where}: {what} has no valid digest ({str(got)[:80]!r})")
    size = desc.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _records.SIZE_MAX):
        shown = repr(size) if not isinstance(size, int) or abs(size) < 10**30 else "a huge number"
        raise error(f"{where}: {what} {desc['digest']} has an invalid size {shown[:40]}")
    for key in ("mediaType", "urls", "annotations", "platform"):
        value = desc.get(key)
        kind = {"mediaType": str, "urls": list, "annotations": dict, "platform": dict}[key]
        if value is not None and not isinstance(value, kind):
            raise error(f"{where}: {what} {desc['digest']} has a {key} that is not {'a string' if kind is str else 'an object' if kind is dict else 'a list'}")
    return desc


def image_manifest(body: dict, *, where: str, what: str = "manifest",
                   error: type[SourceError] = SourceError) -> tuple[dict, list[dict]]:
    """(config descriptor, layer descriptors) of an image manifest, each checked."""
    layers = body.get("layers")
    if not isinstance(body.get("config"), dict) or not isinstance(layers, list):
        raise error(f"{where}: {what} has no config or layers")
    config = check_descriptor(body["config"], what="config descriptor", where=where, error=error)
    return config, [check_descriptor(d, what=f"layer {i}", where=where, error=error) for i, d in enumerate(layers)]


# --------------------------------------------------------------------------------------- JSON

def parse_json(raw: bytes, *, what: str, where: str, limit: int | None = None,
               error: type[SourceError] = SourceError) -> dict:
    """A JSON object from ``raw``, refusing documents over ``limit`` bytes, nesting too deep to
    parse, broken JSON and anything but an object: one line from ``error`` naming ``where`` and
    ``what``."""
    body = parse_json_any(raw, what=what, where=where, limit=limit, error=error)
    if not isinstance(body, dict):
        raise error(f"{where}: {what} is not a JSON object")
    return body


def parse_json_any(raw: bytes, *, what: str, where: str, limit: int | None = None,
                   error: type[SourceError] = SourceError) -> Any:
    """Like :func:`parse_json` for documents whose top level may be a list (``docker save``'s
    manifest.json). ``limit`` defaults to ``max_json_bytes`` (:mod:`imgviz.limits`); NaN and
    Infinity, which Python's JSON reader would accept, are refused like any other broken JSON."""
    if limit is None:
        from .. import limits as _limits

        limit = _limits.get().max_json_bytes
    if len(raw) > limit:
        raise error(f"{where}: {what} is {len(raw)} bytes, more than the {limit} a real one needs (refused)")
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise error(f"{where}: {what} nests too deep to be JSON we accept") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{where}: {what} is not valid JSON ({str(exc)[:80]})") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def check_shape(t: "_records.T", value: Any, *, what: str, where: str, error: type[SourceError] = SourceError) -> Any:
    """``value`` checked against one of the record types of :mod:`imgviz._records` (the one schema
    every record is held to where it enters); ``error`` names ``where`` and the field."""
    return _records.check(t, value, what, error, where)


# ------------------------------------------------------------------------------ image config

def diff_ids_of(config: dict, *, n_layers: int, what: str, where: str,
                error: type[SourceError] = SourceError) -> list[str]:
    """``rootfs.diff_ids`` of an image config, checked against the manifest's layer count."""
    rootfs = config.get("rootfs")
    diff_ids = (rootfs.get("diff_ids") if isinstance(rootfs, dict) else None) or []
    if not isinstance(rootfs, dict) or not isinstance(diff_ids, list) or len(diff_ids) != n_layers:
        n = len(diff_ids) if isinstance(diff_ids, list) else 0
        raise error(f"{where}: {what} has {n} diff IDs but its manifest lists {n_layers} layers")
    if not all(is_digest(d) for d in diff_ids):
        raise error(f"{where}: {what} has a diff ID that is not a digest")
    return diff_ids


def chain_ids(diff_ids: list[str]) -> list[str]:
    """OCI ChainIDs: ``ChainID(L0) = DiffID(L0)``, ``ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))``.

    The one chain-ID rule of imgviz (frames, the engine's base-image look-up and the cascade use it).

    Examples
    --------
    >>> chain_ids(["sha256:a"])
    ['sha256:a']
    """
    out: list[str] = []
    for diff in diff_ids:
        if not out:
            out.append(diff)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {diff}".encode()).hexdigest())
    return out


# --------------------------------------------------------------------------------- platforms

def default_platform() -> tuple[str, str, str | None]:
    """(os, architecture, variant) of this machine in OCI words (linux, amd64/arm64...)."""
    import platform as _platform  # here: every engine question imports this module, few choose a platform

    machine = _platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386",
            "i686": "386", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x",
            "riscv64": "riscv64"}.get(machine, machine)
    return "linux", arch, ("v7" if machine == "armv7l" else None)


def parse_platform(text: str | None, *, error: type[SourceError] = SourceError) -> tuple[str, str, str | None]:
    """``os/arch[/variant]`` -> tuple; None -> this machine's platform."""
    if not text:
        return default_platform()
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise error(f"platform {text!r}: expected OS/ARCH[/VARIANT], e.g. linux/amd64")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def is_attestation(desc: dict) -> bool:
    """An index entry that is not an image: BuildKit's attestation manifests (the
    ``vnd.docker.reference.type`` annotation, or the ``unknown/unknown`` platform)."""
    ann = desc.get("annotations") or {}
    plat = desc.get("platform") or {}
    return bool(ann.get("vnd.docker.reference.type")) or plat.get("os") == "unknown"


def _plat(desc: dict) -> dict:
    plat = desc.get("platform")
    return plat if isinstance(plat, dict) else {}


def choose_platform(entries: list[dict], platform: str | None, *, where: str,
                    error: type[SourceError] = SourceError) -> dict:
    """The entry of an index's ``manifests`` for ``platform`` (default: this machine's).

    The rule: attestations (:func:`is_attestation`) and entries of other media types are never
    chosen; the first entry whose os and architecture match is, narrowed by variant when one is
    asked for and some entry has it. With no platform asked for and no entry for this machine, a
    single remaining entry is taken. Otherwise ``error`` says what the index has.
    """
    want_os, want_arch, want_variant = parse_platform(platform, error=error)
    usable = [m for m in entries if isinstance(m, dict) and not is_attestation(m)
              and (not m.get("mediaType") or m["mediaType"] in MANIFESTS + INDEXES)]
    exact = [m for m in usable if _plat(m).get("os") == want_os and _plat(m).get("architecture") == want_arch]
    if want_variant:
        exact = [m for m in exact if _plat(m).get("variant") == want_variant] or exact
    if exact:
        return exact[0]
    if platform is None and len(usable) == 1:
        return usable[0]
    have = sorted({"/".join(filter(None, [_plat(m).get(k) for k in ("os", "architecture", "variant")]))
                   for m in usable})
    raise error(f"{where}: no image for {want_os}/{want_arch}{'/' + want_variant if want_variant else ''} "
                f"in the index (has: {', '.join(h for h in have if h) or 'nothing usable'})")


# ---------------------------------------------------------------------------------- image IDs

#: the storages whose image ID is the digest of what the engine stored on top (index or manifest)
_ID_BY_TOP = ("containerd",)


def image_ids(config: str, manifest: str | None = None, index: str | None = None) -> dict[str, str]:
    """The digests an engine could name one image by: ``{"config", "manifest", "index"}``, each
    present when the source read it.

    A graph-driver engine (Docker's overlay2) and podman name an image by its config digest; the
    containerd image store names it by the digest of what it stored on top: the index it pulled or
    a build wrote (image + attestation manifests), or the image manifest when there is no index
    (an imported image, a pull of a plain manifest). :func:`engine_image_id` picks by that rule."""
    out = {"config": config}
    if manifest:
        out["manifest"] = manifest
    if index:
        out["index"] = index
    return out


def engine_image_id(ids: dict[str, str], storage: str) -> str | None:
    """The image ID an engine of ``storage`` (``imgviz.sources.engine_model`` names: graphdriver,
    containerd, podman) gives the image ``ids`` (:func:`image_ids`) describes: on the containerd
    store the index digest, else the manifest digest (None when the source read neither: a legacy
    ``docker save`` holds no manifest, and the config digest is not that store's ID); elsewhere
    the config digest. The engine source never applies this: it records the ID the engine says."""
    if storage in _ID_BY_TOP:
        return ids.get("index") or ids.get("manifest")
    return ids["config"]
