"""to_cassandra / df.cassandra.load against the real node: round trips, writetime/TTL, counters,
create_table, nulls, if_not_exists, bad input with exact written/rejected counts, Dask and distributed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pytest

import cassandra_frames as cf
from cassandra_frames import datasets
from cassandra_frames.errors import SchemaError, WriteError
from tests.loader import load_rows


def _sorted(table: pa.Table, key: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in key])


def _count(session: Any, table: str) -> int:
    return int(session.execute(f"SELECT count(*) FROM {table}", timeout=120).one()[0])


def test_flights_round_trip_pandas_create_table(cassandra_config: Any, keyspace: str) -> None:
    source = datasets.flights()
    df = source.to_pandas(types_mapper=pd.ArrowDtype)
    report = cf.to_cassandra(
        df,
        f"{keyspace}.flights",
        connection=cassandra_config,
        create_table=True,
        partition_key=["year", "month", "day"],
        clustering_key=["carrier", "flight", "sched_dep_time"],
    )
    assert report.rows_written == datasets.FLIGHTS_ROWS
    assert report.rows_rejected == 0
    assert "336,776 rows written" in repr(report)
    back = cf.read_cassandra(f"{keyspace}.flights", connection=cassandra_config).compute()
    got = pa.Table.from_pandas(back, preserve_index=False).select(source.schema.names)
    key = ["year", "month", "day", "carrier", "flight", "sched_dep_time"]
    assert _sorted(got, key).equals(_sorted(source, key))


def test_dask_write_via_accessor_into_second_table(
    cassandra_session: Any, cassandra_config: Any, keyspace: str
) -> None:
    s = cassandra_session
    for name in ("src", "dst"):
        s.execute(
            f"CREATE TABLE {keyspace}.{name} (pk int, ck int, v text, d double, l list<int>, "
            "m map<text, int>, PRIMARY KEY (pk, ck))"
        )
    rows = [(i % 97, i, f"v{i}", i / 7, [i, i + 1], {"a": i}) for i in range(5000)]
    insert = s.prepare(f"INSERT INTO {keyspace}.src (pk, ck, v, d, l, m) VALUES (?, ?, ?, ?, ?, ?)")
    load_rows(s, insert, rows, key_len=1)
    ddf = cf.read_cassandra(f"{keyspace}.src", connection=cassandra_config, npartitions=5)
    report = ddf.cassandra.load(f"{keyspace}.dst", connection=cassandra_config)
    assert report.rows_written == 5000
    assert report.batches < 5000  # rows were batched by partition key
    a = cf.read_cassandra(f"{keyspace}.src", connection=cassandra_config).compute()
    b = cf.read_cassandra(f"{keyspace}.dst", connection=cassandra_config).compute()
    key = ["pk", "ck"]
    ta = _sorted(pa.Table.from_pandas(a, preserve_index=False), key)
    tb = _sorted(pa.Table.from_pandas(b, preserve_index=False), key)
    assert ta.equals(tb)
    delayed = ddf.cassandra.load(f"{keyspace}.dst", connection=cassandra_config, compute=False)
    assert delayed.compute().rows_written == 5000


def test_every_type_round_trip(cassandra_session: Any, cassandra_config: Any, keyspace: str) -> None:
    from test_schema_live import DDL, ROWS, as_python  # the every-type table and its edge values

    for stmt in DDL:
        cassandra_session.execute(stmt.format(ks=keyspace), timeout=60)
    cassandra_session.execute(
        DDL[2].format(ks=keyspace).replace('"MyTable"', '"Copy"'), timeout=60
    )  # same schema
    for row in ROWS:
        names = ["id", *row]
        literals = ["1", *(lit for lit, _ in row.values())]
        cols = ", ".join(f'"{n}"' for n in names)
        cassandra_session.execute(f'INSERT INTO {keyspace}."MyTable" ({cols}) VALUES ({", ".join(literals)})')
    src = cf.read_cassandra(f"{keyspace}.MyTable", connection=cassandra_config)
    report = cf.to_cassandra(src, f"{keyspace}.Copy", connection=cassandra_config)
    assert (report.rows_written, report.rows_rejected) == (4, 0)
    a = pa.Table.from_pandas(src.compute(), preserve_index=False)
    b = pa.Table.from_pandas(
        cf.read_cassandra(f"{keyspace}.Copy", connection=cassandra_config).compute(), preserve_index=False
    )
    assert a.column_names == b.column_names
    for name in a.column_names:
        assert as_python(a.column(name)) == as_python(b.column(name)), name


def test_distributed_two_process_write(
    cassandra_session: Any, cassandra_config: Any, keyspace: str, dask_client: Any
) -> None:
    cassandra_session.execute(f"CREATE TABLE {keyspace}.t (k bigint PRIMARY KEY, v text)")
    pdf = pd.DataFrame({"k": range(20_000), "v": [f"value {i}" for i in range(20_000)]})
    report = cf.to_cassandra(dd.from_pandas(pdf, npartitions=6), f"{keyspace}.t", connection=cassandra_config)
    assert report.rows_written == 20_000
    assert _count(cassandra_session, f"{keyspace}.t") == 20_000


def test_writetime_and_ttl_fixed_per_row_and_per_column(
    cassandra_session: Any, cassandra_config: Any, keyspace: str
) -> None:
    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.w (k int PRIMARY KEY, a text, b text, c text)")
    df = pd.DataFrame({"k": [1, 2], "a": ["x", "y"], "b": ["p", "q"], "c": ["m", "n"]})
    cf.to_cassandra(df, f"{keyspace}.w", connection=cassandra_config, ttl=3000, writetime=111)
    got = {r.k: r for r in s.execute(f"SELECT k, writetime(a) AS wa, ttl(a) AS ta FROM {keyspace}.w")}
    assert got[1].wa == 111
    assert 2900 < got[1].ta <= 3000

    df2 = df.assign(ts=[1000, 2000], life=[500, 900])
    cf.to_cassandra(df2, f"{keyspace}.w", connection=cassandra_config, ttl="life", writetime="ts")
    got = {r.k: r for r in s.execute(f"SELECT k, writetime(b) AS wb, ttl(b) AS tb FROM {keyspace}.w")}
    assert (got[1].wb, got[2].wb) == (1000, 2000)
    assert 400 < got[1].tb <= 500
    assert 800 < got[2].tb <= 900

    cf.to_cassandra(
        df2.drop(columns="life").assign(ts=[3000, 4000]),
        f"{keyspace}.w",
        connection=cassandra_config,
        writetime={"a": 5000, "b": "ts"},
        ttl={"a": 7000},
    )
    rows = s.execute(
        f"SELECT k, writetime(a) AS wa, writetime(b) AS wb, ttl(a) AS ta, ttl(b) AS tb, writetime(c) AS wc "
        f"FROM {keyspace}.w"
    )
    got = {r.k: r for r in rows}
    assert (got[1].wa, got[1].wb) == (5000, 3000)
    assert got[2].wb == 4000
    assert 6900 < got[1].ta <= 7000
    assert got[1].tb is None
    assert got[1].wc > 10**15  # c had no writetime of its own: the server's clock (µs)
    read = cf.read_cassandra(f"{keyspace}.w", connection=cassandra_config, writetime=["a"]).compute()
    assert sorted(read["a_writetime"].tolist()) == [5000, 5000]


def test_counters(cassandra_session: Any, cassandra_config: Any, keyspace: str) -> None:
    cassandra_session.execute(f"CREATE TABLE {keyspace}.c (k text PRIMARY KEY, hits counter, misses counter)")
    df = pd.DataFrame({"k": ["a", "b", "a"], "hits": [1, 5, 2], "misses": [0, -1, 3]})
    report = cf.to_cassandra(df, f"{keyspace}.c", connection=cassandra_config)
    assert report.rows_written == 3
    cf.to_cassandra(df.iloc[:1], f"{keyspace}.c", connection=cassandra_config)
    got = {r.k: (r.hits, r.misses) for r in cassandra_session.execute(f"SELECT * FROM {keyspace}.c")}
    assert got == {"a": (4, 3), "b": (5, -1)}


def test_nulls_unset_keeps_and_tombstone_deletes(
    cassandra_session: Any, cassandra_config: Any, keyspace: str
) -> None:
    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.n (k int PRIMARY KEY, v text)")
    cf.to_cassandra(
        pd.DataFrame({"k": [1, 2], "v": ["keep", "drop"]}), f"{keyspace}.n", connection=cassandra_config
    )
    nulls = pd.DataFrame({"k": pd.Series([1], dtype="int32"), "v": pd.Series([None], dtype="string")})
    cf.to_cassandra(nulls, f"{keyspace}.n", connection=cassandra_config)  # unset: no change
    cf.to_cassandra(nulls.assign(k=[2]), f"{keyspace}.n", connection=cassandra_config, nulls="tombstone")
    got = {r.k: r.v for r in s.execute(f"SELECT k, v FROM {keyspace}.n")}
    assert got == {1: "keep", 2: None}


def test_if_not_exists(cassandra_session: Any, cassandra_config: Any, keyspace: str) -> None:
    cassandra_session.execute(f"CREATE TABLE {keyspace}.x (k int PRIMARY KEY, v text)")
    cf.to_cassandra(pd.DataFrame({"k": [1], "v": ["first"]}), f"{keyspace}.x", connection=cassandra_config)
    report = cf.to_cassandra(
        pd.DataFrame({"k": [1, 2], "v": ["second", "new"]}),
        f"{keyspace}.x",
        connection=cassandra_config,
        if_not_exists=True,
    )
    assert (report.rows_written, report.rows_not_applied) == (1, 1)
    got = {r.k: r.v for r in cassandra_session.execute(f"SELECT k, v FROM {keyspace}.x")}
    assert got == {1: "first", 2: "new"}


def test_schema_mismatch_is_refused_before_writing(
    cassandra_session: Any, cassandra_config: Any, keyspace: str
) -> None:
    cassandra_session.execute(f"CREATE TABLE {keyspace}.s (k int, c int, v int, PRIMARY KEY (k, c))")
    table = f"{keyspace}.s"
    with pytest.raises(SchemaError, match=r"column 'vv' of the frame is not a column of .*did you mean 'v'"):
        cf.to_cassandra(pd.DataFrame({"k": [1], "c": [1], "vv": [1]}), table, connection=cassandra_config)
    with pytest.raises(SchemaError, match=r"no column for primary key column\(s\) \['c'\]"):
        cf.to_cassandra(pd.DataFrame({"k": [1], "v": [1]}), table, connection=cassandra_config)
    with pytest.raises(
        SchemaError, match=r"column 'v' \((large_)?string\) cannot be written to .*which is int"
    ):
        cf.to_cassandra(
            pd.DataFrame({"k": [1], "c": [1], "v": pd.Series(["x"], dtype="string[pyarrow]")}),
            table,
            connection=cassandra_config,
        )
    with pytest.raises(SchemaError, match="does not guess a primary key"):
        cf.to_cassandra(
            pd.DataFrame({"a": [1]}), f"{keyspace}.new", connection=cassandra_config, create_table=True
        )
    assert _count(cassandra_session, table) == 0


@pytest.fixture
def tiny(cassandra_session: Any, keyspace: str) -> str:
    cassandra_session.execute(f"CREATE TABLE {keyspace}.b (k text, c int, small tinyint, PRIMARY KEY (k, c))")
    return f"{keyspace}.b"


def _bad_frame() -> pd.DataFrame:
    big_key = "k" * 70_000  # longer than the 65,535-byte key limit: the server refuses it
    frame = pd.DataFrame(
        {
            "k": pd.Series(["a", "a", None, "b", big_key, "c"], dtype="string"),
            "c": [1, 2, 3, 4, 5, 6],
            "small": [1, 300, 3, 4, 5, 6],
        }
    )
    return frame.set_axis([10, 11, 12, 13, 14, 15])


def test_bad_rows_raise_names_row_column_value(
    cassandra_session: Any, cassandra_config: Any, tiny: str
) -> None:
    with pytest.raises(WriteError, match=r"row 11, column 'small', value 300: .*out of range for tinyint"):
        cf.to_cassandra(_bad_frame(), tiny, connection=cassandra_config)
    assert _count(cassandra_session, tiny) == 0


@pytest.mark.parametrize("chunk", [50_000, 2])
def test_bad_rows_skip_to_file_with_exact_counts(
    cassandra_session: Any, cassandra_config: Any, tiny: str, tmp_path: Path, chunk: int, monkeypatch: Any
) -> None:
    monkeypatch.setattr("cassandra_frames.write.CHUNK_ROWS", chunk)  # rows converted and sent at a time
    path = tmp_path / "bad.jsonl"
    report = cf.to_cassandra(
        _bad_frame(), tiny, connection=cassandra_config, on_error="skip", bad_rows_path=str(path)
    )
    assert (report.rows_written, report.rows_rejected) == (3, 3)
    assert [r.row for r in report.rejected] == [11, 12, 14]
    assert _count(cassandra_session, tiny) == 3
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [x["_row"] for x in lines] == [11, 12, 14]
    assert lines[0]["small"] == 300
    assert "out of range" in lines[0]["_reason"]
    assert "null in primary key column 'k'" in lines[1]["_reason"]
    assert "InvalidRequest" in lines[2]["_reason"] or "Key length" in lines[2]["_reason"]
    csv_path = tmp_path / "bad.csv"
    cf.to_cassandra(
        _bad_frame(), tiny, connection=cassandra_config, on_error="skip", bad_rows_path=str(csv_path)
    )
    assert pd.read_csv(csv_path)["_row"].tolist() == [11, 12, 14]


def test_a_refused_row_early_in_a_long_frame_loses_nothing_after_it(
    cassandra_session: Any, cassandra_config: Any, tiny: str, tmp_path: Path, monkeypatch: Any
) -> None:
    """With on_error="skip", a row the server refuses in the first chunk does not end the write: every
    later chunk is still written (it used to stop starting chunks, leaving their rows neither written nor
    rejected)."""
    monkeypatch.setattr("cassandra_frames.write.CHUNK_ROWS", 2)
    keys = ["k" * 70_000] + [f"r{i}" for i in range(11)]  # the refused key is row 0 of 12, chunk 1 of 6
    frame = pd.DataFrame({"k": pd.Series(keys, dtype="string"), "c": range(12), "small": [1] * 12})
    path = tmp_path / "bad.jsonl"
    report = cf.to_cassandra(
        frame, tiny, connection=cassandra_config, on_error="skip", bad_rows_path=str(path)
    )
    assert (report.rows_written, report.rows_rejected) == (11, 1)
    assert report.rows_written + report.rows_rejected == len(frame)
    assert _count(cassandra_session, tiny) == 11
    assert [json.loads(line)["_row"] for line in path.read_text().splitlines()] == [0]


def test_write_chunks_takes_a_stream_of_arrow_batches(
    cassandra_session: Any, cassandra_config: Any, tiny: str, tmp_path: Path
) -> None:
    """The write core under to_cassandra takes Arrow record batches (what the bulk load hands it): rows are
    labelled by their position in the stream, bad ones stream to the bad-rows file."""
    from cassandra_frames.options import WriteOptions
    from cassandra_frames.write import write_chunks
    from cassandra_frames.write_plan import plan_write

    schema = pa.schema([("k", pa.string()), ("c", pa.int32()), ("small", pa.int64())])
    batches = [
        pa.record_batch([["a", "b"], [1, 2], [1, 2]], schema=schema),
        pa.record_batch([["c", None, "e"], [3, 4, 5], [3, 4, 500]], schema=schema),  # rows 3 and 4 are bad
        pa.record_batch([["f"], [6], [6]], schema=schema),
    ]
    options = WriteOptions(
        connection=cassandra_config, on_error="skip", bad_rows_path=str(tmp_path / "b.csv")
    )
    plan = plan_write(schema.empty_table().to_pandas(), tiny, options)
    report = write_chunks(iter(batches), plan, total=6)
    assert (report.rows_written, report.rows_rejected) == (4, 2)
    assert [(r.row, r.column) for r in report.rejected] == [(3, "k"), (4, "small")]
    bad = pd.read_csv(tmp_path / "b.csv")
    assert bad["_row"].tolist() == [3, 4]
    assert bad["_column"].tolist() == ["k", "small"]
    assert bad["small"].tolist() == [4, 500]
    got = {(r.k, r.c, r.small) for r in cassandra_session.execute(f"SELECT k, c, small FROM {tiny}")}
    assert got == {("a", 1, 1), ("b", 2, 2), ("c", 3, 3), ("f", 6, 6)}


@pytest.mark.parametrize("chunk", [50_000, 2])
def test_max_errors_aborts_with_report(
    cassandra_config: Any, tiny: str, cassandra_session: Any, chunk: int, monkeypatch: Any
) -> None:
    monkeypatch.setattr("cassandra_frames.write.CHUNK_ROWS", chunk)
    with pytest.raises(WriteError, match=r"max_errors exceeded \(\d+ rows rejected\)"):
        cf.to_cassandra(_bad_frame(), tiny, connection=cassandra_config, on_error="skip", max_errors=1)
    with pytest.raises(WriteError, match="max_errors exceeded"):
        cf.to_cassandra(_bad_frame(), tiny, connection=cassandra_config, on_error="skip", max_errors="10%")
    report = cf.to_cassandra(
        _bad_frame(), tiny, connection=cassandra_config, on_error="skip", max_errors="50%"
    )
    assert (report.rows_written, report.rows_rejected) == (3, 3)


def test_pandas_accessor_exists_on_import(
    cassandra_config: Any, cassandra_session: Any, keyspace: str
) -> None:
    assert hasattr(pd.DataFrame, "cassandra")
    cassandra_session.execute(f"CREATE TABLE {keyspace}.acc (k int PRIMARY KEY, v double)")
    report = pd.DataFrame({"k": [1, 2, 3], "v": [0.5, 1.5, None]}).cassandra.load(
        f"{keyspace}.acc", connection=cassandra_config
    )
    assert report.rows_written == 3
    got = {r.k: r.v for r in cassandra_session.execute(f"SELECT k, v FROM {keyspace}.acc")}
    assert got == {1: 0.5, 2: 1.5, 3: None}


@pytest.mark.parametrize("chunk", [50_000, 2])
def test_server_refusal_with_raise_names_the_row(
    cassandra_session: Any, cassandra_config: Any, tiny: str, chunk: int, monkeypatch: Any
) -> None:
    monkeypatch.setattr("cassandra_frames.write.CHUNK_ROWS", chunk)
    frame = _bad_frame().drop(index=[11, 12])  # only the over-long key is left: the server refuses it
    with pytest.raises(WriteError, match=r"row 14: .*(InvalidRequest|Key length)") as err:
        cf.to_cassandra(frame, tiny, connection=cassandra_config)
    # rows in flight beside the refused one may have landed: the error says exactly how many did
    reported = int(re.search(r"; ([\d,]+) rows were written before", str(err.value))[1].replace(",", ""))
    rows = {(r.k, r.c) for r in cassandra_session.execute(f"SELECT k, c FROM {tiny}")}
    assert len(rows) == reported
    assert rows <= {("a", 1), ("b", 4), ("c", 6)}  # only rows of the frame that the server accepted
