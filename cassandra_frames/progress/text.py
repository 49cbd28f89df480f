"""The terminal progress bar: tqdm on stderr, the figures as its postfix, the summary printed last."""

from __future__ import annotations

import sys
from typing import IO, Any

from cassandra_frames.progress.stats import ProgressStats, format_bytes, format_duration

__all__ = ["TqdmReporter"]


def _postfix(stats: ProgressStats) -> str:
    return (
        f"{stats.rows:,} rows · {format_bytes(stats.bytes)} · {stats.rows_per_s:,.0f} rows/s · "
        f"ETA {format_duration(stats.eta_s)} · {stats.retries:,} retries · {stats.errors:,} errors"
    )


class TqdmReporter:
    """A tqdm bar of units, with rows, bytes, rate, ETA, retries and errors beside it.

    Parameters
    ----------
    file : file object, optional
        Where the bar is drawn (default ``sys.stderr``).
    interval : float
        Seconds between two redraws at least.
    """

    def __init__(self, file: IO[str] | None = None, interval: float = 0.2) -> None:
        self.file = file
        self.interval = interval
        self.bar: Any = None

    def start(self, stats: ProgressStats, title: str) -> None:
        """Open the bar."""
        from tqdm import tqdm  # type: ignore[import-untyped]

        self.bar = tqdm(
            total=stats.units_total or None,
            desc=title,
            unit="unit",
            file=self.file or sys.stderr,
            mininterval=0,
            dynamic_ncols=True,
            leave=True,
        )

    def update(self, stats: ProgressStats) -> None:
        """Move the bar to the units processed."""
        if self.bar is None:
            return
        if stats.units_total and self.bar.total != stats.units_total:
            self.bar.total = stats.units_total
        self.bar.n = stats.units_done + stats.units_failed
        self.bar.set_postfix_str(_postfix(stats), refresh=False)
        self.bar.refresh()

    def finish(self, stats: ProgressStats, summary: str) -> None:
        """Close the bar (green or red) and print the summary line under it."""
        if self.bar is None:
            self.start(stats, stats.operation)
        self.bar.colour = "green" if stats.ok else "red"
        self.update(stats)
        self.bar.close()
        out = self.file or sys.stderr
        out.write(summary + "\n")
        out.flush()
