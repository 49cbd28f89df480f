"""Read benchmark: read_cassandra vs a naive driver loop vs cqlsh COPY TO vs a null client.

    .venv/bin/python benchmarks/read.py            # all contenders, both data sets, a markdown table

Contenders (each in its own process, same node, same run; the clock starts after the Python imports and
the harness's lookup of its node, and covers connecting, metadata, planning and reading):
- ``read_cassandra``: ``read_cassandra("bench.<t>").compute()`` (Dask threads scheduler) → pandas
- ``sample_1pct``: ``read_cassandra(..., sample=0.01).compute()``
- ``naive``: ``pd.DataFrame(list(session.execute("SELECT * …")))``
- ``cqlsh_copy``: ``cqlsh -e "COPY bench.<t> TO '<tmp>.csv'"`` (the cqlsh from PyPI; CSV, not a frame)
- ``null_client``: the driver fetches every page of every token range (same ranges and concurrency as
  read_cassandra) and discards it: the node's own ceiling on this machine
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from common import (
    KEYSPACE,
    ensure_datasets,
    expected_rows,
    node_config_quiet,
    peak_rss_mb,
)

CONTENDERS = ["read_cassandra", "sample_1pct", "naive", "cqlsh_copy", "null_client"]
DATASETS = ["flights", "synthetic"]


def _read_cassandra(name: str, sample: float | None = None) -> int:
    from cassandra_frames import read_cassandra

    cfg, _ = node_config_quiet()
    df = read_cassandra(f"{KEYSPACE}.{name}", connection=cfg, sample=sample, random_state=0).compute()
    return len(df)


def _naive(name: str) -> int:
    import pandas as pd

    from cassandra_frames.engine.session import connect

    cfg, _ = node_config_quiet()
    session = connect(cfg)
    df = pd.DataFrame(list(session.execute(f"SELECT * FROM {KEYSPACE}.{name}", timeout=600)))
    session.cluster.shutdown()
    return len(df)


def _cqlsh(name: str) -> tuple[int, float]:
    cfg, _ = node_config_quiet()
    host, port = cfg.endpoints()[0]
    cqlsh = str(Path(sys.executable).with_name("cqlsh"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{name}.csv"
        subprocess.run(
            [cqlsh, host, str(port), "-e", f"COPY {KEYSPACE}.{name} TO '{out}'"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with out.open("rb") as fh:
            rows = sum(1 for _ in fh)
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return rows, child_rss


def _null_client(name: str) -> int:
    """Same plan and concurrency as read_cassandra; pages are fetched and dropped, nothing decoded twice."""
    from cassandra_frames.engine import runner
    from cassandra_frames.engine.reader import FetchOptions, fetch_units, prepare_read
    from cassandra_frames.options import ReadOptions
    from cassandra_frames.read import plan_read

    cfg, _ = node_config_quiet()
    plan = plan_read(f"{KEYSPACE}.{name}", ReadOptions(connection=cfg))
    reader = plan.reader
    text, _ = reader.query(reader.schema.names)
    query = prepare_read(reader.connection, text, 60)
    counted = [0]

    def discard(rows: list[object]) -> object:
        counted[0] += len(rows)
        return None

    async def all_parts() -> None:
        opts = FetchOptions(concurrency=reader.options.concurrency)
        await asyncio.gather(*(fetch_units(query, units, discard, opts) for units in plan.partitions))

    runner.run(all_parts())
    return counted[0]


def contender_main(contender: str, dataset: str) -> None:
    # imports are paid once per interpreter (a notebook has them already): not part of the timing.
    # Connecting, reading metadata, planning and reading are.
    import cassandra.cluster  # noqa: F401
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401 - dask imports it on the first compute when it is installed
    import pandas  # noqa: F401

    import cassandra_frames.dask  # noqa: F401

    node_config_quiet()  # the harness finding its node (local.start's "already running" check): not timed
    t0 = time.perf_counter()
    rss = None
    if contender == "read_cassandra":
        rows = _read_cassandra(dataset)
    elif contender == "sample_1pct":
        rows = _read_cassandra(dataset, sample=0.01)
    elif contender == "naive":
        rows = _naive(dataset)
    elif contender == "cqlsh_copy":
        rows, rss = _cqlsh(dataset)
    elif contender == "null_client":
        rows = _null_client(dataset)
    else:
        raise SystemExit(f"unknown contender {contender}")
    seconds = time.perf_counter() - t0
    whole = expected_rows(dataset)  # a speed over a wrong result is void
    if contender == "sample_1pct":
        if not 0 < rows < 0.05 * whole:
            raise SystemExit(f"{contender}: {rows:,} rows is not about 1% of {whole:,}")
    elif rows != whole:
        raise SystemExit(f"{contender}: read {rows:,} rows of {dataset}, which holds {whole:,}")
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_mb": max(rss or 0, peak_rss_mb())}))


def main() -> None:
    common.main(Path(__file__), __doc__, CONTENDERS, DATASETS, contender_main, ensure_datasets, repeat=3)


if __name__ == "__main__":
    main()
