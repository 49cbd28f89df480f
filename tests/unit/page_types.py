"""Hypothesis strategies for the page-decoder property tests: CQL types (every native type, collections,
vectors, tuples, UDTs, nested), values of each type as the driver serializes them, the driver's type class
of each, and a ROWS message body as a node sends it."""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from cassandra_frames.cqltypes import CqlType

NATIVE = [
    *("ascii", "text", "varchar", "blob", "boolean", "tinyint", "smallint", "int", "bigint", "counter"),
    *("float", "double", "varint", "decimal", "date", "time", "timestamp", "uuid", "timeuuid", "inet"),
    "duration",
]
HASHABLE = [n for n in NATIVE if n not in ("duration", "float", "double")]  # map keys, set elements
I32 = 2**31
I64 = 2**63


def cql_types(udt_names: Sequence[str] = ("u0", "u1")) -> st.SearchStrategy[CqlType]:
    """Any column type: natives, list/set/map/vector/tuple/UDT, nested up to three levels."""
    native = st.sampled_from(NATIVE).map(CqlType)
    key = st.sampled_from(HASHABLE).map(CqlType)

    def nest(inner: st.SearchStrategy[CqlType]) -> st.SearchStrategy[CqlType]:
        return st.one_of(
            inner.map(lambda t: CqlType("list", (t,), frozen=True)),
            key.map(lambda t: CqlType("set", (t,), frozen=True)),
            st.tuples(key, inner).map(lambda kv: CqlType("map", kv, frozen=True)),
            st.lists(inner, min_size=1, max_size=3).map(lambda ts: CqlType("tuple", tuple(ts), frozen=True)),
            st.tuples(inner, st.integers(1, 4)).map(lambda p: CqlType("vector", (p[0],), size=p[1])),
            st.sampled_from(udt_names).map(lambda n: CqlType(n, frozen=True)),
        )

    return st.recursive(native, nest, max_leaves=4)


def udt_defs(names: Sequence[str] = ("u0", "u1")) -> st.SearchStrategy[dict[str, list[tuple[str, CqlType]]]]:
    """Field lists of the UDTs that :func:`cql_types` names (natives and collections of natives: a UDT
    never contains itself)."""
    native = st.sampled_from(NATIVE).map(CqlType)
    field_type = st.one_of(native, native.map(lambda t: CqlType("list", (t,), frozen=True)))
    fields = st.lists(field_type, min_size=1, max_size=4).map(
        lambda ts: [(f"f {i}" if i % 2 else f"F{i}", t) for i, t in enumerate(ts)]
    )
    return st.fixed_dictionaries({n: fields for n in names})


def _native_values(name: str, nested: bool) -> st.SearchStrategy[Any]:
    from cassandra.util import Date, Duration, Time

    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
    if name in ("text", "varchar"):
        return text
    if name == "ascii":
        return st.text(alphabet=st.characters(max_codepoint=127, blacklist_categories=("Cs",)), max_size=12)
    if name == "blob":
        return st.binary(max_size=12)
    if name == "boolean":
        return st.booleans()
    bits = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64, "counter": 64}
    if name in bits:
        b = bits[name]
        return st.integers(-(2 ** (b - 1)), 2 ** (b - 1) - 1)
    if name == "float":
        return st.floats(width=32)
    if name == "double":
        return st.floats()
    if name == "varint":
        return st.one_of(st.integers(-(2**70), 2**70), st.integers(-(2**300), 2**300))
    if name == "decimal":
        return st.builds(
            lambda sign, digits, exp: decimal.Decimal((sign, tuple(int(c) for c in str(digits)), exp)),
            st.integers(0, 1),
            st.integers(0, 10**40),
            st.integers(-40, 40),
        )
    if name == "date":
        return st.integers(-I32, I32 - 1).map(Date)
    if name == "time":
        return st.integers(0, 86_400 * 10**9 - 1).map(Time)
    if name == "timestamp":
        if not nested:  # top-level timestamps are fetched as toUnixTimestamp(): bigint milliseconds
            return st.integers(-(2**62), 2**62)
        # nested ones are the driver's datetimes: exact only within ±2^32 s of the epoch (float seconds)
        lo, hi = dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)
        return st.datetimes(lo, hi).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
    if name == "uuid":
        return st.uuids()
    if name == "timeuuid":
        return st.uuids(version=1)
    if name == "inet":
        return st.ip_addresses().map(str)
    if name == "duration":
        return st.builds(
            Duration, st.integers(-I32, I32 - 1), st.integers(-I32, I32 - 1), st.integers(-I64, I64 - 1)
        )
    raise AssertionError(name)


def values(t: CqlType, udts: dict[str, list[tuple[str, CqlType]]], nested: bool = False) -> st.SearchStrategy:
    """Values of ``t`` the driver serializes (None: null, at the top and inside tuples/UDTs)."""
    if t.is_native:
        v = _native_values(t.name, nested)
    elif t.name == "list":
        v = st.lists(values(t.params[0], udts, True).filter(lambda x: x is not None), max_size=3)
    elif t.name == "set":  # sorted and unique: the driver's SortedSet re-sorts what it reads
        v = st.lists(_native_values(t.params[0].name, True), max_size=3, unique_by=_key).map(
            lambda xs: sorted(xs, key=_key)
        )
    elif t.name == "map":
        pairs = st.lists(
            st.tuples(_native_values(t.params[0].name, True), values(t.params[1], udts, True)),
            max_size=3,
            unique_by=lambda kv: _key(kv[0]),
        )
        v = pairs.map(lambda kvs: {k: x for k, x in kvs if x is not None})
    elif t.name == "vector":
        inner = values(t.params[0], udts, True).filter(lambda x: x is not None)
        v = st.lists(inner, min_size=t.size or 0, max_size=t.size or 0)
    elif t.name == "tuple":
        v = st.tuples(*(values(p, udts, True) for p in t.params))
    else:
        v = st.tuples(*(values(ft, udts, True) for _, ft in udts[t.name]))
    return st.one_of(st.none(), v)


def _key(x: Any) -> Any:
    """Python's order of a set's elements, as the driver's SortedSet keeps them (NaN-free types only)."""
    if hasattr(x, "days_from_epoch"):
        return x.days_from_epoch
    if hasattr(x, "nanosecond_time"):
        return x.nanosecond_time
    return x


def driver_type(t: CqlType, udts: dict[str, list[tuple[str, CqlType]]]) -> Any:
    """The driver's type class of ``t``."""
    from cassandra import cqltypes as ct

    if t.is_native:
        return ct._cqltypes[t.name]
    subs = [driver_type(p, udts) for p in t.params]
    if t.name in ("list", "set", "map"):
        return ct._cqltypes[t.name].apply_parameters(subs)
    if t.name == "tuple":
        return ct.TupleType.apply_parameters(subs)
    if t.name == "vector":
        return ct.VectorType.apply_parameters([subs[0], t.size], None)
    fields = udts[t.name]
    return ct.UserType.make_udt_class(
        "ks", t.name, [f for f, _ in fields], [driver_type(ft, udts) for _, ft in fields]
    )


def serialize(t: CqlType, udts: dict[str, list[tuple[str, CqlType]]], value: Any) -> bytes | None:
    """One cell's bytes (None: null). Top-level timestamps are bigint milliseconds, as fetched."""
    if value is None:
        return None
    if t.name == "timestamp" and not t.params:
        return struct.pack(">q", value)
    return driver_type(t, udts).to_binary(value, 5)


def rows_body(cells: Sequence[Sequence[bytes | None]]) -> bytes:
    """Row-major cells, each ``[int32 length][bytes]`` (-1: null)."""
    out = bytearray()
    for row in cells:
        for c in row:
            if c is None:
                out += struct.pack(">i", -1)
            else:
                out += struct.pack(">i", len(c)) + c
    return bytes(out)


def result_message(rows: int, columns: int, cells: bytes) -> bytes:
    """A RESULT/ROWS message body with no metadata (a prepared statement's: its types come with it)."""
    return struct.pack(">iiii", 2, 0x0004, columns, rows) + cells


_NATIVE_IDS = {
    **{"ascii": 0x01, "bigint": 0x02, "blob": 0x03, "boolean": 0x04, "counter": 0x05, "decimal": 0x06},
    **{"double": 0x07, "float": 0x08, "int": 0x09, "timestamp": 0x0B, "uuid": 0x0C, "varchar": 0x0D},
    **{"text": 0x0D, "varint": 0x0E, "timeuuid": 0x0F, "inet": 0x10, "date": 0x11, "time": 0x12},
    **{"smallint": 0x13, "tinyint": 0x14, "duration": 0x15},
}


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def type_option(t: CqlType, udts: dict[str, list[tuple[str, CqlType]]]) -> bytes:
    """The [option] a node describes a column type with in result metadata."""
    if t.is_native:
        return struct.pack(">H", _NATIVE_IDS[t.name])
    if t.name in ("list", "set"):
        return struct.pack(">H", 0x20 if t.name == "list" else 0x22) + type_option(t.params[0], udts)
    if t.name == "map":
        return struct.pack(">H", 0x21) + b"".join(type_option(p, udts) for p in t.params)
    if t.name == "tuple":
        return struct.pack(">HH", 0x31, len(t.params)) + b"".join(type_option(p, udts) for p in t.params)
    if t.name == "vector":
        inner = driver_type(t.params[0], udts).cass_parameterized_type(full=True)
        return struct.pack(">H", 0) + _string(
            f"org.apache.cassandra.db.marshal.VectorType({inner}, {t.size})"
        )
    fields = udts[t.name]
    out = struct.pack(">H", 0x30) + _string("ks") + _string(t.name) + struct.pack(">H", len(fields))
    return out + b"".join(_string(n) + type_option(ft, udts) for n, ft in fields)


def result_message_with_metadata(
    types: Sequence[CqlType],
    udts: dict[str, list[tuple[str, CqlType]]],
    rows: int,
    cells: bytes,
    paging_state: bytes | None,
    tables_once: bool,
) -> bytes:
    """A RESULT/ROWS message body carrying its column metadata (and a paging state when given)."""
    flags = (0x1 if tables_once else 0) | (0x2 if paging_state is not None else 0)
    out = struct.pack(">iii", 2, flags, len(types))
    if paging_state is not None:
        out += struct.pack(">i", len(paging_state)) + paging_state
    if tables_once:
        out += _string("ks") + _string("t")
    for i, t in enumerate(types):
        out += (
            (b"" if tables_once else _string("ks") + _string("t")) + _string(f"c{i}") + type_option(t, udts)
        )
    return out + struct.pack(">i", rows) + cells
