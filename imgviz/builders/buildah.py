"""buildah, the builder of podman 4.x (``podman build``, and the Docker-compatible ``/build`` of
``podman system service``, whatever ``DOCKER_BUILDKIT`` says)."""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re

from ..dockerfile.build import ContextRules, _parse
from ..dockerfile.check import Classic2010, _clean_src
from ..dockerfile.expand import needed_stages
from ..dockerfile.refusal import BuildRefused
from ._base import key_hash
from .classic import Classic

__all__ = ["Buildah", "BuildahRules"]


_COPY_FLAGS = "COPY only supports the --chmod=<permissions> --chown=<uid:gid> and the --from=<image|stage> flags"
_EXPANSION = re.compile(r'^failed to process "(.*)": (.+)$', re.S)


def _in_buildahs_words(refused: BuildRefused | None) -> BuildRefused | None:
    """*refused* (found with Docker 20.10's parser and lexer, which buildah's follow) in the words
    buildah 1.28 prints for it (measured on podman 4.3.1)."""
    if refused is None:
        return None
    msg = refused.message
    if msg.startswith("unknown instruction: "):
        msg = f'Build error: Unknown instruction: "{msg.split(": ", 1)[1].upper()}"'
    elif msg.startswith("Unknown flag: ") and refused.text.lstrip().upper().startswith("COPY"):
        msg = _COPY_FLAGS
    else:
        m = _EXPANSION.match(msg)
        if m:
            msg = f"{m.group(2)[:1].upper()}{m.group(2)[1:]}: {m.group(1)}"
    if msg == refused.message:
        return refused
    return BuildRefused(msg, refused.line, path=refused.path, end_line=refused.end_line, text=refused.text,
                        phase=refused.phase, builder="podman-buildah")


def _content_digest(context, sources) -> str:
    """What buildah's ``file:``/``dir:`` digest of COPY sources depends on: each selected file's
    content, type, mode and size, named relative to the source it was selected by (the source's
    own name is not in it: ``COPY a.txt /x`` and ``COPY b.txt /x`` of equal files share a key)."""
    h = hashlib.sha256()
    for source in sources:
        for root in context.select(source):
            for rec in context.subtree(root):
                rel = rec.path if root == "." else ("" if rec.path == root else posixpath.relpath(rec.path, root))
                body = context.digest(rec.path) if rec.kind == "file" else (rec.link or "")
                h.update(f"{rel}\0{rec.kind}\0{rec.mode:o}\0{rec.size}\0{body}\n".encode("utf-8", "surrogateescape"))
        h.update(b"\1")
    return h.hexdigest()


class BuildahRules(Classic2010):
    """What buildah 1.28 (podman 4.3) refuses, and how it reads a build.

    It reads the Dockerfile with a parser and lexer of Docker 20.10's generation (openshift/imagebuilder:
    no heredocs, no ``${V%...}``), builds only the stages the target needs, and accepts
    ``COPY --chmod`` and ``RUN --mount`` (both refused by the classic builder).  Its words differ:
    ``Build error: Unknown instruction: "RUNN"``, ``COPY only supports the --chmod=<permissions>
    --chown=<uid:gid> and the --from=<image|stage> flags``, ``Missing ':' in substitution: WORD``,
    ``copier: stat: "/b.txt": no such file or directory``."""

    builder = "buildah"
    prefer_dockerfile_ignore = True     # <Dockerfile>.dockerignore, measured: the server side reads it
    buildkit_only_flags = ()

    @property
    def name(self) -> str:
        return "podman-buildah"

    def missing_source(self, kw: str, src: str) -> str:
        return f'copier: stat: "/{_clean_src(src)}": no such file or directory'

    def check(self, *args, **kw):
        return _in_buildahs_words(super().check(*args, **kw))

    def check_parsed(self, *args, **kw):
        return _in_buildahs_words(super().check_parsed(*args, **kw))

    def evaluate(self, df, **kw):
        # words expand as the classic builder expands them (ENV before ARG, step by step)
        from ..dockerfile.expand import evaluate
        return evaluate(df, builder="classic", **kw)

    def walk(self, root, patterns, dockerfile="Dockerfile"):
        # the files the client sends: the docker CLI's (or podman's) walk of .dockerignore patterns
        from ..dockerfile.walk import walker_for
        return walker_for(self.engine, "classic")(root, patterns, dockerfile)


class Buildah(Classic):
    """buildah as podman 4.3.1 runs it (buildah 1.28, with ``--layers``, the default of podman's
    compat ``/build``), found by building the scenario suite there.

    Steps and keys
        Every instruction but FROM is a step, and a step is cached when an image in the store has
        the parent's layers and history plus exactly one history entry whose ``created_by`` is the
        step's.  So the key is the parent image and that one string:

        * ``RUN``: the instruction's text as written after ``RUN `` (flags included, variables not
          expanded, continuation lines joined, comments dropped), prefixed by the ARGs declared in
          the stage that have a value and no ENV of the same name shadows, with their values
          (``|1 VERSION=2.0 /bin/sh -c ...``).  SHELL is not in it (the SHELL step before it is);
        * ``COPY``/``ADD``: a digest of the copied content (content, mode and owner: ``--chown``
          and ``--chmod`` change it; modification times do not) and the destination as written
          (not expanded: ``COPY a.txt $D`` and ``COPY a.txt /x`` differ); the source names are not
          in it (``COPY b.txt /x`` of a file equal to ``a.txt`` hits), nor are other flags;
        * ``ARG``: the *names* of the ARGs with a value, not their values: changing a default
          changes only the keys of the RUN steps after it;
        * every other instruction (ENV, LABEL, EXPOSE, USER, WORKDIR, CMD, SHELL, ...): its text as
          written, not expanded (``ENV WHERE=/opt/${TAG}`` stays cached when TAG changes, and the
          image keeps the old value) and not normalised (``ENV A 1`` is not ``ENV A=1``).

        After the first miss the parent is a new image, so every later step of the stage misses.
    ``RUN --mount=type=bind``
        The mounted files are not in the key: editing them leaves the RUN cached, and so does a
        mount of a stage whose RUN re-ran and wrote other bytes (a certain hit, with stale output).
    Stages
        Only the stages the target needs are built (as BuildKit; the classic builder builds all).
    Base images
        A FROM image is identified by its layers and history (its image ID here): a base
        re-imported with another label is a new parent, and every step misses.
    Reading the build
        Docker 20.10's parser and lexer generation, the client's context walk, and
        ``<Dockerfile>.dockerignore`` before ``.dockerignore``.  What it refuses:
        :class:`BuildahRules`.
    Unknown outcomes
        As for the other builders: a ``COPY --from`` of a stage whose RUN re-ran depends on the
        bytes that RUN writes.

    Facts checked on podman 4.3.1 (bookworm) by the scenario suite (tests/cascade_scenarios).
    """

    name = "buildah"
    title = "buildah"
    engine_name = "podman"
    since = (4, 0)
    checked_on = "4.3.1"
    context_rules = ContextRules(engine="20.10", builder="classic", dockerfile_dockerignore=True)
    move_redefined_env = False
    explained = {
        "ARG": ("arg_names",),
        "RUN": ("instruction_text", "build_args"),
        "COPY": ("copied_content", "dest"),
        "ADD": ("copied_content", "dest"),
    }
    explained_config = ("instruction_text",)

    def __init__(self, engine_version: str | None = None):
        super().__init__(engine_version)
        # said as podman's, so no one takes it for a Docker version (``--json``'s "engine")
        if not self.engine_version.startswith("podman"):
            self.engine_version = f"podman {self.engine_version}"

    @property
    def label(self) -> str:
        return f"buildah of {'.'.join(self.engine_version.split('.')[:2])}"

    @property
    def rules(self):
        return BuildahRules()

    def refusal(self, build):
        """As the classic builder of 20.10 refuses it, in buildah's words, with one difference of
        order: buildah reads every instruction before the build, but finds an unknown one only when
        it reaches it, so an instruction before it that fails (``COPY <<EOF``: no file ``<<EOF``)
        fails first."""
        refused = super().refusal(build)
        if (refused is not None and build.dockerfile is None and build.text and refused.line
                and refused.message.startswith("unknown instruction: ")):
            head = "".join(build.text.splitlines(keepends=True)[:refused.line - 1])
            df, _ = _parse(head, build.path, build.rules)
            if df is not None and df.stages:
                earlier = super().refusal(dataclasses.replace(build, dockerfile=df, refusal=None, text=head))
                refused = earlier or refused
        return _in_buildahs_words(refused)

    def stages_to_build(self, dockerfile, target, global_args):
        return set(needed_stages(dockerfile, target, "buildah", global_args, self.lexer(dockerfile.escape)))

    # -- instructions: each is the parent plus one history entry -----------------------------------
    def dispatch_run(self, walk, ins, state, step):
        step.parent = state.key
        text = ins.original[4:]
        bargs = list(state.build_args())      # with a value, not shadowed by ENV (as the classic builder)
        step.fields.update({"text": text, "buildargs": bargs, "args": self.run_args(ins, state)})
        if ins.flag_values("mount"):
            # not in the key: kept to say so when the step is reused although they changed (and a
            # mount of a re-run stage's output leaves the outcome certain: the key does not see it)
            unc, why = step.uncertain, step.unknown_why
            step.fields["mounted"] = [d[-1] for d in self.mounts(walk, ins, state, step)]
            step.uncertain, step.unknown_why = unc, why
        self._history(walk, ins, state, step, ("RUN", bargs, text))

    def dispatch_copy(self, walk, ins, state, step):
        step.parent = state.key
        sources, dest_raw, dest_n, chown, chmod, token, unc, why = self.copy_parts(walk, ins, state, step)
        if unc:
            step.uncertain, step.unknown_why = True, why
        written = ins.args[-1] if ins.args else ""
        if step.fields.get("from") == "context" and not ins.heredocs:
            token = _content_digest(walk.build.context, sources)
        step.fields.update({"dest": written, "content": token})
        content = key_hash(token, chown, chmod)
        state.pathops.append((dest_n, key_hash("copy", ins.keyword, dest_n, content), unc, ins.line))
        step.kwc = key_hash("buildah", step.parent, ins.keyword, written)
        self._history(walk, ins, state, step, (ins.keyword, content, written))

    def dispatch_workdir(self, walk, ins, state, step):
        step.parent = state.key
        wd = self.workdir(walk, ins, state)
        state.pathops.append((wd, key_hash("mkdir", wd), False, ins.line))
        step.fields.update({"workdir": wd, "text": ins.original, "expanded": wd})
        self._history(walk, ins, state, step, ("nop", ins.original))

    def dispatch_config(self, walk, ins, state, step):
        step.parent = state.key
        expanded = self.configure(walk, ins, state)
        if ins.keyword == "ARG":
            names = sorted(k for k, v in state.args.items() if v is not None)
            step.fields["argnames"] = names
            desc = ("ARG", names)
        else:
            step.fields.update({"text": ins.original, "expanded": expanded})
            desc = ("nop", ins.original)
        self._history(walk, ins, state, step, desc)

    def _history(self, walk, ins, state, step, desc):
        step.fields["desc"] = desc
        walk.settle(ins, state, step, key_hash("buildah", step.parent, desc))

    def hit_note(self, step, was) -> str:
        if was is None:
            return ""
        if step.get("expanded") != was.get("expanded"):
            return ("buildah keys it by its text as written, which now expands to other values: the old "
                    "step is reused, with the old values")
        if step.get("mounted") != was.get("mounted"):
            return ("the files --mount binds changed or may have, but buildah keys RUN by its text: the "
                    "old step is reused")
        return ""
