"""The bulk operations' public front: :func:`count` and :func:`export`.

``export`` is a Dask graph of one task per unit (keys ``export-<format>-<operation>-<unit>``, so Dask's
dashboards group them), run on whatever scheduler is active: the default threads, or a
``distributed.Client``'s workers. The client records each unit in the checkpoint as its task completes,
then finishes the export itself — it writes the manifest, or makes the one Iceberg commit — because only
the client is sure to reach the destination's catalog (an embedded sqlite catalog lives on its disk).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from cassandra_frames.count import CountBy, CountOptions, count_table
from cassandra_frames.dask import active_client, scheduler_threads
from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.export import ExportOptions, ExportRun, prepare_export
from cassandra_frames.export_unit import UnitResult, run_unit
from cassandra_frames.formats.iceberg import IcebergTarget, open_catalog
from cassandra_frames.load import LoadOptions, prepare_load
from cassandra_frames.load_split import SplitResult, run_split
from cassandra_frames.options import OnError, TimingOption
from cassandra_frames.progress.callbacks import CallbackSpec
from cassandra_frames.progress.events import PartitionEvent, TrackedCall, subscribe
from cassandra_frames.progress.reporters import ProgressSpec
from cassandra_frames.progress.tracker import ProgressOptions
from cassandra_frames.reports import ExportReport, LoadReport

__all__ = ["count", "export", "iceberg_catalog", "load"]


def count(
    table: str,
    *,
    keyspace: str | None = None,
    connection: Any = None,
    by: CountBy | None = None,
    top: int = 20,
    consistency: str = "LOCAL_ONE",
    concurrency: int = 16,
    splits: int = 64,
    progress: ProgressSpec = "auto",
    on_progress: CallbackSpec = None,
    on_unit_complete: CallbackSpec = None,
    on_unit_error: CallbackSpec = None,
    on_complete: CallbackSpec = None,
) -> int | pd.DataFrame:
    """Count a table's rows exactly: ``SELECT count(*)`` per token range, every range at once.

    Parameters
    ----------
    table : str
        ``"keyspace.table"`` (or ``"table"`` with ``keyspace=``).
    keyspace : str, optional
        Keyspace, when ``table`` names none.
    connection : ConnectionConfig or cassandra Session/Cluster, optional
        Default ``ConnectionConfig.from_env()``.
    by : {None, "range", "host", "partition"}
        ``None``: the total, an ``int``. ``"range"``: a DataFrame of ``range_start``, ``range_end``,
        ``replicas``, ``rows`` per ring range. ``"host"``: ``host``, ``ranges``, ``rows`` per replica (the
        rows of every range the host holds a replica of). ``"partition"``: the ``top`` largest partitions,
        their key columns and ``rows`` (a full scan of the key columns).
    top : int
        Partitions to list with ``by="partition"``.
    consistency : str
        Read consistency level.
    concurrency : int
        Range counts in flight at once.
    splits : int
        Fewest pieces the ring is counted in (more, smaller server-side counts: none times out).
    progress : {"auto", True, False, "widget", "tqdm"} or Reporter
        Progress display: ``"auto"`` an ipywidgets widget in Jupyter, a tqdm bar on stderr in a terminal,
        nothing otherwise; True the widget in Jupyter, the bar elsewhere; False none; or an object with
        ``start(stats, title)``, ``update(stats)`` and ``finish(stats, summary)`` (docs/progress.md).
    on_progress : callable or list of callables, optional
        ``on_progress(stats: ProgressStats)``, at most every 0.2 s and once at the end. Each callback may
        be a function or a coroutine function (run to completion); one that raises is logged once
        (logger ``cassandra_frames.progress``) and never stops the operation.
    on_unit_complete : callable or list of callables, optional
        ``on_unit_complete(unit: int, rows: int)`` as each piece (a token range) of the count completes.
    on_unit_error : callable or list of callables, optional
        ``on_unit_error(error: str, unit: int)`` as a piece fails after its retries.
    on_complete : callable or list of callables, optional
        ``on_complete(report)`` once at the end with the result (also on failure: None).

    Returns
    -------
    int or pandas.DataFrame

    Raises
    ------
    SchemaError
        Unknown keyspace or table (with close matches).
    ReadError
        A range could not be counted after retries and splits (named); never a partial total.
    """
    watchers = ProgressOptions(progress, on_progress, on_unit_complete, on_unit_error, on_complete)
    options = CountOptions(
        keyspace=keyspace,
        connection=connection,
        by=by,
        top=top,
        consistency=consistency,
        concurrency=concurrency,
        splits=splits,
    )
    return count_table(table, options, watchers)


def _processes() -> int:
    client = active_client()
    return max(1, len(client.nthreads())) if client is not None else 1


def _run_limited(run: ExportRun, record: Callable[[UnitResult], None]) -> None:
    """``max_records``: units one after another, each reading at most what is still wanted."""
    remaining = run.max_records or 0
    for index in run.pending:
        if remaining <= 0:
            record(UnitResult(index))
            continue
        reader = run.job.reader.limited(remaining)
        if reader is None:
            raise CassandraFramesError(
                "max_records cannot be combined with filters applied after fetching: drop one of them"
            )
        result = run_unit(dataclasses.replace(run.job, reader=reader), index, run.units[index])
        record(result)
        remaining -= result.rows


def _run_on_dask(
    name: str,
    func: Callable[[Any, Any], Any],
    job: Any,
    items: Sequence[tuple[int, Any]],
    record: Callable[[Any], None],
    failed: Callable[[int, str], Any],
) -> None:
    """One Dask task ``func(job, item)`` per item, keys ``<name>-<index>``; each result is handed to
    ``record`` on the client as it arrives (``failed(index, error)`` makes the result of a lost task)."""
    import dask
    from dask.delayed import delayed

    tasks = [delayed(func, pure=False)(job, item, dask_key_name=f"{name}-{i:05d}") for i, item in items]
    index = {t.key: i for t, (i, _) in zip(tasks, items, strict=True)}
    client = active_client()
    if client is not None:
        from distributed import as_completed

        futures = client.compute(tasks)
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            try:
                result = future.result()
            except CassandraFramesError:
                raise
            except Exception as exc:  # noqa: BLE001 — a lost worker fails its unit, not the others
                result = failed(index[future.key], f"{type(exc).__name__}: {exc}")
            record(result)
        return
    from dask.callbacks import Callback

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key in index:
            record(result)

    with Callback(posttask=posttask):  # type: ignore[no-untyped-call]
        dask.compute(*tasks)  # type: ignore[attr-defined,no-untyped-call]


def _export_unit(job: Any, item: tuple[int, Any]) -> UnitResult:
    return run_unit(job, item[0], item[1])


def export(
    table: str,
    url: str,
    *,
    format: str | None = None,
    keyspace: str | None = None,
    connection: Any = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    writetime: Sequence[str] | bool | None = None,
    ttl: Sequence[str] | bool | None = None,
    consistency: str = "LOCAL_ONE",
    fetch_size: int = 5000,
    concurrency: int = 4,
    split_size_mb: float = 16,
    npartitions: int | None = None,
    max_rows_per_second: float | None = None,
    max_records: int | None = None,
    compression: str | None = None,
    header: bool = True,
    delimiter: str = ",",
    quote: str = '"',
    escape: str = '"',
    null_value: str = "",
    nested: Literal["cql", "json"] = "cql",
    timestamps: Literal["iso", "epoch_ms"] = "iso",
    json_array: bool = False,
    row_group_size: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    checkpoint: str | bool | None = None,
    resume: str | bool | None = None,
    overwrite: bool = False,
    catalog: Mapping[str, str] | None = None,
    warehouse: str | None = None,
    mode: Literal["error", "append"] = "error",
    progress: ProgressSpec = "auto",
    on_progress: CallbackSpec = None,
    on_unit_complete: CallbackSpec = None,
    on_unit_error: CallbackSpec = None,
    on_complete: CallbackSpec = None,
) -> ExportReport:
    """Export a table (or some of its columns and rows) to CSV, JSON, Parquet files or an Iceberg table.

    One file per unit of the read plan (``part-00042.csv.zst``; each unit is a group of token ranges of
    about ``split_size_mb``), each written under a temporary name and moved into place, then
    ``_manifest.json`` (files, rows per file, schema, table, options, times) written last. Runs as a Dask
    graph on the active scheduler (threads, or a ``distributed.Client``).

    Parameters
    ----------
    table : str
        ``"keyspace.table"`` (or ``"table"`` with ``keyspace=``).
    url : str
        Destination directory, any fsspec URL (``out/``, ``s3://bucket/prefix/``, ``gs://…``, ``az://…``,
        ``memory://…``); for ``format="iceberg"`` the table identifier (``"namespace.table"``).
    format : {"csv", "json", "parquet", "iceberg"}, optional
        Default ``"csv"``.
    keyspace, connection, columns, filters, writetime, ttl, consistency, fetch_size, concurrency
        As for :func:`cassandra_frames.read_cassandra`: what is read and how.
    split_size_mb : float
        Target size of a unit (one file), by ``system.size_estimates``. Smaller than
        ``read_cassandra``'s 64: a unit is held in memory while its file is written, and 16 keeps the
        client's peak memory the same for a 1M- and a 4M-row table (docs/performance.md).
    npartitions : int, optional
        Exact number of units (files), instead of sizing them.
    max_rows_per_second : float, optional
        Ceiling on the rows read per second, shared by every worker process.
    max_records : int, optional
        Export at most this many rows (units are then read one after another).
    compression : str, optional
        Text formats: ``gzip``, ``bz2``, ``xz``, ``zstd`` (default from the URL's suffix, else none).
        Parquet: ``snappy`` (default), ``zstd``, ``gzip``, ``brotli``, ``lz4``, ``none``.
    header, delimiter, quote, escape, null_value
        CSV: a header line; the field delimiter; the quote character; ``'"'`` doubles quotes inside
        quoted fields; the text written for null (an empty string is written ``""``).
    nested : {"cql", "json"}
        CSV: collections, UDTs and tuples as CQL literals (what ``cqlsh COPY FROM`` and
        :func:`cassandra_frames.load` read) or as JSON text.
    timestamps : {"iso", "epoch_ms"}
        CSV and JSON: timestamps as ISO 8601 text (``2013-01-01 05:00:00.000Z`` in CSV, with a ``T`` in
        JSON) or as integer milliseconds since the epoch (what ``cqlsh COPY FROM`` loads exactly).
    json_array : bool
        JSON: one JSON array per file instead of JSON Lines.
    row_group_size : int, optional
        Parquet: rows per row group.
    storage_options : mapping, optional
        fsspec options of the destination and the checkpoint (``{"endpoint_url": …, "key": …}``).
    checkpoint : str or bool, optional
        Checkpoint file. Default for files: ``<url>/.checkpoint.json``; for Iceberg none unless given.
        ``False``: none.
    resume : str or True, optional
        Resume the export of this checkpoint (``True``: the default one): completed units are skipped.
        Refused when the table, the options or the schema differ.
    overwrite : bool
        Replace an earlier export in ``url`` (otherwise it is an error).
    catalog : mapping, optional
        Iceberg: pyiceberg catalog properties (``{"type": "rest", "uri": …}``, Glue, Hive, …). Default: an
        embedded SQLite catalog in ``warehouse``.
    warehouse : str, optional
        Iceberg: warehouse of the embedded catalog, a local path or ``s3://`` URL (default ``./warehouse``).
    mode : {"error", "append"}
        Iceberg: an existing table is an error, or is appended to (its schema must match).
    progress, on_progress, on_unit_complete, on_unit_error, on_complete
        Progress display and callbacks, as for :func:`count`; a unit is a file, ``on_complete`` gets the
        :class:`ExportReport` (on failure: the report the error carries).

    Returns
    -------
    ExportReport
        Files, rows, bytes, seconds, retries, the manifest or snapshot, how to resume.

    Raises
    ------
    ExportError
        Units failed after retries and range splits (named; ``.report`` holds what was done), or the
        destination holds an earlier export or cannot be written.
    CheckpointError
        ``resume=`` with another table, other options or a changed schema (named).
    SchemaError, ConnectionError, NotInstalledError
        Unknown table or column; cluster unreachable; a missing extra (named with its ``pip install``).
    """
    keywords = {k: v for k, v in locals().items() if k not in ("table", "url")}
    watchers = ProgressOptions.pop(keywords)
    options = ExportOptions(**keywords)
    run = prepare_export(table, url, options, min_partitions=2 * scheduler_threads(), processes=_processes())
    tracker = watchers.track(
        "export",
        run.table,
        len(run.units),
        operation_id=run.job.operation_id,
        title=f"export {run.table} → {run.url}",
        units_done=len(run.units) - len(run.pending),
    )
    record = tracker.recording(run.record)
    name = f"export-{run.job.format}-{run.job.operation_id}"
    ranges = sum(len(run.units[i]) for i in run.pending)
    try:
        if run.max_records is not None:
            _run_limited(run, record)
        elif run.pending:
            _run_on_dask(
                name,
                TrackedCall(_export_unit, name, run.table, ranges, units_path=(1, 1)),
                run.job,
                [(i, (i, run.units[i])) for i in run.pending],
                record,
                lambda i, error: UnitResult(i, error=f"unit {i}: {error}"),
            )
    except BaseException:
        run.interrupted()
        tracker.finish(run.report(), ok=False)
        raise
    report: ExportReport = tracker.finishing(run.finish)
    return report


def iceberg_catalog(
    catalog: Mapping[str, str] | None = None,
    *,
    warehouse: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Any:
    """The pyiceberg catalog an Iceberg export with these settings writes to, to query what it wrote.

    Parameters
    ----------
    catalog : mapping, optional
        pyiceberg catalog properties, as given to :func:`export`; default the embedded SQLite catalog.
    warehouse : str, optional
        The embedded catalog's warehouse (default ``./warehouse``).
    storage_options : mapping, optional
        fsspec options of an ``s3://`` warehouse.

    Returns
    -------
    pyiceberg.catalog.Catalog
        ``iceberg_catalog(warehouse="wh").load_table("ns.t").scan().to_pandas()`` reads an export back.

    Raises
    ------
    NotInstalledError
        pyiceberg is missing (``pip install 'cassandra-frames[iceberg]'``).
    """
    target = IcebergTarget(
        identifier="any.table", catalog=catalog, warehouse=warehouse, storage_options=storage_options
    )
    return open_catalog(target)


def load(
    source: str | Sequence[str],
    table: str,
    *,
    format: Literal["csv", "json", "parquet", "iceberg"] | None = None,
    keyspace: str | None = None,
    connection: Any = None,
    mapping: Mapping[str, str | None] | None = None,
    columns: Sequence[str] | None = None,
    header: bool = True,
    delimiter: str = ",",
    quote: str = '"',
    escape: str | None = None,
    null_value: str = "",
    nested: Literal["cql", "json"] = "cql",
    skip_records: int = 0,
    ttl: TimingOption = None,
    writetime: TimingOption = None,
    consistency: str = "LOCAL_QUORUM",
    batch: Literal["partition", "none"] = "partition",
    max_batch_rows: int = 50,
    concurrency: int = 64,
    nulls: Literal["unset", "tombstone"] = "unset",
    on_error: OnError = "raise",
    max_errors: int | str | None = None,
    bad_rows_path: str | None = None,
    max_rows_per_second: float | None = None,
    storage_options: Mapping[str, Any] | None = None,
    checkpoint: str | None = None,
    resume: str | None = None,
    catalog: Mapping[str, str] | None = None,
    warehouse: str | None = None,
    snapshot_id: int | None = None,
    row_filter: str | None = None,
    progress: ProgressSpec = "auto",
    on_progress: CallbackSpec = None,
    on_unit_complete: CallbackSpec = None,
    on_unit_error: CallbackSpec = None,
    on_complete: CallbackSpec = None,
) -> LoadReport:
    """Load CSV, JSON or Parquet files into a table, through the same write path as ``to_cassandra``.

    One Dask task per split (a CSV/JSON file, or ~64 MiB of a Parquet file's row groups) on the active
    scheduler. Each field is parsed by its column's CQL type (the forms ``cf.export``, cqlsh ``COPY TO``
    and DSBulk write; docs/types.md); records that do not parse or are refused go, with ``on_error="skip"``,
    to ``bad_rows_path`` with their file, line, column, reason and raw values.

    Parameters
    ----------
    source : str or list of str
        Files, directories or globs on any fsspec filesystem (``s3://b/in/*.csv.gz``); compressed text by
        suffix (gz, bz2, xz, zst). For ``format="iceberg"``: the table identifier (``"namespace.table"``).
    table : str
        ``"keyspace.table"`` (or ``"table"`` with ``keyspace=``).
    format : {"csv", "json", "parquet", "iceberg"}, optional
        Default: from each file's suffix. ``"iceberg"`` reads an Iceberg table through pyiceberg, one split
        per data file of the scan.
    keyspace, connection
        As for :func:`cassandra_frames.to_cassandra`.
    mapping : mapping, optional
        Source field → column (DSBulk's ``-m``); a field mapped to None, or left out, is ignored. Default:
        fields map to the columns of the same name, and a field the table lacks is an error.
    columns : list of str, optional
        The fields of headerless CSV files, in order (with ``header=False``); for Iceberg, the columns to
        read.
    header, delimiter, quote, escape, null_value, skip_records
        CSV: a header line; the delimiter; the quote; the escape character (default: doubled quotes); the
        text of null (unquoted; a quoted empty field is an empty string); records to skip at the start.
    nested : {"cql", "json"}
        CSV: collections, UDTs and tuples as CQL literals or as JSON text.
    ttl, writetime, consistency, batch, max_batch_rows, concurrency, nulls
        As for :func:`cassandra_frames.to_cassandra` (a ttl / writetime field of the source names the
        per-row value).
    on_error : {"raise", "skip"}
        ``raise``: the first bad record raises :class:`LoadError` naming file, line, column and value.
        ``skip``: it goes to the bad-rows files and the load goes on.
    max_errors : int or str, optional
        With ``skip``: the load fails (:class:`LoadError`, report attached) when more rows than this (a
        count, or a percentage like ``"1%"`` of the rows read) were rejected.
    bad_rows_path : str, optional
        Directory URL of the bad-rows files (``parse-NNNNN.jsonl`` per split, ``write.part-NNNNN.jsonl``).
    max_rows_per_second : float, optional
        Ceiling on the rows sent per second, over the whole load (shared by the worker processes).
    storage_options : mapping, optional
        fsspec options of the sources, the bad-rows files and the checkpoint.
    checkpoint : str, optional
        Checkpoint file: every completed split is recorded as it completes.
    resume : str, optional
        Resume the load of this checkpoint: completed splits are skipped; refused when a source changed.
    catalog, warehouse
        Iceberg: pyiceberg catalog properties, or the embedded catalog's warehouse (as for
        :func:`export`).
    snapshot_id : int, optional
        Iceberg: the snapshot to read (default: the current one, fixed when the load starts).
    row_filter : str, optional
        Iceberg: a pyiceberg row filter (``"year = 2013"``), pushed down to the scan.
    progress, on_progress, on_unit_complete, on_unit_error, on_complete
        Progress display and callbacks, as for :func:`count`; a unit is a split (its ``rows``: rows
        written), ``on_complete`` gets the :class:`LoadReport` (on failure: the report the error carries).

    Returns
    -------
    LoadReport
        ``rows_read = rows_written + rows_rejected + rows_not_applied``.

    Raises
    ------
    LoadError
        A bad record with ``on_error="raise"``, ``max_errors`` exceeded, or failed splits.
    SchemaError, CheckpointError, ConnectionError, NotInstalledError
        Named with what to do.
    """
    keywords = {k: v for k, v in locals().items() if k not in ("source", "table")}
    watchers = ProgressOptions.pop(keywords)
    options = LoadOptions(**keywords)
    run = prepare_load(source, table, options, processes=_processes())
    tracker = watchers.track(
        "load",
        run.table,
        len(run.splits),
        operation_id=run.operation_id,
        title=f"load {run.table}",
        units_done=len(run.splits) - len(run.pending),
    )
    name = run.job.task_name

    def rows_so_far(event: PartitionEvent) -> None:  # a split still running (a large file), chunk by chunk
        if event.partial and event.label == name:
            tracker.unit_progress(event.index, event.rows)

    unsubscribe = subscribe(rows_so_far)
    try:
        _run_on_dask(
            name,
            TrackedCall(run_split, name, run.table, len(run.pending)),
            run.job,
            [(i, run.splits[i]) for i in run.pending],
            tracker.recording(run.record),
            lambda i, error: SplitResult(i, error=f"{run.splits[i].describe()}: {error}"),
        )
    except BaseException:
        run.interrupted()
        tracker.finish(run.report(), ok=False)
        raise
    finally:
        unsubscribe()
    report: LoadReport = tracker.finishing(run.finish)
    return report
