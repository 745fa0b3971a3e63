"""``imgviz waste IMAGE``: dive's wasted-space figures (and its CI gate), with imgviz's own beside them."""

from __future__ import annotations

import argparse
import math

from ._table import dump_json, render

DIVE_DEFAULTS = {"lowest_efficiency": "0.9", "highest_wasted_bytes": "disabled", "highest_user_wasted_percent": "0.1"}


def add_files_source_args(p: argparse.ArgumentParser) -> None:
    """Where layer contents are read from (shared by ``waste`` and ``files``)."""
    g = p.add_argument_group("source of the layers (default: the engine at DOCKER_HOST, else the default socket)")
    excl = g.add_mutually_exclusive_group()
    excl.add_argument("--archive", metavar="FILE", help="a `docker save` tar or OCI image layout (IMAGE: a tag or ID "
                                                        "in it; may be left out when it holds one image)")
    excl.add_argument("--registry", metavar="REF", help="an image in a registry, HOST/REPO:TAG (layers streamed, "
                                                        "never stored)")
    excl.add_argument("--host", metavar="URL", help="engine address")
    p.add_argument("--show-secrets", action="store_true",
                   help="keep secret-looking values in the instructions shown (masked by imgviz's one rule otherwise)")
    g.add_argument("--route", choices=("auto", "local", "stream"), default="auto",
                   help="engine only: 'local' reads the engine's own layer records (local overlay2 engine, root), "
                        "'stream' reads `docker save`; auto: local when exact, else stream")


def read_one(args, *, digests: bool = False):
    """(Read, ImageLayers) for the image the arguments name; no pandas."""
    from .._files import read_entries
    from ..errors import ImgvizError

    image = getattr(args, "image", None)
    if args.registry:
        got = read_entries([args.registry], source="registry", digests=digests, progress=False)
    elif args.archive:
        got = read_entries([image] if image else [], source=f"archive:{args.archive}", digests=digests,
                           progress=False)
        if not image and len(got.images) != 1:
            raise ImgvizError(f"{args.archive} holds {len(got.images)} images: name one")
    else:
        if not image:
            raise ImgvizError("name an image (tag or ID)")
        got = read_entries([image], source="engine", host=args.host, digests=digests, route=args.route,
                           progress=False)
    img = got.images[0]
    if not getattr(args, "show_secrets", False):
        from dataclasses import replace

        from ..analysis.secrets import mask_text

        # the instructions are shown in tables and JSON: masked by the one rule, like every output
        img = replace(img, created_by=[mask_text(c) for c in img.created_by])
    return got, img


def register(sub) -> None:
    p = sub.add_parser("waste", help="wasted space in an image's layers, with dive's figures and CI gate",
                       description="Wasted space in an image's layers. dive's figures (efficiency, wasted bytes, "
                                   "the files counted twice or more) equal `dive IMAGE --json`, and --ci applies "
                                   "dive's thresholds. Beside them, imgviz's own: bytes shipped in layers that the "
                                   "final filesystem does not show.")
    p.add_argument("image", nargs="?", help="tag or ID (with --registry: left out)")
    p.add_argument("--json", action="store_true", help="print JSON (bytes as integers)")
    p.add_argument("--ci", action="store_true", help="check dive's CI rules; exit 1 when one fails")
    p.add_argument("--lowestEfficiency", "--lowest-efficiency", dest="lowest_efficiency",
                   default=DIVE_DEFAULTS["lowest_efficiency"],
                   help="(--ci) lowest allowed efficiency, 0-1, or 'disabled' (dive's default 0.9)")
    p.add_argument("--highestWastedBytes", "--highest-wasted-bytes", dest="highest_wasted_bytes",
                   default=DIVE_DEFAULTS["highest_wasted_bytes"],
                   help="(--ci) highest allowed wasted bytes, e.g. 20MB or 20MiB, or 'disabled' (the default)")
    p.add_argument("--highestUserWastedPercent", "--highest-user-wasted-percent", dest="highest_user_wasted_percent",
                   default=DIVE_DEFAULTS["highest_user_wasted_percent"],
                   help="(--ci) highest allowed wasted bytes / bytes above the base layer, 0-1, or 'disabled' "
                        "(dive's default 0.1)")
    add_files_source_args(p)
    from ._source import add_limit_args

    add_limit_args(p)  # --deadline, --request-timeout: every command that reads a source
    p.set_defaults(func=run)


def _pct(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{100 * value:.4f} %"


def run(args) -> int:
    from .._text import terminal_safe
    from ..analysis.files import ci_rules, waste_entries
    from ..errors import ImgvizError
    from ..units import human_size

    got, img = read_one(args)
    result = waste_entries(got.entries(img), diff_ids=img.diff_ids, created_by=img.created_by)
    rules = None
    if args.ci:
        try:
            rules = ci_rules(result, lowest_efficiency=args.lowest_efficiency,
                             highest_wasted_bytes=args.highest_wasted_bytes,
                             highest_user_wasted_percent=args.highest_user_wasted_percent)
        except ValueError as exc:
            raise ImgvizError(f"CI misconfigured: {exc}") from None
    failed = bool(rules) and any(r["status"] == "fail" for r in rules)
    if args.json:
        out = {"image": img.ref, "image_id": img.image_id, "size_bytes": result["size_bytes"],
               "wasted_bytes": result["wasted_bytes"], "efficiency": result["efficiency"],
               "user_size_bytes": result["user_size_bytes"], "user_wasted_percent": result["user_wasted_percent"],
               "files": result["files"], "shipped_not_final_bytes": result["shipped_not_final_bytes"],
               "final_bytes": result["final_bytes"], "layers": result["layers"], "not_final": result["wasted"],
               "source": got.source, "route": got.route}
        if rules is not None:
            out["ci"] = {"pass": not failed, "rules": rules}
        dump_json(out)
        return 1 if failed else 0

    print(terminal_safe(f"{img.ref}  ({img.image_id[:19]}, {len(img.diff_ids)} layers, from {got.source})"))
    print()
    print("dive's figures (what `dive --ci` gates on):")
    print(f"  efficiency           {_pct(result['efficiency'])}")
    print(f"  wasted bytes         {human_size(result['wasted_bytes'], 3)}   (every copy of each path found "
          f"twice or more, the kept copy included)")
    print(f"  user wasted percent  {_pct(result['user_wasted_percent'])}   (wasted bytes / "
          f"{human_size(result['user_size_bytes'], 3)} above the base layer)")
    print()
    print("imgviz's figure:")
    print(f"  not in the final filesystem  {human_size(result['shipped_not_final_bytes'], 3)}   (bytes shipped in "
          f"layers that a later layer removed, overwrote or hid: downloaded and stored, read by no container)")
    print(f"  in the final filesystem      {human_size(result['final_bytes'], 3)}")
    print()
    files = result["files"]
    print("Files counted twice or more (dive's inefficient files):")
    if files:
        print(render(["COUNT", "WASTED SPACE", "PATH"],
                     [(f["count"], human_size(f["wasted_bytes"], 3), f["path"]) for f in files[:30]]))
        if len(files) > 30:
            print(f"... and {len(files) - 30} more (--json lists all)")
    else:
        print("None")
    print()
    print("Layers:")
    print(render(["#", "SIZE", "ADDED", "CHANGED", "REMOVED", "NOT IN FINAL", "CREATED BY"],
                 [(r["position"], human_size(r["size_bytes"], 3), r["added"], r["modified"], r["removed"],
                   human_size(r["wasted_bytes"], 3), _short(r["created_by"])) for r in result["layers"]]))
    if rules is not None:
        print()
        print("CI rules (dive's):")
        for r in rules:
            line = f"  {r['status'].upper()}: {r['rule']}"
            print(f"{line}: {r['message']}" if r["message"] else line)
        print(f"Result: {'FAIL' if failed else 'PASS'}")
    return 1 if failed else 0


def _short(text, width: int = 60) -> str:
    if not text:
        return ""
    text = text.replace("/bin/sh -c ", "").replace("#(nop) ", "").strip()
    return text if len(text) <= width else text[: width - 1] + "…"
