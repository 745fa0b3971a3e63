"""Replay of a recorded engine snapshot: an engine client that answers from the recording.

Loading an engine snapshot runs :func:`imgviz.sources.engine.collect` with :class:`ReplayClient`,
so recorded data goes through exactly the code a live collection uses (docker-py's ``attrs`` idea:
the raw responses are what is kept, and everything else is derived again).
"""

from __future__ import annotations

from ..snapshot import Snapshot


class ReplayNotFound(Exception):
    """Raised by :class:`ReplayClient` for an object the recording says was gone (an HTTP 404)."""

    status_code = 404


class ReplayClient:
    """Answers the engine calls :func:`~imgviz.sources.engine.collect` makes from a recorded snapshot.

    Objects the recording skipped answer "not found" again; objects missing from an incomplete
    recording answer "connection lost".
    """

    def __init__(self, snapshot: Snapshot):
        rec = snapshot.records
        self.recorded_host = snapshot.source.get("host")
        self._rec = rec
        self._images = {r["id"]: r for r in rec.get("images") or []}
        self._containers = {r["id"]: r for r in rec.get("containers") or []}
        self._gone = {(s.get("kind"), s.get("id")): s.get("detail", "") for s in rec.get("skipped") or []}

    @property
    def probed_ping(self) -> dict | None:
        """The ``/_ping`` headers of a collection that asked no ``/version`` (a question about one
        image or the list; podman read from its storage), else None."""
        return self._rec.get("ping") if self._rec.get("version") is None else None

    def _need(self, key: str):
        value = self._rec.get(key)
        if value is None:
            raise ConnectionError(f"recording has no {key}")
        return value

    def version(self):
        return self._need("version")

    def images(self):
        return self._need("image_list")

    def _image(self, image_id: str) -> dict:
        image_id = self._resolve(image_id)
        if ("image", image_id) in self._gone:
            raise ReplayNotFound(self._gone[("image", image_id)])
        if image_id not in self._images:
            raise ConnectionError(f"recording stops before image {image_id}")
        return self._images[image_id]

    def _resolve(self, ref: str) -> str:
        """The recorded image a reference names, as the engine resolves it (a full ID, a name, a
        name@digest, a unique short ID: :func:`imgviz.selection.find_image`, which follows the
        engine's order); a reference no recorded image has is "not found", as the engine says."""
        if ref in self._images or ("image", ref) in self._gone or (ref.startswith("sha256:") and len(ref) == 71):
            return ref  # an ID the recording does not hold: "stops before" (or "gone") below
        from ..errors import ImageNotFound
        from ..selection import find_image

        # what the list names (a recording cut short lists more images than it read), then the
        # images read that the list does not name (a recording of a few images has no list)
        named = {im.get("Id"): im for im in self._rec.get("image_list") or []}
        for image_id, r in self._images.items():
            named.setdefault(image_id, r.get("inspect") or {})
        rows = [{"image_id": image_id, "tags": list(names.get("RepoTags") or []),
                 "digests": list(names.get("RepoDigests") or [])} for image_id, names in named.items()]
        try:
            return find_image(rows, ref)
        except ImageNotFound as exc:
            raise ReplayNotFound(str(exc)) from None

    def inspect_image(self, image_id: str):
        return self._image(image_id)["inspect"]

    def history(self, image_id: str):
        return self._image(image_id)["history"]

    def containers(self, all: bool = True, size: bool = True):  # noqa: A002 - SDK signature
        return self._need("container_list")

    def inspect_container(self, container_id: str):
        if ("container", container_id) in self._gone:
            raise ReplayNotFound(self._gone[("container", container_id)])
        if container_id not in self._containers:
            raise ConnectionError(f"recording stops before container {container_id}")
        return self._containers[container_id]["inspect"]

    def df(self):
        return self._need("df")

    def info(self):  # None in recordings made before /info was read
        return self._rec.get("info")

    def image_manifests(self):
        return self._rec.get("image_manifests")

    def content_store(self):
        return self._rec.get("content")

    def distribution_records(self):
        return self._rec.get("distribution")

    def podman_df(self):  # None in recordings of other engines, or made before it was read
        return self._rec.get("podman_df")

    def podman_storage(self):
        return self._rec.get("podman_storage")

    def podman_store(self):  # what a collection read from podman's storage (its root and driver)
        return self._rec.get("podman_store")

    def close(self) -> None:
        pass
