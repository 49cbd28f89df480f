"""The write engine's batching, retries and per-row isolation, against a scripted stand-in session.

A real node cannot be made to time out on demand; the happy paths and server refusals run against the real
node in tests/integration/test_write.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from cassandra import OperationTimedOut
from cassandra.cqltypes import Int32Type, UTF8Type
from cassandra.protocol import InvalidRequest
from cassandra.query import UNSET_VALUE, BatchStatement, BoundStatement

from cassandra_frames import cql
from cassandra_frames.engine import runner
from cassandra_frames.engine.writer import Chunk, SendOptions, WriteRow, WriteTarget, start_chunk, write_rows

PREPARED = SimpleNamespace(
    retry_policy=None,
    consistency_level=None,
    serial_consistency_level=None,
    fetch_size=None,
    custom_payload=None,
    is_idempotent=False,
    column_metadata=[SimpleNamespace(keyspace_name="ks")],
    routing_key_indexes=[0],
    query_id=b"q",
)


class FakeFuture:
    def __init__(self, error: BaseException | None, result: Any) -> None:
        self.error, self.result = error, result

    def add_callbacks(self, ok: Callable[[Any], None], err: Callable[[BaseException], None]) -> None:
        threading.Timer(0.001, lambda: err(self.error) if self.error else ok(self.result)).start()


class FakeSession:
    def __init__(self, fail: Callable[[list[bytes], int], BaseException | None]) -> None:
        self.fail = fail
        self.sent: list[list[bytes]] = []  # the first value (the key) of every row of every request
        self.lock = threading.Lock()

    def execute_async(self, statement: Any, timeout: float, execution_profile: Any) -> FakeFuture:
        if isinstance(statement, BatchStatement):
            keys = [params[0] for _, _, params in statement._statements_and_parameters]
        else:
            assert isinstance(statement, BoundStatement)
            keys = [statement.values[0]]
        with self.lock:
            self.sent.append(keys)
            n = len(self.sent)
        return FakeFuture(self.fail(keys, n), [])


def _rows(n: int, partitions: int) -> list[WriteRow]:
    return [
        WriteRow(i, (i % partitions,), ((PREPARED, (bytes([i % partitions]), bytes([i]))),)) for i in range(n)
    ]


def _write(session: FakeSession, rows: list[WriteRow], **kw: Any) -> Any:
    return runner.run(write_rows(session, rows, SendOptions(backoff=0.001, **kw)))


def test_batches_never_span_partitions_and_respect_the_size() -> None:
    session = FakeSession(lambda keys, n: None)
    outcome, aborted = _write(session, _rows(100, 3), max_batch_rows=10)
    assert not aborted
    assert outcome.written == 100
    assert all(len(set(keys)) == 1 for keys in session.sent)
    assert max(len(keys) for keys in session.sent) == 10
    assert outcome.batches == len(session.sent) == 12  # 34 + 33 + 33 rows → 4 + 4 + 4 batches


def test_batch_none_sends_one_statement_per_row() -> None:
    session = FakeSession(lambda keys, n: None)
    outcome, _ = _write(session, _rows(7, 2), batch="none")
    assert outcome.written == 7
    assert [len(k) for k in session.sent] == [1] * 7


def test_transient_failure_is_retried_when_idempotent() -> None:
    session = FakeSession(lambda keys, n: OperationTimedOut("slow") if n == 1 else None)
    outcome, _ = _write(session, _rows(5, 1))
    assert (outcome.written, outcome.retries, outcome.failed) == (5, 1, [])


def test_no_retry_for_counters() -> None:
    session = FakeSession(lambda keys, n: OperationTimedOut("slow") if n == 1 else None)
    outcome, _ = _write(session, _rows(1, 1), idempotent=False)
    assert outcome.written == 0
    assert [f.index for f in outcome.failed] == [0]
    assert "OperationTimedOut" in outcome.failed[0].reason


def test_refused_batch_is_replayed_row_by_row() -> None:
    poison = bytes([13])

    def fail(keys: list[bytes], n: int) -> BaseException | None:
        return InvalidRequest("Key length too long") if poison in [bytes([k[0]]) for k in keys] else None

    rows = [
        WriteRow(i, (0,), ((PREPARED, (bytes([0]) if i != 3 else poison, bytes([i]))),)) for i in range(6)
    ]
    session = FakeSession(lambda keys, n: fail(keys, n))
    outcome, _ = _write(session, rows)
    assert outcome.written == 5
    assert [f.index for f in outcome.failed] == [3]
    assert "Key length too long" in outcome.failed[0].reason


def test_should_stop_leaves_the_rest_unsent_and_says_so() -> None:
    session = FakeSession(lambda keys, n: InvalidRequest("no"))
    outcome, aborted = runner.run(
        write_rows(
            session,
            _rows(40, 40),
            SendOptions(concurrency=1, backoff=0.001),
            should_stop=lambda o: len(o.failed) >= 2,
        )
    )
    assert aborted
    assert len(outcome.failed) == 2
    assert sorted(outcome.unsent) == list(range(2, 40))


def _prepared(*types: Any) -> SimpleNamespace:
    columns = [SimpleNamespace(keyspace_name="ks", type=t) for t in types]
    return SimpleNamespace(**{**vars(PREPARED), "column_metadata": columns})


class RecordingSession:
    """Accepts every request and keeps the serialized values of every row sent."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.lock = threading.Lock()

    def execute_async(self, statement: Any, timeout: float, execution_profile: Any) -> FakeFuture:
        if isinstance(statement, BatchStatement):
            rows = [list(params) for _, _, params in statement._statements_and_parameters]
        else:
            rows = [list(statement.values)]
        with self.lock:
            self.rows.extend(rows)
        return FakeFuture(None, [])


def test_start_chunk_serializes_once_sends_the_rows_and_fails_what_the_driver_cannot_serialize() -> None:
    statement = cql.insert("ks", "t", ["k", "v", "n"])
    session = RecordingSession()
    target = WriteTarget(session, ((statement, _prepared(Int32Type, UTF8Type, Int32Type)),), 5)
    values = {
        ("col", "k"): [1, 2, 3, 4],
        ("col", "v"): ["a", None, "c", "d"],
        ("col", "n"): [10, 20, "x", "y"],  # neither "x" nor "y" is an int
    }
    keys = [(1,), (2,), (3,), (4,)]
    chunk = Chunk(values, unset={("col", "v")}, keys=keys, rows=[0, 1, 2])  # row 3 was rejected before
    outcome, aborted = start_chunk(target, chunk, SendOptions(backoff=0.001)).result()
    assert not aborted
    assert outcome.written == 2
    assert [(f.index, f.column, f.value) for f in outcome.failed] == [(2, "n", "x")]  # not row 3: not sent
    assert "x" in outcome.failed[0].reason
    by_key = {Int32Type.deserialize(r[0], 5): r for r in session.rows}
    assert sorted(by_key) == [1, 2]
    assert by_key[1][1:] == [UTF8Type.serialize("a", 5), Int32Type.serialize(10, 5)]
    assert by_key[2][1] is UNSET_VALUE  # a null of an unset marker leaves the cell alone
    tombstone = Chunk(values, unset=(), keys=keys, rows=[1])
    start_chunk(target, tombstone, SendOptions(backoff=0.001)).result()
    assert session.rows[-1][1] is None  # ... and of any other marker is a null
