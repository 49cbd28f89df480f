"""Write planning from TableInfo values, no server: the frame checked against the table, the statements of a
row (INSERT, per-column UPDATEs, counter UPDATE), which writes may be retried, CREATE TABLE from a frame,
and the options' checks. Counter and IF NOT EXISTS plans are then sent through the engine writer to a
scripted session that times out once: they are not retried."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from cassandra import OperationTimedOut

from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine import runner
from cassandra_frames.engine.writer import WriteRow, write_rows
from cassandra_frames.errors import CassandraFramesError, SchemaError
from cassandra_frames.options import WriteOptions
from cassandra_frames.schema import ColumnInfo, TableInfo
from cassandra_frames.write_plan import build_write_plan, create_table_statement

CONFIG = ConnectionConfig(("127.0.0.1",))
EVENTS = TableInfo(
    "ks",
    "events",
    (
        ColumnInfo("id", "int", "partition_key"),
        ColumnInfo("at", "timestamp", "clustering"),
        ColumnInfo("v", "text"),
        ColumnInfo("n", "tinyint"),
    ),
)
COUNTS = TableInfo("ks", "counts", (ColumnInfo("id", "int", "partition_key"), ColumnInfo("hits", "counter")))
FRAME = pa.schema([("id", pa.int64()), ("at", pa.timestamp("ms")), ("v", pa.string()), ("n", pa.int64())])


def plan(table: TableInfo = EVENTS, arrow: pa.Schema = FRAME, **options: Any) -> Any:
    return build_write_plan(table, arrow, WriteOptions(**options), connection=CONFIG, timeout=7.0)


def test_plain_insert_is_idempotent_and_batched_by_partition() -> None:
    p = plan()
    assert [s.text for s in p.statements] == [
        'INSERT INTO "ks"."events" ("id", "at", "v", "n") VALUES (?, ?, ?, ?)'
    ]
    assert p.columns == ("id", "at", "v", "n")
    assert (p.send.idempotent, p.send.batch, p.send.counter, p.send.timeout) == (
        True,
        "partition",
        False,
        7.0,
    )


def test_ttl_and_writetime_from_values_and_columns() -> None:
    arrow = FRAME.append(pa.field("exp", pa.int32()))
    p = plan(arrow=arrow, ttl="exp", writetime=1_700_000_000_000_000)
    (insert,) = p.statements
    assert insert.text.endswith("VALUES (?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?")
    assert insert.markers[-2:] == (("ttl", ""), ("writetime", ""))
    assert p.timings[("ttl", "")].column == "exp"
    assert p.timings[("writetime", "")].value == 1_700_000_000_000_000
    assert "exp" not in p.columns  # a timing column is not a table column


def test_per_column_ttl_gives_one_update_per_group() -> None:
    p = plan(ttl={"v": 60, "n": 60}, writetime={"n": 5})
    texts = [s.text for s in p.statements]
    assert texts[0] == 'INSERT INTO "ks"."events" ("id", "at") VALUES (?, ?)'
    assert texts[1] == 'UPDATE "ks"."events" USING TTL ? SET "v" = ? WHERE "id" = ? AND "at" = ?'
    assert (
        texts[2] == 'UPDATE "ks"."events" USING TTL ? AND TIMESTAMP ? SET "n" = ? WHERE "id" = ? AND "at" = ?'
    )
    assert p.timings[("ttl", "g1")].value == 60
    assert p.timings[("writetime", "g1")].value == 5
    with pytest.raises(
        SchemaError, match="per-column ttl/writetime names 'id', which is part of the primary key"
    ):
        plan(ttl={"id": 1})


def test_counter_and_if_not_exists_are_never_retried() -> None:
    counter = plan(COUNTS, pa.schema([("id", pa.int32()), ("hits", pa.int64())]))
    assert [s.text for s in counter.statements] == [
        'UPDATE "ks"."counts" SET "hits" = "hits" + ? WHERE "id" = ?'
    ]
    assert (counter.send.idempotent, counter.send.counter) == (False, True)
    lwt = plan(if_not_exists=True)
    assert lwt.statements[0].text.endswith("IF NOT EXISTS")
    assert (lwt.send.idempotent, lwt.send.conditional, lwt.send.batch) == (False, True, "none")
    for p in (counter, lwt):
        session = TimesOutOnce()
        row = WriteRow(0, (1,), ((PREPARED, (b"\x00\x00\x00\x01", b"\x00")),))
        outcome, _ = runner.run(write_rows(session, [row], p.send))
        assert session.sent == 1  # one attempt: a counter increment or an LWT may have applied
        assert (outcome.written, outcome.retries, len(outcome.failed)) == (0, 0, 1)
    session = TimesOutOnce()
    outcome, _ = runner.run(write_rows(session, [row], plan().send))
    assert (session.sent, outcome.written, outcome.retries) == (2, 1, 1)  # an idempotent INSERT is retried
    with pytest.raises(CassandraFramesError, match="counter tables take no ttl"):
        plan(COUNTS, pa.schema([("id", pa.int32()), ("hits", pa.int64())]), ttl=5)
    with pytest.raises(CassandraFramesError, match="cannot be combined with writetime"):
        plan(if_not_exists=True, writetime=5)


def test_frame_must_fit_the_table() -> None:
    with pytest.raises(
        SchemaError, match=r"column 'vv' of the frame is not a column of ks.events; did you mean 'v'"
    ):
        plan(arrow=FRAME.append(pa.field("vv", pa.string())))
    with pytest.raises(SchemaError, match=r"no column for primary key column\(s\) \['at'\]"):
        plan(arrow=pa.schema([("id", pa.int64()), ("v", pa.string())]))
    with pytest.raises(
        SchemaError, match=r"column 'v' \(bool\) cannot be written to ks.events.v, which is text"
    ):
        plan(arrow=FRAME.set(2, pa.field("v", pa.bool_())))
    with pytest.raises(SchemaError, match="ttl/writetime column 'v' must hold integers"):
        plan(ttl="v")


def test_create_table_statement_from_the_frame() -> None:
    text = create_table_statement("ks", "new", FRAME, WriteOptions(partition_key="id", clustering_key=["at"]))
    assert text == (
        'CREATE TABLE IF NOT EXISTS "ks"."new" ("id" bigint, "at" timestamp, "v" text, "n" bigint, '
        'PRIMARY KEY (("id"), "at"))'
    )
    with pytest.raises(SchemaError, match="does not guess a primary key"):
        create_table_statement("ks", "new", FRAME, WriteOptions())
    with pytest.raises(SchemaError, match="primary key column 'idd' is not in the frame; did you mean 'id'"):
        create_table_statement("ks", "new", FRAME, WriteOptions(partition_key="idd"))
    with pytest.raises(SchemaError, match="column 'x' has only nulls"):
        create_table_statement(
            "ks", "new", FRAME.append(pa.field("x", pa.null())), WriteOptions(partition_key="id")
        )


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"nulls": "drop"}, "nulls must be 'unset' or 'tombstone'"),
        ({"on_error": "ignore"}, "on_error must be 'raise' or 'skip'"),
        ({"batch": "logged"}, "batch must be 'partition' or 'none'"),
        ({"concurrency": 0}, "must be at least 1"),
        ({"consistency": "QUORUMS"}, "is not a consistency level"),
        ({"max_errors": "150%"}, "not a percentage between 0% and 100%"),
        ({"max_errors": -1}, "max_errors must be a count"),
        ({"bad_rows": "x.csv"}, "unknown write option 'bad_rows'; did you mean 'bad_rows_path'"),
    ],
)
def test_bad_write_options_are_named(keywords: dict[str, Any], message: str) -> None:
    with pytest.raises(CassandraFramesError, match=message):
        WriteOptions.from_keywords(keywords)


# --- a scripted session for the retry checks ---


class _Prepared:
    retry_policy = consistency_level = serial_consistency_level = fetch_size = custom_payload = None
    is_idempotent = False
    routing_key_indexes = [0]  # noqa: RUF012
    query_id = b"q"

    class _Column:
        keyspace_name = "ks"

    column_metadata = [_Column()]  # noqa: RUF012


PREPARED = _Prepared()


class _Future:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def add_callbacks(self, ok: Callable[[Any], None], err: Callable[[BaseException], None]) -> None:
        threading.Timer(0.001, lambda: err(self.error) if self.error else ok([])).start()


class TimesOutOnce:
    """The first request times out at the client; every later one succeeds."""

    def __init__(self) -> None:
        self.sent = 0

    def execute_async(self, statement: Any, timeout: float, execution_profile: Any) -> _Future:
        self.sent += 1
        return _Future(OperationTimedOut("slow") if self.sent == 1 else None)
