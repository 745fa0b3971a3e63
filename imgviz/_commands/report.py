"""``imgviz report -o report.html``: one self-contained HTML file to open offline or send to colleagues.

Writing follows imgviz's one output rule (:mod:`imgviz._output`): a report can be made again, so an
existing regular file is replaced (atomically, and the command says so); anything else at the path
(a directory, a device, a FIFO, a socket, a dangling symlink) is refused before the source is read.
"""

from __future__ import annotations

from ._source import add_source_args, finish, resolve_frames


def register(sub) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report (figures, tables, explanations)",
                       description="Write one HTML file with figures, tables and short explanations of the "
                                   "images, their layers, sharing, sizes, history, ENV and containers. plotly.js "
                                   "is inside the file, so it opens offline. Secret-looking ENV values are masked.")
    p.add_argument("-o", "--output", default="report.html", metavar="FILE", help="file to write (default: report.html)")
    p.add_argument("--title", help="page title")
    p.add_argument("--top", type=int, default=25, metavar="N",
                   help="largest number of images/repositories/layers per table or figure; the rest are summed (default 25)")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .._output import target_of
    from .._text import terminal_safe as safe
    from ..errors import ImgvizError
    from ..report import Report
    from ..units import axis_bytes

    if args.top < 1:
        raise ImgvizError(f"--top {args.top}: must be at least 1")
    target_of(args.output)  # a path that can never be written is refused before the source is read
    f, where = resolve_frames(args)
    print(f"Source: {safe(where)}")
    from ._source import print_cache_note

    print_cache_note(f)
    from .sizes import _incomplete_line

    _incomplete_line(f)
    report = Report(f, description=where, title=args.title, show_secrets=args.show_secrets, top=args.top)
    path = report.write_html(args.output).resolve()
    size = path.stat().st_size
    replaced = " (replaced the previous file)" if report.last_written.replaced else ""
    if report.last_written.beside:
        replaced = f" ({safe(args.output)} exists and was left as it was: this report is incomplete)"
    print(f"wrote {safe(path)}{replaced} ({axis_bytes(size)}): {len(f.images)} images, {len(f.containers)} "
          f"containers, secrets {'SHOWN' if args.show_secrets else 'masked'}; open it in a browser, no network needed")
    return finish(args, f)
