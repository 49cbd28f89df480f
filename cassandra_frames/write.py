"""Writing, without Dask: :func:`write_chunks` runs a :class:`~cassandra_frames.write_plan.WritePlan` over a
stream of Arrow chunks — the write core that ``to_cassandra`` (through :func:`write_frame`) and the bulk
load stand on — and :func:`finalize` adds the reports of a write's partitions up.

Each chunk is converted to CQL values (:mod:`~cassandra_frames.convert.from_arrow`); rows that cannot be
written are rejected with their reason before sending; the engine sends the rest in unlogged batches
grouped by partition key while the next chunk converts. Rejected rows stream to ``bad_rows_path``
(:mod:`~cassandra_frames.badrows`).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from cassandra_frames import cql
from cassandra_frames.badrows import BadRowSink, bad_rows_file
from cassandra_frames.convert.from_arrow import cql_values
from cassandra_frames.engine.writer import Chunk, WriteOutcome, WriteTarget, prepare_target, start_chunk
from cassandra_frames.errors import WriteError
from cassandra_frames.latency import LatencyHistogram
from cassandra_frames.reports import KEEP_REJECTED, RejectedRow, WriteReport
from cassandra_frames.write_plan import WritePlan

__all__ = ["CHUNK_ROWS", "ChunkDone", "finalize", "write_chunks", "write_frame"]

CHUNK_ROWS = 50_000
"""Rows converted and sent at a time (by :func:`write_frame`): bounds the Python objects alive at once."""


Label = Callable[[int], Any]
"""A row's position in the stream → the label its rejections report (the frame's index label, say)."""

ChunkDone = Callable[[int, int, int], None]
"""``on_chunk(written, rejected, retries)``: what one chunk added, as its outcome comes in."""


@dataclasses.dataclass
class _Progress:
    """What the chunks of one stream have done so far."""

    written: int = 0
    not_applied: int = 0
    batches: int = 0
    retries: int = 0
    seen: int = 0  # rows handed over so far
    rejected: int = 0
    aborted: bool = False  # max_errors stopped the sending
    failed: bool = False  # a row failed at the server or in serialization
    first_failure: tuple[int, RejectedRow] | None = None  # the earliest row that failed (not merely unsent)
    latency: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram)
    kept: list[tuple[int, RejectedRow]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Chunk:
    """A chunk on its way: its rows, where it starts in the stream, the send in flight, its bad rows."""

    table: pa.Table
    offset: int
    future: concurrent.futures.Future[tuple[WriteOutcome, bool]] | None
    bad: dict[int, RejectedRow]  # by position in the chunk


def _convert(
    plan: WritePlan, table: pa.Table, label: Label, offset: int, bad: dict[int, RejectedRow]
) -> dict[cql.Marker, list[Any]]:
    """The values of every marker for the rows of ``table`` (rows ``offset…`` of the stream); rows that
    cannot be written go into ``bad``, by position in ``table``."""
    values: dict[cql.Marker, list[Any]] = {}
    key = plan.table.primary_key
    for col in plan.columns:
        array = table.column(col)
        vals, problems = cql_values(array, plan.table.column(col).cql_type, plan.table.udts)
        for pos, reason in problems.items():
            bad.setdefault(pos, RejectedRow(label(offset + pos), col, array[pos].as_py(), reason))
        if col in key:
            for pos, v in enumerate(vals):
                if v is None and pos not in bad:
                    why = f"null in primary key column {col!r}"
                    bad[pos] = RejectedRow(label(offset + pos), col, None, why)
        values[("col", col)] = vals
    n: int = table.num_rows
    for marker, timing in plan.timings.items():
        if timing.column is None:
            values[marker] = [timing.value] * n
            continue
        vals = [None if v is None else int(v) for v in table.column(timing.column).to_pylist()]
        for pos, v in enumerate(vals):
            if v is not None and v < 0 and pos not in bad:
                bad[pos] = RejectedRow(label(offset + pos), None, v, f"negative {marker[0]} {v}")
        values[marker] = vals
    return values


def _send_chunk(
    plan: WritePlan, target: WriteTarget, table: pa.Table, label: Label, done: _Progress, total: int | None
) -> _Chunk:
    """Convert one chunk and start sending it (nothing is sent when a value is bad and on_error="raise")."""
    offset, n = done.seen, table.num_rows
    done.seen += n
    bad: dict[int, RejectedRow] = {}
    values = _convert(plan, table, label, offset, bad)
    if bad and plan.on_error == "raise":
        return _Chunk(table, offset, None, bad)
    key = plan.table.primary_key
    unset = set(plan.timings)  # a null TTL / timestamp leaves the default
    if plan.nulls == "unset":
        unset |= {("col", c) for c in plan.columns if c not in key}
    keys = list(zip(*(values[("col", k)] for k in plan.table.partition_key), strict=True))
    rows = [pos for pos in range(n) if pos not in bad]
    limit = plan.max_errors

    def should_stop(outcome: WriteOutcome) -> bool:
        if plan.on_error == "raise":
            return bool(outcome.failed) or done.failed
        if limit is None:
            return False
        errors = done.rejected + len(bad) + len(outcome.failed)
        if isinstance(limit, float):
            return errors > math.floor(limit * (total if total is not None else done.seen))
        return errors > int(limit)

    future = start_chunk(target, Chunk(values, unset, keys, rows), plan.send, should_stop)
    return _Chunk(table, offset, future, bad)


def _reject(
    done: _Progress, sink: BadRowSink, chunk: pa.Table, offset: int, bad: dict[int, RejectedRow]
) -> None:
    """Count a chunk's rejected rows, keep the first ones for the report, and hand them to the sink."""
    rejected = sorted(bad.items())
    done.rejected += len(rejected)
    room = KEEP_REJECTED - len(done.kept)
    done.kept += [(offset + pos, r) for pos, r in rejected[:room]]
    sink.write(chunk, rejected)


def _collect_chunk(plan: WritePlan, chunk: _Chunk, label: Label, done: _Progress, sink: BadRowSink) -> None:
    """Wait for a chunk sent by :func:`_send_chunk` and add its outcome to ``done``."""
    bad = chunk.bad
    if chunk.future is None:  # a value of this chunk cannot be written and on_error="raise"
        first = bad[min(bad)]
        before = f"{done.written:,} earlier rows were written" if done.written else "nothing was written"
        raise WriteError(
            f"{plan.name}: {first.describe()}. {before}; fix the value, or pass on_error='skip' "
            "(with bad_rows_path=...) to write the other rows"
        )
    outcome, aborted = chunk.future.result()
    for f in outcome.failed:  # refused by the server, or a value the driver cannot serialize
        bad[f.index] = RejectedRow(label(chunk.offset + f.index), f.column, f.value, f.reason)
        if done.first_failure is None or chunk.offset + f.index < done.first_failure[0]:
            done.first_failure = (chunk.offset + f.index, bad[f.index])
    why = "an earlier row failed (on_error='raise')" if plan.on_error == "raise" else "max_errors was reached"
    for pos in outcome.unsent:  # never sent because the write stopped early: not written either
        bad.setdefault(pos, RejectedRow(label(chunk.offset + pos), None, None, f"not sent: {why}"))
    done.written += outcome.written
    done.not_applied += outcome.not_applied
    done.batches += outcome.batches
    done.retries += outcome.retries
    done.latency.merge(outcome.latency)
    done.aborted = done.aborted or aborted
    done.failed = done.failed or bool(outcome.failed)
    _reject(done, sink, chunk.table, chunk.offset, bad)


def _as_table(chunk: pa.Table | pa.RecordBatch) -> pa.Table:
    return chunk if isinstance(chunk, pa.Table) else pa.Table.from_batches([chunk])


def write_chunks(
    chunks: Iterable[pa.Table | pa.RecordBatch],
    plan: WritePlan,
    *,
    total: int | None = None,
    label: Label | None = None,
    partition: int | None = None,
    on_chunk: ChunkDone | None = None,
) -> WriteReport:
    """Write a stream of Arrow chunks (tables or record batches of the planned columns): the write core.

    Each chunk is converted and sent while the next one converts (the engine loop sends, this thread
    converts), so memory holds about two chunks. Rows that cannot be written are rejected with their reason
    and streamed to the bad-rows file (``…part-NNNNN…`` for a numbered ``partition``). When ``max_errors``
    stops the sending, the rest of the stream is still read and every row of it is rejected as not sent:
    rows written + rows rejected + rows left alone = rows handed over, always.

    Parameters
    ----------
    chunks : iterable of pyarrow.Table or pyarrow.RecordBatch
        The rows, in order.
    plan : WritePlan
        From :func:`plan_write`.
    total : int, optional
        Rows in the whole stream, when known: the base of a percentage ``max_errors`` (otherwise the rows
        seen so far are).
    label : callable, optional
        Row position in the stream → the label a rejection reports (default: the position).
    partition : int, optional
        Number of the partition this stream is, for the name of its bad-rows file.
    on_chunk : callable, optional
        ``on_chunk(written, rejected, retries)`` after each chunk's outcome is in (what it added): progress.

    Raises
    ------
    WriteError
        With ``on_error="raise"``: the first rejected row, naming row, column, value and how many rows were
        written before.
    """
    t0 = time.perf_counter()
    label = label or (lambda pos: pos)
    done = _Progress()
    sink = BadRowSink(bad_rows_file(plan.bad_rows_path, partition) if plan.bad_rows_path else None)
    target: WriteTarget | None = None
    pending: _Chunk | None = None
    stream = iter(chunks)

    def collect(chunk: _Chunk) -> None:
        before = (done.written, done.rejected, done.retries)
        _collect_chunk(plan, chunk, label, done, sink)
        if on_chunk is not None:
            on_chunk(done.written - before[0], done.rejected - before[1], done.retries - before[2])

    try:
        for chunk in stream:
            table = _as_table(chunk)
            target = target or prepare_target(plan.connection, plan.statements)
            sent = _send_chunk(plan, target, table, label, done, total)
            if pending is not None:
                collect(pending)
            pending = sent
            if done.aborted or (done.failed and plan.on_error == "raise"):
                break
        if pending is not None:
            last, pending = pending, None
            collect(last)
        if done.aborted:  # max_errors stopped the write: the rest of the stream is rejected, not lost
            for chunk in stream:
                table = _as_table(chunk)
                offset, done.seen = done.seen, done.seen + table.num_rows
                why = "not sent: max_errors was reached"
                unsent = {
                    pos: RejectedRow(label(offset + pos), None, None, why) for pos in range(table.num_rows)
                }
                _reject(done, sink, table, offset, unsent)
    finally:
        if pending is not None and pending.future is not None:
            pending.future.result()  # never leave a chunk running behind an error
        paths = sink.close()
    if done.failed and plan.on_error == "raise":
        assert done.first_failure is not None
        raise WriteError(
            f"{plan.name}: {done.first_failure[1].describe()}; "
            f"{done.written:,} rows were written before the write stopped"
        )
    return WriteReport(
        table=plan.name,
        rows_written=done.written,
        rows_rejected=done.rejected,
        rows_not_applied=done.not_applied,
        batches=done.batches,
        retries=done.retries,
        duration_s=time.perf_counter() - t0,
        rejected=[r for _, r in done.kept],
        bad_rows_path=paths,
        aborted=done.aborted,
        latency=done.latency,
    )


def write_frame(
    frame: pd.DataFrame, plan: WritePlan, partition: int | None = None, on_chunk: ChunkDone | None = None
) -> WriteReport:
    """Write one pandas frame (a whole frame, or a Dask partition): :func:`write_chunks` over it,
    :data:`CHUNK_ROWS` rows at a time, each rejection labelled with its row's index label (``on_chunk``:
    as for :func:`write_chunks`)."""
    labels = list(frame.index)
    chunks = (
        pa.Table.from_pandas(frame.iloc[offset : offset + CHUNK_ROWS], preserve_index=False)
        for offset in range(0, len(frame), CHUNK_ROWS)
    )
    return write_chunks(
        chunks, plan, total=len(frame), label=labels.__getitem__, partition=partition, on_chunk=on_chunk
    )


def finalize(reports: Sequence[WriteReport], plan: WritePlan) -> WriteReport:
    """Add the reports of a write's partitions up; raise when the whole write exceeded ``max_errors``.

    Raises
    ------
    WriteError
        More rows were rejected than ``max_errors`` allows (or it stopped the write); the message carries
        the report.
    """
    out = WriteReport(table=plan.name)
    for report in reports:
        out = out.merge(report)
    if plan.max_errors is not None:
        limit = plan.max_errors
        allowed = math.floor(limit * out.rows_seen) if isinstance(limit, float) else limit
        if out.rows_rejected > allowed or out.aborted:
            raise WriteError(
                f"{plan.name}: max_errors exceeded ({out.rows_rejected:,} rows rejected): {out!r}"
            )
    return out
