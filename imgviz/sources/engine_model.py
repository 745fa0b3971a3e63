"""Which engine a snapshot came from, and which size model its numbers follow.

An engine's sizes mean different things by its storage (docs/engines.md has the measurements):

``graphdriver``  Docker with a graph driver (overlay2; 20.10 and 28.5 alike): a layer's size is the
                 bytes of its files; an image's Size is the sum of its layers; LayersSize counts
                 distinct layers; removing images frees their layers no other image uses.
``containerd``   Docker with the containerd image store (``driver-type io.containerd.snapshotter.v1``):
                 a layer's size is its snapshot's disk usage; ``image ls`` / ``system df`` Size is
                 content blobs (manifest, config, compressed layers) + unpacked snapshots;
                 ``image inspect`` Size is the content only; LayersSize is every blob + every
                 snapshot; removing images frees their snapshots *and* content blobs no other
                 image references.
``podman``       podman's Docker-compatible API: layer sizes are uncompressed tar sizes, and its
                 compat ``/system/df`` says LayersSize 0; its own libpod ``/system/df`` (what
                 ``podman system df -v`` prints) and its layer store's records are read instead
                 (:mod:`imgviz.sources.podman`).
``unknown``      a recording made before imgviz read ``/info``: the storage is not known.

:func:`model_of` decides the model from ``GET /version`` and ``GET /info``;
:func:`collect_extras` records what the size analyses need beyond the common calls: ``/info``
always, ``/images/json?manifests=1`` (per-platform content and unpacked sizes, API >= 1.47) on
the containerd store, and the content store's blob graph of every image when the engine runs on
this host and its content store is readable (read-only: index and manifest JSON only, each
checked against its digest; layer blobs are never opened).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from .. import _records as R
from .podman import is_podman as _is_podman, podman_version as _podman_version

MANIFESTS_MIN_API = (1, 47)
CONTAINERD_DRIVER_TYPE = "io.containerd.snapshotter.v1"
# the content store of the containerd that dockerd starts itself, under its data root
_CONTENT_UNDER_ROOT = ("containerd", "daemon", "io.containerd.content.v1.content")
_CONTENT_SYSTEM = "/var/lib/containerd/io.containerd.content.v1.content"
_MAX_JSON_BLOB = 4 << 20  # an index or manifest larger than this is not read
_MAX_BLOBS_PER_IMAGE = 10_000

INFO = R.Obj({"Driver": R.TEXT, "DriverStatus": R.Opt(R.List(R.List(R.Str()))), "DockerRootDir": R.TEXT,
              "ServerVersion": R.TEXT, "OperatingSystem": R.TEXT})
INFO_KEPT = ("ServerVersion", "Driver", "DriverStatus", "DockerRootDir", "OperatingSystem", "OSType",
             "Architecture", "KernelVersion", "Containerd", "Images", "Containers")
_SIZE_OBJ = R.Obj({"Total": R.Opt(R.ENGINE_SIZE), "Content": R.Opt(R.ENGINE_SIZE), "Unpacked": R.Opt(R.ENGINE_SIZE)})
_MANIFEST_SUMMARY = R.Obj({"ID": R.DIGEST, "Kind": R.TEXT, "Available": R.Opt(R.Bool()), "Size": R.Opt(_SIZE_OBJ),
                           "ImageData": R.Opt(R.Obj({"Size": R.Opt(_SIZE_OBJ)})),
                           "Descriptor": R.Opt(R.Obj({"digest": R.DIGEST, "size": R.SIZE}))}, required=("ID",))
IMAGE_MANIFESTS = R.List(R.Obj({"Id": R.DIGEST, "Size": R.Opt(R.ENGINE_SIZE),
                                "Manifests": R.Opt(R.List(_MANIFEST_SUMMARY))}, required=("Id",)))


@dataclass(frozen=True)
class EngineModel:
    """The engine behind a snapshot: who it is and which size model applies.

    Attributes
    ----------
    engine : str
        ``"Docker Engine"`` or ``"podman"`` (from ``/version`` Components).
    version, api_version : str or None
        ``/version`` Version (podman: its own version) and ApiVersion.
    storage : str
        ``"graphdriver"``, ``"containerd"``, ``"podman"`` or ``"unknown"`` (the size model).
    driver : str or None
        ``/info`` Driver: the graph driver (``overlay2``), the snapshotter (``overlayfs``) on the
        containerd store, podman's storage driver (``overlay``).
    root_dir : str or None
        ``/info`` DockerRootDir.
    """

    engine: str
    version: str | None
    api_version: str | None
    storage: str
    driver: str | None = None
    root_dir: str | None = None

    @property
    def api(self) -> tuple[int, int] | None:
        try:
            major, minor = (self.api_version or "").split(".")
            return int(major), int(minor)
        except ValueError:
            return None

    @property
    def has_manifests_listing(self) -> bool:
        """``/images/json?manifests=1`` answers per-platform sizes (API 1.47+, containerd store)."""
        return self.storage == "containerd" and (self.api or (0, 0)) >= MANIFESTS_MIN_API

    def storage_text(self) -> str:
        if self.storage == "containerd":
            return f"containerd image store ({self.driver or '?'} snapshotter)"
        if self.storage == "graphdriver":
            return f"{self.driver or '?'} graph driver"
        if self.storage == "podman":
            return f"containers/storage ({self.driver or '?'}) via podman's Docker-compatible API"
        return "storage not recorded"

    def describe(self) -> str:
        """One line: ``Docker Engine 28.5.2 (API 1.51), containerd image store (overlayfs snapshotter)``."""
        return f"{self.engine} {self.version or '?'} (API {self.api_version or '?'}), {self.storage_text()}"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["storage_text"] = self.storage_text()
        return out


def model_of(version: dict | None, info: dict | None) -> EngineModel:
    """The engine model from ``GET /version`` and ``GET /info`` (either may be None: unknown parts).

    Rule: podman when ``/version`` names a Podman component; else the containerd image store when
    ``/info`` DriverStatus has ``driver-type io.containerd.snapshotter.v1``; else a graph driver
    (``/info`` Driver); without ``/info`` the storage is ``unknown``.
    """
    version = version or {}
    api = version.get("ApiVersion")
    driver = info.get("Driver") if info else None
    root = info.get("DockerRootDir") if info else None
    if _is_podman(version):
        return EngineModel("podman", _podman_version(version), api, "podman", driver, root)
    if not info:
        return EngineModel("Docker Engine", version.get("Version"), api, "unknown")
    status = {row[0]: row[1] for row in info.get("DriverStatus") or [] if isinstance(row, list) and len(row) == 2}
    storage = "containerd" if status.get("driver-type") == CONTAINERD_DRIVER_TYPE else "graphdriver"
    return EngineModel("Docker Engine", version.get("Version") or info.get("ServerVersion"), api, storage,
                       driver, root)


def model_of_ping(ping: dict | None, store: dict | None = None, info: dict | None = None) -> EngineModel:
    """The engine model of an engine known by its ``/_ping`` headers alone (names in lower case),
    with the storage imgviz read (``records["podman_store"]``: its ``root`` and ``driver``), as a
    podman collection that read its storage records it, else as its ``/info`` names it (a podman
    asked through its API): podman's ping names its version (``Libpod-Api-Version``) and the API
    version it speaks; Docker's names no storage."""
    from .podman import is_podman_ping

    ping, store, info = ping or {}, store or {}, info or {}
    if is_podman_ping(ping):
        return EngineModel("podman", ping.get("libpod-api-version"), ping.get("api-version"), "podman",
                           store.get("driver") or info.get("Driver"), store.get("root") or info.get("DockerRootDir"))
    return EngineModel("Docker Engine", None, ping.get("api-version"), "unknown")


def model_of_records(rec: dict) -> EngineModel:
    """The engine model of an engine collection's records: from ``/version`` and ``/info``, or from
    the ``/_ping`` of one that asked no /version (:func:`model_of_ping`)."""
    if rec.get("version") is None and rec.get("ping"):
        return model_of_ping(rec["ping"], rec.get("podman_store"), rec.get("info"))
    return model_of(rec.get("version"), rec.get("info"))


def model_of_snapshot(snapshot) -> EngineModel | None:
    """The engine model of an engine snapshot (None for a registry or archive source)."""
    if snapshot is None or snapshot.source.get("kind") != "engine":
        return None
    return model_of_records(snapshot.records)


def model_of_frames(frames) -> EngineModel | None:
    return model_of_snapshot(getattr(frames, "snapshot", None))


# ------------------------------------------------------------------- the containerd store's split

def manifest_split(entry: dict | None) -> dict[str, int] | None:
    """The parts of one image's ``/images/json?manifests=1`` entry that its Size is made of.

    Rule (moby 28.5 ``daemon/containerd/image_list.go``, multiPlatformSummary): Size = Σ over the
    image's manifests of Total; an image manifest's Total = Content (its manifest, config and
    compressed layer blobs present in the content store) + Unpacked (``ImageData.Size.Unpacked``:
    the usage of its top snapshot and of every parent snapshot, walked by the snapshotter's own
    parent links); an attestation manifest's Total = its Content. The index blob (the image ID when
    the image is an index) is counted in neither.

    Returns
    -------
    dict or None
        ``content`` (image manifests' Content), ``unpacked``, ``attestation`` (attestation
        manifests' Content), ``index`` (bytes of the index blob, 0 when the image is a manifest);
        None when there is no entry (the split was not recorded for this image).
    """
    if not entry:
        return None
    content = unpacked = attest = 0
    for m in entry.get("Manifests") or []:
        size = m.get("Size") or {}
        if m.get("Kind") == "image":
            content += int(size.get("Content") or 0)
            unpacked += int(((m.get("ImageData") or {}).get("Size") or {}).get("Unpacked") or 0)
        elif m.get("Kind") == "attestation":
            attest += int(size.get("Content") or 0)
    desc = entry.get("Descriptor") or {}
    index = int(desc.get("size") or 0) if "index" in str(desc.get("mediaType") or "") else 0
    return {"content": content, "unpacked": unpacked, "attestation": attest, "index": index}


# ------------------------------------------------------------------ how many detail calls at once

#: the detail calls' concurrency per engine: what each answers a whole collection fastest with
#: (bench/engine.py --sweep; the table is in :func:`detail_workers`)
DETAIL_WORKERS = {("Docker Engine", "graphdriver"): 4, ("Docker Engine", "containerd"): 16,
                  ("podman", "podman"): 4}
DEFAULT_WORKERS = 8


def detail_workers(model: EngineModel) -> int:
    """How many ``/images/{id}/json`` + ``/history`` (and container inspect) calls to run at once.

    Rule: the fewest calls at once within the noise of the fastest (the engine's answers are
    what is waited for; more threads than that only load the engine and the machine). Measured
    (bench/engine.py --sweep, 400 images: a whole collection in-process, no cache, the counts
    alternating round by round, best of 3 (podman and Docker 28 overlay2: of 5), on the 2-core
    machine other benches shared, 2026-12-02):

    ============================  ======  ======  ======  ======  ======  ======
    engine (storage)                 1       2       4       8       16    chosen
    ============================  ======  ======  ======  ======  ======  ======
    Docker 20.10.24 (overlay2)    0.64 s  0.49 s  0.36 s  0.36 s  0.34 s    4
    Docker 28.5.2 (overlay2)      0.69 s  0.38 s  0.35 s  0.34 s  0.34 s    4
    Docker 28.5.2 (containerd)    12.5 s  11.0 s  9.49 s  8.94 s  8.66 s   16
    podman 4.3.1 (compat API)     4.26 s  3.82 s  3.60 s  3.52 s  3.55 s    4
    ============================  ======  ======  ======  ======  ======  ======

    Both graph-driver generations and podman are flat from 4 up (earlier runs of 3 rounds under
    more load: Docker 28.5 overlay2 1.41 / 0.57 / 0.48 / 0.49 / 0.59 s; podman 6.20 / 5.18 / 5.90 /
    5.07 / 6.55 s, a noise of 20%); the containerd store gains most up to 8, and 16 was ahead of 8
    in every run (a second run: 7.79 / 6.05 / 5.51 / 5.25 / 4.43 s; a third, quieter, with one
    list where there were two: 10.45 / 8.14 / 6.71 / 5.84 / 5.44 s; at 25 images, best of 4:
    8: 0.367 s, 12: 0.349 s, 16: 0.347 s), so it gets 16. The key is the
    model (:func:`model_of`: engine and storage), known from ``/version`` and ``/info`` asked
    beside the list. An engine of a model not measured (``/info`` unreadable) gets
    :data:`DEFAULT_WORKERS`.
    """
    return DETAIL_WORKERS.get((model.engine, model.storage), DEFAULT_WORKERS)


# ------------------------------------------------------------------------------ the collection

#: every part :func:`collect_extras` can record (a whole collection records them all)
EXTRAS = ("manifests", "podman_df", "podman_storage", "distribution", "content")


def collect_extras(api, records: dict, address: str, call, gone=(), image_list=None,
                   parts: Iterable[str] = EXTRAS) -> None:
    """Record ``info``, ``image_manifests`` and ``content`` into ``records`` (see the module doc).

    ``call(fn, schema=..., what=...)`` is the engine source's checked call; ``gone`` the exception
    it raises for a 404 (an engine without the endpoint: that answer is None, not an error). A
    recording without these answers replays as None (the model is then ``unknown`` storage).
    ``image_list``: a callable giving the engine's image list once it is answered (None when it
    never was), for the steps that need it; by default ``records["image_list"]``. ``parts``: which
    of :data:`EXTRAS` to record beside ``/info`` (a question records only what its answer reads:
    what-if the content graph and podman's layer store; pull-plan those and the graph driver's
    distribution records).
    """
    parts = frozenset(parts)
    info_fn = getattr(api, "info", None)
    if info_fn is None:
        return
    try:
        info = call(info_fn, schema=R.Opt(INFO), what="/info")
    except gone:
        info = None
    # only what the model needs: /info also carries proxies (with passwords), labels and registry
    # mirrors, which a saved snapshot must not keep
    records["info"] = {k: info[k] for k in INFO_KEPT if k in info} if isinstance(info, dict) else info
    model = model_of_records(records)
    if "manifests" in parts and model.has_manifests_listing and getattr(api, "image_manifests", None) is not None:
        try:
            records["image_manifests"] = call(api.image_manifests, schema=R.Opt(IMAGE_MANIFESTS),
                                              what="/images/json?manifests=1")
        except gone:
            records["image_manifests"] = None
    if model.storage == "podman":
        _collect_podman(api, records, model, address, call, gone, parts)
    if model.storage == "graphdriver" and "distribution" in parts:
        reader = getattr(api, "distribution_records", None)
        records["distribution"] = reader() if reader is not None else read_distribution(model, address)
    if model.storage == "containerd" and "content" in parts:
        reader = getattr(api, "content_store", None)
        listed = image_list() if image_list is not None else records.get("image_list")
        if listed is None:  # the list never came: the collection is cut short, nothing to walk
            return
        ids = [im.get("Id") for im in listed if isinstance(im, dict)]
        if reader is not None:  # a replay answers from its recording
            records["content"] = reader()
        else:
            records["content"] = read_content_store(model, ids, address)


def _collect_podman(api, records: dict, model: EngineModel, address: str, call, gone,
                    parts: frozenset = frozenset(EXTRAS)) -> None:
    """podman's own disk usage (libpod ``/system/df``) and its layer store's records
    (:mod:`imgviz.sources.podman`): its compat ``/system/df`` is not Docker's."""
    from . import podman as _podman

    if getattr(api, "podman_df", None) is not None and "podman_df" in parts:
        try:
            records["podman_df"] = _podman.own_df(api, call)
        except gone:
            records["podman_df"] = None
    if "podman_storage" not in parts:
        return
    reader = getattr(api, "podman_storage", None)
    records["podman_storage"] = reader() if reader is not None else _podman.read_storage(model, address)


def content_root(model: EngineModel, address: str) -> Path | None:
    """The content store folder of ``model``'s containerd on this host, or None when it cannot be
    read from here (a remote engine, a store elsewhere, no permission)."""
    if not address.startswith("unix://") or not model.root_dir:
        return None
    own = Path(model.root_dir) / _CONTENT_UNDER_ROOT[0]
    # dockerd's own containerd keeps its store under the data root; an engine on the system's
    # containerd (no such folder) uses the system's store
    for folder in ([own.joinpath(*_CONTENT_UNDER_ROOT[1:])] if own.is_dir() else [Path(_CONTENT_SYSTEM)]):
        blobs = folder / "blobs" / "sha256"
        if blobs.is_dir() and os.access(blobs, os.R_OK | os.X_OK):
            return folder
        state = folder.parent
        if not folder.exists() and (state / "io.containerd.metadata.v1.bolt").is_dir() \
                and os.access(state, os.R_OK | os.X_OK):
            return folder  # containerd makes the folder with its first blob: a fresh engine's store is empty
    return None


def _blob_path(root: Path, digest: str) -> Path | None:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        return None
    return root / "blobs" / "sha256" / hexpart


def _read_json_blob(root: Path, digest: str) -> dict | None:
    path = _blob_path(root, digest)
    if path is None or not path.is_file() or path.stat().st_size > _MAX_JSON_BLOB:
        return None
    data = path.read_bytes()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _walk(root: Path, digest: str, size: int, media_type: str, role: str, out: dict) -> None:
    """Add the blob and everything it references to ``out`` (digest -> entry)."""
    if digest in out or len(out) >= _MAX_BLOBS_PER_IMAGE:
        return
    path = _blob_path(root, digest)
    present = bool(path is not None and path.is_file())
    out[digest] = {"digest": digest, "size": int(size), "mediaType": media_type, "role": role,
                   "present": present}
    if not present or not ("manifest" in media_type or "index" in media_type or role in ("index", "manifest")):
        return
    doc = _read_json_blob(root, digest)
    if doc is None:
        out[digest]["unread"] = True
        return
    for m in doc.get("manifests") or []:
        if isinstance(m, dict) and isinstance(m.get("digest"), str):
            ann = m.get("annotations") or {}
            kind = "attestation" if ann.get("vnd.docker.reference.type") == "attestation-manifest" else "manifest"
            _walk(root, m["digest"], m.get("size") or 0, m.get("mediaType") or "", kind, out)
    attest = role == "attestation"
    cfg = doc.get("config")
    if isinstance(cfg, dict) and isinstance(cfg.get("digest"), str):
        _walk(root, cfg["digest"], cfg.get("size") or 0, cfg.get("mediaType") or "",
              "attestation-config" if attest else "config", out)
    for layer in doc.get("layers") or []:
        if isinstance(layer, dict) and isinstance(layer.get("digest"), str):
            _walk(root, layer["digest"], layer.get("size") or 0, layer.get("mediaType") or "",
                  "attestation-layer" if attest else "layer", out)


def read_content_store(model: EngineModel, image_ids: Iterable[str], address: str) -> dict | None:
    """The blobs every image references in the containerd content store, or None when unreadable.

    Returns
    -------
    dict or None
        ``{"root": folder, "images": {image_id: [{"digest", "size", "mediaType", "role",
        "present"}...]}}``; ``role`` is ``index``, ``manifest``, ``config``, ``layer``,
        ``attestation``, ``attestation-config`` or ``attestation-layer``. None as well when an
        image's top blob (its ID) is not in the store: then it is not this engine's store.
    """
    root = content_root(model, address)
    if root is None:
        return None
    images: dict[str, list] = {}
    for image_id in image_ids:
        if not isinstance(image_id, str):
            continue
        top = _read_json_blob(root, image_id)
        if top is None:
            # the engine lists an image whose top blob is not in this store: not the engine's store
            # (or one changing under us), so nothing read here can be trusted
            return None
        path = _blob_path(root, image_id)
        media = top.get("mediaType") or ("index" if "manifests" in top else "manifest")
        role = "index" if "manifests" in top else "manifest"
        out: dict = {}
        _walk(root, image_id, path.stat().st_size, media, role, out)
        images[image_id] = list(out.values())
    return {"root": str(root), "images": images}


# ------------------------------------------------------------------ graph driver distribution records

_MAX_DISTRIBUTION_RECORDS = 200_000


def read_distribution(model: EngineModel, address: str) -> dict | None:
    """What a graph-driver engine knows for ``docker pull``, from its own files on this host (read-only).

    moby matches a blob to a local layer through ``image/<driver>/distribution/diffid-by-digest``
    (written when it pulls or pushes a blob, kept after the image is removed), then looks the chain
    ID up in ``image/<driver>/layerdb`` (which also holds layers only BuildKit's cache still keeps,
    that no listed image names). None when the engine is not on this host or the folders are not
    readable (the pull plan then says "uncertain" where that knowledge matters).

    Returns
    -------
    dict or None
        ``{"root": folder, "diffid_by_digest": {blob digest: diff ID}, "layer_chains": [chain IDs]}``.
    """
    if not address.startswith("unix://") or not model.root_dir or not model.driver:
        return None
    base = Path(model.root_dir) / "image" / model.driver
    by_digest_dir = base / "distribution" / "diffid-by-digest" / "sha256"
    layerdb = base / "layerdb" / "sha256"
    if not layerdb.is_dir() or not os.access(layerdb, os.R_OK | os.X_OK):
        return None
    chains = []
    for entry in os.scandir(layerdb):
        if len(chains) >= _MAX_DISTRIBUTION_RECORDS:
            return None
        if entry.is_dir() and len(entry.name) == 64:
            chains.append("sha256:" + entry.name)
    known: dict[str, str] = {}
    if by_digest_dir.is_dir():
        if not os.access(by_digest_dir, os.R_OK | os.X_OK):
            return None
        for entry in os.scandir(by_digest_dir):
            if len(known) >= _MAX_DISTRIBUTION_RECORDS:
                return None
            if len(entry.name) != 64 or not entry.is_file():
                continue
            try:
                with open(entry.path, "rb") as fh:
                    text = fh.read(100).decode("ascii").strip()
            except (OSError, UnicodeDecodeError):
                continue
            if text.startswith("sha256:") and len(text) == 71:
                known["sha256:" + entry.name] = text
    return {"root": str(base), "diffid_by_digest": known, "layer_chains": sorted(chains)}
