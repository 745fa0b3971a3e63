"""The `-e` rule (imgviz.analysis.run_env) against what a real `docker run -e` gives.

Each case runs `env` in a container of an image with ENV defaults and compares the process
environment, in order, and the container's `Config.Env` (`docker inspect`) with the prediction.
"""

from __future__ import annotations

import os

import pytest

from imgviz.analysis.run_env import client_args, config_env, process_env, run_env
from imgviz.errors import ImgvizError

pytestmark = pytest.mark.engine

#: the rule is Docker's (dockerd 20.10 and 28.5, both stores). podman 4.3's Docker-compatible API
#: differs: its container Config.Env already holds HOSTNAME (and its own defaults), so neither the
#: config nor the process environment follows it. Strict: when podman starts to agree, this fails.
PODMAN_DIFFERS = "podman 4.3's compat API: Config.Env holds HOSTNAME and podman's own defaults; the -e rule is Docker's"



def _podman_differs(request):
    if request.getfixturevalue("engine_kind") == "podman":
        request.node.add_marker(pytest.mark.xfail(reason=PODMAN_DIFFERS, strict=True))

IMAGE_ENV = ["PATH=/bin:/usr/bin", "TARGET=blog.example.org", "METHOD=HEAD", "INTERVAL=3000", "EMPTY="]
CLIENT = {"FROM_CLIENT": "client value", "CLIENT_EMPTY": ""}

CASES = {
    "none": [],
    "the chapter": ["TARGET=google.com"],
    "two overrides": ["TARGET=docker.com", "INTERVAL=5000"],
    "new name": ["NEW=1"],
    "bare, unset in the client: hides the default": ["TARGET"],
    "bare, set in the client": ["FROM_CLIENT"],
    "bare, set empty in the client": ["CLIENT_EMPTY"],
    "bare, unknown everywhere": ["NOWHERE"],
    "empty value": ["METHOD="],
    "value with =": ["A=b=c"],
    "repeated name": ["A=1", "B=1", "A=2"],
    "repeated, then bare": ["A=1", "B=1", "A"],
    "bare, then set": ["A", "B=1", "A=3"],
    "engine's names": ["HOSTNAME=mine", "TERM=dumb"],
    "HOME": ["HOME=/h"],
    "PATH": ["PATH=/bin"],
}


@pytest.fixture(scope="module")
def image(engine, tmp_path_factory):
    engine.busybox_base()
    ctx = tmp_path_factory.mktemp("envctx")
    env = " ".join(IMAGE_ENV[1:])
    (ctx / "Dockerfile").write_text(f"FROM imgviz-test/busybox:base\nENV {env}\nENV {IMAGE_ENV[0]}\n")
    engine.build(ctx, "imgviz-test/run-env:1")
    inspected = engine.api().inspect_image("imgviz-test/run-env:1")["Config"]["Env"]
    assert sorted(inspected) == sorted(IMAGE_ENV)  # podman's build keeps PATH last
    return inspected


def _docker_env(engine, args, *, tty=False):
    env = dict(engine.env(), **CLIENT)
    flags = ["--hostname", "h1"] + (["-t"] if tty else [])
    for a in args:
        flags += ["-e", a]
    import subprocess

    from .._engine import DOCKER_CLI

    cid = subprocess.run([DOCKER_CLI, "create", "--network", "none", *flags, "imgviz-test/run-env:1", "env"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    try:
        config = engine.api().inspect_container(cid)["Config"]["Env"]
        out = subprocess.run([DOCKER_CLI, "start", "-a", cid], env=env, capture_output=True, text=True,
                             check=True).stdout
    finally:
        subprocess.run([DOCKER_CLI, "rm", "-f", cid], env=env, capture_output=True)
    return config, out.replace("\r", "").splitlines()


@pytest.mark.parametrize("case", list(CASES))
def test_rule_equals_docker_run(request, engine, image, case):
    _podman_differs(request)
    IMAGE_ENV = image  # noqa: N806  (the image's Env as the engine recorded it)
    args = CASES[case]
    config, process = _docker_env(engine, args)
    sent = client_args(args, CLIENT)
    predicted_config = config_env(IMAGE_ENV, sent)
    # the -e items pass a Go map in the engine: a set, then the image's items in the image's order
    n_user = len({a.split("=", 1)[0] for a in sent})
    assert sorted(predicted_config) == sorted(config)
    assert config[n_user:] == predicted_config[n_user:]
    predicted = process_env(predicted_config, hostname="h1")
    assert sorted(predicted) == sorted(x for x in process if not (x.startswith("HOME=") and "HOME=/h" not in args))
    assert process[:2] == predicted[:2]  # PATH and HOSTNAME first, replaced in place
    frame = run_env(IMAGE_ENV, args, client_env=CLIENT, hostname="h1", home="/")
    assert sorted(f"{n}={v}" for n, v in zip(frame["name"], frame["value"])) == sorted(process)
    # the container config holds exactly what the rule says, in the engine's own order: the rule
    # applied to it gives the process env in order
    assert process_env(config, hostname="h1") + (["HOME=/"] if "HOME=/h" not in args else []) == process


def test_tty_adds_term(request, engine, image):
    _podman_differs(request)
    IMAGE_ENV = image  # noqa: N806
    config, process = _docker_env(engine, ["A=1"], tty=True)
    assert process_env(config_env(IMAGE_ENV, ["A=1"]), hostname="h1", tty=True) + ["HOME=/"] == process


def test_empty_name_is_refused_like_the_client(engine, image):
    import subprocess

    from .._engine import DOCKER_CLI

    proc = subprocess.run([DOCKER_CLI, "create", "-e", "=x", "imgviz-test/run-env:1"], env=engine.env(),
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "invalid environment variable: =x" in proc.stderr
    with pytest.raises(ImgvizError, match="invalid environment variable: =x"):
        client_args(["=x"])


def test_the_rule_does_not_read_this_process_environment(monkeypatch):
    monkeypatch.setenv("TARGET", "from this python")
    assert client_args(["TARGET"]) == ["TARGET"]
    assert os.environ["TARGET"] == "from this python"
