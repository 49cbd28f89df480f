"""Cassandra 5 types → Arrow types, driver values → Arrow arrays, Arrow tables → pandas frames.

This module does no I/O: it works on the driver's metadata objects (``KeyspaceMetadata``,
``TableMetadata``) and on the Python values the DataStax driver returns, and it is the single place where
the library decides how a CQL type looks in Arrow and in pandas. The mapping is lossless by default:

========================  ===========================================================
CQL                       Arrow
========================  ===========================================================
ascii, text, varchar      ``string``
tinyint … bigint          ``int8`` / ``int16`` / ``int32`` / ``int64``
counter                   ``int64``
float, double             ``float32`` / ``float64``
boolean                   ``bool``
blob                      ``binary``
date                      ``date32`` (every Cassandra date, ±5.8 million years)
time                      ``time64[ns]``
timestamp                 ``timestamp[ms, tz=UTC]``
uuid, timeuuid            ``string`` (canonical lowercase 8-4-4-4-12)
inet                      ``string``
duration                  ``month_day_nano_interval``
decimal                   ``string`` holding ``str(Decimal)`` (``float64`` with ``exact_numbers=False``)
varint                    ``string`` holding the integer (``float64`` with ``exact_numbers=False``)
list<T>, set<T>           ``list<T>``
map<K, V>                 ``map<K, V>``
tuple<A, B, …>            ``struct<f0: A, f1: B, …>``
user-defined type         ``struct`` with the type's field names
frozen<T>                 same as ``T``
vector<T, n>              ``fixed_size_list<T, n>``
========================  ===========================================================

See ``docs/types.md`` for the pandas dtypes, the reasons behind each choice and the known limitations.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import difflib
import functools
import math
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from cassandra.util import Date as _CassDate
from cassandra.util import Duration as _CassDuration
from cassandra.util import Time as _CassTime

from cassandra_frames.errors import SchemaError

__all__ = [
    "Converter",
    "CqlType",
    "DtypeBackend",
    "UdtMap",
    "arrow_type",
    "column_converter",
    "cql_type_for_arrow",
    "empty_frame",
    "fetched_converter",
    "pandas_dtype",
    "parse_cql_type",
    "quote_identifier",
    "select_expression",
    "table_schema",
    "to_pandas",
    "udts_of",
]

DtypeBackend = Literal["pyarrow", "numpy_nullable"]
"""How Arrow columns become pandas columns (see :func:`to_pandas`)."""

UdtMap = Mapping[str, Sequence[tuple[str, "CqlType | str"]]]
"""User-defined types of a keyspace: UDT name → ``[(field name, field type), …]`` in field order."""

Converter = Callable[[Sequence[Any]], pa.Array]
"""A column converter: the driver's values of one column → one ``pa.Array``."""

# ---------------------------------------------------------------------------------------------------------
# CQL type text
# ---------------------------------------------------------------------------------------------------------

NATIVE_TYPES: frozenset[str] = frozenset(
    {
        "ascii",
        "bigint",
        "blob",
        "boolean",
        "counter",
        "date",
        "decimal",
        "double",
        "duration",
        "float",
        "inet",
        "int",
        "smallint",
        "text",
        "time",
        "timestamp",
        "timeuuid",
        "tinyint",
        "uuid",
        "varchar",
        "varint",
    }
)
_PARAMETERIZED = frozenset({"list", "set", "map", "tuple", "vector", "frozen"})
_UNQUOTED_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<punct>[<>,.])
      | (?P<quoted>"(?:[^"]|"")*")
      | (?P<custom>'(?:[^']|'')*')
      | (?P<int>-?[0-9]+)(?![A-Za-z_])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _reserved_keywords() -> frozenset[str]:
    try:
        from cassandra.metadata import cql_keywords_reserved
    except ImportError:  # pragma: no cover - the driver is a hard dependency
        return frozenset()
    return frozenset(str(k) for k in cql_keywords_reserved)


_RESERVED = _reserved_keywords()


def quote_identifier(name: str) -> str:
    """Quote a CQL identifier with double quotes (embedded quotes doubled), so any case and character works.

    Parameters
    ----------
    name : str
        The identifier as Cassandra stores it (``MyCol``, ``user id``, ``a"b``).

    Returns
    -------
    str
        ``"MyCol"``, ``"user id"``, ``"a""b"``.
    """
    return '"' + name.replace('"', '""') + '"'


def _maybe_quote(name: str) -> str:
    """Quote a UDT/keyspace name only when CQL needs it (mixed case, odd characters, keywords)."""
    if _UNQUOTED_RE.match(name) and name not in _RESERVED and name not in NATIVE_TYPES | _PARAMETERIZED:
        return name
    return quote_identifier(name)


@dataclass(frozen=True)
class CqlType:
    """A parsed CQL type.

    Attributes
    ----------
    name : str
        ``"int"``, ``"text"``, … for native types; ``"list"``, ``"set"``, ``"map"``, ``"tuple"``,
        ``"vector"`` for parameterized ones; the (unquoted, case-preserved) type name for a user-defined
        type, e.g. ``"address"`` or ``"MyType"``.
    params : tuple of CqlType
        Element types: one for list/set/vector, key and value for map, one per component for tuple.
    size : int or None
        The dimension of a ``vector``; None for every other type.
    frozen : bool
        Whether the type was written ``frozen<…>`` (values look the same either way).
    keyspace : str or None
        The keyspace of a keyspace-qualified UDT name (``ks.address``); None otherwise.
    """

    name: str
    params: tuple[CqlType, ...] = ()
    size: int | None = None
    frozen: bool = False
    keyspace: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise SchemaError("a CQL type needs a name")
        counts = {"list": 1, "set": 1, "map": 2, "vector": 1, "frozen": -1}
        expected = counts.get(self.name, 0 if self.name in NATIVE_TYPES else None)
        if expected == -1:
            raise SchemaError("'frozen' is a flag of CqlType (frozen=True), not a type name")
        bad = (expected is not None and len(self.params) != expected) or (
            self.name == "tuple" and not self.params
        )
        if self.name not in _PARAMETERIZED and self.name not in NATIVE_TYPES and self.params:
            bad = True
        if bad:
            raise SchemaError(f"CQL type {self.name!r} cannot take {len(self.params)} type parameter(s)")
        if (self.name == "vector") != (self.size is not None) or (self.size is not None and self.size <= 0):
            raise SchemaError(
                f"a vector needs a positive size and only a vector has one (got {self.name!r}, "
                f"size={self.size!r})"
            )

    @property
    def is_native(self) -> bool:
        """True for the non-parameterized built-in types (``int``, ``text``, ``timestamp``, …)."""
        return self.name in NATIVE_TYPES and not self.params

    @property
    def is_collection(self) -> bool:
        """True for ``list``, ``set`` and ``map``."""
        return self.name in ("list", "set", "map") and bool(self.params)

    @property
    def is_udt(self) -> bool:
        """True for a user-defined type (any name that is neither native nor parameterized)."""
        return not self.params and self.name not in NATIVE_TYPES and self.name not in _PARAMETERIZED

    def unfrozen(self) -> CqlType:
        """The same type without the ``frozen`` flag."""
        if not self.frozen:
            return self
        return CqlType(self.name, self.params, self.size, False, self.keyspace)

    def __str__(self) -> str:
        if self.frozen:
            return f"frozen<{self.unfrozen()}>"
        if self.name == "vector":
            return f"vector<{self.params[0]}, {self.size}>"
        if self.params:
            return f"{self.name}<{', '.join(str(p) for p in self.params)}>"
        if self.is_udt:
            prefix = f"{_maybe_quote(self.keyspace)}." if self.keyspace else ""
            return prefix + _maybe_quote(self.name)
        return self.name


def _tokenize(text: str) -> Iterator[tuple[str, str, int]]:
    pos = 0
    end = len(text.rstrip())
    while pos < end:
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.lastgroup is None:
            raise SchemaError(f"cannot parse CQL type {text!r}: unexpected character at position {pos}")
        yield m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)
        pos = m.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokenize(text))
        self.i = 0

    def fail(self, what: str) -> SchemaError:
        if self.i < len(self.tokens):
            _, value, pos = self.tokens[self.i]
            where = f"{value!r} at position {pos}"
        else:
            where = "end of text"
        return SchemaError(f"cannot parse CQL type {self.text!r}: expected {what}, found {where}")

    def peek(self) -> tuple[str, str]:
        if self.i < len(self.tokens):
            kind, value, _ = self.tokens[self.i]
            return kind, value
        return "", ""

    def take(self, kind: str, value: str | None = None) -> str:
        k, v = self.peek()
        if k != kind or (value is not None and v != value):
            raise self.fail(repr(value) if value is not None else kind)
        self.i += 1
        return v

    def name(self) -> tuple[str, bool]:
        kind, value = self.peek()
        if kind == "word":
            self.i += 1
            return value.lower(), False
        if kind == "quoted":
            self.i += 1
            return value[1:-1].replace('""', '"'), True
        if kind == "custom":
            custom = value[1:-1].replace("''", "'")
            raise SchemaError(
                f"custom type {custom!r} (in {self.text!r}) is not supported: cassandra_frames reads only "
                "the built-in CQL types, collections, tuples, vectors and user-defined types"
            )
        raise self.fail("a type name")

    def parse_type(self) -> CqlType:
        name, quoted = self.name()
        if quoted and name in NATIVE_TYPES | _PARAMETERIZED:
            raise SchemaError(
                f"user-defined type {name!r} (in {self.text!r}) has the name of a built-in CQL type; "
                "such a type cannot be told apart from the built-in one and is not supported"
            )
        if not quoted and name in _PARAMETERIZED:
            self.take("punct", "<")
            if name == "frozen":
                inner = self.parse_type()
                self.take("punct", ">")
                return CqlType(inner.name, inner.params, inner.size, True, inner.keyspace)
            params = [self.parse_type()]
            size: int | None = None
            if name == "vector":
                self.take("punct", ",")
                size = int(self.take("int"))
                if size <= 0:
                    raise SchemaError(f"cannot parse CQL type {self.text!r}: vector size must be positive")
            else:
                while self.peek() == ("punct", ","):
                    self.i += 1
                    params.append(self.parse_type())
            self.take("punct", ">")
            expected = {"list": 1, "set": 1, "map": 2}.get(name)
            if expected is not None and len(params) != expected:
                raise SchemaError(
                    f"cannot parse CQL type {self.text!r}: {name} takes {expected} type parameter(s), "
                    f"got {len(params)}"
                )
            return CqlType(name, tuple(params), size)
        if not quoted and name in NATIVE_TYPES:
            return CqlType(name)
        if self.peek() == ("punct", "."):
            self.i += 1
            udt, _ = self.name()
            return CqlType(udt, keyspace=name)
        return CqlType(name)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> CqlType:
    parser = _Parser(text)
    result = parser.parse_type()
    if parser.i != len(parser.tokens):
        raise parser.fail("end of text")
    return result


def parse_cql_type(text: str) -> CqlType:
    """Parse a CQL type as the driver prints it (``ColumnMetadata.cql_type``, ``UserType.field_types``).

    Parameters
    ----------
    text : str
        E.g. ``"int"``, ``"frozen<map<text, frozen<list<int>>>>"``, ``"vector<float, 3>"``,
        ``"tuple<int, text>"``, ``"frozen<address>"``, ``'frozen<"MyType">'``, ``"ks.address"``.
        Unquoted names are case-insensitive (lower-cased); quoted names keep their case.

    Returns
    -------
    CqlType
        ``str()`` of the result gives back equivalent CQL text.

    Raises
    ------
    SchemaError
        The text is not a CQL type, or it names a custom (``'org.apache.cassandra.db.marshal.…'``) type;
        the message names the type.
    """
    if not isinstance(text, str):
        raise SchemaError(f"a CQL type must be given as text, got {type(text).__name__} {text!r}")
    return _parse_cached(text)


def _as_type(t: CqlType | str) -> CqlType:
    return t if isinstance(t, CqlType) else parse_cql_type(t)


# ---------------------------------------------------------------------------------------------------------
# Arrow types
# ---------------------------------------------------------------------------------------------------------

TIMESTAMP_TYPE = pa.timestamp("ms", tz="UTC")

_ARROW_NATIVE: dict[str, pa.DataType] = {
    "ascii": pa.string(),
    "text": pa.string(),
    "varchar": pa.string(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "counter": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "blob": pa.binary(),
    "date": pa.date32(),
    "time": pa.time64("ns"),
    "timestamp": TIMESTAMP_TYPE,
    "uuid": pa.string(),
    "timeuuid": pa.string(),
    "inet": pa.string(),
    "duration": pa.month_day_nano_interval(),
}


def _close_matches(name: str, known: Sequence[str]) -> list[str]:
    """Close matches of ``name`` among ``known``, exact-case ones first, then case-insensitive ones."""
    close = difflib.get_close_matches(name, known, n=3)
    lower = {k.lower(): k for k in known}
    for low in difflib.get_close_matches(name.lower(), list(lower), n=3):
        if lower[low] not in close:
            close.append(lower[low])
    return close


def _udt_fields(t: CqlType, udts: UdtMap | None) -> list[tuple[str, CqlType]]:
    candidates = [t.name]
    if t.keyspace:
        candidates.insert(0, f"{t.keyspace}.{t.name}")
    for key in candidates:
        if udts is not None and key in udts:
            return [(str(name), _as_type(ft)) for name, ft in udts[key]]
    known = sorted(udts) if udts else []
    msg = f"unknown user-defined type {t.name!r}"
    hint = _close_matches(t.name, known)
    if hint:
        msg += f"; did you mean {', '.join(repr(h) for h in hint)}?"
    msg += f" (known types: {', '.join(known) if known else 'none'})"
    raise SchemaError(msg)


def _arrow(t: CqlType, udts: UdtMap | None, exact: bool, seen: tuple[str, ...]) -> pa.DataType:
    name = t.name
    if t.is_native:
        if name in ("decimal", "varint"):
            return pa.string() if exact else pa.float64()
        return _ARROW_NATIVE[name]
    if name in ("list", "set"):
        return pa.list_(_arrow(t.params[0], udts, exact, seen))
    if name == "map":
        return pa.map_(_arrow(t.params[0], udts, exact, seen), _arrow(t.params[1], udts, exact, seen))
    if name == "tuple":
        return pa.struct([(f"f{i}", _arrow(p, udts, exact, seen)) for i, p in enumerate(t.params)])
    if name == "vector":
        assert t.size is not None
        return pa.list_(_arrow(t.params[0], udts, exact, seen), t.size)
    if name in seen:
        raise SchemaError(f"user-defined type {name!r} contains itself ({' → '.join((*seen, name))})")
    fields = _udt_fields(t, udts)
    return pa.struct([(fname, _arrow(ft, udts, exact, (*seen, name))) for fname, ft in fields])


def arrow_type(t: CqlType | str, udts: UdtMap | None = None, *, exact_numbers: bool = True) -> pa.DataType:
    """The Arrow type that holds values of a CQL type.

    Parameters
    ----------
    t : CqlType or str
        The CQL type (text is parsed with :func:`parse_cql_type`).
    udts : mapping, optional
        User-defined types reachable from ``t``: UDT name → ``[(field name, field type), …]``
        (see :func:`udts_of`).
    exact_numbers : bool, default True
        True: ``decimal`` and ``varint`` become exact strings. False: both become ``float64`` (lossy).

    Returns
    -------
    pyarrow.DataType

    Raises
    ------
    SchemaError
        The type cannot be parsed, is a custom type, or names a UDT missing from ``udts``.
    """
    return _arrow(_as_type(t), udts, exact_numbers, ())


def udts_of(keyspace_meta: Any) -> dict[str, list[tuple[str, str]]]:
    """The user-defined types of a keyspace, in the form :func:`arrow_type` takes.

    Parameters
    ----------
    keyspace_meta : cassandra.metadata.KeyspaceMetadata or None
        Driver metadata of the keyspace (None gives an empty mapping).

    Returns
    -------
    dict
        UDT name (as Cassandra stores it, unquoted) → ``[(field name, field CQL type text), …]``.
    """
    if keyspace_meta is None:
        return {}
    result: dict[str, list[tuple[str, str]]] = {}
    for name, udt in (getattr(keyspace_meta, "user_types", None) or {}).items():
        result[str(name)] = [
            (str(f), str(ft)) for f, ft in zip(udt.field_names, udt.field_types, strict=True)
        ]
    return result


def _role(table_meta: Any, column: Any) -> str:
    name = column.name
    if any(c.name == name for c in table_meta.partition_key):
        return "partition_key"
    if any(c.name == name for c in table_meta.clustering_key):
        return "clustering"
    if getattr(column, "is_static", False):
        return "static"
    return "regular"


def _unknown_column(name: str, table: str, known: Sequence[str]) -> SchemaError:
    close = _close_matches(name, known)
    msg = f"column {name!r} does not exist in table {table}"
    if close:
        msg += f"; did you mean {', '.join(repr(c) for c in close)}?"
    msg += f" (columns: {', '.join(known)})"
    return SchemaError(msg)


def table_schema(
    table_meta: Any,
    keyspace_meta: Any,
    columns: Sequence[str] | None = None,
    *,
    exact_numbers: bool = True,
) -> pa.Schema:
    """The Arrow schema of a Cassandra table (or of some of its columns).

    Parameters
    ----------
    table_meta : cassandra.metadata.TableMetadata
        Driver metadata of the table.
    keyspace_meta : cassandra.metadata.KeyspaceMetadata
        Driver metadata of its keyspace (for user-defined types).
    columns : sequence of str, optional
        Column names as Cassandra stores them (case-sensitive, unquoted: ``"MyCol"``). Default: every
        column, in the table's order (partition key, clustering columns, then the others).
    exact_numbers : bool, default True
        See :func:`arrow_type`.

    Returns
    -------
    pyarrow.Schema
        One nullable field per column. Field metadata: ``b"cql_type"`` (the CQL type text),
        ``b"role"`` (``b"partition_key"``, ``b"clustering"``, ``b"static"`` or ``b"regular"``) and, for
        clustering columns, ``b"clustering_order"`` (``b"ASC"``/``b"DESC"``). Schema metadata:
        ``b"keyspace"`` and ``b"table"``.

    Raises
    ------
    SchemaError
        A column does not exist (the message names the table and close matches), is listed twice, or has
        a type that cannot be read.
    """
    ks_name = str(getattr(table_meta, "keyspace_name", "") or getattr(keyspace_meta, "name", ""))
    table_name = f"{ks_name}.{table_meta.name}" if ks_name else str(table_meta.name)
    all_columns: Mapping[str, Any] = table_meta.columns
    if columns is None:
        names = list(all_columns)
    else:
        names = [columns] if isinstance(columns, str) else list(columns)
        seen: set[str] = set()
        for name in names:
            if name not in all_columns:
                raise _unknown_column(name, table_name, list(all_columns))
            if name in seen:
                raise SchemaError(f"column {name!r} of table {table_name} is listed more than once")
            seen.add(name)
    udts = udts_of(keyspace_meta)
    fields = []
    for name in names:
        col = all_columns[name]
        text = str(col.cql_type)
        try:
            typ = arrow_type(text, udts, exact_numbers=exact_numbers)
        except SchemaError as exc:
            raise SchemaError(f"column {name!r} of table {table_name}: {exc}") from exc
        role = _role(table_meta, col)
        meta = {b"cql_type": text.encode(), b"role": role.encode()}
        if role == "clustering":
            meta[b"clustering_order"] = b"DESC" if getattr(col, "is_reversed", False) else b"ASC"
        fields.append(pa.field(name, typ, nullable=True, metadata=meta))
    return pa.schema(
        fields, metadata={b"keyspace": ks_name.encode(), b"table": str(table_meta.name).encode()}
    )


# ---------------------------------------------------------------------------------------------------------
# Driver values → Arrow arrays
# ---------------------------------------------------------------------------------------------------------

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
    if isinstance(v, _CassDate):
        return int(v.days_from_epoch)
    if isinstance(v, _dt.datetime):
        return v.date().toordinal() - _EPOCH_ORDINAL
    if isinstance(v, _dt.date):
        return v.toordinal() - _EPOCH_ORDINAL
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        return int(_CassDate(v).days_from_epoch)
    raise TypeError(f"cannot read {v!r} ({type(v).__name__}) as a CQL date")


def _time_nanos(v: Any) -> int:
    if isinstance(v, _CassTime):
        return int(v.nanosecond_time)
    if isinstance(v, _dt.time):
        return ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000_000 + v.microsecond * 1000
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        return int(_CassTime(v).nanosecond_time)
    raise TypeError(f"cannot read {v!r} ({type(v).__name__}) as a CQL time")


def _duration(v: Any) -> Any:
    if isinstance(v, _CassDuration):
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
        arrow = _arrow(t, udts, exact, seen)
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
        fields = _udt_fields(t, udts)
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
        User-defined types (see :func:`udts_of`).
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
    cql = _as_type(t)
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


def _is_top_level_timestamp(t: CqlType) -> bool:
    return t.name == "timestamp" and not t.params


def select_expression(column: str, t: CqlType | str) -> str:
    """The CQL expression to SELECT for a column, as :func:`fetched_converter` expects it.

    A top-level ``timestamp`` column is fetched as ``toUnixTimestamp(col)`` — a bigint of milliseconds that
    is exact for every timestamp, where the driver's ``datetime`` fails outside years 1–9999.

    Parameters
    ----------
    column : str
        Column name as Cassandra stores it (``MyCol``, not ``"MyCol"``).
    t : CqlType or str
        The column's CQL type.

    Returns
    -------
    str
        ``'toUnixTimestamp("ts") AS "ts"'`` for a timestamp column, else the quoted identifier
        (``'"MyCol"'``).
    """
    quoted = quote_identifier(column)
    if _is_top_level_timestamp(_as_type(t)):
        return f"toUnixTimestamp({quoted}) AS {quoted}"
    return quoted


def fetched_converter(
    t: CqlType | str, udts: UdtMap | None = None, *, exact_numbers: bool = True
) -> Converter:
    """The converter for what :func:`select_expression` fetches.

    Parameters
    ----------
    t : CqlType or str
        The column's CQL type.
    udts : mapping, optional
        User-defined types (see :func:`udts_of`).
    exact_numbers : bool, default True
        See :func:`arrow_type`.

    Returns
    -------
    callable
        For a top-level ``timestamp``: int64 milliseconds since the epoch → ``timestamp[ms, tz=UTC]``
        (driver ``datetime`` values are accepted too). Otherwise :func:`column_converter`.
    """
    cql = _as_type(t)
    if not _is_top_level_timestamp(cql):
        return column_converter(cql, udts, exact_numbers=exact_numbers)

    def convert(values: Sequence[Any]) -> pa.Array:
        try:
            return pa.array(values, type=TIMESTAMP_TYPE)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise _conversion_error(cql, TIMESTAMP_TYPE, exc) from exc

    return convert


# ---------------------------------------------------------------------------------------------------------
# Arrow → pandas
# ---------------------------------------------------------------------------------------------------------


def _nullable_dtype(dt: pa.DataType) -> Any:
    if pa.types.is_integer(dt):
        return pd.api.types.pandas_dtype(str(dt).replace("int", "Int").replace("uInt", "UInt"))
    if pa.types.is_float32(dt):
        return pd.Float32Dtype()
    if pa.types.is_float64(dt):
        return pd.Float64Dtype()
    if pa.types.is_boolean(dt):
        return pd.BooleanDtype()
    if pa.types.is_string(dt) or pa.types.is_large_string(dt):
        return pd.StringDtype()
    return pd.ArrowDtype(dt)


def pandas_dtype(dt: pa.DataType, dtype_backend: DtypeBackend = "pyarrow") -> Any:
    """The pandas dtype a column of Arrow type ``dt`` gets from :func:`to_pandas`.

    Parameters
    ----------
    dt : pyarrow.DataType
        The Arrow type.
    dtype_backend : {"pyarrow", "numpy_nullable"}, default "pyarrow"
        See :func:`to_pandas`.

    Returns
    -------
    pandas dtype
        ``pd.ArrowDtype(dt)`` for "pyarrow"; for "numpy_nullable" ``Int8``…``Int64``, ``Float32``,
        ``Float64``, ``boolean`` or ``string`` where one exists, else ``pd.ArrowDtype(dt)``.
    """
    _check_backend(dtype_backend)
    return pd.ArrowDtype(dt) if dtype_backend == "pyarrow" else _nullable_dtype(dt)


def _check_backend(dtype_backend: str) -> None:
    if dtype_backend not in ("pyarrow", "numpy_nullable"):
        raise ValueError(f"dtype_backend must be 'pyarrow' or 'numpy_nullable', not {dtype_backend!r}")


def to_pandas(table: pa.Table | pa.RecordBatch, dtype_backend: DtypeBackend = "pyarrow") -> pd.DataFrame:
    """Convert an Arrow table to pandas without losing values or precision.

    Parameters
    ----------
    table : pyarrow.Table or pyarrow.RecordBatch
        The data.
    dtype_backend : {"pyarrow", "numpy_nullable"}, default "pyarrow"
        "pyarrow": every column is ``pd.ArrowDtype(field.type)``. "numpy_nullable": pandas' nullable
        ``Int8``…``Int64``, ``Float32``/``Float64``, ``boolean`` and ``string`` dtypes where one exists,
        ``pd.ArrowDtype`` for everything else (timestamps, dates, times, intervals, binary, nested types),
        so nothing is cast to nanoseconds or to ``object``.

    Returns
    -------
    pandas.DataFrame
        With a ``RangeIndex``; its dtypes equal those of ``empty_frame(table.schema, dtype_backend)``.

    Raises
    ------
    ValueError
        ``dtype_backend`` is not one of the two names.
    """
    _check_backend(dtype_backend)
    if dtype_backend == "pyarrow":
        mapper: Callable[[pa.DataType], Any] = pd.ArrowDtype
    else:
        mapper = _nullable_dtype
    frame: pd.DataFrame = table.to_pandas(types_mapper=mapper, ignore_metadata=True)
    return frame


def empty_frame(schema: pa.Schema, dtype_backend: DtypeBackend = "pyarrow") -> pd.DataFrame:
    """A zero-row frame with the dtypes :func:`to_pandas` gives for ``schema`` (e.g. as Dask ``meta``).

    Parameters
    ----------
    schema : pyarrow.Schema
        The Arrow schema (e.g. from :func:`table_schema`).
    dtype_backend : {"pyarrow", "numpy_nullable"}, default "pyarrow"
        See :func:`to_pandas`.

    Returns
    -------
    pandas.DataFrame
    """
    return to_pandas(schema.empty_table(), dtype_backend)


# ---------------------------------------------------------------------------------------------------------
# Arrow → CQL (for the write path)
# ---------------------------------------------------------------------------------------------------------


def _frozen_if_collection(text: str) -> str:
    return f"frozen<{text}>" if text.startswith(("list<", "set<", "map<")) else text


def cql_type_for_arrow(dt: pa.DataType) -> str:
    """The CQL type a column of Arrow type ``dt`` is written as (the inverse of :func:`arrow_type`).

    Parameters
    ----------
    dt : pyarrow.DataType
        The Arrow type.

    Returns
    -------
    str
        E.g. ``"bigint"``, ``"text"``, ``"list<frozen<list<int>>>"``, ``"frozen<tuple<int, text>>"``,
        ``"vector<float, 3>"``. Collections nested in collections are frozen; struct → frozen tuple.
        Unsigned integers widen losslessly (uint8 → smallint, uint16 → int, uint32 → bigint,
        uint64 → varint); any timestamp unit → timestamp (milliseconds); date64 → date; time32 → time;
        duration → duration; dictionary → the CQL type of its values.

    Raises
    ------
    SchemaError
        The Arrow type has no CQL counterpart; the message names it.
    """
    t = pa.types
    simple: list[tuple[Callable[[pa.DataType], bool], str]] = [
        (t.is_int8, "tinyint"),
        (t.is_int16, "smallint"),
        (t.is_int32, "int"),
        (t.is_int64, "bigint"),
        (t.is_uint8, "smallint"),
        (t.is_uint16, "int"),
        (t.is_uint32, "bigint"),
        (t.is_uint64, "varint"),
        (t.is_float16, "float"),
        (t.is_float32, "float"),
        (t.is_float64, "double"),
        (t.is_boolean, "boolean"),
        (t.is_string, "text"),
        (t.is_large_string, "text"),
        (t.is_binary, "blob"),
        (t.is_large_binary, "blob"),
        (t.is_fixed_size_binary, "blob"),
        (t.is_date32, "date"),
        (t.is_date64, "date"),
        (t.is_time32, "time"),
        (t.is_time64, "time"),
        (t.is_timestamp, "timestamp"),
        (t.is_interval, "duration"),
        (t.is_duration, "duration"),
        (t.is_decimal, "decimal"),
    ]
    for extra, cql in (("is_string_view", "text"), ("is_binary_view", "blob")):
        if hasattr(t, extra):
            simple.append((getattr(t, extra), cql))
    for test, cql in simple:
        if test(dt):
            return cql
    if isinstance(dt, pa.ExtensionType) and str(getattr(dt, "extension_name", "")) == "arrow.uuid":
        return "uuid"
    if t.is_dictionary(dt):
        return cql_type_for_arrow(dt.value_type)
    if t.is_fixed_size_list(dt):
        return f"vector<{cql_type_for_arrow(dt.value_type)}, {dt.list_size}>"
    if t.is_list(dt) or t.is_large_list(dt) or (hasattr(t, "is_list_view") and t.is_list_view(dt)):
        return f"list<{_frozen_if_collection(cql_type_for_arrow(dt.value_type))}>"
    if t.is_map(dt):
        key = _frozen_if_collection(cql_type_for_arrow(dt.key_type))
        value = _frozen_if_collection(cql_type_for_arrow(dt.item_type))
        return f"map<{key}, {value}>"
    if t.is_struct(dt):
        if dt.num_fields == 0:
            raise SchemaError("an Arrow struct with no fields has no CQL counterpart")
        parts = [_frozen_if_collection(cql_type_for_arrow(dt.field(i).type)) for i in range(dt.num_fields)]
        return f"frozen<tuple<{', '.join(parts)}>>"
    raise SchemaError(f"Arrow type {dt} has no CQL counterpart; cast the column to a supported type first")
