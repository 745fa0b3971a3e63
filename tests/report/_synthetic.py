"""A synthetic engine snapshot of many images, for size budgets only (never for correctness).

Every record is a copy of a record the real engine gave (tests/data/fleet), with new IDs, tags and
a few extra layers on top, so the shapes are the engine's; the numbers are made up.
"""

from __future__ import annotations

import copy
import hashlib
import random

from imgviz.snapshot import Snapshot


def _sha(*parts) -> str:
    return "sha256:" + hashlib.sha256(" ".join(map(str, parts)).encode()).hexdigest()


def synthetic_snapshot(template: Snapshot, n_images: int = 2000, *, repositories: int = 180,
                       seed: int = 7) -> Snapshot:
    """``n_images`` images spread over ``repositories`` repositories, built on the template's images."""
    rng = random.Random(seed)
    bases = [r for r in template.images if r.get("inspect") and r.get("history")]
    listed = {im["Id"]: im for im in template.records["image_list"]}
    images, image_list = [], []
    for i in range(n_images):
        base = rng.choice(bases)
        rec = copy.deepcopy(base)
        ins, hist = rec["inspect"], rec["history"]
        extra = rng.randint(1, 4)
        new_layers = [_sha("layer", i, k) for k in range(extra)]
        sizes = [rng.randint(1_000, 40_000_000) for _ in range(extra)]
        repo = f"team{i % repositories:03d}/service-{(i * 7) % 23}"
        tag = f"{repo}:build-{i}"
        image_id = _sha("image", i)
        ins["Id"] = image_id
        ins["RepoTags"] = [tag]
        ins["RootFS"]["Layers"] = list(ins["RootFS"]["Layers"]) + new_layers
        ins["Size"] = int(ins.get("Size") or 0) + sum(sizes)
        ins["Config"]["Env"] = list(ins["Config"].get("Env") or []) + [f"BUILD_NUMBER={i}", f"SERVICE_TOKEN=t{i}"]
        ins["Config"]["Labels"] = {**(ins["Config"].get("Labels") or {}), "org.example.build": str(i)}
        top = [{"Id": "<missing>", "Created": hist[0]["Created"] + k + 1,
                "CreatedBy": f"RUN /bin/sh -c make step-{k} BUILD={i} # buildkit", "Tags": None,
                "Size": sizes[k], "Comment": "buildkit.dockerfile.v0"} for k in range(extra)]
        hist[0]["Id"] = "<missing>"
        rec["history"] = list(reversed(top)) + hist
        rec["history"][0]["Id"] = image_id
        rec["id"] = image_id
        summary = copy.deepcopy(listed.get(base["id"]) or {})
        summary.update({"Id": image_id, "RepoTags": [tag], "RepoDigests": [], "Size": ins["Size"],
                        "SharedSize": -1, "Containers": -1})
        images.append(rec)
        image_list.append(summary)
    records = copy.deepcopy(template.records)
    records.update({"images": images, "image_list": image_list, "containers": [], "container_list": [],
                    "df": None, "skipped": []})
    source = dict(template.source, host="synthetic://2000-images")
    return Snapshot(source=source, records=records)
