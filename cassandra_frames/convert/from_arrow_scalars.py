"""Arrow → CQL for every native type: the compatibility matrix (:func:`native_plan`) and the converters of
text, blob, timestamp, date, time, duration, uuid, timeuuid and inet (numbers are in
:mod:`~cassandra_frames.convert.from_arrow_numbers`). No I/O.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cassandra_frames.convert.from_arrow_base import (
    INT64_MAX,
    PER_SECOND,
    Bad,
    BoolArray,
    Conv,
    Result,
    instant_text,
    masked_list,
    mismatch,
    nulls,
    per_value,
    per_value_conv,
    raw_ints,
    short,
    to_pylist,
    validity,
)
from cassandra_frames.convert.from_arrow_numbers import (
    INT_BOUNDS,
    decimal_to_int_fn,
    floats_to_decimal,
    floats_to_float,
    floats_to_int,
    ints_to_decimal,
    ints_to_float,
    ints_to_int,
    string_to_decimal,
    string_to_varint,
)
from cassandra_frames.convert.values import CqlDate, CqlDuration, CqlTime
from cassandra_frames.cqltypes import CqlType

__all__ = ["is_uuid_extension", "native_plan", "uuid_bytes"]

_MS_PER_DAY = 86_400_000
_DAYS_MIN, _DAYS_MAX = -(2**31), 2**31 - 1  # a CQL date is an unsigned 32-bit day number centred on 1970
_STRING_TYPES = ("string", "large_string", "string_view")


# ---------------------------------------------------------------------------------------------------------
# text, blob
# ---------------------------------------------------------------------------------------------------------


def _ascii_value(s: str) -> str:
    if s.isascii():
        return s
    raise Bad(f"value {short(s)} is not ASCII and cannot be written to ascii")


def _ascii(arr: pa.Array) -> Result:
    if arr.null_count == len(arr) or pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        return arr.to_pylist(), {}
    return per_value(arr.to_pylist(), _ascii_value)


def _cast_then(target: pa.DataType, conv: Conv) -> Conv:
    return lambda arr: conv(arr.cast(target))


# ---------------------------------------------------------------------------------------------------------
# timestamp, date, time, duration
# ---------------------------------------------------------------------------------------------------------


def _epoch_ms(arr: pa.Array) -> tuple[npt.NDArray[np.int64], BoolArray, dict[int, str]]:
    """Milliseconds since the epoch of a timestamp/date array, the rows that hold one, and the bad rows."""
    dt = arr.type
    valid = validity(arr)
    bad: dict[int, str] = {}
    if pa.types.is_date32(dt):
        return raw_ints(arr, pa.int32()) * _MS_PER_DAY, valid, bad
    raw = raw_ints(arr, pa.int64())
    if pa.types.is_date64(dt) or dt.unit == "ms":
        return raw, valid, bad
    if dt.unit == "s":
        fits = (raw >= -(INT64_MAX // 1000)) & (raw <= INT64_MAX // 1000)
        ms = np.where(fits, raw, 0) * 1000
        for i in np.flatnonzero(valid & ~fits).tolist():
            bad[i] = f"timestamp {instant_text(int(raw[i]), 's')} is out of range for timestamp"
        return ms, valid & fits, bad
    per_ms = PER_SECOND[dt.unit] // 1000
    ms, rest = np.divmod(raw, per_ms)
    whole = rest == 0
    for i in np.flatnonzero(valid & ~whole).tolist():
        bad[i] = (
            f"timestamp {instant_text(int(raw[i]), dt.unit)} has sub-millisecond precision; a CQL timestamp "
            "holds milliseconds"
        )
    return ms, valid & whole, bad


def _timestamp(arr: pa.Array) -> Result:
    ms, ok, bad = _epoch_ms(arr)
    return masked_list(ms, ok), bad


def _dates(days: npt.NDArray[np.int64], ok: BoolArray) -> list[Any]:
    return [None if d is None else CqlDate(d) for d in masked_list(days, ok)]


def _date_from_date32(arr: pa.Array) -> Result:
    return [None if d is None else CqlDate(d) for d in arr.cast(pa.int32()).to_pylist()], {}


def _date_from_instants(arr: pa.Array) -> Result:
    """date64 / timestamp → whole days; values that are not at midnight UTC are bad."""
    dt = arr.type
    unit = "ms" if pa.types.is_date64(dt) else dt.unit
    per_day = 86_400 * PER_SECOND[unit]
    raw = raw_ints(arr, pa.int64())
    valid = validity(arr)
    days, rest = np.divmod(raw, per_day)
    ok = valid & (rest == 0) & (days >= _DAYS_MIN) & (days <= _DAYS_MAX)
    bad: dict[int, str] = {}
    for i in np.flatnonzero(valid & ~ok).tolist():
        shown = instant_text(int(raw[i]), unit)
        if rest[i]:
            bad[i] = f"value {shown} is not at midnight UTC; a CQL date holds whole days"
        else:
            bad[i] = f"value {shown} is out of range for date ({_DAYS_MIN}..{_DAYS_MAX} days from 1970-01-01)"
    return _dates(days, ok), bad


def _time(arr: pa.Array) -> Result:
    unit = arr.type.unit
    raw = raw_ints(arr, pa.int32() if pa.types.is_time32(arr.type) else pa.int64())
    valid = validity(arr)
    per_day = 86_400 * PER_SECOND[unit]
    ok = valid & (raw >= 0) & (raw < per_day)
    factor = 10**9 // PER_SECOND[unit]
    nanos = masked_list(np.where(ok, raw, 0) * factor, ok)
    bad = {
        i: f"time value {int(raw[i])} {unit} is outside 00:00:00..23:59:59.999999999"
        for i in np.flatnonzero(valid & ~ok).tolist()
    }
    return [None if n is None else CqlTime(n) for n in nanos], bad


def _interval_value(v: Any) -> CqlDuration:
    months, days, nanos = int(v.months), int(v.days), int(v.nanoseconds)
    if (months < 0 or days < 0 or nanos < 0) and (months > 0 or days > 0 or nanos > 0):
        raise Bad(
            f"duration ({months} months, {days} days, {nanos} ns) mixes signs; a CQL duration needs months, "
            "days and nanoseconds of one sign"
        )
    return CqlDuration(months, days, nanos)


def _duration_from_elapsed(arr: pa.Array) -> Result:
    unit = arr.type.unit
    raw = raw_ints(arr, pa.int64())
    valid = validity(arr)
    factor = 10**9 // PER_SECOND[unit]
    ok = valid & (raw >= -(INT64_MAX // factor)) & (raw <= INT64_MAX // factor)
    nanos = masked_list(np.where(ok, raw, 0) * factor, ok)
    bad = {
        i: f"duration {int(raw[i])} {unit} is out of range for duration (64-bit nanoseconds)"
        for i in np.flatnonzero(valid & ~ok).tolist()
    }
    return [None if n is None else CqlDuration(0, 0, n) for n in nanos], bad


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
            raise Bad(f"value {short(s)} is not a UUID and cannot be written to {name}") from None
        version = (u.int >> 76) & 0xF
        if name == "timeuuid" and version != 1:
            raise Bad(_version_error(version, repr(s)))
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


def _uuids(raw: npt.NDArray[np.uint8], ok: BoolArray, name: str, show: Callable[[int], str]) -> Result:
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


def _uuid_strings(name: str) -> Conv:
    """Text → UUID: canonical 8-4-4-4-12 hex (any case) is parsed with numpy; other text by ``uuid.UUID``."""
    slow = _uuid_from_string(name)

    def conv(arr: pa.Array) -> Result:
        n = len(arr)
        if n == 0 or arr.null_count == n:
            return nulls(arr)
        filled = arr.fill_null(_NIL_TEXT) if arr.null_count else arr
        if pc.min_max(pc.binary_length(filled)).as_py() != {"min": 36, "max": 36}:
            return per_value(arr.to_pylist(), slow)
        buffers = filled.buffers()
        offset_type = np.int64 if pa.types.is_large_string(filled.type) else np.int32
        start = int(np.frombuffer(buffers[1], dtype=offset_type)[filled.offset])
        text = np.frombuffer(buffers[2], dtype=np.uint8)[start : start + 36 * n].reshape(n, 36)
        nibbles = _HEX_VALUE[text[:, _HEX_AT]]
        canonical = (text[:, _DASH_AT] == ord("-")).all(axis=1) & (nibbles != 255).all(axis=1)
        raw = ((nibbles[:, 0::2] << 4) | nibbles[:, 1::2]).astype(np.uint8)
        valid = validity(arr)
        values, bad = _uuids(raw, valid & canonical, name, lambda i: repr(arr[i].as_py()))
        for i in np.flatnonzero(valid & ~canonical).tolist():
            try:
                values[i] = slow(arr[i].as_py())
            except Bad as exc:
                bad[i] = exc.reason
        return values, bad

    return conv


def uuid_bytes(name: str) -> Conv:
    """fixed_size_binary(16) (or the storage of ``arrow.uuid``) → UUID, without a per-value ``bytes``."""

    def conv(arr: pa.Array) -> Result:
        n = len(arr)
        if n == 0 or arr.null_count == n:
            return nulls(arr)
        raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8)[arr.offset * 16 : (arr.offset + n) * 16]
        raw = raw.reshape(n, 16)
        return _uuids(raw, validity(arr), name, lambda i: str(uuid.UUID(bytes=raw[i].tobytes())))

    return conv


def _inet_value(s: str) -> str:
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        raise Bad(f"value {short(s)} is not an IP address and cannot be written to inet") from None
    if getattr(ip, "scope_id", None):
        raise Bad(f"value {short(s)} has a scope id, which a CQL inet cannot hold")
    return s


_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = f"^{_OCTET}(\\.{_OCTET}){{3}}$"  # what ipaddress.IPv4Address accepts: no leading zeros


def _inet(arr: pa.Array) -> Result:
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
        except Bad as exc:
            values[i] = None
            bad[i] = exc.reason
    return values, bad


def is_uuid_extension(dt: pa.DataType) -> bool:
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


def native_plan(dt: pa.DataType, t: CqlType) -> Conv:
    name = t.name
    is_ = pa.types
    if str(dt) == "string_view":
        return _cast_then(pa.string(), native_plan(pa.string(), t))
    if str(dt) == "binary_view":
        return _cast_then(pa.binary(), native_plan(pa.binary(), t))
    integer, floating, dec = is_.is_integer(dt), is_.is_floating(dt), is_.is_decimal(dt)
    if name in INT_BOUNDS or name == "varint":
        if integer:
            return ints_to_int(dt, name)
        if floating:
            return floats_to_int(name)
        if dec:
            return per_value_conv(decimal_to_int_fn(name))
        if name == "varint" and _is_string(dt):
            return per_value_conv(string_to_varint)
    elif name == "decimal":
        if _is_string(dt):
            return per_value_conv(string_to_decimal)
        if dec:
            return to_pylist
        if integer:
            return ints_to_decimal
        if floating:
            return floats_to_decimal
    elif name in ("float", "double"):
        if floating:
            return floats_to_float(name)
        if integer:
            return ints_to_float(dt, name)
    elif name == "boolean":
        if is_.is_boolean(dt):
            return to_pylist
    elif name in ("text", "varchar"):
        if _is_string(dt):
            return to_pylist
    elif name == "ascii":
        if _is_string(dt):
            return _ascii
    elif name == "blob":
        if _is_binary(dt):
            return to_pylist
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
            return uuid_bytes(name)
    elif name == "inet":
        if _is_string(dt):
            return _inet
    elif name == "duration":
        if dt == pa.month_day_nano_interval():
            return per_value_conv(_interval_value)
        if is_.is_duration(dt):
            return _duration_from_elapsed
    raise mismatch(dt, t)
