"""BuildKit (``DOCKER_BUILDKIT=1``) with the Dockerfile frontend built into Docker 20.10."""

from __future__ import annotations

from ..dockerfile.build import ContextRules
from ._base import Builder, key_hash

__all__ = ["BuildKit"]


class BuildKit(Builder):
    """BuildKit as Docker 20.10.24 runs it (built-in Dockerfile frontend, no ``# syntax=``).

    Steps and keys
        Only FROM, RUN, COPY/ADD and WORKDIR (other than ``/``) are operations with cache keys;
        a key is the operation's definition plus its input's key.  Metadata instructions (ENV,
        ARG, LABEL, USER, EXPOSE, CMD, ...) have no step; they reach later keys only through
        state: ENV and ARG values are RUN's environment (order matters: a redefinition moves to
        the end), USER is RUN's and WORKDIR's user, WORKDIR is RUN's working directory and the
        base of relative destinations, SHELL is the shell of shell-form RUN.  COPY/ADD from the
        context depend on the selected files' content; ``COPY --from`` on the content the source
        stage produced at the source path; ``COPY --link`` does not depend on earlier layers.
    Stages
        Stages the target does not need are not built.
    Base images
        A FROM image is identified by the chain ID of its layers, not by its ID or tag: a base
        re-imported with another LABEL still gives hits (pass ``base_ids`` from
        :func:`imgviz.sources.engine.inspect_bases` to know this).  The config's Env, User,
        WorkingDir and Shell enter later keys through state only.
    Context
        The BuildKit client of 20.10 reads ``<Dockerfile>.dockerignore`` in preference to
        ``.dockerignore``.
    What the engine refuses
        Heredocs and ``COPY --link`` need Dockerfile frontend 1.4+; 20.10's built-in frontend
        fails on them.  ``RUN --mount=type=bind`` works.
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
    context_rules = ContextRules(dockerfile_dockerignore=True)
    explained = {
        "RUN": ("command", "environment", "working_directory", "run_user", "mounts"),
        "COPY": ("copied_content", "dest", "chown", "chmod"),
        "ADD": ("copied_content", "dest", "chown", "chmod"),
        "WORKDIR": ("workdir",),
    }

    # -- stages and bases --------------------------------------------------------------------------
    def stages_to_build(self, dockerfile, target):
        stages = dockerfile.stages
        need, todo = set(), [target]
        while todo:
            i = todo.pop()
            if i in need:
                continue
            need.add(i)
            st = stages[i]
            dep = dockerfile.stage_by_name(st.base)
            if dep is not None and dep.index < i:
                todo.append(dep.index)
            for ins in st.instructions:
                refs = []
                if ins.keyword in ("COPY", "ADD") and ins.flag("from"):
                    refs.append(ins.flag("from"))
                for m in ins.flag_values("mount"):
                    for part in m.split(","):
                        if part.startswith("from="):
                            refs.append(part[5:])
                for r in refs:
                    dep = dockerfile.stage_by_name(r)
                    if dep is not None and dep.index < i:
                        todo.append(dep.index)
        return need

    def base_identity(self, base):
        return base.chain_id

    # -- state: ENV and ARG values are RUN's environment; a redefinition moves to the end --------
    def set_env(self, state, key, value):
        state.env = [(a, b) for a, b in state.env if a != key] + [(key, value)]

    def declare_arg(self, state, key, value):
        if value is not None:
            self.set_env(state, key, value)

    # -- instructions --------------------------------------------------------------------------------
    def dispatch_config(self, walk, ins, state, step):
        step.kind = "metadata"
        step.fields["desc"] = self.configure(walk, ins, state)

    def dispatch_workdir(self, walk, ins, state, step):
        parent = state.key
        step.parent = parent
        wd = self.workdir(walk, ins, state)
        step.fields.update({"workdir": wd, "user": state.user})
        if wd == "/":
            step.kind = "metadata"
            return
        key = key_hash("mkdir", parent, wd, state.user)
        state.pathops.append((wd, key_hash("mkdir", wd, state.user), False, ins.line))
        walk.settle(ins, state, step, key)

    def dispatch_run(self, walk, ins, state, step):
        parent = state.key
        step.parent = parent
        args = self.run_args(ins, state)
        env = [f"{k}={v}" for k, v in state.env]
        flags = [f for f in ins.flags if not f.startswith("--mount")]
        deps = self.mounts(walk, ins, step)
        docs = [(d.name, d.content, d.expand, d.chomp) for d in ins.heredocs]
        step.fields.update({"args": args, "env": env, "cwd": state.workdir, "user": state.user,
                            "flags": flags, "mounts": deps, "heredocs": docs})
        step.kwc = key_hash("exec", parent, args, env, state.workdir, state.user, flags,
                            [d[:3] for d in deps], docs)
        key = key_hash("exec", parent, args, env, state.workdir, state.user, flags, deps, docs)
        walk.settle(ins, state, step, key)

    def dispatch_copy(self, walk, ins, state, step):
        parent = state.key
        step.parent = parent
        sources, dest_raw, dest_n, chown, chmod, token, unc, why = self.copy_parts(walk, ins, state, step)
        link = ins.flag("link") is not None
        base = "scratch" if link else parent
        op = (ins.keyword, sources, dest_n + ("/" if dest_raw.endswith("/") else ""), chown, chmod,
              step.fields["from"])
        step.kwc = key_hash("file", base, op)
        key = key_hash("file", base, op, token)
        if unc:
            step.uncertain, step.unknown_why = True, why
        state.pathops.append((dest_n, key_hash("copy", op, token), unc, ins.line))
        walk.settle(ins, state, step, key)

    # -- what the engine refuses, its quirks, explanations -----------------------------------------
    def unsupported(self, ins):
        if ins.heredocs:
            return "heredocs need Dockerfile frontend 1.4+; Docker 20.10's built-in frontend fails on them"
        if ins.flag("link") is not None:
            return "COPY --link needs Dockerfile frontend 1.4+; Docker 20.10's built-in frontend rejects it"
        return ""

    def stale_content_warning(self, paths):
        return ("BuildKit may wrongly hit: " + ", ".join(paths[:3]) +
                " changed but kept size and mtime (moby/buildkit#4817)")

    def follows_stale_warning(self, line):
        return f"BuildKit may wrongly hit if it reuses line {line} (moby/buildkit#4817)"

    def comparable_steps(self, step, old_steps):
        # COPY --link is keyed without its parent: compare with OLD's copy to the same place
        if step.ins.keyword in ("COPY", "ADD") and step.fields.get("link"):
            return [s for s in old_steps if s.ins.keyword == step.ins.keyword
                    and s.fields.get("dest") == step.fields.get("dest")]
        return super().comparable_steps(step, old_steps)
