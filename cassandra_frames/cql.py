"""Every statement text the library sends: SELECTs over a token range or a partition, counts, INSERT /
UPDATE / counter UPDATE, CREATE TABLE and CREATE KEYSPACE. No I/O.

Values never go into CQL text: every builder returns text with ``?`` markers for a prepared statement, and
the write statements say, marker by marker, which value each one binds (:class:`Statement`). Identifiers
are quoted with :func:`cassandra_frames.cqltypes.quote`, so any case and character works.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from cassandra_frames.cqltypes import CqlType, as_type, fetched_as_epoch_millis, quote

__all__ = [
    "SIZE_ESTIMATES",
    "Marker",
    "Statement",
    "count_range",
    "counter_update",
    "create_keyspace",
    "create_table",
    "drop_table",
    "insert",
    "qualified",
    "select",
    "select_expression",
    "token_expr",
    "update",
]

SIZE_ESTIMATES = (
    "SELECT mean_partition_size, partitions_count FROM system.size_estimates "
    "WHERE keyspace_name = ? AND table_name = ?"
)
"""The node's estimate of a table's partitions (one row per local token range), for sizing a read plan."""

Marker = tuple[Literal["col", "ttl", "writetime"], str]
"""What a ``?`` marker of a write statement binds: ``("col", column)`` or ``("ttl" | "writetime", tag)``,
the tag naming which TTL / write-timestamp value source the caller keeps for it."""


@dataclasses.dataclass(frozen=True)
class Statement:
    """A statement's text and, for each of its ``?`` markers in order, the value it binds."""

    text: str
    markers: tuple[Marker, ...]


def qualified(keyspace: str, table: str) -> str:
    """``"ks"."table"`` with both parts quoted."""
    return f"{quote(keyspace)}.{quote(table)}"


def token_expr(partition_key: Sequence[str]) -> str:
    """``token("pk1", "pk2")`` for the table's partition key columns."""
    return "token(" + ", ".join(quote(c) for c in partition_key) + ")"


def select_expression(column: str, t: CqlType | str) -> str:
    """The expression to SELECT for a column, as :func:`~cassandra_frames.convert.to_arrow.fetched_converter`
    expects it.

    Parameters
    ----------
    column : str
        Column name as Cassandra stores it (``MyCol``, not ``"MyCol"``).
    t : CqlType or str
        The column's CQL type.

    Returns
    -------
    str
        ``'toUnixTimestamp("ts") AS "ts"'`` for a top-level timestamp column (exact milliseconds for every
        timestamp), else the quoted identifier (``'"MyCol"'``).
    """
    quoted = quote(column)
    if fetched_as_epoch_millis(as_type(t)):
        return f"toUnixTimestamp({quoted}) AS {quoted}"
    return quoted


def _where(clauses: Sequence[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def select(
    keyspace: str,
    table: str,
    expressions: Sequence[str],
    partition_key: Sequence[str],
    extra: Sequence[str] = (),
    *,
    by: Literal["range", "partition"] = "range",
    allow_filtering: bool = False,
) -> str:
    """``SELECT …`` of one token range or of one partition.

    Parameters
    ----------
    keyspace, table : str
        Unquoted names as the schema has them.
    expressions : sequence of str
        Already-quoted select expressions (columns, ``toUnixTimestamp(…) AS …``, ``WRITETIME(…)``).
    partition_key : sequence of str
        Partition key column names.
    extra : sequence of str
        Further restrictions with ``?`` markers (pushed-down filters).
    by : {"range", "partition"}
        ``"range"``: ``WHERE token(pk) > ? AND token(pk) <= ?`` (the first two markers are the range
        bounds); ``"partition"``: ``WHERE pk1 = ? AND pk2 = ?`` (one partition, no ring scan).
    allow_filtering : bool
        Append ``ALLOW FILTERING`` (only when the caller asked for it).
    """
    if by == "range":
        tok = token_expr(partition_key)
        keys = [f"{tok} > ?", f"{tok} <= ?"]
    else:
        keys = [f"{quote(c)} = ?" for c in partition_key]
    text = f"SELECT {', '.join(expressions)} FROM {qualified(keyspace, table)}{_where([*keys, *extra])}"
    return text + (" ALLOW FILTERING" if allow_filtering else "")


def count_range(keyspace: str, table: str, partition_key: Sequence[str]) -> str:
    """``SELECT count(*) … WHERE token(pk) > ? AND token(pk) <= ?``: the rows of one token range."""
    return select(keyspace, table, ["count(*)"], partition_key)


def _using(ttl: str | None, timestamp: str | None) -> tuple[str, list[Marker]]:
    parts: list[str] = []
    markers: list[Marker] = []
    if ttl is not None:
        parts.append("TTL ?")
        markers.append(("ttl", ttl))
    if timestamp is not None:
        parts.append("TIMESTAMP ?")
        markers.append(("writetime", timestamp))
    return (" USING " + " AND ".join(parts)) if parts else "", markers


def insert(
    keyspace: str,
    table: str,
    columns: Sequence[str],
    *,
    if_not_exists: bool = False,
    ttl: str | None = None,
    timestamp: str | None = None,
) -> Statement:
    """``INSERT INTO … (cols) VALUES (?, …) [IF NOT EXISTS] [USING TTL ? AND TIMESTAMP ?]``.

    ``ttl`` / ``timestamp`` name the value sources of the ``USING`` markers (None: no such marker).
    """
    using, markers = _using(ttl, timestamp)
    text = (
        f"INSERT INTO {qualified(keyspace, table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})" + (" IF NOT EXISTS" if if_not_exists else "") + using
    )
    return Statement(text, (*(("col", c) for c in columns), *markers))


def update(
    keyspace: str,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    *,
    ttl: str | None = None,
    timestamp: str | None = None,
) -> Statement:
    """``UPDATE … [USING TTL ? AND TIMESTAMP ?] SET c = ?, … WHERE k = ? AND …``."""
    using, markers = _using(ttl, timestamp)
    sets = ", ".join(f"{quote(c)} = ?" for c in columns)
    where = " AND ".join(f"{quote(k)} = ?" for k in key)
    text = f"UPDATE {qualified(keyspace, table)}{using} SET {sets} WHERE {where}"
    return Statement(text, (*markers, *(("col", c) for c in columns), *(("col", k) for k in key)))


def counter_update(keyspace: str, table: str, columns: Sequence[str], key: Sequence[str]) -> Statement:
    """``UPDATE … SET c = c + ?, … WHERE k = ? AND …``: the values are increments."""
    sets = ", ".join(f"{quote(c)} = {quote(c)} + ?" for c in columns)
    where = " AND ".join(f"{quote(k)} = ?" for k in key)
    text = f"UPDATE {qualified(keyspace, table)} SET {sets} WHERE {where}"
    return Statement(text, (*(("col", c) for c in columns), *(("col", k) for k in key)))


def create_table(
    keyspace: str,
    table: str,
    columns: Sequence[tuple[str, str]],
    partition_key: Sequence[str],
    clustering_key: Sequence[str] = (),
) -> str:
    """``CREATE TABLE IF NOT EXISTS … (col type, …, PRIMARY KEY ((pk…), ck…))``.

    ``columns`` are ``(name, CQL type text)`` pairs.
    """
    cols = ", ".join(f"{quote(name)} {cql_type}" for name, cql_type in columns)
    key = "(" + ", ".join(quote(c) for c in partition_key) + ")"
    if clustering_key:
        key += ", " + ", ".join(quote(c) for c in clustering_key)
    return f"CREATE TABLE IF NOT EXISTS {qualified(keyspace, table)} ({cols}, PRIMARY KEY ({key}))"


def create_keyspace(keyspace: str, replication_factor: int = 1) -> str:
    """``CREATE KEYSPACE IF NOT EXISTS … WITH replication = {SimpleStrategy, replication_factor}``."""
    return (
        f"CREATE KEYSPACE IF NOT EXISTS {quote(keyspace)} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {int(replication_factor)}}}"
    )


def drop_table(keyspace: str, table: str) -> str:
    """``DROP TABLE IF EXISTS …``."""
    return f"DROP TABLE IF EXISTS {qualified(keyspace, table)}"
