"""Cost of progress reporting: an export with the widget reporter forced on vs ``progress=False``.

    .venv/bin/python benchmarks/progress_overhead.py [--rows 1000000] [--pairs 3] [--units 10000]

1. ``cf.export`` of ``bench.narrow_1m`` (1M rows, created on first use by benchmarks/datasets.py;
   ``--rows 100000`` uses ``bench.narrow_100k``) to CSV in a temporary directory, alternating
   ``progress=False`` and ``progress=WidgetReporter(display=False)`` (the real ipywidgets widget, built
   and updated outside Jupyter) plus an ``on_progress`` callback and a process-wide listener, ``--pairs``
   times each; prints each run, the medians and the overhead in percent (the target is < 2 %).
2. A micro-benchmark of one unit's update: ``Tracker.unit_done`` with nothing watching, with a listener,
   and with the widget (throttled) — ``--units`` updates each; prints µs per update.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cassandra_frames as cf
from benchmarks.common import node
from benchmarks.datasets import dataset, ensure_table, human
from cassandra_frames.progress import Callbacks, Tracker, add_listener, remove_listener
from cassandra_frames.progress.widget import WidgetReporter


class InsideProgress:
    """Seconds spent inside the tracker's entry points (start, record, finish) during a watched export:
    the exact cost of progress in this process, free of the run-to-run noise of the export's wall time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.depth = 0
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> InsideProgress:
        for name in ("start", "record", "finish"):
            original = getattr(Tracker, name)
            self.saved[name] = original
            setattr(Tracker, name, self.timed(original))
        return self

    def timed(self, method: Any) -> Any:
        def wrapper(tracker: Tracker, *args: Any, **kwargs: Any) -> Any:
            self.depth += 1
            t0 = time.perf_counter()
            try:
                return method(tracker, *args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds += time.perf_counter() - t0

        return wrapper

    def __exit__(self, *exc: object) -> None:
        for name, original in self.saved.items():
            setattr(Tracker, name, original)


INSIDE: list[tuple[float, float]] = []  # (seconds inside progress code, export seconds) per watched run


def export_once(table: str, config: Any, watched: bool) -> float:
    """Seconds of one export (its rows checked)."""
    heard = [0]

    def listener(event: str, stats: Any) -> None:
        heard[0] += 1

    with tempfile.TemporaryDirectory() as out:
        kwargs: dict[str, Any] = {"progress": False}
        if watched:
            kwargs = {"progress": WidgetReporter(display=False), "on_progress": lambda s: None}
            add_listener(listener)
        try:
            with InsideProgress() as inside:
                t0 = time.perf_counter()
                report = cf.export(table, f"{out}/x", connection=config, **kwargs)
                seconds = time.perf_counter() - t0
        finally:
            remove_listener(listener)
        if watched:
            INSIDE.append((inside.seconds, seconds))
    if watched and heard[0] < report.units:
        raise SystemExit(f"the listener heard {heard[0]} events for {report.units} units")
    print(
        f"  {'widget' if watched else 'off   '}: {seconds:7.2f} s, {report.rows:,} rows, {report.units} units"
    )
    return seconds


def micro(units: int) -> None:
    """µs per ``unit_done`` with nothing watching, a listener, and the widget (throttled at 0.2 s)."""

    def run(label: str, **kwargs: Any) -> None:
        tracker = Tracker("export", "ks.t", units, **kwargs).start()
        t0 = time.perf_counter()
        for i in range(units):
            tracker.unit_done(i, 100, bytes=1000)
        per = (time.perf_counter() - t0) / units * 1e6
        tracker.finish(None)
        print(f"  {label:<34} {per:8.2f} µs per unit")

    def listener(event: str, stats: Any) -> None:
        pass

    run("nothing watching")
    add_listener(listener)
    try:
        run("a listener (unthrottled)")
    finally:
        remove_listener(listener)
    run(
        "widget (throttled) + on_progress",
        reporter=WidgetReporter(display=False),
        callbacks=Callbacks(lambda s: None),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--units", type=int, default=10_000)
    args = parser.parse_args()
    config, _ = node()
    ds = dataset(f"narrow_{human(args.rows)}")
    ensure_table(config, ds)
    table = ds.table
    print(f"export of {table} ({args.rows:,} rows), alternating, {args.pairs} pairs:")
    export_once(table, config, watched=False)  # warm-up: connections, prepared statements, page cache
    off, on = [], []
    for _ in range(args.pairs):
        off.append(export_once(table, config, watched=False))
        on.append(export_once(table, config, watched=True))
    m_off, m_on = statistics.median(off), statistics.median(on)
    print(f"median off {m_off:.2f} s, widget {m_on:.2f} s: overhead {100 * (m_on - m_off) / m_off:+.2f} %")
    shares = [inside / total for inside, total in INSIDE]
    print(
        f"inside progress code during the watched exports: {1e3 * max(i for i, _ in INSIDE):.2f} ms at most, "
        f"{100 * max(shares):.4f} % of the export at most (median {100 * statistics.median(shares):.4f} %)"
    )
    print(f"per-unit update cost ({args.units:,} updates):")
    micro(args.units)


if __name__ == "__main__":
    main()
