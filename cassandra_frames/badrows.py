"""The bad-rows sink: every rejected row, with its values and why, streamed to a file on any fsspec URL.

A ``.csv`` path gets CSV; any other gets JSON Lines. Each record holds the row's own columns and
``_row`` (its label: the frame's index label, or the row's position in the stream), ``_column`` (the column
at fault, when one is) and ``_reason``. The file is opened on the first rejected row and written chunk by
chunk, so a write with many rejected rows does not hold them all in memory.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from typing import IO, Any

import pyarrow as pa

from cassandra_frames.reports import RejectedRow

__all__ = ["BadRowSink", "bad_rows_file"]


def bad_rows_file(path: str, partition: int | None) -> str:
    """The file of one partition's bad rows: ``bad.csv`` → ``bad.part-00003.csv`` (``path`` itself when
    ``partition`` is None)."""
    if partition is None:
        return path
    stem, dot, suffix = path.rpartition(".")
    if not dot or "/" in suffix:
        return f"{path}.part-{partition:05d}"
    return f"{stem}.part-{partition:05d}.{suffix}"


def _plain(v: Any) -> Any:
    """A value as a record holds it: NaN (pandas' missing value) as None."""
    return None if isinstance(v, float) and math.isnan(v) else v


class BadRowSink:
    """Rejected rows of one write, appended to ``path`` (nothing is created until the first one)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.rows = 0
        self._file: Any = None
        self._fh: IO[str] | None = None
        self._csv: csv.DictWriter[str] | None = None

    def write(self, table: pa.Table, rejected: Sequence[tuple[int, RejectedRow]]) -> None:
        """Append the rows of ``table`` at the given positions, each with its label, column and reason."""
        if self.path is None or not rejected:
            return
        values = table.take(pa.array([pos for pos, _ in rejected], pa.int64())).to_pylist()
        records = []
        for row, (_, rej) in zip(values, rejected, strict=True):
            rec = {k: _plain(v) for k, v in row.items()}
            rec.update({"_row": rej.row, "_column": rej.column, "_reason": rej.reason})
            records.append(rec)
        fh = self._open()
        if self.path.endswith(".csv"):
            if self._csv is None:
                self._csv = csv.DictWriter(fh, fieldnames=list(records[0]), extrasaction="ignore")
                self._csv.writeheader()
            self._csv.writerows(records)
        else:
            for rec in records:
                fh.write(json.dumps(rec, default=str, ensure_ascii=False) + "\n")
        self.rows += len(records)

    def _open(self) -> IO[str]:
        if self._fh is None:
            import fsspec

            assert self.path is not None
            self._file = fsspec.open(self.path, "w", encoding="utf-8", newline="")
            self._fh = self._file.open()
        return self._fh

    def close(self) -> list[str]:
        """Finish the file (on an object store: upload it); the paths written (empty when none was)."""
        if self._fh is None:
            return []
        self._fh.close()
        self._fh = None
        return [self.path] if self.path is not None else []
