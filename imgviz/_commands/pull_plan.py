"""``imgviz pull-plan REF``: what ``docker pull REF`` would download into the local engine.

Reads the image's manifest and config from the registry (no layer blobs), collects the engine,
and applies the engine's own rule (:func:`imgviz.analysis.pull.pull_plan`). The engine matches a
blob to a local layer only when it has pulled or pushed that blob before; the Engine API does not
list those blobs, so they are rebuilt from the local images' repo digests on the same registry
(``name@sha256:...``: manifests this engine pulled or pushed), whose manifests and configs give
blob digest -> diff ID.

The local side is the live engine by default; ``--snapshot FILE`` or ``--demo`` plan against a
recorded engine instead (what a pull *into that engine* would have downloaded), and need no engine.
"""

from __future__ import annotations

import sys
import warnings


def register(sub) -> None:
    from ._source import _demo

    p = sub.add_parser("pull-plan", help="show what `docker pull REF` would download, before pulling",
                       description="Compare a registry image with the local engine: per layer 'exists' or "
                                   "'download' with its compressed bytes, and the total to download.")
    p.add_argument("ref", help="HOST[:PORT]/REPO[:TAG|@DIGEST]")
    p.add_argument("--json", action="store_true",
                   help='print {"ref", "download_bytes", "layers": [{"digest", "diff_id", "action", "size_compressed"}]}')
    local = p.add_argument_group("the local side (default: the live engine)")
    excl = local.add_mutually_exclusive_group()
    excl.add_argument("--host", metavar="URL", help="engine address (default: DOCKER_HOST, else the default socket)")
    excl.add_argument("--engine", action="store_true", help="the live engine (the default; error when none answers)")
    excl.add_argument("--snapshot", metavar="FILE",
                      help="an engine snapshot saved by `imgviz snapshot`: plan a pull into that engine as recorded")
    excl.add_argument("--demo", nargs="?", const="overlay2", default=None, metavar="NAME", type=_demo,
                      help="an embedded demo snapshot as the local engine: overlay2 (the default) or containerd")
    p.add_argument("--platform", metavar="OS/ARCH", help="platform to choose from an index (default: the engine's)")
    p.add_argument("--plain-http", action="store_true", default=None,
                   help="talk HTTP to the registry (default: only for 127.0.0.0/8 and localhost)")
    from ._source import add_limit_args, add_partial_arg

    add_limit_args(p)  # --deadline, --request-timeout: every command that reads a source
    add_partial_arg(p)
    p.set_defaults(func=run)


def known_blob_digests(local, ref, client, *, workers: int = 8) -> dict[str, str]:
    """blob digest -> diff ID for the blobs the engine has pulled or pushed from ``ref``'s registry.

    Taken from the local images' repo digests on that registry (each names a manifest the engine
    pulled or pushed). Manifests the registry no longer has are skipped with a warning.
    """
    from ..sources.registry import RegistryError, parse_reference

    targets = []
    for digests in local.images["digests"]:
        for d in digests or []:
            try:
                r = parse_reference(d)
            except RegistryError:
                continue
            if r.registry == ref.registry:
                targets.append(r)
    known: dict[str, str] = {}
    if not targets:
        return known

    def one(r):
        try:
            return client.image(r)
        except RegistryError as exc:
            warnings.warn(f"skipped {r}: {exc}", stacklevel=2)
            return None

    from concurrent.futures import ThreadPoolExecutor  # here: it imports logging (8 ms every command paid)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for rec in pool.map(one, sorted(set(targets), key=str)):
            if rec is None:
                continue
            diff_ids = rec["config"]["rootfs"]["diff_ids"]
            for layer, diff in zip(rec["manifest"]["layers"], diff_ids):
                known[layer["digest"]] = diff
    return known


def _local_snapshot(local):
    """The local side's frames from a snapshot, a snapshot file or ``"demo"``; an engine's only."""
    from ..errors import ImgvizError
    from ..frames import Frames, frames
    from ..sources import describe, open as open_source

    if isinstance(local, Frames):
        f = local
    else:
        is_demo = isinstance(local, str) and (local == "demo" or local.startswith("demo:"))
        snap, _where = open_source(local if is_demo or not isinstance(local, str) else f"snapshot:{local}",
                                   progress=False)
        f = frames(snap)
    if (f.source or {}).get("kind") != "engine":
        raise ImgvizError(f"{describe(f.source)}: pull-plan needs an engine's snapshot as the local side "
                          f"(this one is of a {(f.source or {}).get('kind', 'unknown')} source)")
    return f


def make_plan(ref_text: str, *, host: str | None = None, client=None, platform: str | None = None,
              progress: bool = False, local=None):
    """Collect what the plan needs and compute it: returns ``(plan DataFrame, remote Frames)``.

    ``local`` (Frames, a snapshot, a snapshot file or ``"demo"``) plans against that recorded
    engine instead of the live one at ``host``; the platform is then the recorded engine's.
    """
    from ..analysis.pull import engine_pull_plan
    from ..frames import frames
    from ..sources import engine, registry

    ref = registry.parse_reference(ref_text)
    own = client is None
    client = client or registry.RegistryClient()
    api = None
    try:
        if local is not None:
            local = _local_snapshot(local)
            src = local.source or {}
            if platform is None and src.get("os") and src.get("arch"):
                platform = f"{src['os']}/{src['arch']}"
        else:
            from ..sources._open import connect_engine

            api = connect_engine(host)[0]  # a slow engine is waited for like "auto" does
            if platform is None:
                platform = engine.platform_of(api, host=host)
        # the registry first: a wrong reference fails before the engine is collected
        remote = frames(registry.collect([ref_text], client=client, platform=platform, progress=False))
        if local is None:
            local = frames(engine.collect(api, host=engine.docker_host(host), progress=progress))
        known = known_blob_digests(local, ref, client)
    finally:
        if api is not None:
            api.close()
        if own:
            client.close()
    from .._partial import headline, missing

    ids = remote.images["image_ids"].iloc[0] if len(remote.images) and "image_ids" in remote.images else ()
    plan = engine_pull_plan(remote.layers, local, known_digests=known, remote_image_ids=ids or ())
    # an incomplete local side may call a layer it has "download": the plan carries what is missing
    plan.attrs["missing"], plan.attrs["incomplete"] = missing(local), headline(local)
    return plan, remote


def run(args) -> int:
    from ..sources.registry import RegistryClient
    from ..units import human_size
    from ._table import dump_json, render

    local = ("demo" if args.demo == "overlay2" else f"demo:{args.demo}") if args.demo else args.snapshot
    with RegistryClient(plain_http=args.plain_http) as client:
        plan, _remote = make_plan(args.ref, host=args.host, client=client, platform=args.platform,
                                  progress=sys.stderr.isatty(), local=local)
    total = int(plan["download_bytes"].fillna(0).sum())
    uncertain = int(plan["uncertain_bytes"].fillna(0).sum())
    from ._source import finish

    gap = plan.attrs.get("missing")
    if args.json:
        head = {"complete": False, "missing": gap} if gap else {}
        # download_bytes: certain downloads; download_bytes_max: if every uncertain layer is downloaded too
        dump_json({**head, "ref": args.ref, "download_bytes": total, "uncertain_bytes": uncertain,
                   "download_bytes_max": total + uncertain,
                   "layers": [{"digest": r.digest, "diff_id": r.diff_id, "action": r.action, "reason": r.reason,
                               "size_compressed": None if r.size_compressed is None or r.size_compressed != r.size_compressed
                               else int(r.size_compressed)}
                              for r in plan.itertuples(index=False)]})
        return finish(args, plan.attrs.get("incomplete"))
    rows = [(int(r.position), r.digest.split(":", 1)[-1][:12], r.action,
             human_size(r.size_compressed, 3) if r.action in ("download", "uncertain") else "-", r.reason)
            for r in plan.itertuples(index=False)]
    print(render(["LAYER", "BLOB", "ACTION", "DOWNLOAD", "WHY"], rows))
    n = int((plan["action"] == "download").sum())
    print(f"\n{args.ref}: {n} of {len(plan)} layers to download, {human_size(total, 3)} compressed")
    n_unsure = int((plan["action"] == "uncertain").sum())
    if n_unsure:
        print(f"{n_unsure} more uncertain (the engine's own records could not be read): between "
              f"{human_size(total, 3)} and {human_size(total + uncertain, 3)} in all")
    return finish(args, plan.attrs.get("incomplete"))
