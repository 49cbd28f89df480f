"""One split of a load, on whichever process runs it: read it, parse it, write it through the write core.

:func:`run_split` is what one Dask task runs: it reads a split, parses each field by its column's CQL type
(:mod:`~cassandra_frames.formats.parse`), sends the rows that parsed through
:func:`~cassandra_frames.write.write_chunks`, and writes every record that did not parse — with its file,
line, column, reason and raw values — to the split's own bad-rows file. A redone split rewrites its own
bad-rows files and upserts the same rows again, which is why a resume duplicates nothing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import pyarrow as pa

from cassandra_frames.badrows import BadRowSink
from cassandra_frames.errors import CassandraFramesError, LoadError
from cassandra_frames.formats.iceberg_read import IcebergScan
from cassandra_frames.load_sources import CsvSettings, RawBatch, Split, read_split
from cassandra_frames.logs import get_logger, log_context
from cassandra_frames.progress.events import PartitionEvent, publish
from cassandra_frames.reports import RejectedRow
from cassandra_frames.throttle import RateLimiter
from cassandra_frames.write import ChunkDone, write_chunks
from cassandra_frames.write_plan import WritePlan

__all__ = ["LoadJob", "SplitResult", "run_split"]

log = get_logger("cassandra_frames.load")


@dataclasses.dataclass(frozen=True)
class SplitResult:
    """What one split did (counts add up: read = written + rejected + left alone)."""

    index: int
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    rows_not_applied: int = 0
    bytes: int = 0
    retries: int = 0
    seconds: float = 0.0
    bad_rows: tuple[str, ...] = ()
    error: str | None = None
    latency: dict[str, int] = dataclasses.field(default_factory=dict)  # LatencyHistogram.to_json()

    def record(self) -> dict[str, Any]:
        """The checkpoint's entry of a completed split."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in ("index", "error")}


@dataclasses.dataclass(frozen=True)
class LoadJob:
    """What every split needs, picklable: the write plan, field → column mapping, the parse settings."""

    plan: WritePlan
    fields: tuple[tuple[str, str], ...]  # (source field, target column or timing field), in table order
    timing_fields: tuple[str, ...]  # fields holding per-row ttl / writetime (parsed as bigint)
    csv: CsvSettings
    nested: Literal["cql", "json"]
    storage_options: Mapping[str, Any]
    bad_rows_path: str | None
    max_rows_per_second: float | None = None
    iceberg: IcebergScan | None = None
    operation_id: str = "-"  # the load's (for the log records of its splits)

    @property
    def task_name(self) -> str:
        """The load's Dask task-name prefix, ``load-<operation id>``, under which each split's rows so far
        are published for the progress display."""
        return f"load-{self.operation_id}"

    def bad_file(self, split: Split) -> str | None:
        """The file of the records of ``split`` that did not parse."""
        if self.bad_rows_path is None:
            return None
        return f"{self.bad_rows_path.rstrip('/')}/parse-{split.index:05d}.jsonl"


def _text(values: pa.ChunkedArray) -> tuple[pa.Array, dict[int, str]]:
    """Raw CSV bytes → UTF-8 strings; a value that is not valid UTF-8 becomes null with its reason."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    try:
        return arr.cast(pa.string()), {}
    except pa.ArrowInvalid:
        out: list[str | None] = []
        errors: dict[int, str] = {}
        for i, v in enumerate(arr.to_pylist()):
            try:
                out.append(None if v is None else v.decode("utf-8"))
            except UnicodeDecodeError as exc:
                out.append(None)
                errors[i] = f"{v!r} is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        return pa.array(out, pa.string()), errors


def _parse(job: LoadJob, split: Split, batch: RawBatch) -> tuple[pa.Table, dict[int, tuple[str, Any, str]]]:
    """The typed table of the write and {row: (column, value, reason)} of the fields that did not parse."""
    from cassandra_frames.formats.parse import convert_arrow_column, parse_json_values, parse_text_column

    table = job.plan.table
    raw = batch.table
    errors: dict[int, tuple[str, Any, str]] = {}
    arrays: dict[str, pa.Array] = {}
    for field, column in job.fields:
        cql_type = "bigint" if field in job.timing_fields else table.column(column).cql_type
        name = field if field in job.timing_fields else column
        if field not in raw.column_names:
            arrays[name] = pa.nulls(raw.num_rows)
            continue
        values = raw.column(field)
        if split.format == "csv":
            text, bad = _text(values)
            typed, why = parse_text_column(
                text, cql_type, table.udts, nested=job.nested, null_value=job.csv.null_value
            )
            why = {**why, **bad}
            shown: Sequence[Any] = text.to_pylist() if why else []
        elif batch.records is not None:
            shown = [r.get(field) for r in batch.records]
            typed, why = parse_json_values(shown, cql_type, table.udts)
        else:
            typed, why = convert_arrow_column(values, cql_type, table.udts)
            shown = values.to_pylist() if why else []
        for pos, reason in why.items():
            if pos not in errors:
                errors[pos] = (column, shown[pos], reason)
        arrays[name] = typed
    out = pa.table(arrays) if arrays else pa.table({})
    return out, errors


def _fail(split: Split, line: int, column: str | None, value: Any, reason: str) -> LoadError:
    where = f"{split.source.url}, line {line}"
    where += f", column {column!r}, value {value!r}" if column else ""
    return LoadError(
        f"{where}: {reason}; fix the source, or pass on_error='skip' (with bad_rows_path=) to load "
        "every other row and keep this one in the bad-rows file"
    )


def _rows_so_far(job: LoadJob, split: Split) -> ChunkDone:
    """What a split reports as each chunk lands: its rows written so far, for a live progress display of
    a large file (the client's tracker shows them until the split's result replaces them)."""
    written = 0

    def chunk_done(rows: int, rejected: int, retries: int) -> None:
        nonlocal written
        written += rows
        publish(PartitionEvent(job.task_name, job.plan.name, 0, written, partial=True, index=split.index))

    return chunk_done


def run_split(job: LoadJob, split: Split) -> SplitResult:
    """Load one split; what a Dask task of the load runs.

    A record that does not parse is rejected (or, with ``on_error="raise"``, raises :class:`LoadError`
    naming file, line, column and value); the write core rejects what the cluster refuses. Other failures
    (the file cannot be read, the cluster is gone) come back in the result's ``error``. Logged with the
    load's context.
    """
    with log_context(
        operation_id=job.operation_id, keyspace=job.plan.table.keyspace, table=job.plan.table.name
    ):
        result = _run(job, split)
        if result.error is None:
            log.debug("%s: %d rows written (%.2f s)", split.describe(), result.rows_written, result.seconds)
        else:
            log.error("%s", result.error)
    return result


def _run(job: LoadJob, split: Split) -> SplitResult:
    start = time.perf_counter()
    sink = BadRowSink(job.bad_file(split))
    lines: list[int] = []
    counts = {"read": 0, "parse_rejected": 0}
    raise_first = job.plan.on_error == "raise"
    throttle = RateLimiter.shared(job.max_rows_per_second) if job.max_rows_per_second else None

    def chunks() -> Iterator[pa.Table]:
        for raw in read_split(split, job.csv, job.storage_options, job.iceberg):
            counts["read"] += len(raw.lines) + len(raw.bad)
            _malformed(raw, split, sink, counts, raise_first)
            typed, errors = _parse(job, split, raw)
            if errors:
                positions = sorted(errors)
                first = positions[0]
                if raise_first:
                    col, value, why = errors[first]
                    raise _fail(split, raw.lines[first], col, value, why)
                rejected = [
                    (pos, RejectedRow(f"{split.source.url}, line {raw.lines[pos]}", *errors[pos]))
                    for pos in positions
                ]
                sink.write(
                    raw.rows(positions),
                    [(i, rej) for i, (_, rej) in enumerate(rejected)],
                )
                counts["parse_rejected"] += len(positions)
                keep = pa.array([i not in errors for i in range(raw.table.num_rows)])
                typed = typed.filter(keep)
                lines.extend(n for i, n in enumerate(raw.lines) if i not in errors)
            else:
                lines.extend(raw.lines)
            if typed.num_rows:
                yield typed
                if throttle is not None:
                    time.sleep(throttle.reserve(typed.num_rows))

    try:
        report = write_chunks(
            chunks(),
            job.plan,
            label=lambda pos: f"{split.source.url}, line {lines[pos]}",
            partition=split.index,
            on_chunk=_rows_so_far(job, split),
        )
    except LoadError:
        raise
    except CassandraFramesError as exc:
        if raise_first and not isinstance(exc, LoadError) and "line" in str(exc):
            raise LoadError(str(exc)) from exc
        return SplitResult(split.index, rows_read=counts["read"], error=f"{split.describe()}: {exc}")
    finally:
        parse_files = sink.close()
    return SplitResult(
        split.index,
        rows_read=counts["read"],
        rows_written=report.rows_written,
        rows_rejected=report.rows_rejected + counts["parse_rejected"],
        rows_not_applied=report.rows_not_applied,
        bytes=split.source.size if split.row_groups is None else 0,
        retries=report.retries,
        seconds=time.perf_counter() - start,
        bad_rows=tuple(parse_files + report.bad_rows_path),
        latency=report.latency.to_json(),
    )


def _malformed(
    raw: RawBatch, split: Split, sink: BadRowSink, counts: dict[str, int], raise_first: bool
) -> None:
    """Records that could not be split into fields: rejected with their raw text."""
    if not raw.bad:
        return
    if raise_first:
        line, text, why = raw.bad[0]
        raise _fail(split, line, None, None, f"{why}: {text!r}")
    table = pa.table({"_raw": pa.array([text for _, text, _ in raw.bad], pa.string())})
    sink.write(
        table,
        [
            (i, RejectedRow(f"{split.source.url}, line {line}", None, None, why))
            for i, (line, _, why) in enumerate(raw.bad)
        ],
    )
    counts["parse_rejected"] += len(raw.bad)
