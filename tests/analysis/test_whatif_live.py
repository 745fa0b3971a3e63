"""`imgviz what-if` against a real `docker image rm` on every engine kind: the drop of /system/df
LayersSize equals the predicted freed_bytes (an image alone on its base, a tag whose layers a child
keeps, the child, several at once); on the containerd store the content blobs said to be freed
are gone from the content store (`ctr content ls`) and the kept ones stay; on podman (whose compat
df says LayersSize 0 whatever it holds) the drop of its layer store's own record (layers.json) equals
freed_bytes, and a removal with containers is "unknown"."""

from __future__ import annotations

import contextlib
import io
import json
import time

import pytest

from imgviz.cli import main

from .. import _podman_checks as _podman
from ..conftest import start_or_skip

pytestmark = pytest.mark.engine

BUILDS = [  # tag, Dockerfile (each RUN writes its own random bytes: no two builds share a layer by chance)
    ("wi/alone:1", "FROM wi/base:1\nRUN head -c 100000 /dev/urandom > /a\n"),
    ("wi/parent:1", "FROM wi/base:1\nRUN head -c 60000 /dev/urandom > /p\n"),
    ("wi/child:1", "FROM wi/parent:1\nRUN head -c 30000 /dev/urandom > /c\n"),
    ("wi/s1:1", "FROM wi/base:1\nRUN head -c 40000 /dev/urandom > /s1\n"),
    ("wi/s2:1", "FROM wi/s1:1\nRUN head -c 20000 /dev/urandom > /s2\n"),
    ("wi/s3:1", "FROM wi/base:1\nRUN head -c 70000 /dev/urandom > /s3\n"),
    ("wi/ctr:1", "FROM wi/base:1\nRUN head -c 50000 /dev/urandom > /c\n"),
    ("wi/held:1", "FROM wi/base:1\nRUN head -c 30000 /dev/urandom > /h\n"),
]
STEPS = [["wi/alone:1"], ["wi/parent:1"], ["wi/child:1"], ["wi/s1:1", "wi/s2:1", "wi/s3:1"]]
# (refs, --with-containers): a container of each image; removed first, or left to hold the layers
CONTAINER_STEPS = [(["wi/ctr:1"], True), (["wi/held:1"], False)]


@pytest.fixture(scope="module")
def removals(engine_kind, tmp_path_factory):
    """Build the images on a private engine, then per step: what-if --json, rmi, LayersSize drop."""
    eng = start_or_skip(engine_kind)
    work = tmp_path_factory.mktemp("whatif")
    try:
        eng.busybox_base("wi/base:1")
        for tag, dockerfile in BUILDS:
            ctx = work / tag.split("/")[1].replace(":", "-")
            ctx.mkdir()
            (ctx / "Dockerfile").write_text(dockerfile)
            eng.build(ctx, tag)
        if eng.kind != "podman":  # build-cache records hold layers (and, on containerd, snapshots)
            eng.docker("builder", "prune", "-af")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["sizes", "--json", "--host", eng.host]) == 0
        before_all = json.loads(buf.getvalue())
        out = []
        for refs, with_containers in [(r, None) for r in STEPS] + CONTAINER_STEPS:
            if with_containers is not None:
                ctr = eng.docker("create", "--network", "none", refs[0], "true").stdout.strip()
            time.sleep(0.5)
            buf = io.StringIO()
            flags = ["--with-containers"] if with_containers else []
            with contextlib.redirect_stdout(buf):
                assert main(["what-if", "--json", "--host", eng.host, *flags, *refs]) == 0
            answer = json.loads(buf.getvalue())
            # the same question on a whole collection of the same state (saved, then read back)
            saved = work / f"whole-{len(out)}.json.gz"
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["snapshot", "--host", eng.host, "-o", str(saved)]) == 0
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                assert main(["what-if", "--json", "--snapshot", str(saved), *flags, *refs]) == 0
            whole = json.loads(buf.getvalue())
            fig = None
            if refs == STEPS[0]:  # the figure of the same removal, from a collection of the same state
                from imgviz import figures as F
                from imgviz.frames import frames
                from imgviz.sources.engine import collect

                fig = F.what_if(frames(collect(host=eng.host, progress=False)), refs).to_plotly_json()
            before = _layers_bytes(eng)
            if with_containers:
                eng.docker("rm", ctr)
            eng.docker("image", "rm", *(["-f"] if with_containers is False else []), *refs)
            time.sleep(0.5)
            after = _layers_bytes(eng)
            out.append({"refs": refs, "answer": answer, "whole": whole, "before": before, "after": after,
                        "content": _content_dir(eng), "containers": with_containers, "figure": fig})
        yield eng.kind, out, before_all
    finally:
        eng.stop()


def _layers_bytes(eng) -> int:
    """/system/df LayersSize; on podman, whose compat df says 0 whatever it holds, the bytes of the
    image layers its layer store records (overlay-layers/layers.json diff-size)."""
    if eng.kind == "podman":
        assert eng.df()["LayersSize"] == 0
        return sum(_podman.stored_layers(eng).values())
    return eng.df()["LayersSize"]


def _content_dir(eng):
    """The digests containerd's content store lists for the engine's namespace (`ctr content ls`):
    a blob file can outlive its record on disk until containerd's garbage collector runs."""
    if eng.kind != "docker28-containerd":
        return None
    import subprocess

    from .._engine import D28

    info = eng.info()
    proc = subprocess.run([str(D28 / "usr" / "bin" / "ctr"), "--address", info["Containerd"]["Address"],
                           "-n", info["Containerd"]["Namespaces"]["Containers"], "content", "ls", "-q"],
                          capture_output=True, text=True, timeout=60, check=True)
    return {line.split(":", 1)[1] for line in proc.stdout.split() if line.startswith("sha256:")}


def test_what_if_freed_bytes_equal_the_layers_size_drop(removals):
    kind, steps, _ = removals
    for step in steps[:len(STEPS)]:
        a = step["answer"]
        print(kind, step["refs"], "drop", step["before"] - step["after"], "freed", a["freed_bytes"],
              "layers", a["layers_freed_bytes"], "blobs", a["blobs_freed_bytes"])
        assert a["images"] and len(a["images"]) == len(step["refs"])
        assert a["layers"], step["refs"]
        assert a["known"], a["reason"]
        if kind == "podman":
            # the layer store's own record drops by freed_bytes; the compat df shows no drop at all
            assert step["before"] - step["after"] == a["freed_bytes"] == a["layers_freed_bytes"]
            assert a["df_layers_size_drop"] is None and a["engine"]["storage"] == "podman"
            assert "layer store" in a["rule"] and a["blobs_freed_bytes"] is None
            continue
        assert step["before"] - step["after"] == a["freed_bytes"] == a["df_layers_size_drop"], \
            (step["refs"], step["before"], step["after"], a["freed_bytes"], a["layers_freed_bytes"],
             a["blobs_freed_bytes"])
        if kind == "docker28-containerd":
            assert a["engine"]["storage"] == "containerd" and a["rule"] == "snapshots + content blobs"
            assert a["blobs_freed_bytes"] > 0  # even a tag-only removal frees its index/manifest/config
        else:
            assert a["engine"]["storage"] == "graphdriver" and a["blobs_freed_bytes"] is None
    # the tag-only removal (a child keeps every layer) frees no layer; the others free some
    assert [s["answer"]["layers_freed_bytes"] > 0 for s in steps[:len(STEPS)]] == [True, False, True, True]


def test_targeted_what_if_equals_the_whole_collection(removals):
    """`what-if --host` asks only what its answer reads (every image's layer chain, the removed
    images' history, the container list: collect(scope="what-if")); its answer is the one a whole
    snapshot of the same state gives, for every step (containers removed too, and left to hold layers)."""
    _kind, steps, _ = removals
    assert len(steps) == len(STEPS) + len(CONTAINER_STEPS)
    for step in steps:
        assert step["answer"] == step["whole"], step["refs"]


def test_containerd_blobs_said_freed_are_gone_and_kept_ones_stay(removals):
    kind, steps, _ = removals
    if kind != "docker28-containerd":
        pytest.skip("the content store is the containerd image store's")
    for step in steps[:len(STEPS)]:
        blobs = step["answer"]["blobs"]
        roles = {b["role"] for b in blobs}
        assert {"manifest", "config", "layer"} <= roles, roles
        for b in blobs:
            hexpart = b["digest"].split(":", 1)[1]
            assert (hexpart in step["content"]) != b["freed"], (step["refs"], b)


def test_live_sizes_name_the_engine_and_follow_its_rule(removals):
    """A live collection records /info (and ?manifests=1 on the containerd store): every image's
    image ls, inspect and df numbers follow the engine's size model exactly."""
    kind, _, d = removals
    want = {"docker20": "graphdriver", "docker28": "graphdriver", "docker28-containerd": "containerd",
            "podman": "podman"}[kind]
    assert d["engine"]["storage"] == want
    views = d["size_views"]
    assert len(views) == len(BUILDS) + 1
    if kind == "podman":
        assert all(v["rule_holds"] is None for v in views)
        return
    assert all(v["rule_holds"] is True for v in views), views
    if kind == "docker28-containerd":
        assert all(v["image_ls_size"] > 2 * v["inspect_size"] for v in views)


def test_what_if_with_containers(removals):
    """--with-containers: the container goes first, then the image: LayersSize drops by freed_bytes and
    its writable layer is reported apart. Without it, a force-removed image's container keeps the
    layers: graph drivers stop counting them (df_layers_size_drop), the containerd store says unknown."""
    kind, steps, _ = removals
    removed, held = steps[len(STEPS):]
    print(kind, "with containers", removed["before"] - removed["after"], removed["answer"]["freed_bytes"],
          "held", held["before"] - held["after"], held["answer"]["freed_bytes"], held["answer"]["df_layers_size_drop"])
    if kind == "podman":
        # a container's own layer sits in the same layer store, and no API answer sizes it
        for step in (removed, held):
            a = step["answer"]
            assert a["freed_bytes"] is None and "container" in a["reason"] and a["layers_freed_bytes"] is not None
        # what is known holds: the image layers the store drops are the ones predicted freed
        assert removed["before"] - removed["after"] == removed["answer"]["layers_freed_bytes"]
        return
    a, h = removed["answer"], held["answer"]
    if kind == "docker28-containerd":
        # the container's own snapshots count in LayersSize there, and no API answer sizes them
        assert a["freed_bytes"] is None and "writable layers" in a["reason"]
        assert removed["before"] - removed["after"] > a["layers_freed_bytes"] + a["blobs_freed_bytes"]
        assert h["freed_bytes"] is None and "container" in h["reason"]
    else:
        assert a["known"] and removed["before"] - removed["after"] == a["freed_bytes"] > 0
        assert a["writable_bytes"] >= 0
        assert h["freed_bytes"] == 0 and h["held_by_containers"] > 0
        assert held["before"] - held["after"] == h["df_layers_size_drop"] == h["held_by_containers"]


def test_what_if_figure_follows_the_engine(removals):
    """The what-if figure says the same bytes as `imgviz what-if`: on the containerd store a bar of
    content blobs beside the snapshots; on podman the layer store's bytes."""
    from imgviz.units import axis_bytes

    kind, steps, _ = removals
    fig, a = steps[0]["figure"], steps[0]["answer"]
    title = fig["layout"]["title"]["text"]
    names = [t["name"] for t in fig["data"]]
    assert title.startswith(f"Removing wi/alone:1 frees {axis_bytes(a['freed_bytes'])}"), title
    blobs = [t for t in fig["data"] if t["name"] == "content blobs"]
    if kind == "docker28-containerd":
        assert len(blobs) == 1 and list(blobs[0]["x"]) == [a["blobs_freed_bytes"]]
    else:
        assert not blobs and "freed" in names
