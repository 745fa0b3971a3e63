"""Snapshot -> pandas frames: ``images``, ``layers``, ``history``, ``containers``, and the rest of
``docker system df -v`` / ``docker image ls -a``: ``volumes``, ``build_cache``, ``intermediates``.

Columns and dtypes are defined once, in :mod:`imgviz._schema`; the rows come from
:mod:`imgviz.rows` (raw records -> plain rows, no pandas), which also holds how the engine's
history is mapped onto layers and how sizes a source does not give are derived. This module only
turns those rows into typed DataFrames, so a frame and a CLI listing can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _schema
from .rows import normalize_df, rows
from .snapshot import Snapshot
from .sources._oci import chain_ids  # the one chain-ID rule (sources, frames and the cascade share it)

__all__ = ["Frames", "chain_ids", "frames", "normalize_df"]


@dataclass
class Frames:
    """The tidy tables of one snapshot, plus the snapshot they came from.

    Attributes
    ----------
    images, layers, history, containers : DataFrame
        See :mod:`imgviz._schema` (``imgviz.schema("images")`` prints the columns).
    volumes, build_cache : DataFrame
        The Local Volumes and Build cache rows of ``docker system df -v`` (engine sources; empty
        for a registry or an archive, and when the engine's answer has none).
    intermediates : DataFrame
        Images ``docker image ls -a`` lists and ``docker image ls`` does not (classic-builder steps).
    source : dict
        Where and when the snapshot was collected.
    skipped : list of dict
        Objects that vanished during collection.
    engine_df : dict or None
        The engine's own ``/system/df`` totals: ``layers_size`` (bytes of distinct layers),
        ``images`` and ``containers`` keyed by ID; None for sources without an engine.
    snapshot : Snapshot
        The raw records.
    """

    images: pd.DataFrame
    layers: pd.DataFrame
    history: pd.DataFrame
    containers: pd.DataFrame
    source: dict[str, Any] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    engine_df: dict[str, Any] | None = None
    snapshot: Snapshot | None = field(default=None, repr=False)
    volumes: pd.DataFrame = field(default_factory=lambda: _frame("volumes", []))
    build_cache: pd.DataFrame = field(default_factory=lambda: _frame("build_cache", []))
    intermediates: pd.DataFrame = field(default_factory=lambda: _frame("intermediates", []))

    def __repr__(self) -> str:
        return (f"<Frames from {self.source.get('kind', '?')} {self.source.get('host', '')}: "
                f"{len(self.images)} images, {len(self.layers)} layer rows, "
                f"{len(self.history)} history rows, {len(self.containers)} containers>")


# ------------------------------------------------------------------------------------------ helpers

def _ts(value: Any) -> pd.Timestamp | None:
    """A UTC timestamp from the engine's unix seconds or an RFC 3339 string; None when unknown."""
    if value in (None, "", 0):
        return None
    try:
        if isinstance(value, (int, float)):
            return pd.Timestamp(value, unit="s", tz="UTC")
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    schema = _schema.SCHEMAS[name]
    data = {}
    for col, (dtype, _meaning) in schema.items():
        values = [row.get(col) for row in rows]
        if dtype.startswith("datetime64"):
            data[col] = pd.to_datetime(pd.Series([_ts(v) for v in values], dtype="object"), utc=True)
        elif dtype == "object":
            data[col] = pd.Series(values, dtype="object")
        elif dtype == "bool":
            data[col] = pd.Series([bool(v) for v in values], dtype="bool")
        else:
            data[col] = pd.Series([pd.NA if v is None else v for v in values], dtype="object").astype(dtype)
    return pd.DataFrame(data, columns=list(schema))


# --------------------------------------------------------------------------------------- the build

def frames(snapshot: Snapshot) -> Frames:
    """Build the frames of a snapshot.

    Parameters
    ----------
    snapshot : Snapshot
        From :func:`imgviz.collect`, :func:`imgviz.load` or any source.

    Returns
    -------
    Frames

    Examples
    --------
    >>> f = frames(demo_snapshot())               # doctest: +SKIP
    >>> f.images[["repository", "tag", "size"]]   # doctest: +SKIP
    """
    r = rows(snapshot)
    return Frames(images=_frame("images", r.images), layers=_frame("layers", r.layers),
                  history=_frame("history", r.history), containers=_frame("containers", r.containers),
                  source=dict(snapshot.source), skipped=list(snapshot.skipped), engine_df=r.engine_df,
                  snapshot=snapshot, volumes=_frame("volumes", r.volumes),
                  build_cache=_frame("build_cache", r.build_cache),
                  intermediates=_frame("intermediates", r.intermediates))
