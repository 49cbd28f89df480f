"""Parquet writer: pyarrow's ``ParquetWriter`` with the table's Arrow schema and field metadata.

Parquet has no type for Arrow's ``month_day_nano_interval`` (a CQL ``duration``), so such a column, also
one nested in lists, maps, UDTs, tuples or vectors, is written as
``struct<months: int32, days: int32, nanoseconds: int64>``, which keeps the three parts exactly. Every
other column keeps its Arrow type, and every field keeps its metadata (``b"cql_type"`` tells a set from a
list and a tuple from a UDT when the file is read back with pyarrow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from cassandra_frames.formats.text import duration_parts

if TYPE_CHECKING:
    from cassandra_frames.formats import FormatOptions

__all__ = ["DURATION_STRUCT", "ParquetFormatWriter", "parquet_schema", "readable_statistics"]

DURATION_STRUCT = pa.struct([("months", pa.int32()), ("days", pa.int32()), ("nanoseconds", pa.int64())])
"""How a ``duration`` is stored in Parquet."""
_INTERVAL = pa.month_day_nano_interval()


def _map_type(t: pa.DataType) -> pa.DataType:
    if t == _INTERVAL:
        return DURATION_STRUCT
    if pa.types.is_map(t):
        return pa.map_(
            t.key_field.with_type(_map_type(t.key_type)), t.item_field.with_type(_map_type(t.item_type))
        )
    if pa.types.is_fixed_size_list(t):
        return pa.list_(t.value_field.with_type(_map_type(t.value_type)), t.list_size)
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_map_type(t.value_type)))
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_map_type(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_map_type(f.type)) for f in t])
    return t


def _has_interval(t: pa.DataType) -> bool:
    return bool(_map_type(t) != t)


def parquet_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every ``month_day_nano_interval`` (also nested) as :data:`DURATION_STRUCT`.

    Parameters
    ----------
    schema : pyarrow.Schema

    Returns
    -------
    pyarrow.Schema
        Field and schema metadata kept.
    """
    return pa.schema([f.with_type(_map_type(f.type)) for f in schema], metadata=schema.metadata)


def _mask(arr: pa.Array) -> pa.Array | None:
    return arr.is_null() if arr.null_count else None


def _convert(arr: pa.Array, target: pa.DataType) -> pa.Array:
    """``arr`` with its intervals as :data:`DURATION_STRUCT` (``target`` is ``_map_type(arr.type)``)."""
    t = arr.type
    if t == target:
        return arr
    if t == _INTERVAL:
        months, days, nanos = duration_parts(arr)
        return pa.StructArray.from_arrays(
            [months, days, nanos], fields=list(DURATION_STRUCT), mask=_mask(arr)
        )
    if pa.types.is_struct(t):
        children = [_convert(c, f.type) for c, f in zip(arr.flatten(), target, strict=True)]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=_mask(arr))
    n = len(arr)
    if pa.types.is_fixed_size_list(t):
        size = t.list_size
        values = _convert(arr.values.slice(arr.offset * size, n * size), target.value_type)
        return pa.FixedSizeListArray.from_arrays(values, size, mask=_mask(arr), type=target)
    offsets = arr.offsets
    start, stop = offsets[0].as_py(), offsets[-1].as_py()
    rebased = pa.compute.subtract(offsets, start)
    if pa.types.is_map(t):
        keys = _convert(arr.keys.slice(start, stop - start), target.key_type)
        items = _convert(arr.items.slice(start, stop - start), target.item_type)
        return pa.MapArray.from_arrays(rebased, keys, items, type=target, mask=_mask(arr))
    values = _convert(arr.values.slice(start, stop - start), target.value_type)
    cls = pa.LargeListArray if pa.types.is_large_list(t) else pa.ListArray
    return cls.from_arrays(rebased, values, type=target, mask=_mask(arr))


class ParquetFormatWriter:
    """Writes one Parquet file to an open binary file; :meth:`close` writes the footer, leaves it open.

    Parameters
    ----------
    fileobj : BinaryIO
    schema : pyarrow.Schema
        The input schema.
    options : FormatOptions
        ``compression`` and ``row_group_size`` apply.
    """

    def __init__(self, fileobj: BinaryIO, schema: pa.Schema, options: FormatOptions) -> None:
        self._schema = parquet_schema(schema)
        self._convert = [_has_interval(f.type) for f in schema]
        self._row_group_size = options.row_group_size
        self._writer = pq.ParquetWriter(fileobj, self._schema, compression=options.compression or "snappy")

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        """Append the rows of ``data`` (a batch or table with the input schema)."""
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        if not table.num_rows:
            return
        if any(self._convert):
            columns = []
            for i, col in enumerate(table.columns):
                if self._convert[i]:
                    target = self._schema.field(i).type
                    col = pa.chunked_array([_convert(c, target) for c in col.chunks], type=target)
                columns.append(col)
            table = pa.Table.from_arrays(columns, schema=self._schema)
        else:
            table = table.cast(self._schema)
        self._writer.write_table(table, row_group_size=self._row_group_size)

    def close(self) -> None:
        """Write the footer (a file with no rows is still valid); the file object stays open."""
        self._writer.close()


_PY_MIN_MS, _PY_MAX_MS = -62135596800000, 253402300799999  # what datetime.datetime can hold
_PY_MIN_DAY, _PY_MAX_DAY = -719162, 2932896


def readable_statistics(table: pa.Table) -> list[str]:
    """The top-level primitive columns whose Parquet min/max statistics a reader can turn into Python
    values: dates and timestamps only when every value lies in years 1–9999 (pyiceberg's ``add_files``
    reads the statistics as ``datetime`` objects and fails beyond them). Nested columns get none."""
    import pyarrow.compute as pc

    out = []
    for field in table.schema:
        t = field.type
        if pa.types.is_nested(t) or pa.types.is_interval(t):
            continue
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            raw = table.column(field.name).cast(pa.int64() if pa.types.is_timestamp(t) else pa.int32())
            if pa.types.is_timestamp(t):
                raw = pc.divide(raw, {"s": 1 / 1000, "ms": 1, "us": 1000, "ns": 1_000_000}[t.unit])
            low, high = (_PY_MIN_MS, _PY_MAX_MS) if pa.types.is_timestamp(t) else (_PY_MIN_DAY, _PY_MAX_DAY)
            extremes = pc.min_max(raw).as_py()
            if extremes["min"] is not None and not low <= extremes["min"] <= extremes["max"] <= high:
                continue
        out.append(field.name)
    return out
