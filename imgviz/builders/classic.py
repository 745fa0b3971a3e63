"""The classic builder (``DOCKER_BUILDKIT=0``) of Docker 20.10 and 28.5."""

from __future__ import annotations

from ..dockerfile.build import ContextRules
from ..dockerfile.expand import needed_stages
from ._base import Builder, _ClassicScope, key_hash

__all__ = ["Classic", "Classic28"]


class Classic(Builder):
    """The classic builder as Docker 20.10.24 runs it.

    Steps and keys
        Every instruction but FROM is a step.  A step is looked up among the children of the
        parent image by its container config: the command (for metadata instructions
        ``#(nop) <INSTR> <expanded args>``; for COPY/ADD the hash of the copied files and the
        destination; for RUN the command line, prefixed by the build args in scope that have a
        value and are not shadowed by ENV), Env (ordered by first definition), Labels,
        ExposedPorts, Entrypoint, Volumes, User and WorkingDir (as written: ``/srv/`` is not
        ``/srv``).  Every part of that config but the command is what the steps before set, so
        the parent image and the command decide.  After the first miss the parent is a new
        image, so every later step of the stage misses.
    Stages
        Every stage up to the target is built, needed or not.
    Base images
        A FROM image is identified by its image ID (the config digest): a base re-imported with
        another label or ENV is a new parent, and every step misses.
    Reading the build
        Docker 20.10's parser and lexer (no heredocs), only the context's ``.dockerignore``
        (never ``<Dockerfile>.dockerignore``), the CLI's context walk.  What it refuses
        (``--chmod``, ``RUN --mount``, ``--link``, heredocs read as instructions, a COPY source
        outside the context): :class:`imgviz.dockerfile.check.Classic2010`.

    Facts checked on Docker 20.10.24 by the scenario suite (tests/cascade_scenarios).
    """

    name = "classic"
    title = "the classic builder"
    since = (20, 10)
    checked_on = "20.10.24"
    context_rules = ContextRules(engine="20.10", builder="classic", dockerfile_dockerignore=False)
    move_redefined_env = False
    explained = {
        "RUN": ("command", "build_args"),
        "COPY": ("copied_content", "dest", "chown", "chmod"),
        "ADD": ("copied_content", "dest", "chown", "chmod"),
        "WORKDIR": ("workdir",),
    }
    # the container config every step is looked up by
    explained_config = ("arguments", "environment", "labels", "ports", "user_in_config")

    # -- stages and bases --------------------------------------------------------------------------
    def stages_to_build(self, dockerfile, target, global_args):
        # every stage up to the target
        return set(needed_stages(dockerfile, target, "classic", global_args))

    def base_identity(self, base):
        return base.image_id

    # -- state: Env keeps the order of first definition --------------------------------------------
    def set_env(self, state, key, value):
        state.env.set(key, value)
        if key in state.bargs:                 # an ENV shadows the build arg of that name
            del state.bargs[key]
            state.bargs_version += 1

    def declare_arg(self, state, key, value):
        # RUN's command is prefixed by the ARGs in scope that have a value and no ENV shadows
        if value is not None and key not in state.env and state.bargs.get(key) != value:
            state.bargs[key] = value
            state.bargs_version += 1

    def scope(self, state):
        return _ClassicScope(state.env, state.args)

    # -- instructions: each one commits a container config -----------------------------------------
    def dispatch_run(self, walk, ins, state, step):
        args = self.run_args(ins, state)
        bargs = list(state.build_args())
        cmd = ([f"|{len(bargs)}"] + bargs if bargs else []) + args
        step.parent = state.key
        deps = self.mounts(walk, ins, state, step)
        step.fields.update({"args": args, "buildargs": bargs})
        self._commit(walk, ins, state, step, ("RUN", cmd, list(ins.flags)), deps)

    def dispatch_copy(self, walk, ins, state, step):
        step.parent = state.key
        sources, dest_raw, dest_n, chown, chmod, token, unc, why = self.copy_parts(walk, ins, state, step)
        if unc:
            step.uncertain, step.unknown_why = True, why
        state.pathops.append((dest_n, key_hash("copy", ins.keyword, sources, dest_n, chown, chmod, token), unc,
                              ins.line))
        self._commit(walk, ins, state, step, (ins.keyword, token, dest_raw, chown, chmod), [])

    def dispatch_workdir(self, walk, ins, state, step):
        step.parent = state.key
        wd = self.workdir(walk, ins, state)
        state.pathops.append((wd, key_hash("mkdir", wd), False, ins.line))
        step.fields.update({"workdir": wd})
        self._commit(walk, ins, state, step, ("WORKDIR", wd), [])

    def dispatch_config(self, walk, ins, state, step):
        step.parent = state.key
        self._commit(walk, ins, state, step, self.configure(walk, ins, state), [])

    def _commit(self, walk, ins, state, step, desc, deps):
        """The step's key: its parent image and the command it commits.

        The rest of the container config (Env, Labels, ports, Entrypoint, Volumes, User,
        WorkingDir) is what the parent's chain of commands made it, so it adds nothing to the key;
        it is kept (lazily) for explanations."""
        parent = step.parent
        step.fields.update({"desc": desc, "env": state.env.at(), "labels": state.labels, "ports": state.ports,
                            "user": state.user})
        if ins.keyword in ("COPY", "ADD"):
            step.kwc = key_hash("classic", parent, (desc[0],) + desc[2:])
        walk.settle(ins, state, step, key_hash("classic", parent, desc, deps))


class Classic28(Classic):
    """The classic builder as Docker 28.5.2 runs it (``DOCKER_BUILDKIT=0``; deprecated, with a
    warning), on overlay2 and on the containerd image store.

    What differs from 20.10's (:class:`Classic`), found by building the scenario suite:

    Reading the build
        Docker 28.5's parser and lexer (BuildKit v0.25's parser package: ``${N%p}`` and the
        other new forms expand; heredocs are parsed) and the 28.5 CLI's context walk with
        moby/patternmatcher v0.6.  ``WORKDIR /srv/`` is cleaned to ``/srv`` (20.10 kept it).
        What it refuses: :class:`imgviz.dockerfile.check.Classic28` (``--chmod``, ``RUN --mount``;
        a COPY whose only sources are heredocs copies nothing and fails).
    Heredocs
        ``RUN <<EOF`` runs only its first line (the shell gets ``<<EOF`` and no body): the body
        is in neither the image nor the cache key, so editing it still hits.
    ``COPY --link``
        Accepted and ignored: an ordinary COPY, keyed on its parent.

    Facts checked on Docker 28.5.2 (overlay2 and containerd image store) by the scenario suite.
    """

    since = (28, 0)
    checked_on = "28.5.2"
    context_rules = ContextRules(engine="28.5", builder="classic", dockerfile_dockerignore=False)
