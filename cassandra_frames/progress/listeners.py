"""The process-wide listener registry: every tracked operation's events, unthrottled.

``fn(event, stats)`` is called for ``"start"``, each ``"unit"`` (a unit completed), ``"rows"`` (rows of a
unit still running, e.g. a large file being loaded), each ``"error"`` (a unit failed) and ``"complete"`` of
every operation of this process — what a metrics exporter subscribes to. Keep a listener cheap: it runs on
the thread recording the operation's progress. One that raises is logged once (logger
``cassandra_frames.progress``) and never breaks the operation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Literal

from cassandra_frames.progress.stats import ProgressStats

__all__ = ["Event", "Listener", "add_listener", "listeners", "notify", "remove_listener"]

Event = Literal["start", "unit", "rows", "error", "complete"]
Listener = Callable[[str, ProgressStats], object]

logger = logging.getLogger("cassandra_frames.progress")

_lock = threading.Lock()
_listeners: tuple[Listener, ...] = ()
_reported: set[int] = set()  # ids of listeners whose failure was logged


def add_listener(fn: Listener) -> Listener:
    """Call ``fn(event, stats)`` for every event of every tracked operation of this process.

    Parameters
    ----------
    fn : callable
        ``fn(event: str, stats: ProgressStats)``, ``event`` one of ``"start"``, ``"unit"``, ``"rows"``,
        ``"error"``, ``"complete"``. Called unthrottled on the thread that records the progress: keep it
        cheap.

    Returns
    -------
    callable
        ``fn`` itself (so this works as a decorator). Adding it twice calls it once.
    """
    global _listeners
    with _lock:
        if fn not in _listeners:
            _listeners = (*_listeners, fn)
    return fn


def remove_listener(fn: Listener) -> None:
    """Stop calling ``fn`` (a listener not registered is ignored).

    Parameters
    ----------
    fn : callable
        A listener given to :func:`add_listener`.
    """
    global _listeners
    with _lock:
        _listeners = tuple(f for f in _listeners if f != fn)
        _reported.discard(id(fn))


def listeners() -> tuple[Listener, ...]:
    """The registered listeners, in the order they were added."""
    return _listeners


def notify(event: Event, stats: ProgressStats) -> None:
    """Call every listener with ``(event, stats)``; a raising one is logged once and skipped."""
    for fn in _listeners:
        try:
            fn(event, stats)
        except Exception as exc:
            if id(fn) not in _reported:
                _reported.add(id(fn))
                logger.warning(
                    "progress listener %s raised %s: %s (logged once; the operation goes on)",
                    getattr(fn, "__qualname__", repr(fn)),
                    type(exc).__name__,
                    exc,
                    exc_info=True,
                )
