from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cassandra_frames import bulk
from cassandra_frames.cli import build_parser, main
from cassandra_frames.cli_bulk import connection, resume_command
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.errors import (
    CassandraFramesError,
    CheckpointError,
    ConnectionError,
    ExportError,
    NotInstalledError,
    ReadError,
    SchemaError,
)
from cassandra_frames.reports import ExportReport

BASE = ["export", "-k", "ks", "-t", "t", "-url", "out/"]


def report(url: str = "out", failed: list[str] | None = None, checkpoint: str | None = None) -> ExportReport:
    return ExportReport(
        operation_id="op",
        table="ks.t",
        url=url,
        format="csv",
        files=[f"{url}/part-00000.csv"],
        rows=3,
        failed_ranges=failed or [],
        checkpoint=checkpoint,
    )


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """Every call of bulk.export / bulk.count made by the CLI (export returns a report, count 42)."""
    seen: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def fake_export(*args: Any, **kwargs: Any) -> ExportReport:
        seen.append(("export", args, kwargs))
        return report(args[1].rstrip("/"))

    def fake_count(*args: Any, **kwargs: Any) -> int:
        seen.append(("count", args, kwargs))
        return 42

    monkeypatch.setattr(bulk, "export", fake_export)
    monkeypatch.setattr(bulk, "count", fake_count)
    for name in ("CASSANDRA_CONTACT_POINTS", "CASSANDRA_USERNAME", "CASSANDRA_SSL_CA", "CASSANDRA_LOCAL_DC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CASSANDRA_PASSWORD", "placeholder")  # restored after the test, whatever main sets
    monkeypatch.delenv("CASSANDRA_PASSWORD")
    return seen


def fail_with(monkeypatch: pytest.MonkeyPatch, exc: BaseException, name: str = "export") -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(bulk, name, boom)


# ------------------------------------------------------------------------------------------ parsing


def test_every_export_flag_maps_to_its_keyword(calls: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        *["export", "-k", "ks", "-t", "t", "-url", "s3://b/p/", "--format", "parquet"],
        *["--columns", "a,b,c", "--filter", "year == 2013", "--filter", "carrier in ('UA', AA)"],
        *["--filter", "name != 'x y'", "--filter", "dep_delay >= -1.5", "--writetime", "a,b", "--ttl", "*"],
        *["-cl", "local_quorum", "--fetch-size", "1000", "-maxConcurrentQueries", "8"],
        *["--split-size-mb", "32", "--splits", "12", "--maxRowsPerSecond", "500", "-maxRecords", "100"],
        *["--compression", "zstd", "-header", "false", "-delim", "\\t", "-quote", "'", "-escape", "\\\\"],
        *["-nullValue", "NULL", "--nested", "json", "--json-array", "--row-group-size", "5000"],
        *["--timestamps", "epoch_ms"],
        *["--storage-option", "endpoint_url=http://minio:9000", "--storage-option", "key=k"],
        *["--checkpoint", "ck.json", "--overwrite", "--mode", "append"],
    ]
    assert main(argv) == 0
    [(name, args, kwargs)] = calls
    assert (name, args) == ("export", ("t", "s3://b/p/"))
    assert isinstance(kwargs.pop("connection"), ConnectionConfig)
    assert kwargs == {
        "keyspace": "ks",
        "format": "parquet",
        "columns": ["a", "b", "c"],
        "filters": [
            ("year", "==", 2013),
            ("carrier", "in", ["UA", "AA"]),
            ("name", "!=", "x y"),
            ("dep_delay", ">=", -1.5),
        ],
        "writetime": ["a", "b"],
        "ttl": True,
        "consistency": "LOCAL_QUORUM",
        "fetch_size": 1000,
        "concurrency": 8,
        "split_size_mb": 32.0,
        "npartitions": 12,
        "max_rows_per_second": 500.0,
        "max_records": 100,
        "compression": "zstd",
        "header": False,
        "delimiter": "\t",
        "quote": "'",
        "escape": "\\",
        "null_value": "NULL",
        "nested": "json",
        "timestamps": "epoch_ms",
        "json_array": True,
        "row_group_size": 5000,
        "storage_options": {"endpoint_url": "http://minio:9000", "key": "k"},
        "checkpoint": "ck.json",
        "overwrite": True,
        "mode": "append",
    }
    assert capsys.readouterr().out.startswith("ks.t → s3://b/p: 3 rows in 1 csv files")


def test_unset_flags_leave_the_library_defaults(calls: list[Any]) -> None:
    assert main(["export", "-t", "ks.t", "--url", "out"]) == 0
    [(_, args, kwargs)] = calls
    assert args == ("ks.t", "out")
    assert set(kwargs) == {"connection"}


def test_iceberg_resume_and_dsbulk_spellings(calls: list[Any]) -> None:
    argv = ["export", "-k", "ks", "-t", "t", "-url", "db.flights", "-c", "iceberg", "--resume", "ck.json"]
    argv += ["--catalog", "type=rest", "--catalog", "uri=http://cat:8181", "--warehouse", "s3://wh"]
    argv += ["--maxPerSecond", "10", "--maxRecords", "-1", "--nullValue", "\\N", "--no-checkpoint"]
    assert main(argv) == 0
    kwargs = calls[0][2]
    assert kwargs["format"] == "iceberg"
    assert kwargs["resume"] == "ck.json"
    assert kwargs["catalog"] == {"type": "rest", "uri": "http://cat:8181"}
    assert kwargs["warehouse"] == "s3://wh"
    assert kwargs["max_rows_per_second"] == 10.0
    assert kwargs["max_records"] is None  # DSBulk's -1: no limit
    assert kwargs["null_value"] == "\\N"
    assert kwargs["checkpoint"] is False


def test_resume_without_a_value_is_the_default_checkpoint(calls: list[Any]) -> None:
    assert main([*BASE, "--resume", "--header", "true"]) == 0
    assert calls[0][2]["resume"] is True
    assert calls[0][2]["header"] is True


def test_count_flags(calls: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["count", "-k", "ks", "-t", "t", "--by", "partition", "--top", "5", "--splits", "128"]
    argv += ["-maxConcurrentQueries", "4", "-cl", "QUORUM"]
    assert main(argv) == 0
    [(name, args, kwargs)] = calls
    assert (name, args) == ("count", ("t",))
    assert isinstance(kwargs.pop("connection"), ConnectionConfig)
    assert kwargs == {
        "keyspace": "ks",
        "by": "partition",
        "top": 5,
        "splits": 128,
        "concurrency": 4,
        "consistency": "QUORUM",
    }
    assert capsys.readouterr().out == "42\n"


@pytest.mark.parametrize(
    ("flag", "by"),
    [([], None), (["-stats", "hosts"], "host"), (["--by", "ranges"], "range"), (["--by", "global"], None)],
)
def test_count_by(calls: list[Any], flag: list[str], by: str | None) -> None:
    assert main(["count", "-t", "ks.t", *flag]) == 0
    assert calls[0][2]["by"] == by


def test_count_prints_a_frame_without_its_index(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.DataFrame({"host": ["10.0.0.1", "10.0.0.2"], "ranges": [3, 4], "rows": [10, 12]})
    monkeypatch.setattr(bulk, "count", lambda *a, **k: frame)
    assert main(["count", "-t", "ks.t", "--by", "host"]) == 0
    assert capsys.readouterr().out == frame.to_string(index=False) + "\n"


# ------------------------------------------------------------------------------------------ connection


def conn_of(calls: list[Any]) -> ConnectionConfig:
    config = calls[-1][2]["connection"]
    assert isinstance(config, ConnectionConfig)
    return config


def test_without_hosts_the_connection_comes_from_the_environment(
    calls: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASSANDRA_CONTACT_POINTS", "10.1.1.1,10.1.1.2:9043")
    monkeypatch.setenv("CASSANDRA_LOCAL_DC", "dc9")
    assert main(["count", "-t", "ks.t"]) == 0
    assert conn_of(calls) == ConnectionConfig.from_env()
    assert main(["count", "-t", "ks.t", "-port", "9999"]) == 0
    assert conn_of(calls).contact_points == ("10.1.1.1", "10.1.1.2:9043")
    assert conn_of(calls).port == 9999
    assert conn_of(calls).local_dc == "dc9"


def test_hosts_port_tls_and_dc(calls: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASSANDRA_LOCAL_DC", "ignored-with-h")
    argv = ["count", "-t", "ks.t", "-h", "10.0.0.1, 10.0.0.2", "-port", "9142"]
    assert main([*argv, "-dc", "dc2", "--ssl-ca", "ca.pem"]) == 0
    config = conn_of(calls)
    assert config.contact_points == ("10.0.0.1", "10.0.0.2")
    assert config.port == 9142
    assert config.local_dc == "dc2"
    assert (config.tls, config.tls_ca_file) == (True, "ca.pem")
    assert main(argv) == 0
    assert conn_of(calls).local_dc is None


def test_password_flag_goes_to_the_password_variable(calls: list[Any]) -> None:
    assert main([*BASE, "-u", "alice", "-p", "s3cret"]) == 0
    config = conn_of(calls)
    assert (config.username, config.password_env) == ("alice", "CASSANDRA_PASSWORD")
    assert config.password() == "s3cret"
    assert "s3cret" not in repr(config)


def test_password_from_the_environment(calls: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASSANDRA_PASSWORD", "from-env")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("must not prompt"))
    assert main(["count", "-t", "ks.t", "-u", "bob"]) == 0
    assert conn_of(calls).password() == "from-env"


def test_password_is_asked_on_a_terminal(calls: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "typed")
    assert main(["count", "-t", "ks.t", "-u", "bob"]) == 0
    assert conn_of(calls).password() == "typed"


def test_password_missing_without_a_terminal(
    calls: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    assert main(["count", "-t", "ks.t", "-u", "bob"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("cassandra-frames: error: -u bob needs a password")
    assert err.count("\n") == 1
    assert calls == []


def test_password_without_username(calls: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", "-t", "ks.t", "-p", "x"]) == 3
    assert "-p/--password needs -u/--username" in capsys.readouterr().err


def test_connection_is_usable_on_its_own() -> None:
    args = build_parser().parse_args(["count", "-t", "ks.t", "-h", "h1:9043"])
    assert connection(args).endpoints() == [("h1", 9043)]


# ------------------------------------------------------------------------------------------ exit codes


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith("cassandra-frames: error: ")
    return err


@pytest.mark.parametrize(
    "exc",
    [
        SchemaError("table ks.t does not exist; did you mean 'ks.t2'?"),
        ConnectionError("cannot reach 10.0.0.1:9042: refused"),
        CheckpointError("the checkpoint belongs to another table"),
        ExportError("the destination 'out' already holds an export: pass overwrite=True"),
        NotInstalledError("pyiceberg", "iceberg"),
        CassandraFramesError("max_records must be at least 1, not 0"),
        PermissionError(13, "Permission denied", "/root/out"),
        FileNotFoundError(2, "No such file"),
        RuntimeError("something\nunexpected"),
    ],
)
def test_fatal_errors_exit_3_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: Exception
) -> None:
    fail_with(monkeypatch, exc)
    assert main(BASE) == 3
    err = one_line_error(capsys)
    assert str(exc).split("\n")[0] in err


def test_count_read_error_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fail_with(monkeypatch, ReadError("range (-10, 10] could not be counted"), "count")
    assert main(["count", "-t", "ks.t"]) == 3
    assert "range (-10, 10]" in one_line_error(capsys)


def test_failed_units_exit_1_with_the_resume_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    done = report(failed=["unit 3: range (1, 9]: ReadTimeout"], checkpoint="out/.checkpoint.json")
    fail_with(monkeypatch, ExportError("1 of 4 units of the export of ks.t failed after retries", done))
    assert main([*BASE, "-u", "al", "-p", "pw", "--overwrite", "--columns", "a,b"]) == 1
    captured = capsys.readouterr()
    assert captured.out.strip() == done.summary()
    assert "FAILED" in captured.out
    lines = captured.err.splitlines()
    assert lines[0] == "cassandra-frames: error: 1 of 4 units of the export of ks.t failed after retries"
    assert lines[1] == (
        "resume with: cassandra-frames export -k ks -t t -url out/ -u al --columns a,b "
        "--resume out/.checkpoint.json"
    )
    assert "Traceback" not in captured.err


def test_interrupt_exits_4_and_says_how_to_resume(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fail_with(monkeypatch, KeyboardInterrupt())
    out = tmp_path / "out"
    out.mkdir()
    (out / ".checkpoint.json").write_text("{}")
    assert main(["export", "-t", "ks.t", "-url", str(out)]) == 4
    err = capsys.readouterr().err
    assert f"recorded in {out}/.checkpoint.json" in err
    assert f"resume with: cassandra-frames export -t ks.t -url {out} --resume {out}/.checkpoint.json" in err
    assert main(["export", "-t", "ks.t", "-url", str(tmp_path / "none")]) == 4
    assert "no checkpoint to resume from" in capsys.readouterr().err
    fail_with(monkeypatch, KeyboardInterrupt(), "count")
    assert main(["count", "-t", "ks.t"]) == 4


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "-k", "ks", "-url", "out"],  # no -t
        [*BASE, "--format", "xml"],
        [*BASE, "-cl", "MOST"],
        [*BASE, "--filter", "year"],
        [*BASE, "--header", "maybe"],
        [*BASE, "--storage-option", "novalue"],
        [*BASE, "--bogus"],
        ["count", "-t", "ks.t", "--by", "table"],
        ["nonsense"],
        [],
    ],
)
def test_bad_usage_exits_3_with_one_line(
    calls: list[Any], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 3
    assert "--help" in one_line_error(capsys)
    assert calls == []


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--help"]) == 0
    out = capsys.readouterr().out
    assert "-h HOSTS, --hosts HOSTS" in out
    assert "-maxConcurrentQueries" in out
    assert main(["count", "--help"]) == 0


def test_progress_lines_on_a_terminal(
    calls: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(BASE) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["exporting ks.t to out/…", captured.out.strip()]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert main(BASE) == 0
    assert capsys.readouterr().err == ""


def test_resume_command_drops_the_password_and_one_off_flags() -> None:
    argv = [*BASE, "-pX", "--password=Y", "-p", "Z", "--overwrite", "--resume", "--checkpoint", "c.json"]
    command = resume_command([*argv, "--no-checkpoint", "--resume=r.json", "-port", "9042"], "c.json")
    assert command == "cassandra-frames export -k ks -t t -url out/ -port 9042 --resume c.json"


# ------------------------------------------------------------------------------------------ local


def test_status_without_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "status", "--dir", str(tmp_path / "none")]) == 3
    assert "cassandra-frames local start" in capsys.readouterr().out


def test_errors_are_one_message_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "start", "--nodes", "0"]) == 3
    err = capsys.readouterr().err
    assert err.strip() == "cassandra-frames: error: --nodes must be at least 1, not 0"
    assert "Traceback" not in err


def test_stop_without_cluster_is_harmless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "stop", "--dir", str(tmp_path)]) == 0
    assert "no node of this launcher is running" in capsys.readouterr().out
