"""``await read_cassandra(...)``: the same read as a coroutine, for top-level ``await`` in Jupyter.

It plans exactly like :func:`cassandra_frames.read_cassandra` and reads every partition on the engine's
private loop, so the caller's event loop is never blocked and never patched.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from cassandra_frames import schema
from cassandra_frames.dask import plan_read
from cassandra_frames.engine import runner

__all__ = ["read_cassandra"]


async def read_cassandra(
    table: str, *, output: Literal["pandas", "arrow"] = "pandas", **kwargs: Any
) -> pd.DataFrame | pa.Table:
    """Read a whole table (or a filtered / sampled part) into memory without blocking the event loop.

    Parameters
    ----------
    table : str
        ``"keyspace.table"``.
    output : {"pandas", "arrow"}
        Return a pandas DataFrame (dtypes per ``dtype_backend``) or a pyarrow Table.
    **kwargs
        Any keyword of :func:`cassandra_frames.read_cassandra` (columns, filters, sample, …).

    Returns
    -------
    pandas.DataFrame or pyarrow.Table
    """
    if output not in ("pandas", "arrow"):
        raise ValueError(f"output must be 'pandas' or 'arrow', not {output!r}")
    loop = asyncio.get_running_loop()
    plan = await loop.run_in_executor(None, lambda: plan_read(table, **kwargs))
    reader = plan.reader
    tables = await asyncio.gather(
        *(runner.run_async(reader.fetch_table(units, plan.columns)) for units in plan.partitions)
    )
    result = pa.concat_tables(tables) if tables else reader.output_schema(plan.columns).empty_table()
    if output == "arrow":
        return result
    return schema.to_pandas(result, reader.dtype_backend)
