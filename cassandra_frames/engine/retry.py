"""Which driver errors are worth another try, and the one retry-with-backoff loop reads and writes share.

Connection-level retries (a node that does not answer, a speculative execution) stay with the driver's
policies; this loop retries a whole request (a page, a batch) when the driver gave up on it with a
transient error, with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["is_transient", "retrying"]

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """Whether a driver error is worth retrying (timeouts, unavailable, overloaded, no host)."""
    from cassandra import OperationTimedOut, ReadFailure, ReadTimeout, Unavailable
    from cassandra.cluster import NoHostAvailable
    from cassandra.protocol import (
        IsBootstrappingErrorMessage,
        OverloadedErrorMessage,
        ServerError,
        TruncateError,
    )

    transient = (
        OperationTimedOut,
        ReadTimeout,
        ReadFailure,
        Unavailable,
        NoHostAvailable,
        OverloadedErrorMessage,
        IsBootstrappingErrorMessage,
        ServerError,
        TruncateError,
        ConnectionError,
        TimeoutError,
    )
    return isinstance(exc, transient)


async def retrying(
    attempt: Callable[[int], Awaitable[T]],
    *,
    attempts: int,
    backoff: float,
    on_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """``await attempt(n)`` for n = 0, 1, … until it succeeds, at most ``attempts`` times.

    Only a transient error (:func:`is_transient`) is retried; any other error, or the last attempt's, is
    raised as it is. Before retry ``n`` the loop sleeps ``backoff * 2**(n-1)`` seconds times a jitter in
    ``[1, 2)``, and calls ``on_retry`` with the error.
    """
    delay = backoff
    for n in range(max(1, attempts)):
        try:
            return await attempt(n)
        except Exception as exc:
            if not is_transient(exc) or n >= attempts - 1:
                raise
            if on_retry is not None:
                on_retry(exc)
            await asyncio.sleep(delay * (1 + random.random()))
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
