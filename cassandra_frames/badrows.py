"""The bad-rows sink: every rejected row, with its values and why, in a file on any fsspec URL.

A ``.csv`` path gets CSV; any other gets JSON Lines. Each record holds the row's own columns and
``_row`` (its index label), ``_column`` (the column at fault, when one is) and ``_reason``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from cassandra_frames.reports import RejectedRow

__all__ = ["bad_rows_file", "write_bad_rows"]


def bad_rows_file(path: str, partition: int | None) -> str:
    """The file of one partition's bad rows: ``bad.csv`` → ``bad.part-00003.csv`` (``path`` itself when
    ``partition`` is None)."""
    if partition is None:
        return path
    stem, dot, suffix = path.rpartition(".")
    if not dot or "/" in suffix:
        return f"{path}.part-{partition:05d}"
    return f"{stem}.part-{partition:05d}.{suffix}"


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def write_bad_rows(path: str, frame: pd.DataFrame, rejected: Sequence[tuple[int, RejectedRow]]) -> None:
    """Write the rejected rows of ``frame`` (``(position, RejectedRow)`` pairs) to ``path``."""
    import fsspec

    rows = frame.iloc[[pos for pos, _ in rejected]].astype(object)
    records = []
    for (_, rej), (_, values) in zip(rejected, rows.iterrows(), strict=True):
        rec = {k: (None if _isna(v) else v) for k, v in values.items()}
        rec.update({"_row": rej.row, "_column": rej.column, "_reason": rej.reason})
        records.append(rec)
    with fsspec.open(path, "w", encoding="utf-8") as fh:
        if path.endswith(".csv"):
            pd.DataFrame.from_records(records).to_csv(fh, index=False)
        else:
            for rec in records:
                fh.write(json.dumps(rec, default=str, ensure_ascii=False) + "\n")
