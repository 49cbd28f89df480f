"""create_keyspace / drop_keyspace: names and replication settings are checked before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

import cassandra_frames as cf
from cassandra_frames.keyspaces import InvalidKeyspaceError, check_name, replication_map


@pytest.mark.parametrize("name", ["analytics", "MyData", "k_1", "x" * 48, "system_foo"])
def test_good_names_pass(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "it is empty"),
        ("x" * 49, "it has 49 characters"),
        ("my-data", "'-' is not allowed"),
        ('a"; DROP KEYSPACE b', "is not allowed"),
        ("ks.table", "'.' is not allowed"),
        ("system", "system keyspace"),
        ("System_Schema", "system keyspace"),
    ],
)
def test_bad_names_are_refused_with_the_reason(name: str, says: str) -> None:
    with pytest.raises(InvalidKeyspaceError, match="keyspace") as info:
        check_name(name)
    assert says in str(info.value)


def test_a_name_must_be_a_string() -> None:
    with pytest.raises(InvalidKeyspaceError, match="must be a string, not int"):
        check_name(42)


def test_the_error_is_a_schema_error_and_a_value_error() -> None:
    assert issubclass(cf.InvalidKeyspaceError, cf.SchemaError)
    assert issubclass(cf.InvalidKeyspaceError, ValueError)


def test_simple_strategy_by_default() -> None:
    assert replication_map() == "{'class': 'SimpleStrategy', 'replication_factor': '1'}"
    assert replication_map(3) == "{'class': 'SimpleStrategy', 'replication_factor': '3'}"


def test_a_full_map_with_short_strategy_names_and_quoted_values() -> None:
    text = replication_map(replication={"class": "networktopology", "dc1": 3, "it's": "2"})
    assert text == "{'class': 'NetworkTopologyStrategy', 'dc1': '3', 'it''s': '2'}"
    assert replication_map(replication={"class": "simple", "replication_factor": 2}) == (
        "{'class': 'SimpleStrategy', 'replication_factor': '2'}"
    )


@pytest.mark.parametrize(
    ("factor", "replication", "says"),
    [
        (0, None, "at least 1"),
        (-2, None, "at least 1"),
        (True, None, "whole number, not bool"),
        (1.5, None, "whole number, not float"),
        (2, {"class": "SimpleStrategy", "replication_factor": 2}, "not both"),
        (1, {"dc1": 3}, "with a 'class'"),
        (1, {"class": "NetworkTopologyStrategy", "dc1": 2.5}, "'dc1'"),
        (1, {"class": "NetworkTopologyStrategy", "dc1": -1}, "must not be negative"),
        (1, {"class": "NetworkTopologyStrategy", 3: 1}, "string name"),
    ],
)
def test_bad_replication_is_refused(factor: Any, replication: Any, says: str) -> None:
    with pytest.raises(InvalidKeyspaceError) as info:
        replication_map(factor, replication)
    assert says in str(info.value)


def test_nothing_is_sent_for_a_bad_name() -> None:
    """The name is checked before the connection is even looked at (an unusable one would fail otherwise)."""
    with pytest.raises(InvalidKeyspaceError, match="'-' is not allowed"):
        cf.create_keyspace("bad-name", connection=object())
    with pytest.raises(InvalidKeyspaceError, match="system keyspace"):
        cf.drop_keyspace("system_auth", connection=object())
    with pytest.raises(InvalidKeyspaceError, match="at least 1"):
        cf.create_keyspace("fine", 0, connection=object())


def test_a_bad_connection_after_good_settings_is_a_clear_error() -> None:
    with pytest.raises(cf.CassandraFramesError, match="connection must be a ConnectionConfig"):
        cf.create_keyspace("fine", connection=object())


def test_public_names() -> None:
    for name in ("create_keyspace", "drop_keyspace", "InvalidKeyspaceError", "local", "datasets"):
        assert name in cf.__all__
        assert getattr(cf, name) is not None
    assert callable(cf.local.start)
    assert callable(cf.datasets.flights)
