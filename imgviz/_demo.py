"""The embedded demo: the recorded fleet as frames, and the chapter's build-cache cases.

Everything here is package data (:mod:`imgviz._data`), so it runs from any install without Docker.
The snapshot itself (and how it is loaded) belongs to the sources: :func:`imgviz.sources.demo_snapshot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ._data import data_path
from .errors import ImgvizError
from .sources import DEMO_SNAPSHOT, demo_snapshot

__all__ = ["CASCADE_CASES", "CascadeCase", "DEMO_SNAPSHOT", "demo", "demo_cascade", "demo_snapshot"]

#: the chapter's build-cache cases, recorded on dockerd 20.10 (data/cascade/README.md)
CASCADE_CASES = ("webping-edit", "webping-edit-optimized", "webping-optimize")
#: what the recorded tables call each step (observed-*.tsv, written by data/cascade/record_cascade.sh)
OUTCOMES = ("base", "cached", "built", "no-vertex", "unknown")


@lru_cache(maxsize=1)
def _demo_frames():
    from .frames import frames

    return frames(demo_snapshot())


def demo():
    """Frames of the embedded demo snapshot, the way ``px.data.gapminder()`` serves examples.

    Returns
    -------
    Frames

    Examples
    --------
    >>> f = demo()
    >>> int(f.images["size"].gt(0).sum()) > 0
    True
    """
    return _demo_frames()


@dataclass(frozen=True)
class CascadeCase:
    """One recorded build-cache case: two build directories and what a real engine did.

    Attributes
    ----------
    name : str
    old, new : Path
        Build directories (Dockerfile + app.js): ``old`` was built first, then ``new``.
    """

    name: str
    old: Path
    new: Path

    def dockerfile(self, which: str = "new") -> str:
        """The text of ``old/Dockerfile`` or ``new/Dockerfile``."""
        return (self.old if which == "old" else self.new).joinpath("Dockerfile").read_text()

    def observed(self, builder: str = "classic"):
        """What the engine did for each step of ``new/Dockerfile``: columns ``step``,
        ``instruction``, ``outcome`` (``base``, ``cached``, ``built`` or, under BuildKit,
        ``no-vertex``)."""
        import pandas as pd

        path = self.new.parent / f"observed-{builder}.tsv"
        if not path.is_file():
            raise ImgvizError(f"{self.name}: nothing recorded for the {builder!r} builder (have: classic, buildkit)")
        return pd.read_csv(path, sep="\t", comment="#")

    def observed_both(self):
        """:meth:`observed` of both builders side by side: ``step``, ``instruction``, ``classic``,
        ``buildkit`` (what the engine did with each step of ``new/Dockerfile``)."""
        table = self.observed("classic").rename(columns={"outcome": "classic"})
        table["buildkit"] = self.observed("buildkit")["outcome"]
        return table

    def predicted(self, builder: str = "classic"):
        """imgviz's prediction (:func:`imgviz.cascade`) for the same two builds."""
        from .analysis.cascade import cascade

        return cascade(self.old, self.new, builder=builder)

    def compare(self, builder: str = "classic"):
        """Observed and predicted side by side, one row per step of ``new/Dockerfile``.

        Columns ``step``, ``instruction``, ``observed``, ``predicted`` (in the observed tables'
        words, :func:`outcome`), ``same`` and ``reason`` (why imgviz predicts it).
        """
        seen = self.observed(builder)
        steps = self.predicted(builder).reset_index(drop=True)
        out = seen.rename(columns={"outcome": "observed"})
        out["predicted"] = [outcome(r) for r in steps.to_dict("records")]
        out["same"] = out["observed"] == out["predicted"]
        out["reason"] = steps["reason"].tolist()
        return out

    def __repr__(self) -> str:
        return f"<CascadeCase {self.name}: old={self.old}, new={self.new}; .observed(builder), .compare(builder)>"


def outcome(step) -> str:
    """One predicted step (a row of :func:`imgviz.cascade`) in the words the recorded tables use:
    ``base`` for FROM, ``no-vertex`` for a step the builder runs nothing for, ``cached``, ``built``,
    or ``unknown``."""
    cached = step.get("cached")
    if step.get("kind") == "from":
        return "base"
    if step.get("kind") == "metadata":
        return "no-vertex"
    if cached is None or cached != cached:  # None or NaN
        return "unknown"
    return "cached" if cached else "built"


def demo_cascade(case: str = "webping-edit") -> CascadeCase:
    """A recorded build-cache case of the chapter (package data, no engine needed).

    Parameters
    ----------
    case : str
        One of :data:`CASCADE_CASES`: ``webping-edit`` (the chapter's app.js edit),
        ``webping-edit-optimized`` (the same edit, optimized order), ``webping-optimize``
        (reordering the Dockerfile itself).

    Examples
    --------
    >>> c = demo_cascade("webping-edit")
    >>> c.observed("classic")["outcome"].tolist()
    ['base', 'cached', 'cached', 'cached', 'cached', 'built', 'built']
    """
    if case not in CASCADE_CASES:
        raise ImgvizError(f"no cascade case {case!r} (have: {', '.join(CASCADE_CASES)})")
    root = data_path("cascade", case)
    return CascadeCase(case, root / "old", root / "new")
