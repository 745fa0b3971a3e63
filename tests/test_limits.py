"""imgviz.limits: one place for every time and size limit, set by keyword or environment."""

from __future__ import annotations

import time

import pytest

from imgviz import limits
from imgviz.errors import DeadlineExceeded, UsageError


def test_defaults_fit_slow_engines():
    d = limits.Limits()
    # a big containerd-store engine answers /images/json in 6-7 s: the per-request wait is far above
    # that, the probe is separate and short, and the overall deadline is above both
    assert d.request_timeout >= 60 and d.connect_timeout <= 15 and d.deadline > d.request_timeout
    assert d.max_manifest_bytes == 4 << 20 and d.max_json_bytes == 64 << 20


def test_environment_and_keywords(monkeypatch):
    monkeypatch.setenv("IMGVIZ_REQUEST_TIMEOUT", "300")
    monkeypatch.setenv("IMGVIZ_MAX_JSON_BYTES", "1000")
    monkeypatch.setenv("IMGVIZ_DEADLINE", "")  # empty: the default
    got = limits.get()
    assert got.request_timeout == 300 and got.max_json_bytes == 1000 and got.deadline == 900
    assert limits.get({"deadline": 30}).deadline == 30 and limits.get({"deadline": 30}).request_timeout == 300
    with limits.using(deadline=5):
        assert limits.get().deadline == 5
        with limits.using({"retries": 0}):
            assert limits.get().deadline == 5 and limits.get().retries == 0
    assert limits.get().deadline == 900


@pytest.mark.parametrize("var, value, word", [
    ("IMGVIZ_DEADLINE", "abc", "not a number"), ("IMGVIZ_DEADLINE", "-1", "at least"),
    ("IMGVIZ_REQUEST_TIMEOUT", "nan", "finite"), ("IMGVIZ_REQUEST_TIMEOUT", "inf", "finite"),
    ("IMGVIZ_MAX_UNPACK_RATIO", "2.5", "whole"), ("IMGVIZ_RETRIES", "-1", "at least"),
])
def test_bad_settings_are_usage_errors_naming_the_variable(monkeypatch, var, value, word):
    monkeypatch.setenv(var, value)
    with pytest.raises(UsageError, match=f"{var}=.*{word}"):
        limits.get()


def test_unknown_limit_keyword():
    with pytest.raises(UsageError, match="unknown limit 'deadlines'"):
        limits.get({"deadlines": 3})


def test_deadline_clamps_waits_and_is_shared_by_a_scope():
    with limits.deadline_scope(0.3, what="the test") as d:
        assert limits.deadline() is d and d.timeout(60) <= 0.3
        with limits.deadline_scope() as inner:
            assert inner is d  # one deadline for the whole command
        time.sleep(0.35)
        assert d.expired and d.timeout(60) == 0.001
        with pytest.raises(DeadlineExceeded, match="x: stopped after 0.3 s, the deadline for the test"):
            d.check("x")
    assert limits.current_deadline() is None


def test_cli_flags(capsys):
    from imgviz.cli import main

    assert main(["images", "--demo", "--deadline", "60", "--request-timeout", "30"]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["images", "--demo", "--deadline", "0"])
    assert exc.value.code == 2 and "--deadline" in capsys.readouterr().err


def test_every_command_that_reads_a_source_takes_the_time_limits():
    from imgviz._commands import COMMANDS
    from imgviz.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in COMMANDS:
        p = sub.choices[name.replace("_", "-")]
        flags = {o for a in p._actions for o in a.option_strings}
        assert {"--deadline", "--request-timeout"} <= flags, f"imgviz {name} lacks the time limits"


def test_pull_plan_deadline_bounds_a_registry_that_never_answers(tmp_path):
    """A registry that accepts the connection and never says a word: --deadline ends the command
    with one line, in about the time asked for (the request timeout alone would wait 120 s)."""
    import socket
    import subprocess
    import sys

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    try:
        t = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "imgviz", "pull-plan", f"127.0.0.1:{port}/app:1", "--demo",
                               "--deadline", "2"], capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        took = time.monotonic() - t
    finally:
        srv.close()
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("imgviz: error:"), proc.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "Traceback" not in proc.stderr
    assert took < 30, f"--deadline 2 took {took:.1f} s"
