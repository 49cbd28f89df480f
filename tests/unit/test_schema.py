"""Without a server: CQL type parsing (cqltypes), the Arrow type table and table schemas from TableInfo values
(schema), value converters built from hand-made driver values (convert.to_arrow), pandas dtypes and the
inverse mapping."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import ipaddress
import uuid
from typing import Any, cast

import pandas as pd
import pyarrow as pa
import pytest
from cassandra.cqltypes import lookup_casstype
from cassandra.util import Date, Duration, OrderedMapSerializedKey, SortedSet, Time
from hypothesis import given, settings
from hypothesis import strategies as st

from cassandra_frames.convert.to_arrow import column_converter, fetched_converter
from cassandra_frames.cql import select_expression
from cassandra_frames.cqltypes import NATIVE_TYPES, RESERVED_KEYWORDS, CqlType, parse_cql_type
from cassandra_frames.errors import CassandraFramesError, SchemaError
from cassandra_frames.schema import (
    ColumnInfo,
    TableInfo,
    arrow_type,
    cql_type_for_arrow,
    empty_frame,
    table_schema,
    to_pandas,
)

TS = pa.timestamp("ms", tz="UTC")
MARSHAL = "org.apache.cassandra.db.marshal."

# ----------------------------------------------------------------------------------------------- parsing

ROUND_TRIP = [
    "int",
    "text",
    "varchar",
    "ascii",
    "counter",
    "duration",
    "list<int>",
    "set<text>",
    "map<text, int>",
    "frozen<list<int>>",
    "frozen<map<text, frozen<list<int>>>>",
    "map<frozen<set<int>>, text>",
    "map<timestamp, frozen<list<timestamp>>>",
    "list<frozen<list<int>>>",
    "vector<float, 3>",
    "vector<text, 2>",
    "vector<vector<float, 2>, 2>",
    "list<vector<float, 2>>",
    "tuple<int, text>",
    "frozen<tuple<int, text, timestamp>>",
    "frozen<tuple<int, frozen<list<int>>>>",
    "frozen<address>",
    'frozen<"MyType">',
    'frozen<"My.Type">',
    'frozen<"select">',
    'frozen<"a""b">',
    "list<frozen<address>>",
    'list<frozen<"Addr">>',
    "ks.address",
    '"Ks"."Addr"',
    "map<frozen<pt>, int>",
    "set<frozen<tuple<int, text>>>",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_parse_round_trips_driver_text(text: str) -> None:
    parsed = parse_cql_type(text)
    assert str(parsed) == text
    assert parse_cql_type(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("INT", "int"),
        ("  Map < TEXT ,INT >  ", "map<text, int>"),
        ("FROZEN<List<BigInt>>", "frozen<list<bigint>>"),
        ("vector<FLOAT,3>", "vector<float, 3>"),
        ("Address", "address"),  # unquoted names are case-insensitive
        ('"MyType"', '"MyType"'),
        ("ks.Address", "ks.address"),
    ],
)
def test_parse_normalizes_case_and_spacing(text: str, normal: str) -> None:
    assert str(parse_cql_type(text)) == normal


def test_parse_structure() -> None:
    t = parse_cql_type("frozen<map<text, frozen<list<int>>>>")
    assert t == CqlType(
        "map", (CqlType("text"), CqlType("list", (CqlType("int"),), frozen=True)), frozen=True
    )
    v = parse_cql_type("vector<float, 1536>")
    assert (v.name, v.size, v.params) == ("vector", 1536, (CqlType("float"),))
    u = parse_cql_type('frozen<"Ks"."MyType">')
    assert (u.name, u.keyspace, u.frozen, u.is_udt, u.is_native) == ("MyType", "Ks", True, True, False)
    assert parse_cql_type("timestamp").is_native
    assert parse_cql_type("set<int>").is_collection
    assert not parse_cql_type("tuple<int>").is_collection
    assert parse_cql_type("frozen<set<int>>").unfrozen() == parse_cql_type("set<int>")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("'org.apache.cassandra.db.marshal.XYZ'", "org.apache.cassandra.db.marshal.XYZ"),
        ("list<'org.apache.cassandra.db.marshal.LexicalUUIDType'>", "LexicalUUIDType"),
        ("list<int", "expected '>'"),
        ("map<int>", "map takes 2"),
        ("list<int, int>", "list takes 1"),
        ("vector<float>", "expected ','"),
        ("vector<float, 0>", "positive"),
        ("int int", "end of text"),
        ("", "type name"),
        ("list<>", "type name"),
        ('"int"', "built-in"),
        ("int$", "unexpected character"),
    ],
)
def test_parse_errors_name_the_type(text: str, needle: str) -> None:
    with pytest.raises(SchemaError) as err:
        parse_cql_type(text)
    assert needle in str(err.value)


def test_cqltype_rejects_inconsistent_construction() -> None:
    with pytest.raises(SchemaError):
        CqlType("list")
    with pytest.raises(SchemaError):
        CqlType("map", (CqlType("int"),))
    with pytest.raises(SchemaError):
        CqlType("int", (CqlType("int"),))
    with pytest.raises(SchemaError):
        CqlType("vector", (CqlType("float"),))  # no size
    with pytest.raises(SchemaError):
        CqlType("int", size=3)
    with pytest.raises(SchemaError):
        CqlType("frozen", (CqlType("int"),))


# -------------------------------------------------------------------------------------------- arrow types

NATIVE_ARROW = {
    "ascii": pa.string(),
    "text": pa.string(),
    "varchar": pa.string(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "counter": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "blob": pa.binary(),
    "date": pa.date32(),
    "time": pa.time64("ns"),
    "timestamp": TS,
    "uuid": pa.string(),
    "timeuuid": pa.string(),
    "inet": pa.string(),
    "duration": pa.month_day_nano_interval(),
    "decimal": pa.string(),
    "varint": pa.string(),
}


@pytest.mark.parametrize(("cql", "arrow"), sorted(NATIVE_ARROW.items()))
def test_arrow_type_of_native_types(cql: str, arrow: pa.DataType) -> None:
    assert arrow_type(cql) == arrow
    assert arrow_type(CqlType(cql)) == arrow


def test_every_native_type_is_in_the_table() -> None:
    assert set(NATIVE_ARROW) == NATIVE_TYPES


def test_lossy_numbers_are_float64_on_request() -> None:
    assert arrow_type("decimal", exact_numbers=False) == pa.float64()
    assert arrow_type("varint", exact_numbers=False) == pa.float64()
    assert arrow_type("list<decimal>", exact_numbers=False) == pa.list_(pa.float64())
    assert arrow_type("int", exact_numbers=False) == pa.int32()


UDTS: dict[str, list[tuple[str, str]]] = {
    "inner_t": [("a", "int"), ("ts", "timestamp")],
    "Addr": [("street", "text"), ("Zip", "int"), ("inner", "frozen<inner_t>"), ("tags", "set<text>")],
}
INNER = pa.struct([("a", pa.int32()), ("ts", TS)])
ADDR = pa.struct(
    [("street", pa.string()), ("Zip", pa.int32()), ("inner", INNER), ("tags", pa.list_(pa.string()))]
)


@pytest.mark.parametrize(
    ("cql", "arrow"),
    [
        ("list<int>", pa.list_(pa.int32())),
        ("set<uuid>", pa.list_(pa.string())),
        ("frozen<list<frozen<set<date>>>>", pa.list_(pa.list_(pa.date32()))),
        ("map<text, frozen<list<int>>>", pa.map_(pa.string(), pa.list_(pa.int32()))),
        ("map<frozen<set<int>>, text>", pa.map_(pa.list_(pa.int32()), pa.string())),
        ("tuple<int, text, timestamp>", pa.struct([("f0", pa.int32()), ("f1", pa.string()), ("f2", TS)])),
        ("vector<float, 3>", pa.list_(pa.float32(), 3)),
        ("vector<bigint, 2>", pa.list_(pa.int64(), 2)),
        ("vector<vector<float, 2>, 4>", pa.list_(pa.list_(pa.float32(), 2), 4)),
        ('frozen<"Addr">', ADDR),
        ('list<frozen<"Addr">>', pa.list_(ADDR)),
        ('map<text, frozen<"Addr">>', pa.map_(pa.string(), ADDR)),
        ("ks.inner_t", INNER),
    ],
)
def test_arrow_type_of_nested_types(cql: str, arrow: pa.DataType) -> None:
    assert arrow_type(cql, UDTS) == arrow


def test_udt_field_types_may_be_parsed_already() -> None:
    udts = {"p": [("x", CqlType("int")), ("y", parse_cql_type("list<text>"))]}
    assert arrow_type("frozen<p>", udts) == pa.struct([("x", pa.int32()), ("y", pa.list_(pa.string()))])


def test_unknown_udt_is_named_with_close_matches() -> None:
    with pytest.raises(SchemaError, match=r"unknown user-defined type 'adr'.*'Addr'"):
        arrow_type("frozen<adr>", {"Addr": UDTS["Addr"], "inner_t": UDTS["inner_t"]})
    with pytest.raises(SchemaError, match=r"unknown user-defined type 'address'.*none"):
        arrow_type("list<frozen<address>>")


def test_self_containing_udt_is_an_error_not_a_recursion() -> None:
    with pytest.raises(SchemaError, match="contains itself"):
        arrow_type("frozen<loop>", {"loop": [("x", "frozen<loop>")]})


def test_reserved_keywords_are_those_the_driver_quotes() -> None:
    from cassandra.metadata import cql_keywords_reserved

    assert frozenset(cql_keywords_reserved) == RESERVED_KEYWORDS


# ------------------------------------------------------------------------------------------- converters


def convert(cql: str, values: list[Any], udts: Any = None, exact: bool = True) -> pa.Array:
    arr = column_converter(cql, udts, exact_numbers=exact)(values)
    assert arr.type == arrow_type(cql, udts, exact_numbers=exact)
    assert len(arr) == len(values)
    return arr


def test_flat_primitive_column_is_one_pa_array_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = pa.array

    def spy(values: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(values)
        return real(values, *args, **kwargs)

    monkeypatch.setattr(pa, "array", spy)
    cases: list[tuple[str, list[Any]]] = [
        ("int", [1, None, -(2**31)]),
        ("text", ["a", "", None]),
        ("double", [1.5, None]),
        ("blob", [b"\x00", None]),
        ("boolean", [True, None]),
        ("timestamp", [dt.datetime(2020, 1, 1), None]),
        ("vector<float, 2>", [[1.0, 2.0], None]),
        ("list<int>", [[1], None, SortedSet([2, 3])]),
    ]
    for cql, values in cases:
        calls.clear()
        column_converter(cql)(values)
        assert len(calls) == 1, cql
        assert calls[0] is values, cql  # handed to pyarrow untouched


@pytest.mark.parametrize(
    ("cql", "values"),
    [
        ("tinyint", [-128, 127, None]),
        ("smallint", [-32768, 32767, None]),
        ("int", [-(2**31), 2**31 - 1, None]),
        ("bigint", [-(2**63), 2**63 - 1, None]),
        ("counter", [-(2**63), 0, None]),
        ("boolean", [True, False, None]),
        ("text", ["", "héllo 🌍 中文", None]),
        ("ascii", ["", "abc", None]),
        ("blob", [b"", b"\xde\xad\xbe\xef", None]),
    ],
)
def test_values_pyarrow_reads_natively_survive(cql: str, values: list[Any]) -> None:
    assert convert(cql, values).to_pylist() == values


def test_floats_are_float32_and_float64() -> None:
    arr = convert("float", [1.5, float("inf"), 3.4028234663852886e38, None])
    assert arr.to_pylist() == [1.5, float("inf"), 3.4028234663852886e38, None]
    assert convert("double", [1e308, -0.0, None]).to_pylist() == [1e308, -0.0, None]


def test_integer_out_of_range_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="tinyint"):
        convert("tinyint", [128])


def test_uuid_is_canonical_lowercase_text() -> None:
    u = uuid.UUID("550E8400-E29B-41D4-A716-446655440000")
    tu = uuid.UUID("e5a1dfd0-e81e-11f1-a695-6306d05ebcda")
    assert convert("uuid", [u, None]).to_pylist() == ["550e8400-e29b-41d4-a716-446655440000", None]
    assert convert("timeuuid", [tu]).to_pylist() == ["e5a1dfd0-e81e-11f1-a695-6306d05ebcda"]
    assert convert("uuid", ["550E8400-E29B-41D4-A716-446655440000"]).to_pylist() == [str(u)]


@pytest.mark.parametrize("container", [list, tuple])
def test_uuid_column_text_equals_str_of_each_uuid(container: Any) -> None:
    values = [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), None] + [uuid.uuid4() for _ in range(500)] + [None]
    values += [uuid.uuid1() for _ in range(10)]
    arr = convert("timeuuid", container(values))
    arr.validate(full=True)
    assert arr.null_count == 2
    assert arr.to_pylist() == [None if v is None else str(v) for v in values]
    mixed = [uuid.UUID(int=7), "00000000-0000-0000-0000-00000000000A", None]
    assert convert("uuid", mixed).to_pylist() == [str(uuid.UUID(int=7)), str(uuid.UUID(int=10)), None]


def test_inet_accepts_driver_strings_and_ipaddress_objects() -> None:
    values = ["::1", ipaddress.ip_address("192.168.0.1"), ipaddress.ip_address("2001:db8::1"), None]
    assert convert("inet", values).to_pylist() == ["::1", "192.168.0.1", "2001:db8::1", None]


def test_decimal_text_is_exact() -> None:
    values = [
        decimal.Decimal("-1.0000000000000000000000000001E+30"),
        decimal.Decimal("10.000"),
        decimal.Decimal("0.00001"),
        decimal.Decimal("1E-7"),
        decimal.Decimal("123456789012345678901234567890.123456789012345678901234567890"),
        None,
    ]
    got = convert("decimal", values).to_pylist()
    assert got == [
        "-1.0000000000000000000000000001E+30",
        "10.000",
        "0.00001",
        "1E-7",
        "123456789012345678901234567890.123456789012345678901234567890",
        None,
    ]
    assert [decimal.Decimal(g) for g in got[:-1]] == values[:-1]


def test_varint_text_is_exact_even_beyond_python_str_limit() -> None:
    huge = 10**200
    beyond = -(7**6000)  # more digits than int→str allows by default (4300)
    got = convert("varint", [huge, -huge - 1, 0, beyond, None]).to_pylist()
    assert got[:3] == ["1" + "0" * 200, "-1" + "0" * 199 + "1", "0"]
    assert got[3] is not None
    assert got[3].startswith("-")
    assert len(got[3]) > 5000
    assert decimal.Decimal(got[3]) == decimal.Decimal(beyond)
    assert got[4] is None


def test_lossy_numbers_become_float64() -> None:
    dec = convert("decimal", [decimal.Decimal("1.5"), decimal.Decimal("-1E+400"), None], exact=False)
    assert dec.to_pylist() == [1.5, float("-inf"), None]
    var = convert("varint", [3, 2**64, 10**400, -(10**400), None], exact=False)
    assert var.to_pylist() == [3.0, float(2**64), float("inf"), float("-inf"), None]


def test_date_uses_days_from_epoch_everywhere() -> None:
    values = [
        Date(-(2**31)),  # the smallest Cassandra date, ~5.9 million years BC
        Date(2**31 - 1),
        Date(-2545740),  # -5000-01-01
        Date(-719162),  # 0001-01-01
        Date(2932896),  # 9999-12-31
        dt.date(1970, 1, 2),
        dt.date(1, 1, 1),
        None,
    ]
    arr = convert("date", values)
    assert arr.cast(pa.int32()).to_pylist() == [
        -(2**31),
        2**31 - 1,
        -2545740,
        -719162,
        2932896,
        1,
        -719162,
        None,
    ]


def test_time_is_nanoseconds() -> None:
    values = [Time(86399999999999), Time(0), dt.time(12, 30, 1, 250), None]
    arr = convert("time", values)
    assert arr.cast(pa.int64()).to_pylist() == [86399999999999, 0, 45001000250000, None]


def test_duration_keeps_months_days_and_nanoseconds() -> None:
    values = [Duration(1, 2, 3), Duration(-14, -2, -5), Duration(0, 0, 3600 * 10**9), None]
    arr = convert("duration", values)
    assert [None if v is None else tuple(v) for v in arr.to_pylist()] == [
        (1, 2, 3),
        (-14, -2, -5),
        (0, 0, 3600 * 10**9),
        None,
    ]


def test_timestamp_from_driver_datetimes_is_utc_milliseconds() -> None:
    values = [
        dt.datetime(1, 1, 1),
        dt.datetime(2020, 1, 1, 12, 34, 56, 789000),
        dt.datetime(9999, 12, 31),
        None,
    ]
    arr = convert("timestamp", values)
    assert arr.cast(pa.int64()).to_pylist() == [-62135596800000, 1577882096789, 253402214400000, None]


def test_fetched_timestamp_is_int64_milliseconds_of_any_year() -> None:
    values = [-62135596800000, 32503680000000, 253402300800000, -(10**15), None]
    arr = fetched_converter("timestamp")(values)
    assert arr.type == TS
    assert arr.cast(pa.int64()).to_pylist() == values


def test_fetched_converter_is_column_converter_for_other_types() -> None:
    arr = fetched_converter("list<timestamp>")([[dt.datetime(2020, 1, 1)], None])
    assert arr.type == pa.list_(TS)
    assert arr.cast(pa.list_(pa.int64())).to_pylist() == [[1577836800000], None]
    assert fetched_converter("uuid")([uuid.UUID(int=1)]).to_pylist() == [str(uuid.UUID(int=1))]


def test_collections_from_driver_containers() -> None:
    assert convert("list<int>", [[1, 2], None, [3]]).to_pylist() == [[1, 2], None, [3]]
    assert convert("set<text>", [SortedSet(["y", "x"]), {"z"}, frozenset({"w"}), None]).to_pylist() == [
        ["x", "y"],
        ["z"],
        ["w"],
        None,
    ]
    assert convert("list<frozen<list<int>>>", [[[1, 2], [3]], [(4,)]]).to_pylist() == [[[1, 2], [3]], [[4]]]
    assert convert("set<date>", [SortedSet([Date(-354285), Date(18262)])]).cast(
        pa.list_(pa.int32())
    ).to_pylist() == [[-354285, 18262]]
    assert convert("list<decimal>", [[decimal.Decimal("1.5"), decimal.Decimal("10.000")]]).to_pylist() == [
        ["1.5", "10.000"]
    ]
    assert convert("list<uuid>", [[uuid.UUID(int=0)]]).to_pylist() == [
        ["00000000-0000-0000-0000-000000000000"]
    ]


def test_maps_from_ordered_map_serialized_key_and_dicts() -> None:
    m = OrderedMapSerializedKey(lookup_casstype(MARSHAL + "UTF8Type"), 4)
    m._insert("k", 1)
    m._insert("j", None)
    assert convert("map<text, int>", [m, {"a": 2}, None]).to_pylist() == [
        [("k", 1), ("j", None)],
        [("a", 2)],
        None,
    ]
    setkey = OrderedMapSerializedKey(
        lookup_casstype(f"{MARSHAL}FrozenType({MARSHAL}SetType({MARSHAL}Int32Type))"), 4
    )
    setkey._insert(SortedSet([1, 2]), "a")
    assert convert("map<frozen<set<int>>, text>", [setkey]).to_pylist() == [[([1, 2], "a")]]
    tupkey = OrderedMapSerializedKey(
        lookup_casstype(f"{MARSHAL}TupleType({MARSHAL}Int32Type,{MARSHAL}UTF8Type)"), 4
    )
    tupkey._insert((1, "x"), uuid.UUID(int=5))
    assert convert("map<frozen<tuple<int, text>>, uuid>", [tupkey]).to_pylist() == [
        [({"f0": 1, "f1": "x"}, str(uuid.UUID(int=5)))]
    ]
    ts = {dt.datetime(2020, 1, 1): [dt.datetime(2020, 1, 2)]}
    got = convert("map<timestamp, frozen<list<timestamp>>>", [ts])
    assert got.cast(pa.map_(pa.int64(), pa.list_(pa.int64()))).to_pylist() == [
        [(1577836800000, [1577923200000])]
    ]


def test_tuples_with_null_components() -> None:
    got = convert(
        "tuple<int, text, timestamp>", [(1, "one", dt.datetime(2020, 1, 1)), (None, None, None), None]
    )
    assert got.to_pylist()[1:] == [{"f0": None, "f1": None, "f2": None}, None]
    assert got.field("f2").cast(pa.int64()).to_pylist()[0] == 1577836800000
    durations = convert("tuple<int, duration>", [(1, Duration(1, 2, 3)), (2, None)])
    assert durations.field("f1").to_pylist()[1] is None
    assert tuple(durations.field("f1").to_pylist()[0]) == (1, 2, 3)


Addr = collections.namedtuple("Addr", ["street", "Zip", "inner", "tags"])
Inner = collections.namedtuple("Inner", ["a", "ts"])


def test_udts_from_driver_namedtuples_dicts_and_registered_classes() -> None:
    class Registered:
        def __init__(self, street: str, Zip: int) -> None:
            self.street, self.Zip = street, Zip

    values = [
        Addr("Main", 123, Inner(5, dt.datetime(2021, 1, 1)), SortedSet(["t1"])),
        {"street": "Dict", "tags": ["a"]},
        Registered("Reg", 7),
        Addr("S", None, None, None),
        None,
    ]
    got = convert('frozen<"Addr">', values, UDTS).to_pylist()
    assert got[0]["street"] == "Main"
    assert got[0]["Zip"] == 123
    assert got[0]["tags"] == ["t1"]
    assert got[0]["inner"]["a"] == 5
    assert got[1] == {"street": "Dict", "Zip": None, "inner": None, "tags": ["a"]}
    assert got[2] == {"street": "Reg", "Zip": 7, "inner": None, "tags": None}
    assert got[3] == {"street": "S", "Zip": None, "inner": None, "tags": None}
    assert got[4] is None


def test_udt_with_renamed_fields_is_read_by_position() -> None:
    # the driver renames fields that are not Python identifiers ("Zip Code" → field_0_)
    weird = collections.namedtuple("weird", ["field_0_", "field_1_", "field_2_"])
    udts = {"weird": [("Zip Code", "int"), ("_x", "text"), ("class", "uuid")]}
    got = convert("frozen<weird>", [weird(1, "u", uuid.UUID(int=3))], udts).to_pylist()
    assert got == [{"Zip Code": 1, "_x": "u", "class": str(uuid.UUID(int=3))}]


def test_udt_values_with_fewer_fields_pad_with_null() -> None:
    # a field added with ALTER TYPE … ADD after the row was written
    got = convert("frozen<pt>", [(1,), (1, 2)], {"pt": [("x", "int"), ("y", "int")]}).to_pylist()
    assert got == [{"x": 1, "y": None}, {"x": 1, "y": 2}]


def test_udts_in_collections() -> None:
    values = [[Addr("A", 1, None, None), Addr("B", None, Inner(None, None), SortedSet(["x"]))], None]
    got = convert('list<frozen<"Addr">>', values, UDTS).to_pylist()
    assert [a["street"] for a in got[0]] == ["A", "B"]
    assert got[0][1]["inner"] == {"a": None, "ts": None}
    assert got[1] is None


def test_vectors() -> None:
    assert convert("vector<float, 3>", [[1.0, 2.5, -3.0], None]).to_pylist() == [[1.0, 2.5, -3.0], None]
    assert convert("vector<text, 2>", [["a", "b"]]).to_pylist() == [["a", "b"]]
    got = convert("vector<date, 1>", [[Date(18262)]])
    assert got.cast(pa.list_(pa.int32(), 1)).to_pylist() == [[18262]]
    with pytest.raises(SchemaError, match="vector<float, 3>"):
        convert("vector<float, 3>", [[1.0, 2.0]])


def test_unconvertible_value_names_the_type() -> None:
    with pytest.raises(SchemaError, match="date"):
        convert("date", [cast(Any, object())])
    with pytest.raises(SchemaError, match="int"):
        convert("list<int>", [["x"]])


def test_unknown_udt_fails_when_building_the_converter() -> None:
    with pytest.raises(SchemaError, match="'nope'"):
        column_converter("frozen<nope>", UDTS)


# --------------------------------------------------------------------------------------- select expression


@pytest.mark.parametrize(
    ("column", "cql", "expected"),
    [
        ("ts", "timestamp", 'toUnixTimestamp("ts") AS "ts"'),
        ("MyTs", "frozen<timestamp>", 'toUnixTimestamp("MyTs") AS "MyTs"'),
        ("MyCol", "text", '"MyCol"'),
        ('a"b', "int", '"a""b"'),
        ("l", "list<timestamp>", '"l"'),
        ("t", "tuple<timestamp>", '"t"'),
    ],
)
def test_select_expression(column: str, cql: str, expected: str) -> None:
    assert select_expression(column, cql) == expected


# -------------------------------------------------------------------------------------------- table schema


def make_table(extra: tuple[ColumnInfo, ...] = (), udts: Any = None) -> TableInfo:
    return TableInfo(
        keyspace="ks",
        name="MyTable",
        columns=(
            ColumnInfo("id", "int", "partition_key"),
            ColumnInfo("ck", "timestamp", "clustering", descending=True),
            ColumnInfo("ck2", "text", "clustering"),
            ColumnInfo("st", "text", "static"),
            ColumnInfo("MyCol", "text"),
            ColumnInfo("addr", 'frozen<"Addr">'),
            ColumnInfo("price", "decimal"),
            *extra,
        ),
        udts=UDTS if udts is None else udts,
    )


def test_table_info_keys_and_lookup() -> None:
    table = make_table()
    assert table.qualified_name == "ks.MyTable"
    assert table.partition_key == ("id",)
    assert table.clustering_key == ("ck", "ck2")
    assert table.primary_key == ("id", "ck", "ck2")
    assert table.column("addr").type == parse_cql_type('frozen<"Addr">')
    with pytest.raises(SchemaError, match=r"'mycol' does not exist in table ks.MyTable; did you mean 'MyCol"):
        table.column("mycol")
    with pytest.raises(SchemaError, match="lists a column twice"):
        TableInfo("ks", "t", (ColumnInfo("a", "int", "partition_key"), ColumnInfo("a", "int")))
    with pytest.raises(SchemaError, match="no partition key"):
        TableInfo("ks", "t", (ColumnInfo("a", "int"),))


def test_table_schema_in_table_order_with_roles_and_types() -> None:
    table = make_table()
    s = table_schema(table)
    assert s.names == ["id", "ck", "ck2", "st", "MyCol", "addr", "price"]
    assert [f.type for f in s] == [pa.int32(), TS, pa.string(), pa.string(), pa.string(), ADDR, pa.string()]
    roles = [f.metadata[b"role"] for f in s]
    assert roles == [
        b"partition_key",
        b"clustering",
        b"clustering",
        b"static",
        b"regular",
        b"regular",
        b"regular",
    ]
    assert s.field("addr").metadata[b"cql_type"] == b'frozen<"Addr">'
    assert s.field("ck").metadata[b"clustering_order"] == b"DESC"
    assert s.field("ck2").metadata[b"clustering_order"] == b"ASC"
    assert s.metadata == {b"keyspace": b"ks", b"table": b"MyTable"}
    assert all(f.nullable for f in s)
    assert table_schema(table, exact_numbers=False).field("price").type == pa.float64()


def test_table_schema_in_the_order_of_columns() -> None:
    table = make_table()
    s = table_schema(table, ["MyCol", "id", "ck"])
    assert s.names == ["MyCol", "id", "ck"]
    assert s.field("id").metadata[b"role"] == b"partition_key"
    assert table_schema(table, "st").names == ["st"]


def test_unknown_column_names_column_table_and_close_matches() -> None:
    table = make_table()
    with pytest.raises(SchemaError) as err:
        table_schema(table, ["id", "mycol"])
    msg = str(err.value)
    assert "'mycol'" in msg
    assert "ks.MyTable" in msg
    assert "did you mean 'MyCol'" in msg
    with pytest.raises(SchemaError, match=r"'prcie'.*did you mean 'price'"):
        table_schema(table, ["prcie"])
    with pytest.raises(SchemaError) as err:
        table_schema(table, ["zzzzzz"])
    assert "did you mean" not in str(err.value)
    assert "columns: id, ck" in str(err.value)


def test_duplicate_column_is_an_error() -> None:
    with pytest.raises(SchemaError, match="more than once"):
        table_schema(make_table(), ["id", "id"])


def test_column_with_unreadable_type_is_named() -> None:
    table = make_table(extra=(ColumnInfo("odd", "'org.apache.cassandra.db.marshal.XYZ'"),))
    with pytest.raises(SchemaError, match=r"column 'odd' of table ks.MyTable.*XYZ"):
        table_schema(table)
    assert table_schema(table, ["id"]).names == ["id"]  # a column nobody asked for is not read
    with pytest.raises(SchemaError, match=r"column 'addr'.*'Addr'"):
        table_schema(make_table(udts={}), ["addr"])


# ------------------------------------------------------------------------------------------------ pandas

SAMPLE_TYPES = [
    "int",
    "tinyint",
    "bigint",
    "float",
    "double",
    "boolean",
    "text",
    "blob",
    "date",
    "time",
    "timestamp",
    "uuid",
    "decimal",
    "duration",
    "list<int>",
    "map<text, int>",
    "tuple<int, text>",
    "vector<float, 2>",
]


def sample_table() -> pa.Table:
    values: dict[str, list[Any]] = {
        "int": [1, None],
        "tinyint": [-128, None],
        "bigint": [2**63 - 1, None],
        "float": [1.5, None],
        "double": [2.5, None],
        "boolean": [True, None],
        "text": ["é", None],
        "blob": [b"\x00", None],
        "date": [Date(-2545740), None],
        "time": [Time(1), None],
        "timestamp": [253402300800000, None],  # year 10000: beyond datetime64[ns] and datetime
        "uuid": [uuid.UUID(int=1), None],
        "decimal": [decimal.Decimal("1.10"), None],
        "duration": [Duration(1, 2, 3), None],
        "list<int>": [[1], None],
        "map<text, int>": [{"a": 1}, None],
        "tuple<int, text>": [(1, "a"), None],
        "vector<float, 2>": [[1.0, 2.0], None],
    }
    arrays = [fetched_converter(t)(values[t]) for t in SAMPLE_TYPES]
    return pa.Table.from_arrays(arrays, schema=pa.schema([(t, arrow_type(t)) for t in SAMPLE_TYPES]))


@pytest.mark.parametrize("backend", ["pyarrow", "numpy_nullable"])
def test_to_pandas_dtypes_match_empty_frame(backend: Any) -> None:
    table = sample_table()
    frame = to_pandas(table, backend)
    meta = empty_frame(table.schema, backend)
    assert len(meta) == 0
    assert list(meta.columns) == SAMPLE_TYPES
    assert frame.dtypes.to_dict() == meta.dtypes.to_dict()
    assert to_pandas(table.to_batches()[0], backend).dtypes.to_dict() == meta.dtypes.to_dict()
    assert isinstance(frame.index, pd.RangeIndex)


def test_pyarrow_backend_is_arrow_dtype_everywhere() -> None:
    table = sample_table()
    frame = to_pandas(table)
    assert all(frame[f.name].dtype == pd.ArrowDtype(f.type) for f in table.schema)
    assert frame["timestamp"].array._pa_array.cast(pa.int64()).to_pylist() == [253402300800000, None]
    assert frame["decimal"][0] == "1.10"


def test_numpy_nullable_backend_dtypes() -> None:
    frame = to_pandas(sample_table(), "numpy_nullable")
    d = frame.dtypes
    assert d["int"] == pd.Int32Dtype()
    assert d["tinyint"] == pd.Int8Dtype()
    assert d["bigint"] == pd.Int64Dtype()
    assert d["float"] == pd.Float32Dtype()
    assert d["double"] == pd.Float64Dtype()
    assert d["boolean"] == pd.BooleanDtype()
    assert d["text"] == pd.StringDtype()
    assert d["uuid"] == pd.StringDtype()
    assert d["decimal"] == pd.StringDtype()
    assert d["timestamp"] == pd.ArrowDtype(TS)
    assert d["date"] == pd.ArrowDtype(pa.date32())
    assert d["blob"] == pd.ArrowDtype(pa.binary())
    assert d["list<int>"] == pd.ArrowDtype(pa.list_(pa.int32()))
    assert d["duration"] == pd.ArrowDtype(pa.month_day_nano_interval())
    assert frame["bigint"][0] == 2**63 - 1
    assert frame["bigint"].isna().tolist() == [False, True]
    assert frame["text"].tolist()[0] == "é"


def test_bad_dtype_backend() -> None:
    with pytest.raises(CassandraFramesError, match="dtype_backend"):
        to_pandas(sample_table(), "numpy")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ arrow → CQL


@pytest.mark.parametrize(
    ("arrow", "cql"),
    [
        (pa.int8(), "tinyint"),
        (pa.int16(), "smallint"),
        (pa.int32(), "int"),
        (pa.int64(), "bigint"),
        (pa.float32(), "float"),
        (pa.float64(), "double"),
        (pa.bool_(), "boolean"),
        (pa.string(), "text"),
        (pa.large_string(), "text"),
        (pa.binary(), "blob"),
        (pa.date32(), "date"),
        (pa.time64("ns"), "time"),
        (pa.time64("us"), "time"),
        (pa.timestamp("ms", tz="UTC"), "timestamp"),
        (pa.timestamp("ns"), "timestamp"),
        (pa.month_day_nano_interval(), "duration"),
        (pa.decimal128(10, 2), "decimal"),
        (pa.decimal256(50, 10), "decimal"),
        (pa.uint32(), "bigint"),
        (pa.uint64(), "varint"),
        (pa.dictionary(pa.int32(), pa.string()), "text"),
        (pa.list_(pa.int32()), "list<int>"),
        (pa.list_(pa.list_(pa.int32())), "list<frozen<list<int>>>"),
        (pa.map_(pa.string(), pa.list_(pa.float64())), "map<text, frozen<list<double>>>"),
        (pa.struct([("a", pa.int32()), ("b", pa.string())]), "frozen<tuple<int, text>>"),
        (pa.list_(pa.struct([("a", pa.int32())])), "list<frozen<tuple<int>>>"),
        (pa.list_(pa.float32(), 3), "vector<float, 3>"),
        (pa.list_(pa.int64(), 2), "vector<bigint, 2>"),
    ],
)
def test_cql_type_for_arrow(arrow: pa.DataType, cql: str) -> None:
    assert cql_type_for_arrow(arrow) == cql
    parse_cql_type(cql)  # always valid CQL type text


@pytest.mark.parametrize(
    "cql",
    [
        "tinyint",
        "smallint",
        "int",
        "bigint",
        "float",
        "double",
        "boolean",
        "text",
        "blob",
        "date",
        "time",
        "timestamp",
        "duration",
        "list<int>",
        "map<text, double>",
        "vector<float, 8>",
    ],
)
def test_cql_type_for_arrow_inverts_arrow_type(cql: str) -> None:
    assert cql_type_for_arrow(arrow_type(cql)) == cql


@pytest.mark.parametrize("arrow", [pa.null(), pa.struct([])])
def test_cql_type_for_unsupported_arrow_type(arrow: pa.DataType) -> None:
    with pytest.raises(SchemaError, match="no CQL counterpart"):
        cql_type_for_arrow(arrow)
    with pytest.raises(SchemaError, match="null"):
        cql_type_for_arrow(pa.list_(pa.null()))


# --------------------------------------------------------------------------------------------- properties

UDT_NAMES = st.sampled_from(["address", "MyType", "My.Type", 'a"b', "select", "x_1"])
NATIVES = st.sampled_from(sorted(NATIVE_TYPES)).map(CqlType)


def _grow(children: st.SearchStrategy[CqlType]) -> st.SearchStrategy[CqlType]:
    frozen = st.booleans()
    return st.one_of(
        st.builds(lambda c, f: CqlType("list", (c,), frozen=f), children, frozen),
        st.builds(lambda c, f: CqlType("set", (c,), frozen=f), children, frozen),
        st.builds(lambda k, v, f: CqlType("map", (k, v), frozen=f), children, children, frozen),
        st.builds(
            lambda cs: CqlType("tuple", tuple(cs), frozen=True), st.lists(children, min_size=1, max_size=3)
        ),
        st.builds(lambda c, n: CqlType("vector", (c,), size=n), children, st.integers(1, 4096)),
    )


CQL_TYPES = st.recursive(
    st.one_of(
        NATIVES,
        st.builds(lambda n, f: CqlType(n, frozen=f), UDT_NAMES, st.booleans()),
        st.builds(lambda n, k: CqlType(n, keyspace=k), UDT_NAMES, st.sampled_from(["ks", "My Ks"])),
    ),
    _grow,
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(CQL_TYPES)
def test_any_type_survives_str_and_parse(t: CqlType) -> None:
    assert parse_cql_type(str(t)) == t


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_decimal_text_parses_back_to_the_same_decimal(value: decimal.Decimal) -> None:
    (text,) = convert("decimal", [value]).to_pylist()
    assert decimal.Decimal(text).as_tuple() == value.as_tuple()  # same digits and scale, not just equal


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**300), max_value=10**300))
def test_any_varint_text_is_the_integer(value: int) -> None:
    assert convert("varint", [value]).to_pylist() == [str(value)]
