"""Every time and size limit of imgviz, in one place.

Each limit has a default that suits real engines and registries, an environment variable
(``IMGVIZ_`` + the name in capitals) and a keyword: ``imgviz.open(..., limits={"deadline": 60})``,
``engine.collect(..., limits=...)``, ``registry.collect(..., limits=...)``, or
``with imgviz.limits.using(request_timeout=300): ...`` around any call. The CLI takes
``--deadline`` and ``--request-timeout``. An invalid value is a :class:`~imgviz.errors.UsageError`.

Time
----
``connect_timeout`` (10 s)
    Connecting to an engine or a registry. The probe "is an engine here" (``imgviz.open``'s
    "auto" and "engine") is whether the engine's socket accepts a connection within this time;
    when it does, its ``/version`` is waited for up to ``request_timeout`` like any answer, so a
    slow engine is used, never taken for a missing one (nor swapped for the demo).
``request_timeout`` (120 s)
    One request, from sending it to its last byte: an engine's ``/images/json`` or ``/system/df``
    (6-7 s with 400 images on Docker 28's containerd store, and more on bigger ones), a registry's
    manifest or config. A server that sends one byte every few seconds is cut off here too.
``deadline`` (900 s)
    A whole command, or a whole collection called from Python: every request, retry and wait
    inside it. Past it the command stops with one line; a collection keeps what it had (marked
    incomplete, see :class:`~imgviz.snapshot.Snapshot`).
``retries`` (4), ``retry_delay_max`` (8 s)
    Extra attempts after a registry's 429/5xx or a dropped connection, and the longest wait
    between them (``Retry-After`` is honoured up to it); all within the deadline.
``max_redirects`` (10)
    HTTP redirects followed per request (a redirect loop ends here).

Size
----
``max_manifest_bytes`` (4 MiB)
    An image manifest or index (what distribution's registry accepts on push).
``max_json_bytes`` (64 MiB)
    Any other JSON document read whole: an image config, ``docker save``'s manifest.json, a
    layout's index.json, a registry's tag list page.
``max_token_bytes`` (1 MiB)
    A token service's answer.
``max_engine_answer_bytes`` (256 MiB)
    One answer of the Docker Engine API (the image list of a very large engine is a few MB).
``max_snapshot_bytes`` (256 MiB)
    A snapshot file's JSON, after decompression (a snapshot of 2,000 images is about 20 MB).
``max_unpack_ratio`` (256)
    A compressed layer blob may unpack to at most this many times its size before it is
    refused; gzip reaches about 1000:1 only on long runs of zeros. (A layer whose manifest or
    diff-ID record gives its unpacked size is held to that size instead; its compressed bytes
    are always held to the manifest's ``size``.)
"""

from __future__ import annotations

import contextvars
import math
import os
import time
from contextlib import contextmanager

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs a command's start-up 2 ms
    from typing import Any, Iterator, Mapping

from .errors import DeadlineExceeded, UsageError

ENV_PREFIX = "IMGVIZ_"
MiB = 1 << 20


#: each limit's name, type and default, in order (what ``Limits`` holds)
_FIELDS = (
    ("connect_timeout", float, 10.0),
    ("request_timeout", float, 120.0),
    ("deadline", float, 900.0),
    ("retries", int, 4),
    ("retry_delay_max", float, 8.0),
    ("max_redirects", int, 10),
    ("max_manifest_bytes", int, 4 * MiB),
    ("max_json_bytes", int, 64 * MiB),
    ("max_token_bytes", int, 1 * MiB),
    ("max_engine_answer_bytes", int, 256 * MiB),
    ("max_snapshot_bytes", int, 256 * MiB),
    ("max_unpack_ratio", int, 256),
)


class Limits:
    """The limits in force (see the module docstring for each): an immutable value, compared and
    hashed by its fields. (A plain class, not a dataclass: every command reads it, and importing
    :mod:`dataclasses` costs a command about 6 ms of start-up, tests/test_startup.py.)"""

    __slots__ = tuple(name for name, _, _ in _FIELDS)

    def __init__(self, connect_timeout: float = 10.0, request_timeout: float = 120.0, deadline: float = 900.0,
                 retries: int = 4, retry_delay_max: float = 8.0, max_redirects: int = 10,
                 max_manifest_bytes: int = 4 * MiB, max_json_bytes: int = 64 * MiB, max_token_bytes: int = 1 * MiB,
                 max_engine_answer_bytes: int = 256 * MiB, max_snapshot_bytes: int = 256 * MiB,
                 max_unpack_ratio: int = 256):
        values = locals()
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r} (Limits are immutable: use .replace())")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} (Limits are immutable)")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self):
        return (Limits, self._values())

    def __repr__(self) -> str:
        return f"Limits({', '.join(f'{name}={getattr(self, name)!r}' for name in self.__slots__)})"

    def replace(self, **overrides: Any) -> "Limits":
        """These limits with some changed (each value checked)."""
        known = {name: kind for name, kind, _ in _FIELDS}
        clean = {}
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in known:
                raise UsageError(f"unknown limit {name!r} (known: {', '.join(known)})")
            clean[name] = _check(name, value, known[name], source="")
        return self._with(clean)

    def _with(self, changes: dict) -> "Limits":
        return Limits(**{**{name: getattr(self, name) for name in self.__slots__}, **changes})

    def env_names(self) -> dict[str, str]:
        """``{limit: environment variable}``."""
        return {name: ENV_PREFIX + name.upper() for name, _, _ in _FIELDS}


def _check(name: str, value: Any, kind: Any, *, source: str) -> Any:
    label = source or name
    want_int = kind in (int, "int")
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value) if want_int and not isinstance(value, float) else float(value)
        if want_int and isinstance(number, float):
            if not number.is_integer():
                raise ValueError
            number = int(number)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"{label}={value!r}: not a {'whole ' if want_int else ''}number") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise UsageError(f"{label}={value!r}: not a finite number")
    low = 0 if name == "retries" else (1 if want_int else 1e-3)
    if number < low:
        raise UsageError(f"{label}={value!r}: must be at least {low}")
    if number > (2**62 if want_int else 1e7):
        raise UsageError(f"{label}={value!r}: too large")
    return number


def from_env(environ: Mapping[str, str] | None = None) -> Limits:
    """The defaults, changed by every ``IMGVIZ_<LIMIT>`` variable that is set and not empty."""
    env = os.environ if environ is None else environ
    base = Limits()
    changes = {}
    for name, kind, _ in _FIELDS:
        var = ENV_PREFIX + name.upper()
        raw = env.get(var)
        if raw is not None and raw.strip() != "":
            changes[name] = _check(name, raw.strip(), kind, source=var)
    return base._with(changes) if changes else base


_overrides: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("imgviz_limits", default=None)
_deadline: contextvars.ContextVar["Deadline | None"] = contextvars.ContextVar("imgviz_deadline", default=None)


def get(limits: "Limits | Mapping[str, Any] | None" = None) -> Limits:
    """The limits in force: ``limits`` (a :class:`Limits`, or a dict of overrides on top of the
    rest), else those of the innermost :func:`using`, else the environment's, else the defaults."""
    if isinstance(limits, Limits):
        return limits
    base = _overrides.get() or from_env()
    return base.replace(**dict(limits)) if limits else base


@contextmanager
def using(limits: "Limits | Mapping[str, Any] | None" = None, **overrides: Any) -> Iterator[Limits]:
    """Run a block with some limits changed: ``with using(deadline=30): imgviz.open("engine")``."""
    new = get(limits).replace(**overrides)
    token = _overrides.set(new)
    try:
        yield new
    finally:
        _overrides.reset(token)


class Deadline:
    """A point in time after which work stops (:class:`~imgviz.errors.DeadlineExceeded`).

    ``timeout(t)`` is the time a single wait may take: ``t``, but never past the deadline.
    """

    def __init__(self, seconds: float, what: str = "the command"):
        self.seconds = float(seconds)
        self.what = what
        self.started = time.monotonic()
        self.at = self.started + self.seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self, seconds: float | None = None) -> float:
        left = max(self.remaining(), 0.001)
        return left if seconds is None else max(min(float(seconds), left), 0.001)

    def message(self, where: str) -> str:
        return (f"{where}: stopped after {self.seconds:g} s, the deadline for {self.what} "
                f"(IMGVIZ_DEADLINE or --deadline to change it)")

    def check(self, where: str) -> None:
        if self.expired:
            raise DeadlineExceeded(self.message(where))

    def __repr__(self) -> str:
        return f"<Deadline {self.what}: {self.remaining():.1f} s of {self.seconds:g} s left>"


def current_deadline() -> "Deadline | None":
    """The deadline of the enclosing :func:`deadline_scope`, if any."""
    return _deadline.get()


def deadline(limits: Limits | None = None, what: str = "the collection") -> Deadline:
    """The enclosing deadline when there is one, else a new one from ``limits.deadline``."""
    return _deadline.get() or Deadline(get(limits).deadline, what)


@contextmanager
def deadline_scope(seconds: float | None = None, what: str = "the command") -> Iterator[Deadline]:
    """Everything inside shares one deadline (the CLI opens one per command)."""
    outer = _deadline.get()
    if outer is not None and seconds is None:
        yield outer
        return
    d = Deadline(get().deadline if seconds is None else seconds, what)
    if outer is not None and outer.at < d.at:
        d = outer
    token = _deadline.set(d)
    try:
        yield d
    finally:
        _deadline.reset(token)
