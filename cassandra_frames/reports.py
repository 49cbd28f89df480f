"""What an operation did: :class:`WriteReport` (and the :class:`RejectedRow` entries it lists) and
:class:`ExportReport`.

A report is a plain picklable value: a Dask partition returns its own, and one finalize merges them.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

from cassandra_frames.latency import LatencyHistogram

__all__ = ["KEEP_REJECTED", "ExportReport", "LoadReport", "RejectedRow", "WriteReport"]

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


class _Latencies:
    """The request-latency quantiles of a report with a ``latency`` histogram."""

    latency: LatencyHistogram

    @property
    def latency_p50_ms(self) -> float | None:
        """Median request round trip in milliseconds (None when no request was sent)."""
        return self.latency.quantile_ms(0.5)

    @property
    def latency_p99_ms(self) -> float | None:
        """99th-percentile request round trip in milliseconds (None when no request was sent)."""
        return self.latency.quantile_ms(0.99)

    def _latency_row(self) -> tuple[str, str]:
        p50, p99 = self.latency_p50_ms, self.latency_p99_ms
        shown = "—" if p50 is None or p99 is None else f"p50 {p50:,.2f} ms, p99 {p99:,.2f} ms"
        return ("request latency", shown)


@dataclasses.dataclass
class WriteReport(_Latencies):
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
    latency : LatencyHistogram
        Round trip of every request sent (``latency_p50_ms``, ``latency_p99_ms``).
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
    latency: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram, repr=False)

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
            latency=LatencyHistogram().merge(self.latency).merge(other.latency),
        )


def _html(title: str, colour: str, summary: str, rows: list[tuple[str, str]]) -> str:
    """A report for a notebook: the title in its colour, the summary, then a two-column table."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
        f"{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    head = f"<b style='color:{colour}'>{html.escape(title)}</b>: {html.escape(summary)}"
    return f"<div>{head}<table>{body}</table></div>"


@dataclasses.dataclass
class ExportReport(_Latencies):
    """What :func:`cassandra_frames.export` did.

    Attributes
    ----------
    operation_id : str
        The export's id (in the checkpoint, the manifest and, for Iceberg, the snapshot summary).
    table : str
        ``keyspace.table``.
    url : str
        Destination directory URL, or the Iceberg table identifier.
    format : str
        ``csv``, ``json``, ``parquet`` or ``iceberg``.
    files : list of str
        Every file of the export (URLs), in unit order.
    rows : int
        Rows exported (over every file).
    bytes : int
        Bytes written (compressed size, as stored).
    seconds : float
        Wall time of this run (a resumed run counts only itself).
    retries : int
        Transient read failures retried.
    failed_ranges : list of str
        Units that failed after retries and splits, each naming its token range and error.
    units : int
        Units of the plan.
    units_resumed : int
        Units found completed in the checkpoint and not redone.
    checkpoint : str or None
        The checkpoint file.
    manifest : str or None
        ``_manifest.json`` of a file export (written last; absent when ranges failed).
    snapshot_id : int or None
        The Iceberg snapshot holding every data file.
    resume_call, resume_command : str
        The Python call and the command line that resume this export (empty without a checkpoint).
    latency : LatencyHistogram
        Round trip of every page read (``latency_p50_ms``, ``latency_p99_ms``).
    """

    operation_id: str
    table: str
    url: str
    format: str
    files: list[str] = dataclasses.field(default_factory=list)
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    retries: int = 0
    failed_ranges: list[str] = dataclasses.field(default_factory=list)
    units: int = 0
    units_resumed: int = 0
    checkpoint: str | None = None
    manifest: str | None = None
    snapshot_id: int | None = None
    resume_call: str = ""
    resume_command: str = ""
    latency: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram, repr=False)

    @property
    def rows_per_s(self) -> float:
        """Rows exported per second of this run."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every unit completed."""
        return not self.failed_ranges

    def summary(self) -> str:
        """One line: what went where, how much, how fast."""
        where = (
            f"Iceberg table {self.url} (snapshot {self.snapshot_id})"
            if self.format == "iceberg"
            else self.url
        )
        line = (
            f"{self.table} → {where}: {self.rows:,} rows in {len(self.files):,} {self.format} files, "
            f"{self.bytes / 2**20:,.1f} MiB, {self.seconds:.2f} s ({self.rows_per_s:,.0f} rows/s)"
        )
        if self.units_resumed:
            line += f"; {self.units_resumed} of {self.units} units resumed from the checkpoint"
        if self.retries:
            line += f"; {self.retries} retries"
        if self.failed_ranges:
            line += f"; {len(self.failed_ranges)} FAILED units"
        return line

    def __repr__(self) -> str:
        lines = [f"ExportReport({self.operation_id}: {self.summary()})"]
        lines += [f"  failed: {f}" for f in self.failed_ranges[:10]]
        if self.failed_ranges and self.resume_call:
            lines.append(f"  resume: {self.resume_call}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        rows = [
            ("operation", self.operation_id),
            ("table", self.table),
            ("destination", self.url),
            ("format", self.format),
            ("rows", f"{self.rows:,}"),
            ("files", f"{len(self.files):,}"),
            ("bytes", f"{self.bytes:,}"),
            ("seconds", f"{self.seconds:.2f}"),
            ("rows/s", f"{self.rows_per_s:,.0f}"),
            ("retries", f"{self.retries:,}"),
            self._latency_row(),
            ("units", f"{self.units:,} ({self.units_resumed:,} resumed)"),
        ]
        if self.manifest:
            rows.append(("manifest", self.manifest))
        if self.snapshot_id is not None:
            rows.append(("snapshot", str(self.snapshot_id)))
        if self.checkpoint:
            rows.append(("checkpoint", self.checkpoint))
        rows += [("failed", f) for f in self.failed_ranges[:10]]
        if self.failed_ranges and self.resume_call:
            rows.append(("resume", self.resume_call))
        status = "completed" if self.ok else "FAILED ranges"
        return _html(f"Export {status}", colour, self.summary(), rows)


@dataclasses.dataclass
class LoadReport(_Latencies):
    """What :func:`cassandra_frames.load` did. ``rows_read = rows_written + rows_rejected +
    rows_not_applied``, always.

    Attributes
    ----------
    operation_id, table : str
        The load's id (in its checkpoint) and ``keyspace.table``.
    sources : list of str
        Every source file.
    rows_read, rows_written, rows_rejected, rows_not_applied : int
        Records read; acknowledged by Cassandra; rejected (did not parse, refused, or not sent after
        ``max_errors``), each in a bad-rows file; left alone (``if_not_exists``).
    bytes : int
        Bytes of the source files loaded.
    seconds : float
        Wall time of this run.
    retries : int
        Transient write failures retried.
    bad_rows : list of str
        The bad-rows files.
    failed_splits : list of str
        Splits that failed (file and error); they are redone by ``resume=``.
    splits, splits_resumed : int
        Splits of the load, and those found completed in the checkpoint.
    checkpoint : str or None
    resume_call : str
        The Python call that resumes this load.
    latency : LatencyHistogram
        Round trip of every write request sent (``latency_p50_ms``, ``latency_p99_ms``).
    """

    operation_id: str
    table: str
    sources: list[str] = dataclasses.field(default_factory=list)
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    rows_not_applied: int = 0
    bytes: int = 0
    seconds: float = 0.0
    retries: int = 0
    bad_rows: list[str] = dataclasses.field(default_factory=list)
    failed_splits: list[str] = dataclasses.field(default_factory=list)
    splits: int = 0
    splits_resumed: int = 0
    checkpoint: str | None = None
    resume_call: str = ""
    latency: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram, repr=False)

    @property
    def rows_per_s(self) -> float:
        """Rows written per second of this run."""
        return self.rows_written / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every split completed and no row was rejected."""
        return not self.failed_splits and not self.rows_rejected

    def summary(self) -> str:
        """One line: how many rows from how many files, how fast, what was rejected."""
        line = (
            f"{len(self.sources):,} files → {self.table}: {self.rows_read:,} rows read, "
            f"{self.rows_written:,} written, {self.rows_rejected:,} rejected in {self.seconds:.2f} s "
            f"({self.rows_per_s:,.0f} rows/s)"
        )
        if self.splits_resumed:
            line += f"; {self.splits_resumed} of {self.splits} splits resumed from the checkpoint"
        if self.bad_rows:
            line += f"; bad rows in {', '.join(self.bad_rows[:3])}" + (" …" if len(self.bad_rows) > 3 else "")
        if self.failed_splits:
            line += f"; {len(self.failed_splits)} FAILED splits"
        return line

    def __repr__(self) -> str:
        lines = [f"LoadReport({self.operation_id}: {self.summary()})"]
        lines += [f"  failed: {f}" for f in self.failed_splits[:10]]
        if self.failed_splits and self.resume_call:
            lines.append(f"  resume: {self.resume_call}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if not self.failed_splits else "#cf222e"
        status = "completed" if not self.failed_splits else "FAILED splits"
        rows = [
            ("operation", self.operation_id),
            ("table", self.table),
            ("files", f"{len(self.sources):,}"),
            (
                "rows read / written / rejected",
                f"{self.rows_read:,} / {self.rows_written:,} / {self.rows_rejected:,}",
            ),
            ("seconds", f"{self.seconds:.2f}"),
            ("rows/s", f"{self.rows_per_s:,.0f}"),
            ("retries", f"{self.retries:,}"),
            self._latency_row(),
        ]
        rows += [("bad rows", b) for b in self.bad_rows[:10]]
        rows += [("failed", f) for f in self.failed_splits[:10]]
        if self.checkpoint:
            rows.append(("checkpoint", self.checkpoint))
        return _html(f"Load {status}", colour, self.summary(), rows)
