"""Iceberg target of ``export``: schema mapping, data files and one atomic commit.

The export writes each unit as one Parquet file under the table's data location (on any Dask worker:
nothing here holds a connection), then makes them all visible with one ``Table.add_files`` call: exactly
one snapshot, whose summary records the operation id, so a rerun of the commit commits nothing twice.

pyiceberg is imported inside the functions that need it; a missing one raises NotInstalledError naming
the ``iceberg`` extra. docs/types.md ("In Iceberg tables") explains each type choice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa

from cassandra_frames.errors import CassandraFramesError, NotInstalledError, SchemaError, WriteError
from cassandra_frames.formats.parquet import readable_statistics
from cassandra_frames.storage import fs_for, is_local

if TYPE_CHECKING:  # pyiceberg is imported only where it is used
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

__all__ = ["DURATION_TYPE", "OPERATION_PROPERTY", "TIME_DOC", "IcebergTarget", "commit", "committed_snapshot"]
__all__ += ["data_file_path", "iceberg_arrow_schema", "open_catalog", "prepare_table", "to_iceberg_arrow"]
__all__ += ["write_data_file"]

OPERATION_PROPERTY = "cassandra-frames.operation-id"
"""Table property (set at creation) and snapshot-summary key holding the export's operation id."""

DURATION_TYPE = pa.struct(
    [pa.field("months", pa.int32()), pa.field("days", pa.int32()), pa.field("nanoseconds", pa.int64())]
)
TIME_DOC = "nanoseconds since midnight (CQL time)"
_MAX_MS = (2**63 - 1) // 1000  # the largest millisecond count whose microseconds fit int64
_DEFAULT_WAREHOUSE = "warehouse"
_KEPT: tuple[Any, ...] = (pa.types.is_boolean, pa.types.is_int32, pa.types.is_int64, pa.types.is_floating)
_KEPT += (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary, pa.types.is_large_binary)
_KEPT += (pa.types.is_date32, pa.types.is_fixed_size_binary, pa.types.is_decimal128)
_NOTES = {"time": "nanoseconds since midnight", "duration": "CQL duration as (months, days, nanoseconds)"}
_NOTES |= {"uuid": "canonical lowercase text", "timeuuid": "canonical lowercase text"}
_NOTES |= {"inet": "IP address text", "tinyint": "widened to int", "smallint": "widened to int"}
_S3_OPTIONS = {"endpoint_url": "s3.endpoint", "key": "s3.access-key-id", "secret": "s3.secret-access-key"}
_S3_OPTIONS |= {"token": "s3.session-token", "region_name": "s3.region", "profile": "s3.profile-name"}


@dataclasses.dataclass(frozen=True)
class IcebergTarget:
    """Where an export writes: one Iceberg table in one catalog (picklable; it travels to workers).

    Parameters
    ----------
    identifier : str
        ``"namespace.table"``; the namespace may be dotted (``"a.b.t"`` is table ``t`` in ``a.b``).
    catalog : Mapping[str, str], optional
        pyiceberg catalog properties (``type`` = rest / glue / hive / sql, ``uri``, ``warehouse``,
        ``s3.endpoint`` …). ``None`` uses the embedded default, a SQLite :class:`SqlCatalog`.
    warehouse : str, optional
        For the embedded default: a local path or an ``s3://`` URL (default ``./warehouse``).
    storage_options : Mapping[str, Any], optional
        fsspec options for writing the data files (``endpoint_url``, ``key``, ``secret`` for S3); they are
        also passed to pyiceberg as its ``s3.*`` properties.
    catalog_db : str, optional
        For the embedded default: the SQLite file of the catalog. Default ``<warehouse>/catalog.db`` for a
        local warehouse; for a remote warehouse the file stays on this machine, in
        ``~/.cache/cassandra-frames/iceberg-catalogs/`` (``$CASSANDRA_FRAMES_CACHE`` / ``$XDG_CACHE_HOME``
        move it), one file per warehouse URL.
    """

    identifier: str
    catalog: Mapping[str, str] | None
    warehouse: str | None = None
    storage_options: Mapping[str, Any] | None = None
    catalog_db: str | None = None

    def catalog_properties(self) -> dict[str, str]:
        """The pyiceberg properties of the catalog, storage options translated to ``s3.*``.

        Returns
        -------
        dict[str, str]
            The given catalog properties (they win over translated storage options), or for the embedded
            default ``{"type": "sql", "uri": "sqlite:///…", "warehouse": …}``.
        """
        props = _s3_properties(self.storage_options or {})
        if self.catalog is not None:
            props.update(self.catalog)
            return props
        warehouse = self.warehouse or _DEFAULT_WAREHOUSE
        if warehouse.startswith("file://") or "://" not in warehouse:
            root = Path(warehouse.removeprefix("file://")).expanduser().resolve()
            db = root / "catalog.db"
            warehouse = root.as_uri()
        else:
            db = _remote_catalog_db(warehouse)
        if self.catalog_db:
            db = Path(self.catalog_db).expanduser().resolve()
        props.update({"type": "sql", "uri": f"sqlite:///{db}", "warehouse": warehouse})
        return props


def _remote_catalog_db(warehouse: str) -> Path:
    env = os.environ.get("CASSANDRA_FRAMES_CACHE")
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(env) if env else (Path(xdg) if xdg else Path.home() / ".cache") / "cassandra-frames"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", warehouse).strip("-")[:60]
    digest = hashlib.sha256(warehouse.encode()).hexdigest()[:8]
    return root.expanduser() / "iceberg-catalogs" / f"{slug}-{digest}.db"


def _s3_properties(options: Mapping[str, Any]) -> dict[str, str]:
    props: dict[str, str] = {}
    flat = {**dict(options.get("client_kwargs") or {}), **options}
    for option, prop in _S3_OPTIONS.items():
        if flat.get(option) is not None:
            props[prop] = str(flat[option])
    if flat.get("anon"):
        props["s3.anonymous"] = "true"
    return props


def _iceberg_type(typ: pa.DataType, where: str) -> pa.DataType:
    """The Arrow type Iceberg stores for a read-core Arrow type (recursively)."""
    if pa.types.is_int8(typ) or pa.types.is_int16(typ) or pa.types.is_uint8(typ) or pa.types.is_uint16(typ):
        return pa.int32()
    if pa.types.is_uint32(typ) or pa.types.is_time(typ):
        return pa.int64()
    if pa.types.is_timestamp(typ):
        return pa.timestamp("us", tz="UTC" if typ.tz else None)
    if pa.types.is_interval(typ):
        return DURATION_TYPE
    if pa.types.is_struct(typ):
        return pa.struct([_iceberg_field(f, f"{where}.{f.name}") for f in typ])
    if pa.types.is_map(typ):
        key = pa.field("key", _iceberg_type(typ.key_type, f"{where}.key"), nullable=False)
        item = typ.item_field
        return pa.map_(key, pa.field("value", _iceberg_type(item.type, f"{where}.value"), item.nullable))
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        element = typ.value_field
        return pa.list_(pa.field("element", _iceberg_type(element.type, f"{where}[]"), element.nullable))
    if pa.types.is_dictionary(typ):
        return _iceberg_type(typ.value_type, where)
    if any(kept(typ) for kept in _KEPT) or isinstance(typ, pa.UuidType):
        return typ
    raise SchemaError(f"column {where!r} has Arrow type {typ}, which has no lossless Iceberg type")


def _iceberg_field(field: pa.Field, where: str) -> pa.Field:
    typ = _iceberg_type(field.type, where)
    meta = {b"doc": TIME_DOC.encode()} if pa.types.is_time(field.type) else None
    return pa.field(field.name, typ, nullable=field.nullable, metadata=meta)


def _column_doc(field: pa.Field) -> str | None:
    meta = field.metadata or {}
    cql = meta.get(b"cql_type", b"").decode()
    base = cql.split("<")[0].strip().lower()
    note = _NOTES.get(base)
    if base in ("decimal", "varint") and pa.types.is_string(field.type):
        note = "exact decimal text"
    if not cql:
        return TIME_DOC if pa.types.is_time(field.type) else None
    return f"CQL {cql}" + (f"; {note}" if note else "")


def iceberg_arrow_schema(schema: pa.Schema) -> pa.Schema:
    """The Arrow schema of the data files (and of the table) for a read-core Arrow schema.

    Parameters
    ----------
    schema : pa.Schema
        The read core's schema: fields with ``b"cql_type"`` metadata (extras with ``b"role"=b"extra"``).

    Returns
    -------
    pa.Schema
        Same names and order; types Iceberg can hold without loss (see docs/types.md). Each field keeps its
        metadata and gets ``b"doc"`` (pyiceberg turns it into the Iceberg column doc).

    Raises
    ------
    SchemaError
        A type with no lossless Iceberg counterpart (the message names the column).
    """
    fields = []
    for field in schema:
        out = _iceberg_field(field, field.name)
        meta = dict(field.metadata or {})
        doc = _column_doc(field)
        if doc:
            meta[b"doc"] = doc.encode()
        fields.append(out.with_metadata(meta))
    return pa.schema(fields)


def _interval_struct(arr: pa.Array) -> pa.Array:
    """month_day_nano_interval → struct<months, days, nanoseconds>, from the buffer (no Python loop)."""
    parts = np.dtype([("months", "<i4"), ("days", "<i4"), ("nanoseconds", "<i8")])
    data = np.frombuffer(arr.buffers()[1], dtype=parts)[arr.offset : arr.offset + len(arr)]
    mask = np.asarray(arr.is_null()) if arr.null_count else None
    children = [pa.array(data[name], mask=mask) for name in ("months", "days", "nanoseconds")]
    return pa.StructArray.from_arrays(children, fields=list(DURATION_TYPE), mask=arr.is_null())


def _holds_interval(typ: pa.DataType) -> bool:
    if pa.types.is_interval(typ):
        return True
    return pa.types.is_nested(typ) and any(_holds_interval(typ.field(i).type) for i in range(typ.num_fields))


def _convert(arr: pa.Array, target: pa.DataType) -> pa.Array:
    """Convert one array to ``target``: a cast, except where a duration must become a struct."""
    typ = arr.type
    if typ == target:
        return arr
    if pa.types.is_interval(typ):
        return _interval_struct(arr)
    if not _holds_interval(typ):  # Arrow casts everything else; a duration inside needs its children
        return arr.cast(target, safe=True)
    mask = arr.is_null()
    if pa.types.is_struct(typ):
        children = [_convert(child, target.field(i).type) for i, child in enumerate(arr.flatten())]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    if pa.types.is_fixed_size_list(typ):
        size = typ.list_size
        values = arr.values.slice(arr.offset * size, len(arr) * size)
        offsets = pa.array(np.arange(len(arr) + 1, dtype=np.int32) * size)
        return pa.ListArray.from_arrays(offsets, _convert(values, target.value_type), type=target, mask=mask)
    # offsets rebased to 0 and the children sliced to match: pyarrow refuses a mask with sliced offsets
    raw = arr.offsets.to_numpy()
    offsets = pa.array((raw - raw[0]).astype(np.int32))
    start, length = int(raw[0]), int(raw[-1] - raw[0])
    if pa.types.is_map(typ):
        keys = _convert(arr.keys.slice(start, length), target.key_type)
        items = _convert(arr.items.slice(start, length), target.item_type)
        return pa.MapArray.from_arrays(offsets, keys, items, type=target, mask=mask)
    values = _convert(arr.values.slice(start, length), target.value_type)
    return pa.ListArray.from_arrays(offsets, values, type=target, mask=mask)


def _timestamp_error(name: str, column: pa.ChunkedArray, exc: Exception) -> WriteError:
    detail = str(exc)
    if pa.types.is_timestamp(column.type):
        import pyarrow.compute as pc

        ms = column.cast(pa.int64())
        bad = ms.filter(pc.or_(pc.greater(ms, _MAX_MS), pc.less(ms, -_MAX_MS)))
        if len(bad):
            first = bad[0].as_py()
            detail = f"{first} ms since the epoch (about year {1970 + first / (365.2425 * 86_400_000):.0f})"
    return WriteError(
        f"column {name!r} holds a timestamp that an Iceberg timestamp (microseconds, years about -290308 to "
        f"294247) cannot represent: {detail}. Filter those rows out or export to Parquet, which keeps "
        "milliseconds"
    )


def to_iceberg_arrow(table: pa.Table | pa.RecordBatch, schema: pa.Schema) -> pa.Table:
    """Convert a read batch to :func:`iceberg_arrow_schema` of ``schema``.

    Parameters
    ----------
    table : pa.Table or pa.RecordBatch
        Data in the read core's schema (``schema``'s columns; extra columns are dropped).
    schema : pa.Schema
        The read core's schema of the export.

    Returns
    -------
    pa.Table
        The same rows in the Iceberg Arrow schema.

    Raises
    ------
    WriteError
        A timestamp outside Iceberg's microsecond range (the message names the column and the value).
    """
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    target = iceberg_arrow_schema(schema)
    columns = []
    for field in target:
        column = table.column(field.name)
        try:
            chunks = [_convert(chunk, field.type) for chunk in column.chunks]
        except pa.ArrowInvalid as exc:
            if "out of bounds timestamp" in str(exc):
                raise _timestamp_error(field.name, column, exc) from exc
            raise WriteError(f"column {field.name!r} cannot be converted to {field.type}: {exc}") from exc
        columns.append(pa.chunked_array(chunks, type=field.type))
    return pa.Table.from_arrays(columns, schema=target)


def _shape(typ: pa.DataType) -> str:
    """A type's text with the differences Iceberg does not see (large types, list names) removed."""
    if pa.types.is_struct(typ):
        return "struct<" + ", ".join(f"{f.name}: {_shape(f.type)}" for f in typ) + ">"
    if pa.types.is_map(typ):
        return f"map<{_shape(typ.key_type)}, {_shape(typ.item_type)}>"
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return f"list<{_shape(typ.value_type)}>"
    if pa.types.is_timestamp(typ):
        return f"timestamp[{typ.unit}{', UTC' if typ.tz else ''}]"
    return str(typ).removeprefix("large_")


def _pyiceberg() -> None:
    try:
        import pyiceberg.catalog  # noqa: F401
    except ImportError as exc:
        raise NotInstalledError("pyiceberg", "iceberg") from exc


def open_catalog(target: IcebergTarget) -> Catalog:
    """The pyiceberg catalog of ``target`` (the embedded one is named ``cassandra_frames``)."""
    _pyiceberg()
    from pyiceberg.catalog import load_catalog

    props = target.catalog_properties()
    if target.catalog is None and props["uri"].startswith("sqlite:///"):
        Path(props["uri"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    name = props.pop("name", "cassandra_frames")
    return load_catalog(name, **props)


def _namespace(identifier: str) -> tuple[str, ...]:
    parts = tuple(identifier.split("."))
    if len(parts) < 2 or not all(parts):
        raise CassandraFramesError(f"Iceberg table {identifier!r} must be named 'namespace.table'")
    return parts[:-1]


def _data_location(table: Table) -> str:
    return (table.properties.get("write.data.path") or f"{table.location().rstrip('/')}/data").rstrip("/")


def _check_schema(table: Table, wanted: pa.Schema, identifier: str) -> None:
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    have = schema_to_pyarrow(table.schema(), include_field_ids=False)
    for field in wanted:
        index = have.get_field_index(field.name)
        if index < 0:
            raise SchemaError(
                f"Iceberg table {identifier!r} has no column {field.name!r} (it has "
                f"{', '.join(have.names)}); export to a new table or select matching columns"
            )
        if _shape(have.field(index).type) != _shape(field.type):
            raise SchemaError(
                f"column {field.name!r} of Iceberg table {identifier!r} is {_shape(have.field(index).type)}, "
                f"but the export writes {_shape(field.type)}; export to a new table instead"
            )


def prepare_table(
    target: IcebergTarget,
    schema: pa.Schema,
    *,
    mode: Literal["error", "append"] = "error",
    operation_id: str,
) -> str:
    """Create the namespace and the table if missing; return the prefix for data files.

    Parameters
    ----------
    target : IcebergTarget
        The table and its catalog.
    schema : pa.Schema
        The read core's schema of the export.
    mode : {"error", "append"}
        ``"error"``: an existing table is refused unless this same operation created it (a resume).
        ``"append"``: an existing table is used when its columns have the export's types.
    operation_id : str
        The export's id; stored as table property ``cassandra-frames.operation-id`` of a new table.

    Returns
    -------
    str
        The table's data location, e.g. ``"<table location>/data"``.

    Raises
    ------
    CassandraFramesError
        The table exists and ``mode="error"``; :class:`SchemaError` when an appended table does not fit.
    """
    _pyiceberg()
    from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError, TableAlreadyExistsError

    namespace = _namespace(target.identifier)
    wanted = iceberg_arrow_schema(schema)
    catalog = open_catalog(target)
    try:
        table = catalog.load_table(target.identifier)
    except NoSuchTableError:
        for depth in range(1, len(namespace) + 1):
            if not catalog.namespace_exists(namespace[:depth]):
                with contextlib.suppress(NamespaceAlreadyExistsError):
                    catalog.create_namespace(namespace[:depth])
        try:
            table = catalog.create_table(
                target.identifier, schema=wanted, properties={OPERATION_PROPERTY: operation_id}
            )
            return _data_location(table)
        except TableAlreadyExistsError:
            table = catalog.load_table(target.identifier)
    if table.properties.get(OPERATION_PROPERTY) == operation_id:
        return _data_location(table)
    if mode == "error":
        raise CassandraFramesError(
            f"Iceberg table {target.identifier!r} already exists; pass mode='append' to add the rows to it, "
            "or export to another table name"
        )
    _check_schema(table, wanted, target.identifier)
    return _data_location(table)


def data_file_path(location: str, operation_id: str, unit: int) -> str:
    """The data file of one unit: ``<location>/cf-<operation_id>-part-<unit:05d>.parquet`` (deterministic)."""
    return f"{location.rstrip('/')}/cf-{operation_id}-part-{unit:05d}.parquet"


def write_data_file(table: pa.Table, path: str, target: IcebergTarget) -> int:
    """Write ``table`` as a Parquet data file at ``path``, replacing a file left by an earlier try.

    Parameters
    ----------
    table : pa.Table
        Rows in :func:`iceberg_arrow_schema` (from :func:`to_iceberg_arrow`).
    path : str
        Usually :func:`data_file_path`; any fsspec URL or local path.
    target : IcebergTarget
        Its ``storage_options`` are passed to fsspec.

    Returns
    -------
    int
        The file's size in bytes.
    """
    import pyarrow.parquet as pq

    fs, stripped = fs_for(path, target.storage_options)
    if is_local(fs):
        fs.makedirs(posixpath.dirname(stripped), exist_ok=True)
    with fs.open(stripped, "wb") as fh:
        pq.write_table(table, fh, compression="zstd", write_statistics=readable_statistics(table))
        size: int = fh.tell()
    return size


def committed_snapshot(target: IcebergTarget, operation_id: str) -> int | None:
    """The id of the snapshot that committed ``operation_id``, or ``None`` when there is none yet."""
    catalog = open_catalog(target)
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = catalog.load_table(target.identifier)
    except NoSuchTableError:
        return None
    return _find_snapshot(table, operation_id)


def _find_snapshot(table: Table, operation_id: str) -> int | None:
    for snapshot in table.snapshots():
        if snapshot.summary is not None and snapshot.summary[OPERATION_PROPERTY] == operation_id:
            return snapshot.snapshot_id
    return None


def commit(
    target: IcebergTarget,
    paths: Sequence[str],
    operation_id: str,
    summary: Mapping[str, str] | None = None,
) -> int:
    """Add all data files in ONE snapshot; a second call with the same operation id commits nothing.

    Parameters
    ----------
    target : IcebergTarget
        The table (made by :func:`prepare_table`).
    paths : Sequence[str]
        The data files written by :func:`write_data_file`.
    operation_id : str
        Recorded in the snapshot summary as ``cassandra-frames.operation-id``.
    summary : Mapping[str, str], optional
        More snapshot-summary properties (e.g. the source table, row counts).

    Returns
    -------
    int
        The id of the snapshot holding the files (the earlier one on a repeated call).
    """
    _pyiceberg()
    from pyiceberg.exceptions import CommitFailedException

    props = {**dict(summary or {}), OPERATION_PROPERTY: operation_id}
    catalog = open_catalog(target)
    for attempt in range(4):
        table = catalog.load_table(target.identifier)
        found = _find_snapshot(table, operation_id)
        if found is not None or attempt == 3:
            break
        try:
            table.add_files(list(paths), snapshot_properties=props)
        except CommitFailedException:  # a concurrent commit won: reload, look again, retry
            continue
    if found is None:
        raise CassandraFramesError(f"could not commit to Iceberg table {target.identifier!r} after 3 tries")
    return found
