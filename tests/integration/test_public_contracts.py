"""Documented contracts of the public API against the real node: bad-row files on fsspec URLs (memory://,
s3:// on a moto server, one file per Dask partition), ``ttl=True`` / ``writetime=True`` on reads, and the
refusal of a raw driver Session on distributed worker processes."""

from __future__ import annotations

import io
import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import dask.dataframe as dd
import fsspec
import fsspec.config
import pandas as pd
import pyarrow as pa
import pytest

import cassandra_frames as cf

BIG_KEY = "k" * 70_000  # longer than the 65,535-byte key limit: the server refuses the row


# ------------------------------------------------------------------------------------------ helpers


def _count(session: Any, table: str) -> int:
    return int(session.execute(f"SELECT count(*) FROM {table}", timeout=120).one()[0])


def _plain(value: Any) -> Any:
    """A value read back from JSON or CSV as a plain Python object (NaN/NA → None, numpy → Python)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def _read_bad_rows(url: str) -> list[dict[str, Any]]:
    """Every record of a bad-rows file (CSV when the name ends in ``.csv``, else JSON lines)."""
    with fsspec.open(url, "r", encoding="utf-8") as fh:
        text = fh.read()
    if url.endswith(".csv"):
        frame = pd.read_csv(io.StringIO(text), dtype={"k": object, "_column": object, "_reason": object})
        return [{str(k): _plain(v) for k, v in rec.items()} for rec in frame.to_dict("records")]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def small_table(cassandra_session: Any, keyspace: str) -> str:
    """``k text, c int, small tinyint``; primary key (k, c)."""
    cassandra_session.execute(f"CREATE TABLE {keyspace}.b (k text, c int, small tinyint, PRIMARY KEY (k, c))")
    return f"{keyspace}.b"


def _frame_with_bad_rows() -> pd.DataFrame:
    """Six rows labelled 10..15; 11 (tinyint 300), 12 (null key) and 14 (over-long key) cannot be written."""
    frame = pd.DataFrame(
        {
            "k": pd.Series(["a", "a", None, "b", BIG_KEY, "c"], dtype="string"),
            "c": [1, 2, 3, 4, 5, 6],
            "small": [1, 300, 3, 4, 5, 6],
        }
    )
    return frame.set_axis([10, 11, 12, 13, 14, 15])


def _check_skip_to_url(cassandra_session: Any, cassandra_config: Any, table: str, url: str) -> None:
    """Write the bad frame with on_error='skip' to ``url`` and check the report, the table and the file."""
    frame = _frame_with_bad_rows()
    report = cf.to_cassandra(frame, table, connection=cassandra_config, on_error="skip", bad_rows_path=url)
    assert isinstance(report, cf.WriteReport)
    assert (report.rows_written, report.rows_rejected) == (3, 3)
    assert report.bad_rows_path == [url]
    assert sorted(r.row for r in report.rejected) == [11, 12, 14]
    assert all(isinstance(r, cf.RejectedRow) for r in report.rejected)

    stored = {(r.k, r.c, r.small) for r in cassandra_session.execute(f"SELECT k, c, small FROM {table}")}
    assert stored == {("a", 1, 1), ("b", 4, 4), ("c", 6, 6)}

    records = _read_bad_rows(url)
    by_row = {rec["_row"]: rec for rec in records}
    assert len(records) == 3
    assert sorted(by_row) == [11, 12, 14]
    for rec in records:
        assert set(rec) >= {"_row", "_column", "_reason", "k", "c", "small"}, rec.keys()
        assert isinstance(rec["_reason"], str)
        assert rec["_reason"].strip()
        source = frame.loc[rec["_row"]]
        expected_k = None if pd.isna(source["k"]) else source["k"]
        assert (rec["k"], rec["c"], rec["small"]) == (expected_k, int(source["c"]), int(source["small"]))

    assert by_row[11]["_column"] == "small"  # a conversion failure names its column
    assert "tinyint" in by_row[11]["_reason"]
    assert by_row[12]["_column"] == "k"
    assert "null" in by_row[12]["_reason"].lower()
    assert by_row[14]["_column"] is None  # refused by the server: no single column to blame
    assert by_row[14]["k"] == BIG_KEY


# ---------------------------------------------------------------------------------- memory:// files


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_bad_rows_file_on_memory_url(
    cassandra_session: Any, cassandra_config: Any, small_table: str, suffix: str
) -> None:
    """Rejected rows (conversion failure, null key, server refusal) land in a memory:// file with
    ``_row``, ``_column``, ``_reason`` and their values; the other rows are written."""
    root = f"memory://cf-contracts-{uuid.uuid4().hex}"
    url = f"{root}/out/bad.{suffix}"
    fs = fsspec.filesystem("memory")
    try:
        _check_skip_to_url(cassandra_session, cassandra_config, small_table, url)
    finally:
        if fs.exists(root):
            fs.rm(root, recursive=True)


# --------------------------------------------------------------------------------------- s3 on moto


@pytest.fixture
def s3_on_moto(moto_s3: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """fsspec's ``s3`` defaults point at the moto server (to_cassandra takes no storage_options)."""
    import s3fs

    monkeypatch.setitem(
        fsspec.config.conf,
        "s3",
        {
            "endpoint_url": moto_s3["endpoint_url"],
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"region_name": "us-east-1"},
        },
    )
    s3fs.S3FileSystem.clear_instance_cache()
    yield moto_s3
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_bad_rows_file_on_s3_url(
    cassandra_session: Any, cassandra_config: Any, small_table: str, s3_on_moto: dict[str, str], suffix: str
) -> None:
    """The same bad-rows contract on an s3:// URL (a moto server); the object really is in the bucket."""
    import boto3

    bucket = s3_on_moto["bucket"]
    key = f"run-{uuid.uuid4().hex}/bad.{suffix}"
    _check_skip_to_url(cassandra_session, cassandra_config, small_table, f"s3://{bucket}/{key}")
    client = boto3.client(
        "s3",
        endpoint_url=s3_on_moto["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    listed = client.list_objects_v2(Bucket=bucket, Prefix=key.split("/")[0])
    assert [obj["Key"] for obj in listed.get("Contents", [])] == [key]


# ----------------------------------------------------------------------------- one file per partition


def test_dask_bad_rows_one_file_per_partition(
    cassandra_session: Any, cassandra_config: Any, small_table: str
) -> None:
    """A Dask write with bad rows in two of three partitions: one file per such partition, and the single
    report's counts, ``rejected`` and ``bad_rows_path`` agree with those files and with the table."""
    n = 12
    small = [i + 1 for i in range(n)]
    keys: list[str | None] = [f"key{i % 4}" for i in range(n)]
    small[1] = 300  # partition 0: out of range for tinyint
    keys[2] = None  # partition 0: null in the partition key
    small[10] = -200  # partition 2: out of range for tinyint
    frame = pd.DataFrame({"k": pd.Series(keys, dtype="string"), "c": list(range(n)), "small": small})
    bad_labels = {1, 2, 10}
    ddf = dd.from_pandas(frame, npartitions=3)
    assert ddf.npartitions == 3
    parts_with_bad = [
        i for i in range(ddf.npartitions) if bad_labels & set(ddf.partitions[i].index.compute().tolist())
    ]
    assert len(parts_with_bad) == 2  # the input really spreads bad rows over two partitions, not three

    root = f"memory://cf-contracts-{uuid.uuid4().hex}"
    url = f"{root}/dask/bad.jsonl"
    fs = fsspec.filesystem("memory")
    try:
        report = cf.to_cassandra(
            ddf, small_table, connection=cassandra_config, on_error="skip", bad_rows_path=url
        )
        assert isinstance(report, cf.WriteReport)
        assert sorted(report.bad_rows_path) == [
            f"{root}/dask/bad.part-{i:05d}.jsonl" for i in parts_with_bad
        ]  # the documented name.part-NNNNN.suffix
        assert sorted(fs.find(root)) == sorted(fs._strip_protocol(p) for p in report.bad_rows_path)

        in_files: list[dict[str, Any]] = []
        for path in report.bad_rows_path:
            records = _read_bad_rows(path)
            assert records, f"{path} is empty"
            in_files.extend(records)
        assert report.rows_rejected == len(in_files)
        assert sorted(rec["_row"] for rec in in_files) == sorted(bad_labels)
        assert sorted(r.row for r in report.rejected) == sorted(bad_labels)
        assert {rec["_row"]: rec["_column"] for rec in in_files} == {1: "small", 2: "k", 10: "small"}
        assert report.rows_written + report.rows_rejected == len(frame)
        assert _count(cassandra_session, small_table) == report.rows_written == n - len(bad_labels)
    finally:
        if fs.exists(root):
            fs.rm(root, recursive=True)


# ------------------------------------------------------------------------------- ttl / writetime=True


def test_read_ttl_and_writetime_true_cover_exactly_the_eligible_columns(
    cassandra_session: Any, cassandra_config: Any, keyspace: str
) -> None:
    """``ttl=True`` / ``writetime=True`` add ``<col>_ttl`` (int32) / ``<col>_writetime`` (int64) for the
    regular, static and frozen columns only; null where the cell is null (or, for TTL, has none)."""
    s = cassandra_session
    table = f"{keyspace}.tw"
    s.execute(
        f"CREATE TABLE {table} (pk int, ck int, a text, b int, st text static, l list<int>, "
        "fl frozen<list<int>>, PRIMARY KEY (pk, ck))"
    )
    s.execute(
        f"INSERT INTO {table} (pk, ck, a, b, st, l, fl) VALUES (1, 1, 'x', 10, 's1', [1, 2], [3]) "
        "USING TIMESTAMP 1000 AND TTL 3600"
    )
    s.execute(f"INSERT INTO {table} (pk, ck, a) VALUES (1, 2, 'y') USING TIMESTAMP 2000 AND TTL 3600")
    s.execute(f"INSERT INTO {table} (pk, ck, b, l) VALUES (2, 1, 5, [9]) USING TIMESTAMP 3000 AND TTL 3600")
    s.execute(f"INSERT INTO {table} (pk, ck, a) VALUES (3, 1, 'forever') USING TIMESTAMP 4000")  # no TTL

    eligible = ["a", "b", "st", "fl"]
    df = cf.read_cassandra(table, connection=cassandra_config, ttl=True, writetime=True).compute()
    ttl_cols = sorted(c for c in df.columns if c.endswith("_ttl"))
    wt_cols = sorted(c for c in df.columns if c.endswith("_writetime"))
    assert ttl_cols == sorted(f"{c}_ttl" for c in eligible)
    assert wt_cols == sorted(f"{c}_writetime" for c in eligible)
    for col in ("pk", "ck", "l"):  # keys and the non-frozen list are not eligible
        assert f"{col}_ttl" not in df.columns
        assert f"{col}_writetime" not in df.columns
    for col in ttl_cols:
        assert df.dtypes[col] == pd.ArrowDtype(pa.int32()), (col, df.dtypes[col])
    for col in wt_cols:
        assert df.dtypes[col] == pd.ArrowDtype(pa.int64()), (col, df.dtypes[col])

    assert len(df) == 4
    rows = {(int(r["pk"]), int(r["ck"])): r for r in df.to_dict("records")}
    assert sorted(rows) == [(1, 1), (1, 2), (2, 1), (3, 1)]

    def ttl(key: tuple[int, int], col: str) -> int | None:
        value = rows[key][f"{col}_ttl"]
        return None if pd.isna(value) else int(value)

    def wt(key: tuple[int, int], col: str) -> int | None:
        value = rows[key][f"{col}_writetime"]
        return None if pd.isna(value) else int(value)

    present = {  # (row, column) whose cell was written with TTL 3600
        ((1, 1), "a"), ((1, 1), "b"), ((1, 1), "st"), ((1, 1), "fl"),
        ((1, 2), "a"), ((1, 2), "st"),  # the static cell is shared by the partition
        ((2, 1), "b"),
    }  # fmt: skip
    for key in rows:
        for col in eligible:
            value = ttl(key, col)
            if (key, col) in present:
                assert value is not None, (key, col)
                assert 0 < value <= 3600, (key, col, value)
            else:
                assert value is None, (key, col, value)

    assert wt((1, 1), "a") == wt((1, 1), "fl") == wt((1, 1), "st") == 1000
    assert wt((1, 2), "a") == 2000
    assert wt((1, 2), "b") is None  # a null cell has no write time
    assert wt((2, 1), "b") == 3000
    assert wt((2, 1), "a") is None
    assert wt((2, 1), "st") is None
    assert wt((3, 1), "a") == 4000  # written without TTL: a write time, but no TTL (checked above)

    with pytest.raises(cf.SchemaError):
        cf.read_cassandra(table, connection=cassandra_config, ttl=["l"])


# ------------------------------------------------------------------------- Session vs distributed


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        out.append(e)
        todo.extend([e.__cause__, e.__context__])
    return out


def test_raw_session_refused_on_distributed_workers(
    cassandra_session: Any, cassandra_config: Any, keyspace: str, dask_client: Any
) -> None:
    """A driver Session cannot reach worker processes: computing on a distributed cluster raises a
    CassandraFramesError that says to pass a ConnectionConfig; in-process threads and a config both work."""
    table = f"{keyspace}.few"
    cassandra_session.execute(f"CREATE TABLE {table} (k int PRIMARY KEY, v text)")
    for k in range(6):
        cassandra_session.execute(f"INSERT INTO {table} (k, v) VALUES ({k}, 'v{k}')")

    ddf = cf.read_cassandra(table, connection=cassandra_session, npartitions=2)
    local = ddf.compute(scheduler="threads")  # in this process the Session is fine
    assert sorted(local["k"].tolist()) == list(range(6))
    try:
        ddf.compute()
    except Exception as exc:  # noqa: BLE001 - distributed may wrap the worker's error
        raised: BaseException = exc
    else:
        pytest.fail("computing with a driver Session on distributed workers did not raise")
    ours = [e for e in _chain(raised) if isinstance(e, cf.CassandraFramesError)]
    assert ours, f"expected a CassandraFramesError, got {raised!r}"
    message = str(ours[0])
    assert "ConnectionConfig" in message, message
    assert "Session" in message, message
    assert "process" in message, message

    ok = cf.read_cassandra(table, connection=cassandra_config, npartitions=2).compute()
    assert sorted(zip(ok["k"].tolist(), ok["v"].tolist(), strict=True)) == [(k, f"v{k}") for k in range(6)]
