"""Arrow arrays → the Python values the DataStax driver binds into a prepared INSERT (the write side).

This module is the inverse of the read converters in :mod:`cassandra_frames.schema`: every value that
``read_cassandra`` returns can be turned back into the value the driver (3.30) serializes to the same bytes,
for every Cassandra 5 type. It does no I/O.

:func:`check_compatible` decides, before anything is written, whether a column of some Arrow type can be
written to a column of some CQL type. :func:`driver_values` converts one Arrow column into one Python value
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
date                       date32, date64, timestamp (at midnight)    ``cassandra.util.Date``
time                       time32, time64                             ``cassandra.util.Time``
duration                   month_day_nano_interval, duration          ``cassandra.util.Duration``
uuid, timeuuid             string, fixed_size_binary(16), arrow.uuid  ``uuid.UUID`` (timeuuid: version 1)
inet                       string                                     ``str`` (validated)
list<T>, set<T>            list, large_list, fixed_size_list          ``list``
vector<T, n>               fixed_size_list (size n), list             ``list`` of n elements
map<K, V>                  map, list<struct<key, value>>              ``dict`` (or ``OrderedMap``)
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
whose keys are still unhashable (e.g. frozen maps) is a ``cassandra.util.OrderedMap``. Nulls inside
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

import datetime as _dt
import decimal
import ipaddress
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from cassandra.util import Date, Duration, OrderedMap, Time

from cassandra_frames.errors import SchemaError
from cassandra_frames.schema import CqlType, _udt_fields, parse_cql_type

__all__ = ["check_compatible", "driver_values"]

_Result = tuple[list[Any], dict[int, str]]
_Conv = Callable[[pa.Array], _Result]
_Udts = Mapping[str, Sequence[tuple[str, "CqlType | str"]]]
_BoolArray = npt.NDArray[np.bool_]

_INT_BOUNDS: dict[str, tuple[int, int]] = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
    "counter": (-(2**63), 2**63 - 1),
}
_INT64_MAX = 2**63 - 1
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_MS_PER_DAY = 86_400_000
_DAYS_MIN, _DAYS_MAX = -(2**31), 2**31 - 1  # a CQL date is an unsigned 32-bit day number centred on 1970
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INTEGER_RE = re.compile(r"\s*[+-]?[0-9]+\s*")
_GROUP_FIELD_RE = re.compile(r"f[0-9]+")
_EPOCH = _dt.datetime(1970, 1, 1)
_STRING_TYPES = ("string", "large_string", "string_view")


class _Mismatch(Exception):
    """The Arrow type cannot be written to the CQL type (``reason`` says why)."""

    def __init__(self, reason: str, nested: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.nested = nested


class _Bad(Exception):
    """One value cannot be written (``reason`` names the value and the CQL type)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _as_type(t: CqlType | str) -> CqlType:
    return t if isinstance(t, CqlType) else parse_cql_type(t)


def _mismatch(dt: pa.DataType, t: CqlType, detail: str = "") -> _Mismatch:
    text = f"{dt} cannot be written to {t}"
    return _Mismatch(f"{text} ({detail})" if detail else text)


# ---------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------


def _validity(arr: pa.Array) -> _BoolArray:
    """True where ``arr`` holds a value."""
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=np.bool_)
    if arr.null_count == len(arr):
        return np.zeros(len(arr), dtype=np.bool_)
    mask: _BoolArray = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    return mask


def _raw_ints(arr: pa.Array, storage: pa.DataType) -> npt.NDArray[np.int64]:
    """The integer storage of a temporal array (nulls as 0) as int64."""
    raw: npt.NDArray[np.int64] = np.asarray(
        arr.cast(storage).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    return raw


def _masked_list(values: npt.NDArray[Any], ok: _BoolArray) -> list[Any]:
    """Python values of ``values`` where ``ok``, None elsewhere (one vectorised ``to_pylist``)."""
    result: list[Any] = pa.array(values, mask=~ok).to_pylist()
    return result


def _per_value(values: list[Any], fn: Callable[[Any], Any]) -> _Result:
    """Apply ``fn`` to each non-None value; a ``_Bad`` raised by ``fn`` gives None and a reported reason."""
    bad: dict[int, str] = {}
    for i, v in enumerate(values):
        if v is None:
            continue
        try:
            values[i] = fn(v)
        except _Bad as exc:
            values[i] = None
            bad[i] = exc.reason
    return values, bad


def _nulls(arr: pa.Array) -> _Result:
    return [None] * len(arr), {}


def _to_pylist(arr: pa.Array) -> _Result:
    return arr.to_pylist(), {}


def _instant_text(v: int, unit: str) -> str:
    """``v`` units since the epoch as ISO text when Python can show it, else the raw count."""
    per = _PER_SECOND[unit]
    seconds, frac = divmod(v, per)
    try:
        text = (_EPOCH + _dt.timedelta(seconds=seconds)).isoformat()
    except OverflowError:
        return f"{v} {unit} since the epoch"
    if per > 1:
        text += "." + str(frac).zfill(len(str(per)) - 1)
    return text + "Z"


def _float_text(v: float) -> str:
    return repr(float(v))


# ---------------------------------------------------------------------------------------------------------
# Integers
# ---------------------------------------------------------------------------------------------------------


def _arrow_int_range(dt: pa.DataType) -> tuple[int, int]:
    bits = int(dt.bit_width)
    if pa.types.is_unsigned_integer(dt):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _range_checker(name: str) -> Callable[[int], int]:
    lo, hi = _INT_BOUNDS[name]

    def check(v: int) -> int:
        if lo <= v <= hi:
            return v
        raise _Bad(f"value {v} is out of range for {name} ({lo}..{hi})")

    return check


def _ints_to_int(dt: pa.DataType, name: str) -> _Conv:
    """Arrow (u)int → bounded CQL integer or varint; per-value work only when min/max leave the range."""
    if name == "varint":
        return _to_pylist
    lo, hi = _INT_BOUNDS[name]
    src_lo, src_hi = _arrow_int_range(dt)
    if lo <= src_lo and src_hi <= hi:
        return _to_pylist
    check = _range_checker(name)

    def conv(arr: pa.Array) -> _Result:
        if arr.null_count == len(arr):
            return _nulls(arr)
        mm = pc.min_max(arr).as_py()
        if lo <= mm["min"] and mm["max"] <= hi:
            return arr.to_pylist(), {}
        return _per_value(arr.to_pylist(), check)

    return conv


def _floats64(arr: pa.Array) -> tuple[npt.NDArray[np.float64], _BoolArray]:
    if pa.types.is_float16(arr.type):
        arr = arr.cast(pa.float32())
    x = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
    return x, _validity(arr)


def _floats_to_int(name: str) -> _Conv:
    """Arrow float → CQL integer: only finite, whole, in-range values."""
    bounded = name != "varint"
    lo, hi = _INT_BOUNDS.get(name, (0, 0))

    def conv(arr: pa.Array) -> _Result:
        x, valid = _floats64(arr)
        with np.errstate(invalid="ignore"):
            whole = valid & np.isfinite(x) & (np.floor(x) == x)
            ok = whole & (x >= float(lo)) & (x < float(hi + 1)) if bounded else whole
        if bounded:
            values = _masked_list(np.where(ok, x, 0.0).astype(np.int64), ok)
        else:
            values = [int(v) if good else None for v, good in zip(x.tolist(), ok.tolist(), strict=True)]
        bad: dict[int, str] = {}
        for i in np.flatnonzero(valid & ~ok).tolist():
            v = _float_text(x[i])
            if whole[i]:
                bad[i] = f"value {v} is out of range for {name} ({lo}..{hi})"
            else:
                bad[i] = f"value {v} is not a whole number and cannot be written to {name}"
        return values, bad

    return conv


def _decimal_to_int_fn(name: str) -> Callable[[Any], int]:
    check = _range_checker(name) if name != "varint" else None

    def fn(d: decimal.Decimal) -> int:
        if not d.is_finite() or d != d.to_integral_value():
            raise _Bad(f"value {d} is not a whole number and cannot be written to {name}")
        i = int(d)
        return check(i) if check is not None else i

    return fn


def _string_to_varint(s: str) -> int:
    if not _INTEGER_RE.fullmatch(s):
        raise _Bad(f"value {_short(s)} is not an integer and cannot be written to varint")
    try:
        return int(s)
    except ValueError:  # more digits than sys.get_int_max_str_digits(): Decimal has no such limit
        return int(decimal.Decimal(s))


def _short(s: Any, limit: int = 60) -> str:
    text = repr(s)
    return text if len(text) <= limit else text[: limit - 4] + "…" + text[-3:]


def _per_value_conv(fn: Callable[[Any], Any]) -> _Conv:
    def conv(arr: pa.Array) -> _Result:
        return _per_value(arr.to_pylist(), fn)

    return conv


# ---------------------------------------------------------------------------------------------------------
# decimal, float, double
# ---------------------------------------------------------------------------------------------------------


def _checked_decimal(d: decimal.Decimal, shown: str) -> decimal.Decimal:
    if not d.is_finite():
        raise _Bad(f"value {shown} cannot be written to decimal (a CQL decimal has no NaN or infinity)")
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    if not _INT32_MIN <= -exponent <= _INT32_MAX:
        raise _Bad(f"value {shown} has a scale of {-exponent}, beyond the 32-bit scale of a CQL decimal")
    return d


def _string_to_decimal(s: str) -> decimal.Decimal:
    try:
        d = decimal.Decimal(s)
    except (decimal.InvalidOperation, ValueError):
        raise _Bad(f"value {_short(s)} is not a decimal number and cannot be written to decimal") from None
    return _checked_decimal(d, _short(s))


def _floats_to_decimal(arr: pa.Array) -> _Result:
    """Floats become the Decimal of their shortest repr (``0.1`` → ``Decimal('0.1')``)."""
    single = pa.types.is_float32(arr.type) or pa.types.is_float16(arr.type)
    values: list[Any] = arr.cast(pa.float32()).to_pylist() if single else arr.to_pylist()

    def fn(v: float) -> decimal.Decimal:
        text = str(np.float32(v)) if single else repr(v)
        return _checked_decimal(decimal.Decimal(text), text)

    return _per_value(values, fn)


def _ints_to_decimal(arr: pa.Array) -> _Result:
    return [None if v is None else decimal.Decimal(v) for v in arr.to_pylist()], {}


def _floats_to_float(name: str) -> _Conv:
    def conv(arr: pa.Array) -> _Result:
        if pa.types.is_float16(arr.type):
            arr = arr.cast(pa.float32())
        values: list[Any] = arr.to_pylist()
        if name == "double" or pa.types.is_float32(arr.type):
            return values, {}
        x, valid = _floats64(arr)
        with np.errstate(over="ignore", invalid="ignore"):
            overflow = valid & np.isfinite(x) & ~np.isfinite(x.astype(np.float32))
        bad: dict[int, str] = {}
        for i in np.flatnonzero(overflow).tolist():
            values[i] = None
            bad[i] = f"value {_float_text(x[i])} is out of range for float (32-bit)"
        return values, bad

    return conv


def _ints_to_float(dt: pa.DataType, name: str) -> _Conv:
    """Arrow (u)int → float/double; integers the target cannot hold exactly are bad values."""
    exact_bits = 53 if name == "double" else 24
    src_lo, src_hi = _arrow_int_range(dt)
    limit = 2**exact_bits

    def exact(v: int) -> float:
        f = float(v) if name == "double" else float(np.float32(v))
        if f != v:
            raise _Bad(f"value {v} cannot be represented exactly as {name}")
        return f

    def conv(arr: pa.Array) -> _Result:
        if -limit <= src_lo and src_hi <= limit:
            return arr.cast(pa.float64()).to_pylist(), {}
        return _per_value(arr.to_pylist(), exact)

    return conv


# ---------------------------------------------------------------------------------------------------------
# text, blob
# ---------------------------------------------------------------------------------------------------------


def _ascii_value(s: str) -> str:
    if s.isascii():
        return s
    raise _Bad(f"value {_short(s)} is not ASCII and cannot be written to ascii")


def _ascii(arr: pa.Array) -> _Result:
    if arr.null_count == len(arr) or pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        return arr.to_pylist(), {}
    return _per_value(arr.to_pylist(), _ascii_value)


def _cast_then(target: pa.DataType, conv: _Conv) -> _Conv:
    return lambda arr: conv(arr.cast(target))


# ---------------------------------------------------------------------------------------------------------
# timestamp, date, time, duration
# ---------------------------------------------------------------------------------------------------------


def _epoch_ms(arr: pa.Array) -> tuple[npt.NDArray[np.int64], _BoolArray, dict[int, str]]:
    """Milliseconds since the epoch of a timestamp/date array, the rows that hold one, and the bad rows."""
    dt = arr.type
    valid = _validity(arr)
    bad: dict[int, str] = {}
    if pa.types.is_date32(dt):
        return _raw_ints(arr, pa.int32()) * _MS_PER_DAY, valid, bad
    raw = _raw_ints(arr, pa.int64())
    if pa.types.is_date64(dt) or dt.unit == "ms":
        return raw, valid, bad
    if dt.unit == "s":
        fits = (raw >= -(_INT64_MAX // 1000)) & (raw <= _INT64_MAX // 1000)
        ms = np.where(fits, raw, 0) * 1000
        for i in np.flatnonzero(valid & ~fits).tolist():
            bad[i] = f"timestamp {_instant_text(int(raw[i]), 's')} is out of range for timestamp"
        return ms, valid & fits, bad
    per_ms = _PER_SECOND[dt.unit] // 1000
    ms, rest = np.divmod(raw, per_ms)
    whole = rest == 0
    for i in np.flatnonzero(valid & ~whole).tolist():
        bad[i] = (
            f"timestamp {_instant_text(int(raw[i]), dt.unit)} has sub-millisecond precision; a CQL timestamp "
            "holds milliseconds"
        )
    return ms, valid & whole, bad


def _timestamp(arr: pa.Array) -> _Result:
    ms, ok, bad = _epoch_ms(arr)
    return _masked_list(ms, ok), bad


def _dates(days: npt.NDArray[np.int64], ok: _BoolArray) -> list[Any]:
    return [None if d is None else Date(d) for d in _masked_list(days, ok)]


def _date_from_date32(arr: pa.Array) -> _Result:
    return [None if d is None else Date(d) for d in arr.cast(pa.int32()).to_pylist()], {}


def _date_from_instants(arr: pa.Array) -> _Result:
    """date64 / timestamp → whole days; values that are not at midnight UTC are bad."""
    dt = arr.type
    unit = "ms" if pa.types.is_date64(dt) else dt.unit
    per_day = 86_400 * _PER_SECOND[unit]
    raw = _raw_ints(arr, pa.int64())
    valid = _validity(arr)
    days, rest = np.divmod(raw, per_day)
    ok = valid & (rest == 0) & (days >= _DAYS_MIN) & (days <= _DAYS_MAX)
    bad: dict[int, str] = {}
    for i in np.flatnonzero(valid & ~ok).tolist():
        shown = _instant_text(int(raw[i]), unit)
        if rest[i]:
            bad[i] = f"value {shown} is not at midnight UTC; a CQL date holds whole days"
        else:
            bad[i] = f"value {shown} is out of range for date ({_DAYS_MIN}..{_DAYS_MAX} days from 1970-01-01)"
    return _dates(days, ok), bad


def _time(arr: pa.Array) -> _Result:
    unit = arr.type.unit
    raw = _raw_ints(arr, pa.int32() if pa.types.is_time32(arr.type) else pa.int64())
    valid = _validity(arr)
    per_day = 86_400 * _PER_SECOND[unit]
    ok = valid & (raw >= 0) & (raw < per_day)
    factor = 10**9 // _PER_SECOND[unit]
    nanos = _masked_list(np.where(ok, raw, 0) * factor, ok)
    bad = {
        i: f"time value {int(raw[i])} {unit} is outside 00:00:00..23:59:59.999999999"
        for i in np.flatnonzero(valid & ~ok).tolist()
    }
    return [None if n is None else Time(n) for n in nanos], bad


def _interval_value(v: Any) -> Duration:
    months, days, nanos = int(v.months), int(v.days), int(v.nanoseconds)
    if (months < 0 or days < 0 or nanos < 0) and (months > 0 or days > 0 or nanos > 0):
        raise _Bad(
            f"duration ({months} months, {days} days, {nanos} ns) mixes signs; a CQL duration needs months, "
            "days and nanoseconds of one sign"
        )
    return Duration(months, days, nanos)


def _duration_from_elapsed(arr: pa.Array) -> _Result:
    unit = arr.type.unit
    raw = _raw_ints(arr, pa.int64())
    valid = _validity(arr)
    factor = 10**9 // _PER_SECOND[unit]
    ok = valid & (raw >= -(_INT64_MAX // factor)) & (raw <= _INT64_MAX // factor)
    nanos = _masked_list(np.where(ok, raw, 0) * factor, ok)
    bad = {
        i: f"duration {int(raw[i])} {unit} is out of range for duration (64-bit nanoseconds)"
        for i in np.flatnonzero(valid & ~ok).tolist()
    }
    return [None if n is None else Duration(0, 0, n) for n in nanos], bad


# ---------------------------------------------------------------------------------------------------------
# uuid, timeuuid, inet
# ---------------------------------------------------------------------------------------------------------


def _version_error(version: int, shown: str) -> str:
    return f"value {shown} is a version {version} UUID; a timeuuid must be version 1"


def _uuid_from_string(name: str) -> Callable[[str], uuid.UUID]:
    def fn(s: str) -> uuid.UUID:
        try:
            u = uuid.UUID(s)
        except (ValueError, TypeError):
            raise _Bad(f"value {_short(s)} is not a UUID and cannot be written to {name}") from None
        version = (u.int >> 76) & 0xF
        if name == "timeuuid" and version != 1:
            raise _Bad(_version_error(version, repr(s)))
        return u

    return fn


def _uuid_maker() -> Callable[[int], uuid.UUID]:
    """``uuid.UUID(int=i)`` without the argument parsing of ``UUID.__init__`` (twice as fast), checked once
    against the real constructor; the real constructor when this Python's UUID is built differently."""
    new, assign, safe = object.__new__, object.__setattr__, uuid.SafeUUID.unknown

    def make(i: int) -> uuid.UUID:
        u = new(uuid.UUID)
        assign(u, "int", i)
        assign(u, "is_safe", safe)
        return u

    probe = 0x550E8400E29B41D4A716446655440000
    try:
        made, real = make(probe), uuid.UUID(int=probe)
        if made == real and str(made) == str(real) and hash(made) == hash(real) and made.bytes == real.bytes:
            return make
    except (AttributeError, TypeError):  # pragma: no cover - a UUID class without these slots
        pass
    return lambda i: uuid.UUID(int=i)  # pragma: no cover


_make_uuid = _uuid_maker()
_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)
_DASH_AT = [8, 13, 18, 23]
_HEX_AT = [i for i in range(36) if i not in _DASH_AT]
_NIL_TEXT = "00000000-0000-0000-0000-000000000000"


def _uuids(raw: npt.NDArray[np.uint8], ok: _BoolArray, name: str, show: Callable[[int], str]) -> _Result:
    """UUIDs of the 16-byte rows of ``raw`` where ``ok``; a timeuuid that is not version 1 is bad (``show``
    gives the text of row ``i`` for the reason)."""
    bad: dict[int, str] = {}
    if name == "timeuuid":
        versions = raw[:, 6] >> 4
        wrong = ok & (versions != 1)
        for i in np.flatnonzero(wrong).tolist():
            bad[i] = _version_error(int(versions[i]), show(i))
        ok = ok & ~wrong
    data = raw.tobytes()
    from_bytes, make = int.from_bytes, _make_uuid
    values = [
        make(from_bytes(data[k : k + 16], "big")) if good else None
        for k, good in zip(range(0, len(data), 16), ok.tolist(), strict=True)
    ]
    return values, bad


def _uuid_strings(name: str) -> _Conv:
    """Text → UUID: canonical 8-4-4-4-12 hex (any case) is parsed with numpy; other text by ``uuid.UUID``."""
    slow = _uuid_from_string(name)

    def conv(arr: pa.Array) -> _Result:
        n = len(arr)
        if n == 0 or arr.null_count == n:
            return _nulls(arr)
        filled = arr.fill_null(_NIL_TEXT) if arr.null_count else arr
        if pc.min_max(pc.binary_length(filled)).as_py() != {"min": 36, "max": 36}:
            return _per_value(arr.to_pylist(), slow)
        buffers = filled.buffers()
        offset_type = np.int64 if pa.types.is_large_string(filled.type) else np.int32
        start = int(np.frombuffer(buffers[1], dtype=offset_type)[filled.offset])
        text = np.frombuffer(buffers[2], dtype=np.uint8)[start : start + 36 * n].reshape(n, 36)
        nibbles = _HEX_VALUE[text[:, _HEX_AT]]
        canonical = (text[:, _DASH_AT] == ord("-")).all(axis=1) & (nibbles != 255).all(axis=1)
        raw = ((nibbles[:, 0::2] << 4) | nibbles[:, 1::2]).astype(np.uint8)
        valid = _validity(arr)
        values, bad = _uuids(raw, valid & canonical, name, lambda i: repr(arr[i].as_py()))
        for i in np.flatnonzero(valid & ~canonical).tolist():
            try:
                values[i] = slow(arr[i].as_py())
            except _Bad as exc:
                bad[i] = exc.reason
        return values, bad

    return conv


def _uuid_bytes(name: str) -> _Conv:
    """fixed_size_binary(16) (or the storage of ``arrow.uuid``) → UUID, without a per-value ``bytes``."""

    def conv(arr: pa.Array) -> _Result:
        n = len(arr)
        if n == 0 or arr.null_count == n:
            return _nulls(arr)
        raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8)[arr.offset * 16 : (arr.offset + n) * 16]
        raw = raw.reshape(n, 16)
        return _uuids(raw, _validity(arr), name, lambda i: str(uuid.UUID(bytes=raw[i].tobytes())))

    return conv


def _inet_value(s: str) -> str:
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        raise _Bad(f"value {_short(s)} is not an IP address and cannot be written to inet") from None
    if getattr(ip, "scope_id", None):
        raise _Bad(f"value {_short(s)} has a scope id, which a CQL inet cannot hold")
    return s


_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = f"^{_OCTET}(\\.{_OCTET}){{3}}$"  # what ipaddress.IPv4Address accepts: no leading zeros


def _inet(arr: pa.Array) -> _Result:
    """Dotted-quad IPv4 text is validated by one vectorised regex; the rest by ``ipaddress`` per value."""
    values: list[Any] = arr.to_pylist()
    if arr.null_count == len(arr):
        return values, {}
    plain = pc.match_substring_regex(arr, _IPV4_RE)
    if pc.all(plain).as_py() is not False:
        return values, {}
    others = np.flatnonzero(~np.asarray(plain.fill_null(True).to_numpy(zero_copy_only=False), dtype=np.bool_))
    bad: dict[int, str] = {}
    for i in others.tolist():
        try:
            _inet_value(values[i])
        except _Bad as exc:
            values[i] = None
            bad[i] = exc.reason
    return values, bad


def _is_uuid_extension(dt: pa.DataType) -> bool:
    return isinstance(dt, pa.BaseExtensionType) and str(getattr(dt, "extension_name", "")) == "arrow.uuid"


# ---------------------------------------------------------------------------------------------------------
# Native types: the compatibility matrix
# ---------------------------------------------------------------------------------------------------------


def _is_string(dt: pa.DataType) -> bool:
    return str(dt) in _STRING_TYPES


def _is_binary(dt: pa.DataType) -> bool:
    t = pa.types
    return bool(
        t.is_binary(dt) or t.is_large_binary(dt) or t.is_fixed_size_binary(dt) or str(dt) == "binary_view"
    )


def _native_plan(dt: pa.DataType, t: CqlType) -> _Conv:
    name = t.name
    is_ = pa.types
    if str(dt) == "string_view":
        return _cast_then(pa.string(), _native_plan(pa.string(), t))
    if str(dt) == "binary_view":
        return _cast_then(pa.binary(), _native_plan(pa.binary(), t))
    integer, floating, dec = is_.is_integer(dt), is_.is_floating(dt), is_.is_decimal(dt)
    if name in _INT_BOUNDS or name == "varint":
        if integer:
            return _ints_to_int(dt, name)
        if floating:
            return _floats_to_int(name)
        if dec:
            return _per_value_conv(_decimal_to_int_fn(name))
        if name == "varint" and _is_string(dt):
            return _per_value_conv(_string_to_varint)
    elif name == "decimal":
        if _is_string(dt):
            return _per_value_conv(_string_to_decimal)
        if dec:
            return _to_pylist
        if integer:
            return _ints_to_decimal
        if floating:
            return _floats_to_decimal
    elif name in ("float", "double"):
        if floating:
            return _floats_to_float(name)
        if integer:
            return _ints_to_float(dt, name)
    elif name == "boolean":
        if is_.is_boolean(dt):
            return _to_pylist
    elif name in ("text", "varchar"):
        if _is_string(dt):
            return _to_pylist
    elif name == "ascii":
        if _is_string(dt):
            return _ascii
    elif name == "blob":
        if _is_binary(dt):
            return _to_pylist
    elif name == "timestamp":
        if is_.is_timestamp(dt) or is_.is_date32(dt) or is_.is_date64(dt):
            return _timestamp
    elif name == "date":
        if is_.is_date32(dt):
            return _date_from_date32
        if is_.is_date64(dt) or is_.is_timestamp(dt):
            return _date_from_instants
    elif name == "time":
        if is_.is_time32(dt) or is_.is_time64(dt):
            return _time
    elif name in ("uuid", "timeuuid"):
        if _is_string(dt):
            return _uuid_strings(name)
        if is_.is_fixed_size_binary(dt) and dt.byte_width == 16:
            return _uuid_bytes(name)
    elif name == "inet":
        if _is_string(dt):
            return _inet
    elif name == "duration":
        if dt == pa.month_day_nano_interval():
            return _per_value_conv(_interval_value)
        if is_.is_duration(dt):
            return _duration_from_elapsed
    raise _mismatch(dt, t)


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
    child: pa.Array, child_bad: dict[int, str], offsets: npt.NDArray[np.int64], valid: _BoolArray
) -> dict[int, tuple[int, str | None]]:
    """First problem per row: row → (child index, reason; None for a null element)."""
    found: dict[int, str | None] = dict(child_bad)
    if child.null_count:
        for j in np.flatnonzero(~_validity(child)).tolist():
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


def _seq_plan(inner: _Conv, t: CqlType, key: bool) -> _Conv:
    size = t.size
    kind = "vector" if t.name == "vector" else t.name

    def conv(arr: pa.Array) -> _Result:
        offsets, child = _children(arr)
        values, child_bad = inner(child)
        valid = _validity(arr)
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


def _as_map(pairs: list[tuple[Any, Any]]) -> Mapping[Any, Any] | None:
    """A dict of the pairs, an OrderedMap when keys are unhashable or only equal as Python values (0.0 and
    -0.0), None when keys repeat."""
    try:
        plain = dict(pairs)
        if len(plain) == len(pairs):
            return plain
    except TypeError:
        pass
    ordered = OrderedMap(pairs)
    return ordered if len(ordered) == len(pairs) else None


def _map_plan(key_conv: _Conv, value_conv: _Conv, key_index: int, value_index: int, t: CqlType) -> _Conv:
    def conv(arr: pa.Array) -> _Result:
        offsets, entries = _children(arr)
        parts = entries.flatten()
        key_array, value_array = parts[key_index], parts[value_index]
        keys, key_bad = key_conv(key_array)
        values, value_bad = value_conv(value_array)
        valid = _validity(arr)
        bad: dict[int, str] = {}
        for row, (j, reason) in _problems(key_array, key_bad, offsets, valid).items():
            k = j - int(offsets[row])
            bad[row] = (
                f"a map cannot have a null key (entry {k} of {t})" if reason is None else f"key: {reason}"
            )
        for row, (j, reason) in _problems(value_array, value_bad, offsets, valid).items():
            if row not in bad:
                shown = _short(keys[j])
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


def _struct_plan(fields: list[tuple[str, int | None, _Conv | None]]) -> _Conv:
    """``fields``: per output position (CQL field name, Arrow child index or None when missing, converter)."""

    def conv(arr: pa.Array) -> _Result:
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
        valid = _validity(arr)
        if not valid.all():
            for i in np.flatnonzero(~valid).tolist():
                rows[i] = None
        for i in bad:
            rows[i] = None
        return rows, {i: r for i, r in bad.items() if valid[i]}

    return conv


def _tuple_plan(dt: pa.DataType, t: CqlType, udts: _Udts | None, seen: tuple[str, ...], key: bool) -> _Conv:
    if not pa.types.is_struct(dt):
        raise _mismatch(dt, t)
    names = [dt.field(i).name for i in range(dt.num_fields)]
    if len(names) != len(t.params):
        raise _mismatch(dt, t, f"{len(names)} struct fields for {len(t.params)} tuple components")
    if all(_GROUP_FIELD_RE.fullmatch(n) for n in names) and names != [f"f{i}" for i in range(len(names))]:
        raise _mismatch(dt, t, f"struct fields {', '.join(names)} are not f0…f{len(names) - 1} in order")
    fields: list[tuple[str, int | None, _Conv | None]] = []
    for i, p in enumerate(t.params):
        fields.append((str(i), i, _nested(dt.field(i).type, p, udts, seen, key, f"tuple component {i}")))
    return _struct_plan(fields)


def _udt_plan(dt: pa.DataType, t: CqlType, udts: _Udts | None, seen: tuple[str, ...], key: bool) -> _Conv:
    if t.name in seen:
        raise SchemaError(f"user-defined type {t.name!r} contains itself ({' → '.join((*seen, t.name))})")
    udt_fields = _udt_fields(t, udts)  # SchemaError for an unknown type, with close matches
    if not pa.types.is_struct(dt):
        raise _mismatch(dt, t)
    positions: dict[str, int] = {}
    for i in range(dt.num_fields):
        name = dt.field(i).name
        if name in positions:
            raise _mismatch(dt, t, f"struct field {name!r} appears twice")
        positions[name] = i
    known = [name for name, _ in udt_fields]
    extra = [name for name in positions if name not in known]
    if extra:
        raise _mismatch(
            dt,
            t,
            f"struct field {extra[0]!r} is not a field of {t.unfrozen()}; its fields are {', '.join(known)}",
        )
    fields: list[tuple[str, int | None, _Conv | None]] = []
    for name, ft in udt_fields:
        index = positions.get(name)
        if index is None:
            fields.append((repr(name), None, None))
        else:
            sub = _nested(dt.field(index).type, ft, udts, (*seen, t.name), key, f"field {name!r}")
            fields.append((repr(name), index, sub))
    return _struct_plan(fields)


def _nested(
    dt: pa.DataType, t: CqlType, udts: _Udts | None, seen: tuple[str, ...], key: bool, where: str
) -> _Conv:
    try:
        return _plan(dt, t, udts, seen, key)
    except _Mismatch as exc:
        raise _Mismatch(f"in {where}: {exc.reason}", nested=True) from None


def _plan(dt: pa.DataType, t: CqlType, udts: _Udts | None, seen: tuple[str, ...], key: bool) -> _Conv:
    """The converter of Arrow type ``dt`` to CQL type ``t``; raises ``_Mismatch`` when there is none."""
    is_ = pa.types
    if is_.is_null(dt):
        if t.is_udt:
            _udt_fields(t, udts)  # an unknown UDT is an error even for a column of nulls
        return _nulls
    if is_.is_dictionary(dt):
        inner = _plan(dt.value_type, t, udts, seen, key)
        return lambda arr: inner(arr.dictionary_decode())
    if _is_uuid_extension(dt):
        if t.name not in ("uuid", "timeuuid") or not t.is_native:
            raise _mismatch(dt, t)
        by_bytes = _uuid_bytes(t.name)
        return lambda arr: by_bytes(arr.storage)
    if isinstance(dt, pa.BaseExtensionType):
        inner = _plan(dt.storage_type, t, udts, seen, key)
        return lambda arr: inner(arr.storage)
    if t.is_native:
        return _native_plan(dt, t)
    name = t.name
    if name in ("list", "set", "vector"):
        sized = is_.is_fixed_size_list(dt)
        if not (sized or is_.is_list(dt) or is_.is_large_list(dt)):
            raise _mismatch(dt, t)
        if name == "vector" and sized and dt.list_size != t.size:
            raise _mismatch(dt, t, f"{dt.list_size} elements per value, not {t.size}")
        inner = _nested(dt.value_type, t.params[0], udts, seen, key, f"{name} elements")
        return _seq_plan(inner, t, key)
    if name == "map":
        if is_.is_map(dt):
            key_type, value_type, key_index, value_index = dt.key_type, dt.item_type, 0, 1
        elif (is_.is_list(dt) or is_.is_large_list(dt)) and is_.is_struct(dt.value_type):
            entry = dt.value_type
            names = [entry.field(i).name for i in range(entry.num_fields)]
            if sorted(names) != ["key", "value"]:
                raise _mismatch(dt, t, "a list of map entries needs struct fields 'key' and 'value'")
            key_index, value_index = names.index("key"), names.index("value")
            key_type, value_type = entry.field(key_index).type, entry.field(value_index).type
        else:
            raise _mismatch(dt, t)
        key_conv = _nested(key_type, t.params[0], udts, seen, True, "map keys")
        value_conv = _nested(value_type, t.params[1], udts, seen, key, "map values")
        return _map_plan(key_conv, value_conv, key_index, value_index, t)
    if name == "tuple":
        return _tuple_plan(dt, t, udts, seen, key)
    return _udt_plan(dt, t, udts, seen, key)


def _build(arrow_type: pa.DataType, t: CqlType, udts: _Udts | None) -> _Conv | str:
    try:
        return _plan(arrow_type, t, udts, (), False)
    except _Mismatch as exc:
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
    compatible subject to per-value checks that :func:`driver_values` reports: ``float64`` → ``int`` (the
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
        (see :func:`cassandra_frames.schema.udts_of`).

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
    result = _build(arrow_type, _as_type(cql_type), udts)
    return result if isinstance(result, str) else None


def driver_values(
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
        ``bytes``, ``uuid.UUID``, ``cassandra.util.Date``/``Time``/``Duration``, ``list`` for list, set
        and vector, ``dict`` (or ``cassandra.util.OrderedMap`` for unhashable keys) for map, ``tuple`` for
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
    t = _as_type(cql_type)
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
