"""CQL statement text builders: quoting, range SELECTs with pushdown, partition reads. No I/O.

Values never go into CQL text: every builder returns text with ``?`` markers for a prepared statement.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "qualified",
    "quote",
    "select_partition",
    "select_range",
    "token_expr",
]


def quote(name: str) -> str:
    """Quote a CQL identifier exactly as written (case-sensitive; embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def qualified(keyspace: str, table: str) -> str:
    """``"ks"."table"`` with both parts quoted."""
    return f"{quote(keyspace)}.{quote(table)}"


def token_expr(partition_key: Sequence[str]) -> str:
    """``token("pk1", "pk2")`` for the table's partition key columns."""
    return "token(" + ", ".join(quote(c) for c in partition_key) + ")"


def _where(clauses: Sequence[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def select_range(
    keyspace: str,
    table: str,
    expressions: Sequence[str],
    partition_key: Sequence[str],
    extra: Sequence[str] = (),
    *,
    allow_filtering: bool = False,
) -> str:
    """``SELECT … WHERE token(pk) > ? AND token(pk) <= ? [AND extra…]`` for one token range.

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
    allow_filtering : bool
        Append ``ALLOW FILTERING`` (only when the caller asked for it).
    """
    tok = token_expr(partition_key)
    text = (
        f"SELECT {', '.join(expressions)} FROM {qualified(keyspace, table)}"
        f"{_where([f'{tok} > ?', f'{tok} <= ?', *extra])}"
    )
    return text + (" ALLOW FILTERING" if allow_filtering else "")


def select_partition(
    keyspace: str,
    table: str,
    expressions: Sequence[str],
    partition_key: Sequence[str],
    extra: Sequence[str] = (),
    *,
    allow_filtering: bool = False,
) -> str:
    """``SELECT … WHERE pk1 = ? AND pk2 = ? [AND extra…]``: one partition, no ring scan."""
    clauses = [f"{quote(c)} = ?" for c in partition_key]
    text = f"SELECT {', '.join(expressions)} FROM {qualified(keyspace, table)}{_where([*clauses, *extra])}"
    return text + (" ALLOW FILTERING" if allow_filtering else "")
