"""Write contenders: a frame already in memory into a table (``bench.w_<t>``, TRUNCATEd by the harness before
every run and counted after it).

    .venv/bin/python benchmarks/write.py [run.py options]     # these contenders (and DSBulk load) only

The frame is built before the clock from our Parquet input (Arrow-backed pandas columns: what
``read_cassandra`` gives back).
- ``ours_write``: ``cf.to_cassandra(frame, "bench.w_<t>")``, Dask's default scheduler.
- ``ours_write_lc``: ``cf.to_cassandra(ddf, …)`` under a 2-worker ``distributed.LocalCluster``, ``ddf``
  being the frame in 4 partitions already persisted on the workers before the clock.
- ``naive_write`` (not in the default set: ~5,000 rows/s): the driver's
  ``execute_concurrent_with_args(session, insert, rows, concurrency=100)``, the rows already Python tuples.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import KEYSPACE, Clock, DaskCluster, driver_session, node
from benchmarks.datasets import DataSet, frame


def ours_write(ds: DataSet, work: Path) -> dict[str, Any]:
    import cassandra_frames as cf

    config, _ = node()
    data = frame(ds)
    with Clock() as clock:
        report = cf.to_cassandra(data, f"{KEYSPACE}.{ds.target}", connection=config, progress=False)
    return clock.record(report.rows_written)


def ours_write_lc(ds: DataSet, work: Path) -> dict[str, Any]:
    import dask.dataframe as dd
    from distributed import wait

    import cassandra_frames as cf

    config, _ = node()
    data = frame(ds)
    with DaskCluster() as dc:
        ddf = dd.from_pandas(data, npartitions=4).persist()
        wait(ddf)
        del data
        with Clock(dc.cpu) as clock:
            report = cf.to_cassandra(ddf, f"{KEYSPACE}.{ds.target}", connection=config, progress=False)
        return clock.record(report.rows_written, workers_peak_rss_mb=dc.peak_rss_mb())


def naive_write(ds: DataSet, work: Path) -> dict[str, Any]:
    from cassandra.concurrent import execute_concurrent_with_args

    config, _ = node()
    rows = ds.batch(0, ds.rows)
    names = ", ".join(f'"{n}"' for n, _ in ds.columns)
    with Clock() as clock:
        session = driver_session(config)
        insert = session.prepare(
            f"INSERT INTO {KEYSPACE}.{ds.target} ({names}) VALUES ({', '.join('?' * len(ds.columns))})"
        )
        results = execute_concurrent_with_args(session, insert, rows, concurrency=100)
        session.cluster.shutdown()
    failed = sum(1 for ok, _ in results if not ok)
    return clock.record(len(rows) - failed, **({"error": f"{failed:,} inserts failed"} if failed else {}))


CONTENDERS = ["ours_write", "ours_write_lc", "dsbulk_load"]

if __name__ == "__main__":
    from benchmarks.run import main

    main(["--only", ",".join(CONTENDERS), *sys.argv[1:]])
