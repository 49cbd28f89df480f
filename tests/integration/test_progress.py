"""Progress against the real node: callbacks of export / load / count / to_cassandra add up to the reports,
``cf.progress()`` sees every partition of a read (threads and a 2-worker distributed cluster), and a
failing callback never fails the operation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import cassandra_frames as cf
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.options import ReadOptions
from cassandra_frames.progress import ProgressStats, add_listener, remove_listener
from cassandra_frames.read import plan_read

ROWS = 3000


@pytest.fixture
def table(keyspace: str, cassandra_config: ConnectionConfig) -> str:
    df = pd.DataFrame({"id": range(ROWS), "v": [f"value {i}" for i in range(ROWS)]})
    name = f"{keyspace}.t"
    cf.to_cassandra(
        df, name, connection=cassandra_config, create_table=True, partition_key="id", progress=False
    )
    return name


class Events:
    def __init__(self) -> None:
        self.units: list[tuple[int, int]] = []
        self.errors: list[tuple[str, int]] = []
        self.stats: list[ProgressStats] = []
        self.reports: list[Any] = []

    def keywords(self) -> dict[str, Any]:
        return {
            "progress": False,
            "on_unit_complete": lambda u, r: self.units.append((u, r)),
            "on_unit_error": lambda e, u: self.errors.append((e, u)),
            "on_progress": self.stats.append,
            "on_complete": self.reports.append,
        }


def test_export_and_load_callbacks_add_up(
    table: str, cassandra_config: ConnectionConfig, tmp_path: Path
) -> None:
    ev = Events()
    heard: list[str] = []

    def listener(event: str, stats: ProgressStats) -> None:
        heard.append(event)

    add_listener(listener)
    try:
        report = cf.export(
            table, str(tmp_path / "out"), connection=cassandra_config, npartitions=5, **ev.keywords()
        )
    finally:
        remove_listener(listener)
    assert report.rows == ROWS
    assert sorted(u for u, _ in ev.units) == list(range(5))
    assert sum(r for _, r in ev.units) == ROWS
    assert ev.reports == [report]
    assert ev.errors == []
    last = ev.stats[-1]
    assert (last.finished, last.ok, last.units_done, last.rows) == (True, True, 5, ROWS)
    assert last.bytes == report.bytes
    assert heard[0] == "start"
    assert heard[-1] == "complete"
    assert heard.count("unit") == 5

    ev2 = Events()
    loaded = cf.load(
        str(tmp_path / "out" / "*.csv"),
        f"{table}_copy".replace(".t_copy", ".t"),
        connection=cassandra_config,
        **ev2.keywords(),
    )
    assert loaded.rows_written == ROWS
    assert sum(r for _, r in ev2.units) == loaded.rows_written
    assert len(ev2.units) == loaded.splits
    assert ev2.reports == [loaded]


def test_count_and_to_cassandra_callbacks(
    table: str, cassandra_config: ConnectionConfig, keyspace: str
) -> None:
    ev = Events()
    total = cf.count(table, connection=cassandra_config, splits=16, **ev.keywords())
    assert total == ROWS
    assert sum(r for _, r in ev.units) == ROWS
    assert len(ev.units) >= 16
    assert ev.reports == [ROWS]
    assert ev.stats[-1].units_done == ev.stats[-1].units_total

    ddf = cf.read_cassandra(table, connection=cassandra_config, npartitions=4)
    ev2 = Events()
    report = cf.to_cassandra(
        ddf,
        f"{keyspace}.t2",
        connection=cassandra_config,
        create_table=True,
        partition_key="id",
        **ev2.keywords(),
    )
    assert report.rows_written == ROWS
    assert len(ev2.units) == ddf.npartitions
    assert sum(r for _, r in ev2.units) == ROWS
    assert ev2.reports == [report]


def test_a_failing_callback_does_not_fail_the_export(
    table: str, cassandra_config: ConnectionConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(unit: int, rows: int) -> None:
        raise RuntimeError("callback bug")

    with caplog.at_level(logging.WARNING, logger="cassandra_frames.progress"):
        report = cf.export(
            table,
            str(tmp_path / "o"),
            connection=cassandra_config,
            npartitions=4,
            progress=False,
            on_unit_complete=broken,
        )
    assert report.rows == ROWS
    assert len([r for r in caplog.records if "broken" in r.getMessage()]) == 1


def test_progress_context_with_threads(table: str, cassandra_config: ConnectionConfig) -> None:
    ddf = cf.read_cassandra(table, connection=cassandra_config, npartitions=6)
    plan = plan_read(table, ReadOptions(connection=cassandra_config, npartitions=6))
    ranges = sum(len(units) for units in plan.partitions)
    with cf.progress(progress=False) as tracker:
        frame = ddf.compute(scheduler="threads")
    stats = tracker.stats()
    assert len(frame) == ROWS
    assert stats.rows == ROWS
    assert stats.units_done == stats.units_total
    assert stats.units_total >= 6
    assert stats.units_total == ranges  # token ranges, known from the graph before anything ran
    assert stats.finished
    assert stats.ok


def test_progress_context_with_distributed(
    table: str, cassandra_config: ConnectionConfig, dask_client: Any
) -> None:
    ddf = cf.read_cassandra(table, connection=cassandra_config, npartitions=6)
    seen: list[int] = []
    with cf.progress(progress=False, on_unit_complete=lambda u, r: seen.append(r)) as tracker:
        frame = ddf.compute()
    stats = tracker.stats()
    assert len(frame) == ROWS
    assert stats.rows == ROWS
    assert len(seen) == ddf.npartitions
    assert stats.units_done == stats.units_total
    assert stats.units_total >= 6


def test_a_pandas_write_reports_each_chunk_as_it_lands(
    cassandra_config: ConnectionConfig, keyspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cassandra_frames.dask as cfdask
    import cassandra_frames.write as cfwrite

    monkeypatch.setattr(cfwrite, "CHUNK_ROWS", 1_000)  # 3 chunks of this frame
    monkeypatch.setattr(cfdask, "CHUNK_ROWS", 1_000)
    frame = pd.DataFrame({"id": range(2_500), "v": [float(i) for i in range(2_500)]})
    ev = Events()
    report = cf.to_cassandra(
        frame,
        f"{keyspace}.chunks",
        connection=cassandra_config,
        create_table=True,
        partition_key="id",
        **ev.keywords(),
    )
    assert report.rows_written == 2_500
    assert [r for _, r in ev.units] == [1_000, 1_000, 500]
    assert ev.stats[-1].units_total == 3
    assert ev.stats[-1].percent == 100
    assert ev.reports == [report]


def test_a_large_file_shows_its_rows_while_it_loads(
    table: str,
    cassandra_config: ConnectionConfig,
    keyspace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cassandra_frames.load_sources as sources

    monkeypatch.setattr(sources, "CSV_BLOCK_BYTES", 16 * 1024)  # the file in ~10 blocks, as a large one
    path = tmp_path / "one.csv"
    pd.DataFrame({"id": range(ROWS), "v": [f"value {i}" for i in range(ROWS)]}).to_csv(path, index=False)
    cf.to_cassandra(
        pd.DataFrame({"id": [0], "v": ["x"]}).iloc[:0],
        f"{keyspace}.copy",
        connection=cassandra_config,
        create_table=True,
        partition_key="id",
        progress=False,
    )
    heard: list[tuple[str, int, int]] = []

    def listener(event: str, stats: ProgressStats) -> None:
        if stats.table == f"{keyspace}.copy":
            heard.append((event, stats.units_done, stats.rows))

    add_listener(listener)
    try:
        report = cf.load(str(path), f"{keyspace}.copy", connection=cassandra_config, progress=False)
    finally:
        remove_listener(listener)
    assert report.rows_written == ROWS
    running = [rows for event, done, rows in heard if event == "rows" and done == 0]
    assert len(running) >= 3  # the one split's rows, chunk by chunk, before it completed
    assert running == sorted(running)
    assert 0 < running[0] < ROWS
    assert heard[-1] == ("complete", 1, ROWS)
