"""What an operation did: :class:`WriteReport` and the :class:`RejectedRow` entries it lists.

A report is a plain picklable value: a Dask partition returns its own, and one finalize merges them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["KEEP_REJECTED", "RejectedRow", "WriteReport"]

KEEP_REJECTED = 1000
"""Rejected rows a report keeps in memory (every one of them goes to the bad-rows file)."""


@dataclasses.dataclass(frozen=True)
class RejectedRow:
    """A row that was not written: where it was, which column and value, and why."""

    row: Any
    column: str | None
    value: Any
    reason: str

    def describe(self) -> str:
        """``row 11, column 'small', value 300: <reason>``."""
        where = f"row {self.row!r}"
        if self.column is not None:
            where += f", column {self.column!r}, value {self.value!r}"
        return f"{where}: {self.reason}"


@dataclasses.dataclass
class WriteReport:
    """What :func:`cassandra_frames.to_cassandra` did.

    Attributes
    ----------
    table : str
        ``keyspace.table``.
    rows_written : int
        Rows acknowledged by Cassandra.
    rows_rejected : int
        Rows not written (bad values, refused by the server, or failed after retries).
    rows_not_applied : int
        With ``if_not_exists=True``: rows that already existed and were left alone.
    batches : int
        Requests sent (batches and single statements).
    retries : int
        Transient failures retried.
    duration_s : float
        Wall time of the write (for Dask: the sum over partitions).
    rejected : list of RejectedRow
        The first 1,000 rejected rows (all of them are in ``bad_rows_path``).
    bad_rows_path : list of str
        Files holding every rejected row with its reason.
    aborted : bool
        ``max_errors`` stopped the write early.
    """

    table: str
    rows_written: int = 0
    rows_rejected: int = 0
    rows_not_applied: int = 0
    batches: int = 0
    retries: int = 0
    duration_s: float = 0.0
    rejected: list[RejectedRow] = dataclasses.field(default_factory=list)
    bad_rows_path: list[str] = dataclasses.field(default_factory=list)
    aborted: bool = False

    @property
    def rows_per_s(self) -> float:
        """Rows written per second."""
        return self.rows_written / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def rows_seen(self) -> int:
        """Rows written, rejected or left alone: every row handed to the write."""
        return self.rows_written + self.rows_rejected + self.rows_not_applied

    def __repr__(self) -> str:
        return (
            f"WriteReport({self.table}: {self.rows_written:,} rows written, {self.rows_rejected:,} rejected"
            + (f", {self.rows_not_applied:,} already existed" if self.rows_not_applied else "")
            + f" in {self.duration_s:.2f} s ({self.rows_per_s:,.0f} rows/s); {self.batches:,} batches, "
            f"{self.retries:,} retries"
            + (", stopped early" if self.aborted else "")
            + (f"; bad rows in {', '.join(self.bad_rows_path)}" if self.bad_rows_path else "")
            + ")"
        )

    def merge(self, other: WriteReport) -> WriteReport:
        """The sum of two reports (of two partitions of one write)."""
        return WriteReport(
            table=self.table,
            rows_written=self.rows_written + other.rows_written,
            rows_rejected=self.rows_rejected + other.rows_rejected,
            rows_not_applied=self.rows_not_applied + other.rows_not_applied,
            batches=self.batches + other.batches,
            retries=self.retries + other.retries,
            duration_s=self.duration_s + other.duration_s,
            rejected=(self.rejected + other.rejected)[:KEEP_REJECTED],
            bad_rows_path=self.bad_rows_path + other.bad_rows_path,
            aborted=self.aborted or other.aborted,
        )
