"""Request latencies as a small mergeable histogram: what the reports' p50 / p99 come from.

Every page a read asks for and every write (or batch) sent is timed, from the request leaving to its
answer arriving, into buckets whose bounds grow by 5 % (an estimate is within 2.5 % of the true
quantile, whatever the spread). A histogram is a dict of bucket → count: it merges across units, tasks
and worker processes, travels in a checkpoint as JSON, and costs a few hundred bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

__all__ = ["LatencyHistogram"]

_GROWTH = 1.05
_LOG_GROWTH = math.log(_GROWTH)
_FLOOR_US = 1.0  # anything faster lands in bucket 0


class LatencyHistogram:
    """Request latencies in buckets 5 % wide.

    Examples
    --------
    >>> h = LatencyHistogram()
    >>> for ms in (1, 2, 3, 4, 100):
    ...     h.record(ms / 1000)
    >>> round(h.quantile_ms(0.5))
    3
    """

    __slots__ = ("counts",)

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self.counts: dict[int, int] = dict(counts or {})

    @staticmethod
    def _bucket(seconds: float) -> int:
        us = seconds * 1e6
        return 0 if us <= _FLOOR_US else int(math.log(us / _FLOOR_US) / _LOG_GROWTH)

    def record(self, seconds: float) -> None:
        """Add one request that took ``seconds``."""
        b = self._bucket(seconds)
        self.counts[b] = self.counts.get(b, 0) + 1

    def merge(self, other: LatencyHistogram | Mapping[str, int] | None) -> LatencyHistogram:
        """Add ``other``'s requests (a histogram or its :meth:`to_json` form) to this one; returns self."""
        if other is None:
            return self
        items = other.counts.items() if isinstance(other, LatencyHistogram) else other.items()
        for b, n in items:
            key = int(b)
            self.counts[key] = self.counts.get(key, 0) + int(n)
        return self

    @classmethod
    def sum(cls, parts: Iterable[LatencyHistogram | Mapping[str, int] | None]) -> LatencyHistogram:
        """One histogram of every part (histograms, their JSON form, or None for a part without one)."""
        total = cls()
        for part in parts:
            total.merge(part)
        return total

    @property
    def count(self) -> int:
        """Requests recorded."""
        return sum(self.counts.values())

    def quantile_ms(self, q: float) -> float | None:
        """The ``q`` quantile (0–1) in milliseconds, or None when nothing was recorded."""
        total = self.count
        if not total:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen >= rank:
                return self._middle_us(b) / 1000.0
        raise AssertionError("unreachable: rank <= total")

    def count_below(self, seconds: float) -> int:
        """Requests that took at most ``seconds`` (each counted at its bucket's middle, as the quantiles)."""
        limit_us = seconds * 1e6
        return sum(n for b, n in self.counts.items() if self._middle_us(b) <= limit_us)

    @staticmethod
    def _middle_us(bucket: int) -> float:
        return _FLOOR_US * _GROWTH ** (bucket + 0.5) if bucket else _FLOOR_US

    def total_seconds(self) -> float:
        """The sum of every request's time (each counted at its bucket's middle)."""
        return sum(n * self._middle_us(b) for b, n in self.counts.items()) / 1e6

    def to_json(self) -> dict[str, int]:
        """The buckets as a JSON-able dict (what a checkpoint stores)."""
        return {str(b): n for b, n in sorted(self.counts.items())}

    def __reduce__(self) -> tuple[type[LatencyHistogram], tuple[dict[int, int]]]:
        return (LatencyHistogram, (self.counts,))

    def __repr__(self) -> str:
        p50, p99 = self.quantile_ms(0.5), self.quantile_ms(0.99)
        if p50 is None or p99 is None:
            return "LatencyHistogram(empty)"
        return f"LatencyHistogram({self.count:,} requests, p50 {p50:.2f} ms, p99 {p99:.2f} ms)"
