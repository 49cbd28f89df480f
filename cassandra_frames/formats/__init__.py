"""File formats of ``export``: CSV, JSON (Lines or one array) and Parquet writers of Arrow batches.

:class:`FormatOptions` says how a file is spelled, :func:`open_output` opens the file (compressed through
fsspec for the text formats) and :func:`open_writer` returns a :class:`FormatWriter` that takes Arrow record
batches or tables with the schema of :func:`cassandra_frames.schema.table_schema` (field metadata
``b"cql_type"``; extra writetime/TTL columns have ``b"role": b"extra"``). The text forms of every CQL type
are listed in docs/types.md ("In exported files"). No Cassandra, no Dask here.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Protocol, cast

import pyarrow as pa

from cassandra_frames.errors import CassandraFramesError, NotInstalledError

if TYPE_CHECKING:
    import fsspec

__all__ = [
    "FILE_FORMATS",
    "PARQUET_COMPRESSIONS",
    "TEXT_COMPRESSIONS",
    "CompressionNotInstalledError",
    "FormatOptions",
    "FormatWriter",
    "compression_from_path",
    "format_from_path",
    "open_output",
    "open_writer",
]

FILE_FORMATS: tuple[str, ...] = ("csv", "json", "parquet")
TEXT_COMPRESSIONS: tuple[str, ...] = ("gzip", "bz2", "xz", "zstd")
PARQUET_COMPRESSIONS: tuple[str, ...] = ("snappy", "zstd", "gzip", "brotli", "lz4", "none")
_SUFFIX = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}
_FROM_SUFFIX = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd", ".zstd": "zstd"}
_FORMAT_SUFFIX = {".csv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json"}
_FORMAT_SUFFIX |= {".parquet": "parquet", ".pq": "parquet"}
_PYTHON_MODULE = {"gzip": "gzip", "bz2": "bz2", "xz": "lzma", "zstd": "zstandard"}


class CompressionNotInstalledError(NotInstalledError):
    """The library for a compression codec is missing; the message names the package to install."""

    def __init__(self, compression: str, module: str) -> None:
        CassandraFramesError.__init__(
            self,
            f"compression {compression!r} needs the Python package {module!r}, which is not installed; "
            f"install it with: pip install {module}",
        )
        self.module = module
        self.extra = ""


def _bad(option: str, value: object, valid: str) -> CassandraFramesError:
    return CassandraFramesError(f"invalid {option}={value!r}: {valid}")


def _one_char(option: str, value: object) -> None:
    if not isinstance(value, str) or len(value) != 1 or value in "\r\n":
        raise _bad(option, value, "must be exactly one character, not a line break")


@dataclasses.dataclass(frozen=True)
class FormatOptions:
    """How an exported file is spelled. Options that do not apply to ``format`` are ignored.

    Attributes
    ----------
    format : {"csv", "json", "parquet"}
    compression : str or None
        csv/json: ``"gzip"``, ``"bz2"``, ``"xz"``, ``"zstd"`` or None (plain). parquet: ``"snappy"``
        (default; None means it), ``"zstd"``, ``"gzip"``, ``"brotli"``, ``"lz4"`` or ``"none"``.
    header : bool, default True
        csv: a first line with the column names.
    delimiter : str, default ","
        csv: one character.
    quote, escape : str, default '"'
        csv: pyarrow's writer quotes with ``"`` and escapes a quote by doubling it (RFC 4180), so both
        must be ``'"'`` (cqlsh reads such files with ``WITH ESCAPE='"'``).
    null_value : str, default ""
        csv: the text of a null (written unquoted; an empty string is written ``""``, so the two differ).
        Also the text of a null field inside a UDT or tuple in ``nested="cql"`` form, as cqlsh writes it.
        For cqlsh ``COPY FROM`` write ``"NULL"`` and load ``WITH NULL='NULL'``: its csv reader cannot tell
        ``""`` from an empty field, so with ``""`` empty strings load as null.
    nested : {"cql", "json"}, default "cql"
        csv: collections, UDTs, tuples and vectors as CQL literals (``[1, 2]``, ``{'a': 1}``,
        ``{f: 'x'}``, ``(1, 'a')``; what cqlsh COPY reads) or as JSON text (what DSBulk reads).
    json_array : bool, default False
        json: one JSON array of objects instead of JSON Lines (one object per line).
    row_group_size : int or None
        parquet: rows per row group (pyarrow's default when None).
    timestamps : {"iso", "epoch_ms"}, default "iso"
        csv/json: timestamps as ISO 8601 text or as integer milliseconds since the epoch (exact through
        cqlsh COPY FROM, whose text parsing can lose a millisecond; see docs/types.md).
    """

    format: str
    compression: str | None = None
    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    null_value: str = ""
    nested: Literal["cql", "json"] = "cql"
    json_array: bool = False
    row_group_size: int | None = None
    timestamps: Literal["iso", "epoch_ms"] = "iso"

    def __post_init__(self) -> None:
        if self.format not in FILE_FORMATS:
            raise _bad("format", self.format, f"choose one of {', '.join(FILE_FORMATS)}")
        comp = self.compression
        if self.format == "parquet":
            comp = "snappy" if comp is None else comp
            if not isinstance(comp, str) or comp.lower() not in PARQUET_COMPRESSIONS:
                raise _bad("compression", comp, f"parquet takes one of {', '.join(PARQUET_COMPRESSIONS)}")
            object.__setattr__(self, "compression", comp.lower())
        elif comp is not None:
            if not isinstance(comp, str) or comp.lower() not in TEXT_COMPRESSIONS:
                raise _bad(
                    "compression", comp, f"{self.format} takes None or one of {', '.join(TEXT_COMPRESSIONS)}"
                )
            object.__setattr__(self, "compression", comp.lower())
        for flag in ("header", "json_array"):
            if not isinstance(getattr(self, flag), bool):
                raise _bad(flag, getattr(self, flag), "must be True or False")
        _one_char("delimiter", self.delimiter)
        if self.quote != '"':
            raise _bad("quote", self.quote, "only '\"' is supported (pyarrow's CSV writer quotes with it)")
        if self.escape != '"':
            raise _bad(
                "escape",
                self.escape,
                "only '\"' is supported: pyarrow's CSV writer escapes a quote by doubling it (RFC 4180); "
                "read such files with cqlsh COPY FROM ... WITH ESCAPE='\"'",
            )
        if self.delimiter == '"':
            raise _bad("delimiter", self.delimiter, "must differ from the quote character")
        if not isinstance(self.null_value, str) or any(
            c in self.null_value for c in f'"\r\n{self.delimiter}'
        ):
            raise _bad("null_value", self.null_value, "text without quotes, line breaks or the delimiter")
        if self.nested not in ("cql", "json"):
            raise _bad("nested", self.nested, "choose 'cql' or 'json'")
        if self.timestamps not in ("iso", "epoch_ms"):
            raise _bad("timestamps", self.timestamps, "choose 'iso' or 'epoch_ms'")
        rgs = self.row_group_size
        if rgs is not None and (isinstance(rgs, bool) or not isinstance(rgs, int) or rgs <= 0):
            raise _bad("row_group_size", rgs, "a positive integer or None")

    def suffix(self) -> str:
        """File name suffix: ``".csv"``, ``".csv.zst"``, ``".jsonl"``, ``".json"`` (json_array),
        ``".jsonl.bz2"``, ``".parquet"``."""
        if self.format == "parquet":
            return ".parquet"
        base = ".csv" if self.format == "csv" else ".json" if self.json_array else ".jsonl"
        return base + (_SUFFIX[self.compression] if self.compression else "")

    def output_schema(self, schema: pa.Schema) -> pa.Schema:
        """The Arrow schema of the file's columns.

        Parameters
        ----------
        schema : pyarrow.Schema
            The schema of the batches given to the writer.

        Returns
        -------
        pyarrow.Schema
            csv/json: every column as ``string`` except integer and text columns, which keep their type.
            parquet: ``schema`` with every ``month_day_nano_interval`` (also nested) replaced by
            ``struct<months: int32, days: int32, nanoseconds: int64>``; metadata kept.
        """
        if self.format == "parquet":
            from cassandra_frames.formats.parquet import parquet_schema

            return parquet_schema(schema)
        from cassandra_frames.formats.csv import csv_schema

        if self.format == "csv":
            return csv_schema(schema)
        return pa.schema([f.with_type(pa.string()) for f in schema], metadata=schema.metadata)


def compression_from_path(path: str) -> str | None:
    """The text compression a file name implies: ``.gz`` → gzip, ``.bz2`` → bz2, ``.xz`` → xz,
    ``.zst``/``.zstd`` → zstd, else None."""
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return _FROM_SUFFIX.get(name[dot:]) if dot > 0 else None


def format_from_path(path: str) -> str | None:
    """The format a file name implies (after any compression suffix): ``.csv`` → csv, ``.json``,
    ``.jsonl``, ``.ndjson`` → json, ``.parquet``, ``.pq`` → parquet; else None."""
    name = path.rsplit("/", 1)[-1].lower()
    if compression_from_path(name):
        name = name[: name.rfind(".")]
    dot = name.rfind(".")
    return _FORMAT_SUFFIX.get(name[dot:]) if dot > 0 else None


def _check_codec(options: FormatOptions) -> None:
    comp = options.compression
    if options.format == "parquet":
        if comp not in (None, "none") and not pa.Codec.is_available(comp):
            raise CassandraFramesError(f"this pyarrow build has no {comp!r} codec for Parquet")
    elif comp is not None and importlib.util.find_spec(_PYTHON_MODULE[comp]) is None:
        raise CompressionNotInstalledError(comp, _PYTHON_MODULE[comp])


def open_output(fs: fsspec.AbstractFileSystem, path: str, options: FormatOptions) -> BinaryIO:
    """Open ``path`` on ``fs`` for writing: compressed by fsspec for the text formats, plain for Parquet.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
    path : str
        The file's path on ``fs`` (no protocol needed).
    options : FormatOptions

    Returns
    -------
    BinaryIO
        Close it after the writer's :meth:`FormatWriter.close`.

    Raises
    ------
    CompressionNotInstalledError
        The compression library (``zstandard`` for zstd) is missing.
    """
    _check_codec(options)
    raw = fs.open(path, "wb")
    if options.format == "parquet" or options.compression is None:
        return cast(BinaryIO, raw)
    from fsspec.compression import compr

    return cast(BinaryIO, _ClosingBoth(compr[options.compression](raw, mode="w"), raw))


class _ClosingBoth:
    """A compressor over a file that, closed, closes the file too (Python's GzipFile, BZ2File … leave a
    file object they were given open: on an object store its upload would never complete)."""

    def __init__(self, outer: Any, inner: Any) -> None:
        self._outer = outer
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outer, name)

    def __enter__(self) -> _ClosingBoth:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._outer.close()
        finally:
            if not getattr(self._inner, "closed", False):  # zstandard's writer closes it itself
                self._inner.close()


class FormatWriter(Protocol):
    """Writes Arrow data to an open binary file in one format."""

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        """Append rows (their schema must be the writer's input schema)."""

    def close(self) -> None:
        """Finish the format (JSON array's ``]``, Parquet's footer); the file object stays open."""


def open_writer(fileobj: BinaryIO, schema: pa.Schema, options: FormatOptions) -> FormatWriter:
    """A writer of ``options.format`` for batches of ``schema`` on ``fileobj``.

    Parameters
    ----------
    fileobj : BinaryIO
        From :func:`open_output` (or any binary file object); not closed by the writer.
    schema : pyarrow.Schema
        The input schema (:func:`cassandra_frames.schema.table_schema` plus any extra columns).
    options : FormatOptions

    Returns
    -------
    FormatWriter
        A CSV header is written at once; an empty Parquet file still gets a valid footer on close.

    Raises
    ------
    CassandraFramesError
        A column has a type the format cannot write, or the Parquet codec is missing.
    """
    _check_codec(options)
    if options.format == "csv":
        from cassandra_frames.formats.csv import CsvWriter

        return CsvWriter(fileobj, schema, options)
    if options.format == "json":
        from cassandra_frames.formats.json import JsonWriter

        return JsonWriter(fileobj, schema, options)
    from cassandra_frames.formats.parquet import ParquetFormatWriter

    return ParquetFormatWriter(fileobj, schema, options)
