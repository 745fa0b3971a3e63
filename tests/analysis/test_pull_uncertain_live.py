"""Pull plans never claim a wrong certainty, on every engine kind: push, remove, pull back.

An image built on a private engine is pushed to Debian's docker-registry on 127.0.0.1 (access log
on), removed, and pulled back three times: with the build cache kept (as users have it), after
`docker builder prune -af`, and with its base removed too. Before each pull `imgviz pull-plan`
says per layer ``exists``, ``download`` or ``uncertain``. The registry's access log is the oracle:
an ``exists`` blob must not be served, a ``download`` blob must be, and the bytes served lie between
``download_bytes`` and ``download_bytes_max``. Where imgviz can read the engine's own knowledge
(graph driver: its distribution records and layer store on this host; containerd store: its
content store, once no build-cache record can hold a blob) the plan must be certain and exact.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time

import pytest

from imgviz.cli import main

from ..conftest import start_or_skip
from .._registry import push, start_registry

pytestmark = [pytest.mark.engine, pytest.mark.registry]

ACCESS = re.compile(r'"GET /v2/[^ ]+/blobs/(sha256:[0-9a-f]{64}) HTTP/[0-9.]+" (\d{3}) (\d+)')


@pytest.fixture(scope="module")
def rounds(engine_kind, tmp_path_factory):
    eng = start_or_skip(engine_kind)
    reg = start_registry(access_log=True)
    work = tmp_path_factory.mktemp("pull-uncertain")
    try:
        eng.busybox_base("pu/base:1")
        ctx = work / "app"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text("FROM pu/base:1\nRUN head -c 80000 /dev/urandom > /a\n"
                                        "RUN head -c 20000 /dev/urandom > /b\n")
        eng.build(ctx, "pu/app:1")
        ref = push(eng, "pu/app:1", reg, "pu/app:1")
        out = []

        def one(what, before_plan):
            before_plan()
            time.sleep(0.5)
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                assert main(["pull-plan", ref, "--json", "--host", eng.host]) == 0
            plan = json.loads(buf.getvalue())
            n = len(reg.log_lines())
            text = eng.docker("pull", ref).stdout
            time.sleep(0.5)  # the access log is written after the response
            served: dict[str, int] = {}
            for line in reg.log_lines()[n:]:
                m = ACCESS.search(line)
                if m and m.group(2) == "200":
                    served[m.group(1)] = served.get(m.group(1), 0) + int(m.group(3))
            out.append({"what": what, "plan": plan, "served": served, "pull": text})

        def rmi_app():
            for name in ("pu/app:1", ref):  # whichever tags the image has now
                eng.docker("image", "rm", name, check=False)
            assert eng.docker("image", "inspect", ref, check=False).returncode != 0

        one("build cache kept", rmi_app)
        one("after builder prune", lambda: (rmi_app(), eng.kind == "podman" or
                                             eng.docker("builder", "prune", "-af")))
        one("base removed too", lambda: (rmi_app(), eng.docker("image", "rm", "pu/base:1")))
        yield eng.kind, out
    finally:
        reg.stop()
        eng.stop()


def test_no_wrong_certainty_after_push_rmi_pull(rounds):
    kind, out = rounds
    for r in out:
        plan, served = r["plan"], r["served"]
        print(kind, r["what"], [(la["action"], la["size_compressed"], served.get(la["digest"])) for la in plan["layers"]],
              plan["download_bytes"], plan["download_bytes_max"], [x for x in r["pull"].splitlines() if ": " in x])
        layers = plan["layers"]
        assert len(layers) == 3, r["what"]
        layer_digests = {layer["digest"] for layer in layers}
        served_layers = {d: n for d, n in served.items() if d in layer_digests}
        for layer in layers:
            if layer["action"] == "exists":
                assert layer["digest"] not in served, (kind, r["what"], layer, r["pull"])
            elif layer["action"] == "download":
                assert served.get(layer["digest"]) == layer["size_compressed"], (kind, r["what"], layer, r["pull"])
            else:
                assert layer["action"] == "uncertain" and layer["reason"]
        got = sum(served_layers.values())
        assert plan["download_bytes"] <= got <= plan["download_bytes_max"], (kind, r["what"], plan, served)
        assert plan["download_bytes_max"] == plan["download_bytes"] + plan["uncertain_bytes"]
    certain = {"docker20": {0, 1, 2}, "docker28": {0, 1, 2}, "docker28-containerd": {1, 2}, "podman": {2}}[kind]
    for k in certain:
        # the engine's knowledge was read: no layer is left uncertain, and the plan is exact
        assert {layer["action"] for layer in out[k]["plan"]["layers"]} <= {"exists", "download"}, \
            (kind, out[k]["what"], out[k]["plan"])
    if kind in ("docker20", "docker28"):
        # the build cache keeps the layers and the distribution records the blobs: nothing is fetched,
        # where imgviz used to plan two downloads
        assert [layer["action"] for layer in out[0]["plan"]["layers"]] == ["exists"] * 3
    # with everything removed, every layer is fetched
    assert [layer["action"] for layer in out[2]["plan"]["layers"]] == ["download"] * 3
