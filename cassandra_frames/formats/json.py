"""JSON writer: JSON Lines (one object per row) or one JSON array, assembled column-wise.

pyarrow has no JSON writer. Each column is rendered as JSON value text for a whole batch at once by
:mod:`cassandra_frames.formats.text` (pyarrow.compute kernels; collections, UDTs and tuples included), and
the rows are assembled with ``binary_join_element_wise`` into ``{"col":value,...}``. The bytes of the
resulting string column are written directly. Value forms: docs/types.md, "In exported files".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cassandra_frames.formats.text import TextStyle, field_cql, json_quote, render

if TYPE_CHECKING:
    from cassandra_frames.formats import FormatOptions

__all__ = ["JsonWriter"]


def _string_bytes(arr: pa.Array) -> bytes | memoryview:
    """The concatenated UTF-8 of a null-free string array (a view of its data buffer)."""
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    if data is None or not len(arr):
        return b""
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]


class JsonWriter:
    """Writes JSON Lines, or one JSON array when ``options.json_array``; :meth:`close` leaves the file open.

    Parameters
    ----------
    fileobj : BinaryIO
    schema : pyarrow.Schema
        The input schema; fields may carry ``b"cql_type"`` metadata.
    options : FormatOptions
    """

    def __init__(self, fileobj: BinaryIO, schema: pa.Schema, options: FormatOptions) -> None:
        self._file = fileobj
        self._cql = [field_cql(f) for f in schema]
        names = json_quote(pa.array([f.name for f in schema], pa.string())).to_pylist()
        self._keys = [("{" if i == 0 else ",") + f"{name}:" for i, name in enumerate(names)]
        self._array = options.json_array
        self._style = TextStyle(
            timestamp_sep="T", far_timestamps="expanded", epoch_ms=options.timestamps == "epoch_ms"
        )
        self._rows = 0

    def _lines(self, batch: pa.RecordBatch) -> pa.Array:
        if not self._keys:
            return pa.array(["{}"] * batch.num_rows, pa.string())
        parts: list[pa.Array | str] = []
        for key, cql, col in zip(self._keys, self._cql, batch.columns, strict=True):
            parts += [key, pc.fill_null(render(col, cql, "json", self._style), "null")]
        return pc.binary_join_element_wise(*parts, "}", "")

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        """Append the rows of ``data`` (a batch or table with the input schema)."""
        batches = data.to_batches() if isinstance(data, pa.Table) else [data]
        for batch in batches:
            if not batch.num_rows:
                continue
            lines = self._lines(batch)
            if self._array:
                self._file.write(b"[\n" if self._rows == 0 else b",\n")
                lines = pc.binary_join_element_wise(lines, pa.array([",\n"] * (len(lines) - 1) + [""]), "")
            else:
                lines = pc.binary_join_element_wise(lines, "\n", "")
            self._file.write(_string_bytes(lines))
            self._rows += batch.num_rows

    def close(self) -> None:
        """Finish the array (``]``; ``[]`` when no row was written); the file object stays open."""
        if self._array:
            self._file.write(b"[]\n" if self._rows == 0 else b"\n]\n")
