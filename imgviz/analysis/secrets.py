"""Masking values that look like secrets: one rule for every output imgviz makes.

Images carry settings in plain text: ENV defaults in the config, the same ``NAME=value`` pairs in
the history (``ENV API_TOKEN=...`` as BuildKit records it, ``/bin/sh -c #(nop)  ENV ...`` as the
classic builder does), build arguments in front of RUN commands (``|1 DB_PASSWORD=... /bin/sh -c
...``), labels, commands, and the env a container really runs with. Reports, the CLI's tables and
JSON, notebooks and snapshot files (``imgviz snapshot --mask-secrets``) are read by people who do
not run the engine, so anything that looks like a secret is masked before it is shown. Every one of
those outputs applies this module; ``--show-secrets`` (``show_secrets=True``) is the only way out.

The rule
--------
*Secret names.* A variable, label, option or header name is secret-looking when it contains
(case-insensitive, ``-`` and ``.`` read as ``_``) one of :data:`SECRET_WORDS` -- ``TOKEN``,
``SECRET``, ``PASSWORD``, ``PASSWD``, ``PASSPHRASE``, ``API_KEY``/``APIKEY``, ``PRIVATE_KEY``,
``ACCESS_KEY``, ``CREDENTIAL``, ``AUTH_KEY`` -- or when one of its words is ``PASS``, ``PWD`` or
``PW`` or ends in ``PASS`` or ``PWD`` (``DB_PASS``, ``MYSQL_ROOT_PASS``, ``PGPASS``, ``MYSQL_PWD``,
``SMTP_PW``), except the shell's own ``PWD``/``OLDPWD`` and words such as ``BYPASS`` and
``COMPASS``. The value of a secret name is replaced by :data:`MASK`:

- ``NAME=value`` items of env lists (image ENV, container env), and label values;
- ``NAME=value`` inside free text (history ``created_by``, commands). In metadata instructions
  (``ENV``, ``LABEL``, ``ARG``), whose history text is unquoted, the value runs to the next
  ``OTHER=`` word or the end; elsewhere it runs to the next blank or shell separator, or to the
  closing quote when it is quoted;
- ``--secret-looking-option=value`` and ``--secret-looking-option value`` in command lines.

*Secrets by their shape*, whatever they are called, wherever they appear (any text of a record):

- the password of a URL with credentials, the user name kept and possibly empty
  (``postgres://user:pw@db/x`` -> ``user:********@``, ``redis://:pw@host`` -> ``:********@``);
- a private key block, PEM (``-----BEGIN RSA PRIVATE KEY-----``, ``EC``, ``ENCRYPTED``, ``PGP
  PRIVATE KEY BLOCK``...) or OpenSSH (``-----BEGIN OPENSSH PRIVATE KEY-----``), from its BEGIN line
  to its END line (to the end of the text when the END is missing);
- the credentials of an ``Authorization:``/``Proxy-Authorization:`` header (``Bearer``, ``Basic``,
  ``token``...), of any header whose name is secret-looking (``X-Api-Key: ...``), and of a bare
  ``Bearer <token>``;
- the password of ``-u user:pw`` / ``--user user:pw`` / ``--user=user:pw`` (curl and the like).

Masking is pure: the functions return new values, frames and snapshots and never change their input.
"""

from __future__ import annotations

import re

from .._lazy import Pattern

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs a command's start-up 2 ms)
    from typing import Any, Iterable

#: what a masked value becomes (fixed length: the mask does not tell how long the secret was)
MASK = "********"

#: words that make a name a secret name (matched case-insensitively, ignoring '-', '.' vs '_')
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "API_KEY", "APIKEY",
                "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL", "AUTH_KEY")
#: whole words of a name that make it a secret name, and the endings that do
_SECRET_TOKENS = {"PASS", "PWD", "PW", "PASSWD", "PASSWORD"}
_SECRET_ENDINGS = ("PASS", "PWD")
#: names and words that look like the above and are not secrets
_NOT_SECRET_NAMES = {"PWD", "OLDPWD"}
_NOT_SECRET_TOKENS = {"BYPASS", "COMPASS", "OLDPWD", "PASSTHROUGH", "PASSENGER", "SURPASS", "TRESPASS"}


_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_ASSIGN = Pattern(rf"(?<![A-Za-z0-9_.\-])(?P<name>{_NAME})=")
_URL_PASSWORD = Pattern(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<pw>[^\s@/]+)(?P<at>@)")
_METADATA_LINE = Pattern(r"^\s*(?:/bin/sh -c #\(nop\)\s+)?(?:ENV|LABEL|ARG)\s", re.IGNORECASE)
_PRIVATE_KEY = Pattern(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END (?P=kind)-----|\Z)", re.DOTALL)
_AUTH_HEADER = Pattern(
    r"(?P<head>\b(?:Proxy-)?Authorization\s*:\s*(?:(?:Bearer|Basic|Token|Digest|Negotiate|AWS4-HMAC-SHA256|JWT)\s+)?)"
    r"(?P<value>[^\s'\"\\]+)", re.IGNORECASE)
_SECRET_HEADER = Pattern(r"(?P<head>(?<![\w-])(?P<name>[A-Za-z][A-Za-z0-9-]*)\s*:\s+)(?P<value>[^\s'\"\\]+)")
_BEARER = Pattern(r"(?P<head>\bBearer\s+)(?P<value>[A-Za-z0-9._~+/=\-]{4,})")
#: ``-u user:pw`` as a shell line has it, and as the builders' history writes an exec form: Docker's
#: ``"-u" "user:pw"``, buildah's (podman) ``"-u", "user:pw"`` with a comma
_USER_OPTION = Pattern(r"(?P<head>(?<![\w-])(?:-u|--user)(?:=|['\"]?,?\s*['\"]?)[^\s:'\"]*:)(?P<value>[^\s'\"@]+)")
_SECRET_OPTION = Pattern(r"(?P<head>(?<![\w-])--(?P<name>[A-Za-z][A-Za-z0-9_-]*)(?:=|\s+))(?P<value>'[^']*'|\"[^\"]*\"|[^\s'\"<>-][^\s;&|]*)")
#: option names that take a secret-looking word but no secret (a file, a switch, an id)
_NOT_SECRET_OPTION = Pattern(r"(?i)(?:stdin|file|path|dir|env|id|src|source|target)$")
#: a cheap test before the patterns above: text without any of these holds no secret by shape
_TRIGGER = Pattern(r"://|-----BEGIN|uthorization|Bearer|-u|--|:\s", re.IGNORECASE)


def is_secret_name(name: str | None) -> bool:
    """True when ``name`` looks like it holds a secret (see the module docstring).

    Examples
    --------
    >>> is_secret_name("AWS_SECRET_ACCESS_KEY"), is_secret_name("api-token"), is_secret_name("PATH")
    (True, True, False)
    >>> is_secret_name("DB_PASS"), is_secret_name("MYSQL_PWD"), is_secret_name("PWD"), is_secret_name("BYPASS_CACHE")
    (True, True, False, False)
    """
    if not name or not isinstance(name, str):
        return False
    norm = re.sub(r"[-.]", "_", name.upper())
    if any(word in norm for word in SECRET_WORDS):
        return True
    if norm in _NOT_SECRET_NAMES:
        return False
    # words of the name: split on separators and on lower-to-upper case changes (dbPass -> DB, PASS)
    words = [w.upper() for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    for w in words:
        if w in _NOT_SECRET_TOKENS:
            continue
        if w in _SECRET_TOKENS or w.endswith(_SECRET_ENDINGS):
            return True
    return False


def mask_content(text: Any) -> Any:
    """Secrets recognised by their shape, wherever they are in ``text`` (any string of a record):
    URL passwords, private key blocks, authorization headers and bearer tokens, ``-u user:pw``.
    Anything but a string is returned as it is.

    Examples
    --------
    >>> mask_content("redis://:pw@cache:6379/0")
    'redis://:********@cache:6379/0'
    >>> mask_content("curl -H 'Authorization: Bearer abc.def' -u admin:pw https://x/")
    "curl -H 'Authorization: Bearer ********' -u admin:******** https://x/"
    """
    if not isinstance(text, str) or not text or not _TRIGGER.search(text):
        return text
    out = _PRIVATE_KEY.sub(lambda m: f"-----BEGIN {m.group('kind')}-----{MASK}-----END {m.group('kind')}-----", text)
    out = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + m.group("at"), out)
    out = _AUTH_HEADER.sub(lambda m: m.group("head") + MASK, out)
    out = _SECRET_HEADER.sub(lambda m: m.group("head") + MASK if is_secret_name(m.group("name")) else m.group(0), out)
    out = _BEARER.sub(lambda m: m.group("head") + MASK if m.group("value") != MASK else m.group(0), out)
    out = _USER_OPTION.sub(lambda m: m.group("head") + MASK, out)
    out = _SECRET_OPTION.sub(lambda m: m.group("head") + MASK if _secret_option(m.group("name")) else m.group(0), out)
    return out


def _secret_option(name: str) -> bool:
    return is_secret_name(name) and not _NOT_SECRET_OPTION.search(name)


def mask_env(env: Iterable[str] | None) -> list[str]:
    """An env list (``["NAME=value", ...]``) with the values of secret names masked.

    Examples
    --------
    >>> mask_env(["PATH=/bin", "API_TOKEN=abc123", "DB_PASS=x"])
    ['PATH=/bin', 'API_TOKEN=********', 'DB_PASS=********']
    """
    out = []
    for item in env or []:
        item = str(item)
        name, sep, value = item.partition("=")
        if sep and is_secret_name(name):
            out.append(f"{name}={MASK}")
        else:
            out.append(mask_content(item))
    return out


def mask_labels(labels: dict[str, Any] | None) -> dict[str, Any]:
    """Labels with the values of secret-named keys masked, and secrets by their shape in any value."""
    out = {}
    for key, value in (labels or {}).items():
        out[key] = MASK if is_secret_name(key) else mask_content(value)
    return out


def _value_end(text: str, start: int, metadata: bool) -> int:
    """Where the value that starts at ``start`` ends (exclusive)."""
    if start < len(text) and text[start] in "\"'":
        quote = text[start]
        i = start + 1
        while i < len(text):
            if text[i] == "\\" and quote == '"':
                i += 2
                continue
            if text[i] == quote:
                return i + 1
            i += 1
        return len(text)
    if metadata:
        nxt = re.compile(rf"\s+{_NAME}=").search(text, start)
        return nxt.start() if nxt else len(text)
    m = re.compile(r"[\s;&|)]").search(text, start)
    return m.start() if m else len(text)


def mask_text(text: str | None) -> str | None:
    """Free text (a history ``created_by``, a command) with secret values masked.

    Examples
    --------
    >>> mask_text("ENV TARGET=example.org API_TOKEN=abc def METHOD=HEAD")
    'ENV TARGET=example.org API_TOKEN=******** METHOD=HEAD'
    >>> mask_text('|1 DB_PASSWORD=hunter2 /bin/sh -c echo "$DB_PASSWORD"')
    '|1 DB_PASSWORD=******** /bin/sh -c echo "$DB_PASSWORD"'
    """
    if text is None or (not isinstance(text, str)):
        return text
    metadata = bool(_METADATA_LINE.match(text))
    pieces, pos = [], 0
    for m in _ASSIGN.finditer(text):
        if m.start() < pos or not is_secret_name(m.group("name")):
            continue
        start = m.end()
        end = _value_end(text, start, metadata)
        pieces.append(text[pos:start])
        pieces.append(MASK)
        pos = end
    pieces.append(text[pos:])
    return mask_content("".join(pieces))


def mask_argv(argv: Iterable[Any] | None) -> list | None:
    """A command as a list of arguments (``Cmd``, ``Entrypoint``, ``Args``), masked as the same
    command written on one line would be (``["curl", "-u", "admin:pw"]`` masks ``pw``)."""
    if argv is None:
        return None
    items = list(argv)
    out = []
    for i, arg in enumerate(items):
        if not isinstance(arg, str):
            out.append(arg)
            continue
        prev = items[i - 1] if i and isinstance(items[i - 1], str) else ""
        if prev in ("-u", "--user") and ":" in arg:
            user, _, _pw = arg.partition(":")
            out.append(f"{user}:{MASK}")
        elif prev.startswith("--") and "=" not in prev and _secret_option(prev[2:]):
            out.append(MASK)
        elif prev.lower() in ("-h", "--header") and ":" in arg:
            name, _, value = arg.partition(":")
            out.append(f"{name}: {MASK}" if is_secret_name(name) or name.strip().lower().endswith("authorization")
                       else mask_text(arg))
        else:
            out.append(mask_text(arg))
    return out


#: record fields (engine answers, image configs) and how their values are masked
_ENV_KEYS = {"Env"}
_LABEL_KEYS = {"Labels"}
_ARGV_KEYS = {"Cmd", "Entrypoint", "Args", "Healthcheck_Test", "Shell"}
_TEXT_KEYS = {"CreatedBy", "created_by", "Command", "Comment", "comment", "Path"}


def mask_record(value: Any, key: str | None = None) -> Any:
    """A copy of any raw record (an engine answer, an image config, a whole ``Snapshot.records``)
    with every secret-looking value masked by the rule: ``Env`` lists, ``Labels``, commands and
    history lines by name, every other string by its shape."""
    if isinstance(value, dict):
        if key in _LABEL_KEYS:
            return {k: MASK if is_secret_name(k) else mask_record(v, k) for k, v in value.items()}
        return {k: mask_record(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key in _ENV_KEYS and all(isinstance(v, str) for v in value):
            return mask_env(value)
        if key in _ARGV_KEYS:
            return mask_argv(value)
        return [mask_record(v, key) for v in value]
    if isinstance(value, str):
        return mask_text(value) if key in _TEXT_KEYS else mask_content(value)
    return value


def mask_snapshot(snapshot):
    """A copy of a :class:`~imgviz.snapshot.Snapshot` whose records (and source description) have every
    secret-looking value masked: what ``imgviz snapshot --mask-secrets`` saves, and what every CLI
    output is made from unless ``--show-secrets``. ``source["secrets_masked"]`` says so."""
    from ..snapshot import Snapshot

    # mask_record makes new dicts and lists all the way down (no deepcopy: its import, weakref with
    # it, is 1.4 ms of every one-image command's start-up)
    source = mask_record(snapshot.source)
    source["secrets_masked"] = True
    return Snapshot(source=source, records=mask_record(snapshot.records))


def _map_column(frame, column: str, fn):
    import pandas as pd

    if column not in frame.columns or frame.empty:
        return frame
    values = frame[column]
    mapped = [v if (v is None or (not isinstance(v, (list, dict, str)) and pd.isna(v))) else fn(v)
              for v in values]
    frame[column] = pd.Series(mapped, index=values.index, dtype=values.dtype)
    return frame


def _texty(series) -> bool:
    from pandas.api.types import is_object_dtype, is_string_dtype

    return is_object_dtype(series.dtype) or is_string_dtype(series.dtype)


_FRAME_RULES = {
    "images": {"env": mask_env, "labels": mask_labels, "cmd": mask_argv, "entrypoint": mask_argv},
    "history": {"created_by": mask_text, "comment": mask_text},
    "layers": {"created_by": mask_text, "comment": mask_text},
    "containers": {"env": mask_env, "command": mask_text},
}


def mask_frames(frames):
    """A copy of ``frames`` with every secret-looking value masked (the input is not changed).

    Masks ``images.env``, ``images.labels``, ``images.cmd``/``entrypoint``, ``history`` and
    ``layers`` ``created_by``/``comment``, ``containers.env`` and ``containers.command`` by name,
    and every other text cell by shape (a private key in a label, a URL password anywhere). The raw
    snapshot the frames keep is left out of the copy (``snapshot=None``), since it holds the values
    unmasked.

    Parameters
    ----------
    frames : Frames

    Returns
    -------
    Frames
    """
    out = {}
    for name, rules in _FRAME_RULES.items():
        frame = getattr(frames, name).copy()
        for column in frame.columns:
            if not _texty(frame[column]):
                continue
            rule = rules.get(column)
            if rule is not None:
                _map_column(frame, column, rule)
            else:
                _map_column(frame, column, lambda v: mask_record(v))
        out[name] = frame
    from dataclasses import replace  # here: the CLI's tables mask a snapshot, never frames

    return replace(frames, snapshot=None, **out)
