"""Pick an image, set ``-e`` values, see the environment ``docker run`` gives the container."""

from __future__ import annotations

import html
import shlex

from ._show import frames_of
from .explorer import tag_options


class EnvPlayground:
    """The ``-e`` playground of notebook 02.

    Type ``-e`` values one per line (``TARGET=google.com``; a bare ``TARGET`` takes the value of
    your shell's variable of that name, or unsets the image's default when your shell has none).
    The table is :func:`imgviz.analysis.run_env.run_env`: the process environment, in the order
    ``env`` prints it, where each value comes from, and what the image said. The rule was checked
    against real ``docker run -e`` (tests/analysis/test_run_env_live.py).

    Attributes
    ----------
    image, env, shell, tty : ipywidgets controls
    result : DataFrame
        The current :func:`~imgviz.analysis.run_env.run_env` frame.
    """

    def __init__(self, frames, *, image: str | None = None, env: str = "TARGET=google.com"):
        import ipywidgets as w

        self.frames = frames
        options = tag_options(frames)
        values = [v for _, v in options]
        default = next((v for v in ("workshop/web-ping:v1", "web-ping:latest") if v in values), values[0])
        self.image = w.Dropdown(options=options, value=image if image in values else default,
                                description="Image", layout=w.Layout(width="460px"))
        self.env = w.Textarea(value=env, description="-e", placeholder="NAME=value, one per line",
                              layout=w.Layout(width="460px", height="90px"), continuous_update=False)
        self.shell = w.Textarea(value="", description="your shell", placeholder="NAME=value your shell has "
                                "(for a bare -e NAME)", layout=w.Layout(width="460px", height="60px"),
                                continuous_update=False)
        self.tty = w.Checkbox(value=False, description="-t (a terminal)", indent=False)
        self.command = w.HTML()
        self.table = w.HTML()
        self.result = None
        for control in (self.image, self.env, self.shell, self.tty):
            control.observe(lambda _c: self.refresh(), names="value")
        self.widget = w.VBox([self.image, self.env, self.shell, self.tty, self.command, self.table])
        self.refresh()

    @staticmethod
    def _lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    def refresh(self) -> None:
        """Recompute the table for the current image and values."""
        from ..analysis.run_env import run_env
        from ..analysis.secrets import mask_env
        from ..errors import ImgvizError
        from ..selection import find_image

        image_id = find_image(self.frames.images, self.image.value)
        image_env = list(self.frames.images.set_index("image_id").loc[image_id, "env"] or [])
        args = self._lines(self.env.value)
        shell = dict(x.split("=", 1) for x in self._lines(self.shell.value) if "=" in x)
        flags = " ".join(f"-e {shlex.quote(a)}" for a in args)
        self.command.value = (f"<pre style='white-space:pre-wrap'>docker run {'-t ' if self.tty.value else ''}"
                              f"{html.escape(flags)} {html.escape(self.image.value)}</pre>")
        try:
            self.result = run_env(image_env, args, client_env=shell, tty=self.tty.value)
        except ImgvizError as exc:
            self.result = None
            self.table.value = f"<div style='color:#a33'>docker would refuse this: {html.escape(str(exc))}</div>"
            return
        shown = self.result.copy()
        masked = dict(x.split("=", 1) for x in mask_env([f"{n}={v}" for n, v in zip(shown["name"], shown["value"])]))
        shown["value"] = [masked.get(n, v) for n, v in zip(shown["name"], shown["value"])]
        shown["image_default"] = shown["image_default"].fillna("")
        removed = self.result.attrs.get("removed") or []
        rows = "".join(
            f"<tr style='{'background:#fff3cd' if c else ''}'><td><code>{html.escape(n)}</code></td>"
            f"<td><code>{html.escape(str(v))}</code></td><td>{html.escape(s)}</td>"
            f"<td><code>{html.escape(str(d))}</code></td></tr>"
            for n, v, s, d, c in zip(shown["name"], shown["value"], shown["source"], shown["image_default"],
                                      shown["changed"]))
        note = (f"<p>unset by a bare <code>-e</code>: {', '.join(html.escape(n) for n in removed)}</p>"
                if removed else "")
        self.table.value = ("<table class='imgviz-env'><tr><th>variable</th><th>in the container</th>"
                            "<th>from</th><th>image default</th></tr>" + rows + "</table>" + note)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"<EnvPlayground: {self.image.value}, -e {self._lines(self.env.value)}; display it, or read .result>"


def env_playground(frames=None, *, image: str | None = None, env: str = "TARGET=google.com") -> EnvPlayground:
    """The ``-e`` playground (see :class:`EnvPlayground`).

    Parameters
    ----------
    frames : Frames, or a source :func:`imgviz.open` accepts, optional
    image : str, optional
        The tag chosen first.
    env : str
        The first ``-e`` values, one per line.
    """
    return EnvPlayground(frames_of(frames), image=image, env=env)
