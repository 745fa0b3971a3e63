"""podman's image records read from its own storage, in the words of its Docker-compatible API.

Why: podman 4.3 answers each compat ``/images/{id}/json`` and ``/images/{id}/history`` by walking
every image and layer it holds (its layer tree is built again per call), and its calls hardly
overlap: on a 400-image store the list takes 2.3 s and the 800 detail calls 4-5 s (2.4 s each kind
with 4 at once, 3.0-3.6 s one at a time), more than a quarter of what the docker CLI route takes.
The podman CLI itself reads containers/storage's files directly, and so can imgviz when podman runs
on this host and its graph root is readable: the same records in 0.1-0.2 s for 400 images.

What is read (read-only, under containers/storage's own shared locks, every file bounded):

``<root>/<driver>-images/images.json``   every image: ``id``, ``names``, ``digest(s)``, ``layer``
    (its top layer), ``created``, ``big-data-sizes``
``<root>/<driver>-images/<id>/<key>``     its config (key ``sha256:<id>``) and manifest
``<root>/<driver>-layers/layers.json``   every layer: ``parent``, ``diff-size``, ``names``
``<root>/<driver>-containers/containers.json``  which image each container uses
``<root>/overlay/<layer>/lower`` and ``<root>/overlay/l/*``  the overlay driver's lower dirs

and turned into what podman 4.3.1's compat API answers, by the rules of its code (containers/common
v0.50 ``libimage`` and podman's compat handlers), checked field for field against the engine by
``tests/sources/test_podman_store.py`` (live, and on a recorded store):

* the list (``GET /images/json``): one entry per image in the store's order but the intermediate
  ones (no name, and a child: an image on the same or the next layer up whose history is its own
  plus one entry and whose layers continue its own), ``Dangling`` for the other nameless ones,
  ``Size`` = the ``diff-size`` of every layer of its chain + its big-data items (config, manifests,
  signatures), ``ParentId`` the first image on its top layer or the layer below that is its parent
  by that rule, ``Containers`` the containers made from it;
* inspect (``GET /images/{id}/json``): the config's fields in Docker's shape, ``Created`` the store's
  time of the image (not the config's), ``GraphDriver`` the overlay dirs of its top layer;
* history (``GET /images/{id}/history``): the config's history newest first; walking down the layer
  chain, each entry carries the ``diff-size`` of the layer it stands on (an empty-layer entry: 0)
  and the ID of the first image whose top layer that is (each ID once).

Only the overlay driver is read. :func:`read_store` raises :class:`StoreUnreadable` when anything
cannot be read (one line naming the file), and :func:`compat_records` names the images its rules do
not cover (no config or no top layer: a manifest list); the collection then asks the API as before.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import json
import os
import re
import time
from datetime import datetime, timezone

_MAX_JSON = 64 << 20  # images.json / layers.json / containers.json larger than this are not read
_MAX_BLOB = 4 << 20  # one config or manifest
_LOCK_WAIT = 5.0  # seconds to wait for a writer to finish before giving up (the API is asked then)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

#: the driver whose directory layout this module knows
DRIVER = "overlay"


class StoreUnreadable(Exception):
    """The store cannot be read from here (missing, not ours to read, locked too long, malformed)."""


def _big_data_file(key: str) -> str:
    # containers/storage names a big-data file by its key when the key is lower-case letters, digits
    # and dots only, else "=" + the key in standard base64
    if key and all(c == "." or c.isdigit() or ("a" <= c <= "z") for c in key):
        return key
    return "=" + base64.b64encode(key.encode()).decode()


def _read(path: str, limit: int) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise StoreUnreadable(f"{path}: larger than {limit} bytes")
    return data


def _json(path: str, limit: int = _MAX_JSON):
    try:
        return json.loads(_read(path, limit))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreUnreadable(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise StoreUnreadable(f"{path}: not JSON ({exc})") from None


class _SharedLocks:
    """containers/storage's lock files of the stores read, held shared (fcntl read locks, as its
    readers take them) so no writer changes a file between two reads; bounded wait."""

    def __init__(self, paths: list[str], wait: float | None = None):
        self.paths, self.wait, self.fds = paths, _LOCK_WAIT if wait is None else wait, []

    def __enter__(self):
        deadline = time.monotonic() + self.wait
        try:
            for path in self.paths:
                fd = os.open(path, os.O_RDONLY)
                self.fds.append(fd)
                while True:
                    try:
                        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                            raise StoreUnreadable(f"{path}: locked by a writer for more than {self.wait:g} s") \
                                from None
                        time.sleep(0.01)
        except OSError as exc:
            self.__exit__()
            raise StoreUnreadable(f"{exc.filename or 'lock'}: {exc.strerror or exc}") from None
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for fd in self.fds:
            os.close(fd)  # closing drops the fcntl lock
        self.fds = []


def read_store(root: str, driver: str = DRIVER) -> dict:
    """The raw store of the podman whose graph root is ``root``: ``images`` (images.json as it is),
    ``layers`` (layers.json), ``containers`` (containers.json), ``configs`` and ``manifests`` by
    image ID (parsed JSON; absent when the image has none), ``lowers`` by top layer (the overlay
    lower dirs, resolved), ``mounted`` (top layers mounted on this host). Raises StoreUnreadable."""
    if driver != DRIVER:
        raise StoreUnreadable(f"storage driver {driver!r}: only {DRIVER!r} is read")
    images_dir = os.path.join(root, f"{driver}-images")
    layers_dir = os.path.join(root, f"{driver}-layers")
    containers_dir = os.path.join(root, f"{driver}-containers")
    if not os.path.isfile(os.path.join(images_dir, "images.json")):
        raise StoreUnreadable(f"{root}: no podman storage here ({driver}-images/images.json missing)")
    locks = [os.path.join(layers_dir, "layers.lock"), os.path.join(images_dir, "images.lock")]
    if os.path.exists(os.path.join(containers_dir, "containers.lock")):
        locks.append(os.path.join(containers_dir, "containers.lock"))
    with _SharedLocks(locks):
        images = _json(os.path.join(images_dir, "images.json"))
        layers = _json(os.path.join(layers_dir, "layers.json"))
        containers = _json(os.path.join(containers_dir, "containers.json")) or []
        if not isinstance(images, list) or not isinstance(layers, list) or not isinstance(containers, list):
            raise StoreUnreadable(f"{root}: images.json or layers.json missing or not a list")
        configs, manifests = {}, {}
        for im in images:
            if not isinstance(im, dict) or not isinstance(im.get("id"), str):
                raise StoreUnreadable(f"{images_dir}/images.json: an entry without an id")
            iid = im["id"]
            for key, out in ((f"sha256:{iid}", configs), ("manifest", manifests)):
                if key not in (im.get("big-data-names") or []):
                    continue
                try:
                    out[iid] = json.loads(_read(os.path.join(images_dir, iid, _big_data_file(key)), _MAX_BLOB))
                except (OSError, ValueError) as exc:
                    raise StoreUnreadable(f"image {iid[:12]}: {key}: {exc}") from None
    lowers, mounted, links = {}, [], {}
    top_layers = {im.get("layer") for im in images if im.get("layer")}
    mount_points = _mount_points()
    for layer_id in top_layers:
        lowers[layer_id] = _lower_dirs(root, driver, layer_id, links)
        if os.path.join(root, driver, layer_id, "merged") in mount_points:
            mounted.append(layer_id)
    return {"root": root, "driver": driver, "images": images, "layers": layers, "containers": containers,
            "configs": configs, "manifests": manifests, "lowers": lowers, "mounted": sorted(mounted)}


def _mount_points() -> set[str]:
    """This host's mount points (``/proc/self/mountinfo``, octal escapes undone): where podman has
    mounted a layer (``podman image mount``), its inspect names the ``MergedDir``."""
    try:
        with open("/proc/self/mountinfo", "rb") as fh:
            lines = fh.read(16 << 20).decode(errors="replace").splitlines()
    except OSError:
        return set()
    out = set()
    for line in lines:
        fields = line.split(" ")
        if len(fields) > 4:
            out.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))
    return out


def _lower_dirs(root: str, driver: str, layer_id: str, links: dict[str, str]) -> str | None:
    # overlay keeps a layer's lower dirs as short links ("l/ABC:l/DEF") in its "lower" file; each
    # link points at "../<layer>/diff"
    try:
        text = _read(os.path.join(root, driver, layer_id, "lower"), 1 << 20).decode()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreUnreadable(f"layer {layer_id[:12]}: lower: {exc}") from None
    dirs = []
    for link in text.strip().split(":"):
        if not link:
            continue
        if link not in links:  # (every image above a layer names its link again)
            try:
                target = os.readlink(os.path.join(root, driver, link))
            except OSError as exc:
                raise StoreUnreadable(f"layer {layer_id[:12]}: {link}: {exc.strerror or exc}") from None
            links[link] = os.path.normpath(os.path.join(root, driver, "l", target))
        dirs.append(links[link])
    return ":".join(dirs)


def locate(inspect: dict | None) -> tuple[str, str, str] | None:
    """(graph root, driver, top layer) of the storage an image's compat inspect names: its
    ``GraphDriver`` UpperDir is ``<root>/<driver>/<layer>/diff``. None when it names no such dir."""
    graph = (inspect or {}).get("GraphDriver") or {}
    upper = (graph.get("Data") or {}).get("UpperDir")
    driver = graph.get("Name")
    if not isinstance(upper, str) or not isinstance(driver, str) or not os.path.isabs(upper):
        return None
    parts = upper.rstrip("/").split("/")
    if len(parts) < 4 or parts[-1] != "diff" or parts[-3] != driver or not parts[-2]:
        return None
    return "/".join(parts[:-3]) or "/", driver, parts[-2]


# -- podman's rules -------------------------------------------------------------------------------

def _time(value: str | None) -> datetime | None:
    """An RFC 3339 time with nanoseconds (Go's) as an aware datetime to the microsecond, plus the
    nanoseconds kept apart for equality (``(datetime, ns)``)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    frac_ns = 0
    if "." in text:
        head, rest = text.split(".", 1)
        digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits):]
        frac_ns = int((digits + "000000000")[:9])
        text = head + zone
    when = datetime.fromisoformat(text)
    return when, frac_ns


def _unix(value: str | None) -> int:
    parsed = _time(value)
    if parsed is None:
        return -62135596800  # Go's zero time
    return int(parsed[0].timestamp())


def _history_key(h: dict) -> tuple:
    t = _time(h.get("created"))
    instant = (t[0].astimezone(timezone.utc).replace(tzinfo=None), t[1]) if t else None
    return (instant, h.get("created_by") or "", h.get("author") or "", h.get("comment") or "",
            bool(h.get("empty_layer")))


def _parent_and_child(parent: dict, child: dict) -> bool:
    # libimage areParentAndChild: the parent's diff IDs a prefix of the child's, the child's history
    # the parent's plus one entry
    p_ids = (parent.get("rootfs") or {}).get("diff_ids") or []
    c_ids = (child.get("rootfs") or {}).get("diff_ids") or []
    if len(p_ids) > len(c_ids) or c_ids[:len(p_ids)] != p_ids:
        return False
    p_hist, c_hist = parent.get("history") or [], child.get("history") or []
    if len(p_hist) + 1 != len(c_hist):
        return False
    return all(_history_key(a) == _history_key(b) for a, b in zip(p_hist, c_hist))


class Store:
    """The rules above over one :func:`read_store` answer."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.images = [im for im in raw["images"]]
        self.by_id = {im["id"]: im for im in self.images}
        self.layers = {layer["id"]: layer for layer in raw["layers"] if isinstance(layer, dict) and "id" in layer}
        self.on_layer: dict[str, list[dict]] = {}
        for im in self.images:
            if im.get("layer"):
                self.on_layer.setdefault(im["layer"], []).append(im)
        self.configs = raw["configs"]
        self._chains: dict[str, list[dict] | None] = {}
        self._parents: dict[str, dict | None] = {}
        self.children_of: dict[str, list[str]] = {}
        for layer in self.layers.values():
            if layer.get("parent"):
                self.children_of.setdefault(layer["parent"], []).append(layer["id"])

    def covered(self, image_id: str) -> bool:
        """Whether this image's records follow from the store (it has a config and a top layer the
        layer store holds); the others are asked of the API."""
        bare = image_id.removeprefix("sha256:")
        im = self.by_id.get(bare)
        return (im is not None and isinstance(self.configs.get(bare), dict) and im.get("layer") in self.layers
                and self._chain(im["layer"]) is not None)

    def _chain(self, layer_id: str) -> list[dict] | None:
        # (asked for each image's coverage and size: walked once per top layer)
        if layer_id not in self._chains:
            self._chains[layer_id] = self._walk(layer_id)
        return self._chains[layer_id]

    def _walk(self, layer_id: str) -> list[dict] | None:
        out, seen = [], set()
        while layer_id:
            layer = self.layers.get(layer_id)
            if layer is None or layer_id in seen:
                return None
            seen.add(layer_id)
            out.append(layer)
            layer_id = layer.get("parent") or ""
        return out

    def size(self, im: dict) -> int:
        # containers/storage ImageSize: every layer of the chain (diff-size) + every big-data item
        total = sum(int(layer.get("diff-size") or 0) for layer in self._chain(im["layer"]) or [])
        return total + sum(int(v) for v in (im.get("big-data-sizes") or {}).values())

    def parent(self, im: dict) -> dict | None:
        # (the list entry and inspect both name it: found once per image)
        if im["id"] not in self._parents:
            self._parents[im["id"]] = self._find_parent(im)
        return self._parents[im["id"]]

    def _find_parent(self, im: dict) -> dict | None:
        child = self.configs.get(im["id"])
        top = self.layers.get(im["layer"])
        candidates = list(self.on_layer.get(im["layer"], []))
        if top is not None and top.get("parent"):
            candidates += self.on_layer.get(top["parent"], [])
        for cand in candidates:
            if cand["id"] == im["id"] or not isinstance(self.configs.get(cand["id"]), dict):
                continue
            if _parent_and_child(self.configs[cand["id"]], child):
                return cand
        return None

    def repo_digests(self, im: dict) -> list[str]:
        # containers/storage's Digests: its digest and those of every manifest it keeps (big-data
        # items named "manifest" or "manifest-<digest>")
        kept = im.get("big-data-digests") or {}
        digests = [d for d in [im.get("digest"), *(im.get("digests") or []),
                               *(v for k, v in kept.items() if k.startswith("manifest"))] if d]
        out = []
        for name in im.get("names") or []:
            repo = _repository(name)
            for d in digests:
                ref = f"{repo}@{d}"
                if ref not in out:
                    out.append(ref)
        return sorted(out)

    def containers_of(self, image_id: str) -> int:
        return sum(1 for c in self.raw["containers"] if isinstance(c, dict) and c.get("image") == image_id)

    def has_child(self, im: dict) -> bool:
        # libimage children(): an image on a layer right above its top layer, or on the same layer,
        # whose history and layers continue its own
        mine = self.configs[im["id"]]
        for layer_id in [*self.children_of.get(im["layer"], []), im["layer"]]:
            for cand in self.on_layer.get(layer_id, []):
                if cand["id"] != im["id"] and isinstance(self.configs.get(cand["id"]), dict) \
                        and _parent_and_child(mine, self.configs[cand["id"]]):
                    return True
        return False

    def list_entry(self, im: dict) -> dict | None:
        """The image's entry of the compat list, None when the list leaves it out (an intermediate
        image: no name, and a child)."""
        names = im.get("names") or []
        child = None if names else self.has_child(im)
        if child:
            return None
        config = self.configs[im["id"]]
        size = self.size(im)
        parent = self.parent(im)
        entry = {"Id": "sha256:" + im["id"], "ParentId": parent["id"] if parent else "",
                 "RepoTags": list(names) if names else None, "RepoDigests": self.repo_digests(im),
                 "Created": _unix(im.get("created")), "Size": size, "SharedSize": 0, "VirtualSize": size,
                 "Labels": (config.get("config") or {}).get("Labels"), "Containers": self.containers_of(im["id"])}
        if child is False:
            entry["Dangling"] = True
        if names:
            entry["Names"] = list(names)
        entry["Digest"] = im.get("digest") or ""
        if im.get("names-history"):
            entry["History"] = list(im["names-history"])
        return entry

    def inspect(self, im: dict) -> dict:
        config = self.configs[im["id"]]
        cfg = config.get("config") or {}
        size = self.size(im)
        parent = self.parent(im)
        data = {"UpperDir": f"{self.raw['root']}/{self.raw['driver']}/{im['layer']}/diff",
                "WorkDir": f"{self.raw['root']}/{self.raw['driver']}/{im['layer']}/work"}
        lower = self.raw["lowers"].get(im["layer"])
        if lower:
            data["LowerDir"] = lower
        if im["layer"] in self.raw["mounted"]:
            data["MergedDir"] = f"{self.raw['root']}/{self.raw['driver']}/{im['layer']}/merged"
        names = im.get("names") or []
        out_cfg = {"Hostname": "", "Domainname": "", "User": cfg.get("User") or "", "AttachStdin": False,
                   "AttachStdout": False, "AttachStderr": False}
        if cfg.get("ExposedPorts"):
            out_cfg["ExposedPorts"] = dict(cfg["ExposedPorts"])
        out_cfg.update({"Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": cfg.get("Env"),
                        "Cmd": cfg.get("Cmd"), "Image": "", "Volumes": cfg.get("Volumes"),
                        "WorkingDir": cfg.get("WorkingDir") or "", "Entrypoint": cfg.get("Entrypoint"),
                        "OnBuild": None, "Labels": cfg.get("Labels")})
        if cfg.get("StopSignal"):
            out_cfg["StopSignal"] = cfg["StopSignal"]
        return {
            "Id": "sha256:" + im["id"], "RepoTags": [n for n in names if "@" not in n],
            "RepoDigests": self.repo_digests(im), "Parent": parent["id"] if parent else "",
            "Comment": self.comment(im), "Created": _go_time(im.get("created")), "Container": "",
            "ContainerConfig": {"Hostname": im["id"][:11], "Domainname": "", "User": "", "AttachStdin": False,
                                "AttachStdout": False, "AttachStderr": False, "Tty": False, "OpenStdin": False,
                                "StdinOnce": False, "Env": None, "Cmd": None, "Image": "",
                                "Volumes": cfg.get("Volumes"), "WorkingDir": "", "Entrypoint": None,
                                "OnBuild": None, "Labels": None},
            "DockerVersion": config.get("docker_version") or "", "Author": config.get("author") or "",
            "Config": out_cfg, "Architecture": config.get("architecture") or "", "Os": config.get("os") or "",
            "Size": size, "VirtualSize": size,
            "GraphDriver": {"Data": data, "Name": self.raw["driver"]},
            "RootFS": {"Type": (config.get("rootfs") or {}).get("type") or "",
                       "Layers": list((config.get("rootfs") or {}).get("diff_ids") or [])},
            "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
        }

    def comment(self, im: dict) -> str:
        # libimage Inspect: an OCI image's comment is its first history entry's; a Docker image's is
        # its config's own "comment"
        config = self.configs[im["id"]]
        if _manifest_type(self.raw["manifests"].get(im["id"])) == OCI_MANIFEST:
            first = (config.get("history") or [{}])[0]
            return first.get("comment") or ""
        return config.get("comment") or ""

    def history(self, im: dict) -> list[dict]:
        config = self.configs[im["id"]]
        entries = config.get("history") or []
        layer = self.layers.get(im["layer"])
        used: set[str] = set()
        out = []
        for h in reversed(entries):
            entry = {"Id": "<missing>", "Created": _unix(h.get("created")), "CreatedBy": h.get("created_by") or "",
                     "Tags": None, "Size": 0, "Comment": h.get("comment") or ""}
            if layer is not None:
                entry["Tags"] = list(layer["names"]) if layer.get("names") else None
                if not h.get("empty_layer"):
                    entry["Size"] = int(layer.get("diff-size") or 0)
                on = self.on_layer.get(layer["id"])
                if on and on[0]["id"] not in used:
                    entry["Id"] = on[0]["id"]
                    used.add(on[0]["id"])
                if layer.get("parent") and not h.get("empty_layer"):
                    layer = self.layers.get(layer["parent"])
            out.append(entry)
        return out


def _manifest_type(manifest: dict | None) -> str | None:
    # containers/image GuessMIMEType: the manifest's mediaType, else told by its config's
    if not isinstance(manifest, dict):
        return None
    if manifest.get("mediaType"):
        return manifest["mediaType"]
    config_type = (manifest.get("config") or {}).get("mediaType")
    if config_type == "application/vnd.oci.image.config.v1+json":
        return OCI_MANIFEST
    return None


def _repository(name: str) -> str:
    # the name without its tag or digest (docker/distribution's TrimNamed)
    name = name.split("@", 1)[0]
    colon = name.rfind(":")
    return name[:colon] if colon > name.rfind("/") else name


def _go_time(value: str | None) -> str:
    # Go's time.RFC3339Nano: trailing zeros of the fraction dropped
    if not isinstance(value, str):
        return "0001-01-01T00:00:00Z"
    return value


def compat_records(raw: dict) -> dict:
    """``image_list`` (the list of the images :meth:`Store.covered` covers, in the store's order)
    and the listed ``images`` by ``sha256:`` ID (``{"inspect", "history"}``), as podman's compat API
    answers; ``uncovered``: the IDs of images the rules do not cover (the API is asked then).
    A record whose fields are not what containers/storage writes (a time that is no time, a size
    that is no number) is :class:`StoreUnreadable` naming the image."""
    store = Store(raw)
    listed, images, uncovered = [], {}, []
    for im in store.images:
        iid = "sha256:" + im["id"]
        try:
            if not store.covered(iid):
                uncovered.append(iid)
                continue
            entry = store.list_entry(im)
            if entry is not None:
                listed.append(entry)
                images[iid] = {"inspect": store.inspect(im), "history": store.history(im)}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StoreUnreadable(f"image {iid[:19]}: malformed record ({type(exc).__name__}: {exc})") from None
    return {"image_list": listed, "images": images, "uncovered": uncovered}

