"""The engine reader's paging, retries, range splitting and errors, against a scripted stand-in session.

A real node cannot be made to time out on demand, so these paths are driven by a fake driver session whose
response futures follow the driver's callback protocol (add_callbacks, has_more_pages,
start_fetching_next_page). Exactly-once against a real node is in tests/integration/test_read.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from cassandra import ReadTimeout
from cassandra.protocol import SyntaxException

from cassandra_frames.engine import runner
from cassandra_frames.engine.reader import FetchOptions, ReadQuery, ReadUnit, fetch_units
from cassandra_frames.errors import ReadError
from cassandra_frames.tokens import TokenRange

ROWS = [(t,) for t in range(-50, 50)]  # one row per token in (-51, 49]


class FakeFuture:
    """Pages of rows for one request, delivered on another thread like the driver's event loop."""

    def __init__(self, pages: list[list[tuple[int]]], error: BaseException | None) -> None:
        self.pages, self.error, self.index = pages, error, 0
        self.callback: Callable[[Any], None] | None = None
        self.errback: Callable[[BaseException], None] | None = None

    def add_callbacks(
        self, callback: Callable[[Any], None], errback: Callable[[BaseException], None]
    ) -> None:
        self.callback, self.errback = callback, errback
        self._deliver()

    @property
    def has_more_pages(self) -> bool:
        return self.index < len(self.pages)

    def start_fetching_next_page(self) -> None:
        self._deliver()

    def _deliver(self) -> None:
        def go() -> None:
            if self.error is not None and self.index >= 1:  # fail after the first page was handed out
                assert self.errback is not None
                self.errback(self.error)
                return
            page = self.pages[self.index] if self.pages else []
            self.index += 1
            assert self.callback is not None
            self.callback(page)

        threading.Timer(0.001, go).start()


class FakeSession:
    """``execute_async`` returns the rows with start < token <= end, in pages of 10; scripted failures."""

    def __init__(self, fail: Callable[[int, int, int], BaseException | None]) -> None:
        self.fail = fail
        self.calls: list[tuple[int, int, Any]] = []
        self.cluster = SimpleNamespace(
            metadata=SimpleNamespace(all_hosts=lambda: [SimpleNamespace(address=a, is_up=True) for a in "ab"])
        )

    def execute_async(self, bound: Any, timeout: float, execution_profile: Any, host: Any) -> FakeFuture:
        start, end = bound.params
        self.calls.append((start, end, host.address if host else None))
        rows = [r for r in ROWS if start < r[0] <= end]
        pages = [rows[i : i + 10] for i in range(0, len(rows), 10)] or [[]]
        err = self.fail(start, end, len(self.calls))
        if err is not None and len(pages) == 1:
            pages = [pages[0], []]  # make sure the failure comes mid-range, after a delivered page
        return FakeFuture(pages, err)


class FakePrepared:
    def bind(self, params: tuple[Any, ...]) -> Any:
        return SimpleNamespace(params=params, fetch_size=None, consistency_level=None)


def convert(rows: list[tuple[int]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"t": [r[0] for r in rows]})


def _read(session: FakeSession, units: list[ReadUnit], **opts: Any) -> list[int]:
    options = FetchOptions(backoff=0.001, **opts)
    query = ReadQuery(session, FakePrepared(), None)
    batches = runner.run(fetch_units(query, units, convert, options))
    return [v for b in batches for v in b.column(0).to_pylist()]


def _unit(start: int, end: int) -> ReadUnit:
    r = TokenRange(start, end, ("a", "b"))
    return ReadUnit(params=(start, end), replicas=r.replicas, token_range=r)


def test_pages_are_read_in_order_exactly_once() -> None:
    session = FakeSession(lambda s, e, n: None)
    got = _read(session, [_unit(-51, 0), _unit(0, 49)])
    assert got == list(range(-50, 50))


def test_transient_failure_is_retried_on_the_next_replica_without_duplicates() -> None:
    session = FakeSession(lambda s, e, n: ReadTimeout("slow") if n == 1 else None)
    got = _read(session, [_unit(-51, 49)])
    assert got == list(range(-50, 50))  # the partial first attempt was dropped
    assert [c[2] for c in session.calls] == ["a", "b"]


def test_persistent_failure_splits_the_range_and_reads_the_halves() -> None:
    session = FakeSession(lambda s, e, n: ReadTimeout("slow") if (s, e) == (-51, 49) else None)
    got = _read(session, [_unit(-51, 49)], retries=1)
    assert got == list(range(-50, 50))
    assert (-51, -1, "a") in session.calls
    assert (-1, 49, "a") in session.calls


def test_range_that_keeps_failing_raises_read_error_naming_it() -> None:
    session = FakeSession(lambda s, e, n: ReadTimeout("slow") if s < 10 < e else None)
    with pytest.raises(
        ReadError, match=r"token range \(-?\d+, -?\d+\] of \(-51, 49\] after 2 attempts and 2 split\(s\)"
    ):
        _read(session, [_unit(-51, 49)], retries=1, max_splits=2)


def test_non_transient_error_is_not_retried() -> None:
    session = FakeSession(lambda s, e, n: SyntaxException(code=0x2000, message="bad cql", info=None))
    with pytest.raises(ReadError, match=r"after 1 attempt and 0 split.*SyntaxException"):
        _read(session, [_unit(-51, 49)])
    assert len(session.calls) == 1


def test_limit_reads_units_in_order_and_stops_paging_once_it_has_enough() -> None:
    session = FakeSession(lambda s, e, n: None)
    futures: list[FakeFuture] = []
    execute = session.execute_async

    def tracked(*args: Any, **kwargs: Any) -> FakeFuture:
        futures.append(execute(*args, **kwargs))
        return futures[-1]

    session.execute_async = tracked  # type: ignore[method-assign]
    got = _read(session, [_unit(-51, 0), _unit(0, 49)], limit=15, concurrency=8)
    assert got == list(range(-50, -35))
    assert len(session.calls) == 1  # the second range was never queried
    assert futures[0].index == 2  # two pages of 10 delivered, the third never requested


def test_limit_spanning_units_keeps_unit_order() -> None:
    session = FakeSession(lambda s, e, n: None)
    got = _read(session, [_unit(0, 49), _unit(-51, 0)], limit=60)
    assert got == list(range(1, 50)) + list(range(-50, -39))


def test_limit_zero_queries_nothing() -> None:
    session = FakeSession(lambda s, e, n: None)
    assert _read(session, [_unit(-51, 49)], limit=0) == []
    assert session.calls == []
