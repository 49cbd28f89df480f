"""Reading an Iceberg table for ``cf.load``: plan a scan (a snapshot, a row filter, some columns) into its
data files, then read one data file's rows of that scan (delete files applied) as Arrow record batches.

Each data file is one split of the load, read on whichever worker runs it: the worker loads the table from
the catalog, plans the same scan of the same snapshot and reads only the tasks of its file, so nothing
unpicklable travels. The snapshot is fixed when the load is planned, so a table that changes during (or
after) the load cannot change what it reads; a resume reads the same snapshot again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.formats.iceberg import IcebergTarget, open_catalog

__all__ = ["IcebergScan", "plan_scan", "read_data_file"]


@dataclasses.dataclass(frozen=True)
class IcebergScan:
    """What a load reads of an Iceberg table: picklable (it travels to Dask workers)."""

    target: IcebergTarget
    snapshot_id: int | None = None
    row_filter: str | None = None
    columns: tuple[str, ...] | None = None

    def _scan(self) -> Any:
        catalog = open_catalog(self.target)
        try:
            table = catalog.load_table(self.target.identifier)
        except Exception as exc:  # pyiceberg's NoSuchTableError and its catalogs' own errors
            raise CassandraFramesError(
                f"cannot load the Iceberg table {self.target.identifier!r}: {exc}"
            ) from exc
        kwargs: dict[str, Any] = {"selected_fields": self.columns or ("*",)}
        if self.row_filter:
            kwargs["row_filter"] = self.row_filter
        if self.snapshot_id is not None:
            if table.snapshot_by_id(self.snapshot_id) is None:
                raise CassandraFramesError(
                    f"the Iceberg table {self.target.identifier!r} has no snapshot {self.snapshot_id}"
                )
            kwargs["snapshot_id"] = self.snapshot_id
        return table, table.scan(**kwargs)


def plan_scan(scan: IcebergScan) -> tuple[IcebergScan, list[tuple[str, int]]]:
    """The scan with its snapshot fixed (the current one when none was given), and its data files with
    their sizes, in path order (an empty table: no file)."""
    table, planned = scan._scan()
    snapshot = scan.snapshot_id
    if snapshot is None:
        current = table.current_snapshot()
        snapshot = current.snapshot_id if current is not None else None
    files = {t.file.file_path: int(t.file.file_size_in_bytes) for t in planned.plan_files()}
    return dataclasses.replace(scan, snapshot_id=snapshot), sorted(files.items())


def read_data_file(scan: IcebergScan, path: str, batch_rows: int = 50_000) -> Iterator[pa.RecordBatch]:
    """The rows of ``scan`` in the data file ``path`` (its delete files applied, the row filter too)."""
    from pyiceberg.io.pyarrow import ArrowScan

    table, planned = scan._scan()
    tasks = [t for t in planned.plan_files() if t.file.file_path == path]
    if not tasks:
        raise CassandraFramesError(
            f"the data file {path} is no longer in snapshot {scan.snapshot_id} of {scan.target.identifier!r}"
        )
    reader = ArrowScan(table.metadata, table.io, planned.projection(), planned.row_filter)
    for batch in reader.to_record_batches(tasks):
        for offset in range(0, batch.num_rows, batch_rows):
            yield batch.slice(offset, batch_rows)


def field_names(scan: IcebergScan) -> Sequence[str]:
    """The scan's column names."""
    _, planned = scan._scan()
    return [f.name for f in planned.projection().fields]
