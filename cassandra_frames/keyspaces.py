"""Create and drop keyspaces: :func:`create_keyspace`, :func:`drop_keyspace`.

A notebook or a script that loads a frame into a new table needs a keyspace first; these two calls make and
remove one without writing CQL. Names are checked before anything is sent (letters, digits and underscores,
at most 48 characters, not a system keyspace) and quoted in the statement, so ``"MyData"`` stays
case-sensitive exactly like table and column names everywhere else in cassandra_frames. Replication settings
travel as CQL string literals, never as pasted text. Each statement waits for schema agreement, so the next
call (a ``create_table=True`` load, a read) sees the change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cassandra_frames.cqltypes import quote
from cassandra_frames.engine.catalog import change_schema
from cassandra_frames.engine.connections import resolve_connection
from cassandra_frames.errors import SchemaError

__all__ = ["SYSTEM_KEYSPACES", "InvalidKeyspaceError", "create_keyspace", "drop_keyspace"]

SYSTEM_KEYSPACES = frozenset(
    {
        "system",
        "system_auth",
        "system_cluster_metadata",
        "system_distributed",
        "system_schema",
        "system_traces",
        "system_views",
        "system_virtual_schema",
    }
)
"""Keyspaces Cassandra manages itself: never created or dropped here."""

_NAME = re.compile(r"[A-Za-z0-9_]{1,48}")
_STRATEGIES = {"simple": "SimpleStrategy", "networktopology": "NetworkTopologyStrategy"}


class InvalidKeyspaceError(SchemaError, ValueError):
    """A keyspace name or replication setting that cannot be used; nothing was sent to the cluster."""


def check_name(name: object) -> str:
    """``name`` when it can name a user keyspace.

    Raises
    ------
    InvalidKeyspaceError
        Not a string of 1 to 48 letters, digits or underscores, or a system keyspace.
    """
    if not isinstance(name, str):
        raise InvalidKeyspaceError(f"a keyspace name must be a string, not {type(name).__name__}")
    if not _NAME.fullmatch(name):
        bad = sorted(set(re.sub(r"[A-Za-z0-9_]", "", name)))
        why = (
            "it is empty"
            if not name
            else f"it has {len(name)} characters, at most 48 are allowed"
            if not bad
            else f"{''.join(bad)!r} is not allowed"
        )
        raise InvalidKeyspaceError(
            f"invalid keyspace name {name!r}: {why} "
            "(a keyspace name is 1 to 48 letters, digits or underscores)"
        )
    if name.lower() in SYSTEM_KEYSPACES:
        raise InvalidKeyspaceError(f"{name!r} is a system keyspace: Cassandra manages it, pick another name")
    return name


def _literal(value: str) -> str:
    """A CQL string literal (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def replication_map(replication_factor: int = 1, replication: Mapping[str, Any] | None = None) -> str:
    """The ``{…}`` map of a ``CREATE KEYSPACE … WITH replication =`` clause.

    Parameters
    ----------
    replication_factor : int
        Copies of each row with ``SimpleStrategy`` (used when ``replication`` is None).
    replication : mapping, optional
        The whole map: ``{"class": "NetworkTopologyStrategy", "dc1": 3}``; ``"SimpleStrategy"`` and
        ``"NetworkTopologyStrategy"`` may be written ``"simple"`` / ``"networktopology"``.

    Returns
    -------
    str
        ``{'class': 'SimpleStrategy', 'replication_factor': '1'}``.

    Raises
    ------
    InvalidKeyspaceError
        A replication factor below 1, both arguments given, a map without ``class``, or keys and values
        that are not strings or whole numbers.
    """
    if isinstance(replication_factor, bool) or not isinstance(replication_factor, int):
        raise InvalidKeyspaceError(
            f"replication_factor must be a whole number, not {type(replication_factor).__name__}"
        )
    if replication is None:
        if replication_factor < 1:
            raise InvalidKeyspaceError(f"replication_factor must be at least 1, not {replication_factor}")
        replication = {"class": "SimpleStrategy", "replication_factor": replication_factor}
    elif replication_factor != 1:
        raise InvalidKeyspaceError(
            "pass either replication_factor= or replication= (whose map holds the factors), not both"
        )
    if not isinstance(replication, Mapping) or not isinstance(replication.get("class"), str):
        raise InvalidKeyspaceError(
            "replication= must be a mapping with a 'class' (e.g. {'class': 'NetworkTopologyStrategy', "
            f"'dc1': 3}}), not {replication!r}"
        )
    items = []
    for key, value in replication.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidKeyspaceError(
                f"replication option {key!r}: {value!r} must be a string name with a string or whole-number "
                "value"
            )
        if key == "class":
            value = _STRATEGIES.get(str(value).lower().removesuffix("strategy"), value)
        elif isinstance(value, int) and value < 0:
            raise InvalidKeyspaceError(f"replication option {key!r} must not be negative, not {value}")
        items.append(f"{_literal(key)}: {_literal(str(value))}")
    return "{" + ", ".join(items) + "}"


def create_keyspace(
    name: str,
    replication_factor: int = 1,
    *,
    replication: Mapping[str, Any] | None = None,
    connection: Any = None,
    if_not_exists: bool = True,
) -> None:
    """Create a keyspace and wait until the cluster agrees on it.

    Parameters
    ----------
    name : str
        Letters, digits and underscores (at most 48). The name is quoted: ``"MyData"`` is case-sensitive,
        as table and column names are everywhere in cassandra_frames.
    replication_factor : int, default 1
        Copies of each row, with ``SimpleStrategy`` (enough for one data center and for a local node).
    replication : mapping, optional
        The full replication map instead, e.g. ``{"class": "NetworkTopologyStrategy", "dc1": 3}``.
    connection : ConnectionConfig, cassandra Session or Cluster, optional
        Where to create it; ``ConnectionConfig.from_env()`` when omitted.
    if_not_exists : bool, default True
        Do nothing when the keyspace exists (its replication is left as it is); False raises instead.

    Raises
    ------
    InvalidKeyspaceError
        A bad name (or a system keyspace) or bad replication settings; nothing was sent.
    SchemaError
        The cluster refused: the keyspace exists (with ``if_not_exists=False``), an unknown data center or
        strategy, or no permission; the message is the server's.
    ConnectionError
        The cluster cannot be reached.

    Examples
    --------
    >>> import cassandra_frames as cf
    >>> cf.create_keyspace("analytics")  # doctest: +SKIP
    >>> nts = {"class": "NetworkTopologyStrategy", "dc1": 3}
    >>> cf.create_keyspace("prod", replication=nts)  # doctest: +SKIP
    """
    check_name(name)
    strategy = replication_map(replication_factor, replication)
    exists = " IF NOT EXISTS" if if_not_exists else ""
    _, session = resolve_connection(connection)
    statement = f"CREATE KEYSPACE{exists} {quote(name)} WITH replication = {strategy}"
    try:
        change_schema(session, name, statement)
    except SchemaError as exc:
        hint = "; pass if_not_exists=True to accept it" if "already exists" in str(exc) else ""
        raise SchemaError(f"cannot create keyspace {name!r}: {exc}{hint}") from None


def drop_keyspace(name: str, *, connection: Any = None, if_exists: bool = True) -> None:
    """Drop a keyspace with all its tables and data, and wait until the cluster agrees.

    Parameters
    ----------
    name : str
        The keyspace (quoted, so case-sensitive). System keyspaces are refused.
    connection : ConnectionConfig, cassandra Session or Cluster, optional
        Where to drop it; ``ConnectionConfig.from_env()`` when omitted.
    if_exists : bool, default True
        Do nothing when there is no such keyspace; False raises instead.

    Raises
    ------
    InvalidKeyspaceError
        A bad name or a system keyspace; nothing was sent.
    SchemaError
        The cluster refused: no such keyspace (with ``if_exists=False``, close names suggested) or no
        permission; the message is the server's.
    ConnectionError
        The cluster cannot be reached.
    """
    check_name(name)
    exists = " IF EXISTS" if if_exists else ""
    _, session = resolve_connection(connection)
    try:
        change_schema(session, name, f"DROP KEYSPACE{exists} {quote(name)}")
    except SchemaError as exc:
        raise SchemaError(f"cannot drop keyspace {name!r}: {exc}") from None
