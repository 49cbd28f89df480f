"""Statement text and filter placement (no server: the table is a TableInfo value)."""

from __future__ import annotations

import pytest

from cassandra_frames import cql
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.cqltypes import quote
from cassandra_frames.errors import CassandraFramesError, SchemaError
from cassandra_frames.filters import client_mask, normalise_filters, plan_filters
from cassandra_frames.options import ReadOptions
from cassandra_frames.read import build_plan
from cassandra_frames.schema import ColumnInfo, TableInfo
from cassandra_frames.tokens import MURMUR3, ring_ranges


def _table(sai: tuple[str, ...] = ()) -> TableInfo:
    keys = [ColumnInfo("a", "int", "partition_key"), ColumnInfo("b", "int", "partition_key")]
    keys += [ColumnInfo("c1", "int", "clustering"), ColumnInfo("c2", "int", "clustering")]
    columns = (*keys, ColumnInfo("v", "int"), ColumnInfo("w", "int"))
    return TableInfo("ks", "t", columns, sai_columns=frozenset(sai))


def test_quote_and_statements() -> None:
    assert quote('We"ird') == '"We""ird"'
    assert cql.qualified("ks", "MyTable") == '"ks"."MyTable"'
    text = cql.select("ks", "t", ['"x"'], ["a", "b"], ['"v" = ?'])
    assert text == ('SELECT "x" FROM "ks"."t" WHERE token("a", "b") > ? AND token("a", "b") <= ? AND "v" = ?')
    assert cql.select("ks", "t", ['"x"'], ["a"], by="partition", allow_filtering=True) == (
        'SELECT "x" FROM "ks"."t" WHERE "a" = ? ALLOW FILTERING'
    )
    assert cql.count_range("ks", "t", ["a"]) == (
        'SELECT count(*) FROM "ks"."t" WHERE token("a") > ? AND token("a") <= ?'
    )


def test_write_statements_name_what_each_marker_binds() -> None:
    ins = cql.insert("ks", "t", ["a", "v"], if_not_exists=True, ttl="", timestamp="")
    assert (
        ins.text == 'INSERT INTO "ks"."t" ("a", "v") VALUES (?, ?) IF NOT EXISTS USING TTL ? AND TIMESTAMP ?'
    )
    assert ins.markers == (("col", "a"), ("col", "v"), ("ttl", ""), ("writetime", ""))
    upd = cql.update("ks", "t", ["v"], ["a", "c1"], timestamp="g0")
    assert upd.text == 'UPDATE "ks"."t" USING TIMESTAMP ? SET "v" = ? WHERE "a" = ? AND "c1" = ?'
    assert upd.markers == (("writetime", "g0"), ("col", "v"), ("col", "a"), ("col", "c1"))
    inc = cql.counter_update("ks", "t", ["n"], ["a"])
    assert inc.text == 'UPDATE "ks"."t" SET "n" = "n" + ? WHERE "a" = ?'
    assert inc.markers == (("col", "n"), ("col", "a"))
    assert cql.create_table("ks", "T", [("a", "int"), ("v", "list<text>")], ["a"], ["v"]) == (
        'CREATE TABLE IF NOT EXISTS "ks"."T" ("a" int, "v" list<text>, PRIMARY KEY (("a"), "v"))'
    )


def _plan(filters: object, sai: tuple[str, ...] = (), allow: bool = False):  # type: ignore[no-untyped-def]
    return plan_filters(normalise_filters(filters), _table(sai), allow)


def test_full_partition_key_becomes_direct_reads_with_clustering_prefix() -> None:
    p = _plan([("a", "in", [1, 2]), ("b", "==", "x"), ("c1", "==", 5), ("c2", ">", 3), ("w", "==", 1)])
    assert p.partitions == ((1, "x"), (2, "x"))
    assert p.cql == ('"c1" = ?', '"c2" > ?')
    assert p.cql_params == (5, 3)
    assert p.client == ((("w", "==", 1),),)
    assert not p.allow_filtering


def test_partial_partition_key_stays_client_side() -> None:
    p = _plan([("a", "==", 1), ("c1", "==", 5)])
    assert p.partitions is None
    assert p.cql == ()
    assert p.client == ((("a", "==", 1), ("c1", "==", 5)),)


def test_clustering_range_on_second_column_without_first_is_client_side() -> None:
    p = _plan([("a", "==", 1), ("b", "==", 2), ("c2", "<", 3)])
    assert p.partitions == ((1, 2),)
    assert p.cql == ()
    assert p.client == ((("c2", "<", 3),),)


def test_token_bounds_and_sai() -> None:
    p = _plan([("token", ">", -5), ("token", "<", 10), ("v", ">=", 2), ("w", "!=", 1)], sai=("v",))
    assert (p.token_low, p.token_high) == (-5, 9)
    assert p.cql == ('"v" >= ?',)
    assert p.client == ((("w", "!=", 1),),)


def _select(filters: object, allow: bool = False) -> str:
    """The SELECT a read of ``w`` with these filters sends."""
    options = ReadOptions(filters=filters, allow_filtering=allow)
    ring = ring_ranges([0], {}, MURMUR3)
    config = ConnectionConfig(("127.0.0.1",))
    plan = build_plan(
        _table(),
        MURMUR3,
        ring,
        options,
        connection=config,
        timeout=1,
        min_partitions=1,
        table_bytes=lambda _: None,
    )
    return str(plan.reader.query(["w"])[0])


def test_allow_filtering_only_when_asked() -> None:
    p = _plan([("w", "==", 1)])
    assert (p.allow_filtering, p.cql, p.client) == (False, (), ((("w", "==", 1),),))
    assert "ALLOW FILTERING" not in _select([("w", "==", 1)])
    p = _plan([("w", "==", 1), ("v", "in", [1, 2])], allow=True)
    assert p.cql == ('"w" = ?', '"v" IN ?')
    assert p.allow_filtering
    assert _select([("w", "==", 1), ("v", "in", [1, 2])], allow=True).endswith(
        '"w" = ? AND "v" IN ? ALLOW FILTERING'
    )


def test_or_groups_go_to_the_client() -> None:
    p = _plan([[("a", "==", 1)], [("v", "==", 2)]])
    assert p.partitions is None
    assert len(p.client) == 2


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([("zz", "==", 1)], "column 'zz' does not exist in table ks.t"),
        ([("v", "like", 1)], "operator 'like' is not supported"),
        ([("v", "in", 3)], "needs a list"),
        ([("token", "in", [1])], "token filters take"),
        ("v == 1", "must be a list"),
        ([("v", "==", 1), [("w", "==", 1)]], "mixes tuples and lists"),
    ],
)
def test_bad_filters_say_what_would_work(filters: object, message: str) -> None:
    with pytest.raises((CassandraFramesError, SchemaError), match=message):
        _plan(filters)


def test_client_mask_dnf() -> None:
    import pyarrow as pa

    t = pa.table({"v": [1, 2, 3, None], "w": ["a", "b", "c", "d"]})
    mask = client_mask(t, [[("v", ">", 1), ("w", "!=", "c")], [("w", "in", ["d"])]])
    assert mask.to_pylist() == [False, True, False, True]
