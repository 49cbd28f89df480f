"""User callbacks of an operation: ``on_progress(stats)``, ``on_unit_complete(unit, rows)``,
``on_unit_error(error, unit)``, ``on_complete(report)``.

Each may be a function or a coroutine function, or a list of them. A coroutine is run to completion on the
engine's private event loop (so it also works inside Jupyter's running loop, which a blocking call cannot
yield to); when the callback fires on the engine loop itself, the coroutine is scheduled there instead. A
callback that raises is logged once (a warning of logger ``cassandra_frames.progress`` naming it) and never
breaks the operation.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cassandra_frames.engine import runner
from cassandra_frames.errors import CassandraFramesError

__all__ = ["CallbackSpec", "Callbacks"]

CallbackSpec = Callable[..., Any] | Sequence[Callable[..., Any]] | None
"""A callback argument: one function or coroutine function, a list of them, or None."""

logger = logging.getLogger("cassandra_frames.progress")


def _as_tuple(name: str, spec: CallbackSpec) -> tuple[Callable[..., Any], ...]:
    if spec is None:
        return ()
    items = (spec,) if callable(spec) else tuple(spec)
    for fn in items:
        if not callable(fn):
            raise CassandraFramesError(
                f"{name} must be a function or coroutine function, or a list of them; {fn!r} is not callable"
            )
    return items


def _name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn))


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class Callbacks:
    """The callbacks of one operation, called safely.

    Parameters
    ----------
    on_progress : callable or list, optional
        ``on_progress(stats: ProgressStats)``, throttled like the progress display.
    on_unit_complete : callable or list, optional
        ``on_unit_complete(unit: int, rows: int)`` as each unit completes.
    on_unit_error : callable or list, optional
        ``on_unit_error(error: str, unit: int)`` as a unit fails after its retries.
    on_complete : callable or list, optional
        ``on_complete(report)`` once at the end, with the operation's report (for a failed operation the
        report its error carries, or None).
    """

    def __init__(
        self,
        on_progress: CallbackSpec = None,
        on_unit_complete: CallbackSpec = None,
        on_unit_error: CallbackSpec = None,
        on_complete: CallbackSpec = None,
    ) -> None:
        self.on_progress = _as_tuple("on_progress", on_progress)
        self.on_unit_complete = _as_tuple("on_unit_complete", on_unit_complete)
        self.on_unit_error = _as_tuple("on_unit_error", on_unit_error)
        self.on_complete = _as_tuple("on_complete", on_complete)
        self._logged: set[int] = set()
        self._scheduled: set[asyncio.Task[Any]] = set()

    def __bool__(self) -> bool:
        return bool(self.on_progress or self.on_unit_complete or self.on_unit_error or self.on_complete)

    def progress(self, stats: Any) -> None:
        """Call every ``on_progress`` callback."""
        for fn in self.on_progress:
            self._call(fn, stats)

    def unit_complete(self, unit: int, rows: int) -> None:
        """Call every ``on_unit_complete`` callback."""
        for fn in self.on_unit_complete:
            self._call(fn, unit, rows)

    def unit_error(self, error: str, unit: int) -> None:
        """Call every ``on_unit_error`` callback."""
        for fn in self.on_unit_error:
            self._call(fn, error, unit)

    def complete(self, report: Any) -> None:
        """Call every ``on_complete`` callback."""
        for fn in self.on_complete:
            self._call(fn, report)

    def log_failure(self, fn: Callable[..., Any], exc: BaseException) -> None:
        """Log that ``fn`` raised ``exc`` — once per callable."""
        if id(fn) in self._logged:
            return
        self._logged.add(id(fn))
        logger.warning(
            "progress callback %s raised %s: %s (logged once; the operation goes on)",
            _name(fn),
            type(exc).__name__,
            exc,
            exc_info=(type(exc), exc, exc.__traceback__),
        )

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            result = fn(*args)
            if inspect.isawaitable(result):
                self._run(fn, result)
        except Exception as exc:  # noqa: BLE001 — a callback never breaks the operation
            self.log_failure(fn, exc)

    def _run(self, fn: Callable[..., Any], awaitable: Awaitable[Any]) -> None:
        """Run a coroutine callback to completion on the engine loop (scheduled there when this is the
        engine loop's own thread, which must not block)."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is None or running is not runner.engine_loop():
            runner.run(_await(awaitable))
            return
        task = running.create_task(_await(awaitable))
        self._scheduled.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._scheduled.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self.log_failure(fn, t.exception())  # type: ignore[arg-type]

        task.add_done_callback(done)
