"""The ``imgviz`` command: thin, it picks a source and hands frames to analyses and renderers."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from . import __version__
from ._commands import COMMANDS
from ._text import terminal_safe
from .errors import ImgvizError, UsageError


def _columns() -> int:
    """The terminal's width as :func:`shutil.get_terminal_size` finds it ($COLUMNS, else the
    terminal of stdout, else 80), without importing shutil (which imports bz2, lzma and zlib)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, the width found by :func:`_columns` (argparse's own formatter imports
    shutil for it on every ``add_argument``: 2 ms of every command's start-up)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` with :class:`_Formatter` unless a command asks for another."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _module_of(word: str) -> str | None:
    """The module of :data:`imgviz._commands.COMMANDS` defining the command ``word`` (as typed), or None."""
    name = "whatif" if word == "what-if" else word.replace("-", "_")
    typed = "what-if" if name == "whatif" else name.replace("_", "-")
    return name if name in COMMANDS and word == typed else None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given ``argv`` whose first word names a command, only that
    command is registered (a command's start-up imports no other command's module; its help, its
    errors and its parse are the same); otherwise every command, as ``imgviz --help`` lists them."""
    parser = _Parser(prog="imgviz", description="See what Docker images are made of.")
    parser.add_argument("--version", action="version", version=f"imgviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    only = _module_of(argv[0]) if argv else None
    for name in (only,) if only else COMMANDS:
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
    from ._commands._source import demo_words

    words = demo_words(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser(words)
    args = parser.parse_args(words)
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
