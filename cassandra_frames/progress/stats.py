"""What a tracked operation has done so far: :class:`ProgressStats`, and the one-line text of it.

The text is the widget's and the terminal bar's: ``42% · 17/40 units · 1,234 rows · 3.4 MiB ·
12,345 rows/s · 0:05 elapsed · ETA 0:07 · 0 retries · 0 errors``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

__all__ = ["ProgressStats", "format_bytes", "format_duration"]


def format_bytes(n: int) -> str:
    """``1,234 B``, ``3.4 MiB``, ``1.2 GiB`` (binary units)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size):,} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_duration(seconds: float | None) -> str:
    """``0:05``, ``12:34``, ``1:02:03``; ``?`` when unknown."""
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return "?"
    total = int(seconds + 0.5)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclasses.dataclass(frozen=True)
class ProgressStats:
    """A snapshot of one tracked operation (``cf.export``, ``cf.load``, ``cf.count``, ``to_cassandra``, or
    the Dask work seen by ``cf.progress()``), handed to ``on_progress`` callbacks, reporters and listeners.

    Attributes
    ----------
    operation : str
        ``"export"``, ``"load"``, ``"count"``, ``"to_cassandra"`` or ``"dask"``.
    operation_id : str
        The operation's id (an export's or a load's is in its checkpoint and report), or a fresh one.
    table : str
        ``keyspace.table`` (for ``cf.progress()``: the tables its tasks touched).
    units_total : int
        Units of work of the operation: export units (files), load splits, count pieces (token ranges),
        write partitions or chunks; for ``cf.progress()``, token ranges read and partitions written.
    units_done : int
        Units completed (resumed ones included).
    units_failed : int
        Units that failed after their retries.
    rows : int
        Rows exported, loaded (written), counted or written so far.
    bytes : int
        Bytes written (export files) or read (load sources) so far; 0 when the operation has none.
    retries : int
        Transient failures retried so far.
    errors : int
        Failed units plus rows rejected so far.
    elapsed_s : float
        Seconds since the operation started.
    rows_per_s : float
        ``rows / elapsed_s``.
    eta_s : float or None
        Seconds still to go, from the rate units complete at (None until one has).
    finished : bool
        The operation is over.
    ok : bool
        No unit has failed (and, once finished, the operation succeeded).
    report : object or None
        Once finished, the operation's report (``ExportReport``, ``LoadReport``, ``WriteReport``, the
        count), when it has one: what a listener reads request latencies from.
    """

    operation: str
    operation_id: str
    table: str
    units_total: int
    units_done: int = 0
    units_failed: int = 0
    rows: int = 0
    bytes: int = 0
    retries: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    rows_per_s: float = 0.0
    eta_s: float | None = None
    finished: bool = False
    ok: bool = True
    report: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def percent(self) -> int:
        """Whole percent of the units processed (done or failed); 100 once every one is, or the operation
        succeeded."""
        if self.finished and self.ok:
            return 100
        if self.units_total <= 0:
            return 0
        processed = min(self.units_done + self.units_failed, self.units_total)
        return processed * 100 // self.units_total

    def line(self) -> str:
        """``42% · 17/40 units · 1,234 rows · 3.4 MiB · 12,345 rows/s · 0:05 elapsed · ETA 0:07 ·
        0 retries · 0 errors``."""
        total = f"{self.units_total:,}" if self.units_total > 0 else "?"
        return (
            f"{self.percent}% · {self.units_done:,}/{total} units · {self.rows:,} rows · "
            f"{format_bytes(self.bytes)} · {self.rows_per_s:,.0f} rows/s · "
            f"{format_duration(self.elapsed_s)} elapsed · ETA {format_duration(self.eta_s)} · "
            f"{self.retries:,} retries · {self.errors:,} errors"
        )
