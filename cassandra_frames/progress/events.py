"""Partition events: what our Dask tasks publish as they complete, for ``cf.progress()`` and the fronts.

Each of our partition functions (a read partition, a written partition, an export unit, a load split) is a
:class:`TrackedTask` and, when done, publishes a :class:`PartitionEvent` (its task-name prefix, table,
token ranges or splits done, rows, bytes, retries). In the client's process (the threaded or synchronous
scheduler) the event goes straight to the subscribers; on a ``distributed`` worker it is logged under
:data:`TOPIC` with ``Worker.log_event`` and reaches the subscribers through the client's
``subscribe_topic``. Publishing never raises and costs next to nothing when nobody listens.

No Dask import here: ``distributed`` is only looked at when it is already loaded.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "TOPIC",
    "PartitionEvent",
    "TrackedCall",
    "TrackedTask",
    "active_client",
    "publish",
    "subscribe",
]

TOPIC = "cassandra-frames-progress"
"""The ``distributed`` event topic partition events travel under."""

logger = logging.getLogger("cassandra_frames.progress")

Handler = Callable[["PartitionEvent"], None]

_lock = threading.Lock()
_handlers: tuple[Handler, ...] = ()
_clients: dict[int, Any] = {}  # id → distributed clients subscribed to TOPIC


@dataclasses.dataclass(frozen=True)
class PartitionEvent:
    """One of our tasks completed.

    Attributes
    ----------
    label : str
        Its task-name prefix: ``read_cassandra-<ks.table>``, ``to_cassandra-<ks.table>``,
        ``export-<format>-<operation>``, ``load-<operation>``.
    table : str
        ``keyspace.table``.
    units : int
        Token ranges it read (reads, export units) or 1 (a written partition, a load split).
    rows : int
        Rows it read or wrote.
    label_units : int
        Units of every task of the same collection (so a display learns the total from the first event).
    bytes, retries : int
        Bytes written or read; transient failures retried.
    error : str or None
        Why it failed.
    run : str
        The id of the front call that built the task (``to_cassandra`` follows its own partitions by it).
    partial : bool
        The task is still running: ``rows`` are its rows so far (a load split's, chunk by chunk), and
        ``index`` says which task; ``units`` is 0.
    index : int
        The task's unit index (partial events), else -1.
    """

    label: str
    table: str
    units: int
    rows: int
    label_units: int = 0
    bytes: int = 0
    retries: int = 0
    error: str | None = None
    run: str = ""
    partial: bool = False
    index: int = -1

    def to_msg(self) -> dict[str, Any]:
        """A msgpack-able dict (what ``log_event`` carries)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_msg(cls, msg: dict[str, Any]) -> PartitionEvent:
        """The event back from :meth:`to_msg`'s dict."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in msg.items() if k in names})


class TrackedTask:
    """Base of our partition functions: a task-name prefix (``label``), a table, and how many units one
    task of it stands for (``units_in(args)``; by default the length of its first argument when that is a
    sequence — the token ranges of a read partition — else 1). ``cf.progress()`` finds these in a graph to
    learn the totals before anything runs."""

    label: str = ""
    table: str = ""
    label_units: int = 0
    run: str = ""

    def units_in(self, args: Sequence[Any]) -> int:
        """Units of a task calling this function with ``args`` (dask ``DataNode`` values unwrapped)."""
        if not args:
            return 1
        first = getattr(args[0], "value", args[0])
        return len(first) if isinstance(first, (list, tuple)) else 1

    def publish(
        self, units: int, rows: int, *, bytes: int = 0, retries: int = 0, error: str | None = None
    ) -> None:
        """Publish this task's :class:`PartitionEvent`."""
        event = PartitionEvent(self.label, self.table, units, rows, self.label_units, bytes, retries, error)
        publish(dataclasses.replace(event, run=self.run) if self.run else event)


def _worker() -> Any:
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def active_client() -> Any:
    """The ``distributed`` client of this context, or None (no import unless ``distributed`` is loaded)."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def _dispatch(event: PartitionEvent) -> None:
    for handler in _handlers:
        try:
            handler(event)
        except Exception:
            logger.warning("progress event handler %r failed", handler, exc_info=True)


def publish(event: PartitionEvent) -> None:
    """Hand ``event`` to the subscribers: directly in this process, or through the scheduler from a
    ``distributed`` worker. Never raises."""
    try:
        worker = _worker()
        if worker is not None:
            worker.log_event(TOPIC, event.to_msg())
        elif _handlers:
            _dispatch(event)
    except Exception:
        logger.debug("could not publish a progress event", exc_info=True)


def _from_topic(event: Any) -> None:
    """A ``distributed`` topic handler: ``event`` is ``(timestamp, msg)``."""
    try:
        msg = event[1] if isinstance(event, (tuple, list)) else event
        _dispatch(PartitionEvent.from_msg(dict(msg)))
    except Exception:
        logger.debug("ignored a malformed progress event %r", event, exc_info=True)


def subscribe(handler: Handler) -> Callable[[], None]:
    """Call ``handler(event)`` for every partition event from now on (also from the workers of the active
    ``distributed`` client); returns the function that unsubscribes it.

    ``handler`` may run on any thread (a worker thread, the client's event loop): keep it short and
    thread-safe.
    """
    global _handlers
    client = active_client()
    with _lock:
        _handlers = (*_handlers, handler)
        if client is not None and id(client) not in _clients:
            client.subscribe_topic(TOPIC, _from_topic)
            _clients[id(client)] = client

    def unsubscribe() -> None:
        global _handlers
        with _lock:
            _handlers = tuple(h for h in _handlers if h is not handler)
            if _handlers:
                return
            clients = list(_clients.values())
            _clients.clear()
        for c in clients:
            try:
                c.unsubscribe_topic(TOPIC)
            except Exception:
                logger.debug("could not unsubscribe %r", c, exc_info=True)

    return unsubscribe


def _value(node: Any) -> Any:
    """A Dask graph node's literal value (``DataNode.value``), or the object itself."""
    return getattr(node, "value", node)


def _result_figures(result: Any) -> tuple[int, int, int, str | None]:
    """(rows, bytes, retries, error) of a task's result: a report (``rows_written`` / ``rows``), or a frame
    (its length)."""
    rows = getattr(result, "rows_written", None)
    if not isinstance(rows, int):
        rows = getattr(result, "rows", None)
    if not isinstance(rows, int):
        try:
            rows = len(result)
        except TypeError:
            rows = 0
    nbytes = getattr(result, "bytes", 0)
    retries = getattr(result, "retries", 0)
    error = getattr(result, "error", None)
    return (
        int(rows),
        nbytes if isinstance(nbytes, int) else 0,
        retries if isinstance(retries, int) else 0,
        error if isinstance(error, str) else None,
    )


@dataclasses.dataclass(frozen=True)
class TrackedCall(TrackedTask):
    """A partition function that publishes its :class:`PartitionEvent` when it returns (picklable).

    Parameters
    ----------
    func : callable
        The function (a ``PartitionReader``, ``write_frame``'s wrapper, ``run_unit``…).
    label, table, label_units, run
        As in :class:`PartitionEvent`.
    units_path : tuple of int
        Where the task's token ranges are in its arguments (``(0,)``: the first argument is the sequence
        of them; ``(1, 1)``: the second item of the second argument); ``()``: the task is one unit.
    """

    func: Callable[..., Any]
    label: str
    table: str
    label_units: int = 0
    units_path: tuple[int, ...] = ()
    run: str = ""

    def units_in(self, args: Sequence[Any]) -> int:
        """Units of one task: the length of the sequence at ``units_path`` in its arguments (else 1)."""
        if not self.units_path:
            return 1
        node: Any = list(args)
        try:
            for i in self.units_path:
                node = _value(_value(node)[i])
        except (IndexError, KeyError, TypeError):
            return 1
        return len(node) if isinstance(node, (list, tuple)) else 1

    @property
    def __signature__(self) -> inspect.Signature:
        """The wrapped function's signature: what Dask reads to decide which keywords to pass
        (``columns=`` for column projection and ``head`` pushdown, ``partition_info=``)."""
        return inspect.signature(self.func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self.func(*args, **kwargs)
        rows, nbytes, retries, error = _result_figures(result)
        self.publish(self.units_in(args), rows, bytes=nbytes, retries=retries, error=error)
        return result
