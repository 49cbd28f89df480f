"""Result pages kept as the node sent them: the driver hook behind the compiled page decoder.

A read whose converter decodes raw pages (see :mod:`cassandra_frames.convert.pages`) runs its SELECT with
:func:`execute_raw`: the request carries a protocol handler whose ROWS message reads the page's metadata
(to advance past it, and for the paging state) and keeps the rest of the body — ``rows × columns`` cells,
each ``[int32 length][bytes]`` — as one ``bytes`` object, a :class:`RawPage`, instead of building a tuple
of Python values per row. Paging, retries and the driver's callbacks are unchanged: only what a page yields
differs.

The handler is set on the request, not on the session, so the session's other users (a notebook's own
queries on a shared session) still get rows. It relies on two driver internals
(``Session._create_response_future`` and ``ResponseFuture._protocol_handler``, what ``execute_async``
itself does); :func:`raw_pages_supported` says whether the running driver has them, and reads fall back to
ordinary rows when it does not, or when a column-encryption policy or a row factory other than tuples is in
force.
"""

from __future__ import annotations

import functools
from typing import Any

from cassandra_frames.engine.connections import is_legacy

__all__ = ["RawPage", "execute_raw", "raw_page_handler", "raw_pages_supported"]


class RawPage:
    """One ROWS page, undecoded.

    Attributes
    ----------
    rows : int
        Rows in the page.
    columns : int
        Cells per row.
    body : bytes
        The ``rows × columns`` cells, row-major, each ``[int32 length][bytes]`` (length < 0: null).
    """

    __slots__ = ("body", "columns", "rows")

    def __init__(self, rows: int, columns: int, body: bytes) -> None:
        self.rows = rows
        self.columns = columns
        self.body = body

    def __len__(self) -> int:
        return self.rows

    def __repr__(self) -> str:
        return f"RawPage(rows={self.rows}, columns={self.columns}, bytes={len(self.body)})"


# flags of a ROWS result's metadata (native protocol v5, section 4.2.5.2)
_GLOBAL_TABLES_SPEC, _HAS_MORE_PAGES, _NO_METADATA, _METADATA_CHANGED = 0x1, 0x2, 0x4, 0x8
_CONTINUOUS_PAGING = 0x40000000


def _skip_type(f: Any, read_short: Any, read_string: Any) -> None:
    """Read past one [option] type description (custom, list/set, map, UDT, tuple or native)."""
    kind = read_short(f)
    if kind == 0x0000:  # custom: a class name (vector, …)
        read_string(f)
    elif kind in (0x0020, 0x0022):  # list, set
        _skip_type(f, read_short, read_string)
    elif kind == 0x0021:  # map
        _skip_type(f, read_short, read_string)
        _skip_type(f, read_short, read_string)
    elif kind == 0x0030:  # UDT: keyspace, name, then (field name, type) pairs
        read_string(f)
        read_string(f)
        for _ in range(read_short(f)):
            read_string(f)
            _skip_type(f, read_short, read_string)
    elif kind == 0x0031:  # tuple
        for _ in range(read_short(f)):
            _skip_type(f, read_short, read_string)


@functools.cache
def raw_page_handler() -> Any:
    """The driver ``ProtocolHandler`` subclass whose ROWS results are :class:`RawPage` objects.

    Its ROWS message reads the page's metadata itself, building no type objects: the paging state is
    kept (the driver pages with it), column specs are read past.
    """
    from cassandra.protocol import (
        ProtocolHandler,
        ResultMessage,
        read_binary_longstring,
        read_binary_string,
        read_int,
        read_short,
        read_string,
    )

    class RawResultMessage(ResultMessage):  # type: ignore[misc]
        def recv_results_rows(
            self,
            f: Any,
            protocol_version: int,
            user_type_map: Any,
            result_metadata: Any,
            column_encryption_policy: Any,
        ) -> None:
            flags = read_int(f)
            columns = read_int(f)
            if flags & _HAS_MORE_PAGES:
                self.paging_state = read_binary_longstring(f)
            if not flags & _NO_METADATA:
                if flags & _CONTINUOUS_PAGING:
                    read_int(f)
                if flags & _METADATA_CHANGED:
                    self.result_metadata_id = read_binary_string(f)
                tables_once = bool(flags & _GLOBAL_TABLES_SPEC)
                if tables_once:
                    read_string(f)
                    read_string(f)
                for _ in range(columns):
                    if not tables_once:
                        read_string(f)
                        read_string(f)
                    read_string(f)
                    _skip_type(f, read_short, read_string)
            rows = read_int(f)
            self.column_names = self.column_types = None
            self.parsed_rows = RawPage(rows, columns, f.read())

    class RawPageHandler(ProtocolHandler):  # type: ignore[misc]
        message_types_by_opcode = ProtocolHandler.message_types_by_opcode.copy()
        message_types_by_opcode[RawResultMessage.opcode] = RawResultMessage

    return RawPageHandler


def raw_pages_supported(session: Any, execution_profile: Any) -> bool:
    """Whether reads on ``session`` with ``execution_profile`` can take raw pages (see the module text)."""
    from cassandra.query import tuple_factory

    if not hasattr(session, "_create_response_future") or not hasattr(session, "_on_request"):
        return False
    cluster = session.cluster
    if getattr(cluster, "column_encryption_policy", None) is not None:
        return False
    if is_legacy(cluster):
        factory = session.row_factory
    else:
        try:
            factory = session.get_execution_profile(execution_profile).row_factory
        except ValueError:
            return False
    return factory is tuple_factory


def execute_raw(session: Any, statement: Any, *, timeout: float, execution_profile: Any, host: Any) -> Any:
    """``session.execute_async(statement, …)`` whose ROWS pages arrive as :class:`RawPage` objects.

    Check :func:`raw_pages_supported` first. Returns the driver's ``ResponseFuture``; every page of it
    (``start_fetching_next_page``) is raw too.
    """
    future = session._create_response_future(
        statement, None, False, {}, timeout, execution_profile=execution_profile, host=host
    )
    future._protocol_handler = raw_page_handler()
    session._on_request(future)
    future.send_request()
    return future
