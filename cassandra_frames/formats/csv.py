"""CSV writer: Arrow batches → pyarrow's ``CSVWriter`` after a column-wise conversion to text.

Integer and text columns go to pyarrow's writer as they are. Every other column is first turned into text
with :mod:`cassandra_frames.formats.text` (pyarrow.compute kernels over the whole column, collections,
UDTs and tuples included), so that each value has the form cqlsh ``COPY FROM`` and DSBulk ``load`` read
(docs/types.md, "In exported files"). pyarrow quotes every text value (``"needed"``), doubles quotes inside
values, and writes nulls unquoted as ``null_value``, so a null and an empty string differ.

cqlsh loads such a file ``WITH HEADER=true AND ESCAPE='"' AND NULL='NULL'`` when it was written with
``null_value="NULL"`` (its csv reader cannot tell ``""`` from an empty field). It cannot load text with a
line break: it counts physical lines as rows and aborts. docs/types.md lists what else it cannot load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from cassandra_frames.formats.text import TextStyle, field_cql, render_cell

if TYPE_CHECKING:
    from cassandra_frames.formats import FormatOptions

__all__ = ["CsvWriter", "csv_schema"]


def _keeps_type(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t))


def csv_schema(schema: pa.Schema) -> pa.Schema:
    """The schema pyarrow's writer gets: integer and text columns as they are, the others as strings."""
    fields = [f if _keeps_type(f.type) else f.with_type(pa.string()) for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


class CsvWriter:
    """Writes CSV to an open binary file (see the module docstring); :meth:`close` leaves it open.

    Parameters
    ----------
    fileobj : BinaryIO
    schema : pyarrow.Schema
        The input schema; fields may carry ``b"cql_type"`` metadata.
    options : FormatOptions
    """

    def __init__(self, fileobj: BinaryIO, schema: pa.Schema, options: FormatOptions) -> None:
        self._schema = schema
        self._out = csv_schema(schema)
        self._cql = [field_cql(f) for f in schema]
        self._nested = options.nested
        self._style = TextStyle(
            timestamp_sep=" ",
            far_timestamps="epoch_ms",
            epoch_ms=options.timestamps == "epoch_ms",
            nested_null=options.null_value,
        )
        write_options = pacsv.WriteOptions(
            include_header=options.header,
            delimiter=options.delimiter,
            null_string=options.null_value,
            quoting_style="needed",
        )
        self._writer = pacsv.CSVWriter(fileobj, self._out, write_options=write_options)

    def _convert(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        columns = []
        for cql, col in zip(self._cql, batch.columns, strict=True):
            columns.append(col if _keeps_type(col.type) else render_cell(col, cql, self._nested, self._style))
        return pa.RecordBatch.from_arrays(columns, schema=self._out)

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        """Append the rows of ``data`` (a batch or table with the input schema)."""
        batches = data.to_batches() if isinstance(data, pa.Table) else [data]
        for batch in batches:
            if batch.num_rows:
                self._writer.write_batch(self._convert(batch))

    def close(self) -> None:
        """Flush pyarrow's writer (the header of an empty file included); the file object stays open."""
        self._writer.close()
