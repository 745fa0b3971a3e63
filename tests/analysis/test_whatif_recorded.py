"""`imgviz what-if`, `imgviz sizes` and the report header on snapshots recorded from each engine kind."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from imgviz.analysis import sizes
from imgviz.analysis.what_if import removal
from imgviz.cli import main
from imgviz.frames import frames

from ._engine_records import snapshot_with_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("recorded-models")
    out = {}
    for kind in ("docker28", "docker28-containerd", "podman"):
        out[kind] = snapshot_with_model(kind).save(d / f"{kind}.json.gz")
    return out


def _cli(*argv):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(list(argv))
    return code, buf.getvalue()


def test_graph_driver_what_if_is_the_layer_rule(saved):
    f = frames(snapshot_with_model("docker28"))
    for image_id in f.images["image_id"]:
        r = removal(f, [image_id])
        t = sizes.what_if_totals(f, [image_id])
        assert r.rule == "layers" and r.freed_bytes == t["freed_layers"]
        assert r.df_drop == t["freed_layers"] + t["held_by_containers"]
    code, out = _cli("what-if", "--json", "--snapshot", str(saved["docker28"]), "iv/app:v1")
    d = json.loads(out)
    assert code == 0 and d["engine"]["storage"] == "graphdriver" and d["freed_bytes"] == \
        sum(layer["size"] for layer in d["layers"] if layer["freed"])


def test_containerd_without_the_content_record_is_unknown_with_a_lower_bound(saved):
    # the phase-1 recording has no content-store record: the blobs cannot be known, so neither is the total
    f = frames(snapshot_with_model("docker28-containerd"))
    r = removal(f, ["iv/same-a:1"])
    assert r.freed_bytes is None and r.layers_freed_bytes > 0
    assert "content blobs" in r.reason and "snapshots alone free" in r.reason
    code, out = _cli("what-if", "--snapshot", str(saved["docker28-containerd"]), "iv/same-a:1")
    assert code == 0 and "Freed: unknown" in out and "containerd image store" in out


def test_podman_what_if_is_unknown(saved):
    code, out = _cli("what-if", "--json", "--snapshot", str(saved["podman"]),
                     json.loads(_cli("images", "--json", "--snapshot", str(saved["podman"]))[1])[0]["id"])
    d = json.loads(out)
    assert code == 0 and d["freed_bytes"] is None and d["known"] is False and d["layers"]
    assert d["engine"]["engine"] == "podman"


def test_sizes_explains_the_three_numbers_per_engine(saved):
    code, out = _cli("sizes", "--snapshot", str(saved["docker28-containerd"]))
    assert code == 0 and "Engine: Docker Engine 28.5.2+dfsg4 (API 1.51), containerd image store" in out
    assert "IMAGE LS / DF" in out and "inspect counts the content only" in out
    code, out = _cli("sizes", "--json", "--snapshot", str(saved["docker28-containerd"]))
    views = json.loads(out)["size_views"]
    assert len(views) == 8 and all(v["rule_holds"] for v in views)
    assert all(v["image_ls_size"] == v["content_size"] + v["unpacked_size"] + v["attestation_size"] for v in views)
    code, out = _cli("sizes", "--snapshot", str(saved["docker28"]))
    assert "overlay2 graph driver" in out and "they agree" in out
    code, out = _cli("sizes", "--snapshot", str(saved["podman"]))
    assert "podman" in out and "compat df" in out


def test_report_header_names_engine_api_and_storage(saved, tmp_path):
    for kind, words in {"docker28": "(API 1.51), overlay2 graph driver",
                        "docker28-containerd": "(API 1.51), containerd image store (overlayfs snapshotter)",
                        "podman": "podman 4.3.1 (API 1.41), containers/storage (overlay)"}.items():
        out = tmp_path / f"{kind}.html"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert main(["report", "--snapshot", str(saved[kind]), "-o", str(out)]) == 0
        html = out.read_text()
        head = html[html.find('<p class="iv-sub">'):][:400]
        assert words in head, (kind, head)
        assert ("One image, three sizes" in html) == (kind == "docker28-containerd")
        # podman's dangling images: the report says the bytes their removal frees are unknown there
        assert ("the bytes freed are unknown" in html) == (kind == "podman")
