"""The session node that every integration test shares: reachable, Cassandra 5, usable keyspaces."""

from __future__ import annotations

from typing import Any


def test_session_node_is_cassandra_5(cassandra_session: Any) -> None:
    version = cassandra_session.execute("SELECT release_version FROM system.local").one()[0]
    assert version.startswith("5.0."), version


def test_keyspace_fixture_round_trip(cassandra_session: Any, keyspace: str) -> None:
    cassandra_session.execute(f"CREATE TABLE {keyspace}.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    insert = cassandra_session.prepare(f"INSERT INTO {keyspace}.t (pk, ck, v) VALUES (?, ?, ?)")
    rows = {(pk, ck, f"{pk}/{ck}é") for pk in range(5) for ck in range(20)}
    for row in rows:
        cassandra_session.execute(insert, row)
    got = {tuple(r) for r in cassandra_session.execute(f"SELECT pk, ck, v FROM {keyspace}.t")}
    assert got == rows
    meta = cassandra_session.cluster.metadata.keyspaces[keyspace].tables["t"]
    assert [c.name for c in meta.partition_key] == ["pk"]
