"""BuildKit (``DOCKER_BUILDKIT=1``) with the Dockerfile frontend built into Docker 20.10 and 28.5."""

from __future__ import annotations

import posixpath

from ..dockerfile.build import ContextRules
from ..dockerfile.expand import needed_stages
from ._base import Builder, key_hash

__all__ = ["BuildKit", "BuildKit28"]


class BuildKit(Builder):
    """BuildKit as Docker 20.10.24 runs it (built-in Dockerfile frontend, no ``# syntax=``).

    Steps and keys
        Only FROM, RUN, COPY/ADD and WORKDIR (other than ``/``) are operations with cache keys;
        a key is the operation's definition plus its input's key.  Metadata instructions (ENV,
        ARG, LABEL, USER, EXPOSE, CMD, ...) have no step; they reach later keys only through
        state: ENV and ARG values are RUN's environment (order matters: a redefinition moves to
        the end), USER is RUN's and WORKDIR's user, WORKDIR is RUN's working directory and the
        base of relative destinations, SHELL is the shell of shell-form RUN.  WORKDIR's own step
        makes the cleaned path, but RUN's working directory is the path as written: after
        ``WORKDIR /srv`` became ``WORKDIR /srv/``, the WORKDIR and a relative COPY hit and the
        next RUN misses.  COPY/ADD from the context depend on
        the selected files' content; ``COPY --from`` on the content the source stage produced at
        the source path.
    Stages
        Stages the target does not need are not built.
    Base images
        A FROM image is identified by the chain ID of its layers, not by its ID or tag: a base
        re-imported with another LABEL still gives hits (pass ``base_ids`` from
        :func:`imgviz.sources.engine.inspect_bases` to know this).  The config's Env, User,
        WorkingDir and Shell enter later keys through state only.
    Reading the build
        Docker 20.10's parser and lexer (BuildKit v0.8: no heredocs, no ``COPY --link``, only
        ``${N}``, ``${N:-w}``, ``${N:+w}``, ``${N:?w}``), ``<Dockerfile>.dockerignore`` before
        ``.dockerignore``, and the client's 2020 context walk (:mod:`imgviz.dockerfile.walk`).
        What it refuses (a heredoc is read as instructions, ``COPY --link`` is an unknown flag):
        :class:`imgviz.dockerfile.check.BuildKit2010`.
    Known quirk (moby/buildkit#4817)
        BuildKit transfers the context incrementally and skips files whose size and mtime did
        not change, so a content change that keeps both may be missed and stale content reused.
        The prediction says "miss" and warns, on that step and on the steps that miss only
        because they follow it.  On Docker 20.10.24 the engine did reuse the stale file (every
        step CACHED).

    Facts checked on Docker 20.10.24 by the scenario suite (tests/cascade_scenarios).
    """

    name = "buildkit"
    title = "BuildKit"
    since = (20, 10)
    checked_on = "20.10.24"
    context_rules = ContextRules(engine="20.10", builder="buildkit", dockerfile_dockerignore=True)
    move_redefined_env = True
    explained = {
        "RUN": ("command", "environment", "working_directory", "run_user", "mounts"),
        "COPY": ("copied_content", "dest", "chown", "chmod"),
        "ADD": ("copied_content", "dest", "chown", "chmod"),
        "WORKDIR": ("workdir",),
    }

    # -- stages and bases --------------------------------------------------------------------------
    def stages_to_build(self, dockerfile, target, global_args):
        # the target and what it needs: FROM a stage, COPY --from, RUN --mount=from=
        return set(needed_stages(dockerfile, target, "buildkit", global_args, self.lexer(dockerfile.escape)))

    def base_identity(self, base):
        return base.chain_id

    # -- state: ENV and ARG values are RUN's environment; a redefinition moves to the end --------
    def set_env(self, state, key, value):
        state.env.set(key, value)

    def declare_arg(self, state, key, value):
        if value is not None:
            self.set_env(state, key, value)

    def scope(self, state):
        return state.env

    # -- instructions --------------------------------------------------------------------------------
    def dispatch_config(self, walk, ins, state, step):
        step.kind = "metadata"
        step.fields["desc"] = self.configure(walk, ins, state)

    def dispatch_workdir(self, walk, ins, state, step):
        parent = state.key
        step.parent = parent
        wd = self.workdir(walk, ins, state)
        # the directory is made at the cleaned path (`/srv/` and `/srv` are one mkdir); RUN's
        # working directory keeps the path as written
        made = posixpath.normpath(wd)
        step.fields.update({"workdir": made, "user": state.user})
        if made == "/":
            step.kind = "metadata"
            return
        key = key_hash("mkdir", parent, made, state.user)
        state.pathops.append((made, key_hash("mkdir", made, state.user), False, ins.line))
        walk.settle(ins, state, step, key)

    def run_heredocs(self, ins) -> list:
        """The heredoc bodies a RUN's key holds (BuildKit runs them: their text is in the key)."""
        return [(d.name, d.content, d.expand, d.chomp) for d in ins.heredocs]

    def dispatch_run(self, walk, ins, state, step):
        parent = state.key
        step.parent = parent
        args = self.run_args(ins, state)
        flags = [f for f in ins.flags if not f.startswith("--mount")]
        deps = self.mounts(walk, ins, state, step)
        docs = self.run_heredocs(ins)
        step.fields.update({"args": args, "env": state.env.at(), "cwd": state.workdir, "user": state.user,
                            "flags": flags, "mounts": deps, "heredocs": docs})
        env = state.env.digest
        step.kwc = key_hash("exec", parent, args, env, state.workdir, state.user, flags,
                            [d[:3] for d in deps], docs)
        key = key_hash("exec", parent, args, env, state.workdir, state.user, flags, deps, docs)
        walk.settle(ins, state, step, key)

    def dispatch_copy(self, walk, ins, state, step):
        parent = state.key
        step.parent = parent
        sources, dest_raw, dest_n, chown, chmod, token, unc, why = self.copy_parts(walk, ins, state, step)
        link = ins.flag("link") not in (None, "false")
        op = (ins.keyword, sources, dest_n + ("/" if dest_raw.endswith("/") else ""), chown, chmod,
              step.fields["from"])
        if link:
            # copied onto an empty layer (its own key, whatever the parent), then merged onto the
            # parent: the step is reported CACHED only when the merge is, as for a plain COPY
            copied = key_hash("file", "scratch", op, token)
            step.fields["link_key"] = copied
            step.kwc = key_hash("merge", parent, key_hash("file", "scratch", op))
            key = key_hash("merge", parent, copied)
        else:
            step.kwc = key_hash("file", parent, op)
            key = key_hash("file", parent, op, token)
        if unc:
            step.uncertain, step.unknown_why = True, why
        state.pathops.append((dest_n, key_hash("copy", op, token), unc, ins.line))
        walk.settle(ins, state, step, key)

    # -- quirks and explanations -------------------------------------------------------------------
    def stale_content_warning(self, paths):
        return ("BuildKit may wrongly hit: " + ", ".join(paths[:3]) +
                " changed but kept size and mtime (moby/buildkit#4817)")

    def follows_stale_warning(self, line):
        return f"BuildKit may wrongly hit if it reuses line {line} (moby/buildkit#4817)"


class BuildKit28(BuildKit):
    """BuildKit as Docker 28.5.2 runs it (buildx 0.29 client, the daemon's BuildKit v0.25 with its
    built-in Dockerfile frontend, no ``# syntax=``), on overlay2 and on the containerd image store.

    What differs from 20.10's (:class:`BuildKit`), found by building the scenario suite:

    Reading the build
        Docker 28.5's parser and lexer: heredocs (``RUN <<EOF``, ``COPY <<EOF /dst``; a RUN's
        body is in its key, a COPY's body is the copied file's content, expanded unless the name
        is quoted), ``COPY --link``, ``${N%p}``, ``${N#p}``, ``${N/a/b}``.  The context walk of
        buildx 0.29 (tonistiigi/fsutil of 2025): an exception pattern with a wildcard before its
        last element (``!**/keep.txt``) re-includes files under an excluded directory, which
        20.10's did not.  What it refuses: :class:`imgviz.dockerfile.check.BuildKit28`.
    ``COPY --link``
        Builds: the files are copied onto an empty layer (a key of their own, whatever the layers
        before) and merged onto the parent.  The step is reported as run whenever the parent
        changed (the merge runs again; measured on both stores), so it hits exactly when a plain
        COPY would; the explanation says when the copied layer itself is the old build's.
    Known quirk (moby/buildkit#4817)
        Still there: buildx 0.29 skips a context file whose size and mtime did not change, and
        the engine reused the stale content in most runs on both stores (every run of that case
        alone), though not in all (some full runs of the suite, builds three at a time, rebuilt):
        the prediction says miss and warns, as on 20.10.
    Everything else
        As on 20.10 (the keys of RUN, COPY, WORKDIR, ENV order, stage selection, base identity
        by layers, also on the containerd store, ``<Dockerfile>.dockerignore``).

    Facts checked on Docker 28.5.2 (overlay2 and containerd image store) by the scenario suite.
    """

    since = (28, 0)
    checked_on = "28.5.2"
    context_rules = ContextRules(engine="28.5", builder="buildkit", dockerfile_dockerignore=True)
