"""The load's planning and bookkeeping, without Dask: :class:`LoadOptions` → :func:`prepare_load` →
:class:`LoadRun` (record each split, finish with a :class:`~cassandra_frames.reports.LoadReport`).

:func:`prepare_load` lists the sources and cuts them into splits (:mod:`~cassandra_frames.load_sources`),
maps the source fields to the table's columns, plans the write with the write core's own checks
(:func:`~cassandra_frames.write_plan.build_write_plan`: statements, batching by partition key, retries only
when idempotent, counters), and makes or resumes the checkpoint. A resume whose sources changed (size,
modification time or ETag) is refused with an error naming the file.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pyarrow as pa

from cassandra_frames.checkpoint import Checkpoint, UnitLedger, new_operation_id, utc_now
from cassandra_frames.engine import catalog
from cassandra_frames.engine.connections import request_timeout, resolve_connection
from cassandra_frames.errors import (
    CassandraFramesError,
    CheckpointError,
    LoadError,
    SchemaError,
    close_matches,
)
from cassandra_frames.formats.iceberg import IcebergTarget
from cassandra_frames.formats.iceberg_read import IcebergScan, plan_scan
from cassandra_frames.formats.iceberg_read import field_names as iceberg_fields
from cassandra_frames.latency import LatencyHistogram
from cassandra_frames.load_sources import CsvSettings, Source, Split, field_names, list_sources, splits_of
from cassandra_frames.load_split import LoadJob, SplitResult
from cassandra_frames.logs import get_logger, log_context
from cassandra_frames.options import OnError, TimingOption, WriteOptions
from cassandra_frames.reports import LoadReport
from cassandra_frames.schema import TableInfo, arrow_type, split_table_name
from cassandra_frames.write_plan import build_write_plan

__all__ = ["LoadOptions", "LoadRun", "prepare_load"]

log = get_logger("cassandra_frames.load")


@dataclasses.dataclass(frozen=True)
class LoadOptions:
    """Every keyword of :func:`cassandra_frames.load` (see it for what each one does)."""

    format: Literal["csv", "json", "parquet", "iceberg"] | None = None
    keyspace: str | None = None
    connection: Any = None
    mapping: Mapping[str, str | None] | None = None
    columns: Sequence[str] | None = None
    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    escape: str | None = None
    null_value: str = ""
    nested: Literal["cql", "json"] = "cql"
    skip_records: int = 0
    ttl: TimingOption = None
    writetime: TimingOption = None
    consistency: str = "LOCAL_QUORUM"
    batch: Literal["partition", "none"] = "partition"
    max_batch_rows: int = 50
    concurrency: int = 64
    nulls: Literal["unset", "tombstone"] = "unset"
    on_error: OnError = "raise"
    max_errors: int | str | None = None
    bad_rows_path: str | None = None
    max_rows_per_second: float | None = None
    storage_options: Mapping[str, Any] | None = None
    checkpoint: str | None = None
    resume: str | None = None
    catalog: Mapping[str, str] | None = None
    warehouse: str | None = None
    snapshot_id: int | None = None
    row_filter: str | None = None

    def __post_init__(self) -> None:
        if self.format not in (None, "csv", "json", "parquet", "iceberg"):
            raise CassandraFramesError(
                f"unknown load format {self.format!r}: choose csv, json, parquet or iceberg"
            )
        iceberg_only = (self.catalog, self.warehouse, self.snapshot_id, self.row_filter)
        if self.format != "iceberg" and any(v is not None for v in iceberg_only):
            raise CassandraFramesError(
                "catalog=, warehouse=, snapshot_id= and row_filter= apply to format='iceberg'"
            )
        if self.on_error == "skip" and self.bad_rows_path is None:
            raise CassandraFramesError(
                "on_error='skip' needs bad_rows_path= (a directory URL): every rejected row goes there"
            )
        if self.skip_records < 0:
            raise CassandraFramesError(f"skip_records must be at least 0, not {self.skip_records}")
        if not self.header and not self.columns and self.format != "iceberg":
            raise CassandraFramesError("a file without a header needs columns=[…], its fields in order")
        if self.max_rows_per_second is not None and not self.max_rows_per_second > 0:
            raise CassandraFramesError(
                f"max_rows_per_second must be positive, not {self.max_rows_per_second}"
            )
        self.write_options()

    def write_options(self) -> WriteOptions:
        """The write this load makes (bad rows of the write core go to ``<bad_rows_path>/write.jsonl``)."""
        bad = f"{self.bad_rows_path.rstrip('/')}/write.jsonl" if self.bad_rows_path else None
        return WriteOptions(
            ttl=self.ttl,
            writetime=self.writetime,
            consistency=self.consistency,
            batch=self.batch,
            max_batch_rows=self.max_batch_rows,
            concurrency=self.concurrency,
            nulls=self.nulls,
            on_error=self.on_error,
            max_errors=self.max_errors,
            bad_rows_path=bad,
        )


def _fields(table: TableInfo, names: Sequence[str], options: LoadOptions) -> list[tuple[str, str]]:
    """(source field, column) pairs: through ``mapping`` (a field mapped to None is ignored), else by name."""
    if options.mapping is not None:
        pairs = [(f, c) for f, c in options.mapping.items() if c is not None]
        missing = [f for f, _ in pairs if names and f not in names]
        if missing:
            raise SchemaError(
                f"mapping names source field(s) {missing}, which the source does not have"
                f"{close_matches(missing[0], names)}; its fields are {list(names)}"
            )
    else:
        timing = {v for o in (options.ttl, options.writetime) for v in _timing_names(o)}
        unknown = [n for n in names if not table.has_column(n) and n not in timing]
        if unknown:
            raise SchemaError(
                f"source field(s) {unknown} are not columns of {table.qualified_name}"
                f"{close_matches(unknown[0], table.column_names)}: map them with mapping={{field: column}}, "
                "or to None to ignore them"
            )
        pairs = [(n, n) for n in names if n not in timing]
    for field, column in pairs:
        if not table.has_column(column):
            raise SchemaError(
                f"mapping sends {field!r} to {column!r}, which is not a column of {table.qualified_name}"
                f"{close_matches(column, table.column_names)}"
            )
    return pairs


def _timing_names(option: TimingOption) -> list[str]:
    if isinstance(option, str):
        return [option]
    if isinstance(option, Mapping):
        return [v for v in option.values() if isinstance(v, str)]
    return []


@dataclasses.dataclass
class LoadRun(UnitLedger):
    """One load being run: its job, splits, which are still to do, and its checkpoint."""

    job: LoadJob
    table: str
    sources: list[str]
    splits: list[Split]
    pending: list[int]
    checkpoint: Checkpoint | None
    completed: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)
    failed: dict[int, str] = dataclasses.field(default_factory=dict)
    started: float = dataclasses.field(default_factory=time.perf_counter)
    resume_call: str = ""
    operation_id: str = dataclasses.field(default_factory=new_operation_id)

    def record(self, result: SplitResult) -> None:
        """Take one split's result (on the client, as splits complete) and checkpoint it."""
        self.note(result.index, result.record(), result.error)

    def report(self) -> LoadReport:
        """The report of what is done so far."""
        done = [self.completed[i] for i in sorted(self.completed)]
        return LoadReport(
            operation_id=self.operation_id,
            table=self.table,
            sources=self.sources,
            rows_read=sum(int(d["rows_read"]) for d in done),
            rows_written=sum(int(d["rows_written"]) for d in done),
            rows_rejected=sum(int(d["rows_rejected"]) for d in done),
            rows_not_applied=sum(int(d["rows_not_applied"]) for d in done),
            bytes=sum(int(d["bytes"]) for d in done),
            seconds=time.perf_counter() - self.started,
            retries=sum(int(d["retries"]) for d in done),
            bad_rows=[b for d in done for b in d["bad_rows"]],
            failed_splits=[self.failed[i] for i in sorted(self.failed)],
            splits=len(self.splits),
            splits_resumed=len(self.splits) - len(self.pending),
            checkpoint=self.checkpoint.path if self.checkpoint is not None else None,
            resume_call=self.resume_call,
            latency=LatencyHistogram.sum(d.get("latency") for d in done),
        )

    def finish(self) -> LoadReport:
        """The final report.

        Raises
        ------
        LoadError
            Splits failed (named; ``resume=`` redoes them), or more rows were rejected than ``max_errors``
            allows. ``.report`` holds the report either way.
        """
        report = self.report()
        keyspace, _, name = self.table.partition(".")
        with log_context(operation_id=self.operation_id, keyspace=keyspace, table=name):
            log.log(logging.ERROR if self.failed else logging.INFO, "%s", report.summary())
        if self.checkpoint is not None:
            if not self.failed:
                self.checkpoint.data["finished"] = utc_now()
            self.checkpoint.save()
        if self.failed:
            how = f"resume with {self.resume_call}" if self.resume_call else "run the load again"
            raise LoadError(
                f"{len(self.failed)} of {len(self.splits)} splits of the load into {self.table} failed "
                f"({report.failed_splits[0]}); the {len(self.completed)} completed splits are written: "
                f"fix the cause and {how}",
                report,
            )
        limit = self.job.plan.max_errors
        if limit is not None:
            allowed = math.floor(limit * report.rows_read) if isinstance(limit, float) else limit
            if report.rows_rejected > allowed:
                raise LoadError(
                    f"max_errors exceeded: {report.rows_rejected:,} of {report.rows_read:,} rows rejected "
                    f"(allowed {allowed:,}); every rejected row is in {', '.join(report.bad_rows[:3])}",
                    report,
                )
        return report


def _check_sources(checkpoint: Checkpoint, now: list[list[Any]]) -> None:
    saved = {s[0]: s for s in checkpoint.data["identity"]["sources"]}
    current = {s[0]: s for s in now}
    for url, then in saved.items():
        if url not in current:
            raise CheckpointError(f"source file {url} of the checkpoint {checkpoint.path!r} is gone")
        if current[url] != then:
            raise CheckpointError(
                f"source file {url} changed since the checkpoint {checkpoint.path!r} was written "
                f"(size {then[1]} → {current[url][1]}; {then[2]} → {current[url][2]}): start a new load"
            )
    added = [u for u in current if u not in saved]
    if added:
        raise CheckpointError(f"source file {added[0]} is new since the checkpoint {checkpoint.path!r}")


_SHAPING: tuple[str, ...] = (
    "format",
    "mapping",
    "columns",
    "header",
    "delimiter",
    "quote",
    "escape",
    "null_value",
    "nested",
)
_SHAPING += (
    "skip_records",
    "ttl",
    "writetime",
    "on_error",
    "max_errors",
    "bad_rows_path",
    "catalog",
    "warehouse",
)
_SHAPING += ("snapshot_id", "row_filter", "storage_options")


def _resume_call(urls: str | Sequence[str], table: str, options: LoadOptions, ckpt: str | None) -> str:
    """The call that resumes this load: the options it was made with (other than defaults; secret values
    of storage options and catalog properties hidden)."""
    if ckpt is None:
        return ""
    defaults = LoadOptions()
    args = ""
    for key in _SHAPING:
        value = getattr(options, key)
        if value != getattr(defaults, key):
            if isinstance(value, Mapping) and key in ("storage_options", "catalog"):
                value = {
                    k: "…" if any(w in k.lower() for w in ("secret", "key", "token", "password")) else v
                    for k, v in value.items()
                }
            args += f", {key}={value!r}"
    return f"cf.load({urls!r}, {table!r}{args}, resume={ckpt!r})"


def prepare_load(
    urls: str | Sequence[str], table: str, options: LoadOptions, *, processes: int = 1
) -> LoadRun:
    """Plan (or resume) a load: sources, splits, the field mapping, the write plan, the checkpoint.

    ``processes`` is the number of worker processes that will load (``max_rows_per_second`` is shared
    among them).

    Raises
    ------
    SchemaError
        Unknown table, a field that maps to no column, a missing primary key column (named).
    CheckpointError
        ``resume=`` with another table, other options, or sources that changed (the file named).
    """
    keyspace, name = split_table_name(table, options.keyspace)
    scan: IcebergScan | None = None
    if options.format == "iceberg":
        if not isinstance(urls, str):
            raise CassandraFramesError(
                "an Iceberg load reads one table: pass its identifier ('namespace.table')"
            )
        target = IcebergTarget(urls, options.catalog, options.warehouse, options.storage_options)
        scan = IcebergScan(
            target, options.snapshot_id, options.row_filter, tuple(options.columns or ()) or None
        )
        scan, files = plan_scan(scan)
        sources = [Source(path, size, f"snapshot={scan.snapshot_id}") for path, size in files]
        splits = [Split(i, s, "iceberg") for i, s in enumerate(sources)]
    else:
        sources = list_sources(urls, options.storage_options)
        splits = splits_of(sources, options.format, options.storage_options)
    csv = CsvSettings(
        header=options.header,
        columns=tuple(options.columns) if options.columns and scan is None else None,
        delimiter=options.delimiter,
        quote=options.quote,
        escape=options.escape,
        null_value=options.null_value,
        skip_records=options.skip_records,
    )
    ref, session = resolve_connection(options.connection)
    info = catalog.table_info(session, keyspace, name)
    names = (
        list(iceberg_fields(scan)) if scan is not None else field_names(splits, csv, options.storage_options)
    )
    pairs = _fields(info, names, options)
    timing = tuple(n for o in (options.ttl, options.writetime) for n in _timing_names(o))
    arrow = pa.schema(
        [
            (
                field if field in timing else column,
                pa.int64() if field in timing else arrow_type(info.column(column).cql_type, info.udts),
            )
            for field, column in pairs
        ]
        + [(t, pa.int64()) for t in timing if t not in dict(pairs)]
    )
    plan = build_write_plan(
        info, arrow, options.write_options(), connection=ref, timeout=request_timeout(session)
    )
    job = LoadJob(
        plan=plan,
        fields=tuple(pairs) + tuple((t, t) for t in timing if t not in dict(pairs)),
        timing_fields=timing,
        csv=csv,
        nested=options.nested,
        storage_options=dict(options.storage_options or {}),
        bad_rows_path=options.bad_rows_path,
        max_rows_per_second=options.max_rows_per_second / processes if options.max_rows_per_second else None,
        iceberg=scan,
    )
    source_ids = [s.identity() for s in sources]
    identity: dict[str, Any] = {
        "table": f"{keyspace}.{name}",
        "sources": source_ids,
        "format": options.format,
        "csv": dataclasses.asdict(csv),
        "mapping": dict(pairs),
        "nested": options.nested,
        "iceberg": [urls, scan.snapshot_id, options.row_filter] if scan is not None else None,
        "schema": [[c.name, c.cql_type] for c in info.columns],
    }
    checkpoint: Checkpoint | None = None
    completed: dict[int, dict[str, Any]] = {}
    if options.resume:
        checkpoint = Checkpoint.load(options.resume, options.storage_options, kind="load")
        _check_sources(checkpoint, source_ids)
        checkpoint.check(identity)
        completed = checkpoint.completed
    elif options.checkpoint:
        checkpoint = Checkpoint.new(
            options.checkpoint,
            kind="load",
            operation_id=new_operation_id(),
            identity=identity,
            units=[s.describe() for s in splits],
            storage_options=options.storage_options,
        )
        checkpoint.save()
    ckpt = checkpoint.path if checkpoint is not None else None
    operation_id = checkpoint.operation_id if checkpoint is not None else new_operation_id()
    pending = [s.index for s in splits if s.index not in completed]
    with log_context(operation_id=operation_id, keyspace=keyspace, table=name):
        log.info(
            "load of %d files into %s.%s: %d splits, %d to do",
            len(sources),
            keyspace,
            name,
            len(splits),
            len(pending),
        )
    return LoadRun(
        job=dataclasses.replace(job, operation_id=operation_id),
        table=f"{keyspace}.{name}",
        sources=[s.url for s in sources],
        splits=splits,
        pending=pending,
        checkpoint=checkpoint,
        completed=completed,
        operation_id=operation_id,
        resume_call=_resume_call(urls, table, options, ckpt),
    )
