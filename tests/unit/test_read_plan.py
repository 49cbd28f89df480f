"""Read planning from TableInfo values and a ring, no server: partition sizing (size estimates, the row-count
probe, npartitions, token bounds, sampling), direct partition reads, column pruning, the extra columns, and
the options' checks. ``plan_read``'s I/O is replaced by recording stand-ins for the engine's catalog."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import cassandra_frames.read as cfread
from cassandra_frames import dask as cfdask
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.errors import CassandraFramesError, SchemaError
from cassandra_frames.options import ReadOptions, WriteOptions
from cassandra_frames.progress.tracker import PROGRESS_KEYWORDS
from cassandra_frames.read import build_plan, plan_read
from cassandra_frames.schema import ColumnInfo, TableInfo
from cassandra_frames.tokens import MURMUR3, RANDOM, Partitioner, TokenRange, ranges_cover_ring, ring_ranges

CONFIG = ConnectionConfig(("127.0.0.1",))
MB = 2**20
ROW_BYTES = 4 + 4 + 24 + 24 + 8 + 24 + 24 + 4  # TABLE's rough row size: fixed widths, 24 for the others
TABLE = TableInfo(
    "ks",
    "t",
    (
        ColumnInfo("pk", "int", "partition_key"),
        ColumnInfo("ck", "int", "clustering"),
        ColumnInfo("st", "text", "static"),
        ColumnInfo("v", "text"),
        ColumnInfo("ts", "timestamp"),
        ColumnInfo("l", "list<int>"),
        ColumnInfo("fl", "frozen<list<int>>"),
        ColumnInfo("n", "int"),
    ),
    sai_columns=frozenset({"n"}),
)


def ring(part: Partitioner = MURMUR3, nodes: int = 4) -> list[TokenRange]:
    tokens = [part.min_token + part.ring_width * i // nodes for i in range(1, nodes + 1)]
    return ring_ranges(tokens, {t: (f"10.0.0.{i}",) for i, t in enumerate(tokens)}, part)


def plan(
    options: ReadOptions,
    part: Partitioner = MURMUR3,
    size: float | None = None,
    calls: list[int] | None = None,
) -> Any:
    def table_bytes(row_bytes: int) -> float | None:
        if calls is not None:
            calls.append(row_bytes)
        return size

    return build_plan(
        TABLE,
        part,
        ring(part),
        options,
        connection=CONFIG,
        timeout=12.0,
        min_partitions=2,
        table_bytes=table_bytes,
    )


def ranges_of(p: Any) -> list[TokenRange]:
    return [u.token_range for units in p.partitions for u in units]


def test_partitions_are_sized_from_the_table_size() -> None:
    calls: list[int] = []
    p = plan(ReadOptions(split_size_mb=64), size=640 * MB, calls=calls)
    assert len(p.partitions) == 10
    assert ranges_cover_ring(ranges_of(p))
    assert calls == [ROW_BYTES]  # asked once, with the row size a probe's row count is multiplied by
    assert len(plan(ReadOptions(split_size_mb=16), size=640 * MB).partitions) == 40


def test_unknown_size_gives_the_minimum_and_npartitions_does_not_ask() -> None:
    assert len(plan(ReadOptions(), size=None).partitions) == 2  # min_partitions
    calls: list[int] = []
    p = plan(ReadOptions(npartitions=7), size=640 * MB, calls=calls)
    assert len(p.partitions) == 7
    assert calls == []
    assert ranges_cover_ring(ranges_of(p))


def test_token_bounds_and_sampling_scale_the_size() -> None:
    half = plan(ReadOptions(filters=[("token", ">", 0)]), size=640 * MB)
    assert len(half.partitions) == 5  # half the ring holds about half the bytes
    assert all(r.start >= 0 for r in ranges_of(half))
    sampled = plan(ReadOptions(sample=0.25, random_state=1), size=640 * MB)
    assert len(sampled.partitions) == 3  # ceil(640 * 0.25 / 64) = 3
    width = sum(r.width(MURMUR3) for r in ranges_of(sampled))
    assert 0.25 <= width / MURMUR3.ring_width < 0.25 + 1 / 32


def test_random_partitioner_ring_plans() -> None:
    p = plan(ReadOptions(token_column=True), part=RANDOM, size=320 * MB)
    assert len(p.partitions) == 5
    assert ranges_cover_ring(ranges_of(p), RANDOM)
    assert str(p.meta.dtypes["token"]) == "string[pyarrow]"  # Random tokens reach 2**127


def test_full_partition_key_reads_partitions_directly() -> None:
    calls: list[int] = []
    p = plan(ReadOptions(filters=[("pk", "in", [1, 2, 3]), ("ck", ">", 4)]), size=640 * MB, calls=calls)
    assert calls == []
    assert [[u.params for u in units] for units in p.partitions] == [[(1,), (2,)], [(3,)]]
    text, _ = p.reader.query(["v"])
    assert text == 'SELECT "v" FROM "ks"."t" WHERE "pk" = ? AND "ck" > ?'


def test_the_select_names_only_the_columns_asked_for() -> None:
    p = plan(ReadOptions(), size=None)
    text, fetched = p.reader.query(["v"])
    assert text == 'SELECT "v" FROM "ks"."t" WHERE token("pk") > ? AND token("pk") <= ?'
    assert fetched.names == ["v"]
    text, _ = p.reader.query(["ts", "n"])
    assert text.startswith('SELECT toUnixTimestamp("ts") AS "ts", "n" FROM')
    text, _ = p.reader.query([])  # len(ddf): one column per row is still needed
    assert text.startswith('SELECT "pk" FROM')
    text, fetched = plan(ReadOptions(filters=[("v", "!=", "x"), ("n", "==", 3)])).reader.query(["ck"])
    assert fetched.names == ["ck", "v"]  # v is filtered on the client, so it is fetched too
    assert text.endswith('AND "n" = ?')  # n has an SAI index: pushed to CQL


def test_writetime_and_ttl_columns_cover_the_eligible_columns() -> None:
    p = plan(ReadOptions(writetime=True, ttl=["v"]))
    extra = [c for c in p.meta.columns if c.endswith(("_writetime", "_ttl"))]
    assert extra == ["st_writetime", "v_writetime", "ts_writetime", "fl_writetime", "n_writetime", "v_ttl"]
    text, _ = p.reader.query(["v_ttl", "fl_writetime"])
    assert text.startswith('SELECT TTL("v") AS "v_ttl", WRITETIME("fl") AS "fl_writetime" FROM')
    with pytest.raises(SchemaError, match=r"TTL\('l'\) is not available: it is a key, counter or non-frozen"):
        plan(ReadOptions(ttl=["l"]))
    with pytest.raises(SchemaError, match=r"WRITETIME\('zz'\) is not available: it does not exist"):
        plan(ReadOptions(writetime=["zz"]))


def test_extra_columns_asked_for_come_with_the_columns_chosen() -> None:
    p = plan(ReadOptions(columns=["pk", "v"], writetime=["v"], ttl=["v"], token_column=True))
    assert list(p.meta.columns) == ["pk", "v", "v_writetime", "v_ttl", "token"]
    assert p.columns == ["pk", "v", "v_writetime", "v_ttl", "token"]
    p = plan(ReadOptions(columns=["v_ttl", "v"], ttl=["v"]))  # named among the columns: kept where it is
    assert list(p.meta.columns) == ["v_ttl", "v"]


def test_unknown_columns_are_named() -> None:
    with pytest.raises(SchemaError, match=r"column 'vv' does not exist in table ks.t; did you mean 'v'"):
        plan(ReadOptions(columns=["pk", "vv"]))
    with pytest.raises(SchemaError, match=r"column 'vv' does not exist in table ks.t"):
        plan(ReadOptions()).reader.output_schema(["vv"])


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"dtype_backend": "numpy"}, "dtype_backend must be"),
        ({"consistency": "MOSTLY"}, "consistency 'MOSTLY' is not a consistency level"),
        ({"split_size_mb": 0}, "split_size_mb must be positive"),
        ({"npartitions": 0}, "npartitions must be at least 1"),
        ({"sample": 1.5}, r"sample must be a fraction in \(0, 1\]"),
        ({"colums": ["v"]}, "unknown read option 'colums'; did you mean 'columns'"),
    ],
)
def test_bad_read_options_are_named(keywords: dict[str, Any], message: str) -> None:
    with pytest.raises(CassandraFramesError, match=message):
        ReadOptions.from_keywords(keywords)


@pytest.mark.parametrize(
    ("front", "options", "skip"),
    [
        (cfdask.read_cassandra, ReadOptions, {"table"}),
        (cfdask.to_cassandra, WriteOptions, {"df", "table", "compute", *PROGRESS_KEYWORDS}),
    ],
)
def test_public_keywords_are_exactly_the_options(front: Any, options: Any, skip: set[str]) -> None:
    """The public signature and the options dataclass list the same keywords with the same defaults, so a
    keyword can neither be dropped on its way to planning nor be planned without being documented."""
    params = {n: p.default for n, p in inspect.signature(front).parameters.items() if n not in skip}
    fields = {n: p.default for n, p in inspect.signature(options).parameters.items()}
    assert params == fields
    doc = inspect.getdoc(front) or ""
    assert all(name in doc for name in params), "every keyword is documented"


class FakeCatalog:
    """Stands in for the engine's catalog: records what plan_read asks the cluster."""

    def __init__(self, part: Partitioner, estimate: float, rows: int) -> None:
        self.part, self.estimate, self.rows = part, estimate, rows
        self.counted: list[list[TokenRange]] = []

    def table_info(self, session: Any, keyspace: str, table: str) -> TableInfo:
        assert (keyspace, table) == ("ks", "t")
        return TABLE

    def ring(self, session: Any, keyspace: str) -> tuple[Partitioner, list[TokenRange]]:
        return self.part, ring(self.part)

    def size_estimate(self, session: Any, keyspace: str, table: str) -> float:
        return self.estimate

    def count_rows(self, session: Any, keyspace: str, table: str, pk: Any, ranges: list[TokenRange]) -> int:
        self.counted.append(list(ranges))
        return self.rows


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(part: Partitioner, estimate: float, rows: int) -> FakeCatalog:
        fake = FakeCatalog(part, estimate, rows)
        monkeypatch.setattr(cfread, "catalog", fake)
        monkeypatch.setattr(cfread, "resolve_connection", lambda connection: (CONFIG, object()))
        monkeypatch.setattr(cfread, "request_timeout", lambda session: 12.0)
        return fake

    return install


def test_plan_read_sizes_from_the_size_estimates(engine: Any) -> None:
    fake = engine(MURMUR3, estimate=256 * MB, rows=0)
    p = plan_read("ks.t", ReadOptions(split_size_mb=32), min_partitions=2)
    assert len(p.partitions) == 8
    assert fake.counted == []  # estimates were there: no probe
    assert p.reader.options.timeout == 12.0


@pytest.mark.parametrize("part", [MURMUR3, RANDOM])
def test_plan_read_probes_row_counts_when_estimates_are_empty(engine: Any, part: Partitioner) -> None:
    fake = engine(part, estimate=0.0, rows=1000)
    p = plan_read("ks.t", ReadOptions(split_size_mb=1), min_partitions=2)
    assert len(fake.counted) == 1
    probes = fake.counted[0]
    assert 0 < len(probes) <= 16
    assert all(part.min_token <= r.start < r.end <= part.max_token for r in probes)
    share = sum(r.width(part) for r in probes) / part.ring_width
    expected = 1000 / share * ROW_BYTES / MB  # the table's estimated MiB, at 1 MiB a partition
    assert len(p.partitions) == pytest.approx(expected, rel=0.01, abs=1)


def test_plan_read_without_estimates_or_rows_uses_the_minimum(engine: Any) -> None:
    engine(MURMUR3, estimate=0.0, rows=0)
    assert len(plan_read("ks.t", ReadOptions(), min_partitions=3).partitions) == 3
