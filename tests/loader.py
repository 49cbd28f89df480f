"""A plain batch loader for fixtures: tests and benchmarks write their data with it, not with the code
under test (to_cassandra), so a bug there cannot hide behind a fixture written by the same bug."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cassandra.query import BatchStatement, BatchType


def load_rows(session: Any, prepared: Any, rows: Sequence[tuple[Any, ...]], key_len: int) -> None:
    """Unlogged batches of up to 50 rows of one partition, 64 batches in flight.

    ``key_len`` is how many leading values of each row form the partition key.
    """
    by_partition: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        by_partition.setdefault(row[:key_len], []).append(row)
    pending: list[Any] = []
    for part in by_partition.values():
        for i in range(0, len(part), 50):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for row in part[i : i + 50]:
                batch.add(prepared, row)
            pending.append(session.execute_async(batch, timeout=60))
            if len(pending) >= 64:
                for f in pending:
                    f.result()
                pending = []
    for f in pending:
        f.result()
