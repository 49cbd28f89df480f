"""A table's schema: :class:`TableInfo` (what Cassandra says about a table) → Arrow schema → pandas meta.

No I/O and no driver objects: the engine reads the driver's metadata into a :class:`TableInfo` (a plain
frozen dataclass), and everything above the engine — planning, filters, the converters, the statement
builders — works on that. This is the single place that decides how a CQL type looks in Arrow and in
pandas, and which CQL type an Arrow type is written as. The mapping is lossless by default:

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

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from cassandra_frames.cqltypes import CqlType, UdtMap, as_type, parse_cql_type, udt_fields
from cassandra_frames.errors import CassandraFramesError, SchemaError, close_matches

__all__ = [
    "TIMESTAMP_TYPE",
    "ColumnInfo",
    "ColumnKind",
    "DtypeBackend",
    "TableInfo",
    "arrow_type",
    "check_dtype_backend",
    "cql_type_for_arrow",
    "empty_frame",
    "select_fields",
    "split_table_name",
    "table_schema",
    "to_pandas",
    "unknown_column",
]

DtypeBackend = Literal["pyarrow", "numpy_nullable"]
"""How Arrow columns become pandas columns (see :func:`to_pandas`)."""

ColumnKind = Literal["partition_key", "clustering", "static", "regular"]
"""The role of a column in its table."""


# ---------------------------------------------------------------------------------------------------------
# TableInfo
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ColumnInfo:
    """One column of a table.

    Attributes
    ----------
    name : str
        As Cassandra stores it (case-sensitive, unquoted).
    cql_type : str
        Its CQL type as text (``"frozen<list<int>>"``, ``'"MyType"'``).
    kind : {"partition_key", "clustering", "static", "regular"}
        Its role.
    descending : bool
        A clustering column in ``DESC`` order.
    """

    name: str
    cql_type: str
    kind: ColumnKind = "regular"
    descending: bool = False

    @property
    def type(self) -> CqlType:
        """The parsed CQL type."""
        return parse_cql_type(self.cql_type)


@dataclasses.dataclass(frozen=True)
class TableInfo:
    """What the library needs to know about a table: a plain value, built by the engine from the driver's
    metadata (or written by hand in a test).

    Attributes
    ----------
    keyspace, name : str
        As Cassandra stores them.
    columns : tuple of ColumnInfo
        In table order: the partition key columns in key order, the clustering columns in key order, then
        the other columns.
    udts : mapping
        The keyspace's user-defined types: name → ``((field, CQL type text), …)``.
    sai_columns : frozenset of str
        Columns with a storage-attached index (filters on them can go to CQL).
    """

    keyspace: str
    name: str
    columns: tuple[ColumnInfo, ...]
    udts: Mapping[str, Sequence[tuple[str, str]]] = dataclasses.field(default_factory=dict)
    sai_columns: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise SchemaError(f"table {self.qualified_name} lists a column twice: {names}")
        if not self.partition_key:
            raise SchemaError(f"table {self.qualified_name} has no partition key column")

    @property
    def qualified_name(self) -> str:
        """``keyspace.table``."""
        return f"{self.keyspace}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        """Every column name, in table order."""
        return [c.name for c in self.columns]

    def _names(self, kind: ColumnKind) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == kind)

    @property
    def partition_key(self) -> tuple[str, ...]:
        """Partition key columns, in key order."""
        return self._names("partition_key")

    @property
    def clustering_key(self) -> tuple[str, ...]:
        """Clustering columns, in key order."""
        return self._names("clustering")

    @property
    def primary_key(self) -> tuple[str, ...]:
        """Partition key then clustering columns."""
        return self.partition_key + self.clustering_key

    def has_column(self, name: str) -> bool:
        """Whether ``name`` is a column of the table."""
        return any(c.name == name for c in self.columns)

    def column(self, name: str) -> ColumnInfo:
        """The column called ``name``.

        Raises
        ------
        SchemaError
            No such column; the message names the table and close matches.
        """
        for c in self.columns:
            if c.name == name:
                return c
        raise unknown_column(name, self.qualified_name, self.column_names)


def split_table_name(table: str, keyspace: str | None = None) -> tuple[str, str]:
    """``("ks", "table")`` from ``"ks.table"`` (or ``table`` with ``keyspace``); surrounding quotes stripped.

    Raises
    ------
    SchemaError
        No keyspace is named.
    """
    if keyspace is None:
        if "." not in table:
            raise SchemaError(f"table {table!r} names no keyspace: use 'keyspace.table' or keyspace=...")
        keyspace, table = table.split(".", 1)
    return keyspace.strip('"'), table.strip('"')


def unknown_column(name: str, table: str, known: Sequence[str]) -> SchemaError:
    """The error for a column ``name`` that ``table`` does not have (close matches, then every column)."""
    return SchemaError(
        f"column {name!r} does not exist in table {table}{close_matches(name, known)}"
        f" (columns: {', '.join(known)})"
    )


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
    fields = udt_fields(t, udts)
    return pa.struct([(fname, _arrow(ft, udts, exact, (*seen, name))) for fname, ft in fields])


def arrow_type(t: CqlType | str, udts: UdtMap | None = None, *, exact_numbers: bool = True) -> pa.DataType:
    """The Arrow type that holds values of a CQL type.

    Parameters
    ----------
    t : CqlType or str
        The CQL type (text is parsed with :func:`parse_cql_type`).
    udts : mapping, optional
        User-defined types reachable from ``t``: UDT name → ``[(field name, field type), …]``
        (:attr:`TableInfo.udts`).
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
    return _arrow(as_type(t), udts, exact_numbers, ())


def table_schema(
    table: TableInfo, columns: Sequence[str] | None = None, *, exact_numbers: bool = True
) -> pa.Schema:
    """The Arrow schema of a Cassandra table (or of some of its columns).

    Parameters
    ----------
    table : TableInfo
        The table.
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
    fields = []
    for col in table.columns:
        try:
            typ = arrow_type(col.cql_type, table.udts, exact_numbers=exact_numbers)
        except SchemaError as exc:
            if columns is not None and col.name not in columns:
                continue  # a column nobody asked for may have a type we cannot read
            raise SchemaError(f"column {col.name!r} of table {table.qualified_name}: {exc}") from exc
        meta = {b"cql_type": col.cql_type.encode(), b"role": col.kind.encode()}
        if col.kind == "clustering":
            meta[b"clustering_order"] = b"DESC" if col.descending else b"ASC"
        fields.append(pa.field(col.name, typ, nullable=True, metadata=meta))
    schema = pa.schema(fields, metadata={b"keyspace": table.keyspace.encode(), b"table": table.name.encode()})
    if columns is None:
        return schema
    return select_fields(schema, [columns] if isinstance(columns, str) else columns, table.qualified_name)


def select_fields(schema: pa.Schema, columns: Sequence[str], table: str) -> pa.Schema:
    """The fields of ``schema`` named by ``columns``, in that order (the one unknown-column check).

    Raises
    ------
    SchemaError
        A name is not in ``schema`` (close matches) or is listed twice.
    """
    seen: set[str] = set()
    for name in columns:
        if name not in schema.names:
            raise unknown_column(name, table, schema.names)
        if name in seen:
            raise SchemaError(f"column {name!r} of table {table} is listed more than once")
        seen.add(name)
    return pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)


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


def check_dtype_backend(dtype_backend: str) -> None:
    """Raise :class:`CassandraFramesError` unless ``dtype_backend`` is "pyarrow" or "numpy_nullable"."""
    if dtype_backend not in ("pyarrow", "numpy_nullable"):
        raise CassandraFramesError(
            f"dtype_backend must be 'pyarrow' or 'numpy_nullable', not {dtype_backend!r}"
        )


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
    CassandraFramesError
        ``dtype_backend`` is not one of the two names.
    """
    check_dtype_backend(dtype_backend)
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
# Arrow → CQL (CREATE TABLE from a frame)
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
