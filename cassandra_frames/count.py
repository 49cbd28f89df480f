"""Exact row counts: ``SELECT count(*)`` per token range, all ranges at once, on the engine.

The ring is cut into at least ``splits`` ranges (each a server-side count that pages internally), counted
with the read core's retries, backoff and range splitting, and added up: the total is exact, and a range
that cannot be counted raises :class:`~cassandra_frames.errors.ReadError` naming it — never a quiet zero.
``by="range"`` and ``by="host"`` return the counts per ring range and per replica; ``by="partition"``
reads the partition-key columns through the read core and returns the largest partitions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import queue
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from cassandra_frames import cql
from cassandra_frames.config import check_consistency
from cassandra_frames.engine import catalog, runner
from cassandra_frames.engine.connections import request_timeout, resolve_connection
from cassandra_frames.engine.reader import FetchOptions, ReadUnit, count_units, prepare_read
from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.options import ReadOptions
from cassandra_frames.progress.tracker import ProgressOptions, Tracker
from cassandra_frames.read import plan_read
from cassandra_frames.schema import split_table_name, to_pandas
from cassandra_frames.tokens import TokenRange, split_range, unwrap

__all__ = ["CountOptions", "count_table"]

CountBy = Literal["range", "host", "partition"]


@dataclasses.dataclass(frozen=True)
class CountOptions:
    """The keywords of :func:`cassandra_frames.count` (see it for what each one does)."""

    keyspace: str | None = None
    connection: Any = None
    by: CountBy | None = None
    top: int = 20
    consistency: str = "LOCAL_ONE"
    concurrency: int = 16
    splits: int = 64

    def __post_init__(self) -> None:
        if self.by not in (None, "range", "host", "partition"):
            raise CassandraFramesError(f"by must be None, 'range', 'host' or 'partition', not {self.by!r}")
        if self.top < 1 or self.concurrency < 1 or self.splits < 1:
            raise CassandraFramesError("top, concurrency and splits must be at least 1")
        check_consistency(self.consistency)


def _pieces(ranges: Sequence[TokenRange], splits: int, partitioner: Any) -> list[tuple[int, TokenRange]]:
    """(index of the ring range, piece) with at least ``splits`` pieces over the ring."""
    out: list[tuple[int, TokenRange]] = []
    total = sum(r.width(partitioner) for r in ranges) or 1
    for i, r in enumerate(ranges):
        n = max(1, round(splits * r.width(partitioner) / total))
        out += [(i, p) for p in split_range(r, n)]
    return out


def _count_watched(query: Any, units: Sequence[ReadUnit], fetch: FetchOptions, tracker: Tracker) -> list[int]:
    """``count_units`` on the engine loop, each piece's count handed to ``tracker`` on this thread (so the
    user's callbacks and the display never run on the engine loop) as it arrives."""
    arrived: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
    future = runner.submit(count_units(query, units, fetch, on_unit=lambda i, n: arrived.put((i, n))))
    try:
        while not future.done() or not arrived.empty():
            try:
                index, rows = arrived.get(timeout=0.05)
            except queue.Empty:
                continue
            tracker.unit_done(index, rows)
        return future.result()
    except BaseException:
        future.cancel()
        raise


def count_table(
    table: str, options: CountOptions, watchers: ProgressOptions | None = None
) -> int | pd.DataFrame:
    """Count the rows of ``table`` (see :func:`cassandra_frames.count`); ``watchers``: its progress display
    and callbacks (none by default)."""
    keyspace, name = split_table_name(table, options.keyspace)
    watchers = watchers or ProgressOptions(progress=False)
    if options.by == "partition":
        return _top_partitions(f"{keyspace}.{name}", options, watchers)
    ref, session = resolve_connection(options.connection)
    info = catalog.table_info(session, keyspace, name)
    partitioner, ring = catalog.ring(session, keyspace)
    ranges = unwrap(ring, partitioner)
    pieces = _pieces(ranges, options.splits, partitioner)
    timeout = request_timeout(session)
    query = prepare_read(ref, cql.count_range(keyspace, name, info.partition_key), timeout)
    units = [
        ReadUnit(
            params=(p.start, p.end),
            replicas=p.replicas,
            token_range=p,
            label=f"token range ({p.start}, {p.end}]",
        )
        for _, p in pieces
    ]
    fetch = FetchOptions(consistency=options.consistency, concurrency=options.concurrency, timeout=timeout)
    tracker = watchers.track("count", f"{keyspace}.{name}", len(units), title=f"count {keyspace}.{name}")
    try:
        counts = _count_watched(query, units, fetch, tracker)
    except BaseException:
        tracker.finish(None, ok=False)
        raise
    result = _shape(counts, pieces, ranges, options.by)
    tracker.finish(result, summary=f"{sum(counts):,} rows in {keyspace}.{name}")
    return result


def _shape(
    counts: Sequence[int], pieces: Sequence[tuple[int, TokenRange]], ranges: Sequence[TokenRange], by: Any
) -> int | pd.DataFrame:
    """The total, or the counts per ring range or per host."""
    if by is None:
        return sum(counts)
    per_range = [0] * len(ranges)
    for (i, _), n in zip(pieces, counts, strict=True):
        per_range[i] += n
    frame = pd.DataFrame(
        {
            "range_start": [r.start for r in ranges],
            "range_end": [r.end for r in ranges],
            "replicas": [",".join(r.replicas) for r in ranges],
            "rows": per_range,
        }
    )
    if by == "range":
        return frame
    hosts: dict[str, list[int]] = {}
    for r, n in zip(ranges, per_range, strict=True):
        for h in r.replicas:
            hosts.setdefault(h, [0, 0])
            hosts[h][0] += 1
            hosts[h][1] += n
    return pd.DataFrame(
        {
            "host": list(hosts),
            "ranges": [v[0] for v in hosts.values()],
            "rows": [v[1] for v in hosts.values()],
        }
    ).sort_values("host", ignore_index=True)


def _top_partitions(table: str, options: CountOptions, watchers: ProgressOptions) -> pd.DataFrame:
    """The ``top`` largest partitions: the key columns read through the read core, counted per partition.

    A partition lies in one token range, so each plan partition's top ``top`` are merged: memory holds one
    plan partition's keys at a time, however large the table.
    """
    plan = plan_read(table, ReadOptions(connection=options.connection, consistency=options.consistency))
    reader = plan.reader
    pk = list(reader.table.partition_key)
    sem = asyncio.Semaphore(max(1, options.concurrency // 4))
    tracker = watchers.track("count", table, len(plan.partitions), title=f"count {table} by partition")

    async def one(index: int, units: tuple[ReadUnit, ...]) -> pa.Table:
        async with sem:
            keys = await reader.read_arrow_async(units, pk)
        tracker.unit_done(index, keys.num_rows)
        counted = keys.group_by(pk).aggregate([([], "count_all")]).rename_columns([*pk, "rows"])
        return counted.sort_by([("rows", "descending")]).slice(0, options.top)

    async def run_all() -> list[pa.Table]:
        return list(await asyncio.gather(*(one(i, u) for i, u in enumerate(plan.partitions))))

    try:
        tops = runner.run(run_all()) if plan.partitions else []
    except BaseException:
        tracker.finish(None, ok=False)
        raise
    tracker.finish(None, summary=f"{tracker.rows:,} rows of {table} counted by partition")
    if not tops:
        return pd.DataFrame(columns=[*pk, "rows"])
    merged = pa.concat_tables(tops)
    best = heapq.nlargest(
        options.top, range(merged.num_rows), key=merged.column("rows").to_pylist().__getitem__
    )
    frame = to_pandas(merged.take(best), "pyarrow")
    frame["rows"] = frame["rows"].astype("int64")
    return frame.reset_index(drop=True)
