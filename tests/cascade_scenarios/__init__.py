"""Cascade scenarios: an OLD and a NEW build directory each, built on a real engine.

A scenario is a dict:

``old`` / ``new``
    file trees: path -> text, or a dict with ``content``, ``mode``, ``symlink``,
    ``dir``, ``mtime`` (ns).  ``Dockerfile`` is one of the files; ``{BASE}`` and
    ``{BASE2}`` are replaced by per-run base images.
``base2_same_layers``
    import ``{BASE2}`` from the same root file system as ``{BASE}``.
``parse_refused``
    NEW's Dockerfile is refused by the parser itself (not a parse tree to compare).
``builders``
    run on real engines with these builders only (cases found while measuring one builder;
    the others' predictions of them are not proven).
``first_miss``
    per builder, the line of NEW's Dockerfile where the engine must rebuild
    first (``None``: nothing may rebuild).  It proves the scenario exercises the
    change it is named after; the suite's real assertion is prediction == engine
    for every step the engine reports.  A key ``"BUILDER@ENGINE"`` (``"buildkit@28.5"``)
    overrides the builder's value on that engine generation (``"20.10"``, ``"28.5"``,
    as :func:`imgviz.builders.get_builder` maps the engine's version).  Besides a line:

    * ``"engine"``: whatever the engine does (a quirk the prediction flags);
    * ``"refused"``: OLD builds, NEW does not; the prediction must say where and why
      (the builder's message) and agree on the steps before;
    * ``"unbuildable"``: the engine refuses OLD already (a feature it does not have);
      the prediction must refuse it with the engine's reason.

The scenarios at the end exist because Docker 28 builds them (heredocs, ``COPY --link``,
``${V%...}``, patternmatcher's ``**``), or because a build fails; on 20.10 the suite proves the
refusal.
"""

from __future__ import annotations

T0 = 1_700_000_000_000_000_000

_DF_BASIC = """FROM {BASE}
ENV APP=demo
WORKDIR /app
COPY a.txt /app/a.txt
RUN cat /app/a.txt > /tmp/out
COPY b.txt /app/b.txt
CMD ["sh"]
"""


def _with(df: str, **files) -> dict:
    out = {"Dockerfile": df}
    out.update({k.replace("__", "/").replace("_dot_", "."): v for k, v in files.items()})
    return out


SCENARIOS: dict[str, dict] = {}


def scenario(name, old, new, first_miss, **extra):
    SCENARIOS[name] = {"old": old, "new": new, "first_miss": first_miss, **extra}


def expected(name: str, builder: str, engine: str):
    """The scenario's expectation for *builder* on engine generation *engine*."""
    fm = SCENARIOS[name]["first_miss"]
    return fm.get(f"{builder}@{engine}", fm[builder])


_base_files = {"a.txt": "alpha\n", "b.txt": "bravo\n"}

scenario("file-edit",
         {"Dockerfile": _DF_BASIC, **_base_files},
         {"Dockerfile": _DF_BASIC, "a.txt": "alpha, edited\n", "b.txt": "bravo\n"},
         {"buildkit": 4, "classic": 4})

scenario("mtime-only",
         {"Dockerfile": _DF_BASIC, **_base_files},
         {"Dockerfile": _DF_BASIC, "a.txt": {"content": "alpha\n", "mtime": T0 + 777_000_000_000},
          "b.txt": "bravo\n"},
         {"buildkit": None, "classic": None})

# content changes, size and mtime kept: BuildKit's incremental transfer may skip it
scenario("same-size-same-mtime",
         {"Dockerfile": _DF_BASIC, "a.txt": {"content": "alpha\n", "mtime": T0}, "b.txt": "bravo\n"},
         {"Dockerfile": _DF_BASIC, "a.txt": {"content": "ALPHA\n", "mtime": T0}, "b.txt": "bravo\n"},
         {"buildkit": "engine", "classic": 4})

scenario("chmod",
         {"Dockerfile": _DF_BASIC, "a.txt": {"content": "alpha\n", "mode": 0o644}, "b.txt": "bravo\n"},
         {"Dockerfile": _DF_BASIC, "a.txt": {"content": "alpha\n", "mode": 0o755}, "b.txt": "bravo\n"},
         {"buildkit": 4, "classic": 4})

_DF_TREE = """FROM {BASE}
COPY tree /tree
RUN ls -l /tree > /tmp/listing
COPY b.txt /b.txt
"""
scenario("symlink-target",
         {"Dockerfile": _DF_TREE, "tree/x.txt": "x\n", "tree/y.txt": "y\n", "tree/link": {"symlink": "x.txt"},
          "b.txt": "b\n"},
         {"Dockerfile": _DF_TREE, "tree/x.txt": "x\n", "tree/y.txt": "y\n", "tree/link": {"symlink": "y.txt"},
          "b.txt": "b\n"},
         {"buildkit": 2, "classic": 2})

scenario("symlink-unchanged-file-added-outside",
         {"Dockerfile": _DF_TREE, "tree/x.txt": "x\n", "tree/link": {"symlink": "x.txt"}, "b.txt": "b\n"},
         {"Dockerfile": _DF_TREE, "tree/x.txt": "x\n", "tree/link": {"symlink": "x.txt"}, "b.txt": "b\n",
          "other.txt": "not copied\n"},
         {"buildkit": None, "classic": None})

_DF_ALL = """FROM {BASE}
WORKDIR /src
COPY . .
RUN ls -R /src > /tmp/listing
"""
_IGN = "*.log\n!keep.log\nbuild\n**/*.tmp\n"
scenario("dockerignore-ignored-change",
         {"Dockerfile": _DF_ALL, ".dockerignore": _IGN, "app.txt": "app\n", "debug.log": "d1\n",
          "keep.log": "k1\n", "build/out.bin": "o1\n", "sub/deep/x.tmp": "t1\n", "sub/deep/y.txt": "y\n"},
         {"Dockerfile": _DF_ALL, ".dockerignore": _IGN, "app.txt": "app\n", "debug.log": "d2 changed\n",
          "keep.log": "k1\n", "build/out.bin": "o2 changed\n", "sub/deep/x.tmp": "t2 changed\n",
          "sub/deep/y.txt": "y\n", "sub/deep/z.tmp": "new tmp\n"},
         {"buildkit": None, "classic": None})

scenario("dockerignore-exception-change",
         {"Dockerfile": _DF_ALL, ".dockerignore": _IGN, "app.txt": "app\n", "debug.log": "d1\n",
          "keep.log": "k1\n"},
         {"Dockerfile": _DF_ALL, ".dockerignore": _IGN, "app.txt": "app\n", "debug.log": "d1\n",
          "keep.log": "k2 changed\n"},
         {"buildkit": 3, "classic": 3})

# an exception inside an excluded directory only works when the pattern names the directory
_IGN2 = "data\n!data/keep.txt\nlogs\n!**/important.txt\n"
scenario("dockerignore-excluded-dir-exceptions",
         {"Dockerfile": _DF_ALL, ".dockerignore": _IGN2, "app.txt": "app\n", "data/keep.txt": "k1\n",
          "data/drop.txt": "d1\n", "logs/important.txt": "i1\n"},
         {"Dockerfile": _DF_ALL, ".dockerignore": _IGN2, "app.txt": "app\n", "data/keep.txt": "k1\n",
          "data/drop.txt": "d2 changed\n", "logs/important.txt": "i2 changed\n"},
         # Docker 28's BuildKit (fsutil of 2025) enters `logs` for `!**/important.txt` and sends it
         {"buildkit": None, "classic": None, "buildkit@28.5": 3})

scenario("dockerignore-no-implicit-prefix",
         {"Dockerfile": _DF_ALL, ".dockerignore": "*.md\n", "README.md": "r1\n", "docs/guide.md": "g1\n"},
         {"Dockerfile": _DF_ALL, ".dockerignore": "*.md\n", "README.md": "r2 changed\n",
          "docs/guide.md": "g2 changed\n"},
         {"buildkit": 3, "classic": 3})

# <Dockerfile>.dockerignore: Docker 20.10's BuildKit client uses it, the classic builder does not
scenario("dockerfile-specific-ignore",
         {"Dockerfile": _DF_ALL, "Dockerfile.dockerignore": "secret.txt\n", "app.txt": "app\n",
          "secret.txt": "s1\n"},
         {"Dockerfile": _DF_ALL, "Dockerfile.dockerignore": "secret.txt\n", "app.txt": "app\n",
          "secret.txt": "s2 changed\n"},
         {"buildkit": None, "classic": 3})

_DF_META = """FROM {BASE}
ENV MODE={mode}
LABEL org.example.tier={tier}
EXPOSE {port}
USER {user}
COPY a.txt /a.txt
RUN cat /a.txt > /tmp/a
WORKDIR /work
RUN echo done > /tmp/done
"""


def _meta(mode="prod", tier="web", port="8080", user="root"):
    return {"Dockerfile": _DF_META.replace("{mode}", mode).replace("{tier}", tier).replace("{port}", port)
            .replace("{user}", user), "a.txt": "a\n"}


scenario("env-edit", _meta(), _meta(mode="dev"), {"buildkit": 7, "classic": 2})
scenario("label-edit", _meta(), _meta(tier="api"), {"buildkit": None, "classic": 3})
scenario("expose-edit", _meta(), _meta(port="9090"), {"buildkit": None, "classic": 4})
scenario("user-edit", _meta(), _meta(user="appuser"), {"buildkit": 7, "classic": 5})

_DF_ARG = """FROM {BASE}
ARG VERSION={v}
COPY a.txt /a.txt
RUN echo building > /tmp/x
"""
scenario("arg-edit-unreferenced",
         {"Dockerfile": _DF_ARG.replace("{v}", "1.0"), "a.txt": "a\n"},
         {"Dockerfile": _DF_ARG.replace("{v}", "2.0"), "a.txt": "a\n"},
         {"buildkit": 4, "classic": 2})

_DF_ARGX = """ARG TAG=x
FROM {BASE}
ARG TAG
ARG UNSET
ENV WHERE=/opt/${TAG:-none}
COPY a.txt ${WHERE}/a.txt
RUN echo ${TAG:+tagged} > /tmp/t
"""
scenario("arg-global-expansion",
         {"Dockerfile": _DF_ARGX, "a.txt": "a\n"},
         {"Dockerfile": _DF_ARGX.replace("ARG TAG=x", "ARG TAG=y"), "a.txt": "a\n"},
         {"buildkit": 6, "classic": 5})

_DF_RUN = """FROM {BASE}
COPY a.txt /a.txt
RUN echo one > /tmp/1 && \\
    echo two > /tmp/2
RUN echo three > /tmp/3
"""
scenario("run-whitespace",
         {"Dockerfile": _DF_RUN, "a.txt": "a\n"},
         {"Dockerfile": _DF_RUN.replace("echo three", "echo  three"), "a.txt": "a\n"},
         {"buildkit": 5, "classic": 5})

scenario("run-reflowed-continuation",
         {"Dockerfile": _DF_RUN, "a.txt": "a\n"},
         {"Dockerfile": _DF_RUN.replace("echo one > /tmp/1 && \\\n    echo two",
                                        "echo one > /tmp/1 \\\n    && echo two"), "a.txt": "a\n"},
         {"buildkit": 3, "classic": 3})

scenario("comments-added",
         {"Dockerfile": _DF_RUN, "a.txt": "a\n"},
         {"Dockerfile": "# build the demo\n" + _DF_RUN.replace(
             "RUN echo one > /tmp/1 && \\\n", "# copy first\nRUN echo one > /tmp/1 && \\\n  # inside a continuation\n"),
          "a.txt": "a\n"},
         {"buildkit": None, "classic": None})

scenario("comments-added-copy-all",
         {"Dockerfile": _DF_ALL, "app.txt": "app\n"},
         {"Dockerfile": "# a comment changes the Dockerfile, which COPY . copies\n" + _DF_ALL, "app.txt": "app\n"},
         {"buildkit": 4, "classic": 4})

_DF_WD = """FROM {BASE}
WORKDIR {wd}
COPY a.txt data/a.txt
RUN cat data/a.txt > /tmp/a
"""
scenario("workdir-edit",
         {"Dockerfile": _DF_WD.replace("{wd}", "/app"), "a.txt": "a\n"},
         {"Dockerfile": _DF_WD.replace("{wd}", "/srv"), "a.txt": "a\n"},
         {"buildkit": 2, "classic": 2})

_DF_MS = """FROM {BASE} AS builder
WORKDIR /build
COPY src.txt .
RUN cat src.txt src.txt > out.txt
COPY extra.txt /extra/extra.txt

FROM {BASE}
COPY app.txt /app.txt
COPY --from=builder /build/out.txt /out.txt
COPY --from=builder /extra /extra
RUN ls /extra > /tmp/x
"""
scenario("multistage-source-changed",
         {"Dockerfile": _DF_MS, "src.txt": "s1\n", "extra.txt": "e\n", "app.txt": "app\n"},
         {"Dockerfile": _DF_MS, "src.txt": "s2 changed\n", "extra.txt": "e\n", "app.txt": "app\n"},
         {"buildkit": 3, "classic": 3})

scenario("multistage-final-only",
         {"Dockerfile": _DF_MS, "src.txt": "s1\n", "extra.txt": "e\n", "app.txt": "app\n"},
         {"Dockerfile": _DF_MS, "src.txt": "s1\n", "extra.txt": "e\n", "app.txt": "app changed\n"},
         {"buildkit": 8, "classic": 8})

scenario("multistage-copy-only-change",
         {"Dockerfile": _DF_MS, "src.txt": "s1\n", "extra.txt": "e1\n", "app.txt": "app\n"},
         {"Dockerfile": _DF_MS, "src.txt": "s1\n", "extra.txt": "e2 changed\n", "app.txt": "app\n"},
         {"buildkit": 5, "classic": 5})

_DF_UNUSED = """FROM {BASE} AS unused
COPY u.txt /u.txt
RUN cat /u.txt

FROM {BASE}
COPY app.txt /app.txt
RUN cat /app.txt
"""
scenario("unused-stage-changed",
         {"Dockerfile": _DF_UNUSED, "u.txt": "u1\n", "app.txt": "app\n"},
         {"Dockerfile": _DF_UNUSED, "u.txt": "u2 changed\n", "app.txt": "app\n"},
         {"buildkit": None, "classic": 2})

scenario("base-image-change",
         {"Dockerfile": _DF_BASIC, **_base_files},
         {"Dockerfile": _DF_BASIC.replace("{BASE}", "{BASE2}"), **_base_files},
         {"buildkit": 3, "classic": 2})

# same layers, other config (a label): classic sees a new parent, BuildKit keys by layers
scenario("base-config-only-change",
         {"Dockerfile": _DF_BASIC, **_base_files},
         {"Dockerfile": _DF_BASIC.replace("{BASE}", "{BASE2}"), **_base_files},
         {"buildkit": None, "classic": 2}, base2_same_layers=True)

_DF_ORDER_A = """FROM {BASE}
COPY a.txt /a.txt
COPY b.txt /b.txt
RUN cat /a.txt /b.txt > /tmp/ab
"""
_DF_ORDER_B = """FROM {BASE}
COPY b.txt /b.txt
COPY a.txt /a.txt
RUN cat /a.txt /b.txt > /tmp/ab
"""
scenario("reordered-instructions",
         {"Dockerfile": _DF_ORDER_A, **_base_files},
         {"Dockerfile": _DF_ORDER_B, **_base_files},
         {"buildkit": 2, "classic": 2})

_DF_ENVORD = """FROM {BASE}
ENV A=1
ENV B=2
COPY a.txt /a.txt
RUN echo $A $B > /tmp/ab
"""
scenario("env-reordered",
         {"Dockerfile": _DF_ENVORD, "a.txt": "a\n"},
         {"Dockerfile": _DF_ENVORD.replace("ENV A=1\nENV B=2", "ENV B=2\nENV A=1"), "a.txt": "a\n"},
         {"buildkit": 5, "classic": 2})

_DF_FORMS = """FROM {BASE}
ENV GREETING hello
COPY ["a.txt", "/a.txt"]
RUN ["sh", "-c", "echo $GREETING > /tmp/g"]
"""
scenario("env-legacy-form-same-value",
         {"Dockerfile": _DF_FORMS, "a.txt": "a\n"},
         {"Dockerfile": _DF_FORMS.replace("ENV GREETING hello", "ENV GREETING=hello")
          .replace('COPY ["a.txt", "/a.txt"]', "COPY a.txt /a.txt"), "a.txt": "a\n"},
         {"buildkit": None, "classic": None})

_DF_CHOWN = """FROM {BASE}
COPY --chown={owner} a.txt /a.txt
RUN ls -ln /a.txt > /tmp/owner
"""
scenario("chown-edit",
         {"Dockerfile": _DF_CHOWN.replace("{owner}", "1000:1000"), "a.txt": "a\n"},
         {"Dockerfile": _DF_CHOWN.replace("{owner}", "0:0"), "a.txt": "a\n"},
         {"buildkit": 2, "classic": 2})

_DF_SHELL = """FROM {BASE}
COPY a.txt /a.txt
SHELL ["/bin/sh", "{flags}"]
RUN cat /a.txt > /tmp/a
"""
scenario("shell-edit",
         {"Dockerfile": _DF_SHELL.replace("{flags}", "-c"), "a.txt": "a\n"},
         {"Dockerfile": _DF_SHELL.replace("{flags}", "-ec"), "a.txt": "a\n"},
         {"buildkit": 4, "classic": 3})

# the builder's RUN is re-executed (its environment changed) but writes the same bytes: the
# prediction cannot know that and says unknown for the COPY --from; the engine hits
_DF_SAME_OUT = """FROM {BASE} AS builder
ENV BUILD_ID={id}
RUN echo constant > /out.txt

FROM {BASE}
COPY --from=builder /out.txt /out.txt
RUN cat /out.txt
"""
scenario("rerun-same-output",
         {"Dockerfile": _DF_SAME_OUT.replace("{id}", "1")},
         {"Dockerfile": _DF_SAME_OUT.replace("{id}", "2")},
         {"buildkit": 3, "classic": 2})

# the Dockerfile itself excluded from the context: a comment no longer reaches COPY .
_DF_ALL2 = """FROM {BASE}
COPY . /src
RUN ls /src > /tmp/listing
"""
scenario("dockerignore-excludes-dockerfile",
         {"Dockerfile": _DF_ALL2, ".dockerignore": "Dockerfile\n.dockerignore\n", "app.txt": "app\n"},
         {"Dockerfile": "# edited\n" + _DF_ALL2, ".dockerignore": "Dockerfile\n.dockerignore\n", "app.txt": "app\n"},
         {"buildkit": None, "classic": None})


# -- Docker 28: what 20.10 could not build, and what changed ------------------------------------------
_DF_HEREDOC_RUN = """FROM {BASE}
COPY a.txt /a.txt
RUN <<EOF
echo {word} > /tmp/word
EOF
RUN cat /a.txt > /tmp/a
"""
# 28.5's classic builder runs only `<<EOF` (no body): the body is in neither image nor key
scenario("heredoc-run-body-edit",
         {"Dockerfile": _DF_HEREDOC_RUN.replace("{word}", "one"), "a.txt": "a\n"},
         {"Dockerfile": _DF_HEREDOC_RUN.replace("{word}", "two"), "a.txt": "a\n"},
         {"buildkit": "unbuildable", "classic": "unbuildable", "buildkit@28.5": 3, "classic@28.5": None})

_DF_HEREDOC_COPY = """FROM {BASE}
ARG GREETING={greeting}
COPY <<EOF /greeting.txt
${GREETING} world
EOF
RUN cat /greeting.txt > /tmp/g
"""
# the body is expanded with the ARG: the copied content changes
scenario("heredoc-copy-expanded",
         {"Dockerfile": _DF_HEREDOC_COPY.replace("{greeting}", "hello")},
         {"Dockerfile": _DF_HEREDOC_COPY.replace("{greeting}", "bonjour")},
         {"buildkit": "unbuildable", "classic": "unbuildable", "buildkit@28.5": 3})

_DF_HEREDOC_QUOTED = """FROM {BASE}
ARG GREETING={greeting}
COPY <<"EOF" /greeting.txt
${GREETING} world
EOF
COPY a.txt /a.txt
RUN cat /greeting.txt /a.txt > /tmp/g
"""
# a quoted name: the body is copied as written, so the COPY hits; the RUN sees the ARG
scenario("heredoc-copy-quoted",
         {"Dockerfile": _DF_HEREDOC_QUOTED.replace("{greeting}", "hello"), "a.txt": "a\n"},
         {"Dockerfile": _DF_HEREDOC_QUOTED.replace("{greeting}", "bonjour"), "a.txt": "a\n"},
         {"buildkit": "unbuildable", "classic": "unbuildable", "buildkit@28.5": 7})

_DF_LINK = """FROM {BASE}
RUN echo {n} > /tmp/n
COPY --link a.txt /a.txt
RUN cat /a.txt /tmp/n > /tmp/both
"""
# the linked copy is made without the RUN before it, but merged onto it again: BuildKit reports it run
scenario("copy-link-after-rebuilt-run",
         {"Dockerfile": _DF_LINK.replace("{n}", "1"), "a.txt": "a\n"},
         {"Dockerfile": _DF_LINK.replace("{n}", "2"), "a.txt": "a\n"},
         {"buildkit": "unbuildable", "classic": "unbuildable", "buildkit@28.5": 2, "classic@28.5": 2})

scenario("copy-link-content-edit",
         {"Dockerfile": _DF_LINK.replace("{n}", "1"), "a.txt": "a\n"},
         {"Dockerfile": _DF_LINK.replace("{n}", "1"), "a.txt": "a, edited\n"},
         {"buildkit": "unbuildable", "classic": "unbuildable", "buildkit@28.5": 3, "classic@28.5": 3})

# WORKDIR /srv -> /srv/: 20.10's classic builder keeps the slash in the config (a new step); 28.5's
# cleans it; BuildKit makes the cleaned directory (a hit) but runs the next RUN in `/srv/` (a miss)
scenario("workdir-trailing-slash",
         {"Dockerfile": _DF_WD.replace("{wd}", "/srv"), "a.txt": "a\n"},
         {"Dockerfile": _DF_WD.replace("{wd}", "/srv/"), "a.txt": "a\n"},
         {"buildkit": 4, "classic": 2, "classic@28.5": None})

_DF_PATTERN = """FROM {BASE}
ARG VERSION={v}
COPY a.txt /opt/${VERSION%%.*}/a.txt
RUN ls -R /opt > /tmp/opt
"""
# ${V%%.*} expands on 28.5 (the destination follows the major version); 20.10 refuses it
scenario("arg-pattern-expansion",
         {"Dockerfile": _DF_PATTERN.replace("{v}", "1.2.3"), "a.txt": "a\n"},
         {"Dockerfile": _DF_PATTERN.replace("{v}", "2.0.0"), "a.txt": "a\n"},
         {"buildkit": "unbuildable", "classic": "unbuildable", "buildkit@28.5": 3, "classic@28.5": 2})

# `**.log`: patternmatcher (28.5) matches every path ending in .log; 20.10's fileutils only `.log`
scenario("dockerignore-double-star-suffix",
         {"Dockerfile": _DF_ALL, ".dockerignore": "**.log\n", "app.txt": "app\n", "debug.log": "d1\n",
          "sub/trace.log": "t1\n"},
         {"Dockerfile": _DF_ALL, ".dockerignore": "**.log\n", "app.txt": "app\n", "debug.log": "d2 changed\n",
          "sub/trace.log": "t2 changed\n"},
         {"buildkit": 3, "classic": 3, "buildkit@28.5": None, "classic@28.5": None})

_DF_CHMOD = """FROM {BASE}
COPY --chmod={mode} a.txt /a.txt
RUN ls -l /a.txt > /tmp/l
"""
scenario("copy-chmod-edit",
         {"Dockerfile": _DF_CHMOD.replace("{mode}", "644"), "a.txt": "a\n"},
         {"Dockerfile": _DF_CHMOD.replace("{mode}", "755"), "a.txt": "a\n"},
         {"buildkit": 2, "classic": "unbuildable"})

_DF_MOUNT = """FROM {BASE}
COPY b.txt /b.txt
RUN --mount=type=bind,source=a.txt,target=/mnt/a.txt cat /mnt/a.txt > /tmp/a
RUN cat /b.txt > /tmp/b
"""
scenario("run-mount-bind-edit",
         {"Dockerfile": _DF_MOUNT, "a.txt": "a\n", "b.txt": "b\n"},
         {"Dockerfile": _DF_MOUNT, "a.txt": "a, edited\n", "b.txt": "b\n"},
         {"buildkit": 3, "classic": "unbuildable"})

# -- builds that fail: the prediction says where and why ---------------------------------------------
scenario("copy-source-removed",
         {"Dockerfile": _DF_BASIC, **_base_files},
         {"Dockerfile": _DF_BASIC, "a.txt": "alpha\n"},
         {"buildkit": "refused", "classic": "refused"})

# NEW is refused while the file is read (instructions.Parse): `parse_refused` keeps it out of the
# parser conformance corpus (tests/dockerfile/test_parser.py), which compares parse trees
scenario("unknown-instruction-added",
         {"Dockerfile": _DF_BASIC, **_base_files},
         {"Dockerfile": _DF_BASIC.replace("CMD", "RUNN echo typo\nCMD"), **_base_files},
         {"buildkit": "refused", "classic": "refused"}, parse_refused=True)

scenario("bad-substitution-added",
         {"Dockerfile": _DF_BASIC, **_base_files},
         {"Dockerfile": _DF_BASIC.replace("COPY b.txt /app/b.txt", "COPY b.txt /app/${APP:0:2}/b.txt"),
          **_base_files},
         {"buildkit": "refused", "classic": "refused"})

# -- buildah (podman 4.3.1): the first line it rebuilt, measured --------------------------------------
# Where it differs from the classic builder: `Dockerfile.dockerignore` is read (dockerfile-specific-ignore);
# an ARG's key holds the names of the ARGs with a value, not their values, and ENV is keyed by its text as
# written, so only the RUN (whose key has the values) misses (arg-edit-unreferenced, arg-global-expansion);
# unused stages are not built (unused-stage-changed); `RUN --mount=type=bind` is keyed by its text only
# (run-mount-bind-edit); --chmod builds; heredocs, `COPY --link` and `${V%...}` are refused.
_BUILDAH = {
    "file-edit": 4, "mtime-only": None, "same-size-same-mtime": 4, "chmod": 4, "symlink-target": 2,
    "symlink-unchanged-file-added-outside": None, "dockerignore-ignored-change": None,
    "dockerignore-exception-change": 3, "dockerignore-excluded-dir-exceptions": None,
    "dockerignore-no-implicit-prefix": 3, "dockerfile-specific-ignore": None, "env-edit": 2, "label-edit": 3,
    "expose-edit": 4, "user-edit": 5, "arg-edit-unreferenced": 4, "arg-global-expansion": 7,
    "run-whitespace": 5, "run-reflowed-continuation": 3, "comments-added": None, "comments-added-copy-all": 4,
    "workdir-edit": 2, "multistage-source-changed": 3, "multistage-final-only": 8,
    "multistage-copy-only-change": 5, "unused-stage-changed": None, "base-image-change": 2,
    "base-config-only-change": 2, "reordered-instructions": 2, "env-reordered": 2,
    "env-legacy-form-same-value": 2, "chown-edit": 2, "shell-edit": 3, "rerun-same-output": 2,
    "dockerignore-excludes-dockerfile": None, "heredoc-run-body-edit": "unbuildable",
    "heredoc-copy-expanded": "unbuildable", "heredoc-copy-quoted": "unbuildable",
    "copy-link-after-rebuilt-run": "unbuildable", "copy-link-content-edit": "unbuildable",
    "workdir-trailing-slash": 2, "arg-pattern-expansion": "unbuildable", "dockerignore-double-star-suffix": 3,
    "copy-chmod-edit": 2, "run-mount-bind-edit": None, "copy-source-removed": "refused",
    "unknown-instruction-added": "refused", "bad-substitution-added": "refused",
}

# cases built while measuring buildah's keys (run with buildah only; first misses measured on podman 4.3.1)
_DF_ARG_LABEL = """FROM {BASE}
ARG X{x}
LABEL a=b
RUN echo hi
"""
# an ARG's key holds the names of the ARGs with a value: X=1 -> X (no value) misses
scenario("arg-value-removed", {"Dockerfile": _DF_ARG_LABEL.replace("{x}", "=1")},
         {"Dockerfile": _DF_ARG_LABEL.replace("{x}", "")},
         {"buildkit": "engine", "classic": "engine"}, builders=("buildah",))
_DF_ARG_SHADOW = """FROM {BASE}
ARG V={v}
ENV V=2
RUN echo $V
"""
# an ARG that ENV shadows is not in RUN's build args: a new default changes nothing
scenario("arg-shadowed-by-env", {"Dockerfile": _DF_ARG_SHADOW.replace("{v}", "1")},
         {"Dockerfile": _DF_ARG_SHADOW.replace("{v}", "3")},
         {"buildkit": "engine", "classic": "engine"}, builders=("buildah",))
# the copied content is keyed, not the source's name
scenario("copy-equal-file-renamed",
         {"Dockerfile": "FROM {BASE}\nCOPY a.txt /x\nRUN cat /x\n", "a.txt": "same\n", "b.txt": "same\n"},
         {"Dockerfile": "FROM {BASE}\nCOPY b.txt /x\nRUN cat /x\n", "a.txt": "same\n", "b.txt": "same\n"},
         {"buildkit": "engine", "classic": "engine"}, builders=("buildah",))
# the destination as written: `$D` and the `/x` it expands to differ
scenario("copy-dest-variable-written-out",
         {"Dockerfile": "FROM {BASE}\nENV D=/x\nCOPY a.txt $D\nRUN cat /x\n", "a.txt": "a\n"},
         {"Dockerfile": "FROM {BASE}\nENV D=/x\nCOPY a.txt /x\nRUN cat /x\n", "a.txt": "a\n"},
         {"buildkit": "engine", "classic": "engine"}, builders=("buildah",))
# a bind mount of a stage's output is not in RUN's key: the RUN hits though that stage re-ran with other bytes
_DF_MOUNT_STAGE = """FROM {BASE} AS s
ENV N={n}
RUN echo $N > /o

FROM {BASE}
RUN --mount=type=bind,from=s,source=/o,target=/m cat /m > /copy
"""
scenario("run-mount-from-rerun-stage", {"Dockerfile": _DF_MOUNT_STAGE.replace("{n}", "1")},
         {"Dockerfile": _DF_MOUNT_STAGE.replace("{n}", "2")},
         {"buildkit": "engine", "classic": "unbuildable"}, builders=("buildah",))
_BUILDAH.update({"run-mount-from-rerun-stage": 2, "arg-value-removed": 2, "arg-shadowed-by-env": None, "copy-equal-file-renamed": None,
                 "copy-dest-variable-written-out": 3})
assert set(_BUILDAH) == set(SCENARIOS), set(SCENARIOS) ^ set(_BUILDAH)
for _name, _line in _BUILDAH.items():
    SCENARIOS[_name]["first_miss"]["buildah"] = _line
