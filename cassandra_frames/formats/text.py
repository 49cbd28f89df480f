"""Arrow columns → text, a whole column at a time: the value forms of the CSV and JSON writers. No I/O.

Every value becomes text through pyarrow.compute kernels and NumPy on whole columns. No Python code runs per
row, and none runs per cell either, also not for collections, UDTs, tuples and vectors: those are rendered
bottom-up. The elements of all the cells of a column are rendered at once, then joined per cell with
``binary_join`` over the column's own offsets. So arbitrary nesting costs a few kernel calls per level.

Three modes:

- ``"plain"``: a top-level CSV cell. Text is written as is; the other scalars in the forms of
  docs/types.md ("In exported files").
- ``"cql"``: a CQL literal inside a collection, UDT or tuple (``[1, 2]``, ``{'a': 1}``, ``{f: 'x'}``,
  ``(1, 'a')``). Text, inet, date, time and timestamp values are single-quoted with ``''`` doubling. UUIDs,
  numbers, booleans, blobs and durations are written bare.
- ``"json"``: a JSON value. Strings follow the ``json.dumps`` escapes (``\\\\``, ``\\"``, ``\\n``,
  ``\\u0001``…) but keep non-ASCII characters as UTF-8.

The CQL type (:class:`~cassandra_frames.cqltypes.CqlType`) picks what Arrow cannot tell apart: set from
list, tuple from UDT, text from uuid. When it is unknown (fields inside a UDT, whose types only the keyspace
knows), the Arrow type decides. Strings are then text, lists are lists, and a struct whose fields are named
``f0``, ``f1``, … in order is a tuple.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cassandra_frames.cqltypes import CqlType, parse_cql_type, quote
from cassandra_frames.errors import CassandraFramesError

__all__ = ["Mode", "TextStyle", "duration_parts", "field_cql", "json_quote", "render", "render_cell"]

Mode = Literal["plain", "cql", "json"]
_RAW_STRINGS = frozenset({"uuid", "timeuuid", "decimal", "varint"})  # bare in CQL literals
_MIN_MS = -62135596800000  # 0001-01-01T00:00:00.000Z
_MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
_MDN = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanoseconds", "<i8")])
_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint8).reshape(256, 2)
_STR = pa.string()
_NULL = pa.scalar(None, pa.string())


@dataclasses.dataclass(frozen=True)
class TextStyle:
    """How a text format spells what is not fixed by the mode.

    Attributes
    ----------
    timestamp_sep : str
        Between date and time of a timestamp: ``" "`` (CSV: the form cqlsh's COPY FROM parses) or ``"T"``.
    far_timestamps : {"epoch_ms", "expanded"}
        Timestamps outside years 1–9999: epoch milliseconds (CSV; what cqlsh writes and reads) or ISO 8601
        expanded years (``+10000-01-01T00:00:00.000Z``).
    epoch_ms : bool
        Every timestamp as epoch milliseconds.
    nested_null : str
        A null inside a UDT, tuple or map value in ``"cql"`` mode (the CSV null text, as cqlsh writes it).
    """

    timestamp_sep: str = " "
    far_timestamps: Literal["epoch_ms", "expanded"] = "epoch_ms"
    epoch_ms: bool = False
    nested_null: str = ""


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _mask(out: pa.Array, like: pa.Array) -> pa.Array:
    """``out`` with nulls where ``like`` has them."""
    if like.null_count == 0:
        return out
    return pc.if_else(pc.is_valid(like), out, _NULL)


def _ints(arr: pa.Array) -> npt.NDArray[np.int64]:
    return np.asarray(pc.fill_null(arr.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _digits(values: npt.NDArray[np.int64], width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(values).cast(_STR), width=width, padding="0")


def cql_quote(s: pa.Array) -> pa.Array:
    """``'text'`` with single quotes doubled (a CQL string literal)."""
    return _join("'", pc.replace_substring(s, "'", "''"), "'")


_JSON_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_quote(s: pa.Array) -> pa.Array:
    """A JSON string literal: ``\\``, ``"`` and control characters escaped as ``json.dumps`` does."""
    s = pc.replace_substring(pc.replace_substring(s, "\\", "\\\\"), '"', '\\"')
    if len(s) and pc.any(pc.match_substring_regex(s, "[\\x00-\\x1f]")).as_py():
        for code in range(32):
            ch = chr(code)
            s = pc.replace_substring(s, ch, _JSON_ESCAPES.get(ch, f"\\u{code:04x}"))
    return _join('"', s, '"')


def hex_text(arr: pa.Array) -> pa.Array:
    """Binary values as ``0x`` followed by lowercase hex digits (NumPy on the data buffer, no loop)."""
    arr = arr.cast(pa.large_binary())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data_buf = arr.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    start = int(offsets[0]) if n else 0
    body = _HEX[data[start : int(offsets[-1]) if n else 0]].tobytes()
    out = pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer((offsets - start) * 2), pa.py_buffer(body)]
    )
    return _mask(_join("0x", out.cast(_STR)), arr)


def _civil(days: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], ...]:
    """Proleptic Gregorian (year, month, day) of day numbers since 1970-01-01 (H. Hinnant's algorithm)."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def _date_parts(days: npt.NDArray[np.int64]) -> pa.Array:
    """``YYYY-MM-DD``; years outside 0–9999 as ISO 8601 expanded years (``+10000-01-01``, ``-5000-03-01``)."""
    year, month, day = _civil(days)
    sign = pa.array(np.where(year < 0, "-", np.where(year > 9999, "+", "")))
    return _join(sign, _digits(np.abs(year), 4), "-", _digits(month, 2), "-", _digits(day, 2))


def date_text(arr: pa.Array) -> pa.Array:
    """Dates as ``YYYY-MM-DD`` (any day number; see :func:`_date_parts` for far years)."""
    days = _ints(arr.cast(pa.date32()).cast(pa.int32()))
    return _mask(_date_parts(days), arr)


_PER_SECOND = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}


def timestamp_text(arr: pa.Array, style: TextStyle) -> pa.Array:
    """Timestamps as ``2013-01-01 05:00:00.000Z`` (UTC, the unit's fraction digits); far years: ``style``."""
    unit = arr.type.unit
    per = _PER_SECOND[unit]
    raw = _ints(arr.cast(pa.int64()))
    millis = np.floor_divide(raw, per // 1000) if per >= 1000 else raw * 1000
    epoch = pa.array(millis).cast(_STR)
    if style.epoch_ms:
        return _mask(epoch, arr)
    days = np.floor_divide(raw, 86400 * per)
    rest = raw - days * 86400 * per
    secs = rest // per
    clock = [_digits(secs // 3600, 2), ":", _digits(secs // 60 % 60, 2), ":", _digits(secs % 60, 2)]
    if per > 1:
        clock += [".", _digits(rest % per, len(str(per)) - 1)]
    out = _join(_date_parts(days), style.timestamp_sep, *clock, "Z")
    if style.far_timestamps == "epoch_ms":
        far = (millis < _MIN_MS) | (millis > _MAX_MS)
        if far.any():
            out = pc.if_else(pa.array(far), epoch, out)
    return _mask(out, arr)


def duration_parts(arr: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The (months int32, days int32, nanoseconds int64) arrays of a ``month_day_nano_interval`` array."""
    n = len(arr)
    buf = arr.buffers()[1]
    rec = np.frombuffer(buf, dtype=_MDN)[arr.offset : arr.offset + n] if n else np.zeros(0, _MDN)
    mask = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool) if arr.null_count else None
    return (
        pa.array(rec["months"], pa.int32(), mask=mask),
        pa.array(rec["days"], pa.int32(), mask=mask),
        pa.array(rec["nanoseconds"], pa.int64(), mask=mask),
    )


_DURATION_UNITS = (
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
)


def duration_text(arr: pa.Array) -> pa.Array:
    """Durations in CQL form as cqlsh prints them: ``1y2mo3d4h5m6s7ms8us9ns``, ``-1mo``; zero is ``0s``."""
    months, days, nanos = (_ints(p) for p in duration_parts(arr))
    neg = (months < 0) | (days < 0) | (nanos < 0)
    months, days, nanos = np.abs(months), np.abs(days), np.abs(nanos)
    amounts = [(months // 12, "y"), (months % 12, "mo"), (days, "d")]
    for unit, size in _DURATION_UNITS:
        amounts.append((nanos // size, unit))
        nanos = nanos % size
    parts: list[pa.Array | str] = [pa.array(np.where(neg, "-", ""))]
    for value, unit in amounts:
        text = _join(pa.array(value).cast(_STR), unit)
        parts.append(pc.if_else(pa.array(value > 0), text, ""))
    out = _join(*parts)
    return _mask(pc.if_else(pc.equal(out, ""), "0s", out), arr)


def float_text(arr: pa.Array) -> pa.Array:
    """Shortest round-trip decimal text; ``NaN``, ``Infinity``, ``-Infinity`` as cqlsh and Java spell them."""
    out = arr.cast(_STR)
    out = pc.if_else(pc.is_nan(arr), "NaN", out)
    out = pc.if_else(pc.and_(pc.is_inf(arr), pc.greater(arr, 0)), "Infinity", out)
    return pc.if_else(pc.and_(pc.is_inf(arr), pc.less(arr, 0)), "-Infinity", out)


def _scalar(arr: pa.Array, cql: CqlType | None, mode: Mode, style: TextStyle) -> pa.Array:
    t = arr.type
    quoted = True  # in "cql" mode: whether the value is a quoted CQL string literal
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        out = arr.cast(_STR)
        quoted = cql is None or cql.name not in _RAW_STRINGS
    elif pa.types.is_integer(t) or pa.types.is_boolean(t):
        return arr.cast(_STR)
    elif pa.types.is_floating(t):
        out = float_text(arr)
        if mode == "json":
            return pc.if_else(pc.is_finite(arr), out, json_quote(out))
        return out
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        out, quoted = hex_text(arr), False
    elif pa.types.is_date(t):
        out = date_text(arr)
    elif pa.types.is_time(t):
        out = arr.cast(_STR)
    elif pa.types.is_timestamp(t):
        out = timestamp_text(arr, style)
        if style.epoch_ms and mode != "plain":
            return out
    elif t == pa.month_day_nano_interval():
        out, quoted = duration_text(arr), False
    elif pa.types.is_decimal(t):
        out, quoted = arr.cast(_STR), False
    else:
        raise CassandraFramesError(f"cannot write a value of Arrow type {t} as text")
    if mode == "json":
        return json_quote(out)
    if mode == "cql" and quoted:
        return cql_quote(out)
    return out


def _param(cql: CqlType | None, i: int, names: tuple[str, ...]) -> CqlType | None:
    if cql is None or i >= len(cql.params):
        return None
    return cql.params[i] if cql.name in names else None


def _list_parts(arr: pa.Array, child: pa.Array) -> tuple[npt.NDArray[np.int64], pa.Array]:
    """Rebased offsets (n + 1) and the part of ``child`` (the values, or a map's keys or items) they index,
    for list, fixed-size list and map arrays."""
    n = len(arr)
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        return np.arange(n + 1, dtype=np.int64) * size, child.slice(arr.offset * size, n * size)
    offsets = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    return offsets - offsets[0], child.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def _wrap(arr: pa.Array, offsets: npt.NDArray[np.int64], items: pa.Array, sep: str, ends: str) -> pa.Array:
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), items)
    return _mask(_join(ends[0], pc.binary_join(lists, sep), ends[1]), arr)


def _field_name(name: str) -> str:
    """A UDT field name in a CQL literal: bare when it is identifier-shaped (also in mixed case, as cqlsh
    writes and reads it), double-quoted otherwise (``"Zip Code"``)."""
    return name if name.isidentifier() and name.isascii() else quote(name)


def _struct(arr: pa.Array, cql: CqlType | None, mode: Mode, style: TextStyle) -> pa.Array:
    fields = [arr.type.field(i) for i in range(arr.type.num_fields)]
    names = [f.name for f in fields]
    is_tuple = cql.name == "tuple" if cql is not None else names == [f"f{i}" for i in range(len(names))]
    null = "null" if mode == "json" else style.nested_null
    parts: list[pa.Array | str] = []
    for i, (field, child) in enumerate(zip(fields, arr.flatten(), strict=True)):
        child_cql = _param(cql, i, ("tuple",)) if is_tuple else field_cql(field)
        text = pc.fill_null(render(child, child_cql, mode, style), null)
        sep = "" if i == 0 else ("," if mode == "json" else ", ")
        if is_tuple:
            parts += [sep, text]
        elif mode == "json":
            parts += [sep + _json_name(field.name) + ":", text]
        else:
            parts += [f"{sep}{_field_name(field.name)}: ", text]
    ends = ("[", "]") if is_tuple and mode == "json" else ("(", ")") if is_tuple else ("{", "}")
    return _mask(_join(ends[0], *parts, ends[1]), arr)


def _json_name(name: str) -> str:
    return str(json_quote(pa.array([name])).to_pylist()[0])


def field_cql(field: pa.Field) -> CqlType | None:
    """The parsed ``b"cql_type"`` of a field's metadata, or None when it has none (extra columns)."""
    meta = field.metadata or {}
    if b"cql_type" not in meta:
        return None
    return parse_cql_type(meta[b"cql_type"].decode())


def render(arr: pa.Array, cql: CqlType | None, mode: Mode, style: TextStyle) -> pa.Array:
    """Render one column as text, nulls kept.

    Parameters
    ----------
    arr : pyarrow.Array
        The column (a chunked column must be combined first).
    cql : CqlType or None
        Its CQL type, when known; it must describe ``arr``'s Arrow type (docs/types.md).
    mode : {"plain", "cql", "json"}
        See the module docstring. ``"plain"`` applies to scalars only; give collections ``"cql"``/``"json"``.
    style : TextStyle
        Timestamp and nested-null spelling.

    Returns
    -------
    pyarrow.StringArray
        Same length; null where ``arr`` is null.

    Raises
    ------
    CassandraFramesError
        ``arr`` has an Arrow type no CQL type maps to.
    """
    t = arr.type
    if pa.types.is_dictionary(t):
        return render(arr.dictionary_decode(), cql, mode, style)
    sub: Mode = "json" if mode == "json" else "cql"
    if pa.types.is_map(t):
        offsets, keys = _list_parts(arr, arr.keys)
        _, items = _list_parts(arr, arr.items)
        keys = render(keys, _param(cql, 0, ("map",)), sub, style)
        null = "null" if sub == "json" else style.nested_null
        values = pc.fill_null(render(items, _param(cql, 1, ("map",)), sub, style), null)
        if sub == "json":
            keys = pc.if_else(pc.starts_with(keys, '"'), keys, json_quote(keys))
            return _wrap(arr, offsets, _join(keys, ":", values), ",", "{}")
        return _wrap(arr, offsets, _join(keys, ": ", values), ", ", "{}")
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        offsets, values = _list_parts(arr, arr.values)
        items = render(values, _param(cql, 0, ("list", "set", "vector")), sub, style)
        items = pc.fill_null(items, "null" if sub == "json" else style.nested_null)
        is_set = cql is not None and cql.name == "set" and sub == "cql"
        return _wrap(arr, offsets, items, "," if sub == "json" else ", ", "{}" if is_set else "[]")
    if pa.types.is_struct(t):
        return _struct(arr, cql, sub, style)
    return _scalar(arr, cql, mode, style)


def render_cell(
    arr: pa.Array, cql: CqlType | None, nested: Literal["cql", "json"], style: TextStyle
) -> pa.Array:
    """A top-level CSV column as text: scalars in ``"plain"`` mode, collections/UDTs/tuples in ``nested``."""
    t = arr.type
    if pa.types.is_nested(t):
        return render(arr, cql, nested, style)
    return render(arr, cql, "plain", style)
