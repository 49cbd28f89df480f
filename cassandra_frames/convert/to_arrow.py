"""Driver values → Arrow arrays: the read side of the conversion. No I/O, no driver import.

A converter turns the Python values the DataStax driver returns for one column (one page of rows) into one
``pa.Array`` of :func:`cassandra_frames.schema.arrow_type`. Flat columns of types pyarrow reads natively
are converted by one ``pa.array`` call; per-value Python work is done only for uuid, decimal, varint, date,
time, duration, maps and values pyarrow rejects. The driver's own value classes (``Date``, ``Time``,
``Duration``) are recognised by their attributes (``days_from_epoch``, ``nanosecond_time``, ``months``).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from cassandra_frames.cqltypes import CqlType, UdtMap, as_type, fetched_as_epoch_millis, udt_fields
from cassandra_frames.errors import SchemaError
from cassandra_frames.schema import TIMESTAMP_TYPE, arrow_type

__all__ = ["Converter", "column_converter", "fetched_converter"]

Converter = Callable[[Sequence[Any]], pa.Array]
"""A column converter: the driver's values of one column → one ``pa.Array``."""

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_Norm = Callable[[Any], Any]


def _identity(v: Any) -> Any:
    return v


def _to_str(v: Any) -> Any:
    return v if isinstance(v, str) else str(v)


def _uuid_text(v: Any) -> str:
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return str(uuid.UUID(bytes=v))
    return str(uuid.UUID(str(v)))


def _decimal_text(v: Any) -> str:
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return str(decimal.Decimal(v))


def _int_text(v: Any) -> str:
    try:
        return str(int(v))
    except ValueError:  # more digits than sys.get_int_max_str_digits(): Decimal has no such limit
        return str(decimal.Decimal(int(v)))


def _to_float(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:  # an int beyond the double range
        return math.inf if v > 0 else -math.inf


def _date_days(v: Any) -> int:
    days = getattr(v, "days_from_epoch", None)  # the driver's Date (any date Cassandra holds)
    if days is not None:
        return int(days)
    if isinstance(v, _dt.datetime):
        return v.date().toordinal() - _EPOCH_ORDINAL
    if isinstance(v, _dt.date):
        return v.toordinal() - _EPOCH_ORDINAL
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        return _dt.date.fromisoformat(v).toordinal() - _EPOCH_ORDINAL
    raise TypeError(f"cannot read {v!r} ({type(v).__name__}) as a CQL date")


def _time_nanos(v: Any) -> int:
    nanos = getattr(v, "nanosecond_time", None)  # the driver's Time
    if nanos is not None:
        return int(nanos)
    if isinstance(v, _dt.time):
        return ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000_000 + v.microsecond * 1000
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str):  # HH:MM:SS[.fffffffff]
        clock, _, fraction = v.partition(".")
        h, m, sec = (int(x) for x in clock.split(":"))
        return ((h * 60 + m) * 60 + sec) * 1_000_000_000 + int(fraction.ljust(9, "0")[:9] or 0)
    raise TypeError(f"cannot read {v!r} ({type(v).__name__}) as a CQL time")


def _duration(v: Any) -> Any:
    if hasattr(v, "months") and hasattr(v, "nanoseconds"):  # the driver's Duration
        return (v.months, v.days, v.nanoseconds)
    if isinstance(v, _dt.timedelta):
        return (0, v.days, (v.seconds * 1_000_000 + v.microseconds) * 1000)
    return v  # pa.MonthDayNano or a (months, days, nanoseconds) tuple


_HEX_TABLE = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint8).reshape(256, 2)
# (start in the 32 hex digits, end, start in the 36-character canonical text) of the 5 dash-separated groups
_UUID_GROUPS = ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24))


def _uuid_array(values: Sequence[Any]) -> pa.Array | None:
    """Vectorized ``str(UUID)`` for a column of ``uuid.UUID``/None; None when another kind of value occurs."""
    n = len(values)
    if n == 0 or n > 50_000_000:  # int32 offsets: 36 bytes × n must stay below 2**31
        return None
    try:
        valid = np.fromiter((v is not None for v in values), dtype=np.bool_, count=n)
        nulls = n - int(np.count_nonzero(valid))
        ints = [0 if v is None else v.int for v in values] if nulls else [v.int for v in values]
        raw = b"".join([i.to_bytes(16, "big") for i in ints])
    except (AttributeError, TypeError, OverflowError):
        return None
    digits = _HEX_TABLE[np.frombuffer(raw, dtype=np.uint8)].reshape(n, 32)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for lo, hi, at in _UUID_GROUPS:
        text[:, at : at + hi - lo] = digits[:, lo:hi]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(
        pa.string(), n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(text)], null_count=nulls
    )


_NATIVE_NORM: dict[str, _Norm] = {
    "uuid": _uuid_text,
    "timeuuid": _uuid_text,
    "inet": _to_str,
    "date": _date_days,
    "time": _time_nanos,
    "duration": _duration,
}
# native types whose driver values pyarrow takes as they are (no per-value Python work)
_DIRECT = frozenset(
    {
        "ascii",
        "text",
        "varchar",
        "tinyint",
        "smallint",
        "int",
        "bigint",
        "counter",
        "float",
        "double",
        "boolean",
        "blob",
        "timestamp",
        "inet",  # the driver returns str; ipaddress objects take the per-value fallback
    }
)


@dataclass(frozen=True)
class _Plan:
    """How to turn driver values of one (sub)type into values ``pa.array`` accepts.

    ``direct``: try ``pa.array`` on the raw values first. ``trivial``: ``norm`` is the identity, so when
    the direct attempt fails there is nothing else to try.
    """

    arrow: pa.DataType
    norm: _Norm
    direct: bool
    trivial: bool


def _nullable(f: _Norm) -> _Norm:
    if f is _identity:
        return f

    def g(v: Any) -> Any:
        return None if v is None else f(v)

    return g


def _seq_norm(inner: _Norm) -> _Norm:
    f = _nullable(inner)
    if f is _identity:
        return lambda v: v if isinstance(v, list) else list(v)
    return lambda v: [f(x) for x in v]


def _map_norm(key: _Norm, value: _Norm) -> _Norm:
    kf, vf = _nullable(key), _nullable(value)

    def norm(v: Any) -> Any:
        items = v.items() if hasattr(v, "items") else v
        if kf is _identity and vf is _identity:
            return list(items)
        return [(kf(k), vf(x)) for k, x in items]

    return norm


def _struct_norm(names: Sequence[str], inner: Sequence[_Norm]) -> _Norm:
    fns = [_nullable(f) for f in inner]
    n = len(names)

    def norm(v: Any) -> Any:
        # tuples and the driver's UDT namedtuples are read by position: the driver renames fields that are
        # not Python identifiers ("Zip Code" → field_4_), so their attribute names cannot be trusted
        if isinstance(v, tuple):
            values: Sequence[Any] = v if len(v) >= n else (*v, *([None] * (n - len(v))))
        elif isinstance(v, Mapping):
            values = [v.get(name) for name in names]
        else:  # a class registered with cluster.register_user_type
            values = [getattr(v, name, None) for name in names]
        return tuple(f(x) for f, x in zip(fns, values[:n], strict=True))

    return norm


def _plan(t: CqlType, udts: UdtMap | None, exact: bool, seen: tuple[str, ...]) -> _Plan:
    name = t.name
    if t.is_native:
        arrow = arrow_type(t, udts, exact_numbers=exact)
        if name == "decimal":
            return _Plan(arrow, _decimal_text if exact else _to_float, False, False)
        if name == "varint":
            return _Plan(arrow, _int_text, False, False) if exact else _Plan(arrow, _to_float, True, False)
        norm = _NATIVE_NORM.get(name, _identity)
        return _Plan(arrow, norm, name in _DIRECT, norm is _identity)
    if name in ("list", "set", "vector"):
        inner = _plan(t.params[0], udts, exact, seen)
        arrow = pa.list_(inner.arrow) if name != "vector" else pa.list_(inner.arrow, t.size)
        return _Plan(arrow, _seq_norm(inner.norm), inner.direct, False)
    if name == "map":
        key, value = (_plan(p, udts, exact, seen) for p in t.params)
        return _Plan(pa.map_(key.arrow, value.arrow), _map_norm(key.norm, value.norm), False, False)
    if name == "tuple":
        parts = [_plan(p, udts, exact, seen) for p in t.params]
        names = [f"f{i}" for i in range(len(parts))]
    else:
        if name in seen:
            raise SchemaError(f"user-defined type {name!r} contains itself ({' → '.join((*seen, name))})")
        fields = udt_fields(t, udts)
        parts = [_plan(ft, udts, exact, (*seen, name)) for _, ft in fields]
        names = [fname for fname, _ in fields]
    arrow = pa.struct([(n, p.arrow) for n, p in zip(names, parts, strict=True)])
    direct = all(p.direct for p in parts)
    return _Plan(arrow, _struct_norm(names, [p.norm for p in parts]), direct, False)


def _conversion_error(t: CqlType, arrow: pa.DataType, exc: Exception) -> SchemaError:
    return SchemaError(f"cannot convert values of CQL type {t} to Arrow {arrow}: {exc}")


def column_converter(
    t: CqlType | str, udts: UdtMap | None = None, *, exact_numbers: bool = True
) -> Converter:
    """A function that turns the driver's values of one column into a ``pa.Array`` of :func:`arrow_type`.

    Parameters
    ----------
    t : CqlType or str
        The column's CQL type.
    udts : mapping, optional
        User-defined types (:attr:`cassandra_frames.schema.TableInfo.udts`).
    exact_numbers : bool, default True
        See :func:`arrow_type`.

    Returns
    -------
    callable
        ``convert(values) -> pa.Array`` for a sequence of driver values (None → null at every level).
        Flat columns of types pyarrow reads natively (text, integers, floats, boolean, blob, timestamp,
        inet) and collections of them are converted by one ``pa.array`` call; per-value Python work is
        done only for uuid, decimal, varint, date, time, duration, maps and values pyarrow rejects.

    Raises
    ------
    SchemaError
        At build time, for an unknown type; at call time, for a value that does not fit the type.
    """
    cql = as_type(t)
    plan = _plan(cql, udts, exact_numbers, ())
    arrow, norm, direct, trivial = plan.arrow, plan.norm, plan.direct, plan.trivial

    uuid_column = cql.name in ("uuid", "timeuuid") and not cql.params

    def convert(values: Sequence[Any]) -> pa.Array:
        if uuid_column:
            fast = _uuid_array(values)
            if fast is not None:
                return fast
        if direct:
            try:
                return pa.array(values, type=arrow)
            except (
                pa.ArrowInvalid,
                pa.ArrowTypeError,
                TypeError,
                ValueError,
                AttributeError,
                KeyError,
            ) as exc:
                if trivial:
                    raise _conversion_error(cql, arrow, exc) from exc
        try:
            return pa.array([None if v is None else norm(v) for v in values], type=arrow)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, AttributeError) as exc:
            raise _conversion_error(cql, arrow, exc) from exc

    return convert


def fetched_converter(
    t: CqlType | str, udts: UdtMap | None = None, *, exact_numbers: bool = True
) -> Converter:
    """The converter for what :func:`cassandra_frames.cql.select_expression` fetches.

    Parameters
    ----------
    t : CqlType or str
        The column's CQL type.
    udts : mapping, optional
        User-defined types (:attr:`cassandra_frames.schema.TableInfo.udts`).
    exact_numbers : bool, default True
        See :func:`arrow_type`.

    Returns
    -------
    callable
        For a top-level ``timestamp``: int64 milliseconds since the epoch → ``timestamp[ms, tz=UTC]``
        (driver ``datetime`` values are accepted too). Otherwise :func:`column_converter`.
    """
    cql = as_type(t)
    if not fetched_as_epoch_millis(cql):
        return column_converter(cql, udts, exact_numbers=exact_numbers)

    def convert(values: Sequence[Any]) -> pa.Array:
        try:
            return pa.array(values, type=TIMESTAMP_TYPE)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise _conversion_error(cql, TIMESTAMP_TYPE, exc) from exc

    return convert
