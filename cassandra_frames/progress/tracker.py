"""The progress of one operation: counters fed as units complete, fanned out to the display (throttled),
the user's callbacks and the process-wide listeners (unthrottled).

The bulk fronts make a :class:`Tracker` with :func:`track` and call :meth:`Tracker.unit_done` /
:meth:`Tracker.unit_failed` as the client records each unit, then :meth:`Tracker.finish`. Updating is a
few additions under a lock; a snapshot (:class:`ProgressStats`) is built only when someone will see it.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from cassandra_frames.progress.callbacks import Callbacks, CallbackSpec
from cassandra_frames.progress.listeners import Event, listeners, notify
from cassandra_frames.progress.reporters import Reporter, make_reporter
from cassandra_frames.progress.stats import ProgressStats

__all__ = ["DEFAULT_INTERVAL", "PROGRESS_KEYWORDS", "ProgressOptions", "Tracker", "track"]

T = TypeVar("T")

DEFAULT_INTERVAL = 0.2
"""Seconds between two display updates (and ``on_progress`` calls) at least."""


@dataclasses.dataclass(frozen=True)
class _Said:
    """A summary given as text."""

    text: str

    def summary(self) -> str:
        return self.text


class Tracker:
    """Counts one operation's units, rows, bytes, retries and errors, and tells whoever watches.

    Parameters
    ----------
    operation : str
        ``"export"``, ``"load"``, ``"count"``, ``"to_cassandra"``, ``"dask"``.
    table : str
        ``keyspace.table``.
    units_total : int
        Units of the operation (0 when not known yet: :meth:`add_units` adds them as they are learnt).
    operation_id : str, optional
        Default: a fresh one.
    title : str, optional
        The display's title (default ``"<operation> <table>"``).
    reporter : Reporter, optional
        The display.
    callbacks : Callbacks, optional
        The user's callbacks.
    units_done : int
        Units already done before this run (a resumed export): counted done, left out of the ETA.
    interval : float, optional
        Seconds between two display updates at least (default: the reporter's ``interval``, else 0.2).
    clock : callable
        Seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self,
        operation: str,
        table: str,
        units_total: int,
        *,
        operation_id: str = "",
        title: str = "",
        reporter: Reporter | None = None,
        callbacks: Callbacks | None = None,
        units_done: int = 0,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.operation = operation
        self.table = table
        self.operation_id = operation_id or uuid.uuid4().hex[:12]
        self.title = title or f"{operation} {table}"
        self.reporter = reporter
        self.callbacks = callbacks or Callbacks()
        self.interval = interval if interval is not None else getattr(reporter, "interval", DEFAULT_INTERVAL)
        self.clock = clock
        self.units_total = units_total
        self.units_done = units_done
        self.units_failed = 0
        self.rows = 0
        self.bytes = 0
        self.retries = 0
        self.errors = 0
        self.partial: dict[int, int] = {}  # unit → rows so far, of units still running
        self._ended: set[int] = set()  # units done or failed (a late partial report of one is ignored)
        self.finished = False
        self.ok = True
        self._initial = units_done
        self._started = clock()
        self._last = float("-inf")
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ snapshots

    def stats(self) -> ProgressStats:
        """A snapshot of the counters now."""
        elapsed = max(0.0, self.clock() - self._started)
        processed = self.units_done + self.units_failed - self._initial
        remaining = max(0, self.units_total - self.units_done - self.units_failed)
        if self.finished or (self.units_total and remaining == 0):
            eta: float | None = 0.0
        elif processed > 0 and self.units_total > 0:
            eta = elapsed * remaining / processed
        else:
            eta = None
        return ProgressStats(
            operation=self.operation,
            operation_id=self.operation_id,
            table=self.table,
            units_total=self.units_total,
            units_done=self.units_done,
            units_failed=self.units_failed,
            rows=self.rows + sum(self.partial.values()),
            bytes=self.bytes,
            retries=self.retries,
            errors=self.errors,
            elapsed_s=elapsed,
            rows_per_s=self.rows / elapsed if elapsed > 0 else 0.0,
            eta_s=eta,
            finished=self.finished,
            ok=self.ok,
        )

    def summary(self, report: Any = None) -> str:
        """The closing line: on success ``100% · `` and the report's summary (or the figures); on failure
        the figures and what failed."""
        stats = self.stats()
        told = getattr(report, "summary", None)
        text = told() if callable(told) else (repr(report) if report is not None else "")
        if stats.ok:
            return f"100% · {text}" if text else stats.line()
        return f"{stats.line()} · FAILED" + (f": {text}" if text else "")

    # ------------------------------------------------------------------ events

    def _tell(self, event: Event, force: bool = False) -> None:
        """Listeners every time; the display and ``on_progress`` at most every ``interval`` seconds."""
        now = self.clock()
        heard = bool(listeners())
        due = (force or now - self._last >= self.interval) and (
            self.reporter is not None or bool(self.callbacks.on_progress)
        )
        if not (heard or due):
            return
        stats = self.stats()
        if heard:
            notify(event, stats)
        if due:
            self._last = now
            if self.reporter is not None:
                try:
                    self.reporter.update(stats)
                except Exception as exc:  # noqa: BLE001 — a display never breaks the operation
                    self._reporter_failed(exc)
            self.callbacks.progress(stats)

    def _reporter_failed(self, exc: Exception) -> None:
        self.callbacks.log_failure(self.reporter.update, exc)  # type: ignore[union-attr]
        self.reporter = None

    def start(self) -> Tracker:
        """Open the display and tell the listeners; returns the tracker."""
        with self._lock:
            self._started = self.clock()
            if self.reporter is not None:
                try:
                    self.reporter.start(self.stats(), self.title)
                except Exception as exc:  # noqa: BLE001
                    self._reporter_failed(exc)
            self._last = self.clock()
            if listeners():
                notify("start", self.stats())
        return self

    def add_units(self, n: int) -> None:
        """``n`` more units to do (totals learnt while running)."""
        with self._lock:
            self.units_total += n

    def unit_progress(self, unit: int, rows: int) -> None:
        """Unit ``unit`` is still running and has ``rows`` rows so far (a large file being loaded, chunk by
        chunk): shown at once, replaced by the unit's final count when it completes."""
        with self._lock:
            if self.finished or unit in self._ended:
                return
            self.partial[unit] = rows
            self._tell("rows")

    def unit_done(
        self, unit: int, rows: int, *, bytes: int = 0, retries: int = 0, rejected: int = 0, units: int = 1
    ) -> None:
        """Unit ``unit`` completed with ``rows`` rows (``rejected`` rows refused; it stood for ``units``
        units of the total, e.g. the token ranges of a Dask partition)."""
        with self._lock:
            self.partial.pop(unit, None)
            self._ended.add(unit)
            self.units_done += units
            self.rows += rows
            self.bytes += bytes
            self.retries += retries
            self.errors += rejected
            self.callbacks.unit_complete(unit, rows)
            self._tell("unit")

    def record(self, result: Any) -> None:
        """Feed one unit's result as a bulk operation's client records it: an export ``UnitResult`` or a
        load ``SplitResult`` (``index``, ``error``, rows, bytes, retries, ``rows_rejected``)."""
        error = getattr(result, "error", None)
        index = int(getattr(result, "index", self.units_done + self.units_failed))
        retries = int(getattr(result, "retries", 0))
        if error is not None:
            self.unit_failed(index, str(error), retries=retries)
            return
        rows = getattr(result, "rows_written", None)
        self.unit_done(
            index,
            int(rows if rows is not None else getattr(result, "rows", 0)),
            bytes=int(getattr(result, "bytes", 0)),
            retries=retries,
            rejected=int(getattr(result, "rows_rejected", 0)),
        )

    def recording(self, record: Callable[[Any], None]) -> Callable[[Any], None]:
        """``record`` (a run's own bookkeeping of a unit's result), then :meth:`record` of the same."""

        def both(result: Any) -> None:
            record(result)
            self.record(result)

        return both

    def finishing(self, finish: Callable[[], T]) -> T:
        """``finish()`` (a run's last step, returning its report) with this tracker told how it ended: on
        an error, with the report the error carries (``.report``), as failed."""
        try:
            report = finish()
        except BaseException as exc:
            self.finish(getattr(exc, "report", None), ok=False)
            raise
        self.finish(report)
        return report

    def unit_failed(self, unit: int, error: str, *, retries: int = 0, units: int = 1) -> None:
        """Unit ``unit`` failed after its retries (it stood for ``units`` units of the total)."""
        with self._lock:
            self.partial.pop(unit, None)  # the report counts completed units only
            self._ended.add(unit)
            self.units_failed += units
            self.errors += 1
            self.retries += retries
            self.ok = False
            self.callbacks.unit_error(error, unit)
            self._tell("error", force=True)

    def finish(self, report: Any = None, *, ok: bool | None = None, summary: str | None = None) -> None:
        """The operation ended: the display's summary, ``on_complete(report)``, the listeners.

        Parameters
        ----------
        report : object, optional
            The operation's report (its ``summary()`` is the display's last line).
        ok : bool, optional
            Whether it succeeded (default: no unit failed and the report, if it says, is ok).
        summary : str, optional
            The closing line's text instead of the report's summary (``100% · `` is put before it).
        """
        with self._lock:
            if self.finished:
                return
            self.finished = True
            reported_ok = getattr(report, "ok", True)
            self.ok = (self.ok and reported_ok is not False) if ok is None else ok
            stats = dataclasses.replace(self.stats(), report=report)
            if self.reporter is not None:
                try:
                    line = self.summary(report if summary is None else _Said(summary))
                    self.reporter.finish(stats, line)
                except Exception as exc:  # noqa: BLE001
                    self._reporter_failed(exc)
            self.callbacks.progress(stats)
            self.callbacks.complete(report)
            if listeners():
                notify("complete", stats)


PROGRESS_KEYWORDS = ("progress", "on_progress", "on_unit_complete", "on_unit_error", "on_complete")
"""The progress keywords every front takes (kept out of the operations' own options)."""


@dataclasses.dataclass(frozen=True)
class ProgressOptions:
    """A front's progress keywords (see :func:`cassandra_frames.export`), checked when made."""

    progress: Any = "auto"
    on_progress: CallbackSpec = None
    on_unit_complete: CallbackSpec = None
    on_unit_error: CallbackSpec = None
    on_complete: CallbackSpec = None

    def __post_init__(self) -> None:
        self.callbacks()  # a callback that is not callable is named now, before any work

    @classmethod
    def pop(cls, keywords: dict[str, Any]) -> ProgressOptions:
        """The progress keywords taken out of a front's ``keywords`` (which keeps the others)."""
        return cls(**{k: keywords.pop(k) for k in PROGRESS_KEYWORDS if k in keywords})

    def callbacks(self) -> Callbacks:
        """Fresh :class:`Callbacks` of these options."""
        return Callbacks(self.on_progress, self.on_unit_complete, self.on_unit_error, self.on_complete)

    def enabled(self) -> bool:
        """Whether anything would watch (a display may be chosen, or a callback is given)."""
        return self.progress not in (False, None) or bool(self.callbacks())

    def track(self, operation: str, table: str, units_total: int, **kwargs: Any) -> Tracker:
        """A started :class:`Tracker` (``kwargs``: ``operation_id``, ``title``, ``units_done``)."""
        tracker = Tracker(
            operation,
            table,
            units_total,
            reporter=make_reporter(self.progress),
            callbacks=self.callbacks(),
            **kwargs,
        )
        return tracker.start()


def track(
    operation: str,
    table: str,
    units_total: int,
    *,
    progress: Any = "auto",
    on_progress: CallbackSpec = None,
    on_unit_complete: CallbackSpec = None,
    on_unit_error: CallbackSpec = None,
    on_complete: CallbackSpec = None,
    operation_id: str = "",
    title: str = "",
    units_done: int = 0,
) -> Tracker:
    """A started :class:`Tracker` for a front's ``progress=`` and callback keywords.

    Raises
    ------
    CassandraFramesError
        A ``progress=`` value or a callback that is not acceptable (named).
    """
    callbacks = Callbacks(on_progress, on_unit_complete, on_unit_error, on_complete)
    tracker = Tracker(
        operation,
        table,
        units_total,
        operation_id=operation_id,
        title=title,
        reporter=make_reporter(progress),
        callbacks=callbacks,
        units_done=units_done,
    )
    return tracker.start()
