"""The Iceberg target of export: type mapping, data files, one snapshot per operation, resume, errors.

Runs against pyiceberg's embedded SQLite catalog in ``tmp_path`` (no Cassandra, no server).
"""

from __future__ import annotations

import datetime as dt
import pickle
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cassandra_frames.errors import CassandraFramesError, NotInstalledError, SchemaError, WriteError
from cassandra_frames.formats import iceberg
from cassandra_frames.schema import ColumnInfo, TableInfo, table_schema

UDTS = {"address": (("street", "text"), ("Zip Code", "int"), ("at", "time"), ("took", "duration"))}
COLUMNS = {
    "id": "int",
    "t": "text",
    "a": "ascii",
    "ti": "tinyint",
    "si": "smallint",
    "bi": "bigint",
    "f": "float",
    "d": "double",
    "b": "boolean",
    "bl": "blob",
    "da": "date",
    "tm": "time",
    "ts": "timestamp",
    "u": "uuid",
    "tu": "timeuuid",
    "ip": "inet",
    "du": "duration",
    "dec": "decimal",
    "vi": "varint",
    "l": "list<smallint>",
    "s": "set<time>",
    "m": "map<text, frozen<list<duration>>>",
    "tp": "tuple<int, timestamp, tinyint>",
    "ad": "address",
    "lad": "list<frozen<address>>",
    "v": "vector<float, 3>",
}
ADDRESS = pa.struct(
    [("street", pa.string()), ("Zip Code", pa.int32()), ("at", pa.int64()), ("took", iceberg.DURATION_TYPE)]
)
EXPECTED = {
    "id": pa.int32(),
    "t": pa.string(),
    "a": pa.string(),
    "ti": pa.int32(),
    "si": pa.int32(),
    "bi": pa.int64(),
    "f": pa.float32(),
    "d": pa.float64(),
    "b": pa.bool_(),
    "bl": pa.binary(),
    "da": pa.date32(),
    "tm": pa.int64(),
    "ts": pa.timestamp("us", tz="UTC"),
    "u": pa.string(),
    "tu": pa.string(),
    "ip": pa.string(),
    "du": iceberg.DURATION_TYPE,
    "dec": pa.string(),
    "vi": pa.string(),
    "l": pa.list_(pa.int32()),
    "s": pa.list_(pa.int64()),
    "m": pa.map_(pa.string(), pa.list_(iceberg.DURATION_TYPE)),
    "tp": pa.struct([("f0", pa.int32()), ("f1", pa.timestamp("us", tz="UTC")), ("f2", pa.int32())]),
    "ad": ADDRESS,
    "lad": pa.list_(ADDRESS),
    "v": pa.list_(pa.float32()),
}
MDN = pa.MonthDayNano
TS_MS = [-62135596800000, 0, 253402300799999]  # year 1, the epoch, the end of year 9999


def read_schema() -> pa.Schema:
    cols = [ColumnInfo(n, t, "partition_key" if n == "id" else "regular") for n, t in COLUMNS.items()]
    return table_schema(TableInfo("ks", "all_types", tuple(cols), udts=UDTS))


def row(i: int) -> dict[str, Any]:
    """Row ``i``: every value different; row 0 of each unit has nulls inside collections and structs."""
    addr = {"street": f"s{i}", "Zip Code": i, "at": 86_399_999_999_999 - i, "took": MDN([1, -2, 3 + i])}
    return {
        "id": i,
        "t": f"text {i} é",
        "a": "",
        "ti": -128 + i,
        "si": 32767 - i,
        "bi": -(2**63) + i,
        "f": 1.5 + i,
        "d": 1e300 / (i + 1),
        "b": i % 2 == 0,
        "bl": bytes([i, 0, 255]),
        "da": dt.date(1, 1, 1) + dt.timedelta(days=i),
        "tm": 123_456_789 + i,
        "ts": TS_MS[i % 3],
        "u": f"00000000-0000-4000-8000-{i:012d}",
        "tu": f"00000000-0000-1000-8000-{i:012d}",
        "ip": f"2001:db8::{i}",
        "du": MDN([i, -i, -(2**63) + i]),
        "dec": f"-1.00000000000000000000000000{i}E+30",
        "vi": str(10**200 + i),
        "l": [i, None, -32768],
        "s": [0, 86_399_999_999_999],
        "m": {"k": [MDN([0, 0, i]), None], "": []},
        "tp": {"f0": i, "f1": 1000 * i, "f2": None},
        "ad": addr if i % 4 else None,
        "lad": [addr, None],
        "v": [float(i), -0.0, 3.5],
    }


def batch(rows: list[dict[str, Any]]) -> pa.Table:
    schema = read_schema()
    out = {}
    for field in schema:
        values = [r[field.name] for r in rows]
        if field.name == "ts":
            out[field.name] = pa.array(values, pa.int64()).cast(field.type)
        elif field.name == "tp":
            out[field.name] = pa.StructArray.from_arrays(
                [
                    pa.array([v["f0"] for v in values], pa.int32()),
                    pa.array([v["f1"] for v in values], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
                    pa.array([v["f2"] for v in values], pa.int8()),
                ],
                fields=list(field.type),
            )
        else:
            out[field.name] = pa.array(values, field.type)
    return pa.table(out, schema=schema)


def test_the_schema_maps_every_type() -> None:
    schema = iceberg.iceberg_arrow_schema(read_schema())
    assert schema.names == list(COLUMNS)
    for name, typ in EXPECTED.items():
        assert iceberg._shape(schema.field(name).type) == iceberg._shape(typ), name
    docs = {f.name: (f.metadata or {}).get(b"doc", b"").decode() for f in schema}
    assert docs["tm"] == "CQL time; nanoseconds since midnight"
    assert docs["dec"] == "CQL decimal; exact decimal text"
    assert docs["u"] == "CQL uuid; canonical lowercase text"
    assert docs["bi"] == "CQL bigint"
    assert schema.field("tm").metadata[b"cql_type"] == b"time"
    at = schema.field("ad").type.field("at")
    assert at.metadata[b"doc"] == iceberg.TIME_DOC.encode()


def test_a_type_without_a_lossless_iceberg_type_is_refused() -> None:
    schema = pa.schema([pa.field("x", pa.uint64())])
    with pytest.raises(SchemaError, match=r"'x'.*uint64"):
        iceberg.iceberg_arrow_schema(schema)


def test_conversion_keeps_every_value() -> None:
    rows = [row(i) for i in range(6)]
    src = batch(rows)
    out = iceberg.to_iceberg_arrow(src.slice(1, 4), read_schema())  # a slice: offsets must be honoured
    assert out.schema == iceberg.iceberg_arrow_schema(read_schema())
    got = out.to_pylist()
    for r, g in zip(rows[1:5], got, strict=True):
        assert g["tm"] == r["tm"]
        assert g["du"] == {"months": r["du"].months, "days": r["du"].days, "nanoseconds": r["du"].nanoseconds}
        assert g["ts"] == dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=r["ts"])
        assert g["m"][0] == ("k", [{"months": 0, "days": 0, "nanoseconds": r["id"]}, None])
        assert g["lad"][1] is None
        assert g["lad"][0]["took"]["nanoseconds"] == 3 + r["id"]
        assert (g["ad"] is None) == (r["ad"] is None)
        assert (g["v"], g["l"], g["vi"]) == (r["v"], r["l"], r["vi"])
    batch_in = src.to_batches()[0]
    assert iceberg.to_iceberg_arrow(batch_in, read_schema()).num_rows == 6


def test_a_timestamp_beyond_microseconds_is_an_error_naming_the_column() -> None:
    schema = pa.schema([pa.field("ts", pa.timestamp("ms", tz="UTC"), metadata={b"cql_type": b"timestamp"})])
    values = pa.array([0, None, 2**62], pa.int64()).cast(schema.field("ts").type)
    data = pa.table({"ts": values}, schema=schema)
    with pytest.raises(WriteError, match=r"'ts'.*4611686018427387904 ms.*year 146140482"):
        iceberg.to_iceberg_arrow(data, schema)
    nested = pa.schema([pa.field("l", pa.list_(pa.timestamp("ms", tz="UTC")))])
    bad = pa.table({"l": pa.array([[0, 2**62]], pa.list_(pa.int64())).cast(nested.field("l").type)})
    with pytest.raises(WriteError, match="'l'"):
        iceberg.to_iceberg_arrow(bad, nested)


def test_catalog_properties(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = iceberg.IcebergTarget("ns.t", None, warehouse=str(tmp_path / "wh"))
    props = local.catalog_properties()
    assert props == {
        "type": "sql",
        "uri": f"sqlite:///{tmp_path / 'wh' / 'catalog.db'}",
        "warehouse": (tmp_path / "wh").as_uri(),
    }
    monkeypatch.setenv("CASSANDRA_FRAMES_CACHE", str(tmp_path / "cache"))
    s3 = iceberg.IcebergTarget(
        "ns.t",
        None,
        warehouse="s3://bucket/wh",
        storage_options={"endpoint_url": "http://127.0.0.1:9000", "key": "k", "secret": "s"},
    )
    props = s3.catalog_properties()
    assert props["warehouse"] == "s3://bucket/wh"
    assert props["uri"].startswith(f"sqlite:///{tmp_path / 'cache' / 'iceberg-catalogs'}/s3-bucket-wh-")
    assert props["s3.endpoint"] == "http://127.0.0.1:9000"
    assert (props["s3.access-key-id"], props["s3.secret-access-key"]) == ("k", "s")
    rest = iceberg.IcebergTarget("ns.t", {"type": "rest", "uri": "http://x", "s3.endpoint": "http://y"})
    assert rest.catalog_properties() == {"type": "rest", "uri": "http://x", "s3.endpoint": "http://y"}
    assert pickle.loads(pickle.dumps(s3)) == s3


def test_data_file_path_is_deterministic() -> None:
    assert (
        iceberg.data_file_path("file:///w/t/data/", "op1", 7) == "file:///w/t/data/cf-op1-part-00007.parquet"
    )


def export(target: iceberg.IcebergTarget, operation_id: str, units: list[list[int]]) -> list[str]:
    location = iceberg.prepare_table(target, read_schema(), operation_id=operation_id)
    paths = []
    for unit, ids in enumerate(units):
        path = iceberg.data_file_path(location, operation_id, unit)
        data = iceberg.to_iceberg_arrow(batch([row(i) for i in ids]), read_schema())
        assert iceberg.write_data_file(data, path, target) > 0
        paths.append(path)
    return paths


def test_prepare_write_commit_scan(tmp_path: Path) -> None:
    target = iceberg.IcebergTarget("lake.cass.all_types", None, warehouse=str(tmp_path / "wh"))
    paths = export(target, "op-1", [[0, 1, 2], [3], [4, 5, 6, 7]])
    catalog = iceberg.open_catalog(target)
    table = catalog.load_table("lake.cass.all_types")
    assert table.scan().to_arrow().num_rows == 0  # written, not committed: invisible
    assert iceberg.committed_snapshot(target, "op-1") is None
    assert table.properties[iceberg.OPERATION_PROPERTY] == "op-1"
    assert table.schema().find_field("tm").doc == "CQL time; nanoseconds since midnight"

    snapshot = iceberg.commit(target, paths, "op-1", {"cassandra-frames.source": "ks.all_types"})
    table = catalog.load_table("lake.cass.all_types")
    assert [s.snapshot_id for s in table.snapshots()] == [snapshot]
    current = table.current_snapshot()
    assert current is not None
    assert current.summary is not None
    assert current.summary["cassandra-frames.source"] == "ks.all_types"
    assert current.summary["added-data-files"] == "3"
    got = table.scan().to_arrow().sort_by("id")
    want = iceberg.to_iceberg_arrow(batch([row(i) for i in range(8)]), read_schema())
    assert got.to_pylist() == want.to_pylist()

    assert iceberg.commit(target, paths, "op-1") == snapshot  # again: nothing new
    assert iceberg.committed_snapshot(target, "op-1") == snapshot
    assert len(catalog.load_table("lake.cass.all_types").snapshots()) == 1


def test_an_existing_table_is_refused_unless_resumed_or_appended(tmp_path: Path) -> None:
    target = iceberg.IcebergTarget("ns.t", None, warehouse=str(tmp_path / "wh"))
    first = export(target, "op-1", [[0, 1]])
    with pytest.raises(CassandraFramesError, match=r"'ns.t' already exists.*mode='append'"):
        iceberg.prepare_table(target, read_schema(), operation_id="op-2")
    # the same operation again (a resume): accepted, and a rerun unit overwrites its own file
    assert export(target, "op-1", [[0, 1]]) == first
    iceberg.commit(target, first, "op-1")
    location = iceberg.prepare_table(target, read_schema(), mode="append", operation_id="op-2")
    path = iceberg.data_file_path(location, "op-2", 0)
    iceberg.write_data_file(iceberg.to_iceberg_arrow(batch([row(9)]), read_schema()), path, target)
    iceberg.commit(target, [path], "op-2")
    table = iceberg.open_catalog(target).load_table("ns.t")
    assert len(table.snapshots()) == 2
    assert sorted(table.scan().to_arrow().column("id").to_pylist()) == [0, 1, 9]


def test_append_to_a_table_of_other_types_names_the_column(tmp_path: Path) -> None:
    target = iceberg.IcebergTarget("ns.t", None, warehouse=str(tmp_path / "wh"))
    iceberg.prepare_table(target, read_schema(), operation_id="op-1")
    other = pa.schema([pa.field("id", pa.int32()), pa.field("t", pa.int64())])
    with pytest.raises(SchemaError, match=r"column 't' .* is string, but the export writes int64"):
        iceberg.prepare_table(target, other, mode="append", operation_id="op-2")
    missing = pa.schema([pa.field("nope", pa.int32())])
    with pytest.raises(SchemaError, match="no column 'nope'"):
        iceberg.prepare_table(target, missing, mode="append", operation_id="op-2")


def test_data_files_carry_no_field_ids(tmp_path: Path) -> None:
    target = iceberg.IcebergTarget("ns.t", None, warehouse=str(tmp_path / "wh"))
    (path,) = export(target, "op-1", [[0]])
    arrow = pq.read_schema(path.removeprefix("file://"))
    assert all(b"PARQUET:field_id" not in (f.metadata or {}) for f in arrow)
    assert arrow.field("ts").type == pa.timestamp("us", tz="UTC")


def test_a_bad_identifier_is_refused(tmp_path: Path) -> None:
    target = iceberg.IcebergTarget("t", None, str(tmp_path))
    with pytest.raises(CassandraFramesError, match=r"'namespace\.table'"):
        iceberg.prepare_table(target, read_schema(), operation_id="x")


def test_a_missing_pyiceberg_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyiceberg.catalog", None)  # import → ImportError
    target = iceberg.IcebergTarget("ns.t", None, str(tmp_path))
    with pytest.raises(NotInstalledError, match=r"cassandra-frames\[iceberg\]"):
        iceberg.prepare_table(target, read_schema(), operation_id="x")
