"""``await read_cassandra(...)``: the same read as a coroutine, for top-level ``await`` in Jupyter.

It plans exactly like :func:`cassandra_frames.read_cassandra` (in an executor: planning talks to the
cluster) and reads every partition on the engine's private loop, so the caller's event loop is never
blocked and never patched.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.options import ReadOptions
from cassandra_frames.read import plan_read
from cassandra_frames.schema import to_pandas

__all__ = ["read_cassandra"]


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
