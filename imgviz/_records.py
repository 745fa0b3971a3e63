"""The shape of raw records, defined once, and the check every record passes where it enters.

Records enter imgviz in two places: a source (the engine's answers, a registry's or an archive's
manifests and configs) and a snapshot file. Both check what they got against the types here
before anything else reads it, so every field the rows and frames read has the type they expect:
a list of strings is a list of strings, a size is a whole number of bytes. Nothing malformed
reaches the frames; the first problem found is one line naming the field
(``records.images[3].inspect.Config.Env[2]: expected a string, got a list``).

The rules for numbers: sizes are whole numbers from 0 to 2**63-1 (the engine's own range; it uses
-1 for "not computed" in a few fields, which are allowed -1); ``true``/``false``, NaN, infinities,
fractions and anything past 2**63 are errors. Times are unix seconds or text. Fields the engine or
the image format may add are allowed and left alone; fields we read must have our type when present.

Examples
--------
>>> problem(IMAGE_LIST, [{"Id": "sha256:" + "a" * 64, "Size": -5}], "image list")
'image list[0].Size: -5 is not a size (0 to 2**63-1 bytes)'
"""

from __future__ import annotations

import math
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Callable, Iterable

SIZE_MAX = 2**63 - 1
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_HEXLEN = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX = re.compile(r"^[0-9a-f]+$")


class Problem(Exception):
    """A record does not have its type (``path``, ``text``)."""

    def __init__(self, path: str, text: str):
        super().__init__(f"{path}: {text}")
        self.path, self.text = path, text


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class T:
    """A type: ``check(value, path)`` raises :class:`Problem` unless ``value`` has it."""

    name = "a value"

    def check(self, value: Any, path: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def expected(self, value: Any, path: str):
        return Problem(path, f"expected {self.name}, got {_got(value)}")


class _Any(T):
    def check(self, value, path):
        pass


class Str(T):
    name = "a string"

    def __init__(self, pattern: str | None = None, what: str | None = None, test: Callable[[str], bool] | None = None):
        self._re = re.compile(pattern) if pattern else None
        self._test = test
        if what:
            self.name = what

    def check(self, value, path):
        if not isinstance(value, str):
            raise self.expected(value, path)
        if (self._re is not None and not self._re.match(value)) or (self._test is not None and not self._test(value)):
            raise Problem(path, f"{value[:80]!r} is not {self.name}")


class Int(T):
    def __init__(self, low: int = 0, high: int = SIZE_MAX, allow: tuple[int, ...] = (), what: str = "a size (0 to 2**63-1 bytes)"):
        self.low, self.high, self.allow, self.name = low, high, allow, what

    def check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.expected(value, path)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise Problem(path, f"{value} is not {self.name}")
            raise Problem(path, f"{value!r} is not a whole number ({self.name})")
        if value in self.allow:
            return
        if not (self.low <= value <= self.high):
            shown = str(value) if abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
            raise Problem(path, f"{shown} is not {self.name}")


class Time(T):
    """Unix seconds (a whole or fractional number within the range of dates) or RFC 3339 text."""

    name = "a time (unix seconds or text)"

    def check(self, value, path):
        if isinstance(value, str):
            if len(value) > 64:
                raise Problem(path, f"{value[:40]!r}... is not {self.name}")
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.expected(value, path)
        if not math.isfinite(value) or abs(value) > 2**40:
            raise Problem(path, f"{value if abs(value) < 1e30 else 'a huge number'} is not {self.name}")


class Bool(T):
    name = "true or false"

    def check(self, value, path):
        if not isinstance(value, bool):
            raise self.expected(value, path)


class Opt(T):
    """``null`` or the type."""

    def __init__(self, inner: T):
        self.inner = inner
        self.name = f"{inner.name} or null"

    def check(self, value, path):
        if value is not None:
            self.inner.check(value, path)


class OneOf(T):
    def __init__(self, *types: T):
        self.types = types
        self.name = " or ".join(t.name for t in types)

    def check(self, value, path):
        first = None
        for t in self.types:
            try:
                t.check(value, path)
                return
            except Problem as exc:
                first = first or exc
        if all(isinstance(t, (Str, Int, Bool, Time)) for t in self.types) or first is None:
            raise self.expected(value, path)
        raise first


class List(T):
    def __init__(self, item: T, max_items: int | None = None):
        self.item, self.max_items = item, max_items
        self.name = f"a list of {item.name.removeprefix('a ').removeprefix('an ')}s" \
            if isinstance(item, (Str, Int)) and not isinstance(item, Opt) else "a list"

    def check(self, value, path):
        if not isinstance(value, list):
            raise self.expected(value, path)
        if self.max_items is not None and len(value) > self.max_items:
            raise Problem(path, f"{len(value)} items, more than the {self.max_items} allowed")
        for i, v in enumerate(value):
            self.item.check(v, f"{path}[{i}]")


class Map(T):
    """An object with any keys (strings) whose values all have one type."""

    def __init__(self, value: T):
        self.value = value
        self.name = "an object"

    def check(self, value, path):
        if not isinstance(value, dict):
            raise self.expected(value, path)
        for k, v in value.items():
            self.value.check(v, f"{path}.{k}")


class Obj(T):
    """An object with known fields (``required`` must be there; others may be); extra fields pass."""

    name = "an object"

    def __init__(self, fields: dict[str, T], required: Iterable[str] = ()):
        self.fields, self.required = fields, tuple(required)

    def check(self, value, path):
        if not isinstance(value, dict):
            raise self.expected(value, path)
        for key in self.required:
            if key not in value:
                raise Problem(path, f"has no {key!r}")
        for key, t in self.fields.items():
            if key in value:
                t.check(value[key], f"{path}.{key}")


ANY = _Any()


def is_digest(text: Any) -> bool:
    """True for an OCI digest (``algorithm:encoded``; sha256/384/512 with the right length, lower hex)."""
    if not isinstance(text, str) or not _DIGEST.match(text):
        return False
    algo, _, hexpart = text.partition(":")
    want = _HEXLEN.get(algo)
    return want is None or (len(hexpart) == want and bool(_HEX.match(hexpart)))


# ----------------------------------------------------------------------------------- the types

SIZE = Int()
#: the engine says -1 where it did not compute a number
ENGINE_SIZE = Int(allow=(-1,))
DIGEST = Str(what="a digest (sha256:<64 hex>)", test=is_digest)
#: an engine object ID in a URL: a digest, or the hex of one (container IDs)
ENGINE_ID = Str(r"^(?:sha256:)?[0-9a-f]{12,64}$", what="an engine ID (hex, or sha256:<hex>)")
STRINGS = List(Str())
TEXT = Opt(Str())

CONTAINER_CONFIG = Obj({
    "Env": Opt(STRINGS), "Cmd": Opt(STRINGS), "Entrypoint": Opt(STRINGS), "WorkingDir": TEXT,
    "User": TEXT, "Labels": Opt(Map(Str())), "ExposedPorts": Opt(Map(ANY)), "Shell": Opt(STRINGS),
    "Volumes": Opt(Map(ANY)), "StopSignal": TEXT,
})

VERSION = Obj({"Version": TEXT, "ApiVersion": TEXT, "Os": TEXT, "Arch": TEXT, "KernelVersion": TEXT})

IMAGE_SUMMARY = Obj({
    "Id": DIGEST, "ParentId": TEXT, "RepoTags": Opt(STRINGS), "RepoDigests": Opt(STRINGS), "Created": Opt(Time()),
    "Size": Opt(ENGINE_SIZE), "SharedSize": Opt(ENGINE_SIZE), "VirtualSize": Opt(ENGINE_SIZE),
    "Containers": Opt(ENGINE_SIZE), "Labels": Opt(Map(Str())),
}, required=("Id",))
IMAGE_LIST = List(IMAGE_SUMMARY)

INSPECT = Obj({
    "Id": DIGEST, "RepoTags": Opt(STRINGS), "RepoDigests": Opt(STRINGS), "Created": Opt(Time()), "Os": TEXT,
    "Architecture": TEXT, "Variant": TEXT, "Size": Opt(ENGINE_SIZE), "VirtualSize": Opt(ENGINE_SIZE),
    "Config": Opt(CONTAINER_CONFIG), "Author": TEXT, "Comment": TEXT, "Parent": TEXT,
    "RootFS": Opt(Obj({"Type": TEXT, "Layers": Opt(List(DIGEST))})),
}, required=("Id",))

HISTORY_ENTRY = Obj({"Id": TEXT, "Created": Opt(Time()), "CreatedBy": TEXT, "Comment": TEXT, "Size": Opt(SIZE),
                     "Tags": Opt(STRINGS)})
HISTORY = List(HISTORY_ENTRY)

CONTAINER_SUMMARY = Obj({
    "Id": ENGINE_ID, "Names": Opt(STRINGS), "Image": TEXT, "ImageID": TEXT, "Command": TEXT, "State": TEXT,
    "Status": TEXT, "Created": Opt(Time()), "SizeRw": Opt(ENGINE_SIZE), "SizeRootFs": Opt(ENGINE_SIZE),
    "Labels": Opt(Map(Str())),
}, required=("Id",))
CONTAINER_LIST = List(CONTAINER_SUMMARY)
CONTAINER_INSPECT = Obj({"Id": ENGINE_ID, "Config": Opt(CONTAINER_CONFIG), "Image": TEXT, "Name": TEXT,
                         "Args": Opt(STRINGS), "Path": TEXT})

_DF_IMAGE = Obj({"Id": Str(), "Size": Opt(ENGINE_SIZE), "SharedSize": Opt(ENGINE_SIZE),
                 "Containers": Opt(ENGINE_SIZE), "VirtualSize": Opt(ENGINE_SIZE)}, required=("Id",))
_DF_CONTAINER = Obj({"Id": Str(), "SizeRw": Opt(ENGINE_SIZE), "SizeRootFs": Opt(ENGINE_SIZE)}, required=("Id",))
DF = Obj({
    "LayersSize": Opt(ENGINE_SIZE), "Images": Opt(List(_DF_IMAGE)), "Containers": Opt(List(_DF_CONTAINER)),
    "ImagesDiskUsage": Opt(Obj({"TotalSize": Opt(ENGINE_SIZE), "Items": Opt(List(_DF_IMAGE))})),
    "ContainersDiskUsage": Opt(Obj({"TotalSize": Opt(ENGINE_SIZE), "Items": Opt(List(_DF_CONTAINER))})),
})

DESCRIPTOR = Obj({"digest": DIGEST, "size": SIZE, "mediaType": TEXT, "annotations": Opt(Map(Str())),
                  "platform": Opt(Obj({"os": TEXT, "architecture": TEXT, "variant": TEXT}))},
                 required=("digest",))
MANIFEST = Obj({"schemaVersion": Opt(Int(0, 1000, what="a schema version")), "mediaType": TEXT,
                "config": DESCRIPTOR, "layers": List(DESCRIPTOR)}, required=("config", "layers"))
INDEX = Obj({"schemaVersion": Opt(Int(0, 1000, what="a schema version")), "mediaType": TEXT,
             "manifests": List(DESCRIPTOR)}, required=("manifests",))
CONFIG_HISTORY = Obj({"created": Opt(Time()), "created_by": TEXT, "comment": TEXT, "author": TEXT,
                      "empty_layer": Opt(Bool())})
IMAGE_CONFIG = Obj({
    "created": Opt(Time()), "author": TEXT, "os": TEXT, "architecture": TEXT, "variant": TEXT,
    "config": Opt(CONTAINER_CONFIG), "rootfs": Obj({"type": TEXT, "diff_ids": List(DIGEST)}, required=("diff_ids",)),
    "history": Opt(List(CONFIG_HISTORY)),
}, required=("rootfs",))

IMAGE_RECORD = Obj({
    "id": DIGEST, "inspect": Opt(INSPECT), "history": Opt(HISTORY), "config": Opt(IMAGE_CONFIG),
    "manifest": Opt(MANIFEST), "ref": TEXT, "refs": Opt(List(Opt(Str()))), "tags": Opt(STRINGS),
    "digests": Opt(STRINGS), "layer_sizes": Opt(List(Opt(SIZE))), "manifest_digest": Opt(DIGEST),
    "media_type": TEXT, "layout": TEXT, "index": Opt(Obj({"digest": DIGEST, "mediaType": TEXT, "manifest": INDEX})),
    "ids": Opt(List(Obj({"config": DIGEST, "manifest": Opt(DIGEST), "index": Opt(DIGEST)}, required=("config",)))),
}, required=("id",))
CONTAINER_RECORD = Obj({"id": ENGINE_ID, "inspect": Opt(CONTAINER_INSPECT)}, required=("id",))
SKIPPED = Obj({"kind": Str(), "id": Str(), "reason": TEXT, "detail": TEXT}, required=("kind", "id"))

#: what a collection read from podman's storage (:mod:`imgviz.sources.podman_store`)
PODMAN_STORE = Obj({"root": Str(), "driver": Str(), "images": Opt(SIZE), "on_this_host": Opt(Bool())},
                   required=("root", "driver"))

RECORDS = Obj({
    "version": Opt(VERSION), "ping": Opt(Map(Str())), "podman_store": Opt(PODMAN_STORE), "image_list": Opt(IMAGE_LIST), "images": List(IMAGE_RECORD),
    "container_list": Opt(CONTAINER_LIST), "containers": List(CONTAINER_RECORD), "df": Opt(DF),
    "skipped": List(SKIPPED), "complete": Bool(),
})
KINDS = ("engine", "registry", "archive")
SOURCE = Obj({"kind": Str(f"^(?:{'|'.join(KINDS)})$", what=f"one of {', '.join(KINDS)}"), "host": TEXT,
              "collected_at": TEXT, "engine_version": TEXT, "api_version": TEXT, "os": TEXT, "arch": TEXT,
              "layout": TEXT, "platform": TEXT, "bytes_read": Opt(SIZE), "file_size": Opt(SIZE)},
             required=("kind",))


def problem(t: T, value: Any, path: str) -> str | None:
    """The first problem of ``value`` against ``t`` as one line, or None when it has the type."""
    try:
        t.check(value, path)
    except Problem as exc:
        return str(exc)
    except RecursionError:
        return f"{path}: nests too deep"
    return None


def check(t: T, value: Any, path: str, error: type[Exception], where: str = "") -> Any:
    """``value`` when it has the type ``t``; else ``error`` with one line (``where: path: problem``)."""
    found = problem(t, value, path)
    if found is not None:
        raise error(f"{where}: {found}" if where else found)
    return value


def check_records(records: Any, kind: str, *, where: str, error: type[Exception]) -> dict:
    """A whole ``Snapshot.records`` dict (as a source produced it or a file held it), checked.

    Beyond the types: image records have distinct ids, and a record of an engine image names
    itself in its inspect answer.
    """
    check(RECORDS, records, "records", error, where)
    if kind == "engine" and records["complete"]:
        for key in ("version", "image_list", "container_list", "df"):
            if key == "version" and records.get("ping") is not None:
                continue  # a collection that asked no /version keeps its /_ping's headers
            if records.get(key) is None:
                raise error(f"{where}: records.{key}: missing, yet the engine snapshot says it is complete")
    seen: set[str] = set()
    for i, rec in enumerate(records["images"]):
        if rec["id"] in seen:
            raise error(f"{where}: records.images[{i}]: image {rec['id'][:19]} is recorded twice")
        seen.add(rec["id"])
        inspect = rec.get("inspect")
        if inspect is not None and inspect.get("Id") != rec["id"]:
            raise error(f"{where}: records.images[{i}].inspect.Id: names {str(inspect.get('Id'))[:19]}, "
                        f"not the record's {rec['id'][:19]}")
        config = rec.get("config")
        if config is not None and rec.get("layer_sizes") is not None \
                and len(rec["layer_sizes"]) != len(config["rootfs"]["diff_ids"]):
            raise error(f"{where}: records.images[{i}].layer_sizes: {len(rec['layer_sizes'])} sizes for "
                        f"{len(config['rootfs']['diff_ids'])} layers")
        if inspect is None and config is None and kind != "engine":
            raise error(f"{where}: records.images[{i}]: neither an engine answer nor an image config")
    return records
