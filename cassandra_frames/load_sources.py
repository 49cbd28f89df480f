"""The sources of a load: which files (with what identity), cut into splits, and each split read as raw
Arrow batches with every record's line number and the records that could not even be split into fields.

A source is a file on any fsspec filesystem: a path, a directory (its files, hidden ones and our
``_manifest.json`` left out), a glob, or a list of those. Each file's identity — size and modification
time or ETag — goes into the checkpoint, so that a resume notices a changed file. CSV and JSON files are
one split each; a Parquet file is one split per group of row groups. Reading a split yields
:class:`RawBatch` values: the fields as the file has them (CSV: every field as a string, nulls already
applied), the line (CSV/JSON) or row number of each record, and the malformed records with their raw text.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.formats import compression_from_path, format_from_path
from cassandra_frames.formats.iceberg_read import IcebergScan, read_data_file
from cassandra_frames.storage import fs_for

__all__ = [
    "CSV_BLOCK_BYTES",
    "CsvSettings",
    "RawBatch",
    "Source",
    "Split",
    "field_names",
    "list_sources",
    "read_split",
    "splits_of",
]

CSV_BLOCK_BYTES = 8 * 2**20
"""Bytes of CSV text parsed at a time: one batch of records (and, for progress, one step of a file)."""

BATCH_ROWS = 50_000
PARQUET_SPLIT_BYTES = 64 * 2**20


@dataclasses.dataclass(frozen=True)
class Source:
    """One source file: its URL and the identity a resume compares (size, modification time or ETag)."""

    url: str
    size: int
    version: str

    def identity(self) -> list[Any]:
        """What the checkpoint holds of this file."""
        return [self.url, self.size, self.version]


@dataclasses.dataclass(frozen=True)
class Split:
    """A part of one source that one task loads: a whole file, or some row groups of a Parquet file."""

    index: int
    source: Source
    format: str
    row_groups: tuple[int, ...] | None = None

    def describe(self) -> str:
        """``data/a.csv``, ``data/b.parquet, row groups 0-3`` or ``data/c.parquet, no row groups``."""
        if self.row_groups is None:
            return self.source.url
        if not self.row_groups:  # a Parquet file of no rows
            return f"{self.source.url}, no row groups"
        return f"{self.source.url}, row groups {self.row_groups[0]}-{self.row_groups[-1]}"


@dataclasses.dataclass(frozen=True)
class CsvSettings:
    """How CSV sources are read (the load's CSV keywords)."""

    header: bool = True
    columns: tuple[str, ...] | None = None  # the fields of a headerless file, in order
    delimiter: str = ","
    quote: str = '"'
    escape: str | None = None
    null_value: str = ""
    skip_records: int = 0


@dataclasses.dataclass
class RawBatch:
    """Records as the file has them: ``table`` (field name → values), ``lines`` (each record's line or row
    number, 1-based), ``bad`` (malformed records: (line, raw text, reason)); for JSON, ``records`` holds
    the values as ``json.loads`` made them and ``table`` only names the fields."""

    table: pa.Table
    lines: list[int]
    bad: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)
    records: list[dict[str, Any]] | None = None

    def rows(self, positions: Sequence[int]) -> pa.Table:
        """The raw fields of the records at ``positions`` as text (for a bad-rows file)."""
        if self.records is not None:
            picked = [self.records[i] for i in positions]
            return pa.table(
                {
                    k: pa.array([json.dumps(r[k]) if k in r else None for r in picked], pa.string())
                    for k in self.table.column_names
                }
            )
        taken = self.table.take(pa.array(positions, pa.int64()))
        return pa.table(
            {
                name: pa.array([None if v is None else v.decode("utf-8", "replace") for v in col.to_pylist()])
                if pa.types.is_binary(col.type)
                else col
                for name, col in zip(taken.column_names, taken.columns, strict=True)
            }
        )


def _version(info: Mapping[str, Any]) -> str:
    for key in ("ETag", "etag", "md5Hash", "generation", "mtime", "LastModified", "last_modified", "created"):
        if info.get(key) is not None:
            return f"{key}={info[key]}"
    return ""


def _hidden(path: str) -> bool:
    name = path.rstrip("/").rpartition("/")[2]
    return name.startswith((".", "_"))


def list_sources(urls: str | Sequence[str], storage_options: Mapping[str, Any] | None = None) -> list[Source]:
    """The files of ``urls`` (paths, directories, globs), in name order, with their identity.

    Raises
    ------
    CassandraFramesError
        A path that matches no file (named).
    """
    storage = dict(storage_options or {})
    out: dict[str, Source] = {}
    for url in [urls] if isinstance(urls, str) else list(urls):
        fs, path = fs_for(url, storage)
        protocol = url.partition("://")[0] + "://" if "://" in url else ""
        if any(ch in path for ch in "*?["):
            found = [p for p in fs.glob(path) if not fs.isdir(p)]
        elif fs.isdir(path):
            found = [p for p in fs.find(path) if not _hidden(p[len(path.rstrip("/")) :])]
        elif fs.exists(path):
            found = [path]
        else:
            raise CassandraFramesError(f"no file at {url!r}: check the path (a directory, a glob or a file)")
        if not found:
            raise CassandraFramesError(f"{url!r} matches no file")
        for p in sorted(found):
            info = fs.info(p)
            full = p if not protocol or p.startswith(protocol) else protocol + p.lstrip("/")
            if protocol == "" and not p.startswith("/") and url.startswith("/"):
                full = "/" + p
            out[full] = Source(full, int(info.get("size") or 0), _version(info))
    return list(out.values())


def splits_of(
    sources: Sequence[Source], fmt: str | None, storage_options: Mapping[str, Any] | None = None
) -> list[Split]:
    """Cut sources into splits: a CSV/JSON file is one; a Parquet file one per ~64 MiB of row groups.

    Raises
    ------
    CassandraFramesError
        A file whose format is neither given nor told by its name.
    """
    out: list[Split] = []
    for source in sources:
        kind = fmt or format_from_path(source.url)
        if kind not in ("csv", "json", "parquet"):
            raise CassandraFramesError(
                f"cannot tell the format of {source.url!r} from its name: "
                "pass format='csv', 'json' or 'parquet'"
            )
        if kind != "parquet":
            out.append(Split(len(out), source, kind))
            continue
        import pyarrow.parquet as pq

        fs, path = fs_for(source.url, storage_options or {})
        with fs.open(path, "rb") as f:
            meta = pq.ParquetFile(f).metadata
        group: list[int] = []
        size = 0
        for rg in range(meta.num_row_groups):
            group.append(rg)
            size += meta.row_group(rg).total_byte_size
            if size >= PARQUET_SPLIT_BYTES:
                out.append(Split(len(out), source, kind, tuple(group)))
                group, size = [], 0
        if group or meta.num_row_groups == 0:
            out.append(Split(len(out), source, kind, tuple(group)))
    return out


def _open(split: Split, storage_options: Mapping[str, Any]) -> Any:
    fs, path = fs_for(split.source.url, storage_options)
    return fs.open(path, "rb", compression=compression_from_path(path))


def _read_csv(split: Split, settings: CsvSettings, storage_options: Mapping[str, Any]) -> Iterator[RawBatch]:
    import pyarrow.csv as pacsv

    invalid: list[tuple[int, str, str]] = []

    def on_invalid(row: Any) -> str:
        why = f"{row.actual_columns} fields where the header has {row.expected_columns}"
        invalid.append((int(row.number or 0), row.text, why))
        return "skip"

    read = pacsv.ReadOptions(
        column_names=list(settings.columns) if settings.columns else None,
        skip_rows=settings.skip_records + (1 if settings.header and settings.columns else 0),
        skip_rows_after_names=settings.skip_records if settings.header and not settings.columns else 0,
        autogenerate_column_names=False,
        block_size=CSV_BLOCK_BYTES,
        use_threads=False,
    )
    parse = pacsv.ParseOptions(
        delimiter=settings.delimiter,
        quote_char=settings.quote,
        double_quote=settings.escape in (None, settings.quote),
        escape_char=settings.escape if settings.escape not in (None, settings.quote) else False,
        newlines_in_values=True,
        invalid_row_handler=on_invalid,
    )
    with _open(split, storage_options) as raw_file:
        names = list(settings.columns) if settings.columns else _header(raw_file, settings)
        if names is None:
            return  # an empty file: no records
        f = _QuoteCounter(raw_file, settings.quote.encode())
        try:
            reader = pacsv.open_csv(
                f,
                read_options=read,
                parse_options=parse,
                convert_options=_csv_convert(names, settings.null_value),
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return
            raise CassandraFramesError(f"{split.describe()}: not a readable CSV file: {exc}") from exc
        line = 1 + settings.skip_records + (1 if settings.header else 0)  # one line per record
        pending: RawBatch | None = None
        try:
            for batch in reader:
                bad = sorted(invalid)
                invalid.clear()
                taken = {b[0] for b in bad}
                lines: list[int] = []
                while len(lines) < batch.num_rows:
                    if line not in taken:
                        lines.append(line)
                    line += 1
                line += len([b for b in bad if b[0] >= line])
                if pending is not None:
                    yield pending
                pending = RawBatch(pa.Table.from_batches([batch]), lines, bad)
        except pa.ArrowInvalid as exc:
            raise CassandraFramesError(
                f"{split.describe()}: CSV parse error after line {line}: {exc}"
            ) from exc
        if (
            pending is not None
            and f.quotes % 2
            and settings.escape in (None, settings.quote)
            and pending.lines
        ):
            # an odd number of quotes: the file ends inside a quoted field, so its last record is broken
            why = "a quoted field is never closed: the file ends inside quotes"
            last = pending.table.slice(pending.table.num_rows - 1).to_pylist()[0]
            text = settings.delimiter.join(
                "" if v is None else v.decode("utf-8", "replace") for v in last.values()
            )
            pending.bad.append((pending.lines[-1], text, why))
            pending = RawBatch(
                pending.table.slice(0, pending.table.num_rows - 1), pending.lines[:-1], pending.bad
            )
        if pending is not None:
            yield pending
        if invalid:
            yield RawBatch(pa.table({n: pa.array([], pa.binary()) for n in names}), [], sorted(invalid))


class _QuoteCounter:
    """A file wrapper counting the quote characters pyarrow reads (to tell a file that ends inside quotes)."""

    def __init__(self, f: Any, quote: bytes) -> None:
        self.f = f
        self.quote = quote
        self.quotes = 0
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data: bytes = self.f.read(n)
        self.quotes += data.count(self.quote)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def _header(f: Any, settings: CsvSettings) -> list[str] | None:
    """The field names of the header line (the file is left at its start); None for an empty file."""
    import csv
    import io

    first = f.readline()
    f.seek(0)
    if not first.strip():
        return None
    text = first.decode("utf-8", "replace")
    row = next(csv.reader(io.StringIO(text), delimiter=settings.delimiter, quotechar=settings.quote), [])
    return [name.strip() for name in row]


def _csv_convert(names: Sequence[str], null_value: str) -> Any:
    """Every field as raw bytes (UTF-8 is checked per value later, so one bad value rejects one record);
    an unquoted ``null_value`` is null, a quoted empty field an empty string."""
    import pyarrow.csv as pacsv

    return pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.binary()),
        null_values=[null_value],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )


def _read_json(split: Split, storage_options: Mapping[str, Any]) -> Iterator[RawBatch]:
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    bad: list[tuple[int, str, str]] = []
    with _open(split, storage_options) as f:
        data = f.read()
    text_start = data.lstrip()[:1]
    if text_start == b"[":  # one JSON array
        try:
            records = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CassandraFramesError(f"{split.describe()}: not valid JSON: {exc}") from exc
        numbered = list(enumerate(records, start=1))
    else:
        numbered = []
        for n, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                numbered.append((n, json.loads(raw.decode("utf-8"))))
            except (UnicodeDecodeError, ValueError) as exc:
                bad.append((n, raw.decode("utf-8", "replace"), f"not a JSON record: {exc}"))
    for n, record in numbered:
        if not isinstance(record, dict):
            bad.append((n, json.dumps(record), "not a JSON object"))
            continue
        rows.append(record)
        lines.append(n)
        if len(rows) >= BATCH_ROWS:
            yield _json_batch(rows, lines, bad)
            rows, lines, bad = [], [], []
    if rows or bad:
        yield _json_batch(rows, lines, bad)


def _json_batch(rows: list[dict[str, Any]], lines: list[int], bad: list[tuple[int, str, str]]) -> RawBatch:
    """JSON records as a batch: the Python values stay in ``records`` (parsed once); ``table`` only names
    the fields seen (all-null columns cost nothing)."""
    names: list[str] = []
    for r in rows:
        names += [k for k in r if k not in names]
    return RawBatch(pa.table({k: pa.nulls(len(rows)) for k in names}), lines, bad, rows)


def _read_parquet(split: Split, storage_options: Mapping[str, Any]) -> Iterator[RawBatch]:
    import pyarrow.parquet as pq

    fs, path = fs_for(split.source.url, storage_options)
    with fs.open(path, "rb") as f:
        pf = pq.ParquetFile(f)
        first = sum(pf.metadata.row_group(rg).num_rows for rg in range(min(split.row_groups or (0,))))
        row = first + 1
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=list(split.row_groups or ())):
            yield RawBatch(pa.Table.from_batches([batch]), list(range(row, row + batch.num_rows)))
            row += batch.num_rows


def _read_iceberg(split: Split, scan: IcebergScan) -> Iterator[RawBatch]:
    row = 1
    for batch in read_data_file(scan, split.source.url, BATCH_ROWS):
        yield RawBatch(pa.Table.from_batches([batch]), list(range(row, row + batch.num_rows)))
        row += batch.num_rows


def read_split(
    split: Split,
    csv: CsvSettings,
    storage_options: Mapping[str, Any] | None = None,
    iceberg: IcebergScan | None = None,
) -> Iterator[RawBatch]:
    """The records of ``split`` in batches (see :class:`RawBatch`).

    ``iceberg`` is the scan an Iceberg split belongs to.

    Raises
    ------
    CassandraFramesError
        The file cannot be read at all (named); malformed records are in ``RawBatch.bad`` instead.
    """
    storage = dict(storage_options or {})
    if split.format == "iceberg":
        if iceberg is None:
            raise CassandraFramesError(f"{split.describe()}: an Iceberg split needs its scan")
        return _read_iceberg(split, iceberg)
    if split.format == "csv":
        return _read_csv(split, csv, storage)
    if split.format == "json":
        return _read_json(split, storage)
    return _read_parquet(split, storage)


def field_names(
    splits: Sequence[Split], csv: CsvSettings, storage_options: Mapping[str, Any] | None = None
) -> list[str]:
    """The source's field names: ``columns=``, the first CSV header, the keys of the first JSON records, the
    first Parquet schema (a file with a header and no record still names its fields)."""
    if csv.columns:
        return list(csv.columns)
    storage = dict(storage_options or {})
    for split in splits:
        if split.format == "csv":
            with _open(split, storage) as f:
                names = _header(f, csv)
            if names:
                return names
        elif split.format == "parquet":
            import pyarrow.parquet as pq

            fs, path = fs_for(split.source.url, storage)
            with fs.open(path, "rb") as f:
                return list(pq.ParquetFile(f).schema_arrow.names)
        else:
            for raw in read_split(split, csv, storage):
                if raw.table.column_names:
                    return list(raw.table.column_names)
    return []
