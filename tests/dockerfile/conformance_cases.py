"""Inputs of the Dockerfile conformance families, each run through the real builders.

Three families (ground truth recorded by ``record_conformance.py`` into tests/data/dockerfile/):

* EXPANSION: words expanded by the builder's lexer.  Each case sets one variable ``C###`` with
  ``ENV C### <word>`` (the legacy form takes the rest of the line as one word) or with lines of its
  own; the recording reads the variable back from the environment a RUN step sees
  (``/proc/self/environ``, exact bytes).
* IGNORE: a .dockerignore over one fixed context tree; the recording lists what ``COPY . /c/``
  put into the image.
* ACCEPT: whole Dockerfiles (and contexts) that one builder or another refuses; the recording says
  whether the build succeeded, the builder's message, and (for some) the content of files a RUN
  step wrote.

Nothing here says what the builders do: that is only in the recordings.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------------
# EXPANSION
# The fixture: variables every case can read.  The builder's own values for them are recorded too.
EXP_META = [
    "ARG META=meta",
    "ARG METAEMPTY=",
    "ARG METAONLY=metaonly",
]
EXP_FIXTURE = [
    "ARG AVAL=argvalue",
    "ARG AEMPTY=",
    "ARG ANOVAL",
    "ARG FROMCLI",
    "ARG FROMCLIDEF=default",
    "ARG META",
    "ARG METAEMPTY",
    "ENV SET=value EMPTY= SP=\"a b\" P=/usr/local/bin:/usr/bin F=archive.tar.gz "
    "U=http://host/a/b/c.txt STAR=\"a*b\" Q=\"it's\" MULTI=aXbXcXd SLASH=a/b/c/d NUM=12345 "
    "DOTS=a.b.c LOWER=abc UPPER=ABC REP=aaa",
]
EXP_BUILD_ARGS = {"FROMCLI": "cli", "FROMCLIDEF": "cli2", "UNDECLARED": "x"}
EXP_FIXTURE_VARS = ["SET", "EMPTY", "SP", "P", "F", "U", "STAR", "Q", "MULTI", "SLASH", "NUM", "DOTS",
                    "LOWER", "UPPER", "REP", "AVAL", "AEMPTY", "ANOVAL", "FROMCLI", "FROMCLIDEF", "META",
                    "METAEMPTY", "METAONLY", "UNDECLARED", "PATH"]

# (word) cases, written as ``ENV C### <word>``
_WORDS = [
    # plain references
    "$SET", "${SET}", "$UNSET", "${UNSET}", "${SET}x", "$SETx", "a$SET", "$SET$SET", "${SET}${EMPTY}z",
    "$SET-x", "$SET.x", "$SET/x", "${SET}_", "$SET_", "$_X", "$A_B", "pre${SET}post",
    # defaults and alternatives
    "${SET:-d}", "${EMPTY:-d}", "${UNSET:-d}", "${SET-d}", "${EMPTY-d}", "${UNSET-d}",
    "${SET:+a}", "${EMPTY:+a}", "${UNSET:+a}", "${SET+a}", "${EMPTY+a}", "${UNSET+a}",
    "${UNSET:-$SET}", "${UNSET:-${EMPTY:-deep}}", "${UNSET:-a b}", '${UNSET:-"q d"}', "${UNSET:-'s q'}",
    "${SET:?x}", "${SET?x}", "${EMPTY?x}", "${EMPTY:?msg}", "${UNSET?msg}", "${UNSET:?}", "${UNSET:?must be set}",
    "${UNSET:-}", "${SET:-}", "${UNSET:-a}b}", "${UNSET:-a\\}b}", "${UNSET:-$}", "${SET:+${UNSET:-x}y}",
    # pattern removal
    "${F%.*}", "${F%%.*}", "${F#*.}", "${F##*.}", "${U#*/}", "${U##*/}", "${U%/*}", "${U%%/*}",
    "${P%:*}", "${P#*:}", "${SET#v}", "${SET%e}", "${SET#x}", "${SET#}", "${UNSET#x}", "${EMPTY%x}",
    "${SET#?}", "${SET%??}", "${SET#*}", "${SET##*}", "${STAR#a\\*}", "${STAR%\\**}", "${F%.[a-z]*}",
    "${MULTI#*X}", "${MULTI##*X}", "${MULTI%X*}", "${MULTI%%X*}", "${F#$SET}", "${F%.gz}", "${F%\\.gz}",
    "${DOTS%.*}", "${DOTS##*.}", "${SLASH#*/*/}", "${REP#a}", "${REP##a}", "${REP%%a*}", "${SET%}",
    "${SET#v*l}", "${SET%a*}", "${SET%%a*}", "${UPPER#A}", "${SET#V}",
    # replacement
    "${SET/a/A}", "${MULTI/X/-}", "${MULTI//X/-}", "${MULTI//X/}", "${MULTI//X}", "${SLASH//\\//_}",
    "${SET/#v/V}", "${SET/%e/E}", "${SET/*/x}", "${SET/?/x}", "${UNSET/a/b}", "${SET/a/$EMPTY}",
    "${SET/a/${SET}}", "${SET/l*/L}", "${REP//a/bb}", "${SET/x/y}", "${U//\\//|}", "${SET/v}",
    # modifiers the builders reject or do not know
    "${SET:%x}", "${SET:#x}", "${SET:/a/b}", "${SET*x}", "${SET:0:2}", "${SET^^}", "${SET,}", "${#SET}",
    "${!SET}", "${SET:=d}", "${UNSET=d}",
    # quotes and escapes
    "'$SET'", '"$SET"', '"a\\"b"', '"a\\$b"', '"a\\\\b"', "'a\\b'", "\\$SET", "a\\ b", '"keep \\n"',
    "a\"b\"c", "'a'\"b\"", '""', "''", "$'x'", '"${SET} ${EMPTY}|"', "'unterminated", '"unterminated',
    "a\\'b", '"it\'s $SET"', "'\"$SET\"'", '"$SET\'"', "\\\\", '"\\q"',
    # special parameters and odd names
    "$1", "$12", "$0", "$@", "$*", "$#", "$?", "$-", "$$", "$!", "${1}", "${@}", "${12}", "$1a", "${é}",
    "$é", "$SET€", "$٣x", "${SET€}",
    # lone dollars and bad braces
    "$", "a$", "$ a", "${", "${SET", "${}", "${:x}", "${{x}}", "$${SET}", "${SET}}", "${SET:-}}",
    "${SET x}", "${SET-", "${ SET}",
    # things a shell would do that the lexer does not
    "`echo hi`", "$(echo hi)", "~", "*.txt", "a<<b", "a << b", "{a,b}", "$((1+2))", "a;b", "a|b",
    # scope: ARG, build args, meta args
    "$AVAL", "$AEMPTY", "${AEMPTY-unset}", "${ANOVAL-unset}", "$FROMCLI", "$FROMCLIDEF", "${UNDECLARED-unset}",
    "$META", "$METAEMPTY", "${METAEMPTY-unset}", "${METAONLY-unset}", "$PATH", "${PATH%%:*}",
    # non-ASCII and bytes that are not UTF-8
    "é", "日本", "a\u00a0b", b"\xff\xfe".decode("utf-8", "surrogateescape"), b"x\xc3(".decode("utf-8", "surrogateescape"),
]

# (lines, variable) cases: several instructions, the value of one variable
_SCOPED = [
    (["ENV {v}A=a {v}=${{v}A:-before}"], "{v}"),                  # same-line reference sees the old value
    (["ENV {v}A=a", "ENV {v}=${{v}A}"], "{v}"),
    (["ARG {v}A=x", "ENV {v}A=y", "ENV {v}=${v}A"], "{v}"),                   # ENV shadows ARG
    (["ENV {v}A=y", "ARG {v}A=x", "ENV {v}=${v}A"], "{v}"),                   # ARG after ENV
    (["ARG {v}A=1", "ARG {v}A=2", "ENV {v}=${v}A"], "{v}"),
    (["ARG {v}A={v}B", "ENV {v}=${{v}A}"], "{v}"),
    (["ARG {v}A=$SET", "ENV {v}=${v}A"], "{v}"),                              # ARG default expanded
    (["ARG {v}A", "ENV {v}=${{v}A-unset}"], "{v}"),
    (["ENV {v}A=1 {v}B=2", "ENV {v}=${v}A${v}B"], "{v}"),
    (["ENV {v}=one", "ENV {v}=${v}two"], "{v}"),
    (["ENV {v} a b  c"], "{v}"),                                               # legacy form keeps inner spaces
    (["ENV {v}=a\\ b"], "{v}"),
    (['ENV {v}="a  b"'], "{v}"),
    (["ENV {v}='$SET'\"$SET\""], "{v}"),
    (["LABEL x=y", "ENV {v}=$x"], "{v}"),                                      # labels are not variables
    (["ENV {v}=${UNSET:-a b}"], "{v}"),
    (["ENV {v}=${SET}=x"], "{v}"),
    (["ENV {v}=="], "{v}"),
    (["ENV {v}=a=b=c"], "{v}"),
    (["ARG {v}=$FROMCLI-$AVAL"], "{v}"),
    (["ARG {v}=${{v}:-selfdefault}"], "{v}"),
    (["ENV {v}=${{v}:-selfdefault}"], "{v}"),
    (["ENV {v}A=abc", "ENV {v}=${{v}A#a}"], "{v}"),
    (["ENV {v}=$META"], "{v}"),
    (["ENV {v}=x \\", "    {v}B=y"], "{v}B"),
    (["ENV {v}=1 \\", "# comment inside", "    {v}B=${v}"], "{v}B"),
]

EXP_BACKTICK_WORDS = [
    "a`$SET", "c:\\dir", "\"a`\"b\"", "'a`b'", "`$SET", "a``b", "\"c:\\dir\"", "${UNSET:-a`}b}",
    "\\$SET", "a` b",
]


def _case_id(i: int) -> str:
    return f"C{i:03d}"


def expansion_cases() -> list[dict]:
    """Every expansion case: ``{"id", "escape", "lines", "var", "word"?}``."""
    out = []
    i = 0
    for w in _WORDS:
        i += 1
        cid = _case_id(i)
        out.append({"id": cid, "escape": "\\", "lines": [f"ENV {cid} {w}"], "var": cid, "word": w})
    for lines, var in _SCOPED:
        i += 1
        cid = _case_id(i)
        out.append({"id": cid, "escape": "\\", "lines": [ln.replace("{v}", cid) for ln in lines],
                    "var": var.replace("{v}", cid)})
    for w in EXP_BACKTICK_WORDS:
        i += 1
        cid = _case_id(i)
        out.append({"id": cid, "escape": "`", "lines": [f"ENV {cid} {w}"], "var": cid, "word": w})
    return out


def expansion_dockerfile(cases: list[dict], base: str, escape: str) -> str:
    """One Dockerfile for *cases* (all with the same escape token); ends with a RUN that saves the
    environment the builder gives it."""
    head = [f"# escape={escape}"] if escape != "\\" else []
    lines = head + EXP_META + [f"FROM {base}"] + EXP_FIXTURE
    for c in cases:
        lines += c["lines"]
    lines.append("RUN cat /proc/self/environ > /out/environ")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# IGNORE
IGNORE_TREE = {
    "a.txt": "a", "b.log": "b", "keep.log": "k", ".hidden": "h", "README.md": "r", "notes.md": "n",
    "x.tmp": "t", "a+b.txt": "p", "aab.txt": "aab", "a(1).txt": "paren", "[x].txt": "bracket", "x.txt": "x",
    "^c.txt": "caret", "$d.txt": "dollar", "a{b}.txt": "brace", "b.txt": "bt", "c.txt": "ct", "ab.txt": "ab",
    "A.TXT": "upper", "é.txt": "eacute", "file*": "star", "filex": "fx",
    "src/main.py": "m", "src/util.py": "u", "src/app.log": "l", "src/keep.txt": "k", "src/.env": "e",
    "src/node_modules/lib/index.js": "i", "src/node_modules/keep.txt": "k",
    "node_modules/pkg/index.js": "i", "node_modules/keep.txt": "k", "node_modules/.bin/tool": "t",
    "logs/a.log": "a", "logs/keep.log": "k", "logs/sub/b.log": "b", "logs/sub/keep.txt": "k",
    "docs/a/b.md": "b", "docs/index.md": "i",
    "build/out/x.bin": "x", "build/keep.txt": "k",
    "deep/a/b/c/d.log": "d", "deep/a/b/keep.txt": "k", "deep/a/node_modules/m.js": "m",
    "dir.log/inner.txt": "i",
}
IGNORE_EMPTY_DIRS = ["emptydir", "tmp"]
IGNORE_SYMLINKS = {"lnk": "a.txt", "link_to_src": "src"}
IGNORE_DOCKERFILE = "FROM scratch\nCOPY . /c/\n"

_IGNORE = [
    "*.log", "**/*.log", "**.log", "*.log\n!keep.log", "**/*.log\n!**/keep.log",
    "node_modules", "**/node_modules", "**/node_modules\n!**/node_modules/keep.txt",
    "node_modules\n!node_modules/keep.txt", "src/node_modules", "*/node_modules", "**/node_modules/**",
    "logs", "logs/", "/logs", "logs/*", "logs/**", "logs/*\n!logs/keep.log", "logs\n!logs/keep.log",
    "logs\n!logs/sub", "logs\n!logs/sub/keep.txt", "logs\n!**/keep.txt", "logs\n!*/keep.log",
    "*\n!src", "*\n!src/main.py", "*\n!**/*.py", "**\n!docs", "**\n!docs/**",
    "[ab].txt", "[^a].txt", "[!a].txt", "[a-c]*", "?.txt", "??.txt", "a+b.txt", "a(1).txt", "\\[x\\].txt",
    "a{b}.txt", "$d.txt", "^c.txt", ".hidden", ".*", "*.md", "**/*.md", "docs/**/*.md", "docs/*/b.md",
    "!keep.log", "# comment\n*.log", "  *.log  ", "./a.txt", "src/../a.txt", "/a.txt", "a.txt/",
    "*.tmp\n!*.tmp", "!*.tmp\n*.tmp", "build\n!build/keep.txt", "build/*\n!build/keep.txt",
    "build/**\n!build/keep.txt", "deep/**/*.log", "deep/**/keep.txt", "deep/*/b", "**/b", "**/b/**",
    "deep\n!deep/a/b/keep.txt", "deep\n!deep/**/keep.txt", "**/keep.*", "*/keep.*", "*/*/keep.*",
    "dir.log", "*.log\n!dir.log/inner.txt", "src\n!src/keep.txt\n!src/node_modules/keep.txt", "src/*.py",
    "src/*", "src/**\n!src/.env", ".env", "**/.env", "**/.*", "é.txt", "*.txt", "*.TXT", "Dockerfile",
    ".dockerignore", "*\n!Dockerfile", "emptydir", "tmp", "emptydir\n!emptydir/none", "logs\n!logs/nonexistent",
    "lnk", "link_to_src", "**/index.js", "node_modules/**\n!node_modules/keep.txt",
    "**/node_modules\n!src/node_modules", "src/node_modules/**/*.js", "file\\*", "logs/sub\n!logs",
    "*/sub", "**/sub/*.log", "!logs\nlogs", "docs/a\n!docs/a/b.md", "***.log", "*/**/keep.txt",
    "**/**/*.log", "docs**", "**docs", "**/node_modules/", "a?b.txt", "*\n!*.md", "**/*\n!**/keep.txt",
    "[", "!", "a(", "[]a]", "\\", "src\\", "logs\n!logs/sub/\n", "\ufeff*.log", "*.log\r\n!keep.log\r\n",
    "#*.log", " # not a comment", "!!keep.log", "src/main.py/", "**/node_modules\n!**/keep.txt",
    "*.log\n!**/keep.log", "logs/**/*\n!logs/**/keep.*",
]


def ignore_cases() -> list[dict]:
    return [{"id": f"I{i:03d}", "dockerignore": text} for i, text in enumerate(_IGNORE, start=1)]


# ------------------------------------------------------------------------------------------------
# ACCEPT / REFUSE
# dockerfile: text (str) or raw bytes; "{BASE}" is the busybox test base.  files: context files.
# check: files (paths in the image) whose content the recording keeps.
_LONG = "RUN echo " + "x" * 65526  # 65535 bytes: the longest line the scanner takes
_A: list[tuple[str, dict]] = [
    ("unknown-instruction", {"dockerfile": "FROM {BASE}\nRUNN echo hi\n"}),
    ("copy-missing-source", {"dockerfile": "FROM {BASE}\nCOPY missing.txt /x\n"}),
    ("copy-present-source", {"dockerfile": "FROM {BASE}\nCOPY a.txt /x\n", "files": {"a.txt": "a"}}),
    ("copy-wildcard-no-match", {"dockerfile": "FROM {BASE}\nCOPY *.nomatch /x/\n", "files": {"a.txt": "a"}}),
    ("copy-wildcard-partial", {"dockerfile": "FROM {BASE}\nCOPY a.txt *.nomatch /x/\n", "files": {"a.txt": "a"}}),
    ("copy-source-ignored", {"dockerfile": "FROM {BASE}\nCOPY a.txt /x\n", "files": {"a.txt": "a"},
                             "dockerignore": "a.txt\n"}),
    ("copy-outside-context", {"dockerfile": "FROM {BASE}\nCOPY ../a.txt /x\n", "files": {"a.txt": "a"}}),
    ("add-missing-source", {"dockerfile": "FROM {BASE}\nADD missing.tar /x/\n"}),
    ("arg-blank-name", {"dockerfile": "FROM {BASE}\nARG =x\n"}),
    ("arg-name-with-dash", {"dockerfile": "FROM {BASE}\nARG a-b=1\nRUN env > /out/env\n"}),
    ("arg-name-digit", {"dockerfile": "FROM {BASE}\nARG 1abc=1\n"}),
    ("arg-name-quoted-space", {"dockerfile": "FROM {BASE}\nARG \"a b\"=1\n"}),
    ("arg-name-dollar", {"dockerfile": "FROM {BASE}\nARG $X=1\n"}),
    ("arg-name-unicode", {"dockerfile": "FROM {BASE}\nARG é=1\n"}),
    ("env-blank-name", {"dockerfile": "FROM {BASE}\nENV =x\n"}),
    ("env-no-value", {"dockerfile": "FROM {BASE}\nENV A\n"}),
    ("env-missing-equals", {"dockerfile": "FROM {BASE}\nENV A=1 B\n"}),
    ("from-uppercase", {"dockerfile": "FROM Busybox\n"}),
    ("from-trailing-colon", {"dockerfile": "FROM busybox:\n"}),
    ("from-bad-digest", {"dockerfile": "FROM busybox@sha256:zz\n"}),
    ("from-blank-arg", {"dockerfile": "FROM ${UNSET}\n"}),
    ("from-two-args", {"dockerfile": "FROM {BASE} AS\n"}),
    ("from-four-args", {"dockerfile": "FROM {BASE} AS a b\n"}),
    ("stage-names-itself", {"dockerfile": "FROM a AS a\n"}),
    ("stage-names-itself-later", {"dockerfile": "FROM {BASE} AS b\nFROM a AS a\n"}),
    ("stage-duplicate", {"dockerfile": "FROM {BASE} AS a\nFROM {BASE} AS a\n"}),
    ("stage-bad-name", {"dockerfile": "FROM {BASE} AS 1st\n"}),
    ("stage-uppercase-name", {"dockerfile": "FROM {BASE} AS Build\nFROM build\nRUN echo ok > /out/ok\n"}),
    ("copy-from-later-stage", {"dockerfile": "FROM {BASE} AS a\nCOPY --from=b /bin/sh /x\nFROM {BASE} AS b\n"}),
    ("copy-from-unknown", {"dockerfile": "FROM {BASE}\nCOPY --from=nosuchstage /a /b\n"}),
    ("line-at-limit", {"dockerfile": "FROM {BASE}\n" + _LONG + "\n"}),
    ("line-over-limit", {"dockerfile": "FROM {BASE}\n" + _LONG + "x\n"}),
    ("line-over-limit-comment", {"dockerfile": "FROM {BASE}\n# " + "x" * 70000 + "\nRUN true\n"}),
    ("non-utf8-run", {"dockerfile": b"FROM {BASE}\nRUN printf '\xff\xfe' > /out/bytes\n", "check": ["out/bytes"]}),
    ("non-utf8-env", {"dockerfile": b"FROM {BASE}\nENV V=a\xffb\nRUN printf %s \"$V\" > /out/v\n", "check": ["out/v"]}),
    ("non-utf8-comment", {"dockerfile": b"FROM {BASE}\n# caf\xe9\nRUN echo ok > /out/ok\n", "check": ["out/ok"]}),
    ("latin1-copy-source", {"dockerfile": b"FROM {BASE}\nCOPY caf\xe9.txt /x\n", "files": {b"caf\xe9.txt": "c"}}),
    ("json-then-text", {"dockerfile": 'FROM {BASE}\nRUN ["sh", "-c", "echo a > /out/a"] && echo b > /out/b\n',
                        "check": ["out/a", "out/b"]}),
    ("escaped-backslash-eol", {"dockerfile": "FROM {BASE}\nRUN echo C:\\\\\nRUN echo ok > /out/ok\n",
                               "check": ["out/ok"]}),
    ("quoted-heredoc-marker", {"dockerfile": "FROM {BASE}\nRUN echo \"<<EOF\" > /out/x\n", "check": ["out/x"]}),
    ("sed-heredoc-marker", {"dockerfile": "FROM {BASE}\nRUN echo '<<TAG>>' | sed 's/<<TAG>>/v/' > /out/x\n",
                            "check": ["out/x"]}),
    ("arith-shift", {"dockerfile": "FROM {BASE}\nRUN x=2; echo $((1<<x)) > /out/x\n", "check": ["out/x"]}),
    ("heredoc-run", {"dockerfile": "FROM {BASE}\nRUN <<EOF\necho hi > /out/x\nEOF\n", "check": ["out/x"]}),
    ("heredoc-dotted-name", {"dockerfile": "FROM {BASE}\nCOPY <<file.txt /out/x\nhello\nfile.txt\n",
                             "check": ["out/x"]}),
    ("heredoc-dash-name", {"dockerfile": "FROM {BASE}\nRUN <<END-X\necho hi > /out/x\nEND-X\n",
                           "check": ["out/x"]}),
    ("heredoc-partly-quoted", {"dockerfile": "FROM {BASE}\nENV V=1\nCOPY <<E\"O\"F /out/x\n$V\nEOF\n",
                               "check": ["out/x"]}),
    ("heredoc-unterminated", {"dockerfile": "FROM {BASE}\nRUN <<EOF\necho hi\n"}),
    ("heredoc-onbuild", {"dockerfile": "FROM {BASE}\nONBUILD RUN <<EOF\necho hi\nEOF\nRUN echo ok > /out/ok\n",
                         "check": ["out/ok"]}),
    ("copy-link", {"dockerfile": "FROM {BASE}\nCOPY --link a.txt /x\n", "files": {"a.txt": "a"}}),
    ("copy-chmod", {"dockerfile": "FROM {BASE}\nCOPY --chmod=0600 a.txt /x\n", "files": {"a.txt": "a"}}),
    ("run-mount", {"dockerfile": "FROM {BASE}\nRUN --mount=type=bind,target=/m cat /m/a.txt > /out/x\n",
                   "files": {"a.txt": "a"}, "check": ["out/x"]}),
    ("unknown-flag", {"dockerfile": "FROM {BASE}\nCOPY --form=x a.txt /x\n", "files": {"a.txt": "a"}}),
    ("empty-dockerfile", {"dockerfile": ""}),
    ("only-comments", {"dockerfile": "# nothing\n# here\n"}),
    ("instruction-before-from", {"dockerfile": "RUN true\nFROM {BASE}\n"}),
    ("no-from", {"dockerfile": "ARG X=1\n"}),
    ("shell-not-json", {"dockerfile": "FROM {BASE}\nSHELL sh -c\n"}),
    ("healthcheck-short-interval", {"dockerfile": "FROM {BASE}\nHEALTHCHECK --interval=1us CMD true\n"}),
    ("healthcheck-bad-type", {"dockerfile": "FROM {BASE}\nHEALTHCHECK BAD true\n"}),
    ("expose-nothing", {"dockerfile": "FROM {BASE}\nEXPOSE\n"}),
    ("expose-bad-proto", {"dockerfile": "FROM {BASE}\nEXPOSE 80/xyz\n"}),
    ("expose-bad-port", {"dockerfile": "FROM {BASE}\nEXPOSE abc\n"}),
    ("label-no-value", {"dockerfile": "FROM {BASE}\nLABEL a\n"}),
    ("volume-empty-json", {"dockerfile": "FROM {BASE}\nVOLUME [\"\"]\n"}),
    ("user-empty", {"dockerfile": "FROM {BASE}\nUSER\n"}),
    ("onbuild-onbuild", {"dockerfile": "FROM {BASE}\nONBUILD ONBUILD RUN true\n"}),
    ("onbuild-from", {"dockerfile": "FROM {BASE}\nONBUILD FROM x\n"}),
    ("env-required-unset", {"dockerfile": "FROM {BASE}\nENV A=${UNSET:?must be set}\n"}),
    ("env-bad-substitution", {"dockerfile": "FROM {BASE}\nENV A=${}\n"}),
    ("workdir-required-unset", {"dockerfile": "FROM {BASE}\nWORKDIR ${UNSET:?no dir}\n"}),
    ("escape-directive-invalid", {"dockerfile": "# escape=x\nFROM {BASE}\n"}),
    ("escape-directive-twice", {"dockerfile": "# escape=\\\n# escape=`\nFROM {BASE}\n"}),
    ("crlf", {"dockerfile": "FROM {BASE}\r\nRUN echo ok \\\r\n  > /out/ok\r\n", "check": ["out/ok"]}),
    ("u2028-in-run", {"dockerfile": "FROM {BASE}\nRUN echo 'a\u2028b' > /out/x\n", "check": ["out/x"]}),
    ("vt-and-fs-in-run", {"dockerfile": "FROM {BASE}\nRUN echo 'a\x0bb\x1cc' > /out/x\n", "check": ["out/x"]}),
    ("lone-cr-in-run", {"dockerfile": "FROM {BASE}\nRUN echo 'a\rb' > /out/x\n", "check": ["out/x"]}),
    ("copy-single-arg", {"dockerfile": "FROM {BASE}\nCOPY a.txt\n", "files": {"a.txt": "a"}}),
    ("copy-chown-unknown-user", {"dockerfile": "FROM scratch\nCOPY --chown=nobody a.txt /x\n", "files": {"a.txt": "a"}}),
    ("maintainer", {"dockerfile": "FROM {BASE}\nMAINTAINER someone\n"}),
    ("cmd-empty", {"dockerfile": "FROM {BASE}\nCMD\n"}),
    ("lowercase-instructions", {"dockerfile": "from {BASE}\nrun echo ok > /out/ok\n", "check": ["out/ok"]}),
    ("stopsignal-bogus", {"dockerfile": "FROM {BASE}\nSTOPSIGNAL BOGUS\n"}),
    ("copy-from-expanded", {"dockerfile": "FROM {BASE} AS a\nFROM {BASE}\nARG S=a\nCOPY --from=$S /bin/sh /x\n"}),
    ("target-missing-arg-from", {"dockerfile": "ARG B={BASE}\nFROM $B\nRUN echo ok > /out/ok\n", "check": ["out/ok"]}),
    ("arg-in-from-not-global", {"dockerfile": "FROM {BASE}\nARG B=x\nFROM $B\n"}),
    ("empty-continuation", {"dockerfile": "FROM {BASE}\nRUN echo a \\\n\n  > /out/ok\n", "check": ["out/ok"]}),
    ("continuation-at-eof", {"dockerfile": "FROM {BASE}\nRUN echo ok > /out/ok \\"}),
    ("json-not-strings", {"dockerfile": "FROM {BASE}\nRUN [\"echo\", 1]\n"}),
    ("copy-heredoc-dest", {"dockerfile": "FROM {BASE}\nCOPY a.txt <<EOF\nx\nEOF\n", "files": {"a.txt": "a"}}),
    ("workdir-trailing-slash", {"dockerfile": "FROM {BASE}\nWORKDIR /srv/\nRUN pwd > /out/pwd\n",
                                "check": ["out/pwd"], "inspect": ["WorkingDir"]}),
    ("workdir-double-slash", {"dockerfile": "FROM {BASE}\nWORKDIR /srv//x/./\n", "inspect": ["WorkingDir"]}),
    ("workdir-relative-slash", {"dockerfile": "FROM {BASE}\nWORKDIR /a\nWORKDIR b/\n", "inspect": ["WorkingDir"]}),
    ("nested-braces-deep", {"dockerfile": "FROM {BASE}\nENV A=" + "${UNSET:-" * 3000 + "x" + "}" * 3000 + "\n"}),
]


def accept_cases() -> list[dict]:
    out = []
    for name, spec in _A:
        c = {"id": name, **spec}
        c.setdefault("files", {})
        out.append(c)
    return out
