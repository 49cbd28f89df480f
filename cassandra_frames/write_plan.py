"""Planning a write, without Dask: :class:`WriteOptions` → :func:`plan_write` → :class:`WritePlan`.

Planning checks the frame against the table before anything is written (unknown column, missing primary
key column, a type that cannot convert → :class:`SchemaError` naming the column and the CQL type),
creating the table first when asked, and decides the statements of a row (an INSERT, per-column-group
UPDATEs for per-column writetime/TTL, or a counter UPDATE) and which writes may be retried. The plan is a
picklable value that :mod:`cassandra_frames.write` runs in any process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from cassandra_frames import cql
from cassandra_frames.convert.from_arrow import check_compatible
from cassandra_frames.engine import catalog
from cassandra_frames.engine.connections import ConnectionRef, request_timeout, resolve_connection
from cassandra_frames.engine.writer import SendOptions
from cassandra_frames.errors import CassandraFramesError, SchemaError, close_matches
from cassandra_frames.options import OnError, WriteOptions, max_errors_limit
from cassandra_frames.schema import TableInfo, cql_type_for_arrow, split_table_name

__all__ = ["Timing", "WritePlan", "build_write_plan", "create_table_statement", "plan_write"]


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
    nulls: Literal["unset", "tombstone"]
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
            catalog.run_ddl(session, keyspace, create_table_statement(keyspace, name, arrow, options))
    info = catalog.table_info(session, keyspace, name)
    return build_write_plan(info, arrow, options, connection=ref, timeout=request_timeout(session))
