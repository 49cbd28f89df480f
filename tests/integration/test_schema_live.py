"""cassandra_frames.schema against a real Cassandra 5 node: every CQL type, edge values, static and
reversed clustering columns, mixed-case names — inserted with CQL literals, read back through the driver with
``select_expression``/``fetched_converter`` and compared value for value."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from arrow_compare import f32, raw_type
from cassandra import DriverException
from cassandra.cluster import EXEC_PROFILE_DEFAULT
from cassandra.query import SimpleStatement, tuple_factory

from cassandra_frames.config import ConnectionConfig
from cassandra_frames.convert.pages import page_decoder
from cassandra_frames.convert.to_arrow import fetched_converter
from cassandra_frames.cql import select_expression
from cassandra_frames.cqltypes import quote as quote_identifier
from cassandra_frames.engine.catalog import table_info
from cassandra_frames.engine.pages import execute_raw
from cassandra_frames.engine.session import connect
from cassandra_frames.errors import SchemaError
from cassandra_frames.schema import arrow_type, empty_frame, table_schema, to_pandas

YEAR_1 = -62135596800000
YEAR_3000 = 32503680000000
YEAR_10000 = 253402300800000
MS_2020 = 1577836800000  # 2020-01-01T00:00:00Z
MS_2021 = 1609459200000
DAY_2020 = 18262
DAY_1000 = -354285

DDL = [
    "CREATE TYPE {ks}.inner_t (a int, ts timestamp, d date)",
    'CREATE TYPE {ks}."Addr" (street text, "Zip" int, inner frozen<inner_t>, tags set<text>, "Zip Code" int)',
    """CREATE TABLE {ks}."MyTable" (
        id int, ck int, "CkTs" timestamp, st text static, "MyCol" text,
        a ascii, bi bigint, b blob, bo boolean, d date, de decimal, db double, du duration, f float, i inet,
        n int, si smallint, tx text, tm time, ts timestamp, tu timeuuid, ti tinyint, u uuid, vc varchar,
        vi varint, v vector<float, 3>, vt vector<text, 2>,
        l list<int>, se set<text>, m map<text, int>, tp tuple<int, text, timestamp>, tpn tuple<int, text>,
        ud frozen<"Addr">, lud list<frozen<"Addr">>, mud map<text, frozen<"Addr">>,
        ll list<frozen<list<int>>>, mfk map<frozen<set<int>>, text>,
        mts map<timestamp, frozen<list<timestamp>>>, sd set<date>, ldu list<duration>, ldec list<decimal>,
        lu list<uuid>, sin set<inet>, fm frozen<map<int, text>>,
        PRIMARY KEY ((id), ck, "CkTs")
    ) WITH CLUSTERING ORDER BY (ck DESC, "CkTs" ASC)""",
    "CREATE TABLE {ks}.counts (id int PRIMARY KEY, cnt counter)",
]

# One dict per row: column → (CQL literal, expected value in Arrow's raw form: timestamps as int64 ms,
# dates as int32 days, times as int64 ns, durations as (months, days, nanoseconds), UDT/tuple as dicts,
# maps as lists of (key, value) pairs). Columns left out are NULL.
ROW_MAX: dict[str, tuple[str, Any]] = {
    "ck": ("1", 1),
    "CkTs": (str(YEAR_1), YEAR_1),
    "st": ("'static'", "static"),
    "MyCol": ("'Mixed'", "Mixed"),
    "a": ("'ascii'", "ascii"),
    "bi": ("9223372036854775807", 2**63 - 1),
    "b": ("0xdeadbeef", b"\xde\xad\xbe\xef"),
    "bo": ("true", True),
    "d": ("'-5000-01-01'", -2545740),
    "de": ("-1.0000000000000000000000000001E+30", "-1.0000000000000000000000000001E+30"),
    "db": ("1.7976931348623157E308", 1.7976931348623157e308),
    "du": ("1mo2d3ns", (1, 2, 3)),
    "f": ("3.4028235E38", f32(3.4028235e38)),
    "i": ("'192.168.0.1'", "192.168.0.1"),
    "n": ("2147483647", 2**31 - 1),
    "si": ("32767", 32767),
    "tx": ("'héllo 🌍 中文'", "héllo 🌍 中文"),
    "tm": ("'23:59:59.999999999'", 86399999999999),
    "ts": (str(YEAR_3000), YEAR_3000),
    "tu": ("E5A1DFD0-E81E-11F1-A695-6306D05EBCDA", "e5a1dfd0-e81e-11f1-a695-6306d05ebcda"),
    "ti": ("127", 127),
    "u": ("550E8400-E29B-41D4-A716-446655440000", "550e8400-e29b-41d4-a716-446655440000"),
    "vc": ("'varchar'", "varchar"),
    "vi": (str(10**200), "1" + "0" * 200),
    "v": ("[1.0, 2.5, -3.0]", [1.0, 2.5, -3.0]),
    "vt": ("['a', 'b']", ["a", "b"]),
    "l": ("[3, 1, 2]", [3, 1, 2]),
    "se": ("{'y', 'x'}", ["x", "y"]),
    "m": ("{'k': 1, 'j': 2}", [("j", 2), ("k", 1)]),
    "tp": ("(1, 'one', '2020-01-01 00:00:00+0000')", {"f0": 1, "f1": "one", "f2": MS_2020}),
    "tpn": ("(null, '')", {"f0": None, "f1": ""}),
    "ud": (
        "{street: 'Main', \"Zip\": 123, inner: {a: 5, ts: '2021-01-01 00:00:00+0000', d: '1000-01-01'},"
        " tags: {'t1'}, \"Zip Code\": 99}",
        {
            "street": "Main",
            "Zip": 123,
            "inner": {"a": 5, "ts": MS_2021, "d": DAY_1000},
            "tags": ["t1"],
            "Zip Code": 99,
        },
    ),
    "lud": (
        "[{street: 'S'}, {\"Zip Code\": 7, inner: {a: 1}}]",
        [
            {"street": "S", "Zip": None, "inner": None, "tags": None, "Zip Code": None},
            {
                "street": None,
                "Zip": None,
                "inner": {"a": 1, "ts": None, "d": None},
                "tags": None,
                "Zip Code": 7,
            },
        ],
    ),
    "mud": (
        "{'home': {street: 'H', \"Zip\": 1}}",
        [("home", {"street": "H", "Zip": 1, "inner": None, "tags": None, "Zip Code": None})],
    ),
    "ll": ("[[1, 2], [3]]", [[1, 2], [3]]),
    "mfk": ("{{1, 2}: 'a'}", [([1, 2], "a")]),
    "mts": ("{'2020-01-01': ['2021-01-01', '1970-01-01']}", [(MS_2020, [MS_2021, 0])]),
    "sd": ("{'2020-01-01', '1000-01-01'}", [DAY_1000, DAY_2020]),
    "ldu": ("[-1mo2d, 1h]", [(-1, -2, 0), (0, 0, 3600 * 10**9)]),
    "ldec": ("[1.5, 10.000]", ["1.5", "10.000"]),
    "lu": ("[00000000-0000-0000-0000-00000000000A]", ["00000000-0000-0000-0000-00000000000a"]),
    "sin": ("{'::1', '10.0.0.1'}", ["::1", "10.0.0.1"]),  # the server's set order: inet by bytes
    "fm": ("{2: 'b', 1: 'a'}", [(1, "a"), (2, "b")]),
}
ROW_MIN: dict[str, tuple[str, Any]] = {
    "ck": ("2", 2),
    "CkTs": ("0", 0),
    "MyCol": ("''", ""),
    "a": ("''", ""),
    "bi": ("-9223372036854775808", -(2**63)),
    "b": ("0x", b""),
    "bo": ("false", False),
    "d": ("0", -(2**31)),  # an integer date literal is the raw unsigned day number: 0 = 2^31 days before 1970
    "de": ("0.00001", "0.00001"),
    "db": ("-Infinity", float("-inf")),
    "du": ("-1y2mo", (-14, 0, 0)),
    "f": ("1.1", f32(1.1)),
    "i": ("'2001:db8::1'", "2001:db8::1"),
    "n": ("-2147483648", -(2**31)),
    "si": ("-32768", -32768),
    "tx": ("''", ""),
    "tm": ("'00:00:00'", 0),
    "ts": ("-100000000000000", -(10**14)),  # about year -1199
    "ti": ("-128", -128),
    "u": ("00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"),
    "vc": ("''", ""),
    "vi": (str(-(10**200) - 1), "-1" + "0" * 199 + "1"),
    "v": ("[0.0, -1.5, 3.4028235E38]", [0.0, -1.5, f32(3.4028235e38)]),
    "vt": ("['', 'é']", ["", "é"]),
    "tpn": ("(1, null)", {"f0": 1, "f1": None}),
    "ud": ("{street: ''}", {"street": "", "Zip": None, "inner": None, "tags": None, "Zip Code": None}),
}
ROW_EMPTY: dict[str, tuple[str, Any]] = {  # empty (non-frozen) collections come back as NULL
    "ck": ("3", 3),
    "CkTs": (str(YEAR_10000), YEAR_10000),
    "l": ("[]", None),
    "se": ("{}", None),
    "m": ("{}", None),
    "sd": ("{}", None),
    "fm": ("{}", []),  # a frozen collection is one stored value: empty stays empty
    "ll": ("[[]]", [[]]),  # so does a frozen empty list inside a list
    "tpn": ("(null, null)", {"f0": None, "f1": None}),  # a tuple of nulls is not a null tuple
}
ROW_MISC: dict[str, tuple[str, Any]] = {
    "ck": ("4", 4),
    "CkTs": ("'2020-01-01 12:34:56.789+0000'", 1577882096789),
    "d": ("4294967295", 2**31 - 1),
    "de": (
        "123456789012345678901234567890.123456789012345678901234567890",
        "123456789012345678901234567890.123456789012345678901234567890",
    ),
    "du": ("1y2mo3d4h5m6s7ms8us9ns", (14, 3, 14706007008009)),
    "ts": (str(YEAR_10000), YEAR_10000),
    "vi": ("0", "0"),
    "i": ("'::1'", "::1"),
    "tm": ("'12:00:00.000000001'", 43200000000001),
    "tx": ("'\u0000nul and \"quotes\" and ''apostrophes'''", "\u0000nul and \"quotes\" and 'apostrophes'"),
}
ROWS = [ROW_MAX, ROW_MIN, ROW_EMPTY, ROW_MISC]


def as_python(arr: pa.ChunkedArray) -> list[Any]:
    values: list[Any] = arr.cast(raw_type(arr.type)).to_pylist()
    if pa.types.is_interval(arr.type):
        return [None if v is None else tuple(v) for v in values]
    if arr.type == pa.list_(pa.month_day_nano_interval()):
        return [None if v is None else [tuple(x) for x in v] for v in values]
    return values


@pytest.fixture
def loaded(cassandra_session: Any, keyspace: str) -> tuple[Any, str]:
    for stmt in DDL:
        cassandra_session.execute(stmt.format(ks=keyspace), timeout=60)
    for row in ROWS:
        names = ["id", *row]
        literals = ["1", *(lit for lit, _ in row.values())]
        cassandra_session.execute(
            f'INSERT INTO {keyspace}."MyTable" ({", ".join(quote_identifier(n) for n in names)}) '
            f"VALUES ({', '.join(literals)})"
        )
    cassandra_session.execute(f"UPDATE {keyspace}.counts SET cnt = cnt + 9223372036854775807 WHERE id = 1")
    cassandra_session.execute(f"UPDATE {keyspace}.counts SET cnt = cnt - 5 WHERE id = 2")
    return cassandra_session, keyspace


def read(session: Any, keyspace: str, table: str, where: str = "") -> pa.Table:
    """Read a table the way the engine does: select_expression per column, then the compiled page decoder
    (or, without it, fetched_converter per column)."""
    info = table_info(session, keyspace, table)  # the driver's metadata as the engine reads it
    schema = table_schema(info)
    udts = info.udts
    types = [f.metadata[b"cql_type"].decode() for f in schema]
    select = ", ".join(select_expression(f.name, t) for f, t in zip(schema, types, strict=True))
    profile = session.execution_profile_clone_update(EXEC_PROFILE_DEFAULT, row_factory=tuple_factory)
    text = f"SELECT {select} FROM {quote_identifier(keyspace)}.{quote_identifier(table)} {where}"
    stmt = SimpleStatement(text, fetch_size=None)
    decoder = page_decoder([(t, f.type) for t, f in zip(types, schema, strict=True)], schema, udts)
    if decoder is not None:  # the compiled page decoder, as reads use it
        future = execute_raw(session, stmt, timeout=60, execution_profile=profile, host=None)
        pages = future.result().current_rows  # [RawPage]; [] when no row matched
        return pa.Table.from_batches([decoder(p.body, p.rows) for p in pages], schema=schema)
    rows = list(session.execute(stmt, execution_profile=profile))
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [fetched_converter(t, udts)(list(col)) for t, col in zip(types, columns, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def test_every_type_round_trips_value_for_value(loaded: tuple[Any, str]) -> None:
    session, keyspace = loaded
    table = read(session, keyspace, "MyTable", "WHERE id = 1")
    # clustering order ck DESC
    order = [ROW_MISC, ROW_EMPTY, ROW_MIN, ROW_MAX]
    assert table.column("ck").to_pylist() == [4, 3, 2, 1]
    assert table.column("id").to_pylist() == [1, 1, 1, 1]
    assert table.column("st").to_pylist() == ["static"] * 4  # static: one value for the whole partition
    checked = {"id", "st"}
    for name in table.column_names:
        if name in checked:
            continue
        expected = [row[name][1] if name in row else None for row in order]
        assert as_python(table.column(name)) == expected, name
        checked.add(name)
    assert checked == set(table.column_names)
    assert len(checked) == 44


def test_live_schema_types_roles_and_order(loaded: tuple[Any, str]) -> None:
    session, keyspace = loaded
    info = table_info(session, keyspace, "MyTable")
    schema = table_schema(info)
    assert schema.names[:3] == ["id", "ck", "CkTs"]
    roles = {f.name: f.metadata[b"role"] for f in schema}
    assert roles["id"] == b"partition_key"
    assert roles["ck"] == b"clustering"
    assert roles["CkTs"] == b"clustering"
    assert roles["st"] == b"static"
    assert roles["MyCol"] == b"regular"
    assert schema.field("ck").metadata[b"clustering_order"] == b"DESC"
    assert schema.field("CkTs").metadata[b"clustering_order"] == b"ASC"
    assert schema.field("ud").metadata[b"cql_type"] == b'frozen<"Addr">'
    expected_types = {
        "CkTs": pa.timestamp("ms", tz="UTC"),
        "du": pa.month_day_nano_interval(),
        "vi": pa.string(),
        "v": pa.list_(pa.float32(), 3),
        "mfk": pa.map_(pa.list_(pa.int32()), pa.string()),
        "tp": pa.struct([("f0", pa.int32()), ("f1", pa.string()), ("f2", pa.timestamp("ms", tz="UTC"))]),
    }
    for name, typ in expected_types.items():
        assert schema.field(name).type == typ, name
    ud = schema.field("ud").type
    assert [ud.field(i).name for i in range(ud.num_fields)] == ["street", "Zip", "inner", "tags", "Zip Code"]
    assert table_schema(info, ["MyCol", "id"]).names == ["MyCol", "id"]
    with pytest.raises(
        SchemaError, match=r"'mycol' does not exist in table cf_test_\w+\.MyTable; did you mean 'MyCol'"
    ):
        table_schema(info, ["mycol"])


def test_counter_column(loaded: tuple[Any, str]) -> None:
    session, keyspace = loaded
    table = read(session, keyspace, "counts")
    assert table.schema.field("cnt").type == pa.int64()
    assert sorted(zip(table.column("id").to_pylist(), table.column("cnt").to_pylist(), strict=True)) == [
        (1, 2**63 - 1),
        (2, -5),
    ]


@pytest.mark.parametrize("backend", ["pyarrow", "numpy_nullable"])
def test_pandas_dtypes_match_empty_frame(loaded: tuple[Any, str], backend: Any) -> None:
    session, keyspace = loaded
    table = read(session, keyspace, "MyTable")
    frame = to_pandas(table, backend)
    meta = empty_frame(table.schema, backend)
    assert len(frame) == 4
    assert list(frame.columns) == table.column_names
    assert frame.dtypes.to_dict() == meta.dtypes.to_dict()
    # timestamps beyond pandas' nanosecond range (years 1, 3000, 10000, -1199) survive unchanged
    for name in ("ts", "CkTs"):
        assert pa.array(frame[name]).equals(table.column(name).combine_chunks()), name
    assert frame["vi"].tolist()[3] == "1" + "0" * 200


def test_pyarrow_backend_keeps_every_value(loaded: tuple[Any, str]) -> None:
    session, keyspace = loaded
    table = read(session, keyspace, "MyTable")
    frame = to_pandas(table)
    for name in table.column_names:
        assert pa.array(frame[name]).equals(table.column(name).combine_chunks()), name


def test_empty_result_has_the_table_schema(loaded: tuple[Any, str]) -> None:
    session, keyspace = loaded
    table = read(session, keyspace, "MyTable", "WHERE id = 999")
    assert table.num_rows == 0
    assert to_pandas(table).dtypes.to_dict() == empty_frame(table.schema).dtypes.to_dict()


def test_nested_timestamp_outside_python_years_is_a_driver_limitation(
    cassandra_config: ConnectionConfig, cassandra_session: Any, keyspace: str
) -> None:
    """Documented in docs/types.md: only top-level timestamps can be fetched as toUnixTimestamp; a nested one
    outside years 1-9999 fails the driver's decoding. That failure also marks the connection defunct, so it
    runs on a private connection, never on the shared session."""
    cassandra_session.execute(
        f"CREATE TABLE {keyspace}.nested (id int PRIMARY KEY, l list<timestamp>)", timeout=60
    )
    cassandra_session.execute(f"INSERT INTO {keyspace}.nested (id, l) VALUES (1, [{YEAR_10000}])")
    private = connect(cassandra_config)
    try:
        with pytest.raises(DriverException, match="out of range"):
            private.execute(f"SELECT l FROM {keyspace}.nested")
    finally:
        private.cluster.shutdown()
    assert arrow_type("list<timestamp>") == pa.list_(pa.timestamp("ms", tz="UTC"))


@pytest.mark.parametrize("npartitions", [1, 3])
def test_read_cassandra_every_type_value_for_value(
    loaded: tuple[Any, str], cassandra_config: ConnectionConfig, npartitions: int
) -> None:
    """The real read path (Dask → pandas with ArrowDtype columns) keeps every value of every type."""
    from cassandra_frames import read_cassandra

    _, keyspace = loaded
    ddf = read_cassandra(f"{keyspace}.MyTable", connection=cassandra_config, npartitions=npartitions)
    df = ddf.compute()
    assert dict(df.dtypes) == dict(ddf.dtypes)
    table = pa.Table.from_pandas(df, preserve_index=False)
    order = [ROW_MISC, ROW_EMPTY, ROW_MIN, ROW_MAX]
    assert table.column("ck").to_pylist() == [4, 3, 2, 1]
    for name in table.column_names:
        if name in ("id", "st"):
            continue
        expected = [row[name][1] if name in row else None for row in order]
        assert as_python(table.column(name)) == expected, name
    assert len(table.column_names) == 44
