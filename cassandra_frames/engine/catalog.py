"""Connections and schema lookups shared by the read and write paths.

``resolve_connection`` turns what a user passes (nothing, a :class:`ConnectionConfig`, a driver Session or
Cluster, an async-cassandra session) into a picklable :data:`ConnectionRef` plus a live session; workers
turn the reference back into a session with :func:`session_for` (one per process for a config). Prepared
statements are cached per session. ``table_metadata`` finds a table, refreshing the driver's schema once
when it is missing (a keyspace made by another session reaches this one up to seconds later).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from typing import Any

from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine.session import get_session
from cassandra_frames.errors import CassandraFramesError, SchemaError, close_matches

__all__ = [
    "READ_PROFILE",
    "ConnectionRef",
    "SessionRef",
    "prepare",
    "read_profile",
    "resolve_connection",
    "session_for",
    "split_name",
    "table_metadata",
]

READ_PROFILE = "cassandra_frames_read"
"""Execution profile of reads: the default policies with tuple rows."""

_registry_lock = threading.Lock()
_registered_sessions: dict[int, Any] = {}


@dataclasses.dataclass(frozen=True)
class SessionRef:
    """A user-supplied driver session, usable only in the process that owns it (threads scheduler)."""

    key: int
    pid: int

    def session(self) -> Any:
        with _registry_lock:
            session = _registered_sessions.get(self.key)
        if session is None or self.pid != os.getpid():
            raise CassandraFramesError(
                "a cassandra.cluster.Session cannot travel to another process (a distributed worker): "
                "pass connection=ConnectionConfig(...) instead so each worker opens its own session"
            )
        return session


ConnectionRef = ConnectionConfig | SessionRef


def _is_legacy(cluster: Any) -> bool:
    """Whether a Cluster was built with legacy parameters (policies given directly, not as profiles).

    Such a cluster refuses execution profiles, so reads cannot pick tuple rows per request.
    """
    from cassandra.cluster import _ConfigMode

    return bool(getattr(cluster, "_config_mode", None) == _ConfigMode.LEGACY)


_own_sessions: dict[int, Any] = {}


def _own_session(cluster: Any) -> Any:
    """One session of our own per user ``Cluster`` (same hosts, auth and policies); tuple rows when the
    cluster is in legacy mode."""
    from cassandra.query import tuple_factory

    with _registry_lock:
        session = _own_sessions.get(id(cluster))
        if session is None or session.is_shutdown:
            session = cluster.connect()
            if _is_legacy(cluster):  # profile-mode clusters: reads pick tuple rows through READ_PROFILE
                session.row_factory = tuple_factory
            _own_sessions[id(cluster)] = session
    return session


def _register(session: Any) -> tuple[SessionRef, Any]:
    """A reference to a user's session (or, on a legacy-mode cluster, to our tuple-row one) and it."""
    if _is_legacy(session.cluster):
        session = _own_session(session.cluster)
    with _registry_lock:
        _registered_sessions[id(session)] = session
    return SessionRef(id(session), os.getpid()), session


def resolve_connection(connection: Any) -> tuple[ConnectionRef, Any]:
    """Turn ``connection`` (None, ConnectionConfig, Session, Cluster, async-cassandra session) into a
    picklable reference and a live session in this process."""
    if connection is None:
        connection = ConnectionConfig.from_env()
    if isinstance(connection, ConnectionConfig):
        return connection, get_session(connection)
    inner = getattr(connection, "_session", None)  # async-cassandra wraps a driver session
    if inner is not None and hasattr(inner, "execute_async"):
        connection = inner
    if hasattr(connection, "execute_async") and hasattr(connection, "cluster"):
        return _register(connection)
    if hasattr(connection, "connect") and hasattr(connection, "metadata"):
        return _register(_own_session(connection))
    raise CassandraFramesError(
        f"connection must be a ConnectionConfig, a cassandra Session or Cluster, not {type(connection)!r}"
    )


def session_for(ref: ConnectionRef) -> Any:
    """The live session a :data:`ConnectionRef` stands for, in this process."""
    return get_session(ref) if isinstance(ref, ConnectionConfig) else ref.session()


def read_profile(session: Any, request_timeout: float) -> Any:
    """The execution profile reads run with: :data:`READ_PROFILE` (tuple rows), added to the cluster once.

    On a legacy-mode cluster (which takes no profiles) the default one; the session is then our own with
    tuple rows (see ``resolve_connection``).
    """
    from cassandra.cluster import EXEC_PROFILE_DEFAULT

    cluster = session.cluster
    if _is_legacy(cluster):
        return EXEC_PROFILE_DEFAULT
    if READ_PROFILE in cluster.profile_manager.profiles:
        return READ_PROFILE
    from cassandra.cluster import ExecutionProfile
    from cassandra.query import tuple_factory

    default = cluster.profile_manager.default
    profile = ExecutionProfile(
        load_balancing_policy=default.load_balancing_policy,
        retry_policy=default.retry_policy,
        request_timeout=request_timeout,
        row_factory=tuple_factory,
    )
    with contextlib.suppress(ValueError):  # another thread added it first
        cluster.add_execution_profile(READ_PROFILE, profile)
    return READ_PROFILE


_prepared_lock = threading.Lock()
_prepared: dict[tuple[int, str], Any] = {}


def prepare(session: Any, text: str) -> Any:
    """``session.prepare(text)``, cached per session and statement text."""
    key = (id(session), text)
    with _prepared_lock:
        stmt = _prepared.get(key)
    if stmt is None:
        stmt = session.prepare(text)
        with _prepared_lock:
            _prepared[key] = stmt
    return stmt


def split_name(table: str, keyspace: str | None) -> tuple[str, str]:
    """``("ks", "table")`` from ``"ks.table"`` (or ``table`` with ``keyspace``); quotes stripped."""
    if keyspace is None:
        if "." not in table:
            raise SchemaError(f"table {table!r} names no keyspace: use 'keyspace.table' or keyspace=...")
        keyspace, table = table.split(".", 1)
    return keyspace.strip('"'), table.strip('"')


def table_metadata(session: Any, keyspace: str, table: str) -> tuple[Any, Any]:
    """Driver (KeyspaceMetadata, TableMetadata), refreshed once when missing; clear error otherwise."""
    meta = session.cluster.metadata
    for attempt in range(2):
        ks = meta.keyspaces.get(keyspace)
        tbl = ks.tables.get(table) if ks is not None else None
        if tbl is not None:
            return ks, tbl
        if attempt == 0:
            session.cluster.refresh_schema_metadata(max_schema_agreement_wait=10)
    if ks is None:
        raise SchemaError(f"keyspace {keyspace!r} does not exist{close_matches(keyspace, meta.keyspaces)}")
    raise SchemaError(f"table {keyspace}.{table} does not exist{close_matches(table, ks.tables)}")
