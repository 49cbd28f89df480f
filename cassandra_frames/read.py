"""The read core, without Dask: :class:`ReadOptions` → :func:`plan_read` → :class:`ReadPlan`, and
:class:`PartitionReader`, which reads one partition of the plan into Arrow (or pandas).

Planning reads the table, the ring and (when the partitions are sized by bytes) the size estimates through
the engine, then decides everything else without I/O in :func:`build_plan`: the Arrow schema and meta,
where each filter goes, the extra columns (writetime, TTL, token), and the units of each partition — token
ranges grouped by replica set, or single partitions for a full partition-key filter. A
:class:`PartitionReader` holds only picklable settings (a :class:`ConnectionConfig`, never a password), so
Dask, the ``aio`` front and the bulk operations can all run it, in any process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
import os
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from cassandra_frames import cql, planner
from cassandra_frames.convert.pages import PageDecoder, page_decoder
from cassandra_frames.convert.to_arrow import fetched_converter
from cassandra_frames.cqltypes import quote
from cassandra_frames.engine import catalog, runner
from cassandra_frames.engine.connections import ConnectionRef, request_timeout, resolve_connection
from cassandra_frames.engine.reader import (
    FetchOptions,
    FetchStats,
    ReadQuery,
    ReadUnit,
    fetch_units,
    prepare_read,
)
from cassandra_frames.errors import SchemaError
from cassandra_frames.filters import FilterPlan, client_mask, normalise_filters, plan_filters
from cassandra_frames.options import ReadOptions
from cassandra_frames.schema import (
    DtypeBackend,
    TableInfo,
    empty_frame,
    select_fields,
    split_table_name,
    table_schema,
    to_pandas,
)
from cassandra_frames.tokens import MURMUR3, Partitioner, TokenRange, clip_ranges

__all__ = ["PartitionReader", "ReadPlan", "build_plan", "default_min_partitions", "plan_read"]


@dataclasses.dataclass(frozen=True)
class PartitionReader:
    """Reads one partition of a plan: picklable settings, no live objects (what ``dd.from_map`` maps).

    Called with one partition's units and, from Dask's projection pushdown, the columns to read.
    """

    connection: ConnectionRef
    table: TableInfo
    schema: pa.Schema  # the table's columns, then the extra ones
    extras: tuple[tuple[str, str], ...]  # (output name, CQL expression) of writetime / ttl / token columns
    filters: FilterPlan
    options: FetchOptions
    dtype_backend: DtypeBackend
    exact_numbers: bool = True

    def output_schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Arrow schema of what a partition returns for ``columns`` (all when ``None``)."""
        if columns is None:
            return self.schema
        return select_fields(self.schema, columns, self.table.qualified_name)

    def query(self, columns: Sequence[str]) -> tuple[str, pa.Schema]:
        """The SELECT text for ``columns`` (plus the columns client-side filters need) and the Arrow schema
        of the rows it fetches."""
        wanted = list(columns)
        for group in self.filters.client:
            wanted += [c for c, _, _ in group if c not in wanted]
        if not wanted:  # a row count (len(ddf)) still needs one column per row
            wanted = [self.table.partition_key[0]]
        extras = dict(self.extras)
        exprs = [
            f"{extras[name]} AS {quote(name)}"
            if name in extras
            else cql.select_expression(name, self.table.column(name).cql_type)
            for name in wanted
        ]
        text = cql.select(
            self.table.keyspace,
            self.table.name,
            exprs,
            self.table.partition_key,
            self.filters.cql,
            by="partition" if self.filters.partitions is not None else "range",
            allow_filtering=self.filters.allow_filtering,
        )
        return text, pa.schema([self.schema.field(c) for c in wanted])

    def _converter(self, fetched: pa.Schema) -> Callable[[list[Any]], pa.RecordBatch]:
        convs: list[Callable[[Sequence[Any]], pa.Array]] = []
        extras = {name for name, _ in self.extras}
        for field in fetched:
            if field.name in extras:
                convs.append(functools.partial(pa.array, type=field.type))
            else:
                cql_type = self.table.column(field.name).cql_type
                convs.append(fetched_converter(cql_type, self.table.udts, exact_numbers=self.exact_numbers))

        def convert(rows: list[Any]) -> pa.RecordBatch:
            # rows are full-width tuples; pyarrow converts a list ~10x faster than a tuple
            cols = [list(c) for c in zip(*rows, strict=False)] if rows else [[] for _ in convs]
            return pa.RecordBatch.from_arrays(
                [conv(col) for conv, col in zip(convs, cols, strict=True)], schema=fetched
            )

        return convert

    def _fetch(
        self, units: Sequence[ReadUnit], fetched: pa.Schema, query: ReadQuery, stats: FetchStats | None = None
    ) -> Coroutine[Any, Any, list[pa.RecordBatch]]:
        params = self.filters.cql_params
        bound = [dataclasses.replace(u, params=(*u.params, *params)) for u in units] if params else units
        convert, decode = self._converter(fetched), self._decoder(fetched)
        return fetch_units(query, bound, convert, self.options, stats, decode)

    def _decoder(self, fetched: pa.Schema) -> PageDecoder | None:
        """The compiled page decoder of these columns (None: the driver path, same arrays)."""
        extras = {name for name, _ in self.extras}
        columns = [
            (None if f.name in extras else self.table.column(f.name).cql_type, f.type) for f in fetched
        ]
        return page_decoder(columns, fetched, self.table.udts, exact_numbers=self.exact_numbers)

    def _finish(self, batches: list[pa.RecordBatch], fetched: pa.Schema, out: pa.Schema) -> pa.Table:
        table = pa.Table.from_batches(batches, schema=fetched)
        if self.filters.client:
            table = table.filter(client_mask(table, self.filters.client))
        return table.select(out.names)

    def read_arrow(
        self,
        units: Sequence[ReadUnit],
        columns: Sequence[str] | None = None,
        stats: FetchStats | None = None,
    ) -> pa.Table:
        """Read ``units`` into one Arrow table with the output schema of ``columns``.

        The statement is prepared on this thread; the pages are fetched on the engine's loop. ``stats``,
        when given, counts the retries and range splits.
        """
        out = self.output_schema(columns)
        text, fetched = self.query(out.names)
        query = prepare_read(self.connection, text, self.options.timeout)
        return self._finish(runner.run(self._fetch(units, fetched, query, stats)), fetched, out)

    async def read_arrow_async(
        self, units: Sequence[ReadUnit], columns: Sequence[str] | None = None
    ) -> pa.Table:
        """:meth:`read_arrow` without blocking the caller's event loop (preparing runs in an executor)."""
        out = self.output_schema(columns)
        text, fetched = self.query(out.names)
        loop = asyncio.get_running_loop()
        query = await loop.run_in_executor(None, prepare_read, self.connection, text, self.options.timeout)
        batches = await runner.run_async(self._fetch(units, fetched, query))
        return self._finish(batches, fetched, out)

    def limited(self, n: int) -> PartitionReader | None:
        """This reader stopping after the first ``n`` rows of its partition (for ``ddf.head(n)``).

        ``None`` when rows are filtered after fetching: the first ``n`` fetched rows may not survive.
        """
        if self.filters.client:
            return None
        return dataclasses.replace(self, options=dataclasses.replace(self.options, limit=n))

    def __call__(self, units: Sequence[ReadUnit], columns: Sequence[str] | None = None) -> pd.DataFrame:
        table = self.read_arrow(units, columns)
        if not table.column_names:
            return pd.DataFrame(index=pd.RangeIndex(table.num_rows))
        return to_pandas(table, self.dtype_backend)


@dataclasses.dataclass(frozen=True)
class ReadPlan:
    """What a read decides before reading: the reader, each partition's units, the columns, the meta."""

    reader: PartitionReader
    partitions: list[tuple[ReadUnit, ...]]
    columns: list[str] | None
    meta: pd.DataFrame

    def empty_table(self) -> pa.Table:
        """A zero-row Arrow table of the plan's output schema."""
        return self.reader.output_schema(self.columns).empty_table()


def _extras(
    table: TableInfo, options: ReadOptions, partitioner: Partitioner
) -> list[tuple[str, str, pa.DataType]]:
    """(output name, CQL expression, Arrow type) of the writetime / TTL / token columns asked for."""
    eligible = [
        c.name
        for c in table.columns
        if c.kind in ("static", "regular")
        and c.type.name != "counter"
        and not (c.type.is_collection and not c.type.frozen)
    ]
    out: list[tuple[str, str, pa.DataType]] = []
    for option, func, suffix, typ in (
        (options.writetime, "WRITETIME", "_writetime", pa.int64()),
        (options.ttl, "TTL", "_ttl", pa.int32()),
    ):
        if not option:
            continue
        for name in eligible if option is True else list(option):
            if name not in eligible:
                why = (
                    "it is a key, counter or non-frozen collection"
                    if table.has_column(name)
                    else "it does not exist"
                )
                raise SchemaError(f"{func}({name!r}) is not available: {why}; eligible: {eligible}")
            out.append((f"{name}{suffix}", f"{func}({quote(name)})", typ))
    if options.token_column:
        typ = pa.int64() if partitioner == MURMUR3 else pa.string()
        out.append(("token", cql.token_expr(table.partition_key), typ))
    return out


def _row_bytes(arrow_schema: pa.Schema) -> int:
    """A rough size of one row, for turning a row count into bytes."""
    size = 0
    for field in arrow_schema:
        t = field.type
        size += (t.bit_width // 8) if pa.types.is_primitive(t) and t.bit_width >= 8 else 24
    return max(size, 8)


def build_plan(
    table: TableInfo,
    partitioner: Partitioner,
    ranges: Sequence[TokenRange],
    options: ReadOptions,
    *,
    connection: ConnectionRef,
    timeout: float,
    min_partitions: int,
    table_bytes: Callable[[int], float | None],
) -> ReadPlan:
    """The plan of a read, from what the cluster told :func:`plan_read`. No I/O of its own.

    Parameters
    ----------
    table : TableInfo
        The table.
    partitioner, ranges
        The ring: its partitioner and its non-wrapping token ranges with replicas.
    options : ReadOptions
        The read's keywords.
    connection : ConnectionRef
        Where partitions read from.
    timeout : float
        Seconds one page request may take.
    min_partitions : int
        Fewest partitions to make when sizing by bytes (about twice the workers' threads).
    table_bytes : callable
        ``table_bytes(row_bytes)`` → the whole table's size in bytes, or None when unknown; called only when
        the partitions are sized by bytes (a token-range read without ``npartitions``).
    """
    arrow = table_schema(table, exact_numbers=options.exact_numbers)
    for name, _, typ in (extras := _extras(table, options, partitioner)):
        if name in arrow.names:
            raise SchemaError(f"the extra column {name!r} would hide the table column of that name")
        arrow = arrow.append(pa.field(name, typ, metadata={b"role": b"extra"}))
    columns = list(options.columns) if options.columns is not None else None
    if columns is not None:  # the writetime / TTL / token columns asked for come with the columns chosen
        columns += [name for name, _, _ in extras if name not in columns]
    out = arrow if columns is None else select_fields(arrow, columns, table.qualified_name)
    fplan = plan_filters(normalise_filters(options.filters), table, options.allow_filtering)
    fetch = FetchOptions(
        fetch_size=options.fetch_size,
        consistency=options.consistency,
        concurrency=options.concurrency,
        timeout=timeout,
    )
    reader = PartitionReader(
        connection=connection,
        table=table,
        schema=arrow,
        extras=tuple((name, expr) for name, expr, _ in extras),
        filters=fplan,
        options=fetch,
        dtype_backend=options.dtype_backend,
        exact_numbers=options.exact_numbers,
    )
    if fplan.partitions is not None:
        parts = _partition_units(table, fplan.partitions, options.npartitions or min_partitions)
    else:
        parts = _range_units(ranges, partitioner, fplan, options, min_partitions, table_bytes, arrow)
    return ReadPlan(reader, parts, columns, empty_frame(out, options.dtype_backend))


def _partition_units(
    table: TableInfo, keys: Sequence[tuple[Any, ...]], npartitions: int
) -> list[tuple[ReadUnit, ...]]:
    """Direct reads of single partitions, in ``npartitions`` groups (fewer when there are fewer keys)."""
    pk = table.partition_key
    units = [ReadUnit(params=tuple(k), label=f"partition {dict(zip(pk, k, strict=True))}") for k in keys]
    size = math.ceil(len(units) / max(1, min(len(units), npartitions))) if units else 1
    return [tuple(units[i : i + size]) for i in range(0, len(units), size)] or [()]


def _range_units(
    ranges: Sequence[TokenRange],
    partitioner: Partitioner,
    fplan: FilterPlan,
    options: ReadOptions,
    min_partitions: int,
    table_bytes: Callable[[int], float | None],
    arrow: pa.Schema,
) -> list[tuple[ReadUnit, ...]]:
    """Token ranges (clipped by token filters, sampled) grouped into partitions of the target size."""
    if fplan.token_low is not None or fplan.token_high is not None:
        ranges = clip_ranges(ranges, fplan.token_low, fplan.token_high, partitioner)
    total: float | None = None
    if options.npartitions is None and ranges:
        whole = table_bytes(_row_bytes(arrow))
        if whole:
            total = whole * sum(r.width(partitioner) for r in ranges) / partitioner.ring_width
    if options.sample is not None and ranges:
        ranges = planner.sample_ranges(
            ranges, options.sample, random_state=options.random_state, partitioner=partitioner
        )
        total = total * options.sample if total else None
    if not ranges:
        return [()]
    groups = planner.plan_partitions(
        ranges,
        partitioner=partitioner,
        total_size=total,
        target_size=options.split_size_mb * 2**20,
        min_partitions=min_partitions,
        npartitions=options.npartitions,
    )
    return [
        tuple(ReadUnit(params=(r.start, r.end), replicas=r.replicas, token_range=r) for r in g)
        for g in groups
    ]


def default_min_partitions() -> int:
    """Twice this machine's usable cores: enough partitions to keep every core busy."""
    return 2 * len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2 * (os.cpu_count() or 1)


def plan_read(table: str, options: ReadOptions, *, min_partitions: int | None = None) -> ReadPlan:
    """Plan a read of ``table``: the table, the ring and the size from the cluster, then :func:`build_plan`.

    Parameters
    ----------
    table : str
        ``"keyspace.table"`` (or ``"table"`` with ``options.keyspace``).
    options : ReadOptions
        The read's keywords.
    min_partitions : int, optional
        Fewest partitions when sizing by bytes; default :func:`default_min_partitions`.

    Raises
    ------
    SchemaError
        Unknown keyspace, table or column (with close matches).
    ConnectionError
        The cluster cannot be reached.
    """
    keyspace, name = split_table_name(table, options.keyspace)
    ref, session = resolve_connection(options.connection)
    info = catalog.table_info(session, keyspace, name)
    partitioner, ranges = catalog.ring(session, keyspace)

    def table_bytes(row_bytes: int) -> float | None:
        estimate = catalog.size_estimate(session, keyspace, name)
        if estimate > 0:
            return estimate
        probes, share = planner.probe_ranges(ranges, partitioner)  # no estimate yet: count a sample
        if not probes:
            return None
        counted = catalog.count_rows(session, keyspace, name, info.partition_key, probes)
        return counted / share * row_bytes if counted else None

    return build_plan(
        info,
        partitioner,
        ranges,
        options,
        connection=ref,
        timeout=request_timeout(session),
        min_partitions=min_partitions or default_min_partitions(),
        table_bytes=table_bytes,
    )
