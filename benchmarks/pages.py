"""Driver-level read clients: the physical limits a reader is measured against.

Both read every row of a table over 64 token ranges, 8 ranges in flight, 5,000-row pages (a prepared
``SELECT * … WHERE token(pk) > ? AND token(pk) <= ?``), with the driver alone — no cassandra_frames code:

- **null client**: the driver's default (Cython) protocol handler builds a tuple of Python values per row;
  the rows are counted and dropped. What any client that goes through the driver's row decoding pays.
- **raw-page client**: a protocol handler whose ROWS message keeps each page's body as bytes and decodes
  nothing (only the row count is read). The node's own serving rate on this machine: the ceiling for any
  decoder.

The hook (cassandra-driver 3.29+): ``Session.client_protocol_handler`` is a ``ProtocolHandler`` class whose
``message_types_by_opcode`` maps the RESULT opcode to a ``ResultMessage`` subclass; its
``recv_results_rows`` reads the page's column metadata (or takes the prepared statement's when the page
skipped it), the int32 row count, and the rest of the body is ``rowcount × columns`` cells of
``[int32 length][bytes]``. Whatever it puts in ``parsed_rows`` is what the result set yields, page by page.
"""

from __future__ import annotations

import collections
from typing import Any

from benchmarks.common import KEYSPACE, partition_key, token_bounds

RANGES = 64
IN_FLIGHT = 8
FETCH_SIZE = 5000


def raw_handler() -> type:
    """A protocol handler class that yields one ``(rowcount, body bytes)`` item per ROWS page."""
    from cassandra.protocol import ProtocolHandler, ResultMessage, read_int

    class RawResultMessage(ResultMessage):  # type: ignore[misc]
        def recv_results_rows(
            self,
            f: Any,
            protocol_version: int,
            user_type_map: Any,
            result_metadata: Any,
            column_encryption_policy: Any,
        ) -> None:
            self.recv_results_metadata(f, user_type_map)  # this page's column names and types, if sent
            column_metadata = self.column_metadata or result_metadata
            rowcount = read_int(f)
            self.column_names = [c[2] for c in column_metadata]
            self.column_types = [c[3] for c in column_metadata]
            self.parsed_rows = [(rowcount, f.read())]

    class RawHandler(ProtocolHandler):  # type: ignore[misc]
        message_types_by_opcode = ProtocolHandler.message_types_by_opcode.copy()
        message_types_by_opcode[RawResultMessage.opcode] = RawResultMessage

    return RawHandler


def read_table(session: Any, table: str, raw: bool) -> int:
    """Rows of ``bench.<table>`` read over :data:`RANGES` token ranges, :data:`IN_FLIGHT` at a time.

    ``raw``: pages stay bytes (:func:`raw_handler`); otherwise the driver decodes every row into a tuple,
    which is dropped."""
    from cassandra.query import tuple_factory

    key = ", ".join(f'"{c}"' for c in partition_key(session, table))  # before pages stop being decoded
    session.row_factory = tuple_factory
    if raw:
        session.client_protocol_handler = raw_handler()
    stmt = session.prepare(f"SELECT * FROM {KEYSPACE}.{table} WHERE token({key}) > ? AND token({key}) <= ?")
    stmt.fetch_size = FETCH_SIZE
    bounds = token_bounds(RANGES)
    pending: collections.deque[Any] = collections.deque()
    rows = i = 0
    while i < len(bounds) or pending:
        while i < len(bounds) and len(pending) < IN_FLIGHT:
            pending.append(session.execute_async(stmt, bounds[i], timeout=120))
            i += 1
        for item in pending.popleft().result():  # later pages are fetched as the iteration goes
            rows += item[0] if raw else 1
    return rows
