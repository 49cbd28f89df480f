"""The Iceberg export cycle (prepare → write → commit → scan) through a real REST catalog server.

The server is Apache Iceberg's own REST catalog (see ``iceberg_rest.py``) with a local file warehouse; no
Cassandra node is needed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from iceberg_rest import iceberg_rest  # noqa: F401  (the session fixture)

from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.formats import iceberg

SCHEMA = pa.schema(
    [
        pa.field(name, typ, metadata={b"cql_type": cql.encode(), b"role": role.encode()})
        for name, typ, cql, role in [
            ("id", pa.int32(), "int", "partition_key"),
            ("name", pa.string(), "text", "regular"),
            ("small", pa.int16(), "smallint", "regular"),
            ("at", pa.time64("ns"), "time", "regular"),
            ("ts", pa.timestamp("ms", tz="UTC"), "timestamp", "regular"),
            ("took", pa.month_day_nano_interval(), "duration", "regular"),
            (
                "tags",
                pa.map_(pa.string(), pa.list_(pa.month_day_nano_interval())),
                "map<text, frozen<list<duration>>>",
                "regular",
            ),
            (
                "point",
                pa.struct([("f0", pa.int8()), ("f1", pa.time64("ns"))]),
                "tuple<tinyint, time>",
                "regular",
            ),
            ("v", pa.list_(pa.float32(), 2), "vector<float, 2>", "regular"),
            ("name_writetime", pa.int64(), "", "extra"),
        ]
    ]
)


def rows(ids: range) -> pa.Table:
    mdn = pa.MonthDayNano
    return pa.table(
        {
            "id": pa.array(list(ids), pa.int32()),
            "name": [f"n{i}" if i % 3 else None for i in ids],
            "small": pa.array([-32768 + i for i in ids], pa.int16()),
            "at": pa.array([86_399_999_999_999 - i for i in ids], pa.time64("ns")),
            "ts": pa.array([-62135596800000 + i for i in ids], pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            "took": pa.array([mdn([i, -i, 1 + i]) for i in ids], pa.month_day_nano_interval()),
            "tags": pa.array([{"k": [mdn([0, 0, i])]} for i in ids], SCHEMA.field("tags").type),
            "point": pa.array([{"f0": -i, "f1": i} for i in ids], SCHEMA.field("point").type),
            "v": pa.array([[i, -i] for i in ids], SCHEMA.field("v").type),
            "name_writetime": pa.array([1_700_000_000_000_000 + i for i in ids], pa.int64()),
        },
        schema=SCHEMA,
    )


def test_export_cycle_through_the_rest_catalog(iceberg_rest: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    target = iceberg.IcebergTarget("cf_rest.exports.t1", iceberg_rest)
    location = iceberg.prepare_table(target, SCHEMA, operation_id="op-rest-1")
    assert location.startswith(iceberg_rest["warehouse"])
    paths = []
    for unit, ids in enumerate([range(0, 5), range(5, 6), range(6, 20)]):
        path = iceberg.data_file_path(location, "op-rest-1", unit)
        assert iceberg.write_data_file(iceberg.to_iceberg_arrow(rows(ids), SCHEMA), path, target) > 0
        paths.append(path)

    catalog = iceberg.open_catalog(target)
    table = catalog.load_table(target.identifier)
    assert table.scan().to_arrow().num_rows == 0  # nothing visible before the commit
    assert table.schema().find_field("at").doc == "CQL time; nanoseconds since midnight"

    snapshot = iceberg.commit(target, paths, "op-rest-1", {"cassandra-frames.source": "ks.t1"})
    assert iceberg.commit(target, paths, "op-rest-1") == snapshot  # idempotent
    assert iceberg.committed_snapshot(target, "op-rest-1") == snapshot
    table = catalog.load_table(target.identifier)
    assert [s.snapshot_id for s in table.snapshots()] == [snapshot]

    got = table.scan().to_arrow().sort_by("id")
    assert got.to_pylist() == iceberg.to_iceberg_arrow(rows(range(20)), SCHEMA).to_pylist()
    first = got.slice(0, 1).to_pylist()[0]
    assert first["ts"] == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert first["at"] == 86_399_999_999_999
    assert first["took"] == {"months": 0, "days": 0, "nanoseconds": 1}

    with pytest.raises(CassandraFramesError, match="already exists"):
        iceberg.prepare_table(target, SCHEMA, operation_id="op-rest-2")
    assert iceberg.prepare_table(target, SCHEMA, mode="append", operation_id="op-rest-2") == location


def test_export_cycle_to_an_s3_warehouse(moto_s3: dict[str, str], tmp_path: Path) -> None:
    """The embedded catalog with an ``s3://`` warehouse (moto): storage options reach fsspec and pyiceberg."""
    options: dict[str, Any] = {"endpoint_url": moto_s3["endpoint_url"], "key": "testing", "secret": "testing"}
    options["client_kwargs"] = {"region_name": "us-east-1"}
    target = iceberg.IcebergTarget(
        "s3ns.t",
        None,
        warehouse=f"s3://{moto_s3['bucket']}/iceberg-wh",
        storage_options=options,
        catalog_db=str(tmp_path / "catalog.db"),
    )
    location = iceberg.prepare_table(target, SCHEMA, operation_id="op-s3")
    assert location.startswith(f"s3://{moto_s3['bucket']}/iceberg-wh/")
    paths = [iceberg.data_file_path(location, "op-s3", unit) for unit in range(2)]
    for path, ids in zip(paths, [range(0, 3), range(3, 7)], strict=True):
        iceberg.write_data_file(iceberg.to_iceberg_arrow(rows(ids), SCHEMA), path, target)
    snapshot = iceberg.commit(target, paths, "op-s3")
    table = iceberg.open_catalog(target).load_table(target.identifier)
    assert [s.snapshot_id for s in table.snapshots()] == [snapshot]
    got = table.scan().to_arrow().sort_by("id")
    assert got.to_pylist() == iceberg.to_iceberg_arrow(rows(range(7)), SCHEMA).to_pylist()
