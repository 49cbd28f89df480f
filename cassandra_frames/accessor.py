"""The ``cassandra`` accessor on pandas and Dask DataFrames: ``df.cassandra.load("ks.table")``.

Thin and stateless (pandas >= 3 builds a new accessor object on each access): every call delegates to
:func:`cassandra_frames.to_cassandra`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from cassandra_frames.dask import to_cassandra
from cassandra_frames.reports import WriteReport

if TYPE_CHECKING:
    from dask.delayed import Delayed

__all__ = ["CassandraAccessor", "register"]


class CassandraAccessor:
    """``df.cassandra``: Cassandra operations on a pandas or Dask DataFrame."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def load(self, table: str, **kwargs: Any) -> WriteReport | Delayed:
        """Write this frame into ``table``; the keywords are those of :func:`cassandra_frames.to_cassandra`.

        Returns
        -------
        WriteReport
            (or a ``dask.delayed`` report for a Dask frame with ``compute=False``)
        """
        return to_cassandra(self._obj, table, **kwargs)


def register() -> None:
    """Register the accessor on pandas and (when installed) Dask DataFrames; idempotent."""
    if not hasattr(pd.DataFrame, "cassandra"):
        pd.api.extensions.register_dataframe_accessor("cassandra")(CassandraAccessor)
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dask[dataframe] is a core dependency
        return
    if not hasattr(dd.DataFrame, "cassandra"):
        dd.extensions.register_dataframe_accessor("cassandra")(CassandraAccessor)  # type: ignore[no-untyped-call]
