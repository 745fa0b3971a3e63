"""Benchmark: parse + expand a 10,000-line Dockerfile, against BuildKit's own Go parser.

Measured in the same run, printed as ratios (nothing here is a test):

* ``mixed``: 10,000 lines of what Dockerfiles hold (ENV/ARG chains reading earlier variables,
  RUN with continuations and comments, COPY with variables, LABEL, WORKDIR, heredocs, several
  stages).
* ``env-chain``: 10,000 ``ENV Vn=${V(n-1)}x`` lines, each reading the one before (the case that
  took 51 s in the cascade before: a quadratic environment copy).
* ``nested``: one ENV with 3,000 nested ``${...:-...}`` (expanded without recursion).

For each: imgviz's ``parse`` + ``evaluate`` (both builders, Docker 28.5 rules and 20.10 rules)
and the ``dockerfile`` package's ``parse_string`` (BuildKit v0.12's Go parser: parsing only, no
expansion).  Best of ``--repeat`` runs.  Goal: imgviz well under 2 s for 10,000 lines.

    python bench/dockerfile.py [--lines 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# this file is named like the peer package: keep bench/ off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from imgviz.dockerfile.expand import evaluate  # noqa: E402
from imgviz.dockerfile.parser import parse  # noqa: E402


def mixed(n: int, engine: str = "28.5") -> str:
    out = ["ARG BASE=debian:bookworm", "ARG VERSION=1.0"]
    stage = 0
    i = 0
    while len(out) < n:
        if i % 2500 == 0:
            out.append(f"FROM ${{BASE}} AS s{stage}")
            out.append("ARG VERSION")
            stage += 1
        k = i % 10
        if k == 0:
            out.append(f"ENV A{i}=${{VERSION}}-{i} B{i}=\"quoted ${{A{i}:-x}}\"")
        elif k == 1:
            op = "%-*" if engine == "28.5" else ":-y"     # 20.10 has no ${V%pattern}
            out.append(f"ARG X{i}=${{A{i - 1}{op}}}")
        elif k == 2:
            out += ["RUN set -e; \\", "    # a comment inside", f"    echo {i} && \\", "    true"]
        elif k == 3:
            out.append(f"COPY --chown=1000:1000 src/${{X{i - 2}:-none}}/ /app/{i}/")
        elif k == 4:
            out.append(f"LABEL org.example.n{i}=\"${{A{i - 4}}}\" other=value")
        elif k == 5:
            out.append(f"WORKDIR /srv/${{X{i - 4}}}")
        elif k == 6:
            if engine == "28.5":
                out += [f"COPY <<EOF /etc/conf{i}", f"value=${{A{i - 6}}}", "EOF"]
            else:                                      # 20.10 has no heredocs
                out.append(f"COPY conf{i} /etc/conf{i}")
        elif k == 7:
            out.append(f'RUN ["sh", "-c", "echo {i}"]')
        elif k == 8:
            out.append(f"ENV PATH=/opt/{i}/bin:$PATH")
        else:
            out.append(f"USER ${{UNSET:-user{i}}}")
        i += 1
    return "\n".join(out[:n]) + "\n"


def env_chain(n: int) -> str:
    return "FROM scratch\nENV V0=x\n" + "".join(f"ENV V{i}=${{V{i - 1}}}x\n" for i in range(1, n - 1))


def nested(depth: int) -> str:
    return "FROM scratch\nENV A=" + "${UNSET:-" * depth + "x" + "}" * depth + "\n"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    opts = ap.parse_args()
    try:
        import dockerfile as oracle
    except ImportError:
        oracle = None
        print("the `dockerfile` package is not installed: no peer to compare with (pip install dockerfile)")
    texts = {"mixed": mixed(opts.lines), "env-chain": env_chain(opts.lines), "nested": nested(3000)}
    print(f"{'case':<10} {'lines':>6} {'engine':>6} {'imgviz parse':>13} {'+ expand bk':>12} {'+ classic':>10} "
          f"{'Go parse':>9} {'ratio':>6}")
    for name, text in texts.items():
        nlines = text.count("\n")
        go = best(lambda: oracle.parse_string(text), opts.repeat) if oracle else float("nan")
        for engine in ("28.5", "20.10"):
            body = mixed(opts.lines, engine) if name == "mixed" else text
            t_parse = best(lambda: parse(body, engine=engine), opts.repeat)
            df = parse(body, engine=engine)
            t_bk = best(lambda: evaluate(df, builder="buildkit"), opts.repeat)
            t_cl = best(lambda: evaluate(df, builder="classic"), opts.repeat)
            total = t_parse + max(t_bk, t_cl)
            ratio = total / go if go == go and go > 0 else float("nan")
            print(f"{name:<10} {nlines:>6} {engine:>6} {t_parse:>12.3f}s {t_bk:>11.3f}s {t_cl:>9.3f}s "
                  f"{go:>8.3f}s {ratio:>5.1f}x")
    print("ratio = (imgviz parse + slower expansion) / Go parse; imgviz also expands every word, Go only parses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
