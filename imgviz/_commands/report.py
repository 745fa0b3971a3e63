"""``imgviz report -o report.html``: one self-contained HTML file to open offline or send to colleagues."""

from __future__ import annotations

from ._source import add_source_args, resolve_frames


def register(sub) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report (figures, tables, explanations)",
                       description="Write one HTML file with figures, tables and short explanations of the "
                                   "images, their layers, sharing, sizes, history, ENV and containers. plotly.js "
                                   "is inside the file, so it opens offline. Secret-looking ENV values are masked.")
    p.add_argument("-o", "--output", default="report.html", metavar="FILE", help="file to write (default: report.html)")
    p.add_argument("--title", help="page title")
    p.add_argument("--show-secrets", action="store_true",
                   help="keep the values of secret-looking names (TOKEN, SECRET, PASSWORD, API_KEY, ...)")
    p.add_argument("--top", type=int, default=25, metavar="N",
                   help="largest number of images/repositories/layers per table or figure; the rest are summed (default 25)")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import ImgvizError
    from ..report import Report
    from ..units import axis_bytes

    if args.top < 1:
        raise ImgvizError(f"--top {args.top}: must be at least 1")
    f, where = resolve_frames(args)
    print(f"Source: {where}")
    report = Report(f, description=where, title=args.title, show_secrets=args.show_secrets, top=args.top)
    path = report.write_html(args.output).resolve()
    size = path.stat().st_size
    print(f"wrote {path} ({axis_bytes(size)}): {len(f.images)} images, {len(f.containers)} containers, "
          f"secrets {'SHOWN' if args.show_secrets else 'masked'}; open it in a browser, no network needed")
    return 0
