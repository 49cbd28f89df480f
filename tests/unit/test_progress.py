"""The progress core without a server: tracker (throttling, ETA, stats, summary), callbacks, listeners,
reporter selection, the widget's states and the tqdm output."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import types
from typing import Any

import pytest

import cassandra_frames as cf
from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.progress import (
    Callbacks,
    ProgressStats,
    Tracker,
    add_listener,
    make_reporter,
    remove_listener,
)
from cassandra_frames.progress.text import TqdmReporter
from cassandra_frames.progress.widget import WidgetReporter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A reporter recording what it is told."""

    interval = 1.0

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start(self, stats: ProgressStats, title: str) -> None:
        self.calls.append(("start", title))

    def update(self, stats: ProgressStats) -> None:
        self.calls.append(("update", stats.units_done))

    def finish(self, stats: ProgressStats, summary: str) -> None:
        self.calls.append(("finish", summary))


def test_public_names() -> None:
    assert cf.ProgressStats is ProgressStats
    assert callable(cf.progress)
    from cassandra_frames.progress.tracker import Tracker as T

    assert T is Tracker


def test_stats_eta_and_line() -> None:
    clock = Clock()
    t = Tracker("export", "ks.t", 4, reporter=None, clock=clock).start()
    assert t.stats().eta_s is None
    assert t.stats().percent == 0
    clock.now += 10
    t.unit_done(0, 1000, bytes=3 * 2**20, retries=2)
    s = t.stats()
    assert (s.units_done, s.rows, s.retries, s.rows_per_s) == (1, 1000, 2, 100.0)
    assert s.eta_s == pytest.approx(30.0)  # 10 s per unit, 3 to go
    assert s.line() == (
        "25% · 1/4 units · 1,000 rows · 3.0 MiB · 100 rows/s · 0:10 elapsed · ETA 0:30 · 2 retries · 0 errors"
    )
    t.unit_failed(1, "boom", retries=1)
    s = t.stats()
    assert (s.units_failed, s.errors, s.ok, s.percent) == (1, 1, False, 50)


def test_resumed_units_are_left_out_of_the_eta() -> None:
    clock = Clock()
    t = Tracker("export", "ks.t", 10, units_done=8, clock=clock).start()
    clock.now += 5
    t.unit_done(8, 1)
    assert t.stats().eta_s == pytest.approx(5.0)  # one unit in 5 s this run, one to go
    assert t.stats().percent == 90


def test_rows_of_a_running_unit_show_until_it_completes() -> None:
    heard: list[tuple[str, int]] = []

    def listener(event: str, stats: ProgressStats) -> None:
        heard.append((event, stats.rows))

    add_listener(listener)
    try:
        t = Tracker("load", "ks.t", 3, clock=Clock()).start()
        t.unit_progress(0, 1_000)  # a large file, chunk by chunk
        t.unit_progress(0, 2_500)
        t.unit_progress(1, 400)
        assert (t.stats().rows, t.stats().units_done) == (2_900, 0)
        t.unit_done(0, 3_000)  # the unit's own count replaces its rows so far
        assert t.stats().rows == 3_400
        t.unit_progress(0, 2_500)  # a late report of a finished unit is ignored
        assert t.stats().rows == 3_400
        t.unit_failed(1, "boom")  # a failed unit's rows leave the display, as they leave the report
        assert t.stats().rows == 3_000
        t.unit_done(2, 10)
        t.finish(None)
    finally:
        remove_listener(listener)
    assert [e for e, _ in heard] == ["start", "rows", "rows", "rows", "unit", "error", "unit", "complete"]
    assert [r for e, r in heard if e == "rows"] == [1_000, 2_500, 2_900]


def test_updates_are_throttled_but_listeners_are_not() -> None:
    clock = Clock()
    rec = Recorder()
    progressed: list[int] = []
    heard: list[tuple[str, int]] = []

    def listener(event: str, stats: ProgressStats) -> None:
        heard.append((event, stats.units_done))

    add_listener(listener)
    try:
        t = Tracker(
            "load",
            "ks.t",
            100,
            reporter=rec,
            callbacks=Callbacks(on_progress=lambda s: progressed.append(1)),
            clock=clock,
        )
        t.start()
        for i in range(50):
            clock.now += 0.1
            t.unit_done(i, 1)
        t.finish(None)
    finally:
        remove_listener(listener)
    updates = [c for c in rec.calls if c[0] == "update"]
    assert 4 <= len(updates) <= 6  # 5 s at one update per second, not 50
    assert len(progressed) == len(updates) + 1  # and once more at the end
    assert heard[0] == ("start", 0)
    assert heard[-1] == ("complete", 50)
    assert [e for e, _ in heard].count("unit") == 50
    assert rec.calls[0] == ("start", "load ks.t")
    assert rec.calls[-1][0] == "finish"


def test_summary_uses_the_report() -> None:
    class Report:
        ok = True

        def summary(self) -> str:
            return "ks.t → out: 10 rows"

    rec = Recorder()
    t = Tracker("export", "ks.t", 2, reporter=rec).start()
    t.unit_done(0, 5)
    t.finish(Report())
    assert rec.calls[-1] == ("finish", "100% · ks.t → out: 10 rows")
    rec2 = Recorder()
    t2 = Tracker("export", "ks.t", 2, reporter=rec2).start()
    t2.unit_failed(0, "unit 0: timeout")
    t2.finish(None)
    assert rec2.calls[-1][1].startswith("50% · 0/2 units")
    assert "FAILED" in rec2.calls[-1][1]


def test_callbacks_sync_async_several_and_raising(caplog: pytest.LogCaptureFixture) -> None:
    got: list[Any] = []

    async def later(unit: int, rows: int) -> None:
        await asyncio.sleep(0)
        got.append(("async", unit, rows))

    def broken(unit: int, rows: int) -> None:
        raise ValueError("nope")

    cbs = Callbacks(on_unit_complete=[lambda u, r: got.append(("sync", u, r)), later, broken])
    t = Tracker("export", "ks.t", 3, callbacks=cbs).start()
    with caplog.at_level(logging.WARNING, logger="cassandra_frames.progress"):
        for i in range(3):
            t.unit_done(i, 10 * i)
    assert [g for g in got if g[0] == "sync"] == [("sync", 0, 0), ("sync", 1, 10), ("sync", 2, 20)]
    assert [g for g in got if g[0] == "async"] == [("async", 0, 0), ("async", 1, 10), ("async", 2, 20)]
    warnings = [r for r in caplog.records if r.name == "cassandra_frames.progress"]
    assert len(warnings) == 1
    assert "broken" in warnings[0].getMessage()


def test_async_callback_inside_a_running_loop() -> None:
    """In a running loop (Jupyter's), a coroutine callback still runs to completion (on the engine)."""
    got: list[int] = []

    async def cb(report: Any) -> None:
        await asyncio.sleep(0.01)
        got.append(report)

    async def main() -> None:
        Callbacks(on_complete=cb).complete(7)

    asyncio.run(main())
    assert got == [7]


def test_bad_callback_is_named() -> None:
    with pytest.raises(CassandraFramesError, match="on_progress"):
        Callbacks(on_progress=[42])  # type: ignore[list-item]


def test_raising_listener_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    def bad(event: str, stats: ProgressStats) -> None:
        raise RuntimeError("x")

    add_listener(bad)
    try:
        with caplog.at_level(logging.WARNING, logger="cassandra_frames.progress"):
            t = Tracker("count", "ks.t", 2).start()
            t.unit_done(0, 1)
            t.finish(None)
    finally:
        remove_listener(bad)
    assert len([r for r in caplog.records if "bad" in r.getMessage()]) == 1


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)


def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_reporter_selection(monkeypatch: pytest.MonkeyPatch, no_kernel: None) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a TTY
    assert make_reporter("auto") is None
    assert make_reporter(False) is None
    assert make_reporter(None) is None
    assert isinstance(make_reporter(True), TqdmReporter)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Tty())
    assert isinstance(make_reporter("auto"), TqdmReporter)
    fake_kernel(monkeypatch)
    assert isinstance(make_reporter("auto"), WidgetReporter)
    assert isinstance(make_reporter(True), WidgetReporter)
    rec = Recorder()
    assert make_reporter(rec) is rec
    with pytest.raises(CassandraFramesError, match="progress must be"):
        make_reporter("loud")


def test_widget_states() -> None:
    w = WidgetReporter(display=False)
    t = Tracker("export", "ks.t", 40, title="export ks.t → out/", reporter=w, interval=0).start()
    assert "cf-progress" in w.box._dom_classes
    assert "cf-progress-bar" in w.bar._dom_classes
    assert "cf-progress-text" in w.text._dom_classes
    assert "export ks.t → out/" in w.title.value
    assert w.bar.max == 40
    for i in range(17):
        t.unit_done(i, 100, bytes=1024)
    assert w.bar.value == 17
    assert w.text.value.startswith("42% · 17/40 units · 1,700 rows · 17.0 KiB")
    for i in range(17, 40):
        t.unit_done(i, 100)
    t.finish(None)
    assert w.text.value.startswith("100%")
    assert w.bar.bar_style == "success"
    assert "cf-progress-ok" in w.box._dom_classes
    assert w.text.style.text_color == "green"

    f = WidgetReporter(display=False)
    t2 = Tracker("load", "ks.t", 4, reporter=f, interval=0).start()
    t2.unit_done(0, 1)
    t2.unit_failed(1, "split 1: bad file")
    t2.finish(None)
    assert f.bar.bar_style == "danger"
    assert "cf-progress-failed" in f.box._dom_classes
    assert f.text.value.startswith("50%")
    assert "FAILED" in f.text.value


def test_tqdm_output() -> None:
    out = io.StringIO()
    t = Tracker("count", "ks.t", 4, reporter=TqdmReporter(file=out), interval=0).start()
    for i in range(4):
        t.unit_done(i, 250)
    t.finish(4000, summary="1,000 rows in ks.t")
    text = out.getvalue()
    assert "count ks.t" in text
    assert "4/4" in text
    assert "1,000 rows" in text
    assert text.rstrip().endswith("100% · 1,000 rows in ks.t")


def test_a_tracked_call_shows_dask_the_signature_it_wraps() -> None:
    from dask.utils import has_keyword

    from cassandra_frames.progress.events import TrackedCall

    def read(units: list[int], columns: list[str] | None = None, partition_info: Any = None) -> list[int]:
        return units

    tracked = TrackedCall(read, "read_cassandra-ks.t", "ks.t")
    assert has_keyword(tracked, "columns")  # Dask's column projection and head pushdown
    assert has_keyword(tracked, "partition_info")  # each Dask partition's number
    assert tracked([1, 2], columns=["v"]) == [1, 2]
