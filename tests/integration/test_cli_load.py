"""``cassandra-frames load`` against the real node, run in-process through ``main``: exit codes, what is
printed, the bad-rows files, the DSBulk mapping syntax, and an export → load round trip through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_cli_export import connection_args

from cassandra_frames.cli import main
from cassandra_frames.config import ConnectionConfig

CLEAN = "id,name,age\n1,alice,30\n2,bob,25\n3,carol,41\n"
ONE_BAD = "id,name,age\n1,alice,30\n2,bob,not-a-number\n3,carol,41\n"
TWO_BAD = "id,name,age\n1,alice,30\n2,bob,x\n3,carol,y\n4,dave,52\n"


@pytest.fixture
def people(cassandra_session: Any, keyspace: str) -> str:
    """An empty ``<keyspace>.people (id int PRIMARY KEY, name text, age int)``."""
    cassandra_session.execute(f"CREATE TABLE {keyspace}.people (id int PRIMARY KEY, name text, age int)")
    return keyspace


def rows(session: Any, table: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in session.execute(f"SELECT id, name, age FROM {table}", timeout=60))


def load(ks: str, path: Path, config: ConnectionConfig, *flags: str) -> int:
    return main(["load", "-k", ks, "-t", "people", "-url", str(path), *flags, *connection_args(config)])


def test_a_clean_file_loads_and_exits_0(
    people: str,
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(CLEAN)
    code = load(people, source, cassandra_config)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith(f"1 files → {people}.people: 3 rows read, 3 written, 0 rejected")
    assert captured.out.count("\n") == 1
    assert captured.err == ""
    assert rows(cassandra_session, f"{people}.people") == [(1, "alice", 30), (2, "bob", 25), (3, "carol", 41)]


def test_a_bad_row_goes_to_the_bad_rows_directory_and_exits_1(
    people: str,
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(ONE_BAD)
    bad = tmp_path / "bad"
    code = load(people, source, cassandra_config, "--maxErrors", "10", "--badRows", str(bad))
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "3 rows read, 2 written, 1 rejected" in captured.out
    assert captured.out.count("\n") == 1
    assert captured.err == f"cassandra-frames: 1 of 3 rows rejected: see {bad}\n"
    assert rows(cassandra_session, f"{people}.people") == [(1, "alice", 30), (3, "carol", 41)]
    records = [json.loads(line) for f in sorted(bad.rglob("*.jsonl")) for line in f.read_text().splitlines()]
    assert len(records) == 1, records
    assert f"{source}, line 3" in json.dumps(records[0])
    assert "not-a-number" in json.dumps(records[0])


def test_max_errors_without_bad_rows_uses_a_dated_directory(
    people: str,
    cassandra_config: ConnectionConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(ONE_BAD)
    monkeypatch.chdir(tmp_path)
    assert load(people, source, cassandra_config, "--maxErrors", "5%") == 2  # 1 of 3 > 5%
    captured = capsys.readouterr()
    first, second = captured.err.splitlines()
    assert first.startswith(f"cassandra-frames: rejected rows go to {tmp_path}/cassandra-frames-bad-rows/")
    assert second.startswith("cassandra-frames: error: max_errors exceeded: 1 of 3 rows rejected")
    assert "1 rejected" in captured.out
    assert len(list((tmp_path / "cassandra-frames-bad-rows").rglob("*.jsonl"))) == 1


def test_more_bad_rows_than_max_errors_exit_2(
    people: str, cassandra_config: ConnectionConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(TWO_BAD)
    code = load(people, source, cassandra_config, "--maxErrors", "1", "--badRows", str(tmp_path / "bad"))
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "4 rows read, 2 written, 2 rejected" in captured.out
    assert captured.err.startswith("cassandra-frames: error: max_errors exceeded: 2 of 4 rows rejected")
    assert captured.err.count("\n") == 1


def test_max_errors_0_stops_at_the_bad_row_with_exit_3(
    people: str, cassandra_config: ConnectionConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(ONE_BAD)
    assert load(people, source, cassandra_config, "--maxErrors", "0") == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"cassandra-frames: error: {source}, line 3")
    assert "not-a-number" in captured.err
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_unknown_table_exits_3(
    people: str, cassandra_config: ConnectionConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(CLEAN)
    argv = ["load", "-t", f"{people}.peple", "-url", str(source), *connection_args(cassandra_config)]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert err.startswith("cassandra-frames: error: ")
    assert "peple" in err
    assert err.count("\n") == 1


def test_headerless_file_with_an_indexed_mapping(
    people: str,
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "people.txt"
    source.write_text("alice|1|30|x\nbob|2|NULL|y\n")
    flags = ["-c", "csv", "--header", "false", "-delim", "|", "-nullValue", "NULL"]
    code = load(people, source, cassandra_config, *flags, "-m", "1=id, 0=name, 2=age", "--columns", "a,b,c,d")
    assert code == 3  # an indexed mapping names the fields itself
    assert "leave --columns out" in capsys.readouterr().err
    source.write_text("alice|1|30\nbob|2|NULL\n")
    code = load(people, source, cassandra_config, *flags, "-m", "1=id, 0=name, 2=age")
    assert code == 0, capsys.readouterr().err
    assert rows(cassandra_session, f"{people}.people") == [(1, "alice", 30), (2, "bob", None)]


def test_export_then_load_through_the_cli(
    cassandra_session: Any,
    cassandra_config: ConnectionConfig,
    keyspace: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    s = cassandra_session
    for t in ("src", "dst"):
        s.execute(f"CREATE TABLE {keyspace}.{t} (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    insert = s.prepare(f"INSERT INTO {keyspace}.src (pk, ck, v) VALUES (?, ?, ?)")
    for i in range(200):
        s.execute(insert, (i % 20, i, None if i % 7 == 0 else f'value {i}, "quoted"\nline'))
    conn = connection_args(cassandra_config)
    out = tmp_path / "out"
    code = main(["export", "-k", keyspace, "-t", "src", "-url", str(out), "--splits", "3", *conn])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    code = main(["load", "-k", keyspace, "-t", "dst", "-url", str(out), *conn])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith(f"3 files → {keyspace}.dst: 200 rows read, 200 written, 0 rejected")

    def table(name: str) -> list[tuple[Any, ...]]:
        return sorted(tuple(r) for r in s.execute(f"SELECT pk, ck, v FROM {keyspace}.{name}", timeout=60))

    assert table("dst") == table("src")
    assert len(table("dst")) == 200


def test_checkpoint_then_resume(
    people: str, cassandra_config: ConnectionConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(ONE_BAD)
    checkpoint = str(tmp_path / "ck.json")
    flags = ["--maxErrors", "10", "--badRows", str(tmp_path / "bad"), "--checkpoint", checkpoint]
    assert load(people, source, cassandra_config, *flags) == 1
    assert "resumed" not in capsys.readouterr().out
    assert load(people, source, cassandra_config, *flags, "--resume") == 1
    out = capsys.readouterr().out
    assert "3 rows read, 2 written, 1 rejected" in out
    assert "1 of 1 splits resumed from the checkpoint" in out
    source.write_text(CLEAN + "4,dave,52\n")
    assert load(people, source, cassandra_config, "--resume", checkpoint) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"cassandra-frames: error: source file {source} changed since the checkpoint")
    assert err.count("\n") == 1
