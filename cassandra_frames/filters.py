"""Filters in ``read_parquet``'s DNF form, and where each one goes. No I/O.

A full partition key with ``==``/``in`` becomes direct partition reads; clustering ``==`` prefixes and one
range follow a full key; ``("token", op, n)`` bounds narrow the planned ranges; ``==``/range filters on
SAI-indexed columns go into the CQL; everything else is applied on the client with ``pyarrow.compute`` after
fetching. ``ALLOW FILTERING`` only when the caller asks for it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cassandra_frames.cqltypes import quote
from cassandra_frames.errors import CassandraFramesError, SchemaError
from cassandra_frames.schema import TableInfo, unknown_column

__all__ = ["Filter", "FilterPlan", "client_mask", "normalise_filters", "plan_filters"]

Filter = tuple[str, str, Any]
_FILTER_OPS = {"==", "=", "!=", "<", "<=", ">", ">=", "in", "not in"}
_SAI_OPS = {"==", "<", "<=", ">", ">="}


@dataclasses.dataclass(frozen=True)
class FilterPlan:
    """Where each filter goes: CQL restrictions, partition keys to read directly, or client side."""

    cql: tuple[str, ...] = ()
    cql_params: tuple[Any, ...] = ()
    partitions: tuple[tuple[Any, ...], ...] | None = None
    token_low: int | None = None
    token_high: int | None = None
    client: tuple[tuple[Filter, ...], ...] = ()
    allow_filtering: bool = False


def normalise_filters(filters: Any) -> list[list[Filter]]:
    """``[(c, op, v), …]`` or ``[[…], […]]`` → a list of AND groups, checked; errors say what works."""
    if not filters:
        return []
    if not isinstance(filters, list | tuple):
        raise CassandraFramesError(
            "filters must be a list of (column, op, value) tuples, or a list of such lists (OR of ANDs)"
        )
    if all(isinstance(f, tuple) for f in filters):
        groups = [list(filters)]
    elif all(isinstance(f, list) for f in filters):
        groups = [list(g) for g in filters]
    else:
        raise CassandraFramesError(
            "filters mixes tuples and lists: use [(col, op, value), ...] or [[...], [...]] (DNF)"
        )
    for group in groups:
        for f in group:
            if not (isinstance(f, tuple) and len(f) == 3 and isinstance(f[0], str)):
                raise CassandraFramesError(f"filter {f!r} is not a (column, op, value) tuple")
            if f[1] not in _FILTER_OPS:
                raise CassandraFramesError(
                    f"filter {f!r}: operator {f[1]!r} is not supported; use one of {sorted(_FILTER_OPS)}"
                )
            if f[1] in ("in", "not in") and not isinstance(f[2], list | tuple | set | frozenset):
                raise CassandraFramesError(f"filter {f!r}: {f[1]!r} needs a list of values")
    return groups


def plan_filters(groups: list[list[Filter]], table: TableInfo, allow_filtering: bool) -> FilterPlan:
    """Decide what each filter of ``groups`` (see :func:`normalise_filters`) becomes for this table.

    Parameters
    ----------
    groups : list of list of (column, op, value)
        OR of ANDs.
    table : TableInfo
        The table (columns, keys, SAI-indexed columns).
    allow_filtering : bool
        Push every pushable filter to CQL with ``ALLOW FILTERING``.
    """
    if not groups:
        return FilterPlan()
    for group in groups:
        for col, op, value in group:
            if col != "token" and not table.has_column(col):
                unknown = unknown_column(col, table.qualified_name, table.column_names)
                raise SchemaError(f"filter {(col, op, value)!r}: {unknown}")
            if col == "token" and op not in ("<", "<=", ">", ">="):
                raise CassandraFramesError(
                    f"filter ('token', {op!r}, …): token filters take <, <=, > or >= (token bounds)"
                )
    if len(groups) > 1:  # OR of ANDs: read the ring once, filter on the client
        if any(col == "token" for g in groups for col, _, _ in g):
            raise CassandraFramesError("token bounds cannot be combined with OR groups; use one AND group")
        return FilterPlan(client=tuple(tuple(g) for g in groups))

    group = groups[0]
    pk, ck, sai = table.partition_key, table.clustering_key, table.sai_columns
    cql_parts: list[str] = []
    params: list[Any] = []
    client: list[Filter] = []
    low = high = None

    # token bounds → narrow the planned ranges
    for col, op, value in group:
        if col != "token":
            continue
        v = int(value)
        if op in (">", ">="):
            bound = v if op == ">" else v - 1
            low = bound if low is None else max(low, bound)
        else:
            bound = v if op == "<=" else v - 1
            high = bound if high is None else min(high, bound)
    rest = [f for f in group if f[0] != "token"]

    # full partition key with == / in → direct partition reads
    eq: dict[str, list[Any]] = {}
    for col, op, value in rest:
        if col in pk and op in ("==", "=", "in"):
            values = list(value) if op == "in" else [value]
            eq[col] = [v for v in eq.get(col, values) if v in values] if col in eq else values
    partitions = None
    used: set[int] = set()
    if pk and all(c in eq for c in pk):
        partitions = tuple(itertools.product(*(eq[c] for c in pk)))
        used |= {i for i, f in enumerate(rest) if f[0] in pk and f[1] in ("==", "=", "in")}
        # clustering restrictions after a full key: == / in on a prefix, then one range column
        for c in ck:
            mine = [(i, f) for i, f in enumerate(rest) if f[0] == c and i not in used]
            eqs = [(i, f) for i, f in mine if f[1] in ("==", "=")]
            ranges = [(i, f) for i, f in mine if f[1] in ("<", "<=", ">", ">=")]
            if len(eqs) == 1 and not ranges:
                i, f = eqs[0]
                cql_parts.append(f"{quote(c)} = ?")
                params.append(f[2])
                used.add(i)
                continue
            for i, f in ranges:
                cql_parts.append(f"{quote(c)} {f[1]} ?")
                params.append(f[2])
                used.add(i)
            break

    for i, (col, op, value) in enumerate(rest):
        if i in used:
            continue
        if allow_filtering and op in ("==", "=", "<", "<=", ">", ">=", "in"):
            if op == "in":
                cql_parts.append(f"{quote(col)} IN ?")
                params.append(list(value))
            else:
                cql_parts.append(f"{quote(col)} {'=' if op == '==' else op} ?")
                params.append(value)
        elif col in sai and col not in pk and col not in ck and op in _SAI_OPS:
            cql_parts.append(f"{quote(col)} {'=' if op == '==' else op} ?")
            params.append(value)
        else:
            client.append((col, op, value))
    return FilterPlan(
        cql=tuple(cql_parts),
        cql_params=tuple(params),
        partitions=partitions,
        token_low=low,
        token_high=high,
        client=(tuple(client),) if client else (),
        allow_filtering=allow_filtering and bool(cql_parts),
    )


_COMPARE = {
    "==": pc.equal,
    "=": pc.equal,
    "!=": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def client_mask(table: pa.Table, groups: Sequence[Sequence[Filter]]) -> pa.Array:
    """Boolean mask of the rows of ``table`` that satisfy the OR of AND ``groups`` (nulls fail)."""
    ors = None
    for group in groups:
        ands = None
        for col, op, value in group:
            arr = table.column(col)
            if op in _COMPARE:
                m = _COMPARE[op](arr, value)
            else:
                m = pc.is_in(arr, value_set=pa.array(list(value), type=arr.type))
                if op == "not in":
                    m = pc.invert(m)
            m = pc.fill_null(m, False)
            ands = m if ands is None else pc.and_(ands, m)
        if ands is not None:
            ors = ands if ors is None else pc.or_(ors, ands)
    assert ors is not None
    return ors
