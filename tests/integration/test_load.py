"""cf.load against the real node: files exported by cf.export (every format, locally and on s3://) and by
cqlsh COPY TO load back value for value; a corpus of bad input lands, row by row, in the bad-rows files
with its line and reason while every other row loads; kill-and-resume; changed sources refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from test_schema_live import DDL, as_python, loaded, read  # noqa: F401 — the every-type table, a fixture

import cassandra_frames as cf
from cassandra_frames import datasets
from cassandra_frames.config import ConnectionConfig

REPO = Path(__file__).resolve().parents[2]
KEY = ["year", "month", "day", "carrier", "flight", "sched_dep_time"]


def _sorted(table: pa.Table, key: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in key])


def _rows(session: Any, table: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in session.execute(f"SELECT pk, ck, v FROM {table}", timeout=60))


@pytest.fixture
def numbers(cassandra_session: Any, keyspace: str) -> tuple[str, list[tuple[int, int, str]]]:
    """``ks.nums`` with 5,000 rows and an empty ``ks.copy`` of the same shape."""
    s = cassandra_session
    for t in ("nums", "copy"):
        s.execute(f"CREATE TABLE {keyspace}.{t} (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    rows = [(i % 100, i, f'value {i}, "quoted"') for i in range(5_000)]
    insert = s.prepare(f"INSERT INTO {keyspace}.nums (pk, ck, v) VALUES (?, ?, ?)")
    from tests.loader import load_rows

    load_rows(s, insert, rows, 1)
    return keyspace, sorted(rows)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_then_load_round_trip(
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    numbers: tuple[str, list[Any]],
    tmp_path: Path,
    fmt: str,
) -> None:
    ks, rows = numbers
    cf.export(f"{ks}.nums", str(tmp_path / "out"), format=fmt, npartitions=4, connection=cassandra_config)
    report = cf.load(str(tmp_path / "out"), f"{ks}.copy", connection=cassandra_config)
    assert report.rows_read == report.rows_written == len(rows)
    assert report.rows_rejected == 0
    assert len(report.sources) == 4  # the manifest and the checkpoint are not sources
    assert _rows(cassandra_session, f"{ks}.copy") == rows


def test_every_type_round_trips_through_each_format(
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    loaded: tuple[Any, str],  # noqa: F811 — the fixture imported above
    tmp_path: Path,
) -> None:
    session, ks = loaded
    expected = read(session, ks, "MyTable").sort_by([("ck", "ascending")])
    for i, fmt in enumerate(["csv", "json", "parquet"]):
        copy = f"Copy{i}"
        ddl = DDL[2].replace('"MyTable"', f'"{copy}"')
        session.execute(ddl.format(ks=ks), timeout=60)
        cf.export(f"{ks}.MyTable", str(tmp_path / fmt), format=fmt, connection=cassandra_config)
        report = cf.load(str(tmp_path / fmt), f"{ks}.{copy}", connection=cassandra_config)
        assert report.rows_written == expected.num_rows, fmt
        got = read(session, ks, copy).sort_by([("ck", "ascending")])
        for name in expected.column_names:
            assert as_python(got[name]) == as_python(expected[name]), (fmt, name)


def test_flights_csv_gz_on_s3(
    cassandra_session: Any, cassandra_config: ConnectionConfig, keyspace: str, moto_s3: dict[str, str]
) -> None:
    source = datasets.flights()
    options = {"endpoint_url": moto_s3["endpoint_url"], "key": "testing", "secret": "testing"}
    cf.to_cassandra(
        source.to_pandas(types_mapper=pd.ArrowDtype),
        f"{keyspace}.flights",
        connection=cassandra_config,
        create_table=True,
        partition_key=list(datasets.FLIGHTS_KEY[0]),
        clustering_key=list(datasets.FLIGHTS_KEY[1]),
    )
    url = f"s3://{moto_s3['bucket']}/flights-{uuid.uuid4().hex[:6]}"
    cf.export(
        f"{keyspace}.flights",
        url,
        format="csv",
        compression="gzip",
        storage_options=options,
        connection=cassandra_config,
    )
    cassandra_session.execute(f"TRUNCATE {keyspace}.flights", timeout=60)
    report = cf.load(
        f"{url}/*.csv.gz", f"{keyspace}.flights", storage_options=options, connection=cassandra_config
    )
    assert report.rows_written == datasets.FLIGHTS_ROWS
    back = cf.read_cassandra(f"{keyspace}.flights", connection=cassandra_config).compute()
    got = pa.Table.from_pandas(back, preserve_index=False).select(source.schema.names)
    assert _sorted(got, KEY).equals(_sorted(source, KEY))


CQLSH_COLUMNS = (
    "id int, ck int, tx text, bi bigint, ts timestamp, d date, tm time, bo boolean, db double, f float, "
    "de decimal, vi varint, u uuid, tu timeuuid, i inet, b blob, l list<int>, se set<text>, "
    "m map<text, int>, tp tuple<int, text>, ud frozen<addr>, du duration, v vector<float, 2>"
)


def test_files_from_cqlsh_copy_to_load_back(
    cassandra_session: Any, cassandra_config: ConnectionConfig, keyspace: str, tmp_path: Path
) -> None:
    s = cassandra_session
    s.execute(f"CREATE TYPE {keyspace}.addr (street text, zip int)")
    for t in ("src", "dst"):
        s.execute(f"CREATE TABLE {keyspace}.{t} ({CQLSH_COLUMNS}, PRIMARY KEY (id, ck))")
    s.execute(
        f"INSERT INTO {keyspace}.src (id, ck, tx, bi, ts, d, tm, bo, db, f, de, vi, u, tu, i, b, l, se, m, "
        "tp, ud, du, v) VALUES (1, 1, 'it''s \"q\", x', 9223372036854775807, '2020-01-02 03:04:05.678+0000', "
        "'2020-02-29', '12:34:56.123456789', true, 1.5, 2.25, 1.50, 12345678901234567890, "
        "550e8400-e29b-41d4-a716-446655440000, e5a1dfd0-e81e-11f1-a695-6306d05ebcda, '::1', 0xdeadbeef, "
        "[1, 2], {'a', 'b'}, {'k': 1}, (1, 'x'), {street: 'Main', zip: 1}, 1mo2d3ns, [1.5, 2.5])"
    )
    s.execute(f"INSERT INTO {keyspace}.src (id, ck, tx, db, bo) VALUES (1, 2, 'two', -0.5, false)")
    s.execute(f"INSERT INTO {keyspace}.src (id, ck, db) VALUES (1, 3, NaN)")
    out = tmp_path / "cqlsh.csv"
    host, _, port = cassandra_config.contact_points[0].partition(":")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "cqlsh"),
            host,
            port or "9042",
            "-e",
            f"COPY {keyspace}.src TO '{out}' WITH HEADER=true",
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    # cqlsh (like DSBulk) escapes quotes with a backslash, not by doubling them; it writes True/False
    report = cf.load(str(out), f"{keyspace}.dst", escape="\\", connection=cassandra_config)
    assert report.rows_written == 3
    expected = read(s, keyspace, "src").sort_by([("ck", "ascending")])
    got = read(s, keyspace, "dst").sort_by([("ck", "ascending")])
    for name in expected.column_names:
        want, have = as_python(expected[name]), as_python(got[name])
        if name == "db":  # NaN is not equal to itself
            want, have = [str(x) for x in want], [str(x) for x in have]
        assert have == want, name


BAD_CSV = """pk,ck,v,n,d,u,i,l,big
1,1,ok,1,2020-01-01,550e8400-e29b-41d4-a716-446655440000,10.0.0.1,"[1, 2]",5
1,2,too,many,fields,here,x,y,z,w
1,3,bad int,12x,2020-01-01,550e8400-e29b-41d4-a716-446655440000,10.0.0.1,[1],5
1,4,bad date,1,2020-13-45,550e8400-e29b-41d4-a716-446655440000,10.0.0.1,[1],5
1,5,bad uuid,1,2020-01-01,not-a-uuid,10.0.0.1,[1],5
1,6,bad inet,1,2020-01-01,550e8400-e29b-41d4-a716-446655440000,999.1.1.1,[1],5
1,7,bad list,1,2020-01-01,550e8400-e29b-41d4-a716-446655440000,10.0.0.1,"[1, oops",5
1,8,too big,1,2020-01-01,550e8400-e29b-41d4-a716-446655440000,10.0.0.1,[1],99999999999999999999999
,9,no key,1,2020-01-01,550e8400-e29b-41d4-a716-446655440000,10.0.0.1,[1],5
1,10,ok too,2,2021-02-03,550e8400-e29b-41d4-a716-446655440001,::1,[],6
"""


def test_bad_input_corpus_lands_in_the_bad_rows_files(
    cassandra_session: Any, cassandra_config: ConnectionConfig, keyspace: str, tmp_path: Path
) -> None:
    cassandra_session.execute(
        f"CREATE TABLE {keyspace}.t (pk int, ck int, v text, n int, d date, u uuid, i inet, l list<int>, "
        "big bigint, PRIMARY KEY (pk, ck))"
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(BAD_CSV)
    (tmp_path / "in" / "b.csv").write_bytes(b"pk,ck,v\n2,1,\xff\xfe bad utf8\n2,2,fine\n")
    (tmp_path / "in" / "c.csv").write_text("")  # empty file: nothing to load, not an error
    (tmp_path / "in" / "d.csv").write_text('pk,ck,v\n3,1,"unterminated\n')
    bad = tmp_path / "bad"
    with pytest.raises(cf.LoadError, match=r"a\.csv, line 3: 10 fields where the header has 9"):
        cf.load(str(tmp_path / "in" / "a.csv"), f"{keyspace}.t", connection=cassandra_config)
    report = cf.load(
        [str(tmp_path / "in" / n) for n in ("a.csv", "b.csv", "c.csv")],
        f"{keyspace}.t",
        on_error="skip",
        bad_rows_path=str(bad),
        connection=cassandra_config,
    )
    assert report.rows_read == report.rows_written + report.rows_rejected
    assert (report.rows_written, report.rows_rejected) == (3, 9)
    records = [json.loads(line) for p in sorted(bad.glob("*.jsonl")) for line in p.read_text().splitlines()]
    reasons = {r["_row"].split("/")[-1]: (r["_column"], r["_reason"]) for r in records}
    assert set(reasons) == {
        "a.csv, line 3",
        "a.csv, line 4",
        "a.csv, line 5",
        "a.csv, line 6",
        "a.csv, line 7",
        "a.csv, line 8",
        "a.csv, line 9",
        "a.csv, line 10",
        "b.csv, line 2",
    }, records
    assert reasons["a.csv, line 3"][0] is None
    assert "fields" in reasons["a.csv, line 3"][1]
    assert reasons["a.csv, line 4"][0] == "n"
    assert reasons["a.csv, line 5"][0] == "d"
    assert reasons["a.csv, line 6"][0] == "u"
    assert reasons["a.csv, line 7"][0] == "i"
    assert reasons["a.csv, line 8"][0] == "l"
    assert reasons["a.csv, line 9"][0] == "big"
    assert reasons["a.csv, line 10"][0] == "pk"
    assert "UTF-8" in reasons["b.csv, line 2"][1]
    got = sorted(tuple(r) for r in cassandra_session.execute(f"SELECT pk, ck FROM {keyspace}.t"))
    assert got == [(1, 1), (1, 10), (2, 2)]
    unterminated = cf.load(
        str(tmp_path / "in" / "d.csv"),
        f"{keyspace}.t",
        on_error="skip",
        bad_rows_path=str(tmp_path / "bad2"),
        connection=cassandra_config,
    )
    assert (unterminated.rows_read, unterminated.rows_rejected) == (1, 1)
    [record] = [
        json.loads(x) for p in (tmp_path / "bad2").glob("*.jsonl") for x in p.read_text().splitlines()
    ]
    assert record["_row"].endswith("d.csv, line 2")
    assert "quote" in record["_reason"]
    (tmp_path / "e.csv").write_text("nope,zip\n1,2\n")
    with pytest.raises(cf.SchemaError, match="not columns of"):
        cf.load(str(tmp_path / "e.csv"), f"{keyspace}.t", connection=cassandra_config)
    with pytest.raises(cf.LoadError, match="max_errors exceeded"):
        cf.load(
            str(tmp_path / "in" / "a.csv"),
            f"{keyspace}.t",
            on_error="skip",
            bad_rows_path=str(bad),
            max_errors=2,
            connection=cassandra_config,
        )


def test_mapping_headerless_and_a_changed_source_refused(
    cassandra_session: Any, cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]], tmp_path: Path
) -> None:
    ks, _ = numbers
    src = tmp_path / "h.csv"
    src.write_text("7;70;seven;ignored\n8;80;eight;ignored\n")
    ckpt = str(tmp_path / "load.json")
    report = cf.load(
        str(src),
        f"{ks}.copy",
        header=False,
        columns=["a", "b", "c", "junk"],
        delimiter=";",
        mapping={"a": "pk", "b": "ck", "c": "v", "junk": None},
        checkpoint=ckpt,
        connection=cassandra_config,
    )
    assert report.rows_written == 2
    assert _rows(cassandra_session, f"{ks}.copy") == [(7, 70, "seven"), (8, 80, "eight")]
    src.write_text("7;70;seven;ignored\n8;80;eight;ignored\n9;90;nine;x\n")
    with pytest.raises(cf.CheckpointError, match=r"h\.csv changed"):
        cf.load(
            str(src),
            f"{ks}.copy",
            header=False,
            columns=["a", "b", "c", "junk"],
            delimiter=";",
            mapping={"a": "pk", "b": "ck", "c": "v", "junk": None},
            resume=ckpt,
            connection=cassandra_config,
        )


KILL_SCRIPT = """
import sys
import cassandra_frames as cf
from cassandra_frames.config import ConnectionConfig
src, table, ckpt, resume = sys.argv[1:5]
cf.load(src, table, max_rows_per_second=1000, connection=ConnectionConfig.from_env(),
        **({"resume": ckpt} if resume == "1" else {"checkpoint": ckpt}))
"""


def test_sigkill_then_resume_loads_every_row(
    cassandra_session: Any, cassandra_config: ConnectionConfig, numbers: tuple[str, list[Any]], tmp_path: Path
) -> None:
    ks, rows = numbers
    cf.export(f"{ks}.nums", str(tmp_path / "src"), format="csv", npartitions=10, connection=cassandra_config)
    ckpt = tmp_path / "load.json"
    env = {**os.environ, "CASSANDRA_CONTACT_POINTS": ",".join(cassandra_config.contact_points)}
    for resume, done in (("0", 2), ("1", 5)):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, str(tmp_path / "src"), f"{ks}.copy", str(ckpt), resume],
            env=env,
            cwd=REPO,
        )
        deadline = time.monotonic() + 120
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    if len(json.loads(ckpt.read_text())["completed"]) >= done:
                        break
                except (FileNotFoundError, ValueError):
                    pass
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    assert 0 < len(json.loads(ckpt.read_text())["completed"]) < 10, "the kills did not land mid-load"
    report = cf.load(str(tmp_path / "src"), f"{ks}.copy", resume=str(ckpt), connection=cassandra_config)
    assert report.splits_resumed > 0
    assert _rows(cassandra_session, f"{ks}.copy") == rows


def test_load_on_a_two_worker_distributed_cluster(
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    numbers: tuple[str, list[Any]],
    dask_client: Any,
    tmp_path: Path,
) -> None:
    ks, rows = numbers
    cf.export(
        f"{ks}.nums", str(tmp_path / "src"), format="parquet", npartitions=4, connection=cassandra_config
    )
    report = cf.load(str(tmp_path / "src"), f"{ks}.copy", connection=cassandra_config)
    assert report.rows_written == len(rows)
    assert _rows(cassandra_session, f"{ks}.copy") == rows


def test_iceberg_table_loads_back_with_a_snapshot_a_filter_and_columns(
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    loaded: tuple[Any, str],  # noqa: F811 — the fixture imported above
    numbers: tuple[str, list[Any]],
    tmp_path: Path,
) -> None:
    session, ks = loaded
    wh = str(tmp_path / "wh")
    expected = read(session, ks, "MyTable").sort_by([("ck", "ascending")])
    session.execute(DDL[2].replace('"MyTable"', '"IceCopy"').format(ks=ks), timeout=60)
    cf.export(f"{ks}.MyTable", "every.types", format="iceberg", warehouse=wh, connection=cassandra_config)
    report = cf.load(
        "every.types", f"{ks}.IceCopy", format="iceberg", warehouse=wh, connection=cassandra_config
    )
    assert report.rows_written == expected.num_rows
    got = read(session, ks, "IceCopy").sort_by([("ck", "ascending")])
    for name in expected.column_names:
        assert as_python(got[name]) == as_python(expected[name]), name

    nks, rows = numbers
    first = cf.export(f"{nks}.nums", "n.nums", format="iceberg", warehouse=wh, connection=cassandra_config)
    cassandra_session.execute(f"INSERT INTO {nks}.nums (pk, ck, v) VALUES (1, 99999, 'later')")
    cf.export(
        f"{nks}.nums", "n.nums", format="iceberg", warehouse=wh, mode="append", connection=cassandra_config
    )
    report = cf.load(
        "n.nums",
        f"{nks}.copy",
        format="iceberg",
        warehouse=wh,
        snapshot_id=first.snapshot_id,  # the first export only: 'later' is not in it
        row_filter="pk < 10",
        columns=["pk", "ck"],
        connection=cassandra_config,
    )
    want = sorted((pk, ck, None) for pk, ck, _ in rows if pk < 10)
    assert report.rows_written == len(want)
    assert _rows(cassandra_session, f"{nks}.copy") == want


def test_per_row_ttl_and_writetime_fields_and_a_counter_table(
    cassandra_session: Any, cassandra_config: ConnectionConfig, keyspace: str, tmp_path: Path
) -> None:
    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    s.execute(f"CREATE TABLE {keyspace}.c (pk int PRIMARY KEY, hits counter)")
    (tmp_path / "t.csv").write_text(
        "pk,ck,v,expires,written\n1,1,a,1000,1700000000000000\n1,2,b,2000,1700000000000001\n"
    )
    cf.load(
        str(tmp_path / "t.csv"),
        f"{keyspace}.t",
        ttl="expires",
        writetime={"v": "written"},
        connection=cassandra_config,
    )
    got = sorted(tuple(r) for r in s.execute(f"SELECT ck, v, TTL(v), WRITETIME(v) FROM {keyspace}.t"))
    assert [(ck, v, wt) for ck, v, _, wt in got] == [(1, "a", 1700000000000000), (2, "b", 1700000000000001)]
    assert 900 < got[0][2] <= 1000
    assert 1900 < got[1][2] <= 2000
    (tmp_path / "c.csv").write_text("pk,hits\n1,5\n2,7\n")
    for _ in range(2):  # a counter load adds
        cf.load(str(tmp_path / "c.csv"), f"{keyspace}.c", connection=cassandra_config)
    assert sorted(tuple(r) for r in s.execute(f"SELECT pk, hits FROM {keyspace}.c")) == [(1, 10), (2, 14)]
