"""Masking values that look like secrets, wherever images and containers show them.

Images carry settings in plain text: ENV defaults in the config, the same ``NAME=value`` pairs in
the history (``ENV API_TOKEN=...`` as BuildKit records it, ``/bin/sh -c #(nop)  ENV ...`` as the
classic builder does), build arguments in front of RUN commands (``|1 DB_PASSWORD=... /bin/sh -c
...``), labels, and the env a container really runs with. A report is sent to people who do not
run the engine, so anything that looks like a secret is masked before it is shown.

The rule
--------
A *secret name* is a variable or label name that contains (case-insensitive) one of
:data:`SECRET_WORDS` -- ``TOKEN``, ``SECRET``, ``PASSWORD``, ``PASSWD``, ``PASSPHRASE``,
``API_KEY``/``APIKEY``, ``PRIVATE_KEY``, ``ACCESS_KEY``, ``CREDENTIAL``, ``AUTH_KEY`` (so
``AWS_SECRET_ACCESS_KEY``, ``GITHUB_TOKEN``, ``DB_PASSWORD`` and ``api-token`` all count). The value
of a secret name is replaced by :data:`MASK` wherever it appears:

- ``NAME=value`` items of env lists (image ENV, container env);
- label values whose key is a secret name;
- ``NAME=value`` inside free text (history ``created_by``, container commands). In metadata
  instructions (``ENV``, ``LABEL``, ``ARG``), whose history text is unquoted, the value runs to the
  next ``OTHER=`` word or the end; elsewhere (RUN commands, build-arg prefixes) it runs to the next
  blank or shell separator, or to the closing quote when it is quoted;
- the password of a URL with credentials (``postgres://user:pw@db/x`` -> ``user:********@``),
  whatever the variable is called.

Masking is pure: the functions return new values and frames and never change their input.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterable

import pandas as pd

#: what a masked value becomes (fixed length: the mask does not tell how long the secret was)
MASK = "********"

#: words that make a name a secret name (matched case-insensitively, ignoring '-', '.' vs '_')
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "API_KEY", "APIKEY",
                "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL", "AUTH_KEY")

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_ASSIGN = re.compile(rf"(?<![A-Za-z0-9_.\-])(?P<name>{_NAME})=")
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]+:)(?P<pw>[^\s@/]+)(?P<at>@)")
_METADATA_LINE = re.compile(r"^\s*(?:/bin/sh -c #\(nop\)\s+)?(?:ENV|LABEL|ARG)\s", re.IGNORECASE)


def is_secret_name(name: str | None) -> bool:
    """True when ``name`` looks like it holds a secret (see the module docstring).

    Examples
    --------
    >>> is_secret_name("AWS_SECRET_ACCESS_KEY"), is_secret_name("api-token"), is_secret_name("PATH")
    (True, True, False)
    """
    if not name:
        return False
    norm = re.sub(r"[-.]", "_", name.upper())
    return any(word in norm for word in SECRET_WORDS)


def _mask_url_passwords(text: str) -> str:
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + m.group("at"), text)


def mask_env(env: Iterable[str] | None) -> list[str]:
    """An env list (``["NAME=value", ...]``) with the values of secret names masked.

    Examples
    --------
    >>> mask_env(["PATH=/bin", "API_TOKEN=abc123"])
    ['PATH=/bin', 'API_TOKEN=********']
    """
    out = []
    for item in env or []:
        item = str(item)
        name, sep, value = item.partition("=")
        if sep and is_secret_name(name):
            out.append(f"{name}={MASK}")
        else:
            out.append(_mask_url_passwords(item) if sep else item)
    return out


def mask_labels(labels: dict[str, Any] | None) -> dict[str, Any]:
    """Labels with the values of secret-named keys masked (and URL passwords in any value)."""
    out = {}
    for key, value in (labels or {}).items():
        if is_secret_name(key):
            out[key] = MASK
        else:
            out[key] = _mask_url_passwords(value) if isinstance(value, str) else value
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
    """Free text (a history ``created_by``, a container command) with secret values masked.

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
    return _mask_url_passwords("".join(pieces))


def _map_column(frame: pd.DataFrame, column: str, fn) -> pd.DataFrame:
    if column not in frame.columns or frame.empty:
        return frame
    values = frame[column]
    mapped = [v if (v is None or (not isinstance(v, (list, dict, str)) and pd.isna(v))) else fn(v)
              for v in values]
    frame[column] = pd.Series(mapped, index=values.index, dtype=values.dtype)
    return frame


def mask_frames(frames):
    """A copy of ``frames`` with every secret-looking value masked (the input is not changed).

    Masks ``images.env``, ``images.labels``, ``history.created_by``, ``layers.created_by``,
    ``containers.env`` and ``containers.command`` by the rule of this module. The raw snapshot
    the frames keep is left out of the copy (``snapshot=None``), since it holds the values unmasked.

    Parameters
    ----------
    frames : Frames

    Returns
    -------
    Frames
    """
    images = frames.images.copy()
    _map_column(images, "env", mask_env)
    _map_column(images, "labels", mask_labels)
    history = _map_column(frames.history.copy(), "created_by", mask_text)
    layers = _map_column(frames.layers.copy(), "created_by", mask_text)
    containers = frames.containers.copy()
    _map_column(containers, "env", mask_env)
    _map_column(containers, "command", mask_text)
    return replace(frames, images=images, history=history, layers=layers, containers=containers,
                   snapshot=None)
