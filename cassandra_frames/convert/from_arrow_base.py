"""What the Arrow → CQL converters share: the converter type, the two exceptions, and small vectorised
helpers. No I/O, no driver import."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cassandra_frames.cqltypes import CqlType

__all__ = [
    "INT64_MAX",
    "PER_SECOND",
    "Bad",
    "BoolArray",
    "Conv",
    "Mismatch",
    "Result",
    "float_text",
    "instant_text",
    "masked_list",
    "mismatch",
    "nulls",
    "per_value",
    "per_value_conv",
    "raw_ints",
    "short",
    "to_pylist",
    "validity",
]

Result = tuple[list[Any], dict[int, str]]
"""A converted column: one value per row (None for null or bad), and row → reason for the bad rows."""
Conv = Callable[[pa.Array], Result]
"""A converter of one Arrow array."""
BoolArray = npt.NDArray[np.bool_]

INT64_MAX = 2**63 - 1
PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_EPOCH = _dt.datetime(1970, 1, 1)


class Mismatch(Exception):
    """The Arrow type cannot be written to the CQL type (``reason`` says why)."""

    def __init__(self, reason: str, nested: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.nested = nested


class Bad(Exception):
    """One value cannot be written (``reason`` names the value and the CQL type)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def mismatch(dt: pa.DataType, t: CqlType, detail: str = "") -> Mismatch:
    text = f"{dt} cannot be written to {t}"
    return Mismatch(f"{text} ({detail})" if detail else text)


# ---------------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------------


def validity(arr: pa.Array) -> BoolArray:
    """True where ``arr`` holds a value."""
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=np.bool_)
    if arr.null_count == len(arr):
        return np.zeros(len(arr), dtype=np.bool_)
    mask: BoolArray = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    return mask


def raw_ints(arr: pa.Array, storage: pa.DataType) -> npt.NDArray[np.int64]:
    """The integer storage of a temporal array (nulls as 0) as int64."""
    raw: npt.NDArray[np.int64] = np.asarray(
        arr.cast(storage).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    return raw


def masked_list(values: npt.NDArray[Any], ok: BoolArray) -> list[Any]:
    """Python values of ``values`` where ``ok``, None elsewhere (one vectorised ``to_pylist``)."""
    result: list[Any] = pa.array(values, mask=~ok).to_pylist()
    return result


def per_value(values: list[Any], fn: Callable[[Any], Any]) -> Result:
    """Apply ``fn`` to each non-None value; a ``Bad`` raised by ``fn`` gives None and a reported reason."""
    bad: dict[int, str] = {}
    for i, v in enumerate(values):
        if v is None:
            continue
        try:
            values[i] = fn(v)
        except Bad as exc:
            values[i] = None
            bad[i] = exc.reason
    return values, bad


def nulls(arr: pa.Array) -> Result:
    return [None] * len(arr), {}


def to_pylist(arr: pa.Array) -> Result:
    return arr.to_pylist(), {}


def instant_text(v: int, unit: str) -> str:
    """``v`` units since the epoch as ISO text when Python can show it, else the raw count."""
    per = PER_SECOND[unit]
    seconds, frac = divmod(v, per)
    try:
        text = (_EPOCH + _dt.timedelta(seconds=seconds)).isoformat()
    except OverflowError:
        return f"{v} {unit} since the epoch"
    if per > 1:
        text += "." + str(frac).zfill(len(str(per)) - 1)
    return text + "Z"


def float_text(v: float) -> str:
    return repr(float(v))


def short(s: Any, limit: int = 60) -> str:
    text = repr(s)
    return text if len(text) <= limit else text[: limit - 4] + "…" + text[-3:]


def per_value_conv(fn: Callable[[Any], Any]) -> Conv:
    def conv(arr: pa.Array) -> Result:
        return per_value(arr.to_pylist(), fn)

    return conv
