"""cassandra_frames: Apache Cassandra tables in pandas, Dask and Arrow, and back again."""

from __future__ import annotations

from cassandra_frames import aio, datasets, local
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
from cassandra_frames.indexes import create_index, drop_index
from cassandra_frames.keyspaces import InvalidKeyspaceError, create_keyspace, drop_keyspace
from cassandra_frames.logs import JsonFormatter, configure_logging
from cassandra_frames.metrics import MetricsServer, metrics_collector, serve_metrics
from cassandra_frames.progress import ProgressStats, progress
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
    "InvalidKeyspaceError",
    "JsonFormatter",
    "LoadError",
    "LoadReport",
    "LocalClusterError",
    "MetricsServer",
    "NotInstalledError",
    "PlanError",
    "ProgressStats",
    "ReadError",
    "RejectedRow",
    "SchemaError",
    "WriteError",
    "WriteReport",
    "__version__",
    "aio",
    "configure_logging",
    "count",
    "create_index",
    "create_keyspace",
    "datasets",
    "drop_index",
    "drop_keyspace",
    "export",
    "iceberg_catalog",
    "load",
    "local",
    "metrics_collector",
    "progress",
    "read_cassandra",
    "serve_metrics",
    "to_cassandra",
]
