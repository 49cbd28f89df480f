"""cassandra_frames.convert.from_arrow against a real Cassandra 5 node: a table with every CQL type is
written with prepared INSERTs that bind ``cql_values`` per column, then read back with ``read_cassandra``
and compared value for value — edge values included (timestamps of years 1, 3000, 10000 and -5000, dates
millions of years away, 200-digit varints, 60-digit decimals). A second test reads the table, writes what it
read into a copy and reads the copy: the two frames must be identical."""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pytest
from arrow_compare import f32, raw_type

from cassandra_frames import read_cassandra
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.convert.from_arrow import check_compatible, cql_values
from cassandra_frames.cqltypes import quote as quote_identifier
from cassandra_frames.engine.catalog import table_info
from cassandra_frames.schema import table_schema

YEAR_1 = -62135596800000
YEAR_3000 = 32503680000000
YEAR_10000 = 253402300800000
YEAR_MINUS_5000 = -219951360000000
MS_2020 = 1577836800000
MS_2021 = 1609459200000
DAY_1000 = -354285
F32_MAX = f32(3.4028235e38)

COLUMNS = """
    id int, ck int, "CkTs" timestamp, st text static, "MyCol" text,
    a ascii, bi bigint, b blob, bo boolean, d date, de decimal, db double, du duration, f float, i inet,
    n int, si smallint, tx text, tm time, ts timestamp, tu timeuuid, ti tinyint, u uuid, vc varchar,
    vi varint, v vector<float, 3>, vt vector<text, 2>,
    l list<int>, se set<text>, m map<text, int>, tp tuple<int, text, timestamp>, tpn tuple<int, text>,
    ud frozen<"Addr">, lud list<frozen<"Addr">>, mud map<text, frozen<"Addr">>,
    ll list<frozen<list<int>>>, mfk map<frozen<set<int>>, text>,
    mts map<timestamp, frozen<list<timestamp>>>, sd set<date>, ldu list<duration>, ldec list<decimal>,
    lu list<uuid>, sin set<inet>, fm frozen<map<int, text>>,
    mm map<frozen<map<int, text>>, frozen<list<int>>>,
    lvi list<varint>, vv vector<vector<float, 2>, 2>,
    PRIMARY KEY ((id), ck, "CkTs")
"""
DDL = [
    "CREATE TYPE {ks}.inner_t (a int, ts timestamp, d date)",
    'CREATE TYPE {ks}."Addr" (street text, "Zip" int, inner frozen<inner_t>, tags set<text>, "Zip Code" int)',
    'CREATE TABLE {ks}."MyTable" (' + COLUMNS + ') WITH CLUSTERING ORDER BY (ck DESC, "CkTs" ASC)',
    'CREATE TABLE {ks}."MyCopy" (' + COLUMNS + ') WITH CLUSTERING ORDER BY (ck DESC, "CkTs" ASC)',
    "CREATE TABLE {ks}.counts (id int PRIMARY KEY, cnt counter)",
    "CREATE TABLE {ks}.counts_copy (id int PRIMARY KEY, cnt counter)",
]


def addr(**fields: Any) -> dict[str, Any]:
    return {"street": None, "Zip": None, "inner": None, "tags": None, "Zip Code": None, **fields}


# Rows in Arrow's raw form (timestamps int64 ms, dates int32 days, times int64 ns, durations
# (months, days, nanoseconds), tuples/UDTs as dicts, maps as lists of pairs in the server's key order, sets in
# the server's order). Columns left out are null. Each row is its own partition, so "st" is per row.
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "ck": 1,
        "CkTs": YEAR_1,
        "st": "static",
        "MyCol": "Mixed",
        "a": "ascii ~",
        "bi": 2**63 - 1,
        "b": b"\xde\xad\xbe\xef",
        "bo": True,
        "d": -2545740,  # -5000-01-01
        "de": "-1.0000000000000000000000000001E+30",
        "db": 1.7976931348623157e308,
        "du": (1, 2, 3),
        "f": F32_MAX,
        "i": "192.168.0.1",
        "n": 2**31 - 1,
        "si": 32767,
        "tx": "héllo 🌍 中文",
        "tm": 86399999999999,
        "ts": YEAR_3000,
        "tu": "e5a1dfd0-e81e-11f1-a695-6306d05ebcda",
        "ti": 127,
        "u": "550e8400-e29b-41d4-a716-446655440000",
        "vc": "varchar",
        "vi": "1" + "0" * 200,
        "v": [1.0, 2.5, -3.0],
        "vt": ["a", "b"],
        "l": [3, 1, 2],
        "se": ["x", "y"],
        "m": [("j", 2), ("k", 1)],
        "tp": {"f0": 1, "f1": "one", "f2": MS_2020},
        "tpn": {"f0": None, "f1": ""},
        "ud": addr(
            street="Main",
            Zip=123,
            inner={"a": 5, "ts": MS_2021, "d": DAY_1000},
            tags=["t1"],
            **{"Zip Code": 99},
        ),
        "lud": [addr(street="S"), addr(inner={"a": 1, "ts": None, "d": None}, **{"Zip Code": 7})],
        "mud": [("home", addr(street="H", Zip=1))],
        "ll": [[1, 2], [3]],
        "mfk": [([1, 2], "a")],
        "mts": [(MS_2020, [MS_2021, 0])],
        "sd": [DAY_1000, 18262],
        "ldu": [(-1, -2, 0), (0, 0, 3600 * 10**9)],
        "ldec": ["1.5", "10.000"],
        "lu": ["00000000-0000-0000-0000-00000000000a"],
        # a set arrives in Cassandra's order (inet: by address bytes, so ::1 before 10.0.0.1)
        "sin": ["::1", "10.0.0.1"],
        "fm": [(1, "a"), (2, "b")],
        "mm": [([(1, "x")], [1, 2])],
        "lvi": [str(-(2**64)), "0"],
        "vv": [[1.0, 2.0], [3.0, 4.0]],
    },
    {
        "id": 2,
        "ck": 2,
        "CkTs": 0,
        "MyCol": "",
        "a": "",
        "bi": -(2**63),
        "b": b"",
        "bo": False,
        "d": -(2**31),
        "de": "0.00001",
        "db": float("-inf"),
        "du": (-14, 0, 0),
        "f": f32(1.1),
        "i": "2001:db8::1",
        "n": -(2**31),
        "si": -32768,
        "tx": "",
        "tm": 0,
        "ts": YEAR_MINUS_5000,
        "ti": -128,
        "u": "00000000-0000-0000-0000-000000000000",
        "vc": "",
        "vi": "-1" + "0" * 199 + "1",
        "v": [0.0, -1.5, F32_MAX],
        "vt": ["", "é"],
        "tpn": {"f0": 1, "f1": None},
        "ud": addr(street=""),
        "fm": [],  # a frozen empty collection stays empty
        "ll": [[]],
    },
    {
        "id": 3,
        "ck": 3,
        "CkTs": YEAR_10000,
        "l": [],  # empty non-frozen collections come back as null
        "se": [],
        "m": [],
        "sd": [],
        "tpn": {"f0": None, "f1": None},  # a tuple of nulls is not a null tuple
        "ts": -(2**63),
        "d": 2**31 - 1,
    },
    {
        "id": 4,
        "ck": 4,
        "CkTs": 1577882096789,
        "d": 18262,
        "de": "123456789012345678901234567890.123456789012345678901234567890",
        "du": (14, 3, 14706007008009),
        "ts": 2**63 - 1,
        "vi": "0",
        "i": "::1",
        "tm": 43200000000001,
        "tx": "\u0000nul and \"quotes\" and 'apostrophes'",
        "db": float("nan"),
        "ti": 0,
    },
]
EMPTY_READS_AS_NULL = {"l", "se", "m", "sd"}  # non-frozen collections


def as_python(arr: pa.Array | pa.ChunkedArray) -> list[Any]:
    """Comparable Python values: integer storage for temporal types, tuples for intervals, NaN as a string."""

    def fix(v: Any) -> Any:
        if isinstance(v, float) and v != v:
            return "NaN"
        if isinstance(v, pa.MonthDayNano):
            return tuple(v)
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, tuple):
            return tuple(fix(x) for x in v)
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v

    return [fix(v) for v in arr.cast(raw_type(arr.type)).to_pylist()]


def arrow_rows(schema: pa.Schema, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """The rows as an Arrow table of ``schema`` (the types read_cassandra returns)."""
    arrays = []
    for field in schema:
        raw = pa.array([row.get(field.name) for row in rows], raw_type(field.type))
        arrays.append(raw.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def live_schema(session: Any, keyspace: str, table: str) -> tuple[pa.Schema, dict[str, Any]]:
    session.cluster.refresh_schema_metadata()
    info = table_info(session, keyspace, table)
    return table_schema(info), dict(info.udts)


def write(session: Any, keyspace: str, table: str, data: pa.Table, udts: dict[str, Any]) -> None:
    """INSERT every row of ``data`` with one prepared statement, binding ``cql_values`` per column."""
    names = data.column_names
    columns = []
    for field in data.schema:
        cql = data.schema.field(field.name).metadata[b"cql_type"].decode()
        assert check_compatible(field.type, cql, udts) is None
        values, bad = cql_values(data.column(field.name), cql, udts)
        assert bad == {}, (field.name, bad)
        columns.append(values)
    insert = session.prepare(
        f"INSERT INTO {quote_identifier(keyspace)}.{quote_identifier(table)} "
        f"({', '.join(quote_identifier(n) for n in names)}) VALUES ({', '.join('?' for _ in names)})"
    )
    for row in zip(*columns, strict=True):
        session.execute(insert, list(row))


def read_table(
    config: ConnectionConfig, keyspace: str, table: str, dtype_backend: Any = "pyarrow", exact: bool = True
) -> pa.Table:
    df = read_cassandra(
        f"{keyspace}.{table}", connection=config, dtype_backend=dtype_backend, exact_numbers=exact
    ).compute()
    result: pa.Table = pa.Table.from_pandas(df, preserve_index=False)
    return result.sort_by("id")


@pytest.fixture
def tables(cassandra_session: Any, keyspace: str) -> tuple[Any, str]:
    for stmt in DDL:
        cassandra_session.execute(stmt.format(ks=keyspace), timeout=60)
    return cassandra_session, keyspace


def test_every_type_written_with_cql_values_reads_back_value_for_value(
    tables: tuple[Any, str], cassandra_config: ConnectionConfig
) -> None:
    session, keyspace = tables
    schema, udts = live_schema(session, keyspace, "MyTable")
    assert len(schema) == 47
    data = arrow_rows(schema, ROWS)
    write(session, keyspace, "MyTable", data, udts)

    got = read_table(cassandra_config, keyspace, "MyTable")
    assert got.num_rows == len(ROWS)
    assert sorted(got.column_names) == sorted(schema.names)
    for field in schema:
        column = got.column(field.name)
        assert column.type == field.type, field.name
        expected = as_python(data.column(field.name))
        if field.name in EMPTY_READS_AS_NULL:
            expected = [None if v == [] else v for v in expected]
        assert as_python(column) == expected, field.name
    # spot checks of the raw values, independent of the helpers above
    assert got.column("ts").cast(pa.int64()).to_pylist() == [YEAR_3000, YEAR_MINUS_5000, -(2**63), 2**63 - 1]
    assert got.column("CkTs").cast(pa.int64()).to_pylist() == [YEAR_1, 0, YEAR_10000, 1577882096789]
    assert got.column("d").cast(pa.int32()).to_pylist() == [-2545740, -(2**31), 2**31 - 1, 18262]
    assert got.column("vi").to_pylist()[0] == "1" + "0" * 200
    assert decimal.Decimal(got.column("de").to_pylist()[3]) == decimal.Decimal(
        "123456789012345678901234567890.123456789012345678901234567890"
    )
    assert got.column("fm").to_pylist()[1] == []
    assert got.column("l").to_pylist()[2] is None


def test_counter_written_with_cql_values(tables: tuple[Any, str], cassandra_config: ConnectionConfig) -> None:
    session, keyspace = tables
    ids, bad_ids = cql_values(pa.array([1, 2, 3], pa.int32()), "int")
    deltas, bad = cql_values(
        pa.array(
            [decimal.Decimal(2**63 - 1), decimal.Decimal(-5), decimal.Decimal(2**63)], pa.decimal128(20, 0)
        ),
        "counter",
    )
    assert bad_ids == {}
    assert bad == {2: f"value {2**63} is out of range for counter ({-(2**63)}..{2**63 - 1})"}
    update = session.prepare(f"UPDATE {keyspace}.counts SET cnt = cnt + ? WHERE id = ?")
    for i, delta in zip(ids, deltas, strict=True):
        if delta is not None:
            session.execute(update, [delta, i])
    got = read_table(cassandra_config, keyspace, "counts")
    assert got.column("id").to_pylist() == [1, 2]
    assert got.column("cnt").to_pylist() == [2**63 - 1, -5]
    assert got.schema.field("cnt").type == pa.int64()

    # read → cql_values → counter increments on an empty table → the same counts
    values, bad = cql_values(got.column("cnt"), "counter")
    assert bad == {}
    update_copy = session.prepare(f"UPDATE {keyspace}.counts_copy SET cnt = cnt + ? WHERE id = ?")
    for i, delta in zip(cql_values(got.column("id"), "int")[0], values, strict=True):
        session.execute(update_copy, [delta, i])
    assert read_table(cassandra_config, keyspace, "counts_copy").equals(got)


@pytest.mark.parametrize(
    ("dtype_backend", "exact"), [("pyarrow", True), ("numpy_nullable", True), ("pyarrow", False)]
)
def test_read_write_read_round_trip_is_identical(
    tables: tuple[Any, str], cassandra_config: ConnectionConfig, dtype_backend: Any, exact: bool
) -> None:
    """read_cassandra → cql_values → INSERT into a copy → read_cassandra gives the identical table, also
    for pandas' nullable dtypes and for decimals/varints read as float64 (exact_numbers=False)."""
    session, keyspace = tables
    schema, udts = live_schema(session, keyspace, "MyTable")
    write(session, keyspace, "MyTable", arrow_rows(schema, ROWS), udts)
    first = read_table(cassandra_config, keyspace, "MyTable", dtype_backend, exact)

    copy_schema, _ = live_schema(session, keyspace, "MyCopy")
    cql = {f.name: f.metadata[b"cql_type"].decode() for f in copy_schema}
    names = first.column_names
    columns = []
    for name in names:
        assert check_compatible(first.schema.field(name).type, cql[name], udts) is None, name
        values, bad = cql_values(first.column(name), cql[name], udts)
        assert bad == {}, (name, bad)
        columns.append(values)
    insert = session.prepare(
        f'INSERT INTO {keyspace}."MyCopy" ({", ".join(quote_identifier(n) for n in names)}) '
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    for row in zip(*columns, strict=True):
        session.execute(insert, list(row))

    second = read_table(cassandra_config, keyspace, "MyCopy", dtype_backend, exact)
    assert second.column_names == names
    for name in names:
        assert second.column(name).type == first.column(name).type, name
        assert as_python(second.column(name)) == as_python(first.column(name)), name
    if not exact:
        assert first.schema.field("de").type == pa.float64()
        assert first.column("vi").to_pylist()[0] == 1e200


def test_other_arrow_types_are_written_exactly(
    tables: tuple[Any, str], cassandra_config: ConnectionConfig
) -> None:
    """Arrow types other than the ones read_cassandra returns: ns timestamps, naive and zoned; dates as
    timestamps; floats into int columns; decimal128; UUIDs as bytes and as the arrow.uuid type; s-unit
    durations; a list of key/value structs as a map; a UDT struct with missing fields; a dictionary column."""
    session, keyspace = tables
    schema, udts = live_schema(session, keyspace, "MyTable")
    u = uuid.UUID("550e8400-e29b-41d4-a716-446655440000")
    tu = uuid.UUID("e5a1dfd0-e81e-11f1-a695-6306d05ebcda")
    data = {
        "id": pa.array([10, 11], pa.float64()),
        "ck": pa.array([1, 2], pa.uint8()),
        "CkTs": pa.array([MS_2020 * 10**6, -(10**18)], pa.timestamp("ns")),
        "ts": pa.array([MS_2021 * 10**6, 0], pa.timestamp("ns", tz="Asia/Tokyo")),
        "d": pa.array([MS_2020, None], pa.timestamp("ms", tz="UTC")),
        "de": pa.array([decimal.Decimal("-12.3400"), decimal.Decimal("0")], pa.decimal128(10, 4)),
        "vi": pa.array([2**64 - 1, 0], pa.uint64()),
        "n": pa.array([2.0**31 - 1, -(2.0**31)]),
        "db": pa.array([2**53, -3], pa.int64()),
        "u": pa.array([u.bytes, None], pa.binary(16)),
        "tu": pa.array([tu.bytes, None], pa.uuid()),
        "du": pa.array([-90, 10**9], pa.duration("s")),
        "m": pa.array(
            [[{"key": "a", "value": 1}], None],
            pa.list_(pa.struct([("key", pa.string()), ("value", pa.int8())])),
        ),
        "ud": pa.array([{"Zip Code": 5}, None], pa.struct([("Zip Code", pa.int64())])),
        "tx": pa.array(["x", "x"]).dictionary_encode(),
        "a": pa.array(["big", None], pa.large_string()),
        "v": pa.array([[1.0, 0.5, -2.0], None], pa.list_(pa.float64())),
        "bo": pa.nulls(2),
    }
    cql = {f.name: f.metadata[b"cql_type"].decode() for f in schema}
    names = list(data)
    columns = []
    for name in names:
        assert check_compatible(data[name].type, cql[name], udts) is None, name
        values, bad = cql_values(data[name], cql[name], udts)
        assert bad == {}, (name, bad)
        columns.append(values)
    insert = session.prepare(
        f'INSERT INTO {keyspace}."MyTable" ({", ".join(quote_identifier(n) for n in names)}) '
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    for row in zip(*columns, strict=True):
        session.execute(insert, list(row))

    got = read_table(cassandra_config, keyspace, "MyTable")
    expected = {
        "id": [10, 11],
        "ck": [1, 2],
        "CkTs": [MS_2020, -(10**12)],
        "ts": [MS_2021, 0],
        "d": [18262, None],
        "de": ["-12.3400", "0.0000"],  # the Arrow scale is kept
        "vi": [str(2**64 - 1), "0"],
        "n": [2**31 - 1, -(2**31)],
        "db": [float(2**53), -3.0],
        "u": [str(u), None],
        "tu": [str(tu), None],
        "du": [(0, 0, -90 * 10**9), (0, 0, 10**18)],
        "m": [[("a", 1)], None],
        "ud": [addr(**{"Zip Code": 5}), None],
        "tx": ["x", "x"],
        "a": ["big", None],
        "v": [[1.0, 0.5, -2.0], None],
        "bo": [None, None],
    }
    for name, values in expected.items():
        assert as_python(got.column(name)) == values, name
