"""The Dask front: ``read_cassandra`` (``dd.from_map`` over a read plan) and ``to_cassandra``
(``map_partitions`` writing each partition, then one delayed finalize adding the reports up).

Everything else — planning, reading a partition, writing a frame — is in :mod:`cassandra_frames.read` and
:mod:`cassandra_frames.write_plan` and :mod:`cassandra_frames.write`, which do not import Dask.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import sys
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from cassandra_frames.dask_head import with_head_pushdown
from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.options import ReadOptions, WriteOptions
from cassandra_frames.progress.callbacks import CallbackSpec
from cassandra_frames.progress.dask_progress import watch
from cassandra_frames.progress.events import TrackedCall
from cassandra_frames.progress.reporters import ProgressSpec
from cassandra_frames.progress.tracker import ProgressOptions
from cassandra_frames.read import plan_read
from cassandra_frames.reports import WriteReport
from cassandra_frames.schema import DtypeBackend
from cassandra_frames.write import CHUNK_ROWS, finalize, write_frame
from cassandra_frames.write_plan import WritePlan, plan_write

if TYPE_CHECKING:
    import dask.dataframe as dd
    from dask.delayed import Delayed

__all__ = ["active_client", "read_cassandra", "scheduler_threads", "to_cassandra"]


def _keywords(arguments: Mapping[str, Any], exclude: Sequence[str]) -> dict[str, Any]:
    """A front's keyword arguments (its ``locals()`` taken as its first statement), minus ``exclude``;
    tests/unit/test_read_plan.py checks that the fronts' keywords are exactly the options' fields."""
    return {k: v for k, v in arguments.items() if k not in exclude}


def active_client() -> Any:
    """The ``distributed`` client of this context, or None (no import: a client can only exist if
    ``distributed`` is loaded)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_client

    try:
        return get_client()
    except ValueError:
        return None


def scheduler_threads() -> int:
    """Threads that run tasks: the ``distributed`` client's workers' if there is a client, else the local
    scheduler's."""
    client = active_client()
    if client is not None:
        nthreads: dict[str, int] = client.nthreads()
        return max(1, sum(nthreads.values()))
    import dask

    workers = dask.config.get("num_workers", None)
    if workers:
        return int(workers)
    from dask.system import CPU_COUNT

    return int(CPU_COUNT)


@dataclasses.dataclass(frozen=True)
class _ReadPartition(TrackedCall):
    """The reader ``dd.from_map`` maps: a :class:`~cassandra_frames.read.PartitionReader` that publishes
    each partition's token ranges and rows for ``cf.progress()``, and can be limited for ``head(n)``."""

    def limited(self, n: int) -> _ReadPartition | None:
        """This partition function reading at most ``n`` rows (None when that cannot be pushed down)."""
        limit: Any = getattr(self.func, "limited", None)
        reader = limit(n) if limit is not None else None
        return None if reader is None else dataclasses.replace(self, func=reader)


def read_cassandra(
    table: str,
    *,
    keyspace: str | None = None,
    connection: Any = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    split_size_mb: float = 64,
    npartitions: int | None = None,
    sample: float | None = None,
    random_state: int | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
    consistency: str = "LOCAL_ONE",
    fetch_size: int = 5000,
    concurrency: int = 4,
    writetime: Sequence[str] | bool | None = None,
    ttl: Sequence[str] | bool | None = None,
    token_column: bool = False,
    allow_filtering: bool = False,
    exact_numbers: bool = True,
) -> dd.DataFrame:
    """Read a Cassandra table as a lazy Dask DataFrame partitioned by token range.

    Parameters
    ----------
    table : str
        ``"keyspace.table"`` (or ``"table"`` with ``keyspace=``). Mixed-case names as the schema has them.
    keyspace : str, optional
        Keyspace, when ``table`` names none.
    connection : ConnectionConfig or cassandra Session/Cluster, optional
        Where to read. Default: ``ConnectionConfig.from_env()`` (``$CASSANDRA_CONTACT_POINTS`` or the local
        node). A ``ConnectionConfig`` is required for a ``distributed`` cluster of worker processes.
    columns : list of str, optional
        Columns to read (Dask also pushes later column selections down to the read).
    filters : list of tuples or list of lists of tuples, optional
        ``read_parquet``-style DNF filters ``(column, op, value)`` with op in ``== != < <= > >= in`` and
        ``not in``. A full partition key with ``==``/``in`` becomes direct partition reads (no ring scan),
        followed by clustering ``==`` prefixes / ranges; ``("token", op, n)`` bounds narrow the ring;
        ``==``/range filters on SAI-indexed columns go to CQL; everything else is applied after fetching.
    split_size_mb : float
        Target size of a partition, from ``system.size_estimates`` (or a row-count probe).
    npartitions : int, optional
        Exact number of partitions (overrides ``split_size_mb``).
    sample : float, optional
        Read random token sub-ranges covering about this fraction of the ring.
    random_state : int, optional
        Seed of ``sample``.
    dtype_backend : {"pyarrow", "numpy_nullable"}
        pandas dtypes of the partitions (see docs/types.md).
    consistency : str
        Read consistency level.
    fetch_size : int
        Rows per page.
    concurrency : int
        Token ranges read at once within one partition.
    writetime, ttl : list of str or True, optional
        Add ``<col>_writetime`` (µs since epoch) / ``<col>_ttl`` (s) for these columns
        (``True``: every eligible column).
    token_column : bool
        Add a ``token`` column with each row's partition token.
    allow_filtering : bool
        Push every filter to CQL with ``ALLOW FILTERING`` (never done unless asked).
    exact_numbers : bool
        decimal and varint as exact strings (default) or as float64 (lossy).

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; ``meta`` comes from the table schema. Every row is read exactly once; ``head(n)`` fetches
        only the first ``n`` rows of the first partition.

    Raises
    ------
    SchemaError
        Unknown keyspace, table or column (with close matches).
    ConnectionError
        The cluster cannot be reached (lists the contact points tried).
    """
    options = ReadOptions(**_keywords(locals(), ("table",)))  # first: only the arguments are local yet
    import dask.dataframe as dd

    plan = plan_read(table, options, min_partitions=2 * scheduler_threads())
    kwargs = {"columns": plan.columns} if plan.columns is not None else {}
    table_name = plan.reader.table.qualified_name
    label = f"read_cassandra-{table_name}"
    ranges = sum(len(units) for units in plan.partitions)
    ddf = dd.from_map(  # type: ignore[no-untyped-call]
        _ReadPartition(plan.reader, label, table_name, ranges, units_path=(0,)),
        plan.partitions,
        meta=plan.meta,
        label=label,
        enforce_metadata=False,
        **kwargs,
    )
    result: dd.DataFrame = with_head_pushdown(ddf)
    return result


def _write_partition(frame: pd.DataFrame, plan: WritePlan, partition_info: Any = None) -> WriteReport:
    """``map_partitions``' function: write one partition, return its report."""
    return write_frame(frame, plan, partition=partition_info["number"] if partition_info else 0)


def to_cassandra(
    df: pd.DataFrame | dd.DataFrame,
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
    on_error: Literal["raise", "skip"] = "raise",
    max_errors: int | str | None = None,
    bad_rows_path: str | None = None,
    compute: bool = True,
    progress: ProgressSpec = "auto",
    on_progress: CallbackSpec = None,
    on_unit_complete: CallbackSpec = None,
    on_unit_error: CallbackSpec = None,
    on_complete: CallbackSpec = None,
) -> WriteReport | Delayed:
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
        Dask only: ``False`` returns a ``dask.delayed`` of the report (watch its compute with
        ``cf.progress()``; the progress keywords below apply to ``compute=True``).
    progress : {"auto", True, False, "widget", "tqdm"} or Reporter
        Progress display, as for :func:`cassandra_frames.count`: units are the Dask frame's partitions
        (one unit for a pandas frame).
    on_progress, on_unit_complete, on_unit_error, on_complete : callable or list of callables, optional
        Callbacks, as for :func:`cassandra_frames.count`; ``on_unit_complete(unit, rows)`` gets the rows
        written by a partition, ``on_complete`` the :class:`WriteReport` (on failure: None).

    Returns
    -------
    WriteReport
        Rows written and rejected, batches, retries, duration, rows/s (a ``Delayed`` of it with
        ``compute=False``).

    Raises
    ------
    SchemaError
        Before anything is written: unknown table or column, missing primary key column, a type that
        cannot convert (naming the column and its CQL type).
    WriteError
        A rejected row with ``on_error="raise"``, or ``max_errors`` exceeded.
    """
    keywords = _keywords(locals(), ("df", "table", "compute"))  # first statement
    watchers = ProgressOptions.pop(keywords)
    options = WriteOptions(**keywords)
    if isinstance(df, pd.DataFrame):
        plan = plan_write(df.iloc[:0], table, options)
        chunks = max(1, math.ceil(len(df) / CHUNK_ROWS))
        tracker = watchers.track("to_cassandra", plan.name, chunks, title=f"to_cassandra → {plan.name}")
        return tracker.finishing(lambda: _write_whole(df, plan, tracker))
    if not hasattr(df, "map_partitions") or not hasattr(df, "_meta"):
        raise CassandraFramesError(f"to_cassandra takes a pandas or Dask DataFrame, not {type(df).__name__}")
    from dask.delayed import delayed

    plan = plan_write(df._meta, table, options)
    label = f"to_cassandra-{plan.name}"
    run = uuid.uuid4().hex[:12] if compute else ""
    reports = df.map_partitions(  # type: ignore[no-untyped-call]
        TrackedCall(_write_partition, label, plan.name, df.npartitions, run=run),
        plan,
        meta=(None, object),
        enforce_metadata=False,
        token=label,
    ).to_delayed()
    result: Delayed = delayed(finalize)(reports, plan)
    if not compute:
        if watchers.callbacks():
            raise CassandraFramesError(
                "callbacks need compute=True; for compute=False watch the compute with cf.progress(…)"
            )
        return result
    tracker = watchers.track("to_cassandra", plan.name, df.npartitions, title=f"to_cassandra → {plan.name}")

    def compute_watched() -> WriteReport:
        with watch(tracker, run, local_graphs=False) as watching:
            watching.expect(label, df.npartitions)
            report: WriteReport = result.compute()  # type: ignore[no-untyped-call]
        return report

    return tracker.finishing(compute_watched)


def _write_whole(frame: pd.DataFrame, plan: WritePlan, tracker: Any) -> WriteReport:
    """A pandas frame: a unit per chunk of :data:`CHUNK_ROWS` rows, as each one's outcome comes in."""
    chunk = itertools.count()

    def done(written: int, rejected: int, retries: int) -> None:
        tracker.unit_done(next(chunk), written, retries=retries, rejected=rejected)

    return finalize([write_frame(frame, plan, on_chunk=done)], plan)
