"""Without a server: cassandra_frames.formats.parse (the parsing half of ``cf.load``): every CQL type from
text (each accepted form), from JSON values and from typed Arrow columns; errors by row with readable
reasons; and round trips through the CSV, JSON and Parquet writers of cassandra_frames.formats."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.formats import FormatOptions, open_writer
from cassandra_frames.formats.parse import convert_arrow_column, parse_json_values, parse_text_column
from cassandra_frames.schema import ColumnInfo, TableInfo, arrow_type, table_schema

UDTS = {"address": (("street", "text"), ("zip", "int"), ("Quoted F", "set<int>"))}
U = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
EMPTY_ADDRESS = {"street": None, "zip": None, "Quoted F": None}


def parse(values: Sequence[str | None], cql: str, **kw: Any) -> tuple[list[Any], dict[int, str]]:
    arr, errors = parse_text_column(pa.array(values, pa.string()), cql, UDTS, **kw)
    assert arr.type == arrow_type(cql, UDTS)
    assert len(arr) == len(values)
    for row in errors:
        assert not arr[row].is_valid
    return as_raw(arr), errors


def as_raw(arr: pa.Array) -> Any:
    """Python values with temporal types as their integer storage (any year survives)."""
    t = arr.type
    if pa.types.is_timestamp(t) or pa.types.is_time64(t):
        return arr.cast(pa.int64()).to_pylist()
    if pa.types.is_date32(t):
        return arr.cast(pa.int32()).to_pylist()
    if t == pa.month_day_nano_interval():
        return [None if v is None else tuple(v) for v in arr.to_pylist()]
    return arr.to_pylist()


def ok(values: Sequence[str | None], cql: str, expected: list[Any], **kw: Any) -> None:
    got, errors = parse(values, cql, **kw)
    assert errors == {}
    for g, e in zip(got, expected, strict=True):
        if isinstance(e, float) and math.isnan(e):
            assert isinstance(g, float)
            assert math.isnan(g)
        else:
            assert g == e, (g, e)


def bad(values: list[str], cql: str, rows: dict[int, list[str]], **kw: Any) -> None:
    _, errors = parse(values, cql, **kw)
    assert sorted(errors) == sorted(rows), errors
    for row, words in rows.items():
        for w in words:
            assert w in errors[row], (w, errors[row])


@pytest.mark.parametrize(
    ("cql", "values", "expected"),
    [
        ("tinyint", ["-128", "127", "+5", " 7 ", "-0"], [-128, 127, 5, 7, 0]),
        ("smallint", ["-32768", "32767"], [-32768, 32767]),
        ("int", ["2147483647", "-2147483648", None], [2147483647, -2147483648, None]),
        ("bigint", [str(-(2**63)), str(2**63 - 1), "0"], [-(2**63), 2**63 - 1, 0]),
        ("counter", ["12"], [12]),
        ("double", ["0.1", "1e+300", "-2.5E-3", ".5", "5.", "NaN", "Infinity", "-Infinity", "+infinity"],
         [0.1, 1e300, -2.5e-3, 0.5, 5.0, math.nan, math.inf, -math.inf, math.inf]),
        ("float", ["3.4028235e+38", "0.1", "nan", "-INFINITY"],
         [3.4028234663852886e38, 0.10000000149011612, math.nan, -math.inf]),
        ("boolean", ["true", "FALSE", "1", "0", "True", "yes", "N"],
         [True, False, True, False, True, True, False]),
        ("blob", ["0x00ab", "0X00AB", "0x", "AAE=", ""], [b"\x00\xab", b"\x00\xab", b"", b"\x00\x01", b""]),
        ("text", ["", "it's", "ünï", None, " a "], ["", "it's", "ünï", None, " a "]),
        ("ascii", ["abc", ""], ["abc", ""]),
        ("uuid", [U.upper(), U], [U, U]),
        ("timeuuid", [U.upper()], [U]),
        ("inet", ["192.168.0.1", "2001:DB8:0:0:0:0:0:1", "::ffff:1.2.3.4", "::1"],
         ["192.168.0.1", "2001:db8::1", "::ffff:1.2.3.4", "::1"]),
        ("decimal", ["1.50", "-1.0000000000000000000000000001E+30", "0.00001", "1e3", "+007.10", "0.0000001"],
         ["1.50", "-1.0000000000000000000000000001E+30", "0.00001", "1E+3", "7.10", "1E-7"]),
        ("varint", ["007", "-0", "+5", str(10**200), "-" + str(10**200)],
         ["7", "0", "5", str(10**200), "-" + str(10**200)]),
        ("date", ["2020-02-29", "1970-01-01", "+10000-01-01", "-5877641-06-23", "0000-12-31"],
         [18321, 0, 2932897, -(2**31), -719163]),
        ("time", ["00:00:00", "01:02:03", "01:02:03.1", "23:59:59.999999999", "3723123456789"],
         [0, 3723000000000, 3723100000000, 86399999999999, 3723123456789]),
        ("timestamp",
         ["2013-01-01 05:00:00.123Z", "2013-01-01T05:00:00Z", "2013-01-01 05:00:00+0000",
          "2013-01-01T05:00:00.123+01:00", "2013-01-01", "1356998400000", "+10000-01-01T00:00:00.000Z",
          "0000-12-31T23:59:59.999Z", "-1", "2013-01-01 05:00:00.123000Z", "2013-01-01 05:00:00-0130"],
         [1357016400123, 1357016400000, 1357016400000, 1357012800123, 1356998400000, 1356998400000,
          253402300800000, -62135596800001, -1, 1357016400123, 1357016400000 + 5400000]),
        ("duration",
         ["1y2mo3w4d5h6m7s8ms9us10ns", "-1d", "-1d1us", "0s", "1µs", "1MO", "P1Y2M3DT4H5M6.007S", "P2W",
          "P0001-02-03T04:05:06", "-P1D", "PT0.000000001S"],
         [(14, 25, 18367008009010), (0, -1, 0), (0, -1, -1000), (0, 0, 0), (0, 0, 1000), (1, 0, 0),
          (14, 3, 14706007000000), (0, 14, 0), (14, 3, 14706000000000), (0, -1, 0), (0, 0, 1)]),
    ],
)  # fmt: skip
def test_scalar_forms(cql: str, values: list[str | None], expected: list[Any]) -> None:
    ok(values, cql, expected)
    # the same values mixed with a bad one and nulls: the slow path gives the same results
    got, errors = parse([None, *values, "\x01bad\x01"], cql)
    if cql not in ("text", "ascii"):
        assert list(errors) == [len(values) + 1]
        assert got[1:-1] == [g for g in parse(values, cql)[0]] or any(
            isinstance(e, float) and math.isnan(e) for e in expected
        )


@pytest.mark.parametrize(
    ("cql", "values", "rows"),
    [
        ("int", ["1", "12x", "2147483648", "", "0x10", "1_0", "1.0"],
         {1: ["'12x' is not an int", "-2147483648 to 2147483647"], 2: ["out of range for int"],
          3: ["'' is not an int"], 4: ["'0x10'"], 5: ["'1_0'"], 6: ["'1.0'"]}),
        ("tinyint", ["128", "-129"], {0: ["out of range for tinyint"], 1: ["-128 to 127"]}),
        ("bigint", [str(2**63)], {0: ["out of range for bigint"]}),
        ("float", ["1e39", "-1e39", "inf", "1.5x"],
         {0: ["out of range for float"], 1: ["float"], 2: ["'inf'"], 3: ["'1.5x' is not a float"]}),
        ("double", ["1e999", "--1"], {0: ["out of range for double"], 1: ["is not a double"]}),
        ("boolean", ["maybe", "2"], {0: ["'maybe' is not a boolean", "true/false"], 1: ["'2'"]}),
        ("blob", ["0xZZ", "0x0", "a"], {0: ["'0xZZ' is not a blob"], 1: ["blob"], 2: ["blob"]}),
        ("ascii", ["é"], {0: ["not ASCII"]}),
        ("uuid", ["xyz", U[:-1]], {0: ["'xyz' is not a uuid", "8-4-4-4-12"], 1: ["uuid"]}),
        ("timeuuid", ["6ba7b810-9dad-41d1-80b4-00c04fd430c8"], {0: ["version 1", "version 4"]}),
        ("inet", ["01.2.3.4", "300.1.1.1", "fe80::1%eth0", "x"],
         {0: ["inet"], 1: ["inet"], 2: ["scope"], 3: ["inet"]}),
        ("decimal", ["1.2.3", "NaN", "1_0"], {0: ["not a decimal"], 1: ["decimal"], 2: ["decimal"]}),
        ("varint", ["1.0", "1e3", ""], {0: ["'1.0' is not a varint"], 1: ["varint"], 2: ["varint"]}),
        ("date", ["2021-02-29", "2021-13-01", "20210101", "12345", "+9999999-01-01"],
         {0: ["no such day"], 1: ["no such day"], 2: ["is not a date"], 3: ["date"],
          4: ["out of range for date"]}),
        ("time", ["24:00:00", "86400000000000", "1:2", "01:02:03.1234567891", "-1"],
         {0: ["hours 0-23"], 1: ["out of range for time"], 2: ["time"], 3: ["time"], 4: ["time"]}),
        ("timestamp", ["2013-01-01 05:00:00.1234Z", "2013-02-30", "x", str(2**63), "2013-01-01 25:00:00Z"],
         {0: ["below the millisecond"], 1: ["no such day"], 2: ["is not a timestamp"],
          3: ["out of range for timestamp"], 4: ["hours"]}),
        ("duration", ["", "1d1y", "P", "PT", "1x", str(2**31) + "mo", "-"],
         {0: ["is not a duration"], 1: ["duration"], 2: ["duration"], 3: ["duration"], 4: ["duration"],
          5: ["out of range for duration"], 6: ["duration"]}),
    ],
)  # fmt: skip
def test_scalar_errors(cql: str, values: list[str], rows: dict[int, list[str]]) -> None:
    bad(values, cql, rows)


def test_chunked_large_and_dictionary_inputs() -> None:
    chunked = pa.chunked_array([pa.array(["1", None]), pa.array(["x"])])
    arr, errors = parse_text_column(chunked, "int")
    assert arr.to_pylist() == [1, None, None]
    assert list(errors) == [2]
    arr, _ = parse_text_column(pa.array(["a", None], pa.large_string()), "text")
    assert arr.type == pa.string()
    assert arr.to_pylist() == ["a", None]
    arr, _ = parse_text_column(pa.array(["1", "1"]).dictionary_encode(), "bigint")
    assert arr.to_pylist() == [1, 1]
    arr, errors = parse_text_column(pa.array([], pa.string()), "list<int>")
    assert len(arr) == 0
    assert errors == {}


def test_nested_cql_literals() -> None:
    ok(["[1, 2]", "[]", " [ 3 ,4 ] ", None], "list<int>", [[1, 2], [], [3, 4], None])
    ok(["{1, 2}", "[1]", "{}"], "set<int>", [[1, 2], [1], []])
    ok(["{'a': 1, 'it''s': 2}", "{}"], "map<text, int>", [[("a", 1), ("it's", 2)], []])
    ok(["{[1, 2]: 'x', []: ''}"], "map<frozen<list<int>>, text>", [[([1, 2], "x"), ([], "")]])
    ok(["[[1], [2, 3]]"], "list<frozen<list<int>>>", [[[1], [2, 3]]])
    nulls = {"f0": None, "f1": None, "f2": None}
    ok(["(1, 'a', null)", "(1, , )", "(2)"], "tuple<int, text, int>",
       [{"f0": 1, "f1": "a", "f2": None}, nulls | {"f0": 1}, nulls | {"f0": 2}])  # fmt: skip
    ok(
        ["{street: 'x', zip: 1, \"Quoted F\": {1}}", "{zip: }", "{ZIP: 3}", "{}"],
        "frozen<address>",
        [
            {"street": "x", "zip": 1, "Quoted F": [1]},
            EMPTY_ADDRESS,
            EMPTY_ADDRESS | {"zip": 3},
            EMPTY_ADDRESS,
        ],
    )
    ok(
        ["[{street: 'a''b', zip: NULL}]"],
        "list<frozen<address>>",
        [[{"street": "a'b", "zip": None, "Quoted F": None}]],
    )
    ok(["[0.5, -1.5]"], "vector<float, 2>", [[0.5, -1.5]])
    ok(["[" + U.upper() + ", '" + U + "']"], "list<uuid>", [[U, U]])
    ok(["{1: NULL}", "{1: nil}"], "map<int, text>", [[(1, None)], [(1, None)]], null_value="nil")
    when = dt.datetime(2013, 1, 1, 5, 0, 0, 123000, tzinfo=dt.UTC)
    ok(["['2013-01-01 05:00:00.123Z', 1357016400123]"], "list<timestamp>", [[when, when]])
    ok(["[1d, -1us, 0s]"], "list<duration>", [[(0, 1, 0), (0, 0, -1000), (0, 0, 0)]])


def test_nested_cql_errors() -> None:
    bad(["[1, x, 3]", "[1, 2", "[1] x", "{'a': 1, 2}", "'a'", "(1, 'a', 3)"], "list<int>",
        {0: ["element 2 of the list: 'x' is not an int"], 1: ["not a CQL literal"], 2: ["not a CQL literal"],
         3: ["mixes"], 4: ["expected a list"], 5: ["expected a list, found a tuple"]})  # fmt: skip
    bad(
        ["{'a': x}", "{null: 1}", "{'a'}"],
        "map<text, int>",
        {
            0: ["the value of key 1 of the map: 'x' is not an int"],
            1: ["key 1 of the map is null"],
            2: ["map"],
        },
    )
    bad(["{nope: 1}", "{zip: 'x'}"], "frozen<address>", {0: ["has no field 'nope'"], 1: ["field zip: 'x'"]})
    bad(["(1, 2, 3, 4)"], "tuple<int, int>", {0: ["2 components, found 4"]})
    bad(["[1]", "[1, 2, 3]"], "vector<float, 2>", {0: ["needs 2 elements, found 1"], 1: ["found 3"]})
    bad(["[[1], [x]]"], "list<frozen<list<int>>>", {0: ["element 2 of the list: element 1 of the list: 'x'"]})


def test_nested_json_text() -> None:
    ok(["[1,2]", "[]"], "list<int>", [[1, 2], []], nested="json")
    ok(['{"a":[1,2],"":[]}'], "map<text, frozen<list<int>>>", [[("a", [1, 2]), ("", [])]], nested="json")
    ok(['{"1":true}'], "map<int, boolean>", [[(1, True)]], nested="json")
    ok(['{"[1,2]":"x"}'], "map<frozen<list<int>>, text>", [[([1, 2], "x")]], nested="json")
    ok(
        ['{"street":"s","zip":1}'],
        "frozen<address>",
        [{"street": "s", "zip": 1, "Quoted F": None}],
        nested="json",
    )
    ok(['[1,"a"]'], "tuple<int, text>", [{"f0": 1, "f1": "a"}], nested="json")
    bad(['[1,', '{"a":1}', '[true]'], "list<int>",
        {0: ["not JSON text"], 1: ["expected a list, found a JSON object"], 2: ["element 1 of the list"]},
        nested="json")  # fmt: skip


def test_parse_json_values() -> None:
    def js(values: list[Any], cql: str) -> tuple[list[Any], dict[int, str]]:
        arr, errors = parse_json_values(values, cql, UDTS)
        assert arr.type == arrow_type(cql, UDTS)
        assert len(arr) == len(values)
        return as_raw(arr), errors

    assert js([1, "2", None, 2.0], "int") == ([1, 2, None, 2], {})
    got, errors = js([1.5, True, "x", 2**40], "int")
    assert got == [None] * 4
    assert sorted(errors) == [0, 1, 2, 3]
    assert js([0.1, "NaN", 1, "-Infinity"], "double")[0][2:] == [1.0, -math.inf]
    assert js([1e300], "float")[1][0].startswith("'1e+300' is out of range for float")
    assert js([10**30, "007", 5.0], "varint") == ([str(10**30), "7", "5"], {})
    assert js([1, 0.1, "1.50", 1e300], "decimal") == (["1", "0.1", "1.50", "1E+300"], {})
    assert js(["2013-01-01T05:00:00.123Z", 1357016400123, None], "timestamp")[0] == [1357016400123] * 2 + [
        None
    ]
    assert js(["01:00:00", 5], "time")[0] == [3600 * 10**9, 5]
    assert js([True, "false", 1], "boolean")[0] == [True, False, True]
    assert js(["a", 1], "text")[1] == {1: "expected a text, found 1"}
    assert js([[1, 2], {"a": 1}], "list<int>")[1] == {1: "expected a list, found a JSON object"}
    assert js([{"1": True, "2": False}], "map<int, boolean>")[0] == [[(1, True), (2, False)]]
    assert js([{"street": "s", "zip": "1"}], "frozen<address>")[0] == [
        {"street": "s", "zip": 1, "Quoted F": None}
    ]
    assert "field zip" in js([{"zip": "x"}], "frozen<address>")[1][0]
    assert js([[1, "a"], [1]], "frozen<tuple<int, text>>")[0] == [{"f0": 1, "f1": "a"}, {"f0": 1, "f1": None}]
    assert js([[0.5, 1]], "vector<float, 2>")[0] == [[0.5, 1.0]]
    assert js([["0x01"], ["AAE="]], "list<blob>")[0] == [[b"\x01"], [b"\x00\x01"]]


# ---------------------------------------------------------------------------------------------------------
# typed Arrow columns
# ---------------------------------------------------------------------------------------------------------


def test_convert_arrow_columns() -> None:
    def conv(arr: pa.Array, cql: str) -> tuple[list[Any], dict[int, str]]:
        out, errors = convert_arrow_column(arr, cql, UDTS)
        assert out.type == arrow_type(cql, UDTS)
        return as_raw(out), errors

    assert conv(pa.array([1, 300, None], pa.int64()), "smallint") == ([1, 300, None], {})
    got, errors = conv(pa.array([1, 300], pa.int32()), "tinyint")
    assert got == [1, None]
    assert "300 is out of range for tinyint" in errors[1]
    assert conv(pa.array([1.5, 1e300], pa.float64()), "float")[1].keys() == {1}
    assert conv(pa.array([2**53 + 1, 3], pa.int64()), "double")[1].keys() == {0}
    ts = pa.array([1_000_000, 1_500, None], pa.timestamp("us", tz="Europe/Paris"))
    got, errors = conv(ts, "timestamp")
    assert got == [1000, None, None]
    assert "below the millisecond" in errors[1]
    assert conv(pa.array([1, -2], pa.timestamp("s")), "timestamp")[0] == [1000, -2000]
    assert conv(pa.array([3723 * 10**9, -1], pa.int64()), "time") == (
        [3723 * 10**9, None],
        conv(pa.array([3723 * 10**9, -1], pa.int64()), "time")[1],
    )
    assert conv(pa.array([1], pa.time32("s")), "time")[0] == [10**9]
    assert conv(pa.array([86_400_000, 5], pa.date64()), "date")[0] == [1, None]
    mdn = pa.struct([("months", pa.int32()), ("days", pa.int32()), ("nanoseconds", pa.int64())])
    struct = pa.array([{"months": 1, "days": -2, "nanoseconds": 3}, None], mdn)
    assert conv(struct, "duration") == ([(1, -2, 3), None], {})
    assert conv(pa.array([b"\x01"], pa.large_binary()), "blob")[0] == [b"\x01"]
    assert conv(pa.array([bytes.fromhex(U.replace("-", ""))], pa.binary(16)), "timeuuid")[0] == [U]
    assert conv(pa.array(["1.50", "x"], pa.large_string()), "decimal")[0] == ["1.50", None]
    assert conv(pa.array([decimal.Decimal("1.50")], pa.decimal128(5, 2)), "decimal")[0] == ["1.50"]
    assert conv(pa.array([2**64 - 1], pa.uint64()), "varint")[0] == [str(2**64 - 1)]
    lists = pa.array([[1, 2], None, [3]], pa.large_list(pa.int64()))
    assert conv(lists, "list<int>") == ([[1, 2], None, [3]], {})
    assert conv(pa.array([[1, 2], [1]], pa.list_(pa.float64())), "vector<float, 2>")[1].keys() == {1}
    assert conv(pa.array([[1.0, 2.0]], pa.list_(pa.float32(), 2)), "list<float>")[0] == [[1.0, 2.0]]
    entries = pa.array(
        [[{"key": "a", "value": 1}]], pa.list_(pa.struct([("key", pa.string()), ("value", pa.int64())]))
    )
    assert conv(entries, "map<text, int>")[0] == [[("a", 1)]]
    got, errors = conv(
        pa.array([[("a", 1)], [("b", 999)]], pa.map_(pa.string(), pa.int32())), "map<text, tinyint>"
    )
    assert got[0] == [("a", 1)]
    assert "value of the map, entry 1: 999 is out of range" in errors[1]
    udt = pa.array([{"zip": 5, "street": "s"}], pa.struct([("zip", pa.int64()), ("street", pa.string())]))
    assert conv(udt, "frozen<address>")[0] == [{"street": "s", "zip": 5, "Quoted F": None}]
    tup = pa.array([{"a": 1, "b": "x"}], pa.struct([("a", pa.int8()), ("b", pa.string())]))
    assert conv(tup, "frozen<tuple<int, text>>")[0] == [{"f0": 1, "f1": "x"}]
    assert conv(pa.array(["[1, 2]"]), "list<int>")[0] == [[1, 2]]
    with pytest.raises(CassandraFramesError, match=r"Arrow type bool into CQL type int"):
        convert_arrow_column(pa.array([True]), "int")
    with pytest.raises(CassandraFramesError, match="no field 'nope'"):
        convert_arrow_column(pa.array([{"nope": 1}]), "frozen<address>", UDTS)


# ---------------------------------------------------------------------------------------------------------
# round trips through the writers
# ---------------------------------------------------------------------------------------------------------

TABLE = TableInfo(
    "ks",
    "every",
    tuple(
        ColumnInfo(name, cql, "partition_key" if name == "k" else "regular")
        for name, cql in [
            ("k", "int"),
            ("asc", "ascii"),
            ("t", "text"),
            ("ti", "tinyint"),
            ("si", "smallint"),
            ("bi", "bigint"),
            ("f", "float"),
            ("d", "double"),
            ("b", "boolean"),
            ("bl", "blob"),
            ("dt", "date"),
            ("tm", "time"),
            ("ts", "timestamp"),
            ("u", "uuid"),
            ("tu_id", "timeuuid"),
            ("ip", "inet"),
            ("du", "duration"),
            ("dec", "decimal"),
            ("vi", "varint"),
            ("l", "list<text>"),
            ("s", "set<int>"),
            ("m", "map<text, frozen<list<int>>>"),
            ("mi", "map<int, boolean>"),
            ("mt", "map<timestamp, frozen<list<date>>>"),
            ("tu", "frozen<tuple<int, text, time>>"),
            ("ad", "frozen<address>"),
            ("la", "list<frozen<address>>"),
            ("vec", "vector<float, 2>"),
            ("ld", "list<duration>"),
            ("lu", "list<uuid>"),
            ("lb", "list<blob>"),
            ("li", "set<inet>"),
            ("mk", "map<frozen<tuple<int, text>>, double>"),
        ]
    ),
    udts={"address": (("street", "text"), ("zip", "int"))},
)
SCHEMA = table_schema(TABLE)
TEXT = "a,b \"q\" 's'\nline\\ {x: 'y'} [1]"
ROWS: list[dict[str, Any]] = [
    {
        "k": 1, "asc": "", "t": TEXT, "ti": -128, "si": 32767, "bi": -(2**63), "f": float("nan"),
        "d": float("inf"), "b": True, "bl": b"\x00\xab", "dt": -(2**31), "tm": 3723123456789,
        "ts": 1357016400123, "u": U, "tu_id": U, "ip": "2001:db8::1", "du": (14, 3, 3723004005006),
        "dec": "-1.0000000000000000000000000001E+30", "vi": str(10**200), "l": ["x", "", "it's", "null"],
        "s": [1, 2], "m": [("a", [1, 2]), ("", [])], "mi": [(1, True), (-2, False)],
        "mt": [(1357016400123, [0, -(2**31)])], "tu": {"f0": 1, "f1": None, "f2": 5},
        "ad": {"street": 'Main "1"', "zip": None},
        "la": [{"street": "s", "zip": 1}, {"street": "", "zip": 2}],
        "vec": [0.1, -1.5], "ld": [(0, 0, 0), (-1, 0, 0)], "lu": [U], "lb": [b"", b"\xff"],
        "li": ["1.2.3.4", "::1"], "mk": [({"f0": 1, "f1": "a"}, 0.5)],
    },
    {
        "k": 2, "t": "", "f": -float("inf"), "d": 0.1, "b": False, "bl": b"", "dt": 2932897, "tm": 0,
        "ts": 253402300800000, "du": (0, -1, -1000), "dec": "10.000", "vi": "-7",
        "ad": {"street": None, "zip": None}, "tu": {"f0": None, "f1": "", "f2": None}, "s": [], "m": [],
    },
    {"k": 3, "f": 3.4028234663852886e38, "dt": 0, "ts": -62135596800001, "d": 1e300, "dec": "0.00001",
     "vi": "0", "ti": 127, "tm": 1},
    {"k": 4, "ts": -(2**63), "d": -0.0, "f": 1e-45, "dec": "1E-7"},
    {"k": 5, "ts": 2**63 - 1, "dt": 2**31 - 1, "bi": 2**63 - 1, "tm": 86399999999999},
]  # fmt: skip


def arrow_rows() -> pa.Table:
    arrays = []
    for f in SCHEMA:
        values = [r.get(f.name) for r in ROWS]
        if f.type == pa.date32():
            arrays.append(pa.array(values, pa.int32()).cast(pa.date32()))
        elif f.type == pa.time64("ns") or pa.types.is_timestamp(f.type):
            arrays.append(pa.array(values, pa.int64()).cast(f.type))
        else:
            arrays.append(pa.array(values, f.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


DATA = arrow_rows()


def write(options: FormatOptions) -> bytes:
    buf = io.BytesIO()
    writer = open_writer(buf, SCHEMA, options)
    writer.write(DATA)
    writer.close()
    return buf.getvalue()


def same(got: pa.Array, want: pa.ChunkedArray, json_numbers: bool = False) -> None:
    want_arr = want.combine_chunks()
    assert got.type == want_arr.type
    if pa.types.is_floating(got.type):  # NaN != NaN: compare the reprs
        expected = repr(want_arr.to_pylist())
        # json.loads("-0") is the int 0: JSON numbers do not keep the sign of a float zero
        assert repr(got.to_pylist()) == (expected.replace("-0.0", "0.0") if json_numbers else expected)
    else:
        assert got.equals(want_arr), (got, want_arr)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"nested": "json"},
        {"null_value": "NULL"},
        {"timestamps": "epoch_ms"},
        {"nested": "json", "null_value": "N"},
    ],
)
def test_round_trip_csv(kw: dict[str, Any]) -> None:
    options = FormatOptions(format="csv", **kw)
    null = options.null_value
    read = pacsv.read_csv(
        io.BytesIO(write(options)),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(SCHEMA.names, pa.string()),
            null_values=[null],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    for f in SCHEMA:
        got, errors = parse_text_column(
            read.column(f.name), f.metadata[b"cql_type"].decode(), TABLE.udts,
            nested=options.nested, null_value=null,
        )  # fmt: skip
        assert errors == {}, (f.name, errors)
        same(got, DATA.column(f.name))


@pytest.mark.parametrize("kw", [{}, {"timestamps": "epoch_ms"}, {"json_array": True}])
def test_round_trip_json(kw: dict[str, Any]) -> None:
    raw = write(FormatOptions(format="json", **kw)).decode()
    records = json.loads(raw) if kw.get("json_array") else [json.loads(line) for line in raw.splitlines()]
    for f in SCHEMA:
        values = [r[f.name] for r in records]
        got, errors = parse_json_values(values, f.metadata[b"cql_type"].decode(), TABLE.udts)
        assert errors == {}, (f.name, errors)
        same(got, DATA.column(f.name), json_numbers=True)


def test_round_trip_parquet() -> None:
    table = pq.read_table(io.BytesIO(write(FormatOptions(format="parquet"))))
    for f in SCHEMA:
        got, errors = convert_arrow_column(table.column(f.name), f.metadata[b"cql_type"].decode(), TABLE.udts)
        assert errors == {}, (f.name, errors)
        same(got, DATA.column(f.name))


def test_large_columns_take_the_fast_path() -> None:
    n = 20_000
    ints = pa.array([str(i - n // 2) for i in range(n)])
    arr, errors = parse_text_column(ints, "int")
    assert errors == {}
    assert arr.to_pylist()[:2] == [-n // 2, -n // 2 + 1]
    stamps = pa.array([f"2013-01-01 05:00:{i % 60:02d}.{i % 1000:03d}Z" for i in range(n)])
    arr, errors = parse_text_column(stamps, "timestamp")
    assert errors == {}
    assert arr.cast(pa.int64())[61].as_py() == 1357016401061
    mixed = pa.array(["1"] * n + ["x"])
    assert list(parse_text_column(mixed, "bigint")[1]) == [n]
