"""``read_cassandra``: a Cassandra table as a lazy Dask DataFrame, one partition per group of token ranges.

The client process reads the table's metadata and the ring, plans token ranges (``planner``) and builds
``dd.from_map(ReadPartition(...), partition_specs, meta=...)``. Each partition spec is a tuple of picklable
:class:`~cassandra_frames.engine.reader.ReadUnit`; the reader callable holds only picklable settings (a
:class:`ConnectionConfig`, never a password) and opens one session per worker process on first use.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from cassandra_frames import cql, planner, schema
from cassandra_frames.dask_head import with_head_pushdown
from cassandra_frames.engine import runner
from cassandra_frames.engine.catalog import (
    ConnectionRef,
    prepare,
    read_profile,
    resolve_connection,
    session_for,
    split_name,
    table_metadata,
)
from cassandra_frames.engine.reader import FetchOptions, ReadUnit, fetch_units
from cassandra_frames.errors import CassandraFramesError, SchemaError, close_matches
from cassandra_frames.filters import FilterPlan, client_mask, normalise_filters, plan_filters

__all__ = ["ReadPartition", "plan_read", "read_cassandra"]

DtypeBackend = Literal["pyarrow", "numpy_nullable"]


# ------------------------------------------------------------------------------------ the reader


def _plain_array(values: Sequence[Any], arrow_type: pa.DataType) -> pa.Array:
    return pa.array(values, type=arrow_type)


@dataclasses.dataclass(frozen=True)
class ReadPartition:
    """The per-partition function given to ``dd.from_map``: picklable settings, no live objects.

    Called with one partition's units and (from Dask's projection pushdown) the columns to read.
    """

    connection: ConnectionRef
    keyspace: str
    table: str
    schema: pa.Schema
    partition_key: tuple[str, ...]
    udts: Mapping[str, Sequence[tuple[str, str]]]
    extras: tuple[tuple[str, str, str], ...]  # (output name, CQL expression, kind) for writetime/ttl/token
    filters: FilterPlan
    options: FetchOptions
    dtype_backend: DtypeBackend
    direct: bool  # units are single partitions (pk = ?) instead of token ranges
    exact_numbers: bool = True

    def output_schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Arrow schema of what a partition returns for ``columns`` (all when ``None``)."""
        if columns is None:
            return self.schema
        missing = [c for c in columns if c not in self.schema.names]
        if missing:
            raise SchemaError(
                f"unknown column {missing[0]!r} of {self.keyspace}.{self.table}"
                f"{close_matches(missing[0], self.schema.names)}"
            )
        return pa.schema([self.schema.field(c) for c in columns])

    def _fetch_plan(self, columns: Sequence[str]) -> tuple[str, list[str], pa.Schema]:
        """Statement text, fetched column names and the fetched Arrow schema for ``columns``."""
        wanted = list(columns)
        for group in self.filters.client:
            wanted += [c for c, _, _ in group if c not in wanted]
        if not wanted:  # a row count (len(ddf)) still needs one column per row
            wanted = [self.partition_key[0]]
        extras = {name: (expr, kind) for name, expr, kind in self.extras}
        exprs = []
        for name in wanted:
            if name in extras:
                exprs.append(f"{extras[name][0]} AS {cql.quote(name)}")
            else:
                field = self.schema.field(name)
                exprs.append(schema.select_expression(name, field.metadata[b"cql_type"].decode()))
        build = cql.select_partition if self.direct else cql.select_range
        text = build(
            self.keyspace,
            self.table,
            exprs,
            self.partition_key,
            self.filters.cql,
            allow_filtering=self.filters.allow_filtering,
        )
        return text, wanted, pa.schema([self.schema.field(c) for c in wanted])

    def _converter(self, fetched: pa.Schema) -> Callable[[list[Any]], pa.RecordBatch]:
        convs: list[Callable[[Sequence[Any]], pa.Array]] = []
        for field in fetched:
            cql_type = field.metadata.get(b"cql_type", b"").decode() if field.metadata else ""
            if field.metadata and field.metadata.get(b"role") == b"extra":
                convs.append(functools.partial(_plain_array, arrow_type=field.type))
            else:
                convs.append(schema.fetched_converter(cql_type, self.udts, exact_numbers=self.exact_numbers))

        def convert(rows: list[Any]) -> pa.RecordBatch:
            # rows are full-width tuples; pyarrow converts a list ~10x faster than a tuple
            cols = [list(c) for c in zip(*rows, strict=False)] if rows else [[] for _ in convs]
            return pa.RecordBatch.from_arrays(
                [conv(col) for conv, col in zip(convs, cols, strict=True)], schema=fetched
            )

        return convert

    async def fetch_table(self, units: Sequence[ReadUnit], columns: Sequence[str] | None = None) -> pa.Table:
        """Read ``units`` on the engine loop into one Arrow table with the output schema."""
        out_schema = self.output_schema(columns)
        session = session_for(self.connection)
        profile = read_profile(session, self.options.timeout)
        text, _, fetched = self._fetch_plan(out_schema.names)
        prepared = prepare(session, text)
        params = self.filters.cql_params
        bound_units = [dataclasses.replace(u, params=(*u.params, *params)) for u in units]
        batches = await fetch_units(
            session,
            prepared,
            bound_units,
            self._converter(fetched),
            self.options,
            execution_profile=profile,
        )
        table = pa.Table.from_batches(batches, schema=fetched)
        if self.filters.client:
            table = table.filter(client_mask(table, self.filters.client))
        return table.select(out_schema.names) if out_schema.names else table.select([])

    def limited(self, n: int) -> ReadPartition | None:
        """This reader stopping after the first ``n`` rows of its partition (for ``ddf.head(n)``).

        ``None`` when rows are filtered after fetching: the first ``n`` fetched rows may not survive.
        """
        if self.filters.client:
            return None
        return dataclasses.replace(self, options=dataclasses.replace(self.options, limit=n))

    def __call__(self, units: Sequence[ReadUnit], columns: Sequence[str] | None = None) -> pd.DataFrame:
        table = runner.run(self.fetch_table(units, columns))
        if not table.column_names:
            return pd.DataFrame(index=pd.RangeIndex(table.num_rows))
        return schema.to_pandas(table, self.dtype_backend)


# ------------------------------------------------------------------------------------ planning


def _dask_threads() -> int:
    if "distributed" in sys.modules:  # no import: a client can only exist if distributed is loaded
        from distributed import get_client

        try:
            client = get_client()
        except ValueError:
            client = None
        if client is not None:
            nthreads: dict[str, int] = client.nthreads()  # type: ignore[no-untyped-call]
            return max(1, sum(nthreads.values()))
    import dask

    workers = dask.config.get("num_workers", None)
    if workers:
        return int(workers)
    from dask.system import CPU_COUNT

    return int(CPU_COUNT)


def _ring(session: Any, keyspace: str) -> tuple[planner.Partitioner, list[planner.TokenRange]]:
    meta = session.cluster.metadata
    part = planner.partitioner_for(meta.partitioner or "")
    tm = meta.token_map
    if tm is None or not tm.ring:
        raise CassandraFramesError("the driver has no token map (metadata disabled?): cannot plan ranges")
    replicas = {t.value: tuple(str(h.address) for h in tm.get_replicas(keyspace, t)) for t in tm.ring}
    return part, planner.ring_ranges([t.value for t in tm.ring], replicas, part)


def _estimate_bytes(
    session: Any,
    keyspace: str,
    table: str,
    ranges: Sequence[planner.TokenRange],
    pk: Sequence[str],
    row_bytes: int,
    profile: Any,
) -> float | None:
    """Table size from ``system.size_estimates`` on every node; a row-count probe when they are empty."""
    from cassandra.query import SimpleStatement

    total = 0.0
    q = SimpleStatement(
        "SELECT mean_partition_size, partitions_count FROM system.size_estimates "
        "WHERE keyspace_name = %s AND table_name = %s"
    )
    for host in session.cluster.metadata.all_hosts():
        if host.is_up is False:
            continue
        try:
            rows = session.execute(q, (keyspace, table), host=host, timeout=10, execution_profile=profile)
        except Exception:  # noqa: BLE001 - estimates are a hint; the probe below covers their absence
            continue
        total += sum((r[0] or 0) * (r[1] or 0) for r in rows)
    if total > 0:
        return total
    # probe: count the rows in 16 thin slices spread over the ring
    part = planner.MURMUR3
    slices = planner.sample_ranges(ranges, 1 / 256, random_state=0, partitioner=part, pieces=4096)[:16]
    if not slices:
        return None
    covered = sum(r.width(part) for r in slices) / (part.max_token - part.min_token)
    tok = cql.token_expr(pk)
    stmt = SimpleStatement(
        f"SELECT count(*) FROM {cql.qualified(keyspace, table)} WHERE {tok} > %s AND {tok} <= %s"
    )
    futures = [
        session.execute_async(stmt, (r.start, r.end), timeout=30, execution_profile=profile) for r in slices
    ]
    counted: int = sum(int(f.result().one()[0]) for f in futures)
    if counted == 0:
        return None
    return float(counted / covered * row_bytes)


def _row_bytes(arrow_schema: pa.Schema) -> int:
    size = 0
    for field in arrow_schema:
        t = field.type
        size += (t.bit_width // 8) if pa.types.is_primitive(t) and t.bit_width >= 8 else 24
    return max(size, 8)


@dataclasses.dataclass(frozen=True)
class ReadPlan:
    """What :func:`read_cassandra` builds before handing it to Dask (also used by ``aio``)."""

    reader: ReadPartition
    partitions: list[tuple[ReadUnit, ...]]
    columns: list[str] | None
    meta: pd.DataFrame


def _extras(
    table_meta: Any, writetime: Any, ttl: Any, token_column: bool, partitioner: planner.Partitioner
) -> list[tuple[str, str, str, pa.DataType]]:
    pk = [c.name for c in table_meta.partition_key]
    ck = [c.name for c in table_meta.clustering_key]
    eligible = []
    for name, col in table_meta.columns.items():
        t = schema.parse_cql_type(col.cql_type)
        multicell = t.name in ("list", "set", "map") and not t.frozen
        if name in pk or name in ck or t.name == "counter" or multicell:
            continue
        eligible.append(name)
    out: list[tuple[str, str, str, pa.DataType]] = []
    for option, func, suffix, typ in (
        (writetime, "WRITETIME", "_writetime", pa.int64()),
        (ttl, "TTL", "_ttl", pa.int32()),
    ):
        if not option:
            continue
        names = eligible if option is True else list(option)
        for name in names:
            if name not in eligible:
                why = (
                    "it does not exist"
                    if name not in table_meta.columns
                    else "it is a key, counter or non-frozen collection"
                )
                raise SchemaError(f"{func}({name!r}) is not available: {why}; eligible: {eligible}")
            out.append((f"{name}{suffix}", f"{func}({cql.quote(name)})", func.lower(), typ))
    if token_column:
        typ = pa.int64() if partitioner is planner.MURMUR3 else pa.string()
        out.append(("token", cql.token_expr(pk), "token", typ))
    return out


def plan_read(
    table: str,
    *,
    keyspace: str | None = None,
    connection: Any = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    split_size_mb: float = 64,
    npartitions: int | None = None,
    sample: float | None = None,
    random_state: int | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
    consistency: str = "LOCAL_ONE",
    fetch_size: int = 5000,
    concurrency: int = 4,
    writetime: Any = None,
    ttl: Any = None,
    token_column: bool = False,
    allow_filtering: bool = False,
    exact_numbers: bool = True,
) -> ReadPlan:
    """Everything :func:`read_cassandra` decides before reading: schema, ranges, partitions, meta."""
    if dtype_backend not in ("pyarrow", "numpy_nullable"):
        raise CassandraFramesError(
            f"dtype_backend must be 'pyarrow' or 'numpy_nullable', not {dtype_backend!r}"
        )
    if split_size_mb <= 0:
        raise CassandraFramesError(f"split_size_mb must be positive, not {split_size_mb}")
    if npartitions is not None and npartitions < 1:
        raise CassandraFramesError(f"npartitions must be at least 1, not {npartitions}")
    from cassandra import ConsistencyLevel

    if consistency.upper() not in ConsistencyLevel.name_to_value:
        raise CassandraFramesError(
            f"consistency {consistency!r} is not a consistency level; use one of "
            f"{sorted(ConsistencyLevel.name_to_value)}"
        )
    ks_name, table_name = split_name(table, keyspace)
    ref, session = resolve_connection(connection)
    ks_meta, tbl_meta = table_metadata(session, ks_name, table_name)
    arrow_schema = schema.table_schema(tbl_meta, ks_meta, exact_numbers=exact_numbers)
    partitioner, ranges = _ring(session, ks_name)
    extras = _extras(tbl_meta, writetime, ttl, token_column, partitioner)
    for name, _, kind, typ in extras:
        if name in arrow_schema.names:
            raise SchemaError(f"the {kind} column {name!r} would hide the table column of that name")
        arrow_schema = arrow_schema.append(pa.field(name, typ, metadata={b"role": b"extra"}))
    if columns is not None:
        columns = list(columns)
        out_schema = pa.schema([arrow_schema.field(c) for c in columns if c in arrow_schema.names])
        if len(out_schema) != len(columns):
            bad = next(c for c in columns if c not in arrow_schema.names)
            raise SchemaError(
                f"unknown column {bad!r} of {ks_name}.{table_name}{close_matches(bad, arrow_schema.names)}"
            )
    else:
        out_schema = arrow_schema

    groups = normalise_filters(filters)
    fplan = plan_filters(groups, tbl_meta, allow_filtering)
    for group in fplan.client:
        for col, _, _ in group:
            if col not in arrow_schema.names:
                raise SchemaError(f"filter column {col!r} is not readable")
    pk = [c.name for c in tbl_meta.partition_key]
    options = FetchOptions(
        fetch_size=fetch_size,
        consistency=consistency,
        concurrency=concurrency,
        timeout=session.cluster.profile_manager.default.request_timeout or 30.0,
    )
    reader = ReadPartition(
        connection=ref,
        keyspace=ks_name,
        table=table_name,
        schema=arrow_schema,
        partition_key=tuple(pk),
        udts=schema.udts_of(ks_meta),
        extras=tuple((n, e, k) for n, e, k, _ in extras),
        filters=fplan,
        options=options,
        dtype_backend=dtype_backend,
        direct=fplan.partitions is not None,
        exact_numbers=exact_numbers,
    )
    min_parts = 2 * _dask_threads()
    if fplan.partitions is not None:
        units = [
            ReadUnit(params=tuple(key), label=f"partition {dict(zip(pk, key, strict=True))}")
            for key in fplan.partitions
        ]
        n = npartitions or max(1, min(len(units), min_parts))
        size = math.ceil(len(units) / n) if units else 1
        parts = [tuple(units[i : i + size]) for i in range(0, len(units), size)] or [()]
    else:
        if fplan.token_low is not None or fplan.token_high is not None:
            ranges = _clip(ranges, fplan.token_low, fplan.token_high, partitioner)
        total = None
        if npartitions is None:
            total = _estimate_bytes(
                session,
                ks_name,
                table_name,
                ranges,
                pk,
                _row_bytes(arrow_schema),
                read_profile(session, options.timeout),
            )
        if sample is not None:
            if not 0 < sample <= 1:
                raise CassandraFramesError(f"sample must be a fraction in (0, 1], not {sample}")
            ranges = planner.sample_ranges(ranges, sample, random_state=random_state, partitioner=partitioner)
            total = total * sample if total else None
        groups_ = (
            planner.plan_partitions(
                ranges,
                partitioner=partitioner,
                total_size=total,
                target_size=split_size_mb * 2**20,
                min_partitions=min_parts,
                npartitions=npartitions,
            )
            if ranges
            else [[]]
        )
        parts = [
            tuple(ReadUnit(params=(r.start, r.end), replicas=r.replicas, token_range=r) for r in g)
            for g in groups_
        ]
    meta = schema.empty_frame(out_schema, dtype_backend)
    return ReadPlan(reader, parts, columns, meta)


def _clip(
    ranges: Sequence[planner.TokenRange], low: int | None, high: int | None, part: planner.Partitioner
) -> list[planner.TokenRange]:
    lo = part.min_token if low is None else max(low, part.min_token)
    hi = part.max_token if high is None else min(high, part.max_token)
    out = []
    for r in ranges:
        s, e = max(r.start, lo), min(r.end, hi)
        if s < e:
            out.append(dataclasses.replace(r, start=s, end=e))
    return out


def read_cassandra(
    table: str,
    *,
    keyspace: str | None = None,
    connection: Any = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    split_size_mb: float = 64,
    npartitions: int | None = None,
    sample: float | None = None,
    random_state: int | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
    consistency: str = "LOCAL_ONE",
    fetch_size: int = 5000,
    concurrency: int = 4,
    writetime: Sequence[str] | bool | None = None,
    ttl: Sequence[str] | bool | None = None,
    token_column: bool = False,
    allow_filtering: bool = False,
    exact_numbers: bool = True,
) -> Any:
    """Read a Cassandra table as a lazy Dask DataFrame partitioned by token range.

    Parameters
    ----------
    table : str
        ``"keyspace.table"`` (or ``"table"`` with ``keyspace=``). Mixed-case names as the schema has them.
    keyspace : str, optional
        Keyspace, when ``table`` names none.
    connection : ConnectionConfig or cassandra Session/Cluster, optional
        Where to read. Default: ``ConnectionConfig.from_env()`` (``$CASSANDRA_CONTACT_POINTS`` or the local
        node). A ``ConnectionConfig`` is required for a ``distributed`` cluster of worker processes.
    columns : list of str, optional
        Columns to read (Dask also pushes later column selections down to the read).
    filters : list of tuples or list of lists of tuples, optional
        ``read_parquet``-style DNF filters ``(column, op, value)`` with op in ``== != < <= > >= in`` and
        ``not in``. A full partition key with ``==``/``in`` becomes direct partition reads (no ring scan),
        followed by clustering ``==`` prefixes / ranges; ``("token", op, n)`` bounds narrow the ring;
        ``==``/range filters on SAI-indexed columns go to CQL; everything else is applied after fetching.
    split_size_mb : float
        Target size of a partition, from ``system.size_estimates`` (or a row-count probe).
    npartitions : int, optional
        Exact number of partitions (overrides ``split_size_mb``).
    sample : float, optional
        Read random token sub-ranges covering about this fraction of the ring.
    random_state : int, optional
        Seed of ``sample``.
    dtype_backend : {"pyarrow", "numpy_nullable"}
        pandas dtypes of the partitions (see docs/types.md).
    consistency : str
        Read consistency level.
    fetch_size : int
        Rows per page.
    concurrency : int
        Token ranges read at once within one partition.
    writetime, ttl : list of str or True, optional
        Add ``<col>_writetime`` (µs since epoch) / ``<col>_ttl`` (s) for these columns
        (``True``: every eligible column).
    token_column : bool
        Add a ``token`` column with each row's partition token.
    allow_filtering : bool
        Push every filter to CQL with ``ALLOW FILTERING`` (never done unless asked).
    exact_numbers : bool
        decimal and varint as exact strings (default) or as float64 (lossy).

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; ``meta`` comes from the table schema. Every row is read exactly once; ``head(n)`` fetches
        only the first ``n`` rows of the first partition.

    Raises
    ------
    SchemaError
        Unknown keyspace, table or column (with close matches).
    ConnectionError
        The cluster cannot be reached (lists the contact points tried).
    """
    import dask.dataframe as dd

    plan = plan_read(
        table,
        keyspace=keyspace,
        connection=connection,
        columns=columns,
        filters=filters,
        split_size_mb=split_size_mb,
        npartitions=npartitions,
        sample=sample,
        random_state=random_state,
        dtype_backend=dtype_backend,
        consistency=consistency,
        fetch_size=fetch_size,
        concurrency=concurrency,
        writetime=writetime,
        ttl=ttl,
        token_column=token_column,
        allow_filtering=allow_filtering,
        exact_numbers=exact_numbers,
    )
    kwargs = {"columns": plan.columns} if plan.columns is not None else {}
    ddf = dd.from_map(  # type: ignore[no-untyped-call]
        plan.reader,
        plan.partitions,
        meta=plan.meta,
        label=f"read-cassandra-{plan.reader.keyspace}.{plan.reader.table}",
        enforce_metadata=False,
        **kwargs,
    )
    return with_head_pushdown(ddf)
