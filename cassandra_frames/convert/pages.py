"""Raw result pages → Arrow record batches, with no Python object per cell. No I/O, no driver import.

The compiled half (``cassandra_frames.convert.pagecodec``, Rust, built from ``rust/`` when the package is
installed with a Rust toolchain) walks a page's cells once and fills Arrow buffers: validity bitmaps,
offsets, values. This module describes each column to it (a *spec*, from the column's CQL type and the
Arrow type :func:`cassandra_frames.schema.arrow_type` gives it) and assembles the buffers into arrays with
``pa.Array.from_buffers``, without copying them again.

The arrays are the same as the driver path's (the driver's values of a page, then
:func:`cassandra_frames.convert.to_arrow.fetched_converter`), value for value and type for type; the
property tests in ``tests/unit/test_page_decoder.py`` hold the two to that over every CQL type. Without
the compiled module (no Rust toolchain at install time), or with ``CASSANDRA_FRAMES_DECODER=python`` in the
environment, :func:`page_decoder` returns ``None`` and reads take the driver path: slower, same result.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from cassandra_frames.cqltypes import CqlType, UdtMap, as_type, fetched_as_epoch_millis, udt_fields
from cassandra_frames.errors import SchemaError
from cassandra_frames.schema import TIMESTAMP_TYPE

try:  # the compiled decoder is optional: see the module text
    from cassandra_frames.convert import pagecodec  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the install
    pagecodec = None

__all__ = ["ColumnSpec", "PageDecoder", "compiled_decoder_available", "page_decoder"]

Spec = tuple[int, int, int, tuple[Any, ...]]
"""``(code, a, b, children)`` as the compiled module reads it (see ``rust/src/lib.rs``)."""

ColumnSpec = tuple[CqlType | str | None, pa.DataType]
"""One fetched column: its CQL type (None for a computed bigint/int such as ``WRITETIME``) and Arrow type."""

_FIXED = {"tinyint": 1, "smallint": 2, "int": 4, "bigint": 8, "counter": 8, "float": 4, "double": 8}
_FIXED.update(time=8, timestamp=8)
_CODES = {"boolean": 1, "date": 2, "uuid": 3, "timeuuid": 3, "text": 4, "varchar": 4, "ascii": 4}
_CODES.update(blob=5, inet=6, duration=7)
# element types the driver packs without a length inside a vector (their serial_size())
_SERIAL_SIZE = {"boolean": 1, "int": 4, "float": 4, "bigint": 8, "counter": 8, "double": 8, "timestamp": 8}
_SERIAL_SIZE.update(uuid=16, timeuuid=16)
ENV = "CASSANDRA_FRAMES_DECODER"


def compiled_decoder_available() -> bool:
    """Whether the compiled page decoder is installed and not switched off (``CASSANDRA_FRAMES_DECODER``)."""
    return pagecodec is not None and os.environ.get(ENV, "").lower() not in ("python", "off", "0")


def _serial_size(t: CqlType) -> int | None:
    if t.name == "vector" and t.size is not None:
        inner = _serial_size(t.params[0])
        return None if inner is None else inner * t.size
    return _SERIAL_SIZE.get(t.name) if not t.params else None


def _spec(t: CqlType, udts: UdtMap | None, exact: bool, seen: tuple[str, ...]) -> Spec:
    name = t.name
    if t.is_native:
        if name in _FIXED:
            return (0, _FIXED[name], 0, ())
        if name in _CODES:
            return (_CODES[name], 0, 0, ())
        if name in ("decimal", "varint"):
            return ((8 if name == "decimal" else 10) + (0 if exact else 1), 0, 0, ())
        raise SchemaError(f"the page decoder has no rule for CQL type {t}")
    if name in ("list", "set"):
        return (12, 0, 0, (_spec(t.params[0], udts, exact, seen),))
    if name == "vector":
        size = _serial_size(t.params[0])
        return (13, t.size or 0, -1 if size is None else size, (_spec(t.params[0], udts, exact, seen),))
    if name == "map":
        return (14, 0, 0, tuple(_spec(p, udts, exact, seen) for p in t.params))
    if name == "tuple":
        return (15, 0, 0, tuple(_spec(p, udts, exact, seen) for p in t.params))
    if name in seen:
        raise SchemaError(f"user-defined type {name!r} contains itself ({' → '.join((*seen, name))})")
    fields = udt_fields(t, udts)
    return (15, 0, 0, tuple(_spec(ft, udts, exact, (*seen, name)) for _, ft in fields))


def _computed_spec(arrow: pa.DataType) -> Spec | None:
    """A WRITETIME / TTL / token column, fetched as bigint or int."""
    if pa.types.is_int64(arrow) or pa.types.is_timestamp(arrow):
        return (0, 8, 0, ())
    if pa.types.is_int32(arrow):
        return (0, 4, 0, ())
    return None


def _array(t: pa.DataType, node: tuple[int, int, list[bytes | None], list[Any]]) -> pa.Array:
    length, nulls, raw, kids = node
    buffers = [None if b is None else pa.py_buffer(b) for b in raw]
    children: list[pa.Array] | None = None
    if pa.types.is_map(t):
        keys, items = _array(t.key_type, kids[0]), _array(t.item_type, kids[1])
        children = [pa.StructArray.from_arrays([keys, items], fields=[t.key_field, t.item_field])]
    elif pa.types.is_list(t) or pa.types.is_fixed_size_list(t):
        children = [_array(t.value_type, kids[0])]
    elif pa.types.is_struct(t):
        children = [_array(t.field(i).type, k) for i, k in enumerate(kids)]
    return pa.Array.from_buffers(t, length, buffers, null_count=nulls, children=children)


class PageDecoder:
    """Raw pages of one SELECT's columns → record batches of ``schema``.

    Parameters
    ----------
    columns : sequence of ColumnSpec
        The fetched columns in SELECT order.
    schema : pyarrow.Schema
        The batch schema (one field per column, of the Arrow type the column's values take).
    udts : mapping, optional
        User-defined types of the keyspace.
    exact_numbers : bool, default True
        See :func:`cassandra_frames.schema.arrow_type`.
    """

    def __init__(
        self,
        columns: Sequence[ColumnSpec],
        schema: pa.Schema,
        udts: UdtMap | None = None,
        *,
        exact_numbers: bool = True,
    ) -> None:
        if pagecodec is None:
            raise SchemaError("the compiled page decoder is not installed (cassandra_frames.convert.pages)")
        specs: list[Spec] = []
        for cql, arrow in columns:
            spec = _computed_spec(arrow) if cql is None else _spec(as_type(cql), udts, exact_numbers, ())
            if spec is None:
                raise SchemaError(f"the page decoder cannot read a column of Arrow type {arrow}")
            specs.append(spec)
        self.schema = schema
        self._types = [f.type for f in schema]
        self._codec = pagecodec.PageDecoder(specs)

    def __call__(self, body: bytes, rows: int) -> pa.RecordBatch:
        """The record batch of a page body holding ``rows`` rows.

        Raises
        ------
        SchemaError
            The body is not ``rows`` rows of these columns (truncated, a value of the wrong size, text that
            is not UTF-8 …); the message names the row and column.
        """
        try:
            nodes = self._codec.decode(body, rows)
        except ValueError as exc:
            names = self.schema.names
            raise SchemaError(f"cannot decode a result page of columns {names}: {exc}") from exc
        arrays = [_array(t, n) for t, n in zip(self._types, nodes, strict=True)]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def page_decoder(
    columns: Sequence[ColumnSpec],
    schema: pa.Schema,
    udts: UdtMap | None = None,
    *,
    exact_numbers: bool = True,
) -> PageDecoder | None:
    """A :class:`PageDecoder` for these columns, or ``None`` when reads should take the driver path.

    ``None``: the compiled decoder is not installed or is switched off (``CASSANDRA_FRAMES_DECODER=python``),
    or a column has a type it does not read (a computed column of another type). A top-level
    ``timestamp`` column is expected as :func:`cassandra_frames.cql.select_expression` fetches it (bigint
    milliseconds).
    """
    if not compiled_decoder_available():
        return None
    checked: list[ColumnSpec] = []
    for cql, arrow in columns:
        if cql is not None and fetched_as_epoch_millis(as_type(cql)):
            checked.append((as_type("bigint"), TIMESTAMP_TYPE))
        else:
            checked.append((cql, arrow))
    try:
        return PageDecoder(checked, schema, udts, exact_numbers=exact_numbers)
    except SchemaError:
        return None
