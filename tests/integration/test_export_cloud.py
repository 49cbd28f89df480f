"""cf.export to ``az://`` (adlfs on Azurite) and ``gs://`` (gcsfs on fake-gcs-server), both on 127.0.0.1:
CSV and Parquet files read back with fsspec + pyarrow — never with our own reader — and compared row for row;
the manifest is written, no temporary object is left, and resuming a finished export rewrites nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from cloud_emulators import azurite, fake_gcs  # noqa: F401 — the emulators, session fixtures

import cassandra_frames as cf
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.read import PartitionReader

Row = tuple[int, int, str]
ROWS = 2_000
UNITS = 3


@pytest.fixture
def small_table(cassandra_session: Any, keyspace: str) -> tuple[str, list[Row]]:
    """``ks.t``: 2,000 rows in 50 partitions, with commas, quotes and non-ASCII text in ``v``."""
    from tests.loader import load_rows

    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    rows = [(i % 50, i, f'row {i}, "quoted" é') for i in range(ROWS)]
    load_rows(s, s.prepare(f"INSERT INTO {keyspace}.t (pk, ck, v) VALUES (?, ?, ?)"), rows, 1)
    return f"{keyspace}.t", rows


@pytest.fixture(params=["az", "gs"])
def destination(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """A fresh ``az://`` or ``gs://`` prefix on its emulator and the storage options to reach it."""
    if request.param == "az":
        info = request.getfixturevalue("azurite")
        root = f"az://{info['container']}"
    else:
        info = request.getfixturevalue("fake_gcs")
        root = f"gs://{info['bucket']}"
    return f"{root}/exports/{uuid.uuid4().hex[:10]}/", dict(info["storage_options"])


def _read_back(fs: Any, paths: list[str], fmt: str) -> list[Row]:
    """Every row of ``paths``: each object fetched whole with fsspec, parsed with pyarrow."""
    tables: list[pa.Table] = []
    for path in paths:
        data = pa.BufferReader(fs.cat_file(path))
        if fmt == "csv":
            types = {"pk": pa.int32(), "ck": pa.int32(), "v": pa.string()}
            tables.append(pacsv.read_csv(data, convert_options=pacsv.ConvertOptions(column_types=types)))
        else:
            tables.append(pq.read_table(data))
    t = pa.concat_tables(tables)
    return list(zip(t["pk"].to_pylist(), t["ck"].to_pylist(), t["v"].to_pylist(), strict=True))


def _objects(fs: Any, prefix: str) -> dict[str, dict[str, Any]]:
    """Every object under ``prefix`` (recursively, hidden ones too) and its metadata, fresh from the
    server."""
    fs.invalidate_cache()
    return {p.rpartition("/")[2]: fs.info(p) for p in fs.find(prefix)}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_and_resume_on_an_emulated_object_store(
    cassandra_config: ConnectionConfig,
    small_table: tuple[str, list[Row]],
    destination: tuple[str, dict[str, Any]],
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table, rows = small_table
    url, options = destination
    report = cf.export(
        table, url, format=fmt, storage_options=options, npartitions=UNITS, connection=cassandra_config
    )
    assert report.ok
    assert report.rows == ROWS
    assert report.units == UNITS
    assert len(report.files) == UNITS
    scheme = url.partition("://")[0]
    assert all(f.startswith(f"{scheme}://") for f in report.files), report.files

    fs, prefix = fsspec.core.url_to_fs(url, **options)
    prefix = prefix.rstrip("/")
    objects = _objects(fs, prefix)
    names = sorted(objects)
    assert "_manifest.json" in names
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".cf-probe-")], names
    suffix = ".csv" if fmt == "csv" else ".parquet"
    assert [n for n in names if n.startswith("part-")] == [f"part-{i:05d}{suffix}" for i in range(UNITS)]
    manifest = json.loads(fs.cat_file(f"{prefix}/_manifest.json"))
    assert manifest["rows"] == ROWS
    assert sorted(f["path"] for f in manifest["files"]) == [f"part-{i:05d}{suffix}" for i in range(UNITS)]
    assert sum(f["rows"] for f in manifest["files"]) == ROWS
    for f in manifest["files"]:
        assert objects[f["path"]]["size"] == f["bytes"]

    assert sorted(_read_back(fs, report.files, fmt)) == sorted(rows)

    # resuming the finished export reads nothing and rewrites no file
    def no_read(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a finished unit was read again")

    monkeypatch.setattr(PartitionReader, "read_arrow", no_read)
    parts_before = {n: o for n, o in objects.items() if n.startswith("part-")}
    resumed = cf.export(
        table,
        url,
        format=fmt,
        storage_options=options,
        npartitions=UNITS,
        resume=True,
        connection=cassandra_config,
    )
    assert resumed.ok
    assert resumed.units_resumed == UNITS
    assert resumed.rows == ROWS
    assert sorted(resumed.files) == sorted(report.files)
    after = _objects(fs, prefix)
    assert {n: o for n, o in after.items() if n.startswith("part-")} == parts_before
    assert not [n for n in after if n.endswith(".tmp") or n.startswith(".cf-probe-")], sorted(after)
    assert sorted(_read_back(fs, resumed.files, fmt)) == sorted(rows)


def test_load_back_from_an_emulated_object_store(
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    small_table: tuple[str, list[Row]],
    destination: tuple[str, dict[str, Any]],
) -> None:
    """What cf.export wrote to az:// or gs:// loads back with cf.load from the same URL (directory listing,
    file identity, reading) into a fresh table, row for row."""
    table, rows = small_table
    url, options = destination
    cf.export(
        table, url, format="csv", compression="gzip", storage_options=options, connection=cassandra_config
    )
    copy = f"{table}_copy"
    cassandra_session.execute(f"CREATE TABLE {copy} (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    report = cf.load(url, copy, storage_options=options, connection=cassandra_config)
    assert report.rows_read == report.rows_written == ROWS
    got = sorted(tuple(r) for r in cassandra_session.execute(f"SELECT pk, ck, v FROM {copy}"))
    assert got == sorted(rows)
