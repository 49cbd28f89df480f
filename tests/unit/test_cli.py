from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cassandra_frames import bulk
from cassandra_frames.cli import build_parser, main
from cassandra_frames.cli_bulk import connection, load_keywords, resume_command
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.errors import (
    CassandraFramesError,
    CheckpointError,
    ConnectionError,
    ExportError,
    LoadError,
    NotInstalledError,
    ReadError,
    SchemaError,
)
from cassandra_frames.reports import ExportReport, LoadReport

BASE = ["export", "-k", "ks", "-t", "t", "-url", "out/"]
LOAD = ["load", "-k", "ks", "-t", "t", "-url", "in.csv"]


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


def load_report(
    rejected: int = 0, failed: list[str] | None = None, checkpoint: str | None = None
) -> LoadReport:
    return LoadReport(
        operation_id="op",
        table="ks.t",
        sources=["in.csv"],
        rows_read=10,
        rows_written=10 - rejected,
        rows_rejected=rejected,
        bad_rows=["bad/parse-00000.jsonl"] if rejected else [],
        failed_splits=failed or [],
        splits=1,
        checkpoint=checkpoint,
    )


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """Every call of bulk.export / load / count by the CLI (export and load return a report, count 42)."""
    seen: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def fake_export(*args: Any, **kwargs: Any) -> ExportReport:
        seen.append(("export", args, kwargs))
        return report(args[1].rstrip("/"))

    def fake_count(*args: Any, **kwargs: Any) -> int:
        seen.append(("count", args, kwargs))
        return 42

    def fake_load(*args: Any, **kwargs: Any) -> LoadReport:
        seen.append(("load", args, kwargs))
        return load_report()

    monkeypatch.setattr(bulk, "export", fake_export)
    monkeypatch.setattr(bulk, "load", fake_load)
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


# ------------------------------------------------------------------------------------------ load parsing


def load_call(calls: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    [(name, args, kwargs)] = calls
    assert name == "load"
    assert isinstance(kwargs.pop("connection"), ConnectionConfig)
    return args, kwargs


def test_every_load_flag_maps_to_its_keyword(calls: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        *["load", "-k", "ks", "-t", "t", "-url", "s3://b/in/*.csv.gz", "-url", "extra.csv", "-c", "csv"],
        *["-m", 'a=x, b=y, "My, Field"="Col""Q"', "--header", "false", "--columns", "a,b,My, Field"],
        *["-delim", "\\t", "-quote", "'", "-escape", "\\\\", "-nullValue", "NULL", "--nested", "json"],
        *["-skipRecords", "2", "--maxRecords", "-1", "--maxErrors", "10", "--badRows", "s3://b/bad/"],
        *["--maxRowsPerSecond", "500", "--checkpoint", "ck.json", "--resume", "old.json", "-cl", "quorum"],
        *["-maxConcurrentQueries", "8", "--storage-option", "endpoint_url=http://minio:9000"],
        *["--ttl", "3600", "--writetime", "wt", "--batch", "none", "--maxBatchRows", "20"],
        *["--nulls", "tombstone"],
    ]
    assert main(argv) == 0
    args, kwargs = load_call(calls)
    assert args == (["s3://b/in/*.csv.gz", "extra.csv"], "t")
    assert kwargs == {
        "keyspace": "ks",
        "format": "csv",
        "mapping": {"a": "x", "b": "y", "My, Field": 'Col"Q'},
        "header": False,
        "columns": ["a", "b", "My", "Field"],
        "delimiter": "\t",
        "quote": "'",
        "escape": "\\",
        "null_value": "NULL",
        "nested": "json",
        "skip_records": 2,
        "on_error": "skip",
        "max_errors": 10,
        "bad_rows_path": "s3://b/bad/",
        "max_rows_per_second": 500.0,
        "checkpoint": "ck.json",
        "resume": "old.json",
        "consistency": "QUORUM",
        "concurrency": 8,
        "storage_options": {"endpoint_url": "http://minio:9000"},
        "ttl": 3600,
        "writetime": "wt",
        "batch": "none",
        "max_batch_rows": 20,
        "nulls": "tombstone",
    }
    captured = capsys.readouterr()
    assert captured.out == load_report().summary() + "\n"
    assert captured.err == ""


def test_unset_load_flags_leave_the_library_defaults(calls: list[Any]) -> None:
    assert main(["load", "-t", "ks.t", "--url", "in/"]) == 0
    args, kwargs = load_call(calls)
    assert args == ("in/", "ks.t")
    assert kwargs == {}


@pytest.mark.parametrize(
    ("flags", "want"),
    [
        (["-m", "f1=c1,f2 = c2"], {"mapping": {"f1": "c1", "f2": "c2"}}),
        (["-m", "0=c1, 2=c3"], {"mapping": {"0": "c1", "2": "c3"}, "columns": ["0", "1", "2"]}),
        (
            ["-m", "00=c1,1=c2", "--header", "false"],
            {"mapping": {"0": "c1", "1": "c2"}, "columns": ["0", "1"], "header": False},
        ),
        (["-m", "c1, c2"], {"mapping": {"c1": "c1", "c2": "c2"}}),
        (
            ["-m", "c1, c2", "--header", "false"],
            {"mapping": {"c1": "c1", "c2": "c2"}, "columns": ["c1", "c2"], "header": False},
        ),
        (
            ["-m", "c1", "--header", "false", "--columns", "c0,c1"],
            {"mapping": {"c1": "c1"}, "columns": ["c0", "c1"], "header": False},
        ),
        (["-m", '"a=b"=c, d="E,F"'], {"mapping": {"a=b": "c", "d": "E,F"}}),
        (["-m", "x=a, 1=b"], {"mapping": {"x": "a", "1": "b"}}),
    ],
)
def test_mapping_syntax(calls: list[Any], flags: list[str], want: dict[str, Any]) -> None:
    assert main([*LOAD, *flags]) == 0
    assert load_call(calls)[1] == {"keyspace": "ks", **want}


@pytest.mark.parametrize(
    ("flags", "want"),
    [
        (["--maxErrors", "0"], {"on_error": "raise"}),
        (["--maxErrors", "-1", "--badRows", "bad/"], {"on_error": "skip", "bad_rows_path": "bad/"}),
        (
            ["-maxErrors", "5%", "--badRows", "b"],
            {"on_error": "skip", "max_errors": "5%", "bad_rows_path": "b"},
        ),
        (
            ["--maxErrors", "0.5%", "--badRows", "b"],
            {"on_error": "skip", "max_errors": "0.5%", "bad_rows_path": "b"},
        ),
        (["--badRows", "b"], {"bad_rows_path": "b"}),
        (
            ["--ttl", "ttl_field", "--writetime", "1700000000000000"],
            {"ttl": "ttl_field", "writetime": 1700000000000000},
        ),
        (["--checkpoint", "ck.json", "--resume"], {"resume": "ck.json"}),
    ],
)
def test_error_limits_timing_and_resume(calls: list[Any], flags: list[str], want: dict[str, Any]) -> None:
    assert main([*LOAD, *flags]) == 0
    assert load_call(calls)[1] == {"keyspace": "ks", **want}


def test_max_errors_without_bad_rows_writes_them_to_a_dated_directory(
    calls: list[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*LOAD, "--maxErrors", "3"]) == 0
    kwargs = load_call(calls)[1]
    path = kwargs.pop("bad_rows_path")
    assert kwargs == {"keyspace": "ks", "on_error": "skip", "max_errors": 3}
    assert path.startswith(f"{tmp_path}/cassandra-frames-bad-rows/")
    assert path.endswith("/")
    assert capsys.readouterr().err == f"cassandra-frames: rejected rows go to {path}\n"
    args = build_parser().parse_args([*LOAD, "--maxErrors", "1%"])
    assert load_keywords(args, now=0)[1]["bad_rows_path"] == (
        f"{tmp_path}/cassandra-frames-bad-rows/19700101-000000/"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--maxRecords", "100"], "--maxRecords is not supported by load yet"),
        (["--resume"], "--resume needs the checkpoint"),
        (["-m", "0=a,1=b", "--columns", "x,y"], "-m maps fields by position: leave --columns out"),
    ],
)
def test_load_options_refused_with_one_line(
    calls: list[Any], capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    assert main([*LOAD, *flags]) == 3
    assert message in one_line_error(capsys)
    assert calls == []


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


@pytest.mark.parametrize(
    "argv",
    [
        ["load", "-k", "ks", "-t", "t"],  # no -url
        ["load", "-k", "ks", "-url", "in.csv"],  # no -t
        [*LOAD, "--format", "iceberg"],
        [*LOAD, "-m", "a=b=c"],
        [*LOAD, "-m", " , "],
        [*LOAD, "--maxErrors", "many"],
        [*LOAD, "--maxErrors", "-2"],
        [*LOAD, "--maxErrors", "120%"],
        [*LOAD, "--skipRecords", "x"],
        [*LOAD, "--nulls", "empty"],
        [*LOAD, "--overwrite"],
    ],
)
def test_bad_load_usage_exits_3_with_one_line(
    calls: list[Any], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 3
    assert "--help" in one_line_error(capsys)
    assert calls == []


def test_load_with_rejected_rows_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    done = load_report(rejected=2)
    monkeypatch.setattr(bulk, "load", lambda *a, **k: done)
    assert main([*LOAD, "--maxErrors", "10", "--badRows", "bad/"]) == 1
    captured = capsys.readouterr()
    assert captured.out == done.summary() + "\n"
    assert captured.err == "cassandra-frames: 2 of 10 rows rejected: see bad\n"


def test_load_past_max_errors_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    done = load_report(rejected=5)
    message = "max_errors exceeded: 5 of 10 rows rejected (allowed 1); every rejected row is in bad/p.jsonl"
    fail_with(monkeypatch, LoadError(message, done), "load")
    assert main([*LOAD, "--maxErrors", "1", "--badRows", "bad/"]) == 2
    captured = capsys.readouterr()
    assert captured.out == done.summary() + "\n"
    assert captured.err == f"cassandra-frames: error: {message}\n"


def test_load_with_failed_splits_exits_1_with_the_resume_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    done = load_report(failed=["in.csv: ReadTimeout"], checkpoint="ck.json")
    fail_with(
        monkeypatch,
        LoadError("1 of 1 splits of the load into ks.t failed (in.csv: ReadTimeout)", done),
        "load",
    )
    assert main([*LOAD, "-u", "al", "-p", "pw", "--checkpoint", "ck.json", "-m", "a=b"]) == 1
    captured = capsys.readouterr()
    assert captured.out == done.summary() + "\n"
    assert captured.err.splitlines() == [
        "cassandra-frames: error: 1 of 1 splits of the load into ks.t failed (in.csv: ReadTimeout)",
        "resume with: cassandra-frames load -k ks -t t -url in.csv -u al -m a=b --resume ck.json",
    ]


@pytest.mark.parametrize(
    "exc",
    [
        LoadError("in.csv, line 3, column 'v', value 'x': not an int; fix the source, or pass …"),
        LoadError("a record could not be written", load_report()),
        SchemaError("table ks.t does not exist"),
        CheckpointError("source file in.csv changed since the checkpoint 'ck.json' was written"),
        CassandraFramesError("a file without a header needs columns=[…], its fields in order"),
        FileNotFoundError(2, "No such file", "in.csv"),
    ],
)
def test_fatal_load_errors_exit_3_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: Exception
) -> None:
    fail_with(monkeypatch, exc, "load")
    assert main(LOAD) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("cassandra-frames: error: ")
    assert str(exc).split(";")[0] in captured.err


def test_interrupted_load_exits_4(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fail_with(monkeypatch, KeyboardInterrupt(), "load")
    assert main(LOAD) == 4
    assert capsys.readouterr().err == "cassandra-frames: interrupted (no checkpoint to resume from)\n"
    checkpoint = tmp_path / "ck.json"
    checkpoint.write_text("{}")
    assert main([*LOAD, "--checkpoint", str(checkpoint)]) == 4
    err = capsys.readouterr().err
    assert f"resume with: cassandra-frames load -k ks -t t -url in.csv --resume {checkpoint}" in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--help"]) == 0
    out = capsys.readouterr().out
    assert "-h HOSTS, --hosts HOSTS" in out
    assert "-maxConcurrentQueries" in out
    assert main(["count", "--help"]) == 0
    capsys.readouterr()
    assert main(["load", "--help"]) == 0
    out = capsys.readouterr().out
    assert "-m MAPPING, --mapping MAPPING" in out
    assert "-maxErrors N|P%, --maxErrors N|P%" in out
    assert "default LOCAL_QUORUM" in out


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
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main([*LOAD, "-url", "more/"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["loading in.csv, more/ into ks.t…", captured.out.strip()]


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
