"""Asynchronous writes: rows → unlogged batches grouped by partition key → bounded concurrency.

Rows arrive as :class:`WriteRow` (their statements' bound values and their position in the caller's
frame). Rows of one partition go into unlogged batches of at most ``max_batch_rows`` rows (never a batch
spanning partitions unless ``batch="none"`` is asked… in which case every row is its own statement). Each
batch (or single statement) is routed token-aware by the driver. Transient failures are retried with
backoff only when the statements are idempotent (not counter updates, not list appends). A batch that the
server rejects for a non-transient reason is replayed row by row, so that exactly the offending rows are
reported, each with the server's reason; every other row is written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from cassandra_frames.engine.encode import bound_statement
from cassandra_frames.engine.reader import _resolve, is_transient

__all__ = ["RowFailure", "WriteOptions", "WriteOutcome", "WriteRow", "write_rows"]


@dataclasses.dataclass(frozen=True)
class WriteOptions:
    """How rows are written.

    Attributes
    ----------
    consistency : str
        Consistency level name.
    batch : {"partition", "none"}
        ``"partition"``: unlogged batches of rows sharing a partition key; ``"none"``: one statement per row.
    max_batch_rows : int
        Rows per batch at most.
    concurrency : int
        Batches (or statements) in flight.
    retries : int
        Retries of a transient failure (idempotent statements only).
    backoff : float
        First retry delay in seconds; doubles each retry (with jitter).
    idempotent : bool
        Whether the statements may be retried (False for counter updates and list appends).
    counter : bool
        Counter updates: batches are COUNTER batches.
    conditional : bool
        Lightweight transactions (``IF NOT EXISTS``): one row per statement, ``[applied]`` counted.
    timeout : float
        Seconds one request may take.
    """

    consistency: str = "LOCAL_QUORUM"
    batch: str = "partition"
    max_batch_rows: int = 50
    concurrency: int = 64
    retries: int = 3
    backoff: float = 0.2
    idempotent: bool = True
    counter: bool = False
    conditional: bool = False
    timeout: float = 30.0


class WriteRow(NamedTuple):
    """One row: its index in the caller's frame, its partition key, and the statements it needs (an
    INSERT, or several UPDATEs for per-column writetime/TTL), each as ``(prepared, serialized values)``
    (see :func:`cassandra_frames.engine.encode.serialize_column`). A named tuple: built once per row."""

    index: Any
    key: tuple[Any, ...]
    statements: tuple[tuple[Any, tuple[Any, ...]], ...]


@dataclasses.dataclass(frozen=True)
class RowFailure:
    """A row the server refused (or that failed after all retries), with the reason."""

    index: Any
    reason: str


@dataclasses.dataclass
class WriteOutcome:
    """What happened to the rows handed to :func:`write_rows`."""

    written: int = 0
    failed: list[RowFailure] = dataclasses.field(default_factory=list)
    batches: int = 0
    retries: int = 0
    not_applied: int = 0  # IF NOT EXISTS rows that already existed
    unsent: list[Any] = dataclasses.field(default_factory=list)  # rows never sent (stopped early)


class _Aborted(Exception):
    pass


def _future(loop: asyncio.AbstractEventLoop, response_future: Any) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = loop.create_future()

    def ok(result: Any) -> None:
        loop.call_soon_threadsafe(_resolve, fut, result, None)

    def err(exc: BaseException) -> None:
        loop.call_soon_threadsafe(_resolve, fut, None, exc)

    response_future.add_callbacks(ok, err)
    return fut


class _Writer:
    def __init__(
        self,
        session: Any,
        options: WriteOptions,
        should_stop: Callable[[WriteOutcome], bool],
        execution_profile: Any,
    ) -> None:
        from cassandra import ConsistencyLevel

        self.session = session
        self.options = options
        self.should_stop = should_stop
        if execution_profile is None:
            from cassandra.cluster import EXEC_PROFILE_DEFAULT

            execution_profile = EXEC_PROFILE_DEFAULT
        self.profile = execution_profile
        self.cl = ConsistencyLevel.name_to_value[options.consistency.upper()]
        self.outcome = WriteOutcome()

    def _statement(self, rows: Sequence[WriteRow]) -> Any:
        from cassandra.query import BatchStatement, BatchType

        pairs = [pair for row in rows for pair in row.statements]
        if len(pairs) == 1:
            stmt = bound_statement(*pairs[0])
        else:
            kind = BatchType.COUNTER if self.options.counter else BatchType.UNLOGGED
            stmt = BatchStatement(batch_type=kind)
            for prepared, values in pairs:
                stmt.add(bound_statement(prepared, values))
        stmt.consistency_level = self.cl
        stmt.is_idempotent = self.options.idempotent
        return stmt

    async def _execute(self, rows: Sequence[WriteRow]) -> Any:
        delay = self.options.backoff
        loop = asyncio.get_running_loop()
        attempts = self.options.retries + 1 if self.options.idempotent else 1
        for attempt in range(attempts):
            try:
                rf = self.session.execute_async(
                    self._statement(rows), timeout=self.options.timeout, execution_profile=self.profile
                )
                return await _future(loop, rf)
            except Exception as exc:
                if not is_transient(exc) or attempt == attempts - 1:
                    raise
                self.outcome.retries += 1
                await asyncio.sleep(delay * (1 + random.random()))
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _count_applied(self, rows: Sequence[WriteRow], result: Any) -> None:
        if self.options.conditional and result:  # the first column of an LWT's answer is [applied]
            first = result[0]
            applied = first.get("[applied]") if isinstance(first, dict) else first[0]
            if applied is False:
                self.outcome.not_applied += len(rows)
                return
        self.outcome.written += len(rows)

    async def write_group(self, rows: Sequence[WriteRow]) -> None:
        if self.should_stop(self.outcome):
            self.outcome.unsent.extend(r.index for r in rows)
            raise _Aborted
        self.outcome.batches += 1
        try:
            result = await self._execute(rows)
            self._count_applied(rows, result)
            return
        except Exception as exc:  # noqa: BLE001 - any refusal is reported per row, never dropped
            if len(rows) == 1:
                self.outcome.failed.append(RowFailure(rows[0].index, f"{type(exc).__name__}: {exc}"))
                return
        for i, row in enumerate(rows):  # find exactly the rows the server refuses; write the others
            if self.should_stop(self.outcome):
                self.outcome.unsent.extend(r.index for r in rows[i:])
                raise _Aborted
            try:
                result = await self._execute([row])
                self._count_applied([row], result)
            except Exception as exc:  # noqa: BLE001 - reported with the row
                self.outcome.failed.append(RowFailure(row.index, f"{type(exc).__name__}: {exc}"))


def _groups(rows: Sequence[WriteRow], options: WriteOptions) -> list[list[WriteRow]]:
    if options.batch == "none":
        return [[r] for r in rows]
    by_key: dict[tuple[Any, ...], list[WriteRow]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    size = max(1, options.max_batch_rows)
    return [part[i : i + size] for part in by_key.values() for i in range(0, len(part), size)]


async def write_rows(
    session: Any,
    rows: Sequence[WriteRow],
    options: WriteOptions = WriteOptions(),
    *,
    should_stop: Callable[[WriteOutcome], bool] = lambda _o: False,
    execution_profile: Any = None,
) -> tuple[WriteOutcome, bool]:
    """Write ``rows``; returns the outcome and whether ``should_stop`` cut the write short.

    Parameters
    ----------
    session : cassandra.cluster.Session
        A connected session.
    rows : sequence of WriteRow
        What to write, in the caller's order.
    options : WriteOptions
        Batching, consistency, concurrency, retries.
    should_stop : callable
        Asked before each batch with the outcome so far; True stops sending (``max_errors``).
    execution_profile : object, optional
        Driver execution profile to use.
    """
    writer = _Writer(session, options, should_stop, execution_profile)
    sem = asyncio.Semaphore(max(1, options.concurrency))
    aborted = False

    async def one(group: list[WriteRow]) -> None:
        async with sem:
            await writer.write_group(group)

    tasks = [asyncio.ensure_future(one(g)) for g in _groups(rows, options)]
    for task in tasks:
        try:
            await task
        except _Aborted:
            aborted = True
    return writer.outcome, aborted
