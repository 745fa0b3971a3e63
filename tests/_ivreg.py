"""Small busybox images for registry, archive and pull tests, built on the real engine.

``ivreg/base:1``   busybox-static imported (1 layer)
``ivreg/app:1``    FROM base: ENV, COPY app.txt, RUN (3 layers)
``ivreg/app:2``    FROM app:1: RUN writes 300 KB of random bytes (4 layers)
``ivreg/other:1``  FROM base: another COPY (2 layers; shares only the base with app)
"""

from __future__ import annotations

from pathlib import Path

IMAGES = ["ivreg/base:1", "ivreg/app:1", "ivreg/app:2", "ivreg/other:1"]


def build_images(engine, workdir: Path) -> dict[str, str]:
    """Build the four images (idempotent per engine); returns tag -> image ID."""
    engine.busybox_base("ivreg/base:1")
    app = workdir / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "Dockerfile").write_text("FROM ivreg/base:1\nENV APP=one\nCOPY app.txt /app/app.txt\n"
                                    "RUN echo built > /app/stamp\nCMD [\"cat\", \"/app/app.txt\"]\n")
    (app / "app.txt").write_text("the app, version one\n")
    engine.build(app, "ivreg/app:1")
    app2 = workdir / "app2"
    app2.mkdir(exist_ok=True)
    (app2 / "Dockerfile").write_text("FROM ivreg/app:1\nRUN head -c 300000 /dev/urandom > /app/blob\n")
    engine.build(app2, "ivreg/app:2")
    other = workdir / "other"
    other.mkdir(exist_ok=True)
    (other / "Dockerfile").write_text("FROM ivreg/base:1\nCOPY other.txt /other.txt\n")
    (other / "other.txt").write_text("another image on the same base\n")
    engine.build(other, "ivreg/other:1")
    return {tag: engine.docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip() for tag in IMAGES}
