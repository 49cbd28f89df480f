"""Arrow arrays → the Python values bound into a prepared INSERT or UPDATE: the write side. No driver import.

This module is the inverse of :mod:`cassandra_frames.convert.to_arrow`: every value that
``read_cassandra`` returns can be turned back into the value the driver (3.30) serializes to the same bytes,
for every Cassandra 5 type. It does no I/O. ``CqlDate``, ``CqlTime``, ``CqlDuration`` and ``PairMap`` are
the small value types of :mod:`cassandra_frames.convert.values`.

:func:`check_compatible` decides, before anything is written, whether a column of some Arrow type can be
written to a column of some CQL type. :func:`cql_values` converts one Arrow column into one Python value
per row and reports the rows that cannot be written (out of range, not parseable, …) instead of raising.

=========================  =========================================  ====================================
CQL                        Arrow accepted                             Python value produced
=========================  =========================================  ====================================
tinyint … bigint, counter  (u)int8…64, float and decimal (whole)      ``int``, range-checked
varint                     (u)int, float and decimal (whole), string  ``int``
decimal                    string, decimal128/256, (u)int, float      ``decimal.Decimal``, exact
float, double              float16/32/64, (u)int (exact values)       ``float``
boolean                    bool                                       ``bool``
text, varchar, ascii       string, large_string, string_view          ``str`` (ascii: ASCII only)
blob                       (large_/fixed_size_)binary, binary_view    ``bytes``
timestamp                  timestamp (any unit, tz), date32, date64   ``int``: ms since the epoch
date                       date32, date64, timestamp (at midnight)    ``CqlDate``
time                       time32, time64                             ``CqlTime``
duration                   month_day_nano_interval, duration          ``CqlDuration``
uuid, timeuuid             string, fixed_size_binary(16), arrow.uuid  ``uuid.UUID`` (timeuuid: version 1)
inet                       string                                     ``str`` (validated)
list<T>, set<T>            list, large_list, fixed_size_list          ``list``
vector<T, n>               fixed_size_list (size n), list             ``list`` of n elements
map<K, V>                  map, list<struct<key, value>>              ``dict`` (or ``PairMap``)
tuple<A, B, …>             struct, same number of fields              ``tuple``, by position
user-defined type          struct with some of the type's fields      ``tuple`` in the type's field order
frozen<T>                  as T                                       as T
=========================  =========================================  ====================================

Strings are parsed exactly: ``"1" + "0" * 200`` is a varint of 201 digits and
``"-1.0000000000000000000000000001E+30"`` a decimal with all its digits. A float written to a decimal
column becomes the decimal of its shortest repr (``0.1`` → ``Decimal("0.1")``). Timestamps never go through
``datetime``, so every instant Cassandra can hold (±292 million years) is written exactly; a timestamp with a
sub-millisecond part is a bad value, not truncated. A ``pa.null()`` array is compatible with every type;
dictionary arrays are decoded; extension arrays other than ``arrow.uuid`` are converted through their
storage type. Inside map keys, lists, sets and vectors become tuples so that the keys are hashable; a map
whose keys are still unhashable (e.g. frozen maps) is a ``PairMap``. Nulls inside
collections and vectors are bad values (Cassandra has none, and the driver would send them as empty values).
A map with a repeated key is a bad value; a set given as a list with repeated elements is written as it is
(the server keeps one of each). For a ``counter`` column the values are the increments to bind in
``UPDATE … SET c = c + ?``.

Flat columns of integers, floats, booleans, text, blobs and timestamps are converted by vectorised Arrow/NumPy
code and one ``to_pylist``; the range and precision checks look at the column as a whole first and go value
by value only where something is wrong. Canonical UUID text and dotted-quad IPv4 text are validated
vectorised too. Python objects are built per value for date, time, duration, decimal, varint from text,
UUIDs and the nested types.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cassandra_frames.convert.from_arrow_base import (
    BoolArray,
    Conv,
    Mismatch,
    Result,
    mismatch,
    nulls,
    short,
    validity,
)
from cassandra_frames.convert.from_arrow_scalars import is_uuid_extension, native_plan, uuid_bytes
from cassandra_frames.convert.values import PairMap
from cassandra_frames.cqltypes import CqlType, UdtMap, as_type, udt_fields
from cassandra_frames.errors import SchemaError

__all__ = ["check_compatible", "cql_values"]

_GROUP_FIELD_RE = re.compile(r"f[0-9]+")


# ---------------------------------------------------------------------------------------------------------
# Collections, tuples, user-defined types
# ---------------------------------------------------------------------------------------------------------


def _children(arr: pa.Array) -> tuple[npt.NDArray[np.int64], pa.Array]:
    """Offsets (relative, one more than rows) and the child values of a list-like array, slicing honoured."""
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        child = arr.values.slice(arr.offset * size, len(arr) * size)
        return np.arange(0, (len(arr) + 1) * size, size, dtype=np.int64), child
    raw = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    start = int(raw[0])
    return raw - start, arr.values.slice(start, int(raw[-1]) - start)


def _problems(
    child: pa.Array, child_bad: dict[int, str], offsets: npt.NDArray[np.int64], valid: BoolArray
) -> dict[int, tuple[int, str | None]]:
    """First problem per row: row → (child index, reason; None for a null element)."""
    found: dict[int, str | None] = dict(child_bad)
    if child.null_count:
        for j in np.flatnonzero(~validity(child)).tolist():
            found.setdefault(j, None)
    if not found:
        return {}
    js = np.array(sorted(found), dtype=np.int64)
    rows = np.searchsorted(offsets, js, side="right") - 1
    result: dict[int, tuple[int, str | None]] = {}
    for j, row in zip(js.tolist(), rows.tolist(), strict=True):
        if valid[row] and row not in result:
            result[row] = (j, found[j])
    return result


def _seq_plan(inner: Conv, t: CqlType, key: bool) -> Conv:
    size = t.size
    kind = "vector" if t.name == "vector" else t.name

    def conv(arr: pa.Array) -> Result:
        offsets, child = _children(arr)
        values, child_bad = inner(child)
        valid = validity(arr)
        bad: dict[int, str] = {}
        for row, (j, reason) in _problems(child, child_bad, offsets, valid).items():
            k = j - int(offsets[row])
            if reason is None:
                bad[row] = f"a {kind} cannot contain null (element {k} of {t})"
            else:
                bad[row] = f"element {k}: {reason}"
        starts, ends = offsets[:-1].tolist(), offsets[1:].tolist()
        out: list[Any] = [None] * len(arr)
        for i in np.flatnonzero(valid).tolist():
            if i in bad:
                continue
            s, e = starts[i], ends[i]
            if size is not None and e - s != size:
                bad[i] = f"a list of {e - s} elements cannot be written to {t}"
                continue
            out[i] = tuple(values[s:e]) if key else values[s:e]
        return out, bad

    return conv


def _as_map(pairs: list[tuple[Any, Any]]) -> Mapping[Any, Any] | PairMap | None:
    """A dict of the pairs, a PairMap when keys are unhashable or only equal as Python values (0.0 and
    -0.0), None when keys repeat."""
    try:
        plain = dict(pairs)
        if len(plain) == len(pairs):
            return plain
    except TypeError:
        pass
    keys = {pickle.dumps(k) for k, _ in pairs}  # distinct as values, as the driver's OrderedMap tells them
    return PairMap(pairs) if len(keys) == len(pairs) else None


def _map_plan(key_conv: Conv, value_conv: Conv, key_index: int, value_index: int, t: CqlType) -> Conv:
    def conv(arr: pa.Array) -> Result:
        offsets, entries = _children(arr)
        parts = entries.flatten()
        key_array, value_array = parts[key_index], parts[value_index]
        keys, key_bad = key_conv(key_array)
        values, value_bad = value_conv(value_array)
        valid = validity(arr)
        bad: dict[int, str] = {}
        for row, (j, reason) in _problems(key_array, key_bad, offsets, valid).items():
            k = j - int(offsets[row])
            bad[row] = (
                f"a map cannot have a null key (entry {k} of {t})" if reason is None else f"key: {reason}"
            )
        for row, (j, reason) in _problems(value_array, value_bad, offsets, valid).items():
            if row not in bad:
                shown = short(keys[j])
                bad[row] = (
                    f"a map cannot have a null value (key {shown} of {t})"
                    if reason is None
                    else f"value of key {shown}: {reason}"
                )
        starts, ends = offsets[:-1].tolist(), offsets[1:].tolist()
        out: list[Any] = [None] * len(arr)
        for i in np.flatnonzero(valid).tolist():
            if i in bad:
                continue
            s, e = starts[i], ends[i]
            mapping = _as_map(list(zip(keys[s:e], values[s:e], strict=True)))
            if mapping is None:
                bad[i] = f"a map with a repeated key cannot be written to {t}"
            else:
                out[i] = mapping
        return out, bad

    return conv


def _struct_plan(fields: list[tuple[str, int | None, Conv | None]]) -> Conv:
    """``fields``: per output position (CQL field name, Arrow child index or None when missing, converter)."""

    def conv(arr: pa.Array) -> Result:
        n = len(arr)
        parts = arr.flatten()
        columns: list[list[Any]] = []
        bad: dict[int, str] = {}
        for name, index, field_conv in fields:
            if index is None or field_conv is None:
                columns.append([None] * n)
                continue
            values, field_bad = field_conv(parts[index])
            columns.append(values)
            for i, reason in field_bad.items():
                bad.setdefault(i, f"field {name}: {reason}")
        rows: list[Any] = list(zip(*columns, strict=True)) if columns else [()] * n
        valid = validity(arr)
        if not valid.all():
            for i in np.flatnonzero(~valid).tolist():
                rows[i] = None
        for i in bad:
            rows[i] = None
        return rows, {i: r for i, r in bad.items() if valid[i]}

    return conv


def _tuple_plan(dt: pa.DataType, t: CqlType, udts: UdtMap | None, seen: tuple[str, ...], key: bool) -> Conv:
    if not pa.types.is_struct(dt):
        raise mismatch(dt, t)
    names = [dt.field(i).name for i in range(dt.num_fields)]
    if len(names) != len(t.params):
        raise mismatch(dt, t, f"{len(names)} struct fields for {len(t.params)} tuple components")
    if all(_GROUP_FIELD_RE.fullmatch(n) for n in names) and names != [f"f{i}" for i in range(len(names))]:
        raise mismatch(dt, t, f"struct fields {', '.join(names)} are not f0…f{len(names) - 1} in order")
    fields: list[tuple[str, int | None, Conv | None]] = []
    for i, p in enumerate(t.params):
        fields.append((str(i), i, _nested(dt.field(i).type, p, udts, seen, key, f"tuple component {i}")))
    return _struct_plan(fields)


def _udt_plan(dt: pa.DataType, t: CqlType, udts: UdtMap | None, seen: tuple[str, ...], key: bool) -> Conv:
    if t.name in seen:
        raise SchemaError(f"user-defined type {t.name!r} contains itself ({' → '.join((*seen, t.name))})")
    known_fields = udt_fields(t, udts)  # SchemaError for an unknown type, with close matches
    if not pa.types.is_struct(dt):
        raise mismatch(dt, t)
    positions: dict[str, int] = {}
    for i in range(dt.num_fields):
        name = dt.field(i).name
        if name in positions:
            raise mismatch(dt, t, f"struct field {name!r} appears twice")
        positions[name] = i
    known = [name for name, _ in known_fields]
    extra = [name for name in positions if name not in known]
    if extra:
        raise mismatch(
            dt,
            t,
            f"struct field {extra[0]!r} is not a field of {t.unfrozen()}; its fields are {', '.join(known)}",
        )
    fields: list[tuple[str, int | None, Conv | None]] = []
    for name, ft in known_fields:
        index = positions.get(name)
        if index is None:
            fields.append((repr(name), None, None))
        else:
            sub = _nested(dt.field(index).type, ft, udts, (*seen, t.name), key, f"field {name!r}")
            fields.append((repr(name), index, sub))
    return _struct_plan(fields)


def _nested(
    dt: pa.DataType, t: CqlType, udts: UdtMap | None, seen: tuple[str, ...], key: bool, where: str
) -> Conv:
    try:
        return _plan(dt, t, udts, seen, key)
    except Mismatch as exc:
        raise Mismatch(f"in {where}: {exc.reason}", nested=True) from None


def _plan(dt: pa.DataType, t: CqlType, udts: UdtMap | None, seen: tuple[str, ...], key: bool) -> Conv:
    """The converter of Arrow type ``dt`` to CQL type ``t``; raises ``Mismatch`` when there is none."""
    is_ = pa.types
    if is_.is_null(dt):
        if t.is_udt:
            udt_fields(t, udts)  # an unknown UDT is an error even for a column of nulls
        return nulls
    if is_.is_dictionary(dt):
        inner = _plan(dt.value_type, t, udts, seen, key)
        return lambda arr: inner(arr.dictionary_decode())
    if is_uuid_extension(dt):
        if t.name not in ("uuid", "timeuuid") or not t.is_native:
            raise mismatch(dt, t)
        by_bytes = uuid_bytes(t.name)
        return lambda arr: by_bytes(arr.storage)
    if isinstance(dt, pa.BaseExtensionType):
        inner = _plan(dt.storage_type, t, udts, seen, key)
        return lambda arr: inner(arr.storage)
    if t.is_native:
        return native_plan(dt, t)
    name = t.name
    if name in ("list", "set", "vector"):
        sized = is_.is_fixed_size_list(dt)
        if not (sized or is_.is_list(dt) or is_.is_large_list(dt)):
            raise mismatch(dt, t)
        if name == "vector" and sized and dt.list_size != t.size:
            raise mismatch(dt, t, f"{dt.list_size} elements per value, not {t.size}")
        inner = _nested(dt.value_type, t.params[0], udts, seen, key, f"{name} elements")
        return _seq_plan(inner, t, key)
    if name == "map":
        if is_.is_map(dt):
            key_type, value_type, key_index, value_index = dt.key_type, dt.item_type, 0, 1
        elif (is_.is_list(dt) or is_.is_large_list(dt)) and is_.is_struct(dt.value_type):
            entry = dt.value_type
            names = [entry.field(i).name for i in range(entry.num_fields)]
            if sorted(names) != ["key", "value"]:
                raise mismatch(dt, t, "a list of map entries needs struct fields 'key' and 'value'")
            key_index, value_index = names.index("key"), names.index("value")
            key_type, value_type = entry.field(key_index).type, entry.field(value_index).type
        else:
            raise mismatch(dt, t)
        key_conv = _nested(key_type, t.params[0], udts, seen, True, "map keys")
        value_conv = _nested(value_type, t.params[1], udts, seen, key, "map values")
        return _map_plan(key_conv, value_conv, key_index, value_index, t)
    if name == "tuple":
        return _tuple_plan(dt, t, udts, seen, key)
    return _udt_plan(dt, t, udts, seen, key)


def _build(arrow_type: pa.DataType, t: CqlType, udts: UdtMap | None) -> Conv | str:
    try:
        return _plan(arrow_type, t, udts, (), False)
    except Mismatch as exc:
        top = f"{arrow_type} cannot be written to a column of type {t}"
        if not exc.nested and exc.reason.startswith(f"{arrow_type} cannot be written to {t}"):
            return top + exc.reason[len(f"{arrow_type} cannot be written to {t}") :]
        return f"{top}: {exc.reason}"


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------


def check_compatible(
    arrow_type: pa.DataType,
    cql_type: CqlType | str,
    udts: Mapping[str, Sequence[tuple[str, CqlType | str]]] | None = None,
) -> str | None:
    """Whether values of an Arrow type can be written to a column of a CQL type.

    Call it before anything is written, to refuse a frame whose columns do not fit the table. Some pairs are
    compatible subject to per-value checks that :func:`cql_values` reports: ``float64`` → ``int`` (the
    values must be whole), ``int64`` → ``tinyint`` (range), ``string`` → ``uuid``/``inet``/``decimal``/
    ``varint``/``ascii`` (the strings must parse), ``timestamp[ns]`` → ``timestamp`` (whole milliseconds),
    and so on; see the module docstring for the whole matrix. A ``pa.null()`` type fits every CQL type.

    Parameters
    ----------
    arrow_type : pyarrow.DataType
        The type of the Arrow column (or of the pandas ``ArrowDtype``'s ``pyarrow_dtype``).
    cql_type : CqlType or str
        The CQL type of the target column, e.g. ``"int"`` or ``'map<text, frozen<"Addr">>'``.
    udts : mapping, optional
        User-defined types reachable from ``cql_type``: name → ``[(field, CQL type), …]``
        (:attr:`cassandra_frames.schema.TableInfo.udts`).

    Returns
    -------
    str or None
        None when the types fit; otherwise a short reason naming both types, e.g.
        ``"string cannot be written to a column of type int"``.

    Raises
    ------
    SchemaError
        ``cql_type`` cannot be parsed or names a user-defined type missing from ``udts``.
    """
    result = _build(arrow_type, as_type(cql_type), udts)
    return result if isinstance(result, str) else None


def cql_values(
    array: pa.Array | pa.ChunkedArray,
    cql_type: CqlType | str,
    udts: Mapping[str, Sequence[tuple[str, CqlType | str]]] | None = None,
) -> tuple[list[Any], dict[int, str]]:
    """The Python values the DataStax driver binds for one Arrow column, and the rows that cannot be written.

    Parameters
    ----------
    array : pyarrow.Array or pyarrow.ChunkedArray
        One column (e.g. ``pa.array(series)`` of a frame ``read_cassandra`` returned).
    cql_type : CqlType or str
        The CQL type of the target column.
    udts : mapping, optional
        User-defined types reachable from ``cql_type`` (see :func:`check_compatible`).

    Returns
    -------
    values : list
        One value per element, ready for ``PreparedStatement.bind``: ``int`` for the integer types (and
        ``timestamp``, as milliseconds since the epoch), ``decimal.Decimal``, ``float``, ``bool``, ``str``,
        ``bytes``, ``uuid.UUID``, :class:`~cassandra_frames.convert.values.CqlDate` / ``CqlTime`` /
        ``CqlDuration``, ``list`` for list, set and vector, ``dict`` (or a
        :class:`~cassandra_frames.convert.values.PairMap` for unhashable keys) for map, ``tuple`` for
        tuple and user-defined types (in the type's field order). None for a null and for a bad element.
    bad : dict of int to str
        Index → reason for every element that cannot be written, in index order, e.g.
        ``{3: "value 300 is out of range for tinyint (-128..127)"}``. Bad elements are None in ``values``.

    Raises
    ------
    SchemaError
        The Arrow type cannot be written to the CQL type at all (the reason is
        :func:`check_compatible`'s), the CQL type cannot be parsed, or a user-defined type is unknown.
        A value that does not fit is never raised; it is reported in ``bad``.
    """
    t = as_type(cql_type)
    conv = _build(array.type, t, udts)
    if isinstance(conv, str):
        raise SchemaError(conv)
    if isinstance(array, pa.ChunkedArray):
        values: list[Any] = []
        bad: dict[int, str] = {}
        base = 0
        for chunk in array.chunks:
            chunk_values, chunk_bad = conv(chunk)
            values.extend(chunk_values)
            bad.update((base + i, reason) for i, reason in chunk_bad.items())
            base += len(chunk)
    else:
        values, bad = conv(array)
    return values, dict(sorted(bad.items()))
