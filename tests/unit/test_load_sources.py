"""Load sources without a server: listing files with their identity, splits, and reading each format into
raw batches with line numbers and malformed records."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.load_sources import CsvSettings, list_sources, read_split, splits_of


def _put(url: str, data: bytes) -> None:
    with fsspec.open(url, "wb") as f:
        f.write(data)


def _base() -> str:
    return f"memory://src-{uuid.uuid4().hex[:8]}"


def test_directories_globs_and_lists_leave_hidden_files_and_the_manifest_out(tmp_path: Path) -> None:
    for name in ("b.csv", "a.csv", "_manifest.json", ".checkpoint.json", "sub/c.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n1\n")
    got = [s.url.rpartition("/")[2] for s in list_sources(str(tmp_path))]
    assert got == ["a.csv", "b.csv", "c.csv"]
    assert [s.url for s in list_sources(str(tmp_path / "*.csv"))] == [
        str(tmp_path / "a.csv"),
        str(tmp_path / "b.csv"),
    ]
    listed = list_sources([str(tmp_path / "b.csv"), str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    assert [s.url.rpartition("/")[2] for s in listed] == ["b.csv", "a.csv"]  # given order, once each
    source = listed[0]
    assert source.size == 4
    assert source.version.startswith("mtime=")
    with pytest.raises(CassandraFramesError, match="no file at"):
        list_sources(str(tmp_path / "missing.csv"))
    with pytest.raises(CassandraFramesError, match="matches no file"):
        list_sources(str(tmp_path / "*.parquet"))


def test_a_changed_file_has_another_identity(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n")
    before = list_sources(str(path))[0].identity()
    path.write_text("x\n1\n2\n")
    assert list_sources(str(path))[0].identity() != before


def test_formats_from_suffixes_and_parquet_row_group_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    base = _base()
    _put(f"{base}/a.csv.gz", b"")
    _put(f"{base}/b.jsonl", b"")
    buf = pa.BufferOutputStream()
    pq.write_table(pa.table({"x": list(range(1000))}), buf, row_group_size=100)
    _put(f"{base}/c.parquet", buf.getvalue().to_pybytes())
    _put(f"{base}/d.txt", b"")
    with pytest.raises(CassandraFramesError, match=r"cannot tell the format of .*d\.txt.*format="):
        splits_of(list_sources(base), None)
    monkeypatch.setattr("cassandra_frames.load_sources.PARQUET_SPLIT_BYTES", 1)
    splits = splits_of(list_sources([f"{base}/a.csv.gz", f"{base}/b.jsonl", f"{base}/c.parquet"]), None)
    assert [(s.format, s.row_groups) for s in splits] == [("csv", None), ("json", None)] + [
        ("parquet", (i,)) for i in range(10)
    ]
    rows = [
        r for s in splits[2:] for b in read_split(s, CsvSettings()) for r in b.table.column("x").to_pylist()
    ]
    assert rows == list(range(1000))
    lines = [n for s in splits[2:] for b in read_split(s, CsvSettings()) for n in b.lines]
    assert lines == list(range(1, 1001))


def test_csv_lines_nulls_quotes_and_malformed_records() -> None:
    url = f"{_base()}/a.csv"
    _put(url, b'a,b\n1,""\n2,\n3,x,extra\n4,\xff\n5,"two\nlines"\n6,z\n')
    [split] = splits_of(list_sources(url), None)
    [batch] = list(read_split(split, CsvSettings()))
    assert batch.table.column("a").to_pylist() == [b"1", b"2", b"4", b"5", b"6"]
    assert batch.table.column("b").to_pylist() == [b"", None, b"\xff", b"two\nlines", b"z"]  # "" ≠ null
    assert batch.lines == [2, 3, 5, 6, 7]  # one line per record (a record's own line breaks not counted)
    assert batch.bad == [(4, "3,x,extra", "3 fields where the header has 2")]


def test_csv_headerless_skip_records_delimiter_and_null_value() -> None:
    url = f"{_base()}/h.csv"
    _put(url, b"skip me\n1;NULL\n2;\n")
    [split] = splits_of(list_sources(url), None)
    settings = CsvSettings(header=False, columns=("a", "b"), delimiter=";", null_value="NULL", skip_records=1)
    [batch] = list(read_split(split, settings))
    assert batch.table.to_pydict() == {"a": [b"1", b"2"], "b": [None, b""]}
    assert batch.lines == [2, 3]


def test_csv_that_ends_inside_quotes_and_an_empty_file() -> None:
    base = _base()
    _put(f"{base}/d.csv", b'pk,v\n1,ok\n2,"never closed\n')
    _put(f"{base}/e.csv", b"")
    [d, e] = splits_of(list_sources(base), None)
    [batch] = list(read_split(d, CsvSettings()))
    assert batch.table.column("pk").to_pylist() == [b"1"]
    assert batch.bad == [
        (3, "2,never closed\n", "a quoted field is never closed: the file ends inside quotes")
    ]
    assert list(read_split(e, CsvSettings())) == []


def test_json_lines_and_arrays() -> None:
    base = _base()
    _put(f"{base}/a.jsonl", b'{"a": 1, "b": [1, 2]}\n\n{"a": 2}\nnot json\n[1]\n')
    _put(f"{base}/b.json", b'[{"a": 3, "b": {"k": "v"}}]')
    a, b = splits_of(list_sources(base), None)
    [batch] = list(read_split(a, CsvSettings()))
    assert batch.records == [{"a": 1, "b": [1, 2]}, {"a": 2}]  # parsed once
    assert batch.table.column_names == ["a", "b"]
    assert batch.rows([0, 1]).to_pydict() == {"a": ["1", "2"], "b": ["[1, 2]", None]}  # as JSON text
    assert batch.lines == [1, 3]
    assert [(n, why.split(":")[0]) for n, _, why in batch.bad] == [
        (4, "not a JSON record"),
        (5, "not a JSON object"),
    ]
    [batch] = list(read_split(b, CsvSettings()))
    assert batch.rows([0]).to_pydict() == {"a": ["3"], "b": ['{"k": "v"}']}


def test_a_split_describes_itself_whatever_its_row_groups() -> None:
    from cassandra_frames.load_sources import Source, Split

    source = Source("data/b.parquet", 10, "mtime=1")
    assert Split(0, source, "csv").describe() == "data/b.parquet"
    assert Split(1, source, "parquet", (0, 1, 2, 3)).describe() == "data/b.parquet, row groups 0-3"
    assert Split(2, source, "parquet", ()).describe() == "data/b.parquet, no row groups"  # an empty file
