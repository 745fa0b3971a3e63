""".dockerignore matching as moby/patternmatcher does it."""

import pytest

from imgviz.dockerfile.ignore import IgnoreError, PatternMatcher, parse_dockerignore


def test_parse_normalises():
    text = "# comment\n  *.log  \n\n!keep.log\n/abs/path\n./rel/../x\n ! spaced\n"
    assert parse_dockerignore(text) == ["*.log", "!keep.log", "abs/path", "x", "!spaced"]


@pytest.mark.parametrize("patterns, path, excluded", [
    (["*.log"], "a.log", True),
    (["*.log"], "sub/a.log", False),            # no implicit **/ prefix
    (["**/*.log"], "sub/deep/a.log", True),
    (["**/*.log"], "a.log", True),              # ** matches zero directories
    (["*.log", "!keep.log"], "keep.log", False),
    (["!keep.log", "*.log"], "keep.log", True),  # last match wins
    (["build"], "build/out/x.bin", True),        # a parent directory's match excludes children
    (["build/*"], "build", False),
    (["docs/**"], "docs/a/b.md", True),
    (["a?c"], "abc", True),
    (["a?c"], "a/c", False),
    (["[a-c].txt"], "b.txt", True),
    (["file\\*"], "file*", True),
    (["file\\*"], "filex", False),
    (["dir", "!dir/keep"], "dir/keep", False),
    (["dir", "!dir/keep"], "dir/other", True),
    (["**"], "anything/at/all", True),
    (["a.b"], "axb", False),                     # . is literal
])
def test_matches(patterns, path, excluded):
    assert PatternMatcher(patterns).matches(path) is excluded


def test_walker_enters_excluded_dir_only_for_literal_exceptions():
    pm = PatternMatcher(["dir", "!dir/keep", "logs", "!**/important.txt"])
    assert pm.may_descend("dir")
    assert not pm.may_descend("logs")  # !**/important.txt does not start with logs/
    assert not PatternMatcher(["dir"]).may_descend("dir")


def test_bad_exclusion():
    with pytest.raises(IgnoreError):
        PatternMatcher(["!"])
