"""The frames' columns, defined once.

Every frame imgviz builds has exactly these columns, in this order, with these dtypes. Sizes are
bytes (int64). Words mean one thing everywhere:

- ``diff_id``: sha256 of a layer's *uncompressed* tar (``rootfs.diff_ids`` of the image config).
- ``chain_id``: OCI image-spec ChainID; identifies a layer *together with everything below it*.
  Two images share a layer only when they share its chain ID.
- ``digest``: sha256 of the *compressed* blob a registry serves (known for registry and archive
  sources; the engine keeps no compressed blobs).
- ``size``: uncompressed bytes as the engine reports them; ``size_compressed``: blob bytes.

A column whose value a source cannot know is NA (``pd.NA``), never a guessed number; the
``size_source`` column of ``images`` says whether the image sizes came from the engine
(``"engine"``) or were derived from the layers (``"derived"``). A derived layer size is what an
engine reports after ``docker load`` or ``docker pull`` of that layer
(:func:`imgviz.sources.archive.layer_stats`); the engine that *built* a layer with BuildKit reports
less by the target lengths of the layer's symlinks, which a tar cannot tell.
"""

from __future__ import annotations

# name -> (pandas dtype, meaning)
IMAGES = {
    "image_id": ("string", "full image ID, 'sha256:<hex>' (the config digest)"),
    "short_id": ("string", "first 12 hex digits of the ID, as `docker image ls` prints it"),
    "tags": ("object", "list of 'repo:tag' names; empty for a dangling image"),
    "digests": ("object", "list of 'repo@sha256:...' registry digests"),
    "image_ids": ("object", "list of the digests an engine could name this image by: an engine's image, the ID it "
                            "says; a registry's or an archive's, the config digest (Docker's overlay2 and podman's "
                            "ID), then each manifest and index digest read (the containerd store's ID: the index's, "
                            "else the manifest's; imgviz.sources.engine_image_id)"),
    "repository": ("string", "first tag's repository, '<none>' when untagged"),
    "tag": ("string", "first tag's tag, '<none>' when untagged"),
    "dangling": ("bool", "no tags: what `docker image ls -f dangling=true` lists"),
    "created": ("datetime64[ns, UTC]", "creation time from the image config"),
    "size": ("Int64", "the image's size as `docker image ls` and `docker system df -v` SIZE print it (the engine's "
                      "own number; a graph driver: the sum of its layers; the containerd store: content blobs + "
                      "unpacked snapshots)"),
    "shared_size": ("Int64", "bytes of this image's layers that other images use too (df SHARED SIZE)"),
    "unique_size": ("Int64", "size - shared_size (df UNIQUE SIZE)"),
    "size_of_layers": ("Int64", "the layer rule: sum of the sizes of the image's layers, each layer (chain ID) once "
                                "(`docker image history` SIZE); equals size on a graph driver; on the containerd "
                                "store size also counts content blobs (see content_size, unpacked_size)"),
    "content_size": ("Int64", "containerd image store: bytes of the content blobs size counts (manifests, config, "
                              "compressed layers, attestation manifests; /images/json?manifests=1 Content); NA on "
                              "other stores or when not recorded"),
    "unpacked_size": ("Int64", "containerd image store: bytes of the unpacked snapshots size counts "
                               "(?manifests=1 Unpacked: the top snapshot and every parent snapshot); "
                               "size = content_size + unpacked_size; NA on other stores or when not recorded"),
    "containers": ("Int64", "number of containers (any state) created from this image"),
    "size_source": ("string", "'engine' when size/shared_size came from the engine, 'derived' when computed from "
                              "the layer tars (what an engine reports after loading or pulling them)"),
    "os": ("string", "operating system from the config"),
    "architecture": ("string", "CPU architecture from the config"),
    "n_layers": ("Int64", "number of layers (rootfs.diff_ids)"),
    "n_history": ("Int64", "number of history entries, empty ones included"),
    "env": ("object", "list of 'NAME=value' from the config (ENV defaults)"),
    "cmd": ("object", "list: the config's Cmd, or None"),
    "entrypoint": ("object", "list: the config's Entrypoint, or None"),
    "workdir": ("string", "the config's WorkingDir"),
    "user": ("string", "the config's User"),
    "labels": ("object", "dict of labels"),
    "exposed_ports": ("object", "sorted list of exposed ports such as '80/tcp'"),
    "source": ("string", "where the record came from: 'engine', 'registry' or 'archive'"),
}

LAYERS = {
    "image_id": ("string", "the image this row belongs to"),
    "position": ("Int64", "0 for the base layer, counting up"),
    "diff_id": ("string", "sha256 of the uncompressed layer tar"),
    "chain_id": ("string", "OCI ChainID of this layer and all layers below it"),
    "parent_chain_id": ("string", "chain_id of the layer below, NA for the base"),
    "size": ("Int64", "uncompressed bytes, as the engine reports (`docker image history` SIZE)"),
    "digest": ("string", "compressed blob digest, NA when the source has no blobs (the engine)"),
    "size_compressed": ("Int64", "compressed blob bytes, NA when unknown"),
    "media_type": ("string", "blob media type, NA when unknown"),
    "history_index": ("Int64", "index into the image's history of the entry that made this layer"),
    "created_by": ("string", "the command or instruction that made the layer"),
    "instruction": ("string", "Dockerfile keyword (RUN, COPY, ...) derived from created_by"),
    "comment": ("string", "history comment, e.g. 'buildkit.dockerfile.v0'"),
    "created": ("datetime64[ns, UTC]", "when the layer's history entry was created"),
}

HISTORY = {
    "image_id": ("string", "the image this row belongs to"),
    "index": ("Int64", "0 for the oldest entry (the base), counting up"),
    "entry_id": ("string", "image ID the engine names for this entry ('<missing>' when none), as `docker image history` IMAGE"),
    "created": ("datetime64[ns, UTC]", "entry creation time"),
    "created_by": ("string", "command or instruction"),
    "instruction": ("string", "Dockerfile keyword derived from created_by"),
    "comment": ("string", "history comment"),
    "empty_layer": ("bool", "True when the entry made no layer (ENV, CMD, LABEL, ...)"),
    "layer_position": ("Int64", "position of the layer this entry made; NA when empty_layer"),
    "size": ("Int64", "bytes of that layer; 0 for empty entries (as `docker image history`)"),
    "mapping": ("string", "how empty_layer is known: 'config' (read from the image config), 'exact' (rebuilt from the engine's history with no choice left), 'inferred' (rebuilt with a choice among 0-byte entries; sizes stay exact)"),
}

CONTAINERS = {
    "container_id": ("string", "full container ID"),
    "short_id": ("string", "first 12 hex digits"),
    "names": ("object", "list of names without the leading '/'"),
    "image": ("string", "the image reference the container was created from"),
    "image_id": ("string", "the image ID"),
    "command": ("string", "the command line"),
    "state": ("string", "created, running, exited, ..."),
    "status": ("string", "the engine's status text as it was at collection time ('Exited (0) 2 minutes ago': "
                         "minutes before the snapshot's collected_at, not before now)"),
    "created": ("datetime64[ns, UTC]", "container creation time"),
    "size_rw": ("Int64", "bytes in the writable layer (`docker ps -s` / df SIZE)"),
    "size_root_fs": ("Int64", "image size + writable layer (`docker ps -s` virtual)"),
    "env": ("object", "list of 'NAME=value' the container really has (image ENV + -e overrides)"),
    "exit_code": ("Int64", "exit code of the last run; NA when it never ran or is running"),
    "started": ("datetime64[ns, UTC]", "when the container last started; NA when never"),
    "finished": ("datetime64[ns, UTC]", "when it last stopped; NA when never or still running. `status` is "
                                        "the engine's text at collection time ('Exited (0) 2 minutes ago'), "
                                        "these are the times it was made from"),
}

# The rest of what `docker system df -v` and `docker image ls -a` show. From an engine only: a
# registry or an archive has no volumes, build cache or intermediate images (the frames are empty).

VOLUMES = {
    "name": ("string", "volume name (`docker system df -v` VOLUME NAME)"),
    "driver": ("string", "volume driver, 'local' for the engine's own"),
    "mountpoint": ("string", "where the engine keeps the volume's files"),
    "scope": ("string", "'local' or 'global'"),
    "created": ("datetime64[ns, UTC]", "creation time"),
    "labels": ("object", "dict of labels"),
    "size": ("Int64", "bytes of the volume's files as the engine measured them (df -v SIZE); NA when the engine "
                      "did not measure it (-1, or no usage data)"),
    "links": ("Int64", "containers that use the volume, any state (df -v LINKS); NA when unknown"),
}

BUILD_CACHE = {
    "cache_id": ("string", "BuildKit cache record ID (df -v CACHE ID shows its first 12 characters)"),
    "type": ("string", "record type: 'regular' (a layer snapshot), 'source.local' (a build context or "
                       "Dockerfile sent by a client), 'exec.cachemount' (RUN --mount=type=cache), 'internal', "
                       "'frontend', 'source.git.checkout'"),
    "description": ("string", "what made the record, e.g. 'mount / from exec /bin/sh -c ...' or "
                              "'local source for context'"),
    "parents": ("object", "list of parent record IDs (API >= 1.42 'Parents'; Docker 28 sends it as ' Parents'; "
                          "older engines 'Parent')"),
    "size": ("Int64", "bytes of the record (df -v SIZE)"),
    "shared": ("bool", "True when the bytes are also an image's layer or another record's: `docker system df` "
                       "Build Cache SIZE leaves shared records out"),
    "in_use": ("bool", "a build is using the record now (df -v marks its ID with '*'); not reclaimable"),
    "usage_count": ("Int64", "how many times builds used the record (df -v USAGE)"),
    "created": ("datetime64[ns, UTC]", "creation time"),
    "last_used": ("datetime64[ns, UTC]", "last time a build used it; NA when never"),
}

INTERMEDIATES = {
    "image_id": ("string", "ID of an image `docker image ls -a` lists and `docker image ls` does not: a step "
                           "the classic builder kept (named by a listed image's history, not '<missing>')"),
    "short_id": ("string", "first 12 hex digits"),
    "created": ("datetime64[ns, UTC]", "when its history entry was made"),
    "size": ("Int64", "bytes of its layers, every layer below included (`docker image ls -a` SIZE)"),
    "n_layers": ("Int64", "layers it has"),
    "created_by": ("string", "the command of its top history entry (the step that made it)"),
    "instruction": ("string", "Dockerfile keyword of that step"),
    "children": ("object", "labels of the listed images built on it"),
}

FILES = {
    "diff_id": ("string", "the layer (sha256 of its uncompressed tar) this entry is in; a layer several images use has its rows once"),
    "path": ("string", "absolute path in the image ('/etc/passwd'); for a whiteout, the path it hides"),
    "type": ("string", "file, dir, symlink, hardlink, char, block, fifo; 'whiteout' (a .wh.NAME member: "
                       "hides path in the layers below); 'opaque' (a .wh..wh..opq marker whose directory has no entry of its own)"),
    "size": ("int64", "bytes of a regular file's content in the tar; 0 for everything else (a hard link's bytes are its target's)"),
    "mode": ("int64", "permission bits (0o755), without the file-type bits"),
    "uid": ("int64", "owner user ID"),
    "gid": ("int64", "owner group ID"),
    "link": ("string", "a symlink's target as written, or a hard link's target path (absolute); NA otherwise"),
    "mtime": ("int64", "modification time from the tar header, seconds since the epoch"),
    "digest": ("string", "'sha256:...' of a regular file's content when read with digests=True; NA otherwise"),
    "opaque": ("bool", "True for a directory whose .wh..wh..opq marker hides everything the layers below hold beneath it"),
}

SCHEMAS = {"images": IMAGES, "layers": LAYERS, "history": HISTORY, "containers": CONTAINERS,
           "volumes": VOLUMES, "build_cache": BUILD_CACHE, "intermediates": INTERMEDIATES, "files": FILES}


def columns(name: str) -> list[str]:
    """Column names of frame ``name`` in order."""
    return list(SCHEMAS[name])


def describe(name: str) -> str:
    """A plain-text table of a frame's columns, dtypes and meanings."""
    rows = [f"{col:<16} {dtype:<22} {meaning}" for col, (dtype, meaning) in SCHEMAS[name].items()]
    return "\n".join(rows)
