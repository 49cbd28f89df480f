"""The checkpoint file and the export's options and unit bookkeeping, without a server."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pytest

from cassandra_frames.checkpoint import Checkpoint, new_operation_id
from cassandra_frames.count import CountOptions
from cassandra_frames.errors import CassandraFramesError, CheckpointError, ExportError, ReadError
from cassandra_frames.export import ExportOptions, ExportRun
from cassandra_frames.export_unit import ExportJob, run_unit
from cassandra_frames.formats import FormatOptions
from cassandra_frames.tokens import MURMUR3, TokenRange, ranges_cover_ring, unwrap

IDENTITY = {"table": "ks.t", "url": "/out", "format": "csv", "schema": [["id", "int32", "int"]]}


def _new(path: str) -> Checkpoint:
    return Checkpoint.new(
        path, kind="export", operation_id="op1", identity=IDENTITY, units=[{"ranges": [[0, 1]]}]
    )


def test_save_load_round_trip_and_completed_units(tmp_path: Path) -> None:
    path = str(tmp_path / "sub" / "ckpt.json")
    ckpt = _new(path)
    ckpt.save()
    ckpt.unit_done(3, {"file": "part-00003.csv", "rows": 7, "bytes": 100})
    ckpt.unit_failed(4, "unit 4: boom")
    ckpt.save()
    back = Checkpoint.load(path, kind="export")
    assert back.operation_id == "op1"
    assert back.completed == {3: {"file": "part-00003.csv", "rows": 7, "bytes": 100}}
    assert back.data["failed"] == {"4": "unit 4: boom"}
    back.unit_done(4, {"file": "f", "rows": 1, "bytes": 1})  # a redone unit is no longer failed
    assert back.data["failed"] == {}
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["ckpt.json"]  # no temporary left behind


def test_save_is_atomic_replace_never_a_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ckpt.json"
    ckpt = _new(str(path))
    ckpt.save()
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr("os.replace", crash)
    ckpt.unit_done(1, {"file": "x", "rows": 1, "bytes": 1})
    with pytest.raises(OSError, match="disk gone"):
        ckpt.save()
    assert path.read_bytes() == before  # the old checkpoint is intact


def test_on_an_fsspec_url() -> None:
    url = f"memory://ckpt/{new_operation_id()}.json"
    ckpt = _new(url)
    ckpt.unit_done(0, {"file": "a", "rows": 2, "bytes": 3})
    ckpt.save()
    with fsspec.open(url, "rb") as f:
        assert json.loads(f.read())["completed"] == {"0": {"file": "a", "rows": 2, "bytes": 3}}
    assert Checkpoint.load(url, kind="export").completed[0]["rows"] == 2


def test_save_soon_waits_for_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    ckpt = _new(str(path))
    ckpt.min_interval = 3600
    ckpt.save()
    ckpt.unit_done(1, {"file": "x", "rows": 1, "bytes": 1})
    ckpt.save_soon()
    assert json.loads(path.read_text())["completed"] == {}
    ckpt.min_interval = 0
    ckpt.save_soon()
    assert json.loads(path.read_text())["completed"] == {"1": {"file": "x", "rows": 1, "bytes": 1}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"table": "ks.other"}, "table='ks.t', not 'ks.other'"),
        ({"format": "parquet"}, "format='csv', not 'parquet'"),
        ({"schema": [["id", "int32", "int"], ["new", "string", "text"]]}, "column 'new' was added"),
        ({"schema": [["id", "int64", "bigint"]]}, "column 'id' was int32, is now int64"),
        ({"schema": []}, "column 'id' was dropped"),
    ],
)
def test_check_names_what_differs(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    ckpt = _new(str(tmp_path / "c.json"))
    ckpt.check(dict(IDENTITY))  # the same identity passes
    with pytest.raises(CheckpointError, match=message.replace("(", r"\(").replace("[", r"\[")):
        ckpt.check({**IDENTITY, **change})


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        Checkpoint.load(str(tmp_path / "missing.json"), kind="export")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="cannot read the checkpoint"):
        Checkpoint.load(str(tmp_path / "junk.json"), kind="export")
    (tmp_path / "other.json").write_text(json.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="not a cassandra-frames checkpoint"):
        Checkpoint.load(str(tmp_path / "other.json"), kind="export")
    ckpt = _new(str(tmp_path / "c.json"))
    ckpt.save()
    with pytest.raises(CheckpointError, match="is a export checkpoint, not a load checkpoint"):
        Checkpoint.load(str(tmp_path / "c.json"), kind="load")


def test_operation_ids_are_unique_and_sortable_by_time() -> None:
    ids = {new_operation_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i.split("-")) == 3 for i in ids)


def test_export_options_are_checked_before_anything_runs() -> None:
    with pytest.raises(CassandraFramesError, match="unknown export format 'xls'"):
        ExportOptions(format="xls")
    with pytest.raises(CassandraFramesError, match="max_rows_per_second must be positive"):
        ExportOptions(max_rows_per_second=0)
    with pytest.raises(CassandraFramesError, match="catalog= and warehouse= apply to format='iceberg' only"):
        ExportOptions(format="csv", warehouse="wh")
    with pytest.raises(CassandraFramesError, match="fetch_size"):
        ExportOptions(fetch_size=0)
    with pytest.raises(CassandraFramesError, match="mode must be"):
        ExportOptions(format="iceberg", mode="overwrite")  # type: ignore[arg-type]


def test_export_compression_from_the_url_suffix() -> None:
    assert ExportOptions().format_options("s3://b/out.csv.zst").compression == "zstd"
    assert ExportOptions().format_options("out/").compression is None
    assert ExportOptions(compression="gzip").format_options("out.csv.zst").compression == "gzip"
    assert ExportOptions().format_options("out/").suffix() == ".csv"
    assert ExportOptions(format="json", compression="xz").format_options("o").suffix() == ".jsonl.xz"


def test_count_options() -> None:
    with pytest.raises(CassandraFramesError, match="by must be"):
        CountOptions(by="table")  # type: ignore[arg-type]
    with pytest.raises(CassandraFramesError, match="at least 1"):
        CountOptions(splits=0)


def test_count_pieces_cover_the_ring_exactly_once() -> None:
    from cassandra_frames.count import _pieces

    ring = unwrap([TokenRange(100, -50, ("a",)), TokenRange(-50, 100, ("b",))], MURMUR3)
    pieces = _pieces(ring, 64, MURMUR3)
    assert len(pieces) >= 64
    assert ranges_cover_ring([p for _, p in pieces], MURMUR3)
    assert sum(p.width(MURMUR3) for _, p in pieces) == MURMUR3.ring_width
    for i, p in pieces:  # each piece keeps its ring range's replicas
        assert p.replicas == ring[i].replicas


# ----------------------------------------------------------------------- one unit and the run, no server
class _Reader:
    """Stands in for a PartitionReader: returns a fixed table, or fails for one unit."""

    def __init__(self, fail: int | None = None) -> None:
        self.fail = fail

    def read_arrow(self, units: Any, columns: Any = None, stats: Any = None) -> pa.Table:
        if units and units[0] == self.fail:
            raise ReadError(f"could not read token range ({units[0]}, {units[0] + 1}]: timeout")
        return pa.table({"id": pa.array([units[0], units[0] + 100], pa.int32())})


def _run(root: str, reader: _Reader, n: int, checkpoint: Checkpoint | None) -> ExportRun:
    schema = pa.schema([pa.field("id", pa.int32(), metadata={b"cql_type": b"int"})])
    job = ExportJob(
        reader=reader,  # type: ignore[arg-type]
        columns=None,
        root=root,
        fmt=FormatOptions(format="csv"),
        iceberg=None,
        storage_options={},
        operation_id="op1",
        schema=schema,
    )
    return ExportRun(
        job=job,
        table="ks.t",
        url=root,
        units=[(i,) for i in range(n)],  # type: ignore[misc]
        pending=list(range(n)),
        checkpoint=checkpoint,
        identity=IDENTITY,
    )


def test_units_write_deterministic_files_and_the_manifest_comes_last(tmp_path: Path) -> None:
    root = str(tmp_path / "out")
    ckpt = _new(str(tmp_path / "out" / ".checkpoint.json"))
    run = _run(root, _Reader(), 3, ckpt)
    for i in run.pending:
        assert not (tmp_path / "out" / "_manifest.json").exists()
        run.record(run_unit(run.job, i, run.units[i]))
    report = run.finish()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".checkpoint.json",
        "_manifest.json",
        "part-00000.csv",
        "part-00001.csv",
        "part-00002.csv",
    ]
    assert (tmp_path / "out" / "part-00002.csv").read_text() == '"id"\n2\n102\n'
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert [f["path"] for f in manifest["files"]] == ["part-00000.csv", "part-00001.csv", "part-00002.csv"]
    assert manifest["rows"] == report.rows == 6
    assert json.loads((tmp_path / "out" / ".checkpoint.json").read_text())["finished"]
    rerun = run_unit(run.job, 1, run.units[1])  # a rerun unit overwrites its own file
    assert rerun.file == report.files[1]
    assert (tmp_path / "out" / "part-00001.csv").read_text() == '"id"\n1\n101\n'


def test_a_failed_unit_is_reported_and_nothing_is_finished(tmp_path: Path) -> None:
    root = "memory://failing/out"
    run = _run(root, _Reader(fail=1), 3, None)
    results = [run_unit(run.job, i, run.units[i]) for i in run.pending]
    assert results[1].error is not None
    assert "token range (1, 2]" in results[1].error
    for r in results:
        run.record(r)
    with pytest.raises(
        ExportError, match=r"1 of 3 units of the export of ks.t failed .*token range \(1, 2\]"
    ) as info:
        run.finish()
    assert info.value.report.failed_ranges == [results[1].error]  # type: ignore[attr-defined]
    fs = fsspec.filesystem("memory")
    assert not fs.exists("/failing/out/_manifest.json")
    assert sorted(p.rpartition("/")[2] for p in fs.ls("/failing/out", detail=False)) == [
        "part-00000.csv",
        "part-00002.csv",
    ]


def test_a_unit_that_fails_while_writing_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run(str(tmp_path), _Reader(), 1, None)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no space left on device")

    monkeypatch.setattr("cassandra_frames.export_unit.open_writer", broken)
    result = run_unit(run.job, 0, run.units[0])
    assert result.error is not None
    assert "no space left" in result.error
    assert list(tmp_path.iterdir()) == []


def test_the_resume_hint_repeats_what_shapes_the_output_and_hides_secrets() -> None:
    from cassandra_frames.export_options import resume_flags, shaping_keywords

    options = ExportOptions(
        format="csv",
        columns=["a", "b"],
        filters=[("a", "==", 1)],
        delimiter=";",
        compression="zstd",
        concurrency=9,  # how, not what: not repeated
    )
    keywords = shaping_keywords(options)
    assert keywords == {
        "columns": ["a", "b"],
        "filters": [("a", "==", 1)],
        "delimiter": ";",
        "compression": "zstd",
    }
    assert resume_flags(keywords) == [
        "--columns a,b",
        "--filter 'a == 1'",
        "--compression zstd",
        "--delimiter ';'",
    ]
    iceberg = shaping_keywords(
        ExportOptions(
            format="iceberg", catalog={"type": "rest", "uri": "http://x", "s3.secret-access-key": "s"}
        )
    )
    flags = resume_flags(iceberg)
    assert "--catalog type=rest" in flags
    assert "--catalog 's3.secret-access-key=…'" in flags  # quoted for the shell


def test_a_missing_filesystem_package_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from cassandra_frames.errors import NotInstalledError
    from cassandra_frames.storage import fs_for

    def missing(url: str, **kwargs: Any) -> Any:
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(fsspec.core, "url_to_fs", missing)
    with pytest.raises(NotInstalledError, match=r"'s3fs' is not installed.*cassandra-frames\[s3\]"):
        fs_for("s3://bucket/x", {})


def test_export_report_reads_well_in_a_terminal_and_a_notebook() -> None:
    from cassandra_frames.reports import ExportReport

    ok = ExportReport(
        operation_id="op1",
        table="ks.t",
        url="s3://b/out",
        format="csv",
        files=["s3://b/out/part-00000.csv"],
        rows=1500,
        bytes=3 * 2**20,
        seconds=2.0,
        units=4,
        units_resumed=1,
        checkpoint="s3://b/out/.checkpoint.json",
        resume_call="cf.export('ks.t', 's3://b/out', resume='s3://b/out/.checkpoint.json')",
    )
    assert repr(ok) == (
        "ExportReport(op1: ks.t → s3://b/out: 1,500 rows in 1 csv files, 3.0 MiB, 2.00 s (750 rows/s); "
        "1 of 4 units resumed from the checkpoint)"
    )
    assert "Export completed" in ok._repr_html_()
    failed = dataclasses.replace(ok, failed_ranges=["unit 2: could not read token range (1, 2]: <timeout>"])
    assert not failed.ok
    assert "  failed: unit 2: could not read token range (1, 2]: <timeout>" in repr(failed)
    assert "  resume: cf.export(" in repr(failed)
    html = failed._repr_html_()
    assert "FAILED" in html
    assert "&lt;timeout&gt;" in html  # escaped


def test_rate_limiter_is_a_one_second_bucket_shared_per_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    from cassandra_frames import throttle

    clock = [100.0]
    monkeypatch.setattr(throttle.time, "monotonic", lambda: clock[0])
    limiter = throttle.RateLimiter(1000)
    assert limiter.reserve(1000) == 0.0  # a full bucket
    assert limiter.reserve(500) == 0.5  # half a second of debt
    clock[0] += 1.5  # refilled, but never beyond one second's worth
    assert limiter.reserve(1000) == 0.0
    assert limiter.reserve(1) == pytest.approx(0.001)
    assert throttle.RateLimiter.shared(123.0) is throttle.RateLimiter.shared(123.0)
