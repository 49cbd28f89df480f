"""Progress of Cassandra operations: displays (a Jupyter widget, a terminal bar), callbacks, listeners.

- :func:`track` / :class:`Tracker`: what ``cf.export``, ``cf.load``, ``cf.count`` and ``to_cassandra``
  feed as their units complete (``progress=``, ``on_progress=``, ``on_unit_complete=``, ``on_unit_error=``,
  ``on_complete=``).
- :func:`progress`: the context manager ``cf.progress()`` for lazy Dask work.
- :class:`ProgressStats`: the snapshot every display, callback and listener gets.
- :func:`add_listener` / :func:`remove_listener`: every operation's events, process-wide (metrics).
- :class:`Reporter`: the protocol of a custom display.

``cassandra_frames.progress`` (the attribute of the top-level package) is the context manager; this
package's modules import as usual (``from cassandra_frames.progress.tracker import Tracker``).
"""

from __future__ import annotations

from cassandra_frames.progress.callbacks import Callbacks, CallbackSpec
from cassandra_frames.progress.dask_progress import progress, watch
from cassandra_frames.progress.events import PartitionEvent, TrackedCall, TrackedTask, publish, subscribe
from cassandra_frames.progress.listeners import Listener, add_listener, remove_listener
from cassandra_frames.progress.reporters import ProgressSpec, Reporter, in_jupyter_kernel, make_reporter
from cassandra_frames.progress.stats import ProgressStats
from cassandra_frames.progress.tracker import PROGRESS_KEYWORDS, ProgressOptions, Tracker, track

__all__ = [
    "PROGRESS_KEYWORDS",
    "CallbackSpec",
    "Callbacks",
    "Listener",
    "PartitionEvent",
    "ProgressOptions",
    "ProgressSpec",
    "ProgressStats",
    "Reporter",
    "TrackedCall",
    "TrackedTask",
    "Tracker",
    "add_listener",
    "in_jupyter_kernel",
    "make_reporter",
    "progress",
    "publish",
    "remove_listener",
    "subscribe",
    "track",
    "watch",
]
