"""Read contenders: a whole table into pandas, and the driver-level clients it is measured against.

    .venv/bin/python benchmarks/read.py [run.py options]      # these contenders (and DSBulk unload) only

- ``ours_read``: ``cf.read_cassandra("bench.<t>").compute()`` → pandas (Arrow-backed columns), Dask's
  default (threads) scheduler; ``ours_read_lc``: the same under a 2-worker ``distributed.LocalCluster``
  (the frame comes back to the client).
- ``raw_page``, ``null_client``: see :mod:`benchmarks.pages` (the node's serving rate; the driver's row
  decoding with nothing after it).
- ``naive_read``: ``pd.DataFrame(list(session.execute("SELECT * FROM bench.<t>")))`` (the driver's own
  paging, named tuples, one request at a time).

Each returns the rows it holds at the end; the harness voids a run whose count differs from the table's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Clock, DaskCluster, driver_session, node
from benchmarks.datasets import DataSet


def ours_read(ds: DataSet, work: Path) -> dict[str, Any]:
    import cassandra_frames as cf

    config, _ = node()
    with Clock() as clock:
        rows = len(cf.read_cassandra(ds.table, connection=config).compute())
    return clock.record(rows)


def ours_read_lc(ds: DataSet, work: Path) -> dict[str, Any]:
    import cassandra_frames as cf

    config, _ = node()
    with DaskCluster() as dc:
        with Clock(dc.cpu) as clock:
            rows = len(cf.read_cassandra(ds.table, connection=config).compute())
        return clock.record(rows, workers_peak_rss_mb=dc.peak_rss_mb())


def _pages(ds: DataSet, raw: bool) -> dict[str, Any]:
    from benchmarks.pages import read_table

    config, _ = node()
    with Clock() as clock:
        session = driver_session(config)
        rows = read_table(session, ds.name, raw=raw)
        session.cluster.shutdown()
    return clock.record(rows)


def raw_page(ds: DataSet, work: Path) -> dict[str, Any]:
    return _pages(ds, raw=True)


def null_client(ds: DataSet, work: Path) -> dict[str, Any]:
    return _pages(ds, raw=False)


def naive_read(ds: DataSet, work: Path) -> dict[str, Any]:
    import pandas as pd

    config, _ = node()
    with Clock() as clock:
        session = driver_session(config)
        frame = pd.DataFrame(list(session.execute(f"SELECT * FROM {ds.table}", timeout=600)))
        session.cluster.shutdown()
    return clock.record(len(frame))


CONTENDERS = ["ours_read", "ours_read_lc", "raw_page", "null_client", "naive_read", "dsbulk_unload"]

if __name__ == "__main__":
    from benchmarks.run import main

    main(["--only", ",".join(CONTENDERS), *sys.argv[1:]])
