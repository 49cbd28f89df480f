"""Sessions: open a driver ``Cluster``/``Session`` from a :class:`ConnectionConfig`, one per process; and
the one bridge from the driver's callback threads to the engine's asyncio loop (:class:`Responses`).

The cache is keyed by the (hashable, secret-free) config and cleared in forked children, because a driver
connection must never be shared across a fork. Driver errors at connect time become
:class:`~cassandra_frames.errors.ConnectionError` with a message naming the contact points tried and what
each one answered.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
import time
from typing import Any

from cassandra_frames.config import ConnectionConfig
from cassandra_frames.errors import CassandraFramesError, ConnectionError
from cassandra_frames.latency import LatencyHistogram

__all__ = ["Responses", "close_session", "connect", "get_session", "probe_node"]

_lock = threading.Lock()
_sessions: dict[ConnectionConfig, Any] = {}


def close_session(config: ConnectionConfig) -> None:
    """Shut down and forget the cached session of ``config`` (no-op when there is none)."""
    with _lock:
        session = _sessions.pop(config, None)
    if session is not None:
        session.cluster.shutdown()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    _sessions.clear()  # the parent's sockets and threads are not ours: never shut them down here


os.register_at_fork(after_in_child=_after_fork_in_child)


def _ssl_context(config: ConnectionConfig) -> ssl.SSLContext | None:
    if not config.tls:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=config.tls_ca_file)
    ctx.check_hostname = config.tls_check_hostname
    if not config.tls_ca_file and not config.tls_check_hostname:
        ctx.verify_mode = ssl.CERT_NONE
    if config.tls_cert_file:
        ctx.load_cert_chain(config.tls_cert_file, config.tls_key_file)
    return ctx


def _explain(config: ConnectionConfig, errors: dict[Any, Any]) -> str:
    """One message for a NoHostAvailable: what each contact point said and what to do."""
    from cassandra import AuthenticationFailed

    parts = [f"{host}: {err}" for host, err in errors.items()] or ["no host answered"]
    text = "; ".join(parts)
    if any(isinstance(e, AuthenticationFailed) for e in errors.values()):
        if not config.username:
            return (
                f"{config.describe()} requires a login ({text}); pass username= and password_env= "
                "(or set CASSANDRA_USERNAME and CASSANDRA_PASSWORD)"
            )
        return (
            f"authentication failed for user {config.username!r} at {config.describe()} ({text}). "
            f"Check the username and the password in ${config.password_env}."
        )
    hint = "is Cassandra running there? (`cassandra-frames local start` starts a local node)"
    if not config.tls and any(isinstance(e, ConnectionResetError) for e in errors.values()):
        hint = "the server closed the connection: it may require TLS (tls=True, tls_ca_file=…)"
    elif config.tls and any(isinstance(e, ssl.SSLError) for e in errors.values()):
        hint = "the TLS handshake failed: check tls_ca_file and tls_check_hostname"
    return f"could not connect to Cassandra at {config.describe()} ({text}); {hint}"


def connect(config: ConnectionConfig, keyspace: str | None = None) -> Any:
    """Open a new driver session for ``config`` (not cached; the caller shuts its cluster down).

    Parameters
    ----------
    config : ConnectionConfig
        Where and how to connect.
    keyspace : str, optional
        Keyspace to ``USE``.

    Returns
    -------
    cassandra.cluster.Session

    Raises
    ------
    ConnectionError
        No contact point could be reached, the login was refused, or TLS failed; the message lists
        the contact points tried and what each answered.
    """
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
    from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

    auth = None
    if config.username:
        auth = PlainTextAuthProvider(config.username, config.password())
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=config.local_dc)),
        request_timeout=config.request_timeout,
    )
    kwargs: dict[str, Any] = {
        "auth_provider": auth,
        "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
        "connect_timeout": config.connect_timeout,
        "control_connection_timeout": config.connect_timeout,
    }
    if config.protocol_version:
        kwargs["protocol_version"] = config.protocol_version
    if config.cloud_bundle:
        kwargs["cloud"] = {"secure_connect_bundle": config.cloud_bundle}
    else:
        kwargs["contact_points"] = config.endpoints()
        kwargs["ssl_context"] = _ssl_context(config)
        if config.tls and config.tls_check_hostname:
            kwargs["ssl_options"] = {"server_hostname": config.endpoints()[0][0]}
    cluster = Cluster(**kwargs)
    try:
        return cluster.connect(keyspace)
    except NoHostAvailable as exc:
        cluster.shutdown()
        raise ConnectionError(_explain(config, exc.errors)) from None
    except (OSError, ssl.SSLError) as exc:
        cluster.shutdown()
        raise ConnectionError(_explain(config, {config.describe(): exc})) from None
    except CassandraFramesError:
        cluster.shutdown()
        raise


def probe_node(
    address: str,
    port: int,
    *,
    login: tuple[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    peers: int = 0,
) -> tuple[bool, str]:
    """Whether the node at ``address`` answers CQL: log in, read ``system.local``, and check that it sees at
    least ``peers`` other nodes with their tokens. Returns ``(ok, why_not)``; never raises."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy

    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([address]), request_timeout=10)
    cluster = Cluster(
        contact_points=[address],
        port=port,
        auth_provider=PlainTextAuthProvider(*login) if login else None,
        ssl_context=ssl_context,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=5,
        control_connection_timeout=5,
    )
    try:
        session = cluster.connect()
        row = session.execute("SELECT release_version FROM system.local").one()
        if row is None:
            return False, "system.local is empty"
        seen = [p for p in session.execute("SELECT peer, tokens FROM system.peers_v2") if p.tokens]
        if len(seen) < peers:
            return False, f"sees {len(seen)} of {peers} peers in system.peers_v2"
        return True, ""
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"; reported on timeout
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        cluster.shutdown()


def get_session(config: ConnectionConfig) -> Any:
    """The process-wide session for ``config``, opened on first use and reused by every task.

    Returns
    -------
    cassandra.cluster.Session
    """
    with _lock:
        session = _sessions.get(config)
        if session is not None and not session.is_shutdown:
            return session
    session = connect(config)
    with _lock:
        existing = _sessions.get(config)
        if existing is not None and not existing.is_shutdown:
            session.cluster.shutdown()
            return existing
        _sessions[config] = session
    return session


def _settle(fut: asyncio.Future[Any], value: Any, exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(value)


class Responses:
    """A driver ``ResponseFuture`` as pages awaited on an asyncio loop.

    The driver calls back on its own threads, once per page; each callback settles the pending asyncio
    future on ``loop`` (thread-safe). For a write the first page is the whole result. With ``latency``,
    each page's round trip (request sent → answer arrived) is recorded in it.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        response_future: Any,
        latency: LatencyHistogram | None = None,
    ) -> None:
        self._loop = loop
        self._rf = response_future
        self._pending: asyncio.Future[list[Any]] = loop.create_future()
        self._latency = latency
        self._sent = time.perf_counter()
        response_future.add_callbacks(self._on_page, self._on_error)

    def _arrived(self, pending: asyncio.Future[list[Any]], rows: Any, exc: Any, seconds: float) -> None:
        if self._latency is not None:  # recorded on the loop thread, the histogram's only writer
            self._latency.record(seconds)
        _settle(pending, rows, exc)

    def _on_page(self, rows: list[Any]) -> None:
        seconds = time.perf_counter() - self._sent
        self._loop.call_soon_threadsafe(self._arrived, self._pending, rows, None, seconds)

    def _on_error(self, exc: BaseException) -> None:
        seconds = time.perf_counter() - self._sent
        self._loop.call_soon_threadsafe(self._arrived, self._pending, None, exc, seconds)

    async def page(self) -> list[Any]:
        """The rows of the current page (raises the driver's error)."""
        return await self._pending

    def request_next(self) -> bool:
        """Ask for the next page now (read-ahead) if there is one; whether there was."""
        if not self._rf.has_more_pages:
            return False
        self._pending = self._loop.create_future()
        self._sent = time.perf_counter()
        self._rf.start_fetching_next_page()
        return True
