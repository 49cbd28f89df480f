"""The parsing half of ``cf.load``: file columns → the Arrow types of ``arrow_type(t, udts)``, with a reason
per row that cannot be parsed. No I/O. Scalar text columns take a vectorized path (regex checks, pyarrow
.compute and NumPy on the whole column); only the rows it does not take (errors and rare forms: expanded
years, ISO durations, base64, IPv6, …) are parsed in Python by :mod:`.parse_nested`, once per distinct
value. Collections, UDTs, tuples and vectors are parsed cell by cell (CQL literals or JSON text).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cassandra_frames.cqltypes import CqlType, UdtMap, as_type, udt_fields
from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.formats.parse_nested import (
    INT_BITS,
    NS_PER_DAY,
    Bad,
    build_column,
    days_from_civil,
    month_days,
    scalar_value,
    show,
)
from cassandra_frames.schema import arrow_type

__all__ = ["ParseErrors", "convert_arrow_column", "parse_json_values", "parse_text_column"]

ParseErrors = dict[int, str]
"""Row position in the array → the reason its value cannot be parsed."""

Bools = npt.NDArray[np.bool_]
Fast = Callable[[pa.Array, str], tuple[Bools, pa.Array]]
_STR = pa.string()
_MDN = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanoseconds", "<i8")])
_INTERVAL = pa.month_day_nano_interval()
_NIBBLE = np.zeros(256, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _NIBBLE[bytes([_c]).upper()[0]] = _i
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_TS_PATTERN = (
    r"^(?P<d>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ](?P<t>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<f>[0-9]{1,9}))?)?"
    r"(?P<z>Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
_UNITS = ("y", "mo", "w", "d", "h", "m", "s", "ms", "us", "ns")
_DUR = "".join(
    f"(?:(?P<{u}>[0-9]{{1,{12 if u == 'ns' else 6}}}){'(?:us|µs)' if u == 'us' else u})?" for u in _UNITS
)
_DURATION_PATTERN = f"^(?P<neg>-)?{_DUR}$"
_NS = {"h": 3_600_000_000_000, "m": 60_000_000_000, "s": 1_000_000_000, "ms": 1_000_000, "us": 1000, "ns": 1}


def _np_bool(arr: pa.Array | pa.ChunkedArray) -> Bools:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _match(arr: pa.Array, pattern: str) -> Bools:
    return _np_bool(pc.match_substring_regex(arr, pattern))


def _only(arr: pa.Array, ok: Bools) -> pa.Array:
    """``arr`` with nulls where ``ok`` is False."""
    return arr if ok.all() else pc.if_else(pa.array(ok), arr, pa.scalar(None, arr.type))


def _nums(arr: pa.Array) -> npt.NDArray[np.int64]:
    """Digit strings (``""`` and nulls count as 0) → int64."""
    filled = pc.binary_join_element_wise("0", pc.fill_null(arr, ""), "")
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _slice(arr: pa.Array, start: int, stop: int | None = None) -> npt.NDArray[np.int64]:
    return _nums(pc.utf8_slice_codeunits(arr, start, stop))


def _typed(values: npt.NDArray[Any], ok: Bools, target: pa.DataType, storage: pa.DataType) -> pa.Array:
    return pa.array(values, storage, mask=~ok).cast(target)


def _bitmap(ok: Bools) -> pa.Buffer | None:
    return None if ok.all() else pa.array(ok).buffers()[1]


def _fast_int(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    ok = _match(arr, r"^-?[0-9]{1,18}$")
    v = pc.cast(_only(arr, ok), pa.int64())
    bits = INT_BITS[name]
    if bits < 64:
        raw = np.asarray(v.fill_null(0).to_numpy(zero_copy_only=False))
        ok &= (raw >= -(2 ** (bits - 1))) & (raw < 2 ** (bits - 1))
        v = pc.cast(_only(v, ok), pa.int8() if bits == 8 else pa.int16() if bits == 16 else pa.int32())
    return ok, v


def _fast_float(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    ok = _match(arr, r"^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|^(?:NaN|-?Infinity)$")
    v = pc.cast(_only(arr, ok), pa.float32() if name == "float" else pa.float64())
    ok &= ~(_np_bool(pc.is_inf(v)) & ~_match(arr, "Infinity$"))  # beyond the range
    return ok, v


def _fast_bool(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    low = pc.utf8_lower(arr)
    yes = pc.is_in(low, value_set=pa.array(["true", "1"]))
    ok = _np_bool(pc.or_(yes, pc.is_in(low, value_set=pa.array(["false", "0"]))))
    return ok, _only(pc.if_else(pc.is_valid(arr), yes, pa.scalar(None, pa.bool_())), ok)


def _fast_blob(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    ok = _match(arr, "^0[xX](?:[0-9a-fA-F]{2})*$")
    body = pc.utf8_slice_codeunits(_only(arr, ok), 2).cast(pa.large_string())
    n = len(body)
    offsets = np.frombuffer(body.buffers()[1], dtype=np.int64)[body.offset : body.offset + n + 1]
    buf = body.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, np.uint8)
    nib = _NIBBLE[data[int(offsets[0]) : int(offsets[-1])]] if n else np.zeros(0, np.uint8)
    raw = (nib[0::2] << 4 | nib[1::2]).astype(np.uint8)
    new_offsets = pa.py_buffer(((offsets - offsets[0]) // 2).astype(np.int64))
    out = pa.Array.from_buffers(pa.large_binary(), n, [_bitmap(ok), new_offsets, pa.py_buffer(raw.tobytes())])
    return ok, out.cast(pa.binary())


def _fast_date(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    ok = _match(arr, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    sub = _only(arr, ok)
    y, m, d = _slice(sub, 0, 4), _slice(sub, 5, 7), _slice(sub, 8, 10)
    ok &= (m >= 1) & (m <= 12) & (d >= 1) & (d <= month_days(y, np.clip(m, 1, 12)))
    return ok, _typed(days_from_civil(y, m, d), ok, pa.date32(), pa.int32())


def _clock(t: pa.Array) -> tuple[npt.NDArray[np.int64], Bools]:
    """Seconds since midnight of ``HH:MM:SS`` text (``""`` → 0) and whether each is a valid time."""
    h, m, s = _slice(t, 0, 2), _slice(t, 3, 5), _slice(t, 6, 8)
    return (h * 60 + m) * 60 + s, (h < 24) & (m < 60) & (s < 60)


def _fraction(f: pa.Array) -> npt.NDArray[np.int64]:
    return _nums(pc.utf8_rpad(pc.fill_null(f, ""), width=9, padding="0"))


def _fast_time(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    clock = _match(arr, r"^[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?$")
    whole = _match(arr, r"^[0-9]{1,14}$")
    sub = _only(arr, clock)
    secs, ok = _clock(sub)
    ns = secs * 1_000_000_000 + _fraction(pc.utf8_slice_codeunits(sub, 9))
    raw = _nums(_only(arr, whole))
    ns = np.where(whole, raw, ns)
    ok = (clock & ok) | (whole & (raw < NS_PER_DAY))
    return ok, _typed(ns, ok, pa.time64("ns"), pa.int64())


def _fast_timestamp(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    iso = _match(arr, _TS_PATTERN)
    whole = _match(arr, r"^-?[0-9]{1,18}$")
    parts = pc.extract_regex(_only(arr, iso), _TS_PATTERN)
    date, clock, frac, zone = (parts.field(k) for k in ("d", "t", "f", "z"))
    y, m, d = _slice(date, 0, 4), _slice(date, 5, 7), _slice(date, 8, 10)
    secs, ok = _clock(clock)
    ns = _fraction(frac)
    ok &= (m >= 1) & (m <= 12) & (d >= 1) & (d <= month_days(y, np.clip(m, 1, 12))) & (ns % 1_000_000 == 0)
    sign = np.where(_np_bool(pc.starts_with(zone, "-")), -1, 1)
    zone = pc.replace_substring(pc.fill_null(zone, ""), "Z", "")
    zh, zm = _slice(zone, 1, 3), _nums(pc.utf8_slice_codeunits(zone, -2))
    ok &= (zh < 24) & (zm < 60)
    days = days_from_civil(y, m, d)
    ms = (days * 86400 + secs - sign * (zh * 3600 + zm * 60)) * 1000 + ns // 1_000_000
    ms = np.where(whole, _nums(pc.utf8_ltrim(_only(arr, whole), characters="-")), ms)
    ms = np.where(whole & _match(arr, "^-"), -ms, ms)
    ok = (iso & ok) | whole
    return ok, _typed(ms, ok, pa.timestamp("ms", tz="UTC"), pa.int64())


def _fast_duration(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    ok = _match(arr, _DURATION_PATTERN) & _match(arr, "[0-9]")
    parts = pc.extract_regex(_only(arr, ok), _DURATION_PATTERN)
    g = {u: _nums(parts.field(u)) for u in _UNITS}
    sign = np.where(_np_bool(pc.equal(parts.field("neg"), "-")), -1, 1)
    rec = np.zeros(len(arr), _MDN)
    rec["months"] = sign * (g["y"] * 12 + g["mo"])
    rec["days"] = sign * (g["w"] * 7 + g["d"])
    rec["nanoseconds"] = sign * sum(g[u] * size for u, size in _NS.items())
    return ok, pa.Array.from_buffers(_INTERVAL, len(arr), [_bitmap(ok), pa.py_buffer(rec.tobytes())])


def _fast_uuid(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    hexes = "[0-9a-fA-F]"
    ok = _match(arr, f"^{hexes}{{8}}-{hexes}{{4}}-{hexes}{{4}}-{hexes}{{4}}-{hexes}{{12}}$")
    if name == "timeuuid":
        ok &= _np_bool(pc.equal(pc.utf8_slice_codeunits(arr, 14, 15), "1"))
    return ok, pc.ascii_lower(arr)


def _fast_pattern(pattern: str) -> Fast:
    def fast(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
        ok = _match(arr, pattern) if pattern else _np_bool(pc.is_valid(arr))
        return ok, arr

    return fast


def _fast_ascii(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    return _np_bool(pc.string_is_ascii(arr)), arr


def _fast_decimal(arr: pa.Array, name: str) -> tuple[Bools, pa.Array]:
    # exactly the plain forms str(Decimal) gives back unchanged (0.0000001 becomes 1E-7)
    return _match(arr, r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$") & ~_match(arr, r"^-?0\.0{6}"), arr


_FAST: dict[str, Fast] = {
    **dict.fromkeys(INT_BITS, _fast_int),
    **dict.fromkeys(("float", "double"), _fast_float),
    **dict.fromkeys(("uuid", "timeuuid"), _fast_uuid),
    **dict.fromkeys(("text", "varchar"), _fast_pattern("")),
    "ascii": _fast_ascii,
    "boolean": _fast_bool,
    "blob": _fast_blob,
    "date": _fast_date,
    "time": _fast_time,
    "timestamp": _fast_timestamp,
    "duration": _fast_duration,
    "inet": _fast_pattern(f"^{_OCTET}(\\.{_OCTET}){{3}}$"),
    "decimal": _fast_decimal,
    "varint": _fast_pattern("^(?:0|-?[1-9][0-9]*)$"),
}


def _slow(
    arr: pa.Array, rows: npt.NDArray[np.int64], name: str, target: pa.DataType
) -> tuple[pa.Array, ParseErrors]:
    """Parse ``arr[rows]`` in Python, once per distinct value: (values for those rows, errors by row)."""
    encoded = arr.take(pa.array(rows)).dictionary_encode()
    parsed: list[Any] = []
    reasons: list[str | None] = []
    for text in encoded.dictionary.to_pylist():
        try:
            parsed.append(scalar_value(name, text))
            reasons.append(None)
        except Bad as exc:
            parsed.append(None)
            reasons.append(exc.reason)
    values = pa.array(parsed, target).take(encoded.indices)
    indices = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
    failed = np.array([r is not None for r in reasons], dtype=np.bool_)[indices]
    errors = {int(rows[k]): str(reasons[indices[k]]) for k in np.flatnonzero(failed).tolist()}
    return values, errors


def _scalar_column(arr: pa.Array, name: str, target: pa.DataType) -> tuple[pa.Array, ParseErrors]:
    valid = _np_bool(pc.is_valid(arr))
    ok, fast = _FAST[name](arr, name)
    rest = valid & ~ok
    if not rest.any():
        return fast, {}
    values, errors = _slow(arr, np.flatnonzero(rest), name, target)
    if rest.sum() == len(arr):
        return values, errors
    return pc.replace_with_mask(fast, pa.array(rest), values), errors


def parse_text_column(
    values: pa.Array | pa.ChunkedArray,
    cql_type: CqlType | str,
    udts: UdtMap | None = None,
    *,
    nested: Literal["cql", "json"] = "cql",
    null_value: str = "",
) -> tuple[pa.Array, ParseErrors]:
    """Parse a string column into the Arrow type of ``cql_type`` (``arrow_type(…, exact_numbers=True)``).

    Parameters
    ----------
    values : pyarrow.Array or pyarrow.ChunkedArray
        Strings (also large strings and dictionaries); nulls stay null.
    cql_type : CqlType or str
    udts : mapping, optional
        The keyspace's user-defined types (:attr:`TableInfo.udts`).
    nested : {"cql", "json"}, default "cql"
        How collections, UDTs, tuples and vectors are written: CQL literals (``[1, 2]``, ``{'a': 1}``,
        ``{f: 'x'}``, ``(1, null)``) or JSON text.
    null_value : str, default ""
        The CSV null text; a bare one inside a CQL literal is a null (as is an empty item and ``null``).

    Returns
    -------
    (pyarrow.Array, ParseErrors)
        The parsed column (null where a value cannot be parsed) and a reason per such row position.
    """
    t = as_type(cql_type)
    target = arrow_type(t, udts)
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    arr = arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr
    arr = arr if arr.type == _STR else arr.cast(_STR)
    if t.is_native:
        return _scalar_column(arr, t.name, target)
    cells = arr.to_pylist()
    out, errors = build_column(cells, t, udts, "text-json" if nested == "json" else "cql", null_value)
    return pa.array(out, target), errors


def parse_json_values(
    values: Sequence[Any], cql_type: CqlType | str, udts: UdtMap | None = None
) -> tuple[pa.Array, ParseErrors]:
    """Parse the values of one column of JSON records (``json.loads`` output) into its Arrow type.

    Numbers for numeric types (a string holding a number is also accepted), strings for the text-like,
    temporal, uuid, inet, blob, decimal and varint types (decimal/varint also from numbers: ints exactly,
    floats by their repr; timestamps and times also from integer ms/ns), ``"NaN"``/``"Infinity"`` for
    floats, arrays for list/set/tuple/vector, objects for maps (keys parsed by the text rules of the key
    type) and UDTs (missing fields are null).

    Returns
    -------
    (pyarrow.Array, ParseErrors)
        As :func:`parse_text_column`.
    """
    t = as_type(cql_type)
    target = arrow_type(t, udts)
    if t.is_native and all(isinstance(v, str) or v is None for v in values):
        return _scalar_column(pa.array(values, _STR), t.name, target)
    out, errors = build_column(values, t, udts, "json", "")
    return pa.array(out, target), errors


def convert_arrow_column(
    values: pa.Array | pa.ChunkedArray, cql_type: CqlType | str, udts: UdtMap | None = None
) -> tuple[pa.Array, ParseErrors]:
    """Convert a typed column (Parquet, Iceberg) to the Arrow type of ``cql_type``.

    Integers of any width (range-checked), floats (a double beyond the float range is an error),
    timestamps of any unit/zone (an error when sub-millisecond digits would be lost), date64, time32/64 and
    int64 nanoseconds (Iceberg), ``struct<months, days, nanoseconds>`` durations, (large/fixed) binary,
    strings (:func:`parse_text_column`), 16-byte UUIDs, decimal128/256, (large/fixed-size) lists, maps
    or lists of key/value structs, structs (tuples by position, UDTs by name), recursively.

    Returns
    -------
    (pyarrow.Array, ParseErrors)
        As :func:`parse_text_column`; an error inside a collection names the element.

    Raises
    ------
    CassandraFramesError
        The Arrow type cannot hold values of the CQL type; the message names both.
    """
    t = as_type(cql_type)
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    out, errors = _convert(arr, t, udts)
    if errors:
        bad = np.zeros(len(out), dtype=np.bool_)
        bad[list(errors)] = True
        out = pc.if_else(pa.array(bad), pa.scalar(None, out.type), out)
    return out, errors


def _fail(src: pa.DataType, t: CqlType, why: str = "") -> CassandraFramesError:
    return CassandraFramesError(f"cannot load a column of Arrow type {src} into CQL type {t}{why}")


def _checked(arr: pa.Array, raw: npt.NDArray[Any], bad: Bools, why: str) -> ParseErrors:
    """Reasons for the valid rows where ``bad`` holds: ``<value> <why>``."""
    rows = np.flatnonzero(bad & _np_bool(pc.is_valid(arr)))
    return {int(r): f"{show(arr[int(r)].as_py())} {why}" for r in rows.tolist()}


def _raw(arr: pa.Array) -> npt.NDArray[np.int64]:
    if not pa.types.is_integer(arr.type):
        arr = arr.view(pa.int32() if arr.type.bit_width == 32 else pa.int64())
    return np.asarray(arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _native(arr: pa.Array, t: CqlType, target: pa.DataType) -> tuple[pa.Array, ParseErrors]:
    src, name, is_ = arr.type, t.name, pa.types
    if src == target:
        return arr, {}
    if name in INT_BITS and is_.is_integer(src):
        lo, hi = -(2 ** (INT_BITS[name] - 1)), 2 ** (INT_BITS[name] - 1) - 1
        bad = _np_bool(pc.or_(pc.less(arr, lo), pc.greater(arr, hi)))
        return _only(arr, ~bad).cast(target), _checked(arr, bad, bad, f"is out of range for {name}")
    if name in ("float", "double") and (is_.is_floating(src) or is_.is_integer(src)):
        out = arr.cast(target, safe=False)
        back = out.cast(src, safe=False) if is_.is_integer(src) else out
        bad = _np_bool(pc.not_equal(back, arr)) | (_np_bool(pc.is_inf(out)) & ~_np_bool(pc.is_inf(arr)))
        return _only(out, ~bad), _checked(arr, bad, bad, f"cannot be held exactly by a {name}")
    if name == "boolean" and is_.is_boolean(src):
        return arr, {}
    if name == "blob" and (is_.is_binary(src) or is_.is_large_binary(src) or is_.is_fixed_size_binary(src)):
        return arr.cast(pa.binary()), {}
    if name in ("timestamp", "date") and (is_.is_timestamp(src) or is_.is_date(src)):
        per = {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}[src.unit] if is_.is_timestamp(src) else 1000
        raw = _raw(arr) * (86_400_000 if is_.is_date32(src) else 1)
        ms = raw * (1000 // per) if per < 1000 else raw // (per // 1000)
        bad = raw % (per // 1000) != 0 if per > 1000 else np.abs(raw) > 2**63 // 1000 // (1000 // per)
        if name == "date":
            bad |= ms % 86_400_000 != 0
            out = _typed(ms // 86_400_000, ~bad & _np_bool(pc.is_valid(arr)), target, pa.int32())
            return out, _checked(arr, raw, bad, "is not a whole day (a CQL date has no time of day)")
        out = _typed(ms, ~bad & _np_bool(pc.is_valid(arr)), target, pa.int64())
        return out, _checked(arr, raw, bad, "has digits below the millisecond or is out of range")
    if name == "time" and (is_.is_time(src) or is_.is_integer(src)):
        per = {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}[src.unit] if is_.is_time(src) else 10**9
        ns = _raw(arr) * (10**9 // per)
        bad = (ns < 0) | (ns >= NS_PER_DAY)
        out = _typed(ns, ~bad & _np_bool(pc.is_valid(arr)), target, pa.int64())
        return out, _checked(arr, ns, bad, "is not a time of day (0 to 86399999999999 ns)")
    if name == "duration" and (is_.is_struct(src) or is_.is_duration(src)):
        rec = np.zeros(len(arr), _MDN)
        if is_.is_duration(src):
            rec["nanoseconds"] = _raw(arr) * {"s": 10**9, "ms": 10**6, "us": 1000, "ns": 1}[src.unit]
        else:
            for part in ("months", "days", "nanoseconds"):
                if src.get_field_index(part) < 0:
                    raise _fail(src, t, f": a duration struct needs a field {part!r}")
                rec[part] = _raw(arr.field(part))[arr.offset : arr.offset + len(arr)]
        return pa.Array.from_buffers(
            _INTERVAL, len(arr), [_bitmap(_np_bool(pc.is_valid(arr))), pa.py_buffer(rec.tobytes())]
        ), {}
    if name in ("uuid", "timeuuid") and is_.is_fixed_size_binary(src) and src.byte_width == 16:
        texts = pa.array([None if b is None else str(uuid.UUID(bytes=b)) for b in arr.to_pylist()], _STR)
        return _scalar_column(texts, name, target)
    if name in ("decimal", "varint") and (is_.is_integer(src) or is_.is_decimal(src)):
        return _scalar_column(arr.cast(_STR), name, target)
    if name == "decimal" and is_.is_floating(src):
        return _scalar_column(
            pa.array([None if v is None else repr(v) for v in arr.to_pylist()], _STR), name, target
        )
    raise _fail(src, t)


def _lift(errors: ParseErrors, offsets: npt.NDArray[np.int64], label: str) -> ParseErrors:
    """Errors of child positions → errors of the rows whose elements they are."""
    out: ParseErrors = {}
    for child in sorted(errors):
        row = int(np.searchsorted(offsets, child, side="right")) - 1
        out.setdefault(row, f"{label} {child - int(offsets[row]) + 1}: {errors[child]}")
    return out


def _children(arr: pa.Array) -> tuple[npt.NDArray[np.int64], pa.Array]:
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        return np.arange(len(arr) + 1, dtype=np.int64) * size, arr.values.slice(
            arr.offset * size, len(arr) * size
        )
    offsets = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    return offsets - offsets[0], arr.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def _convert(arr: pa.Array, t: CqlType, udts: UdtMap | None) -> tuple[pa.Array, ParseErrors]:
    src, is_ = arr.type, pa.types
    target = arrow_type(t, udts)
    if is_.is_dictionary(src):
        return _convert(arr.dictionary_decode(), t, udts)
    if isinstance(src, pa.ExtensionType):
        return _convert(arr.storage, t, udts)
    if is_.is_string(src) or is_.is_large_string(src) or str(src) == "string_view":
        return parse_text_column(arr, t, udts)
    if t.is_native:
        return _native(arr, t, target)
    mask = arr.is_null() if arr.null_count else None
    listy = is_.is_list(src) or is_.is_large_list(src) or is_.is_fixed_size_list(src)
    if t.name in ("list", "set", "vector") and listy:
        offsets, values = _children(arr)
        inner, errs = _convert(values, t.params[0], udts)
        errors = _lift(errs, offsets, f"element of the {t.name}")
        if t.name == "list" or t.name == "set":
            return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), inner, mask=mask), errors
        n = int(t.size or 0)
        sizes, keep = np.diff(offsets), _np_bool(pc.is_valid(arr))
        errors |= _checked(arr, sizes, keep & (sizes != n), f"does not have the {n} elements of a {t}")
        keep &= sizes == n
        idx = np.where(keep[:, None], offsets[:-1, None] + np.arange(n), 0).ravel()
        inner = inner if len(inner) else pa.nulls(1, inner.type)
        return pa.FixedSizeListArray.from_arrays(inner.take(idx), n, mask=pa.array(~keep)), errors
    entries = is_.is_list(src) and is_.is_struct(src.value_type) and src.value_type.num_fields == 2
    if t.name == "map" and (is_.is_map(src) or entries):
        offsets, values = _children(arr)
        keys, items = values.flatten()
        k, kerr = _convert(keys, t.params[0], udts)
        v, verr = _convert(items, t.params[1], udts)
        errors = _lift(kerr, offsets, "key of the map, entry") | _lift(
            verr, offsets, "value of the map, entry"
        )
        return pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), k, v, type=target, mask=mask), errors
    if (t.name == "tuple" or t.is_udt) and is_.is_struct(src):
        given = {src.field(i).name: c for i, c in enumerate(arr.flatten())}
        if t.name == "tuple":
            if len(given) != len(t.params):
                raise _fail(src, t, f": {len(given)} fields for {len(t.params)} components")
            fields = [(f"f{i}", p) for i, p in enumerate(t.params)]
            given = dict(zip([f for f, _ in fields], given.values(), strict=True))
        else:
            fields = udt_fields(t, udts)
            extra = set(given) - {f for f, _ in fields}
            if extra:
                raise _fail(src, t, f": UDT {t.name} has no field {sorted(extra)[0]!r}")
        children, errors = [], {}
        for (fname, ft), field in zip(fields, target, strict=True):
            child = given.get(fname)
            if child is None:
                children.append(pa.nulls(len(arr), field.type))
                continue
            out, errs = _convert(child, ft, udts)
            children.append(out)
            what = f"component {fname[1:]} of the tuple" if t.name == "tuple" else f"field {fname}"
            for row, reason in errs.items():
                errors.setdefault(row, f"{what}: {reason}")
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask), errors
    raise _fail(src, t)
