"""``cf.progress()``: the progress display for lazy Dask work that touches our tasks.

.. code-block:: python

    with cf.progress():
        ddf = cf.read_cassandra("ks.t")
        total = ddf.amount.sum().compute()

The display counts token ranges read and partitions written as our tasks (``read_cassandra-…``,
``to_cassandra-…``, ``export-…``, ``load-…``) complete, with their rows: each task publishes a
:class:`~cassandra_frames.progress.events.PartitionEvent` — in this process for the threaded and
synchronous schedulers, through the scheduler's event log for a ``distributed.Client``'s workers. With the
local schedulers a Dask callback also reads each graph as it starts, so the totals (and the ETA) are known
before anything runs; on a ``distributed`` cluster a collection's total is learnt from its first completed
task.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from cassandra_frames.progress.callbacks import Callbacks, CallbackSpec
from cassandra_frames.progress.events import PartitionEvent, TrackedTask, subscribe
from cassandra_frames.progress.reporters import make_reporter
from cassandra_frames.progress.tracker import Tracker

__all__ = ["Watch", "planned_units", "progress", "watch"]


def _children(obj: Any) -> list[Any]:
    if isinstance(obj, Mapping):
        return list(obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    out: list[Any] = []
    for name in ("args", "kwargs", "value"):
        part = getattr(obj, name, None)
        if isinstance(part, Mapping):
            out += list(part.values())
        elif isinstance(part, (list, tuple)):
            out += list(part)
        elif part is not None and name == "value":
            out.append(part)
    return out


def _find(obj: Any, depth: int = 0) -> tuple[TrackedTask, Any] | None:
    """Our function in a task (directly, or inside a wrapper such as ``apply_and_enforce`` or a fused
    subgraph), with the arguments it is called with."""
    func = getattr(obj, "func", None)
    if isinstance(func, TrackedTask):
        return func, getattr(obj, "args", ())
    if isinstance(obj, TrackedTask):
        return obj, ()
    if depth >= 4 or isinstance(obj, (str, bytes)):
        return None
    for child in _children(obj):
        found = _find(child, depth + 1)
        if found is not None:
            return found
    return None


def planned_units(dsk: Mapping[Any, Any]) -> dict[str, tuple[str, int]]:
    """label → (table, units) of the tasks of ours in a Dask graph."""
    out: dict[str, tuple[str, int]] = {}
    for task in dsk.values():
        found = _find(task)
        if found is None:
            continue
        func, args = found
        table, units = out.get(func.label, (func.table, 0))
        out[func.label] = (table, units + func.units_in(args))
    return out


class Watch:
    """Feeds a :class:`Tracker` from partition events (those of one ``run`` only, when given)."""

    def __init__(self, tracker: Tracker, run: str = "", learn_totals: bool = True) -> None:
        self.tracker = tracker
        self.run = run
        self.learn_totals = learn_totals
        self.planned: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.tables: set[str] = set()
        self.events = 0
        self.last_event = time.monotonic()
        self._lock = threading.Lock()

    def plan(self, dsk: Mapping[Any, Any]) -> None:
        """A local compute starts: add its tasks of ours to the totals."""
        for label, (table, units) in planned_units(dsk).items():
            with self._lock:
                self.planned[label] = self.planned.get(label, 0) + units
                self._table(table)
            self.tracker.add_units(units)

    def expect(self, label: str, units: int) -> None:
        """``units`` units of ``label`` are to come (already counted in the tracker's total)."""
        with self._lock:
            self.planned[label] = self.planned.get(label, 0) + units

    def _table(self, table: str) -> None:
        if table and table not in self.tables:
            self.tables.add(table)
            if not self.run:
                self.tracker.table = ", ".join(sorted(self.tables))

    def event(self, event: PartitionEvent) -> None:
        """One task of ours completed."""
        if event.partial:  # rows so far of a task still running: its completion counts it
            return
        if self.run and event.run != self.run:
            return
        with self._lock:
            self.events += 1
            index = self.events - 1
            self.last_event = time.monotonic()
            self._table(event.table)
            learn = self.learn_totals and event.label not in self.planned
            if learn:
                self.planned[event.label] = event.label_units
            self.done[event.label] = self.done.get(event.label, 0) + event.units
        if learn:
            self.tracker.add_units(event.label_units)
        if event.error is not None:
            self.tracker.unit_failed(index, event.error, retries=event.retries, units=event.units)
        else:
            self.tracker.unit_done(
                index, event.rows, bytes=event.bytes, retries=event.retries, units=event.units
            )

    def settled(self) -> bool:
        """Every planned unit has been heard of."""
        with self._lock:
            return all(self.done.get(label, 0) >= n for label, n in self.planned.items())

    def wait(self, timeout: float = 10.0, quiet: float = 1.0) -> None:
        """Wait (at most ``timeout`` s) for the events still on their way from ``distributed`` workers: until
        every planned unit is heard of, or none has come for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while not self.settled() and time.monotonic() < deadline:
            if time.monotonic() - self.last_event > quiet:
                break
            time.sleep(0.02)


@contextlib.contextmanager
def watch(tracker: Tracker, run: str = "", *, local_graphs: bool = True) -> Iterator[Watch]:
    """Feed ``tracker`` from our tasks' events while the block runs (and, with ``local_graphs``, learn the
    totals of each local compute from its graph); waits for late ``distributed`` events on the way out."""
    from dask.callbacks import Callback

    w = Watch(tracker, run)
    unsubscribe = subscribe(w.event)
    try:
        with contextlib.ExitStack() as stack:
            if local_graphs:
                stack.enter_context(Callback(start=w.plan))  # type: ignore[no-untyped-call]
            yield w
        w.wait()
    finally:
        unsubscribe()


@contextlib.contextmanager
def progress(
    progress: Any = True,
    *,
    on_progress: CallbackSpec = None,
    on_unit_complete: CallbackSpec = None,
    on_unit_error: CallbackSpec = None,
    on_complete: CallbackSpec = None,
) -> Iterator[Tracker]:
    """Show the progress of the Dask work run inside the block that touches Cassandra.

    Counts the token ranges read (``read_cassandra``), the partitions written (``to_cassandra``), export
    units and load splits, with their rows, as their tasks complete — with the local schedulers and with a
    ``distributed.Client``'s workers alike.

    Parameters
    ----------
    progress : {True, "auto", "widget", "tqdm", False} or Reporter
        The display: True (default) the widget in Jupyter, a tqdm bar elsewhere; ``"auto"`` the same but
        nothing when stderr is not a terminal; False none (callbacks only); or a reporter object.
    on_progress, on_unit_complete, on_unit_error, on_complete : callable or list of callables, optional
        As for :func:`cassandra_frames.export`; a unit is one completed task (its token ranges counted in
        the stats), and ``on_complete`` receives None.

    Yields
    ------
    Tracker
        ``.stats()`` is the progress so far (a :class:`~cassandra_frames.ProgressStats`).

    Examples
    --------
    >>> with cf.progress():  # doctest: +SKIP
    ...     df = cf.read_cassandra("ks.t").compute()
    """
    tracker = Tracker(
        "dask",
        "",
        0,
        title="Cassandra tasks (Dask)",
        reporter=make_reporter(progress),
        callbacks=Callbacks(on_progress, on_unit_complete, on_unit_error, on_complete),
    ).start()
    try:
        with watch(tracker):
            yield tracker
    except BaseException:
        tracker.finish(None, ok=False)
        raise
    if tracker.ok and tracker.units_total > tracker.units_done:  # totals over-learnt (a partial compute)
        tracker.units_total = tracker.units_done
    tracker.finish(None)
