"""Column serialization gives exactly the bytes the driver's own bind would send, also for the value types
the write side builds without the driver (convert.values)."""

from __future__ import annotations

import decimal
import uuid
from typing import Any

import pytest
from cassandra import ConsistencyLevel, cqltypes
from cassandra.query import UNSET_VALUE
from cassandra.util import Date, Duration, OrderedMap, Time

from cassandra_frames.config import CONSISTENCY_LEVELS
from cassandra_frames.convert.values import CqlDate, CqlDuration, CqlTime, PairMap
from cassandra_frames.engine.encode import batch_statement, bound_statement, serialize_column

PV = 5

CASES: list[tuple[str, list[Any]]] = [
    ("tinyint", [-128, 0, 127, None]),
    ("smallint", [-32768, 5, 32767]),
    ("int", [-(2**31), 0, 2**31 - 1, None, 42]),
    ("bigint", [-(2**63), 2**63 - 1, None]),
    ("counter", [-5, 9]),
    ("timestamp", [-62135596800000, 0, 253402300800000, None]),  # int ms, years 1 .. 10000
    ("float", [0.1, -3.4028234663852886e38, float("inf"), None]),
    ("double", [0.1, -1e308, float("nan"), None]),
    ("boolean", [True, False, None]),
    ("text", ["", "héllo", "\u0000", None]),
    ("ascii", ["abc", ""]),
    ("blob", [b"", b"\xde\xad", None]),
    ("uuid", [uuid.UUID(int=0), uuid.uuid4(), None]),
    ("timeuuid", [uuid.uuid1(), None]),
    ("decimal", [decimal.Decimal("-1.0000000000000000000000000001E+30"), None]),
    ("varint", [10**200, -1, None]),
    ("date", [Date(-2545740), Date(0), None]),
    ("time", [Time(43200000000001), None]),
    ("duration", [Duration(1, 2, 3), None]),
    ("inet", ["::1", "192.168.0.1"]),
    ("list<int>", [[1, 2], [], None]),
    ("map<text, int>", [{"a": 1}, None]),
]


@pytest.mark.parametrize(("cql", "values"), CASES, ids=[c for c, _ in CASES])
def test_matches_the_driver_serializer(cql: str, values: list[Any]) -> None:
    driver_type = _driver_type(cql)
    got = serialize_column(values, driver_type, PV)
    want = [None if v is None else driver_type.serialize(v, PV) for v in values]
    assert got == want


def _driver_type(cql: str) -> Any:
    simple = {
        "tinyint": cqltypes.ByteType,
        "smallint": cqltypes.ShortType,
        "int": cqltypes.Int32Type,
        "bigint": cqltypes.LongType,
        "counter": cqltypes.CounterColumnType,
        "timestamp": cqltypes.DateType,
        "float": cqltypes.FloatType,
        "double": cqltypes.DoubleType,
        "boolean": cqltypes.BooleanType,
        "text": cqltypes.UTF8Type,
        "ascii": cqltypes.AsciiType,
        "blob": cqltypes.BytesType,
        "uuid": cqltypes.UUIDType,
        "timeuuid": cqltypes.TimeUUIDType,
        "decimal": cqltypes.DecimalType,
        "varint": cqltypes.IntegerType,
        "date": cqltypes.SimpleDateType,
        "time": cqltypes.TimeType,
        "duration": cqltypes.DurationType,
        "inet": cqltypes.InetAddressType,
    }
    if cql in simple:
        return simple[cql]
    if cql == "list<int>":
        return cqltypes.ListType.apply_parameters([cqltypes.Int32Type])
    return cqltypes.MapType.apply_parameters([cqltypes.UTF8Type, cqltypes.Int32Type])


@pytest.mark.parametrize("typ", [cqltypes.Int32Type, cqltypes.UTF8Type, cqltypes.SimpleDateType])
def test_none_is_a_null_or_unset_when_asked(typ: Any) -> None:
    value = {cqltypes.Int32Type: 1, cqltypes.UTF8Type: "a", cqltypes.SimpleDateType: Date(3)}[typ]
    nulls = serialize_column([value, None], typ, PV)
    unset = serialize_column([value, None], typ, PV, unset_nulls=True)
    assert nulls[0] == unset[0] == typ.serialize(value, PV)
    assert nulls[1] is None
    assert unset[1] is UNSET_VALUE


def test_out_of_range_is_an_error_not_a_wrapped_value() -> None:
    with pytest.raises((OverflowError, ValueError)):
        serialize_column([2**31], cqltypes.Int32Type, PV)


def _prepared() -> Any:
    """A stand-in for a driver PreparedStatement: what BoundStatement reads from one."""
    from types import SimpleNamespace

    return SimpleNamespace(
        retry_policy=None,
        consistency_level=None,
        serial_consistency_level=None,
        fetch_size=None,
        custom_payload=None,
        is_idempotent=True,
        column_metadata=[SimpleNamespace(keyspace_name="ks")],
        routing_key_indexes=[0],
        query_id=b"id",
    )


def test_bound_statement_carries_the_serialized_values() -> None:
    prepared = _prepared()
    bound = bound_statement(prepared, (b"\x00\x00\x00\x07", b"x"))
    assert bound.values == [b"\x00\x00\x00\x07", b"x"]
    assert bound.routing_key == b"\x00\x00\x00\x07"
    assert bound.keyspace == "ks"


def test_a_batch_holds_what_adding_bound_statements_would() -> None:
    """batch_statement skips a BoundStatement per row, but the batch carries the same entries, routing key
    and keyspace as BatchStatement.add(bound) of every row."""
    from cassandra.query import BatchStatement, BatchType

    prepared = _prepared()
    rows = [(b"\x00\x00\x00\x07", b"x"), (b"\x00\x00\x00\x07", b"y"), (b"\x00\x00\x00\x07", None)]
    ours = batch_statement([(prepared, r) for r in rows], BatchType.UNLOGGED)
    theirs = BatchStatement(batch_type=BatchType.UNLOGGED)
    for r in rows:
        theirs.add(bound_statement(prepared, r))
    assert ours._statements_and_parameters == theirs._statements_and_parameters
    assert (ours.routing_key, ours.keyspace, ours.batch_type) == (
        theirs.routing_key,
        theirs.keyspace,
        theirs.batch_type,
    )


INT_MAP = cqltypes.MapType.apply_parameters([cqltypes.Int32Type, cqltypes.Int32Type])


@pytest.mark.parametrize(
    ("typ", "ours", "drivers"),
    [
        (cqltypes.SimpleDateType, CqlDate(-2545740), Date(-2545740)),
        (cqltypes.SimpleDateType, CqlDate(2**31 - 1), Date(2**31 - 1)),
        (cqltypes.TimeType, CqlTime(43200000000001), Time(43200000000001)),
        (cqltypes.DurationType, CqlDuration(-14, -2, -5), Duration(-14, -2, -5)),
        (
            cqltypes.MapType.apply_parameters([INT_MAP, cqltypes.UTF8Type]),
            PairMap([({1: 2}, "x"), ({}, "y")]),
            OrderedMap([({1: 2}, "x"), ({}, "y")]),
        ),
        (
            cqltypes.MapType.apply_parameters([cqltypes.DoubleType, cqltypes.UTF8Type]),
            PairMap([(0.0, "a"), (-0.0, "b")]),
            OrderedMap([(0.0, "a"), (-0.0, "b")]),
        ),
        (
            cqltypes.ListType.apply_parameters([cqltypes.SimpleDateType]),
            [CqlDate(1), CqlDate(-1)],
            [Date(1), Date(-1)],
        ),
    ],
)
def test_the_write_side_value_types_serialize_like_the_drivers(typ: Any, ours: Any, drivers: Any) -> None:
    """convert.values' types (no driver import) give exactly the bytes of the driver's own classes."""
    assert serialize_column([ours, None], typ, PV) == [typ.serialize(drivers, PV), None]


def test_consistency_levels_are_the_drivers() -> None:
    assert set(CONSISTENCY_LEVELS) == set(ConsistencyLevel.name_to_value)
