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
import functools
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from cassandra_frames.engine.catalog import prepare
from cassandra_frames.engine.connections import ConnectionRef, read_profile, session_for
from cassandra_frames.engine.pages import RawPage, execute_raw, raw_pages_supported
from cassandra_frames.engine.retry import is_transient, retrying
from cassandra_frames.engine.session import Responses
from cassandra_frames.errors import ReadError
from cassandra_frames.latency import LatencyHistogram
from cassandra_frames.logs import get_logger, log_context
from cassandra_frames.throttle import RateLimiter
from cassandra_frames.tokens import TokenRange, split_range

log = get_logger("cassandra_frames.engine.reader")

__all__ = [
    "FetchOptions",
    "FetchStats",
    "PageDecode",
    "ReadQuery",
    "ReadUnit",
    "count_units",
    "fetch_units",
    "prepare_read",
]


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
    max_rows_per_second : float, optional
        Ceiling on the rows this process fetches per second, over every read running in it (a token
        bucket on the engine loop, one second deep). ``None``: no ceiling.
    """

    fetch_size: int = 5000
    consistency: str = "LOCAL_ONE"
    concurrency: int = 4
    retries: int = 3
    backoff: float = 0.2
    max_splits: int = 2
    timeout: float = 30.0
    limit: int | None = None
    max_rows_per_second: float | None = None


@dataclasses.dataclass
class FetchStats:
    """What a fetch went through: transient failures retried, ranges split after retries, and the round
    trip of every page requested."""

    retries: int = 0
    splits: int = 0
    latency: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram)


PageDecode = Callable[[bytes, int], pa.RecordBatch]
"""Turns a raw page (its cells' bytes, its row count) into a record batch: see
:mod:`cassandra_frames.convert.pages`."""


@dataclasses.dataclass(frozen=True)
class ReadUnit:
    """One query to run: a token range (``params`` are its bounds) or a single partition."""

    params: tuple[Any, ...]
    replicas: tuple[str, ...] = ()
    token_range: TokenRange | None = None
    label: str = ""


@dataclasses.dataclass(frozen=True)
class ReadQuery:
    """A prepared SELECT on a live session, with the execution profile reads use (tuple rows)."""

    session: Any
    prepared: Any
    profile: Any


def prepare_read(connection: ConnectionRef, text: str, timeout: float) -> ReadQuery:
    """Open (or reuse) the session of ``connection`` and prepare ``text`` on it.

    Blocking (it may connect and round-trip to the cluster): call it from the caller's thread or an
    executor, never from the engine loop, then hand the result to :func:`fetch_units`.
    """
    session = session_for(connection)
    return ReadQuery(session, prepare(session, text), read_profile(session, timeout))


class _Fetcher:
    def __init__(
        self,
        query: ReadQuery,
        convert: Callable[[list[Any]], pa.RecordBatch],
        options: FetchOptions,
        stats: FetchStats | None = None,
        decode: PageDecode | None = None,
    ) -> None:
        from cassandra import ConsistencyLevel

        self.query = query
        self.convert = convert
        raw = decode is not None and raw_pages_supported(query.session, query.profile)
        self.decode = decode if raw else None
        self.options = options
        self.stats = stats if stats is not None else FetchStats()
        rate = options.max_rows_per_second
        self.throttle = RateLimiter.shared(float(rate)) if rate else None
        self.consistency = ConsistencyLevel.name_to_value[options.consistency.upper()]
        self.hosts = {str(h.address): h for h in query.session.cluster.metadata.all_hosts()}

    def _host(self, replicas: Sequence[str], attempt: int) -> Any:
        hosts = [self.hosts[a] for a in replicas if a in self.hosts]
        up = [h for h in hosts if h.is_up is not False]
        if not up:
            return None  # let the load-balancing policy pick any live node
        return up[attempt % len(up)]

    async def _attempt(
        self, unit: ReadUnit, params: tuple[Any, ...], attempt: int, limit: int | None
    ) -> list[pa.RecordBatch]:
        bound = self.query.prepared.bind(params)
        bound.fetch_size = self.options.fetch_size if limit is None else min(self.options.fetch_size, limit)
        bound.consistency_level = self.consistency
        session = self.query.session
        raw = self.decode is not None
        execute = functools.partial(execute_raw, session) if raw else session.execute_async
        rf = execute(
            bound,
            timeout=self.options.timeout,
            execution_profile=self.query.profile,
            host=self._host(unit.replicas, attempt),
        )
        pages = Responses(asyncio.get_running_loop(), rf, self.stats.latency)
        batches: list[pa.RecordBatch] = []
        got = 0
        while True:
            page = await pages.page()
            n = keep = len(page)
            if limit is not None and n >= limit - got:
                keep = limit - got  # enough: no further page is asked for
                more = False
            else:
                more = pages.request_next()  # the next page is on its way while this one converts
            if keep:
                batch = self._batch(page)
                batches.append(batch if keep == n else batch.slice(0, keep))
                got += keep
                if self.throttle is not None and (wait := self.throttle.reserve(keep)):
                    await asyncio.sleep(wait)
            if not more:
                return batches

    def _batch(self, page: Any) -> pa.RecordBatch:
        if isinstance(page, RawPage):
            assert self.decode is not None  # raw pages are asked for only with a decoder
            return self.decode(page.body, page.rows)
        return self.convert(page)

    def _retried(self, exc: BaseException) -> None:
        self.stats.retries += 1
        log.info("retrying after %s: %s", type(exc).__name__, exc)

    async def fetch(self, unit: ReadUnit, depth: int = 0, limit: int | None = None) -> list[pa.RecordBatch]:
        r = unit.token_range
        where = unit.label or (f"({r.start}, {r.end}]" if r is not None else f"partition {unit.params}")
        with log_context(token_range=where):
            return await self._fetch(unit, depth, limit)

    async def _fetch(self, unit: ReadUnit, depth: int, limit: int | None) -> list[pa.RecordBatch]:
        try:
            return await retrying(
                lambda attempt: self._attempt(unit, unit.params, attempt, limit),
                attempts=self.options.retries + 1,
                backoff=self.options.backoff,
                on_retry=self._retried,
            )
        except Exception as exc:
            r = unit.token_range
            if is_transient(exc) and r is not None and depth < self.options.max_splits:
                halves = split_range(r, 2)
                if len(halves) == 2:
                    log.warning("splitting the range in two after retries (%s: %s)", type(exc).__name__, exc)
                    self.stats.splits += 1
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
    query: ReadQuery,
    units: Sequence[ReadUnit],
    convert: Callable[[list[Any]], pa.RecordBatch],
    options: FetchOptions = FetchOptions(),
    stats: FetchStats | None = None,
    decode: PageDecode | None = None,
) -> list[pa.RecordBatch]:
    """Fetch every unit (bounded concurrency) and return their batches in unit order.

    Parameters
    ----------
    query : ReadQuery
        The prepared statement (see :func:`prepare_read`); for token ranges its first two markers are the
        range bounds.
    units : sequence of ReadUnit
        What to read.
    convert : callable
        Turns one page (a list of row tuples) into a record batch.
    options : FetchOptions
        Page size, consistency, concurrency, retries, row limit, rate ceiling.
    stats : FetchStats, optional
        Counts the retries and splits of this fetch.
    decode : callable, optional
        Decodes a raw page (see :mod:`cassandra_frames.engine.pages`): when given, and the session allows
        it, pages arrive undecoded and this builds their batches with no Python object per cell;
        ``convert`` is then used only if the session cannot hand out raw pages.

    Returns
    -------
    list of pyarrow.RecordBatch

    Raises
    ------
    ReadError
        A unit failed after retries and splits (never a silent gap).
    """
    fetcher = _Fetcher(query, convert, options, stats, decode)
    if options.limit is not None:
        return await _fetch_first(fetcher, units, options.limit)
    results = await _each_unit(fetcher, units, options.concurrency)
    return [b for batches in results for b in batches]


async def _each_unit(
    fetcher: _Fetcher,
    units: Sequence[ReadUnit],
    concurrency: int,
    on_unit: Callable[[int, list[pa.RecordBatch]], None] | None = None,
) -> list[list[pa.RecordBatch]]:
    """Every unit's batches, at most ``concurrency`` units at once; the first failure cancels the rest.
    ``on_unit(index, batches)`` is called as each unit completes."""
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(index: int, unit: ReadUnit) -> list[pa.RecordBatch]:
        async with sem:
            batches = await fetcher.fetch(unit)
        if on_unit is not None:
            on_unit(index, batches)
        return batches

    tasks = [asyncio.ensure_future(one(i, u)) for i, u in enumerate(units)]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        raise


def _count_batch(rows: list[Any]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([int(r[0]) for r in rows], pa.int64())], names=["count"])


async def count_units(
    query: ReadQuery,
    units: Sequence[ReadUnit],
    options: FetchOptions = FetchOptions(),
    stats: FetchStats | None = None,
    on_unit: Callable[[int, int], None] | None = None,
) -> list[int]:
    """Rows in each unit, by a prepared ``SELECT count(*)`` per token range, in unit order.

    The same retries, backoff and range splitting as :func:`fetch_units` (a split range's count is the sum
    of its halves'); a unit that still fails raises :class:`ReadError` naming it. ``on_unit(index, rows)``
    is called on the engine loop as each unit's count arrives (progress).
    """
    fetcher = _Fetcher(query, _count_batch, dataclasses.replace(options, max_rows_per_second=None), stats)

    def rows(batches: list[pa.RecordBatch]) -> int:
        return sum(sum(b.column(0).to_pylist()) for b in batches)

    hook = None if on_unit is None else (lambda i, batches: on_unit(i, rows(batches)))
    results = await _each_unit(fetcher, units, options.concurrency, hook)
    return [rows(batches) for batches in results]


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
