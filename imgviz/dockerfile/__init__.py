"""Dockerfiles and build contexts as the builders read them: parse, expand, .dockerignore, hashing."""

from .context import BuildContext, ContextError, FileRecord
from .ignore import PatternMatcher, parse_dockerignore, read_dockerignore
from .lexer import ExpansionError, process_word, process_words
from .parser import Dockerfile, DockerfileSyntaxError, Instruction, Stage, parse, parse_file

__all__ = [
    "BuildContext", "ContextError", "FileRecord",
    "PatternMatcher", "parse_dockerignore", "read_dockerignore",
    "ExpansionError", "process_word", "process_words",
    "Dockerfile", "DockerfileSyntaxError", "Instruction", "Stage", "parse", "parse_file",
]
