"""``to_cassandra``: write a pandas or Dask DataFrame into a Cassandra table, with a report.

The client checks the frame against the table before anything is written (unknown column, missing primary
key column, a type that cannot convert → :class:`SchemaError` naming the column and the CQL type). Each
partition (a pandas frame is one partition) is converted to Arrow, then to driver values per column
(``cqlvalues``); rows that cannot be written (a value out of range, a null key, …) are rejected with their
reason before sending; the rest go through the engine's writer in unlogged batches grouped by partition key.
Rejected rows land in ``bad_rows_path`` (CSV or JSON lines) with their reason. A Dask frame is written by
``map_partitions`` (one small report per partition) and one finalize that adds the reports up.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from cassandra_frames import cql, cqlvalues, schema
from cassandra_frames.engine import runner
from cassandra_frames.engine.catalog import (
    ConnectionRef,
    prepare,
    resolve_connection,
    session_for,
    split_name,
    table_metadata,
)
from cassandra_frames.engine.encode import serialize_column
from cassandra_frames.engine.writer import WriteOptions, WriteRow, write_rows
from cassandra_frames.errors import CassandraFramesError, SchemaError, WriteError, close_matches

__all__ = ["RejectedRow", "WriteReport", "to_cassandra"]

OnError = Literal["raise", "skip"]
_KEEP_REJECTED = 1000  # rejected rows kept in the report object (all of them go to the bad-row file)


@dataclasses.dataclass(frozen=True)
class RejectedRow:
    """A row that was not written: where it was, which column and value, and why."""

    row: Any
    column: str | None
    value: Any
    reason: str

    def describe(self) -> str:
        where = f"row {self.row!r}"
        if self.column is not None:
            where += f", column {self.column!r}, value {self.value!r}"
        return f"{where}: {self.reason}"


@dataclasses.dataclass
class WriteReport:
    """What :func:`to_cassandra` did.

    Attributes
    ----------
    table : str
        ``keyspace.table``.
    rows_written : int
        Rows acknowledged by Cassandra.
    rows_rejected : int
        Rows not written (bad values, refused by the server, or failed after retries).
    rows_not_applied : int
        With ``if_not_exists=True``: rows that already existed and were left alone.
    batches : int
        Requests sent (batches and single statements).
    retries : int
        Transient failures retried.
    duration_s : float
        Wall time of the write (for Dask: the sum over partitions).
    rejected : list of RejectedRow
        The first 1,000 rejected rows (all of them are in ``bad_rows_path``).
    bad_rows_path : list of str
        Files holding every rejected row with its reason.
    aborted : bool
        ``max_errors`` stopped the write early.
    """

    table: str
    rows_written: int = 0
    rows_rejected: int = 0
    rows_not_applied: int = 0
    batches: int = 0
    retries: int = 0
    duration_s: float = 0.0
    rejected: list[RejectedRow] = dataclasses.field(default_factory=list)
    bad_rows_path: list[str] = dataclasses.field(default_factory=list)
    aborted: bool = False

    @property
    def rows_per_s(self) -> float:
        """Rows written per second."""
        return self.rows_written / self.duration_s if self.duration_s > 0 else 0.0

    def __repr__(self) -> str:
        text = (
            f"WriteReport({self.table}: {self.rows_written:,} rows written, {self.rows_rejected:,} rejected"
            + (f", {self.rows_not_applied:,} already existed" if self.rows_not_applied else "")
            + f" in {self.duration_s:.2f} s ({self.rows_per_s:,.0f} rows/s); {self.batches:,} batches, "
            f"{self.retries:,} retries"
            + (", stopped early" if self.aborted else "")
            + (f"; bad rows in {', '.join(self.bad_rows_path)}" if self.bad_rows_path else "")
            + ")"
        )
        return text

    def merge(self, other: WriteReport) -> WriteReport:
        """The sum of two reports (Dask partitions)."""
        return WriteReport(
            table=self.table,
            rows_written=self.rows_written + other.rows_written,
            rows_rejected=self.rows_rejected + other.rows_rejected,
            rows_not_applied=self.rows_not_applied + other.rows_not_applied,
            batches=self.batches + other.batches,
            retries=self.retries + other.retries,
            duration_s=self.duration_s + other.duration_s,
            rejected=(self.rejected + other.rejected)[:_KEEP_REJECTED],
            bad_rows_path=self.bad_rows_path + other.bad_rows_path,
            aborted=self.aborted or other.aborted,
        )


# ----------------------------------------------------------------------------------------- the plan


@dataclasses.dataclass(frozen=True)
class _Timing:
    """TTL or writetime: none, one int for all rows, or a column of per-row values."""

    value: int | None = None
    column: str | None = None

    @property
    def used(self) -> bool:
        return self.value is not None or self.column is not None


@dataclasses.dataclass(frozen=True)
class _Statement:
    """One prepared statement per row: its text and where each marker's value comes from."""

    text: str
    params: tuple[tuple[str, str], ...]  # ("col", name) | ("ttl", name-or-"") | ("writetime", name-or-"")


@dataclasses.dataclass(frozen=True)
class WriteSpec:
    """Everything a partition needs to write itself; picklable (no live objects, no secrets)."""

    connection: ConnectionRef
    keyspace: str
    table: str
    columns: tuple[str, ...]
    cql_types: Mapping[str, str]
    primary_key: tuple[str, ...]
    partition_key: tuple[str, ...]
    udts: Mapping[str, Sequence[tuple[str, str]]]
    statements: tuple[_Statement, ...]
    timings: Mapping[str, _Timing]  # statement-level names → timing
    options: WriteOptions
    nulls: str
    on_error: OnError
    max_errors: int | float | None  # count, or a fraction (0..1) of the rows seen
    bad_rows_path: str | None

    @property
    def name(self) -> str:
        return f"{self.keyspace}.{self.table}"


def _timing(option: Any, what: str, columns: Sequence[str]) -> _Timing:
    if option is None:
        return _Timing()
    if isinstance(option, bool) or not isinstance(option, int | str):
        raise CassandraFramesError(f"{what} must be an int, a column name or a dict, not {option!r}")
    if isinstance(option, str):
        if option not in columns:
            raise SchemaError(f"{what} column {option!r} is not in the frame{close_matches(option, columns)}")
        return _Timing(column=option)
    if option < 0:
        raise CassandraFramesError(f"{what} must not be negative, not {option}")
    return _Timing(value=option)


def _using(ttl: _Timing, wt: _Timing, tag: str) -> tuple[str, list[tuple[str, str]]]:
    parts, params = [], []
    if ttl.used:
        parts.append("TTL ?")
        params.append(("ttl", tag))
    if wt.used:
        parts.append("TIMESTAMP ?")
        params.append(("writetime", tag))
    return (" USING " + " AND ".join(parts)) if parts else "", params


def _statements(
    keyspace: str,
    table: str,
    columns: Sequence[str],
    primary_key: Sequence[str],
    counter: bool,
    ttl: Any,
    writetime: Any,
    if_not_exists: bool,
    frame_columns: Sequence[str],
) -> tuple[tuple[_Statement, ...], dict[str, _Timing]]:
    """The statements for one row and the TTL/writetime each ``USING`` marker takes its values from."""
    name = cql.qualified(keyspace, table)
    regular = [c for c in columns if c not in primary_key]
    where = " AND ".join(f"{cql.quote(k)} = ?" for k in primary_key)
    if counter:
        if ttl is not None or writetime is not None or if_not_exists:
            raise CassandraFramesError("counter tables take no ttl, writetime or if_not_exists")
        sets = ", ".join(f"{cql.quote(c)} = {cql.quote(c)} + ?" for c in regular)
        text = f"UPDATE {name} SET {sets} WHERE {where}"
        params = tuple(("col", c) for c in [*regular, *primary_key])
        return (_Statement(text, params),), {}
    per_column = isinstance(ttl, dict) or isinstance(writetime, dict)
    if if_not_exists and (per_column or writetime is not None):
        raise CassandraFramesError(
            "if_not_exists (a lightweight transaction) cannot be combined with writetime or per-column "
            "ttl: Cassandra assigns the timestamp of a conditional write itself"
        )
    if not per_column:
        t, w = _timing(ttl, "ttl", frame_columns), _timing(writetime, "writetime", frame_columns)
        using, uparams = _using(t, w, "")
        cols = ", ".join(cql.quote(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        text = f"INSERT INTO {name} ({cols}) VALUES ({marks})" + (" IF NOT EXISTS" if if_not_exists else "")
        text += using
        params = tuple([("col", c) for c in columns] + uparams)
        return (_Statement(text, params),), {"": t, "#wt": w}

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
            why = "is part of the primary key" if col in primary_key else "is not written"
            raise SchemaError(
                f"per-column ttl/writetime names {col!r}, which {why}; regular columns: {regular}"
            )
    groups: dict[tuple[Any, Any], list[str]] = {}
    plain = []
    for col in regular:
        key = (ttl_map.get(col), wt_map.get(col))
        if key == (None, None):
            plain.append(col)
        else:
            groups.setdefault(key, []).append(col)
    timings: dict[str, _Timing] = {}
    stmts = []
    insert_cols = [*primary_key, *plain]  # the INSERT also writes the row marker
    cols = ", ".join(cql.quote(c) for c in insert_cols)
    stmts.append(
        _Statement(
            f"INSERT INTO {name} ({cols}) VALUES ({', '.join('?' * len(insert_cols))})",
            tuple(("col", c) for c in insert_cols),
        )
    )
    for i, ((t_opt, w_opt), cols_) in enumerate(groups.items()):
        tag = f"g{i}"
        t = _timing(t_opt, "ttl", frame_columns)
        w = _timing(w_opt, "writetime", frame_columns)
        timings[tag], timings[f"{tag}#wt"] = t, w
        using, uparams = _using(t, w, tag)
        sets = ", ".join(f"{cql.quote(c)} = ?" for c in cols_)
        stmts.append(
            _Statement(
                f"UPDATE {name}{using} SET {sets} WHERE {where}",
                tuple(uparams + [("col", c) for c in cols_] + [("col", k) for k in primary_key]),
            )
        )
    return tuple(stmts), timings


def _max_errors(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        pct = float(value.strip()[:-1])
        if not 0 <= pct <= 100:
            raise CassandraFramesError(f"max_errors {value!r} is not a percentage between 0% and 100%")
        return pct / 100.0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise CassandraFramesError(
        f"max_errors must be a count (int >= 0) or a percentage like '5%', not {value!r}"
    )


def _frame_arrow_schema(frame: pd.DataFrame) -> pa.Schema:
    try:
        return pa.Schema.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise SchemaError(f"the frame cannot be converted to Arrow: {exc}") from exc


def _create_table(
    session: Any, keyspace: str, table: str, arrow: pa.Schema, partition_key: Any, clustering_key: Any
) -> None:
    if not partition_key:
        raise SchemaError(
            f"create_table=True needs partition_key=[...] (and clustering_key=[...] if any) for "
            f"{keyspace}.{table}: cassandra_frames does not guess a primary key"
        )
    pk = [partition_key] if isinstance(partition_key, str) else list(partition_key)
    ck = [clustering_key] if isinstance(clustering_key, str) else list(clustering_key or [])
    for c in pk + ck:
        if c not in arrow.names:
            raise SchemaError(f"primary key column {c!r} is not in the frame{close_matches(c, arrow.names)}")
    cols = []
    for field in arrow:
        if pa.types.is_null(field.type):
            raise SchemaError(f"column {field.name!r} has only nulls: its CQL type cannot be derived")
        cols.append(f"{cql.quote(field.name)} {schema.cql_type_for_arrow(field.type)}")
    key = "(" + ", ".join(cql.quote(c) for c in pk) + ")"
    if ck:
        key += ", " + ", ".join(cql.quote(c) for c in ck)
    text = (
        f"CREATE TABLE IF NOT EXISTS {cql.qualified(keyspace, table)} "
        f"({', '.join(cols)}, PRIMARY KEY ({key}))"
    )
    session.execute(text, timeout=120)
    session.cluster.control_connection.wait_for_schema_agreement(wait_time=30)
    session.cluster.refresh_table_metadata(keyspace, table)


def plan_write(
    meta_frame: pd.DataFrame,
    table: str,
    *,
    keyspace: str | None,
    connection: Any,
    create_table: bool,
    partition_key: Any,
    clustering_key: Any,
    if_not_exists: bool,
    ttl: Any,
    writetime: Any,
    consistency: str,
    batch: str,
    max_batch_rows: int,
    concurrency: int,
    nulls: str,
    on_error: str,
    max_errors: Any,
    bad_rows_path: str | None,
) -> WriteSpec:
    """Check the frame against the table (creating it if asked) and build the picklable write plan."""
    if nulls not in ("unset", "tombstone"):
        raise CassandraFramesError(f"nulls must be 'unset' or 'tombstone', not {nulls!r}")
    if on_error not in ("raise", "skip"):
        raise CassandraFramesError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    if batch not in ("partition", "none"):
        raise CassandraFramesError(f"batch must be 'partition' or 'none', not {batch!r}")
    if max_batch_rows < 1 or concurrency < 1:
        raise CassandraFramesError("max_batch_rows and concurrency must be at least 1")
    ks_name, table_name = split_name(table, keyspace)
    ref, session = resolve_connection(connection)
    arrow = _frame_arrow_schema(meta_frame)
    if create_table:
        meta = session.cluster.metadata
        if ks_name not in meta.keyspaces or table_name not in meta.keyspaces[ks_name].tables:
            session.cluster.refresh_schema_metadata(max_schema_agreement_wait=10)  # maybe made elsewhere
            meta = session.cluster.metadata
        if ks_name not in meta.keyspaces:
            raise SchemaError(
                f"keyspace {ks_name!r} does not exist{close_matches(ks_name, meta.keyspaces)}; "
                "create_table creates tables, not keyspaces"
            )
        if table_name not in meta.keyspaces[ks_name].tables:
            _create_table(session, ks_name, table_name, arrow, partition_key, clustering_key)
    ks_meta, tbl_meta = table_metadata(session, ks_name, table_name)
    primary_key = [c.name for c in tbl_meta.primary_key]
    table_cols = list(tbl_meta.columns)
    frame_cols = list(arrow.names)
    timing_names = {
        v
        for opt in (ttl, writetime)
        for v in (opt.values() if isinstance(opt, dict) else [opt])
        if isinstance(v, str)
    }
    columns = [c for c in frame_cols if c not in timing_names or c in tbl_meta.columns]
    for c in columns:
        if c not in tbl_meta.columns:
            raise SchemaError(
                f"column {c!r} of the frame is not a column of {ks_name}.{table_name}"
                f"{close_matches(c, table_cols)}; drop it or rename it"
            )
    missing = [k for k in primary_key if k not in columns]
    if missing:
        raise SchemaError(
            f"the frame has no column for primary key column(s) {missing} of {ks_name}.{table_name}; "
            "every row needs its full primary key"
        )
    types = {c: tbl_meta.columns[c].cql_type for c in columns}
    udts = schema.udts_of(ks_meta)
    for c in columns:
        why = cqlvalues.check_compatible(arrow.field(c).type, types[c], udts)
        if why is not None:
            raise SchemaError(
                f"column {c!r} ({arrow.field(c).type}) cannot be written to {ks_name}.{table_name}.{c}, "
                f"which is {types[c]}: {why}"
            )
    counter = any(schema.parse_cql_type(t).name == "counter" for t in types.values())
    statements, timings = _statements(
        ks_name, table_name, columns, primary_key, counter, ttl, writetime, if_not_exists, frame_cols
    )
    for t in timings.values():
        if t.column is not None:
            why = cqlvalues.check_compatible(arrow.field(t.column).type, "bigint")
            if why is not None:
                raise SchemaError(f"ttl/writetime column {t.column!r} must hold integers: {why}")
    options = WriteOptions(
        consistency=consistency,
        batch="none" if if_not_exists else batch,  # a conditional batch applies all of its rows or none
        conditional=if_not_exists,
        max_batch_rows=max_batch_rows,
        concurrency=concurrency,
        idempotent=not counter and not if_not_exists,
        counter=counter,
        timeout=session.cluster.profile_manager.default.request_timeout or 30.0,
    )
    return WriteSpec(
        connection=ref,
        keyspace=ks_name,
        table=table_name,
        columns=tuple(columns),
        cql_types=types,
        primary_key=tuple(primary_key),
        partition_key=tuple(c.name for c in tbl_meta.partition_key),
        udts=udts,
        statements=statements,
        timings=timings,
        options=options,
        nulls=nulls,
        on_error=on_error,  # type: ignore[arg-type]
        max_errors=_max_errors(max_errors),
        bad_rows_path=bad_rows_path,
    )


# ------------------------------------------------------------------------------------ one partition


def _bad_rows_file(path: str, part: int | None) -> str:
    if part is None:
        return path
    stem, dot, suffix = path.rpartition(".")
    if not dot or "/" in suffix:
        return f"{path}.part-{part:05d}"
    return f"{stem}.part-{part:05d}.{suffix}"


def _write_bad_rows(path: str, frame: pd.DataFrame, rejected: Sequence[tuple[int, RejectedRow]]) -> None:
    import fsspec

    rows = frame.iloc[[pos for pos, _ in rejected]].astype(object)
    records = []
    for (_, rej), (_, values) in zip(rejected, rows.iterrows(), strict=True):
        rec = {k: (None if _isna(v) else v) for k, v in values.items()}
        rec.update({"_row": rej.row, "_column": rej.column, "_reason": rej.reason})
        records.append(rec)
    with fsspec.open(path, "w", encoding="utf-8") as fh:
        if path.endswith(".csv"):
            pd.DataFrame.from_records(records).to_csv(fh, index=False)
        else:
            for rec in records:
                fh.write(json.dumps(rec, default=str, ensure_ascii=False) + "\n")


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _timing_values(spec: WriteSpec, table: pa.Table, unset: Any) -> dict[str, list[Any]]:
    """Per statement-level timing name: one value per row (an int, or UNSET for a null)."""
    out: dict[str, list[Any]] = {}
    n: int = table.num_rows
    for name, t in spec.timings.items():
        if t.value is not None:
            out[name] = [t.value] * n
        elif t.column is not None:
            out[name] = [unset if v is None else int(v) for v in table.column(t.column).to_pylist()]
    return out


def _serialized_rows(
    spec: WriteSpec,
    prepared: Sequence[Any],
    values: Mapping[str, list[Any]],
    timing: Mapping[str, list[Any]],
    bad: dict[int, RejectedRow],
    labels: Sequence[Any],
    session: Any,
) -> list[list[tuple[Any, ...]]]:
    """Per statement, one tuple of serialized marker values per row (columns serialized once each)."""
    pv = session.cluster.protocol_version
    cache: dict[tuple[str, str, str], list[Any]] = {}
    out = []
    for stmt, prep in zip(spec.statements, prepared, strict=True):
        columns = []
        for j, (kind, name) in enumerate(stmt.params):
            dtype = prep.column_metadata[j].type
            key = (kind, name, dtype.cql_parameterized_type())
            if key not in cache:
                source = values[name] if kind == "col" else timing[name if kind == "ttl" else f"{name}#wt"]
                cache[key] = _serialize(source, dtype, pv, name, bad, labels)
            columns.append(cache[key])
        out.append(list(zip(*columns, strict=True)))
    return out


def _serialize(
    source: list[Any], dtype: Any, pv: int, name: str, bad: dict[int, RejectedRow], labels: Sequence[Any]
) -> list[Any]:
    try:
        return serialize_column(source, dtype, pv)
    except Exception:  # noqa: BLE001 - find the values the driver cannot serialize, one by one
        out: list[Any] = []
        for pos, v in enumerate(source):
            try:
                out.append(serialize_column([v], dtype, pv)[0])
            except Exception as exc:  # noqa: BLE001 - the row is rejected with the reason
                out.append(None)
                bad.setdefault(pos, RejectedRow(labels[pos], name, v, f"{type(exc).__name__}: {exc}"))
        return out


CHUNK_ROWS = 50_000
"""Rows converted and sent at a time: bounds the Python objects alive at once (peak memory)."""


@dataclasses.dataclass
class _Progress:
    """What the chunks of one partition have done so far."""

    written: int = 0
    not_applied: int = 0
    batches: int = 0
    retries: int = 0
    seen: int = 0
    aborted: bool = False
    failed: bool = False  # a row was refused by the server (matters with on_error="raise")
    bad: dict[int, RejectedRow] = dataclasses.field(default_factory=dict)


def _convert_chunk(
    spec: WriteSpec, table: pa.Table, labels: Sequence[Any], offset: int, bad: dict[int, RejectedRow]
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Driver values per column and timing values; bad rows (chunk positions) go into ``bad``."""
    from cassandra.query import UNSET_VALUE

    values: dict[str, list[Any]] = {}
    for col in spec.columns:
        vals, problems = cqlvalues.driver_values(table.column(col), spec.cql_types[col], spec.udts)
        for pos, reason in problems.items():
            if pos not in bad:
                bad[pos] = RejectedRow(labels[offset + pos], col, table.column(col)[pos].as_py(), reason)
        if col in spec.primary_key:
            for pos, v in enumerate(vals):
                if v is None and pos not in bad:
                    bad[pos] = RejectedRow(
                        labels[offset + pos], col, None, f"null in primary key column {col!r}"
                    )
        elif spec.nulls == "unset":
            vals = [UNSET_VALUE if v is None else v for v in vals]
        values[col] = vals
    timing = _timing_values(spec, table, UNSET_VALUE)
    for name, vals in timing.items():
        for pos, v in enumerate(vals):
            if v is not UNSET_VALUE and v < 0 and pos not in bad:
                what = "writetime" if name.endswith("#wt") else "ttl"
                bad[pos] = RejectedRow(labels[offset + pos], None, v, f"negative {what} {v}")
    return values, timing


def _start_chunk(
    spec: WriteSpec, chunk: pd.DataFrame, labels: Sequence[Any], offset: int, total: int, done: _Progress
) -> tuple[Any, dict[int, RejectedRow], int]:
    """Convert one chunk and start sending it on the engine loop; returns (future, bad rows, size)."""
    table = pa.Table.from_pandas(chunk, preserve_index=False)
    n: int = table.num_rows
    bad: dict[int, RejectedRow] = {}
    values, timing = _convert_chunk(spec, table, labels, offset, bad)
    if bad and spec.on_error == "raise":
        return None, bad, n
    session = session_for(spec.connection)
    prepared = [prepare(session, s.text) for s in spec.statements]
    per_statement = _serialized_rows(spec, prepared, values, timing, bad, labels[offset:], session)
    keys = list(zip(*(values[k] for k in spec.partition_key), strict=True))
    statements = list(
        zip(
            *([(prep, r) for r in rows_] for prep, rows_ in zip(prepared, per_statement, strict=True)),
            strict=True,
        )
    )
    rows = [WriteRow(pos, keys[pos], statements[pos]) for pos in range(n) if pos not in bad]
    del values, timing, per_statement, keys, statements
    limit = spec.max_errors

    def should_stop(outcome: Any) -> bool:
        if spec.on_error == "raise":
            return bool(outcome.failed) or done.failed
        if limit is None:
            return False
        errors: int = len(done.bad) + len(bad) + len(outcome.failed)
        if isinstance(limit, float):
            return errors > math.floor(limit * total)
        return errors > int(limit)

    return runner.submit(write_rows(session, rows, spec.options, should_stop=should_stop)), bad, n


def _finish_chunk(
    spec: WriteSpec, started: tuple[Any, dict[int, RejectedRow], int], labels: Sequence[Any], offset: int,
    done: _Progress,
) -> None:  # fmt: skip
    """Wait for a started chunk and add its outcome to ``done``."""
    future, bad, n = started
    if future is None:  # a value of this chunk cannot be written and on_error="raise"
        first = bad[min(bad)]
        before = f"{done.written:,} earlier rows were written" if done.written else "nothing was written"
        raise WriteError(
            f"{spec.name}: {first.describe()}. {before}; fix the value, or pass on_error='skip' "
            "(with bad_rows_path=...) to write the other rows"
        )
    outcome, aborted = future.result()
    for failure in outcome.failed:
        bad[failure.index] = RejectedRow(labels[offset + failure.index], None, None, failure.reason)
    why = "an earlier row failed (on_error='raise')" if spec.on_error == "raise" else "max_errors was reached"
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


def write_partition(
    frame: pd.DataFrame, spec: WriteSpec, partition: int | None = None
) -> tuple[WriteReport, list[tuple[int, RejectedRow]]]:
    """Write one pandas frame, :data:`CHUNK_ROWS` rows at a time.

    Returns
    -------
    (WriteReport, list of (position, RejectedRow))
    """
    t0 = time.perf_counter()
    done = _Progress()
    labels = list(frame.index)
    total = len(frame)
    # chunk k+1 is converted while chunk k is on the wire (the engine loop sends, this thread converts)
    pending: tuple[int, tuple[Any, dict[int, RejectedRow], int]] | None = None
    try:
        for offset in range(0, total, CHUNK_ROWS):
            started = _start_chunk(
                spec, frame.iloc[offset : offset + CHUNK_ROWS], labels, offset, total, done
            )
            if pending is not None:
                _finish_chunk(spec, pending[1], labels, pending[0], done)
            pending = (offset, started)
            if done.aborted or done.failed:
                break
        if pending is not None:
            last, pending = pending, None
            _finish_chunk(spec, last[1], labels, last[0], done)
    finally:
        if pending is not None and pending[1][0] is not None:
            pending[1][0].result()  # never leave a chunk running behind an error
    if done.failed and spec.on_error == "raise":
        first = done.bad[min(p for p, r in done.bad.items() if not r.reason.startswith("not sent"))]
        raise WriteError(
            f"{spec.name}: {first.describe()}; {done.written:,} rows were written before the write stopped"
        )
    for pos in range(done.seen if done.aborted else total, total):  # chunks never started: not written
        done.bad[pos] = RejectedRow(labels[pos], None, None, "not sent: max_errors was reached")
    rejected = sorted(done.bad.items())
    report = WriteReport(
        table=spec.name,
        rows_written=done.written,
        rows_rejected=len(rejected),
        rows_not_applied=done.not_applied,
        batches=done.batches,
        retries=done.retries,
        rejected=[r for _, r in rejected[:_KEEP_REJECTED]],
        aborted=done.aborted,
    )
    if rejected and spec.bad_rows_path:
        path = _bad_rows_file(spec.bad_rows_path, partition)
        _write_bad_rows(path, frame, rejected)
        report.bad_rows_path = [path]
    report.duration_s = time.perf_counter() - t0
    return report, rejected


_REPORT_META = pd.DataFrame(
    {
        "rows_written": pd.Series([], dtype="int64"),
        "rows_rejected": pd.Series([], dtype="int64"),
        "rows_not_applied": pd.Series([], dtype="int64"),
        "batches": pd.Series([], dtype="int64"),
        "retries": pd.Series([], dtype="int64"),
        "duration_s": pd.Series([], dtype="float64"),
        "aborted": pd.Series([], dtype="bool"),
        "rejected": pd.Series([], dtype="object"),
        "bad_rows_path": pd.Series([], dtype="object"),
    }
)


def _report_frame(report: WriteReport, index: int) -> pd.DataFrame:
    """One report as a one-row frame (what a Dask partition returns)."""
    return pd.DataFrame(
        {
            "rows_written": [report.rows_written],
            "rows_rejected": [report.rows_rejected],
            "rows_not_applied": [report.rows_not_applied],
            "batches": [report.batches],
            "retries": [report.retries],
            "duration_s": [report.duration_s],
            "aborted": [report.aborted],
            "rejected": [[dataclasses.astuple(r) for r in report.rejected]],
            "bad_rows_path": [report.bad_rows_path],
        },
        index=[index],
    )


def _write_dask_partition(frame: pd.DataFrame, spec: WriteSpec, partition_info: Any = None) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    report, _ = write_partition(frame, spec, partition=number)
    return _report_frame(report, number)


def _finalize(reports: pd.DataFrame, name: str, max_errors: int | float | None) -> WriteReport:
    """Add the per-partition reports up; raise when the whole write exceeded ``max_errors``."""
    out = WriteReport(table=name)
    records: list[dict[str, Any]] = reports.sort_index().to_dict("records")  # type: ignore[assignment]
    for row in records:
        out = out.merge(
            WriteReport(
                table=name,
                rows_written=int(row["rows_written"]),
                rows_rejected=int(row["rows_rejected"]),
                rows_not_applied=int(row["rows_not_applied"]),
                batches=int(row["batches"]),
                retries=int(row["retries"]),
                duration_s=float(row["duration_s"]),
                rejected=[RejectedRow(*r) for r in row["rejected"]],
                bad_rows_path=list(row["bad_rows_path"]),
                aborted=bool(row["aborted"]),
            )
        )
    seen = out.rows_written + out.rows_rejected + out.rows_not_applied
    if max_errors is not None:
        limit = math.floor(max_errors * seen) if isinstance(max_errors, float) else max_errors
        if out.rows_rejected > limit or out.aborted:
            raise WriteError(f"{name}: max_errors exceeded ({out.rows_rejected:,} rows rejected): {out!r}")
    return out


# ------------------------------------------------------------------------------------ public API


def to_cassandra(
    df: Any,
    table: str,
    *,
    keyspace: str | None = None,
    connection: Any = None,
    create_table: bool = False,
    partition_key: str | Sequence[str] | None = None,
    clustering_key: str | Sequence[str] | None = None,
    if_not_exists: bool = False,
    ttl: int | str | Mapping[str, int | str] | None = None,
    writetime: int | str | Mapping[str, int | str] | None = None,
    consistency: str = "LOCAL_QUORUM",
    batch: Literal["partition", "none"] = "partition",
    max_batch_rows: int = 50,
    concurrency: int = 64,
    nulls: Literal["unset", "tombstone"] = "unset",
    on_error: OnError = "raise",
    max_errors: int | str | None = None,
    bad_rows_path: str | None = None,
    compute: bool = True,
) -> Any:
    """Write a pandas or Dask DataFrame into a Cassandra table.

    Parameters
    ----------
    df : pandas.DataFrame or dask.dataframe.DataFrame
        Columns named like the table's columns (a subset is fine, but the whole primary key is needed).
    table : str
        ``"keyspace.table"`` (or ``"table"`` with ``keyspace=``).
    keyspace : str, optional
        Keyspace, when ``table`` names none.
    connection : ConnectionConfig or cassandra Session/Cluster, optional
        Default ``ConnectionConfig.from_env()``; a ``ConnectionConfig`` for a ``distributed`` cluster.
    create_table : bool
        Create the table from the frame's Arrow schema (see docs/types.md) if it does not exist; needs
        ``partition_key`` (and ``clustering_key``): the primary key is never guessed.
    partition_key, clustering_key : str or list of str, optional
        Primary key for ``create_table``.
    if_not_exists : bool
        ``INSERT … IF NOT EXISTS`` (a lightweight transaction per row): existing rows are left alone and
        counted in ``rows_not_applied``.
    ttl : int, str or dict, optional
        Seconds to live: an int for all rows, a column name for per-row values, or a dict
        ``{column: int | column}`` for per-column TTLs (one UPDATE per column group in the row's batch).
    writetime : int, str or dict, optional
        Write timestamp in microseconds since the epoch; same forms as ``ttl``.
    consistency : str
        Write consistency level.
    batch : {"partition", "none"}
        Unlogged batches of rows sharing a partition key (never spanning partitions), or one statement
        per row.
    max_batch_rows : int
        Rows per batch at most.
    concurrency : int
        Requests in flight per partition.
    nulls : {"unset", "tombstone"}
        Leave null cells unset (no tombstones, the default) or write them as deletions.
    on_error : {"raise", "skip"}
        A row that cannot be written raises :class:`WriteError` naming row, column and value; or with
        ``"skip"`` it goes to ``bad_rows_path`` with its reason and the other rows are written.
    max_errors : int or str, optional
        With ``"skip"``: stop after this many rejected rows, or this percentage (``"5%"``); raises
        :class:`WriteError` carrying the report so far.
    bad_rows_path : str, optional
        Where rejected rows go (any fsspec URL; ``.csv`` → CSV, otherwise JSON lines), each with
        ``_row``, ``_column`` and ``_reason``. A Dask frame writes one file per partition
        (``name.part-00003.csv``).
    compute : bool
        Dask only: ``False`` returns a ``dask.delayed`` of the report.

    Returns
    -------
    WriteReport
        Rows written and rejected, batches, retries, duration, rows/s.

    Raises
    ------
    SchemaError
        Before anything is written: unknown table or column, missing primary key column, a type that
        cannot convert (naming the column and its CQL type).
    WriteError
        A rejected row with ``on_error="raise"``, or ``max_errors`` exceeded.
    """
    options = dict(
        keyspace=keyspace,
        connection=connection,
        create_table=create_table,
        partition_key=partition_key,
        clustering_key=clustering_key,
        if_not_exists=if_not_exists,
        ttl=ttl,
        writetime=writetime,
        consistency=consistency,
        batch=batch,
        max_batch_rows=max_batch_rows,
        concurrency=concurrency,
        nulls=nulls,
        on_error=on_error,
        max_errors=max_errors,
        bad_rows_path=bad_rows_path,
    )
    if isinstance(df, pd.DataFrame):
        spec = plan_write(df.iloc[:0], table, **options)
        report, _ = write_partition(df, spec)
        if spec.max_errors is not None:
            _finalize(_report_frame(report, 0), spec.name, spec.max_errors)
        return report
    if not hasattr(df, "map_partitions") or not hasattr(df, "_meta"):
        raise CassandraFramesError(f"to_cassandra takes a pandas or Dask DataFrame, not {type(df).__name__}")
    from dask.delayed import delayed

    spec = plan_write(df._meta, table, **options)
    reports = df.map_partitions(_write_dask_partition, spec, meta=_REPORT_META, enforce_metadata=False)
    result = delayed(_finalize)(reports, spec.name, spec.max_errors)
    return result.compute() if compute else result
