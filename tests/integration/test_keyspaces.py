"""cf.create_keyspace / cf.drop_keyspace against the real node: the keyspace appears with the replication
asked for, tables can be made in it, and the server's refusals come back as SchemaError."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import pytest

import cassandra_frames as cf
from cassandra_frames.config import ConnectionConfig


def replication(session: Any, name: str) -> dict[str, str] | None:
    row = session.execute(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s", (name,)
    ).one()
    return None if row is None else dict(row.replication)


@pytest.fixture
def name(cassandra_config: ConnectionConfig) -> Any:
    """A fresh keyspace name, dropped (if it was made) after the test."""
    value = f"cf_ks_{uuid.uuid4().hex[:12]}"
    yield value
    cf.drop_keyspace(value, connection=cassandra_config)


def test_create_use_and_drop(cassandra_config: ConnectionConfig, cassandra_session: Any, name: str) -> None:
    cf.create_keyspace(name, connection=cassandra_config)
    assert replication(cassandra_session, name) == {
        "class": "org.apache.cassandra.locator.SimpleStrategy",
        "replication_factor": "1",
    }
    cf.create_keyspace(name, 3, connection=cassandra_config)  # exists: left as it is
    assert replication(cassandra_session, name)["replication_factor"] == "1"  # type: ignore[index]

    frame = pd.DataFrame({"id": [1, 2, 3], "v": ["a", "b", "c"]})
    cf.to_cassandra(frame, f"{name}.t", connection=cassandra_config, create_table=True, partition_key="id")
    back = cf.read_cassandra(f"{name}.t", connection=cassandra_config).compute()  # type: ignore[no-untyped-call]
    assert sorted(back["v"].tolist()) == ["a", "b", "c"]

    cf.drop_keyspace(name, connection=cassandra_config)
    assert replication(cassandra_session, name) is None
    cf.drop_keyspace(name, connection=cassandra_config)  # gone already: nothing to do
    with pytest.raises(cf.SchemaError, match=rf"keyspace '{name}' does not exist"):
        cf.read_cassandra(f"{name}.t", connection=cassandra_config)


def test_refusals_are_schema_errors(cassandra_config: ConnectionConfig, name: str) -> None:
    cf.create_keyspace(name, connection=cassandra_config)
    with pytest.raises(
        cf.SchemaError,
        match=rf"cannot create keyspace '{name}': .*already exists.*if_not_exists",
    ):
        cf.create_keyspace(name, connection=cassandra_config, if_not_exists=False)
    cf.drop_keyspace(name, connection=cassandra_config)
    with pytest.raises(cf.SchemaError, match=rf"cannot drop keyspace '{name}': .*doesn't exist"):
        cf.drop_keyspace(name, connection=cassandra_config, if_exists=False)
    with pytest.raises(cf.SchemaError, match="Unrecognized strategy option"):
        cf.create_keyspace(
            name,
            replication={"class": "NetworkTopologyStrategy", "no_such_dc": 1},
            connection=cassandra_config,
        )


def test_network_topology_and_a_case_sensitive_name(
    cassandra_config: ConnectionConfig, cassandra_session: Any
) -> None:
    dc = cassandra_session.execute("SELECT data_center FROM system.local").one().data_center
    mixed = f"Cf_Ks_{uuid.uuid4().hex[:8]}"
    try:
        cf.create_keyspace(
            mixed, replication={"class": "NetworkTopologyStrategy", dc: 1}, connection=cassandra_config
        )
        assert replication(cassandra_session, mixed) == {
            "class": "org.apache.cassandra.locator.NetworkTopologyStrategy",
            dc: "1",
        }
        assert replication(cassandra_session, mixed.lower()) is None  # quoted: the case is kept
    finally:
        cf.drop_keyspace(mixed, connection=cassandra_config)
    assert replication(cassandra_session, mixed) is None
