"""Arrow → CQL numbers: integers (range-checked), varint, decimal (exact), float and double. No I/O.

Whole columns are checked at once (min/max, NumPy masks); values are visited one by one only where one is
out of range, not whole, or not exact.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cassandra_frames.convert.from_arrow_base import (
    Bad,
    BoolArray,
    Conv,
    Result,
    float_text,
    masked_list,
    nulls,
    per_value,
    short,
    to_pylist,
    validity,
)

__all__ = [
    "INT_BOUNDS",
    "decimal_to_int_fn",
    "floats_to_decimal",
    "floats_to_float",
    "floats_to_int",
    "ints_to_decimal",
    "ints_to_float",
    "ints_to_int",
    "string_to_decimal",
    "string_to_varint",
]

INT_BOUNDS: dict[str, tuple[int, int]] = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
    "counter": (-(2**63), 2**63 - 1),
}
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INTEGER_RE = re.compile(r"\s*[+-]?[0-9]+\s*")


# ---------------------------------------------------------------------------------------------------------
# Integers
# ---------------------------------------------------------------------------------------------------------


def _arrow_int_range(dt: pa.DataType) -> tuple[int, int]:
    bits = int(dt.bit_width)
    if pa.types.is_unsigned_integer(dt):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _range_checker(name: str) -> Callable[[int], int]:
    lo, hi = INT_BOUNDS[name]

    def check(v: int) -> int:
        if lo <= v <= hi:
            return v
        raise Bad(f"value {v} is out of range for {name} ({lo}..{hi})")

    return check


def ints_to_int(dt: pa.DataType, name: str) -> Conv:
    """Arrow (u)int → bounded CQL integer or varint; per-value work only when min/max leave the range."""
    if name == "varint":
        return to_pylist
    lo, hi = INT_BOUNDS[name]
    src_lo, src_hi = _arrow_int_range(dt)
    if lo <= src_lo and src_hi <= hi:
        return to_pylist
    check = _range_checker(name)

    def conv(arr: pa.Array) -> Result:
        if arr.null_count == len(arr):
            return nulls(arr)
        mm = pc.min_max(arr).as_py()
        if lo <= mm["min"] and mm["max"] <= hi:
            return arr.to_pylist(), {}
        return per_value(arr.to_pylist(), check)

    return conv


def _floats64(arr: pa.Array) -> tuple[npt.NDArray[np.float64], BoolArray]:
    if pa.types.is_float16(arr.type):
        arr = arr.cast(pa.float32())
    x = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
    return x, validity(arr)


def floats_to_int(name: str) -> Conv:
    """Arrow float → CQL integer: only finite, whole, in-range values."""
    bounded = name != "varint"
    lo, hi = INT_BOUNDS.get(name, (0, 0))

    def conv(arr: pa.Array) -> Result:
        x, valid = _floats64(arr)
        with np.errstate(invalid="ignore"):
            whole = valid & np.isfinite(x) & (np.floor(x) == x)
            ok = whole & (x >= float(lo)) & (x < float(hi + 1)) if bounded else whole
        if bounded:
            values = masked_list(np.where(ok, x, 0.0).astype(np.int64), ok)
        else:
            values = [int(v) if good else None for v, good in zip(x.tolist(), ok.tolist(), strict=True)]
        bad: dict[int, str] = {}
        for i in np.flatnonzero(valid & ~ok).tolist():
            v = float_text(x[i])
            if whole[i]:
                bad[i] = f"value {v} is out of range for {name} ({lo}..{hi})"
            else:
                bad[i] = f"value {v} is not a whole number and cannot be written to {name}"
        return values, bad

    return conv


def decimal_to_int_fn(name: str) -> Callable[[Any], int]:
    check = _range_checker(name) if name != "varint" else None

    def fn(d: decimal.Decimal) -> int:
        if not d.is_finite() or d != d.to_integral_value():
            raise Bad(f"value {d} is not a whole number and cannot be written to {name}")
        i = int(d)
        return check(i) if check is not None else i

    return fn


def string_to_varint(s: str) -> int:
    if not _INTEGER_RE.fullmatch(s):
        raise Bad(f"value {short(s)} is not an integer and cannot be written to varint")
    try:
        return int(s)
    except ValueError:  # more digits than sys.get_int_max_str_digits(): Decimal has no such limit
        return int(decimal.Decimal(s))


# ---------------------------------------------------------------------------------------------------------
# decimal, float, double
# ---------------------------------------------------------------------------------------------------------


def _checked_decimal(d: decimal.Decimal, shown: str) -> decimal.Decimal:
    if not d.is_finite():
        raise Bad(f"value {shown} cannot be written to decimal (a CQL decimal has no NaN or infinity)")
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    if not _INT32_MIN <= -exponent <= _INT32_MAX:
        raise Bad(f"value {shown} has a scale of {-exponent}, beyond the 32-bit scale of a CQL decimal")
    return d


def string_to_decimal(s: str) -> decimal.Decimal:
    try:
        d = decimal.Decimal(s)
    except (decimal.InvalidOperation, ValueError):
        raise Bad(f"value {short(s)} is not a decimal number and cannot be written to decimal") from None
    return _checked_decimal(d, short(s))


def floats_to_decimal(arr: pa.Array) -> Result:
    """Floats become the Decimal of their shortest repr (``0.1`` → ``Decimal('0.1')``)."""
    single = pa.types.is_float32(arr.type) or pa.types.is_float16(arr.type)
    values: list[Any] = arr.cast(pa.float32()).to_pylist() if single else arr.to_pylist()

    def fn(v: float) -> decimal.Decimal:
        text = str(np.float32(v)) if single else repr(v)
        return _checked_decimal(decimal.Decimal(text), text)

    return per_value(values, fn)


def ints_to_decimal(arr: pa.Array) -> Result:
    return [None if v is None else decimal.Decimal(v) for v in arr.to_pylist()], {}


def floats_to_float(name: str) -> Conv:
    def conv(arr: pa.Array) -> Result:
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
            bad[i] = f"value {float_text(x[i])} is out of range for float (32-bit)"
        return values, bad

    return conv


def ints_to_float(dt: pa.DataType, name: str) -> Conv:
    """Arrow (u)int → float/double; integers the target cannot hold exactly are bad values."""
    exact_bits = 53 if name == "double" else 24
    src_lo, src_hi = _arrow_int_range(dt)
    limit = 2**exact_bits

    def exact(v: int) -> float:
        f = float(v) if name == "double" else float(np.float32(v))
        if f != v:
            raise Bad(f"value {v} cannot be represented exactly as {name}")
        return f

    def conv(arr: pa.Array) -> Result:
        if -limit <= src_lo and src_hi <= limit:
            return arr.cast(pa.float64()).to_pylist(), {}
        return per_value(arr.to_pylist(), exact)

    return conv
