"""One rule for "is this collection complete, and if not, what is missing" (issue 16).

A collection is incomplete when the source stopped part-way (an engine that stopped answering, a
request that got no complete answer within ``request_timeout``, the ``deadline``, a malformed
answer: ``records["complete"]`` is False) or when objects it listed were gone before their details
were read (``records["skipped"]``: an image removed mid-way). Either way what was collected is
kept, and every output says so: the table and JSON commands exit 3 unless ``--allow-partial``,
their JSON carries ``"complete": false`` and :func:`missing`, the report and the notebooks show
"INCOMPLETE" at the top. A complete collection's outputs are unchanged.

The CLI, the report and the notebooks all call :func:`missing` and :func:`headline`; none of them
re-decides.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any

#: the exit code of a table or JSON command whose collection is incomplete (without --allow-partial)
EXIT_INCOMPLETE = 3

#: the list calls of an engine collection, in the order they are made
_ENGINE_CALLS = (("image_list", "/images/json"), ("container_list", "/containers/json"), ("df", "/system/df"))
#: list calls a targeted collection (``source["scope"]``, imgviz.sources.engine.collect) never makes
_NOT_ASKED = {"what-if": ("df",), "what-if-with-containers": ("df",), "pull": ("container_list",)}


def _snapshot(obj: Any):
    """A Snapshot from a Snapshot, Frames (``.snapshot``) or an ``Opened`` pair."""
    if hasattr(obj, "records"):
        return obj
    snap = getattr(obj, "snapshot", None)
    if snap is not None and hasattr(snap, "records"):
        return snap
    if isinstance(obj, tuple) and obj and hasattr(obj[0], "records"):
        return obj[0]
    if hasattr(obj, "skipped") and hasattr(obj, "source"):
        # frames without their snapshot (mask_frames leaves it out): the skipped list still says
        # when the source stopped (an entry that is not an image or a container), not what it missed
        from types import SimpleNamespace

        skipped = list(obj.skipped or [])
        stopped = any(isinstance(s, dict) and s.get("kind") not in ("image", "container") for s in skipped)
        return SimpleNamespace(source={"kind": "frames"}, records={"skipped": skipped, "complete": not stopped})
    raise TypeError(f"not a snapshot or frames: {type(obj).__name__}")


def is_complete(obj: Any) -> bool:
    """True when nothing is missing from the collection (see :func:`missing`)."""
    return missing(obj) is None


def missing(obj: Any) -> dict[str, Any] | None:
    """None for a complete collection; else what is missing, as plain JSON data.

    ``{"reason": one line, "not_read": [calls never answered, e.g. "/images/json"],
    "images": [IDs listed but not read], "containers": [...], "removed": [{"kind", "id"}, ...]}``.
    ``images`` is None when the image list itself was never read (nobody knows how many are
    missing); ``removed`` are objects the source listed and then no longer had.
    """
    snap = _snapshot(obj)
    rec = snap.records or {}
    stopped = not bool(rec.get("complete", True))
    skipped = [s for s in rec.get("skipped") or [] if isinstance(s, dict)]
    removed = [{"kind": s.get("kind"), "id": s.get("id")} for s in skipped if s.get("kind") in ("image", "container")]
    if not stopped and not removed:
        return None
    stops = [s for s in skipped if s.get("kind") not in ("image", "container")]
    detail = "; ".join(str(s.get("detail") or s.get("reason") or "") for s in stops if s.get("detail") or s.get("reason"))
    out: dict[str, Any] = {"reason": "", "not_read": [], "images": [], "containers": [], "removed": removed}
    if (snap.source or {}).get("kind") == "frames":
        out["images"] = out["containers"] = None  # not known without the snapshot
    elif (snap.source or {}).get("kind") == "engine":
        gone = {(r["kind"], r["id"]) for r in removed}
        skip = _NOT_ASKED.get((snap.source or {}).get("scope"), ())
        if stopped:
            out["not_read"] = [call for key, call in _ENGINE_CALLS if rec.get(key) is None and key not in skip]
        for kind, listed_key, got_key in (("image", "image_list", "images"),
                                          ("container", "container_list", "containers")):
            listed = rec.get(listed_key)
            if listed is None and listed_key in skip:
                continue  # never asked: nothing of it is missing
            if listed is None:
                out[got_key] = None if stopped else []
                continue
            have = {x.get("id") for x in rec.get(got_key) or [] if isinstance(x, dict)}
            out[got_key] = [x.get("Id") for x in listed if isinstance(x, dict) and x.get("Id") not in have
                            and (kind, x.get("Id")) not in gone]
    parts = []
    if stopped:
        parts.append(f"the source stopped part-way ({detail})" if detail else "the source stopped part-way")
    if out["not_read"]:
        parts.append("never read: " + ", ".join(out["not_read"]))
    for key in ("images", "containers"):
        if out[key]:
            parts.append(f"{len(out[key])} listed {key} not read")
    if removed:
        parts.append(f"{len(removed)} removed during collection")
    out["reason"] = "; ".join(parts)
    return out


def headline(obj: Any) -> str | None:
    """One line for the top of any output ("INCOMPLETE: ..."), None for a complete collection."""
    m = missing(obj)
    if m is None:
        return None
    snap = _snapshot(obj)
    n_img = len(obj.images) if hasattr(obj, "layers") else len(snap.records.get("images") or [])
    n_ctr = len(obj.containers) if hasattr(obj, "layers") else len(snap.records.get("containers") or [])
    return (f"INCOMPLETE: {m['reason']}; kept what was collected ({n_img} images, {n_ctr} containers); "
            f"every number here covers only those")


def json_output(data: Any, obj: Any, key: str) -> Any:
    """``data`` as a JSON command prints it: unchanged for a complete collection; for an incomplete
    one an object with ``"complete": false`` and ``"missing"`` (a list is put under ``key``; an
    object gets the two keys added)."""
    m = missing(obj)
    if m is None:
        return data
    if isinstance(data, dict):
        return {"complete": False, "missing": m, **data}
    return {"complete": False, "missing": m, key: data}
