"""What a user passes as ``connection=`` → a picklable reference plus a live session in this process.

``resolve_connection`` accepts nothing (``ConnectionConfig.from_env()``), a :class:`ConnectionConfig`, a
driver ``Session`` or ``Cluster``, or an async-cassandra session. A config travels to Dask workers, each
of which opens its own session (:func:`session_for`, one per process). A user's Session cannot leave its
process: it is registered here and referred to by a :class:`SessionRef`, which says so clearly when it
reaches another process. Reads run with the tuple-row execution profile :data:`READ_PROFILE`.

Every registry here is emptied in a forked child (a driver connection must never cross a fork), and none is
keyed by ``id()`` of an object that may die and leave its number to another one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import threading
from typing import Any

from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine.session import get_session
from cassandra_frames.errors import CassandraFramesError

__all__ = [
    "READ_PROFILE",
    "ConnectionRef",
    "SessionRef",
    "is_legacy",
    "read_profile",
    "request_timeout",
    "resolve_connection",
    "session_for",
]

READ_PROFILE = "cassandra_frames_read"
"""Execution profile of reads: the default policies with tuple rows."""

# Per-process caches, kept for the life of the process (like the driver sessions of get_session): a user's
# session stays reachable by its SessionRef for as long as a plan or a Dask graph may hold that reference.
_lock = threading.Lock()
_numbers = itertools.count(1)
_registered: dict[int, Any] = {}  # SessionRef.key → session
_keys: dict[int, int] = {}  # id(session) → its key; valid as long as _registered holds the session
_own: dict[int, Any] = {}  # id(user Cluster) → our session (which holds the Cluster, so the id stays its)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    _registered.clear()  # the parent's sessions hold the parent's sockets and threads
    _keys.clear()
    _own.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


@dataclasses.dataclass(frozen=True)
class SessionRef:
    """A user-supplied driver session, usable only in the process that registered it (threads scheduler)."""

    key: int
    pid: int

    def session(self) -> Any:
        """The session, in the process that registered it.

        Raises
        ------
        CassandraFramesError
            In any other process (a ``distributed`` worker, a forked child).
        """
        with _lock:
            session = _registered.get(self.key) if self.pid == os.getpid() else None
        if session is None:
            raise CassandraFramesError(
                "a cassandra.cluster.Session cannot travel to another process (a distributed worker): "
                "pass connection=ConnectionConfig(...) instead so each worker opens its own session"
            )
        return session


ConnectionRef = ConnectionConfig | SessionRef
"""What a plan carries to say where to connect: picklable, no secrets."""


def is_legacy(cluster: Any) -> bool:
    """Whether a Cluster was built with legacy parameters (policies given directly, not as profiles).

    Such a cluster refuses execution profiles, so reads cannot pick tuple rows per request.
    """
    from cassandra.cluster import _ConfigMode  # the driver keeps the mode private; only the engine looks

    return bool(getattr(cluster, "_config_mode", None) == _ConfigMode.LEGACY)


def _own_session(cluster: Any) -> Any:
    """One session of our own per user ``Cluster`` (same hosts, auth and policies); tuple rows when the
    cluster is in legacy mode."""
    from cassandra.query import tuple_factory

    with _lock:
        session = _own.get(id(cluster))
        if session is None or session.is_shutdown:
            session = cluster.connect()
            if is_legacy(cluster):  # profile-mode clusters: reads pick tuple rows through READ_PROFILE
                session.row_factory = tuple_factory
            _own[id(cluster)] = session
    return session


def _register(session: Any) -> tuple[SessionRef, Any]:
    """A reference to a user's session (or, on a legacy-mode cluster, to our tuple-row one) and it."""
    if is_legacy(session.cluster):
        session = _own_session(session.cluster)
    with _lock:
        key = _keys.get(id(session))
        if key is None:
            key = next(_numbers)
            _keys[id(session)] = key
            _registered[key] = session
    return SessionRef(key, os.getpid()), session


def resolve_connection(connection: Any) -> tuple[ConnectionRef, Any]:
    """Turn ``connection`` (None, ConnectionConfig, Session, Cluster, async-cassandra session) into a
    picklable reference and a live session in this process.

    Raises
    ------
    CassandraFramesError
        ``connection`` is none of these.
    ConnectionError
        The cluster cannot be reached.
    """
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
    """The live session a :data:`ConnectionRef` stands for, in this process (opened on first use)."""
    return get_session(ref) if isinstance(ref, ConnectionConfig) else ref.session()


def request_timeout(session: Any) -> float:
    """Seconds a request may take on ``session`` (its default execution profile's; 30 when unset)."""
    return float(session.cluster.profile_manager.default.request_timeout or 30.0)


def read_profile(session: Any, timeout: float) -> Any:
    """The execution profile reads run with: :data:`READ_PROFILE` (tuple rows), added to the cluster once.

    On a legacy-mode cluster (which takes no profiles) the default one; the session is then our own with
    tuple rows (see ``resolve_connection``).
    """
    from cassandra.cluster import EXEC_PROFILE_DEFAULT

    cluster = session.cluster
    if is_legacy(cluster):
        return EXEC_PROFILE_DEFAULT
    if READ_PROFILE in cluster.profile_manager.profiles:
        return READ_PROFILE
    from cassandra.cluster import ExecutionProfile
    from cassandra.query import tuple_factory

    default = cluster.profile_manager.default
    profile = ExecutionProfile(
        load_balancing_policy=default.load_balancing_policy,
        retry_policy=default.retry_policy,
        request_timeout=timeout,
        row_factory=tuple_factory,
    )
    with contextlib.suppress(ValueError):  # another thread added it first
        cluster.add_execution_profile(READ_PROFILE, profile)
    return READ_PROFILE
