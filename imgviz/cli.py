"""The ``imgviz`` command: thin, it picks a source and hands frames to analyses and renderers."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from . import __version__
from ._commands import COMMANDS
from ._text import terminal_safe
from .errors import ImgvizError, UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imgviz", description="See what Docker images are made of.")
    parser.add_argument("--version", action="version", version=f"imgviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"imgviz._commands.{name}").register(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"imgviz: warning: {terminal_safe(message)}", file=sys.stderr)


def _shown(exc: BaseException, args) -> str:
    """An error's one line as printed: a value it quotes is masked like every other output."""
    if getattr(args, "show_secrets", False):
        return str(exc)
    from .analysis.secrets import mask_text

    return mask_text(str(exc))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    from ._commands._source import demo_words

    args = parser.parse_args(demo_words(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    warnings.showwarning = _show_warning
    try:
        from . import limits
        from ._commands._source import limits_of

        # one set of limits and one deadline for the whole command (imgviz.limits; --deadline, IMGVIZ_*)
        with limits.using(limits_of(args)), limits.deadline_scope(what=f"imgviz {args.command}"):
            return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"imgviz: error: {_shown(exc, args)}", file=sys.stderr)
        return 2
    except ImgvizError as exc:
        print(f"imgviz: error: {_shown(exc, args)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("imgviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
