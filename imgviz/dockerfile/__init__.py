"""Dockerfiles and build contexts as the builders read them: parse, expand, .dockerignore, context
walks, hashing, and what each builder refuses.

Rules come per engine generation (``engine="28.5"`` or ``"20.10"``) and builder
(``"buildkit"`` or ``"classic"``); :func:`rules_for` gives the object that bundles them.
"""

from .check import BuilderRules, check_build, rules_for
from .context import BuildContext, ContextError, FileRecord
from .expand import Evaluation, evaluate
from .ignore import PatternMatcher, PatternMatcher2010, matcher_for, parse_dockerignore, read_dockerignore
from .lexer import ExpansionError, Lexer, Lexer2010, lexer_for, process_word, process_words
from .parser import (Dockerfile, DockerfileSyntaxError, Instruction, Parser, Parser2010, Stage, parse, parse_file,
                     parser_for)
from .refusal import BuildRefused
from .walk import context_paths, image_paths

__all__ = [
    "BuildContext", "ContextError", "FileRecord",
    "PatternMatcher", "PatternMatcher2010", "matcher_for", "parse_dockerignore", "read_dockerignore",
    "ExpansionError", "Lexer", "Lexer2010", "lexer_for", "process_word", "process_words",
    "Dockerfile", "DockerfileSyntaxError", "Instruction", "Stage", "Parser", "Parser2010", "parse", "parse_file",
    "parser_for",
    "Evaluation", "evaluate",
    "BuildRefused", "BuilderRules", "check_build", "rules_for",
    "context_paths", "image_paths",
]
