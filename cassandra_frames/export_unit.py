"""One unit of an export, on whichever process runs it: read its token ranges, write its one file.

:class:`ExportJob` is everything a unit needs and is picklable (a Dask task carries it to a worker
process); :func:`run_unit` reads the unit through the read core and writes its file with a deterministic
name — under a temporary name, renamed into place; on object stores the object appears only when its upload
completes — or writes one Iceberg data file. It reports failure in its :class:`UnitResult` instead of
raising, so the other units go on and the client records which ones to redo.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from cassandra_frames.engine.reader import FetchStats, ReadUnit
from cassandra_frames.formats import FormatOptions, open_output, open_writer
from cassandra_frames.formats.iceberg import (
    IcebergTarget,
    data_file_path,
    iceberg_arrow_schema,
    to_iceberg_arrow,
    write_data_file,
)
from cassandra_frames.logs import get_logger, log_context
from cassandra_frames.read import PartitionReader
from cassandra_frames.storage import fs_for, is_object_store

__all__ = ["ExportJob", "UnitResult", "run_unit"]

log = get_logger("cassandra_frames.export")


@dataclasses.dataclass(frozen=True)
class UnitResult:
    """What one unit did: its file and rows, or the error that stopped it."""

    index: int
    file: str | None = None
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    retries: int = 0
    error: str | None = None
    latency: dict[str, int] = dataclasses.field(default_factory=dict)  # LatencyHistogram.to_json()

    def record(self) -> dict[str, Any]:
        """The checkpoint's entry of a completed unit."""
        return {"file": self.file, "rows": self.rows, "bytes": self.bytes, "latency": self.latency}


@dataclasses.dataclass(frozen=True)
class ExportJob:
    """What every unit needs, picklable (it travels to Dask worker processes): the reader and the sink."""

    reader: PartitionReader
    columns: tuple[str, ...] | None
    root: str  # the destination directory URL, or the Iceberg table's data location
    fmt: FormatOptions | None
    iceberg: IcebergTarget | None
    storage_options: Mapping[str, Any]
    operation_id: str
    schema: pa.Schema  # the rows' Arrow schema (before any format's own mapping)
    table: str = "-.-"  # keyspace.table (the log records' context)

    @property
    def format(self) -> str:
        """``iceberg`` or the file format's name."""
        return "iceberg" if self.iceberg is not None else self.fmt.format if self.fmt else "csv"

    def file_url(self, index: int) -> str:
        """The deterministic URL of unit ``index``'s file."""
        if self.iceberg is not None:
            return data_file_path(self.root, self.operation_id, index)
        suffix = self.fmt.suffix() if self.fmt else ".csv"
        return f"{self.root}/part-{index:05d}{suffix}"


def _write_file(job: ExportJob, index: int, table: pa.Table) -> tuple[str, int]:
    """Write unit ``index``'s file: to a temporary name, then renamed into place (object stores: direct,
    the object appears when its upload completes). Returns its URL and size."""
    url = job.file_url(index)
    if job.iceberg is not None:
        data = to_iceberg_arrow(table, iceberg_arrow_schema(job.schema))
        return url, write_data_file(data, url, job.iceberg)
    assert job.fmt is not None
    fs, path = fs_for(url, job.storage_options)
    direct = is_object_store(fs)
    parent, _, name = path.rpartition("/")
    target = path if direct else f"{parent}/.{name}.{uuid.uuid4().hex[:8]}.tmp"
    if not direct:
        fs.makedirs(parent, exist_ok=True)  # a worker on another machine may not have the directory yet
    try:
        with open_output(fs, target, job.fmt) as f:
            writer = open_writer(f, job.schema, job.fmt)
            writer.write(table)
            writer.close()
        if not direct:
            fs.mv(target, path)
    except BaseException:
        if not direct and fs.exists(target):
            fs.rm(target)
        raise
    return url, int(fs.size(path))


def run_unit(job: ExportJob, index: int, units: Sequence[ReadUnit]) -> UnitResult:
    """Read unit ``index``'s token ranges and write its file; what a Dask task of the export runs.

    Never raises for a failed read or write: the result carries the error (naming the range), so the
    other units go on and the client records which ones to redo. Logged with the export's context.
    """
    keyspace, _, name = job.table.partition(".")
    with log_context(operation_id=job.operation_id, keyspace=keyspace, table=name):
        result = _run(job, index, units)
        if result.error is None:
            log.debug("unit %d: %d rows → %s (%.2f s)", index, result.rows, result.file, result.seconds)
        else:
            log.error("%s", result.error)
    return result


def _run(job: ExportJob, index: int, units: Sequence[ReadUnit]) -> UnitResult:
    start = time.perf_counter()
    stats = FetchStats()
    try:
        table = job.reader.read_arrow(units, job.columns, stats)
        url, nbytes = _write_file(job, index, table)
    except Exception as exc:  # noqa: BLE001 — a unit reports its failure; the run goes on
        return UnitResult(
            index, seconds=time.perf_counter() - start, retries=stats.retries, error=f"unit {index}: {exc}"
        )
    seconds = time.perf_counter() - start
    latency = stats.latency.to_json()
    return UnitResult(index, url, table.num_rows, nbytes, seconds, stats.retries, latency=latency)
