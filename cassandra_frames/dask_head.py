"""``ddf.head(n)`` on a Cassandra read fetches about ``n`` rows, not the whole first partition.

Dask computes ``head`` as "read partition 0, keep its first n rows", and its expression optimizer has no
way to tell a ``from_map`` source how many rows are wanted. :func:`with_head_pushdown` swaps the source
expression for a subclass that recognises a ``Head`` (over one partition) directly above it and rewrites
it into the same ``Head`` over a reader limited to ``n`` rows: the reader then walks the partition's token
ranges in order and stops paging as soon as it has them. The rows are the ones a full read would give
first, so the answer is unchanged.

This leans on ``dask.dataframe.dask_expr`` internals; when they are not what this module expects, the
frame is returned as it is and ``head`` reads the whole partition, as Dask would anyway.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["with_head_pushdown"]


_exprs: Any = None
_base: Any = None
try:
    _exprs = importlib.import_module("dask.dataframe.dask_expr._expr")
    _base = importlib.import_module("dask.dataframe.dask_expr.io.io").FromMapProjectable
except (ImportError, AttributeError):  # pragma: no cover - another Dask layout: no pushdown
    _base = None


if _base is not None:

    class CassandraSource(_base):  # type: ignore[misc]
        """``FromMapProjectable`` whose reader can be told to stop after the rows a ``head`` needs."""

        def _simplify_up(self, parent: Any, dependents: Any) -> Any:
            if (
                type(parent) is _exprs.Head
                and parent.operand("npartitions") == 1
                and isinstance(parent.n, int)
                and parent.n >= 0
            ):
                limited = self.func.limited(parent.n)
                if limited is not None and limited != self.func:
                    return _exprs.Head(self.substitute_parameters({"func": limited}), parent.n, 1)
                return None
            return super()._simplify_up(parent, dependents)


def with_head_pushdown(ddf: Any) -> Any:
    """Return ``ddf`` with its ``from_map`` source able to serve ``head(n)`` by reading about ``n`` rows.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Built by ``dd.from_map`` over a reader with a ``limited(n)`` method (``read.PartitionReader``).

    Returns
    -------
    dask.dataframe.DataFrame
        The same frame (same meta, partitions and values), or ``ddf`` itself when Dask's internals differ.
    """
    expr: Any = getattr(ddf, "expr", None)
    if _base is None or expr is None:  # pragma: no cover
        return ddf
    source = expr
    while source is not None and type(source) is not _base:
        # from_map may wrap the source (ArrowStringConversion); look through single-input wrappers
        deps = source.dependencies() if hasattr(source, "dependencies") else []
        source = deps[0] if len(deps) == 1 else None
    if source is None:
        return ddf
    collection: Any = importlib.import_module("dask.dataframe.dask_expr._collection")
    return collection.new_collection(expr.substitute(source, CassandraSource(*source.operands)))
