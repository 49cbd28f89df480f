"""Without a server: the CSV, JSON and Parquet writers of cassandra_frames.formats on an every-type table
(nulls, empty strings, quotes/newlines/delimiters, NaN/inf, far dates, nested UDT collections), written to
``memory://`` and read back with pyarrow / json / pandas, compared with values written out by hand."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import uuid
from collections.abc import Iterator
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import zstandard

from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.formats import (
    FILE_FORMATS,
    TEXT_COMPRESSIONS,
    FormatOptions,
    compression_from_path,
    format_from_path,
    open_output,
    open_writer,
)
from cassandra_frames.schema import ColumnInfo, TableInfo, table_schema

TABLE = TableInfo(
    "ks",
    "every",
    (
        ColumnInfo("k", "int", "partition_key"),
        ColumnInfo("c", "text", "clustering"),
        ColumnInfo("asc", "ascii"),
        ColumnInfo("ti", "tinyint"),
        ColumnInfo("si", "smallint"),
        ColumnInfo("bi", "bigint"),
        ColumnInfo("f", "float"),
        ColumnInfo("d", "double"),
        ColumnInfo("b", "boolean"),
        ColumnInfo("bl", "blob"),
        ColumnInfo("dt", "date"),
        ColumnInfo("tm", "time"),
        ColumnInfo("ts", "timestamp"),
        ColumnInfo("u", "uuid"),
        ColumnInfo("ip", "inet"),
        ColumnInfo("du", "duration"),
        ColumnInfo("dec", "decimal"),
        ColumnInfo("vi", "varint"),
        ColumnInfo("l", "list<text>"),
        ColumnInfo("s", "set<int>"),
        ColumnInfo("m", "map<text, frozen<list<int>>>"),
        ColumnInfo("mi", "map<int, boolean>"),
        ColumnInfo("tu", "frozen<tuple<int, text>>"),
        ColumnInfo("ad", "frozen<address>"),
        ColumnInfo("la", "list<frozen<address>>"),
        ColumnInfo("vec", "vector<float, 2>"),
        ColumnInfo("ld", "list<duration>"),
    ),
    udts={"address": (("street", "text"), ("zip", "int"))},
)
SCHEMA = table_schema(TABLE).append(pa.field("d_writetime", pa.int64(), metadata={b"role": b"extra"}))
U = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
TEXT = "a,b \"q\" 's'\nline\\"
ROWS: list[dict[str, Any]] = [
    {
        "k": 1,
        "c": TEXT,
        "asc": "",
        "ti": -128,
        "si": 32767,
        "bi": -(2**63),
        "f": float("nan"),
        "d": float("inf"),
        "b": True,
        "bl": b"\x00\xab",
        "dt": -(2**31),  # day numbers: the minimum Cassandra date
        "tm": 3723123456789,
        "ts": 1357016400123,
        "u": U,
        "ip": "2001:db8::1",
        "du": (14, 3, 3723004005006),
        "dec": "-1.0000000000000000000000000001E+30",
        "vi": str(10**30),
        "l": ["x", "", "it's"],
        "s": [1, 2],
        "m": [("a", [1, 2]), ("", [])],
        "mi": [(1, True)],
        "tu": {"f0": 1, "f1": None},
        "ad": {"street": 'Main "1"', "zip": None},
        "la": [{"street": "s", "zip": 1}],
        "vec": [0.1, -1.5],
        "ld": [(0, 0, 0), (-1, 0, 0)],
        "d_writetime": 5,
    },
    {
        "k": 2,
        "c": "",
        "f": -float("inf"),
        "d": 0.1,
        "b": False,
        "bl": b"",
        "dt": 2932897,
        "tm": 0,
        "ts": 253402300800000,
        "du": (0, -1, -1000),
    },
    {"k": 3, "c": None, "dt": 0, "ts": -62135596800001, "d": 1e300, "f": 3.4028234663852886e38},
]


def arrow_rows(rows: list[dict[str, Any]]) -> pa.Table:
    columns = {f.name: [r.get(f.name) for r in rows] for f in SCHEMA}
    arrays = []
    for f in SCHEMA:
        if f.type == pa.date32():
            arrays.append(pa.array(columns[f.name], pa.int32()).cast(pa.date32()))
        elif f.type == pa.time64("ns") or pa.types.is_timestamp(f.type):
            arrays.append(pa.array(columns[f.name], pa.int64()).cast(f.type))
        else:
            arrays.append(pa.array(columns[f.name], f.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


DATA = arrow_rows(ROWS)

CSV_ROW1 = {
    "k": "1",
    "c": TEXT,
    "asc": "",
    "ti": "-128",
    "si": "32767",
    "bi": str(-(2**63)),
    "f": "NaN",
    "d": "Infinity",
    "b": "true",
    "bl": "0x00ab",
    "dt": "-5877641-06-23",
    "tm": "01:02:03.123456789",
    "ts": "2013-01-01 05:00:00.123Z",
    "u": U,
    "ip": "2001:db8::1",
    "du": "1y2mo3d1h2m3s4ms5us6ns",
    "dec": "-1.0000000000000000000000000001E+30",
    "vi": str(10**30),
    "l": "['x', '', 'it''s']",
    "s": "{1, 2}",
    "m": "{'a': [1, 2], '': []}",
    "mi": "{1: true}",
    "tu": "(1, )",
    "ad": "{street: 'Main \"1\"', zip: }",
    "la": "[{street: 's', zip: 1}]",
    "vec": "[0.1, -1.5]",
    "ld": "[0s, -1mo]",
    "d_writetime": "5",
}
CSV_ROW2 = {
    "k": "2",
    "c": "",
    "f": "-Infinity",
    "d": "0.1",
    "b": "false",
    "bl": "0x",
    "dt": "+10000-01-01",
    "tm": "00:00:00.000000000",
    "ts": "253402300800000",
    "du": "-1d1us",
}
CSV_ROW3 = {"k": "3", "dt": "1970-01-01", "ts": "-62135596800001", "d": "1e+300", "f": "3.4028235e+38"}


def expected_csv(null: str | None = None) -> list[dict[str, Any]]:
    return [{f.name: row.get(f.name, null) for f in SCHEMA} for row in (CSV_ROW1, CSV_ROW2, CSV_ROW3)]


def write(data: pa.Table | list[pa.RecordBatch], path: str, **kw: Any) -> bytes:
    options = FormatOptions(**kw)
    fs = fsspec.filesystem("memory")
    with open_output(fs, path, options) as f:
        parts = data if isinstance(data, list) else [data]
        writer = open_writer(f, parts[0].schema if parts else SCHEMA, options)
        for part in parts:
            writer.write(part)
        writer.close()
        assert not f.closed
    with fs.open(path, "rb") as f:
        raw: bytes = f.read()
    fs.rm(path)
    return raw


def read_csv(raw: bytes, null: str = "") -> list[dict[str, Any]]:
    convert = pacsv.ConvertOptions(
        column_types={f.name: pa.string() for f in SCHEMA},
        null_values=[null],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    table = pacsv.read_csv(
        io.BytesIO(raw), parse_options=pacsv.ParseOptions(newlines_in_values=True), convert_options=convert
    )
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


# ------------------------------------------------------------------------------------------------- csv


def test_csv_every_type() -> None:
    raw = write(DATA, "/t.csv", format="csv")
    assert raw.startswith(b'"k","c","asc"')
    assert read_csv(raw) == expected_csv()


def test_csv_null_value_delimiter_no_header_and_batches() -> None:
    raw = write(
        DATA.to_batches(max_chunksize=1),
        "/t.csv",
        format="csv",
        null_value="NULL",
        delimiter=";",
        header=False,
    )
    table = pacsv.read_csv(
        io.BytesIO(raw),
        read_options=pacsv.ReadOptions(column_names=SCHEMA.names),
        parse_options=pacsv.ParseOptions(delimiter=";", newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: pa.string() for f in SCHEMA},
            null_values=["NULL"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    expected = expected_csv()
    expected[0]["tu"] = "(1, NULL)"
    expected[0]["ad"] = "{street: 'Main \"1\"', zip: NULL}"
    assert table.to_pylist() == expected
    assert b";NULL;" in raw
    assert b'"";' in raw


def test_csv_nested_json_and_epoch_ms() -> None:
    raw = write(DATA, "/t.csv", format="csv", nested="json", timestamps="epoch_ms")
    row = read_csv(raw)[0]
    assert row["ts"] == "1357016400123"
    assert json.loads(row["l"]) == ["x", "", "it's"]
    assert json.loads(row["s"]) == [1, 2]
    assert json.loads(row["m"]) == {"a": [1, 2], "": []}
    assert json.loads(row["mi"]) == {"1": True}
    assert json.loads(row["tu"]) == [1, None]
    assert json.loads(row["ad"]) == {"street": 'Main "1"', "zip": None}
    assert json.loads(row["la"]) == [{"street": "s", "zip": 1}]
    assert json.loads(row["ld"]) == ["0s", "-1mo"]


def test_csv_read_by_pandas() -> None:
    raw = write(DATA, "/t.csv", format="csv")
    df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    assert list(df["c"]) == [TEXT, "", ""]
    assert list(df["bi"]) == [str(-(2**63)), "", ""]


def test_empty_table_csv_header_only() -> None:
    assert (
        write(DATA.slice(0, 0), "/e.csv", format="csv")
        == (",".join(f'"{n}"' for n in SCHEMA.names) + "\n").encode()
    )
    assert write([], "/e.csv", format="csv", header=False) == b""


# ------------------------------------------------------------------------------------------------ json

JSON_ROW1 = {
    "k": 1,
    "c": TEXT,
    "asc": "",
    "ti": -128,
    "si": 32767,
    "bi": -(2**63),
    "f": "NaN",
    "d": "Infinity",
    "b": True,
    "bl": "0x00ab",
    "dt": "-5877641-06-23",
    "tm": "01:02:03.123456789",
    "ts": "2013-01-01T05:00:00.123Z",
    "u": U,
    "ip": "2001:db8::1",
    "du": "1y2mo3d1h2m3s4ms5us6ns",
    "dec": "-1.0000000000000000000000000001E+30",
    "vi": str(10**30),
    "l": ["x", "", "it's"],
    "s": [1, 2],
    "m": {"a": [1, 2], "": []},
    "mi": {"1": True},
    "tu": [1, None],
    "ad": {"street": 'Main "1"', "zip": None},
    "la": [{"street": "s", "zip": 1}],
    "vec": [0.1, -1.5],
    "ld": ["0s", "-1mo"],
    "d_writetime": 5,
}
JSON_ROW2 = {
    "k": 2,
    "c": "",
    "f": "-Infinity",
    "d": 0.1,
    "b": False,
    "bl": "0x",
    "dt": "+10000-01-01",
    "tm": "00:00:00.000000000",
    "ts": "+10000-01-01T00:00:00.000Z",
    "du": "-1d1us",
}
JSON_ROW3 = {"k": 3, "dt": "1970-01-01", "ts": "0000-12-31T23:59:59.999Z", "d": 1e300, "f": 3.4028235e38}
JSON_ROWS = [{f.name: row.get(f.name) for f in SCHEMA} for row in (JSON_ROW1, JSON_ROW2, JSON_ROW3)]


def test_json_lines_every_type() -> None:
    raw = write(DATA, "/t.jsonl", format="json")
    lines = raw.decode().split("\n")
    assert lines[-1] == ""
    assert len(lines) == 4
    assert [json.loads(line) for line in lines[:-1]] == JSON_ROWS
    assert '"asc":"","ti":-128' in lines[0]  # compact


def test_json_array_and_batches() -> None:
    raw = write(DATA.to_batches(max_chunksize=2), "/t.json", format="json", json_array=True)
    assert json.loads(raw) == JSON_ROWS
    assert write([DATA.slice(0, 0)], "/e.json", format="json", json_array=True) == b"[]\n"


def test_json_read_by_pyarrow_and_pandas() -> None:
    import pyarrow.json as pajson

    raw = write(DATA.select(["k", "c", "bi", "u"]).slice(0, 2), "/t.jsonl", format="json")
    table = pajson.read_json(io.BytesIO(raw))
    assert table.column("c").to_pylist() == [TEXT, ""]
    df = pd.read_json(io.BytesIO(raw), lines=True, dtype=False)
    assert df["u"][0] == U
    assert pd.isna(df["u"][1])


def test_json_control_characters_and_unicode() -> None:
    schema = pa.schema([pa.field("t", pa.string(), metadata={b"cql_type": b"text"})])
    values = ["\x00\x01\x1f\t\b\f\r", "é€😀", "\u2028"]
    options = FormatOptions("json")
    buf = io.BytesIO()
    writer = open_writer(buf, schema, options)
    writer.write(pa.table({"t": values}, schema=schema))
    writer.close()
    lines = buf.getvalue().decode().split("\n")[:-1]
    assert [json.loads(line)["t"] for line in lines] == values
    assert lines[0] == json.dumps({"t": values[0]}, separators=(",", ":"))


def test_empty_table_json_lines_is_empty() -> None:
    assert write(DATA.slice(0, 0), "/e.jsonl", format="json") == b""


# --------------------------------------------------------------------------------------------- parquet


def test_parquet_every_type_and_duration_struct() -> None:
    raw = write(DATA, "/t.parquet", format="parquet", row_group_size=2, compression="zstd")
    pf = pq.ParquetFile(io.BytesIO(raw))
    assert pf.metadata.num_row_groups == 2
    assert pf.metadata.row_group(0).column(0).compression == "ZSTD"
    table = pf.read()
    options = FormatOptions("parquet")
    assert table.schema == options.output_schema(SCHEMA)
    assert table.schema.field("s").metadata[b"cql_type"] == b"set<int>"
    assert table.schema.field("du").type == pa.struct(
        [("months", pa.int32()), ("days", pa.int32()), ("nanoseconds", pa.int64())]
    )
    assert table.column("du").to_pylist() == [
        {"months": 14, "days": 3, "nanoseconds": 3723004005006},
        {"months": 0, "days": -1, "nanoseconds": -1000},
        None,
    ]
    assert table.column("ld").to_pylist()[0] == [
        {"months": 0, "days": 0, "nanoseconds": 0},
        {"months": -1, "days": 0, "nanoseconds": 0},
    ]
    rest = [n for n in SCHEMA.names if n not in ("du", "ld", "f")]  # f holds NaN, which is never equal
    expected = DATA.select(rest)
    # Parquet names a list's child "element" (the spec's name); pyarrow named it "item"
    assert table.select(rest).cast(expected.schema).equals(expected, check_metadata=True)
    assert [f.metadata for f in table.schema] == [f.metadata for f in SCHEMA]
    assert str(table.column("f").to_pylist()) == "[nan, -inf, 3.4028234663852886e+38]"


def test_parquet_sliced_batches_and_empty() -> None:
    batches = DATA.slice(1).to_batches(max_chunksize=1)
    table = pq.read_table(io.BytesIO(write(batches, "/t.parquet", format="parquet")))
    assert table.column("du").to_pylist() == [{"months": 0, "days": -1, "nanoseconds": -1000}, None]
    empty = pq.read_table(io.BytesIO(write([], "/e.parquet", format="parquet")))
    assert empty.num_rows == 0
    assert empty.schema == FormatOptions("parquet").output_schema(SCHEMA)


# -------------------------------------------------------------------------------------------- options


@pytest.mark.parametrize("compression", TEXT_COMPRESSIONS)
def test_text_compression_round_trip(compression: str) -> None:
    options = FormatOptions("csv", compression=compression)
    path = "/t" + options.suffix()
    assert compression_from_path(path) == compression
    assert format_from_path(path) == "csv"
    raw = write(DATA, path, format="csv", compression=compression)
    decompress = {
        "gzip": gzip.decompress,
        "bz2": bz2.decompress,
        "xz": lzma.decompress,
        "zstd": lambda b: zstandard.ZstdDecompressor().stream_reader(io.BytesIO(b)).read(),
    }[compression]
    assert read_csv(decompress(raw)) == expected_csv()
    raw = write(DATA, "/t.jsonl", format="json", compression=compression)
    assert [json.loads(line) for line in decompress(raw).splitlines()] == JSON_ROWS


@pytest.mark.parametrize(
    ("kw", "suffix"),
    [
        ({"format": "csv"}, ".csv"),
        ({"format": "csv", "compression": "zstd"}, ".csv.zst"),
        ({"format": "csv", "compression": "GZIP"}, ".csv.gz"),
        ({"format": "json"}, ".jsonl"),
        ({"format": "json", "json_array": True}, ".json"),
        ({"format": "json", "compression": "bz2"}, ".jsonl.bz2"),
        ({"format": "json", "compression": "xz"}, ".jsonl.xz"),
        ({"format": "parquet"}, ".parquet"),
        ({"format": "parquet", "compression": "gzip"}, ".parquet"),
    ],
)
def test_suffix(kw: dict[str, Any], suffix: str) -> None:
    assert FormatOptions(**kw).suffix() == suffix


def test_paths() -> None:
    assert [format_from_path(p) for p in ("a.CSV", "x/a.ndjson", "a.json.zstd", "a.pq", "a.txt", "csv")] == [
        "csv",
        "json",
        "json",
        "parquet",
        None,
        None,
    ]
    assert [compression_from_path(p) for p in ("a.csv.gz", "a.bz2", "b.xz", "c.zst", "d.csv", "gz")] == [
        "gzip",
        "bz2",
        "xz",
        "zstd",
        None,
        None,
    ]
    assert FILE_FORMATS == ("csv", "json", "parquet")
    assert FormatOptions("parquet").compression == "snappy"


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"format": "xml"}, ["format", "'xml'", "csv, json, parquet"]),
        ({"format": "csv", "compression": "snappy"}, ["compression", "'snappy'", "gzip, bz2, xz, zstd"]),
        ({"format": "parquet", "compression": "bz2"}, ["compression", "'bz2'", "snappy, zstd"]),
        ({"format": "csv", "delimiter": ";;"}, ["delimiter", "';;'", "one character"]),
        ({"format": "csv", "delimiter": "\n"}, ["delimiter", "one character"]),
        ({"format": "csv", "quote": "'"}, ["quote", '"\'"', "'\"'"]),
        ({"format": "csv", "escape": "\\"}, ["escape", "'\\\\'", "ESCAPE"]),
        ({"format": "csv", "null_value": 'N"'}, ["null_value", "without quotes"]),
        ({"format": "csv", "null_value": "a,b"}, ["null_value", "delimiter"]),
        ({"format": "csv", "nested": "xml"}, ["nested", "'cql' or 'json'"]),
        ({"format": "csv", "header": "yes"}, ["header", "True or False"]),
        ({"format": "json", "json_array": 1}, ["json_array", "True or False"]),
        ({"format": "parquet", "row_group_size": 0}, ["row_group_size", "positive integer"]),
        ({"format": "csv", "timestamps": "unix"}, ["timestamps", "'iso' or 'epoch_ms'"]),
    ],
)
def test_option_errors(kw: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(CassandraFramesError) as info:
        FormatOptions(**kw)
    for word in words:
        assert word in str(info.value)


def test_missing_compression_library(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from cassandra_frames.formats import CompressionNotInstalledError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "zstandard" else real(name, *a)
    )
    with pytest.raises(CompressionNotInstalledError, match="pip install zstandard"):
        open_output(fsspec.filesystem("memory"), "/x.csv.zst", FormatOptions("csv", compression="zstd"))
    assert isinstance(CompressionNotInstalledError("zstd", "zstandard"), ImportError)


def test_unsupported_arrow_type() -> None:
    schema = pa.schema([pa.field("x", pa.duration("s"))])
    writer = open_writer(io.BytesIO(), schema, FormatOptions("json"))
    with pytest.raises(CassandraFramesError, match="Arrow type duration"):
        writer.write(pa.table({"x": pa.array([1], pa.duration("s"))}))


def test_uuid_and_far_dates_sliced(tmp_path: Any) -> None:
    """Sliced arrays (offsets not at 0) render the same as unsliced ones, nested too."""
    sliced = DATA.slice(1, 2)
    assert read_csv(write(sliced, "/s.csv", format="csv")) == expected_csv()[1:]
    rows = [json.loads(line) for line in write(sliced, "/s.jsonl", format="json").splitlines()]
    assert rows == JSON_ROWS[1:]
    assert uuid.UUID(U)  # the fixture is a real uuid


def iter_lines(raw: bytes) -> Iterator[str]:
    yield from raw.decode().splitlines()


def test_statistics_only_where_readers_can_read_them() -> None:
    from cassandra_frames.formats.parquet import readable_statistics

    table = pa.table(
        {
            "n": pa.array([1, 2]),
            "ts_ok": pa.array([0, 1_000], pa.timestamp("ms", tz="UTC")),
            "ts_far": pa.array([0, 253402300800000], pa.timestamp("ms", tz="UTC")),  # year 10000
            "d_far": pa.array([-800_000, 0], pa.date32()),  # before year 1
            "d_null": pa.array([None, None], pa.date32()),
            "l": pa.array([[1], [2]]),
        }
    )
    assert readable_statistics(table) == ["n", "ts_ok", "d_null"]


@pytest.mark.parametrize("codec", ["gzip", "bz2", "xz", "zstd"])
def test_closing_a_compressed_output_completes_the_file_underneath(codec: str) -> None:
    """Python's compressors leave the file they were given open; on an object store the upload of an
    unclosed file never completes. Closing our output closes the file underneath."""
    import io

    from cassandra_frames.formats import FormatOptions, open_output

    class Upload(io.BytesIO):
        def close(self) -> None:
            self.stored = self.getvalue()
            super().close()

    class Store:
        def open(self, path: str, mode: str) -> Upload:
            self.file = Upload()
            return self.file

    store = Store()
    f = open_output(store, "x.csv", FormatOptions(format="csv", compression=codec))  # type: ignore[arg-type]
    f.write(b"a\n1\n")
    f.close()
    assert store.file.closed
    assert store.file.stored  # the compressed bytes were all there when it closed
