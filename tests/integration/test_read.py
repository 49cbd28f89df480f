"""read_cassandra against real nodes: exactly-once on one token, vnodes and a 3-node ring; edge tables;
pushdown; bad input; a distributed LocalCluster."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from cassandra_frames import aio, local
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.dask import read_cassandra
from cassandra_frames.engine.session import close_session, connect
from cassandra_frames.errors import CassandraFramesError, ConnectionError, SchemaError
from cassandra_frames.options import ReadOptions
from cassandra_frames.read import plan_read
from tests.loader import load_rows

ROWS = 6_000
PARTS = 600


def _fill(session: Any, keyspace: str, rf: int = 1) -> set[tuple[int, int, str]]:
    from cassandra.concurrent import execute_concurrent_with_args

    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
    )
    session.execute(f"CREATE TABLE {keyspace}.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    rows = {(i % PARTS, i // PARTS, f"v{i}") for i in range(ROWS)}
    insert = session.prepare(f"INSERT INTO {keyspace}.t (pk, ck, v) VALUES (?, ?, ?)")
    results = execute_concurrent_with_args(session, insert, list(rows), concurrency=64)
    assert all(ok for ok, _ in results)
    return rows


def _read_set(df: pd.DataFrame) -> list[tuple[int, int, str]]:
    return [(int(a), int(b), str(c)) for a, b, c in df[["pk", "ck", "v"]].itertuples(index=False)]


def _assert_exactly_once(table: str, cfg: ConnectionConfig, expected: set[Any], npartitions: int) -> None:
    ddf = read_cassandra(table, connection=cfg, npartitions=npartitions)
    assert ddf.npartitions == npartitions
    got = _read_set(ddf.compute())
    assert len(got) == len(expected), f"{len(got)} rows read for {len(expected)} written"
    assert set(got) == expected


@pytest.fixture
def filled(cassandra_session: Any, keyspace: str) -> set[tuple[int, int, str]]:
    return _fill(cassandra_session, keyspace)


@pytest.mark.parametrize("npartitions", [1, 2, 7, 64, 1024])
def test_exactly_once_single_token(
    cassandra_config: ConnectionConfig, keyspace: str, filled: set[Any], npartitions: int
) -> None:
    _assert_exactly_once(f"{keyspace}.t", cassandra_config, filled, npartitions)


@pytest.fixture(scope="module")
def vnode_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectionConfig]:
    d = tmp_path_factory.mktemp("vnodes")
    cluster = local.start(d, num_tokens=16, address="127.0.0.51")
    yield cluster.connection_config()
    close_session(cluster.connection_config())
    local.stop(d, clean=True)


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectionConfig]:
    d = tmp_path_factory.mktemp("ring")
    cluster = local.start(d, nodes=3, num_tokens=16, address="127.0.0.61")
    yield cluster.connection_config()
    close_session(cluster.connection_config())
    local.stop(d, clean=True)


@pytest.mark.cluster
def test_exactly_once_vnodes(vnode_node: ConnectionConfig) -> None:
    session = connect(vnode_node)
    rows = _fill(session, "vn")
    session.cluster.shutdown()
    for n in (1, 2, 7, 64, 1024):
        _assert_exactly_once("vn.t", vnode_node, rows, n)


@pytest.mark.cluster
def test_exactly_once_three_node_ring(ring: ConnectionConfig) -> None:
    session = connect(ring)
    rows = _fill(session, "ring", rf=2)
    assert len(session.cluster.metadata.token_map.ring) == 48
    session.cluster.shutdown()
    for n in (1, 2, 7, 64, 1024):
        _assert_exactly_once("ring.t", ring, rows, n)
    # with at least as many partitions as runs of equal replica sets, no partition mixes replica sets
    plan = plan_read("ring.t", ReadOptions(connection=ring, npartitions=64))
    for units in plan.partitions:
        assert len({frozenset(u.replicas) for u in units}) == 1
        assert all(len(u.replicas) == 2 for u in units)


def test_empty_table_has_meta_and_no_rows(
    cassandra_session: Any, cassandra_config: Any, keyspace: str
) -> None:
    cassandra_session.execute(f"CREATE TABLE {keyspace}.empty (k int PRIMARY KEY, t text, d double)")
    ddf = read_cassandra(f"{keyspace}.empty", connection=cassandra_config)
    df = ddf.compute()
    assert len(df) == 0
    assert list(df.columns) == ["k", "d", "t"] or list(df.columns) == ["k", "t", "d"]
    assert dict(df.dtypes) == dict(ddf.dtypes)
    assert str(df.dtypes["k"]) == "int32[pyarrow]"


def test_one_row(cassandra_session: Any, cassandra_config: Any, keyspace: str) -> None:
    cassandra_session.execute(f"CREATE TABLE {keyspace}.one (k int PRIMARY KEY, t text)")
    cassandra_session.execute(f"INSERT INTO {keyspace}.one (k, t) VALUES (7, 'seven')")
    for n in (1, 7):
        df = read_cassandra(f"{keyspace}.one", connection=cassandra_config, npartitions=n).compute()
        assert df.to_dict("records") == [{"k": 7, "t": "seven"}]


def test_wide_partition_larger_than_split(
    cassandra_session: Any, cassandra_config: Any, keyspace: str
) -> None:
    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.wide (pk int, ck int, pad text, PRIMARY KEY (pk, ck))")
    insert = s.prepare(f"INSERT INTO {keyspace}.wide (pk, ck, pad) VALUES (?, ?, ?)")
    load_rows(s, insert, [(1, ck, "x" * 40) for ck in range(200_000)], key_len=1)
    ddf = read_cassandra(f"{keyspace}.wide", connection=cassandra_config, split_size_mb=1, npartitions=16)
    df = ddf.compute()
    assert len(df) == 200_000
    assert df["ck"].nunique() == 200_000
    assert int(df["ck"].min()) == 0
    assert int(df["ck"].max()) == 199_999


def test_columns_projection_and_head(cassandra_config: Any, keyspace: str, filled: set[Any]) -> None:
    ddf = read_cassandra(f"{keyspace}.t", connection=cassandra_config, npartitions=8)
    only_v = ddf["v"].compute()
    assert len(only_v) == ROWS
    assert set(only_v) == {v for _, _, v in filled}
    sub = read_cassandra(f"{keyspace}.t", connection=cassandra_config, columns=["ck"]).compute()
    assert list(sub.columns) == ["ck"]
    assert len(sub) == ROWS
    head = ddf.head(5)
    assert len(head) == 5
    assert len(ddf) == ROWS


def test_selected_columns_are_the_only_ones_fetched(
    cassandra_config: Any, keyspace: str, filled: set[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import cassandra_frames.read as cfread

    sent: list[str] = []
    real = cfread.prepare_read

    def recording(connection: Any, text: str, timeout: float) -> Any:
        sent.append(text)
        return real(connection, text, timeout)

    monkeypatch.setattr(cfread, "prepare_read", recording)
    ddf = read_cassandra(f"{keyspace}.t", connection=cassandra_config, npartitions=3)
    only_v = ddf[["v"]].compute()
    assert sorted(only_v["v"]) == sorted(v for _, _, v in filled)
    assert len(sent) == 3
    assert {t.split(" FROM ")[0] for t in sent} == {'SELECT "v"'}  # pk and ck are never fetched
    sent.clear()
    ddf[["ck", "v"]][ddf.v != "v0"].compute()  # a filter on a selected column fetches just those
    assert {t.split(" FROM ")[0] for t in sent} == {'SELECT "ck", "v"'}


def test_the_catalog_measures_a_table(cassandra_session: Any, keyspace: str, filled: set[Any]) -> None:
    """What plan_read sizes partitions with, against the node: the size estimate is a number of bytes
    (0 until the node has computed one), and counting rows in token ranges covering the ring counts every
    row once."""
    from cassandra_frames.engine import catalog
    from cassandra_frames.tokens import clip_ranges

    rows = cassandra_session.execute(
        "SELECT mean_partition_size, partitions_count FROM system.size_estimates "
        "WHERE keyspace_name = %s AND table_name = 't'",
        (keyspace,),
    )
    by_hand = float(sum((r.mean_partition_size or 0) * (r.partitions_count or 0) for r in rows))
    assert catalog.size_estimate(cassandra_session, keyspace, "t") == by_hand  # one node: the same rows
    partitioner, ranges = catalog.ring(cassandra_session, keyspace)
    assert catalog.count_rows(cassandra_session, keyspace, "t", ["pk"], ranges) == ROWS
    half = clip_ranges(ranges, None, 0, partitioner)  # tokens up to 0
    assert 0 < catalog.count_rows(cassandra_session, keyspace, "t", ["pk"], half) < ROWS


def test_head_fetches_only_the_rows_it_returns(
    cassandra_config: Any, keyspace: str, filled: set[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    import cassandra_frames.read as cfread

    fetched: list[int] = []  # rows each partition read fetched
    pages: list[int] = []  # the page size of every request sent to the node
    real_fetch, real_prepare = cfread.fetch_units, cfread.prepare_read

    async def counting(*args: Any, **kwargs: Any) -> Any:
        batches = await real_fetch(*args, **kwargs)
        fetched.append(sum(b.num_rows for b in batches))
        return batches

    class Recording:
        def __init__(self, session: Any) -> None:
            self.session, self.cluster = session, session.cluster

        def execute_async(self, bound: Any, **kwargs: Any) -> Any:
            pages.append(bound.fetch_size)
            return self.session.execute_async(bound, **kwargs)

    def recording(*args: Any, **kwargs: Any) -> Any:
        query = real_prepare(*args, **kwargs)
        return dataclasses.replace(query, session=Recording(query.session))

    monkeypatch.setattr(cfread, "fetch_units", counting)
    monkeypatch.setattr(cfread, "prepare_read", recording)
    ddf = read_cassandra(f"{keyspace}.t", connection=cassandra_config, npartitions=2)
    first = ddf.partitions[0].compute()
    assert fetched == [len(first)]
    assert len(first) > 1000
    assert set(pages) == {5000}  # the whole partition: full pages
    fetched.clear()
    pages.clear()

    pd.testing.assert_frame_equal(ddf.head(5), first.head(5))
    assert fetched == [5]
    assert pages == [5]  # one request, asking for a page of exactly 5 rows
    fetched.clear()
    pd.testing.assert_frame_equal(ddf[["v", "pk"]].head(3), first[["v", "pk"]].head(3))
    pd.testing.assert_series_equal((ddf.ck + 1).head(4), (first.ck + 1).head(4))
    assert fetched == [3, 4]
    fetched.clear()

    # a filter between head and the read, or head over several partitions: the whole partition(s)
    big = ddf[ddf.ck > 5].head(2)
    assert big.equals(first[first.ck > 5].head(2))
    assert fetched == [len(first)]
    fetched.clear()
    two = ddf.head(len(first) + 10, npartitions=2)
    assert len(two) == len(first) + 10
    assert len(fetched) == 2
    assert sum(fetched) == ROWS
    fetched.clear()

    # a client-side filter can drop fetched rows, so head cannot stop early and still be right
    filtered = read_cassandra(
        f"{keyspace}.t", connection=cassandra_config, npartitions=2, filters=[("v", "!=", "v0")]
    )
    assert len(filtered.head(5)) == 5
    assert fetched[0] > 5


def test_numpy_nullable_backend(cassandra_config: Any, keyspace: str, filled: set[Any]) -> None:
    df = read_cassandra(
        f"{keyspace}.t", connection=cassandra_config, dtype_backend="numpy_nullable"
    ).compute()
    assert str(df.dtypes["pk"]) == "Int32"
    assert len(df) == ROWS


def test_sample_reads_about_the_fraction(cassandra_config: Any, keyspace: str, filled: set[Any]) -> None:
    a = read_cassandra(f"{keyspace}.t", connection=cassandra_config, sample=0.1, random_state=1).compute()
    b = read_cassandra(f"{keyspace}.t", connection=cassandra_config, sample=0.1, random_state=1).compute()
    assert 0.03 * ROWS < len(a) < 0.2 * ROWS
    assert set(_read_set(a)) == set(_read_set(b))
    assert set(_read_set(a)) <= filled


def test_partition_key_filter_reads_partitions_directly(
    cassandra_config: Any, keyspace: str, filled: set[Any]
) -> None:
    table = f"{keyspace}.t"
    plan = plan_read(
        table, ReadOptions(connection=cassandra_config, filters=[("pk", "in", [3, 5]), ("ck", ">=", 4)])
    )
    text = plan.reader.query(["pk", "ck", "v"])[0]
    assert 'WHERE "pk" = ? AND "ck" >= ?' in text
    assert "token(" not in text
    assert "ALLOW FILTERING" not in text
    df = read_cassandra(
        table, connection=cassandra_config, filters=[("pk", "in", [3, 5]), ("ck", ">=", 4)]
    ).compute()
    assert set(_read_set(df)) == {r for r in filled if r[0] in (3, 5) and r[1] >= 4}


def test_token_bounds_and_client_side_filters(cassandra_config: Any, keyspace: str, filled: set[Any]) -> None:
    table = f"{keyspace}.t"
    df = read_cassandra(table, connection=cassandra_config, filters=[("v", "==", "v17")]).compute()
    assert _read_set(df) == [(17, 0, "v17")]
    plan = plan_read(table, ReadOptions(connection=cassandra_config, filters=[("v", "==", "v17")]))
    assert "v" not in plan.reader.query(["pk"])[0].split("WHERE")[1]  # not pushed: no index
    # token bounds: the two halves of the ring partition the rows
    lo = read_cassandra(table, connection=cassandra_config, filters=[("token", "<=", 0)], token_column=True)
    hi = read_cassandra(table, connection=cassandra_config, filters=[("token", ">", 0)], token_column=True)
    lo_df, hi_df = lo.compute(), hi.compute()
    assert (lo_df["token"] <= 0).all()
    assert (hi_df["token"] > 0).all()
    assert set(_read_set(lo_df)) | set(_read_set(hi_df)) == filled
    assert len(lo_df) + len(hi_df) == ROWS
    # OR of ANDs, applied on the client
    df = read_cassandra(
        table, connection=cassandra_config, filters=[[("pk", "==", 1), ("ck", "<", 2)], [("v", "==", "v5")]]
    ).compute()
    assert set(_read_set(df)) == {r for r in filled if (r[0] == 1 and r[1] < 2) or r[2] == "v5"}


def test_sai_filter_is_pushed(cassandra_session: Any, cassandra_config: Any, keyspace: str) -> None:
    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.s (k int PRIMARY KEY, n int, tag text)")
    s.execute(f"CREATE CUSTOM INDEX ON {keyspace}.s (n) USING 'StorageAttachedIndex'")
    insert = s.prepare(f"INSERT INTO {keyspace}.s (k, n, tag) VALUES (?, ?, ?)")
    for k in range(200):
        s.execute(insert, (k, k % 10, f"t{k}"))
    plan = plan_read(f"{keyspace}.s", ReadOptions(connection=cassandra_config, filters=[("n", "==", 3)]))
    assert '"n" = ?' in plan.reader.query(["k", "n"])[0]
    df = read_cassandra(f"{keyspace}.s", connection=cassandra_config, filters=[("n", "==", 3)]).compute()
    assert sorted(df["k"].tolist()) == [k for k in range(200) if k % 10 == 3]


def test_writetime_ttl_and_quoted_names(cassandra_session: Any, cassandra_config: Any, keyspace: str) -> None:
    s = cassandra_session
    s.execute(f'CREATE TABLE {keyspace}."MixedCase" ("Key" int PRIMARY KEY, "Value" text, plain int)')
    s.execute(
        f'INSERT INTO {keyspace}."MixedCase" ("Key", "Value", plain) VALUES (1, \'a\', 2) '
        "USING TIMESTAMP 1234567 AND TTL 5000"
    )
    df = read_cassandra(
        f"{keyspace}.MixedCase", connection=cassandra_config, writetime=True, ttl=["Value"]
    ).compute()
    row = df.to_dict("records")[0]
    assert row["Key"] == 1
    assert row["Value"] == "a"
    assert row["Value_writetime"] == 1234567
    assert row["plain_writetime"] == 1234567
    assert 4000 < row["Value_ttl"] <= 5000


def test_counter_table(cassandra_session: Any, cassandra_config: Any, keyspace: str) -> None:
    s = cassandra_session
    s.execute(f"CREATE TABLE {keyspace}.c (k text PRIMARY KEY, hits counter)")
    for k, n in (("a", 3), ("b", -2)):
        s.execute(f"UPDATE {keyspace}.c SET hits = hits + {n} WHERE k = '{k}'")
    df = read_cassandra(f"{keyspace}.c", connection=cassandra_config).compute()
    assert dict(zip(df["k"], df["hits"], strict=True)) == {"a": 3, "b": -2}
    assert str(df.dtypes["hits"]) == "int64[pyarrow]"


def test_bad_input_messages(cassandra_config: Any, keyspace: str, filled: set[Any]) -> None:
    with pytest.raises(SchemaError, match=rf"table {keyspace}\.tt does not exist; did you mean 't'"):
        read_cassandra(f"{keyspace}.tt", connection=cassandra_config)
    with pytest.raises(
        SchemaError, match=rf"keyspace '{keyspace}x' does not exist; did you mean '{keyspace}'"
    ):
        read_cassandra(f"{keyspace}x.t", connection=cassandra_config)
    with pytest.raises(
        SchemaError, match=rf"column 'vv' does not exist in table {keyspace}\.t; did you mean 'v'"
    ):
        read_cassandra(f"{keyspace}.t", connection=cassandra_config, columns=["pk", "vv"])
    with pytest.raises(CassandraFramesError, match=r"operator '~' is not supported"):
        read_cassandra(f"{keyspace}.t", connection=cassandra_config, filters=[("v", "~", "x")])
    with pytest.raises(CassandraFramesError, match=r"token filters take <, <=, > or >="):
        read_cassandra(f"{keyspace}.t", connection=cassandra_config, filters=[("token", "==", 5)])
    with pytest.raises(ConnectionError, match=r"127\.0\.0\.99:9042"):
        read_cassandra(f"{keyspace}.t", connection=ConnectionConfig(("127.0.0.99",), connect_timeout=2))


def test_aio_read_inside_a_running_loop(cassandra_config: Any, keyspace: str, filled: set[Any]) -> None:
    async def main() -> tuple[pd.DataFrame, Any]:
        df = await aio.read_cassandra(f"{keyspace}.t", connection=cassandra_config)
        # the sync API also works while a loop runs in this thread (as in Jupyter)
        sync_df = read_cassandra(f"{keyspace}.t", connection=cassandra_config, npartitions=3).compute()
        table = await aio.read_cassandra(f"{keyspace}.t", connection=cassandra_config, output="arrow")
        return df, (sync_df, table)

    df, (sync_df, table) = asyncio.run(main())
    assert set(_read_set(df)) == filled
    assert set(_read_set(sync_df)) == filled
    assert table.num_rows == ROWS


@pytest.mark.cluster
@pytest.mark.parametrize("mode", ["profiles", "legacy"])
def test_user_session_and_cluster(cassandra_config: Any, keyspace: str, filled: set[Any], mode: str) -> None:
    """A driver Session or Cluster of the user's own, with whatever row factory it has, reads and writes.

    A Cluster built with legacy parameters (policies given directly, as async-cassandra does) refuses
    execution profiles; reads then run on a tuple-row session of our own on that cluster.
    """
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy
    from cassandra.query import dict_factory

    from cassandra_frames import to_cassandra

    (host, port), *_ = cassandra_config.endpoints()
    if mode == "legacy":
        cluster = Cluster([host], port=port, load_balancing_policy=RoundRobinPolicy(), protocol_version=5)
    else:
        profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), row_factory=dict_factory)
        cluster = Cluster(
            [host], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile}, protocol_version=5
        )
    session = cluster.connect()
    try:
        if mode == "legacy":
            session.row_factory = dict_factory  # what our reads must not depend on
        assert set(_read_set(read_cassandra(f"{keyspace}.t", connection=session).compute())) == filled
        assert (
            set(_read_set(read_cassandra(f"{keyspace}.t", connection=cluster, npartitions=3).compute()))
            == filled
        )
        session.execute(f"CREATE TABLE {keyspace}.copy (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
        df = read_cassandra(f"{keyspace}.t", connection=session).compute()
        assert to_cassandra(df, f"{keyspace}.copy", connection=session).rows_written == ROWS
        assert set(_read_set(read_cassandra(f"{keyspace}.copy", connection=session).compute())) == filled
    finally:
        cluster.shutdown()


@pytest.mark.cluster
def test_distributed_two_worker_processes(
    cassandra_config: Any, keyspace: str, filled: set[Any], dask_client: Any
) -> None:
    ddf = read_cassandra(f"{keyspace}.t", connection=cassandra_config)
    assert ddf.npartitions >= 4  # 2 × the workers' threads
    df = dask_client.compute(ddf).result()
    pids = dask_client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2
    assert set(_read_set(df)) == filled
    assert len(df) == ROWS
    # head with the limited reader runs on the workers too (the rewritten source pickles)
    head = dask_client.compute(ddf.head(5, compute=False)).result()
    assert head.equals(ddf.partitions[0].compute().head(5))
