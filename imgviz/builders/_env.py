"""A stage's environment as a builder keeps it: ordered, with a digest updated in constant time.

BuildKit puts the whole ``KEY=VALUE`` list of a stage into every RUN's cache key, in order (a
redefined name moves to the end).  Hashing that list again at every RUN costs its length, so a
Dockerfile with thousands of ENV lines and RUNs would be quadratic.  :class:`EnvState` keeps the
list as a linked list and its digest as the sum, modulo 2**128, of one hash per entry *and the
entry before it*: a list is fully determined by its (entry, predecessor) pairs, and setting,
moving or replacing an entry changes at most three of them.

Explanations need the list as it was at a step: :meth:`EnvState.at` returns a function that
rebuilds it from the log of changes, so nothing is copied per step.
"""

from __future__ import annotations

import hashlib
from typing import Callable

__all__ = ["EnvState"]

_MASK = (1 << 128) - 1
_START = "\x00start"


def _value_hash(value: str) -> bytes:
    return hashlib.blake2b(value.encode("utf-8", "surrogateescape"), digest_size=16).digest()


def _h(key: str, vh: bytes, pred: str | None) -> int:
    """One entry's share of the digest: its name, its value's hash, the name before it."""
    data = f"{_START if pred is None else pred}\x00{key}\x00".encode("utf-8", "surrogateescape") + vh
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big")


class EnvState:
    """Ordered environment of one stage.

    Parameters
    ----------
    pairs : the starting ``(key, value)`` pairs (the base image's Env)
    move : a redefined name moves to the end (BuildKit) or keeps its place (the classic builder)
    """

    __slots__ = ("values", "move", "digest", "log", "_vh", "_prev", "_next", "_last")

    def __init__(self, pairs=(), *, move: bool):
        self.values: dict[str, str] = {}
        self.move = move
        self.digest = 0
        self.log: list[tuple[str, str]] = []
        self._vh: dict[str, bytes] = {}
        self._prev: dict[str, str | None] = {}
        self._next: dict[str, str | None] = {}
        self._last: str | None = None
        for k, v in pairs:
            self.set(k, v)

    def copy(self) -> "EnvState":
        out = EnvState(move=self.move)
        out.values = dict(self.values)
        out.digest = self.digest
        out.log = list(self.log)
        out._vh = dict(self._vh)
        out._prev, out._next, out._last = dict(self._prev), dict(self._next), self._last
        return out

    # -- changes ---------------------------------------------------------------------------------
    def set(self, key: str, value: str) -> None:
        """``ENV key=value`` (or a BuildKit ARG with a value)."""
        self.log.append((key, value))
        vh = _value_hash(value)
        if key not in self.values:
            self._append(key, value, vh)
        elif self.move:
            self._unlink(key)
            self._append(key, value, vh)
        else:
            pred = self._prev[key]
            self.digest = (self.digest - _h(key, self._vh[key], pred) + _h(key, vh, pred)) & _MASK
            self.values[key], self._vh[key] = value, vh

    def _append(self, key: str, value: str, vh: bytes) -> None:
        pred = self._last
        self.values[key], self._vh[key] = value, vh
        self._prev[key], self._next[key] = pred, None
        if pred is not None:
            self._next[pred] = key
        self._last = key
        self.digest = (self.digest + _h(key, vh, pred)) & _MASK

    def _unlink(self, key: str) -> None:
        pred, succ = self._prev.pop(key), self._next.pop(key)
        del self.values[key]
        self.digest = (self.digest - _h(key, self._vh.pop(key), pred)) & _MASK
        if succ is not None:
            svh = self._vh[succ]
            self.digest = (self.digest - _h(succ, svh, key) + _h(succ, svh, pred)) & _MASK
            self._prev[succ] = pred
        else:
            self._last = pred
        if pred is not None:
            self._next[pred] = succ

    # -- reading ---------------------------------------------------------------------------------
    def __contains__(self, key) -> bool:
        return key in self.values

    def get(self, key, default=None):
        return self.values.get(key, default)

    def pairs(self) -> list[str]:
        """``KEY=VALUE`` strings, in the builder's order (costs the list's length)."""
        return [f"{k}={v}" for k, v in self.values.items()]

    def at(self) -> Callable[[], list[str]]:
        """A function returning :meth:`pairs` as they are now, whatever changes later."""
        log, n, move = self.log, len(self.log), self.move

        def replay() -> list[str]:
            d: dict[str, str] = {}
            for k, v in log[:n]:
                if move and k in d:
                    del d[k]
                d[k] = v
            return [f"{k}={v}" for k, v in d.items()]

        return replay
