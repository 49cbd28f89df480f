"""Helpers shared by the integration tests that compare Arrow values exactly."""

from __future__ import annotations

import struct

import pyarrow as pa


def f32(x: float) -> float:
    """The float32 nearest to ``x``, as a Python float."""
    value: float = struct.unpack("f", struct.pack("f", x))[0]
    return value


def raw_type(t: pa.DataType) -> pa.DataType:
    """``t`` with timestamps, dates and times replaced by their integer storage (any year survives
    ``to_pylist``)."""
    if pa.types.is_timestamp(t) or pa.types.is_time64(t):
        return pa.int64()
    if pa.types.is_date32(t):
        return pa.int32()
    if pa.types.is_fixed_size_list(t):
        return pa.list_(raw_type(t.value_type), t.list_size)
    if pa.types.is_list(t):
        return pa.list_(raw_type(t.value_type))
    if pa.types.is_map(t):
        return pa.map_(raw_type(t.key_type), raw_type(t.item_type))
    if pa.types.is_struct(t):
        return pa.struct([(t.field(i).name, raw_type(t.field(i).type)) for i in range(t.num_fields)])
    return t
