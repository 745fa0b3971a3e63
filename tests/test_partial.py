"""A slow engine is not an empty engine, and a partial answer is never silent (issue 16).

Real engines only: every kind of tests/_engine.py behind a proxy of ours on a unix socket
(tests/fuzz/_servers.py's ``CutOffProxy``) that holds chosen requests for some seconds, cuts the
engine off, or gives us time to remove an image mid-way; and a Docker 28 containerd-store engine
holding 420 images, whose ``/images/json`` is slow by itself (1.8-5 s here). The two tests on it
cost 70-75 s in all (28-33 s to import the images, 15-35 s for one full collection by the CLI and
one by the Python API); they are marked ``slow`` (CI runs them; ``-m 'not slow'`` leaves them out). Each with the CLI (a
real ``python -m imgviz`` process) and the Python API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import imgviz
from imgviz._partial import EXIT_INCOMPLETE, missing
from imgviz.sources.engine import CollectionWarning

from .fuzz._servers import CutOffProxy, wait_until

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.engine
#: these faults are the engine API's (a slow list, a cut, an image removed between two calls): podman
#: on this host is read from its storage in one go instead, so here it is asked through its API, as
#: from another host (its storage route's faults: tests/sources/test_podman_store.py)
API_ROUTE = {"IMGVIZ_PODMAN_STORE": "0"}


@pytest.fixture(autouse=True)
def _api_route(monkeypatch):
    for key, value in API_ROUTE.items():
        monkeypatch.setenv(key, value)


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """``python -m imgviz ARGS`` in a clean environment (no IMGVIZ_* or DOCKER_HOST of the caller)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("IMGVIZ_", "DOCKER_"))}
    base.update(API_ROUTE)
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "imgviz", *args], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=timeout)


def listed(engine) -> list[dict]:
    """What ``docker image ls`` lists: (repository, tag, full ID) per row."""
    out = engine.docker("image", "ls", "--no-trunc", "--format", "{{json .}}").stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return sorted((r["Repository"], r["Tag"], r["ID"]) for r in rows)


def as_rows(items: list[dict]) -> list[tuple]:
    return sorted((i["repository"], i["tag"], i["id"]) for i in items)


def same_rows(ours: list[tuple], docker: list[tuple]) -> bool:
    """Rows equal, a name's registry part aside: podman's API says ``docker.io/partial/bb`` where
    the docker client prints ``partial/bb``."""
    def short(repo: str) -> str:
        return repo.removeprefix("docker.io/").removeprefix("localhost/")
    return sorted((short(r), t, i) for r, t, i in ours) == sorted((short(r), t, i) for r, t, i in docker)


@pytest.fixture
def proxy(engine, tmp_path):
    made = []

    def start(**kw):
        p = CutOffProxy(engine.host, tmp_path / f"p{len(made)}.sock", **kw)
        made.append(p)
        return p
    yield start
    for p in made:
        p.stop()


@pytest.fixture
def two_images(engine):
    engine.busybox_base("partial/bb:one")
    engine.busybox_base("partial/bb:two")
    return listed(engine)


# ------------------------------------------------- a complete collection's outputs are unchanged

def test_a_complete_collection_prints_what_it_always_did():
    snap = imgviz.demo_snapshot()
    assert missing(snap) is None and imgviz.incomplete(snap) is None
    r = cli("images", "--json", "--demo")
    assert r.returncode == 0 and isinstance(json.loads(r.stdout), list) and r.stderr == ""
    r = cli("sizes", "--json", "--demo")
    assert r.returncode == 0 and "complete" not in json.loads(r.stdout)
    assert 'class="iv-incomplete"' not in imgviz.Report("demo").html_snippet(include_plotlyjs=False)


# ------------------------------------------------------------------ a slow probe is an engine

def test_a_slow_version_is_an_engine_not_the_demo(engine, proxy, two_images):
    """The probe (/_ping for `images`, /version for a whole collection) answers after 2.5 s while
    connect_timeout is 1 s: the source choice ("auto": no flag, DOCKER_HOST names the engine) waits
    for it and lists the engine's images."""
    p = proxy(delays={r"^/(_ping|version)$": 2.5})
    r = cli("images", "--json", env={"DOCKER_HOST": p.host, "IMGVIZ_CONNECT_TIMEOUT": "1"})
    assert r.returncode == 0, r.stderr
    assert same_rows(as_rows(json.loads(r.stdout)), two_images)
    assert "demo" not in r.stderr and p.delayed >= 1
    # the Python API, same rule
    snap, where = imgviz.open(host=p.host, limits={"connect_timeout": 1}, progress=False)
    assert where == f"live engine at {p.host}" and snap.complete and p.delayed >= 2
    # --engine too: an explicit engine's slow probe is waited for
    r = cli("summary", "--engine", "--host", p.host, env={"IMGVIZ_CONNECT_TIMEOUT": "1"})
    assert r.returncode == 0 and "Source: live engine at" in r.stdout and "INCOMPLETE" not in r.stdout, r.stderr


def test_a_probe_that_never_ends_is_an_error_not_the_demo(engine, proxy, two_images):
    p = proxy(delays={r"^/(_ping|version)$": 30})
    r = cli("images", "--json", env={"DOCKER_HOST": p.host, "IMGVIZ_CONNECT_TIMEOUT": "1",
                                     "IMGVIZ_REQUEST_TIMEOUT": "2"})
    assert r.returncode == 1 and r.stdout == ""
    # `images` probes with /_ping, as `docker image ls` does
    assert "accepts connections at" in r.stderr and "did not answer /_ping within 2 s" in r.stderr
    # nothing listening there at all: the demo, saying why
    p.stop()
    r = cli("summary", env={"DOCKER_HOST": p.host})
    assert r.returncode == 0 and "Source: embedded demo snapshot (no Docker engine answered at" in r.stdout


# ----------------------------------------------------------- a slow list: complete or said so

def test_a_slow_image_list_is_waited_for_by_default(engine, proxy, two_images):
    p = proxy(delays={r"/images/json$": 3})
    start = time.monotonic()
    r = cli("images", "--json", "--host", p.host)
    assert r.returncode == 0, r.stderr
    assert same_rows(as_rows(json.loads(r.stdout)), two_images) and time.monotonic() - start > 3


def test_a_timed_out_image_list_is_incomplete_everywhere(engine, proxy, two_images, tmp_path):
    p = proxy(delays={r"/images/json$": 4})
    env = {"IMGVIZ_REQUEST_TIMEOUT": "1"}

    r = cli("images", "--json", "--host", p.host, env=env)
    assert r.returncode == EXIT_INCOMPLETE, r.stderr
    out = json.loads(r.stdout)
    assert out["complete"] is False and out["images"] == []
    assert out["missing"]["not_read"] == ["/images/json", "/containers/json", "/system/df"]
    assert out["missing"]["images"] is None  # the list was never read: nobody knows how many
    assert "INCOMPLETE" in r.stderr and "--allow-partial" in r.stderr and "within 1 s" in r.stderr

    r = cli("images", "--json", "--allow-partial", "--host", p.host, env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["complete"] is False and "INCOMPLETE" in r.stderr

    r = cli("images", "--host", p.host, env=env)  # the table: docker's layout, the exit code says it
    assert r.returncode == EXIT_INCOMPLETE and r.stdout.startswith("REPOSITORY") and "INCOMPLETE" in r.stderr

    r = cli("summary", "--host", p.host, env=env)
    assert r.returncode == EXIT_INCOMPLETE and r.stdout.splitlines()[1].startswith("INCOMPLETE: ")

    r = cli("sizes", "--json", "--host", p.host, env=env)
    sizes = json.loads(r.stdout)
    assert r.returncode == EXIT_INCOMPLETE and sizes["complete"] is False and "physical_bytes" in sizes

    # history asks the engine for that image alone (issue 15): the slow list is not in its way
    r = cli("history", "partial/bb:one", "--host", p.host, env=env)
    # docker's history of an import says "Imported from -", podman's "imported from tarball"
    assert r.returncode == 0 and "imported from" in r.stdout.lower() and not r.stderr

    # the report: INCOMPLETE at the top, and a complete report already there is left as it was
    keep = tmp_path / "report.html"
    assert cli("report", "-o", str(keep), "--host", engine.host).returncode == 0
    before = keep.read_bytes()
    r = cli("report", "-o", str(keep), "--host", p.host, env=env)
    assert r.returncode == EXIT_INCOMPLETE and keep.read_bytes() == before, r.stderr
    beside = sorted(tmp_path.glob("report.incomplete-*"))
    assert len(beside) == 1 and "left as it was" in r.stdout
    page = beside[0].read_text()
    assert page.index('class="iv-incomplete"') < page.index("<h1>") and "INCOMPLETE" in page
    assert 'class="iv-incomplete"' not in before.decode()

    # the Python API: the snapshot says so, the rule says what is missing, the report shows it
    with pytest.warns(CollectionWarning, match="stopped answering"):
        snap, _where = imgviz.open("engine", host=p.host, limits={"request_timeout": 1}, progress=False)
    assert not snap.complete and missing(snap)["not_read"][0] == "/images/json"
    report = imgviz.Report(snap)
    meta = json.loads(report.json())["meta"]
    assert meta["complete"] is False and meta["missing"]["images"] is None
    assert "INCOMPLETE" in repr(report) and 'class="iv-incomplete"' in report.html_snippet(include_plotlyjs=False)
    # saved and read back later, it says the same
    saved = snap.save(tmp_path / "partial.json.gz")
    r = cli("images", "--json", "--snapshot", str(saved))
    assert r.returncode == EXIT_INCOMPLETE and json.loads(r.stdout)["missing"] == missing(snap)


def test_an_engine_cut_off_midway_says_which_images_are_missing(engine, proxy, tmp_path):
    for i in range(6):
        engine.busybox_base(f"partial/cut:{i}")
    n_listed = len(listed(engine))
    # the probe, /version, /images/json and /system/df (asked beside the rest), then a few of the
    # per-image calls; `sizes` reads every image (`images` asks a live engine only its list)
    # The calls beside the list run on threads of their own, so where the 7th request falls varies:
    # when the cut came before the (slow, on the containerd store) list was answered, the output says
    # nobody knows what is missing (images null, /images/json not read), and the cut moves later.
    for after in (7, 9, 11, 13, 17, 21):
        p = proxy(after=after)
        # the cut ends every request at once, so the timeout only has to outlast the session engine's
        # list (CI's containerd-store engine holds every image the other tests built: 5 s was too short)
        r = cli("sizes", "--json", "--host", p.host, env={"IMGVIZ_REQUEST_TIMEOUT": "120"})
        assert r.returncode == EXIT_INCOMPLETE, r.stderr
        out = json.loads(r.stdout)
        gap = out["missing"]
        assert out["complete"] is False and "/containers/json" in gap["not_read"]
        if gap["images"] is not None:
            break
        assert "/images/json" in gap["not_read"] and out["images"] == []
    read = {i["id"] for i in out["images"]}
    assert gap["images"] and not read & set(gap["images"])
    assert len(read | set(gap["images"])) == len({row[2] for row in listed(engine)}) <= n_listed


def test_an_image_removed_midway_is_said(engine, proxy, tmp_path):
    gone = engine.busybox_base("partial/gone:1")
    engine.busybox_base("partial/stays:1")
    p = proxy(delays={rf"/images/{gone}/json$": 3})
    box = {}

    def collect():
        with pytest.warns(CollectionWarning, match="removed during collection"):
            box["snap"] = imgviz.open("engine", host=p.host, progress=False).snapshot
    t = threading.Thread(target=collect)
    t.start()
    assert wait_until(lambda: p.delayed >= 1, 30)
    engine.docker("image", "rm", "-f", "partial/gone:1")
    t.join(60)
    snap = box["snap"]
    gap = missing(snap)
    assert snap.complete and gap is not None  # every call answered, but one image was gone
    assert gap["removed"] == [{"kind": "image", "id": gone}] and gap["not_read"] == [] and gap["images"] == []
    assert "1 removed during collection" in imgviz._partial.headline(snap)
    # the one rule for files too: such a snapshot never replaces an existing one, it goes beside it
    target = tmp_path / "engine.json.gz"
    target.write_bytes(b"an earlier, complete snapshot")
    written = snap.write(target)
    assert written.beside and target.read_bytes() == b"an earlier, complete snapshot"
    assert imgviz.load(written.path).images and missing(imgviz.load(written.path))["removed"] == gap["removed"]


# --------------------------------------------------- a really slow engine: 420 images, containerd

N_BULK = 420


@pytest.fixture(scope="module")
def crowded():
    """A Docker 28.5 containerd-store engine of our own holding 420 distinct images (one tiny
    layer, a label each: ``docker import --change 'LABEL n=i'``), made through the API."""
    from ._engine import EngineUnavailableForTests, start_private_engine
    from .conftest import _no_engine

    if "docker28-containerd" not in os.environ.get("IMGVIZ_TEST_ENGINES", "docker28-containerd"):
        pytest.skip("docker28-containerd not selected (IMGVIZ_TEST_ENGINES)")
    try:
        eng = start_private_engine("docker28-containerd")
    except EngineUnavailableForTests as exc:
        _no_engine(str(exc))
    try:
        _fill(eng, N_BULK)
        yield eng
    finally:
        eng.stop()


def _fill(eng, n: int) -> None:
    import io
    import tarfile
    from concurrent.futures import ThreadPoolExecutor

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"one tiny layer\n"
        info = tarfile.TarInfo("hello")
        info.size, info.mtime = len(data), 0
        tf.addfile(info, io.BytesIO(data))
    tar = buf.getvalue()
    api = eng.api()
    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: api.import_image_from_data(tar, repository="crowd/img", tag=str(i),
                                                            changes=[f"LABEL n={i}"]), range(n)))
    print(f"\n{n} images imported into {eng.kind} in {time.monotonic() - start:.1f} s")


@pytest.mark.slow
def test_a_crowded_engine_lists_every_image_with_default_limits(crowded):
    truth = listed(crowded)
    assert len({row[2] for row in truth}) == N_BULK
    start = time.monotonic()
    r = cli("images", "--json", "--host", crowded.host, timeout=600)
    took = time.monotonic() - start
    print(f"imgviz images --json, {N_BULK} images on docker28-containerd: {took:.1f} s")
    assert r.returncode == 0, r.stderr
    assert same_rows(as_rows(json.loads(r.stdout)), truth)
    # the Python API, same engine
    snap, where = imgviz.open("auto", host=crowded.host, progress=False)
    assert where == f"live engine at {crowded.host}" and missing(snap) is None and len(snap.images) == N_BULK


@pytest.mark.slow
def test_a_crowded_engine_with_a_tiny_request_timeout_says_incomplete(crowded):
    api = crowded.api()
    start = time.monotonic()
    api.images()
    slow = time.monotonic() - start
    print(f"/images/json with {N_BULK} images on docker28-containerd: {slow:.2f} s")
    assert slow > 0.5, "the engine answered its image list faster than this test's timeout"
    r = cli("images", "--json", "--host", crowded.host, "--request-timeout", "0.2", timeout=120)
    assert r.returncode == EXIT_INCOMPLETE and "INCOMPLETE" in r.stderr and "within 0.2 s" in r.stderr
    out = json.loads(r.stdout)
    assert out["complete"] is False and "/images/json" in out["missing"]["not_read"]
    with pytest.warns(CollectionWarning):
        snap, _ = imgviz.open("engine", host=crowded.host, limits={"request_timeout": 0.2}, progress=False)
    assert not snap.complete and missing(snap)["images"] is None


def test_the_notebooks_first_engine_cell_says_incomplete(engine, proxy, two_images):
    """The cell every notebook opens its source with (notebooks/_build.py), run as the kernel would,
    against an engine whose image list times out: INCOMPLETE is the first thing it prints."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("nb_build", ROOT / "notebooks" / "_build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    p = proxy(delays={r"/images/json$": 4})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMGVIZ_", "DOCKER_"))}
    env.update(DOCKER_HOST=p.host, IMGVIZ_REQUEST_TIMEOUT="1", **API_ROUTE)
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", build.SOURCE_CELL], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("INCOMPLETE: ") and "/images/json" in lines[0]
    # no images came: the demo is shown, and its Source line says why
    assert lines[1] == "Source: embedded demo snapshot (the live engine's collection was INCOMPLETE, with no images)"
