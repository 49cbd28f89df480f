"""Asynchronous writes: rows → unlogged batches grouped by partition key → bounded concurrency.

A caller prepares its statements once per process (:func:`prepare_target`), then hands over one chunk of
converted values at a time (:func:`start_chunk`): the chunk's columns are serialized on the caller's thread
(:mod:`~cassandra_frames.engine.encode`), and its rows are sent on the engine loop while the caller
converts the next chunk. Values the driver cannot serialize are failures of their rows, never sent.

Rows travel as :class:`WriteRow` (their statements' bound values and their position in the caller's
chunk). Rows of one partition go into unlogged batches of at most ``max_batch_rows`` rows (never a batch
spanning partitions unless ``batch="none"`` is asked… in which case every row is its own statement). Each
batch (or single statement) is routed token-aware by the driver. Transient failures are retried with
backoff only when the statements are idempotent (not counter updates, not IF NOT EXISTS). A batch that the
server rejects for a non-transient reason is replayed row by row, so that exactly the offending rows are
reported, each with the server's reason; every other row is written.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, NamedTuple

from cassandra_frames.cql import Marker, Statement
from cassandra_frames.engine import runner
from cassandra_frames.engine.catalog import prepare
from cassandra_frames.engine.connections import ConnectionRef, session_for
from cassandra_frames.engine.encode import batch_statement, bound_statement, serialize_column
from cassandra_frames.engine.retry import retrying
from cassandra_frames.engine.session import Responses
from cassandra_frames.latency import LatencyHistogram
from cassandra_frames.logs import get_logger

__all__ = [
    "Chunk",
    "RowFailure",
    "SendOptions",
    "WriteOutcome",
    "WriteRow",
    "WriteTarget",
    "prepare_target",
    "start_chunk",
    "write_rows",
]

log = get_logger("cassandra_frames.engine.writer")


@dataclasses.dataclass(frozen=True)
class SendOptions:
    """How rows are sent.

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
        Whether the statements may be retried (False for counter updates and IF NOT EXISTS inserts).
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
    """A row that was not written: refused by the server, failed after all retries, or with a value the
    driver cannot serialize (then ``column`` and ``value`` say which)."""

    index: Any
    reason: str
    column: str | None = None
    value: Any = None


@dataclasses.dataclass
class WriteOutcome:
    """What happened to the rows handed to :func:`write_rows`."""

    written: int = 0
    failed: list[RowFailure] = dataclasses.field(default_factory=list)
    batches: int = 0
    retries: int = 0
    not_applied: int = 0  # IF NOT EXISTS rows that already existed
    latency: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram)  # per request sent
    unsent: list[Any] = dataclasses.field(default_factory=list)  # rows never sent (stopped early)


class _Aborted(Exception):
    pass


class _Writer:
    def __init__(
        self,
        session: Any,
        options: SendOptions,
        should_stop: Callable[[WriteOutcome], bool],
        outcome: WriteOutcome,
    ) -> None:
        from cassandra import ConsistencyLevel
        from cassandra.cluster import EXEC_PROFILE_DEFAULT

        self.session = session
        self.options = options
        self.should_stop = should_stop
        self.profile = EXEC_PROFILE_DEFAULT
        self.cl = ConsistencyLevel.name_to_value[options.consistency.upper()]
        self.outcome = outcome

    def _statement(self, rows: Sequence[WriteRow]) -> Any:
        from cassandra.query import BatchType

        pairs = [pair for row in rows for pair in row.statements]
        if len(pairs) == 1:
            stmt = bound_statement(*pairs[0])
        else:
            stmt = batch_statement(pairs, BatchType.COUNTER if self.options.counter else BatchType.UNLOGGED)
        stmt.consistency_level = self.cl
        stmt.is_idempotent = self.options.idempotent
        return stmt

    async def _send(self, rows: Sequence[WriteRow]) -> Any:
        rf = self.session.execute_async(
            self._statement(rows), timeout=self.options.timeout, execution_profile=self.profile
        )
        return await Responses(asyncio.get_running_loop(), rf, self.outcome.latency).page()

    def _on_retry(self, exc: BaseException) -> None:
        self.outcome.retries += 1
        log.info("retrying a write after %s: %s", type(exc).__name__, exc)

    async def _execute(self, rows: Sequence[WriteRow]) -> Any:
        return await retrying(
            lambda _attempt: self._send(rows),
            attempts=self.options.retries + 1 if self.options.idempotent else 1,
            backoff=self.options.backoff,
            on_retry=self._on_retry,
        )

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


def _groups(rows: Sequence[WriteRow], options: SendOptions) -> list[list[WriteRow]]:
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
    options: SendOptions = SendOptions(),
    *,
    should_stop: Callable[[WriteOutcome], bool] = lambda _o: False,
    outcome: WriteOutcome | None = None,
) -> tuple[WriteOutcome, bool]:
    """Write ``rows``; returns the outcome and whether ``should_stop`` cut the write short.

    Parameters
    ----------
    session : cassandra.cluster.Session
        A connected session.
    rows : sequence of WriteRow
        What to write, in the caller's order.
    options : SendOptions
        Batching, consistency, concurrency, retries.
    should_stop : callable
        Asked before each batch with the outcome so far; True stops sending (``max_errors``).
    outcome : WriteOutcome, optional
        The outcome to add to (failures found before sending are already in it).
    """
    writer = _Writer(session, options, should_stop, outcome or WriteOutcome())
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


@dataclasses.dataclass(frozen=True)
class WriteTarget:
    """Statements prepared on a live session: what :func:`start_chunk` sends each row's values with."""

    session: Any
    statements: tuple[tuple[Statement, Any], ...]  # (statement, prepared statement)
    protocol_version: int


def prepare_target(connection: ConnectionRef, statements: Sequence[Statement]) -> WriteTarget:
    """Open (or reuse) the session of ``connection`` and prepare ``statements`` on it.

    Blocking: call it from the caller's thread, never from the engine loop.
    """
    session = session_for(connection)
    prepared = tuple((s, prepare(session, s.text)) for s in statements)
    return WriteTarget(session, prepared, int(session.cluster.protocol_version))


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One chunk of converted rows for :func:`start_chunk`.

    Attributes
    ----------
    values : mapping
        For every marker of the target's statements, one value per row of the chunk (None: null).
    unset : collection
        Markers whose None is sent unset (no tombstone) rather than null.
    keys : sequence of tuple
        The partition key of each row (rows of one key are batched together).
    rows : sequence of int
        Positions of the rows to send (the others were rejected before).
    """

    values: Mapping[Marker, Sequence[Any]]
    unset: Collection[Marker]
    keys: Sequence[tuple[Any, ...]]
    rows: Sequence[int]


def _serialize(
    values: Sequence[Any],
    driver_type: Any,
    pv: int,
    unset: bool,
    marker: Marker,
    failures: dict[int, RowFailure],
) -> list[Any]:
    try:
        return serialize_column(values, driver_type, pv, unset_nulls=unset)
    except Exception:  # noqa: BLE001 - find the values the driver cannot serialize, one by one
        out: list[Any] = []
        column = marker[1] if marker[0] == "col" else marker[0]
        for pos, v in enumerate(values):
            try:
                out.append(serialize_column([v], driver_type, pv, unset_nulls=unset)[0])
            except Exception as exc:  # noqa: BLE001 - the row fails with the reason
                out.append(None)
                failures.setdefault(pos, RowFailure(pos, f"{type(exc).__name__}: {exc}", column, v))
        return out


def start_chunk(
    target: WriteTarget,
    chunk: Chunk,
    options: SendOptions,
    should_stop: Callable[[WriteOutcome], bool] = lambda _o: False,
) -> concurrent.futures.Future[tuple[WriteOutcome, bool]]:
    """Serialize ``chunk`` (on this thread) and start sending its rows on the engine loop.

    Returns at once; the future's result is what :func:`write_rows` returns. Rows with a value the driver
    cannot serialize are not sent: they are failures of the outcome, with their column and value.
    """
    failures: dict[int, RowFailure] = {}
    cache: dict[tuple[Marker, str], list[Any]] = {}
    pv = target.protocol_version
    per_statement: list[list[tuple[Any, tuple[Any, ...]]]] = []
    for statement, prepared in target.statements:
        columns = []
        for j, marker in enumerate(statement.markers):
            dtype = prepared.column_metadata[j].type
            key = (marker, dtype.cql_parameterized_type())
            if key not in cache:
                unset = marker in chunk.unset
                cache[key] = _serialize(chunk.values[marker], dtype, pv, unset, marker, failures)
            columns.append(cache[key])
        per_statement.append([(prepared, values) for values in zip(*columns, strict=True)])
    statements = list(zip(*per_statement, strict=True))  # per row: its (prepared, values) pairs
    sending = set(chunk.rows)
    failures = {pos: f for pos, f in failures.items() if pos in sending}  # others were rejected before
    rows = [WriteRow(pos, chunk.keys[pos], statements[pos]) for pos in chunk.rows if pos not in failures]
    outcome = WriteOutcome(failed=[failures[p] for p in sorted(failures)])
    return runner.submit(write_rows(target.session, rows, options, should_stop=should_stop, outcome=outcome))
