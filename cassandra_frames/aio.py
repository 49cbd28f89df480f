"""``await read_cassandra(...)``, ``await count(...)``, ``await export(...)``: coroutines for top-level
``await`` in Jupyter and for asyncio services.

``read_cassandra`` plans exactly like :func:`cassandra_frames.read_cassandra` (in an executor: planning
talks to the cluster) and reads every partition on the engine's private loop. ``count`` and ``export`` run
the synchronous operation (its Dask graph on the active scheduler) in an executor thread. The caller's
event loop is never blocked and never patched.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from cassandra_frames import bulk
from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.options import ReadOptions
from cassandra_frames.read import plan_read
from cassandra_frames.reports import ExportReport, LoadReport
from cassandra_frames.schema import to_pandas

__all__ = ["count", "export", "load", "read_cassandra"]


async def read_cassandra(
    table: str, *, output: Literal["pandas", "arrow"] = "pandas", **options: Any
) -> pd.DataFrame | pa.Table:
    """Read a whole table (or a filtered / sampled part) into memory without blocking the event loop.

    Parameters
    ----------
    table : str
        ``"keyspace.table"``.
    output : {"pandas", "arrow"}
        Return a pandas DataFrame (dtypes per ``dtype_backend``) or a pyarrow Table.
    **options
        Any keyword of :func:`cassandra_frames.read_cassandra` (columns, filters, sample, …).

    Returns
    -------
    pandas.DataFrame or pyarrow.Table

    Raises
    ------
    CassandraFramesError
        An unknown keyword (named, with close matches), or any error of ``read_cassandra``.
    """
    if output not in ("pandas", "arrow"):
        raise CassandraFramesError(f"output must be 'pandas' or 'arrow', not {output!r}")
    read_options = ReadOptions.from_keywords(options)
    loop = asyncio.get_running_loop()
    plan = await loop.run_in_executor(None, plan_read, table, read_options)
    reader = plan.reader
    tables = await asyncio.gather(*(reader.read_arrow_async(u, plan.columns) for u in plan.partitions))
    result = pa.concat_tables(tables) if tables else plan.empty_table()
    if output == "arrow":
        return result
    return to_pandas(result, read_options.dtype_backend)


async def count(table: str, **options: Any) -> int | pd.DataFrame:
    """:func:`cassandra_frames.count` without blocking the event loop (same keywords, same result)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(bulk.count, table, **options))


async def export(table: str, url: str, **options: Any) -> ExportReport:
    """:func:`cassandra_frames.export` without blocking the event loop (same keywords, same report).

    Cancelling the awaiting task does not stop the units already running; the checkpoint records them.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(bulk.export, table, url, **options))


async def load(source: Any, table: str, **options: Any) -> LoadReport:
    """:func:`cassandra_frames.load` without blocking the event loop (same keywords, same report)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(bulk.load, source, table, **options))
