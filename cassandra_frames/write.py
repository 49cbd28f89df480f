"""The write core, without Dask: :class:`WriteOptions` → :func:`plan_write` → :class:`WritePlan`, and
:func:`write_frame`, which writes one pandas frame (a Dask partition, or a whole frame) with its report.

Planning checks the frame against the table before anything is written (unknown column, missing primary
key column, a type that cannot convert → :class:`SchemaError` naming the column and the CQL type),
creating the table first when asked, and decides the statements (INSERT, per-column-group UPDATEs for
per-column writetime/TTL, or a counter UPDATE). Writing converts the frame :data:`CHUNK_ROWS` rows at a
time to Arrow and then to CQL values (:mod:`~cassandra_frames.convert.from_arrow`); rows that cannot be
written are rejected with their reason before sending; the engine sends the rest in unlogged batches
grouped by partition key while the next chunk converts. Rejected rows land in ``bad_rows_path``
(:mod:`~cassandra_frames.badrows`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from cassandra_frames import cql
from cassandra_frames.badrows import bad_rows_file, write_bad_rows
from cassandra_frames.convert.from_arrow import check_compatible, cql_values
from cassandra_frames.engine import catalog
from cassandra_frames.engine.connections import ConnectionRef, request_timeout, resolve_connection
from cassandra_frames.engine.writer import Chunk, SendOptions, WriteOutcome, prepare_target, start_chunk
from cassandra_frames.errors import CassandraFramesError, SchemaError, WriteError, close_matches
from cassandra_frames.options import OnError, WriteOptions, max_errors_limit
from cassandra_frames.reports import KEEP_REJECTED, RejectedRow, WriteReport
from cassandra_frames.schema import TableInfo, cql_type_for_arrow, split_table_name

__all__ = [
    "CHUNK_ROWS",
    "Timing",
    "WritePlan",
    "build_write_plan",
    "finalize",
    "plan_write",
    "write_frame",
]

CHUNK_ROWS = 50_000
"""Rows converted and sent at a time: bounds the Python objects alive at once (peak memory)."""


# ----------------------------------------------------------------------------------------------- the plan


@dataclasses.dataclass(frozen=True)
class Timing:
    """Where a TTL / write-timestamp marker takes its values: one int for every row, or a frame column."""

    value: int | None = None
    column: str | None = None


@dataclasses.dataclass(frozen=True)
class WritePlan:
    """Everything a partition needs to write itself; picklable (no live objects, no secrets)."""

    connection: ConnectionRef
    table: TableInfo
    columns: tuple[str, ...]
    statements: tuple[cql.Statement, ...]
    timings: Mapping[cql.Marker, Timing]
    send: SendOptions
    nulls: str
    on_error: OnError
    max_errors: int | float | None  # count, or a fraction (0..1) of the rows seen
    bad_rows_path: str | None

    @property
    def name(self) -> str:
        """``keyspace.table``."""
        return self.table.qualified_name


def _timing(option: Any, what: str, columns: Sequence[str]) -> Timing | None:
    if option is None:
        return None
    if isinstance(option, bool) or not isinstance(option, int | str):
        raise CassandraFramesError(f"{what} must be an int, a column name or a dict, not {option!r}")
    if isinstance(option, str):
        if option not in columns:
            raise SchemaError(f"{what} column {option!r} is not in the frame{close_matches(option, columns)}")
        return Timing(column=option)
    if option < 0:
        raise CassandraFramesError(f"{what} must not be negative, not {option}")
    return Timing(value=option)


def _statements(
    table: TableInfo,
    columns: Sequence[str],
    counter: bool,
    options: WriteOptions,
    frame_columns: Sequence[str],
) -> tuple[tuple[cql.Statement, ...], dict[cql.Marker, Timing]]:
    """The statements of one row and the timing each ``USING`` marker takes its values from."""
    ks, name, key = table.keyspace, table.name, table.primary_key
    ttl, writetime = options.ttl, options.writetime
    regular = [c for c in columns if c not in key]
    if counter:
        if ttl is not None or writetime is not None or options.if_not_exists:
            raise CassandraFramesError("counter tables take no ttl, writetime or if_not_exists")
        return (cql.counter_update(ks, name, regular, key),), {}
    per_column = isinstance(ttl, dict) or isinstance(writetime, dict)
    if options.if_not_exists and (per_column or writetime is not None):
        raise CassandraFramesError(
            "if_not_exists (a lightweight transaction) cannot be combined with writetime or per-column "
            "ttl: Cassandra assigns the timestamp of a conditional write itself"
        )
    timings: dict[cql.Marker, Timing] = {}

    def using(t_opt: Any, w_opt: Any, tag: str) -> tuple[str | None, str | None]:
        t, w = _timing(t_opt, "ttl", frame_columns), _timing(w_opt, "writetime", frame_columns)
        if t is not None:
            timings[("ttl", tag)] = t
        if w is not None:
            timings[("writetime", tag)] = w
        return (tag if t else None), (tag if w else None)

    if not per_column:
        t_tag, w_tag = using(ttl, writetime, "")
        insert = cql.insert(
            ks, name, columns, if_not_exists=options.if_not_exists, ttl=t_tag, timestamp=w_tag
        )
        return (insert,), timings
    ttl_map = ttl if isinstance(ttl, dict) else {c: ttl for c in regular} if ttl is not None else {}
    wt_map = (
        writetime
        if isinstance(writetime, dict)
        else {c: writetime for c in regular}
        if writetime is not None
        else {}
    )
    for col in [*ttl_map, *wt_map]:
        if col not in regular:
            why = "is part of the primary key" if col in key else "is not written"
            raise SchemaError(
                f"per-column ttl/writetime names {col!r}, which {why}; regular columns: {regular}"
            )
    groups: dict[tuple[Any, Any], list[str]] = {}
    plain = []
    for col in regular:
        opts = (ttl_map.get(col), wt_map.get(col))
        if opts == (None, None):
            plain.append(col)
        else:
            groups.setdefault(opts, []).append(col)
    stmts = [cql.insert(ks, name, [*key, *plain])]  # the INSERT also writes the row marker
    for i, ((t_opt, w_opt), cols) in enumerate(groups.items()):
        t_tag, w_tag = using(t_opt, w_opt, f"g{i}")
        stmts.append(cql.update(ks, name, cols, key, ttl=t_tag, timestamp=w_tag))
    return tuple(stmts), timings


def _frame_arrow_schema(frame: pd.DataFrame) -> pa.Schema:
    try:
        return pa.Schema.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise SchemaError(f"the frame cannot be converted to Arrow: {exc}") from exc


def _keys(option: str | Sequence[str] | None) -> list[str]:
    return [option] if isinstance(option, str) else list(option or [])


def create_table_statement(keyspace: str, table: str, arrow: pa.Schema, options: WriteOptions) -> str:
    """The CREATE TABLE of ``create_table=True``: columns from the frame's Arrow schema, the given key.

    Raises
    ------
    SchemaError
        No partition key given (the key is never guessed), a key column not in the frame, or a column of
        only nulls (no type to derive).
    """
    pk, ck = _keys(options.partition_key), _keys(options.clustering_key)
    if not pk:
        raise SchemaError(
            f"create_table=True needs partition_key=[...] (and clustering_key=[...] if any) for "
            f"{keyspace}.{table}: cassandra_frames does not guess a primary key"
        )
    for c in pk + ck:
        if c not in arrow.names:
            raise SchemaError(f"primary key column {c!r} is not in the frame{close_matches(c, arrow.names)}")
    columns = []
    for field in arrow:
        if pa.types.is_null(field.type):
            raise SchemaError(f"column {field.name!r} has only nulls: its CQL type cannot be derived")
        columns.append((field.name, cql_type_for_arrow(field.type)))
    return cql.create_table(keyspace, table, columns, pk, ck)


def build_write_plan(
    table: TableInfo, arrow: pa.Schema, options: WriteOptions, *, connection: ConnectionRef, timeout: float
) -> WritePlan:
    """The plan of writing frames of Arrow schema ``arrow`` into ``table``. No I/O.

    Raises
    ------
    SchemaError
        A frame column the table lacks, a missing primary key column, a column whose type cannot be written
        to its CQL type, or a ttl/writetime column that does not hold integers.
    """
    frame_cols = list(arrow.names)
    timing_names = {
        v
        for opt in (options.ttl, options.writetime)
        for v in (opt.values() if isinstance(opt, dict) else [opt])
        if isinstance(v, str)
    }
    columns = [c for c in frame_cols if c not in timing_names or table.has_column(c)]
    for c in columns:
        if not table.has_column(c):
            raise SchemaError(
                f"column {c!r} of the frame is not a column of {table.qualified_name}"
                f"{close_matches(c, table.column_names)}; drop it or rename it"
            )
    missing = [k for k in table.primary_key if k not in columns]
    if missing:
        raise SchemaError(
            f"the frame has no column for primary key column(s) {missing} of {table.qualified_name}; "
            "every row needs its full primary key"
        )
    for c in columns:
        cql_type = table.column(c).cql_type
        why = check_compatible(arrow.field(c).type, cql_type, table.udts)
        if why is not None:
            raise SchemaError(
                f"column {c!r} ({arrow.field(c).type}) cannot be written to {table.qualified_name}.{c}, "
                f"which is {cql_type}: {why}"
            )
    counter = any(table.column(c).type.name == "counter" for c in columns)
    statements, timings = _statements(table, columns, counter, options, frame_cols)
    for t in timings.values():
        if t.column is not None:
            why = check_compatible(arrow.field(t.column).type, "bigint")
            if why is not None:
                raise SchemaError(f"ttl/writetime column {t.column!r} must hold integers: {why}")
    send = SendOptions(
        consistency=options.consistency,
        batch="none" if options.if_not_exists else options.batch,  # a conditional batch: all rows or none
        conditional=options.if_not_exists,
        max_batch_rows=options.max_batch_rows,
        concurrency=options.concurrency,
        idempotent=not counter and not options.if_not_exists,  # never retry what may apply twice
        counter=counter,
        timeout=timeout,
    )
    return WritePlan(
        connection=connection,
        table=table,
        columns=tuple(columns),
        statements=statements,
        timings=timings,
        send=send,
        nulls=options.nulls,
        on_error=options.on_error,
        max_errors=max_errors_limit(options.max_errors),
        bad_rows_path=options.bad_rows_path,
    )


def plan_write(meta_frame: pd.DataFrame, table: str, options: WriteOptions) -> WritePlan:
    """Check frames like ``meta_frame`` against ``table`` (creating it first when asked) and plan the write.

    Raises
    ------
    SchemaError
        See :func:`build_write_plan`; also an unknown keyspace or table.
    ConnectionError
        The cluster cannot be reached.
    """
    keyspace, name = split_table_name(table, options.keyspace)
    ref, session = resolve_connection(options.connection)
    arrow = _frame_arrow_schema(meta_frame)
    if options.create_table:
        try:
            found = catalog.find_table(session, keyspace, name)
        except SchemaError as exc:
            raise SchemaError(f"{exc}; create_table creates tables, not keyspaces") from None
        if found is None:
            catalog.run_ddl(session, create_table_statement(keyspace, name, arrow, options))
    info = catalog.table_info(session, keyspace, name)
    return build_write_plan(info, arrow, options, connection=ref, timeout=request_timeout(session))


# ------------------------------------------------------------------------------------------ one frame


@dataclasses.dataclass
class _Progress:
    """What the chunks of one frame have done so far."""

    written: int = 0
    not_applied: int = 0
    batches: int = 0
    retries: int = 0
    seen: int = 0
    aborted: bool = False
    failed: bool = False  # a row failed at the server or in serialization (matters with on_error="raise")
    bad: dict[int, RejectedRow] = dataclasses.field(default_factory=dict)


def _convert(
    plan: WritePlan, table: pa.Table, labels: Sequence[Any], offset: int, bad: dict[int, RejectedRow]
) -> dict[cql.Marker, list[Any]]:
    """The values of every marker for the rows of ``table`` (rows ``offset…`` of the frame labelled
    ``labels``); rows that cannot be written go into ``bad``, by position in ``table``."""
    values: dict[cql.Marker, list[Any]] = {}
    key = plan.table.primary_key
    for col in plan.columns:
        array = table.column(col)
        vals, problems = cql_values(array, plan.table.column(col).cql_type, plan.table.udts)
        for pos, reason in problems.items():
            bad.setdefault(pos, RejectedRow(labels[offset + pos], col, array[pos].as_py(), reason))
        if col in key:
            for pos, v in enumerate(vals):
                if v is None and pos not in bad:
                    bad[pos] = RejectedRow(
                        labels[offset + pos], col, None, f"null in primary key column {col!r}"
                    )
        values[("col", col)] = vals
    n: int = table.num_rows
    for marker, timing in plan.timings.items():
        if timing.column is None:
            values[marker] = [timing.value] * n
            continue
        vals = [None if v is None else int(v) for v in table.column(timing.column).to_pylist()]
        for pos, v in enumerate(vals):
            if v is not None and v < 0 and pos not in bad:
                bad[pos] = RejectedRow(labels[offset + pos], None, v, f"negative {marker[0]} {v}")
        values[marker] = vals
    return values


def _start_chunk(
    plan: WritePlan, target: Any, chunk: pd.DataFrame, labels: Sequence[Any], offset: int, total: int,
    done: _Progress,
) -> tuple[Any, dict[int, RejectedRow], int]:  # fmt: skip
    """Convert one chunk and start sending it; returns (future or None, bad rows by chunk position, size)."""
    table = pa.Table.from_pandas(chunk, preserve_index=False)
    n: int = table.num_rows
    bad: dict[int, RejectedRow] = {}
    values = _convert(plan, table, labels, offset, bad)
    if bad and plan.on_error == "raise":
        return None, bad, n
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
        errors = len(done.bad) + len(bad) + len(outcome.failed)
        if isinstance(limit, float):
            return errors > math.floor(limit * total)
        return errors > int(limit)

    future = start_chunk(target, Chunk(values, unset, keys, rows), plan.send, should_stop)
    return future, bad, n


def _finish_chunk(
    plan: WritePlan, started: tuple[Any, dict[int, RejectedRow], int], labels: Sequence[Any], offset: int,
    done: _Progress,
) -> None:  # fmt: skip
    """Wait for a started chunk and add its outcome to ``done``."""
    future, bad, n = started
    if future is None:  # a value of this chunk cannot be written and on_error="raise"
        first = bad[min(bad)]
        before = f"{done.written:,} earlier rows were written" if done.written else "nothing was written"
        raise WriteError(
            f"{plan.name}: {first.describe()}. {before}; fix the value, or pass on_error='skip' "
            "(with bad_rows_path=...) to write the other rows"
        )
    outcome, aborted = future.result()
    for f in outcome.failed:
        bad[f.index] = RejectedRow(labels[offset + f.index], f.column, f.value, f.reason)
    why = "an earlier row failed (on_error='raise')" if plan.on_error == "raise" else "max_errors was reached"
    for pos in outcome.unsent:  # never sent because the write stopped early: not written either
        bad.setdefault(pos, RejectedRow(labels[offset + pos], None, None, f"not sent: {why}"))
    done.written += outcome.written
    done.not_applied += outcome.not_applied
    done.batches += outcome.batches
    done.retries += outcome.retries
    done.seen += n
    done.aborted = done.aborted or aborted
    done.failed = done.failed or bool(outcome.failed)
    done.bad.update({offset + pos: r for pos, r in bad.items()})


def write_frame(frame: pd.DataFrame, plan: WritePlan, partition: int | None = None) -> WriteReport:
    """Write one pandas frame, :data:`CHUNK_ROWS` rows at a time; its rejected rows go to the bad-rows file
    (``…part-NNNNN…`` for a numbered ``partition``).

    Raises
    ------
    WriteError
        With ``on_error="raise"``: the first rejected row, naming row, column, value and how many rows were
        written before.
    """
    t0 = time.perf_counter()
    done = _Progress()
    labels = list(frame.index)
    total = len(frame)
    target = prepare_target(plan.connection, plan.statements) if total else None
    # chunk k+1 is converted while chunk k is on the wire (the engine loop sends, this thread converts)
    pending: tuple[int, tuple[Any, dict[int, RejectedRow], int]] | None = None
    try:
        for offset in range(0, total, CHUNK_ROWS):
            chunk = frame.iloc[offset : offset + CHUNK_ROWS]
            started = _start_chunk(plan, target, chunk, labels, offset, total, done)
            if pending is not None:
                _finish_chunk(plan, pending[1], labels, pending[0], done)
            pending = (offset, started)
            if done.aborted or done.failed:
                break
        if pending is not None:
            last, pending = pending, None
            _finish_chunk(plan, last[1], labels, last[0], done)
    finally:
        if pending is not None and pending[1][0] is not None:
            pending[1][0].result()  # never leave a chunk running behind an error
    if done.failed and plan.on_error == "raise":
        first = done.bad[min(p for p, r in done.bad.items() if not r.reason.startswith("not sent"))]
        raise WriteError(
            f"{plan.name}: {first.describe()}; {done.written:,} rows were written before the write stopped"
        )
    for pos in range(done.seen if done.aborted else total, total):  # chunks never started: not written
        done.bad[pos] = RejectedRow(labels[pos], None, None, "not sent: max_errors was reached")
    rejected = sorted(done.bad.items())
    report = WriteReport(
        table=plan.name,
        rows_written=done.written,
        rows_rejected=len(rejected),
        rows_not_applied=done.not_applied,
        batches=done.batches,
        retries=done.retries,
        rejected=[r for _, r in rejected[:KEEP_REJECTED]],
        aborted=done.aborted,
    )
    if rejected and plan.bad_rows_path:
        path = bad_rows_file(plan.bad_rows_path, partition)
        write_bad_rows(path, frame, rejected)
        report.bad_rows_path = [path]
    report.duration_s = time.perf_counter() - t0
    return report


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
