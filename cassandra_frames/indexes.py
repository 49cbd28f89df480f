"""Create and drop secondary indexes: :func:`create_index` (SAI by default), :func:`drop_index`.

``read_cassandra`` pushes ``==`` and range filters on a column with a storage-attached index (SAI) into the
CQL ``WHERE`` (no ``ALLOW FILTERING``, no scan on the client); these calls make such an index without
writing CQL. The table and column are checked against the schema first (close matches named), names are
quoted, and each statement waits for schema agreement, so the next read plans with the new index.
"""

from __future__ import annotations

import re
from typing import Literal

from cassandra_frames.cqltypes import quote
from cassandra_frames.engine.catalog import change_schema, table_info, wait_for_index
from cassandra_frames.engine.connections import resolve_connection
from cassandra_frames.errors import SchemaError, close_matches
from cassandra_frames.keyspaces import check_name
from cassandra_frames.schema import split_table_name

__all__ = ["create_index", "drop_index"]

Target = Literal["keys", "values", "entries", "full"]
_INDEX_NAME = re.compile(r"[A-Za-z0-9_]{1,48}")


def _index_name(name: str) -> str:
    if not _INDEX_NAME.fullmatch(name):
        raise SchemaError(f"invalid index name {name!r}: use 1 to 48 letters, digits or underscores")
    return name


def create_index(
    table: str,
    column: str,
    *,
    keyspace: str | None = None,
    name: str | None = None,
    using: Literal["sai", "legacy"] = "sai",
    target: Target | None = None,
    if_not_exists: bool = True,
    wait: float | None = 600.0,
    connection: object = None,
) -> str:
    """Create an index on one column of a table (a storage-attached index by default).

    Parameters
    ----------
    table : str
        ``"keyspace.table"`` (or ``"table"`` with ``keyspace=``).
    column : str
        The column to index, as the schema names it.
    keyspace : str, optional
        Keyspace, when ``table`` names none.
    name : str, optional
        Index name (default ``<table>_<column>_idx``).
    using : {"sai", "legacy"}
        ``"sai"``: a storage-attached index (Cassandra 5), which ``read_cassandra`` filters push down to;
        ``"legacy"``: a classic secondary index.
    target : {"keys", "values", "entries", "full"}, optional
        For a collection column: index its map keys, values, entries, or the whole frozen value.
    if_not_exists : bool
        An index of that name already there is not an error.
    wait : float or None
        Seconds to wait at most for the index to be built on every node (a read filtering on an index still
        building fails); ``None`` returns at once.
    connection : ConnectionConfig or cassandra Session/Cluster, optional
        Default ``ConnectionConfig.from_env()``.

    Returns
    -------
    str
        The index name.

    Raises
    ------
    SchemaError
        Unknown keyspace, table or column (close matches named), an invalid name, the server refused
        the index (its message), or it was not built within ``wait`` seconds.

    Examples
    --------
    >>> import cassandra_frames as cf
    >>> cf.create_index("demo.flights", "dest")  # doctest: +SKIP
    'flights_dest_idx'
    >>> cf.read_cassandra("demo.flights", filters=[("dest", "==", "SFO")])  # doctest: +SKIP
    """
    ks, tname = split_table_name(table, keyspace)
    check_name(ks)
    _, session = resolve_connection(connection)
    info = table_info(session, ks, tname)
    if not info.has_column(column):
        names = [c.name for c in info.columns]
        raise SchemaError(
            f"column {column!r} does not exist in table {info.qualified_name}{close_matches(column, names)}"
        )
    index = _index_name(name or f"{tname}_{column}_idx")
    on = quote(column) if target is None else f"{target.upper()}({quote(column)})"
    statement = (
        f"CREATE INDEX {'IF NOT EXISTS ' if if_not_exists else ''}{quote(index)} "
        f"ON {quote(ks)}.{quote(tname)} ({on})" + (" USING 'sai'" if using == "sai" else "")
    )
    change_schema(session, ks, statement)
    if wait is not None and not wait_for_index(session, ks, index, timeout=wait):
        raise SchemaError(
            f"index {ks}.{index} is still building after {wait:g} s (reads that filter on {column!r} fail "
            'until it is built): wait longer (wait=...) or watch system."IndexInfo"'
        )
    return index


def drop_index(name: str, *, keyspace: str, if_exists: bool = True, connection: object = None) -> None:
    """Drop an index.

    Parameters
    ----------
    name : str
        The index name (what :func:`create_index` returned).
    keyspace : str
        Its keyspace.
    if_exists : bool
        A missing index is not an error.
    connection : ConnectionConfig or cassandra Session/Cluster, optional
        Default ``ConnectionConfig.from_env()``.

    Raises
    ------
    SchemaError
        The index or keyspace does not exist (with ``if_exists=False``), or the name is invalid.
    """
    check_name(keyspace)
    _, session = resolve_connection(connection)
    statement = f"DROP INDEX {'IF EXISTS ' if if_exists else ''}{quote(keyspace)}.{quote(_index_name(name))}"
    change_schema(session, keyspace, statement)
