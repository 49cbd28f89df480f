"""``cassandra-frames count`` and ``cassandra-frames export`` against the real node, run in-process through
``main``: exit codes, what is printed, and the files read back with pyarrow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pytest

from cassandra_frames.cli import main
from cassandra_frames.config import ConnectionConfig

ROWS = [(i % 30, i, f'value {i}, "quoted"') for i in range(300)]


def connection_args(config: ConnectionConfig) -> list[str]:
    """The DSBulk-style connection flags reaching the cluster under test."""
    out = ["-h", ",".join(f"{h}:{p}" for h, p in config.endpoints())]
    if config.username:
        out += ["-u", config.username]  # the password comes from $CASSANDRA_PASSWORD
    if config.tls_ca_file:
        out += ["--tls-ca-file", config.tls_ca_file]
    return out


@pytest.fixture
def small(cassandra_session: Any, keyspace: str) -> str:
    """``<keyspace>.small``: 300 rows in 30 partitions."""
    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.small (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    insert = s.prepare(f"INSERT INTO {keyspace}.small (pk, ck, v) VALUES (?, ?, ?)")
    for row in ROWS:
        s.execute(insert, row)
    return keyspace


def csv_rows(directory: Path) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for path in sorted(directory.glob("part-*.csv")):
        t = pacsv.read_csv(path)
        out += list(zip(t["pk"].to_pylist(), t["ck"].to_pylist(), t["v"].to_pylist(), strict=True))
    return out


def test_count_prints_the_rows(
    small: str, cassandra_config: ConnectionConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = connection_args(cassandra_config)
    assert main(["count", "-k", small, "-t", "small", *conn]) == 0
    assert capsys.readouterr().out == f"{len(ROWS)}\n"
    assert main(["count", "-k", small, "-t", "small", "--by", "host", "--splits", "8", *conn]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["host", "ranges", "rows"]
    assert sum(int(line.split()[-1]) for line in lines[1:]) == len(ROWS)
    assert main(["count", "-k", small, "-t", "small", "-stats", "partitions", "--top", "3", *conn]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert [line.split()[-1] for line in lines[1:]] == ["10", "10", "10"]


def test_csv_export(
    small: str, cassandra_config: ConnectionConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = connection_args(cassandra_config)
    out = tmp_path / "out"
    assert main(["count", "-k", small, "-t", "small", *conn]) == 0
    counted = int(capsys.readouterr().out)
    code = main(["export", "-k", small, "-t", "small", "-url", str(out), "--splits", "3", *conn])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith(f"{small}.small → {out}: {counted:,} rows in 3 csv files")
    assert captured.out.count("\n") == 1
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".checkpoint.json",
        "_manifest.json",
        "part-00000.csv",
        "part-00001.csv",
        "part-00002.csv",
    ]
    assert sorted(csv_rows(out)) == sorted(ROWS)
    assert len(csv_rows(out)) == counted


def test_export_of_some_columns_and_rows(
    small: str, cassandra_config: ConnectionConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "some"
    argv = ["export", "-t", f"{small}.small", "-url", str(out), "--columns", "pk,ck", "-delim", ";"]
    argv += ["--filter", "pk in (1, 2)", "--filter", "ck >= 100", *connection_args(cassandra_config)]
    assert main(argv) == 0, capsys.readouterr().err
    lines = []
    for path in sorted(out.glob("part-*.csv")):
        lines += path.read_text().splitlines()[1:]
    want = sorted(f"{pk};{ck}" for pk, ck, _ in ROWS if pk in (1, 2) and ck >= 100)
    assert sorted(lines) == want


def test_a_non_empty_destination_needs_overwrite(
    small: str, cassandra_config: ConnectionConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["export", "-k", small, "-t", "small", "-url", str(tmp_path / "out")]
    argv += connection_args(cassandra_config)
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("cassandra-frames: error: the destination")
    assert "already holds an export" in captured.err
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert main([*argv, "--overwrite"]) == 0
    assert sorted(csv_rows(tmp_path / "out")) == sorted(ROWS)


def test_unknown_table_and_unreachable_cluster_exit_3(
    small: str, cassandra_config: ConnectionConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["count", "-k", small, "-t", "smal", *connection_args(cassandra_config)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("cassandra-frames: error: ")
    assert "'small'" in err
    assert err.count("\n") == 1
    assert main(["count", "-k", small, "-t", "small", "-h", "127.0.0.1", "-port", "1"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("cassandra-frames: error: ")
    assert err.count("\n") == 1
