"""Statement text and filter placement (no server: table metadata is a stand-in)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cassandra_frames import cql
from cassandra_frames.errors import CassandraFramesError, SchemaError
from cassandra_frames.filters import client_mask, normalise_filters, plan_filters


def _table(sai: tuple[str, ...] = ()) -> SimpleNamespace:
    cols = {n: SimpleNamespace(name=n) for n in ("a", "b", "c1", "c2", "v", "w")}
    indexes = {
        f"i_{n}": SimpleNamespace(index_options={"class_name": "StorageAttachedIndex", "target": n})
        for n in sai
    }
    return SimpleNamespace(
        keyspace_name="ks",
        name="t",
        columns=cols,
        partition_key=[cols["a"], cols["b"]],
        clustering_key=[cols["c1"], cols["c2"]],
        indexes=indexes,
    )


def test_quote_and_statements() -> None:
    assert cql.quote('We"ird') == '"We""ird"'
    assert cql.qualified("ks", "MyTable") == '"ks"."MyTable"'
    text = cql.select_range("ks", "t", ['"x"'], ["a", "b"], ['"v" = ?'])
    assert text == ('SELECT "x" FROM "ks"."t" WHERE token("a", "b") > ? AND token("a", "b") <= ? AND "v" = ?')
    assert cql.select_partition("ks", "t", ['"x"'], ["a"], allow_filtering=True) == (
        'SELECT "x" FROM "ks"."t" WHERE "a" = ? ALLOW FILTERING'
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


def test_allow_filtering_only_when_asked() -> None:
    assert "ALLOW" not in repr(_plan([("w", "==", 1)]))
    p = _plan([("w", "==", 1), ("v", "in", [1, 2])], allow=True)
    assert p.cql == ('"w" = ?', '"v" IN ?')
    assert p.allow_filtering


def test_or_groups_go_to_the_client() -> None:
    p = _plan([[("a", "==", 1)], [("v", "==", 2)]])
    assert p.partitions is None
    assert len(p.client) == 2


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([("zz", "==", 1)], "unknown column 'zz'"),
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
