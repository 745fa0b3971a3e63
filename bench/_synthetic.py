"""A synthetic engine for speed benchmarks only (never for correctness tests).

Makes :class:`imgviz.frames.Frames` shaped like a large real engine: a few bases, runtimes on
them, many application families whose versions share dependency layers, some dangling images,
some images with two tags, the same file copied onto different parents, and containers. Numbers
are random but seeded, so runs compare.
"""

from __future__ import annotations

import hashlib
import random

import pandas as pd

from imgviz.analysis.sizes import per_image_sizes
from imgviz.frames import Frames, _frame, chain_ids


def _digest(*parts) -> str:
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def synthetic_frames(n_images: int = 2000, n_layers: int = 20000, *, seed: int = 7,
                     n_bases: int = 4, n_runtimes: int = 40, versions: int = 5,
                     n_containers: int = 300) -> Frames:
    """Frames of a made-up engine with about ``n_images`` images and ``n_layers`` distinct layers."""
    rng = random.Random(seed)
    MB, KB = 1_000_000, 1_000
    bases = []
    for b in range(n_bases):
        n = rng.randint(1, 3)
        bases.append({"name": f"base{b}", "layers": [(_digest("base", b, k), rng.randint(20, 90) * MB,
                                                      "IMPORT" if k == 0 else "RUN",
                                                      "" if k == 0 else f"RUN /bin/sh -c apt-get install -y pkg{b}-{k}")
                                                     for k in range(n)]})
    runtimes = []
    for r in range(n_runtimes):
        base = bases[r % n_bases]
        n = rng.randint(2, 4)
        own = [(_digest("rt", r, k), rng.randint(5, 100) * MB, "RUN",
                f"RUN /bin/sh -c install runtime{r} part {k} # buildkit") for k in range(n)]
        runtimes.append({"name": f"runtime{r}", "layers": base["layers"] + own})

    families = max(1, n_images // versions)
    # distinct layers so far; the rest is split over the application images
    fixed = sum(len(b["layers"]) for b in bases) + sum(len(r["layers"]) - len(bases[i % n_bases]["layers"])
                                                       for i, r in enumerate(runtimes))
    per_image = max(2.0, (n_layers - fixed) / max(n_images, 1))
    images, layer_rows = [], []
    shared_config = _digest("config-file")  # the same COPY diff on many parents
    names = ["web", "api", "worker", "batch", "ui", "auth", "billing", "search", "etl", "gateway"]
    made = 0
    for fam in range(families):
        if made >= n_images:
            break
        parent = runtimes[rng.randrange(n_runtimes)] if rng.random() < 0.85 else bases[rng.randrange(n_bases)]
        repo = f"team{fam % 37}/{names[fam % len(names)]}-{fam}"
        deps_variant = None
        deps = []
        for v in range(versions):
            if made >= n_images:
                break
            if deps_variant is None or rng.random() < 0.4:  # dependencies change every few versions
                deps_variant = v
                deps = [(_digest("deps", fam, v, k), rng.randint(1, 150) * MB, "RUN",
                         f"RUN /bin/sh -c npm ci --omit=dev  # part {k} # buildkit") for k in range(2)]
                deps.append((shared_config, 2 * KB, "COPY", "COPY app.conf /etc/app.conf # buildkit"))
            # new dependency layers per image: 3 per change, a change about every 2.5 versions
            n_own = max(1, int(round(rng.gauss(per_image - 3 * (1 + 0.4 * (versions - 1)) / versions, 1.0))))
            own = [(_digest("app", fam, v, k), rng.randint(1, 5000) * KB, "COPY" if k % 2 else "RUN",
                    f"COPY src/ /app/src{k} # buildkit" if k % 2 else f"RUN /bin/sh -c make step{k} # buildkit")
                   for k in range(n_own)]
            stack = parent["layers"] + deps + own
            diff_ids = [d for d, *_ in stack]
            chains = chain_ids(diff_ids)
            image_id = _digest("image", fam, v)
            dangling = rng.random() < 0.04
            tags = [] if dangling else [f"{repo}:v{v}"] + ([f"{repo}:latest"] if v == versions - 1 else [])
            images.append({"image_id": image_id, "short_id": image_id[7:19], "tags": tags, "digests": [],
                           "repository": repo if tags else "<none>", "tag": f"v{v}" if tags else "<none>",
                           "dangling": dangling, "created": pd.Timestamp("2026-01-01", tz="UTC")
                           + pd.Timedelta(minutes=made),
                           "size": sum(s for _, s, *_ in stack), "shared_size": None, "unique_size": None,
                           "containers": 0, "size_source": "engine", "os": "linux", "architecture": "amd64",
                           "n_layers": len(stack), "n_history": len(stack), "env": [], "cmd": None,
                           "entrypoint": None, "workdir": "", "user": "", "labels": {}, "exposed_ports": [],
                           "source": "engine"})
            for p, ((diff, size, ins, cmd), chain) in enumerate(zip(stack, chains)):
                layer_rows.append({"image_id": image_id, "position": p, "diff_id": diff, "chain_id": chain,
                                   "parent_chain_id": chains[p - 1] if p else None, "size": size,
                                   "history_index": p, "created_by": cmd, "instruction": ins,
                                   "comment": "buildkit.dockerfile.v0"})
            made += 1

    layers = _frame("layers", layer_rows)
    derived = per_image_sizes(layers).set_index("image_id")
    for im in images:
        im["shared_size"] = int(derived.at[im["image_id"], "shared_size"])
        im["unique_size"] = im["size"] - im["shared_size"]
    ctr_rows = []
    for c in range(n_containers):
        im = images[rng.randrange(len(images))]
        im["containers"] += 1
        cid = _digest("container", c)[7:]
        state = rng.choice(["running", "exited", "exited", "created"])
        ctr_rows.append({"container_id": cid, "short_id": cid[:12], "names": [f"ctr-{c}"],
                         "image": (im["tags"] or [im["image_id"]])[0], "image_id": im["image_id"],
                         "command": "run", "state": state, "status": state, "created": None,
                         "size_rw": rng.randint(0, 50_000) * KB, "size_root_fs": None, "env": []})
    imgs = _frame("images", images)
    containers = _frame("containers", ctr_rows)
    physical = int(layers.drop_duplicates("chain_id")["size"].sum())
    engine_df = {"layers_size": physical,
                 "images": {i["image_id"]: {"Id": i["image_id"], "Size": i["size"], "SharedSize": i["shared_size"],
                                           "Containers": i["containers"]} for i in images},
                 "containers": {c["container_id"]: {"Id": c["container_id"], "SizeRw": c["size_rw"]}
                                for c in ctr_rows}}
    return Frames(images=imgs, layers=layers, history=_frame("history", []), containers=containers,
                  source={"kind": "synthetic", "host": f"synthetic seed={seed}"}, engine_df=engine_df)


if __name__ == "__main__":  # python -m bench._synthetic
    f = synthetic_frames()
    print(f, "distinct layers:", f.layers["chain_id"].nunique())
