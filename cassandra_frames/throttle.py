"""One ceiling on rows per second, shared by everything one process reads or writes at that rate.

:class:`RateLimiter` is a token bucket one second deep. :meth:`RateLimiter.reserve` takes the rows and
says how long the caller must wait, so the reader on the engine's event loop waits with ``asyncio.sleep``
and a loading thread with ``time.sleep``. A multi-process operation divides its ceiling among the
processes before asking for :meth:`RateLimiter.shared`.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

__all__ = ["RateLimiter"]


class RateLimiter:
    """A token bucket of ``rate`` rows per second, one second deep (thread-safe)."""

    _shared: ClassVar[dict[float, RateLimiter]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    @classmethod
    def shared(cls, rate: float) -> RateLimiter:
        """The one limiter of ``rate`` in this process (every caller of the same rate shares it)."""
        with cls._shared_lock:
            return cls._shared.setdefault(rate, cls(rate))

    def reserve(self, rows: int) -> float:
        """Take ``rows``; the seconds to wait before going on (0 when the bucket had them)."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate) - rows
            self.stamp = now
            return -self.tokens / self.rate if self.tokens < 0 else 0.0
