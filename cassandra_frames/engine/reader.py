"""Asynchronous reads: one token range (or one partition) → Arrow record batches.

Each unit runs a prepared statement routed to one of its replicas, pages through the result with a
read-ahead of exactly one page (the next page is requested before the current one is decoded), and turns
every page into an Arrow record batch. Units run with bounded concurrency. A transient failure (timeout,
unavailable, overloaded, no host) is retried with exponential backoff on the next replica; after the
retries a token range is split in two and each half is retried the same way; a range that still fails
raises :class:`~cassandra_frames.errors.ReadError` naming it. The batches of a failed attempt are dropped,
so a retried range is never read twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from cassandra_frames.errors import ReadError
from cassandra_frames.planner import MURMUR3, Partitioner, TokenRange, split_range

__all__ = ["FetchOptions", "ReadUnit", "fetch_units", "is_transient"]


@dataclasses.dataclass(frozen=True)
class FetchOptions:
    """How units are fetched.

    Attributes
    ----------
    fetch_size : int
        Rows per page.
    consistency : str
        Consistency level name (``"LOCAL_ONE"``, ``"QUORUM"`` …).
    concurrency : int
        Units fetched at once (within one Dask partition).
    retries : int
        Attempts per unit before it is split (token ranges) or fails.
    backoff : float
        First retry delay in seconds; doubles each retry (with jitter).
    max_splits : int
        How many times a failing range may be halved before the read fails.
    timeout : float
        Seconds one page request may take.
    limit : int, optional
        Stop after this many rows: units are then read one after another, in order, and paging stops as
        soon as enough rows arrived (what ``ddf.head(n)`` needs). ``None`` reads everything.
    """

    fetch_size: int = 5000
    consistency: str = "LOCAL_ONE"
    concurrency: int = 4
    retries: int = 3
    backoff: float = 0.2
    max_splits: int = 2
    timeout: float = 30.0
    limit: int | None = None


@dataclasses.dataclass(frozen=True)
class ReadUnit:
    """One query to run: a token range (``params`` are its bounds) or a single partition."""

    params: tuple[Any, ...]
    replicas: tuple[str, ...] = ()
    token_range: TokenRange | None = None
    label: str = ""


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


class _Pages:
    """Driver ``ResponseFuture`` paging bridged to asyncio with one page of read-ahead."""

    def __init__(self, loop: asyncio.AbstractEventLoop, response_future: Any) -> None:
        self._loop = loop
        self._rf = response_future
        self._pending: asyncio.Future[list[Any]] = loop.create_future()
        response_future.add_callbacks(self._on_page, self._on_error)

    def _on_page(self, rows: list[Any]) -> None:
        fut = self._pending
        self._loop.call_soon_threadsafe(_resolve, fut, rows, None)

    def _on_error(self, exc: BaseException) -> None:
        fut = self._pending
        self._loop.call_soon_threadsafe(_resolve, fut, None, exc)

    async def next_page(self, needed: int | None = None) -> tuple[list[Any], bool]:
        """The next page of rows and whether more follow; the page after it is already requested.

        With ``needed``, a page holding that many rows is cut to them and ends the paging.
        """
        rows = await self._pending
        if needed is not None and len(rows) >= needed:
            return rows[:needed], False
        more = bool(self._rf.has_more_pages)
        if more:
            self._pending = self._loop.create_future()
            self._rf.start_fetching_next_page()
        return rows, more


def _resolve(fut: asyncio.Future[Any], value: Any, exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(value)


class _Fetcher:
    def __init__(
        self,
        session: Any,
        prepared: Any,
        convert: Callable[[list[Any]], pa.RecordBatch],
        options: FetchOptions,
        partitioner: Partitioner,
        execution_profile: Any,
    ) -> None:
        from cassandra import ConsistencyLevel

        self.session = session
        self.prepared = prepared
        self.convert = convert
        self.options = options
        self.partitioner = partitioner
        self.profile = execution_profile
        self.consistency = ConsistencyLevel.name_to_value[options.consistency.upper()]
        self.hosts = {str(h.address): h for h in session.cluster.metadata.all_hosts()}
        self.retries_done = 0

    def _host(self, replicas: Sequence[str], attempt: int) -> Any:
        hosts = [self.hosts[a] for a in replicas if a in self.hosts]
        up = [h for h in hosts if h.is_up is not False]
        if not up:
            return None  # let the load-balancing policy pick any live node
        return up[attempt % len(up)]

    async def _attempt(
        self, unit: ReadUnit, params: tuple[Any, ...], attempt: int, limit: int | None
    ) -> list[pa.RecordBatch]:
        bound = self.prepared.bind(params)
        bound.fetch_size = self.options.fetch_size if limit is None else min(self.options.fetch_size, limit)
        bound.consistency_level = self.consistency
        rf = self.session.execute_async(
            bound,
            timeout=self.options.timeout,
            execution_profile=self.profile,
            host=self._host(unit.replicas, attempt),
        )
        pages = _Pages(asyncio.get_running_loop(), rf)
        batches: list[pa.RecordBatch] = []
        more, got = True, 0
        while more:
            rows, more = await pages.next_page(None if limit is None else limit - got)
            if rows:
                got += len(rows)
                batches.append(self.convert(rows))
        return batches

    async def _with_retries(
        self, unit: ReadUnit, params: tuple[Any, ...], limit: int | None
    ) -> list[pa.RecordBatch]:
        delay = self.options.backoff
        for attempt in range(self.options.retries + 1):
            try:
                return await self._attempt(unit, params, attempt, limit)
            except Exception as exc:
                if not is_transient(exc) or attempt == self.options.retries:
                    raise
                self.retries_done += 1
                await asyncio.sleep(delay * (1 + random.random()))
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def fetch(self, unit: ReadUnit, depth: int = 0, limit: int | None = None) -> list[pa.RecordBatch]:
        try:
            return await self._with_retries(unit, unit.params, limit)
        except Exception as exc:
            r = unit.token_range
            if is_transient(exc) and r is not None and depth < self.options.max_splits:
                halves = split_range(r, 2)
                if len(halves) == 2:
                    out: list[pa.RecordBatch] = []
                    for half in halves:
                        left = None if limit is None else limit - sum(b.num_rows for b in out)
                        if left == 0:
                            break
                        root = (
                            unit.label.rpartition(" of ")[2]
                            if " of " in unit.label
                            else f"({r.start}, {r.end}]"
                        )
                        sub = dataclasses.replace(
                            unit,
                            params=(half.start, half.end, *unit.params[2:]),
                            token_range=half,
                            label=f"token range ({half.start}, {half.end}] of {root}",
                        )
                        out.extend(await self.fetch(sub, depth + 1, left))
                    return out
            if isinstance(exc, ReadError):
                raise
            what = unit.label or (f"token range ({r.start}, {r.end}]" if r else f"partition {unit.params}")
            attempts = self.options.retries + 1 if is_transient(exc) else 1  # other errors are not retried
            raise ReadError(
                f"could not read {what} after {attempts} attempt{'s' if attempts > 1 else ''}"
                + (f" and {depth} split(s)" if r is not None else "")
                + f": {type(exc).__name__}: {exc}"
            ) from exc


async def fetch_units(
    session: Any,
    prepared: Any,
    units: Sequence[ReadUnit],
    convert: Callable[[list[Any]], pa.RecordBatch],
    options: FetchOptions = FetchOptions(),
    *,
    partitioner: Partitioner = MURMUR3,
    execution_profile: Any = None,
) -> list[pa.RecordBatch]:
    """Fetch every unit (bounded concurrency) and return their batches in unit order.

    Parameters
    ----------
    session : cassandra.cluster.Session
        A connected session (its row factory must be ``tuple_factory`` in ``execution_profile``).
    prepared : cassandra.query.PreparedStatement
        The statement; for token ranges its first two markers are the range bounds.
    units : sequence of ReadUnit
        What to read.
    convert : callable
        Turns one page (a list of row tuples) into a record batch.
    options : FetchOptions
        Page size, consistency, concurrency, retries.
    partitioner : Partitioner
        Bounds used when a failing range is split.
    execution_profile : object, optional
        Driver execution profile (name or object) to run the statement with.

    Returns
    -------
    list of pyarrow.RecordBatch

    Raises
    ------
    ReadError
        A unit failed after retries and splits (never a silent gap).
    """
    fetcher = _Fetcher(session, prepared, convert, options, partitioner, execution_profile)
    if options.limit is not None:
        return await _fetch_first(fetcher, units, options.limit)
    sem = asyncio.Semaphore(max(1, options.concurrency))

    async def one(unit: ReadUnit) -> list[pa.RecordBatch]:
        async with sem:
            return await fetcher.fetch(unit)

    tasks = [asyncio.ensure_future(one(u)) for u in units]
    try:
        results = await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        raise
    return [b for batches in results for b in batches]


async def _fetch_first(fetcher: _Fetcher, units: Sequence[ReadUnit], limit: int) -> list[pa.RecordBatch]:
    """The first ``limit`` rows of ``units`` in unit order, querying no unit beyond the one that fills it."""
    out: list[pa.RecordBatch] = []
    left = limit
    for unit in units:
        if left <= 0:
            break
        batches = await fetcher.fetch(unit, limit=left)
        left -= sum(b.num_rows for b in batches)
        out.extend(batches)
    return out
