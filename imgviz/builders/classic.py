"""The classic builder (``DOCKER_BUILDKIT=0``) of Docker 20.10."""

from __future__ import annotations

from ..dockerfile.build import ContextRules
from ._base import Builder, key_hash

__all__ = ["Classic"]


class Classic(Builder):
    """The classic builder as Docker 20.10.24 runs it.

    Steps and keys
        Every instruction but FROM is a step.  A step is looked up among the children of the
        parent image by its container config: the command (for metadata instructions
        ``#(nop) <INSTR> <expanded args>``; for COPY/ADD the hash of the copied files and the
        destination; for RUN the command line, prefixed by the build args in scope that have a
        value and are not shadowed by ENV), Env (ordered), Labels, ExposedPorts, Entrypoint,
        Volumes and User.  After the first miss the parent is a new image, so every later step
        of the stage misses.
    Stages
        Every stage up to the target is built, needed or not.
    Base images
        A FROM image is identified by its image ID (the config digest): a base re-imported with
        another label or ENV is a new parent, and every step misses.
    Context
        Only the context's ``.dockerignore`` is read, never ``<Dockerfile>.dockerignore``.
    What the engine refuses
        ``--link``, ``--chmod``, heredocs and ``RUN --mount``: the build fails.

    Facts checked on Docker 20.10.24 by the scenario suite (tests/cascade_scenarios).
    """

    name = "classic"
    title = "the classic builder"
    since = (20, 10)
    context_rules = ContextRules(dockerfile_dockerignore=False)
    explained = {
        "RUN": ("command", "build_args"),
        "COPY": ("copied_content", "dest", "chown", "chmod"),
        "ADD": ("copied_content", "dest", "chown", "chmod"),
        "WORKDIR": ("workdir",),
    }
    # the container config every step is looked up by
    explained_config = ("arguments", "environment", "labels", "ports", "user_in_config")

    # -- stages and bases --------------------------------------------------------------------------
    def stages_to_build(self, dockerfile, target):
        return set(range(target + 1))

    def base_identity(self, base):
        return base.image_id

    # -- state: Env keeps the order of first definition --------------------------------------------
    def set_env(self, state, key, value):
        for i, (a, _) in enumerate(state.env):
            if a == key:
                state.env[i] = (key, value)
                break
        else:
            state.env.append((key, value))

    # -- instructions: each one commits a container config -----------------------------------------
    def dispatch_run(self, walk, ins, state, step):
        args = self.run_args(ins, state)
        envkeys = {k for k, _ in state.env}
        bargs = sorted(f"{k}={v}" for k, v in state.args.items() if v is not None and k not in envkeys)
        cmd = ([f"|{len(bargs)}"] + bargs if bargs else []) + args
        step.parent = state.key
        deps = self.mounts(walk, ins, step)
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
        """The step's key: its parent image and the container config it commits."""
        parent = step.parent
        cfg = (desc, [f"{k}={v}" for k, v in state.env], sorted(state.labels.items()), list(state.ports),
               list(state.entrypoint) if ins.keyword != "RUN" else [], list(state.volumes), state.user, deps)
        step.fields.update({"desc": desc, "env": cfg[1], "labels": cfg[2], "ports": cfg[3], "user": state.user})
        if ins.keyword in ("COPY", "ADD"):
            step.kwc = key_hash("classic", parent, (desc[0],) + desc[2:], cfg[1:])
        walk.settle(ins, state, step, key_hash("classic", parent, cfg))

    # -- what the engine refuses ---------------------------------------------------------------------
    def unsupported(self, ins):
        for f in ("link", "chmod"):
            if ins.flag(f) is not None:
                return f"the classic builder does not support --{f}; the build fails"
        if ins.heredocs or ins.flag_values("mount"):
            return "the classic builder does not support heredocs or RUN --mount; the build fails"
        return ""
