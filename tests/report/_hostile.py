"""Images whose labels, ENV values and RUN commands hold HTML, scripts and secrets.

Built on a real engine (busybox-static base, both builders), so the report is tested against what
the engine really records: BuildKit writes ``ENV API_TOKEN=...`` and ``|1 DB_PASSWORD=... /bin/sh
-c ...`` into the history, the classic builder ``/bin/sh -c #(nop)  ENV ...``. Tags cannot hold
``<`` (the engine refuses them), so the markup is in labels, ENV values and commands.

``python -m tests.report._hostile`` rebuilds them on a private engine and re-records
tests/data/hostile/snapshot.json.gz.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

BASE = "report-test/busybox:base"
TAG = "report-test/hostile:1"
CLASSIC_TAG = "report-test/hostile:classic"
CONTAINER = "report-test-hostile"

#: secret values that must never appear in a report made without --show-secrets
SECRETS = ("tok-live-9f8e7d", "build-time-secret-4711", "url-secret-55", "ghp-container-secret-1")
#: markup that must show as text and run nothing (window.__pwned stays undefined)
MARKUP = ("<script>window.__pwned=1</script>", "<img src=x onerror=window.__pwned=2>",
          "<a href=javascript:window.__pwned=3>link</a>", "<script>window.__pwned=4</script>",
          "<script>window.__pwned=5</script>")

DOCKERFILE = f"""FROM {BASE}
ARG DB_PASSWORD=build-time-secret-4711
LABEL org.example.note="<img src=x onerror=window.__pwned=2>" \\
      org.example.html="<b>bold?</b> & <a href=javascript:window.__pwned=3>link</a>"
ENV API_TOKEN=tok-live-9f8e7d \\
    SERVICE_URL=postgres://app:url-secret-55@db.internal/app \\
    GREETING="<script>window.__pwned=4</script>"
RUN echo "<script>window.__pwned=1</script>" > /x && echo "$DB_PASSWORD" > /dev/null
CMD ["sh"]
"""


def build(engine, workdir: Path | None = None) -> None:
    """Build both images and create the container on ``engine`` (a tests._engine.Engine)."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="report-hostile-"))
    workdir.mkdir(parents=True, exist_ok=True)
    engine.busybox_base(BASE)
    (workdir / "Dockerfile").write_text(DOCKERFILE)
    engine.build(workdir, TAG)
    engine.build(workdir, CLASSIC_TAG, buildkit=False)
    engine.docker("rm", "-f", CONTAINER, check=False)
    engine.docker("create", "--network", "none", "--name", CONTAINER, "-e", "GITHUB_TOKEN=ghp-container-secret-1",
                  "-e", "NOTE=<script>window.__pwned=5</script>", TAG)


def remove(engine) -> None:
    engine.docker("rm", "-f", CONTAINER, check=False)
    engine.docker("image", "rm", "-f", TAG, CLASSIC_TAG, check=False)


def record(engine, outdir: Path) -> Path:
    from imgviz.sources.engine import collect

    outdir.mkdir(parents=True, exist_ok=True)
    snap = collect(host=engine.host, progress=False)
    snap.source["host"] = "unix:///recorded/report-hostile.sock"
    return snap.save(outdir / "snapshot.json.gz")


if __name__ == "__main__":
    from .._engine import start_private_engine

    eng = start_private_engine()
    try:
        build(eng)
        print(record(eng, Path(__file__).resolve().parent.parent / "data" / "hostile"))
    finally:
        eng.stop()
