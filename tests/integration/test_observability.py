"""Logging, request latencies and Prometheus metrics of real operations on the node."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import cassandra_frames as cf
from cassandra_frames.config import ConnectionConfig

ROWS = 5_000


@pytest.fixture
def events(keyspace: str, cassandra_config: ConnectionConfig) -> str:
    frame = pd.DataFrame(
        {
            "device": [f"d{i % 50}" for i in range(ROWS)],
            "seq": list(range(ROWS)),
            "value": [i * 0.5 for i in range(ROWS)],
        }
    )
    report = cf.to_cassandra(
        frame,
        f"{keyspace}.events",
        connection=cassandra_config,
        create_table=True,
        partition_key="device",
        clustering_key="seq",
        progress=False,
    )
    assert report.rows_written == ROWS
    p50, p99 = report.latency_p50_ms, report.latency_p99_ms
    assert p50 is not None
    assert p99 is not None
    assert 0 < p50 <= p99
    assert report.latency.count >= report.batches  # a round trip per request sent (retries add some)
    return f"{keyspace}.events"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    logger = logging.getLogger("cassandra_frames")
    before, level = list(logger.handlers), logger.level
    stream = io.StringIO()
    cf.configure_logging("DEBUG", json=True, stream=stream)
    yield stream
    for h in list(logger.handlers):
        if h not in before:
            logger.removeHandler(h)
    logger.setLevel(level)


def _records(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_export_and_load_log_their_context_and_report_latencies(
    events: str, cassandra_config: ConnectionConfig, json_log: io.StringIO, tmp_path: Path
) -> None:
    keyspace, _, name = events.partition(".")
    exported = cf.export(
        events,
        str(tmp_path / "out"),
        format="csv",
        connection=cassandra_config,
        npartitions=4,
        progress=False,
    )
    assert exported.rows == ROWS
    assert exported.latency.count >= 4  # at least one page per unit
    p50, p99 = exported.latency_p50_ms, exported.latency_p99_ms
    assert p50 is not None
    assert p99 is not None
    assert 0 < p50 <= p99
    records = [r for r in _records(json_log) if r.get("operation_id") == exported.operation_id]
    assert {(r["keyspace"], r["table"]) for r in records} == {(keyspace, name)}
    messages = [r["message"] for r in records]
    assert any(m.startswith(f"export of {events}") for m in messages)
    assert sum(m.startswith("unit ") for m in messages) == 4  # one DEBUG record per unit
    assert messages[-1] == exported.summary()

    cf.to_cassandra(
        pd.DataFrame({"device": ["x"], "seq": [0], "value": [0.0]}).iloc[:0],
        f"{keyspace}.copy",
        connection=cassandra_config,
        create_table=True,
        partition_key="device",
        clustering_key="seq",
        progress=False,
    )
    loaded = cf.load(str(tmp_path / "out"), f"{keyspace}.copy", connection=cassandra_config, progress=False)
    assert loaded.rows_written == ROWS
    assert loaded.latency.count > 0
    assert loaded.latency_p50_ms is not None
    load_records = [r for r in _records(json_log) if r.get("operation_id") == loaded.operation_id]
    assert {r["table"] for r in load_records} == {"copy"}
    assert load_records[-1]["message"] == loaded.summary()


def _scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def test_prometheus_endpoint_counts_what_the_reports_say(
    events: str, cassandra_config: ConnectionConfig, tmp_path: Path
) -> None:
    with cf.serve_metrics(port=0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        before = _scrape(server.url)
        key = f'cassandra_frames_rows_total{{operation="export",table="{events}"}}'
        exported = cf.export(
            events, str(tmp_path / "out"), format="parquet", connection=cassandra_config, progress=False
        )
        counted = cf.count(events, connection=cassandra_config, progress=False)
        after = _scrape(server.url)
    assert counted == ROWS
    assert after[key] - before.get(key, 0) == exported.rows == ROWS
    count_key = f'cassandra_frames_rows_total{{operation="count",table="{events}"}}'
    assert after[count_key] - before.get(count_key, 0) == ROWS
    units = f'cassandra_frames_units_completed_total{{operation="export",table="{events}"}}'
    assert after[units] - before.get(units, 0) == len(exported.files)
    ok = 'cassandra_frames_operations_total{operation="export",status="ok"}'
    assert after[ok] - before.get(ok, 0) == 1
    requests = 'cassandra_frames_request_latency_seconds_count{operation="export"}'
    assert after[requests] - before.get(requests, 0) == exported.latency.count
    inf = 'cassandra_frames_request_latency_seconds_bucket{le="+Inf",operation="export"}'
    assert after[inf] == after[requests]
