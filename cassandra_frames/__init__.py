"""cassandra_frames: Apache Cassandra tables in pandas, Dask and Arrow, and back again."""

from __future__ import annotations

from cassandra_frames import aio
from cassandra_frames.accessor import register as _register_accessors
from cassandra_frames.bulk import count, export, iceberg_catalog, load
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.dask import read_cassandra, to_cassandra
from cassandra_frames.errors import (
    CassandraFramesError,
    CheckpointError,
    ConnectionError,
    ExportError,
    LoadError,
    LocalClusterError,
    NotInstalledError,
    PlanError,
    ReadError,
    SchemaError,
    WriteError,
)
from cassandra_frames.reports import ExportReport, LoadReport, RejectedRow, WriteReport

__version__ = "0.1.0"

_register_accessors()

__all__ = [
    "CassandraFramesError",
    "CheckpointError",
    "ConnectionConfig",
    "ConnectionError",
    "ExportError",
    "ExportReport",
    "LoadError",
    "LoadReport",
    "LocalClusterError",
    "NotInstalledError",
    "PlanError",
    "ReadError",
    "RejectedRow",
    "SchemaError",
    "WriteError",
    "WriteReport",
    "__version__",
    "aio",
    "count",
    "export",
    "iceberg_catalog",
    "load",
    "read_cassandra",
    "to_cassandra",
]
