"""The fuzz corpus: hostile inputs for every command, each with the outcome it must have.

``cases()`` returns the corpus (deterministic: same names, same inputs every run). Each case names
its input (a file or tree it writes into its own directory, a hostile server it talks to), the
imgviz command or Python call that reads it, and what must happen:

``error``    exit 1 with one ``imgviz: error: ...`` line naming the thing (``names``; ``a|b`` means
             either), no traceback
``usage``    exit 2 (a bad argument or setting), no traceback
``ok``       exit 0 (valid input that merely looks odd), output checked where it matters
``partial``  exit 1, and what was collected is kept (``present``) without touching ``protect``

and, for every case: within ``seconds`` (else it hung), files in ``protect`` byte for byte
unchanged (else data was lost), files in ``absent`` never created, peak memory under ``max_rss_mb``
when given.

    python -m tests.fuzz.generate OUTDIR     write every file-based input to OUTDIR/<case>/ and
                                             OUTDIR/corpus.json (names, commands, expected outcomes)

tests/fuzz/test_corpus.py runs the corpus (CI runs it with the rest of the suite).
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import os
import socket
import stat
import subprocess
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ._servers import FLEET, Image, bomb_gzip, sha256, tar_of

#: limits the hostile-server cases run with, so a case that must stop on time stops in seconds
#: (the deadline counts from the command's start, imports included: on a loaded CI machine they take
#: seconds, so these are short but not razor-thin)
FAST = {"IMGVIZ_REQUEST_TIMEOUT": "4", "IMGVIZ_DEADLINE": "15", "IMGVIZ_CONNECT_TIMEOUT": "5",
        "IMGVIZ_RETRIES": "2", "IMGVIZ_RETRY_DELAY_MAX": "0.2"}


@dataclass
class Case:
    name: str
    group: str
    expect: str
    argv: list[str] | None = None
    python: str | None = None
    setup: Callable[[Path], None] | None = None
    names: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    seconds: float = 45.0
    protect: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    present: tuple[str, ...] = ()
    stdout_has: tuple[str, ...] = ()
    output_lacks: tuple[str, ...] = ()
    max_rss_mb: float | None = None
    inspect_file: str | None = None  # a file written that must lack ``output_lacks`` too (gunzipped if .gz)
    server: str | None = None  # "registry", "engine:MODE", "engine-tcp:MODE", "real-engine-cutoff"
    depends_on: str | None = None  # work of another engineer this case waits for (documented)

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "setup" and v not in (None, (), {}, [])}


# ------------------------------------------------------------------------------- building blocks

def fleet() -> dict:
    with gzip.open(FLEET) as fh:
        return json.load(fh)


def write_snapshot(path: Path, data, *, raw: bytes | None = None) -> None:
    body = raw if raw is not None else json.dumps(data).encode()
    path.write_bytes(gzip.compress(body, mtime=0))


def _mutate(path: tuple, value):
    """A function setting ``doc[path...] = value`` on a copy of the fleet snapshot ("DEL" deletes)."""
    def make(doc):
        obj = doc
        for key in path[:-1]:
            obj = obj[key]
        if value == "DEL":
            del obj[path[-1]]
        else:
            obj[path[-1]] = copy.deepcopy(value)
        return doc
    return make


NAN = float("nan")
BIG = 10**400

#: (case name, path in the snapshot document, value, a word the error must contain)
SNAPSHOT_MUTATIONS = [
    ("format-version-string", ("format_version",), "1", "format_version"),
    ("format-version-future", ("format_version",), 99, "newer"),
    ("format-version-float", ("format_version",), 1.5, "format_version"),
    ("format-version-bool", ("format_version",), True, "format_version"),
    ("format-version-list", ("format_version",), [1], "format_version"),
    ("format-missing", ("format",), "DEL", "not an imgviz snapshot"),
    ("source-string", ("source",), "engine", "source"),
    ("source-list", ("source",), ["engine"], "source"),
    ("source-kind-unknown", ("source", "kind"), "ftp", "kind"),
    ("source-kind-number", ("source", "kind"), 5, "kind"),
    ("source-host-list", ("source", "host"), ["a"], "host"),
    ("records-string", ("records",), "everything", "records"),
    ("records-list", ("records",), [], "records"),
    ("images-string", ("records", "images"), "all", "images"),
    ("images-dict", ("records", "images"), {"a": 1}, "images"),
    ("images-numbers", ("records", "images"), [1, 2], "images[0]"),
    ("images-null-item", ("records", "images", 0), None, "images[0]"),
    ("image-no-id", ("records", "images", 0, "id"), "DEL", "id"),
    ("image-id-short", ("records", "images", 0, "id"), "sha256:abc", "digest"),
    ("image-id-number", ("records", "images", 0, "id"), 5, "id"),
    ("image-id-traversal", ("records", "images", 0, "id"), "sha256:../../../etc/passwd", "digest"),
    ("inspect-string", ("records", "images", 0, "inspect"), "an image", "inspect"),
    ("inspect-list", ("records", "images", 0, "inspect"), [], "inspect"),
    ("inspect-other-id", ("records", "images", 0, "inspect", "Id"), "sha256:" + "9" * 64, "inspect.Id"),
    ("inspect-config-string", ("records", "images", 0, "inspect", "Config"), "x", "Config"),
    ("env-string", ("records", "images", 0, "inspect", "Config", "Env"), "PATH=/bin", "Env"),
    ("env-numbers", ("records", "images", 0, "inspect", "Config", "Env"), [1, 2], "Env[0]"),
    ("env-null-item", ("records", "images", 0, "inspect", "Config", "Env"), [None], "Env[0]"),
    ("env-dict", ("records", "images", 0, "inspect", "Config", "Env"), {"PATH": "/bin"}, "Env"),
    ("cmd-string", ("records", "images", 0, "inspect", "Config", "Cmd"), "sh -c x", "Cmd"),
    ("entrypoint-number", ("records", "images", 0, "inspect", "Config", "Entrypoint"), 7, "Entrypoint"),
    ("labels-list", ("records", "images", 0, "inspect", "Config", "Labels"), ["a=b"], "Labels"),
    ("labels-number-value", ("records", "images", 0, "inspect", "Config", "Labels"), {"a": 1}, "Labels.a"),
    ("labels-nested", ("records", "images", 0, "inspect", "Config", "Labels"), {"a": {"b": "c"}}, "Labels.a"),
    ("workdir-list", ("records", "images", 0, "inspect", "Config", "WorkingDir"), ["/"], "WorkingDir"),
    ("ports-list", ("records", "images", 0, "inspect", "Config", "ExposedPorts"), ["80/tcp"], "ExposedPorts"),
    ("rootfs-string", ("records", "images", 0, "inspect", "RootFS"), "layers", "RootFS"),
    ("layers-string", ("records", "images", 0, "inspect", "RootFS", "Layers"), "sha256:x", "Layers"),
    ("layers-numbers", ("records", "images", 0, "inspect", "RootFS", "Layers"), [5], "Layers[0]"),
    ("layers-not-digest", ("records", "images", 0, "inspect", "RootFS", "Layers"), ["layer-1"], "Layers[0]"),
    ("inspect-size-negative", ("records", "images", 0, "inspect", "Size"), -5, "Size"),
    ("inspect-size-nan", ("records", "images", 0, "inspect", "Size"), NAN, "NaN"),
    ("inspect-size-huge", ("records", "images", 0, "inspect", "Size"), BIG, "Size"),
    ("inspect-size-2e63", ("records", "images", 0, "inspect", "Size"), 2**63, "Size"),
    ("inspect-size-float", ("records", "images", 0, "inspect", "Size"), 1e308, "Size"),
    ("inspect-size-string", ("records", "images", 0, "inspect", "Size"), "12MB", "Size"),
    ("inspect-size-bool", ("records", "images", 0, "inspect", "Size"), True, "Size"),
    ("inspect-created-list", ("records", "images", 0, "inspect", "Created"), [], "Created"),
    ("inspect-created-huge", ("records", "images", 0, "inspect", "Created"), 1e300, "Created"),
    ("inspect-os-number", ("records", "images", 0, "inspect", "Os"), 5, "Os"),
    ("inspect-repotags-string", ("records", "images", 0, "inspect", "RepoTags"), "iv/app:v1", "RepoTags"),
    ("history-string", ("records", "images", 0, "history"), "built", "history"),
    ("history-dict", ("records", "images", 0, "history"), {"a": 1}, "history"),
    ("history-numbers", ("records", "images", 0, "history"), [1], "history[0]"),
    ("history-size-negative", ("records", "images", 0, "history", 0, "Size"), -1, "Size"),
    ("history-size-nan", ("records", "images", 0, "history", 0, "Size"), NAN, "NaN"),
    ("history-size-huge", ("records", "images", 0, "history", 0, "Size"), BIG, "Size"),
    ("history-size-string", ("records", "images", 0, "history", 0, "Size"), "1kB", "Size"),
    ("history-createdby-list", ("records", "images", 0, "history", 0, "CreatedBy"), ["RUN"], "CreatedBy"),
    ("history-created-long", ("records", "images", 0, "history", 0, "Created"), "x" * 200, "Created"),
    ("image-list-string", ("records", "image_list"), "none", "image_list"),
    ("image-list-dict", ("records", "image_list"), {}, "image_list"),
    ("image-list-numbers", ("records", "image_list"), [5], "image_list[0]"),
    ("image-list-id-number", ("records", "image_list", 0, "Id"), 5, "Id"),
    ("image-list-size-negative", ("records", "image_list", 0, "Size"), -5, "Size"),
    ("image-list-size-nan", ("records", "image_list", 0, "Size"), NAN, "NaN"),
    ("image-list-size-huge", ("records", "image_list", 0, "Size"), BIG, "Size"),
    ("image-list-size-2e63", ("records", "image_list", 0, "Size"), 2**63, "Size"),
    ("image-list-shared-minus-two", ("records", "image_list", 0, "SharedSize"), -2, "SharedSize"),
    ("image-list-containers-string", ("records", "image_list", 0, "Containers"), "2", "Containers"),
    ("image-list-repotags-string", ("records", "image_list", 0, "RepoTags"), "x:1", "RepoTags"),
    ("container-list-string", ("records", "container_list"), "none", "container_list"),
    ("container-id-traversal", ("records", "container_list", 0, "Id"), "../../x", "Id"),
    ("container-sizerw-negative", ("records", "container_list", 0, "SizeRw"), -9, "SizeRw"),
    ("container-names-string", ("records", "container_list", 0, "Names"), "/web", "Names"),
    ("containers-string", ("records", "containers"), "x", "containers"),
    ("container-record-id-number", ("records", "containers", 0, "id"), 5, "id"),
    ("container-inspect-list", ("records", "containers", 0, "inspect"), [1], "inspect"),
    ("df-string", ("records", "df"), "full", "df"),
    ("df-layers-negative", ("records", "df", "LayersSize"), -7, "LayersSize"),
    ("df-layers-nan", ("records", "df", "LayersSize"), NAN, "NaN"),
    ("df-images-string", ("records", "df", "Images"), "all", "Images"),
    ("df-image-id-number", ("records", "df", "Images", 0, "Id"), 5, "Id"),
    ("skipped-string", ("records", "skipped"), "none", "skipped"),
    ("skipped-numbers", ("records", "skipped"), [5], "skipped[0]"),
    ("complete-string", ("records", "complete"), "yes", "complete"),
    ("complete-number", ("records", "complete"), 1, "complete"),
    ("version-string", ("records", "version"), "20.10", "version"),
    ("version-list", ("records", "version"), [], "version"),
    ("version-missing", ("records", "version"), None, "version"),
    ("image-list-missing", ("records", "image_list"), None, "image_list"),
]

#: commands the snapshot cases rotate through (every command that reads a snapshot)
SNAPSHOT_COMMANDS = (["images"], ["summary"], ["sizes", "--json"], ["history", "iv/app:v1"], ["images", "--json"],
                     ["sizes"], ["history", "iv/app:v1", "--json"])


def _snapshot_cases() -> list[Case]:
    out = []
    for i, (name, path, value, word) in enumerate(SNAPSHOT_MUTATIONS):
        def setup(d: Path, path=path, value=value):
            write_snapshot(d / "s.json.gz", _mutate(path, value)(fleet()))
        cmd = SNAPSHOT_COMMANDS[i % len(SNAPSHOT_COMMANDS)]
        out.append(Case(f"snapshot/{name}", "snapshot", "error", [*cmd, "--snapshot", "{D}/s.json.gz"], setup=setup,
                        names=("s.json.gz", word)))

    def raw(name, body: bytes, word: str, *, gz: bool = True, expect: str = "error", suffix: str = ".json.gz",
            env=None, max_rss=None):
        def setup(d: Path):
            (d / f"s{suffix}").write_bytes(gzip.compress(body, mtime=0) if gz else body)
        out.append(Case(f"snapshot/{name}", "snapshot", expect, ["summary", "--snapshot", "{D}/s" + suffix],
                        setup=setup, names=(f"s{suffix}", word), env=env or {}, max_rss_mb=max_rss))

    raw("empty-file", b"", "not a readable snapshot", gz=False)
    raw("empty-gzip", b"", "not a readable snapshot")
    raw("not-json", b"hello, world", "not a readable snapshot")
    raw("json-string", b'"1"', "not an imgviz snapshot")
    raw("json-null", b"null", "not an imgviz snapshot")
    raw("json-list", b"[]", "not an imgviz snapshot")
    raw("json-number-huge", b"1" + b"0" * 5000, "not a readable snapshot")
    raw("json-nan-top", b"NaN", "not a readable snapshot")
    raw("json-deep-list", b"[" * 200000 + b"]" * 200000, "nested too deep")
    raw("json-deep-records", b'{"format":"imgviz-snapshot","format_version":1,"source":{"kind":"engine"},"records":'
        + b"{\"a\":" * 100000 + b"1" + b"}" * 100000 + b"}", "nested too deep")
    raw("invalid-utf8", b'{"format": "imgviz-snapshot\xff\xfe"}', "not a readable snapshot")
    raw("bom-prefixed-is-valid", b"\xef\xbb\xbf" + json.dumps(fleet()).encode(), "", expect="ok")
    raw("plain-json-over-limit", json.dumps(fleet()).encode(), "max_snapshot_bytes", gz=False, suffix=".json",
        env={"IMGVIZ_MAX_SNAPSHOT_BYTES": "10000"})

    def truncated(d: Path):
        data = gzip.compress(json.dumps(fleet()).encode())
        (d / "s.json.gz").write_bytes(data[: len(data) // 2])
    out.append(Case("snapshot/truncated-gzip", "snapshot", "error", ["summary", "--snapshot", "{D}/s.json.gz"],
                    setup=truncated, names=("s.json.gz", "truncated")))

    def broken_gzip(d: Path):
        data = bytearray(gzip.compress(json.dumps(fleet()).encode()))
        data[40:60] = b"\xff" * 20
        (d / "s.json.gz").write_bytes(bytes(data))
    out.append(Case("snapshot/corrupt-gzip", "snapshot", "error", ["summary", "--snapshot", "{D}/s.json.gz"],
                    setup=broken_gzip, names=("s.json.gz",)))

    def bomb(d: Path):
        # 1.5 GiB of spaces in a ~1.5 MB gzip: more than max_snapshot_bytes (256 MiB) once unpacked
        z = zlib.compressobj(6, zlib.DEFLATED, 31)
        block = b" " * (1 << 20)
        with open(d / "s.json.gz", "wb") as fh:
            fh.write(z.compress(b"{"))
            for _ in range(1536):
                fh.write(z.compress(block))
            fh.write(z.compress(b"}") + z.flush())
    out.append(Case("snapshot/gzip-bomb", "snapshot", "error", ["summary", "--snapshot", "{D}/s.json.gz"],
                    setup=bomb, names=("s.json.gz", "max_snapshot_bytes"), max_rss_mb=400, seconds=60))

    def fifo(d: Path):
        os.mkfifo(d / "s.json.gz")
    out.append(Case("snapshot/fifo", "snapshot", "error", ["summary", "--snapshot", "{D}/s.json.gz"], setup=fifo,
                    names=("s.json.gz", "FIFO"), seconds=20))
    out.append(Case("snapshot/dev-zero", "snapshot", "error", ["images", "--snapshot", "/dev/zero"],
                    names=("/dev/zero", "character device"), seconds=20))
    out.append(Case("snapshot/dev-null", "snapshot", "error", ["images", "--snapshot", "/dev/null"],
                    names=("/dev/null",), seconds=20))
    out.append(Case("snapshot/directory", "snapshot", "error", ["images", "--snapshot", "{D}"], names=("directory",)))
    out.append(Case("snapshot/missing", "snapshot", "error", ["images", "--snapshot", "{D}/nope.json.gz"],
                    names=("nope.json.gz", "cannot read")))

    # valid input that looks odd: must work, and print nothing that drives a terminal
    def weird_names(d: Path):
        doc = fleet()
        im = doc["records"]["image_list"][0]
        evil = "iv/evil\x1b]0;owned\x07\x1b[2J:1"
        im["RepoTags"] = [evil, "iv/rtl\u202egnp.exe:2"]
        doc["records"]["images"][0]["inspect"]["RepoTags"] = list(im["RepoTags"])
        for h in doc["records"]["images"][0]["history"]:
            h["CreatedBy"] = "/bin/sh -c echo \x1b[31mred\x1b[0m \u202eevil\r\nnext line"
        write_snapshot(d / "s.json.gz", doc)
    for cmd in (["images"], ["summary"], ["sizes"]):
        out.append(Case(f"snapshot/control-chars-{cmd[0]}", "terminal", "ok", [*cmd, "--snapshot", "{D}/s.json.gz"],
                        setup=weird_names, output_lacks=("\x1b", "\u202e", "\x07", "\r"),
                        stdout_has=("\\x1b",) if cmd[0] == "sizes" else ("\\x1b", "\\u202e")))
    out.append(Case("snapshot/control-chars-history", "terminal", "ok",
                    ["history", "--snapshot", "{D}/s.json.gz", "--no-trunc", "{IMAGE0}"],
                    setup=weird_names, output_lacks=("\x1b", "\u202e", "\r"), stdout_has=("\\x1b[31mred",)))

    def empty_engine(d: Path):
        doc = fleet()
        r = doc["records"]
        r["image_list"], r["images"], r["container_list"], r["containers"] = [], [], [], []
        r["df"] = {"LayersSize": 0, "Images": [], "Containers": [], "Volumes": [], "BuildCache": []}
        write_snapshot(d / "s.json.gz", doc)
    for cmd in (["images"], ["summary"], ["sizes", "--json"]):
        out.append(Case(f"snapshot/empty-engine-{cmd[0]}", "snapshot", "ok", [*cmd, "--snapshot", "{D}/s.json.gz"],
                        setup=empty_engine))

    def minus_one(d: Path):
        doc = fleet()
        for im in doc["records"]["image_list"]:
            im["SharedSize"], im["Containers"] = -1, -1
        write_snapshot(d / "s.json.gz", doc)
    out.append(Case("snapshot/engine-minus-one-is-valid", "snapshot", "ok", ["sizes", "--snapshot", "{D}/s.json.gz"],
                    setup=minus_one))
    return out


# ------------------------------------------------------------------------------------- archives

def _add(tar: tarfile.TarFile, name: str, data: bytes, **kw) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), 0
    for k, v in kw.items():
        setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data) if info.isreg() else None)


def oci_layout(files: dict[str, bytes] | None = None, *, index=None, manifest=None, config=None,
               layer: bytes | None = None, extra: dict[str, bytes] | None = None, tags=("iv/app:1",)) -> dict[str, bytes]:
    """The files of an OCI image layout of one small image, each part replaceable."""
    img = Image(files)
    layer = img.layer if layer is None else layer
    cfg = img.config if config is None else config
    man = Image.manifest_for(cfg, [layer]) if manifest is None else manifest
    idx = index if index is not None else json.dumps({
        "schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                          "digest": sha256(man), "size": len(man),
                                          "annotations": {"org.opencontainers.image.ref.name": t}} for t in tags]}).encode()
    out = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": idx}
    for blob in (cfg, man, layer):
        out[f"blobs/sha256/{sha256(blob)[7:]}"] = blob
    out.update(extra or {})
    return out


def legacy_save(*, manifest=None, config=None, layer_tar: bytes | None = None) -> dict[str, bytes]:
    """The files of a legacy ``docker save`` of one small image."""
    img = Image()
    tar = img.tar if layer_tar is None else layer_tar
    cfg = img.config if config is None else config
    cfg_name = f"{sha256(cfg)[7:]}.json"
    man = manifest if manifest is not None else json.dumps(
        [{"Config": cfg_name, "RepoTags": ["iv/app:1"], "Layers": ["l1/layer.tar"]}]).encode()
    return {"manifest.json": man, cfg_name: cfg, "l1/layer.tar": tar}


def write_tar(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            _add(tar, name, data)


def write_dir(path: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        p = path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def _config_with(**changes) -> bytes:
    cfg = json.loads(Image().config)
    for dotted, value in changes.items():
        obj = cfg
        keys = dotted.split("__")
        for k in keys[:-1]:
            obj = obj[k]
        if value == "DEL":
            del obj[keys[-1]]
        else:
            obj[keys[-1]] = value
    return json.dumps(cfg).encode()


def _archive_cases() -> list[Case]:
    out = []
    good = Image()

    def add(name, files: Callable[[], dict[str, bytes]] | None, expect, words, *, as_dir=False, argv=None,
            setup=None, **kw):
        target = "{D}/a" if as_dir else "{D}/a.tar"

        def make(d: Path):
            if setup is not None:
                setup(d)
                return
            if as_dir:
                write_dir(d / "a", files())
            else:
                write_tar(d / "a.tar", files())
        out.append(Case(f"archive/{name}", "archive", expect, argv or ["images", "--archive", target], setup=make,
                        names=tuple(words), **kw))

    add("valid-oci", oci_layout, "ok", ())
    add("valid-legacy", legacy_save, "ok", ())
    add("valid-oci-dir", oci_layout, "ok", (), as_dir=True)

    def raw(name, data: bytes, words):
        def make(d: Path):
            (d / "a.tar").write_bytes(data)
        out.append(Case(f"archive/{name}", "archive", "error", ["images", "--archive", "{D}/a.tar"], setup=make,
                        names=tuple(words)))
    raw("empty-file", b"", ("a.tar",))
    raw("random-bytes", bytes(range(256)) * 40, ("a.tar", "not a readable tar"))
    raw("gzip-garbage", b"\x1f\x8b\x08\x00" + b"\xff" * 200, ("a.tar", "not a readable tar"))
    raw("xz-garbage", b"\xfd7zXZ\x00" + b"\x00" * 200, ("a.tar",))
    raw("bzip2-garbage", b"BZh9" + b"\x00" * 200, ("a.tar",))

    def truncated(d: Path):
        write_tar(d / "full.tar", oci_layout())
        data = (d / "full.tar").read_bytes()
        (d / "a.tar").write_bytes(data[: len(data) // 2])
    add("truncated", None, "error", ("a.tar", "truncated"), setup=truncated)

    def fifo(d: Path):
        os.mkfifo(d / "a.tar")
    add("fifo", None, "error", ("a.tar", "FIFO"), setup=fifo, seconds=20)
    out.append(Case("archive/dev-zero", "archive", "error", ["images", "--archive", "/dev/zero"],
                    names=("/dev/zero", "character device"), seconds=20))

    def unix_socket(d: Path):
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(d / "a.tar"))
        s.close()
    add("socket-file", None, "error", ("a.tar", "socket"), setup=unix_socket, seconds=20)
    add("empty-dir", None, "error", ("neither a docker save",), as_dir=True, setup=lambda d: (d / "a").mkdir())
    out.append(Case("archive/missing", "archive", "error", ["images", "--archive", "{D}/nope.tar"],
                    names=("nope.tar", "no such file")))

    # docker save (legacy): manifest.json and configs of every wrong shape
    for name, manifest, words in [
        ("legacy-manifest-dict", b"{}", ("manifest.json",)),
        ("legacy-manifest-string", b'"x"', ("manifest.json",)),
        ("legacy-manifest-numbers", b"[5]", ("manifest.json entry 0",)),
        ("legacy-config-number", b'[{"Config": 5, "Layers": []}]', ("manifest.json entry 0",)),
        ("legacy-layers-dict", b'[{"Config": "c.json", "Layers": {}}]', ("manifest.json entry 0",)),
        ("legacy-layers-numbers", b'[{"Config": "c.json", "Layers": [5]}]', ("manifest.json[0].Layers[0]",)),
        ("legacy-repotags-string", b'[{"Config": "c.json", "Layers": [], "RepoTags": "x"}]', ("RepoTags",)),
        ("legacy-config-traversal", b'[{"Config": "../../etc/passwd", "Layers": []}]', ("escapes the archive",)),
        ("legacy-config-absolute", b'[{"Config": "/etc/passwd", "Layers": []}]', ("absolute path",)),
        ("legacy-manifest-nan", b'[{"Config": NaN, "Layers": []}]', ("not valid JSON",)),
        ("legacy-manifest-deep", b"[" * 100000 + b"]" * 100000, ("nests too deep",)),
    ]:
        add(name, lambda m=manifest: legacy_save(manifest=m), "error", ("a.tar", *words))
    for name, changes, words in [
        ("legacy-config-env-string", {"config__Env": "PATH=/bin"}, ("Env",)),
        ("legacy-config-labels-list", {"config__Labels": ["a"]}, ("Labels",)),
        ("legacy-config-rootfs-missing", {"rootfs": "DEL"}, ("rootfs",)),
        ("legacy-config-rootfs-string", {"rootfs": "layers"}, ("rootfs",)),
        ("legacy-config-diffids-string", {"rootfs__diff_ids": "sha256:x"}, ("diff_ids",)),
        ("legacy-config-diffids-numbers", {"rootfs__diff_ids": [5]}, ("diff_ids[0]",)),
        ("legacy-config-history-string", {"history": "built"}, ("history",)),
        ("legacy-config-history-numbers", {"history": [1]}, ("history[0]",)),
        ("legacy-config-created-list", {"created": []}, ("created",)),
        ("legacy-config-cmd-string", {"config__Cmd": "sh"}, ("Cmd",)),
        ("legacy-config-emptylayer-string", {"history": [{"empty_layer": "yes"}]}, ("empty_layer",)),
    ]:
        add(name, lambda c=changes: legacy_save(config=_config_with(**c)), "error", ("a.tar", *words))

    def legacy_config_mismatch():
        files = legacy_save()
        cfg_name = next(n for n in files if n.endswith(".json") and n != "manifest.json")
        files[cfg_name] = files[cfg_name].replace(b"amd64", b"arm64")
        return files
    add("legacy-config-digest-mismatch", legacy_config_mismatch, "error", ("a.tar", "digest mismatch"))

    def legacy_config_missing():
        files = legacy_save()
        return {k: v for k, v in files.items() if not (k.endswith(".json") and k != "manifest.json")}
    add("legacy-config-missing", legacy_config_missing, "error", ("a.tar", "missing"))
    add("legacy-manifest-over-limit", legacy_save, "error", ("a.tar", "more than the"),
        env={"IMGVIZ_MAX_JSON_BYTES": "50"})

    # OCI layouts
    for name, index, words in [
        ("oci-index-list", b"[]", ("index.json",)),
        ("oci-index-manifests-string", b'{"manifests": "x"}', ("index.json",)),
        ("oci-index-manifests-numbers", b'{"manifests": [5]}', ("index.json",)),
        ("oci-index-digest-bad", b'{"manifests": [{"digest": "sha256:../../x", "size": 1}]}', ("digest",)),
        ("oci-index-size-negative", b'{"manifests": [{"digest": "sha256:' + b"a" * 64 + b'", "size": -5}]}', ("size",)),
        ("oci-index-size-nan", b'{"manifests": [{"digest": "sha256:' + b"a" * 64 + b'", "size": NaN}]}', ("not valid JSON",)),
        ("oci-index-size-huge", b'{"manifests": [{"digest": "sha256:' + b"a" * 64 + b'", "size": 1' + b"0" * 400 + b'}]}', ("size",)),
        ("oci-index-platform-string", b'{"manifests": [{"digest": "sha256:' + b"a" * 64 + b'", "size": 1, "platform": "linux"}]}', ("platform",)),
        ("oci-index-annotations-list", b'{"manifests": [{"digest": "sha256:' + b"a" * 64 + b'", "size": 1, "annotations": []}]}', ("annotations",)),
        ("oci-index-blob-missing", b'{"manifests": [{"digest": "sha256:' + b"a" * 64 + b'", "size": 1}]}', ("missing",)),
    ]:
        add(name, lambda i=index: oci_layout(index=i), "error", ("a.tar", *words))
    add("oci-layout-garbage", lambda: {**oci_layout(), "oci-layout": b"[1]"}, "error", ("a.tar", "oci-layout"))

    def with_manifest(body: dict) -> Callable[[], dict]:
        def files():
            man = json.dumps(body).encode()
            return oci_layout(manifest=man, extra={f"blobs/sha256/{sha256(man)[7:]}": man})
        return files
    base_man = json.loads(Image.manifest_for(good.config, [good.layer]))
    for name, change, words in [
        ("oci-manifest-config-string", {"config": "sha256:x"}, ("config",)),
        ("oci-manifest-layers-dict", {"layers": {"a": 1}}, ("layers",)),
        ("oci-manifest-layer-size-negative", {"layers": [dict(base_man["layers"][0], size=-1)]}, ("size",)),
        ("oci-manifest-layer-size-string", {"layers": [dict(base_man["layers"][0], size="9")]}, ("size",)),
        ("oci-manifest-layer-digest-bad", {"layers": [dict(base_man["layers"][0], digest="md5:x")]}, ("digest",)),
        ("oci-manifest-mediatype-number", {"layers": [dict(base_man["layers"][0], mediaType=5)]}, ("mediaType",)),
    ]:
        add(name, with_manifest({**base_man, **change}), "error", ("a.tar", *words))

    def nested_index():
        inner = Image.manifest_for(good.config, [good.layer])
        nested = json.dumps({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + "b" * 64, "size": 5,
             "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
        idx = json.dumps({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha256(nested), "size": len(nested)}]}).encode()
        return oci_layout(index=idx, extra={f"blobs/sha256/{sha256(nested)[7:]}": nested,
                                            f"blobs/sha256/{sha256(inner)[7:]}": inner})
    add("oci-nested-index", nested_index, "error", ("a.tar", "nested index"))

    for name, changes, words in [
        ("oci-config-env-string", {"config__Env": "PATH=/bin"}, ("Env",)),
        ("oci-config-diffids-count", {"rootfs__diff_ids": []}, ("diff IDs",)),
        ("oci-config-labels-number", {"config__Labels": {"a": 5}}, ("Labels.a",)),
        ("oci-config-history-string", {"history": "x"}, ("history",)),
    ]:
        add(name, lambda c=changes: oci_layout(config=_config_with(**c)), "error", ("a.tar", *words))

    def config_mismatch():
        files = oci_layout()
        key = f"blobs/sha256/{sha256(good.config)[7:]}"
        files[key] = good.config.replace(b"amd64", b"arm64")
        return files
    add("oci-config-digest-mismatch", config_mismatch, "error", ("a.tar", "digest mismatch"))

    def traversal_member(d: Path):
        with tarfile.open(d / "a.tar", "w") as tar:
            for name, data in oci_layout().items():
                _add(tar, name, data)
            _add(tar, "../../evil", b"x")
    add("member-traversal", None, "error", ("a.tar", "escapes"), setup=traversal_member)

    def symlink_escape(d: Path):
        files = oci_layout()
        with tarfile.open(d / "a.tar", "w") as tar:
            for name, data in files.items():
                if name == "index.json":
                    _add(tar, name, b"", type=tarfile.SYMTYPE, linkname="../../../etc/passwd")
                else:
                    _add(tar, name, data)
    add("symlink-escape", None, "error", ("a.tar", "outside"), setup=symlink_escape)

    def hardlink_loop(d: Path):
        files = oci_layout()
        with tarfile.open(d / "a.tar", "w") as tar:
            for name, data in files.items():
                if name != "index.json":
                    _add(tar, name, data)
            _add(tar, "index.json", b"", type=tarfile.SYMTYPE, linkname="loop")
            _add(tar, "loop", b"", type=tarfile.SYMTYPE, linkname="index.json")
    add("symlink-loop", None, "error", ("a.tar", "links"), setup=hardlink_loop)

    def dir_symlink_loop(d: Path):
        write_dir(d / "a", oci_layout())
        (d / "a" / "index.json").unlink()
        os.symlink("index.json", d / "a" / "index.json")
    add("dir-symlink-loop", None, "error", ("a",), as_dir=True, setup=dir_symlink_loop)

    def dir_fifo_blob(d: Path):
        files = oci_layout()
        write_dir(d / "a", files)
        blob = d / "a" / f"blobs/sha256/{sha256(good.config)[7:]}"
        blob.unlink()
        os.mkfifo(blob)
    add("dir-fifo-config-blob", None, "error", ("a",), as_dir=True, setup=dir_fifo_blob, seconds=20)

    def dir_symlink_out(d: Path):
        write_dir(d / "a", oci_layout())
        (d / "a" / "index.json").unlink()
        os.symlink("/etc/passwd", d / "a" / "index.json")
    add("dir-symlink-outside", None, "error", ("a",), as_dir=True, setup=dir_symlink_out)

    def big_config_claim(d: Path):
        # the descriptor says 1.5 GB: refused before a byte of it is read (a sparse file, no disk used)
        files = oci_layout()
        man = json.loads(Image.manifest_for(good.config, [good.layer]))
        man["config"]["size"] = 1_500_000_000
        body = json.dumps(man).encode()
        idx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                             "digest": sha256(body), "size": len(body)}]}).encode()
        files.update({"index.json": idx, f"blobs/sha256/{sha256(body)[7:]}": body})
        write_dir(d / "a", files)
        with open(d / "a" / f"blobs/sha256/{sha256(good.config)[7:]}", "r+b") as fh:
            fh.truncate(1_500_000_000)
    add("big-config-claimed", None, "error", ("a", "1500000000"), as_dir=True, setup=big_config_claim,
        max_rss_mb=250)

    def big_config_lying(d: Path):
        # the descriptor says a few hundred bytes; the file holds 1.5 GB (sparse): refused by its size
        files = oci_layout()
        write_dir(d / "a", files)
        with open(d / "a" / f"blobs/sha256/{sha256(good.config)[7:]}", "r+b") as fh:
            fh.truncate(1_500_000_000)
    add("big-config-on-disk", None, "error", ("a", "more than the"), as_dir=True, setup=big_config_lying,
        max_rss_mb=250)

    # layers, read on request (the Python API's read_layers=True)
    def layer_case(name, layer_bytes: Callable[[], bytes], words, *, manifest_size=None, diff_id=None,
                   media_type=None, max_rss=None, seconds=60.0, cli=("waste", "files"), cli_words=None):
        def make(d: Path):
            layer = layer_bytes()
            cfg = _config_with(rootfs__diff_ids=[diff_id or sha256(good.tar)])
            man = json.loads(Image.manifest_for(cfg, [layer]))
            if manifest_size is not None:
                man["layers"][0]["size"] = manifest_size
            if media_type is not None:
                man["layers"][0]["mediaType"] = media_type
            body = json.dumps(man).encode()
            files = oci_layout(config=cfg, layer=layer, manifest=body,
                               extra={f"blobs/sha256/{sha256(body)[7:]}": body})
            write_dir(d / "a", files)
        code = ("from imgviz.sources import archive\n"
                "snap = archive.collect('{D}/a', read_layers=True)\n"
                "print(snap.images[0]['layer_sizes'])\n")
        out.append(Case(f"archive/{name}", "layers", "error", python=code, setup=make, names=tuple(words),
                        max_rss_mb=max_rss, seconds=seconds))
        # the commands that stream every layer (waste, files) meet the same layer through the CLI
        for command in cli:
            out.append(Case(f"archive/{name}-{command}", "layers", "error", [command, "--archive", "{D}/a"],
                            setup=make, names=tuple(cli_words or words), max_rss_mb=max_rss, seconds=seconds))

    layer_case("layer-gzip-bomb", lambda: bomb_gzip(2 << 30), ("max_unpack_ratio",), max_rss=250,
               diff_id="sha256:" + "2" * 64)
    layer_case("layer-bigger-than-manifest", lambda: good.layer, ("bytes, the manifest says",), manifest_size=10)
    layer_case("layer-uncompressed-type-gzip-bomb", lambda: bomb_gzip(1 << 30), ("bytes its record claims",),
               media_type="application/vnd.oci.image.layer.v1.tar", max_rss=250, diff_id="sha256:" + "2" * 64,
               cli_words=("max_unpack_ratio",))  # the files reader knows gzip by its bytes, whatever the type says
    layer_case("layer-truncated-gzip", lambda: good.layer[: len(good.layer) // 2], ("a.tar" if False else "a",))
    layer_case("layer-zstd", lambda: b"\x28\xb5\x2f\xfd" + b"\x00" * 100, ("zstd",))
    layer_case("layer-not-a-tar", lambda: gzip.compress(b"hello, not a tar" * 100), ("not a readable tar",))
    layer_case("layer-diffid-mismatch", lambda: gzip.compress(tar_of({"other": b"x"}), mtime=0), ("unpacks to",))

    def huge_header():
        raw = bytearray(tar_of({"f": b"x"}))
        raw[124:136] = b"\x80" + b"\xff" * 11  # a base-256 size field of ~2**88 bytes
        return gzip.compress(bytes(raw))
    layer_case("layer-huge-size-field", huge_header, ("a",))
    return out


# ------------------------------------------------------------------------------------- registry

REGISTRY_ERRORS = [
    # mode, words the error names
    ("garbage", ("garbage/app:1", "cannot reach")),
    ("manifestnotjson", ("manifestnotjson/app:1", "not valid JSON")),
    ("manifestlist", ("manifestlist/app:1", "not a JSON object")),
    ("manifeststring", ("manifeststring/app:1", "not a JSON object")),
    ("manifestnull", ("manifestnull/app:1", "not a JSON object")),
    ("manifestnan", ("manifestnan/app:1", "not valid JSON")),
    ("manifestdeep", ("manifestdeep/app:1", "nests too deep")),
    ("manifesthuge", ("manifesthuge/app:1", "more than the")),
    ("configstring", ("configstring/app:1", "config")),
    ("layersdict", ("layersdict/app:1", "layers")),
    ("layersnull", ("layersnull/app:1", "layers")),
    ("layersizeneg", ("layersizeneg/app:1", "size")),
    ("layersizehuge", ("layersizehuge/app:1", "size")),
    ("layersize2e63", ("layersize2e63/app:1", "size")),
    ("layersizestr", ("layersizestr/app:1", "size")),
    ("layersizebool", ("layersizebool/app:1", "size")),
    ("layersizefloat", ("layersizefloat/app:1", "size")),
    ("layerdigestbad", ("layerdigestbad/app:1", "digest")),
    ("configdigestmd5", ("configdigestmd5/app:1", "digest")),
    ("mediatypenumber", ("mediatypenumber/app:1", "mediaType")),
    ("mediatypeodd", ("mediatypeodd/app:1", "media type")),
    ("schema1", ("schema1/app:1", "schema 1")),
    ("indexmanifestsstring", ("indexmanifestsstring/app:1", "manifests")),
    ("indexplatformstring", ("indexplatformstring/app:1", "platform")),
    ("indexempty", ("indexempty/app:1", "no image for")),
    ("indexentrynumber", ("indexentrynumber/app:1", "manifests[0]")),
    ("indexnested", ("indexnested/app:1", "nested index")),
    ("indexsize", ("indexsize/app:1", "size")),
    ("digestmismatch", ("digestmismatch/app:1", "digest mismatch")),
    ("digestgarbage", ("digestgarbage/app:1", "not a digest")),
    ("confignotjson", ("confignotjson/app:1", "not valid JSON")),
    ("configlist", ("configlist/app:1", "not a JSON object")),
    ("configenvstring", ("configenvstring/app:1", "Env")),
    ("configlabelslist", ("configlabelslist/app:1", "Labels")),
    ("configrootfsmissing", ("configrootfsmissing/app:1", "rootfs")),
    ("configdiffidscount", ("configdiffidscount/app:1", "diff IDs")),
    ("confighistorystring", ("confighistorystring/app:1", "history")),
    ("configdiffidsnumbers", ("configdiffidsnumbers/app:1", "diff_ids[0]")),
    ("configcreatedlist", ("configcreatedlist/app:1", "created")),
    ("configcmdstring", ("configcmdstring/app:1", "Cmd")),
    ("configdeep", ("configdeep/app:1", "nests too deep")),
    ("confighugeclaim", ("confighugeclaim/app:1", "1500000000")),
    ("configlies", ("configlies/app:1", "more than the")),
    ("config404", ("config404/app:1", "404")),
    ("configdigestmismatch", ("configdigestmismatch/app:1", "digest mismatch")),
    ("redirectloop", ("redirectloop/app:1", "redirect")),
    ("redirectchain", ("redirectchain/app:1", "redirect")),
    ("redirectftp", ("redirectftp/app:1", "not http")),
    ("status500", ("status500/app:1", "500")),
    ("status429", ("status429/app:1", "429")),
    ("authloop", ("authloop/app:1", "401")),
    ("token401", ("token401/app:1", "token service refused")),
    ("tokennotjson", ("tokennotjson/app:1", "not JSON")),
    ("tokenlist", ("tokenlist/app:1", "no token")),
    ("tokennumber", ("tokennumber/app:1", "token")),
    ("tokenctrl", ("tokenctrl/app:1", "not text")),
    ("tokenhuge", ("tokenhuge/app:1", "more than the")),
    ("realmmissing", ("realmmissing/app:1", "no realm")),
    ("realmfile", ("realmfile/app:1", "not an http")),
    ("challengegarbage", ("challengegarbage/app:1", "no usable challenge")),
    ("basicnocreds", ("basicnocreds/app:1", "needs a login")),
]

#: modes that must end at a time limit (they would otherwise hold the command for ever)
REGISTRY_SLOW = [("hang", "timed out|stopped after"), ("slowheaders", "timed out|stopped after"),
                 ("drip", "timed out|stopped after"),
                 ("status503", "503"), ("tokenendless", "token"), ("endless", "manifest"),
                 ("configendless", "config")]


def _registry_cases() -> list[Case]:
    out = []
    commands = (["images", "--registry"], ["summary", "--registry"], ["sizes", "--json", "--registry"])
    for i, (mode, words) in enumerate(REGISTRY_ERRORS):
        cmd = commands[i % len(commands)]
        out.append(Case(f"registry/{mode}", "registry", "error", [*cmd, "{REG}/" + mode + "/app:1"], names=words,
                        env=dict(FAST), server="registry", seconds=40))
    for mode, word in REGISTRY_SLOW:
        out.append(Case(f"registry/{mode}", "registry-slow", "error", ["images", "--registry", "{REG}/" + mode + "/app:1"],
                        names=(f"{mode}/app:1", word), env=dict(FAST), server="registry", seconds=40,
                        max_rss_mb=400))
    out.append(Case("registry/valid", "registry", "ok", ["images", "--registry", "{REG}/valid/app:1"],
                    env=dict(FAST), server="registry", stdout_has=("valid/app",)))
    out.append(Case("registry/valid-sizes-json", "registry", "ok", ["sizes", "--json", "--registry", "{REG}/valid/app:1"],
                    env=dict(FAST), server="registry"))
    out.append(Case("registry/valid-every-tag", "registry", "ok", ["images", "--registry", "{REG}/valid/app:*"],
                    env=dict(FAST), server="registry"))
    out.append(Case("registry/tags-link-loop-ends", "registry", "ok", ["images", "--registry", "{REG}/tagsloop/app:*"],
                    env=dict(FAST), server="registry"))
    for mode, word in [("tagsstring", "tags"), ("tagsnumbers", "tags[0]"), ("tagsbadname", "not a valid tag"),
                       ("tagslist", "not a JSON object")]:
        out.append(Case(f"registry/{mode}", "registry", "error", ["images", "--registry", "{REG}/" + mode + "/app:*"],
                        names=(mode, word), env=dict(FAST), server="registry"))
    out.append(Case("registry/tagsendless", "registry-slow", "error", ["images", "--registry", "{REG}/tagsendless/app:*"],
                    names=("tagsendless", "tag list"), env=dict(FAST), server="registry", seconds=40, max_rss_mb=400))
    # through the Python API: read_layers and check_blobs
    py = ("from imgviz.sources import registry\n"
          "registry.collect(['{REG}/MODE/app:1'], read_layers=True, check_blobs=CHECK, progress=False)\n")
    for mode, words, check, rss in [("layerbomb", ("max_unpack_ratio",), False, 250),
                                    ("layeroversize", ("more than the 10 bytes",), False, None),
                                    ("layerendless", ("layerendless",), False, 250),
                                    ("headnegative", ("headnegative",), True, None)]:
        out.append(Case(f"registry/{mode}", "layers", "error", python=py.replace("MODE", mode).replace("CHECK", str(check)),
                        names=words, env=dict(FAST, IMGVIZ_DEADLINE="60"), server="registry", seconds=60,
                        max_rss_mb=rss))
    # waste and files stream a registry image's layers: the same hostile blobs through the CLI
    for mode, command, words, rss in [("layerbomb", "waste", ("max_unpack_ratio",), 250),
                                      ("layerbomb", "files", ("max_unpack_ratio",), 250),
                                      ("layeroversize", "files", ("more than the 10 bytes",), None),
                                      ("layerendless", "waste", ("layerendless",), 250)]:
        out.append(Case(f"registry/{mode}-{command}", "layers", "error",
                        [command, "--registry", "{REG}/" + mode + "/app:1"], names=words,
                        env=dict(FAST, IMGVIZ_DEADLINE="60"), server="registry", seconds=60, max_rss_mb=rss))
    # pull-plan reads the registry's manifest and config, the local side from the demo snapshot
    for mode, words in REGISTRY_ERRORS[:8]:
        out.append(Case(f"registry/{mode}-pull-plan", "registry", "error",
                        ["pull-plan", "{REG}/" + mode + "/app:1", "--demo"], names=words, env=dict(FAST),
                        server="registry", seconds=40))
    out.append(Case("registry/valid-pull-plan", "registry", "ok", ["pull-plan", "{REG}/valid/app:1", "--demo"],
                    env=dict(FAST), server="registry", stdout_has=("download",)))
    return out


# --------------------------------------------------------------------------------------- engine

ENGINE_ERRORS = [
    ("versionlist", "/version"), ("versionstring", "/version"), ("versionnumber", "Version"),
    ("imagesdict", "/images/json"), ("imagesstring", "/images/json"), ("imagesnull", "/images/json"),
    ("imagesnotjson", "not JSON"), ("imagesnan", "NaN"), ("imageidshort", "Id"), ("imageidtraversal", "Id"),
    ("imageidnumber", "Id"), ("imagesizeneg", "Size"), ("imagesizehuge", "Size"), ("imagesize2e63", "Size"),
    ("imagesizefloat", "Size"), ("imagesizestring", "Size"), ("imagesharedneg2", "SharedSize"),
    ("imagetagsstring", "RepoTags"), ("imagetagsnumbers", "RepoTags[0]"), ("imagesduplicate", "twice"),
    ("inspectstring", "json"), ("inspectotherid", "names image"), ("inspectenvstring", "Env"),
    ("inspectenvnumbers", "Env[0]"), ("inspectlabelslist", "Labels"), ("inspectlabelsdeep", "Labels.a"),
    ("inspectcmdstring", "Cmd"), ("inspectlayersbad", "Layers[0]"), ("inspectsizenan", "NaN"),
    ("historydict", "history"), ("historysizestring", "Size"), ("historysizeneg", "Size"),
    ("historycreatedbylist", "CreatedBy"), ("containersdict", "/containers/json"),
    ("containeridtraversal", "Id"), ("containersizerwneg", "SizeRw"), ("containernamesstring", "Names"),
    ("containerinspectlist", "/containers/"), ("dflist", "/system/df"), ("dflayersneg", "LayersSize"),
    ("dfimagesstring", "Images"), ("dfimageidnumber", "Id"),
]


def _engine_cases() -> list[Case]:
    out = []
    commands = (["images", "--host"], ["summary", "--host"], ["sizes", "--json", "--host"], ["images", "--json", "--host"])
    whole = (["summary", "--host"], ["sizes", "--json", "--host"])
    for i, (mode, word) in enumerate(ENGINE_ERRORS):
        # `images` asks a live engine for its image list alone, probed with /_ping (as `docker image ls`
        # does): a fault in another answer (/version too) is met by a command that reads the whole engine
        cmd = commands[i % len(commands)] if mode.startswith("image") else whole[i % len(whole)]
        out.append(Case(f"engine/{mode}", "engine", "error", [*cmd, "{ENGINE}"], names=("malformed answer", word),
                        env=dict(FAST), server=f"engine:{mode}", seconds=40))
    out.append(Case("engine/valid", "engine", "ok", ["images", "--host", "{ENGINE}"], env=dict(FAST),
                    server="engine:valid", stdout_has=("iv/app",)))
    out.append(Case("engine/tcp-wrong-shape", "engine", "error", ["images", "--host", "{ENGINE}"],
                    names=("tcp://127.0.0.1", "/images/json"), env=dict(FAST), server="engine-tcp:imagesdict"))
    out.append(Case("engine/tcp-valid", "engine", "ok", ["summary", "--host", "{ENGINE}"], env=dict(FAST),
                    server="engine-tcp:valid"))
    # engines that stop answering: the command ends within its limits and says so; what was read is kept,
    # and the exit code says it is incomplete (3) unless --allow-partial (issue 16)
    for mode, expect, word in [("imageshang", "incomplete", "stopped answering"),
                               ("imagesdrip", "incomplete", "stopped answering"),
                               ("inspecthang", "incomplete", "stopped answering"),
                               ("dfdrip", "incomplete", "stopped answering"),
                               ("dfstatus500", "incomplete", "stopped answering")]:
        cmd = "images" if mode.startswith("images") else "summary"  # a command that asks the slow part
        out.append(Case(f"engine/{mode}", "engine-slow", expect, [cmd, "--host", "{ENGINE}"],
                        names=(word, "INCOMPLETE"), env=dict(FAST), server=f"engine:{mode}", seconds=40,
                        max_rss_mb=450))
    out.append(Case("engine/inspecthang-allow-partial", "engine-slow", "ok",
                    ["sizes", "--json", "--allow-partial", "--host", "{ENGINE}"],  # `images` asks no inspect
                    names=("stopped answering", "INCOMPLETE", '"complete": false'), env=dict(FAST),
                    server="engine:inspecthang", seconds=40))
    out.append(Case("engine/imagesendless", "engine-slow", "error", ["images", "--host", "{ENGINE}"],
                    names=("malformed answer", "max_engine_answer_bytes"), server="engine:imagesendless", seconds=60,
                    env=dict(FAST, IMGVIZ_REQUEST_TIMEOUT="60", IMGVIZ_DEADLINE="60"), max_rss_mb=450))
    out.append(Case("engine/imagesendless-over-answer-limit", "engine-slow", "error", ["images", "--host", "{ENGINE}"],
                    names=("malformed answer", "max_engine_answer_bytes"), server="engine:imagesendless", seconds=40,
                    env=dict(FAST, IMGVIZ_REQUEST_TIMEOUT="30", IMGVIZ_DEADLINE="40",
                             IMGVIZ_MAX_ENGINE_ANSWER_BYTES="20000000"), max_rss_mb=300))
    # (a whole-engine command: `images` probes with /_ping, as `docker image ls` does, and asks no /version)
    out.append(Case("engine/versionhang", "engine-slow", "error", ["summary", "--engine", "--host", "{ENGINE}"],
                    names=("timed out",), env=dict(FAST), server="engine:versionhang", seconds=40))
    out.append(Case("engine/nothing-listening", "engine", "error",
                    ["images", "--engine", "--host", "unix://{D}/none.sock"], names=("none.sock", "no Docker engine")))

    # snapshot -o against an engine that dies mid-way: never over an existing complete snapshot
    def existing(d: Path):
        (d / "keep.json.gz").write_bytes(b"\x1f\x8b" + b"a complete snapshot saved earlier")
    out.append(Case("engine/dies-midway-keeps-saved-snapshot", "output", "partial",
                    ["snapshot", "-o", "{D}/keep.json.gz", "--host", "{ENGINE}"], setup=existing,
                    names=("stopped answering",), env=dict(FAST), server="engine:diesmidway",
                    protect=("keep.json.gz",), present=("keep.incomplete-*.json.gz",), seconds=40))
    out.append(Case("engine/dies-midway-force-writes-partial", "output", "partial",
                    ["snapshot", "-o", "{D}/keep.json.gz", "--force", "--host", "{ENGINE}"], setup=existing,
                    names=("INCOMPLETE",), env=dict(FAST), server="engine:diesmidway", present=("keep.json.gz",),
                    seconds=40))
    out.append(Case("engine/dies-midway-new-file", "output", "partial",
                    ["snapshot", "-o", "{D}/new.json.gz", "--host", "{ENGINE}"], names=("INCOMPLETE",),
                    env=dict(FAST), server="engine:diesmidway", present=("new.json.gz",), seconds=40))
    out.append(Case("engine/malformed-keeps-saved-snapshot", "output", "partial",
                    ["snapshot", "-o", "{D}/keep.json.gz", "--host", "{ENGINE}"], setup=existing,
                    names=("malformed answer",), env=dict(FAST), server="engine:historysizeneg",
                    protect=("keep.json.gz",), present=("keep.incomplete-*.json.gz",)))
    # a real engine (the session's dockerd) behind our proxy, cut off after a few requests
    out.append(Case("engine/real-engine-cut-off-keeps-saved-snapshot", "output", "partial",
                    ["snapshot", "-o", "{D}/keep.json.gz", "--host", "{ENGINE}"], setup=existing,
                    names=("stopped answering",), env=dict(FAST), server="real-engine-cutoff",
                    protect=("keep.json.gz",), present=("keep.incomplete-*.json.gz",), seconds=40))
    out.append(Case("engine/real-engine-cut-off-report", "engine", "incomplete",
                    ["summary", "--host", "{ENGINE}"], names=("stopped answering", "INCOMPLETE"), env=dict(FAST),
                    server="real-engine-cutoff", seconds=40))
    return out


# --------------------------------------------------------------------------------------- output

def _output_cases() -> list[Case]:
    out = []

    def saved(d: Path):
        write_snapshot(d / "keep.json.gz", fleet())

    def mk(name, target_setup, target, expect, words, *, cmd="snapshot", extra=(), **kw):
        if cmd == "snapshot":
            argv = ["snapshot", "-o", target, *extra, "--host", "{ENGINE}"]
            server = "engine:valid"
        else:
            argv = ["report", "-o", target, *extra, "--snapshot", "{D}/keep.json.gz"]
            server = None

        def setup(d: Path):
            saved(d)
            if target_setup is not None:
                target_setup(d)
        kw.setdefault("seconds", 60)
        out.append(Case(f"output/{cmd}-{name}", "output", expect, argv, setup=setup, names=tuple(words), server=server,
                        env=dict(FAST), **kw))

    for cmd in ("snapshot", "report"):
        mk("missing-dir", None, "{D}/no/such/dir/x.out", "error", ("does not exist",), cmd=cmd)
        mk("onto-directory", lambda d: (d / "adir").mkdir(), "{D}/adir", "error", ("directory",), cmd=cmd)
        mk("under-a-file", lambda d: (d / "afile").write_text("x"), "{D}/afile/x.out", "error", ("not a directory",),
           cmd=cmd, protect=("afile",))
        mk("onto-fifo", lambda d: os.mkfifo(d / "fifo"), "{D}/fifo", "error", ("FIFO",), cmd=cmd, seconds=20)
        mk("onto-char-device", lambda d: os.mknod(d / "dev", stat.S_IFCHR | 0o600, os.makedev(1, 3)), "{D}/dev",
           "error", ("character device",), cmd=cmd)

        def sock(d: Path):
            s = socket.socket(socket.AF_UNIX)
            s.bind(str(d / "sock"))
            s.close()
        mk("onto-socket", sock, "{D}/sock", "error", ("socket",), cmd=cmd)
        mk("dangling-symlink", lambda d: os.symlink(d / "nowhere", d / "link"), "{D}/link", "error",
           ("does not exist",), cmd=cmd, absent=("nowhere",))
        mk("symlink-to-directory", lambda d: (d / "adir").mkdir() or os.symlink(d / "adir", d / "link"), "{D}/link",
           "error", ("directory",), cmd=cmd)
        mk("symlink-to-fifo", lambda d: os.mkfifo(d / "fifo") or os.symlink(d / "fifo", d / "link"), "{D}/link",
           "error", ("FIFO",), cmd=cmd, seconds=20)
        mk("empty-path", None, "", "error", ("empty",), cmd=cmd)
    # snapshot: a complete snapshot replaces an existing file, and says so
    mk("existing-replaced", None, "{D}/keep.json.gz", "ok", (), stdout_has=("replaced the previous",))
    mk("new-file", None, "{D}/new.json.gz", "ok", (), present=("new.json.gz",))
    mk("symlink-to-existing-followed", lambda d: os.symlink(d / "keep.json.gz", d / "link"), "{D}/link", "ok",
       (), stdout_has=("replaced the previous",), present=("keep.json.gz",))
    mk("control-chars-in-name", None, "{D}/evil\x1b[2J.json.gz", "ok", (), output_lacks=("\x1b",))
    # report: an existing report is replaced, atomically, and the command says so
    mk("existing-replaced", lambda d: (d / "r.html").write_text("old report"), "{D}/r.html", "ok", (), cmd="report",
       stdout_has=("replaced",))
    mk("symlink-followed", lambda d: (d / "real.html").write_text("old") or os.symlink(d / "real.html", d / "link"),
       "{D}/link", "ok", (), cmd="report", present=("real.html",))
    return out


# ------------------------------------------------------------------------------------- cascade

def _git_repo(d: Path) -> None:
    repo = d / "repo"
    repo.mkdir()
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@x", GIT_AUTHOR_DATE="2026-01-01T00:00:00", GIT_COMMITTER_DATE="2026-01-01T00:00:00")

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)
    git("init", "-q", "-b", "main")
    (repo / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /\n")
    (repo / "a.txt").write_text("1\n")
    git("add", "-A")
    git("commit", "-q", "-m", "one")
    (repo / "a.txt").write_text("2\n")
    git("commit", "-q", "-am", "two")


def _build_dirs(d: Path, dockerfile: bytes | None = None, *, fifo: bool = False, files: tuple = ()) -> None:
    for side in ("old", "new"):
        (d / side).mkdir()
        (d / side / "a.txt").write_text(side)
        for name in files:  # bytes names: what a non-UTF-8 COPY source names
            with open(os.path.join(os.fsencode(d / side), name), "wb") as fh:
                fh.write(side.encode())
        if dockerfile is not None:
            (d / side / "Dockerfile").write_bytes(dockerfile)
        else:
            (d / side / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
        if fifo:
            os.mkfifo(d / side / "pipe")


def _cascade_cases() -> list[Case]:
    out = []

    def git_case(name, args, expect, words, **kw):
        out.append(Case(f"cascade/{name}", "cascade", expect, ["cascade", "--git", "{D}/repo", *args], setup=_git_repo,
                        names=tuple(words), **kw))
    git_case("rev-output-option", ["--", "--output={D}/owned", "HEAD"], "usage", ("--output",), absent=("owned",))
    git_case("rev-output-option-second", ["--", "HEAD~1", "--output={D}/owned"], "usage", ("--output",),
             absent=("owned",))
    git_case("rev-dash-n", ["--", "-n", "HEAD"], "usage", ("'-n'",))
    git_case("rev-remote-option", ["--", "--remote=ext::sh -c touch% {D}/owned", "HEAD"], "usage", ("--remote",),
             absent=("owned",))
    git_case("rev-exec-option", ["--", "--exec=touch {D}/owned", "HEAD"], "usage", ("--exec",), absent=("owned",))
    git_case("rev-empty", ["", "HEAD"], "usage", ("revision",))
    git_case("rev-control-chars", ["HEAD\x1b[2J", "HEAD"], "usage", ("revision",), output_lacks=("\x1b",))
    git_case("rev-range", ["HEAD~1..HEAD", "HEAD"], "usage", ("revision",))
    git_case("rev-unknown", ["nope", "HEAD"], "error", ("nope", "no such commit"))
    git_case("rev-valid", ["HEAD~1", "HEAD"], "ok", (), stdout_has=("COPY",))
    git_case("subdir-escapes", ["HEAD~1", "HEAD", "../.."], "usage", ("inside the repository",))
    git_case("subdir-absolute", ["HEAD~1", "HEAD", "/etc"], "usage", ("inside the repository",))
    git_case("dockerfile-escapes", ["HEAD~1", "HEAD", "-f", "../../etc/passwd"], "usage", ("-f",))
    out.append(Case("cascade/not-a-repo", "cascade", "error", ["cascade", "--git", "{D}", "HEAD", "HEAD"],
                    names=("not a git repository",)))
    for value in ("-5", "0", "x"):
        out.append(Case(f"cascade/max-commits-{value}", "cascade", "usage",
                        ["cascade", "--advise", "{D}/repo", "--max-commits", value], setup=_git_repo,
                        names=("--max-commits",)))
    out.append(Case("cascade/advise-path-escapes", "cascade", "usage", ["cascade", "--advise", "{D}/repo", "../../etc"],
                    setup=_git_repo, names=("inside the repository",)))

    def dirs_case(name, dockerfile, expect, words, *, fifo=False, extra=(), files=(), **kw):
        out.append(Case(f"cascade/{name}", "dockerfile", expect, ["cascade", "{D}/old", "{D}/new", *extra],
                        setup=lambda d: _build_dirs(d, dockerfile, fifo=fifo, files=files), names=tuple(words), **kw))
    # BuildKit's shell lexer reads a byte that is not UTF-8 as U+FFFD (Go's text/scanner), so this COPY
    # looks for "caf\ufffd.txt": the build fails even with a file of the raw name in the context, and the
    # prediction says so (issue 11), on one terminal-safe line
    dirs_case("dockerfile-not-utf8", b"FROM scratch\nCOPY caf\x9a.txt /\n", "error", ("fails",),
              files=(b"caf\x9a.txt",), output_lacks=("\x9a",))
    dirs_case("dockerfile-nested-vars", b"FROM scratch\nARG A=1\nENV X=" + b"${A:-" * 3000 + b"x" + b"}" * 3000
              + b"\nCOPY a.txt /\n", "ok", (), seconds=30, depends_on="dockerfile (issue 11: the lexer expands it)")
    dirs_case("dockerfile-control-bytes", b"FROM scratch\nCOPY a\x00\x1b[2J.txt /\n", "ok", (),
              output_lacks=("\x00", "\x1b"))
    dirs_case("dockerfile-empty", b"", "error", ("Dockerfile",))
    dirs_case("context-with-fifo", None, "ok", (), fifo=True, seconds=30)
    dirs_case("build-arg-without-value", None, "error", ("--build-arg",), extra=("--build-arg", "NOVALUE"))
    out.append(Case("cascade/dockerfile-is-fifo", "dockerfile", "error", ["cascade", "{D}/old", "{D}/new"],
                    setup=lambda d: (_build_dirs(d), (d / "old" / "Dockerfile").unlink(),
                                     os.mkfifo(d / "old" / "Dockerfile")), names=("Dockerfile",), seconds=20))
    out.append(Case("cascade/dockerfile-is-dir", "dockerfile", "error", ["cascade", "{D}/old", "{D}/new"],
                    setup=lambda d: (_build_dirs(d), (d / "old" / "Dockerfile").unlink(),
                                     (d / "old" / "Dockerfile").mkdir()), names=("Dockerfile",)))
    out.append(Case("cascade/missing-dirs", "dockerfile", "error", ["cascade", "{D}/old", "{D}/new"],
                    names=("does not exist",)))
    out.append(Case("cascade/image-ref-traversal", "cascade", "usage",
                    ["cascade", "{D}/old", "{D}/new", "--image", "../../containers/json"],
                    setup=lambda d: _build_dirs(d), names=("not an image reference",)))
    return out


# -------------------------------------------------------------------------------- args and env

def _argument_cases() -> list[Case]:
    out = []

    def case(name, argv, expect, words, env=None, **kw):
        out.append(Case(f"args/{name}", "args", expect, argv, names=tuple(words), env=env or {}, **kw))
    case("host-empty", ["images", "--host", ""], "usage", ("--host",))
    case("host-unix-no-path", ["images", "--host", "unix://"], "usage", ("unix://",))
    case("host-tcp-no-host", ["images", "--host", "tcp://"], "usage", ("tcp://",))
    case("host-ftp", ["images", "--host", "ftp://127.0.0.1"], "usage", ("ftp://",))
    case("host-port-too-big", ["images", "--host", "tcp://127.0.0.1:99999"], "usage", ("99999",))
    case("host-control-chars", ["images", "--host", "unix:///x\x1b[2J"], "error", ("no Docker engine",),
         output_lacks=("\x1b",), env=dict(FAST))
    case("docker-host-env-garbage", ["images", "--engine"], "usage", ("DOCKER_HOST",),
         env={"DOCKER_HOST": "garbage"})
    case("top-zero", ["report", "--demo", "--top", "0", "-o", "/tmp/never-written.html"], "error", ("--top",))
    case("registry-empty", ["images", "--registry", ""], "error", ("empty image reference",))
    case("registry-uppercase", ["images", "--registry", "127.0.0.1:1/UPPER/x:1"], "error", ("repository name",))
    case("registry-bad-digest", ["images", "--registry", "127.0.0.1:1/x@sha256:zz"], "error", ("digest",))
    case("registry-bad-host", ["images", "--registry", "evil host:5000/x:1"], "error", ("registry host",))
    case("registry-bad-tag", ["images", "--registry", "127.0.0.1:1/x:../../y"], "error", ("repository name",))
    case("registry-bad-tag-chars", ["images", "--registry", "127.0.0.1:1/x:t@g!"], "error", ("not a valid",))
    case("registry-nothing-listening", ["images", "--registry", "127.0.0.1:1/x:1"], "error", ("cannot reach",),
         env=dict(FAST))
    case("archive-empty", ["images", "--archive", ""], "usage", ("--archive",))
    case("snapshot-empty", ["images", "--snapshot", ""], "usage", ("--snapshot",))
    case("source-env-garbage", ["images"], "error", ("garbage-source",), env={"IMGVIZ_SOURCE": "garbage-source"})
    case("deadline-env-text", ["images", "--demo"], "usage", ("IMGVIZ_DEADLINE",), env={"IMGVIZ_DEADLINE": "abc"})
    case("deadline-env-negative", ["images", "--demo"], "usage", ("IMGVIZ_DEADLINE",), env={"IMGVIZ_DEADLINE": "-1"})
    case("request-timeout-env-nan", ["images", "--demo"], "usage", ("IMGVIZ_REQUEST_TIMEOUT",),
         env={"IMGVIZ_REQUEST_TIMEOUT": "nan"})
    case("unpack-ratio-env-float", ["images", "--demo"], "usage", ("IMGVIZ_MAX_UNPACK_RATIO",),
         env={"IMGVIZ_MAX_UNPACK_RATIO": "2.5"})
    case("deadline-flag-zero", ["images", "--demo", "--deadline", "0"], "usage", ("--deadline",))
    case("deadline-flag-text", ["images", "--demo", "--deadline", "soon"], "usage", ("--deadline",))
    case("history-no-such-image", ["history", "nope", "--demo"], "error", ("nope",))
    case("history-empty-name", ["history", "", "--demo"], "error", ("image",))
    case("platform-bad", ["images", "--registry", "127.0.0.1:1/x:1"], "error", ("cannot reach",), env=dict(FAST))
    case("images-pattern-odd", ["images", "[", "--demo"], "ok", ())
    return out


# ------------------------------------------------------------------------------------- secrets

SECRET_VALUES = ("pw-redis-771", "pw-db-pass-772", "pw-mysql-root-773", "OPENSSH-KEY-BODY-774", "bearer-tok-775",
                 "curl-pw-776", "pw-pgpass-777", "pw-url-778")
OPENSSH_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAOPENSSH-KEY-BODY-774AAAA\n"
               "-----END OPENSSH PRIVATE KEY-----")


def secret_snapshot(d: Path) -> None:
    """The fleet recording with the issue's secrets put where images carry them (ENV, labels, history)."""
    doc = fleet()
    add_secrets(doc["records"])
    write_snapshot(d / "s.json.gz", doc)


def add_secrets(r: dict) -> None:
    """The issue's secrets, put into recorded engine answers where images carry them."""
    rec = r["images"][0]
    cfg = rec["inspect"]["Config"]
    cfg["Env"] = list(cfg.get("Env") or []) + [
        "REDIS_URL=redis://:pw-redis-771@cache:6379/0", "DB_PASS=pw-db-pass-772", "MYSQL_ROOT_PASS=pw-mysql-root-773",
        "PGPASS=pw-pgpass-777", "SERVICE=https://admin:pw-url-778@api.internal/"]
    cfg["Labels"] = dict(cfg.get("Labels") or {}, **{"org.example.deploy-key": OPENSSH_KEY})
    hist = rec["history"]
    hist[0]["CreatedBy"] = ("RUN /bin/sh -c curl -H 'Authorization: Bearer bearer-tok-775' https://x/ && "
                            "curl -u admin:curl-pw-776 https://y/")
    hist[-1]["CreatedBy"] = "/bin/sh -c #(nop)  ENV DB_PASS=pw-db-pass-772 MYSQL_ROOT_PASS=pw-mysql-root-773"


def _secret_cases() -> list[Case]:
    out = []
    lacks = SECRET_VALUES
    for name, argv in [("history-table", ["history", "{IMAGE0}", "--no-trunc"]),
                       ("history-json", ["history", "{IMAGE0}", "--json"]),
                       ("images-json", ["images", "--json"]), ("summary", ["summary"]), ("sizes-json", ["sizes", "--json"])]:
        out.append(Case(f"secrets/{name}", "secrets", "ok", [*argv, "--snapshot", "{D}/s.json.gz"], setup=secret_snapshot,
                        output_lacks=lacks, depends_on="house"))
    out.append(Case("secrets/report", "secrets", "ok", ["report", "-o", "{D}/r.html", "--snapshot", "{D}/s.json.gz"],
                    setup=secret_snapshot, present=("r.html",), inspect_file="r.html", output_lacks=lacks,
                    depends_on="house"))
    out.append(Case("secrets/snapshot-mask-secrets", "secrets", "ok",
                    ["snapshot", "--mask-secrets", "-o", "{D}/masked.json.gz", "--host", "{ENGINE}"],
                    server="engine:secrets", present=("masked.json.gz",), inspect_file="masked.json.gz",
                    output_lacks=lacks, env=dict(FAST), depends_on="house"))
    out.append(Case("secrets/history-show-secrets", "secrets", "ok",
                    ["history", "{IMAGE0}", "--no-trunc", "--show-secrets", "--snapshot", "{D}/s.json.gz"],
                    setup=secret_snapshot, stdout_has=("bearer-tok-775",), depends_on="house"))
    return out


def cases() -> list[Case]:
    """The whole corpus, in a fixed order."""
    out = (_snapshot_cases() + _archive_cases() + _registry_cases() + _engine_cases() + _output_cases()
           + _cascade_cases() + _argument_cases() + _secret_cases())
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "case names are unique"
    return out


def main(argv: list[str] | None = None) -> None:
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m tests.fuzz.generate OUTDIR")
    root = Path(args[0])
    root.mkdir(parents=True, exist_ok=True)
    listing = []
    for case in cases():
        d = root / case.name.replace("/", "__")
        d.mkdir(parents=True, exist_ok=True)
        if case.setup is not None and not case.server:
            case.setup(d)
        listing.append(case.to_json())
    (root / "corpus.json").write_text(json.dumps(listing, indent=1, default=str))
    print(f"{len(listing)} cases written to {root}")


if __name__ == "__main__":
    main()
