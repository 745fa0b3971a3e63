"""Reorder a Dockerfile and see what rebuilds: the build-cache playground of notebook 04."""

from __future__ import annotations

import html
import shutil
import tempfile
from pathlib import Path

from ._show import FigureView

BUILDERS = (("BuildKit", "buildkit"), ("classic builder", "classic"), ("buildah (podman)", "buildah"))
_NOTE = {
    "classic": "The classic builder keys each step on its parent image and its own instruction (and, for "
               "COPY, the files' content): once one step misses, <b>every step after it runs again</b>, as "
               "the chapter says.",
    "buildah": "podman builds with buildah: like the classic builder, once one step misses <b>every step "
               "after it runs again</b>; a step is reused when its instruction's text (for COPY, the files' "
               "content) is the same on the same parent, so even <code>ENV A b</code> written as "
               "<code>ENV A=b</code> runs again.",
    "buildkit": "BuildKit decides <b>per step</b>: ENV, CMD and LABEL are no build steps (they edit the "
                "image's settings), and a file step is reused when its own inputs and the file steps "
                "before it are unchanged, so a moved ENV does not rebuild a later COPY.",
}


class ReorderDockerfile:
    """Move the lines of a Dockerfile, choose the builder, and see which steps rebuild.

    The old build is a recorded case's ``old/`` (:func:`imgviz.demo_cascade`). The new build is
    that Dockerfile in the order you set, with ``app.js`` as it was or edited (the case's
    ``new/app.js``). The prediction is :func:`imgviz.cascade`; the figure
    :func:`imgviz.figures.cascade.cascade`. Click a step in the figure to select its line.

    Attributes
    ----------
    lines : ipywidgets.Select
        The instructions after FROM, in the new order.
    builder : ipywidgets.ToggleButtons
    edit_app : ipywidgets.Checkbox
    steps : DataFrame
        The current prediction (one row per instruction of the new Dockerfile).
    figure : plotly.graph_objects.Figure
    """

    def __init__(self, case: str = "webping-edit", *, builder: str = "classic", edit_app: bool = True):
        import ipywidgets as w

        from .._demo import demo_cascade
        from ..dockerfile import parse

        self.case = demo_cascade(case)
        self._text = self.case.dockerfile("old")
        self._parsed = parse(self._text, "Dockerfile")
        stage = self._parsed.stages[-1]
        self._instructions = [i.original.strip() for i in stage.instructions]
        self._from = stage.from_instruction.original.strip()
        self.order = list(range(len(self._instructions)))
        self._dir = Path(tempfile.mkdtemp(prefix="imgviz-reorder-"))
        self.lines = w.Select(options=[], rows=len(self.order) + 1, description="Dockerfile",
                              layout=w.Layout(width="440px"))
        self.up = w.Button(description="move up", icon="arrow-up", layout=w.Layout(width="120px"))
        self.down = w.Button(description="move down", icon="arrow-down", layout=w.Layout(width="120px"))
        self.reset = w.Button(description="reset", icon="undo", layout=w.Layout(width="120px"))
        self.builder = w.ToggleButtons(options=BUILDERS, value=builder, description="Builder")
        self.edit_app = w.Checkbox(value=edit_app, description="edit app.js too (v1 → v2)", indent=False)
        self.summary = w.HTML()
        self.view = FigureView(on_click=self._clicked)
        self.steps = None
        self.figure = None
        self.up.on_click(lambda _b: self.move(-1))
        self.down.on_click(lambda _b: self.move(+1))
        self.reset.on_click(lambda _b: self.set_order(range(len(self._instructions))))
        self.builder.observe(lambda _c: self.refresh(), names="value")
        self.edit_app.observe(lambda _c: self.refresh(), names="value")
        buttons = w.VBox([self.up, self.down, self.reset])
        self.widget = w.VBox([w.HBox([self.lines, buttons]), w.HBox([self.builder, self.edit_app]),
                              self.summary, self.view.box])
        self._fill()
        self.refresh()

    # -- the order ------------------------------------------------------------------------------
    def _fill(self, selected: int | None = None) -> None:
        options = [(f"{k + 2:>2}  {self._instructions[j]}", k) for k, j in enumerate(self.order)]
        with self.lines.hold_sync():
            self.lines.options = [(f" 1  {self._from}", -1)] + options
            self.lines.value = selected if selected is not None else -1

    def set_order(self, order) -> None:
        """Set the new order: indices into the old Dockerfile's instructions after FROM."""
        order = [int(i) for i in order]
        if sorted(order) != list(range(len(self._instructions))):
            raise ValueError(f"an order is a permutation of 0..{len(self._instructions) - 1}, not {order}")
        self.order = order
        self._fill()
        self.refresh()

    def move(self, by: int) -> None:
        """Move the selected line up (-1) or down (+1); FROM stays first."""
        k = self.lines.value
        if k is None or k < 0 or not 0 <= k + by < len(self.order):
            return
        self.order[k], self.order[k + by] = self.order[k + by], self.order[k]
        self._fill(selected=k + by)
        self.refresh()

    def dockerfile(self) -> str:
        """The new Dockerfile's text (:func:`imgviz.analysis.cascade_advisor.reorder_text`)."""
        from ..analysis.cascade_advisor import reorder_text

        orders = [list(range(len(s.instructions))) for s in self._parsed.stages[:-1]] + [self.order]
        return reorder_text(self._text, self._parsed, orders)

    # -- drawing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Write the new build directory, predict, redraw."""
        from ..analysis.cascade import cascade
        from ..figures.cascade import cascade as cascade_figure

        (self._dir / "Dockerfile").write_text(self.dockerfile())
        app = (self.case.new if self.edit_app.value else self.case.old) / "app.js"
        shutil.copyfile(app, self._dir / "app.js")
        builder = self.builder.value
        self.steps = cascade(self.case.old, self._dir, builder=builder)
        rebuilt = int((self.steps["cached"] == False).sum())  # noqa: E712  (None is unknown)
        title = f"{dict((v, k) for k, v in BUILDERS)[builder]}: {rebuilt} of {len(self.steps)} steps run again"
        self.figure = cascade_figure(self.steps, title=title)
        self.view.show(self.figure)
        what = "app.js edited" if self.edit_app.value else "app.js unchanged"
        moved = "the old order" if self.order == sorted(self.order) else "lines moved"
        self.summary.value = (f"<div><b>{rebuilt}</b> of {len(self.steps)} steps run again ({what}, {moved}). "
                              f"{_NOTE[builder]} Click a step to select its line.</div>")

    def _clicked(self, trace, point, _data) -> None:
        """A click on a step selects its line (the step's line in the new Dockerfile)."""
        line = int(self.steps.iloc[int(trace.x[point])]["line"])
        new_lines = _lines_of(self.dockerfile())  # FROM first, then the list's lines in order
        self.lines.value = new_lines.index(line) - 1 if line in new_lines[1:] else -1

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"<ReorderDockerfile {self.case.name}: order={self.order}, builder={self.builder.value}; "
                f"display it in a notebook, or read .steps and .figure>")

    def __del__(self):
        shutil.rmtree(getattr(self, "_dir", ""), ignore_errors=True)


def _lines_of(text: str) -> list[int]:
    """The first line of each instruction of a Dockerfile text, FROM included."""
    from ..dockerfile import parse

    df = parse(text, "Dockerfile")
    st = df.stages[-1]
    return [st.from_instruction.line] + [i.line for i in st.instructions]


def reorder_dockerfile(case: str = "webping-edit", *, builder: str = "classic", edit_app: bool = True) -> ReorderDockerfile:
    """The reorder playground (see :class:`ReorderDockerfile`).

    Parameters
    ----------
    case : str
        A recorded case of :func:`imgviz.demo_cascade`; its ``old/`` is the build before.
    builder : {'classic', 'buildkit', 'buildah'}
    edit_app : bool
        Start with app.js edited (the chapter's v1 → v2).
    """
    return ReorderDockerfile(case, builder=builder, edit_app=edit_app)
