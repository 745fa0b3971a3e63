"""Images built to be wasteful, for the file-level analyses, on a real engine with both builders.

Each case is a Dockerfile on a busybox-static base; every case is built twice, with BuildKit
(``ivf/NAME:bk``) and with the classic builder (``ivf/NAME:classic``), because the two builders
write different layer tars for the same steps (the classic builder repeats parent directories,
BuildKit's differ does not; they differ on whiteouts and opaque directories).

==============  =============================================================================
``deleted``     files and a directory added, then removed in later layers; a base file removed
``overwritten`` one path written three times (COPY, COPY, RUN append); add + delete in one step
``chmod``       chmod-only, chown-only and touch-only changes of a big file; a directory chmod
``opaque``      a directory removed and made again (overlayfs: an opaque directory)
``hardlinks``   three hard links to one file, one name removed, one changed (copy-up)
``symlinks``    symlinks added, replaced, and pointing nowhere
``duplicates``  the same bytes at several paths and in several layers
``retype``      a directory replaced by a file, a file replaced by a directory
==============  =============================================================================
"""

from __future__ import annotations

import os
import random
from pathlib import Path

BASE = "ivf/base:1"

CASES: dict[str, str] = {
    "deleted": """\
COPY big.bin /data/big.bin
COPY tree/ /data/tree/
RUN rm /data/big.bin
RUN rm -rf /data/tree /root && rm /bin/vi
""",
    "overwritten": """\
COPY v1.bin /app/file.bin
COPY v2.bin /app/file.bin
RUN echo changed >> /app/file.bin
RUN cp /bin/busybox /app/bb && rm /app/bb && echo kept > /app/kept
""",
    "chmod": """\
COPY big.bin /opt/big.bin
RUN chmod 600 /opt/big.bin
RUN chown 1000:1000 /opt/big.bin
RUN chmod 700 /opt
RUN touch -d "2020-01-02 03:04:05" /opt/big.bin
""",
    "opaque": """\
RUN mkdir -p /o/sub && echo a > /o/a && echo b > /o/sub/b && head -c 50000 /bin/busybox > /o/sub/c
RUN rm -rf /o && mkdir /o && echo new > /o/new
RUN rm -rf /tmp && mkdir /tmp && echo fresh > /tmp/only
""",
    "hardlinks": """\
RUN mkdir /h && head -c 100000 /bin/busybox > /h/a && ln /h/a /h/b && ln /h/a /h/c
RUN rm /h/a
RUN echo x >> /h/b
""",
    "symlinks": """\
RUN mkdir /s && ln -s ../bin/busybox /s/bb && ln -s /nowhere /s/dangling && ln -s /s /s/loop
RUN rm /s/bb && ln -s /bin/sh /s/bb
RUN rm /s/dangling
""",
    "duplicates": """\
COPY big.bin /a/big.bin
COPY big.bin /b/big.bin
RUN mkdir /c && cp /a/big.bin /c/copy.bin && cp /a/big.bin /c/copy2.bin
COPY tree/ /d/tree/
""",
    "retype": """\
RUN mkdir -p /r/inner && echo 1 > /r/inner/x && echo file > /f
RUN rm -rf /r && echo now-a-file > /r && rm /f && mkdir /f && echo in > /f/in
""",
}

BUILDERS = {"bk": True, "classic": False}


def tags() -> list[str]:
    return [f"ivf/{name}:{b}" for name in CASES for b in BUILDERS]


def _context(root: Path, name: str, dockerfile: str) -> Path:
    ctx = root / name
    ctx.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(name)
    (ctx / "big.bin").write_bytes(rnd.randbytes(300_000))
    (ctx / "v1.bin").write_bytes(rnd.randbytes(120_000))
    (ctx / "v2.bin").write_bytes(rnd.randbytes(80_000))
    tree = ctx / "tree"
    (tree / "sub").mkdir(parents=True, exist_ok=True)
    for k in range(4):
        (tree / f"f{k}.txt").write_bytes(rnd.randbytes(10_000 * (k + 1)))
    (tree / "sub" / "deep.txt").write_bytes(rnd.randbytes(7_000))
    for path in [ctx / "big.bin", ctx / "v1.bin", ctx / "v2.bin", *tree.rglob("*")]:
        os.utime(path, (1_700_000_000, 1_700_000_000))
    (ctx / "Dockerfile").write_text(f"FROM {BASE}\n{dockerfile}")
    return ctx


def build_wasteful(engine, workdir: Path, *, cases=None) -> list[str]:
    """Build every case with both builders on ``engine``; returns the tags built."""
    engine.busybox_base(BASE)
    built = []
    for name in cases or CASES:
        ctx = _context(Path(workdir), name, CASES[name])
        for suffix, buildkit in BUILDERS.items():
            tag = f"ivf/{name}:{suffix}"
            engine.build(ctx, tag, buildkit=buildkit)
            built.append(tag)
    return built
