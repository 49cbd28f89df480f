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


def count_table(table: str, options: CountOptions) -> int | pd.DataFrame:
    """Count the rows of ``table`` (see :func:`cassandra_frames.count`)."""
    keyspace, name = split_table_name(table, options.keyspace)
    if options.by == "partition":
        return _top_partitions(f"{keyspace}.{name}", options)
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
    counts = runner.run(count_units(query, units, fetch))
    if options.by is None:
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
    if options.by == "range":
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


def _top_partitions(table: str, options: CountOptions) -> pd.DataFrame:
    """The ``top`` largest partitions: the key columns read through the read core, counted per partition.

    A partition lies in one token range, so each plan partition's top ``top`` are merged: memory holds one
    plan partition's keys at a time, however large the table.
    """
    plan = plan_read(table, ReadOptions(connection=options.connection, consistency=options.consistency))
    reader = plan.reader
    pk = list(reader.table.partition_key)
    sem = asyncio.Semaphore(max(1, options.concurrency // 4))

    async def one(units: tuple[ReadUnit, ...]) -> pa.Table:
        async with sem:
            keys = await reader.read_arrow_async(units, pk)
        counted = keys.group_by(pk).aggregate([([], "count_all")]).rename_columns([*pk, "rows"])
        return counted.sort_by([("rows", "descending")]).slice(0, options.top)

    async def run_all() -> list[pa.Table]:
        return list(await asyncio.gather(*(one(u) for u in plan.partitions)))

    tops = runner.run(run_all()) if plan.partitions else []
    if not tops:
        return pd.DataFrame(columns=[*pk, "rows"])
    merged = pa.concat_tables(tops)
    best = heapq.nlargest(
        options.top, range(merged.num_rows), key=merged.column("rows").to_pylist().__getitem__
    )
    frame = to_pandas(merged.take(best), "pyarrow")
    frame["rows"] = frame["rows"].astype("int64")
    return frame.reset_index(drop=True)
