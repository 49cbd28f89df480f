"""What the engine reads about the cluster, and the schema changes it makes.

- :func:`table_info` / :func:`find_table`: the driver's table metadata as a :class:`TableInfo` (refreshed
  once when missing: a table made by another session reaches this one up to seconds later);
- :func:`ring`: the partitioner and the ring's token ranges with their replicas;
- :func:`size_estimate` and :func:`count_rows`: how big a table is, for sizing a read plan;
- :func:`run_ddl`: CREATE / DROP statements, waiting for schema agreement;
- :func:`change_schema`: one such statement, the server's refusal raised as a :class:`SchemaError`;
- :func:`prepare`: prepared statements, cached per session.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from cassandra_frames import cql
from cassandra_frames.engine.connections import read_profile, request_timeout
from cassandra_frames.errors import PlanError, SchemaError, close_matches
from cassandra_frames.schema import ColumnInfo, TableInfo
from cassandra_frames.tokens import Partitioner, TokenRange, partitioner_for, ring_ranges

__all__ = [
    "change_schema",
    "count_rows",
    "find_table",
    "prepare",
    "ring",
    "run_ddl",
    "size_estimate",
    "table_info",
    "wait_for_index",
]

log = logging.getLogger("cassandra_frames")

_prepared_lock = threading.Lock()
_prepared: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _after_fork_in_child() -> None:
    global _prepared_lock
    _prepared_lock = threading.Lock()
    _prepared.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def prepare(session: Any, text: str) -> Any:
    """``session.prepare(text)``, cached per session (weakly: a closed session's statements go with it)."""
    with _prepared_lock:
        stmt = _prepared.get(session, {}).get(text)
    if stmt is None:
        stmt = session.prepare(text)
        with _prepared_lock:
            _prepared.setdefault(session, {})[text] = stmt
    return stmt


def _info(ks_meta: Any, tbl_meta: Any) -> TableInfo:
    keys = [ColumnInfo(c.name, str(c.cql_type), "partition_key") for c in tbl_meta.partition_key]
    keys += [
        ColumnInfo(c.name, str(c.cql_type), "clustering", bool(getattr(c, "is_reversed", False)))
        for c in tbl_meta.clustering_key
    ]
    key_names = {c.name for c in keys}
    others = [
        ColumnInfo(name, str(c.cql_type), "static" if getattr(c, "is_static", False) else "regular")
        for name, c in tbl_meta.columns.items()
        if name not in key_names
    ]
    udts = {
        str(name): tuple((str(f), str(t)) for f, t in zip(udt.field_names, udt.field_types, strict=True))
        for name, udt in (getattr(ks_meta, "user_types", None) or {}).items()
    }
    sai = set()
    for index in (getattr(tbl_meta, "indexes", None) or {}).values():
        options = dict(index.index_options or {})
        kind = str(options.get("class_name", "")).lower()  # "sai" when made with USING 'sai'
        if kind == "sai" or "storageattachedindex" in kind:
            sai.add(str(options.get("target", "")).strip('"'))
    return TableInfo(ks_meta.name, tbl_meta.name, (*keys, *others), udts, frozenset(sai))


def find_table(session: Any, keyspace: str, table: str) -> TableInfo | None:
    """The table, or None when its keyspace has no such table (after one refresh of the metadata).

    Raises
    ------
    SchemaError
        The keyspace does not exist (close matches named).
    """
    cluster = session.cluster
    for attempt in range(2):
        ks = cluster.metadata.keyspaces.get(keyspace)
        tbl = ks.tables.get(table) if ks is not None else None
        if tbl is not None:
            return _info(ks, tbl)
        if attempt == 0:
            cluster.refresh_schema_metadata(max_schema_agreement_wait=10)
    if ks is None:
        known = cluster.metadata.keyspaces
        raise SchemaError(f"keyspace {keyspace!r} does not exist{close_matches(keyspace, known)}")
    return None


def table_info(session: Any, keyspace: str, table: str) -> TableInfo:
    """The table as a :class:`TableInfo`.

    Raises
    ------
    SchemaError
        The keyspace or the table does not exist (close matches named).
    """
    info = find_table(session, keyspace, table)
    if info is None:
        tables = session.cluster.metadata.keyspaces[keyspace].tables
        raise SchemaError(f"table {keyspace}.{table} does not exist{close_matches(table, tables)}")
    return info


def ring(session: Any, keyspace: str) -> tuple[Partitioner, list[TokenRange]]:
    """The cluster's partitioner and the non-wrapping token ranges of its ring, with their replicas in
    ``keyspace``.

    Raises
    ------
    PlanError
        An unsupported partitioner, or no token map (driver metadata disabled).
    """
    meta = session.cluster.metadata
    partitioner = partitioner_for(meta.partitioner or "")
    token_map = meta.token_map
    if token_map is None or not token_map.ring:
        raise PlanError("the driver has no token map (metadata disabled?): cannot plan token ranges")
    replicas = {
        t.value: tuple(str(h.address) for h in token_map.get_replicas(keyspace, t)) for t in token_map.ring
    }
    return partitioner, ring_ranges([t.value for t in token_map.ring], replicas, partitioner)


def size_estimate(session: Any, keyspace: str, table: str) -> float:
    """Bytes of the table by ``system.size_estimates`` summed over the live nodes (0 when none has one).

    A node that cannot answer is logged (``cassandra_frames`` logger, WARNING) and left out.
    """
    profile = read_profile(session, request_timeout(session))
    total = 0.0
    for host in session.cluster.metadata.all_hosts():
        if host.is_up is False:
            continue
        try:
            stmt = prepare(session, cql.SIZE_ESTIMATES)
            rows = session.execute(stmt, (keyspace, table), host=host, timeout=10, execution_profile=profile)
        except Exception as exc:  # noqa: BLE001 - estimates are a hint: say which node failed, go on
            log.warning(
                "size estimates of %s.%s from %s failed (%s: %s); sizing the read without them",
                keyspace,
                table,
                host.address,
                type(exc).__name__,
                exc,
            )
            continue
        total += sum((r[0] or 0) * (r[1] or 0) for r in rows)
    return total


def count_rows(
    session: Any, keyspace: str, table: str, partition_key: Sequence[str], ranges: Sequence[TokenRange]
) -> int:
    """Rows in ``ranges`` (``SELECT count(*)`` per range, all at once)."""
    timeout = request_timeout(session)
    profile = read_profile(session, timeout)
    stmt = prepare(session, cql.count_range(keyspace, table, partition_key))
    futures = [
        session.execute_async(stmt, (r.start, r.end), timeout=timeout, execution_profile=profile)
        for r in ranges
    ]
    return sum(int(f.result().one()[0]) for f in futures)


def run_ddl(session: Any, keyspace: str, *statements: str, timeout: float = 120.0) -> None:
    """Execute schema statements (CREATE, DROP) of ``keyspace`` in order, each followed by schema agreement
    and a refresh of the driver's metadata of that keyspace, so the next statement and the next lookup see
    the change."""
    cluster = session.cluster
    for text in statements:
        session.execute(text, timeout=timeout)
        cluster.control_connection.wait_for_schema_agreement(wait_time=30)
        cluster.refresh_keyspace_metadata(keyspace, max_schema_agreement_wait=10)


def change_schema(session: Any, keyspace: str, statement: str, *, timeout: float = 120.0) -> None:
    """:func:`run_ddl` of one statement of ``keyspace``; a statement the server refuses (exists already,
    does not exist, bad options, not allowed) raises :class:`SchemaError` with the server's message.

    Raises
    ------
    SchemaError
        The server refused the statement (close matches named when the keyspace does not exist).
    """
    from cassandra import RequestValidationException
    from cassandra.protocol import ErrorMessage

    try:
        run_ddl(session, keyspace, statement, timeout=timeout)
    except (RequestValidationException, ErrorMessage) as exc:
        found = re.search(r'message="(.*)"', str(exc), re.DOTALL)
        message = found.group(1) if found else str(exc)
        if "doesn't exist" in message or "does not exist" in message:
            message += close_matches(keyspace, session.cluster.metadata.keyspaces)
        raise SchemaError(message) from None


def wait_for_index(session: Any, keyspace: str, index: str, timeout: float = 600.0) -> bool:
    """Wait until every live node lists ``index`` as built (its node-local ``system."IndexInfo"``): a
    read filtering on an index still building fails with INDEX_NOT_AVAILABLE. Whether it was built
    within ``timeout`` seconds."""
    query = 'SELECT index_name FROM system."IndexInfo" WHERE table_name = %s AND index_name = %s'
    pending = [h for h in session.cluster.metadata.all_hosts() if h.is_up is not False]
    deadline = time.monotonic() + timeout
    while True:
        pending = [h for h in pending if session.execute(query, (keyspace, index), host=h).one() is None]
        if not pending:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
