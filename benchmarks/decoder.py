"""The page decoder alone, no node: client CPU to turn result pages into Arrow, compiled vs the driver path.

    .venv/bin/python benchmarks/decoder.py [--rows 5000] [--pages 40]

Builds one ROWS message of ``--rows`` rows per schema (the narrow table; the "readings" table of the speed
issue: uuid, timestamp, double, text, int, map<text, text>; the 30-column wide table's types) with the
driver's own serializers, then decodes it ``--pages`` times each way and prints CPU-seconds per million
rows:

- ``raw handler``: the raw-page protocol handler only (metadata read past, cells kept as bytes);
- ``compiled``: raw handler + :class:`cassandra_frames.convert.pages.PageDecoder` (Rust) → RecordBatch;
- ``driver path``: the driver's Cython handler (a Python value per cell) + the column converters of
  :mod:`cassandra_frames.convert.to_arrow` → RecordBatch (what reads do without the compiled decoder).

CPU time (``time.process_time``), best of three rounds: less sensitive to a busy machine than wall time.
"""

from __future__ import annotations

import argparse
import decimal
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa

from cassandra_frames.convert import pages
from cassandra_frames.convert.to_arrow import fetched_converter
from cassandra_frames.cqltypes import CqlType, parse_cql_type
from cassandra_frames.engine.pages import raw_page_handler
from cassandra_frames.schema import arrow_type
from tests.unit.page_types import driver_type, result_message, rows_body

SCHEMAS = {
    "narrow": ["uuid", "int", "text", "double", "timestamp"],
    "readings": ["uuid", "timestamp", "double", "text", "int", "frozen<map<text, text>>"],
    "wide": [
        *("tinyint", "smallint", "int", "bigint", "float", "double", "boolean", "decimal", "varint"),
        *("timestamp", "date", "time", "uuid", "timeuuid", "inet", "blob", "text", "frozen<list<text>>"),
        *("frozen<list<int>>", "frozen<set<text>>", "frozen<map<text, int>>", "frozen<tuple<int, text>>"),
        "duration",
    ],
}


def value(t: str, i: int) -> Any:
    """A value of CQL type ``t`` for row ``i`` (top-level timestamps as fetched: bigint milliseconds)."""
    from cassandra.util import Date, Duration, Time

    simple: dict[str, Callable[[], Any]] = {
        "tinyint": lambda: i % 100,
        "smallint": lambda: i % 30000,
        "int": lambda: i,
        "bigint": lambda: i * 7919,
        "float": lambda: i * 0.25,
        "double": lambda: i * 0.5,
        "boolean": lambda: i % 2 == 0,
        "decimal": lambda: decimal.Decimal(i) / 100,
        "varint": lambda: i**3,
        "timestamp": lambda: 1_600_000_000_000 + i,
        "date": lambda: Date(18_000 + i % 1000),
        "time": lambda: Time(i * 1_000_000),
        "uuid": lambda: uuid.UUID(int=(i * 0x9E3779B97F4A7C15) % 2**128),
        "timeuuid": lambda: uuid.uuid1(clock_seq=i % 16384),
        "inet": lambda: f"10.0.{i % 256}.{i % 200}",
        "blob": lambda: i.to_bytes(8, "big"),
        "text": lambda: f"value-{i}-{'x' * (i % 20)}",
        "frozen<list<text>>": lambda: ["a", f"b{i}"],
        "frozen<list<int>>": lambda: [i, i + 1, i + 2],
        "frozen<set<text>>": lambda: [f"s{i}"],
        "frozen<map<text, text>>": lambda: {"unit": "C", "src": f"s{i % 7}"},
        "frozen<map<text, int>>": lambda: {"k": i},
        "frozen<tuple<int, text>>": lambda: (i, "t"),
        "duration": lambda: Duration(1, 2, i),
    }
    return simple[t]()


def build(columns: list[str], rows: int) -> tuple[bytes, list[Any], list[CqlType], pa.Schema]:
    types = [parse_cql_type(c) for c in columns]
    bigint = parse_cql_type("bigint")
    dtypes = [driver_type(bigint if c == "timestamp" else t, {}) for c, t in zip(columns, types, strict=True)]
    cells = [[d.to_binary(value(c, i), 5) for d, c in zip(dtypes, columns, strict=True)] for i in range(rows)]
    body = result_message(rows, len(types), rows_body(cells))
    meta = [("ks", "t", f"c{i}", d) for i, d in enumerate(dtypes)]
    schema = pa.schema([(f"c{i}", arrow_type(t)) for i, t in enumerate(types)])
    return body, meta, types, schema


def measure(name: str, columns: list[str], rows: int, n: int) -> None:
    """Print the CPU-seconds per million rows of each path for one schema."""
    from cassandra.protocol import ProtocolHandler

    body, meta, types, schema = build(columns, rows)
    decoder = pages.page_decoder([(t, f.type) for t, f in zip(types, schema, strict=True)], schema)
    assert decoder is not None
    convs = [fetched_converter(t) for t in types]

    def raw() -> Any:
        return raw_page_handler().decode_message(5, {}, 0, 0, 0x08, body, None, meta).parsed_rows

    def compiled() -> pa.RecordBatch:
        page = raw()
        return decoder(page.body, page.rows)

    def driver() -> pa.RecordBatch:
        parsed = ProtocolHandler.decode_message(5, {}, 0, 0, 0x08, body, None, meta).parsed_rows
        cols = [list(c) for c in zip(*parsed, strict=True)]
        return pa.RecordBatch.from_arrays([f(c) for f, c in zip(convs, cols, strict=True)], schema=schema)

    if name == "narrow":
        assert compiled().equals(driver())  # the same arrays
    for label, fn, times in (
        ("raw handler", raw, n),
        ("compiled", compiled, n),
        ("driver path", driver, max(2, n // 8)),
    ):
        best = float("inf")
        for _ in range(3):
            c0 = time.process_time()
            for _ in range(times):
                fn()
            best = min(best, (time.process_time() - c0) / (times * rows) * 1e6)
        print(f"{name:9s} {label:12s} {best:7.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows per page (the default fetch size)")
    parser.add_argument("--pages", type=int, default=40, help="pages decoded per round")
    args = parser.parse_args()
    if not pages.compiled_decoder_available():
        sys.exit("the compiled page decoder is not built (cargo missing at install time?)")
    print(f"{'table':9s} {'path':12s} CPU-s per million rows (best of 3)")
    for name, columns in SCHEMAS.items():
        measure(name, columns, args.rows, args.pages)


if __name__ == "__main__":
    main()
