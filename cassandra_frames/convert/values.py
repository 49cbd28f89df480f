"""The values the write side binds for CQL types that have no plain Python counterpart. No driver import.

The DataStax driver serializes a value by what it offers, not by its class: a ``date`` by its
``days_from_epoch``, a ``time`` by its ``nanosecond_time``, a ``duration`` by its ``months``, ``days`` and
``nanoseconds``, a ``map`` by its ``items()``. These small immutable types offer exactly that, so the
converters can build them without importing the driver; ``tests/unit/test_encode.py`` checks that each
serializes to the bytes of the driver's own ``Date``, ``Time``, ``Duration`` and ``OrderedMap``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

__all__ = ["CqlDate", "CqlDuration", "CqlTime", "PairMap"]


class CqlDate(NamedTuple):
    """A CQL ``date``: days since 1970-01-01 (any of Cassandra's ±5.8 million years)."""

    days_from_epoch: int


class CqlTime(NamedTuple):
    """A CQL ``time``: nanoseconds since midnight."""

    nanosecond_time: int


class CqlDuration(NamedTuple):
    """A CQL ``duration``: months, days and nanoseconds, all of one sign."""

    months: int
    days: int
    nanoseconds: int


class PairMap:
    """A CQL ``map`` as ordered ``(key, value)`` pairs, for keys a ``dict`` cannot hold (unhashable keys, or
    keys equal as Python values but distinct in CQL, such as ``0.0`` and ``-0.0``)."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Sequence[tuple[Any, Any]]) -> None:
        self._pairs = tuple(pairs)

    def items(self) -> tuple[tuple[Any, Any], ...]:
        """The pairs, in order."""
        return self._pairs

    def keys(self) -> list[Any]:
        """The keys, in order."""
        return [k for k, _ in self._pairs]

    def __len__(self) -> int:
        return len(self._pairs)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PairMap):
            return self._pairs == other._pairs
        items = getattr(other, "items", None)
        return callable(items) and list(self._pairs) == list(items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PairMap({list(self._pairs)!r})"
