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

#: secret values that must never appear in a report made without --show-secrets: the first four
#: by name, the rest the issue found missed (an empty URL user, PASS names, a private key in a
#: label, a bearer token in a RUN line, ``-u user:pw`` in a CMD)
SECRETS = ("tok-live-9f8e7d", "build-time-secret-4711", "url-secret-55", "ghp-container-secret-1",
           "redis-pw-41", "db-pass-42", "mysql-root-43", "OPENSSHKEYBODY44", "bearer-tok-45", "curl-pw-46")
#: markup that must show as text and run nothing (window.__pwned stays undefined): tags and event
#: handlers, a javascript: link, a script-block breakout, an attribute breakout, SVG and iframe
#: documents, a pre-escaped entity that must not be decoded twice
MARKUP = ("<script>window.__pwned=1</script>", "<img src=x onerror=window.__pwned=2>",
          "<a href=javascript:window.__pwned=3>link</a>", "<script>window.__pwned=4</script>",
          "<script>window.__pwned=5</script>", "</script><script>window.__pwned=6</script>",
          '"><svg onload=window.__pwned=7>', "<iframe srcdoc='<script>parent.__pwned=8</script>'></iframe>",
          "&lt;img src=x onerror=window.__pwned=10&gt;")
#: text that is only dangerous to a page that evaluates templates: shown as it is, runs nothing
TEXT_PAYLOADS = ("{{constructor.constructor('window.__pwned=9')()}}",)
#: characters that reorder or hide text, and terminal escapes: shown as visible markers
INVISIBLE = ("\u202e", "\u200b", "\x1b")

DOCKERFILE = f"""FROM {BASE}
ARG DB_PASSWORD=build-time-secret-4711
LABEL org.example.note="<img src=x onerror=window.__pwned=2>" \\
      org.example.html="<b>bold?</b> & <a href=javascript:window.__pwned=3>link</a>" \\
      org.example.breakout="</script><script>window.__pwned=6</script>" \\
      org.example.attr='"><svg onload=window.__pwned=7>' \\
      org.example.frame="<iframe srcdoc='<script>parent.__pwned=8</script>'></iframe>" \\
      org.example.template="{{{{constructor.constructor('window.__pwned=9')()}}}}" \\
      org.example.entity="&lt;img src=x onerror=window.__pwned=10&gt;" \\
      org.example.rtl="invoice\u202egpj.exe" \\
      org.example.zw="zero\u200bwidth" \\
      org.example.term="title\x1b]0;owned\x07\x1b[2J" \\
      org.example.deploy-key="-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAOPENSSHKEYBODY44AAAA -----END OPENSSH PRIVATE KEY-----"
ENV API_TOKEN=tok-live-9f8e7d \\
    SERVICE_URL=postgres://app:url-secret-55@db.internal/app \\
    REDIS_URL=redis://:redis-pw-41@cache:6379/0 \\
    DB_PASS=db-pass-42 \\
    MYSQL_ROOT_PASS=mysql-root-43 \\
    GREETING="<script>window.__pwned=4</script>"
RUN echo "<script>window.__pwned=1</script>" > /x && echo "$DB_PASSWORD" > /dev/null
RUN echo 'Authorization: Bearer bearer-tok-45' > /dev/null
CMD ["curl", "-u", "admin:curl-pw-46", "https://example.invalid/"]
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
